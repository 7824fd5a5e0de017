"""Periods for reviews and reports: forum-local calendar days, both ends included.

``/samverkan uppföljning [från] [till]`` takes no words (the last review period that has
ended), a year (``2026``), a half (``2026-h1``/``2026:1``, ``2026-h2``), one date (from then
until today) or two dates. A period that ends before it starts, starts in the future or
ends after today is refused with a clear message.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Sequence

from domain.errors import InvalidInput
from domain.i18n import N_
from domain.ids import year_value
from domain.statistics import MAX_PERIOD_DAYS, Period

HALF_RE = re.compile(r"^(\d{4})[-:/]?(?:h|halvår|halvar|half)?([12])$")


def bounds(zone: dt.tzinfo, period: Period) -> tuple[dt.datetime, dt.datetime]:
    """The period as UTC instants [start, end)."""
    start = dt.datetime.combine(period.start, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(
        period.end + dt.timedelta(days=1), dt.time(0), tzinfo=zone
    ).astimezone(dt.UTC)
    return start, end


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def review_ends(year: int, end_month: int) -> tuple[dt.date, dt.date]:
    """The two period ends of a year: the last day of ``end_month`` and six months later."""
    return _month_end(year, end_month), _month_end(year, end_month + 6)


def last_ended_half(today: dt.date, end_month: int = 6) -> Period:
    """The latest six-month review period that ended before ``today``."""
    ends = sorted(
        end
        for year in (today.year - 1, today.year)
        for end in review_ends(year, end_month)
        if end < today
    )
    end = ends[-1]
    start = _month_end(end.year if end.month > 6 else end.year - 1, (end.month - 7) % 12 + 1)
    return Period(start + dt.timedelta(days=1), end)


def halves_of(period: Period, end_month: int = 6) -> list[Period]:
    """The review periods (:func:`last_ended_half`'s six months) that make up ``period``
    exactly, oldest first, when it is two or more of them (a year of halves); else []."""
    halves = sorted(
        (
            last_ended_half(end + dt.timedelta(days=1), end_month)
            for year in range(period.start.year - 1, period.end.year + 1)
            for end in review_ends(year, end_month)
        ),
        key=lambda half: half.start,
    )
    inside = [h for h in halves if period.start <= h.start and h.end <= period.end]
    tiles = (
        len(inside) >= 2
        and inside[0].start == period.start
        and inside[-1].end == period.end
        and all(a.end + dt.timedelta(days=1) == b.start for a, b in itertools.pairwise(inside))
    )
    return inside if tiles else []


def check(period: Period, today: dt.date) -> Period:
    if period.end < period.start:
        raise InvalidInput(N_("The period ends before it starts."), field="period")
    if period.start > today:
        raise InvalidInput(N_("The period lies in the future."), field="period")
    if period.end > today:
        raise InvalidInput(
            N_("The period ends in the future: end it today ({today}) at the latest."),
            field="period",
            today=today.isoformat(),
        )
    if (period.end - period.start).days > MAX_PERIOD_DAYS:
        raise InvalidInput(N_("Choose a period of at most three years."), field="period")
    return period


def parse_review_period(words: Sequence[str], today: dt.date, *, end_month: int = 6) -> Period:
    bad = InvalidInput(
        N_(
            "Give the period as two dates (2026-01-01 2026-06-30), a half-year (2026-h1), "
            "a year (2025), or nothing for the last half-year."
        ),
        field="period",
    )
    if not words:
        return last_ended_half(today, end_month)
    if len(words) == 1:
        word = words[0].casefold()
        year = year_value(word)
        if year is not None:
            if not 2000 <= year <= 2100:
                raise bad
            return check(Period(dt.date(year, 1, 1), dt.date(year, 12, 31)), today)
        half = HALF_RE.match(word)
        if half:
            year, which = int(half.group(1)), int(half.group(2))
            if not 2000 <= year <= 2100:
                raise bad
            if which == 1:
                return check(Period(dt.date(year, 1, 1), dt.date(year, 6, 30)), today)
            return check(Period(dt.date(year, 7, 1), dt.date(year, 12, 31)), today)
        try:
            start = dt.date.fromisoformat(words[0])
        except ValueError:
            raise bad from None
        return check(Period(start, today), today)
    if len(words) == 2:
        try:
            start, end = dt.date.fromisoformat(words[0]), dt.date.fromisoformat(words[1])
        except ValueError:
            raise bad from None
        return check(Period(start, end), today)
    raise bad
