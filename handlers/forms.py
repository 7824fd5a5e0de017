"""Read a modal's ``view.state.values`` into plain Python values (pure, no Slack calls)."""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Any, TypeVar

from domain.blank import or_empty
from domain.cases import CaseDraft
from domain.day_words import parse_day as parse_day
from domain.errors import DomainError, InputErrors, InvalidInput, check_date
from domain.forums import ForumDraft, split_lines
from domain.i18n import N_
from domain.ids import id_value as id_value
from domain.ids import id_values as id_values
from domain.schedule_words import REPEATS, WEEKS_OF_MONTH, Repeat, SchedulePick, rrule_for
from storage.models import ConsentGiver, SipStatus, name_key

E = TypeVar("E", bound=Enum)

Values = dict[str, dict[str, dict[str, Any]]]


def _element(values: Values, field: str) -> dict[str, Any] | None:
    """The element of the block named ``field`` or ``field.<version>``."""
    for block_id, elements in values.items():
        if block_id == field or block_id.split(".", 1)[0] == field:
            return next(iter(elements.values()), None)
    return None


def text(values: Values, field: str) -> str:
    """What was typed in ``field``; "" when none of it shows (``domain.blank``), so a
    required field refuses a text of zero-width spaces as it refuses an empty one."""
    el = _element(values, field)
    return or_empty((el or {}).get("value") or "")


def selected(values: Values, field: str) -> str | None:
    el = _element(values, field) or {}
    opt = el.get("selected_option")
    if opt:
        return str(opt.get("value"))
    user = el.get("selected_user")
    return str(user) if user else None


def selected_many(values: Values, field: str) -> list[str]:
    el = _element(values, field) or {}
    if "selected_users" in el:
        return [str(u) for u in el.get("selected_users") or []]
    return [str(o.get("value")) for o in el.get("selected_options") or []]


MSG_BAD_TIME = N_("Choose a time as hh:mm (00:00–23:59).")


HM_RE = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?$")


def parse_time(text: str) -> dt.time | None:
    """A time of day as typed after a command: ``13:00``, ``13.00`` or ``13``; None when
    it is none (``25:00``, ``lunch``)."""
    match = HM_RE.match(text.strip())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def time_value(values: Values, field: str) -> dt.time | None:
    """The time picked in ``field``; None when none is. One that is no time of day (Slack's
    picker sends ``hh:mm``; a crafted ``25:99``) is refused on the field, every time picker
    alike, instead of being read as none (a meeting moved kept its old time, silently)."""
    raw = (_element(values, field) or {}).get("selected_time")
    if not raw:
        return None
    try:
        return dt.time.fromisoformat(raw)
    except ValueError:
        raise InputErrors({field: InvalidInput(MSG_BAD_TIME, field=field)}) from None


def block_ids(view: dict[str, Any]) -> list[str]:
    """The modal's input blocks (a crafted one without its id is none)."""
    return [
        b["block_id"]
        for b in view.get("blocks") or []
        if b.get("type") == "input" and isinstance(b.get("block_id"), str)
    ]


def forum_draft(values: Values, *, template: str | None = None) -> ForumDraft:
    typed = " ".join(text(values, "own_agency_other").split())
    own = " ".join((selected(values, "own_agency") or "").split()) or typed or None
    # The options' values are the client's to craft: read like typed names (a blank one is
    # none; spaces around one make no second agency of the same name).
    chosen = [" ".join(name.split()) for name in selected_many(values, "agencies")]
    agencies = [a for a in chosen if a] + split_lines(text(values, "agencies_other"))
    if own and name_key(own) not in {name_key(a) for a in agencies}:
        agencies.append(own)  # the creator's own agency always takes part
    return ForumDraft(
        name=text(values, "name"),
        code=text(values, "code"),
        agencies=list(dict.fromkeys(agencies)),
        own_agency=own,
        rrule=schedule_rule(values),
        start=time_value(values, "start"),
        end=time_value(values, "end"),
        areas=split_lines(text(values, "areas")),
        template=template or selected(values, "template"),
        holiday_policy=selected(values, "holidays"),
        extra_days_off=selected_many(values, "days_off") if _has(values, "days_off") else None,
        agenda_time=time_value(values, "agenda_time"),
        agenda_days_before=id_value(selected(values, "agenda_days")),
        first_meeting=date_value(values, "first_meeting"),
    )


def schedule_rule(values: Values) -> str:
    """The RRULE typed under *Advanced*; when that is empty, the one the schedule choices
    make (empty when they are incomplete: the domain then asks for a schedule)."""
    typed = text(values, "rrule")
    if typed.strip() or not _has(values, "sched_days"):
        return typed
    repeat: Repeat = next((r for r in REPEATS if r == selected(values, "sched_repeat")), "every")
    pick = SchedulePick(
        days=tuple(selected_many(values, "sched_days")),
        repeat=repeat,
        weeks=_weeks(values),
    )
    return rrule_for(pick) or ""


def _weeks(values: Values) -> tuple[int, ...]:
    """The weeks of the month chosen (-1 is the last); a value the modal never offers ("5",
    "²", past any number) is no week."""
    chosen = set(selected_many(values, "sched_weeks"))
    return tuple(w for w in WEEKS_OF_MONTH if str(w) in chosen)


def schedule_errors(exc: DomainError, values: Values) -> DomainError:
    """Errors about the schedule belong on the choices when the rule was made from them."""
    if not isinstance(exc, InputErrors) or "rrule" not in exc.errors:
        return exc
    if text(values, "rrule").strip() or not _has(values, "sched_days"):
        return exc
    errors = dict(exc.errors)
    moved = errors.pop("rrule")
    if not selected_many(values, "sched_days"):
        moved = InvalidInput(N_("Choose which weekdays the forum meets on."), field="sched_days")
    elif selected(values, "sched_repeat") == "monthly" and not _weeks(values):
        moved = InvalidInput(N_("Choose which weeks of the month."), field="sched_weeks")
    errors["sched_days" if moved.field != "sched_weeks" else "sched_weeks"] = moved
    return InputErrors(errors)


def _has(values: Values, field: str) -> bool:
    return _element(values, field) is not None


def date_value(values: Values, field: str) -> dt.date | None:
    """The date picked in ``field``; None when none is (or it is no date). A date outside
    the years any date here may have (a crafted 9999-12-31) is refused on the field
    (``domain.errors.check_date``), every date picker alike."""
    raw = (_element(values, field) or {}).get("selected_date")
    if not raw:
        return None
    try:
        picked = dt.date.fromisoformat(raw)
    except ValueError:
        return None
    return check_date(picked, field=field)


def _ints(items: list[str]) -> list[int]:
    return id_values(items)


def choice(value: str | None, kind: type[E]) -> E | None:
    """A selected option's value as one of ``kind``; None when nothing was chosen or the
    value is none of them (a crafted one)."""
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def case_draft(values: Values) -> CaseDraft:
    consent = selected(values, "consent")
    meeting = selected(values, "meeting")
    try:
        meeting_start = dt.datetime.fromisoformat(meeting) if meeting else None
    except ValueError:
        meeting_start = None
    sip = selected(values, "sip") or SipStatus.NOT_RELEVANT.value
    return CaseDraft(
        summary=text(values, "summary"),
        concerns=selected_many(values, "concerns"),
        age_band=selected(values, "age_band"),
        agency_ids=_ints(selected_many(values, "agencies")),
        consent_giver=choice(consent, ConsentGiver),
        consent_agency_ids=_ints(selected_many(values, "consent_agencies")),
        consent_given_on=date_value(values, "consent_given_on"),
        consent_expires_on=date_value(values, "consent_expires_on"),
        sip=SipStatus(sip) if sip in SipStatus._value2member_map_ else SipStatus.NOT_RELEVANT,
        meeting=meeting_start if meeting_start and meeting_start.tzinfo else None,
        criterion_ids=_ints(selected_many(values, "criteria")),
    )
