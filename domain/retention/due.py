"""What is due for removal: per forum (cases, ratings, actions, deviations, meetings) and
for the audit log (held references kept)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from domain import audit
from domain.clock import Clock, as_utc
from domain.retention.policy import (
    ACTION_WARNING_KIND,
    SCHEDULE_MARKER,
    WARN_AHEAD,
    WARNING_KIND,
    DataClass,
    Due,
    Notice,
    OpenAction,
    RetentionPolicy,
)
from storage.models import (
    Action,
    ActionStatus,
    AgendaItem,
    Case,
    CaseEvent,
    CaseStatus,
    Consent,
    ConsentGiver,
    Deviation,
    EffectStatus,
    Forum,
    Meeting,
    Rating,
    RatingRound,
    ScheduledEffect,
)

# --- what is due ----------------------------------------------------------------------------


def _last_note() -> Any:
    """Per case: the latest of closing, last change and last history entry."""
    last_event = (
        select(CaseEvent.case_id, func.max(CaseEvent.at).label("at"))
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    return last_event


def _cases(
    session: Session, forum: Forum, policy: RetentionPolicy, now: dt.datetime
) -> tuple[Due, Due]:
    """Cases due, per class: closed ones from their last note; ones never closed from their
    last activity, and only a month after their coordinators were told."""
    last_event = _last_note()
    consented = (
        select(Consent.id)
        .where(Consent.case_id == Case.id, Consent.given_by != ConsentGiver.NONE)
        .exists()
    )
    rows = session.execute(
        select(
            Case.id,
            Case.reference,
            Case.legal_hold,
            Case.status,
            Case.closed_at,
            Case.updated_at,
            last_event.c.at,
            consented.label("consented"),
        )
        .outerjoin(last_event, last_event.c.case_id == Case.id)
        .where(Case.forum_id == forum.id)
        .order_by(Case.id)
    ).all()
    periods = {
        DataClass.CLOSED_CASES: dt.timedelta(days=policy.closed_cases),
        DataClass.CONSULTATIONS: dt.timedelta(days=policy.consultations),
    }
    warned = {
        (subject, as_utc(occurrence)): as_utc(done_at or occurrence)
        for subject, occurrence, done_at in session.execute(
            select(
                ScheduledEffect.subject, ScheduledEffect.occurrence, ScheduledEffect.done_at
            ).where(
                ScheduledEffect.forum_id == forum.id,
                ScheduledEffect.kind == WARNING_KIND,
                ScheduledEffect.status == EffectStatus.DONE,
                ScheduledEffect.done_at.is_not(None),
            )
        )
    }
    due: dict[DataClass, list[tuple[int, str]]] = {c: [] for c in periods}
    held: dict[DataClass, list[str]] = {c: [] for c in periods}
    notices: dict[DataClass, list[Notice]] = {c: [] for c in periods}
    for case_id, reference, hold, status, closed_at, updated_at, event_at, has_consent in rows:
        notes = [d for d in (closed_at, updated_at, event_at) if d is not None]
        last = max(as_utc(d) for d in notes)
        data_class = DataClass.CLOSED_CASES if has_consent else DataClass.CONSULTATIONS
        removal = (last + periods[data_class]).replace(microsecond=0)
        if status is CaseStatus.CLOSED:
            if now < removal:
                continue
            if hold:
                held[data_class].append(reference)
            else:
                due[data_class].append((case_id, reference))
            continue
        # Never closed: due after its period without activity, once its coordinators have
        # had a month's notice.
        if now < removal - WARN_AHEAD:
            continue
        if hold:
            if now >= removal:
                held[data_class].append(reference)
            continue
        told = warned.get((str(case_id), removal))
        if told is None:
            notices[data_class].append(Notice(case_id, reference, last, removal))
        elif now >= max(removal, told + WARN_AHEAD):
            due[data_class].append((case_id, reference))
    closed, consultations = (
        Due(
            forum_id=forum.id,
            forum_code=forum.code,
            data_class=c,
            cutoff=now - periods[c],
            ids=tuple(i for i, _ in due[c]),
            references=tuple(r for _, r in due[c]),
            held=tuple(held[c]),
            to_warn=tuple(notices[c]),
        )
        for c in (DataClass.CLOSED_CASES, DataClass.CONSULTATIONS)
    )
    return closed, consultations


def _ratings(session: Session, forum: Forum, policy: RetentionPolicy, now: dt.datetime) -> Due:
    cutoff = now - dt.timedelta(days=policy.ratings)
    ids = session.scalars(
        select(Rating.id)
        .join(RatingRound, Rating.round_id == RatingRound.id)
        .where(RatingRound.forum_id == forum.id, Rating.rated_at < cutoff)
        .order_by(Rating.id)
    ).all()
    return Due(forum.id, forum.code, DataClass.RATINGS, cutoff, tuple(ids))


def _actions(session: Session, forum: Forum, policy: RetentionPolicy, now: dt.datetime) -> Due:
    cutoff = now - dt.timedelta(days=policy.actions)
    # Only finished actions (done or cancelled) age out, from their completion (or, without
    # one, their last change): an open action untouched for years is still work to do.
    finished = func.coalesce(Action.completed_at, Action.updated_at)
    held_case = select(Case.id).where(Case.id == Action.case_id, Case.legal_hold.is_(True))
    rows = session.execute(
        select(Action.id, held_case.exists().label("held"))
        .where(
            Action.forum_id == forum.id,
            Action.status.in_((ActionStatus.DONE, ActionStatus.CANCELLED)),
            finished < cutoff,
        )
        .order_by(Action.id)
    ).all()
    return Due(
        forum.id,
        forum.code,
        DataClass.ACTIONS,
        cutoff,
        tuple(i for i, held in rows if not held),
        held=tuple(f"action:{i}" for i, held in rows if held),
        open_actions=_open_actions(session, forum, policy, now),
    )


def _open_actions(
    session: Session, forum: Forum, policy: RetentionPolicy, now: dt.datetime
) -> tuple[OpenAction, ...]:
    """This forum's open actions past their end date and unchanged since for its
    ``actions`` period (the same setting as the finished ones', as a case never closed
    goes by its class's period); ``told`` those its coordinators were told of for that
    stretch already."""
    from domain.forums import forum_schedule

    period = dt.timedelta(days=policy.actions)
    zone = forum_schedule(forum).zone
    # The end date's day is over at the next local midnight (a whole day early, at most,
    # in SQL; the exact instant below).
    latest_due = now.astimezone(zone).date() - period
    rows = session.execute(
        select(Action.id, Action.due_on, Action.updated_at)
        .where(
            Action.forum_id == forum.id,
            Action.status == ActionStatus.OPEN,
            Action.due_on < latest_due,
        )
        .order_by(Action.id)
    ).all()
    if not rows:
        return ()
    told = {
        (subject, as_utc(occurrence))
        for subject, occurrence in session.execute(
            select(ScheduledEffect.subject, ScheduledEffect.occurrence).where(
                ScheduledEffect.forum_id == forum.id,
                ScheduledEffect.kind == ACTION_WARNING_KIND,
                ScheduledEffect.status == EffectStatus.DONE,
            )
        )
    }
    found: list[OpenAction] = []
    for action_id, due_on, updated_at in rows:
        overdue = dt.datetime.combine(due_on + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        last = max(as_utc(overdue), as_utc(updated_at)).astimezone(dt.UTC)
        since = (last + period).replace(microsecond=0)
        if since <= now:
            found.append(OpenAction(action_id, due_on, since, (str(action_id), since) in told))
    return tuple(found)


def _deviations(session: Session, forum: Forum, policy: RetentionPolicy, now: dt.datetime) -> Due:
    cutoff = now - dt.timedelta(days=policy.deviations)
    held_case = select(Case.id).where(Case.id == Deviation.case_id, Case.legal_hold.is_(True))
    rows = session.execute(
        select(
            Deviation.id,
            Deviation.created_at,
            Deviation.updated_at,
            Deviation.followed_up_at,
            held_case.exists().label("held"),
        )
        .where(Deviation.forum_id == forum.id, Deviation.created_at < cutoff)
        .order_by(Deviation.id)
    ).all()
    due: list[int] = []
    held: list[str] = []
    for deviation_id, created, updated, followed_up, is_held in rows:
        last = max(as_utc(d) for d in (created, updated, followed_up) if d is not None)
        if last >= cutoff:
            continue
        if is_held:
            held.append(f"deviation:{deviation_id}")
        else:
            due.append(deviation_id)
    return Due(forum.id, forum.code, DataClass.DEVIATIONS, cutoff, tuple(due), held=tuple(held))


def _typed_items() -> Any:
    """Agenda items someone typed (other business), not those of a case: those go with it."""
    return and_(AgendaItem.text.is_not(None), AgendaItem.case_id.is_(None))


def _meetings(session: Session, forum: Forum, policy: RetentionPolicy, now: dt.datetime) -> Due:
    cutoff = now - dt.timedelta(days=policy.meetings)
    typed = or_(
        and_(Meeting.note.is_not(None), Meeting.note != SCHEDULE_MARKER),
        Meeting.minutes.is_not(None),
        exists().where(AgendaItem.meeting_id == Meeting.id, _typed_items()),
    )
    ids = session.scalars(
        select(Meeting.id)
        .where(Meeting.forum_id == forum.id, Meeting.ends_at < cutoff, typed)
        .order_by(Meeting.id)
    ).all()
    return Due(forum.id, forum.code, DataClass.MEETINGS, cutoff, tuple(ids))


def plan_forum(session: Session, clock: Clock, policy: RetentionPolicy, forum: Forum) -> list[Due]:
    now = clock.now()
    own = policy.for_forum(forum)
    closed, consultations = _cases(session, forum, own, now)
    return [
        closed,
        consultations,
        _ratings(session, forum, own, now),
        _actions(session, forum, own, now),
        _deviations(session, forum, own, now),
        _meetings(session, forum, own, now),
    ]


def held_audit_refs(session: Session) -> list[audit.HeldRef]:
    """What audit events stay because of a legal hold: those about a held case (by its
    reference: case, consent, legal ground events) and about the actions and deviations
    linked to it."""
    refs: list[audit.HeldRef] = []
    for case_id, forum_id, reference in session.execute(
        select(Case.id, Case.forum_id, Case.reference).where(Case.legal_hold.is_(True))
    ):
        refs.append(audit.HeldRef(forum_id, reference))
        refs.extend(
            audit.HeldRef(forum_id, str(action_id), "action")
            for action_id in session.scalars(select(Action.id).where(Action.case_id == case_id))
        )
        refs.extend(
            audit.HeldRef(forum_id, str(deviation_id), "deviation")
            for deviation_id in session.scalars(
                select(Deviation.id).where(Deviation.case_id == case_id)
            )
        )
    return refs


def plan_audit(session: Session, clock: Clock, policy: RetentionPolicy) -> Due:
    cutoff = clock.now() - dt.timedelta(days=policy.audit_events)
    # Only a prefix of each chain goes (see domain.audit.purge_before), minus held events.
    plans = audit.plan_purge(session, cutoff=cutoff, held=held_audit_refs(session))
    ids = tuple(i for p in plans for i in p.ids)
    held = tuple(
        sorted(session.scalars(select(Case.reference).where(Case.legal_hold.is_(True))).all())
    )
    return Due(None, "*", DataClass.AUDIT_EVENTS, cutoff, ids, held=held if ids else ())


def plan(session: Session, clock: Clock, policy: RetentionPolicy) -> list[Due]:
    """Everything that would go now, per forum and class, and the audit log's prefix."""
    forums = session.scalars(select(Forum).order_by(Forum.id)).all()
    result: list[Due] = []
    for forum in forums:
        result.extend(plan_forum(session, clock, policy, forum))
    result.append(plan_audit(session, clock, policy))
    return result
