"""The morning DM on a meeting day: sent once, refreshed when the agenda changes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from domain import disclosure, scheduling
from domain.access import Access
from domain.clock import Clock
from domain.i18n import LocaleOf, recipient_locale
from domain.minutes.base import CATCH_UP, MEETING_DM
from domain.minutes.preparation import Preparation, prepare
from storage.db import reading
from storage.models import (
    AgendaItem,
    EffectStatus,
    Forum,
    Meeting,
    MeetingStatus,
    Member,
    OutboxMessage,
    ScheduledEffect,
)

# --- the morning DM ---------------------------------------------------------------------------

RenderPreparation = Callable[[Preparation], dict[str, Any]]


def _dm_key(meeting_id: int, user: str) -> str:
    return f"{MEETING_DM}:{meeting_id}:{user}"


def _in_their_language(prep: Preparation, forum: Forum, locale_of: LocaleOf | None) -> Preparation:
    """The morning DM in its recipient's language (the forum's when unknown), not the
    forum's: it is theirs alone."""
    return dataclasses.replace(prep, locale=recipient_locale(locale_of, forum, prep.user))


def _members(session: Session, forum_id: int) -> list[Member]:
    return list(
        session.scalars(
            select(Member)
            .where(Member.forum_id == forum_id, Member.active.is_(True))
            .order_by(Member.id)
        )
    )


def _due(session: Session, clock: Clock, kind: str, due_column: Any, *, until: Any) -> list[int]:
    now = clock.now()
    done = exists().where(
        ScheduledEffect.forum_id == Meeting.forum_id,
        ScheduledEffect.kind == kind,
        ScheduledEffect.subject == "",
        ScheduledEffect.occurrence == Meeting.occurrence,
        ScheduledEffect.status.in_((EffectStatus.DONE, EffectStatus.SKIPPED)),
    )
    has_case = exists().where(
        AgendaItem.meeting_id == Meeting.id,
        AgendaItem.case_id.is_not(None),
        AgendaItem.removed.is_(False),
    )
    conditions = [
        due_column <= now,
        due_column > now - CATCH_UP,
        until > now if kind == MEETING_DM else Meeting.status != MeetingStatus.CANCELLED,
        due_column >= Forum.created_at,
        ~done,
    ]
    if kind == MEETING_DM:
        conditions.append(Meeting.status == MeetingStatus.PLANNED)
    # Only meetings with cases on their agenda (collected when the agenda was posted).
    conditions.append(has_case)
    return list(
        session.scalars(
            select(Meeting.id)
            .join(Forum, Forum.id == Meeting.forum_id)
            .where(and_(*conditions))
            .order_by(due_column, Meeting.id)
            .limit(200)
        )
    )


def each_claimed_meeting(
    sessions: sessionmaker[Session],
    clock: Clock,
    kind: str,
    due_column: InstrumentedAttribute[Any],
    *,
    until: Any,
    replica: str,
    act: Callable[[Session, Meeting, Forum], int],
) -> int:
    """For each meeting whose ``kind`` is due at ``due_column`` (see :func:`_due`): claim it
    for this replica and ``act`` on it (queue its messages; returns how many) in one
    transaction of its own, which also marks the effect done. Finding what is due only
    reads (on SQLite it does not take the write lock). Returns the sum of what ``act``
    returned."""
    with reading(sessions) as session:
        due = _due(session, clock, kind, due_column, until=until)
    total = 0
    for meeting_id in due:
        with sessions() as session, session.begin():
            meeting = session.get(Meeting, meeting_id)
            due_at = getattr(meeting, due_column.key, None)
            if meeting is None or due_at is None:
                continue
            forum = session.get(Forum, meeting.forum_id)
            assert forum is not None
            effect = scheduling.claim(
                session,
                clock,
                forum_id=forum.id,
                kind=kind,
                subject="",
                occurrence=meeting.occurrence,
                due_at=due_at,
                replica=replica,
            )
            if effect is None:
                continue
            total += act(session, meeting, forum)
            scheduling.complete(session, clock, effect)
    return total


def send_meeting_dms(
    sessions: sessionmaker[Session],
    clock: Clock,
    render: RenderPreparation,
    *,
    replica: str,
    locale_of: LocaleOf | None = None,
) -> int:
    """At the agenda time of a meeting with cases: each member's morning DM, once, in their
    language (``locale_of``; the forum's when unknown)."""

    def queue(session: Session, meeting: Meeting, forum: Forum) -> int:
        calls: list[tuple[str, dict[str, Any]]] = []
        for member in _members(session, forum.id):
            prep = prepare(session, clock, Access(forum=forum, member=member), meeting)
            if not prep.cases:
                break  # no cases: no DMs
            calls.append(
                (
                    _dm_key(meeting.id, member.slack_user_id),
                    {
                        "channel": member.slack_user_id,
                        **render(_in_their_language(prep, forum, locale_of)),
                    },
                )
            )
        # Each member's own (their cases), queued in one statement.
        scheduling.enqueue_all(
            session, clock, team_id=forum.team_id, method="chat.postMessage", calls=calls
        )
        return len(calls)

    return each_claimed_meeting(
        sessions,
        clock,
        MEETING_DM,
        Meeting.agenda_due_at,
        until=Meeting.starts_at,
        replica=replica,
        act=queue,
    )


def refresh_meeting_dms(
    session: Session,
    clock: Clock,
    meeting: Meeting,
    forum: Forum,
    render: RenderPreparation,
    *,
    locale_of: LocaleOf | None = None,
) -> int:
    """After the slots or the meeting changed: the sent morning DMs, updated in place (in
    each recipient's language, as they were sent)."""
    if meeting.status != MeetingStatus.PLANNED:
        return 0
    sent = session.scalars(
        select(OutboxMessage.dedupe_key).where(
            scheduling.key_starts(session, f"{MEETING_DM}:{meeting.id}:"),
            OutboxMessage.method == "chat.postMessage",
        )
    ).all()
    refreshed = 0
    for key in sent:
        user = key.rsplit(":", 1)[-1]
        access = disclosure.access_of(session, forum, user)
        if access is None:
            continue
        scheduling.enqueue_dm_update(
            session,
            clock,
            team_id=forum.team_id,
            key=key,
            message=render(
                _in_their_language(prepare(session, clock, access, meeting), forum, locale_of)
            ),
        )
        refreshed += 1
    return refreshed
