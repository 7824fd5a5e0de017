"""Schedules in words (issue #15, point 8): the modal's choices → an RRULE → words, and the
rules forums already have in words; a rule with no simple wording is shown as it is."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.forums.drafts import TEMPLATES
from domain.i18n import Translator
from domain.schedule import validate_schedule
from domain.schedule_words import (
    SchedulePick,
    describe,
    pick_of,
    rrule_for,
    schedule_words,
    time_range,
)

SV, EN = Translator("sv"), Translator("en")
ONE, THREE = dt.time(13, 0), dt.time(15, 0)
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("pick", "rule", "swedish", "english"),
    [
        (
            SchedulePick(("TH",)),
            "FREQ=WEEKLY;BYDAY=TH",
            "varje torsdag 13:00–15:00",
            "every Thursday 13:00–15:00",
        ),
        (
            SchedulePick(("TH",), "every_other"),
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
            "varannan torsdag 13:00–15:00",
            "every other Thursday 13:00–15:00",
        ),
        (
            SchedulePick(("TH", "MO"), "every"),
            "FREQ=WEEKLY;BYDAY=MO,TH",
            "varje måndag och torsdag 13:00–15:00",
            "every Monday and Thursday 13:00–15:00",
        ),
        (
            SchedulePick(("TH",), "monthly", (3, 1)),
            "FREQ=MONTHLY;BYDAY=1TH,3TH",
            "första och tredje torsdagen i månaden 13:00–15:00",
            "the first and third Thursday of the month 13:00–15:00",
        ),
        (
            SchedulePick(("FR",), "monthly", (-1,)),
            "FREQ=MONTHLY;BYDAY=-1FR",
            "sista fredagen i månaden 13:00–15:00",
            "the last Friday of the month 13:00–15:00",
        ),
    ],
)
def test_choices_make_a_rule_that_reads_back_in_words(
    pick: SchedulePick, rule: str, swedish: str, english: str
) -> None:
    assert rrule_for(pick) == rule
    assert describe(rule, ONE, THREE, SV) == swedish
    assert describe(rule, ONE, THREE, EN) == english
    # The rule is one the scheduler accepts, and the modal shows the same choices again.
    validate_schedule(rule, ONE, THREE, "Europe/Stockholm", NOW)
    again = pick_of(rule)
    assert again is not None and rrule_for(again) == rule


@pytest.mark.parametrize(
    ("rule", "swedish", "english"),
    [
        ("FREQ=WEEKLY;BYDAY=TH", "varje torsdag", "every Thursday"),  # FOSSAM
        ("FREQ=MONTHLY;BYDAY=1TH,3TH", "första och tredje torsdagen i månaden", None),  # OSF
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", "varannan torsdag", "every other Thursday"),  # SSPF
        ("RRULE:freq=weekly;byday=tu", "varje tisdag", "every Tuesday"),
        ("FREQ=WEEKLY;INTERVAL=3;BYDAY=WE", "var tredje onsdag", "every third Wednesday"),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "varje vardag", "every weekday"),
        ("FREQ=WEEKLY;WKST=MO;INTERVAL=2;BYDAY=TH", "varannan torsdag", None),
        ("FREQ=DAILY", "varje dag", "every day"),
    ],
)
def test_existing_rules_read_in_words(rule: str, swedish: str, english: str | None) -> None:
    assert schedule_words(rule, SV) == swedish
    if english:
        assert schedule_words(rule, EN) == english


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MONTHLY;BYMONTHDAY=15",
        "FREQ=YEARLY;BYMONTH=3,13;BYDAY=2TH",
        "FREQ=WEEKLY;BYMONTH=1,2,3,4,5,6;BYDAY=TH",
        "FREQ=MONTHLY;BYMONTH=1,2;BYMONTH=3;BYDAY=2TU",
        "FREQ=WEEKLY;BYDAY=TH;COUNT=10",
        "FREQ=WEEKLY;INTERVAL=6;BYDAY=TH",
        "FREQ=MONTHLY;BYDAY=1MO,3TH",
        "FREQ=MONTHLY;BYDAY=TH;BYSETPOS=2",
        "not a rule",
    ],
)
def test_a_rule_without_a_simple_wording_is_shown_as_it_is(rule: str) -> None:
    assert schedule_words(rule, SV) is None
    assert describe(rule, ONE, THREE, SV) == f"{rule} 13:00–15:00"
    assert pick_of(rule) is None


@pytest.mark.parametrize(
    ("rule", "swedish", "english"),
    [
        (
            "FREQ=MONTHLY;BYMONTH=1,2,3,4,5,6,8,9,10,11,12;BYDAY=2TU",
            "andra tisdagen i månaden utom i juli",
            "the second Tuesday of the month except in July",
        ),
        (
            "FREQ=YEARLY;BYMONTH=2,5,10;BYDAY=1TU",
            "första tisdagen i februari, maj och oktober",
            "the first Tuesday of February, May, and October",
        ),
        ("FREQ=YEARLY;BYMONTH=3;BYDAY=2TH", "andra torsdagen i mars", None),
        (
            "FREQ=WEEKLY;BYDAY=TH;BYMONTH=1,2,3,4,5,6,9,10,11,12",
            "varje torsdag utom i juli och augusti",
            None,
        ),
        ("FREQ=WEEKLY;BYDAY=TH;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12", "varje torsdag", None),
    ],
)
def test_a_rule_for_some_months_reads_in_words(
    rule: str, swedish: str, english: str | None
) -> None:
    assert schedule_words(rule, SV) == swedish
    if english:
        assert schedule_words(rule, EN) == english
    assert pick_of(rule) is None  # the modal keeps it under "Avancerat"


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_every_templates_schedule_reads_in_words(key: str) -> None:
    # The steering group's and the 2+2 meeting's rules were shown as raw RRULEs wherever a
    # schedule is shown (App Home, /samverkan forum, the channel's welcome).
    rule = TEMPLATES[key].rrule
    assert schedule_words(rule, SV), rule
    assert schedule_words(rule, EN), rule


def test_choices_that_do_not_make_a_rule() -> None:
    assert rrule_for(SchedulePick(())) is None
    assert rrule_for(SchedulePick(("TH",), "monthly", ())) is None


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        (dt.time(13, 0), dt.time(15, 0), "13:00–15:00"),
        (dt.time(9, 30), dt.time(11, 0), "09:30–11:00"),
        (dt.time(11, 0), dt.time(13, 0), "11:00–13:00"),
        (dt.time(8, 15), dt.time(12, 0), "08:15–12:00"),
    ],
)
def test_times_read_on_the_24_hour_clock_in_both_languages(
    start: dt.time, end: dt.time, shown: str
) -> None:
    # English too: agenda headers and meeting lists show 13:00, so the schedule does.
    assert time_range(start, end) == shown
