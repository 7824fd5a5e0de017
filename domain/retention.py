"""Retention (gallring): remove what the municipality's retention decision says is due.

Per forum and data class a retention period (days) comes from the settings, overridable in
the forum's settings (``{"retention": {"closed_cases": 1826, …}}``):

* ``closed_cases``  — cases that had consent, counted from the last note (the latest of
  closing, last change and last history entry); with them go their history, consents, legal
  grounds, agenda items; actions and deviations keep their row but lose the link, and an
  action's text about the case goes with it (masked: unlinked it would be forum text);
* ``consultations`` — cases that never had consent (anonymous consultations);
* ``ratings``       — situation-picture answers (with their comments and what each agency
  saw right now), from when they were given;
* ``actions``       — actions (with their history), from completion, or from their last change
  when never completed;
* ``deviations``    — deviation reports (with their text and follow-up), from their last
  change (reported, changed or followed up);
* ``meetings``      — what was typed about a meeting (a cancel reason, minutes) and its
  agenda items of other business, from the meeting's end; the meeting's row stays;
* ``audit_events``  — the audit log itself, one chain per workspace: the oldest events go as
  a prefix and the cut is recorded (see :func:`domain.audit.purge_before`).

A case that was never closed goes too, when it has had no activity for its period: its
coordinators get a direct message (through the outbox, exactly once per removal date) and
the case goes no earlier than a month after that message, so there is time to update it or
set a legal hold. The outbox keeps no text once a message is delivered and its rows go after
:data:`domain.scheduling.OUTBOX_KEEP` (see :func:`domain.scheduling.prune_outbox`).

Nothing under legal hold goes: a held case, the actions and deviations linked to it, and
the audit events about any of them, stay. A daily job
(:func:`run_daily`) claims one row per forum and day, so it happens once across replicas,
and writes the counts of what it removed to the audit log. :func:`plan` shows what would go
(``samverkan gallra --dry-run``).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from domain import audit, privacy, scheduling
from domain.clock import Clock
from domain.errors import IdentifyingDataRefused, InvalidInput
from domain.forums import Access
from domain.i18n import N_, N_plural, Translator, normalize_locale
from storage.models import (
    Action,
    ActionEvent,
    AgendaItem,
    AuditAction,
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
    RatingObservation,
    RatingRound,
    ScheduledEffect,
)

SYSTEM_ACTOR = "samverkan"
JOB_KIND = "gallring"
HOLD_REASON_MAX = 300
# A case never closed goes no earlier than this long after its coordinators were told.
WARN_AHEAD = dt.timedelta(days=30)
WARNING_KIND = "retention_warning"
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


@dataclass(frozen=True)
class Notice:
    """A case never closed that is due: its coordinators are told before it goes."""

    case_id: int
    reference: str
    last_activity: dt.datetime
    removal: dt.datetime  # last activity + the period (whole seconds: a claim key)


@dataclass
class Outcome:
    removed: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    warned: int = 0  # cases never closed whose coordinators were told they will go


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
        (subject, _aware(occurrence)): _aware(done_at or occurrence)
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
        last = max(_aware(d) for d in notes)
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


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


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
    # From completion; an action never completed, from its last change.
    finished = func.coalesce(Action.completed_at, Action.updated_at)
    held_case = select(Case.id).where(Case.id == Action.case_id, Case.legal_hold.is_(True))
    rows = session.execute(
        select(Action.id, held_case.exists().label("held"))
        .where(Action.forum_id == forum.id, finished < cutoff)
        .order_by(Action.id)
    ).all()
    return Due(
        forum.id,
        forum.code,
        DataClass.ACTIONS,
        cutoff,
        tuple(i for i, held in rows if not held),
        held=tuple(f"action:{i}" for i, held in rows if held),
    )


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
        last = max(_aware(d) for d in (created, updated, followed_up) if d is not None)
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


# --- removing -------------------------------------------------------------------------------


def _mask_case_actions(session: Session, due: Due) -> None:
    """The actions of cases about to go keep their rows (their own period, for the
    statistics), but unlinked they would be forum text that every member sees (the
    disclosure rule: an action without a case). What they say about the case goes with the
    case: the description reads as masked, the hoped-for effect, the follow-up comment and
    the history notes are emptied, and pending Slack messages that copied them too."""
    from domain.corrections import REDACTED, scrub_outbox  # corrections imports the rule

    going = select(Case.id).where(Case.id.in_(due.ids), Case.legal_hold.is_(False))
    actions = session.scalars(select(Action).where(Action.case_id.in_(going))).all()
    if not actions:
        return
    forum = session.get(Forum, due.forum_id) if due.forum_id is not None else None
    texts: set[str] = set()
    for action in actions:
        texts.update(
            t for t in (action.description, action.hoped_effect, action.follow_up_comment) if t
        )
        action.description = REDACTED
        action.hoped_effect = None
        action.follow_up_comment = None
    ids = [a.id for a in actions]
    texts.update(
        n
        for n in session.scalars(
            select(ActionEvent.note).where(
                ActionEvent.action_id.in_(ids), ActionEvent.note.is_not(None)
            )
        )
        if n
    )
    session.execute(
        update(ActionEvent).where(ActionEvent.action_id.in_(ids)).values(note=None),
        execution_options={"synchronize_session": False},
    )
    session.flush()
    if forum is not None:
        for text in sorted(texts):
            scrub_outbox(session, team_id=forum.team_id, old=text, new=REDACTED)


def _remove(session: Session, due: Due) -> int:
    if not due.ids:
        return 0
    if due.data_class in (DataClass.CLOSED_CASES, DataClass.CONSULTATIONS):
        _mask_case_actions(session, due)
        # The database cascades to history, consents and agenda items (ON DELETE CASCADE)
        # and unlinks actions and deviations (ON DELETE SET NULL).
        result = session.execute(
            delete(Case).where(Case.id.in_(due.ids), Case.legal_hold.is_(False))
        )
    elif due.data_class is DataClass.RATINGS:
        result = session.execute(delete(Rating).where(Rating.id.in_(due.ids)))
        # What the agencies saw in those rounds goes with their ratings, by the same age.
        session.execute(
            delete(RatingObservation).where(
                RatingObservation.written_at < due.cutoff,
                RatingObservation.round_id.in_(
                    select(RatingRound.id).where(RatingRound.forum_id == due.forum_id)
                ),
            )
        )
    elif due.data_class is DataClass.ACTIONS:
        result = session.execute(delete(Action).where(Action.id.in_(due.ids)))
    elif due.data_class is DataClass.DEVIATIONS:
        # Their agency links go with them (ON DELETE CASCADE).
        result = session.execute(delete(Deviation).where(Deviation.id.in_(due.ids)))
    elif due.data_class is DataClass.MEETINGS:
        # The meeting stays (times, status); what was typed about it goes.
        session.execute(
            update(Meeting)
            .where(Meeting.id.in_(due.ids), Meeting.note != SCHEDULE_MARKER)
            .values(note=None)
        )
        session.execute(update(Meeting).where(Meeting.id.in_(due.ids)).values(minutes=None))
        session.execute(
            delete(AgendaItem).where(AgendaItem.meeting_id.in_(due.ids), _typed_items())
        )
        return len(due.ids)
    else:  # pragma: no cover - the audit log goes through domain.audit.purge_before
        raise ValueError(due.data_class)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def apply_forum(
    session: Session,
    clock: Clock,
    policy: RetentionPolicy,
    forum: Forum,
    *,
    replica: str = SYSTEM_ACTOR,
) -> Outcome:
    """Remove what is due in one forum, tell the coordinators about cases never closed
    that will go, and record the counts in the audit log."""
    outcome = Outcome()
    warned = 0
    for due in plan_forum(session, clock, policy, forum):
        outcome.removed[due.data_class.value] = _remove(session, due)
        outcome.held[due.data_class.value] = len(due.held)
        warned += _warn(session, clock, forum, due.to_warn, replica=replica)
    outcome.warned = warned
    session.expire_all()
    detail: dict[str, Any] = {"removed": outcome.removed, "held": outcome.held}
    if warned:
        detail["warned"] = warned
    audit.record(
        session,
        clock,
        actor=SYSTEM_ACTOR,
        action=AuditAction.DELETE,
        object_type="retention",
        object_ref=forum.code,
        team_id=forum.team_id,
        forum_id=forum.id,
        detail=detail,
    )
    return outcome


def _warn(
    session: Session, clock: Clock, forum: Forum, notices: Sequence[Notice], *, replica: str
) -> int:
    """A direct message to the forum's coordinators per case never closed that will go:
    exactly once per case and removal date (a claim row, and the outbox's dedupe key)."""
    if not notices:
        return 0
    from domain.actions import coordinators as coordinators_of
    from domain.actions import queue_dm
    from domain.forums import forum_schedule

    coordinators = coordinators_of(session, forum.id)
    zone = forum_schedule(forum).zone
    t = Translator(normalize_locale(forum.language))
    told = 0
    for notice in notices:
        effect = scheduling.claim(
            session,
            clock,
            forum_id=forum.id,
            kind=WARNING_KIND,
            subject=str(notice.case_id),
            occurrence=notice.removal,
            due_at=clock.now(),
            replica=replica,
        )
        if effect is None:
            continue
        removal = max(notice.removal, clock.now() + WARN_AHEAD)
        text = t(
            N_(
                "{reference} in {forum} has had no activity since {since}. Under the forum's "
                "retention rules it will be removed on {day} at the earliest. To keep "
                "it, update or close the case, or set a legal hold: /samverkan gallring stopp "
                "{reference} followed by the reason."
            ),
            reference=notice.reference,
            forum=forum.name,
            since=t.day(notice.last_activity.astimezone(zone).date()),
            day=t.day(removal.astimezone(zone).date()),
        )
        for user in coordinators:
            key = f"{WARNING_KIND}:{notice.case_id}:{notice.removal:%Y%m%d%H%M%S}:{user}"
            queue_dm(session, clock, forum, user, {"text": text}, key)
        scheduling.complete(session, clock, effect)
        told += 1
    return told


def apply_audit(session: Session, clock: Clock, policy: RetentionPolicy) -> int:
    cutoff = clock.now() - dt.timedelta(days=policy.audit_events)
    return audit.purge_before(
        session, clock, cutoff=cutoff, actor=SYSTEM_ACTOR, held=held_audit_refs(session)
    )


def run_all(session: Session, clock: Clock, policy: RetentionPolicy) -> dict[str, Outcome]:
    """Every forum and the audit log now, without claims (the CLI's ``samverkan gallra``)."""
    result: dict[str, Outcome] = {}
    for forum in session.scalars(select(Forum).order_by(Forum.id)).all():
        result[forum.code] = apply_forum(session, clock, policy, forum)
    removed = apply_audit(session, clock, policy)
    pruned = scheduling.prune_outbox(session, clock)
    result["*"] = Outcome(removed={DataClass.AUDIT_EVENTS.value: removed, "outbox": pruned})
    return result


def run_daily(
    session: Session, clock: Clock, policy: RetentionPolicy, *, replica: str, batch: int = 50
) -> dict[str, Outcome]:
    """The daily job: once per forum and (forum-local) day across replicas, then the audit
    log's prefix (safe to repeat: a second pass finds nothing older than the cut)."""
    from domain.forums import forum_schedule

    result: dict[str, Outcome] = {}
    # Only forums whose run for today is not done yet (today's occurrence is local midnight,
    # so within the last 24 hours), a batch per pass: with thousands of forums each pass
    # stays short and never holds claim rows another replica waits for.
    done_today = (
        select(ScheduledEffect.id)
        .where(
            ScheduledEffect.forum_id == Forum.id,
            ScheduledEffect.kind == JOB_KIND,
            ScheduledEffect.occurrence > clock.now() - dt.timedelta(hours=24),
            ScheduledEffect.status.in_((EffectStatus.DONE, EffectStatus.SKIPPED)),
        )
        .exists()
    )
    pending = session.scalars(
        select(Forum).where(~done_today).order_by(Forum.id).limit(batch)
    ).all()
    for forum in pending:
        zone = forum_schedule(forum).zone
        today = clock.now().astimezone(zone).date()
        occurrence = dt.datetime.combine(today, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
        effect = scheduling.claim(
            session,
            clock,
            forum_id=forum.id,
            kind=JOB_KIND,
            subject="",
            occurrence=occurrence,
            due_at=occurrence,
            replica=replica,
        )
        if effect is None:
            continue
        result[forum.code] = apply_forum(session, clock, policy, forum, replica=replica)
        scheduling.complete(session, clock, effect)
    removed = apply_audit(session, clock, policy)
    pruned = scheduling.prune_outbox(session, clock)
    if removed or pruned:
        result["*"] = Outcome(removed={DataClass.AUDIT_EVENTS.value: removed, "outbox": pruned})
    return result


# --- legal hold -----------------------------------------------------------------------------


def _case(session: Session, access: Access, reference: str) -> Case:
    from domain.cases import find_case_by_reference

    case = find_case_by_reference(session, access.forum, reference)
    if case is None:
        raise InvalidInput(
            N_("There is no case {reference} in this forum."), reference=reference.strip()[:32]
        )
    return case


def set_legal_hold(
    session: Session, clock: Clock, *, access: Access, reference: str, reason: str
) -> Case:
    """A coordinator stops retention for one case, with a non-identifying reason."""
    if not access.is_coordinator:
        from domain.errors import NotCoordinator

        raise NotCoordinator()
    reason = " ".join(reason.split())
    today = clock.now().date()
    for _fld, msgid in privacy.check_fields({"reason": reason}, today=today).items():
        raise IdentifyingDataRefused(msgid, field="reason")
    if not reason:
        raise InvalidInput(
            N_("Give a reason for the legal hold, e.g. a request from the supervisory authority."),
            field="reason",
        )
    if len(reason) > HOLD_REASON_MAX:
        raise InvalidInput(
            N_plural(
                "The reason can be at most {n} character.",
                "The reason can be at most {n} characters.",
            ),
            field="reason",
            n=HOLD_REASON_MAX,
        )
    case = _case(session, access, reference)
    now = clock.now()
    case.legal_hold = True
    case.legal_hold_reason = reason
    case.legal_hold_by = access.member.slack_user_id
    case.legal_hold_at = now
    _audit_hold(session, clock, access, case, held=True)
    return case


def release_legal_hold(session: Session, clock: Clock, *, access: Access, reference: str) -> Case:
    if not access.is_coordinator:
        from domain.errors import NotCoordinator

        raise NotCoordinator()
    case = _case(session, access, reference)
    if not case.legal_hold:
        raise InvalidInput(N_("{reference} is not under legal hold."), reference=case.reference)
    case.legal_hold = False
    case.legal_hold_reason = None
    case.legal_hold_by = None
    case.legal_hold_at = None
    _audit_hold(session, clock, access, case, held=False)
    return case


def _audit_hold(session: Session, clock: Clock, access: Access, case: Case, *, held: bool) -> None:
    audit.record(
        session,
        clock,
        actor=access.member.slack_user_id,
        action=AuditAction.UPDATE,
        object_type="case",
        object_ref=case.reference,
        team_id=access.forum.team_id,
        forum_id=access.forum.id,
        actor_agency_id=access.member.agency_id,
        detail={"legal_hold": held},
    )


@dataclass(frozen=True)
class HoldRow:
    reference: str
    reason: str
    by: str
    at: dt.datetime | None


def legal_holds(session: Session, forum: Forum) -> list[HoldRow]:
    cases = session.scalars(
        select(Case).where(Case.forum_id == forum.id, Case.legal_hold.is_(True)).order_by(Case.id)
    ).all()
    return [
        HoldRow(c.reference, c.legal_hold_reason or "", c.legal_hold_by or "", c.legal_hold_at)
        for c in cases
    ]


def forum_overview(
    session: Session, clock: Clock, policy: RetentionPolicy, forum: Forum
) -> tuple[RetentionPolicy, Sequence[Due]]:
    """The forum's periods and what would go now (for the coordinator's view)."""
    return policy.for_forum(forum), plan_forum(session, clock, policy, forum)
