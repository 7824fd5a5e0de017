"""The per-pass jobs that concern few forums (the steering part of an agenda, the annual
report, the half-year review) pick those forums in SQL: every scheduler pass of every
replica runs them, so loading every forum would cost more the more forums the service
hosts, whether anything is due or not."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from domain import forums as fs
from domain import review, steering
from handlers.blocks.review import ReviewPosts
from handlers.blocks.steering import SupplementPosts
from storage.db import transaction
from storage.models import Forum
from tests.conftest import Bot
from tests.support.forums import forum_draft

ORDINARY = 6


@pytest.fixture
def loaded() -> Iterator[list[int]]:
    """The ids of the Forum rows the ORM loads (each load of a row into a session)."""
    ids: list[int] = []

    def on_load(target: Forum, _context: Any) -> None:
        ids.append(target.id)

    event.listen(Forum, "load", on_load)
    yield ids
    event.remove(Forum, "load", on_load)


def make_forums(bot: Bot) -> dict[str, int]:
    """Six ordinary forums (default review settings), one whose review periods end in
    March and September, one with the automatic review off, and one steering forum."""
    bot.clock.set(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC))
    made: dict[str, int] = {}
    with transaction(bot.sessions) as s:
        for n in range(ORDINARY + 3):
            forum = fs.create_forum(
                s,
                bot.clock,
                team_id="T0001",
                channel_id=f"C{n:04d}",
                actor="U1",
                draft=forum_draft(name=f"Forum {n}", code=f"F{n}"),
            )
            made[f"forum{n}"] = forum.id
        march = s.get(Forum, made[f"forum{ORDINARY}"])
        off = s.get(Forum, made[f"forum{ORDINARY + 1}"])
        board = s.get(Forum, made[f"forum{ORDINARY + 2}"])
        assert march and off and board
        review.save_settings(s, march, review.ReviewSettings(auto=True, end_month=3))
        review.save_settings(s, off, review.ReviewSettings(auto=False, end_month=6))
        board.settings = {**board.settings, "steering_level": "styrgrupp"}
    return made


def run_jobs(bot: Bot) -> tuple[int, int, int]:
    """(reviews sent, annual reports sent, steering parts posted) in one pass."""
    reviews = review.send_due(bot.sessions, bot.clock, ReviewPosts(), replica="r1")
    reports = steering.send_due_annual_reports(bot.sessions, bot.clock, replica="r1")
    parts = steering.post_due_supplements(bot.sessions, bot.clock, SupplementPosts(), replica="r1")
    return reviews, reports, parts


def test_on_an_ordinary_day_no_forum_is_loaded(bot: Bot, loaded: list[int]) -> None:
    make_forums(bot)
    bot.clock.set(dt.datetime(2026, 11, 26, 7, tzinfo=dt.UTC))  # a Thursday in November
    loaded.clear()
    assert run_jobs(bot) == (0, 0, 0)
    assert loaded == []


def test_what_is_due_is_sent_once_and_then_costs_nothing(bot: Bot, loaded: list[int]) -> None:
    made = make_forums(bot)
    # Monday 4 January 2027 at 09:00 Stockholm: the first working day of the year, so the
    # reviews of the half-year that ended in December and the board's annual report are due.
    bot.clock.set(dt.datetime(2027, 1, 4, 8, tzinfo=dt.UTC))
    loaded.clear()
    reviews, reports, _parts = run_jobs(bot)
    # The six ordinary forums and the board (default settings); not the forum whose periods
    # end in March, nor the one with the review off.
    assert (reviews, reports) == (ORDINARY + 1, 1)
    assert made[f"forum{ORDINARY}"] not in loaded and made[f"forum{ORDINARY + 1}"] not in loaded
    # Sent: the next passes of the same weeks read no forum at all.
    bot.clock.advance(dt.timedelta(days=3))
    loaded.clear()
    assert run_jobs(bot) == (0, 0, 0)
    assert loaded == []
    # The forum whose periods end in March: its review is due on Thursday 1 April 2027
    # (Good Friday is the 2nd), and it is the only forum read then.
    bot.clock.set(dt.datetime(2027, 4, 1, 7, tzinfo=dt.UTC))
    loaded.clear()
    assert run_jobs(bot) == (1, 0, 0)
    assert set(loaded) == {made[f"forum{ORDINARY}"]}
