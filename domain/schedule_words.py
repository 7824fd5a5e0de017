"""Meeting schedules in words, and the simple choices a coordinator picks them from.

A forum's schedule is an RFC 5545 RRULE (domain.schedule). People should not have to read
or write one: the forum modal offers weekday(s), every / every other week / certain weeks of
the month, and start and end times; wherever a schedule is shown it reads "varannan torsdag
13:00–15:00" (sv) or "every other Thursday 13:00–15:00" (en). A rule with no simple wording is
shown as it is (the modal keeps it under "Advanced").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from babel.dates import get_day_names, get_month_names
from babel.lists import format_list

from domain.i18n import N_, Locale, Translator
from domain.ids import id_value

WEEKDAYS: tuple[str, ...] = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WORKDAYS: tuple[str, ...] = WEEKDAYS[:5]
Repeat = Literal["every", "every_other", "monthly"]
REPEATS: tuple[Repeat, ...] = ("every", "every_other", "monthly")
REPEAT_LABELS: dict[Repeat, str] = {
    "every": N_("Every week"),
    "every_other": N_("Every other week"),
    "monthly": N_("Certain weeks of the month"),
}
# Weeks of the month a monthly schedule meets in: the 1st–4th, or the last (-1).
WEEKS_OF_MONTH: tuple[int, ...] = (1, 2, 3, 4, -1)
ORDINALS: dict[int, str] = {
    1: N_("first"),
    2: N_("second"),
    3: N_("third"),
    4: N_("fourth"),
    -1: N_("last"),
}
EVERY_NTH: dict[int, str] = {
    1: N_("every {days}"),
    2: N_("every other {days}"),
    3: N_("every third {days}"),
    4: N_("every fourth {days}"),
}
# The weekday reads in its definite form here in Swedish ("torsdagen").
MONTHLY = N_("the {weeks} {day} of the month")
# A rule limited to some months (BYMONTH, as the steering group and 2+2 templates make):
# a few months left out read "… utom i juli", a few months chosen "första tisdagen i
# februari, maj och oktober".
IN_MONTHS = N_("the {weeks} {day} of {months}")
EXCEPT_MONTHS = N_("{schedule} except in {months}")
EXCEPT_AT_MOST = 3
RULE_KEYS = frozenset({"FREQ", "INTERVAL", "BYDAY", "WKST"})


@dataclass(frozen=True)
class SchedulePick:
    """What a coordinator chose in the modal: weekdays (RRULE codes, week order), how often,
    and for ``monthly`` which weeks of the month."""

    days: tuple[str, ...]
    repeat: Repeat = "every"
    weeks: tuple[int, ...] = ()


def _ordered(days: set[str]) -> tuple[str, ...]:
    return tuple(d for d in WEEKDAYS if d in days)


def rrule_for(pick: SchedulePick) -> str | None:
    """The RRULE for the choices; None when they are not enough to make one (no weekday, or
    certain weeks of the month without any week)."""
    days = _ordered(set(pick.days))
    if not days:
        return None
    if pick.repeat == "monthly":
        weeks = [w for w in WEEKS_OF_MONTH if w in set(pick.weeks)]
        if not weeks:
            return None
        return "FREQ=MONTHLY;BYDAY=" + ",".join(f"{w}{d}" for w in weeks for d in days)
    interval = ";INTERVAL=2" if pick.repeat == "every_other" else ""
    return f"FREQ=WEEKLY{interval};BYDAY=" + ",".join(days)


@dataclass(frozen=True)
class _Rule:
    freq: str
    interval: int
    byday: tuple[tuple[int | None, str], ...]  # (week of the month or None, weekday)


def _parse(rule: str) -> _Rule | None:
    """The parts of a simple rule (FREQ, INTERVAL, BYDAY, WKST only), or None."""
    parts: dict[str, str] = {}
    for piece in rule.strip().upper().removeprefix("RRULE:").split(";"):
        if not piece:
            continue
        key, eq, value = piece.partition("=")
        if not eq or key not in RULE_KEYS or key in parts:
            return None
        parts[key] = value
    freq = parts.get("FREQ", "")
    interval_text = parts.get("INTERVAL", "1")
    interval = id_value(interval_text)
    if interval is None or interval < 1:
        return None
    byday: list[tuple[int | None, str]] = []
    for item in filter(None, parts.get("BYDAY", "").split(",")):
        day, number = item[-2:], item[:-2]
        if day not in WEEKDAYS:
            return None
        if not number:
            byday.append((None, day))
            continue
        try:
            week = int(number)
        except ValueError:
            return None
        if week not in WEEKS_OF_MONTH:
            return None
        byday.append((week, day))
    return _Rule(freq, interval, tuple(byday))


def pick_of(rule: str) -> SchedulePick | None:
    """The modal's choices for a rule, or None when the choices cannot express it."""
    parsed = _parse(rule)
    if parsed is None or not parsed.byday:
        return None
    days = _ordered({d for _, d in parsed.byday})
    weeks = {w for w, _ in parsed.byday}
    if parsed.freq == "WEEKLY" and weeks == {None} and parsed.interval in (1, 2):
        return SchedulePick(days, "every" if parsed.interval == 1 else "every_other")
    if parsed.freq == "MONTHLY" and parsed.interval == 1 and None not in weeks:
        ordered = tuple(w for w in WEEKS_OF_MONTH if w in weeks)
        # Every chosen week with every chosen weekday: what the modal makes.
        if set(parsed.byday) == {(w, d) for w in ordered for d in days}:
            return SchedulePick(days, "monthly", ordered)
    return None


def _day_names(locale: Locale) -> dict[str, str]:
    names = get_day_names("wide", locale=locale)
    return {code: str(names[n]) for n, code in enumerate(WEEKDAYS)}


def _split_months(rule: str) -> tuple[str, frozenset[int]] | None:
    """The rule without its BYMONTH part, and the months that part names (empty: none);
    None when the part does not name months 1–12."""
    kept: list[str] = []
    months: frozenset[int] = frozenset()
    for piece in rule.strip().upper().removeprefix("RRULE:").split(";"):
        key, eq, value = piece.partition("=")
        if key != "BYMONTH" or not eq:
            kept.append(piece)
            continue
        if months:
            return None
        numbers = [id_value(v) for v in value.split(",")]
        if not numbers or any(n is None or not 1 <= n <= 12 for n in numbers):
            return None
        months = frozenset(n for n in numbers if n is not None)
    return ";".join(kept), months


def _months_words(rule: str, months: frozenset[int], t: Translator) -> str | None:
    parsed = _parse(rule)
    if parsed is None:
        return None
    names = get_month_names("wide", locale=t.locale)
    if len(months) == 12:
        return schedule_words(rule, t)
    left_out = [n for n in range(1, 13) if n not in months]
    days = _ordered({d for _, d in parsed.byday})
    weeks = {w for w, _ in parsed.byday}
    if parsed.freq in ("WEEKLY", "MONTHLY") and len(left_out) <= EXCEPT_AT_MOST:
        words = schedule_words(rule, t)
        if words is None:
            return None
        listed = format_list([str(names[n]) for n in left_out], locale=t.locale)
        return t(EXCEPT_MONTHS, schedule=words, months=listed)
    if (
        parsed.freq in ("MONTHLY", "YEARLY")
        and parsed.interval == 1
        and len(days) == 1
        and None not in weeks
    ):
        ordered = [w for w in WEEKS_OF_MONTH if w in weeks]
        listed = format_list([t(ORDINALS[w]) for w in ordered], locale=t.locale)
        chosen = format_list([str(names[n]) for n in sorted(months)], locale=t.locale)
        return t(IN_MONTHS, weeks=listed, day=_day_names(t.locale)[days[0]], months=chosen)
    return None


def schedule_words(rule: str, t: Translator) -> str | None:
    """The rule in words ("varannan torsdag", "första och tredje torsdagen i månaden",
    "andra tisdagen i månaden utom i juli"), or None when it has no simple wording (then
    show the rule itself)."""
    split = _split_months(rule)
    if split is None:
        return None
    rule, months = split
    if months:
        return _months_words(rule, months, t)
    parsed = _parse(rule)
    if parsed is None:
        return None
    names = _day_names(t.locale)
    weeks = {w for w, _ in parsed.byday}
    days = _ordered({d for _, d in parsed.byday})
    if parsed.freq == "DAILY" and not parsed.byday and parsed.interval == 1:
        return t("every day")
    if parsed.freq == "WEEKLY" and days and weeks == {None}:
        if days == WORKDAYS and parsed.interval == 1:
            return t("every weekday")
        if parsed.interval not in EVERY_NTH:
            return None
        listed = format_list([names[d] for d in days], locale=t.locale)
        return t(EVERY_NTH[parsed.interval], days=listed)
    if parsed.freq == "MONTHLY" and parsed.interval == 1 and len(days) == 1 and None not in weeks:
        ordered = [w for w in WEEKS_OF_MONTH if w in weeks]
        listed = format_list([t(ORDINALS[w]) for w in ordered if w is not None], locale=t.locale)
        return t(MONTHLY, weeks=listed, day=names[days[0]])
    return None


def time_range(start: dt.time, end: dt.time) -> str:
    """ "13:00–15:00", in English too: the 24-hour clock of every other time the bot shows
    (agenda headers, meeting lists, reminders: ``Translator.day_time``, Babel's ``HH:mm``),
    so a schedule "1–3 pm" never sits beside a meeting "Thursday 26 November 13:00"."""
    return f"{start.strftime('%H:%M')}–{end.strftime('%H:%M')}"


def describe(rule: str, start: dt.time, end: dt.time, t: Translator) -> str:
    """A schedule as people read it: "varannan torsdag 13:00–15:00" / "every other Thursday
    13:00–15:00"; a rule without a simple wording is shown as it is, with the times."""
    words = schedule_words(rule, t)
    return f"{words or rule} {time_range(start, end)}"
