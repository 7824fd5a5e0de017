"""Listeners for cases and deviation reports. Parse → ack → domain → render.

Details of a case only ever go to forum members, in modals; each display is an audited
read. Channel messages and DMs carry the reference, agencies and the meeting date only.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from domain import cases as case_service
from domain import forums as forum_service
from domain.cases import Scope
from domain.criteria import active_criteria
from domain.errors import DatabaseUnavailable, DomainError, InputErrors
from domain.i18n import Translator, normalize_locale
from handlers import feedback as feedback_handlers
from handlers import forms
from handlers.blocks import cases as ui
from handlers.blocks.forum import notice_modal
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors, failure_text, view_errors
from handlers.forum import tell
from handlers.metadata import ViewMeta
from handlers.payload import ack_only, channel_of, team_of
from handlers.screens import case_access as _access
from handlers.screens import detail_view
from storage.db import transaction
from storage.models import CaseStatus, Effect, Role

log = logging.getLogger(__name__)


# --- entry points used by the command router ---------------------------------------------


def open_case_modal(deps: Deps, client: WebClient, t: Translator, req: CommandRequest) -> None:
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        )
        forum = access.forum
        meta = ViewMeta(locale=t.locale, channel_id=req.channel_id, forum_id=forum.id)
        view = ui.case_modal(
            t,
            agencies=[(a.id, a.name) for a in forum_service.active_agencies(forum)],
            own_agency_id=access.member.agency_id,
            meetings=case_service.upcoming_meetings(session, forum, deps.clock),
            tz=forum_service.forum_schedule(forum).zone,
            private_metadata=meta.dump(),
            criteria=[(c.id, c.text, c.help) for c in active_criteria(session, forum.id)],
        )
    client.views_open(trigger_id=req.trigger_id, view=view)


def case_list(
    deps: Deps,
    t: Translator,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    status: CaseStatus | None = None,
    scope: Scope = "all",
    page: int = 0,
    after: int | None = None,
    before: int | None = None,
) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=team_id, channel_id=channel_id, slack_user_id=user_id
        )
        cases = case_service.list_cases(
            session,
            deps.clock,
            access=access,
            status=status,
            scope=scope,
            page=page,
            after=after,
            before=before,
        )
        tz = forum_service.forum_schedule(access.forum).zone
    return ui.case_list_message(t, cases, tz=tz, status=status, scope=scope)


def open_deviation_modal(
    deps: Deps,
    client: WebClient,
    t: Translator,
    req: CommandRequest,
    *,
    case_reference: str | None = None,
) -> None:
    with database_errors(), transaction(deps.sessions) as session:
        forum = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        ).forum
        meta = ViewMeta(locale=t.locale, channel_id=req.channel_id, forum_id=forum.id)
        view = ui.deviation_modal(
            t,
            agencies=[(a.id, a.name) for a in forum_service.active_agencies(forum)],
            private_metadata=meta.dump(),
            case_reference=case_reference,
        )
    client.views_open(trigger_id=req.trigger_id, view=view)


# --- listeners ------------------------------------------------------------------------------


def _effect(value: str | None) -> Effect | None:
    try:
        return Effect(value) if value else None
    except ValueError:
        return None


def register(app: App, deps: Deps) -> None:
    def submit_case(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any) -> None:
        meta = ViewMeta.load(view.get("private_metadata"))
        t = Translator(meta.locale)
        draft = forms.case_draft(view["state"]["values"])
        ids = forms.block_ids(view)
        try:
            with database_errors(), transaction(deps.sessions) as session:
                access = _access(session, meta, team_of(body), body["user"]["id"])
                # The modal's id makes a retried or double-clicked submission one case.
                case, created = case_service.raise_case(
                    session, deps.clock, access=access, draft=draft, submission_key=view["id"]
                )
                case_id = case.id
        except DomainError as exc:
            ack(response_action="errors", errors=view_errors(t, exc, ids))
            return
        if created:
            context["samverkan_case_id"] = case_id
        ack()

    def announce_case(body: dict[str, Any], client: WebClient, context: Any) -> None:
        case_id = context.get("samverkan_case_id")
        if case_id is None:
            return  # refused, or a repeat of a submission already announced
        meta = ViewMeta.load(body["view"].get("private_metadata"))
        user_id = body["user"]["id"]
        try:
            with database_errors(), transaction(deps.sessions) as session:
                access = _access(session, meta, team_of(body), user_id)
                row = case_service.case_row(session, deps.clock, access=access, case_id=case_id)
                recipients = case_service.members_to_notify(session, case_id)
                tz = forum_service.forum_schedule(access.forum).zone
                channel = access.forum.channel_id
            channel_t = Translator(normalize_locale(access.forum.language, deps.default_locale))
            post = ui.case_announcement(
                channel_t,
                reference=row.reference,
                raising_agency=row.raising_agency,
                agencies=row.agencies,
                meeting_start=row.meeting_start,
                tz=tz,
            )
            client.chat_postMessage(channel=channel, **post)  # type: ignore[arg-type]
            for member in recipients:
                member_t = deps.translator(client, team_of(body), member)
                text = ui.case_dm_text(
                    member_t,
                    reference=row.reference,
                    meeting_start=row.meeting_start,
                    tz=tz,
                )
                tell(client, member, text)
        except Exception as exc:  # the case exists; tell its author what did not happen
            log.warning("could not announce case %s: %s", case_id, exc)
            tell(client, user_id, failure_text(Translator(meta.locale), exc))

    app.view(ui.CB_CASE_NEW)(ack=submit_case, lazy=[announce_case])

    def change_list(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        action = body["actions"][0]
        if action["action_id"] in (ui.ACTION_LIST_FILTER, ui.ACTION_LIST_STATUS):
            value = (action.get("selected_option") or {}).get("value", ui.FILTER_ALL)
            scope, status = ui.parse_filter_value(value)
            request = ui.PageRequest(0, scope, status)
        else:
            request = ui.parse_page_value(action.get("value", ""))
        user_id = body["user"]["id"]
        t = deps.translator(client, team_of(body), user_id)
        channel = channel_of(body)
        try:
            reply = case_list(
                deps,
                t,
                team_id=team_of(body),
                channel_id=channel,
                user_id=user_id,
                status=request.status,
                scope=request.scope,
                page=request.page,
                after=request.after,
                before=request.before,
            )
        except Exception as exc:
            if not isinstance(exc, DomainError):
                log.exception("case list failed")
            reply = {"text": failure_text(t, exc)}
        respond(replace_original=True, response_type="ephemeral", **reply)

    app.action(ui.ACTION_LIST_FILTER)(ack=ack_only, lazy=[change_list])
    app.action(ui.ACTION_LIST_STATUS)(ack=ack_only, lazy=[change_list])
    app.action(ui.ACTION_LIST_PAGE_RE)(ack=ack_only, lazy=[change_list])

    def open_case(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        user_id = body["user"]["id"]
        # No Slack call before views.open (its trigger lasts 3 s): the list this button
        # came from already looked the user's locale up.
        t = Translator(deps.cached_locale(team_of(body), user_id) or deps.default_locale)
        channel = channel_of(body)
        try:
            with database_errors(), transaction(deps.sessions) as session:
                forum = forum_service.require_forum(
                    session, team_id=team_of(body), channel_id=channel
                )
            meta = ViewMeta(locale=t.locale, channel_id=channel, forum_id=forum.id)
            case_id = int(body["actions"][0].get("value") or 0)
            view = detail_view(deps, t, meta, team_of(body), user_id, case_id)
            client.views_open(trigger_id=body["trigger_id"], view=view)
        except Exception as exc:
            if not isinstance(exc, DomainError):
                log.exception("opening a case failed")
            respond(replace_original=False, response_type="ephemeral", text=failure_text(t, exc))

    app.action(ui.ACTION_CASE_OPEN)(ack=ack_only, lazy=[open_case])

    def change_status(body: dict[str, Any], client: WebClient) -> None:
        view = body["view"]
        meta = ViewMeta.load(view.get("private_metadata"))
        t = Translator(meta.locale)
        user_id = body["user"]["id"]
        parsed = ui.parse_status_value(body["actions"][0].get("value", ""))
        try:
            if parsed is None:
                return
            case_id, target = parsed
            if target is CaseStatus.CLOSED:
                with database_errors(), transaction(deps.sessions) as session:
                    access = _access(session, meta, team_of(body), user_id)
                    row = case_service.case_row(session, deps.clock, access=access, case_id=case_id)
                client.views_push(
                    trigger_id=body["trigger_id"],
                    view=ui.close_case_modal(
                        t,
                        reference=row.reference,
                        private_metadata=view.get("private_metadata", ""),
                    ),
                )
                return
            with database_errors(), transaction(deps.sessions) as session:
                access = _access(session, meta, team_of(body), user_id)
                case_service.change_status(
                    session, deps.clock, access=access, case_id=case_id, to=target
                )
            updated = detail_view(deps, t, meta, team_of(body), user_id, case_id)
        except Exception as exc:
            if not isinstance(exc, DomainError):
                log.exception("changing a case failed")
            updated = notice_modal(t, failure_text(t, exc))
        client.views_update(view_id=view["id"], view=updated)

    app.action(ui.ACTION_CASE_STATUS_RE)(ack=ack_only, lazy=[change_status])

    def submit_close(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any) -> None:
        meta = ViewMeta.load(view.get("private_metadata"))
        t = Translator(meta.locale)
        values = view["state"]["values"]
        ids = forms.block_ids(view)
        effect = forms.selected(values, "effect")
        try:
            with database_errors(), transaction(deps.sessions) as session:
                access = _access(session, meta, team_of(body), body["user"]["id"])
                case_service.change_status(
                    session,
                    deps.clock,
                    access=access,
                    case_id=meta.case_id or 0,
                    to=CaseStatus.CLOSED,
                    outcome=forms.text(values, "outcome"),
                    effect=_effect(effect),
                    sip_started=ui.SIP_STARTED_VALUE in forms.selected_many(values, "sip_started"),
                )
        except (InputErrors, DatabaseUnavailable) as exc:  # a retry keeps what they typed
            ack(response_action="errors", errors=view_errors(t, exc, ids))
            return
        except DomainError as exc:
            ack(response_action="update", view=notice_modal(t, failure_text(t, exc)))
            return
        context["samverkan_closed"] = True
        ack()  # back to the case modal, which the lazy listener refreshes

    def refresh_after_close(body: dict[str, Any], client: WebClient, context: Any) -> None:
        refresh_closed_case(body, client, context)
        if context.get("samverkan_closed"):
            feedback_handlers.send_now(deps, client)  # the agencies' survey DMs

    def refresh_closed_case(body: dict[str, Any], client: WebClient, context: Any) -> None:
        view = body["view"]
        parent = view.get("previous_view_id")
        if not context.get("samverkan_closed") or not parent:
            return
        meta = ViewMeta.load(view.get("private_metadata"))
        t = Translator(meta.locale)
        user_id = body["user"]["id"]
        try:
            updated = detail_view(deps, t, meta, team_of(body), user_id, meta.case_id or 0)
        except Exception as exc:
            if not isinstance(exc, DomainError):
                log.exception("refreshing a closed case failed")
            updated = notice_modal(t, failure_text(t, exc))
        client.views_update(view_id=parent, view=updated)

    app.view(ui.CB_CASE_CLOSE)(ack=submit_close, lazy=[refresh_after_close])

    def withdraw(body: dict[str, Any], client: WebClient) -> None:
        view = body["view"]
        meta = ViewMeta.load(view.get("private_metadata"))
        t = Translator(meta.locale)
        user_id = body["user"]["id"]
        try:
            with database_errors(), transaction(deps.sessions) as session:
                access = _access(session, meta, team_of(body), user_id)
                case_service.withdraw_consent(
                    session, deps.clock, access=access, case_id=meta.case_id or 0
                )
            updated = detail_view(deps, t, meta, team_of(body), user_id, meta.case_id or 0)
        except Exception as exc:
            if not isinstance(exc, DomainError):
                log.exception("withdrawing consent failed")
            updated = notice_modal(t, failure_text(t, exc))
        client.views_update(view_id=view["id"], view=updated)

    app.action(ui.ACTION_CASE_WITHDRAW)(ack=ack_only, lazy=[withdraw])

    def submit_deviation(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any
    ) -> None:
        meta = ViewMeta.load(view.get("private_metadata"))
        t = Translator(meta.locale)
        values = view["state"]["values"]
        ids = forms.block_ids(view)
        try:
            with database_errors(), transaction(deps.sessions) as session:
                access = _access(session, meta, team_of(body), body["user"]["id"])
                deviation = case_service.report_deviation(
                    session,
                    deps.clock,
                    access=access,
                    agency_ids=[
                        int(a) for a in forms.selected_many(values, "agencies") if a.isdigit()
                    ],
                    kind=forms.selected(values, "kind"),
                    text=forms.text(values, "text"),
                    case_reference=forms.text(values, "case") or None,
                )
                report = {
                    "forum": access.forum.name,
                    "kind": deviation.kind,
                    "agencies": [a.name for a in deviation.agencies],
                    "coordinators": [
                        m.slack_user_id
                        for m in forum_service.active_members(session, access.forum)
                        if m.role in (Role.COORDINATOR, Role.ADMIN)
                    ],
                }
            context["samverkan_deviation"] = report  # only once it is committed
        except DomainError as exc:
            ack(response_action="errors", errors=view_errors(t, exc, ids))
            return
        ack()

    def tell_coordinators(body: dict[str, Any], client: WebClient, context: Any) -> None:
        report = context.get("samverkan_deviation")
        if not report:
            return
        for coordinator in report["coordinators"]:
            t = deps.translator(client, team_of(body), coordinator)
            text = ui.deviation_dm_text(
                t, forum_name=report["forum"], kind=report["kind"], agencies=report["agencies"]
            )
            tell(client, coordinator, text)

    app.view(ui.CB_DEVIATION)(ack=submit_deviation, lazy=[tell_coordinators])
