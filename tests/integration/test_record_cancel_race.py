"""A meeting recorded as the next meeting is cancelled (or moved), through the real app.

Recording a meeting rolls what was not discussed (here its case and an item of other
business) over to the next planned meeting; cancelling a meeting hands its items and open
cases on to the one after it. Whichever of the two comes second must see the first: a
cancel committed first makes the record roll over to the meeting after the cancelled one;
a cancel that comes while the record is saved waits, then hands the rolled items on. Before,
neither waited for the other and the items (and the case) were left on a cancelled meeting,
never on an agenda again. A move of the next meeting past the one after it, committed first,
makes the record roll over to the meeting that is now the next. PostgreSQL only, as
test_record_close_race: SQLite's BEGIN IMMEDIATE serialises writers anyway.

The world is test_record_close_race's: the meeting of 26 November over, the next planned
meeting 3 December's, the one after it 10 December's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain import agenda as agenda_service
from domain import meetings as meeting_service
from storage.models import Meeting, MeetingStatus
from tests.conftest import Bot
from tests.integration.test_record_close_race import (
    OTHER,
    case_of,
    next_meeting,
    on_agenda,
    record_payload,
    with_case,
)
from tests.support.concurrency import race
from tests.support.slack_driver import plain_value


def cancel_payload(bot: Bot, meeting: int) -> dict[str, Any]:
    """The cancel modal as U1 (a coordinator) saves it."""
    return bot.driver.view_submission_payload(
        "meeting_cancel",
        {"reason": {"reason": plain_value("Studiedag")}},
        user="U1",
        private_metadata=json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": meeting}),
        view_id="VCANCEL",
    )


def move_payload(bot: Bot, meeting: int, day: str) -> dict[str, Any]:
    """The move modal as U1 saves it: ``day`` (ISO), the same time."""
    return bot.driver.view_submission_payload(
        "meeting_move",
        {"day": {"day": {"type": "datepicker", "selected_date": day}}},
        user="U1",
        private_metadata=json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": meeting}),
        view_id="VMOVE",
    )


def status_of(bot: Bot, meeting: int) -> MeetingStatus:
    with bot.sessions() as s:
        found = s.get(Meeting, meeting)
        assert found is not None
        return found.status


def assert_rolled_past_the_cancelled(
    bot: Bot, case: int, *, cancelled: int, after: int, before: list[Any]
) -> None:
    """The cancelled meeting has nothing on it; the case and the other business are on the
    meeting after it, once each, with what it had before; the case belongs to it."""
    assert status_of(bot, cancelled) is MeetingStatus.CANCELLED
    assert on_agenda(bot, cancelled) == []
    rolled = [(c, t) for c, t, r in on_agenda(bot, after) if r]
    assert sorted(rolled, key=str) == sorted([(case, None), (None, OTHER)], key=str)
    assert len(on_agenda(bot, after)) == len(before) + 2
    assert case_of(bot, case).meeting_id == after


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_record_after_the_next_meeting_is_cancelled_rolls_over_to_the_one_after(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancel of 3 December is saved, not yet committed, when the record comes: the
    record waits for the cancelled meeting's row, reads it cancelled and rolls over to 10
    December's (before, onto the cancelled 3 December)."""
    meeting, case = with_case(bot)
    following = next_meeting(bot, meeting)
    after = next_meeting(bot, following)
    before = on_agenda(bot, after)
    cancelled, recorded, waited = race(
        bot,
        monkeypatch,
        first=(meeting_service, "cancel_meeting", cancel_payload(bot, following)),
        second=record_payload(bot, meeting, []),
    )
    assert (cancelled.status, cancelled.json()) == (200, None)
    assert (recorded.status, recorded.json()) == (200, None)
    assert waited, "the record did not wait for the cancel"
    assert status_of(bot, meeting) is MeetingStatus.HELD
    assert_rolled_past_the_cancelled(bot, case, cancelled=following, after=after, before=before)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_cancel_of_the_next_meeting_as_a_meeting_is_recorded_hands_on_the_rolled_items(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record is saved, not yet committed, when the cancel of 3 December comes: the
    cancel waits for the record, then hands what it rolled over on to 10 December's, as it
    does with any item of a cancelled meeting (before, it handed on what it read before the
    record's commit: nothing, and the rolled items stayed on the cancelled meeting)."""
    meeting, case = with_case(bot)
    following = next_meeting(bot, meeting)
    after = next_meeting(bot, following)
    before = on_agenda(bot, after)
    recorded, cancelled, waited = race(
        bot,
        monkeypatch,
        first=(agenda_service, "record_meeting", record_payload(bot, meeting, [])),
        second=cancel_payload(bot, following),
    )
    assert waited, "the cancel did not wait for the record"
    assert (recorded.status, recorded.json()) == (200, None)
    assert (cancelled.status, cancelled.json()) == (200, None)
    assert status_of(bot, meeting) is MeetingStatus.HELD
    assert_rolled_past_the_cancelled(bot, case, cancelled=following, after=after, before=before)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_record_after_the_next_meeting_is_moved_rolls_over_to_the_new_next(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3 December's meeting is moved to 11 December (after 10 December's), saved, not yet
    committed, when the record comes: the record waits for its row, then rolls over to the
    meeting that is now the next, 10 December's (before, onto the moved one, a day later)."""
    meeting, case = with_case(bot)
    following = next_meeting(bot, meeting)
    after = next_meeting(bot, following)
    before = on_agenda(bot, after)
    moved, recorded, waited = race(
        bot,
        monkeypatch,
        first=(meeting_service, "move_meeting", move_payload(bot, following, "2026-12-11")),
        second=record_payload(bot, meeting, []),
    )
    assert (moved.status, moved.json()) == (200, None)
    assert (recorded.status, recorded.json()) == (200, None)
    assert waited, "the record did not wait for the move"
    assert status_of(bot, following) is MeetingStatus.PLANNED
    assert on_agenda(bot, following) == []
    rolled = [(c, t) for c, t, r in on_agenda(bot, after) if r]
    assert sorted(rolled, key=str) == sorted([(case, None), (None, OTHER)], key=str)
    assert len(on_agenda(bot, after)) == len(before) + 2
    assert case_of(bot, case).meeting_id == after
