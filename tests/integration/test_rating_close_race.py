"""A rating round closed early while its meeting is cancelled or moved, through the real app.

Closing a round brings the meeting's posted agenda up to date (an update of the meeting's
row); cancelling or moving the meeting closes the round or moves its deadline
(domain.ratings.follow_meeting). Before, the close locked the round's row and then the
meeting's, the cancel and the move the meeting's and then the round's: at the same moment
each held what the other waited for, and PostgreSQL refused one of them (a deadlock). Now
both lock the meeting first (domain.locks.lock_round): whichever comes second waits and sees
what the first committed. One transaction is held open part-way (after the row it locks
first) while the other comes; PostgreSQL only, as test_record_cancel_race: SQLite's BEGIN
IMMEDIATE serialises writers anyway.

The world is test_rating_flow's: the round for Thursday 26 November 13:00, extended by a day
(to Thursday 12:00), so the agenda is posted (Thursday 08:00) while the round is open.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from sqlalchemy import select

from domain import meetings as meeting_service
from domain import ratings
from domain.ratings import closing
from handlers.blocks.ratings import RENDERERS as RATING_RENDERERS
from handlers.outgoing import picture_ready
from storage.models import Meeting, MeetingStatus, OutboxMessage, RatingRound, RatingRoundStatus
from tests.conftest import Bot
from tests.support.concurrency import held, lock_waits, race
from tests.support.rating_flow import ADMIN, make_forum, the_round
from tests.support.slack_driver import plain_value
from tests.support.wait import eventually

# Thursday 26 November 08:30 in Stockholm: the agenda is posted, the round still open.
AGENDA_POSTED = dt.datetime(2026, 11, 26, 7, 30, tzinfo=dt.UTC)


def _open_round_with_posted_agenda(bot: Bot) -> RatingRound:
    make_forum(bot)
    bot.run_due_work()
    opened = the_round(bot)
    bot.driver.block_action(
        "rating_extend",
        user=ADMIN,
        selected_option={"value": f"{opened.id}:1", "text": {"type": "plain_text", "text": "1"}},
    )
    bot.slack.wait_for("response_url")
    bot.clock.set(AGENDA_POSTED)
    bot.run_due_work()
    with bot.sessions() as s:
        assert s.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.dedupe_key == f"agenda:{opened.meeting_id}:p0"
            )
        ), "the agenda was not posted"
    rating_round = the_round(bot)
    assert rating_round.status is RatingRoundStatus.OPEN
    return rating_round


def _payload(bot: Bot, send: Any) -> dict[str, Any]:
    """The payload ``send`` would post (the driver's block_action has no payload-only form)."""
    captured: dict[str, Any] = {}
    driver: Any = bot.driver
    original = driver._send_payload
    driver._send_payload = captured.update
    try:
        send()
    finally:
        driver._send_payload = original
    return captured


def close_payload(bot: Bot, round_id: int) -> dict[str, Any]:
    return _payload(
        bot, lambda: bot.driver.block_action("rating_close_early", user=ADMIN, value=str(round_id))
    )


def _meta(meeting: int) -> str:
    return json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": meeting})


def cancel_payload(bot: Bot, meeting: int) -> dict[str, Any]:
    return bot.driver.view_submission_payload(
        "meeting_cancel",
        {"reason": {"reason": plain_value("Studiedag")}},
        user=ADMIN,
        private_metadata=_meta(meeting),
        view_id="VCANCEL",
    )


def move_payload(bot: Bot, meeting: int, day: str) -> dict[str, Any]:
    return bot.driver.view_submission_payload(
        "meeting_move",
        {"day": {"day": {"type": "datepicker", "selected_date": day}}},
        user=ADMIN,
        private_metadata=_meta(meeting),
        view_id="VMOVE",
    )


def close_second(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, first: tuple[Any, str, dict[str, Any]], round_id: int
) -> tuple[Any, bool]:
    """``race`` with the close early second: its button is acknowledged at once and the
    close runs after the acknowledgement, so whether it waits for the first's locks is
    asked of the database, and its answer is the reply to its response_url."""
    module, name, payload = first
    answers: dict[str, Any] = {}
    replies = len(bot.slack.calls_to("response_url"))
    with held(monkeypatch, module, name) as (done, release):
        one = threading.Thread(
            target=lambda: answers.update(first=bot.driver.send_payload(payload))
        )
        one.start()
        assert done.wait(20)
        with lock_waits(bot.runtime.engine) as waits:
            assert bot.driver.send_payload(close_payload(bot, round_id)).status == 200
            waited = eventually(waits.waiting, timeout=20)
        release.set()
        one.join(30)
    bot.slack.wait_for("response_url", count=replies + 1)
    return answers["first"], bool(waited)


def _picture_queued(bot: Bot, round_id: int) -> bool:
    with bot.sessions() as s:
        key = f"rating_picture:{round_id}"
        return s.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)) is not None


def _meeting(bot: Bot, meeting_id: int) -> Meeting:
    with bot.sessions() as s:
        found = s.get(Meeting, meeting_id)
        assert found is not None
        return found


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_cancel_while_the_round_closes_waits_and_cancels_after_it(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The close early holds the round (drawing its picture) when the cancel comes: the
    cancel waits, then cancels the meeting; the round is closed with its picture (before,
    the cancel took the meeting's row, the close then waited for it: a deadlock)."""
    rating_round = _open_round_with_posted_agenda(bot)
    closed, cancelled, waited = race(
        bot,
        monkeypatch,
        first=(closing, "build_picture", close_payload(bot, rating_round.id)),
        second=cancel_payload(bot, rating_round.meeting_id),
    )
    assert waited, "the cancel did not wait for the close"
    assert (closed.status, cancelled.status, cancelled.json()) == (200, 200, None)
    after = the_round(bot)
    assert after.status is RatingRoundStatus.CLOSED and after.closed_early
    assert _picture_queued(bot, rating_round.id)
    assert _meeting(bot, rating_round.meeting_id).status is MeetingStatus.CANCELLED


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_close_while_the_meeting_is_cancelled_waits_and_finds_the_round_closed(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancel holds the meeting (handing its items on) when the close early comes: the
    close waits, then finds the round closed with its cancelled meeting and posts no picture
    (before, the close took the round's row, the cancel then waited for it: a deadlock)."""
    rating_round = _open_round_with_posted_agenda(bot)
    cancelled, waited = close_second(
        bot,
        monkeypatch,
        (meeting_service, "_carry_over", cancel_payload(bot, rating_round.meeting_id)),
        rating_round.id,
    )
    assert waited, "the close did not wait for the cancel"
    assert (cancelled.status, cancelled.json()) == (200, None)
    assert _meeting(bot, rating_round.meeting_id).status is MeetingStatus.CANCELLED
    after = the_round(bot)
    assert after.status is RatingRoundStatus.CLOSED
    assert not _picture_queued(bot, rating_round.id)
    told = json.dumps(bot.slack.wait_for("response_url")[-1].args, ensure_ascii=False)
    assert "redan stängd" in told


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_close_while_the_meeting_is_moved_waits_and_closes_the_moved_round(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The move (to Friday 27 November) holds the meeting when the close early comes: the
    close waits, then closes the round of the moved meeting with its picture."""
    rating_round = _open_round_with_posted_agenda(bot)
    moved, waited = close_second(
        bot,
        monkeypatch,
        (meeting_service, "agenda_due", move_payload(bot, rating_round.meeting_id, "2026-11-27")),
        rating_round.id,
    )
    assert waited, "the close did not wait for the move"
    assert (moved.status, moved.json()) == (200, None)
    meeting = _meeting(bot, rating_round.meeting_id)
    assert meeting.status is MeetingStatus.PLANNED
    assert meeting.starts_at.date() == dt.date(2026, 11, 27)
    after = the_round(bot)
    assert after.status is RatingRoundStatus.CLOSED and after.closed_early
    assert _picture_queued(bot, rating_round.id)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_close_at_the_deadline_while_the_meeting_is_cancelled_waits_and_closes_nothing(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deadline (Thursday 12:00) has passed, the meeting (13:00) is being cancelled when
    the scheduler closes the round: the close waits for the meeting's row, then finds the
    round closed with its cancelled meeting and posts no picture (before, it took the
    round's row first: a deadlock)."""
    rating_round = _open_round_with_posted_agenda(bot)
    bot.clock.set(dt.datetime(2026, 11, 26, 11, 30, tzinfo=dt.UTC))
    answers: dict[str, Any] = {}
    with held(monkeypatch, meeting_service, "_carry_over") as (done, release):
        payload = cancel_payload(bot, rating_round.meeting_id)
        one = threading.Thread(
            target=lambda: answers.update(first=bot.driver.send_payload(payload))
        )
        one.start()
        assert done.wait(20)
        with lock_waits(bot.runtime.engine) as waits:

            def close() -> None:
                answers["closed"] = ratings.close_due_round(
                    bot.sessions,
                    bot.clock,
                    RATING_RENDERERS,
                    rating_round.id,
                    replica="r1",
                    on_closed=lambda s, meeting_id: picture_ready(s, bot.clock, meeting_id),
                )

            two = threading.Thread(target=close)
            two.start()
            assert eventually(waits.waiting, timeout=20), "the close did not wait for the cancel"
        release.set()
        one.join(30)
        two.join(30)
    assert (answers["first"].status, answers["first"].json()) == (200, None)
    assert answers["closed"] is False
    assert _meeting(bot, rating_round.meeting_id).status is MeetingStatus.CANCELLED
    assert the_round(bot).status is RatingRoundStatus.CLOSED
    assert not _picture_queued(bot, rating_round.id)
