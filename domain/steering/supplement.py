"""The steering part of a steering forum's agenda, posted with it (claimed once)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, sessionmaker

from domain import scheduling
from domain.clock import Clock
from domain.forums import forum_zone
from domain.i18n import Translator, normalize_locale
from domain.statistics import Period
from domain.steering.activity_plan import Activity, PlanNode, plan
from domain.steering.levels import (
    CATCH_UP,
    SUPPLEMENT,
    ForumFigures,
    is_steering,
    rollup,
    since_last_meeting,
)
from storage.db import reading
from storage.models import (
    ActionStatus,
    EffectStatus,
    Forum,
    Meeting,
    ScheduledEffect,
)

AgendaEffect = aliased(ScheduledEffect)

# --- the steering part of the agenda ---------------------------------------------------------


@dataclass(frozen=True)
class Supplement:
    forum_name: str
    period: Period
    rollup: tuple[ForumFigures, ...]
    activities_due: tuple[Activity, ...]
    goals_to_follow_up: tuple[PlanNode, ...]


def supplement(session: Session, clock: Clock, *, forum: Forum, meeting_day: dt.date) -> Supplement:
    period = since_last_meeting(session, clock, forum)
    current = plan(session, forum=forum, year=meeting_day.year)
    due = [
        a
        for node in current.goals()
        for a in node.activities
        if a.status is ActionStatus.OPEN and a.due_on <= meeting_day
    ]
    goals = [
        g
        for g in current.goals()
        if g.result is None and g.follow_up_on is not None and g.follow_up_on <= meeting_day
    ]
    return Supplement(
        forum_name=forum.name,
        period=period,
        rollup=tuple(rollup(session, steering=forum, period=period)),
        activities_due=tuple(due),
        goals_to_follow_up=tuple(goals),
    )


class SupplementMessages(Protocol):
    def supplement(self, t: Translator, supplement: Supplement) -> dict[str, Any]: ...


class _Posted(NamedTuple):
    """A steering forum's posted agenda to supplement (due when its occurrence was)."""

    forum_id: int
    occurrence: dt.datetime

    @property
    def due_at(self) -> dt.datetime:
        return self.occurrence


def post_due_supplements(
    sessions: sessionmaker[Session],
    clock: Clock,
    messages: SupplementMessages,
    *,
    replica: str,
) -> int:
    """After a steering forum's agenda is posted: the steering part in its thread, once."""
    now = clock.now()
    supplemented = (
        select(ScheduledEffect.id)
        .where(
            ScheduledEffect.forum_id == AgendaEffect.forum_id,
            ScheduledEffect.kind == SUPPLEMENT,
            ScheduledEffect.subject == "",
            ScheduledEffect.occurrence == AgendaEffect.occurrence,
        )
        .exists()
    )
    with reading(sessions) as session:  # finding what is due only reads
        # Only steering forums' agendas posted in the last two weeks and not yet
        # supplemented: the other forums are never loaded (a cost every scheduler pass).
        posted = session.execute(
            select(AgendaEffect.forum_id, AgendaEffect.occurrence)
            .join(Forum, Forum.id == AgendaEffect.forum_id)
            .where(
                is_steering(),
                AgendaEffect.kind == "agenda",
                AgendaEffect.status == EffectStatus.DONE,
                AgendaEffect.done_at > now - CATCH_UP,
                ~supplemented,
            )
            .order_by(AgendaEffect.forum_id, AgendaEffect.occurrence)
        ).all()

    def post(session: Session, item: _Posted) -> bool:
        forum = session.get(Forum, item.forum_id)
        meeting = session.scalar(
            select(Meeting).where(
                Meeting.forum_id == item.forum_id, Meeting.occurrence == item.occurrence
            )
        )
        if forum is None or meeting is None:
            return False
        zone = forum_zone(forum)
        part = supplement(
            session, clock, forum=forum, meeting_day=meeting.starts_at.astimezone(zone).date()
        )
        t = Translator(normalize_locale(forum.language))
        first = f"agenda:{meeting.id}:p0"
        scheduling.enqueue(
            session,
            clock,
            team_id=forum.team_id,
            method="chat.postMessage",
            payload={
                "channel": forum.channel_id,
                **messages.supplement(t, part),
                scheduling.AFTER: first,
                scheduling.FILL: {"thread_ts": first},
            },
            dedupe_key=f"{SUPPLEMENT}:{meeting.id}",
        )
        return True

    return scheduling.each_claimed(
        sessions,
        clock,
        (_Posted(forum_id, occurrence) for forum_id, occurrence in posted),
        kind=SUPPLEMENT,
        replica=replica,
        act=post,
    )
