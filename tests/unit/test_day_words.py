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


@pytest.mark.parametrize(
    ("typed", "today", "day"),
    [
        # 29 February typed without a year is the next one, also from a year that has none
        # (it was refused as no day at all).
        ("29 februari", dt.date(2027, 3, 1), dt.date(2028, 2, 29)),
        ("29/2", dt.date(2027, 1, 10), dt.date(2028, 2, 29)),
        ("feb 29th", dt.date(2028, 3, 1), dt.date(2032, 2, 29)),
        ("29 feb", dt.date(2028, 2, 29), dt.date(2028, 2, 29)),
        ("29 feb", dt.date(2096, 3, 1), dt.date(2104, 2, 29)),  # 2100 is no leap year
    ],
)
def test_the_29th_of_february_is_the_next_one(typed: str, today: dt.date, day: dt.date) -> None:
    assert parse_day(typed, today) == day


@pytest.mark.parametrize(
    "typed",
    [
        "31 februari",
        "29 feb 2027",
        "31/4",
        "31 dec 10000",
        "0 dec",
        "torsdag torsdag",
        "torsdag " * 5000,
        "på " * 20_000 + "torsdag x",
        "1" * 100_000,
        "10/" + "1" * 100_000,
        "den " + "10 " * 50_000,
    ],
)
def test_what_names_no_day_is_none_however_long(typed: str) -> None:
    assert parse_day(typed, MONDAY) is None
    day, used = take_day(typed.split(), MONDAY)  # the first words only: none, or a day
    assert (day is None) == (used == 0)
