"""The review sent by itself after each half-year (claimed once per forum and period)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from domain import actions as action_service
from domain import scheduling
from domain.calendar import calendar_from_settings, first_working_day
from domain.clock import Clock
from domain.forums import forum_zone
from domain.i18n import Translator, normalize_locale
from domain.periods import last_ended_half
from domain.review.documents import files
from domain.review.figures import CATCH_UP, KIND, SEND_AT, review_settings
from domain.review.masking import ReviewFigures, build
from domain.statistics import Period
from storage.db import reading
from storage.models import (
    EffectStatus,
    Forum,
    ScheduledEffect,
)


class ReviewMessages(Protocol):
    """The channel summary (Block Kit built in handlers)."""

    def summary(
        self, t: Translator, figures: ReviewFigures, *, automatic: bool
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Due:
    forum_id: int
    period: Period
    occurrence: dt.datetime
    due_at: dt.datetime


def _due_for(forum: Forum, now: dt.datetime) -> Due | None:
    settings = review_settings(forum)
    if not settings.auto:
        return None
    zone = forum_zone(forum)
    today = now.astimezone(zone).date()
    period = last_ended_half(today, settings.end_month)
    occurrence = dt.datetime.combine(
        period.end + dt.timedelta(days=1), dt.time(0), tzinfo=zone
    ).astimezone(dt.UTC)
    day = first_working_day(
        period.end + dt.timedelta(days=1), calendar_from_settings(forum.settings)
    )
    due_at = dt.datetime.combine(day, SEND_AT, tzinfo=zone).astimezone(dt.UTC)
    if now < due_at or now - due_at > CATCH_UP or forum.created_at > occurrence:
        return None
    return Due(forum.id, period, occurrence, due_at)


def due_reviews(session: Session, clock: Clock) -> list[Due]:
    now = clock.now()
    forums = session.scalars(select(Forum)).all()
    due = [d for d in (_due_for(f, now) for f in forums) if d is not None]
    if not due:
        return []
    done = set(
        session.execute(
            select(ScheduledEffect.forum_id, ScheduledEffect.occurrence).where(
                ScheduledEffect.kind == KIND,
                ScheduledEffect.status.in_((EffectStatus.DONE, EffectStatus.SKIPPED)),
                ScheduledEffect.forum_id.in_([d.forum_id for d in due]),
            )
        ).all()
    )
    return [d for d in due if (d.forum_id, d.occurrence) not in done]


def send_due(
    sessions: sessionmaker[Session],
    clock: Clock,
    messages: ReviewMessages,
    *,
    replica: str,
) -> int:
    """Claim each due review (its own transaction), build it outside the claim, then queue
    the files for the coordinators and the channel summary and mark it done. Returns how
    many were sent."""
    with reading(sessions) as session:  # finding what is due only reads
        due = due_reviews(session, clock)
    sent = 0
    for item in due:
        with sessions() as session, session.begin():
            effect = scheduling.claim(
                session,
                clock,
                forum_id=item.forum_id,
                kind=KIND,
                subject="",
                occurrence=item.occurrence,
                due_at=item.due_at,
                replica=replica,
            )
            if effect is None:
                continue
            effect_id = effect.id
        with sessions() as session, session.begin():
            forum = session.get(Forum, item.forum_id)
            assert forum is not None
            t = Translator(normalize_locale(forum.language))
            figures = build(session, clock, forum=forum, period=item.period, actor="samverkan")
        documents = files(t, figures)
        with sessions() as session, session.begin():
            effect = session.get(ScheduledEffect, effect_id)
            forum = session.get(Forum, item.forum_id)
            if (
                effect is None
                or forum is None
                or effect.claimed_by != replica
                or effect.status is not EffectStatus.CLAIMED
            ):
                continue
            key = f"{KIND}:{forum.id}:{item.period.end.isoformat()}"
            scheduling.enqueue_files(
                session,
                clock,
                team_id=forum.team_id,
                users=action_service.coordinators(session, forum.id),
                files=documents,
                key=key,
            )
            scheduling.enqueue(
                session,
                clock,
                team_id=forum.team_id,
                method="chat.postMessage",
                payload={
                    "channel": forum.channel_id,
                    **messages.summary(t, figures, automatic=True),
                },
                dedupe_key=f"{key}:summary",
            )
            scheduling.complete(
                session, clock, effect, late=clock.now() - item.due_at > dt.timedelta(hours=1)
            )
            sent += 1
    return sent
