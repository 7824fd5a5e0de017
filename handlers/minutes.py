"""Listeners for case slots (the preview's *Time slots*), the minutes (*Protokollför*) and
"Inför mötet" in App Home; the scheduler's morning DMs and minutes prompts.

Module-level listeners; ``deps`` comes from the request context (see handlers/app.py).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from domain import agenda as agenda_service
from domain import forums as forum_service
from domain import meetings as meeting_service
from domain import minutes as minutes_service
from domain import ratings as rating_service
from domain import slots as slot_service
from domain.access import Access
from domain.clock import Clock
from domain.errors import DomainError
from domain.i18n import Translator
from handlers import forms
from handlers.agenda import deliver_now, refresh_agenda
from handlers.blocks import minutes as ui
from handlers.blocks.common import Block
from handlers.deps import Deps
from handlers.errors import database_errors, failure_text, view_errors
from handlers.forum import tell
from handlers.metadata import ViewMeta
from handlers.payload import ack_only, team_of
from storage.db import transaction
from storage.models import Forum, Meeting

log = logging.getLogger(__name__)


# --- used by the scheduler and other listeners ------------------------------------------------


def run_due(sessions: Any, clock: Clock, *, replica: str) -> int:
    """The morning DMs at the agenda time and the minutes prompts at the end time."""
    sent = minutes_service.send_meeting_dms(sessions, clock, ui.morning_dm, replica=replica)
    return sent + minutes_service.send_minutes_prompts(
        sessions, clock, ui.minutes_prompt, replica=replica
    )


def refresh_dms(session: Session, clock: Clock, meeting: Meeting, forum: Forum) -> int:
    """The morning DMs already sent for ``meeting``, updated in place."""
    return minutes_service.refresh_meeting_dms(session, clock, meeting, forum, ui.morning_dm)


def home_blocks(
    session: Session, deps: Deps, t: Translator, *, team_id: str, user_id: str
) -> list[Block]:
    """ "Inför mötet" for App Home (the next meeting of each forum, with cases)."""
    preps = minutes_service.next_preparations(session, deps.clock, team_id=team_id, user_id=user_id)
    return ui.home_blocks(t, preps)


def _meeting_access(
    session: Session, *, team_id: str, user_id: str, meeting_id: int
) -> tuple[Access, Meeting]:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise meeting_service.MeetingNotFound()
    forum = forum_service.get_forum(session, forum_id=meeting.forum_id, team_id=team_id)
    access = forum_service.require_coordinator(session, forum=forum, slack_user_id=user_id)
    return access, meeting


def _button_meeting(body: dict[str, Any]) -> int:
    raw = str(body["actions"][0].get("value") or "0")
    return int(raw) if raw.isdigit() else 0


# --- slots ------------------------------------------------------------------------------------


def _slots_view(
    session: Session, deps: Deps, t: Translator, access: Access, meeting: Meeting
) -> Block:
    agenda = agenda_service.build(
        session, deps.clock, meeting, access.forum, picture=rating_service.picture_for_meeting
    )
    meta = ViewMeta(locale=t.locale, forum_id=access.forum.id, meeting_id=meeting.id)
    return ui.slots_modal(
        t, agenda, default=slot_service.default_minutes(access.forum), private_metadata=meta.dump()
    )


def open_slots(body: dict[str, Any], client: WebClient, deps: Deps) -> None:
    user = body["user"]["id"]
    t = deps.translator(client, team_of(body), user)
    try:
        with database_errors(), transaction(deps.sessions) as session:
            access, meeting = _meeting_access(
                session, team_id=team_of(body), user_id=user, meeting_id=_button_meeting(body)
            )
            view = _slots_view(session, deps, t, access, meeting)
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except Exception as exc:
        tell(client, user, failure_text(t, exc))


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None


def submit_slots(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any, deps: Deps
) -> None:
    meta = ViewMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    values = view["state"]["values"]
    drafts = []
    for block_id in values:
        kind, _, raw = block_id.partition(":")
        if kind == "place" and raw.isdigit():
            item_id = int(raw)
            drafts.append(
                slot_service.SlotDraft(
                    item_id=item_id,
                    place=_int(forms.selected(values, block_id)),
                    minutes=_int(forms.text(values, slot_service.minutes_field(item_id))),
                )
            )
    try:
        with database_errors(), transaction(deps.sessions) as session:
            access, meeting = _meeting_access(
                session,
                team_id=team_of(body),
                user_id=body["user"]["id"],
                meeting_id=meta.meeting_id or 0,
            )
            slot_service.save_slots(
                session,
                deps.clock,
                access=access,
                meeting_id=meeting.id,
                drafts=drafts,
                link=forms.text(values, "meeting_link"),
                default=_int(forms.text(values, "slot_default")),
            )
            # The posted agenda, the previews and the morning DMs, updated in place.
            context["samverkan_changed"] = refresh_agenda(
                session, deps.clock, meeting, access.forum
            )
            context["samverkan_note"] = ui.slots_saved_text(t)
    except DomainError as exc:
        ack(response_action="errors", errors=view_errors(t, exc, forms.block_ids(view)))
        return
    ack()


def after_slots(body: dict[str, Any], client: WebClient, context: Any, deps: Deps) -> None:
    if context.get("samverkan_note"):
        tell(client, body["user"]["id"], context["samverkan_note"])
    if context.get("samverkan_changed"):
        deliver_now(deps, client)


# --- minutes ----------------------------------------------------------------------------------


def open_minutes(body: dict[str, Any], client: WebClient, deps: Deps) -> None:
    user = body["user"]["id"]
    t = deps.translator(client, team_of(body), user)
    try:
        with database_errors(), transaction(deps.sessions) as session:
            access, meeting = _meeting_access(
                session, team_id=team_of(body), user_id=user, meeting_id=_button_meeting(body)
            )
            meeting, cases = minutes_service.minutes_form(
                session, deps.clock, access=access, meeting_id=meeting.id
            )
            meta = ViewMeta(locale=t.locale, forum_id=access.forum.id, meeting_id=meeting.id)
            view = ui.minutes_modal(
                t,
                forum_name=access.forum.name,
                starts_at=meeting.starts_at,
                zone=forum_service.forum_schedule(access.forum).zone,
                cases=cases,
                private_metadata=meta.dump(),
            )
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except Exception as exc:
        tell(client, user, failure_text(t, exc))


def submit_minutes(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any, deps: Deps
) -> None:
    meta = ViewMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    values = view["state"]["values"]
    case_ids = sorted(
        {
            int(raw)
            for block_id in values
            for kind, _, raw in [block_id.partition(":")]
            if kind in ("decision", "follow_up", "action", "owner", "due") and raw.isdigit()
        }
    )
    drafts = [
        minutes_service.MinuteDraft(
            case_id=case_id,
            decision=forms.text(values, minutes_service.decision_field(case_id)),
            follow_up_on=forms.date_value(values, minutes_service.follow_up_field(case_id)),
            action_text=forms.text(values, minutes_service.action_field(case_id)),
            action_owner=forms.selected(values, minutes_service.owner_field(case_id)),
            action_due=forms.date_value(values, minutes_service.due_field(case_id)),
        )
        for case_id in case_ids
    ]
    try:
        with database_errors(), transaction(deps.sessions) as session:
            access, meeting = _meeting_access(
                session,
                team_id=team_of(body),
                user_id=body["user"]["id"],
                meeting_id=meta.meeting_id or 0,
            )
            recorded = minutes_service.record_minutes(
                session, deps.clock, access=access, meeting_id=meeting.id, drafts=drafts
            )
            context["samverkan_note"] = ui.minutes_saved_text(
                t,
                references=recorded.references,
                actions=len(recorded.actions),
                follow_ups=[ref for ref, _m in recorded.follow_ups],
            )
            context["samverkan_changed"] = recorded.notice_queued
    except DomainError as exc:
        ack(response_action="errors", errors=view_errors(t, exc, forms.block_ids(view)))
        return
    ack()


def after_minutes(body: dict[str, Any], client: WebClient, context: Any, deps: Deps) -> None:
    if context.get("samverkan_note"):
        tell(client, body["user"]["id"], context["samverkan_note"])
    if context.get("samverkan_changed"):
        deliver_now(deps, client)


def register(app: App) -> None:
    app.action(ui.ACTION_SLOTS_OPEN)(ack=ack_only, lazy=[open_slots])
    app.view(ui.CB_SLOTS)(ack=submit_slots, lazy=[after_slots])
    app.action(ui.ACTION_MINUTES_OPEN)(ack=ack_only, lazy=[open_minutes])
    app.view(ui.CB_MINUTES)(ack=submit_minutes, lazy=[after_minutes])
