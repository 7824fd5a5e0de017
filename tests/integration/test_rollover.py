"""A case on a meeting's agenda that the meeting did not discuss is carried to the next
meeting's agenda whichever way the meeting is recorded (the record modal, the minutes) or
when nobody records it; the record's status changes are in the case's history.

The world of test_minutes_flow: a FOSSAM forum meets every Thursday 13–15 (the first
meeting on 26 November 2026), U1 coordinates. Cases raised before the first meeting are
planned for it.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from sqlalchemy import select, update

from domain import agenda as agenda_service
from storage.models import AgendaItem, Case, CaseEvent, CaseStatus, Forum, Meeting
from tests.conftest import Bot
from tests.integration.test_minutes_flow import case_id, minutes_submission
from tests.support.agenda_flow import channel_posts, local, text_of, tick
from tests.support.concurrency import lock_waits
from tests.support.minutes_world import first_meeting, raise_a_case, setup_forum
from tests.support.slack_driver import checkbox_values, multi_select_values
from tests.support.statements import statements


def meeting_on(bot: Bot, day: int) -> int:
    """The meeting on ``day`` December 2026."""
    with bot.sessions() as s:
        (found,) = [
            m.id for m in s.scalars(select(Meeting)) if m.starts_at == local(2026, 12, day, 13, 0)
        ]
    return int(found)


def agenda_of(bot: Bot, day: str) -> str:
    posts = [c for c in channel_posts(bot) if "Dagordning" in text_of(c) and day in text_of(c)]
    assert len(posts) == 1, [text_of(c) for c in posts]
    return json.dumps(posts[0].args, ensure_ascii=False)


def item_of(bot: Bot, meeting: int, case: int) -> int:
    with bot.sessions() as s:
        (item,) = s.scalars(
            select(AgendaItem.id).where(
                AgendaItem.meeting_id == meeting, AgendaItem.case_id == case
            )
        ).all()
    return int(item)


def statuses(bot: Bot, case: int) -> list[tuple[str | None, str | None, str | None]]:
    """The case's history of status changes: (who, from, to)."""
    with bot.sessions() as s:
        return [
            (e.actor, e.from_status, e.to_status)
            for e in s.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case, CaseEvent.kind == "status")
                .order_by(CaseEvent.at, CaseEvent.id)
            )
        ]


def case_row(bot: Bot, case: int) -> Case:
    with bot.sessions() as s:
        found = s.get(Case, case)
        assert found is not None
        return found


def minute(bot: Bot, meeting: int, case: int) -> None:
    response = bot.driver.send_payload(minutes_submission(bot, meeting, case))
    # Saved: the form goes on with the case it left (no errors).
    assert response.status == 200 and "errors" not in json.dumps(response.json())
    bot.wait_idle()


def record(bot: Bot, meeting: int, discussed: list[int]) -> None:
    payload = bot.driver.view_submission_payload(
        "meeting_record",
        {
            "attended": {"attended": multi_select_values(["1", "2"])},
            "discussed:0": {"discussed": checkbox_values([str(i) for i in discussed])},
        },
        user="U1",
        private_metadata=json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": meeting}),
    )
    response = bot.driver.send_payload(payload)
    assert (response.status, response.json()) == (200, None)
    bot.wait_idle()


def record_modal(bot: Bot, meeting: int) -> dict[str, Any]:
    before = len(bot.slack.calls_to("views.open"))
    bot.driver.block_action("meeting_record_open", user="U1", value=str(meeting))
    view: dict[str, Any] = bot.slack.wait_for("views.open", before + 1)[-1].args["view"]
    return view


def ticked(view: dict[str, Any]) -> set[int]:
    return {
        int(o["value"])
        for b in view["blocks"]
        if b.get("block_id", "").startswith("discussed:")
        for o in b["element"].get("initial_options", [])
    }


def two_cases_on_the_first_meeting(bot: Bot) -> tuple[int, int, int]:
    """The first meeting (its agenda out, the meeting over) and its two cases' ids: the
    one the minutes deal with, the one they leave out."""
    setup_forum(bot)
    minuted = case_id(bot, raise_a_case(bot))
    left = case_id(bot, raise_a_case(bot, concern="mental_health", age="13-15"))
    meeting = first_meeting(bot)
    for hour in (8, 15):  # the agenda goes out; the meeting has ended (the minutes DM)
        tick(bot, local(2026, 11, 26, hour, 0))
    return meeting, minuted, left


def test_a_case_the_minutes_leave_out_is_on_the_next_agenda(bot: Bot) -> None:
    # Minuted through the minutes DM only (not the record modal): the case left out stayed
    # "Planerad" for the past meeting and was on no agenda again.
    meeting, minuted, left = two_cases_on_the_first_meeting(bot)
    minute(bot, meeting, minuted)
    minute(bot, meeting, minuted)  # saved again: its history says it once
    tick(bot, local(2026, 12, 3, 8, 0))
    posted = agenda_of(bot, "3 december")
    assert case_row(bot, left).reference in posted and "flyttad" in posted
    assert case_row(bot, minuted).reference not in posted
    following = meeting_on(bot, 3)
    assert (case_row(bot, left).status, case_row(bot, left).meeting_id) == (
        CaseStatus.SCHEDULED,
        following,
    )
    # Minuted: discussed at its meeting, in its history (who, from what), once.
    assert (case_row(bot, minuted).status, case_row(bot, minuted).meeting_id) == (
        CaseStatus.DISCUSSED,
        meeting,
    )
    assert statuses(bot, minuted) == [("U1", "scheduled", "discussed")]
    assert statuses(bot, left) == []
    # The record modal shows the minuted case ticked (saving it as shown keeps it so).
    view = record_modal(bot, meeting)
    assert view["title"]["text"] == "Närvaro och behandlat"
    assert "knappen *Skriv protokollet* i meddelandet efter mötet" in str(view["blocks"])
    assert ticked(view) == {item_of(bot, meeting, minuted)}
    record(bot, meeting, sorted(ticked(view)))
    assert case_row(bot, minuted).status == CaseStatus.DISCUSSED
    assert statuses(bot, minuted) == [("U1", "scheduled", "discussed")]
    assert case_row(bot, left).meeting_id == following
    bot.slack.assert_no_violations()


def test_a_meeting_nobody_records_carries_its_cases_over(bot: Bot) -> None:
    meeting, first, second = two_cases_on_the_first_meeting(bot)
    tick(bot, local(2026, 12, 3, 8, 0))
    posted = agenda_of(bot, "3 december")
    for case in (first, second):
        assert case_row(bot, case).reference in posted
        assert case_row(bot, case).meeting_id == meeting_on(bot, 3)
    assert "flyttad" in posted
    # Recorded late (the next agenda out already): nothing is put there twice, and what
    # the record says was discussed comes off it again.
    bot.clock.set(local(2026, 12, 3, 9, 0))
    record(bot, meeting, [item_of(bot, meeting, first)])
    following = meeting_on(bot, 3)
    with bot.sessions() as s:
        on_next = list(
            s.scalars(select(AgendaItem.case_id).where(AgendaItem.meeting_id == following))
        )
    assert on_next.count(second) == 1 and first not in on_next
    updated = bot.slack.calls_to("chat.update", ok=True)
    assert updated and case_row(bot, first).reference not in json.dumps(
        updated[-1].args, ensure_ascii=False
    )


def test_minutes_written_after_the_next_agenda_went_out_take_the_case_off_it(bot: Bot) -> None:
    meeting, minuted, left = two_cases_on_the_first_meeting(bot)
    tick(bot, local(2026, 12, 3, 8, 0))  # carried over: nobody recorded the meeting
    assert case_row(bot, minuted).reference in agenda_of(bot, "3 december")
    bot.clock.set(local(2026, 12, 3, 9, 0))
    minute(bot, meeting, minuted)
    updated = bot.slack.calls_to("chat.update", ok=True)
    assert updated
    last = json.dumps(updated[-1].args, ensure_ascii=False)
    assert case_row(bot, minuted).reference not in last
    assert case_row(bot, left).reference in last
    assert (case_row(bot, minuted).status, case_row(bot, minuted).meeting_id) == (
        CaseStatus.DISCUSSED,
        meeting,
    )


def test_the_record_puts_its_status_changes_in_the_cases_history(bot: Bot) -> None:
    # Planerad → Diskuterad by the record was in no history: it showed "lyfte", then
    # "Diskuterad → Avslutad".
    meeting, discussed, _other = two_cases_on_the_first_meeting(bot)
    item = item_of(bot, meeting, discussed)
    record(bot, meeting, [item])
    record(bot, meeting, [item])  # saved again: once
    assert statuses(bot, discussed) == [("U1", "scheduled", "discussed")]
    assert ticked(record_modal(bot, meeting)) == {item}
    record(bot, meeting, [])  # corrected: not discussed after all
    assert case_row(bot, discussed).status == CaseStatus.SCHEDULED
    assert statuses(bot, discussed) == [
        ("U1", "scheduled", "discussed"),
        ("U1", "discussed", "scheduled"),
    ]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_case_decided_while_the_next_agenda_is_collected_is_not_carried_there(
    bot: Bot,
) -> None:
    """The next agenda is collected (it read the first meeting's case as left behind) while
    another transaction (the minutes, the record, a close) holds the case's row and says it
    was dealt with. The collect's update of the case waits for it, then finds the case no
    longer left behind: its item must not go onto the next agenda either (it did, as
    'flyttad', for a case discussed and still planned for the first meeting). PostgreSQL
    only: SQLite's writers take turns as whole transactions, so the read cannot be stale."""
    meeting, decided, left = two_cases_on_the_first_meeting(bot)
    bot.clock.set(local(2026, 11, 30, 9, 0))
    following = meeting_on(bot, 3)
    minutes_tx = bot.sessions()
    minutes_tx.execute(select(Case.id).where(Case.id == decided).with_for_update())
    minutes_tx.execute(update(Case).where(Case.id == decided).values(status=CaseStatus.DISCUSSED))
    failures: list[BaseException] = []

    def build() -> None:
        try:
            with bot.sessions.begin() as s:
                meeting_row = s.get(Meeting, following)
                assert meeting_row is not None
                forum = s.get(Forum, meeting_row.forum_id)
                assert forum is not None
                agenda_service.collect(s, bot.clock, meeting_row, forum)
        except BaseException as exc:
            failures.append(exc)

    with lock_waits(bot.runtime.engine) as waits:
        thread = threading.Thread(target=build)
        thread.start()
        try:
            waits.wait_for(thread)
        finally:
            minutes_tx.commit()
            minutes_tx.close()
        thread.join(10)
    assert not failures, failures
    with bot.sessions() as s:
        on_next = set(
            s.scalars(select(AgendaItem.case_id).where(AgendaItem.meeting_id == following))
        )
    assert left in on_next
    assert decided not in on_next
    assert (case_row(bot, decided).status, case_row(bot, decided).meeting_id) == (
        CaseStatus.DISCUSSED,
        meeting,
    )


def test_the_cases_carried_over_are_planned_by_one_statement(bot: Bot) -> None:
    """However many cases a meeting left behind, the next agenda's build plans them for it
    in one statement (it was one a case; a Thursday builds thousands of agendas)."""
    _, first, second = two_cases_on_the_first_meeting(bot)
    bot.clock.set(local(2026, 11, 30, 9, 0))
    following = meeting_on(bot, 3)
    with statements(bot.sessions) as sent, bot.sessions.begin() as s:
        meeting_row = s.get(Meeting, following)
        assert meeting_row is not None
        forum = s.get(Forum, meeting_row.forum_id)
        assert forum is not None
        agenda_service.collect(s, bot.clock, meeting_row, forum)
    assert len([q for q in sent if q.startswith("UPDATE cases")]) == 1
    for case in (first, second):
        assert case_row(bot, case).meeting_id == following
        item_of(bot, following, case)
