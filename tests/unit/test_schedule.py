"""Meeting schedules: what a coordinator may type, and when the meetings fall (Europe/Stockholm).

"Now" is always a fixed aware instant: the clock is injected, schedules never read the time.
"""

from __future__ import annotations

import datetime as dt
import itertools
import subprocess
import sys
import textwrap
import threading
import zoneinfo
from pathlib import Path

import pytest

from domain.errors import InvalidInput
from domain.schedule import (
    DEFAULT_END,
    DEFAULT_RRULE,
    DEFAULT_START,
    Schedule,
    next_occurrences,
    occurrences,
    validate_schedule,
)

ROOT = Path(__file__).resolve().parents[2]
TZ = "Europe/Stockholm"
ZONE = zoneinfo.ZoneInfo(TZ)
STOCKHOLM = zoneinfo.ZoneInfo(TZ)
# Monday 23 November 2026, 10:00 in Stockholm.
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
ONE = dt.timedelta(hours=1)
TWO = dt.timedelta(hours=2)


def validate(
    rule: str,
    start: dt.time = DEFAULT_START,
    end: dt.time = DEFAULT_END,
    now: dt.datetime = NOW,
) -> Schedule:
    return validate_schedule(rule, start, end, TZ, now)


def refusal(rule: str, start: dt.time = DEFAULT_START, end: dt.time = DEFAULT_END) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        validate(rule, start, end)
    return info.value


def local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(STOCKHOLM)


def dates(moments: list[dt.datetime]) -> list[dt.date]:
    return [local(m).date() for m in moments]


# --- what is accepted ------------------------------------------------------------------------


def test_default_rule_is_every_thursday_13_to_15() -> None:
    schedule = validate(DEFAULT_RRULE)

    # Anchored on the first meeting from now (Monday 23 Nov -> Thursday 26 Nov).
    assert schedule == Schedule(
        "FREQ=WEEKLY;BYDAY=TH", dt.time(13, 0), 120, TZ, dt.date(2026, 11, 26)
    )
    assert dates(next_occurrences(schedule, NOW, 3)) == [
        dt.date(2026, 11, 26),
        dt.date(2026, 12, 3),
        dt.date(2026, 12, 10),
    ]


def test_osf_meets_on_first_and_third_thursday_of_the_month() -> None:
    schedule = validate("FREQ=MONTHLY;BYDAY=1TH,3TH")

    assert schedule.rrule == "FREQ=MONTHLY;BYDAY=1TH,3TH"
    assert dates(next_occurrences(schedule, NOW, 4)) == [
        dt.date(2026, 12, 3),
        dt.date(2026, 12, 17),
        dt.date(2027, 1, 7),
        dt.date(2027, 1, 21),
    ]


@pytest.mark.parametrize(
    "typed",
    [
        "rrule:freq=weekly;byday=th",
        "RRULE:FREQ=WEEKLY;BYDAY=TH",
        "  rrule: freq=weekly; byday=th  ",
        "freq = weekly ;\n byday = th",
        "\tFREQ=WEEKLY;BYDAY=th\n",
    ],
)
def test_rule_is_normalized(typed: str) -> None:
    assert validate(typed).rrule == "FREQ=WEEKLY;BYDAY=TH"


def test_until_in_the_future_is_accepted_and_ends_the_meetings() -> None:
    schedule = validate("FREQ=WEEKLY;BYDAY=TH;UNTIL=20261215")

    assert dates(next_occurrences(schedule, NOW, 5)) == [
        dt.date(2026, 11, 26),
        dt.date(2026, 12, 3),
        dt.date(2026, 12, 10),
    ]


def test_leap_day_rule_is_accepted_because_2028_is_within_two_years() -> None:
    schedule = validate("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29")

    assert dates(next_occurrences(schedule, NOW, 1)) == [dt.date(2028, 2, 29)]


@pytest.mark.parametrize(
    ("start", "end"),
    [(dt.time(1, 59), dt.time(3, 0)), (dt.time(8, 0), dt.time(8, 1)), (dt.time(3), dt.time(23))],
)
def test_times_next_to_the_dst_hour_are_fine(start: dt.time, end: dt.time) -> None:
    schedule = validate(DEFAULT_RRULE, start, end)

    expected = dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start)
    assert schedule.minutes == expected.total_seconds() // 60


# --- what is refused, and on which field ------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        "garbage",
        "every thursday",
        "FREQ=FORTNIGHTLY",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=WEEKLY;BYDAY=TH;INTERVAL=zero",
        "BYDAY=TH",
    ],
)
def test_garbage_is_refused_on_the_rule(rule: str) -> None:
    err = refusal(rule)

    assert err.field == "rrule"
    if "=" in rule:
        assert "not a valid schedule rule" in err.msgid
    else:  # words, not a rule: pointed to the choices
        assert "RRULE form only" in err.msgid and "choose the weekdays" in err.msgid


@pytest.mark.parametrize("rule", ["FREQ=MONTHLY;BYDAY=+99TH", "FREQ=WEEKLY;BYDAY=TH;INTERVAL=-2"])
def test_a_rule_dateutil_parses_but_cannot_evaluate_is_refused_as_not_valid(
    rule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its iteration fails in the checking thread: that failure is the refusal, not a
    # traceback on the server's stderr (threading.excepthook) and "never has a meeting".
    unhandled: list[type[BaseException]] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: unhandled.append(args.exc_type))
    err = refusal(rule)

    assert err.field == "rrule"
    assert "not a valid schedule rule" in err.msgid
    assert unhandled == []


@pytest.mark.parametrize("rule", ["", "   ", "RRULE:"])
def test_empty_rule_is_refused(rule: str) -> None:
    assert refusal(rule).field == "rrule"


@pytest.mark.parametrize(
    "rule", ["FREQ=HOURLY", "FREQ=MINUTELY", "FREQ=SECONDLY", "freq=hourly;interval=24"]
)
def test_more_than_once_a_day_is_refused(rule: str) -> None:
    err = refusal(rule)

    assert err.field == "rrule"
    assert "at most once a day" in err.msgid


@pytest.mark.parametrize(
    "rule",
    [
        "DTSTART:20260101T130000\nRRULE:FREQ=WEEKLY;BYDAY=TH",
        "DTSTART;TZID=Europe/Stockholm:20260101T130000 RRULE:FREQ=WEEKLY",
        "FREQ=WEEKLY;BYDAY=TH;DTSTART=20260101T130000",
    ],
)
def test_dtstart_inside_the_rule_is_refused(rule: str) -> None:
    err = refusal(rule)

    assert err.field == "rrule"
    assert "DTSTART" in err.msgid


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;BYDAY=TH;UNTIL=20200101T000000Z",
        "FREQ=WEEKLY;BYDAY=TH;UNTIL=20261122",  # yesterday
        # Feb 30 never exists, whatever the frequency.
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=WEEKLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30,31",
        "FREQ=YEARLY;BYMONTH=4,6;BYMONTHDAY=31",
    ],
)
def test_rule_without_any_meeting_is_refused(rule: str) -> None:
    err = refusal(rule)

    assert err.field == "rrule"
    assert "never has a meeting" in err.msgid


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (dt.time(2, 0), dt.time(4, 0), "start"),
        (dt.time(2, 30), dt.time(4, 0), "start"),
        (dt.time(2, 59), dt.time(4, 0), "start"),
        (dt.time(1, 0), dt.time(2, 0), "end"),
        (dt.time(1, 0), dt.time(2, 45), "end"),
    ],
)
def test_times_in_the_dst_hour_are_refused(start: dt.time, end: dt.time, field: str) -> None:
    err = refusal(DEFAULT_RRULE, start, end)

    assert err.field == field
    assert "daylight saving" in err.msgid


@pytest.mark.parametrize(
    ("start", "end"),
    [(dt.time(15), dt.time(13)), (dt.time(13), dt.time(13)), (dt.time(13, 1), dt.time(13))],
)
def test_end_not_after_start_is_refused_on_the_end(start: dt.time, end: dt.time) -> None:
    err = refusal(DEFAULT_RRULE, start, end)

    assert err.field == "end"
    assert "end after it starts" in err.msgid


# --- when the meetings fall ------------------------------------------------------------------


@pytest.fixture(scope="module")
def thursdays() -> Schedule:
    return validate(DEFAULT_RRULE)


def test_spring_forward_thursdays_keep_13_local(thursdays: Schedule) -> None:
    # Summer time starts on Sunday 28 March 2027.
    after = dt.datetime(2027, 3, 15, tzinfo=dt.UTC)
    until = dt.datetime(2027, 4, 10, tzinfo=dt.UTC)

    meetings = occurrences(thursdays, after, until)

    assert dates(meetings) == [
        dt.date(2027, 3, 18),
        dt.date(2027, 3, 25),
        dt.date(2027, 4, 1),
        dt.date(2027, 4, 8),
    ]
    assert [m.utcoffset() for m in meetings] == [ONE, ONE, TWO, TWO]
    assert {local(m).time() for m in meetings} == {dt.time(13, 0)}
    assert [m.astimezone(dt.UTC).hour for m in meetings] == [12, 12, 11, 11]


def test_fall_back_thursdays_keep_13_local() -> None:
    # Winter time starts on Sunday 25 October 2026; the forum was set up before that.
    after = dt.datetime(2026, 10, 12, tzinfo=dt.UTC)
    until = dt.datetime(2026, 11, 6, tzinfo=dt.UTC)
    thursdays = validate(DEFAULT_RRULE, now=after)

    meetings = occurrences(thursdays, after, until)

    assert dates(meetings) == [
        dt.date(2026, 10, 15),
        dt.date(2026, 10, 22),
        dt.date(2026, 10, 29),
        dt.date(2026, 11, 5),
    ]
    assert [m.utcoffset() for m in meetings] == [TWO, TWO, ONE, ONE]
    assert {local(m).time() for m in meetings} == {dt.time(13, 0)}
    assert [m.astimezone(dt.UTC).hour for m in meetings] == [11, 11, 12, 12]


def test_next_occurrences_across_spring_forward(thursdays: Schedule) -> None:
    now = dt.datetime(2027, 3, 20, 12, 0, tzinfo=dt.UTC)

    meetings = next_occurrences(thursdays, now, 3)

    assert [m.astimezone(dt.UTC) for m in meetings] == [
        dt.datetime(2027, 3, 25, 12, 0, tzinfo=dt.UTC),
        dt.datetime(2027, 4, 1, 11, 0, tzinfo=dt.UTC),
        dt.datetime(2027, 4, 8, 11, 0, tzinfo=dt.UTC),
    ]


def test_daily_meeting_on_the_25_hour_day_happens_once() -> None:
    after = dt.datetime(2026, 10, 24, tzinfo=STOCKHOLM)
    daily = validate("FREQ=DAILY", dt.time(8, 0), dt.time(9, 0), now=after)
    until = dt.datetime(2026, 10, 27, tzinfo=STOCKHOLM)

    meetings = occurrences(daily, after, until)

    assert dates(meetings) == [dt.date(2026, 10, 24), dt.date(2026, 10, 25), dt.date(2026, 10, 26)]
    assert [m.astimezone(dt.UTC).hour for m in meetings] == [6, 7, 7]
    assert {local(m).time() for m in meetings} == {dt.time(8, 0)}


def test_after_the_meeting_has_started_the_next_one_is_next_week(thursdays: Schedule) -> None:
    # Thursday 3 December 2026, 13:30 in Stockholm: today's meeting began half an hour ago.
    now = dt.datetime(2026, 12, 3, 12, 30, tzinfo=dt.UTC)

    assert dates(next_occurrences(thursdays, now, 3)) == [
        dt.date(2026, 12, 10),
        dt.date(2026, 12, 17),
        dt.date(2026, 12, 24),
    ]


def test_before_the_meeting_starts_today_is_next(thursdays: Schedule) -> None:
    now = dt.datetime(2026, 12, 3, 11, 59, tzinfo=dt.UTC)  # 12:59 in Stockholm

    meetings = next_occurrences(thursdays, now, 2)

    assert [local(m) for m in meetings] == [
        dt.datetime(2026, 12, 3, 13, 0, tzinfo=STOCKHOLM),
        dt.datetime(2026, 12, 10, 13, 0, tzinfo=STOCKHOLM),
    ]


def test_occurrences_include_after_and_exclude_until(thursdays: Schedule) -> None:
    meeting = dt.datetime(2026, 12, 3, 13, 0, tzinfo=STOCKHOLM)

    assert occurrences(thursdays, meeting, meeting + dt.timedelta(days=1)) == [meeting]
    assert occurrences(thursdays, meeting - dt.timedelta(days=1), meeting) == []


def test_next_occurrences_over_a_long_list_has_no_gaps_or_repeats(thursdays: Schedule) -> None:
    meetings = next_occurrences(thursdays, NOW, 30)

    days = dates(meetings)
    assert len(days) == 30
    assert all(b - a == dt.timedelta(days=7) for a, b in itertools.pairwise(days))


# --- the rule's first day is fixed ---------------------------------------------------------


def test_every_other_thursday_starts_with_the_coming_thursday() -> None:
    friday = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
    schedule = validate("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", now=friday)
    assert dates(next_occurrences(schedule, friday, 2)) == [
        dt.date(2026, 12, 3),
        dt.date(2026, 12, 17),
    ]


def test_a_thursday_after_the_meeting_starts_counting_next_week() -> None:
    thursday_afternoon = dt.datetime(2026, 11, 26, 14, 0, tzinfo=dt.UTC)  # 15:00 local
    schedule = validate("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", now=thursday_afternoon)
    assert schedule.anchor == dt.date(2026, 12, 3)


@pytest.mark.parametrize(
    "rule", ["FREQ=WEEKLY;BYDAY=TH;BYHOUR=9,14", "FREQ=DAILY;BYHOUR=2", "FREQ=WEEKLY;BYSECOND=1,2"]
)
def test_times_inside_the_rule_are_refused(rule: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate(rule)
    assert err.value.field == "rrule"


def test_no_meetings_before_the_schedule_was_set_up(thursdays: Schedule) -> None:
    assert occurrences(thursdays, NOW - dt.timedelta(days=30), NOW) == []


BIWEEKLY = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"  # the SSPF template


def test_every_other_thursday_does_not_depend_on_the_day_you_ask() -> None:
    schedule = validate(BIWEEKLY)
    monday = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    tuesday = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)

    assert next_occurrences(schedule, monday, 3) == next_occurrences(schedule, tuesday, 3)


def test_every_other_thursday_stays_two_weeks_apart() -> None:
    schedule = validate(BIWEEKLY)

    days = dates(next_occurrences(schedule, NOW, 8))

    assert [(b - a).days for a, b in itertools.pairwise(days)] == [14] * 7


def test_a_rule_with_count_does_not_go_on_forever() -> None:
    try:
        schedule = validate("FREQ=WEEKLY;BYDAY=TH;COUNT=2")
    except InvalidInput as err:  # refusing COUNT is a fine fix too
        assert err.field == "rrule"
        return

    assert next_occurrences(schedule, NOW + dt.timedelta(days=365), 3) == []


# Runs in its own process: the rule check's single worker thread stays busy after a timeout,
# and this must not slow down the other tests here.
_QUEUE_SCRIPT = textwrap.dedent(
    """
    import datetime as dt, os
    from domain.errors import InvalidInput
    from domain.schedule import validate_schedule

    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)

    def check(rule):
        try:
            validate_schedule(rule, dt.time(13), dt.time(15), "Europe/Stockholm", now)
        except InvalidInput as err:
            return err.field
        return "ok"

    # Feb has no 30th-from-the-end day: dateutil scans to year 9999 (several seconds).
    print(check("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=-30"), check("FREQ=WEEKLY;BYDAY=TH"), flush=True)
    os._exit(0)  # do not wait for the scan still running in the worker thread
    """
)


@pytest.mark.slow  # a real process
def test_a_slow_impossible_rule_does_not_make_the_next_valid_rule_fail() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _QUEUE_SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stdout.split() == ["rrule", "ok"]
