"""A meeting recorded (attendance, discussed items) as one of its cases is closed, and a
meeting recorded twice, through the real app.

Recording a meeting marks a discussed new case as discussed and rolls what was not
discussed over to the next meeting (the case with it). Whichever of a record and a close
comes second must see the first: a case closed first is left closed (not reopened as
discussed without its reopening, not rolled over onto the next agenda); a close that comes
while the record is saved waits and closes the case as the record left it. One transaction
is held open after its change while the other starts (test_minutes_close_race's ``race``);
PostgreSQL only, as there: SQLite's BEGIN IMMEDIATE serialises writers anyway.

The record modal saved twice (a double click, Slack's retry, a correction later) rolls
each item over once: on both databases one after the other, and on PostgreSQL at once (a
first record, and a correction sent twice at once that writes nothing to the meeting's row:
only the row's lock orders the two copies). A correction that says an item rolled over
was discussed after all takes its copy off the next agenda (and its posted message), unless
that meeting has started or the case is due there anyway as a follow-up.

The world is test_minutes_flow's (FOSSAM, U1 coordinates, U2 raised the case) with one
item of other business from U3, the meeting over (15:00 on 26 November); the next meeting
is 3 December's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from domain import agenda as agenda_service
from domain import cases as case_service
from domain import forums as fs
from storage.db import transaction
from storage.models import AgendaItem, Case, CaseEvent, CaseStatus, Meeting, MeetingStatus
from tests.conftest import Bot
from tests.integration import test_minutes_flow as minutes
from tests.integration.test_minutes_close_race import close_payload
from tests.support.agenda_flow import channel_posts, local, text_of, tick
from tests.support.concurrency import race
from tests.support.slack_driver import (
    checkbox_values,
    multi_select_values,
    plain_value,
    select_value,
)

OTHER = "Sommarlovets aktiviteter"


def recorded_world(bot: Bot, *, case: bool = True) -> tuple[int, int | None]:
    """The meeting (over, its agenda posted) and its case's id (None: ``case`` False, the
    agenda has the other business only)."""
    minutes.setup_forum(bot)
    raised = minutes.case_id(bot, minutes.raise_a_case(bot)) if case else None
    meeting = minutes.first_meeting(bot)
    bot.driver.view_submission(
        "agenda_item_add",
        {
            "text": {"text": plain_value(OTHER)},
            "meeting": {"meeting": select_value(str(meeting))},
        },
        user="U3",
        private_metadata=json.dumps({"locale": "sv", "forum_id": 1}),
    )
    for hour in (8, 15):  # the agenda goes out; the meeting has ended
        tick(bot, local(2026, 11, 26, hour, 0))
    return meeting, raised


def with_case(bot: Bot) -> tuple[int, int]:
    meeting, case = recorded_world(bot)
    assert case is not None
    return meeting, case


def items(bot: Bot, meeting: int) -> list[AgendaItem]:
    with bot.sessions() as s:
        return list(
            s.scalars(
                select(AgendaItem)
                .where(AgendaItem.meeting_id == meeting)
                .order_by(AgendaItem.position, AgendaItem.id)
            )
        )


def case_item(bot: Bot, meeting: int, case: int) -> int:
    (item,) = [i.id for i in items(bot, meeting) if i.case_id == case]
    return item


def next_meeting(bot: Bot, meeting: int) -> int:
    with bot.sessions() as s:
        held = s.get(Meeting, meeting)
        assert held is not None
        following = s.scalars(
            select(Meeting.id)
            .where(Meeting.starts_at > held.starts_at, Meeting.status == MeetingStatus.PLANNED)
            .order_by(Meeting.starts_at)
        ).first()
    assert following is not None
    return following


def record_payload(bot: Bot, meeting: int, discussed: list[int]) -> dict[str, Any]:
    """The record modal as U1 saves it: Grundskola and Elevhälsa attended."""
    return bot.driver.view_submission_payload(
        "meeting_record",
        {
            "attended": {"attended": multi_select_values(["1", "2"])},
            "discussed:0": {"discussed": checkbox_values([str(i) for i in discussed])},
        },
        user="U1",
        private_metadata=json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": meeting}),
        view_id="VRECORD",
    )


def case_of(bot: Bot, case: int) -> Case:
    with bot.sessions() as s:
        found = s.get(Case, case)
        assert found is not None
        return found


def closings(bot: Bot, case: int) -> list[CaseEvent]:
    with bot.sessions() as s:
        return list(
            s.scalars(select(CaseEvent).where(CaseEvent.case_id == case).order_by(CaseEvent.id))
        )


def on_agenda(bot: Bot, meeting: int) -> list[tuple[int | None, str | None, bool]]:
    """(case, text, rolled over) of each item of ``meeting``'s agenda."""
    return [(i.case_id, i.text, i.rolled_over) for i in items(bot, meeting) if not i.removed]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("discussed", [True, False], ids=["discussed", "not-discussed"])
def test_a_case_closed_before_the_record_is_neither_marked_discussed_nor_rolled_over(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, discussed: bool
) -> None:
    """The close is committed while the record waits for the case's row: the record reads
    the case closed and leaves it so (before, a discussed case was set back to discussed,
    reopened without a reopening in its history, and one not discussed went onto the next
    agenda as a closed case). The record itself is saved."""
    meeting, case = with_case(bot)
    following = next_meeting(bot, meeting)
    item = case_item(bot, meeting, case)
    closed, recorded, waited = race(
        bot,
        monkeypatch,
        first=(case_service, "change_status", close_payload(bot, case)),
        second=record_payload(bot, meeting, [item] if discussed else []),
    )
    assert (closed.status, closed.json()) == (200, None)
    assert (recorded.status, recorded.json()) == (200, None)
    assert waited, "the record did not wait for the close"
    after = case_of(bot, case)
    assert (after.status, after.meeting_id) == (CaseStatus.CLOSED, meeting)
    assert [e.to_status for e in closings(bot, case)][-1] == CaseStatus.CLOSED.value
    assert case not in [c for c, _, _ in on_agenda(bot, following)]
    with bot.sessions() as s:
        held = s.get(Meeting, meeting)
        assert held is not None and (held.status, held.attendance) == (MeetingStatus.HELD, [1, 2])
        recorded_item = s.get(AgendaItem, item)
        assert recorded_item is not None and recorded_item.discussed is discussed


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_case_closed_as_its_meeting_is_recorded_is_closed_after_the_record(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record (the case discussed) is saved, not yet committed, when the close comes:
    the close waits for it, then closes the case as the record left it (its history says
    from discussed). Not parametrised on a case not discussed, as the close race is: that
    record changes no status, so the close reads the same either way."""
    meeting, case = with_case(bot)
    item = case_item(bot, meeting, case)
    recorded, closed, waited = race(
        bot,
        monkeypatch,
        first=(agenda_service, "record_meeting", record_payload(bot, meeting, [item])),
        second=close_payload(bot, case),
    )
    assert waited, "the close did not wait for the record"
    assert (recorded.status, recorded.json()) == (200, None)
    assert (closed.status, closed.json()) == (200, None)
    assert case_of(bot, case).status is CaseStatus.CLOSED
    (event,) = [e for e in closings(bot, case) if e.to_status == CaseStatus.CLOSED.value]
    # Read after the record's commit (change_status locks the row first).
    assert event.from_status == CaseStatus.DISCUSSED.value


def test_a_meeting_recorded_twice_rolls_each_item_over_once(bot: Bot) -> None:
    """The same record saved again (a retry, a double click one after the other) leaves the
    next agenda as the first save did: the case and the other business once each."""
    meeting, case = with_case(bot)
    following = next_meeting(bot, meeting)
    before = on_agenda(bot, following)
    payload = record_payload(bot, meeting, [])
    for _ in range(2):
        answer = bot.driver.send_payload(payload)
        assert (answer.status, answer.json()) == (200, None)
    rolled = [(c, t) for c, t, r in on_agenda(bot, following) if r]
    assert sorted(rolled, key=str) == sorted([(case, None), (None, OTHER)], key=str)
    assert len(on_agenda(bot, following)) == len(before) + 2
    assert case_of(bot, case).meeting_id == following


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_meeting_recorded_twice_at_once_rolls_each_item_over_once(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two copies of the record arriving at once: the second waits for the first and finds
    its items on the next agenda."""
    meeting, case = with_case(bot)
    following = next_meeting(bot, meeting)
    before = on_agenda(bot, following)
    payload = record_payload(bot, meeting, [])
    one, two, waited = race(
        bot,
        monkeypatch,
        first=(agenda_service, "record_meeting", payload),
        second=payload,
    )
    assert waited, "the second record did not wait for the first"
    assert (one.status, one.json()) == (two.status, two.json()) == (200, None)
    rolled = [(c, t) for c, t, r in on_agenda(bot, following) if r]
    assert sorted(rolled, key=str) == sorted([(case, None), (None, OTHER)], key=str)
    assert len(on_agenda(bot, following)) == len(before) + 2


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_corrected_record_sent_twice_at_once_rolls_the_item_over_once(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The meeting recorded with its other business discussed, then corrected (not
    discussed after all, the same attendance) by two copies at once: the meeting's row is
    not written again, so only its lock makes the second wait for the first; the item
    rolls over once."""
    meeting, _none = recorded_world(bot, case=False)
    following = next_meeting(bot, meeting)
    before = on_agenda(bot, following)
    (other,) = [i.id for i in items(bot, meeting) if i.text == OTHER]
    first = bot.driver.send_payload(record_payload(bot, meeting, [other]))
    assert (first.status, first.json()) == (200, None)
    assert on_agenda(bot, following) == before
    payload = record_payload(bot, meeting, [])
    one, two, waited = race(
        bot,
        monkeypatch,
        first=(agenda_service, "record_meeting", payload),
        second=payload,
    )
    assert waited, "the second record did not wait for the first"
    assert (one.status, one.json()) == (two.status, two.json()) == (200, None)
    assert [(c, t) for c, t, r in on_agenda(bot, following) if r] == [(None, OTHER)]
    assert len(on_agenda(bot, following)) == len(before) + 1


def test_a_correction_that_says_discussed_takes_the_rolled_copies_off_the_next_agenda(
    bot: Bot,
) -> None:
    """The meeting recorded with nothing discussed (the case and the other business roll
    over), then corrected: both were discussed after all. The copies rolled onto the next
    agenda go (before, they stayed there: the next meeting got a case and an item already
    dealt with), the case is back on its own meeting, marked discussed; the next agenda
    is as it would have been had the first record said so."""
    meeting, case = with_case(bot)
    following = next_meeting(bot, meeting)
    before = on_agenda(bot, following)
    first = bot.driver.send_payload(record_payload(bot, meeting, []))
    assert (first.status, first.json()) == (200, None)
    assert len(on_agenda(bot, following)) == len(before) + 2
    discussed = [i.id for i in items(bot, meeting) if not i.removed]
    corrected = bot.driver.send_payload(record_payload(bot, meeting, discussed))
    assert (corrected.status, corrected.json()) == (200, None)
    assert on_agenda(bot, following) == before
    after = case_of(bot, case)
    assert (after.status, after.meeting_id) == (CaseStatus.DISCUSSED, meeting)
    # Corrected back again (not discussed after all): both roll over once more.
    again = bot.driver.send_payload(record_payload(bot, meeting, []))
    assert (again.status, again.json()) == (200, None)
    rolled = [(c, t) for c, t, r in on_agenda(bot, following) if r]
    assert sorted(rolled, key=str) == sorted([(case, None), (None, OTHER)], key=str)
    assert case_of(bot, case).meeting_id == following


def test_a_correction_updates_the_next_meetings_posted_agenda(bot: Bot) -> None:
    """The record corrected on the next meeting's day, after its agenda went out: the
    posted agenda is updated in place without the case. It went out with the case (its
    meeting was over and not recorded: carried over, not dropped) and was updated when the
    first record rolled the other business over after the post."""
    meeting, case = with_case(bot)
    reference = case_of(bot, case).reference
    tick(bot, local(2026, 12, 3, 8, 0))  # the next agenda is posted, the case carried over
    posted = [c for c in channel_posts(bot) if "3 december" in text_of(c)]
    assert posted and reference in json.dumps(posted[0].args, ensure_ascii=False)
    bot.clock.set(local(2026, 12, 3, 9, 0))
    first = bot.driver.send_payload(record_payload(bot, meeting, []))
    assert (first.status, first.json()) == (200, None)
    bot.wait_idle()
    rolled = bot.slack.calls_to("chat.update", ok=True)
    assert rolled and reference in json.dumps(rolled[-1].args, ensure_ascii=False)
    item = case_item(bot, meeting, case)
    corrected = bot.driver.send_payload(record_payload(bot, meeting, [item]))
    assert (corrected.status, corrected.json()) == (200, None)
    bot.wait_idle()
    updates = bot.slack.calls_to("chat.update", ok=True)
    assert len(updates) > len(rolled)
    assert reference not in json.dumps(updates[-1].args, ensure_ascii=False)


def test_a_correction_after_the_next_meeting_started_leaves_its_agenda(bot: Bot) -> None:
    """The record corrected once the next meeting is under way: what was on its agenda is
    its own record's to say (it may have been discussed there); the copy stays, and
    nothing goes onto the meeting after it."""
    meeting, case = with_case(bot)
    following = next_meeting(bot, meeting)
    first = bot.driver.send_payload(record_payload(bot, meeting, []))
    assert (first.status, first.json()) == (200, None)
    there = on_agenda(bot, following)
    bot.clock.set(local(2026, 12, 3, 14, 0))
    after_that = next_meeting(bot, following)
    beyond = on_agenda(bot, after_that)
    discussed = [i.id for i in items(bot, meeting) if not i.removed]
    corrected = bot.driver.send_payload(record_payload(bot, meeting, discussed))
    assert (corrected.status, corrected.json()) == (200, None)
    assert on_agenda(bot, following) == there
    assert on_agenda(bot, after_that) == beyond
    assert case_of(bot, case).status is CaseStatus.DISCUSSED


def test_a_correction_leaves_a_follow_up_case_on_the_next_agenda(bot: Bot) -> None:
    """A case that came back for a follow-up is due on the next agenda whether or not it
    was discussed (collect takes follow-ups not planned for a later meeting): the
    correction leaves its item there, no longer marked as rolled over."""
    meeting, case = with_case(bot)
    following = next_meeting(bot, meeting)
    with transaction(bot.sessions) as s:
        found = s.get(Case, case)
        assert found is not None
        found.status = CaseStatus.FOLLOW_UP
    first = bot.driver.send_payload(record_payload(bot, meeting, []))
    assert (first.status, first.json()) == (200, None)
    assert (case, None, True) in on_agenda(bot, following)
    item = case_item(bot, meeting, case)
    corrected = bot.driver.send_payload(record_payload(bot, meeting, [item]))
    assert (corrected.status, corrected.json()) == (200, None)
    assert [(c, r) for c, _, r in on_agenda(bot, following) if c == case] == [(case, False)]
    assert case_of(bot, case).status is CaseStatus.FOLLOW_UP


def test_a_record_saved_again_once_the_next_meeting_started_rolls_nothing_over_twice(
    bot: Bot,
) -> None:
    """The record saved again (attendance corrected, nothing discussed as before) once the
    next meeting is under way: the items rolled onto it then are there (its own record
    says what became of them); none goes onto the meeting after it as well (before, the
    case and the other business were put on both, the case moved on past the meeting that
    has them)."""
    meeting, case = with_case(bot)
    following = next_meeting(bot, meeting)
    first = bot.driver.send_payload(record_payload(bot, meeting, []))
    assert (first.status, first.json()) == (200, None)
    there = on_agenda(bot, following)
    bot.clock.set(local(2026, 12, 3, 14, 0))
    after_that = next_meeting(bot, following)
    beyond = on_agenda(bot, after_that)
    again = bot.driver.send_payload(record_payload(bot, meeting, []))
    assert (again.status, again.json()) == (200, None)
    assert on_agenda(bot, following) == there
    assert on_agenda(bot, after_that) == beyond
    assert case_of(bot, case).meeting_id == following


def test_a_correction_to_not_discussed_puts_the_case_back_as_it_was(bot: Bot) -> None:
    """The meeting recorded with the case discussed (marked discussed), then corrected: not
    discussed after all. The case rolls over and is again what it was before the record
    (before, it rolled over still marked discussed: the next meeting got a case that looked
    dealt with). The correction saved again changes nothing more; saying discussed once more
    marks it again."""
    meeting, case = with_case(bot)
    following = next_meeting(bot, meeting)
    before = case_of(bot, case).status
    assert before in (CaseStatus.NEW, CaseStatus.SCHEDULED)
    item = case_item(bot, meeting, case)
    first = bot.driver.send_payload(record_payload(bot, meeting, [item]))
    assert (first.status, first.json()) == (200, None)
    assert case_of(bot, case).status is CaseStatus.DISCUSSED
    for _replay in range(2):
        corrected = bot.driver.send_payload(record_payload(bot, meeting, []))
        assert (corrected.status, corrected.json()) == (200, None)
        after = case_of(bot, case)
        assert (after.status, after.meeting_id) == (before, following)
        assert [(c, r) for c, _, r in on_agenda(bot, following) if c == case] == [(case, True)]
    again = bot.driver.send_payload(record_payload(bot, meeting, [item]))
    assert (again.status, again.json()) == (200, None)
    assert (case_of(bot, case).status, case_of(bot, case).meeting_id) == (
        CaseStatus.DISCUSSED,
        meeting,
    )


def set_status(bot: Bot, case: int, *steps: CaseStatus) -> None:
    """U1 (a coordinator) moves the case along, step by step, as the case's buttons do."""
    with transaction(bot.sessions) as s:
        forum = s.get_one(Case, case).forum_id
        access = fs.require_member(
            s, forum=fs.get_forum(s, forum_id=forum, team_id="T0001"), slack_user_id="U1"
        )
        for to in steps:
            case_service.change_status(s, bot.clock, access=access, case_id=case, to=to)


@pytest.mark.parametrize("when", ["before", "since"])
def test_a_correction_undoes_only_what_the_record_did_to_the_status(bot: Bot, when: str) -> None:
    """A case marked discussed by hand before the record (the record changed nothing), or
    whose status was changed by hand since (planned for a follow-up, then marked discussed
    again): the correction to "not discussed" leaves it discussed, that was not the
    record's doing."""
    meeting, case = with_case(bot)
    item = case_item(bot, meeting, case)
    if when == "before":
        set_status(bot, case, CaseStatus.DISCUSSED)
    first = bot.driver.send_payload(record_payload(bot, meeting, [item]))
    assert (first.status, first.json()) == (200, None)
    if when == "since":
        set_status(bot, case, CaseStatus.FOLLOW_UP, CaseStatus.DISCUSSED)
    corrected = bot.driver.send_payload(record_payload(bot, meeting, []))
    assert (corrected.status, corrected.json()) == (200, None)
    assert case_of(bot, case).status is CaseStatus.DISCUSSED
