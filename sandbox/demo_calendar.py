"""When things happen in the demo forums, for the page's clock buttons.

The sandbox never asks the bot (it only speaks Slack to it), so these times come from what
the sandbox itself set up: the FOSSAM-like forum meets every Thursday 13:00 and the OSF-like
forum on the first and third Thursday (their templates), with the bot's defaults — meetings on
Swedish public holidays and on Midsummer, Christmas and New Year's Eve are skipped, the agenda
is posted on the meeting day at 08:00, and a rating round opens five days before the meeting
at 08:00 and closes the day before at 12:00, both moved back to a working day.

A forum whose schedule or situation-picture settings a visitor changes no longer follows
these times: the page's date field moves the clock anywhere.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import holidays

__all__ = [
    "FOSSAM",
    "OSF",
    "DemoSchedule",
    "agenda_after",
    "deadline_after",
    "meetings_after",
    "review_after",
    "round_opens_after",
    "working_day",
]

AGENDA_TIME = dt.time(8, 0)
ROUND_OPENS = dt.time(8, 0)
ROUND_DAYS_BEFORE = 5
DEADLINE_TIME = dt.time(12, 0)
DEADLINE_DAYS_BEFORE = 1
MEETING_START = dt.time(13, 0)
DAYS_OFF = ("Midsummer Eve", "Christmas Eve", "New Year's Eve")
SEARCH_DAYS = 1000  # how far ahead a jump looks (lazily: the next one is days away)


@functools.lru_cache(maxsize=16)
def _days_off(year: int) -> frozenset[dt.date]:
    public = holidays.country_holidays(
        "SE", years=year, language="en_US", categories=("public",), include_sundays=False
    )
    de_facto = holidays.country_holidays(
        "SE", years=year, language="en_US", categories=("de_facto",), include_sundays=False
    )
    return frozenset(public) | frozenset(d for d, name in de_facto.items() if name in DAYS_OFF)


def working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _days_off(day.year)


def _every_thursday(day: dt.date) -> bool:
    return day.weekday() == 3


def _first_and_third_thursday(day: dt.date) -> bool:
    return day.weekday() == 3 and (day.day - 1) // 7 in (0, 2)


@dataclass(frozen=True)
class DemoSchedule:
    name: str
    meets_on: Callable[[dt.date], bool]
    rates: bool
    """Whether the seeded forum opens a rating round before every meeting."""


FOSSAM = DemoSchedule("FOSSAM", _every_thursday, rates=False)
OSF = DemoSchedule("OSF", _first_and_third_thursday, rates=True)


def _meeting_days(schedule: DemoSchedule, start: dt.date) -> Iterator[dt.date]:
    for offset in range(SEARCH_DAYS):
        day = start + dt.timedelta(days=offset)
        if schedule.meets_on(day) and working_day(day):
            yield day


def meetings_after(schedule: DemoSchedule, now: dt.datetime, zone: dt.tzinfo) -> Iterator[dt.date]:
    """Meeting days whose meeting has not started yet."""
    local = now.astimezone(zone)
    for day in _meeting_days(schedule, local.date()):
        if dt.datetime.combine(day, MEETING_START, zone) > local:
            yield day


def _back_to_working_day(day: dt.date) -> dt.date:
    for _ in range(10):
        if working_day(day):
            break
        day -= dt.timedelta(days=1)
    return day


def round_times(meeting_day: dt.date, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """When the round before the meeting on ``meeting_day`` opens, and its deadline."""
    deadline_day = meeting_day - dt.timedelta(days=DEADLINE_DAYS_BEFORE)
    if not working_day(deadline_day):
        deadline_day = _back_to_working_day(deadline_day)
    deadline = dt.datetime.combine(deadline_day, DEADLINE_TIME, zone)
    open_day = _back_to_working_day(meeting_day - dt.timedelta(days=ROUND_DAYS_BEFORE))
    opens = dt.datetime.combine(open_day, ROUND_OPENS, zone)
    if opens >= deadline:
        opens = deadline - dt.timedelta(days=1)
    return opens, deadline


def _first_after(times: Iterator[dt.datetime], now: dt.datetime) -> dt.datetime | None:
    return next((t for t in times if t > now), None)


def agenda_after(schedule: DemoSchedule, now: dt.datetime, zone: dt.tzinfo) -> dt.datetime | None:
    """The next time the forum's agenda is posted (meeting day 08:00), after ``now``."""
    times = (dt.datetime.combine(d, AGENDA_TIME, zone) for d in meetings_after(schedule, now, zone))
    return _first_after(times, now)


def round_opens_after(
    schedule: DemoSchedule, now: dt.datetime, zone: dt.tzinfo
) -> dt.datetime | None:
    """The next time a rating round opens, after ``now``."""
    if not schedule.rates:
        return None
    times = (round_times(d, zone)[0] for d in meetings_after(schedule, now, zone))
    return _first_after(times, now)


def deadline_after(schedule: DemoSchedule, now: dt.datetime, zone: dt.tzinfo) -> dt.datetime | None:
    """The next rating deadline (the round closes and the picture is posted), after ``now``."""
    if not schedule.rates:
        return None
    times = (round_times(d, zone)[1] for d in meetings_after(schedule, now, zone))
    return _first_after(times, now)


REVIEW_TIME = dt.time(8, 0)


def review_after(now: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """When the demo forums' half-year review goes out by itself: the first working day
    after 30 June or 31 December, 08:00 (the bot's default review setting)."""
    local = now.astimezone(zone)
    for year in (local.year, local.year + 1):
        for month in (7, 1):
            start = dt.date(year if month == 7 else year + 1, month, 1)
            day = start
            while not working_day(day):
                day += dt.timedelta(days=1)
            moment = dt.datetime.combine(day, REVIEW_TIME, zone)
            if moment > local:
                return moment
    raise AssertionError("unreachable: a review is due within a year")
