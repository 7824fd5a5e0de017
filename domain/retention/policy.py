"""Retention's data classes, the policy (how long each is kept) and what a run reports."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field, replace
from typing import Any

from storage.models import (
    Forum,
)

JOB_KIND = "gallring"
HOLD_REASON_MAX = 300
# A case never closed goes no earlier than this long after its coordinators were told.
WARN_AHEAD = dt.timedelta(days=30)
WARNING_KIND = "retention_warning"
# An open action is never removed (nor aged out): its coordinators are told, once, when it
# has been past its end date and unchanged for the forum's ``actions`` period.
ACTION_WARNING_KIND = "open_action_warning"
# domain/meetings.py marks meetings a schedule change hid: a marker, not text anyone typed.
SCHEDULE_MARKER = "schedule_changed"


class DataClass(enum.StrEnum):
    CLOSED_CASES = "closed_cases"
    CONSULTATIONS = "consultations"
    RATINGS = "ratings"
    ACTIONS = "actions"
    DEVIATIONS = "deviations"
    MEETINGS = "meetings"
    AUDIT_EVENTS = "audit_events"


@dataclass(frozen=True)
class RetentionPolicy:
    """Retention periods in days per data class."""

    closed_cases: int = 1826
    consultations: int = 365
    ratings: int = 1096
    actions: int = 1096
    deviations: int = 1096
    meetings: int = 1096
    audit_events: int = 1826

    def days(self, data_class: DataClass) -> int:
        return int(getattr(self, data_class.value))

    def for_forum(self, forum: Forum) -> RetentionPolicy:
        """The forum's own periods where it has them (positive whole days), else these."""
        raw = (forum.settings or {}).get("retention") or {}
        overrides: dict[str, Any] = {}
        if isinstance(raw, dict):
            for data_class in DataClass:
                value = raw.get(data_class.value)
                if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                    overrides[data_class.value] = value
        overrides.pop(DataClass.AUDIT_EVENTS.value, None)  # the log's period: installation-wide
        return replace(self, **overrides)


@dataclass(frozen=True)
class Due:
    """What one data class of one forum would lose now."""

    forum_id: int | None
    forum_code: str
    data_class: DataClass
    cutoff: dt.datetime
    ids: tuple[int, ...]
    references: tuple[str, ...] = ()  # case references, where the class is cases
    held: tuple[str, ...] = ()  # case references kept because of a legal hold
    to_warn: tuple[Notice, ...] = ()  # cases never closed: their coordinators are told first
    # Open actions long past their end date: their coordinators are told, nothing goes.
    open_actions: tuple[OpenAction, ...] = ()


@dataclass(frozen=True)
class Notice:
    """A case never closed that is due: its coordinators are told before it goes."""

    case_id: int
    reference: str
    last_activity: dt.datetime
    removal: dt.datetime  # last activity + the period (whole seconds: a claim key)


@dataclass(frozen=True)
class OpenAction:
    """An open action past its end date and unchanged since for the forum's ``actions``
    period: forgotten, most likely. Its coordinators are told so they can close or cancel
    it; it is never removed while open."""

    action_id: int
    due_on: dt.date
    # The period was over then (past the end date and the last change; whole seconds: a
    # claim key, so a change to the action starts a new period and a new message).
    since: dt.datetime
    told: bool = False  # its coordinators were told of this stretch already


@dataclass
class Outcome:
    removed: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    warned: int = 0  # cases never closed whose coordinators were told they will go
    warned_actions: int = 0  # open actions long past their end date, coordinators told
