"""What may leave the forum: the figures after the small-number rule."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import audit, feedback
from domain import small_numbers as sn
from domain.clock import Clock
from domain.review.figures import AreaTrend, ReviewData, collect
from domain.statistics import Period
from storage.models import (
    AuditAction,
    Forum,
    Member,
)

# --- what may leave the forum ---------------------------------------------------------------


@dataclass(frozen=True)
class ReviewFigures:
    """The review after the small-number rule: the only thing the renderers see."""

    forum_name: str
    forum_code: str
    period: Period
    cases_total: sn.Figure
    by_concern: dict[str, sn.Figure]
    by_agency: dict[str, sn.Figure]
    by_age: dict[str, sn.Figure]
    sip_started: sn.Figure
    sip_share: float | None
    cases_closed: sn.Figure
    outcomes: dict[str, sn.Figure]
    actions_started: sn.Figure
    actions_done: sn.Figure
    actions_on_time: sn.Figure
    on_time_share: float | None
    actions_overdue: sn.Figure
    effects: dict[str, sn.Figure]
    deviations_total: sn.Figure
    deviations: dict[str, sn.Figure]
    surveys_sent: sn.Figure
    surveys_answered: sn.Figure
    feedback_means: dict[str, float | None]
    family_views: sn.Figure
    family: dict[str, dict[str, sn.Figure]]
    criteria_cases: sn.Figure
    criteria: tuple[tuple[str, sn.Figure], ...]
    meetings_held: sn.Figure
    attendance: dict[str, sn.Figure]
    trends: tuple[AreaTrend, ...]


def masked(data: ReviewData) -> ReviewFigures:
    fb = data.feedback
    deviations_total = sum(data.deviations.values())
    return ReviewFigures(
        forum_name=data.forum_name,
        forum_code=data.forum_code,
        period=data.period,
        cases_total=sn.count(data.cases_total),
        by_concern=sn.breakdown(data.by_concern),
        by_agency=sn.breakdown(data.by_agency, total=data.cases_total),
        by_age=sn.breakdown(data.by_age, total=data.cases_total),
        sip_started=sn.count(data.sip_started),
        sip_share=sn.share(data.sip_started, data.cases_total),
        cases_closed=sn.count(data.cases_closed),
        outcomes=sn.breakdown(data.outcomes, total=data.cases_closed),
        actions_started=sn.count(data.actions_started),
        actions_done=sn.count(data.actions_done),
        actions_on_time=sn.count(data.actions_on_time),
        on_time_share=sn.share(data.actions_on_time, data.actions_done),
        actions_overdue=sn.count(data.actions_overdue),
        # The effects of the actions done, whose count is shown: a breakdown of it.
        effects=sn.breakdown(data.effects, total=data.actions_done),
        deviations_total=sn.count(deviations_total),
        deviations=sn.breakdown(data.deviations, total=deviations_total),
        surveys_sent=sn.count(fb.surveys_sent),
        surveys_answered=sn.count(fb.surveys_answered),
        feedback_means={k: sn.mean(fb.sums[k], fb.surveys_answered) for k in feedback.QUESTIONS},
        family_views=sn.count(fb.family_views),
        family={k: sn.breakdown(v, total=fb.family_views) for k, v in fb.family.items()},
        criteria_cases=sn.count(data.criteria.cases),
        criteria=tuple((row.text, sn.count(row.met)) for row in data.criteria.rows),
        meetings_held=sn.count(data.meetings_held),
        attendance=sn.breakdown(data.attendance),
        trends=data.trends,
    )


def build(
    session: Session, clock: Clock, *, forum: Forum, period: Period, actor: str
) -> ReviewFigures:
    """The masked review, audited as an export of statistics."""
    figures = masked(collect(session, forum=forum, period=period))
    member = session.scalar(
        select(Member).where(Member.forum_id == forum.id, Member.slack_user_id == actor)
    )
    audit.record(
        session,
        clock,
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="half_year_review",
        object_ref=forum.code,
        team_id=forum.team_id,
        forum_id=forum.id,
        actor_agency_id=member.agency_id if member else None,
        detail={"from": period.start.isoformat(), "to": period.end.isoformat()},
    )
    return figures
