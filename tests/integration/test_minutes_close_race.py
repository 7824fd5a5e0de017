"""A case closed at the very moment its minutes are saved, through the real app.

Two coordinators: U1 saves the minutes of a case (a decision, an action, perhaps a
follow-up) while another closes it (the case modal's *Close*). Whichever transaction comes
second must see the first: no decision, action or follow-up lands on a case already
closed. Either the close is committed first and the minutes are refused with the friendly
"closed" answer on their fields, or the close waits for the minutes and closes the case
after them. One transaction is held open in the middle (after its change, before its
commit) while the other starts; what the database says (a lock wait) orders the threads.
PostgreSQL only: there the rows' locks serialise them (domain.locks, which the minutes use,
and domain.cases.change_status); SQLite's BEGIN IMMEDIATE serialises writers anyway, so
these tests could not fail there. The world is test_minutes_flow's (FOSSAM, U1 coordinates, U2 of
Elevhälsa owns the action).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from domain import cases as case_service
from domain import minutes as minutes_service
from storage.models import Action, Case, CaseEvent, CaseStatus, MinuteEntry
from tests.conftest import Bot
from tests.integration import test_minutes_flow as minutes
from tests.integration.test_minutes_replays import ACTION, action_dms, minuted_meeting
from tests.support.concurrency import race
from tests.support.slack_driver import (
    checkbox_values,
    plain_value,
    radio_value,
)

FOLLOW_UP = "2026-12-03"  # the next Thursday's meeting


def close_payload(bot: Bot, case: int) -> dict[str, Any]:
    """The case modal's close, as another coordinator (U1's colleague is U1 here: the
    coordinator role is what counts) submits it."""
    return bot.driver.view_submission_payload(
        "case_close",
        {
            "outcome": {"value": plain_value("Samordnat stöd via elevhälsan")},
            "effect": {"value": radio_value("yes")},
            "sip_started": {"value": checkbox_values([])},
        },
        user="U1",
        private_metadata=json.dumps({"locale": "sv", "forum_id": 1, "case_id": case}),
        view_id="VCLOSE",
        view={"previous_view_id": "VCASE"},
    )


def minutes_payload(bot: Bot, meeting: int, case: int, follow_up: str | None) -> dict[str, Any]:
    view = minutes.minutes_modal(bot, meeting)
    return minutes.minutes_submission(
        bot,
        meeting,
        case,
        view,
        action=ACTION,
        owner="U2",
        due="2026-12-10",
        follow_up=follow_up,
    )


def count(bot: Bot, model: Any) -> int:
    with bot.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def status_of(bot: Bot, case: int) -> CaseStatus:
    with bot.sessions() as s:
        found = s.get(Case, case)
        assert found is not None
        return found.status


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("follow_up", [None, FOLLOW_UP], ids=["action", "action+follow-up"])
def test_minutes_saved_as_their_case_is_closed_are_refused_when_the_close_came_first(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, follow_up: str | None
) -> None:
    """The close is committed while the minutes wait: they read the case as closed and are
    refused on their fields (the page keeps what was typed); nothing of them is stored, the
    case stays closed (a follow-up would have reopened it), the owner hears of nothing."""
    meeting, case = minuted_meeting(bot)
    saved = minutes_payload(bot, meeting, case, follow_up)
    closed, refused, waited = race(
        bot,
        monkeypatch,
        first=(case_service, "change_status", close_payload(bot, case)),
        second=saved,
    )
    assert (closed.status, closed.json()) == (200, None)
    assert waited, "the minutes did not wait for the close"
    body = refused.json()
    assert body is not None and body["response_action"] == "errors", body
    expected = {f"decision:{case}", f"action:{case}"}
    if follow_up:
        expected.add(f"follow_up:{case}")
    assert set(body["errors"]) == expected
    assert body["errors"][f"decision:{case}"].startswith("Ärendet är avslutat")
    assert body["errors"][f"action:{case}"].startswith("Ärendet är avslutat")
    assert count(bot, Action) == 0 and count(bot, MinuteEntry) == 0
    assert status_of(bot, case) is CaseStatus.CLOSED
    bot.wait_idle()
    assert action_dms(bot, "U2") == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("follow_up", [None, FOLLOW_UP], ids=["action", "action+follow-up"])
def test_a_case_closed_as_its_minutes_are_saved_is_closed_after_them(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, follow_up: str | None
) -> None:
    """The minutes are saved (not yet committed) when the close comes: the close waits for
    them, then closes the case as the minutes left it (the close's history says it came
    from the follow-up they planned). Nothing is written to a case already closed."""
    meeting, case = minuted_meeting(bot)
    with bot.sessions() as s:
        before = s.get(Case, case)
        assert before is not None
        was = before.status
    saved, closed, waited = race(
        bot,
        monkeypatch,
        first=(minutes_service, "record_minutes", minutes_payload(bot, meeting, case, follow_up)),
        second=close_payload(bot, case),
    )
    assert waited, "the close did not wait for the minutes"
    assert (saved.status, saved.json()) == (200, None)
    assert (closed.status, closed.json()) == (200, None)
    assert count(bot, Action) == 1 and count(bot, MinuteEntry) == 1
    assert status_of(bot, case) is CaseStatus.CLOSED
    with bot.sessions() as s:
        event = s.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case, CaseEvent.to_status == CaseStatus.CLOSED.value)
            .order_by(CaseEvent.id)
        ).one()
    # Read after the minutes' commit: as they left it, discussed (minuted), or the
    # follow-up they planned.
    assert was is CaseStatus.SCHEDULED
    assert event.from_status == (
        CaseStatus.FOLLOW_UP.value if follow_up else CaseStatus.DISCUSSED.value
    )
