"""A day as people type it after a command (domain.day_words): Swedish and English words,
the numeric forms, and what is no day."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.day_words import parse_day, take_day

MONDAY = dt.date(2026, 11, 23)
THURSDAY = dt.date(2026, 11, 26)


@pytest.mark.parametrize(
    ("typed", "today", "day"),
    [
        ("2026-12-10", MONDAY, dt.date(2026, 12, 10)),
        ("10/12", MONDAY, dt.date(2026, 12, 10)),
        ("10.12.2026", MONDAY, dt.date(2026, 12, 10)),
        ("torsdag", MONDAY, THURSDAY),
        ("Torsdag", MONDAY, THURSDAY),
        ("på torsdag", MONDAY, THURSDAY),
        ("nästa torsdag", MONDAY, THURSDAY),
        ("tors", MONDAY, THURSDAY),
        ("thursday", MONDAY, THURSDAY),
        ("next Thursday", MONDAY, THURSDAY),
        ("on thu", MONDAY, THURSDAY),
        # A weekday is the next one after today: on a Thursday, the next week's.
        ("torsdag", THURSDAY, dt.date(2026, 12, 3)),
        ("i dag", MONDAY, MONDAY),
        ("today", MONDAY, MONDAY),
        ("i morgon", MONDAY, dt.date(2026, 11, 24)),
        ("imorgon", MONDAY, dt.date(2026, 11, 24)),
        ("tomorrow", MONDAY, dt.date(2026, 11, 24)),
        ("i övermorgon", MONDAY, dt.date(2026, 11, 25)),
        ("10 dec", MONDAY, dt.date(2026, 12, 10)),
        ("10 dec.", MONDAY, dt.date(2026, 12, 10)),
        ("10 december", MONDAY, dt.date(2026, 12, 10)),
        ("den 10 december", MONDAY, dt.date(2026, 12, 10)),
        ("10:e december", MONDAY, dt.date(2026, 12, 10)),
        ("10 Dec", MONDAY, dt.date(2026, 12, 10)),
        ("December 10", MONDAY, dt.date(2026, 12, 10)),
        ("Dec 10th, 2027", MONDAY, dt.date(2027, 12, 10)),
        ("the 10th of December", MONDAY, dt.date(2026, 12, 10)),
        ("1 maj", MONDAY, dt.date(2027, 5, 1)),  # the next one
        ("23 nov", MONDAY, MONDAY),  # today is the next one from today
        ("3 mars 2027", MONDAY, dt.date(2027, 3, 3)),
        ("torsdag 10 december", MONDAY, dt.date(2026, 12, 10)),
        ("thursday, December 10", MONDAY, dt.date(2026, 12, 10)),
    ],
)
def test_a_day_as_people_write_it(typed: str, today: dt.date, day: dt.date) -> None:
    assert parse_day(typed, today) == day


@pytest.mark.parametrize(
    "typed",
    [
        "nästa vecka",
        "lunch",
        "31/13",
        "30 februari",
        "10",
        "december",
        "10 dec 26",  # a year with a month name is written whole
        "fredag 10 december",  # 10 December 2026 is a Thursday
        "to",  # two-letter weekdays are words too ("to", "on")
        "",
    ],
)
def test_what_is_no_day(typed: str) -> None:
    assert parse_day(typed, MONDAY) is None


def test_the_day_takes_as_many_words_as_name_one() -> None:
    assert take_day(["nästa", "torsdag", "13:00"], MONDAY) == (THURSDAY, 2)
    assert take_day(["den", "10", "december", "13"], MONDAY) == (dt.date(2026, 12, 10), 3)
    assert take_day(["i", "morgon", "9"], MONDAY) == (dt.date(2026, 11, 24), 2)
    assert take_day(["2026-12-10", "<@U1>"], MONDAY) == (dt.date(2026, 12, 10), 1)
    assert take_day(["nästa", "vecka", "13:00"], MONDAY) == (None, 0)
