"""Meeting schedules: RFC 5545 RRULEs (python-dateutil) evaluated in the forum's time zone."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import threading
import zoneinfo
from dataclasses import dataclass

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

from domain.errors import InvalidInput
from domain.i18n import N_

DEFAULT_RRULE = "FREQ=WEEKLY;BYDAY=TH"
DEFAULT_START = dt.time(13, 0)
DEFAULT_END = dt.time(15, 0)
HORIZON = dt.timedelta(days=2 * 366)
_ALLOWED_FREQ = {DAILY, WEEKLY, MONTHLY, YEARLY}
# dateutil scans to year 9999 for rules that can never match. The check runs in its own
# daemon thread with a deadline, so one such typo never delays anyone else's check.
_CHECK_SECONDS = 1.0
# RFC 5545's UNTIL: a DATE (20271231) or a DATE-TIME (20271231T150000, UTC with Z).
# dateutil reads far more (UNTIL=2027 becomes a day of 2027 chosen from today's date).
_UNTIL = re.compile(r"\d{8}(T\d{6}Z?)?")


@dataclass(frozen=True)
class Schedule:
    """A forum's meetings. ``anchor`` is the rule's fixed first day (its DTSTART date), so
    INTERVAL and COUNT mean the same whatever day one asks."""

    rrule: str
    start: dt.time
    minutes: int
    timezone: str
    anchor: dt.date

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def end(self) -> dt.time:
        start = dt.datetime.combine(dt.date(2000, 1, 1), self.start)
        return (start + dt.timedelta(minutes=self.minutes)).time()


def normalize_rrule(text: str) -> str:
    rule = " ".join(text.split()).strip().upper()
    rule = rule.removeprefix("RRULE:")
    return rule.replace(" ", "")


def _build(rule: str, start: dt.time, anchor: dt.date) -> rrule:
    dtstart = dt.datetime.combine(anchor, start)
    parsed = rrulestr(rule, dtstart=dtstart, ignoretz=True)
    if not isinstance(parsed, rrule):
        raise ValueError("not a single rule")
    return parsed


def _statically_impossible(rule: rrule) -> bool:
    months = rule._bymonth or tuple(range(1, 13))  # type: ignore[attr-defined]
    days = rule._bymonthday  # type: ignore[attr-defined]
    if not days:
        return False
    longest = {m: (29 if m == 2 else calendar.monthrange(2001, m)[1]) for m in months}
    # Negative days count from the month's end (-1 = last day).
    return all(abs(d) > longest[m] for m in months for d in days)


def _first_within(parsed: rrule, start: dt.datetime, end: dt.datetime) -> dt.datetime | None:
    """The rule's first occurrence in [start, end]; None if none (or the check ran out of
    time, which only a rule that can never match does). A rule dateutil parses but cannot
    evaluate (``BYDAY=+99TH``, a negative INTERVAL: its iteration fails) raises ValueError
    here, in the caller's thread, instead of a traceback from the checking thread."""
    found: list[dt.datetime | None] = []
    failed: list[bool] = []

    def scan() -> None:
        try:
            hits = parsed.between(start, end, inc=True)
        except (ValueError, OverflowError, TypeError, KeyError, IndexError):
            failed.append(True)
            return
        found.append(hits[0] if hits else None)

    worker = threading.Thread(target=scan, name="rrule-check", daemon=True)
    worker.start()
    worker.join(_CHECK_SECONDS)
    if failed:
        raise ValueError("the rule cannot be evaluated")
    return found[0] if found else None


def validate_schedule(
    rule_text: str,
    start: dt.time,
    end: dt.time,
    timezone: str,
    now: dt.datetime,
    *,
    anchor: dt.date | None = None,
    first: dt.date | None = None,
) -> Schedule:
    """Check a schedule a coordinator typed; raise :class:`InvalidInput` on the right field.

    A new rule is anchored on today's date (local): "every other Thursday" then counts from
    the first Thursday from now on. ``first`` is the first meeting the coordinator chose
    (its own field): the rule is anchored there instead (no meeting before it; an every-
    other-week forum meets in its weeks); it must be one of the rule's days, within a year.
    """
    rule = normalize_rrule(rule_text)
    if not rule:
        raise InvalidInput(N_("Write a schedule rule, e.g. FREQ=WEEKLY;BYDAY=TH."), field="rrule")
    if "=" not in rule:
        # Words ("varannan torsdag", "torsdagar 13-15") typed where only a rule goes.
        raise InvalidInput(
            N_(
                "This field takes a rule in RRULE form only, e.g. FREQ=WEEKLY;INTERVAL=2;"
                "BYDAY=TH for every other Thursday. Or leave it empty and choose the "
                "weekdays and how often above."
            ),
            field="rrule",
        )
    if "DTSTART" in rule:
        raise InvalidInput(
            N_("Leave out DTSTART: the start time is set in its own field."), field="rrule"
        )
    if any(part in rule for part in ("BYHOUR", "BYMINUTE", "BYSECOND")):
        raise InvalidInput(
            N_("Set the meeting time in the start and end fields, not in the rule."),
            field="rrule",
        )
    _check_until(rule)
    if start.hour == 2 or end.hour == 2:
        raise InvalidInput(
            N_(
                "Times between 02:00 and 02:59 are skipped or repeated when daylight saving "
                "time changes. Choose another time."
            ),
            field="start" if start.hour == 2 else "end",
        )
    minutes = dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start)
    if minutes <= dt.timedelta(0):
        raise InvalidInput(N_("The meeting must end after it starts."), field="end")
    zone = zoneinfo.ZoneInfo(timezone)
    local_now = now.astimezone(zone).replace(tzinfo=None)
    invalid = InvalidInput(
        N_("This is not a valid schedule rule (RRULE), e.g. FREQ=WEEKLY;BYDAY=TH."),
        field="rrule",
    )
    try:
        parsed = _build(rule, start, anchor or local_now.date())
    except (ValueError, TypeError, KeyError):
        raise invalid from None
    if parsed._freq not in _ALLOWED_FREQ:  # type: ignore[attr-defined]
        raise InvalidInput(
            N_("A forum meets at most once a day: use DAILY, WEEKLY, MONTHLY or YEARLY."),
            field="rrule",
        )
    never = InvalidInput(
        N_("This schedule never has a meeting in the next two years. Check the rule."),
        field="rrule",
    )
    if _statically_impossible(parsed):
        raise never
    if first is not None:
        anchor = _chosen_first(rule, start, first, local_now.date())
        parsed = _build(rule, start, anchor)
    try:
        if anchor is None:
            # A new rule starts on its first matching day from now (RFC 5545: DTSTART is the
            # first occurrence), so "every other Thursday" begins with the coming Thursday.
            every = parsed.replace(interval=1, count=None, until=None)
            first = _first_within(every, local_now, local_now + HORIZON)
            if first is None:
                raise never
            anchor = first.date()
            parsed = _build(rule, start, anchor)
        if _first_within(parsed, local_now, local_now + HORIZON) is None:
            raise never
    except ValueError:
        raise invalid from None
    return Schedule(rule, start, int(minutes.total_seconds() // 60), timezone, anchor)


def _check_until(rule: str) -> None:
    """UNTIL in RFC 5545's form only, and never with COUNT (RFC 5545 forbids the two
    together; dateutil takes both, and a bare year as a day of that year)."""
    parts = {name: value for name, _, value in (part.partition("=") for part in rule.split(";"))}
    if "UNTIL" not in parts:
        return
    if "COUNT" in parts:
        raise InvalidInput(
            N_(
                "Use COUNT or UNTIL, not both: COUNT says how many meetings there are, "
                "UNTIL the last day."
            ),
            field="rrule",
        )
    until = parts["UNTIL"]
    try:  # the form, then a real day (not 20271332) and time (not T250000)
        valid = bool(_UNTIL.fullmatch(until)) and bool(
            dt.datetime.strptime(until[:15], "%Y%m%dT%H%M%S" if len(until) > 8 else "%Y%m%d")
        )
    except ValueError:
        valid = False
    if not valid:
        raise InvalidInput(
            N_(
                "Write UNTIL as a date, YYYYMMDD, e.g. UNTIL=20271231 for meetings until "
                "the end of 2027."
            ),
            field="rrule",
        )


FIRST_WITHIN = dt.timedelta(days=366)


def _chosen_first(rule: str, start: dt.time, first: dt.date, today: dt.date) -> dt.date:
    """``first`` as the rule's anchor, if a meeting of the rule falls on it."""
    if abs(first - today) > FIRST_WITHIN:
        raise InvalidInput(N_("Choose a date within a year from today."), field="first_meeting")
    at = dt.datetime.combine(first, start)
    try:
        every = _build(rule, start, first).replace(interval=1, count=None, until=None)
        hit = _first_within(every, at, at + dt.timedelta(days=1))
    except (ValueError, TypeError, KeyError):
        hit = None  # the rule's own error comes from the checks after this
    if hit is None or hit.date() != first:
        raise InvalidInput(
            N_(
                "The forum does not meet on that day by this schedule. Choose the date of "
                "one of its meetings."
            ),
            field="first_meeting",
        )
    return first


def occurrences(schedule: Schedule, after: dt.datetime, until: dt.datetime) -> list[dt.datetime]:
    """Meeting starts (aware, in the forum's zone) with ``after <= start < until``."""
    zone = schedule.zone
    local_after = after.astimezone(zone).replace(tzinfo=None)
    local_until = until.astimezone(zone).replace(tzinfo=None)
    rule = _build(schedule.rrule, schedule.start, schedule.anchor)
    result = []
    for naive in rule.between(local_after - dt.timedelta(days=1), local_until, inc=True):
        # Wall-clock time in the forum's zone; fold=0 picks the first of a repeated hour.
        aware = naive.replace(tzinfo=zone)
        if after <= aware < until:
            result.append(aware)
    return result


def next_occurrences(schedule: Schedule, now: dt.datetime, count: int) -> list[dt.datetime]:
    found: list[dt.datetime] = []
    window = dt.timedelta(days=62)
    start = now
    while len(found) < count and start < now + HORIZON:
        found.extend(occurrences(schedule, start, start + window))
        start += window
    return found[:count]
