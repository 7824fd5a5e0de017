"""Listeners for meetings and agendas: `/samverkan möten`, `/samverkan punkt`,
`/samverkan dagordning`, the coordinator's preview buttons and the modals behind them.

A change to an agenda that is already posted updates the posted message (chat.update
through the outbox, once per version) instead of posting a second one.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import nullcontext
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from domain import agenda as agenda_service
from domain import corrections, day_words, privacy
from domain import forums as forum_service
from domain import meetings as meeting_service
from domain import ratings as rating_service
from domain.access import Access
from domain.errors import DomainError, InvalidInput, NotCoordinator
from domain.i18n import N_, Translator, normalize_locale
from handlers import forms, outgoing
from handlers.blocks import agenda as ui
from handlers.blocks import ratings as rating_ui
from handlers.blocks.common import Block, actions, button, message, notice_modal, section
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors, error_text
from handlers.listener import listener
from handlers.metadata import ViewMeta
from handlers.outgoing import (
    deliver_now,
    publish_changes,
)
from handlers.payload import ack_only
from handlers.screens import meeting_access, meeting_door, text_door
from storage.db import reading, transaction
from storage.models import Forum, Meeting

log = logging.getLogger(__name__)


# --- entry points used by the command router -------------------------------------------------


def meetings_list(deps: Deps, t: Translator, req: CommandRequest) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        )
        forum = access.forum
        zone = forum_service.forum_schedule(forum).zone
        upcoming = meeting_service.upcoming(
            session, deps.clock, forum, count=8, include_cancelled=True
        )
        recent = meeting_service.recent(session, deps.clock, forum, count=3)
        return ui.meetings_message(
            t,
            forum_name=forum.name,
            upcoming=[
                (
                    m.id,
                    m.starts_at,
                    m.status,
                    meeting_service.holiday_name(m.holiday, t.locale) if m.holiday else None,
                    m.changed_by is not None,
                )
                for m in upcoming
            ],
            recent=[(m.id, m.starts_at, m.status) for m in recent],
            tz=zone,
            is_coordinator=access.is_coordinator,
            forum_id=forum.id,
            extra={m.id for m in upcoming if m.extra},
        )


def add_item(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest, text: str
) -> dict[str, Any] | None:
    """`/samverkan punkt <text>` adds it at once; without text, or when the text cannot be
    used, the modal opens (with what they typed and the reason), so nothing is lost."""
    refused: DomainError | None = None
    changed = False
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        )
        forum = access.forum
        zone = forum_service.forum_schedule(forum).zone
        if text.strip():
            try:
                with session.begin_nested():
                    _item, meeting = agenda_service.add_item(
                        session, deps.clock, access=access, text=text
                    )
                changed = publish_changes(deps, session, meeting, forum)
                reply = ui_text(ui.item_added_text(t, meeting.starts_at, zone))
            except DomainError as exc:
                if exc.field != "text":
                    raise
                refused = exc
        view = (
            None
            if refused is None and text.strip()
            else _add_modal(session, deps, t, access, text=text.strip() or None)
        )
    if view is not None:
        client.views_open(trigger_id=req.trigger_id, view=view)
        if refused is None:
            return None
        return ui_text(":information_source: " + error_text(t, refused, mrkdwn=True))
    if changed:
        deliver_now(deps, client)
    return reply


def ui_text(text: str) -> dict[str, Any]:
    return message(text, [section(text)])


def _add_modal(
    session: Session,
    deps: Deps,
    t: Translator,
    access: Access,
    *,
    text: str | None = None,
    meeting_id: int | None = None,
) -> Block:
    forum = access.forum
    upcoming = meeting_service.upcoming(session, deps.clock, forum, count=8)
    if meeting_id is not None:
        upcoming.sort(key=lambda m: m.id != meeting_id)
    meta = ViewMeta(locale=t.locale, forum_id=forum.id, channel_id=forum.channel_id)
    return ui.add_item_modal(
        t,
        agencies=[(a.id, a.name) for a in forum_service.active_agencies(forum)],
        meetings=[(m.id, m.starts_at) for m in upcoming],
        tz=forum_service.forum_schedule(forum).zone,
        private_metadata=meta.dump(),
        text=text,
    )


def show_agenda(deps: Deps, t: Translator, req: CommandRequest) -> dict[str, Any]:
    """`/samverkan dagordning`: the next meeting's agenda as it stands (ephemeral)."""
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        )
        forum = access.forum
        upcoming = meeting_service.upcoming(session, deps.clock, forum, count=1)
        if not upcoming:
            raise agenda_service.NoUpcomingMeeting()
        agenda = agenda_service.build(
            session, deps.clock, upcoming[0], forum, picture=rating_service.picture_for_meeting
        )
    blocks = ui.agenda_blocks(
        t,
        agenda,
        picture_blocks=rating_ui.picture_blocks,
        show_picture_section=agenda.picture_expected,
    )
    buttons = [button(t("Add an item"), ui.ACTION_ITEM_ADD, value=str(agenda.meeting_id))]
    if access.is_coordinator:
        buttons.insert(
            0, button(t("Edit the agenda"), ui.ACTION_AGENDA_EDIT, value=str(agenda.meeting_id))
        )
        buttons.append(button(t("Time slots"), ui.ACTION_SLOTS_OPEN, value=str(agenda.meeting_id)))
    blocks = [*blocks[:48], actions(*buttons)]
    return {"text": t("Agenda"), "blocks": blocks}


def _edit_view(
    session: Session, deps: Deps, t: Translator, access: Access, meeting: Meeting
) -> Block:
    agenda = agenda_service.build(
        session, deps.clock, meeting, access.forum, picture=rating_service.picture_for_meeting
    )
    meta = ViewMeta(locale=t.locale, forum_id=access.forum.id, meeting_id=meeting.id)
    return ui.edit_modal(t, agenda, private_metadata=meta.dump(), can_reorder=access.is_coordinator)


# --- listeners ----------------------------------------------------------------------------------


def _queue_change(
    session: Session,
    deps: Deps,
    forum: Forum,
    old: dt.datetime,
    new: dt.datetime | None,
    reason: str | None,
) -> None:
    """Queue the channel's notice of a moved or cancelled meeting (the forum's language)."""
    channel_t = Translator(normalize_locale(forum.language, deps.default_locale))
    post = ui.meeting_changed_message(
        channel_t,
        forum_name=forum.name,
        old_start=old,
        new_start=new,
        tz=forum_service.forum_schedule(forum).zone,
        reason=reason,
    )
    outgoing.post(
        session, deps.clock, team_id=forum.team_id, channel=forum.channel_id, message=post
    )


@listener("dm")
def open_edit(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    action = body["actions"][0]
    value = action.get("value") or (action.get("selected_option") or {}).get("value", "")
    meeting_id = forms.id_value(str(value).rsplit(":", 1)[-1]) or 0
    with database_errors(), transaction(deps.sessions) as session:
        access, meeting = meeting_access(
            session,
            deps,
            context,
            meeting_id,
            coordinator=True,
        )
        view = _edit_view(session, deps, t, access, meeting)
    client.views_open(trigger_id=body["trigger_id"], view=view)


@listener("dm")
def open_add(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    meeting_id = forms.id_value(body["actions"][0].get("value")) or 0
    with database_errors(), transaction(deps.sessions) as session:
        access, _meeting = meeting_access(
            session,
            deps,
            context,
            meeting_id,
            coordinator=False,
        )
        view = _add_modal(session, deps, t, access, meeting_id=meeting_id)
    client.views_open(trigger_id=body["trigger_id"], view=view)


@listener("modal")
def submit_add(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    """Add the item; the agenda's update and the author's note (which meeting it goes to)
    are queued in the same transaction."""
    meta = ViewMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    values = view["state"]["values"]
    meeting_raw = forms.selected(values, "meeting")
    team_id, user_id = context.team_id or "", context.user_id or ""
    # None: the modal had no meeting to offer (the next one); a crafted one is none.
    meeting_id = None if meeting_raw is None else (forms.id_value(meeting_raw) or 0)
    with database_errors(), transaction(deps.sessions) as session:
        # The chosen meeting by its id: a refusal at the door is audited (none chosen, no
        # meeting named: nothing to audit).
        with (
            meeting_door(session, deps, context, meeting_id)
            if meeting_id is not None
            else nullcontext()
        ):
            forum = forum_service.get_forum(session, forum_id=meta.forum_id or 0, team_id=team_id)
            access = forum_service.require_member(session, forum=forum, slack_user_id=user_id)
            _item, meeting = agenda_service.add_item(
                session,
                deps.clock,
                access=access,
                text=forms.text(values, "text"),
                agency_ids=forms.id_values(forms.selected_many(values, "agencies")),
                meeting_id=meeting_id,
            )
        publish_changes(deps, session, meeting, forum)
        note = ui.item_added_text(t, meeting.starts_at, forum_service.forum_schedule(forum).zone)
        outgoing.tell(session, deps.clock, team_id=team_id, user_id=user_id, text=note)
    ack()


@listener("log")
def deliver(client: WebClient, deps: Deps) -> None:
    deliver_now(deps, client)  # what the ack queued: the agenda's update, notices, notes


@listener("dm", needs=("modal", "option"))
def item_menu(body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps) -> None:
    view = body["view"]
    meta = ViewMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    choice = body["actions"][0]["selected_option"]["value"]
    verb, _, raw_id = choice.partition(":")
    item_id = forms.id_value(raw_id) or 0
    with database_errors(), transaction(deps.sessions) as session:
        # Every choice names the item by its id (masking it is also a look at its text): a
        # refusal at the door is audited as an attempt at the item, whichever was chosen.
        with text_door(
            session,
            deps,
            context,
            corrections.Field.AGENDA_TEXT,
            item_id,
            not_found=(agenda_service.ItemNotFound,),
        ):
            forum = forum_service.get_forum(
                session, forum_id=meta.forum_id or 0, team_id=context.team_id or ""
            )
            access = forum_service.require_member(
                session, forum=forum, slack_user_id=context.user_id or ""
            )
            if verb == "redact":
                masked = corrections.redact(
                    session,
                    deps.clock,
                    access=access,
                    field=corrections.Field.AGENDA_TEXT,
                    object_id=item_id,
                )
                assert masked is not None  # a masked agenda item's meeting
                meeting = masked
            elif verb == "remove":
                meeting = agenda_service.remove_item(
                    session, deps.clock, access=access, item_id=item_id
                )
            else:
                meeting = agenda_service.move_item(
                    session,
                    deps.clock,
                    access=access,
                    item_id=item_id,
                    step=-1 if verb == "up" else 1,
                )
        changed = publish_changes(deps, session, meeting, forum)
        new_view = _edit_view(session, deps, t, access, meeting)
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=new_view)
    if changed:
        deliver_now(deps, client)


@listener("modal")
def submit_edit(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = ViewMeta.load(view.get("private_metadata"))
    if meta.forum_id is None or meta.meeting_id is None:
        # The modal always names both (_edit_view); without them (no metadata, or damaged)
        # it cannot say which agenda it edits. Told on the field, the modal kept open with
        # what was typed: not closed without a word, not the item put on the next meeting
        # (maybe not the agenda the modal showed), not "no forum in this channel".
        raise agenda_service.AgendaFormBroken()
    text = forms.text(view["state"]["values"], "text")
    if not text.strip():
        ack()
        return
    with database_errors(), transaction(deps.sessions) as session:
        # The edited meeting by its id: a refusal at the door is audited.
        with meeting_door(session, deps, context, meta.meeting_id):
            forum = forum_service.get_forum(
                session, forum_id=meta.forum_id, team_id=context.team_id or ""
            )
            access = forum_service.require_member(
                session, forum=forum, slack_user_id=context.user_id or ""
            )
            _item, meeting = agenda_service.add_item(
                session, deps.clock, access=access, text=text, meeting_id=meta.meeting_id
            )
        publish_changes(deps, session, meeting, forum)
    ack()


@listener("dm", needs=("option",))
def meeting_menu(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    user = context.user_id or ""
    verb, _, raw_id = body["actions"][0]["selected_option"]["value"].partition(":")
    meeting_id = forms.id_value(raw_id) or 0
    with database_errors(), transaction(deps.sessions) as session:
        # A refusal at the door is audited: masking the note is a look at it, the rest are
        # the meeting's agenda and time.
        with (
            text_door(
                session,
                deps,
                context,
                corrections.Field.MEETING_NOTE,
                meeting_id,
                not_found=(meeting_service.MeetingNotFound,),
            )
            if verb == "redact_note"
            else meeting_door(session, deps, context, meeting_id)
        ):
            access, meeting = meeting_service.meeting_access(
                session,
                team_id=context.team_id or "",
                user_id=user,
                meeting_id=meeting_id,
                coordinator=True,
            )
            if verb == "redact_note":
                corrections.redact(
                    session,
                    deps.clock,
                    access=access,
                    field=corrections.Field.MEETING_NOTE,
                    object_id=meeting.id,
                )
        zone = forum_service.forum_schedule(access.forum).zone
        meta = ViewMeta(locale=t.locale, forum_id=access.forum.id, meeting_id=meeting.id).dump()
        if verb == "redact_note":
            outgoing.tell(
                session,
                deps.clock,
                team_id=context.team_id,
                user_id=user,
                text=t("Masked. The old text is not kept anywhere."),
            )
            view: Block | None = None
        elif verb == "agenda":
            view = _edit_view(session, deps, t, access, meeting)
        elif verb == "move":
            view = ui.move_modal(t, start=meeting.starts_at, tz=zone, private_metadata=meta)
        else:
            view = ui.cancel_modal(t, start=meeting.starts_at, tz=zone, private_metadata=meta)
    if view is None:
        deliver_now(deps, client)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)


@listener("modal")
def submit_move(
    ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps, t: Translator
) -> None:
    """Move the meeting; the channel's notice and the agenda's update are queued with it.
    A move onto a public holiday, a day off or a weekend is done (the forum may mean it),
    and the modal then says what that day is, to check that the members can come."""
    meta = ViewMeta.load(view.get("private_metadata"))
    values = view["state"]["values"]
    with database_errors(), transaction(deps.sessions) as session:
        access, meeting = meeting_access(
            session,
            deps,
            context,
            meta.meeting_id or 0,
            coordinator=True,
        )
        old = meeting.starts_at
        meeting_service.move_meeting(
            session,
            deps.clock,
            access=access,
            meeting_id=meeting.id,
            day=forms.date_value(values, "day"),
            start=forms.time_value(values, "start"),
        )
        _queue_change(session, deps, access.forum, old, meeting.starts_at, None)
        publish_changes(deps, session, meeting, access.forum)
        zone = forum_service.forum_schedule(access.forum).zone
        new_day = meeting.starts_at.astimezone(zone).date()
        off = meeting_service.off_day(access.forum, new_day, t.locale)
        when = t.day_time(meeting.starts_at, zone)
    if off is None:
        ack()
        return
    if off:
        text = t(
            "The meeting is moved to {when}. That day is {name}, a day off: check that the "
            "members can come.",
            when=when,
            name=off,
        )
    else:
        text = t(
            "The meeting is moved to {when}, a weekend day: check that the members can come.",
            when=when,
        )
    ack(response_action="update", view=notice_modal(t, text))


@listener("modal")
def submit_cancel(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    """Cancel the meeting; the channel's notice and the agenda's update are queued with it."""
    meta = ViewMeta.load(view.get("private_metadata"))
    reason = " ".join(forms.text(view["state"]["values"], "reason").split())
    with database_errors(), transaction(deps.sessions) as session:
        access, meeting = meeting_access(
            session,
            deps,
            context,
            meta.meeting_id or 0,
            coordinator=True,
        )
        privacy.check_text(reason, field="reason", today=deps.clock.now().date())
        meeting_service.cancel_meeting(
            session, deps.clock, access=access, meeting_id=meeting.id, reason=reason
        )
        _queue_change(session, deps, access.forum, meeting.starts_at, None, reason)
        publish_changes(deps, session, meeting, access.forum)
    ack()


@listener("dm")
def open_record(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    # A transaction, not a read: a refusal at the door is written to the audit log.
    with database_errors(), transaction(deps.sessions) as session:
        access, meeting = meeting_access(
            session,
            deps,
            context,
            (forms.id_value(body["actions"][0].get("value")) or 0),
            coordinator=True,
        )
        forum = access.forum
        meta = ViewMeta(locale=t.locale, forum_id=forum.id, meeting_id=meeting.id)
        view = ui.record_modal(
            t,
            start=meeting.starts_at,
            tz=forum_service.forum_schedule(forum).zone,
            agencies=[(a.id, a.name) for a in forum_service.active_agencies(forum)],
            attended=[int(a) for a in meeting.attendance or []],
            items=agenda_service.items_for_record(session, meeting),
            ticked=agenda_service.discussed_for_record(session, meeting),
            private_metadata=meta.dump(),
        )
    client.views_open(trigger_id=body["trigger_id"], view=view)


@listener("modal")
def submit_record(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    """Record the meeting; the coordinator's note (the next meeting) is queued with it."""
    meta = ViewMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    values = view["state"]["values"]
    discussed: list[int] = []
    for block_id, elements in values.items():
        if block_id.startswith("discussed:"):
            for element in elements.values():
                chosen = element.get("selected_options") or []
                discussed += forms.id_values(o["value"] for o in chosen)
    team_id, user_id = context.team_id or "", context.user_id or ""
    with database_errors(), transaction(deps.sessions) as session:
        access, meeting = meeting_access(
            session,
            deps,
            context,
            meta.meeting_id or 0,
            coordinator=True,
        )
        record = agenda_service.record_meeting(
            session,
            deps.clock,
            access=access,
            meeting_id=meeting.id,
            attended_agency_ids=forms.id_values(forms.selected_many(values, "attended")),
            discussed_item_ids=discussed,
        )
        following = record.following
        if following is not None and record.next_agenda_changed:
            # Items rolled onto the next agenda, or taken off it by a correction: its
            # posted agenda, previews and morning DMs follow (each only once there is one).
            publish_changes(deps, session, following, access.forum)
        note = ui.recorded_text(
            t,
            following.starts_at if following else None,
            forum_service.forum_schedule(access.forum).zone,
            not_discussed=record.not_discussed,
        )
        outgoing.tell(session, deps.clock, team_id=team_id, user_id=user_id, text=note)
    ack()


@listener("dm")
def open_extra(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    """The coordinator's form for an extra meeting (from the meetings list)."""
    forum_id = forms.id_value(body["actions"][0].get("value")) or 0
    with database_errors(), reading(deps.sessions) as session:
        forum = forum_service.get_forum(session, forum_id=forum_id, team_id=context.team_id or "")
        forum_service.require_coordinator(session, forum=forum, slack_user_id=context.user_id or "")
        schedule = forum_service.forum_schedule(forum)
        tomorrow = deps.clock.now().astimezone(schedule.zone).date() + dt.timedelta(days=1)
        meta = ViewMeta(locale=t.locale, forum_id=forum.id).dump()
        view = ui.extra_modal(t, day=tomorrow, start=schedule.start, private_metadata=meta)
    client.views_open(trigger_id=body["trigger_id"], view=view)


@listener("modal")
def submit_extra(
    ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps, t: Translator
) -> None:
    """Add the extra meeting; the channel's notice is queued with it. The modal then says
    when its agenda goes out (and what the day is, when it is not a working day)."""
    meta = ViewMeta.load(view.get("private_metadata"))
    values = view["state"]["values"]
    with database_errors(), transaction(deps.sessions) as session:
        forum = forum_service.get_forum(
            session, forum_id=meta.forum_id or 0, team_id=context.team_id or ""
        )
        access = forum_service.require_coordinator(
            session, forum=forum, slack_user_id=context.user_id or ""
        )
        meeting = meeting_service.add_extra_meeting(
            session,
            deps.clock,
            access=access,
            day=forms.date_value(values, "day"),
            start=forms.time_value(values, "start"),
        )
        text = _extra_added(session, deps, t, forum, meeting)
    ack(response_action="update", view=notice_modal(t, text))


def _extra_added(
    session: Session, deps: Deps, t: Translator, forum: Forum, meeting: Meeting
) -> str:
    """Queue the channel's notice of the extra meeting just added; what its coordinator is
    told (when its agenda goes out, and what the day is when it is not a working day)."""
    zone = forum_service.forum_schedule(forum).zone
    channel_t = Translator(normalize_locale(forum.language, deps.default_locale))
    post = ui.extra_meeting_message(
        channel_t, forum_name=forum.name, start=meeting.starts_at, tz=zone
    )
    outgoing.post(
        session, deps.clock, team_id=forum.team_id, channel=forum.channel_id, message=post
    )
    when = t.day_time(meeting.starts_at, zone)
    assert meeting.agenda_due_at is not None  # an extra meeting's is set
    if meeting.agenda_due_at <= deps.clock.now():
        text = t(
            "Added: an extra meeting {when}. The channel is told, and its agenda is posted now.",
            when=when,
        )
    else:
        text = t(
            "Added: an extra meeting {when}. The channel is told, and its agenda is "
            "posted {agenda}.",
            when=when,
            agenda=t.day_time(meeting.agenda_due_at, zone),
        )
    off = meeting_service.off_day(forum, meeting.starts_at.astimezone(zone).date(), t.locale)
    if off:
        text += " " + t("That day is {name}, a day off: check that the members can come.", name=off)
    elif off is not None:
        text += " " + t("That day is a weekend day: check that the members can come.")
    return text


EXTRA_FORMAT = N_(
    "Write the day and the start time of the extra meeting: /samverkan meetings extra "
    "2026-12-10 13:00 (the day also as 10/12, 10 December, Thursday or tomorrow). Without "
    "them, a form opens."
)


def _extra_day_and_time(words: list[str], today: dt.date) -> tuple[dt.date | None, dt.time | None]:
    """The day (as many words as name one: "nästa torsdag", "den 10 december") and the
    start time after it, as typed; what is not understood is refused with what was typed."""
    if not words:
        return None, None
    day, used = day_words.take_day(words, today)
    rest = words[used:]
    if day is None:
        # What was typed for the day: all of it but a last word that is a time.
        typed = words[:-1] if len(words) > 1 and forms.parse_time(words[-1]) else words
        raise InvalidInput(day_words.MSG_NOT_A_DAY, text=" ".join(typed)[:40])
    if len(rest) > 1:
        raise InvalidInput(EXTRA_FORMAT)
    start = forms.parse_time(rest[0]) if rest else None
    if rest and start is None:
        raise InvalidInput(
            N_("I could not read “{text}” as a time. Write it like 13:00."), text=rest[0][:20]
        )
    return day, start


def extra_command(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest, words: list[str]
) -> dict[str, Any] | None:
    """``/samverkan möten extra <day> <time>``: the modal's extra meeting, typed (the same
    domain function and checks). Without a time (or without anything) the modal opens,
    with the day typed; what cannot be read, or cannot be added, is told with what was
    typed."""
    typed = " ".join(words)
    try:
        with database_errors(), transaction(deps.sessions) as session:
            access = forum_service.require_member_in_channel(
                session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
            )
            if not access.is_coordinator:
                raise NotCoordinator()
            forum = access.forum
            schedule = forum_service.forum_schedule(forum)
            today = deps.clock.now().astimezone(schedule.zone).date()
            day, start = _extra_day_and_time(words, today)
            if day is None or start is None:
                meta = ViewMeta(locale=t.locale, forum_id=forum.id).dump()
                view = ui.extra_modal(
                    t,
                    day=day or today + dt.timedelta(days=1),
                    start=schedule.start,
                    private_metadata=meta,
                )
                text = None
            else:
                meeting = meeting_service.add_extra_meeting(
                    session, deps.clock, access=access, day=day, start=start
                )
                text = _extra_added(session, deps, t, forum, meeting)
    except (InvalidInput, NotCoordinator) as exc:
        if not typed:
            raise
        raise InvalidInput(
            N_("Extra meeting {typed}: {reason}"),
            typed=typed[:40],
            reason=error_text(t, exc),
        ) from None
    if text is None:
        client.views_open(trigger_id=req.trigger_id, view=view)
        return None
    deliver_now(deps, client)  # the channel's notice
    return message(text, [section(text)])


def register(app: App) -> None:
    app.action(ui.ACTION_AGENDA_EDIT)(ack=ack_only, lazy=[open_edit])
    app.action(ui.ACTION_ITEM_ADD)(ack=ack_only, lazy=[open_add])
    app.view(ui.CB_ITEM_ADD)(ack=submit_add, lazy=[deliver])
    app.action(ui.ACTION_ITEM_MENU)(ack=ack_only, lazy=[item_menu])
    app.view(ui.CB_AGENDA_EDIT)(ack=submit_edit, lazy=[deliver])
    app.action(ui.ACTION_MEETING_MENU)(ack=ack_only, lazy=[meeting_menu])
    app.view(ui.CB_MEETING_MOVE)(ack=submit_move, lazy=[deliver])
    app.view(ui.CB_MEETING_CANCEL)(ack=submit_cancel, lazy=[deliver])
    app.action(ui.ACTION_MEETING_RECORD)(ack=ack_only, lazy=[open_record])
    app.view(ui.CB_MEETING_RECORD)(ack=submit_record, lazy=[deliver])
    app.action(ui.ACTION_MEETING_EXTRA)(ack=ack_only, lazy=[open_extra])
    app.view(ui.CB_MEETING_EXTRA)(ack=submit_extra, lazy=[deliver])
