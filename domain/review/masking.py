"""What may leave the forum: the figures after the small-number rule."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import audit, feedback
from domain import small_numbers as sn
from domain.clock import Clock
from domain.periods import halves_of
from domain.review.figures import AreaTrend, ReviewData, collect, review_settings
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


def masked(data: ReviewData, published: Sequence[ReviewFigures] = ()) -> ReviewFigures:
    """The figures after the small-number rule. Every breakdown is masked against the total
    printed beside it (``sn.breakdown``), and every total is one ``sn.total`` Figure for all
    the places it is printed: the cases raised head the concerns, agencies, age bands, SIP
    and criteria met; the cases closed their outcomes; the actions done their effects and
    those on time; the family views each answer; the meetings held the attendance.

    ``published``: the figures printed already of the periods that make up this one (the
    half-year reviews of an annual report's year): what one of them hid stays hidden here,
    or the year minus the other half would give it back."""
    fb = data.feedback

    def was(get: Callable[[ReviewFigures], sn.Figure]) -> bool:
        return any(get(p).hidden for p in published)

    def were(get: Callable[[ReviewFigures], Mapping[Any, sn.Figure]]) -> set[Any]:
        return {k for p in published for k, f in get(p).items() if f.hidden}

    hidden_criteria = {text for p in published for text, f in p.criteria if f.hidden}
    deviations_total = sum(data.deviations.values())
    # A part of a whole (SIP started of the cases raised, done on time of the actions done,
    # surveys answered of those sent) is a breakdown of one cell: what is left (no SIP,
    # done late, not answered) must not be 1–4 either.
    sip = {"started": data.sip_started}
    on_time = {"on_time": data.actions_on_time}
    answered = {"answered": fb.surveys_answered}
    criteria_met = {i: row.met for i, row in enumerate(data.criteria.rows)}
    cases_total = sn.total(
        data.cases_total,
        (data.by_concern, True),
        (data.by_agency, False),
        (data.by_age, False),
        (sip, False),
        (criteria_met, True),
        hidden=was(lambda p: p.cases_total),
    )
    surveys_answered = sn.breakdown(
        answered,
        total=fb.surveys_sent,
        hidden={"answered"} if was(lambda p: p.surveys_answered) else (),
    )["answered"]
    cases_closed = sn.total(
        data.cases_closed, (data.outcomes, False), hidden=was(lambda p: p.cases_closed)
    )
    actions_done = sn.total(
        data.actions_done,
        (data.effects, False),
        (on_time, False),
        hidden=was(lambda p: p.actions_done),
    )
    family_views = sn.total(
        fb.family_views,
        *((v, False) for v in fb.family.values()),
        hidden=was(lambda p: p.family_views),
    )
    meetings_held = sn.total(
        data.meetings_held, (data.attendance, True), hidden=was(lambda p: p.meetings_held)
    )
    sip_started = sn.breakdown(
        sip,
        total=data.cases_total,
        hidden={"started"} if was(lambda p: p.sip_started) else (),
    )["started"]
    actions_on_time = sn.breakdown(
        on_time,
        total=data.actions_done,
        hidden={"on_time"} if was(lambda p: p.actions_on_time) else (),
    )["on_time"]
    criteria = sn.breakdown(
        criteria_met,
        total=data.criteria.cases,
        multi=True,
        hidden={i for i, row in enumerate(data.criteria.rows) if row.text in hidden_criteria},
    )
    return ReviewFigures(
        forum_name=data.forum_name,
        forum_code=data.forum_code,
        period=data.period,
        cases_total=cases_total,
        # Concerns are multi-select: a breakdown of the cases raised all the same whenever
        # each case has one concern (sn's docstring).
        by_concern=sn.breakdown(
            data.by_concern, total=data.cases_total, multi=True, hidden=were(lambda p: p.by_concern)
        ),
        by_agency=sn.breakdown(
            data.by_agency, total=data.cases_total, hidden=were(lambda p: p.by_agency)
        ),
        by_age=sn.breakdown(data.by_age, total=data.cases_total, hidden=were(lambda p: p.by_age)),
        sip_started=sip_started,
        sip_share=sn.share(data.sip_started, data.cases_total, sip_started, cases_total),
        cases_closed=cases_closed,
        outcomes=sn.breakdown(
            data.outcomes, total=data.cases_closed, hidden=were(lambda p: p.outcomes)
        ),
        actions_started=sn.count(data.actions_started),
        actions_done=actions_done,
        actions_on_time=actions_on_time,
        on_time_share=sn.share(
            data.actions_on_time, data.actions_done, actions_on_time, actions_done
        ),
        actions_overdue=sn.count(data.actions_overdue),
        # The effects of the actions done, whose count is shown: a breakdown of it.
        effects=sn.breakdown(
            data.effects, total=data.actions_done, hidden=were(lambda p: p.effects)
        ),
        deviations_total=sn.total(
            deviations_total, (data.deviations, False), hidden=was(lambda p: p.deviations_total)
        ),
        deviations=sn.breakdown(
            data.deviations, total=deviations_total, hidden=were(lambda p: p.deviations)
        ),
        surveys_sent=sn.total(
            fb.surveys_sent, (answered, False), hidden=was(lambda p: p.surveys_sent)
        ),
        surveys_answered=surveys_answered,
        feedback_means={
            k: sn.mean(fb.sums[k], fb.surveys_answered, surveys_answered)
            for k in feedback.QUESTIONS
        },
        family_views=family_views,
        family={
            k: sn.breakdown(
                v,
                total=fb.family_views,
                hidden={a for p in published for a, f in p.family.get(k, {}).items() if f.hidden},
            )
            for k, v in fb.family.items()
        },
        # The criteria table is headed by the cases raised: the same Figure.
        criteria_cases=cases_total,
        criteria=tuple((row.text, criteria[i]) for i, row in enumerate(data.criteria.rows)),
        meetings_held=meetings_held,
        # Meetings attended per agency: multi-select over the meetings held (shown).
        attendance=sn.breakdown(
            data.attendance,
            total=data.meetings_held,
            multi=True,
            hidden=were(lambda p: p.attendance),
        ),
        trends=data.trends,
    )


def masked_period(session: Session, *, forum: Forum, period: Period) -> ReviewFigures:
    """The forum's figures for ``period`` after the small-number rule. A period made up of
    the forum's half-year review periods (a year: ``/samverkan uppföljning 2026``, the
    annual report) keeps hidden what those reviews hid, or the year minus one half would
    give the other half's hidden figure back (:func:`masked`'s ``published``)."""
    halves = halves_of(period, review_settings(forum).end_month)
    published = [masked(collect(session, forum=forum, period=h)) for h in halves]
    return masked(collect(session, forum=forum, period=period), published)


def build(
    session: Session, clock: Clock, *, forum: Forum, period: Period, actor: str
) -> ReviewFigures:
    """The masked review, audited as an export of statistics."""
    figures = masked_period(session, forum=forum, period=period)
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
