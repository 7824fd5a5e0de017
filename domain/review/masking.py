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
    actions_on_time: sn.Figure  # by the due date first agreed
    on_time_share: float | None
    actions_after_new_date: sn.Figure  # late for the first date, by a new one it got
    actions_overdue: sn.Figure
    effects: dict[str, sn.Figure]
    deviations_total: sn.Figure
    deviations: dict[str, sn.Figure]
    deviations_followed_up: sn.Figure  # of deviations_total; the rest are open
    deviations_open: sn.Figure
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
    # The cases discussed at the forum's meetings (each once), beside the cases raised.
    cases_discussed: sn.Figure


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

    def cells(
        counts: Mapping[Any, int], total: int, hidden: set[Any], *, multi: bool = False
    ) -> sn.Table:
        return sn.Table(
            counts, sn.breakdown(counts, total=total, multi=multi, hidden=hidden), multi
        )

    hidden_criteria = {text for p in published for text, f in p.criteria if f.hidden}
    deviations_total = sum(data.deviations.values())
    # A part of a whole (SIP started of the cases raised, done on time of the actions done,
    # surveys answered of those sent) is a breakdown of one cell: what is left (no SIP,
    # done late, not answered) must not be 1–4 either.
    sip = cells(
        {"sip": data.sip_started},
        data.cases_total,
        {"sip"} if was(lambda p: p.sip_started) else set(),
    )
    # On time, after a new due date and (the rest) late: an exclusive breakdown of the
    # actions done, none to be worked out from the others and the total.
    on_time = cells(
        {"on_time": data.actions_on_time, "after_new_date": data.actions_after_new_date},
        data.actions_done,
        {
            k
            for k, hid in (
                ("on_time", was(lambda p: p.actions_on_time)),
                ("after_new_date", was(lambda p: p.actions_after_new_date)),
            )
            if hid
        },
    )
    answered = cells(
        {"answered": fb.surveys_answered},
        fb.surveys_sent,
        {"answered"} if was(lambda p: p.surveys_answered) else set(),
    )
    # Concerns, criteria met and attendance are multi-select: breakdowns of their totals all
    # the same whenever each case has one (sn's docstring).
    concerns = cells(data.by_concern, data.cases_total, were(lambda p: p.by_concern), multi=True)
    agencies = cells(data.by_agency, data.cases_total, were(lambda p: p.by_agency))
    ages = cells(data.by_age, data.cases_total, were(lambda p: p.by_age))
    criteria = cells(
        {i: row.met for i, row in enumerate(data.criteria.rows)},
        data.criteria.cases,
        {i for i, row in enumerate(data.criteria.rows) if row.text in hidden_criteria},
        multi=True,
    )
    outcomes = cells(data.outcomes, data.cases_closed, were(lambda p: p.outcomes))
    effects = cells(data.effects, data.actions_done, were(lambda p: p.effects))
    deviations = cells(data.deviations, deviations_total, were(lambda p: p.deviations))
    # Followed up and open: an exclusive breakdown of the deviations reported (neither may
    # be worked out from the other and the total).
    follow_up = cells(
        {
            "followed_up": data.deviations_followed_up,
            "open": deviations_total - data.deviations_followed_up,
        },
        deviations_total,
        {
            k
            for k, hid in (
                ("followed_up", was(lambda p: p.deviations_followed_up)),
                ("open", was(lambda p: p.deviations_open)),
            )
            if hid
        },
    )
    family = {
        k: cells(
            v,
            fb.family_views,
            {a for p in published for a, f in p.family.get(k, {}).items() if f.hidden},
        )
        for k, v in fb.family.items()
    }
    attendance = cells(
        data.attendance, data.meetings_held, were(lambda p: p.attendance), multi=True
    )
    # Each total one Figure wherever it is printed (the criteria table is headed by the
    # cases raised too), hidden when its breakdowns would give it away or a part hid it.
    cases_total = sn.total(
        data.cases_total,
        concerns,
        agencies,
        ages,
        sip,
        criteria,
        hidden=was(lambda p: p.cases_total),
    )
    actions_done = sn.total(
        data.actions_done, effects, on_time, hidden=was(lambda p: p.actions_done)
    )
    surveys_answered = answered.figures["answered"]
    return ReviewFigures(
        forum_name=data.forum_name,
        forum_code=data.forum_code,
        period=data.period,
        cases_total=cases_total,
        by_concern=concerns.figures,
        by_agency=agencies.figures,
        by_age=ages.figures,
        sip_started=sip.figures["sip"],
        sip_share=sn.share(data.sip_started, data.cases_total, sip.figures["sip"], cases_total),
        cases_closed=sn.total(data.cases_closed, outcomes, hidden=was(lambda p: p.cases_closed)),
        outcomes=outcomes.figures,
        actions_started=sn.count(data.actions_started),
        actions_done=actions_done,
        actions_on_time=on_time.figures["on_time"],
        on_time_share=sn.share(
            data.actions_on_time, data.actions_done, on_time.figures["on_time"], actions_done
        ),
        actions_after_new_date=on_time.figures["after_new_date"],
        actions_overdue=sn.count(data.actions_overdue),
        effects=effects.figures,
        deviations_total=sn.total(
            deviations_total, deviations, follow_up, hidden=was(lambda p: p.deviations_total)
        ),
        deviations=deviations.figures,
        deviations_followed_up=follow_up.figures["followed_up"],
        deviations_open=follow_up.figures["open"],
        surveys_sent=sn.total(fb.surveys_sent, answered, hidden=was(lambda p: p.surveys_sent)),
        surveys_answered=surveys_answered,
        feedback_means={
            k: sn.mean(fb.sums[k], fb.surveys_answered, surveys_answered)
            for k in feedback.QUESTIONS
        },
        family_views=sn.total(
            fb.family_views, *family.values(), hidden=was(lambda p: p.family_views)
        ),
        family={k: table.figures for k, table in family.items()},
        criteria_cases=cases_total,
        criteria=tuple((row.text, criteria.figures[i]) for i, row in enumerate(data.criteria.rows)),
        meetings_held=sn.total(
            data.meetings_held, attendance, hidden=was(lambda p: p.meetings_held)
        ),
        attendance=attendance.figures,
        trends=data.trends,
        # A count of its own, under the same rule (1–4 hidden); hidden where a half-year
        # review of the period hid it, as the totals are.
        cases_discussed=sn.total(data.cases_discussed, hidden=was(lambda p: p.cases_discussed)),
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
