"""A day as people type it after a command (``/samverkan möten extra``, ``/samverkan
borta``, ``… lägesbild export``): the numeric forms (``2026-12-10``, ``10/12``,
``10.12.2026``) and the words people write, in Swedish and English alike: ``i dag``/
``today``, ``i morgon``/``tomorrow``, ``i övermorgon``, a weekday (``torsdag``, ``på
torsdag``, ``nästa torsdag``, ``thursday``, ``next thursday``: the next such day *after*
today), and a day of a month (``10 dec``, ``10 december``, ``den 10 december``, ``10
December 2026``, ``December 10``, ``Dec 10th``). The month and weekday names are Babel's
locale data (wide and abbreviated, Swedish and English), not a table of our own.

"Today" is the caller's: the day in the forum's time zone by the injected clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence

from babel.dates import get_day_names, get_month_names

from domain.errors import check_date
from domain.i18n import N_

MSG_NOT_A_DAY = N_(
    "I could not read “{text}” as a day. Write it like 2026-12-10, 10/12, 10 December, "
    "Thursday or tomorrow."
)

DMY_RE = re.compile(r"^(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))?$")
# A day of the month in words: "10", "10.", "10th", "1st", "10:e", "1:a".
_DAY_NUMBER = re.compile(r"^(\d{1,2})(?:st|nd|rd|th|:e|:a)?\.?$")
_YEAR = re.compile(r"^\d{4}$")
# Words before a day that say nothing about which day: "på torsdag", "nästa torsdag", "den
# 10 december", "on thursday", "next thursday", "on the 10th of December".
_LEADING = frozenset({"på", "nästa", "kommande", "den", "on", "next", "this", "the"})
_OF = frozenset({"of"})
_RELATIVE: dict[str, int] = {
    "idag": 0,
    "i dag": 0,
    "today": 0,
    "imorgon": 1,
    "i morgon": 1,
    "tomorrow": 1,
    "övermorgon": 2,
    "i övermorgon": 2,
    "the day after tomorrow": 2,
    "day after tomorrow": 2,
}
# How many words a day may take ("på den 10 december 2026"): what :func:`take_day` tries.
MAX_WORDS = 6
_LOCALES = ("sv", "en")


def _plain(name: str) -> str:
    return name.casefold().rstrip(".")


@functools.cache
def _months() -> dict[str, int]:
    """Month name → number: Babel's wide and abbreviated names, in both contexts, Swedish
    and English ("december", "dec", "maj", "may", "mars", "march")."""
    found: dict[str, int] = {}
    for locale in _LOCALES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, locale).items():
                    found[_plain(str(name))] = int(number)
    return found


@functools.cache
def _weekdays() -> dict[str, int]:
    """Weekday name → ``date.weekday()``: Babel's wide and abbreviated names, Swedish and
    English ("torsdag", "tors", "thursday", "thu"; not the two-letter ones: "to", "on")."""
    found: dict[str, int] = {}
    for locale in _LOCALES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_day_names(width, context, locale).items():
                    found[_plain(str(name))] = int(number)
    return found


def parse_day(text: str, today: dt.date) -> dt.date | None:
    """The day ``text`` names, or None when it names none. A day-month without a year is
    the next such day from today (today included); a weekday the next one after today. A
    day outside the years any date here may have (year 1, 9999) is refused
    (``domain.errors.check_date``)."""
    return check_date(_day(text, today))


def take_day(words: Sequence[str], today: dt.date) -> tuple[dt.date | None, int]:
    """The day the first words name (as many as make one, "nästa torsdag 13:00" →
    ``(thursday, 2)``), and how many words it took; ``(None, 0)`` when no first words do."""
    for size in range(min(len(words), MAX_WORDS), 0, -1):
        day = parse_day(" ".join(words[:size]), today)
        if day is not None:
            return day, size
    return None, 0


def _day(text: str, today: dt.date) -> dt.date | None:
    text = text.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    words = text.casefold().replace(",", " ").split()
    skip = 0
    while skip < len(words) and words[skip] in _LEADING:
        skip += 1
    words = words[skip:]
    if not words:
        return None
    phrase = " ".join(words)
    if phrase in _RELATIVE:
        return today + dt.timedelta(days=_RELATIVE[phrase])
    weekday = _weekdays().get(_plain(words[0]))
    if weekday is not None:
        if len(words) == 1:
            return today + dt.timedelta(days=(weekday - today.weekday()) % 7 or 7)
        # "torsdag 10 december", "thursday, december 10": the date, if it is that weekday
        # (one weekday only: "torsdag torsdag …" names none, and recurses no deeper).
        if _weekdays().get(_plain(words[1])) is not None:
            return None
        day = _day(" ".join(words[1:]), today)
        return day if day is not None and day.weekday() == weekday else None
    if len(words) == 1:
        return _numeric(words[0], today)
    return _in_words([w for w in words if w not in _OF], today)


def _numeric(text: str, today: dt.date) -> dt.date | None:
    match = DMY_RE.match(text)
    if match is None:
        return None
    day, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
    full = int(year) + (2000 if len(year) == 2 else 0) if year else None
    return _date(full, month, day, today)


def _in_words(words: list[str], today: dt.date) -> dt.date | None:
    """ "10 december", "10 dec 2026", "december 10", "dec 10th 2026"."""
    if len(words) not in (2, 3):
        return None
    year: int | None = None
    if len(words) == 3:
        if not _YEAR.match(words[2]):
            return None
        year = int(words[2])
    first, second = words[0], words[1]
    months = _months()
    number = _DAY_NUMBER.match(first)
    if number is not None and _plain(second) in months:
        return _date(year, months[_plain(second)], int(number.group(1)), today)
    number = _DAY_NUMBER.match(second)
    if number is not None and _plain(first) in months:
        return _date(year, months[_plain(first)], int(number.group(1)), today)
    return None


def _date(year: int | None, month: int, day: int, today: dt.date) -> dt.date | None:
    """That day of that year; without a year the next such day from today."""
    if year is not None:
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    # The next year that has the day (29 February: up to 8 years on, 2096 → 2104).
    for ahead in range(9):
        try:
            candidate = dt.date(today.year + ahead, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None
