"""The review sent by itself after each half-year (claimed once per forum and period)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from domain import actions as action_service
from domain import scheduling
from domain.calendar import calendar_from_settings, first_working_day
from domain.clock import Clock
from domain.forums import coordinator_locales, forum_zone, setting_text
from domain.i18n import LocaleOf, Translator, normalize_locale, per_language
from domain.periods import last_ended_half
from domain.review.documents import files
from domain.review.figures import CATCH_UP, KIND, SEND_AT, review_settings
from domain.review.masking import ReviewFigures, build
from domain.statistics import Period
from storage.db import reading
from storage.models import (
    SYSTEM_ACTOR,
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


def _month_starts(now: dt.datetime) -> list[dt.date]:
    """The first days of the months a review due now can follow: a period ends the day
    before one, its review is due on the first working day on or after it (at most 30 days
    later, ``first_working_day``) and caught up for :data:`CATCH_UP` (30 days), so about
    62 days back, give or take a day for the zones."""
    low = (now - dt.timedelta(days=63)).date()
    high = (now + dt.timedelta(days=1)).date()
    first = dt.date(low.year, low.month, 1)
    starts = []
    while first <= high:
        if first >= low:
            starts.append(first)
        first = (first + dt.timedelta(days=32)).replace(day=1)
    return starts


def _end_month(month_start: dt.date) -> int:
    """The ``end_month`` setting (1–6) whose periods end the day before ``month_start``."""
    return (month_start.month - 2) % 12 % 6 + 1


def _candidates(now: dt.datetime) -> ColumnElement[bool]:
    """Forums a review may be due for now, in SQL (what :func:`_due_for` then checks
    exactly): automatic reviews on, periods that ended before one of the month starts of
    :func:`_month_starts`, the forum there by then, and that review not yet done. Most
    forums share the default end month, so outside those weeks their rows are not read."""
    end_month = setting_text("review", "end_month")
    auto = setting_text("review", "auto")
    branches = []
    for start in _month_starts(now):
        month = _end_month(start)
        if month == 6:  # the default: missing or not 1–5 reads as 6 (review_settings)
            matches = or_(end_month.is_(None), end_month.not_in([str(m) for m in range(1, 6)]))
        else:
            matches = end_month == str(month)
        midnight = dt.datetime.combine(start, dt.time(0), tzinfo=dt.UTC)
        # The occurrence is the month start's midnight in the forum's zone.
        done = scheduling.settled_near(Forum.id, KIND, midnight)
        # A forum created after the period ended gets no review of it (_due_for).
        created = Forum.created_at <= midnight + dt.timedelta(days=1)
        branches.append(and_(matches, created, ~done))
    # false reads "false" on PostgreSQL, 0 on SQLite: both are off in review_settings too.
    return and_(or_(auto.is_(None), auto.not_in(["false", "0"])), or_(*branches))


def due_reviews(session: Session, clock: Clock) -> list[Due]:
    now = clock.now()
    forums = session.scalars(select(Forum).where(_candidates(now)).order_by(Forum.id)).all()
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
    locale_of: LocaleOf | None = None,
) -> int:
    """Claim each due review (its own transaction), build it outside the claim, then queue
    the files for the coordinators (each in their language, ``locale_of``; the forum's when
    unknown) and the channel summary (the forum's) and mark it done. Returns how many were
    sent."""
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
            figures = build(session, clock, forum=forum, period=item.period, actor=SYSTEM_ACTOR)
            languages = coordinator_locales(session, forum, locale_of)
        # Built once per language (outside any transaction): each coordinator reads theirs.
        documents = per_language([*languages.values(), t.locale], partial(files, fig=figures))
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
            for user in action_service.coordinators(session, forum.id):
                scheduling.enqueue_files(
                    session,
                    clock,
                    team_id=forum.team_id,
                    users=[user],
                    files=documents[languages.get(user, t.locale)],
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
