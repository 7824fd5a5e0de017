"""Listeners for the data-protection surfaces. Parse → ack → domain → render.

``/samverkan logg …`` (audit review, coordinators and granskare), ``/samverkan samtycke
[REF]`` (consent register, expiring consents), ``/samverkan gallring [stopp|släpp REF …]``
(retention overview, legal hold) and ``/samverkan registerutdrag @person`` (art. 15 export).
Answers are ephemeral; files go to the requester by DM. Nothing is posted to a channel.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

from domain import consent_register, logreview, retention
from domain import export as export_service
from domain import forums as forum_service
from domain.errors import DomainError, InvalidInput, NotCoordinator
from domain.forums import Access
from domain.i18n import N_, Translator
from domain.retention import RetentionPolicy
from handlers.blocks import privacy as ui
from handlers.blocks.forum import text_message
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors, failure_text
from handlers.payload import ack_only, channel_of, team_of
from storage.db import transaction

log = logging.getLogger(__name__)

LOG = {"logg", "log", "loggar", "granskning", "audit"}
CONSENT = {"samtycke", "samtycken", "consent", "consents"}
RETENTION = {"gallring", "gallra", "retention"}
EXPORT = {"registerutdrag", "utdrag", "export"}
HOLD = {"stopp", "spärr", "sparr", "hold"}
RELEASE = {"släpp", "slapp", "häv", "hav", "release"}
WORDS = LOG | CONSENT | RETENTION | EXPORT
USER_RE = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^@?([UW][A-Z0-9]{2,})$")


def _policy(deps: Deps) -> RetentionPolicy:
    return deps.retention_policy


def _access(deps: Deps, session: Any, req: CommandRequest) -> Access:
    return forum_service.require_member_in_channel(
        session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
    )


def route(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest
) -> dict[str, Any] | None:
    """The command's words as typed (case kept for references and reasons)."""
    words = req.text.split()
    word, rest = words[0].casefold(), words[1:]
    if word in LOG:
        return log_review(deps, t, req, rest)
    if word in CONSENT:
        return consents(deps, t, req, rest)
    if word in RETENTION:
        return retention_command(deps, t, req, rest)
    return access_export(deps, client, t, req, rest)


# --- audit review ---------------------------------------------------------------------------


def log_review(deps: Deps, t: Translator, req: CommandRequest, rest: list[str]) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = _access(deps, session, req)
        logreview.require_reviewer(access)
        agencies = list(access.forum.agencies)
        filt = logreview.parse_filter(rest, agencies)
        report = logreview.review(session, deps.clock, access=access, filt=filt)
        tz = forum_service.forum_schedule(access.forum).zone
        agency = next((a.name for a in agencies if a.id == filt.agency_id), None)
    return ui.log_review_message(t, report, filt=filt, agency_name=agency, tz=tz)


def _export_log(
    deps: Deps, client: WebClient, t: Translator, body: dict[str, Any], fmt: str
) -> None:
    user_id = body["user"]["id"]
    req = CommandRequest(team_of(body), channel_of(body), user_id, "", "")
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
    headers = ["time", "actor", "agency", "action", "object_type", "object_ref", "flags"]
    rows = [
        [
            r.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            r.actor,
            r.agency,
            r.action.value,
            r.object_type,
            r.object_ref,
            ",".join(r.flags),
        ]
        for r in report.rows
    ]
    stamp = deps.clock.now().astimezone(tz).strftime("%Y%m%d")
    if fmt == "csv":
        data = export_service.csv_bytes(headers, rows)
    else:
        data = export_service.xlsx_bytes([("logg", headers, rows)])
    send_file(
        client,
        user_id,
        data=data,
        filename=f"samverkan-logg-{code}-{stamp}.{fmt}",
        comment=t("The audit log you exported ({n} events).", n=len(rows)),
    )


def send_file(client: WebClient, user_id: str, *, data: bytes, filename: str, comment: str) -> None:
    """A file in the user's DM with the bot (never a channel)."""
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    client.files_upload_v2(
        channel=channel, file=data, filename=filename, title=filename, initial_comment=comment
    )


# --- consent register -----------------------------------------------------------------------


def consents(deps: Deps, t: Translator, req: CommandRequest, rest: list[str]) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = _access(deps, session, req)
        tz = forum_service.forum_schedule(access.forum).zone
        if not rest:
            rows = consent_register.expiring_consents(session, deps.clock, access=access)
            return ui.expiring_message(t, rows)
        register = consent_register.consent_register(
            session, deps.clock, access=access, reference=rest[0]
        )
    if register.refused:
        raise consent_register.REFUSED  # after the commit: the attempt stays in the log
    return ui.consent_register_message(t, register, tz=tz)


# --- retention and legal hold ---------------------------------------------------------------


def retention_command(
    deps: Deps, t: Translator, req: CommandRequest, rest: list[str]
) -> dict[str, Any]:
    sub = rest[0].casefold() if rest else ""
    with database_errors(), transaction(deps.sessions) as session:
        access = _access(deps, session, req)
        if not access.is_coordinator:
            raise NotCoordinator()
        if sub in HOLD or sub in RELEASE:
            if len(rest) < 2:
                raise InvalidInput(
                    N_("Write the case reference too, e.g. /samverkan gallring stopp FOS-2026-017.")
                )
            reference = rest[1]
            if sub in HOLD:
                case = retention.set_legal_hold(
                    session,
                    deps.clock,
                    access=access,
                    reference=reference,
                    reason=" ".join(rest[2:]),
                )
                return text_message(
                    t(
                        "{reference} is under legal hold: retention keeps it until the hold is "
                        "released.",
                        reference=case.reference,
                    )
                )
            case = retention.release_legal_hold(
                session, deps.clock, access=access, reference=reference
            )
            return text_message(
                t(
                    "The legal hold on {reference} is released: retention applies again.",
                    reference=case.reference,
                )
            )
        if sub:
            raise InvalidInput(
                N_("Use /samverkan gallring, … gallring stopp REF reason, or … gallring släpp REF.")
            )
        policy, dues = retention.forum_overview(session, deps.clock, _policy(deps), access.forum)
        holds = retention.legal_holds(session, access.forum)
        tz = forum_service.forum_schedule(access.forum).zone
        name = access.forum.name
    return ui.retention_message(t, forum_name=name, policy=policy, dues=dues, holds=holds, tz=tz)


# --- access-request export ------------------------------------------------------------------


def access_export(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest, rest: list[str]
) -> dict[str, Any]:
    match = USER_RE.match(rest[0]) if len(rest) == 1 else None
    if match is None:
        raise InvalidInput(N_("Name one person: /samverkan registerutdrag @name."))
    subject = match.group(1) or match.group(2)
    with database_errors(), transaction(deps.sessions) as session:
        access = _access(deps, session, req)
        if not access.is_coordinator:
            raise NotCoordinator()
        result = export_service.subject_access(
            session,
            deps.clock,
            slack_user_id=subject,
            actor=req.user_id,
            team_id=access.forum.team_id,
            forum_id=access.forum.id,
            actor_agency_id=access.member.agency_id,
        )
    stem = f"samverkan-registerutdrag-{subject}-{result.generated_at:%Y%m%d}"
    comment = t(
        "Access-request export (GDPR art. 15) for {user}: {n} rows.",
        user=f"<@{subject}>",
        n=result.row_count,
    )
    send_file(
        client,
        req.user_id,
        data=export_service.to_json(result),
        filename=f"{stem}.json",
        comment=comment,
    )
    send_file(
        client,
        req.user_id,
        data=export_service.to_xlsx(result),
        filename=f"{stem}.xlsx",
        comment=comment,
    )
    return text_message(
        t("The export for {user} is in your direct messages.", user=f"<@{subject}>")
    )


def register(app: App, deps: Deps) -> None:
    def export_log(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        action_id = body["actions"][0]["action_id"]
        fmt = "csv" if action_id == ui.ACTION_LOG_EXPORT_CSV else "xlsx"
        user_id = body["user"]["id"]
        t = deps.translator(client, team_of(body), user_id)
        try:
            _export_log(deps, client, t, body, fmt)
            reply = t("The export is in your direct messages.")
        except Exception as exc:
            if not isinstance(exc, DomainError):
                log.exception("exporting the audit log failed")
            reply = failure_text(t, exc)
        respond(replace_original=False, response_type="ephemeral", text=reply)

    for action_id in (ui.ACTION_LOG_EXPORT_CSV, ui.ACTION_LOG_EXPORT_XLSX):
        app.action(action_id)(ack=ack_only, lazy=[export_log])
