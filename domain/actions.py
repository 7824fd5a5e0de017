"""Actions (insatser/åtgärder): owned by an agency and one of its members, with a due date,
reminders on working days, hand-over, postponement with a reason, and follow-up of effect.

Every change is kept in the action's history (:class:`ActionEvent`: who, when, what) and
written to the audit log. Only the owner, a member of the owning agency or a coordinator can
change an action; the follow-up of effect is recorded by the owner or a coordinator.

Reminders: N working days before the due date (default 3, ``forum.settings
["action_reminder_days"]``), on the due date (the working day before, if it is a day off) and
then weekly while overdue, at 08:00 local on working days only (no weekends, Swedish public
holidays or the forum's extra days off) and never at night. Each action keeps the instant of
its next reminder (``remind_at``); a replica claims (forum, ``action_reminder``, action,
instant) before sending, so a reminder goes out once however many replicas run. Overdue
actions are gathered into one digest DM per owner and day instead of one message each.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy import and_, exists, func, literal, not_, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from domain import audit, disclosure, meetings, privacy, scheduling
from domain.clock import Clock
from domain.errors import (
    DomainError,
    IdentifyingDataRefused,
    InputErrors,
    InvalidInput,
    NotCoordinator,
)
from domain.forums import Access, active_agencies, active_areas, forum_schedule, require_member
from domain.i18n import N_, Locale, N_plural, normalize_locale
from storage.models import (
    Action,
    ActionEvent,
    ActionStatus,
    AuditAction,
    Case,
    Effect,
    Forum,
    Meeting,
    MeetingStatus,
    Member,
    Rating,
    RatingRound,
    RatingRoundStatus,
    Role,
)

DESCRIPTION_MAX = 1000
HOPED_EFFECT_MAX = 500
REASON_MAX = 300
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


def local_now(forum: Forum, clock: Clock) -> dt.datetime:
    return clock.now().astimezone(forum_schedule(forum).zone)


def local_today(forum: Forum, clock: Clock) -> dt.date:
    return local_now(forum, clock).date()


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


# --- access ---------------------------------------------------------------------------------


def may_change(action: Action, access: Access) -> bool:
    return (
        access.is_coordinator
        or (action.owner is not None and action.owner == access.member.slack_user_id)
        or access.member.agency_id == action.owning_agency_id
    )


def may_edit(action: Action, access: Access) -> bool:
    """Who corrects an action's text: whoever wrote it, or a coordinator."""
    return access.is_coordinator or action.created_by == access.member.slack_user_id


def may_follow_up(action: Action, access: Access) -> bool:
    """The owner or a coordinator records the effect (the agency, when no one owns it)."""
    if access.is_coordinator or action.owner == access.member.slack_user_id:
        return True
    return action.owner is None and access.member.agency_id == action.owning_agency_id


def _load(session: Session, action_id: int, *, forum_id: int | None = None) -> Action:
    action = session.scalar(
        select(Action)
        .options(joinedload(Action.owning_agency), joinedload(Action.case), joinedload(Action.area))
        .where(Action.id == action_id)
    )
    if action is None or (forum_id is not None and action.forum_id != forum_id):
        raise ActionNotFound()
    return action


def access_for_action(
    session: Session, *, team_id: str, action_id: int, slack_user_id: str
) -> tuple[Access, Action]:
    """The action and the member's access to its forum (from a DM, App Home or a list)."""
    action = _load(session, action_id)
    forum = session.get(Forum, action.forum_id)
    if forum is None or forum.team_id != team_id:
        raise ActionNotFound()
    return require_member(session, forum=forum, slack_user_id=slack_user_id), action


def _audit(
    session: Session,
    clock: Clock,
    access: Access,
    action: AuditAction,
    action_id: int,
    detail: dict[str, Any] | None = None,
) -> None:
    audit.record_by(
        session,
        clock,
        access,
        action=action,
        object_type="action",
        object_ref=str(action_id),
        detail=detail,
    )


def _history(
    session: Session,
    clock: Clock,
    action: Action,
    *,
    actor: str,
    kind: str,
    detail: dict[str, Any] | None = None,
    note: str | None = None,
) -> ActionEvent:
    event = ActionEvent(
        action_id=action.id,
        at=clock.now(),
        actor=actor,
        kind=kind,
        detail=detail or {},
        note=note,
    )
    session.add(event)
    action.updated_at = clock.now()
    return event


def _agency_member(session: Session, forum: Forum, agency_id: int, user: str) -> Member | None:
    return session.scalar(
        select(Member).where(
            Member.forum_id == forum.id,
            Member.slack_user_id == user,
            Member.agency_id == agency_id,
            Member.active.is_(True),
        )
    )


def _privacy(errors: dict[str, DomainError], texts: dict[str, str | None], today: dt.date) -> None:
    for fld, msgid in privacy.check_fields(texts, today=today).items():
        errors.setdefault(fld, IdentifyingDataRefused(msgid, field=fld))


# --- creating -------------------------------------------------------------------------------


def upcoming_meetings(session: Session, clock: Clock, forum: Forum) -> list[Meeting]:
    return meetings.upcoming(session, clock, forum, count=8)


def _check(
    session: Session, clock: Clock, access: Access, draft: ActionDraft
) -> tuple[Case | None, dict[str, DomainError]]:
    forum = access.forum
    today = local_today(forum, clock)
    errors: dict[str, DomainError] = {}
    _privacy(
        errors,
        {
            "description": draft.description,
            "hoped_effect": draft.hoped_effect,
            "case": draft.case_reference,
        },
        today,
    )
    description = draft.description.strip()
    if not description:
        errors.setdefault(
            "description",
            InvalidInput(N_("Describe what is to be done, without names."), field="description"),
        )
    elif len(description) > DESCRIPTION_MAX:
        errors.setdefault(
            "description",
            InvalidInput(
                N_plural(
                    "The description can be at most {n} character.",
                    "The description can be at most {n} characters.",
                ),
                field="description",
                n=DESCRIPTION_MAX,
            ),
        )
    if draft.hoped_effect and len(draft.hoped_effect.strip()) > HOPED_EFFECT_MAX:
        errors.setdefault(
            "hoped_effect",
            InvalidInput(
                N_plural(
                    "The hoped-for effect can be at most {n} character.",
                    "The hoped-for effect can be at most {n} characters.",
                ),
                field="hoped_effect",
                n=HOPED_EFFECT_MAX,
            ),
        )
    agencies = {a.id: a for a in active_agencies(forum)}
    agency = agencies.get(draft.agency_id or 0)
    if agency is None:
        errors["agency"] = InvalidInput(
            N_("Choose the agency that owns the action."), field="agency"
        )
    if not draft.owner:
        errors["owner"] = InvalidInput(N_("Choose who owns the action."), field="owner")
    elif agency is not None and _agency_member(session, forum, agency.id, draft.owner) is None:
        errors["owner"] = InvalidInput(
            N_(
                "The owner must be a member of {agency} in this forum. Choose another person, "
                "or ask the coordinator to add them."
            ),
            field="owner",
            agency=agency.name,
        )
    if draft.due_on is None:
        errors["due_on"] = InvalidInput(N_("Choose a due date."), field="due_on")
    elif draft.due_on < today:
        errors["due_on"] = InvalidInput(
            N_("The due date has already passed. Choose today or a later day."), field="due_on"
        )
    case = None
    reference = (draft.case_reference or "").strip()
    if reference and "case" not in errors:
        case = session.scalar(
            select(Case).where(
                Case.forum_id == forum.id, func.upper(Case.reference) == reference.upper()
            )
        )
        if case is None:
            errors["case"] = InvalidInput(
                N_("There is no case {reference} in this forum."),
                field="case",
                reference=reference[:32],
            )
    if draft.area_id is not None and draft.area_id not in {a.id for a in active_areas(forum)}:
        errors["area"] = InvalidInput(N_("Choose one of the forum's areas."), field="area")
    if draft.meeting_id is not None:
        meeting = session.get(Meeting, draft.meeting_id)
        if (
            meeting is None
            or meeting.forum_id != forum.id
            or meeting.status is not MeetingStatus.PLANNED
        ):
            errors["meeting"] = InvalidInput(
                N_("That meeting is no longer available. Choose another."), field="meeting"
            )
    return case, errors


def create_action(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    draft: ActionDraft,
    submission_key: str | None = None,
) -> tuple[Action, bool]:
    """Create an action. Returns (action, created); a submission already seen (same
    ``submission_key``) returns the existing action and ``created=False``. Nothing is stored
    when a field is wrong (:class:`InputErrors`, one error per field)."""
    forum = access.forum
    if submission_key:
        existing = session.scalar(
            select(Action).where(
                Action.forum_id == forum.id, Action.submission_key == submission_key
            )
        )
        if existing is not None:
            return existing, False
    case, errors = _check(session, clock, access, draft)
    if errors:
        raise InputErrors(errors)
    assert draft.agency_id is not None and draft.due_on is not None and draft.owner
    now = clock.now()
    action = Action(
        forum_id=forum.id,
        description=draft.description.strip(),
        owning_agency_id=draft.agency_id,
        owner=draft.owner,
        due_on=draft.due_on,
        case_id=case.id if case else None,
        area_id=draft.area_id,
        meeting_id=draft.meeting_id,
        hoped_effect=(draft.hoped_effect or "").strip() or None,
        status=ActionStatus.OPEN,
        created_by=access.member.slack_user_id,
        submission_key=submission_key,
        created_at=now,
        updated_at=now,
    )
    plan_reminder(action, forum, clock)
    try:
        with session.begin_nested():
            session.add(action)
            session.flush()
    except IntegrityError:
        if submission_key:
            existing = session.scalar(
                select(Action).where(
                    Action.forum_id == forum.id, Action.submission_key == submission_key
                )
            )
            if existing is not None:
                return existing, False
        raise
    _history(
        session,
        clock,
        action,
        actor=access.member.slack_user_id,
        kind="created",
        detail={"owner": action.owner, "due_on": action.due_on.isoformat()},
    )
    _audit(session, clock, access, AuditAction.CREATE, action.id)
    return action, True


# --- changing -------------------------------------------------------------------------------


def _changeable(session: Session, access: Access, action_id: int) -> Action:
    action = _load(session, action_id, forum_id=access.forum.id)
    if not may_change(action, access):
        raise NotAllowed()
    return action


def _require_open(action: Action) -> None:
    if action.status is not ActionStatus.OPEN:
        raise InvalidInput(N_("This action is already done."))


def complete_action(session: Session, clock: Clock, *, access: Access, action_id: int) -> Action:
    """Klar: the action is done; it waits for the follow-up of effect at the next meeting."""
    action = _changeable(session, access, action_id)
    _require_open(action)
    action.status = ActionStatus.DONE
    action.completed_at = clock.now()
    action.remind_at = action.snoozed_until = None
    _history(session, clock, action, actor=access.member.slack_user_id, kind="done")
    _audit(session, clock, access, AuditAction.UPDATE, action.id, {"status": "done"})
    return action


def postpone_action(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    action_id: int,
    due_on: dt.date | None,
    reason: str,
) -> Action:
    """Behöver mer tid: a new due date and the reason (privacy-guarded)."""
    action = _changeable(session, access, action_id)
    _require_open(action)
    today = local_today(access.forum, clock)
    errors: dict[str, DomainError] = {}
    _privacy(errors, {"reason": reason}, today)
    if not reason.strip():
        errors.setdefault(
            "reason", InvalidInput(N_("Say briefly why more time is needed."), field="reason")
        )
    elif len(reason.strip()) > REASON_MAX:
        errors.setdefault(
            "reason",
            InvalidInput(
                N_plural(
                    "The reason can be at most {n} character.",
                    "The reason can be at most {n} characters.",
                ),
                field="reason",
                n=REASON_MAX,
            ),
        )
    if due_on is None:
        errors["due_on"] = InvalidInput(N_("Choose a new due date."), field="due_on")
    elif due_on < today:
        errors["due_on"] = InvalidInput(
            N_("The due date has already passed. Choose today or a later day."), field="due_on"
        )
    elif due_on == action.due_on:
        errors["due_on"] = InvalidInput(
            N_("That is the current due date. Choose another day."), field="due_on"
        )
    if errors:
        raise InputErrors(errors)
    assert due_on is not None
    old = action.due_on
    action.due_on = due_on
    plan_reminder(action, access.forum, clock)
    _history(
        session,
        clock,
        action,
        actor=access.member.slack_user_id,
        kind="postponed",
        detail={"from": old.isoformat(), "to": due_on.isoformat()},
        note=reason.strip(),
    )
    _audit(
        session,
        clock,
        access,
        AuditAction.UPDATE,
        action.id,
        {"due_on": due_on.isoformat(), "was": old.isoformat()},
    )
    return action


def hand_over(
    session: Session, clock: Clock, *, access: Access, action_id: int, new_owner: str | None
) -> Action:
    """Lämna över: another active member of the owning agency becomes the owner."""
    action = _changeable(session, access, action_id)
    _require_open(action)
    if not new_owner:
        raise InputErrors({"owner": InvalidInput(N_("Choose the new owner."), field="owner")})
    if new_owner == action.owner:
        raise InputErrors(
            {
                "owner": InvalidInput(
                    N_("They already own this action. Choose someone else."), field="owner"
                )
            }
        )
    if _agency_member(session, access.forum, action.owning_agency_id, new_owner) is None:
        raise InputErrors(
            {
                "owner": InvalidInput(
                    N_(
                        "The owner must be a member of {agency} in this forum. Choose another "
                        "person, or ask the coordinator to add them."
                    ),
                    field="owner",
                    agency=action.owning_agency.name,
                )
            }
        )
    old = action.owner
    action.owner = new_owner
    if old is None or action.remind_at is None:
        plan_reminder(action, access.forum, clock)
    _history(
        session,
        clock,
        action,
        actor=access.member.slack_user_id,
        kind="handed_over",
        detail={"from": old, "to": new_owner},
    )
    _audit(session, clock, access, AuditAction.UPDATE, action.id, {"owner": new_owner})
    return action


def record_follow_up(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    action_id: int,
    effect: Effect | None,
    comment: str,
) -> Action:
    """Did the action have the desired effect: ja / delvis / nej, with a comment."""
    action = _load(session, action_id, forum_id=access.forum.id)
    if not may_follow_up(action, access):
        raise NotCoordinator(
            N_("Only the owner or a coordinator can record whether the action had effect.")
        )
    if action.status is not ActionStatus.DONE:
        raise InvalidInput(N_("Mark the action as done before following up its effect."))
    errors: dict[str, DomainError] = {}
    _privacy(errors, {"comment": comment}, local_today(access.forum, clock))
    if effect is None:
        errors["effect"] = InvalidInput(
            N_("Say whether the action had the desired effect."), field="effect"
        )
    if len(comment.strip()) > COMMENT_MAX:
        errors.setdefault(
            "comment",
            InvalidInput(
                N_plural(
                    "The comment can be at most {n} character.",
                    "The comment can be at most {n} characters.",
                ),
                field="comment",
                n=COMMENT_MAX,
            ),
        )
    if errors:
        raise InputErrors(errors)
    assert effect is not None
    action.effect = effect
    action.follow_up_comment = comment.strip() or None
    action.followed_up_by = access.member.slack_user_id
    action.followed_up_at = clock.now()
    _history(
        session,
        clock,
        action,
        actor=access.member.slack_user_id,
        kind="follow_up",
        detail={"effect": effect.value},
        note=action.follow_up_comment,
    )
    _audit(session, clock, access, AuditAction.UPDATE, action.id, {"effect": effect.value})
    return action


def snooze(
    session: Session, clock: Clock, *, access: Access, action_id: int, until: Snooze
) -> dt.datetime:
    """Put the reminder off for an hour, or until the next working morning (08:00)."""
    action = _changeable(session, access, action_id)
    _require_open(action)
    forum = access.forum
    if until == "hour":
        at = clock.now() + SNOOZE_HOUR
    else:
        day = _forward_to_working(
            local_today(forum, clock) + dt.timedelta(days=1), meetings.calendar_of(forum)
        )
        at = _at_morning(day, forum)
    action.remind_at = action.snoozed_until = at
    _history(
        session,
        clock,
        action,
        actor=access.member.slack_user_id,
        kind="snoozed",
        detail={"until": at.isoformat()},
    )
    return at


# --- reading --------------------------------------------------------------------------------


def _row(
    action: Action,
    forum: Forum,
    today: dt.date,
    decision: disclosure.Decision | None = None,
) -> ActionRow:
    """The action for one reader: ``decision`` is the disclosure rule's answer for them
    (None only where nothing is shown to anyone, e.g. the agenda's numbers)."""
    shown = decision is None or decision.allowed
    return ActionRow(
        id=action.id,
        forum_id=forum.id,
        forum_name=forum.name,
        description=action.description if shown else "",
        agency_id=action.owning_agency_id,
        agency=action.owning_agency.name,
        owner=action.owner,
        due_on=action.due_on,
        status=action.status,
        overdue=action.status is ActionStatus.OPEN and action.due_on < today,
        effect=action.effect,
        follow_up_comment=action.follow_up_comment if shown else None,
        followed_up_by=action.followed_up_by,
        case_reference=action.case.reference if action.case else None,
        area=action.area.name if action.area else None,
        hoped_effect=action.hoped_effect if shown else None,
        completed_at=action.completed_at,
        details=shown,
    )


def rows_for(
    session: Session,
    clock: Clock,
    access: Access,
    actions: Sequence[Action],
    *,
    surface: str,
) -> list[ActionRow]:
    """The actions as this reader may see them on ``surface`` (the rule decides and audits)."""
    disclosure.load_cases(session, (a.case_id for a in actions if a.case_id is not None))
    decisions = disclosure.disclose_actions(session, clock, access, actions, surface_name=surface)
    today = local_today(access.forum, clock)
    return [_row(a, access.forum, today, decisions[a.id]) for a in actions]


def rows_for_user(
    session: Session,
    clock: Clock,
    forum: Forum,
    user: str,
    actions: Sequence[Action],
    *,
    surface: str = "action_dm",
) -> list[ActionRow]:
    """Rows for a DM to ``user`` (reminders, digests, hand-over): each action's details only
    where the rule lets that user see them; none when they are no longer a member."""
    access = disclosure.access_of(session, forum, user)
    if access is None:
        today = local_today(forum, clock)
        return [_row(a, forum, today, disclosure.REFUSED) for a in actions]
    return rows_for(session, clock, access, actions, surface=surface)


def _with_links() -> Any:
    return (
        joinedload(Action.owning_agency),
        joinedload(Action.case).load_only(Case.reference),
        joinedload(Action.area),
    )


def agenda_action_links() -> Any:
    """The loader options :func:`actions_for_agenda` needs on actions passed as ``loaded``."""
    return _with_links()


def _filtered(query: Any, flt: Filter, today: dt.date) -> Any:
    if flt == "open":
        return query.where(Action.status == ActionStatus.OPEN)
    if flt == "overdue":
        return query.where(Action.status == ActionStatus.OPEN, Action.due_on < today)
    if flt == "done":
        return query.where(Action.status == ActionStatus.DONE)
    if flt == "follow_up":
        return query.where(Action.status == ActionStatus.DONE, Action.effect.is_(None))
    return query.where(Action.status != ActionStatus.CANCELLED)


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


def _key_condition(flt: Filter, key: tuple[str, int], *, forward: bool) -> Any:
    """Rows after ``key`` in the filter's order (``forward``), or before it. Written as
    ``col >= v AND (col > v OR id > i)`` (not a row comparison) so the index range on the
    column is used on both databases."""
    column, descending = _ORDER[flt]
    raw, key_id = key
    value: Any = (
        dt.datetime.fromisoformat(raw)
        if column is Action.completed_at
        else dt.date.fromisoformat(raw)
    )
    later = forward != descending  # the rows we want sort after the key in ascending terms
    if later:
        return and_(column >= value, or_(column > value, Action.id > key_id))
    return and_(column <= value, or_(column < value, Action.id < key_id))


def list_actions(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    scope: Scope = "mine",
    flt: Filter = "open",
    page: int = 0,
    after: tuple[str, int] | None = None,
    before: tuple[str, int] | None = None,
    page_size: int = PAGE_SIZE,
) -> ActionPage:
    """A page of actions: one query however many actions the forum has and however deep
    the page. Keyed like the case list: the next page starts after the last row's (sort
    value, id), the previous one before the first row's; without a key, the first page."""
    forum = access.forum
    today = local_today(forum, clock)
    query = select(Action).where(Action.forum_id == forum.id)
    if scope == "mine":
        query = query.where(Action.owner == access.member.slack_user_id)
    elif scope == "agency":
        query = query.where(Action.owning_agency_id == access.member.agency_id)
    query = _filtered(query, flt, today)
    column, descending = _ORDER[flt]
    backwards = False
    try:
        if after is not None:
            query = query.where(_key_condition(flt, after, forward=True))
        elif before is not None:
            query = query.where(_key_condition(flt, before, forward=False))
            backwards = True
    except ValueError:  # a key we cannot read (an odd button value): the first page
        after = before = None
    if after is None and before is None:
        page = 0
    page = max(page, 0)
    flip = descending != backwards
    order = (column.desc(), Action.id.desc()) if flip else (column.asc(), Action.id.asc())
    actions = list(
        session.scalars(query.options(*_with_links()).order_by(*order).limit(page_size + 1))
        .unique()
        .all()
    )
    has_more = len(actions) > page_size
    actions = actions[:page_size]
    if backwards:
        if not has_more:  # back at the top: the first page as it is now
            return list_actions(
                session, clock, access=access, scope=scope, flt=flt, page_size=page_size
            )
        actions.reverse()
        has_more = True
    rows = tuple(rows_for(session, clock, access, actions, surface="action_list"))
    return ActionPage(rows=rows, page=page, has_more=has_more, scope=scope, filter=flt)


def read_action(session: Session, clock: Clock, *, access: Access, action_id: int) -> ActionView:
    """The action's details and history (the detail modal): an audited read, decided by the
    disclosure rule; without access to its case's details, history notes are left out."""
    action = _load(session, action_id, forum_id=access.forum.id)
    disclosure.load_cases(session, [action.case_id] if action.case_id else [])
    decision = disclosure.disclose(session, clock, access, action, surface_name="action_detail")
    events = session.scalars(
        select(ActionEvent).where(ActionEvent.action_id == action.id).order_by(ActionEvent.id)
    ).all()
    return ActionView(
        row=_row(action, access.forum, local_today(access.forum, clock), decision),
        history=tuple(
            HistoryEntry(
                e.at, e.actor, e.kind, dict(e.detail or {}), e.note if decision.allowed else None
            )
            for e in events
        ),
        may_change=may_change(action, access),
        may_follow_up=may_follow_up(action, access),
        may_edit=decision.allowed and may_edit(action, access),
        may_redact=decision.allowed and access.is_coordinator,
    )


def action_row(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    action_id: int,
    surface: str = "action_card",
) -> ActionRow:
    """One action for this member (cards, the change modals)."""
    action = _load(session, action_id, forum_id=access.forum.id)
    return rows_for(session, clock, access, [action], surface=surface)[0]


def my_open_actions(
    session: Session, clock: Clock, *, team_id: str, slack_user_id: str, limit: int = HOME_MAX
) -> tuple[list[ActionRow], int]:
    """The user's open actions in every forum of the workspace (App Home), soonest first,
    and how many there are in all."""
    where = (
        Action.owner == slack_user_id,
        Action.status == ActionStatus.OPEN,
        Forum.team_id == team_id,
        exists().where(
            Member.forum_id == Action.forum_id,
            Member.slack_user_id == slack_user_id,
            Member.active.is_(True),
        ),
    )
    found = list(
        session.execute(
            select(Action, Forum)
            .join(Forum, Forum.id == Action.forum_id)
            .options(*_with_links())
            .where(*where)
            .order_by(Action.due_on, Action.id)
            .limit(limit)
        ).unique()
    )
    by_forum: dict[int, list[Action]] = defaultdict(list)
    forums: dict[int, Forum] = {}
    for a, f in found:
        by_forum[f.id].append(a)
        forums[f.id] = f
    shown: dict[int, ActionRow] = {}
    for forum_id, listed in by_forum.items():
        for row in rows_for_user(
            session, clock, forums[forum_id], slack_user_id, listed, surface="app_home"
        ):
            shown[row.id] = row
    rows = [shown[a.id] for a, _f in found]
    total = session.scalar(
        select(func.count())
        .select_from(Action)
        .join(Forum, Forum.id == Action.forum_id)
        .where(*where)
    )
    return rows, int(total or 0)


def forum_days(session: Session, clock: Clock, forum_ids: Iterable[int]) -> dict[int, dt.date]:
    """Today in each forum's own time zone."""
    days: dict[int, dt.date] = {}
    for forum_id in sorted(set(forum_ids)):
        forum = session.get(Forum, forum_id)
        if forum is not None:
            days[forum_id] = local_today(forum, clock)
    return days


def actions_for_case(
    session: Session, clock: Clock, *, access: Access, case_id: int
) -> list[ActionRow]:
    """The actions linked to a case (shown in the case view, to members)."""
    found = session.scalars(
        select(Action)
        .options(*_with_links())
        .where(
            Action.forum_id == access.forum.id,
            Action.case_id == case_id,
            Action.status != ActionStatus.CANCELLED,
        )
        .order_by(Action.due_on, Action.id)
        .limit(20)
    ).unique()
    return rows_for(session, clock, access, list(found), surface="case_actions")


def coordinators(session: Session, forum_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                Member.forum_id == forum_id,
                Member.active.is_(True),
                Member.role.in_((Role.COORDINATOR, Role.ADMIN)),
            )
            .order_by(Member.id)
        )
    )


# --- the agenda (issue #7 renders it) --------------------------------------------------------


@dataclass(frozen=True)
class AreaRating:
    """One area's ratings in one closed round, in the situation picture's own measure: the
    highest level (1–5) any agency gave, with the median beside it."""

    meeting_day: dt.date
    highest: int
    median: float
    answers: int


@dataclass(frozen=True)
class AgendaAction:
    id: int
    description: str  # passed the privacy guard at creation; at most 150 characters
    agency: str
    owner: str | None
    due_on: dt.date
    overdue: bool
    case_reference: str | None
    area: str | None
    completed_at: dt.datetime | None = None
    rating_before: AreaRating | None = None
    rating_after: AreaRating | None = None


@dataclass(frozen=True)
class AgendaActions:
    """For one meeting: open actions due by the meeting day, and done actions whose effect
    has not been followed up (they stay until it is). ``more``: how many such actions are
    left out past :data:`AGENDA_ACTIONS_MAX` (the agenda says so)."""

    due: tuple[AgendaAction, ...] = field(default_factory=tuple)
    follow_up: tuple[AgendaAction, ...] = field(default_factory=tuple)
    more: int = 0


@dataclass(frozen=True)
class DueActions:
    """The actions an agenda lists, in its order (due date, id), and how many more there are."""

    ids: tuple[int, ...]
    more: int


def agenda_due_actions(
    session: Session, forum_id: int, meeting_day: dt.date, *, limit: int | None = None
) -> DueActions:
    """The open actions due by ``meeting_day`` and the done ones awaiting follow-up of
    effect, at most ``limit`` of them, soonest due first: the one list both the agenda's
    collection (domain.agenda.collect) and its details (:func:`actions_for_agenda`) use.

    Two queries, each an ordered range of ``(forum_id, status, effect, due_on, id)``
    (bounded by the forum and the status however many actions other forums have), merged
    here; the counts only when the limit is reached."""
    limit = AGENDA_ACTIONS_MAX if limit is None else limit
    base = (Action.forum_id == forum_id, Action.effect.is_(None))
    conditions = (
        (*base, Action.status == ActionStatus.OPEN, Action.due_on <= meeting_day),
        (*base, Action.status == ActionStatus.DONE),
    )
    # One statement: the two ranges side by side (UNION ALL of the limited subqueries).
    parts = [
        select(Action.due_on, Action.id)
        .where(*where)
        .order_by(Action.due_on, Action.id)
        .limit(limit)
        .subquery()
        for where in conditions
    ]
    rows = session.execute(
        union_all(
            *(
                select(literal(n).label("part"), part.c.due_on, part.c.id)
                for n, part in enumerate(parts)
            )
        )
    ).all()
    found = sorted((r[1], r[2]) for r in rows)
    full = any(sum(1 for r in rows if r[0] == n) == limit for n in range(len(parts)))
    more = 0
    if full or len(found) > limit:
        total = sum(
            int(session.scalar(select(func.count()).select_from(Action).where(*where)) or 0)
            for where in conditions
        )
        more = max(0, total - limit)
    return DueActions(ids=tuple(i for _d, i in found[:limit]), more=more)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= AGENDA_TEXT_MAX else text[: AGENDA_TEXT_MAX - 1] + "…"


def _area_ratings(
    session: Session, forum: Forum, area_ids: set[int]
) -> dict[int, list[tuple[dt.datetime, AreaRating]]]:
    """Closed rounds' highest level (and median) per area, keyed by when each round closed,
    oldest first (from the rating tables directly)."""
    from domain.ratings import highest_of, median_of

    if not area_ids:
        return {}
    zone = forum_schedule(forum).zone
    closed = func.coalesce(RatingRound.closed_at, RatingRound.deadline_at)
    found = session.execute(
        select(
            Rating.area_id, RatingRound.id, closed, Meeting.starts_at, Rating.level, func.count()
        )
        .join(RatingRound, RatingRound.id == Rating.round_id)
        .join(Meeting, Meeting.id == RatingRound.meeting_id)
        .where(
            RatingRound.forum_id == forum.id,
            RatingRound.status == RatingRoundStatus.CLOSED,
            Rating.is_current.is_(True),
            Rating.area_id.in_(area_ids),
        )
        .group_by(Rating.area_id, RatingRound.id, closed, Meeting.starts_at, Rating.level)
    ).all()
    counts: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    when: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    for area_id, round_id, closed_at, starts_at, level, n in found:
        counts[(area_id, round_id)][level] = int(n)
        when[round_id] = (closed_at, starts_at)
    result: dict[int, list[tuple[dt.datetime, AreaRating]]] = defaultdict(list)
    for (area_id, round_id), levels in counts.items():
        closed_at, starts_at = when[round_id]
        highest, median = highest_of(levels), median_of(levels)
        assert highest is not None and median is not None
        day = starts_at.astimezone(zone).date()
        result[area_id].append((closed_at, AreaRating(day, highest, median, sum(levels.values()))))
    for rows in result.values():
        rows.sort(key=lambda row: row[0])
    return result


def _before_after(
    ratings: list[tuple[dt.datetime, AreaRating]], created: dt.datetime, done: dt.datetime | None
) -> tuple[AreaRating | None, AreaRating | None]:
    """The last round closed before the action was made, and the latest closed after it
    was done."""
    before = [r for closed, r in ratings if closed <= created]
    after = [r for closed, r in ratings if done is not None and closed >= done]
    return (before[-1] if before else None, after[-1] if after else None)


def _load_listed(session: Session, listed: DueActions) -> Sequence[Action]:
    if not listed.ids:
        return []
    return (
        session.scalars(
            select(Action)
            .options(*_with_links())
            .where(Action.id.in_(listed.ids))
            .order_by(Action.due_on, Action.id)
        )
        .unique()
        .all()
    )


def actions_for_agenda(
    session: Session,
    forum: Forum,
    meeting: Meeting,
    today: dt.date,
    *,
    listed: DueActions | None = None,
    loaded: Mapping[int, Action] | None = None,
) -> AgendaActions:
    """What the agenda lists about actions for ``meeting``: open actions due on or before the
    meeting day (overdue flagged against ``today``) and done actions awaiting follow-up of
    effect. Area-linked actions carry the area's highest level (the situation picture's
    measure) in the last round closed before the action was created and in the latest closed
    after it was done (None when there is no such round)."""
    meeting_day = meeting.starts_at.astimezone(forum_schedule(forum).zone).date()
    if listed is None:  # domain.agenda.build passes the list its collection used
        listed = agenda_due_actions(session, forum.id, meeting_day)
    if loaded is not None and all(i in loaded for i in listed.ids):
        # domain.agenda.build loaded them already (with agenda_action_links()).
        found = sorted((loaded[i] for i in listed.ids), key=lambda a: (a.due_on, a.id))
    else:
        found = list(_load_listed(session, listed))
    ratings = _area_ratings(session, forum, {a.area_id for a in found if a.area_id is not None})
    due: list[AgendaAction] = []
    follow_up: list[AgendaAction] = []
    for a in found:
        before, after = (
            _before_after(ratings.get(a.area_id, []), a.created_at, a.completed_at)
            if a.area_id is not None
            else (None, None)
        )
        line = AgendaAction(
            id=a.id,
            description=_short(a.description),
            agency=a.owning_agency.name,
            owner=a.owner,
            due_on=a.due_on,
            overdue=a.status is ActionStatus.OPEN and a.due_on < today,
            case_reference=a.case.reference if a.case else None,
            area=a.area.name if a.area else None,
            completed_at=a.completed_at,
            rating_before=before,
            rating_after=after,
        )
        (due if a.status is ActionStatus.OPEN else follow_up).append(line)
    return AgendaActions(due=tuple(due), follow_up=tuple(follow_up), more=listed.more)


# --- scheduled work -------------------------------------------------------------------------


class ActionMessages(Protocol):
    """Renders the scheduled DMs (Block Kit lives in handlers; bot wires it in)."""

    def reminder(self, locale: Locale, row: ActionRow, today: dt.date) -> dict[str, Any]: ...

    def digest(
        self, locale: Locale, rows: Sequence[ActionRow], total: int, today: dt.date
    ) -> dict[str, Any]: ...

    def released(
        self, locale: Locale, forum_name: str, rows: Sequence[ActionRow]
    ) -> dict[str, Any]: ...


def _dm(
    session: Session, clock: Clock, forum: Forum, user: str, payload: dict[str, Any], key: str
) -> None:
    scheduling.enqueue(
        session,
        clock,
        team_id=forum.team_id,
        method="chat.postMessage",
        payload={"channel": user, **payload},
        dedupe_key=key,
    )


def queue_dm(
    session: Session, clock: Clock, forum: Forum, user: str, payload: dict[str, Any], key: str
) -> None:
    """Queue a DM in the outbox inside the caller's transaction, so it is sent (with retries)
    exactly when the change it tells about is stored; ``key`` is its dedupe key."""
    _dm(session, clock, forum, user, payload, key)


def event_key(prefix: str, session: Session, action_id: int) -> str:
    """A dedupe key for the action's latest history event (one message per event)."""
    session.flush()
    latest = session.scalar(
        select(func.max(ActionEvent.id)).where(ActionEvent.action_id == action_id)
    )
    return f"{prefix}:{action_id}:{latest or 0}"


def release_orphaned_actions(
    session: Session, clock: Clock, messages: ActionMessages, *, limit: int = 500
) -> int:
    """Open actions whose owner is no longer an active member of the owning agency (left the
    channel, removed from the forum, moved to another agency) stay with the agency without
    an owner, and the forum's coordinators are told once. Returns how many were released."""
    still_member = exists().where(
        Member.forum_id == Action.forum_id,
        Member.slack_user_id == Action.owner,
        Member.agency_id == Action.owning_agency_id,
        Member.active.is_(True),
    )
    candidates = session.execute(
        select(Action.id, Action.owner)
        .where(Action.status == ActionStatus.OPEN, Action.owner.is_not(None), not_(still_member))
        .order_by(Action.id)
        .limit(limit)
    ).all()
    released: dict[int, list[tuple[Action, ActionEvent]]] = defaultdict(list)
    for action_id, owner in candidates:
        owner = str(owner)
        # Conditional: another replica may have released it a moment ago.
        taken = session.scalar(
            update(Action)
            .where(
                Action.id == action_id, Action.owner == owner, Action.status == ActionStatus.OPEN
            )
            .values(owner=None, remind_at=None, snoozed_until=None, updated_at=clock.now())
            .returning(Action.id)
        )
        if taken is None:
            continue
        action = _load(session, action_id)
        session.refresh(action)
        event = _history(
            session,
            clock,
            action,
            actor=owner,
            kind="owner_left",
            detail={"from": owner},
        )
        released[action.forum_id].append((action, event))
    for forum_id, items in released.items():
        forum = session.get(Forum, forum_id)
        assert forum is not None
        session.flush()
        first = min(e.id for _, e in items)
        locale = normalize_locale(forum.language)
        for coordinator in coordinators(session, forum_id):
            rows = rows_for_user(session, clock, forum, coordinator, [a for a, _ in items])
            _dm(
                session,
                clock,
                forum,
                coordinator,
                messages.released(locale, forum.name, rows),
                f"action_released:{forum_id}:{first}:{coordinator}",
            )
        for action, _ in items:
            audit.record(
                session,
                clock,
                actor="system",
                action=AuditAction.UPDATE,
                object_type="action",
                object_ref=str(action.id),
                team_id=forum.team_id,
                forum_id=forum.id,
                detail={"owner": None, "reason": "owner_left"},
            )
    return sum(len(v) for v in released.values())


def send_reminders(
    session: Session, clock: Clock, messages: ActionMessages, *, replica: str, limit: int = 500
) -> int:
    """Claim and queue the reminders that are due. Returns how many were claimed."""
    now = clock.now()
    due = (
        session.scalars(
            select(Action)
            .options(*_with_links())
            .where(
                Action.status == ActionStatus.OPEN,
                Action.owner.is_not(None),
                Action.remind_at <= now,
            )
            .order_by(Action.remind_at, Action.id)
            .limit(limit)
        )
        .unique()
        .all()
    )
    forums: dict[int, Forum] = {}
    overdue_owners: dict[tuple[int, str], bool] = {}
    claimed = 0
    for action in due:
        forum = forums.get(action.forum_id) or session.get(Forum, action.forum_id)
        assert forum is not None and action.owner is not None and action.remind_at is not None
        forums[forum.id] = forum
        if not may_remind_now(forum, clock):
            continue  # weekend, holiday or night: it waits for the next working morning
        snoozed = action.snoozed_until is not None and action.snoozed_until == action.remind_at
        effect = scheduling.claim(
            session,
            clock,
            forum_id=forum.id,
            kind=REMINDER_KIND,
            subject=str(action.id),
            occurrence=action.remind_at,
            due_at=action.remind_at,
            replica=replica,
        )
        if effect is not None:
            claimed += 1
            today = local_today(forum, clock)
            row = _row(action, forum, today, disclosure.REFUSED)
            late = now - action.remind_at > dt.timedelta(hours=12)
            if row.overdue and not snoozed:
                overdue_owners[(forum.id, action.owner)] = True
            else:
                row = rows_for_user(session, clock, forum, action.owner, [action])[0]
                _dm(
                    session,
                    clock,
                    forum,
                    action.owner,
                    messages.reminder(normalize_locale(forum.language), row, today),
                    f"{REMINDER_KIND}:{action.id}:{action.remind_at.isoformat()}",
                )
            scheduling.complete(session, clock, effect, late=late)
        plan_reminder(action, forum, clock)  # done here or by the replica that claimed it
    for forum_id, owner in overdue_owners:
        _send_digest(session, clock, messages, forums[forum_id], owner)
    return claimed


def _send_digest(
    session: Session, clock: Clock, messages: ActionMessages, forum: Forum, owner: str
) -> None:
    """One DM a day per owner with all their overdue actions in the forum."""
    today = local_today(forum, clock)
    where = (
        Action.forum_id == forum.id,
        Action.owner == owner,
        Action.status == ActionStatus.OPEN,
        Action.due_on < today,
    )
    found = (
        session.scalars(
            select(Action)
            .options(*_with_links())
            .where(*where)
            .order_by(Action.due_on, Action.id)
            .limit(DIGEST_MAX)
        )
        .unique()
        .all()
    )
    total = int(session.scalar(select(func.count()).select_from(Action).where(*where)) or 0)
    rows = rows_for_user(session, clock, forum, owner, found)
    if not rows:
        return
    _dm(
        session,
        clock,
        forum,
        owner,
        messages.digest(normalize_locale(forum.language), rows, total, today),
        f"action_digest:{forum.id}:{owner}:{today.isoformat()}",
    )
