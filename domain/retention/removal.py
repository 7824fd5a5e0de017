"""Removing what is due (gallring), warning coordinators ahead, and the daily run (claimed
once per forum and day)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from domain import audit, scheduling
from domain.clock import Clock
from domain.i18n import N_, LocaleOf, Renders, Translator
from domain.retention.due import _typed_items, held_audit_refs, plan_forum
from domain.retention.policy import (
    ACTION_WARNING_KIND,
    JOB_KIND,
    SCHEDULE_MARKER,
    WARN_AHEAD,
    WARNING_KIND,
    DataClass,
    Due,
    Notice,
    OpenAction,
    Outcome,
    RetentionPolicy,
)
from storage.models import (
    SYSTEM_ACTOR,
    Action,
    ActionEvent,
    AgendaItem,
    AuditAction,
    Case,
    Deviation,
    EffectStatus,
    Forum,
    Meeting,
    Rating,
    RatingObservation,
    RatingRound,
    ScheduledEffect,
)

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


def erase_cases(
    session: Session, clock: Clock, *, forum_id: int, forum_code: str, ids: Sequence[int]
) -> int:
    """Erase these cases of one forum now, exactly as gallring erases the cases that are
    due (a case registered by mistake, :func:`domain.cases.delete_by_mistake`): their
    history, consents, agencies and agenda items go with them (the database cascades), their
    actions' texts are masked. A case under a legal hold is kept. Nothing is audited here:
    the caller records why."""
    due = Due(
        forum_id=forum_id,
        forum_code=forum_code,
        data_class=DataClass.CLOSED_CASES,
        cutoff=clock.now(),
        ids=tuple(ids),
    )
    removed = _remove(session, due)
    session.expire_all()
    return removed


def apply_forum(
    session: Session,
    clock: Clock,
    policy: RetentionPolicy,
    forum: Forum,
    *,
    replica: str = SYSTEM_ACTOR,
    locale_of: LocaleOf | None = None,
) -> Outcome:
    """Remove what is due in one forum, tell the coordinators about cases never closed
    that will go (each in their language, ``locale_of``; the forum's when unknown), and
    record the counts in the audit log."""
    outcome = Outcome()
    warned = 0
    for due in plan_forum(session, clock, policy, forum):
        outcome.removed[due.data_class.value] = _remove(session, due)
        outcome.held[due.data_class.value] = len(due.held)
        warned += _warn(session, clock, forum, due.to_warn, replica=replica, locale_of=locale_of)
        outcome.warned_actions += _warn_actions(
            session, clock, forum, due.open_actions, replica=replica, locale_of=locale_of
        )
    outcome.warned = warned
    session.expire_all()
    detail: dict[str, Any] = {"removed": outcome.removed, "held": outcome.held}
    if warned:
        detail["warned"] = warned
    if outcome.warned_actions:
        detail["warned_actions"] = outcome.warned_actions
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
    session: Session,
    clock: Clock,
    forum: Forum,
    notices: Sequence[Notice],
    *,
    replica: str,
    locale_of: LocaleOf | None = None,
) -> int:
    """A direct message to the forum's coordinators per case never closed that will go:
    exactly once per case and removal date (a claim row, and the outbox's dedupe key)."""
    if not notices:
        return 0
    from domain.actions import coordinators as coordinators_of
    from domain.forums import forum_schedule

    coordinators = coordinators_of(session, forum.id)
    zone = forum_schedule(forum).zone
    told = 0
    for notice in notices:
        removal = max(notice.removal, clock.now() + WARN_AHEAD)

        def text(t: Translator, notice: Notice = notice, removal: dt.datetime = removal) -> str:
            return t(
                N_(
                    "{reference} in {forum} has had no activity since {since}. Under the "
                    "forum's retention rules it will be removed on {day} at the earliest. To "
                    "keep it, update or close the case, or set a legal hold: /samverkan "
                    "gallring stopp {reference} followed by the reason."
                ),
                reference=notice.reference,
                forum=forum.name,
                since=t.day(notice.last_activity.astimezone(zone).date()),
                day=t.day(removal.astimezone(zone).date()),
            )

        told += _tell_once(
            session,
            clock,
            forum,
            coordinators,
            kind=WARNING_KIND,
            subject=notice.case_id,
            occurrence=notice.removal,
            text=text,
            replica=replica,
            locale_of=locale_of,
        )
    return told


def _warn_actions(
    session: Session,
    clock: Clock,
    forum: Forum,
    actions: Sequence[OpenAction],
    *,
    replica: str,
    locale_of: LocaleOf | None = None,
) -> int:
    """A direct message to the forum's coordinators per open action long past its end date
    (:class:`OpenAction`): exactly once per action and stretch (a claim row, and the
    outbox's dedupe key). The action's number and dates only: what it says may be about
    a case some coordinator may not read. Nothing is removed."""
    if all(a.told for a in actions):
        return 0
    from domain.actions import coordinators as coordinators_of

    coordinators = coordinators_of(session, forum.id)
    told = 0
    for action in actions:
        if action.told:
            continue

        def text(t: Translator, action: OpenAction = action) -> str:
            return t(
                N_(
                    "Action #{id} in {forum} is still open, though its end date was {due} and "
                    "nothing about it has changed for a long time. Open actions are never "
                    "removed: if it is no longer current, mark it done or cancel it "
                    "(/samverkan actions in the forum's channel)."
                ),
                id=action.action_id,
                forum=forum.name,
                due=t.day(action.due_on),
            )

        told += _tell_once(
            session,
            clock,
            forum,
            coordinators,
            kind=ACTION_WARNING_KIND,
            subject=action.action_id,
            occurrence=action.since,
            text=text,
            replica=replica,
            locale_of=locale_of,
        )
    return told


def _tell_once(
    session: Session,
    clock: Clock,
    forum: Forum,
    coordinators: Sequence[str],
    *,
    kind: str,
    subject: int,
    occurrence: dt.datetime,
    text: Callable[[Translator], str],
    replica: str,
    locale_of: LocaleOf | None,
) -> int:
    """One warning DM to each of the forum's coordinators, in their language, exactly once
    per ``kind``, subject and occurrence (a claim row, and the outbox's dedupe key): 1 when
    this call sent it, 0 when it was sent already or another replica is sending it."""
    from domain.actions import queue_dm

    effect = scheduling.claim(
        session,
        clock,
        forum_id=forum.id,
        kind=kind,
        subject=str(subject),
        occurrence=occurrence,
        due_at=clock.now(),
        replica=replica,
    )
    if effect is None:
        return 0
    # Rendered once per language (the text is this warning's alone: ``text`` is made for it).
    renders = Renders()
    for user in coordinators:
        message = {"text": renders.to(locale_of, forum, user, text)}
        key = f"{kind}:{subject}:{occurrence:%Y%m%d%H%M%S}:{user}"
        queue_dm(session, clock, forum, user, message, key)
    scheduling.complete(session, clock, effect)
    return 1


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
    session: Session,
    clock: Clock,
    policy: RetentionPolicy,
    *,
    replica: str,
    batch: int = 50,
    locale_of: LocaleOf | None = None,
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
        result[forum.code] = apply_forum(
            session, clock, policy, forum, replica=replica, locale_of=locale_of
        )
        scheduling.complete(session, clock, effect)
    removed = apply_audit(session, clock, policy)
    pruned = scheduling.prune_outbox(session, clock)
    if removed or pruned:
        result["*"] = Outcome(removed={DataClass.AUDIT_EVENTS.value: removed, "outbox": pruned})
    return result
