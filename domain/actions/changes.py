"""Creating and changing actions: create, complete, postpone, hand over, follow up, snooze;
each change kept in the action's history and written to the audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain import disclosure, meetings
from domain.access import Access
from domain.actions.base import (
    COMMENT_MAX,
    DESCRIPTION_MAX,
    DUE_YEARS_MAX,
    HOPED_EFFECT_MAX,
    REASON_MAX,
    SNOOZE_HOUR,
    ActionDraft,
    NotAllowed,
    Snooze,
    _at_morning,
    _forward_to_working,
    plan_reminder,
)
from domain.actions.rights import (
    _audit,
    _history,
    _load,
    _privacy,
    may_change,
    may_follow_up,
    owner_may_read,
    owner_refused,
)
from domain.clock import Clock
from domain.errors import (
    DomainError,
    InputErrors,
    InvalidInput,
    NotCoordinator,
    comment_too_long,
)
from domain.forums import (
    active_agencies,
    active_areas,
    local_today,
)
from domain.i18n import N_, N_plural
from domain.references import no_such_case
from storage.models import (
    Action,
    ActionStatus,
    AuditAction,
    Case,
    CaseStatus,
    Effect,
    Forum,
    Meeting,
    MeetingStatus,
)

# --- creating -------------------------------------------------------------------------------


def latest_due(today: dt.date) -> dt.date:
    """The latest due date an action may have: two years from today (a later one is a typo,
    2062 for 2026, and would keep the action out of every reminder and agenda for years)."""
    try:
        return today.replace(year=today.year + DUE_YEARS_MAX)
    except ValueError:  # 29 February
        return today.replace(year=today.year + DUE_YEARS_MAX, day=28)


def check_due(
    due_on: dt.date | None, today: dt.date, *, missing: str, field: str = "due_on"
) -> InvalidInput | None:
    """The one check of an action's due date (the action modal, more time, the minutes' due
    field): given, not passed, and at most two years ahead."""
    if due_on is None:
        return InvalidInput(missing, field=field)
    if due_on < today:
        return InvalidInput(
            N_("The due date has already passed. Choose today or a later day."), field=field
        )
    if due_on > latest_due(today):
        return InvalidInput(
            N_("The due date is more than two years ahead. Check the year."), field=field
        )
    return None


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
    elif agency is not None and (refused := owner_refused(session, forum, agency, draft.owner)):
        errors["owner"] = refused
    due_error = check_due(draft.due_on, today, missing=N_("Choose a due date."))
    if due_error is not None:
        errors["due_on"] = due_error
    case = None
    reference = (draft.case_reference or "").strip()
    if reference and "case" not in errors:
        case = session.scalar(
            select(Case).where(
                Case.forum_id == forum.id, func.upper(Case.reference) == reference.upper()
            )
        )
        if case is None:
            errors["case"] = no_such_case(reference, field="case")
        elif case.status is CaseStatus.CLOSED:
            # As the minutes refuse it: new work goes on a case that is open (a closed one
            # waits for retention, and no agenda follows it up).
            errors["case"] = InvalidInput(
                N_("That case is closed: open it again first, or leave the case reference out."),
                field="case",
            )
    if (
        case is not None
        and not access.is_coordinator
        and not disclosure.case_decision(access, case, today).allowed
    ):
        # A member who may not read the case (the case view's decision) may not link work
        # to it: whether an agency may own it would tell them who its consent covers (one
        # refusal for every agency, on the case), audited as a refused look at the case.
        disclosure.record_refused(
            session,
            clock,
            team_id=forum.team_id,
            slack_user_id=access.member.slack_user_id,
            surface_name="case_modal",
            case_id=case.id,
            reason="details_hidden",
            attempt="action",
        )
        errors.setdefault(
            "case",
            InvalidInput(
                N_(
                    "You may not see case {reference}, so an action cannot be linked to it. Leave "
                    "the case reference out, or ask a coordinator."
                ),
                field="case",
                reference=case.reference,
            ),
        )
        case = None
    if case is not None and agency is not None:
        # Its owner must be able to read it: an agency the case is hidden from may not own
        # it (told on the agency: the minutes show it on their owner field).
        refused = owner_may_read(session, clock, access, case, agency, today, field="agency")
        if refused is not None:
            errors.setdefault("agency", refused)
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


def submitted(session: Session, *, forum_id: int, submission_key: str) -> int | None:
    """The action the modal submission ``submission_key`` created in the forum, if any:
    one read of the (forum, submission key) index, whatever other forums hold."""
    return session.scalar(
        select(Action.id).where(
            Action.forum_id == forum_id, Action.submission_key == submission_key
        )
    )


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
    if action.status is ActionStatus.CANCELLED:
        raise InvalidInput(N_("This action is cancelled."))
    if action.status is not ActionStatus.OPEN:
        raise InvalidInput(N_("This action is already done."))


def require_changeable(session: Session, access: Access, action_id: int) -> Action:
    """The open action this member may change (more time, hand over), or the refusal its
    change would get: asked before its modal opens, so no one types a reason for nothing."""
    action = _changeable(session, access, action_id)
    _require_open(action)
    return action


def require_follow_up(session: Session, access: Access, action_id: int) -> Action:
    """The done action whose effect this member may record, or the refusal (asked before
    the follow-up modal opens as when it is saved)."""
    action = _load(session, action_id, forum_id=access.forum.id)
    if not may_follow_up(action, access):
        raise NotCoordinator(
            N_("Only the owner or a coordinator can record whether the action had effect.")
        )
    if action.status is not ActionStatus.DONE:
        raise InvalidInput(N_("Mark the action as done before following up its effect."))
    return action


def complete_action(session: Session, clock: Clock, *, access: Access, action_id: int) -> Action:
    """Klar: the action is done; it waits for the follow-up of effect at the next meeting."""
    action = require_changeable(session, access, action_id)
    action.status = ActionStatus.DONE
    action.completed_at = clock.now()
    action.remind_at = action.snoozed_until = None
    _history(session, clock, action, actor=access.member.slack_user_id, kind="done")
    _audit(session, clock, access, AuditAction.UPDATE, action.id, {"status": "done"})
    return action


def reopen_action(session: Session, clock: Clock, *, access: Access, action_id: int) -> Action:
    """Öppna igen: an action marked done by mistake (or too soon) is open again, with its
    reminders, until its effect is followed up; after that a new action goes on from it."""
    action = _changeable(session, access, action_id)
    if action.status is ActionStatus.OPEN:
        raise InvalidInput(N_("This action is open already."))
    if action.status is ActionStatus.CANCELLED:
        raise InvalidInput(N_("This action is cancelled."))
    if action.status is not ActionStatus.DONE or action.effect is not None:
        raise InvalidInput(
            N_("Its effect has been followed up already: create a new action to go on.")
        )
    done_at = action.completed_at
    action.status = ActionStatus.OPEN
    action.completed_at = None
    plan_reminder(action, access.forum, clock)
    _history(
        session,
        clock,
        action,
        actor=access.member.slack_user_id,
        kind="reopened",
        detail={"done_at": done_at.isoformat() if done_at else None},
    )
    _audit(session, clock, access, AuditAction.UPDATE, action.id, {"status": "open"})
    return action


def _reason_errors(
    errors: dict[str, DomainError], reason: str, today: dt.date, *, missing: str
) -> None:
    """A short reason is required, non-identifying and at most REASON_MAX characters."""
    _privacy(errors, {"reason": reason}, today)
    if not reason.strip():
        errors.setdefault("reason", InvalidInput(missing, field="reason"))
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


def cancel_action(
    session: Session, clock: Clock, *, access: Access, action_id: int, reason: str
) -> Action:
    """Avbryt insatsen: an open action no longer relevant ends with a short reason
    (privacy-guarded), without counting as done: its reminders stop, it leaves the lists, the
    agendas and the åtgärdsplan's open actions, and it ages out from now like a done one."""
    action = require_changeable(session, access, action_id)
    errors: dict[str, DomainError] = {}
    _reason_errors(
        errors,
        reason,
        local_today(access.forum, clock),
        missing=N_("Say briefly why the action is cancelled."),
    )
    if errors:
        raise InputErrors(errors)
    action.status = ActionStatus.CANCELLED
    action.completed_at = clock.now()
    action.remind_at = action.snoozed_until = None
    _history(
        session,
        clock,
        action,
        actor=access.member.slack_user_id,
        kind="cancelled",
        note=reason.strip(),
    )
    _audit(session, clock, access, AuditAction.UPDATE, action.id, {"status": "cancelled"})
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
    action = require_changeable(session, access, action_id)
    today = local_today(access.forum, clock)
    errors: dict[str, DomainError] = {}
    _reason_errors(errors, reason, today, missing=N_("Say briefly why more time is needed."))
    due_error = check_due(due_on, today, missing=N_("Choose a new due date."))
    if due_error is not None:
        errors["due_on"] = due_error
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
    session: Session,
    clock: Clock,
    *,
    access: Access,
    action_id: int,
    new_owner: str | None,
    agency_id: int | None = None,
) -> Action:
    """Lämna över: another active member of the owning agency becomes the owner. A
    coordinator may also move the action to another active agency of the forum (its own
    agency removed, or its last member gone), with a member of that agency as the owner
    (``agency_id``; None or the owning agency: a hand-over within it)."""
    # Product rule: any coordinator may move any open action, not only those cases above.
    action = require_changeable(session, access, action_id)
    old_agency = action.owning_agency
    moving = agency_id is not None and agency_id != action.owning_agency_id
    if moving and not access.is_coordinator:
        raise NotCoordinator(N_("Only a coordinator can move an action to another agency."))
    agency = old_agency
    if agency_id is not None:  # chosen in the modal: one of the forum's active agencies
        found = next((a for a in active_agencies(access.forum) if a.id == agency_id), None)
        if found is None:
            raise InputErrors(
                {"agency": InvalidInput(N_("Choose one of the forum's agencies."), field="agency")}
            )
        agency = found
    # Whoever owns it must be able to read it: not an agency its case is hidden from (on the
    # agency a coordinator chooses; on the owner for a hand-over within the agency).
    refused = owner_may_read(
        session,
        clock,
        access,
        action.case,
        agency,
        local_today(access.forum, clock),
        field="agency" if agency_id is not None else "owner",
    )
    if refused is not None:
        raise InputErrors({refused.field or "owner": refused})
    if not new_owner:
        raise InputErrors({"owner": InvalidInput(N_("Choose the new owner."), field="owner")})
    if new_owner == action.owner and not moving:
        raise InputErrors(
            {
                "owner": InvalidInput(
                    N_("They already own this action. Choose someone else."), field="owner"
                )
            }
        )
    not_theirs = owner_refused(session, access.forum, agency, new_owner)
    if not_theirs is not None:
        raise InputErrors({"owner": not_theirs})
    old = action.owner
    action.owner = new_owner
    detail: dict[str, object] = {"from": old, "to": new_owner}
    changed: dict[str, object] = {"owner": new_owner}
    if moving:
        action.owning_agency_id = agency.id
        action.owning_agency = agency
        detail |= {"from_agency": old_agency.name, "to_agency": agency.name}
        changed |= {"agency_id": agency.id, "was_agency_id": old_agency.id}
    if old is None or action.remind_at is None or action.snoozed_until is not None:
        # The old owner's snooze is theirs: the new owner gets the planned reminder.
        plan_reminder(action, access.forum, clock)
    _history(
        session,
        clock,
        action,
        actor=access.member.slack_user_id,
        kind="handed_over",
        detail=detail,
    )
    _audit(session, clock, access, AuditAction.UPDATE, action.id, changed)
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
    action = require_follow_up(session, access, action_id)
    errors: dict[str, DomainError] = {}
    _privacy(errors, {"comment": comment}, local_today(access.forum, clock))
    if effect is None:
        errors["effect"] = InvalidInput(
            N_("Say whether the action had the desired effect."), field="effect"
        )
    if len(comment.strip()) > COMMENT_MAX:
        errors.setdefault("comment", comment_too_long(COMMENT_MAX))
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
    action = require_changeable(session, access, action_id)
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
