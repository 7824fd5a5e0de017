"""The due-work job: claim each meeting's agenda, post it (late if need be), previews, failures."""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, literal, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from domain import locks, scheduling
from domain.agenda.base import (
    AGENDA,
    CATCH_UP,
    GRACE,
    MISSED,
    PREVIEW,
    PREVIEW_MIN_LEAD,
    Agenda,
    PictureLoader,
    Render,
)
from domain.agenda.build import build
from domain.agenda.publish import PreviewMessages, _enqueue_post, _preview_key
from domain.clock import Clock
from domain.forums import coordinators
from domain.i18n import LocaleOf, Translator, recipient_translator
from storage.models import (
    FAILED_AGENDA_KEYS,
    FAILED_AGENDA_STATUS,
    EffectStatus,
    Forum,
    Meeting,
    MeetingStatus,
    OutboxMessage,
    ScheduledEffect,
)


@dataclass
class AgendaRun:
    posted: int = 0
    late: int = 0
    missed: int = 0
    previews: int = 0


def due_meetings(
    session: Session, clock: Clock, kind: str, *, limit: int = 500
) -> list[tuple[int, int]]:
    """(meeting id, forum id) of meetings whose agenda (or preview) is due and not yet done."""
    now = clock.now()
    due_column = Meeting.agenda_due_at
    if kind == PREVIEW:
        # A preview only helps while there is time to act on it before the agenda goes out.
        window_end = now + dt.timedelta(days=1)
        condition = and_(due_column <= window_end, due_column > now + PREVIEW_MIN_LEAD)
    else:
        condition = and_(due_column <= now, due_column > now - CATCH_UP)
    done = exists().where(
        ScheduledEffect.forum_id == Meeting.forum_id,
        ScheduledEffect.kind == kind,
        ScheduledEffect.subject == "",
        ScheduledEffect.occurrence == Meeting.occurrence,
        ScheduledEffect.status.in_((EffectStatus.DONE, EffectStatus.SKIPPED)),
    )
    rows = session.execute(
        select(Meeting.id, Meeting.forum_id)
        .join(Forum, Forum.id == Meeting.forum_id)
        .where(
            Meeting.status == MeetingStatus.PLANNED,
            condition,
            # A forum created after its agenda time does not get that agenda late.
            due_column >= Forum.created_at,
            ~done,
        )
        .order_by(due_column, Meeting.id)
        .limit(limit)
    ).all()
    return [(r[0], r[1]) for r in rows]


def post_due(
    sessions: Callable[[], Session],
    clock: Clock,
    *,
    replica: str,
    render: Render,
    render_preview: Callable[[Agenda], dict[str, Any]],
    picture: PictureLoader | None = None,
    budget_seconds: float = 45.0,
    batch: int = 500,
    workers: int = 1,
    locale_of: LocaleOf | None = None,
) -> AgendaRun:
    """Claim and post every due agenda, and every due preview; one transaction each.

    Works through batches until nothing new is due (a Thursday with thousands of forums) or
    the time budget is spent; the next pass goes on where this one stopped. With ``workers``
    > 1 several meetings are handled at once (each in its own transaction and claim)."""
    run = AgendaRun()
    started = time.monotonic()

    def one(kind: str, meeting_id: int) -> str | None:
        with sessions() as session, session.begin():
            if kind == PREVIEW:
                sent = _preview_one(
                    session,
                    clock,
                    meeting_id,
                    replica=replica,
                    render=render_preview,
                    picture=picture,
                    locale_of=locale_of,
                )
                return "preview" if sent else None
            return _post_one(
                session,
                clock,
                meeting_id,
                replica=replica,
                render=render,
                picture=picture,
                locale_of=locale_of,
            )

    pool = (
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agenda")
        if workers > 1
        else None
    )
    try:
        for kind in (AGENDA, PREVIEW):
            seen: set[int] = set()
            while time.monotonic() - started < budget_seconds:
                with sessions() as session, session.begin():
                    due = [m for m, _f in due_meetings(session, clock, kind, limit=batch)]
                    fresh = [m for m in due if m not in seen]
                    _prepare_effects(session, kind, fresh)
                if not fresh:
                    break  # done, or what is left is claimed by another replica
                seen.update(fresh)
                if pool is not None:
                    outcomes = list(pool.map(lambda m, k=kind: one(k, m), fresh))
                else:
                    outcomes = [one(kind, m) for m in fresh]
                for outcome in outcomes:
                    if outcome in ("posted", "late"):
                        run.posted += 1
                        run.late += outcome == "late"
                    elif outcome == "missed":
                        run.missed += 1
                    elif outcome == "preview":
                        run.previews += 1
    finally:
        if pool is not None:
            pool.shutdown()
    return run


def _prepare_effects(session: Session, kind: str, meeting_ids: Sequence[int]) -> None:
    """The effect rows of a batch of due agendas (or previews), committed before any is
    claimed: a claim then finds its row and skips it while another replica holds it (an
    insert racing another transaction's uncommitted insert would wait for that commit)."""
    if not meeting_ids or session.get_bind().dialect.name != "postgresql":
        return
    shift = dt.timedelta(days=1) if kind == PREVIEW else dt.timedelta()
    rows = [
        {
            "forum_id": forum_id,
            "kind": kind,
            "subject": "",
            "occurrence": occurrence,
            "due_at": due_at - shift,
            "status": EffectStatus.PENDING,
            "late": False,
        }
        for forum_id, occurrence, due_at in session.execute(
            select(Meeting.forum_id, Meeting.occurrence, Meeting.agenda_due_at)
            .where(Meeting.id.in_(meeting_ids))
            .order_by(Meeting.forum_id, Meeting.occurrence)  # one order: no deadlock
        )
        if due_at is not None
    ]
    if rows:
        session.execute(
            postgresql.insert(ScheduledEffect)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["forum_id", "kind", "subject", "occurrence"])
        )


def _claim(
    session: Session, clock: Clock, meeting_id: int, kind: str, *, replica: str
) -> tuple[Meeting, Forum, ScheduledEffect] | None:
    """The meeting's agenda (or preview, due a day earlier) for this replica, or None. The
    meeting's row is locked once the effect is claimed (domain.locks) and read again."""
    claimed = _claim_effect(session, clock, meeting_id, kind, replica=replica)
    if claimed is None:
        return None
    _meeting, forum, effect = claimed
    # A schedule edit that removed the meeting or moved its agenda time later, committed
    # since the due list was read, is read here: nothing to post now (the claim is given
    # back). A cancel is read too (the caller skips it). An edit or a cancel that comes
    # after this lock waits for the post, and then finds the agenda out.
    meeting = locks.lock_meeting(session, meeting_id)
    shift = dt.timedelta(days=1) if kind == PREVIEW else dt.timedelta()
    if (
        meeting is None
        or meeting.agenda_due_at is None
        or meeting.agenda_due_at - shift > clock.now()
    ):
        scheduling.release(effect)
        return None
    return meeting, forum, effect


def _claim_effect(
    session: Session, clock: Clock, meeting_id: int, kind: str, *, replica: str
) -> tuple[Meeting, Forum, ScheduledEffect] | None:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.agenda_due_at is None:
        return None
    key = (
        ScheduledEffect.forum_id == meeting.forum_id,
        ScheduledEffect.kind == kind,
        ScheduledEffect.subject == "",
        ScheduledEffect.occurrence == meeting.occurrence,
    )
    forum = session.get(Forum, meeting.forum_id)
    assert forum is not None
    if session.get_bind().dialect.name == "postgresql":
        # Another replica building this agenda holds its effect's row until it commits:
        # skip it rather than wait for its whole build (replicas walk the same due list).
        # The row is there (post_due prepared it): claimed here as scheduling.claim would.
        effect = session.scalar(
            select(ScheduledEffect).where(*key).with_for_update(skip_locked=True)
        )
        if effect is not None:
            now = clock.now()
            lease_over = effect.lease_until is not None and effect.lease_until < now
            if not (
                effect.status == EffectStatus.PENDING
                or (effect.status == EffectStatus.CLAIMED and lease_over)
            ):
                return None  # done, skipped, or claimed by a live replica
            effect.status = EffectStatus.CLAIMED
            effect.claimed_by = replica
            effect.claimed_at = now
            effect.lease_until = now + scheduling.LEASE
            return meeting, forum, effect
        if session.scalar(select(exists().where(*key))):
            return None  # another replica holds it
    due_at = meeting.agenda_due_at - (dt.timedelta(days=1) if kind == PREVIEW else dt.timedelta())
    claimed = scheduling.claim(
        session,
        clock,
        forum_id=forum.id,
        kind=kind,
        subject="",
        occurrence=meeting.occurrence,
        due_at=due_at,
        replica=replica,
    )
    return None if claimed is None else (meeting, forum, claimed)


def _post_one(
    session: Session,
    clock: Clock,
    meeting_id: int,
    *,
    replica: str,
    render: Render,
    picture: PictureLoader | None,
    locale_of: LocaleOf | None,
) -> str | None:
    claimed = _claim(session, clock, meeting_id, AGENDA, replica=replica)
    if claimed is None:
        return None  # gone, another replica has it, or it is done
    meeting, forum, effect = claimed
    now = clock.now()
    if meeting.status != MeetingStatus.PLANNED:
        effect.status = EffectStatus.SKIPPED
        return None
    if now >= meeting.starts_at:
        # Too late to be of use: say so to the coordinators instead of posting.
        effect.status = EffectStatus.SKIPPED
        effect.done_at = now
        effect.note = "missed"
        zone = zoneinfo.ZoneInfo(forum.timezone)
        for user in coordinators(session, forum.id):
            t = recipient_translator(locale_of, forum, user)
            text = t(
                "The agenda for {forum}'s meeting {when} was not posted: the bot was not "
                "running at the agenda time, and the meeting has already started.",
                forum=forum.name,
                when=t.day_time(meeting.starts_at, zone),
            )
            scheduling.enqueue(
                session,
                clock,
                team_id=forum.team_id,
                method="chat.postMessage",
                payload={"channel": user, "text": text},
                dedupe_key=f"{MISSED}:{meeting.id}:{user}",
            )
        return "missed"
    assert meeting.agenda_due_at is not None  # _claim only returns meetings that have one
    late = now > meeting.agenda_due_at + GRACE
    agenda = build(session, clock, meeting, forum, late=late, picture=picture)
    _enqueue_post(session, clock, agenda, render(agenda))
    scheduling.complete(session, clock, effect, late=late)
    return "late" if late else "posted"


def _preview_one(
    session: Session,
    clock: Clock,
    meeting_id: int,
    *,
    replica: str,
    render: Callable[[Agenda], dict[str, Any]],
    picture: PictureLoader | None,
    locale_of: LocaleOf | None,
) -> bool:
    claimed = _claim(session, clock, meeting_id, PREVIEW, replica=replica)
    if claimed is None:
        return False
    meeting, forum, effect = claimed
    if meeting.status != MeetingStatus.PLANNED:  # cancelled since the due list was read
        effect.status = EffectStatus.SKIPPED
        return False
    agenda = build(session, clock, meeting, forum, picture=picture, cover=True)
    message_for = PreviewMessages(agenda, forum, render, locale_of)
    for user in coordinators(session, forum.id):
        scheduling.enqueue(
            session,
            clock,
            team_id=forum.team_id,
            method="chat.postMessage",
            payload={"channel": user, **message_for(user)},
            dedupe_key=_preview_key(meeting.id, user),
        )
    scheduling.complete(session, clock, effect)
    return True


# --- posts Slack refused for good -------------------------------------------------------------


_CLOCK_MARGIN = dt.timedelta(hours=1)


def report_failed_posts(
    session: Session, clock: Clock, *, limit: int = 100, locale_of: LocaleOf | None = None
) -> int:
    """Tell the coordinators, once, when an agenda could not be posted for a reason retrying
    will not fix (the bot was removed from the channel, the channel was archived …), each
    in their language (``locale_of``; the forum's when unknown)."""
    since = clock.now() - CATCH_UP
    failed = session.execute(
        select(OutboxMessage.dedupe_key, OutboxMessage.last_error)
        .where(
            # The partial index of failed agenda posts (ix_outbox_failed_agenda_posts): its
            # predicate in literal values, as a generic plan cannot prove it from parameters.
            # Only those are read, not every message of every forum that failed.
            OutboxMessage.status == literal(FAILED_AGENDA_STATUS, literal_execute=True),
            OutboxMessage.dedupe_key.like(literal(FAILED_AGENDA_KEYS, literal_execute=True)),
            # Its range: a row's send time starts at its creation and only moves later, so
            # the failures of the last CATCH_UP are read, not every failure the outbox keeps
            # (90 days of every forum's). An hour's margin for a replica whose clock is
            # behind.
            OutboxMessage.not_before > since - _CLOCK_MARGIN,
            OutboxMessage.created_at > since,
        )
        # In the index's order: ORDER BY id had the plan walk the primary key instead.
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
    ).all()
    told = 0
    for key, error in failed:
        try:
            meeting_id = int(key.split(":")[1])
        except (IndexError, ValueError):
            continue
        meeting = session.get(Meeting, meeting_id)
        forum = session.get(Forum, meeting.forum_id) if meeting else None
        if meeting is None or forum is None:
            continue
        reason = str(error or "")[:80]
        for user in coordinators(session, forum.id):
            t = recipient_translator(locale_of, forum, user)
            scheduling.enqueue(
                session,
                clock,
                team_id=forum.team_id,
                method="chat.postMessage",
                payload={"channel": user, "text": _failed_text(t, forum, meeting, reason)},
                dedupe_key=f"agenda_failed:{meeting.id}:{user}",
            )
            told += 1
    return told


def _failed_text(t: Translator, forum: Forum, meeting: Meeting, reason: str) -> str:
    when = t.day_time(meeting.starts_at, zoneinfo.ZoneInfo(forum.timezone))
    if reason == "is_archived":  # no one can invite the bot to an archived channel
        return t(
            "The agenda for {forum}'s meeting {when} could not be posted: <#{channel}> "
            "is archived. Unarchive the channel to get the forum's agendas and reminders "
            "there again; /samverkan dagordning shows the agenda meanwhile.",
            forum=forum.name,
            when=when,
            channel=forum.channel_id,
        )
    return t(
        "The agenda for {forum}'s meeting {when} could not be posted in <#{channel}> "
        "({reason}). Invite me to the channel (/invite @Samverkan); then "
        "/samverkan dagordning shows the agenda.",
        forum=forum.name,
        when=when,
        channel=forum.channel_id,
        reason=reason or "?",
    )
