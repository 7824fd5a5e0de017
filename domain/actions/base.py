"""Actions' limits, scopes and filters, the errors, the shapes read and written, and their days
in the forum's calendar (due dates, reminders on working days)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from domain import meetings
from domain.clock import Clock
from domain.disclosure import Hidden
from domain.errors import (
    DomainError,
    NotAMember,
)
from domain.forums import (
    forum_schedule,
    local_now,
    local_today,
)
from domain.i18n import N_
from storage.models import (
    Action,
    ActionStatus,
    Effect,
    Forum,
)

DESCRIPTION_MAX = 1000
HOPED_EFFECT_MAX = 500
REASON_MAX = 300
# A due date at most this many years ahead (a later one is a typo: 2062 for 2026).
DUE_YEARS_MAX = 2
COMMENT_MAX = 500
AGENDA_TEXT_MAX = 150
# At most this many actions on one agenda (the rest: "and N more", in the action list).
AGENDA_ACTIONS_MAX = 200
PAGE_SIZE = 10
HOME_MAX = 8
DIGEST_MAX = 15
REMIND_DAYS_BEFORE = 3
REMIND_AT = dt.time(8, 0)
# Reminders go out between 08:00 and 20:00 local on working days; later ones wait.
QUIET_FROM = dt.time(20, 0)
SNOOZE_HOUR = dt.timedelta(hours=1)
REMINDER_KIND = "action_reminder"

Scope = Literal["mine", "agency", "forum"]
Filter = Literal["open", "overdue", "done", "follow_up", "all"]
SCOPES: tuple[Scope, ...] = ("mine", "agency", "forum")
FILTERS: tuple[Filter, ...] = ("open", "overdue", "done", "follow_up", "all")
Snooze = Literal["hour", "morning"]


class ActionNotFound(DomainError):
    msgid = N_("That action no longer exists.")


class NotInActionsForum(ActionNotFound, NotAMember):
    """The user is no member of the action's forum: told as :class:`ActionNotFound` (a
    different answer would tell them that another forum has an action of that id), and
    audited as the non-member's attempt it is (a :class:`NotAMember`)."""

    msgid = ActionNotFound.msgid


class NotAllowed(DomainError):
    msgid = N_("Only the owner, a member of the owning agency or a coordinator can change this.")


@dataclass
class ActionDraft:
    """What a member typed in the action modal, before it is checked."""

    description: str
    agency_id: int | None
    owner: str | None
    due_on: dt.date | None
    case_reference: str | None = None
    area_id: int | None = None
    meeting_id: int | None = None
    hoped_effect: str | None = None


@dataclass(frozen=True)
class ActionRow:
    """One action as a member of its forum may see it (lists, DMs, App Home)."""

    id: int
    forum_id: int
    forum_name: str
    description: str
    agency_id: int
    agency: str
    owner: str | None
    due_on: dt.date
    status: ActionStatus
    overdue: bool
    effect: Effect | None
    follow_up_comment: str | None
    followed_up_by: str | None
    case_reference: str | None
    area: str | None
    hoped_effect: str | None
    completed_at: dt.datetime | None
    # False: the action is linked to a case whose details this reader may not see
    # (domain.disclosure); description, hoped-for effect and comments are blank.
    details: bool = True
    # Why it is hidden, when the reader's agency may not see its case (neither raising it,
    # nor covered by its consent, nor with a legal ground): what the case's own modal tells
    # that reader, so the row may say why. None for anyone else it is hidden from (no
    # member) and when it is shown.
    hidden_why: Hidden | None = None
    # Whether this reader may change it (done, more time, hand over, cancel, open again) and
    # record its effect (domain.actions.may_change / may_follow_up): a list offers only
    # what they may do. True where no reader is known (nothing is offered there anyway).
    changeable: bool = True
    followable: bool = True

    @property
    def awaiting_follow_up(self) -> bool:
        return self.status is ActionStatus.DONE and self.effect is None


@dataclass(frozen=True)
class ActionPage:
    rows: tuple[ActionRow, ...]
    page: int
    has_more: bool
    scope: Scope
    filter: Filter

    @property
    def first_key(self) -> tuple[str, int] | None:
        return page_key(self.rows[0], self.filter) if self.rows else None

    @property
    def last_key(self) -> tuple[str, int] | None:
        return page_key(self.rows[-1], self.filter) if self.rows else None


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    actor: str
    kind: str
    detail: dict[str, Any]
    note: str | None


@dataclass(frozen=True)
class ActionView:
    row: ActionRow
    history: tuple[HistoryEntry, ...]
    may_change: bool
    may_follow_up: bool
    may_edit: bool = False
    may_redact: bool = False


# --- time and calendar ----------------------------------------------------------------------


def _working(day: dt.date, cal: meetings.ForumCalendar) -> bool:
    return meetings.working_day(day, cal)


def _back_to_working(day: dt.date, cal: meetings.ForumCalendar) -> dt.date:
    while not _working(day, cal):
        day -= dt.timedelta(days=1)
    return day


def _forward_to_working(day: dt.date, cal: meetings.ForumCalendar) -> dt.date:
    while not _working(day, cal):
        day += dt.timedelta(days=1)
    return day


def _working_days_before(day: dt.date, n: int, cal: meetings.ForumCalendar) -> dt.date:
    counted = 0
    while counted < n:
        day -= dt.timedelta(days=1)
        if _working(day, cal):
            counted += 1
    return day


def reminder_days_before(forum: Forum) -> int:
    raw = (forum.settings or {}).get("action_reminder_days", REMIND_DAYS_BEFORE)
    return raw if isinstance(raw, int) and 0 <= raw <= 10 else REMIND_DAYS_BEFORE


def next_reminder_day(
    due_on: dt.date, after: dt.date, *, days_before: int, cal: meetings.ForumCalendar
) -> dt.date:
    """The first reminder day strictly after ``after``: N working days before the due date,
    the due date (the working day before it when it is a day off), then weekly while overdue
    (each moved to the next working day)."""
    candidates = [_back_to_working(due_on, cal)]
    if days_before > 0:
        candidates.append(_working_days_before(due_on, days_before, cal))
    start = max(1, (after - due_on).days // 7)
    for k in range(start, start + 3):
        candidates.append(_forward_to_working(due_on + dt.timedelta(days=7 * k), cal))
    return min(d for d in candidates if d > after)


def _at_morning(day: dt.date, forum: Forum) -> dt.datetime:
    zone = forum_schedule(forum).zone
    return dt.datetime.combine(day, REMIND_AT, tzinfo=zone).astimezone(dt.UTC)


def plan_reminder(action: Action, forum: Forum, clock: Clock) -> None:
    """Set ``remind_at`` to the next reminder after today (None when none is due)."""
    if action.status is not ActionStatus.OPEN or action.owner is None:
        action.remind_at = None
        return
    day = next_reminder_day(
        action.due_on,
        local_today(forum, clock),
        days_before=reminder_days_before(forum),
        cal=meetings.calendar_of(forum),
    )
    action.remind_at = _at_morning(day, forum)
    action.snoozed_until = None


def may_remind_now(forum: Forum, clock: Clock) -> bool:
    """Working day, between 08:00 and 20:00 in the forum's time zone."""
    now = local_now(forum, clock)
    return (
        _working(now.date(), meetings.calendar_of(forum))
        and REMIND_AT <= now.time().replace(tzinfo=None) < QUIET_FROM
    )


# Each filter's order: (column, newest first). Pages are keyed on (column, id).
_ORDER: dict[Filter, tuple[Any, bool]] = {
    "open": (Action.due_on, False),
    "overdue": (Action.due_on, False),
    "done": (Action.completed_at, True),
    "follow_up": (Action.completed_at, False),
    "all": (Action.due_on, True),
}


def page_key(row: ActionRow, flt: Filter) -> tuple[str, int]:
    """The (sort value, id) a keyed page starts after or before: ISO text, so a button's
    value can carry it."""
    value = row.completed_at if _ORDER[flt][0] is Action.completed_at else row.due_on
    return (value.isoformat() if value is not None else "", row.id)
