"""Listeners for cases and deviation reports. Parse → ack → domain → render.

Details of a case only ever go to forum members, in modals; each display is an audited
read. Channel messages and DMs carry the reference, agencies and the meeting date only.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from domain import agenda as agenda_service
from domain import cases as case_service
from domain import disclosure
from domain import forums as forum_service
from domain.access import Access
from domain.cases import Scope
from domain.criteria import active_criteria
from domain.errors import CASE_NOT_FOUND_FROM_DM, CaseNotFound, DomainError
from domain.i18n import Translator, normalize_locale
from domain.references import no_such_case
from handlers import forms, outgoing
from handlers.blocks import cases as ui
from handlers.blocks.common import reference_example
from handlers.blocks.forum import notice_modal
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors, failure_text
from handlers.listener import listener, quick_translator
from handlers.metadata import ViewMeta
from handlers.payload import ack_only
from handlers.screens import case_access as _access
from handlers.screens import case_door, detail_view, refresh_lost_readers
from storage.db import reading, transaction
from storage.models import CaseStatus, Effect, Forum, Role, SipStatus

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


def open_case_by_reference(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest, reference: str
) -> None:
    """`/samverkan ärende FOS-2026-017`: that case of the channel's forum, in the modal the
    list's Open button shows (the same audited read: the disclosure rule decides what it
    shows); a reference that names no case of the forum is told so, never a blank new
    case. A refusal at the door (not a member here, no such case in this forum: another
    forum's reference) is audited as the typed reference, as ``grund``/``samtycke`` are."""
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
        ),
    ):
        access = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        )
        case = case_service.find_case_by_reference(session, access.forum, reference)
        if case is None:
            raise no_such_case(reference, error=CaseNotFound)
        case_id = case.id
    meta = ViewMeta(locale=t.locale, channel_id=req.channel_id)
    view = detail_view(deps, t, meta, req.team_id, req.user_id, case_id, by_channel=True)
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
    with database_errors(), reading(deps.sessions) as session:
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
    with database_errors(), reading(deps.sessions) as session:
        forum = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        ).forum
        meta = ViewMeta(locale=t.locale, channel_id=req.channel_id, forum_id=forum.id)
        view = ui.deviation_modal(
            t,
            agencies=[(a.id, a.name) for a in forum_service.active_agencies(forum)],
            private_metadata=meta.dump(),
            case_reference=case_reference,
            reference_placeholder=reference_example(
                forum.code, forum_service.local_today(forum, deps.clock).year
            ),
        )
    client.views_open(trigger_id=req.trigger_id, view=view)


# --- listeners ------------------------------------------------------------------------------


@listener("modal")
def submit_case(
    ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient, deps: Deps
) -> None:
    """Raise the case and queue its announcement (channel) and the DMs to the agencies
    that must take part, in the same transaction."""
    meta = ViewMeta.load(view.get("private_metadata"))
    draft = forms.case_draft(view["state"]["values"])
    team_id = context.team_id or ""
    with database_errors(), transaction(deps.sessions) as session:
        access = _access(session, meta, team_id, context.user_id or "")
        # The modal's id makes a retried or double-clicked submission one case.
        case, created = case_service.raise_case(
            session, deps.clock, access=access, draft=draft, submission_key=view["id"]
        )
        if created:
            _queue_announcement(session, deps, client, access, case.id, team_id)
    ack()


def _queue_announcement(
    session: Session, deps: Deps, client: WebClient, access: Access, case_id: int, team_id: str
) -> None:
    row = case_service.case_row(session, deps.clock, access=access, case_id=case_id)
    recipients = case_service.members_to_notify(session, case_id)
    tz = forum_service.forum_schedule(access.forum).zone
    channel_t = Translator(normalize_locale(access.forum.language, deps.default_locale))
    post = ui.case_announcement(
        channel_t,
        reference=row.reference,
        raising_agency=row.raising_agency,
        agencies=row.agencies,
        meeting_start=row.meeting_start,
        tz=tz,
    )
    key = f"case:{case_id}"
    outgoing.post(
        session, deps.clock, team_id=team_id, channel=access.forum.channel_id, message=post, key=key
    )
    for member, member_t in outgoing.translators(deps, client, access.forum, recipients).items():
        dm = ui.case_dm(
            member_t,
            reference=row.reference,
            forum_name=access.forum.name,
            meeting_start=row.meeting_start,
            tz=tz,
            case_id=case_id,
        )
        outgoing.post(
            session, deps.clock, team_id=team_id, channel=member, message=dm, key=f"{key}:{member}"
        )


@listener("log")
def deliver(client: WebClient, deps: Deps) -> None:
    """After an ack that queued messages: send them now."""
    outgoing.deliver_now(deps, client)


@listener("replace", needs=("message",))
def change_list(
    body: dict[str, Any],
    context: BoltContext,
    respond: Respond,
    deps: Deps,
    t: Translator,
) -> None:
    action = body["actions"][0]
    if action["action_id"] in (ui.ACTION_LIST_FILTER, ui.ACTION_LIST_STATUS):
        value = (action.get("selected_option") or {}).get("value", ui.FILTER_ALL)
        scope, status = ui.parse_filter_value(value)
        request = ui.PageRequest(0, scope, status)
    else:
        request = ui.parse_page_value(action.get("value", ""))
    reply = case_list(
        deps,
        t,
        team_id=context.team_id or "",
        channel_id=context.channel_id or "",
        user_id=context.user_id or "",
        status=request.status,
        scope=request.scope,
        page=request.page,
        after=request.after,
        before=request.before,
    )
    respond(replace_original=True, response_type="ephemeral", **reply)


@listener("ephemeral")
def open_case(body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps) -> None:
    team_id, user_id, channel = context.team_id or "", context.user_id or "", context.channel_id
    # The list this button came from already looked the user's locale up.
    t = quick_translator(context, deps)
    # The channel's forum is looked up in the read's transaction; no forum here: the lookup
    # refuses it (ForumNotFound), and audits the attempt.
    meta = ViewMeta(locale=t.locale, channel_id=channel)
    case_id = forms.id_value(body["actions"][0].get("value")) or 0
    view = detail_view(deps, t, meta, team_id, user_id, case_id, by_channel=True)
    client.views_open(trigger_id=body["trigger_id"], view=view)


@listener("notice")
def open_case_from_dm(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    """The case DM's button: the case's modal. A DM is no forum's channel, so the door asks
    membership of the case's own forum (:func:`domain.cases.access_for_case`), through the
    same audited read as the list's button; anyone outside it is told what an id of no case
    tells them, in words for a DM (no forum here): a case removed by retention, another
    forum's or workspace's, or none at all, alike."""
    t = quick_translator(context, deps, stored=True)  # no Slack wait before views.open
    case_id = forms.id_value(str(body["actions"][0].get("value") or "")) or 0
    meta = ViewMeta(locale=t.locale)
    try:
        view = detail_view(deps, t, meta, context.team_id or "", context.user_id or "", case_id)
    except CaseNotFound:  # audited at the door as what it is; told alike
        raise CaseNotFound(CASE_NOT_FOUND_FROM_DM) from None
    client.views_open(trigger_id=body["trigger_id"], view=view)


@listener("update", needs=("modal",))
def change_status(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    view = body["view"]
    meta = ViewMeta.load(view.get("private_metadata"))
    team_id, user_id = context.team_id or "", context.user_id or ""
    parsed = ui.parse_status_value(body["actions"][0].get("value", ""))
    if parsed is None:
        return
    case_id, target = parsed
    if target is CaseStatus.CLOSED:
        # A transaction, not a read: a refusal at the door is written to the audit log.
        with (
            database_errors(),
            transaction(deps.sessions) as session,
            case_door(session, deps, context, case_id),
        ):
            access = _access(session, meta, team_id, user_id)
            # Refused now as the closing would be when saved (not theirs to close).
            reference = case_service.close_reference(session, access=access, case_id=case_id)
        client.views_push(
            trigger_id=body["trigger_id"],
            view=ui.close_case_modal(
                t, reference=reference, private_metadata=view.get("private_metadata", "")
            ),
        )
        return
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        case_door(session, deps, context, case_id),
    ):
        access = _access(session, meta, team_id, user_id)
        case_service.change_status(session, deps.clock, access=access, case_id=case_id, to=target)
        _agendas_follow(session, deps, access.forum, case_id)
    updated = detail_view(deps, t, meta, team_id, user_id, case_id)
    client.views_update(view_id=view["id"], view=updated)
    outgoing.deliver_now(deps, client)


@listener("modal_or_notice")
def submit_close(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = ViewMeta.load(view.get("private_metadata"))
    values = view["state"]["values"]
    effect = forms.selected(values, "effect")
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        case_door(session, deps, context, meta.case_id or 0),
    ):
        access = _access(session, meta, context.team_id or "", context.user_id or "")
        case_service.change_status(
            session,
            deps.clock,
            access=access,
            case_id=meta.case_id or 0,
            to=CaseStatus.CLOSED,
            outcome=forms.text(values, "outcome"),
            effect=forms.choice(effect, Effect),
            sip_started=ui.SIP_STARTED_VALUE in forms.selected_many(values, "sip_started"),
        )
        _agendas_follow(session, deps, access.forum, meta.case_id or 0)
    ack()  # back to the case modal, which the lazy listener refreshes


def _agendas_follow(session: Session, deps: Deps, forum: Forum, case_id: int) -> None:
    """A case closed (withdrawn before its meeting) or opened again: the posted agenda of a
    meeting to come that lists it, the coordinators' previews and the morning DMs follow
    (a closed case is no longer on them). A meeting that has started keeps its agenda as
    it was held."""
    now = deps.clock.now()
    for meeting in agenda_service.meetings_listing_case(session, deps.clock, case_id):
        if meeting.starts_at > now:
            outgoing.publish_changes(deps, session, meeting, forum)


@listener("log")
def refresh_after_close(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    """Once the case is closed: the case modal beneath shows it, and the agencies get their
    survey DMs. Read from the database: a refused close changed nothing."""
    view = body["view"]
    meta = ViewMeta.load(view.get("private_metadata"))
    team_id, user_id = context.team_id or "", context.user_id or ""
    with database_errors(), reading(deps.sessions) as session:
        access = _access(session, meta, team_id, user_id)
        closed = (
            case_service.case_row(
                session, deps.clock, access=access, case_id=meta.case_id or 0
            ).status
            is CaseStatus.CLOSED
        )
    if not closed:
        return
    _refresh_case_modal(deps, client, view, team_id, user_id)
    outgoing.surveys_now(deps, client, meta.case_id or 0)  # the agencies' survey DMs
    outgoing.deliver_now(deps, client)  # the agendas that listed it


@listener("update", needs=("modal",))
def withdraw(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    view = body["view"]
    meta = ViewMeta.load(view.get("private_metadata"))
    team_id, user_id = context.team_id or "", context.user_id or ""
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        case_door(session, deps, context, meta.case_id or 0),
    ):
        access = _access(session, meta, team_id, user_id)
        readers = disclosure.case_readers(session, deps.clock, meta.case_id or 0)
        case_service.withdraw_consent(session, deps.clock, access=access, case_id=meta.case_id or 0)
        still = disclosure.case_readers(session, deps.clock, meta.case_id or 0)
    refresh_lost_readers(deps, client, team_id, readers, still)  # their Home showed the case
    updated = detail_view(deps, t, meta, team_id, user_id, meta.case_id or 0)
    client.views_update(view_id=view["id"], view=updated)


@listener("update", needs=("modal",))
def delete_case(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    """ "Delete the case (raised by mistake)" in the case modal, after Slack's confirm: the
    member who raised it or a coordinator (anyone else refused and audited at the door;
    a case something was built on refused with a text saying to close it instead). The
    agenda of a meeting to come that listed it is updated as when a case is closed, the
    channel's announcement of the case says it was removed, the App Home of those who saw
    it is published anew, and the modal says it is deleted."""
    view = body["view"]
    meta = ViewMeta.load(view.get("private_metadata"))
    team_id, user_id = context.team_id or "", context.user_id or ""
    case_id = meta.case_id or 0
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        case_door(session, deps, context, case_id),
    ):
        access = _access(session, meta, team_id, user_id)
        readers = disclosure.case_readers(session, deps.clock, case_id)
        now = deps.clock.now()
        meetings = [
            m
            for m in agenda_service.meetings_listing_case(session, deps.clock, case_id)
            if m.starts_at > now
        ]
        reference = case_service.delete_by_mistake(
            session, deps.clock, access=access, case_id=case_id
        )
        forum = access.forum
        for meeting in meetings:  # not on them any more: the cascade took its items
            outgoing.publish_changes(deps, session, meeting, forum)
        channel_t = Translator(normalize_locale(forum.language, deps.default_locale))
        outgoing.update_posted(
            session,
            deps.clock,
            team_id=team_id,
            channel=forum.channel_id,
            key=f"case:{case_id}",
            message=ui.case_announcement_removed(channel_t, reference=reference),
        )
    client.views_update(view_id=view["id"], view=ui.case_deleted_modal(t, reference))
    refresh_lost_readers(deps, client, team_id, readers, frozenset())  # their Home listed it
    outgoing.deliver_now(deps, client)


@listener("push", needs=("modal",))
def push_consent(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    """Record consent from the case modal: the consent modal on top."""
    view = body["view"]
    meta = ViewMeta.load(view.get("private_metadata"))
    # A transaction, not a read: a refusal at the door is written to the audit log.
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        case_door(session, deps, context, meta.case_id or 0),
    ):
        access = _access(session, meta, context.team_id or "", context.user_id or "")
        # Refused now as the consent would be when saved (not theirs to record).
        reference = case_service.consent_reference(
            session, deps.clock, access=access, case_id=meta.case_id or 0
        )
        agencies = [(a.id, a.name) for a in forum_service.active_agencies(access.forum)]
    pushed = ui.consent_modal(
        t,
        reference=reference,
        agencies=agencies,
        private_metadata=view.get("private_metadata", ""),
    )
    client.views_push(trigger_id=body["trigger_id"], view=pushed)


@listener("modal_or_notice")
def submit_consent(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = ViewMeta.load(view.get("private_metadata"))
    draft = forms.case_draft(view["state"]["values"])
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        case_door(session, deps, context, meta.case_id or 0),
    ):
        access = _access(session, meta, context.team_id or "", context.user_id or "")
        case_service.record_consent(
            session,
            deps.clock,
            access=access,
            case_id=meta.case_id or 0,
            giver=draft.consent_giver,
            agency_ids=draft.consent_agency_ids,
            given_on=draft.consent_given_on,
            expires_on=draft.consent_expires_on,
        )
    context[CONSENT_RECORDED] = True  # committed (a refusal or error returned above)
    ack()  # back to the case modal, which the lazy listener refreshes


# Set once :func:`submit_consent` has saved (bolt copies the context for the lazy listener
# after the ack function returned). Asking the domain again afterwards is no test: the new
# consent may leave out the recorder's own agency, who then may not record one any more.
CONSENT_RECORDED = "samverkan_consent_recorded"


@listener("log")
def refresh_after_consent(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    """Once the consent is recorded: the case modal beneath shows it, and members whose
    agency the new consent leaves out get an App Home without the case's details."""
    view = body["view"]
    meta = ViewMeta.load(view.get("private_metadata"))
    team_id, user_id = context.team_id or "", context.user_id or ""
    lost: list[str] = []
    if context.get(CONSENT_RECORDED):  # a refused submission stored nothing: no one to tell
        with database_errors(), reading(deps.sessions) as session:
            lost = case_service.readers_lost_to_new_consent(session, deps.clock, meta.case_id or 0)
    refresh_lost_readers(deps, client, team_id, frozenset(lost), frozenset())
    _refresh_case_modal(deps, client, view, team_id, user_id)


@listener("push", needs=("modal",))
def push_agencies(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    """Change which agencies take part, from the case modal: the agencies modal on top."""
    view = body["view"]
    meta = ViewMeta.load(view.get("private_metadata"))
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        case_door(session, deps, context, meta.case_id or 0),
    ):
        access = _access(session, meta, context.team_id or "", context.user_id or "")
        # Refused now as the change would be when saved (not theirs, the case closed).
        case_service.require_agencies_changeable(session, access=access, case_id=meta.case_id or 0)
        row = case_service.case_row(session, deps.clock, access=access, case_id=meta.case_id or 0)
        names = set(row.agencies)
        agencies = [(a.id, a.name) for a in forum_service.active_agencies(access.forum)]
    pushed = ui.agencies_modal(
        t,
        reference=row.reference,
        agencies=agencies,
        chosen=[i for i, name in agencies if name in names],
        private_metadata=view.get("private_metadata", ""),
    )
    client.views_push(trigger_id=body["trigger_id"], view=pushed)


@listener("modal_or_notice")
def submit_agencies(
    ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient, deps: Deps
) -> None:
    """Save the agencies and queue the DMs to the members of those added, in one
    transaction."""
    meta = ViewMeta.load(view.get("private_metadata"))
    values = view["state"]["values"]
    team_id = context.team_id or ""
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        case_door(session, deps, context, meta.case_id or 0),
    ):
        access = _access(session, meta, team_id, context.user_id or "")
        case_id = meta.case_id or 0
        change = case_service.change_agencies(
            session,
            deps.clock,
            access=access,
            case_id=case_id,
            agency_ids=forms.id_values(forms.selected_many(values, "agencies")),
        )
        if change.changed:
            # A posted agenda (and the coordinators' previews) names the case's agencies.
            for meeting in agenda_service.meetings_listing_case(session, deps.clock, case_id):
                outgoing.publish_changes(deps, session, meeting, access.forum)
        if change.added:
            # The case as it is now, read once, for the DMs to the agencies added.
            row = case_service.case_row(session, deps.clock, access=access, case_id=case_id)
            tz = forum_service.forum_schedule(access.forum).zone
            told = case_service.members_to_notify(session, case_id, change.added)
            people = [u for u in told if u != access.member.slack_user_id]
            # A meeting that has been (the case was discussed there) is no date to come to.
            start = row.meeting_start
            coming = start if start is not None and start > deps.clock.now() else None
            for member, member_t in outgoing.translators(
                deps, client, access.forum, people
            ).items():
                dm = ui.case_dm(
                    member_t,
                    reference=row.reference,
                    forum_name=access.forum.name,
                    meeting_start=coming,
                    tz=tz,
                    case_id=case_id,
                )
                outgoing.post(session, deps.clock, team_id=team_id, channel=member, message=dm)
    ack()  # back to the case modal, which the lazy listener refreshes


@listener("log")
def refresh_after_agencies(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    """Once saved: the DMs go out, and the case modal beneath shows the agencies."""
    outgoing.deliver_now(deps, client)
    _refresh_case_modal(deps, client, body["view"], context.team_id or "", context.user_id or "")


@listener("push", needs=("modal",))
def push_sip(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    """Change the SIP from the case modal: the SIP modal on top."""
    view = body["view"]
    meta = ViewMeta.load(view.get("private_metadata"))
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        case_door(session, deps, context, meta.case_id or 0),
    ):
        access = _access(session, meta, context.team_id or "", context.user_id or "")
        reference = case_service.sip_reference(
            session, deps.clock, access=access, case_id=meta.case_id or 0
        )
    pushed = ui.sip_modal(t, reference=reference, private_metadata=view.get("private_metadata", ""))
    client.views_push(trigger_id=body["trigger_id"], view=pushed)


@listener("modal_or_notice")
def submit_sip(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = ViewMeta.load(view.get("private_metadata"))
    values = view["state"]["values"]
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        case_door(session, deps, context, meta.case_id or 0),
    ):
        access = _access(session, meta, context.team_id or "", context.user_id or "")
        case_service.change_sip(
            session,
            deps.clock,
            access=access,
            case_id=meta.case_id or 0,
            sip=forms.choice(forms.selected(values, "sip"), SipStatus),
        )
    ack()  # back to the case modal, which the lazy listener refreshes


@listener("log")
def refresh_after_sip(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    """Once saved: the case modal beneath shows the SIP and its history line."""
    _refresh_case_modal(deps, client, body["view"], context.team_id or "", context.user_id or "")


def _refresh_case_modal(
    deps: Deps, client: WebClient, view: dict[str, Any], team_id: str, user_id: str
) -> None:
    """The case modal under a pushed modal (close, consent, agencies, SIP), shown anew once
    that modal's save is done: as the reader may see it now, or why they may not."""
    parent = view.get("previous_view_id")
    if not parent:
        return
    meta = ViewMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    try:
        updated = detail_view(deps, t, meta, team_id, user_id, meta.case_id or 0)
    except DomainError as exc:
        updated = notice_modal(t, failure_text(t, exc))
    client.views_update(view_id=parent, view=updated)


@listener("modal")
def submit_deviation(
    ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient, deps: Deps
) -> None:
    """Record the deviation and queue the coordinators' DMs (kind and agencies, never the
    text) in the same transaction."""
    meta = ViewMeta.load(view.get("private_metadata"))
    values = view["state"]["values"]
    team_id = context.team_id or ""
    with database_errors(), transaction(deps.sessions) as session:
        access = _access(session, meta, team_id, context.user_id or "")
        deviation = case_service.report_deviation(
            session,
            deps.clock,
            access=access,
            agency_ids=forms.id_values(forms.selected_many(values, "agencies")),
            kind=forms.selected(values, "kind"),
            text=forms.text(values, "text"),
            case_reference=forms.text(values, "case") or None,
        )
        coordinators = [
            m.slack_user_id
            for m in forum_service.active_members(session, access.forum)
            if m.role in (Role.COORDINATOR, Role.ADMIN)
        ]
        agencies = [a.name for a in deviation.agencies]
        for coordinator, t in outgoing.translators(
            deps, client, access.forum, coordinators
        ).items():
            dm = ui.deviation_dm(
                t,
                forum_name=access.forum.name,
                kind=deviation.kind,
                agencies=agencies,
                deviation_id=deviation.id,
            )
            outgoing.post(session, deps.clock, team_id=team_id, channel=coordinator, message=dm)
    # Said to the reporter: a form that only closed left them wondering whether it went.
    t = Translator(meta.locale)
    ack(
        response_action="update",
        view=notice_modal(
            t,
            t(
                "Thank you: the deviation is reported. The forum's coordinators follow it up, "
                "and you are told the outcome."
            ),
        ),
    )


def register(app: App) -> None:
    app.view(ui.CB_CASE_NEW)(ack=submit_case, lazy=[deliver])
    app.action(ui.ACTION_LIST_FILTER)(ack=ack_only, lazy=[change_list])
    app.action(ui.ACTION_LIST_STATUS)(ack=ack_only, lazy=[change_list])
    app.action(ui.ACTION_LIST_PAGE_RE)(ack=ack_only, lazy=[change_list])
    app.action(ui.ACTION_CASE_OPEN)(ack=ack_only, lazy=[open_case])
    app.action(ui.ACTION_CASE_OPEN_DM)(ack=ack_only, lazy=[open_case_from_dm])
    app.action(ui.ACTION_CASE_STATUS_RE)(ack=ack_only, lazy=[change_status])
    app.view(ui.CB_CASE_CLOSE)(ack=submit_close, lazy=[refresh_after_close])
    app.action(ui.ACTION_CASE_WITHDRAW)(ack=ack_only, lazy=[withdraw])
    app.action(ui.ACTION_CASE_DELETE)(ack=ack_only, lazy=[delete_case])
    app.action(ui.ACTION_CASE_CONSENT)(ack=ack_only, lazy=[push_consent])
    app.view(ui.CB_CASE_CONSENT)(ack=submit_consent, lazy=[refresh_after_consent])
    app.action(ui.ACTION_CASE_AGENCIES)(ack=ack_only, lazy=[push_agencies])
    app.view(ui.CB_CASE_AGENCIES)(ack=submit_agencies, lazy=[refresh_after_agencies])
    app.action(ui.ACTION_CASE_SIP)(ack=ack_only, lazy=[push_sip])
    app.view(ui.CB_CASE_SIP)(ack=submit_sip, lazy=[refresh_after_sip])
    app.view(ui.CB_DEVIATION)(ack=submit_deviation, lazy=[deliver])
