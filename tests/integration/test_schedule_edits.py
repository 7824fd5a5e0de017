"""A forum's schedule edited on a meeting day, through the real app and the scheduler pass:
the meeting whose agenda is posted (or that has started) stays as announced, the new
schedule applies from the next meeting on, and no second agenda is posted that day."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from storage.models import Meeting, MeetingStatus
from tests.conftest import Bot
from tests.integration.test_forum_flow import blocks_of, calendar_values, forum_values
from tests.support.agenda_flow import (
    CHANNEL,
    STHLM,
    channel_posts,
    dms_to,
    local,
    raise_a_case,
    setup_forum,
    text_of,
    tick,
)
from tests.support.forums import settings_saved


def edit_schedule(bot: Bot, **fields: Any) -> None:
    values = forum_values(own=None, **fields)
    response = bot.driver.view_submission(
        "forum_edit",
        values,
        user="U1",
        private_metadata=json.dumps({"locale": "sv", "channel_id": CHANNEL, "forum_id": 1}),
        blocks=blocks_of(values),
    )
    assert settings_saved(response), response.body


def planned(bot: Bot, count: int = 3) -> list[dt.datetime]:
    with bot.sessions() as s:
        starts = s.scalars(
            select(Meeting.starts_at)
            .where(Meeting.status == MeetingStatus.PLANNED)
            .order_by(Meeting.starts_at)
            .limit(count)
        )
        return [m.replace(tzinfo=m.tzinfo or dt.UTC).astimezone(STHLM) for m in starts]


def test_a_new_time_after_the_agenda_is_posted_starts_with_the_next_meeting(bot: Bot) -> None:
    setup_forum(bot)
    raise_a_case(bot)
    tick(bot, local(2026, 11, 26, 8, 0))
    assert len(channel_posts(bot)) == 1
    bot.clock.set(local(2026, 11, 26, 9, 0))
    edit_schedule(bot, start="14:00", end="16:00")
    for hour in (9, 10, 12):
        tick(bot, local(2026, 11, 26, hour, 30))
    posts = channel_posts(bot)
    assert len(posts) == 1, [text_of(p)[:120] for p in posts]  # no second agenda today
    assert planned(bot) == [
        local(2026, 11, 26, 13, 0),  # as the posted agenda says
        local(2026, 12, 3, 14, 0),
        local(2026, 12, 10, 14, 0),
    ]
    tick(bot, local(2026, 12, 3, 8, 0))
    assert "torsdag 3 december 14:00–16:00" in text_of(channel_posts(bot)[-1])


def test_another_weekday_after_the_agenda_is_posted_keeps_todays_meeting(bot: Bot) -> None:
    setup_forum(bot)
    raise_a_case(bot)
    tick(bot, local(2026, 11, 26, 8, 0))
    bot.clock.set(local(2026, 11, 26, 9, 0))
    edit_schedule(bot, rrule="FREQ=WEEKLY;BYDAY=TU")
    tick(bot, local(2026, 11, 26, 9, 30))
    assert planned(bot, 2) == [local(2026, 11, 26, 13, 0), local(2026, 12, 1, 13, 0)]


def test_a_schedule_edited_during_the_meeting_plans_no_second_meeting_that_day(
    bot: Bot,
) -> None:
    setup_forum(bot)
    tick(bot, local(2026, 11, 26, 8, 0))
    bot.clock.set(local(2026, 11, 26, 13, 30))
    edit_schedule(bot, start="14:00", end="16:00")
    for minute in (31, 45, 90):
        tick(bot, local(2026, 11, 26, 13, 0) + dt.timedelta(minutes=minute))
    assert len(channel_posts(bot)) == 1
    assert planned(bot, 2) == [local(2026, 11, 26, 13, 0), local(2026, 12, 3, 14, 0)]


def test_a_schedule_edited_before_the_agenda_time_moves_todays_meeting(bot: Bot) -> None:
    setup_forum(bot)
    raise_a_case(bot)
    bot.clock.set(local(2026, 11, 26, 7, 0))
    edit_schedule(bot, start="14:00", end="16:00")
    tick(bot, local(2026, 11, 26, 8, 0))
    posts = channel_posts(bot)
    assert len(posts) == 1
    assert "torsdag 26 november 14:00–16:00" in text_of(posts[0])


def test_holidays_moved_earlier_on_the_day_before_do_not_plan_a_meeting_in_the_past(
    bot: Bot,
) -> None:
    """Ascension Day 2027 is Thursday 6 May. Switched to "the working day before" on the
    Wednesday afternoon, the meeting cannot be held on Wednesday 13:00 any more: it stays
    cancelled for the holiday (no meeting in the past, no 'agenda missed' message)."""
    bot.clock.set(local(2027, 5, 5, 7, 0))
    setup_forum(bot)
    bot.clock.set(local(2027, 5, 5, 14, 0))
    values = {**forum_values(own=None), **calendar_values("earlier", [], "08:00")}
    response = bot.driver.view_submission(
        "forum_edit",
        values,
        user="U1",
        private_metadata=json.dumps({"locale": "sv", "channel_id": CHANNEL, "forum_id": 1}),
        blocks=blocks_of(values),
    )
    assert settings_saved(response), response.body
    for minute in (1, 5, 60):
        tick(bot, local(2027, 5, 5, 14, 0) + dt.timedelta(minutes=minute))
    assert dms_to(bot, "U1") == []
    with bot.sessions() as s:
        first = s.scalars(select(Meeting).order_by(Meeting.starts_at)).first()
        assert first is not None
        assert (first.status, first.holiday) == (MeetingStatus.CANCELLED, dt.date(2027, 5, 6))


def test_another_weekday_after_an_agenda_days_before_plans_no_second_meeting_that_week(
    bot: Bot,
) -> None:
    """Agendas go out two working days before: Thursday 3 December's on Tuesday 08:00. The
    forum switches to Wednesdays that Tuesday. Thursday stays as its agenda says; Wednesday
    2 December, whose agenda time (Monday) has passed, is not planned (before, it was, and
    its agenda went out at once, late: two meetings that week). The new weekday starts the
    week after."""
    setup_forum(bot, agenda_days_before=2)
    tick(bot, local(2026, 12, 1, 8, 0))
    assert "torsdag 3 december" in text_of(channel_posts(bot)[0])
    bot.clock.set(local(2026, 12, 1, 9, 0))
    edit_schedule(bot, rrule="FREQ=WEEKLY;BYDAY=WE")
    for minute in (1, 30, 120):
        tick(bot, local(2026, 12, 1, 9, 0) + dt.timedelta(minutes=minute))
    assert len(channel_posts(bot)) == 1, [text_of(p)[:120] for p in channel_posts(bot)]
    assert planned(bot, 4) == [
        local(2026, 11, 26, 13, 0),  # last week's
        local(2026, 12, 3, 13, 0),  # as the posted agenda says
        local(2026, 12, 9, 13, 0),
        local(2026, 12, 16, 13, 0),
    ]
    tick(bot, local(2026, 12, 7, 8, 0))  # two working days before Wednesday 9 December
    assert "onsdag 9 december" in text_of(channel_posts(bot)[-1])
    assert len(channel_posts(bot)) == 2
