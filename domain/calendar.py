"""A forum's calendar: which days are days off (Swedish public holidays from the `holidays`
package, plus the de facto days off a forum chooses) and when its agenda is posted.

Kept apart from meetings and forums so both can use it (forums checks the choices a
coordinator makes; meetings plans with them).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidInput
from domain.i18n import N_, Locale, Translator

DEFAULT_AGENDA_TIME = dt.time(8, 0)


class HolidayPolicy(enum.StrEnum):
    SKIP = "skip"
    EARLIER = "earlier"  # the working day before
    LATER = "later"  # the working day after


# Days that are not public holidays but that many municipalities treat as days off. In the
# `holidays` package they are in the DE_FACTO category (pinned version in pyproject).
EXTRA_DAYS_OFF: dict[str, str] = {
    "midsummer_eve": "Midsummer Eve",
    "christmas_eve": "Christmas Eve",
    "new_years_eve": "New Year's Eve",
}
EXTRA_DAY_LABELS: dict[str, str] = {
    "midsummer_eve": N_("Midsummer Eve"),
    "christmas_eve": N_("Christmas Eve"),
    "new_years_eve": N_("New Year's Eve"),
}


@dataclass(frozen=True)
class ForumCalendar:
    """The per-forum choices that decide when meetings and agendas happen."""

    holiday_policy: HolidayPolicy = HolidayPolicy.SKIP
    extra_days_off: frozenset[str] = frozenset(EXTRA_DAYS_OFF)
    agenda_time: dt.time = DEFAULT_AGENDA_TIME
    agenda_days_before: int = 0

    def as_settings(self) -> dict[str, Any]:
        return {
            "holiday_policy": self.holiday_policy.value,
            "extra_days_off": sorted(self.extra_days_off),
            "agenda_time": self.agenda_time.strftime("%H:%M"),
            "agenda_days_before": self.agenda_days_before,
        }


def check_calendar(
    meeting_start: dt.time,
    *,
    holiday_policy: str,
    extra_days_off: Sequence[str],
    agenda_time: dt.time | None,
    agenda_days_before: int,
) -> ForumCalendar:
    """Check calendar choices a coordinator made; raise :class:`InvalidInput` on the field."""
    try:
        policy = HolidayPolicy(holiday_policy)
    except ValueError:
        raise InvalidInput(
            N_("Choose what happens on public holidays."), field="holidays"
        ) from None
    time = agenda_time or DEFAULT_AGENDA_TIME
    if time.hour == 2:
        raise InvalidInput(
            N_(
                "Times between 02:00 and 02:59 are skipped or repeated when daylight saving "
                "time changes. Choose another time."
            ),
            field="agenda_time",
        )
    if not 0 <= agenda_days_before <= 7:
        raise InvalidInput(N_("Post the agenda at most 7 days before."), field="agenda_days")
    if agenda_days_before == 0 and time >= meeting_start:
        raise InvalidInput(
            N_("The agenda must be posted before the meeting starts ({time})."),
            field="agenda_time",
            time=meeting_start.strftime("%H:%M"),
        )
    return ForumCalendar(
        policy,
        frozenset(k for k in extra_days_off if k in EXTRA_DAYS_OFF),
        time,
        agenda_days_before,
    )


def calendar_from_settings(raw: Mapping[str, Any] | None) -> ForumCalendar:
    """The calendar choices stored in a forum's settings; anything missing or unreadable
    takes the default."""
    raw = raw or {}
    default = ForumCalendar()
    try:
        policy = HolidayPolicy(raw.get("holiday_policy", default.holiday_policy))
    except ValueError:
        policy = default.holiday_policy
    extra_raw = raw.get("extra_days_off")
    extra = (
        frozenset(k for k in extra_raw if k in EXTRA_DAYS_OFF)
        if isinstance(extra_raw, list)
        else default.extra_days_off
    )
    try:
        agenda_time = dt.time.fromisoformat(str(raw.get("agenda_time", "08:00")))
    except ValueError:
        agenda_time = default.agenda_time
    days_before = raw.get("agenda_days_before", 0)
    if not isinstance(days_before, int) or not 0 <= days_before <= 7:
        days_before = 0
    return ForumCalendar(policy, extra, agenda_time, days_before)


# --- holidays -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _public_holidays(year: int, language: str) -> dict[dt.date, str]:
    import holidays  # here, not at the top: ~3.5 MB that an idle process need not hold

    # include_sundays=False: the package counts every Sunday as a Swedish holiday otherwise.
    days = holidays.country_holidays(
        "SE", years=year, language=language, categories=("public",), include_sundays=False
    )
    return dict(days.items())


@functools.lru_cache(maxsize=64)
def _de_facto(year: int) -> dict[dt.date, str]:
    """Date → key in EXTRA_DAYS_OFF for the de facto days off of ``year``."""
    import holidays

    days = holidays.country_holidays(
        "SE", years=year, language="en_US", categories=("de_facto",), include_sundays=False
    )
    by_name = {name: key for key, name in EXTRA_DAYS_OFF.items()}
    return {day: by_name[name] for day, name in days.items() if name in by_name}


def day_off(day: dt.date, calendar: ForumCalendar) -> bool:
    """A Swedish public holiday, or a de facto day off the forum chose."""
    if day in _public_holidays(day.year, "sv"):
        return True
    key = _de_facto(day.year).get(day)
    return key is not None and key in calendar.extra_days_off


def working_day(day: dt.date, calendar: ForumCalendar) -> bool:
    return day.weekday() < 5 and not day_off(day, calendar)


def holiday_name(day: dt.date, locale: Locale) -> str | None:
    """The day's holiday name in the user's language, for messages."""
    language = "sv" if locale == "sv" else "en_US"
    name = _public_holidays(day.year, language).get(day)
    if name:
        return name
    key = _de_facto(day.year).get(day)
    return Translator(locale)(EXTRA_DAY_LABELS[key]) if key else None


def first_working_day(day: dt.date, calendar: ForumCalendar) -> dt.date:
    """``day`` itself, or the first working day after it (weekends and days off skipped)."""
    for _ in range(30):
        if working_day(day, calendar):
            return day
        day += dt.timedelta(days=1)
    return day
