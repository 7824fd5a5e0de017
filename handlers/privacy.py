"""Listeners for the data-protection surfaces. Parse → ack → domain → render.

``/samverkan logg …`` (audit review, coordinators and granskare), ``/samverkan samtycke
[REF]`` (consent register, expiring consents), ``/samverkan grund REF`` (coordinators record
or end a legal ground other than consent, in a modal), ``/samverkan gallring [stopp|släpp REF
…]`` (retention overview, legal hold; also from the case modal) and ``/samverkan
registerutdrag @person`` (art. 15 export). Answers are ephemeral or modals; files go to the
requester by DM. Nothing is posted to a channel.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from domain import cases as case_service
from domain import consent_register, disclosure, legal_grounds, logreview, retention
from domain import export as export_service
from domain import forums as forum_service
from domain.access import Access
from domain.errors import (
    CaseChangeRefused,
    DomainError,
    InvalidInput,
    NotCoordinator,
)
from domain.forums import local_today
from domain.i18n import N_, Translator
from domain.logreview import flag_label
from domain.retention import RetentionPolicy
from handlers import forms, outgoing, slack_text
from handlers.blocks import cases as case_ui
from handlers.blocks import privacy as ui
from handlers.blocks.common import reference_example
from handlers.blocks.forum import notice_modal, text_message
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors, failure_text
from handlers.listener import listener
from handlers.metadata import ViewMeta
from handlers.payload import ack_only
from handlers.screens import case_door, detail_view, display_names, refresh_lost_readers
from storage.db import reading, transaction

log = logging.getLogger(__name__)

LOG = {"logg", "log", "loggar", "granskning", "audit"}
CONSENT = {"samtycke", "samtycken", "consent", "consents"}
RETENTION = {"gallring", "gallra", "retention"}
EXPORT = {"registerutdrag", "utdrag", "export", "access-export"}
HOLD = {"stopp", "spärr", "sparr", "stop", "hold"}
RELEASE = {"släpp", "slapp", "häv", "hav", "release"}
GROUND = {"grund", "rättslig-grund", "rattslig-grund", "ground", "legal-ground"}
WORDS = LOG | CONSENT | RETENTION | EXPORT | GROUND


def _policy(deps: Deps) -> RetentionPolicy:
    return deps.retention_policy


def _access(deps: Deps, session: Any, req: CommandRequest) -> Access:
    return forum_service.require_member_in_channel(
        session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
    )


def _reference_example(deps: Deps, access: Access) -> str:
    """A case reference as the forum's own look (its code, this year): "TE-2026-001"."""
    year = forum_service.local_today(access.forum, deps.clock).year
    return reference_example(access.forum.code, year)


def route(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest
) -> dict[str, Any] | None:
    """The command's words as typed (case kept for references and reasons)."""
    words = slack_text.args(req.text)
    word, rest = words[0].casefold(), words[1:]
    if word in LOG:
        return log_review(deps, t, req, rest)
    if word in CONSENT:
        return consents(deps, t, req, rest)
    if word in RETENTION:
        return retention_command(deps, t, req, rest)
    if word in GROUND:
        open_ground_modal(deps, client, t, req, rest)
        return None
    return access_export(deps, client, t, req, rest)


# --- audit review ---------------------------------------------------------------------------


def log_review(deps: Deps, t: Translator, req: CommandRequest, rest: list[str]) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = _access(deps, session, req)
        logreview.require_reviewer(access)
        agencies = list(access.forum.agencies)
        today = forum_service.local_today(access.forum, deps.clock)
        reference = reference_example(access.forum.code, today.year)
        period = f"{today.year}-{today.month:02d}"
        filt = logreview.parse_filter(
            rest, agencies, reference_example=reference, period_example=period
        )
        report = logreview.review(session, deps.clock, access=access, filt=filt)
        tz = forum_service.forum_schedule(access.forum).zone
        agency = next((a.name for a in agencies if a.id == filt.agency_id), None)
    return ui.log_review_message(
        t,
        report,
        filt=filt,
        agency_name=agency,
        tz=tz,
        reference=reference,
        period=period,
    )


def _export_log(
    deps: Deps,
    client: WebClient,
    t: Translator,
    body: dict[str, Any],
    context: BoltContext,
    fmt: str,
) -> None:
    user_id = context.user_id or ""
    req = CommandRequest(context.team_id or "", context.channel_id or "", user_id, "", "")
    filt = logreview.LogFilter.decode(body["actions"][0].get("value", ""))
    with database_errors(), transaction(deps.sessions) as session:
        access = _access(deps, session, req)
        report = logreview.review(
            session,
            deps.clock,
            access=access,
            filt=filt,
            limit=logreview.EXPORT_MAX,
            exported=fmt,
        )
        tz = forum_service.forum_schedule(access.forum).zone
        code = access.forum.code
    # For the person who asked, in their language as the review reads ("läste · ärende"),
    # with names beside the Slack ids. Tooling reads the signed machine format instead:
    # `samverkan audit export` (JSON lines), see docs/privacy/audit-log.md.
    names = display_names(client, {r.actor for r in report.rows if r.actor[:1] in ("U", "W")})
    refused = t("refused access")
    headers = [
        t("Time ({zone})", zone=str(tz)),
        t("Name"),
        t("Slack id"),
        t("Agency"),
        t("Event"),
        t("Applies to"),
        t("Reference"),
        t("Flags"),
    ]
    rows = [
        [
            r.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            names.get(r.actor, ui.actor_label(t, r.actor)),
            r.actor,
            r.agency,
            refused if r.refused else ui.action_label(t, r.action),
            ui.object_label(t, r.object_type),
            r.object_ref,
            ", ".join(flag_label(t, f) for f in r.flags),
        ]
        for r in report.rows
    ]
    stamp = deps.clock.now().astimezone(tz).strftime("%Y%m%d")
    if fmt == "csv":
        data = export_service.csv_bytes(headers, rows)
    else:
        data = export_service.xlsx_bytes([(t("Audit log"), headers, rows)])
    outgoing.send_file(
        deps,
        client,
        req.team_id,
        user_id,
        data=data,
        filename=f"samverkan-logg-{code}-{stamp}.{fmt}",
        comment=t.ngettext(
            "The audit log you exported ({n} event).",
            "The audit log you exported ({n} events).",
            len(rows),
        ),
    )


# --- consent register -----------------------------------------------------------------------


def consents(deps: Deps, t: Translator, req: CommandRequest, rest: list[str]) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        if not rest:
            access = _access(deps, session, req)
            rows = consent_register.expiring_consents(session, deps.clock, access=access)
            return ui.expiring_message(t, rows, reference=_reference_example(deps, access))
        with _refusals_audited(deps, session, req, rest[0], "consent_register"):
            access = _access(deps, session, req)
            register = consent_register.consent_register(
                session, deps.clock, access=access, reference=rest[0]
            )
        tz = forum_service.forum_schedule(access.forum).zone
    if register.refused:
        raise consent_register.REFUSED  # after the commit: the attempt stays in the log
    return ui.consent_register_message(t, register, tz=tz)


# --- legal grounds other than consent -------------------------------------------------------


def _view_access(session: Session, meta: ViewMeta, team_id: str, user_id: str) -> Access:
    forum = forum_service.get_forum(session, forum_id=meta.forum_id or 0, team_id=team_id)
    return forum_service.require_member(session, forum=forum, slack_user_id=user_id)


def _ground_view(deps: Deps, t: Translator, access: Access, session: Session, ref: str) -> Any:
    grounds = legal_grounds.case_grounds(session, deps.clock, access=access, reference=ref)
    meta = ViewMeta(
        locale=t.locale,
        channel_id=access.forum.channel_id,
        forum_id=access.forum.id,
        case_id=grounds.case_id,
    )
    return ui.legal_ground_modal(
        t,
        grounds,
        today=local_today(access.forum, deps.clock),
        tz=forum_service.forum_schedule(access.forum).zone,
        private_metadata=meta.dump(),
    )


def open_ground_modal(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest, rest: list[str]
) -> None:
    if len(rest) != 1:
        # The example is as this forum's own references look (its code, this year).
        with database_errors(), reading(deps.sessions) as session:
            reference = _reference_example(deps, _access(deps, session, req))
        raise InvalidInput(
            N_("Write the case reference, e.g. /samverkan grund {reference}."),
            reference=reference,
        )
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        _refusals_audited(deps, session, req, rest[0], "legal_grounds"),
    ):
        access = _access(deps, session, req)
        view = _ground_view(deps, t, access, session, rest[0])
    client.views_open(trigger_id=req.trigger_id, view=view)


def _refusals_audited(
    deps: Deps, session: Session, req: CommandRequest, reference: str, surface_name: str
) -> AbstractContextManager[None]:
    """A refusal at the door of a look at the case ``reference`` (typed) is audited."""
    return disclosure.refusals_audited(
        session,
        deps.clock,
        team_id=req.team_id,
        slack_user_id=req.user_id,
        reference=reference,
        surface_name=surface_name,
    )


# --- retention and legal hold ---------------------------------------------------------------


def retention_command(
    deps: Deps, t: Translator, req: CommandRequest, rest: list[str]
) -> dict[str, Any]:
    sub = rest[0].casefold() if rest else ""
    if sub in HOLD or sub in RELEASE:
        return _legal_hold_command(deps, t, req, rest)
    with database_errors(), transaction(deps.sessions) as session:
        access = _access(deps, session, req)
        if not access.is_coordinator:
            raise NotCoordinator()
        if sub:
            raise InvalidInput(
                N_("Use /samverkan gallring, … gallring stopp REF reason, or … gallring släpp REF.")
            )
        policy, dues = retention.forum_overview(session, deps.clock, _policy(deps), access.forum)
        holds = retention.legal_holds(session, access.forum)
        tz = forum_service.forum_schedule(access.forum).zone
        name = access.forum.name
        year = forum_service.local_today(access.forum, deps.clock).year
        reference = reference_example(access.forum.code, year)
    return ui.retention_message(
        t, forum_name=name, policy=policy, dues=dues, holds=holds, tz=tz, reference=reference
    )


def _legal_hold_command(
    deps: Deps, t: Translator, req: CommandRequest, rest: list[str]
) -> dict[str, Any]:
    """``gallring stopp REF reason`` / ``gallring släpp REF``: a refusal (no coordinator, a
    case of another forum) is audited at the case's door as the case modal's hold buttons'
    are, and told in the user's language."""
    if len(rest) < 2:
        with database_errors(), reading(deps.sessions) as session:
            reference = _reference_example(deps, _access(deps, session, req))
        raise InvalidInput(
            N_(
                "Write the case reference too, e.g. /samverkan gallring stopp {reference} "
                "followed by the reason."
            )
            if rest[0].casefold() in HOLD
            else N_("Write the case reference too, e.g. /samverkan gallring släpp {reference}."),
            reference=reference,
        )
    sub, reference = rest[0].casefold(), rest[1]
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        disclosure.refusals_audited(
            session,
            deps.clock,
            team_id=req.team_id,
            slack_user_id=req.user_id,
            reference=reference,
            surface_name="case_modal",
            not_found=(CaseChangeRefused,),
        ),
    ):
        access = _access(deps, session, req)
        if sub in HOLD:  # each refuses a member who is no coordinator, naming the change
            case = retention.set_legal_hold(
                session,
                deps.clock,
                access=access,
                reference=reference,
                reason=slack_text.after(req.text, 3),
            )
            return text_message(
                t(
                    "{reference} is under legal hold: retention keeps it until the hold is "
                    "released.",
                    reference=case.reference,
                )
            )
        case = retention.release_legal_hold(session, deps.clock, access=access, reference=reference)
        return text_message(
            t(
                "The legal hold on {reference} is released: retention applies again.",
                reference=case.reference,
            )
        )


# --- access-request export ------------------------------------------------------------------


def access_export(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest, rest: list[str]
) -> dict[str, Any]:
    subject = slack_text.user_id(rest[0]) if len(rest) == 1 else None
    if subject is None:
        raise InvalidInput(N_("Name one person: /samverkan registerutdrag @name."))
    with database_errors(), transaction(deps.sessions) as session:
        access = _access(deps, session, req)
        # Only this workspace's forums where the requester coordinates or reviews the log.
        forum_ids = export_service.export_forums(
            session, team_id=req.team_id, slack_user_id=req.user_id
        )
        if not forum_ids:
            raise export_service.NOT_ALLOWED
        result = export_service.subject_access(
            session,
            deps.clock,
            slack_user_id=subject,
            actor=req.user_id,
            team_id=access.forum.team_id,
            forum_id=access.forum.id,
            actor_agency_id=access.member.agency_id,
            forum_ids=forum_ids,
        )
    if result.row_count == 0:
        return text_message(
            t(
                "Nothing is stored about {user} in the forums you coordinate or review.",
                user=f"<@{subject}>",
            )
        )
    stem = f"samverkan-registerutdrag-{subject}-{result.generated_at:%Y%m%d}"
    comment = t.ngettext(
        "Access-request export (GDPR art. 15) for {user}: {n} row.",
        "Access-request export (GDPR art. 15) for {user}: {n} rows.",
        result.row_count,
        user=f"<@{subject}>",
    )
    outgoing.send_file(
        deps,
        client,
        req.team_id,
        req.user_id,
        data=export_service.to_json(result),
        filename=f"{stem}.json",
        comment=comment,
    )
    outgoing.send_file(
        deps,
        client,
        req.team_id,
        req.user_id,
        data=export_service.to_xlsx(result),
        filename=f"{stem}.xlsx",
        comment=comment,
    )
    return text_message(
        t("The export for {user} is in your direct messages.", user=f"<@{subject}>")
    )


@listener("ephemeral", needs=("message",))
def export_log(
    body: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    respond: Respond,
    deps: Deps,
    t: Translator,
) -> None:
    action_id = body["actions"][0]["action_id"]
    fmt = "csv" if action_id == ui.ACTION_LOG_EXPORT_CSV else "xlsx"
    _export_log(deps, client, t, body, context, fmt)
    text = t("The export is in your direct messages.")
    respond(replace_original=False, response_type="ephemeral", text=text)


@listener("modal_or_notice")
def submit_ground(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = ViewMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    values = view["state"]["values"]
    agency = forms.selected(values, "agency")
    draft = legal_grounds.GroundDraft(
        agency_id=forms.id_value(agency),
        ground=forms.selected(values, "ground"),
        decided_on=forms.date_value(values, "decided_on"),
        note=forms.text(values, "note"),
    )
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        case_door(session, deps, context, meta.case_id or 0, "legal_grounds"),
    ):
        access = _view_access(session, meta, context.team_id or "", context.user_id or "")
        ground = legal_grounds.record_ground(
            session, deps.clock, access=access, case_id=meta.case_id or 0, draft=draft
        )
        done = ui.ground_recorded_modal(
            t, reference=ground.case.reference, agency=ground.agency.name
        )
    ack(response_action="update", view=done)


@listener("update", needs=("modal",))
def end_ground(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    view = body["view"]
    meta = ViewMeta.load(view.get("private_metadata"))
    ground_id = forms.id_value(body["actions"][0].get("value")) or 0
    # The button names a ground, not a case: a refusal (another forum's ground, another
    # workspace's, a crafted id) is audited under the ground's case, like the case doors.
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        case_door(
            session,
            deps,
            context,
            legal_grounds.ground_case_id(session, ground_id),
            "legal_grounds",
            not_found=(legal_grounds.GroundNotFound,),
        ),
    ):
        access = _view_access(session, meta, context.team_id or "", context.user_id or "")
        case_id = legal_grounds.ground_case_id(session, ground_id) or 0
        readers = disclosure.case_readers(session, deps.clock, case_id)
        case = legal_grounds.end_ground(session, deps.clock, access=access, ground_id=ground_id)
        still = disclosure.case_readers(session, deps.clock, case.id)
        updated = _ground_view(deps, t, access, session, case.reference)
    # The ground's agency no longer sees the case: their App Home showed its details.
    refresh_lost_readers(deps, client, context.team_id or "", readers, still)
    client.views_update(view_id=view["id"], view=updated)


@listener("push", needs=("modal",))
def push_hold(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    """Legal hold from the case modal (coordinators): a reason modal on top."""
    view = body["view"]
    meta = ViewMeta.load(view.get("private_metadata"))
    # A transaction, not a read: a refusal at the door is written to the audit log.
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        case_door(session, deps, context, meta.case_id or 0),
    ):
        access = _view_access(session, meta, context.team_id or "", context.user_id or "")
        if not access.is_coordinator:  # refused, and audited, as the save would be
            raise retention.not_coordinator("legal_hold")
        reference = case_service.case_row(
            session, deps.clock, access=access, case_id=meta.case_id or 0
        ).reference
    pushed = ui.legal_hold_modal(
        t, reference=reference, private_metadata=view.get("private_metadata", "")
    )
    client.views_push(trigger_id=body["trigger_id"], view=pushed)


@listener("modal")
def submit_hold(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = ViewMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    values = view["state"]["values"]
    try:
        with (
            database_errors(),
            transaction(deps.sessions) as session,
            case_door(session, deps, context, meta.case_id or 0),
        ):
            access = _view_access(session, meta, context.team_id or "", context.user_id or "")
            row = case_service.case_row(
                session, deps.clock, access=access, case_id=meta.case_id or 0
            )
            retention.set_legal_hold(
                session,
                deps.clock,
                access=access,
                reference=row.reference,
                reason=forms.text(values, "reason"),
            )
    except NotCoordinator as exc:
        ack(response_action="update", view=notice_modal(t, failure_text(t, exc)))
        return
    ack()  # back to the case modal, which the lazy listener refreshes


@listener("log")
def refresh_case(body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps) -> None:
    """Once the hold is set (read from the database: a refused one changed nothing), the
    case modal beneath shows it."""
    parent = body["view"].get("previous_view_id")
    if not parent:
        return
    meta = ViewMeta.load(body["view"].get("private_metadata"))
    with database_errors(), reading(deps.sessions) as session:
        access = _view_access(session, meta, context.team_id or "", context.user_id or "")
        reference = case_service.case_row(
            session, deps.clock, access=access, case_id=meta.case_id or 0
        ).reference
        held = any(h.reference == reference for h in retention.legal_holds(session, access.forum))
    if held:
        _refresh(body, client, context, deps, parent)


def _refresh(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, view_id: str
) -> None:
    meta = ViewMeta.load(body["view"].get("private_metadata"))
    t = Translator(meta.locale)
    try:
        updated = detail_view(
            deps, t, meta, context.team_id or "", context.user_id or "", meta.case_id or 0
        )
    except DomainError as exc:
        updated = notice_modal(t, failure_text(t, exc))
    client.views_update(view_id=view_id, view=updated)


@listener("update", needs=("modal",))
def release_hold(body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps) -> None:
    view = body["view"]
    meta = ViewMeta.load(view.get("private_metadata"))
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        case_door(session, deps, context, meta.case_id or 0),
    ):
        access = _view_access(session, meta, context.team_id or "", context.user_id or "")
        row = case_service.case_row(session, deps.clock, access=access, case_id=meta.case_id or 0)
        retention.release_legal_hold(session, deps.clock, access=access, reference=row.reference)
    _refresh(body, client, context, deps, view["id"])


def register(app: App) -> None:
    for action_id in (ui.ACTION_LOG_EXPORT_CSV, ui.ACTION_LOG_EXPORT_XLSX):
        app.action(action_id)(ack=ack_only, lazy=[export_log])
    app.view(ui.CB_LEGAL_GROUND)(submit_ground)
    app.action(ui.ACTION_GROUND_END)(ack=ack_only, lazy=[end_ground])
    app.action(case_ui.ACTION_CASE_HOLD)(ack=ack_only, lazy=[push_hold])
    app.view(ui.CB_LEGAL_HOLD)(ack=submit_hold, lazy=[refresh_case])
    app.action(case_ui.ACTION_CASE_RELEASE)(ack=ack_only, lazy=[release_hold])
