"""A cancelled meeting's note and an agenda item's text, asked for from outside their forum
with crafted, correctly signed requests (the corrections' buttons and modals, naming the
meeting or the item by id): refused as before, nothing shown or changed, each attempt audited
once in the forum's log (as the rule audits every look at them), and the answer the same,
byte for byte, as for an id of nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from domain.meetings import sync_meetings
from storage.db import transaction
from storage.models import AgendaItem, Forum, Meeting, MeetingStatus
from tests.conftest import Bot
from tests.integration.test_disclosure_table import (
    CANCEL,
    COORD,
    COVERED,
    ITEM,
    NON_MEMBER,
    OTHER_FORUM,
    OTHER_WS,
    OUTSIDERS_REFUSED,
    Reader,
    World,
    build_world,
    reader_for,
)
from tests.integration.test_refused_rating_doors import (
    _answer,
    _modal,
    _shown,
    correction_submitted,
)
from tests.support.audit_log import last_id, refusals_in, refusals_since, refused_once_each
from tests.support.slack_driver import (
    date_value,
    multi_select_values,
    plain_value,
    select_value,
    time_value,
)

NO_TEXT_SV = "Den texten finns inte längre i det här forumet."
NOT_A_MEMBER_SV = "Det kan bara forumets medlemmar göra."
NOTHING = 987_654

Door = Callable[[Bot, Reader, int], str]


def _button(action_id: str, field: str) -> Door:
    """A correction button (its value: ``<field>:<id>``) on a modal of the reader's forum."""

    def send(bot: Bot, r: Reader, object_id: int) -> str:
        since = len(bot.slack.calls)
        r.driver.block_action(action_id, user=r.user, value=f"{field}:{object_id}", view=_modal(r))
        bot.wait_idle()
        return _shown(bot, since)

    return send


def _submitted(callback: str, field: str) -> Door:
    """The correction modal's submission, its metadata naming the text by id."""

    def send(bot: Bot, r: Reader, object_id: int) -> str:
        return correction_submitted(bot, r, callback, field, object_id)

    return send


def _item_menu(verb: str) -> Door:
    """The agenda editor's item menu (its option: ``<verb>:<item id>``: mask, remove, move
    down), on a modal of the reader's forum."""

    def send(bot: Bot, r: Reader, item_id: int) -> str:
        since = len(bot.slack.calls)
        r.driver.block_action(
            "agenda_item_menu",
            user=r.user,
            view=_modal(r),
            selected_option={
                "text": {"type": "plain_text", "text": verb},
                "value": f"{verb}:{item_id}",
            },
        )
        bot.wait_idle()
        return _shown(bot, since)

    return send


# door → (send, the text's field, who may open it inside the forum)
TEXT_DOORS: dict[str, tuple[Door, str, str]] = {
    "meeting note: mask button": (_button("text_redact", "meeting.note"), "meeting.note", COORD),
    "meeting note: mask submission": (
        _submitted("text_redact_submit", "meeting.note"),
        "meeting.note",
        COORD,
    ),
    "agenda item: edit button": (
        _button("text_edit", "agenda_item.text"),
        "agenda_item.text",
        COVERED,
    ),
    "agenda item: mask button": (
        _button("text_redact", "agenda_item.text"),
        "agenda_item.text",
        COORD,
    ),
    "agenda item: edit submission": (
        _submitted("text_edit_submit", "agenda_item.text"),
        "agenda_item.text",
        COVERED,
    ),
    "agenda item: mask submission": (
        _submitted("text_redact_submit", "agenda_item.text"),
        "agenda_item.text",
        COORD,
    ),
    "agenda item: item menu mask": (_item_menu("redact"), "agenda_item.text", COORD),
    "agenda item: item menu remove": (_item_menu("remove"), "agenda_item.text", COORD),
    "agenda item: item menu move": (_item_menu("down"), "agenda_item.text", COORD),
}
# What an outsider of another forum or workspace is told at a door (the text is gone).
NO_ITEM_SV = "Punkten finns inte längre."
GONE = {
    "agenda item: item menu remove": NO_ITEM_SV,
    "agenda item: item menu move": NO_ITEM_SV,
}


def _texts(bot: Bot, world: World) -> tuple[str | None, str | None, bool, int]:
    """The cancelled meeting's note; the agenda item's text, whether it is removed, and
    its place."""
    with bot.sessions() as s:
        note = s.scalar(select(Meeting.note).where(Meeting.id == world.meeting))
        item = s.get(AgendaItem, world.item)
        assert item is not None
        return note, item.text, item.removed, item.position


@pytest.mark.parametrize("door", list(TEXT_DOORS))
def test_a_meetings_note_and_an_agenda_items_text_from_outside_are_refused_and_audited(
    bot: Bot, door: str
) -> None:
    """Masking this forum's cancelled meeting's note, and correcting or masking its agenda
    item (the button and the modal's submission): sent by another forum's admin and by
    another workspace's user (from their own forum's modal), and by a non-member (naming
    this forum), and masking, removing or moving the item from the agenda editor's item
    menu. Refused with the answer as before, the same as for an id of nothing, the text
    neither shown nor changed (nor the item removed or moved), and each attempt audited
    once in this forum's log (they were refused unlogged)."""
    world = build_world(bot)
    send, field, insider = TEXT_DOORS[door]
    meeting_note = field == "meeting.note"
    target = world.meeting if meeting_note else world.item
    before = _texts(bot, world)
    mark = last_id(bot)
    gone = GONE.get(door, NO_TEXT_SV)
    expected = {OTHER_FORUM: gone, OTHER_WS: gone, NON_MEMBER: NOT_A_MEMBER_SV}
    for who, answer in expected.items():
        r = reader_for(bot, world, who)
        shown = send(bot, r, target)
        assert answer in shown and CANCEL not in shown and ITEM not in shown, shown
        assert shown == send(bot, r, NOTHING), "the answer tells that the text exists"
    assert _texts(bot, world) == before
    surface, kind = (
        ("meeting_note_edit", "meeting_note")
        if meeting_note
        else ("agenda_item_edit", "agenda_item")
    )
    assert refusals_in(bot, mark, world.forum) == refused_once_each(
        OUTSIDERS_REFUSED, object_type=kind, object_ref=str(target), surface=surface
    )
    # The ids of nothing: recorded where the requests came from, by the id, with no forum.
    assert {
        (e.actor, e.team_id, e.object_ref) for e in refusals_since(bot, mark) if e.forum_id is None
    } == {
        (OTHER_FORUM, "T0001", str(NOTHING)),
        (OTHER_WS, "T0002", str(NOTHING)),
        (NON_MEMBER, "T0001", str(NOTHING)),
    }
    # The forum's own go through the same door as before, and nothing is refused.
    mark = last_id(bot)
    shown = send(bot, reader_for(bot, world, insider), target)
    note, item, removed, _place = _texts(bot, world)
    assert {
        "meeting note: mask button": CANCEL in shown and "text_redact_submit" in shown,
        "meeting note: mask submission": note == "[maskerad]",
        "agenda item: edit button": ITEM in shown and "text_edit_submit" in shown,
        "agenda item: mask button": ITEM in shown and "text_redact_submit" in shown,
        "agenda item: edit submission": item == "Skrivet över",
        "agenda item: mask submission": item == "[maskerad]",
        "agenda item: item menu mask": item == "[maskerad]",
        "agenda item: item menu remove": removed,
        "agenda item: item menu move": '"callback_id": "agenda_edit"' in shown,
    }[door], shown
    assert not refusals_since(bot, mark)


# --- a meeting named by its id: the agenda's, the meeting menu's and the minutes' doors ----------

NO_MEETING_SV = "Mötet finns inte längre"


def _planned(bot: Bot, world: World) -> int:
    """The forum's next planned meeting (the one its agenda item is on)."""
    with bot.sessions() as s:
        meeting = s.scalar(select(AgendaItem.meeting_id).where(AgendaItem.id == world.item))
        assert meeting is not None
        return meeting


def _meeting_button(action_id: str) -> Door:
    """A button whose value is the meeting's id (from the agenda, its DM, the App Home)."""

    def send(bot: Bot, r: Reader, meeting_id: int) -> str:
        since = len(bot.slack.calls)
        r.driver.block_action(action_id, user=r.user, value=str(meeting_id), channel=r.channel)
        bot.wait_idle()
        return _shown(bot, since)

    return send


def _meeting_menu(verb: str = "move") -> Door:
    """The meeting's menu (its option: ``<verb>:<meeting id>``: move, cancel, the agenda)."""

    def send(bot: Bot, r: Reader, meeting_id: int) -> str:
        since = len(bot.slack.calls)
        r.driver.block_action(
            "meeting_menu",
            user=r.user,
            channel=r.channel,
            selected_option={
                "text": {"type": "plain_text", "text": verb},
                "value": f"{verb}:{meeting_id}",
            },
        )
        bot.wait_idle()
        return _shown(bot, since)

    return send


def _meeting_submitted(callback: str, values: dict[str, Any], page: int | None = None) -> Door:
    """A modal's submission (``callback``), its metadata naming the meeting by its id (and
    the page, for the time slots)."""

    def send(bot: Bot, r: Reader, meeting_id: int) -> str:
        meta: dict[str, Any] = {"locale": "sv", "forum_id": r.forum_id, "meeting_id": meeting_id}
        if page is not None:
            meta["page"] = page
        response = r.driver.view_submission(
            callback, values, user=r.user, private_metadata=json.dumps(meta)
        )
        bot.wait_idle()
        return _answer(response)

    return send


_cancel_submitted = _meeting_submitted(
    "meeting_cancel", {"reason": {"reason": plain_value("Lokalen är upptagen")}}
)
MOVED_TO = "2026-12-30"
_move_submitted = _meeting_submitted(
    "meeting_move",
    {
        "day": {"day": date_value(MOVED_TO)},
        "start": {"start": time_value("10:00")},
    },
)
_slots_submitted = _meeting_submitted("slots_save", {}, page=1)
_record_submitted = _meeting_submitted(
    "meeting_record", {"attended": {"attended": multi_select_values([])}}
)


# door → (send, the held meeting rather than the next planned one, who opens it inside)
MEETING_DOORS: dict[str, tuple[Door, bool, str]] = {
    "add an item": (_meeting_button("agenda_item_add_open"), False, COVERED),
    "edit the agenda": (_meeting_button("agenda_edit_open"), False, COORD),
    "time slots": (_meeting_button("slots_open"), False, COORD),
    "time slots submission": (_slots_submitted, False, COORD),
    "minutes": (_meeting_button("minutes_open"), True, COORD),
    "meeting menu": (_meeting_menu(), False, COORD),
    "meeting menu: cancel": (_meeting_menu("cancel"), False, COORD),
    "meeting menu: agenda": (_meeting_menu("agenda"), False, COORD),
    "move submission": (_move_submitted, False, COORD),
    "cancel submission": (_cancel_submitted, False, COORD),
    "attendance button": (_meeting_button("meeting_record_open"), True, COORD),
    "attendance submission": (_record_submitted, True, COORD),
}


def _meetings(bot: Bot, world: World) -> list[tuple[object, ...]]:
    with bot.sessions() as s:
        return [
            (m.id, m.status, m.starts_at, m.note)
            for m in s.scalars(
                select(Meeting).where(Meeting.forum_id == world.forum).order_by(Meeting.id)
            )
        ]


@pytest.mark.parametrize("door", list(MEETING_DOORS))
def test_another_forums_meeting_is_told_as_no_meeting_and_audited(bot: Bot, door: str) -> None:
    """The agenda's buttons (add an item, edit, time slots) and the time slots' submission,
    the minutes' button, the meeting menu (move, cancel, the agenda), the move and cancel
    modals' submissions and the attendance (its button, its submission) name a meeting by
    its id alone: sent with this forum's meeting by another forum's admin (same workspace),
    by a non-member (same workspace) and by another workspace's user, each gets the same
    answer, byte for byte, as for an id of no meeting ("the meeting no longer exists"); the
    first two were told "only members of this forum", which told them that a meeting of
    that id exists. Nothing is changed; each attempt is audited once in the meeting's forum
    as an attempt at its agenda (the minutes' at the minutes), naming the meeting, and the
    ids of nothing where the requests came from (only the minutes' were audited). The
    forum's own still get the real thing, with nothing refused."""
    world = build_world(bot)
    send, held, insider = MEETING_DOORS[door]
    meeting = world.held if held else _planned(bot, world)
    before = _meetings(bot, world)
    mark = last_id(bot)
    for who in (OTHER_FORUM, NON_MEMBER, OTHER_WS):
        r = reader_for(bot, world, who)
        shown = send(bot, r, meeting)
        assert NO_MEETING_SV in shown and NOT_A_MEMBER_SV not in shown, (who, shown)
        assert shown == send(bot, r, NOTHING), f"{who}: the answer tells that the meeting exists"
    assert _meetings(bot, world) == before
    assert _by_meeting_id(bot, mark) == _refused_by_meeting_id(
        world,
        meeting,
        object_type="meeting",
        surface="minutes" if door == "minutes" else "agenda",
    )
    mark = last_id(bot)
    shown = send(bot, reader_for(bot, world, insider), meeting)
    assert NO_MEETING_SV not in shown and NOT_A_MEMBER_SV not in shown, shown
    after = {m[0]: m for m in _meetings(bot, world)}[meeting]
    assert {
        "add an item": '"callback_id": "agenda_item_add"' in shown,
        "edit the agenda": '"callback_id": "agenda_edit"' in shown,
        "time slots": '"callback_id": "slots_save"' in shown,
        "time slots submission": '"errors"' not in shown,
        "minutes": '"callback_id": "minutes_save"' in shown,
        "meeting menu": '"callback_id": "meeting_move"' in shown,
        "meeting menu: cancel": '"callback_id": "meeting_cancel"' in shown,
        "meeting menu: agenda": '"callback_id": "agenda_edit"' in shown,
        "move submission": str(after[2]).startswith(MOVED_TO),
        "cancel submission": after[1] == MeetingStatus.CANCELLED,
        "attendance button": '"callback_id": "meeting_record"' in shown,
        "attendance submission": '"errors"' not in shown and after[1] == MeetingStatus.HELD,
    }[door], shown
    assert not refusals_since(bot, mark)


# --- a meeting named in a modal of the reader's own forum: adding an item to it ----------------

ADDED = "Ny övrig fråga om lokalen"


def _item_added(bot: Bot, r: Reader, meeting_id: int) -> str:
    """The add-an-item modal's submission, the meeting chosen by its id (its option)."""
    meta = {"locale": "sv", "forum_id": r.forum_id}
    response = r.driver.view_submission(
        "agenda_item_add",
        {
            "text": {"text": plain_value(ADDED)},
            "meeting": {"meeting": select_value(str(meeting_id))},
        },
        user=r.user,
        private_metadata=json.dumps(meta),
    )
    bot.wait_idle()
    return _answer(response)


# door → who adds an item inside the forum
ITEM_ADD_DOORS: dict[str, tuple[Door, str]] = {
    "add an item submission": (_item_added, COVERED),
    "edit the agenda submission": (
        _meeting_submitted("agenda_edit", {"text": {"text": plain_value(ADDED)}}),
        COORD,
    ),
}


def _added(bot: Bot) -> list[int]:
    with bot.sessions() as s:
        return list(s.scalars(select(AgendaItem.meeting_id).where(AgendaItem.text == ADDED)))


@pytest.mark.parametrize("door", list(ITEM_ADD_DOORS))
def test_adding_an_item_to_another_forums_meeting_is_refused_and_audited(
    bot: Bot, door: str
) -> None:
    """The add-an-item modal (the meeting chosen by its id) and the agenda editor's modal
    (its metadata naming the meeting) add an item to a meeting: sent with this forum's
    meeting by another forum's admin and another workspace's user (from their own forum's
    modal) and by a non-member (naming this forum). Refused with the answer as before (no
    such meeting; a non-member: not a member), the same as for an id of nothing, nothing
    added, and each attempt audited once in this forum's log as an attempt at the
    meeting's agenda (they were refused unlogged). The forum's own add it, nothing
    refused."""
    world = build_world(bot)
    send, insider = ITEM_ADD_DOORS[door]
    meeting = _planned(bot, world)
    mark = last_id(bot)
    expected = {OTHER_FORUM: NO_MEETING_SV, OTHER_WS: NO_MEETING_SV, NON_MEMBER: NOT_A_MEMBER_SV}
    for who, answer in expected.items():
        r = reader_for(bot, world, who)
        shown = send(bot, r, meeting)
        assert answer in shown, (who, shown)
        assert shown == send(bot, r, NOTHING), f"{who}: the answer tells that the meeting exists"
    assert _added(bot) == []
    assert refusals_in(bot, mark, world.forum) == refused_once_each(
        OUTSIDERS_REFUSED, object_type="meeting", object_ref=str(meeting), surface="agenda"
    )
    mark = last_id(bot)
    send(bot, reader_for(bot, world, insider), meeting)
    assert _added(bot) == [meeting]
    assert not refusals_since(bot, mark)


def _meeting_menu_mask(bot: Bot, r: Reader, meeting_id: int) -> str:
    """The meeting menu, "Mask the reason" chosen (its option: ``redact_note:<id>``)."""
    since = len(bot.slack.calls)
    r.driver.block_action(
        "meeting_menu",
        user=r.user,
        channel=r.channel,
        selected_option={
            "text": {"type": "plain_text", "text": "Maskera"},
            "value": f"redact_note:{meeting_id}",
        },
    )
    bot.wait_idle()
    return _shown(bot, since)


def _by_meeting_id(bot: Bot, mark: int) -> list[tuple[object, ...]]:
    """Every refusal since ``mark``, in any log, as the meeting doors' tests compare them."""
    return [
        (e.actor, e.object_type, e.object_ref, e.team_id, e.forum_id, e.detail)
        for e in refusals_since(bot, mark)
    ]


def _refused_by_meeting_id(
    world: World, meeting: int, *, object_type: str, surface: str
) -> list[tuple[object, ...]]:
    """What :func:`_by_meeting_id` shows after another forum's admin, a non-member and
    another workspace's user each named ``meeting`` and then an id of nothing at one door:
    the attempts at the meeting are in its forum's log, those at nothing where each request
    came from, with no forum."""
    return [
        (
            who,
            object_type,
            ref,
            "T0001" if ref == str(meeting) else team,
            world.forum if ref == str(meeting) else None,
            {
                "surface": surface,
                "details": False,
                "refused": why if ref == str(meeting) else "other_forum",
            },
        )
        for who, team, why in (
            (OTHER_FORUM, "T0001", "not_a_member"),
            (NON_MEMBER, "T0001", "not_a_member"),
            (OTHER_WS, "T0002", "no_forum_here"),
        )
        for ref in (str(meeting), str(NOTHING))
    ]


def test_masking_another_forums_meeting_note_from_the_meeting_menu_is_audited(bot: Bot) -> None:
    """The meeting menu's "mask the reason" names the cancelled meeting by its id alone: sent
    by another forum's admin, a non-member and another workspace's user, each is told what
    an id of no meeting tells them, the note is neither shown nor changed, and each attempt
    is audited once in the meeting's forum as an attempt at its note (it was refused
    unlogged); the ids of nothing where the requests came from. The forum's coordinator
    still masks it."""
    world = build_world(bot)
    before = _texts(bot, world)
    mark = last_id(bot)
    for who in (OTHER_FORUM, NON_MEMBER, OTHER_WS):
        r = reader_for(bot, world, who)
        shown = _meeting_menu_mask(bot, r, world.meeting)
        assert NO_MEETING_SV in shown and CANCEL not in shown, (who, shown)
        assert shown == _meeting_menu_mask(bot, r, NOTHING), "the answer tells that it exists"
    assert _texts(bot, world) == before
    assert _by_meeting_id(bot, mark) == _refused_by_meeting_id(
        world, world.meeting, object_type="meeting_note", surface="meeting_note_edit"
    )
    mark = last_id(bot)
    _meeting_menu_mask(bot, reader_for(bot, world, COORD), world.meeting)
    assert _texts(bot, world)[0] == "[maskerad]"
    assert not refusals_since(bot, mark)


def _minutes_submitted(bot: Bot, r: Reader, meeting_id: int) -> str:
    """A page of the minutes' form submitted, its metadata naming the meeting by id."""
    meta = {"locale": "sv", "forum_id": r.forum_id, "meeting_id": meeting_id, "page": 1}
    response = r.driver.view_submission(
        "minutes_save", {}, user=r.user, private_metadata=json.dumps(meta)
    )
    bot.wait_idle()
    return _answer(response)


def _minutes_closed(bot: Bot, r: Reader, meeting_id: int) -> str:
    """The minutes' form closed on a later page (``notify_on_close``), naming the meeting."""
    since = len(bot.slack.calls)
    meta = {"locale": "sv", "forum_id": r.forum_id, "meeting_id": meeting_id, "page": 2}
    r.driver.view_closed("minutes_save", user=r.user, private_metadata=json.dumps(meta))
    bot.wait_idle()
    return _shown(bot, since)


MINUTES_DOORS: dict[str, Door] = {
    "button": _meeting_button("minutes_open"),
    "page submitted": _minutes_submitted,
    "form closed": _minutes_closed,
}


@pytest.mark.parametrize("door", list(MINUTES_DOORS))
def test_the_minutes_of_another_forums_meeting_are_refused_and_audited(bot: Bot, door: str) -> None:
    """The minutes' form shows the decisions of the meeting's cases, and its button, its
    pages and its closing name the meeting by its id alone: sent by another forum's admin, a
    non-member and another workspace's user, each gets what an id of no meeting gets, and
    each attempt is audited once in the meeting's forum as an attempt at the minutes, naming
    the meeting (they were refused unlogged); the ids of nothing where the requests came
    from. The forum's coordinator opens the minutes with nothing refused."""
    world = build_world(bot)
    send = MINUTES_DOORS[door]
    mark = last_id(bot)
    for who in (OTHER_FORUM, NON_MEMBER, OTHER_WS):
        r = reader_for(bot, world, who)
        shown = send(bot, r, world.held)
        assert '"callback_id": "minutes_save"' not in shown, (who, shown)
        assert shown == send(bot, r, NOTHING), f"{who}: the answer tells that the meeting exists"
    assert _by_meeting_id(bot, mark) == _refused_by_meeting_id(
        world, world.held, object_type="meeting", surface="minutes"
    )
    mark = last_id(bot)
    shown = send(bot, reader_for(bot, world, COORD), world.held)
    if door == "button":
        assert '"callback_id": "minutes_save"' in shown, shown
    assert not refusals_since(bot, mark)


# --- a stale press: the forum's own, on an item removed since their view was drawn ---------------

ITEM_DOORS = [door for door in TEXT_DOORS if door.startswith("agenda item:")]


@pytest.mark.parametrize("door", ITEM_DOORS)
def test_a_stale_press_on_a_removed_agenda_item_is_told_kindly_and_not_audited_as_refused(
    bot: Bot, door: str
) -> None:
    """The agenda item was taken off the agenda after the editor (or the correction modal)
    was drawn: the forum's own coordinator (or the member who wrote it) pressing its old
    buttons is told it is gone, nothing changes, and the forum's log gets no refusal (before,
    each press was audited as a refused attempt from another forum, cluttering the log
    reviewers read). Outsiders naming the same item are still refused and audited."""
    world = build_world(bot)
    send, _field, insider = TEXT_DOORS[door]
    with transaction(bot.sessions) as s:  # removed meanwhile, by another coordinator
        item = s.get(AgendaItem, world.item)
        assert item is not None
        item.removed = True
    before = _texts(bot, world)
    mark = last_id(bot)
    gone = GONE.get(door, NO_TEXT_SV)
    for _ in range(2):
        shown = send(bot, reader_for(bot, world, insider), world.item)
        assert gone in shown and ITEM not in shown, shown
    assert _texts(bot, world) == before
    assert refusals_since(bot, mark) == []
    for who in (OTHER_FORUM, OTHER_WS):
        shown = send(bot, reader_for(bot, world, who), world.item)
        assert gone in shown and ITEM not in shown, shown
    assert [e[0] for e in refusals_in(bot, mark, world.forum)] == [OTHER_FORUM, OTHER_WS]


# --- a stale press: the forum's own, on a meeting a schedule change removed ---------------------

REMOVED_SV = "Mötet togs bort när forumets schema ändrades."


def _remove_by_schedule(bot: Bot, world: World) -> int:
    """The forum moves its meetings to Wednesdays: a Thursday meeting with neither a rating
    round nor a posted agenda is removed (its row deleted). Returns the id of one removed."""
    with transaction(bot.sessions) as s:
        before = set(s.scalars(select(Meeting.id).where(Meeting.forum_id == world.forum)))
        forum = s.get(Forum, world.forum)
        assert forum is not None
        forum.schedule_rrule = "FREQ=WEEKLY;BYDAY=WE"
        sync_meetings(s, bot.clock, forum)
    with bot.sessions() as s:
        after = set(s.scalars(select(Meeting.id).where(Meeting.forum_id == world.forum)))
    removed = sorted(before - after)
    assert removed, "no meeting was removed"
    return removed[0]


STALE_MEETING_DOORS = [door for door, (_, held, _) in MEETING_DOORS.items() if not held]


@pytest.mark.parametrize("door", STALE_MEETING_DOORS)
def test_a_stale_press_on_a_meeting_a_schedule_change_removed_is_told_so_and_not_audited(
    bot: Bot, door: str
) -> None:
    """A coordinator's (or member's) view drawn before the forum's schedule changed still
    names a meeting the change removed: pressed by the forum's own, it is told the meeting
    was removed with the schedule, nothing changes, and the forum's log gets no refusal
    (before, each press was audited as a refused attempt at a meeting of nothing). The same
    id named by outsiders is told as an id of nothing and audited as before."""
    world = build_world(bot)
    send, _held, insider = MEETING_DOORS[door]
    gone = _remove_by_schedule(bot, world)
    before = _meetings(bot, world)
    mark = last_id(bot)
    for _ in range(2):
        shown = send(bot, reader_for(bot, world, insider), gone)
        assert REMOVED_SV in shown and NOT_A_MEMBER_SV not in shown, shown
    assert _meetings(bot, world) == before
    assert refusals_since(bot, mark) == []
    for who in (OTHER_FORUM, NON_MEMBER, OTHER_WS):
        r = reader_for(bot, world, who)
        shown = send(bot, r, gone)
        assert NO_MEETING_SV in shown and REMOVED_SV not in shown, (who, shown)
        assert shown == send(bot, r, NOTHING), f"{who}: the answer tells the meeting was removed"
    assert {e.actor for e in refusals_since(bot, mark)} == {OTHER_FORUM, NON_MEMBER, OTHER_WS}
