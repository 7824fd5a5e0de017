"""The half-year review (OSF's "längre avstämningar två gånger per år") for one forum and
period: the situation picture's trend per area, actions started / done / on time / effect,
cases by concern, raising agency and age band, SIP share and outcome, deviations, feedback,
case criteria met and attendance per agency.

:func:`collect` reads the exact figures in a fixed number of queries; :func:`masked` turns
them into what may leave the forum (``domain.small_numbers``: 1–4 become "färre än 5");
:func:`document` and :func:`workbook` render only the masked figures, as PDF/docx and xlsx.

Sent by itself (:func:`send_due`) after the forum's review periods end (by default after
30 June and 31 December) to the coordinators, with a short summary in the channel: one
claim row per forum and period (``scheduling.claim``), files and messages through the
outbox, so it happens once whatever the number of replicas.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import actions as action_service
from domain import audit, criteria, feedback, scheduling
from domain import small_numbers as sn
from domain.calendar import calendar_from_settings, first_working_day
from domain.cases import AGE_BANDS, CONCERNS, DEVIATION_KINDS
from domain.clock import Clock
from domain.documents import Document, Heading, Paragraph, Picture, Table
from domain.errors import InvalidInput
from domain.forums import forum_zone
from domain.i18n import N_, Translator, normalize_locale
from domain.periods import bounds, last_ended_half
from domain.ratings import LEVELS, level_label, median_of
from domain.statistics import Period
from storage.models import (
    Action,
    ActionStatus,
    Agency,
    Area,
    AuditAction,
    Case,
    CaseStatus,
    Deviation,
    EffectStatus,
    Forum,
    Meeting,
    MeetingStatus,
    Member,
    Rating,
    RatingRound,
    RatingRoundStatus,
    ScheduledEffect,
    SipStatus,
)

KIND = "half_year_review"
SEND_AT = dt.time(8, 0)
CATCH_UP = dt.timedelta(days=30)
EFFECTS = ("yes", "partly", "no")


# --- settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewSettings:
    auto: bool = True
    end_month: int = 6  # the periods end on the last day of this month and six months later


def review_settings(forum: Forum) -> ReviewSettings:
    raw = (forum.settings or {}).get("review") or {}
    month = raw.get("end_month", 6)
    return ReviewSettings(
        auto=bool(raw.get("auto", True)),
        end_month=month if isinstance(month, int) and 1 <= month <= 6 else 6,
    )


def save_settings(forum: Forum, settings: ReviewSettings) -> None:
    if not 1 <= settings.end_month <= 6:
        raise InvalidInput(N_("Choose when the review periods end."), field="review_end")
    forum.settings = {
        **(forum.settings or {}),
        "review": {"auto": settings.auto, "end_month": settings.end_month},
    }


# --- the exact figures ----------------------------------------------------------------------


@dataclass(frozen=True)
class AreaTrend:
    name: str
    points: tuple[tuple[dt.date, float | None], ...]  # (meeting day, median level)


@dataclass(frozen=True)
class ReviewData:
    forum_id: int
    forum_name: str
    forum_code: str
    period: Period
    cases_total: int
    by_concern: dict[str, int]
    by_agency: dict[str, int]
    by_age: dict[str, int]
    sip_started: int
    sip_needed: int
    cases_closed: int
    outcomes: dict[str, int]
    actions_started: int
    actions_done: int
    actions_on_time: int
    actions_overdue: int
    effects: dict[str, int]
    deviations: dict[str, int]
    feedback: feedback.FeedbackResults
    criteria: criteria.CriteriaStats
    meetings_held: int
    attendance: dict[str, int]
    trends: tuple[AreaTrend, ...] = field(default=())


def collect(session: Session, *, forum: Forum, period: Period) -> ReviewData:
    zone = forum_zone(forum)
    start, end = bounds(zone, period)
    agencies = {
        a.id: a.name
        for a in session.scalars(
            select(Agency).where(Agency.forum_id == forum.id).order_by(Agency.position)
        )
    }
    cases = session.execute(
        select(Case.raising_agency_id, Case.concerns, Case.age_band, Case.sip).where(
            Case.forum_id == forum.id, Case.created_at >= start, Case.created_at < end
        )
    ).all()
    by_concern: Counter[str] = Counter()
    by_agency: Counter[str] = Counter()
    by_age: Counter[str] = Counter()
    sip_started = sip_needed = 0
    for agency_id, concerns, age_band, sip in cases:
        by_concern.update(concerns or [])
        by_agency[agencies.get(agency_id, "?")] += 1
        by_age[age_band or "?"] += 1
        sip_started += int(sip is SipStatus.STARTED)
        sip_needed += int(sip is SipStatus.NEEDED)
    closed = session.execute(
        select(Case.effect).where(
            Case.forum_id == forum.id,
            Case.status == CaseStatus.CLOSED,
            Case.closed_at >= start,
            Case.closed_at < end,
        )
    ).all()
    outcomes = Counter(effect.value for (effect,) in closed if effect is not None)
    started = int(
        session.scalar(
            select(func.count()).where(
                Action.forum_id == forum.id, Action.created_at >= start, Action.created_at < end
            )
        )
        or 0
    )
    done = session.execute(
        select(Action.completed_at, Action.due_on, Action.effect).where(
            Action.forum_id == forum.id,
            Action.status == ActionStatus.DONE,
            Action.completed_at >= start,
            Action.completed_at < end,
        )
    ).all()
    on_time = sum(
        1 for completed, due, _ in done if completed and completed.astimezone(zone).date() <= due
    )
    effects = Counter(effect.value for _, _, effect in done if effect is not None)
    overdue = int(
        session.scalar(
            select(func.count()).where(
                Action.forum_id == forum.id,
                Action.status == ActionStatus.OPEN,
                Action.due_on < period.end,
            )
        )
        or 0
    )
    deviations = Counter(
        session.scalars(
            select(Deviation.kind).where(
                Deviation.forum_id == forum.id,
                Deviation.created_at >= start,
                Deviation.created_at < end,
            )
        ).all()
    )
    held = session.scalars(
        select(Meeting.attendance).where(
            Meeting.forum_id == forum.id,
            Meeting.status == MeetingStatus.HELD,
            Meeting.starts_at >= start,
            Meeting.starts_at < end,
        )
    ).all()
    attendance: Counter[str] = Counter()
    for attended in held:
        for agency_id in attended or []:
            if agency_id in agencies:
                attendance[agencies[agency_id]] += 1
    return ReviewData(
        forum_id=forum.id,
        forum_name=forum.name,
        forum_code=forum.code,
        period=period,
        cases_total=len(cases),
        by_concern=dict(by_concern.most_common()),
        by_agency=dict(by_agency.most_common()),
        by_age={band: by_age[band] for band in AGE_BANDS if by_age.get(band)},
        sip_started=sip_started,
        sip_needed=sip_needed,
        cases_closed=len(closed),
        outcomes={k: outcomes.get(k, 0) for k in EFFECTS},
        actions_started=started,
        actions_done=len(done),
        actions_on_time=on_time,
        actions_overdue=overdue,
        effects={k: effects.get(k, 0) for k in EFFECTS},
        deviations=dict(deviations.most_common()),
        feedback=feedback.results(session, forum_ids=[forum.id], start=start, end=end),
        criteria=criteria.statistics(session, forum_id=forum.id, start=start, end=end),
        meetings_held=len(held),
        attendance={name: attendance.get(name, 0) for name in agencies.values()},
        trends=area_trends(session, forum=forum, start=start, end=end),
    )


def area_trends(
    session: Session, *, forum: Forum, start: dt.datetime, end: dt.datetime
) -> tuple[AreaTrend, ...]:
    """The median level per area for every closed round whose meeting fell in the period."""
    zone = forum_zone(forum)
    rounds = session.execute(
        select(RatingRound.id, Meeting.starts_at)
        .join(Meeting, Meeting.id == RatingRound.meeting_id)
        .where(
            RatingRound.forum_id == forum.id,
            RatingRound.status == RatingRoundStatus.CLOSED,
            Meeting.starts_at >= start,
            Meeting.starts_at < end,
        )
        .order_by(Meeting.starts_at)
    ).all()
    if not rounds:
        return ()
    day = {rid: starts.astimezone(zone).date() for rid, starts in rounds}
    counts: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for round_id, area_id, level, n in session.execute(
        select(Rating.round_id, Rating.area_id, Rating.level, func.count())
        .where(Rating.round_id.in_(list(day)), Rating.is_current.is_(True))
        .group_by(Rating.round_id, Rating.area_id, Rating.level)
    ):
        counts[(round_id, area_id)][level] = n
    areas = session.scalars(
        select(Area).where(Area.forum_id == forum.id).order_by(Area.position, Area.id)
    ).all()
    trends = []
    for area in areas:
        points = tuple((day[r], median_of(counts.get((r, area.id), {}))) for r, _ in rounds)
        if any(value is not None for _, value in points):
            trends.append(AreaTrend(area.name, points))
    return tuple(trends)


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
        effects=sn.breakdown(data.effects),
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


# --- documents ------------------------------------------------------------------------------


def _effect_label(t: Translator, key: str) -> str:
    return {"yes": t("Yes"), "partly": t("Partly"), "no": t("No")}.get(key, key)


def _rows(
    t: Translator, figures: Mapping[str, sn.Figure], label: Callable[[str], str]
) -> tuple[tuple[str, ...], ...]:
    return tuple((label(key), f.text(t)) for key, f in figures.items())


def level_names(t: Translator) -> list[str]:
    return [level_label(t, n) for n in sorted(LEVELS)]


def document(t: Translator, fig: ReviewFigures, *, title: str | None = None) -> Document:
    period = f"{t.day(fig.period.start)} – {t.day(fig.period.end)}"
    doc = Document(
        title=title or t("Half-year review: {forum}", forum=fig.forum_name),
        subtitle=t(
            "{period} · counts under 5 are shown as \u201cfewer than 5\u201d", period=period
        ),
        page_label=t("Page {page} of {pages}"),
    )
    add_sections(t, doc, fig)
    return doc


def add_sections(t: Translator, doc: Document, fig: ReviewFigures, *, level: int = 1) -> None:
    from domain.report_charts import bars_png, trend_png

    hidden = t(sn.FEWER_THAN)
    two = (t("What"), t("Number"))
    doc.add(Heading(t("Situation picture: trend per area"), level))
    if fig.trends:
        series = [(a.name, [(d.strftime("%d/%m"), v) for d, v in a.points]) for a in fig.trends]
        doc.add(
            Picture(
                trend_png(
                    t("Median level per area and meeting"), series, level_names=level_names(t)
                )
            )
        )
        doc.add(
            Table(
                (t("Area"), t("First"), t("Last"), t("Trend")),
                tuple(_trend_row(t, a) for a in fig.trends),
                (3, 1, 1, 1),
            )
        )
    else:
        doc.add(Paragraph(t("No situation picture was rated in the period."), italic=True))
    doc.add(Heading(t("Actions"), level))
    doc.add(
        Table(
            two,
            (
                (t("Started"), fig.actions_started.text(t)),
                (t("Done"), fig.actions_done.text(t)),
                (t("Done on time"), _with_share(t, fig.actions_on_time, fig.on_time_share)),
                (t("Open and overdue at the end of the period"), fig.actions_overdue.text(t)),
                *(
                    (t("Effect: {effect}", effect=_effect_label(t, k)), f.text(t))
                    for k, f in fig.effects.items()
                ),
            ),
            (3, 1),
        )
    )
    doc.add(Heading(t("Cases"), level))
    doc.add(
        Table(
            two,
            (
                (t("Cases raised"), fig.cases_total.text(t)),
                (t("SIP started"), _with_share(t, fig.sip_started, fig.sip_share)),
                (t("Cases closed"), fig.cases_closed.text(t)),
                *(
                    (t("Outcome: {effect}", effect=_effect_label(t, k)), f.text(t))
                    for k, f in fig.outcomes.items()
                ),
            ),
            (3, 1),
        )
    )
    if fig.by_concern:
        doc.add(
            Picture(
                bars_png(
                    t("Cases by concern"),
                    [(t(CONCERNS.get(k, k)), f) for k, f in fig.by_concern.items()],
                    hidden_label=hidden,
                ),
                width_cm=14,
            )
        )
    for heading, rows in (
        (t("By raising agency"), _rows(t, fig.by_agency, lambda k: k)),
        (
            t("By age band"),
            _rows(t, fig.by_age, lambda k: t("{band} years", band=k.replace("-", "–"))),
        ),
    ):
        doc.add(Heading(heading, level + 1))
        doc.add(Table(two, rows or ((t("None"), "0"),), (3, 1)))
    doc.add(Heading(t("Deviations"), level))
    doc.add(
        Table(
            two,
            (
                (t("Deviations reported"), fig.deviations_total.text(t)),
                *_rows(t, fig.deviations, lambda k: t(DEVIATION_KINDS.get(k, k))),
            ),
            (3, 1),
        )
    )
    doc.add(Heading(t("Feedback after cases"), level))
    feedback_rows: list[tuple[str, ...]] = [
        (t("Surveys sent"), fig.surveys_sent.text(t)),
        (t("Surveys answered"), fig.surveys_answered.text(t)),
        *(
            (t(label), sn.mean_text(t, fig.feedback_means[key]))
            for key, label in feedback.QUESTIONS.items()
        ),
        (t("The family's view recorded"), fig.family_views.text(t)),
    ]
    for key, label in feedback.FAMILY_QUESTIONS.items():
        for answer, f in fig.family.get(key, {}).items():
            question = t(label)
            feedback_rows.append((f"{question} {_effect_label(t, answer)}", f.text(t)))
    doc.add(Table(two, tuple(feedback_rows), (3, 1)))
    doc.add(Paragraph(t("Averages on the scale 1–5, shown when at least 5 answered."), italic=True))
    if fig.criteria:
        doc.add(Heading(t("Case criteria met"), level))
        doc.add(
            Table(
                (t("Criterion"), t("Cases")),
                (
                    (t("Cases raised"), fig.criteria_cases.text(t)),
                    *tuple((text, f.text(t)) for text, f in fig.criteria),
                ),
                (3, 1),
            )
        )
    doc.add(Heading(t("Attendance per agency"), level))
    doc.add(
        Table(
            (t("Agency"), t("Meetings attended")),
            (
                (t("Meetings held"), fig.meetings_held.text(t)),
                *_rows(t, fig.attendance, lambda k: k),
            ),
            (3, 1),
        )
    )


def _with_share(t: Translator, figure: sn.Figure, pct: float | None) -> str:
    return figure.text(t) if pct is None else f"{figure.text(t)} ({pct:.0f} %)"


def _trend_row(t: Translator, area: AreaTrend) -> tuple[str, ...]:
    values = [v for _, v in area.points if v is not None]
    first, last = (values[0], values[-1]) if values else (None, None)
    trend = "–"
    if first is not None and last is not None:
        trend = t("↑ worse") if last > first else t("↓ better") if last < first else t("→ same")
    return (area.name, _level(first), _level(last), trend)


def _level(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def workbook(t: Translator, fig: ReviewFigures) -> bytes:
    """The same figures as an xlsx workbook (one sheet per part)."""
    from domain.export import xlsx_bytes

    def cells(figures: Mapping[str, sn.Figure], label: Callable[[str], str]) -> list[list[Any]]:
        return [[label(k), f.cell(t)] for k, f in figures.items()]

    what, number = t("What"), t("Number")
    summary: list[list[Any]] = [
        [t("Forum"), fig.forum_name],
        [t("From"), fig.period.start.isoformat()],
        [t("To"), fig.period.end.isoformat()],
        [t("Cases raised"), fig.cases_total.cell(t)],
        [t("SIP started"), fig.sip_started.cell(t)],
        [t("Cases closed"), fig.cases_closed.cell(t)],
        [t("Actions started"), fig.actions_started.cell(t)],
        [t("Actions done"), fig.actions_done.cell(t)],
        [t("Done on time"), fig.actions_on_time.cell(t)],
        [t("Open and overdue at the end of the period"), fig.actions_overdue.cell(t)],
        [t("Deviations reported"), fig.deviations_total.cell(t)],
        [t("Surveys answered"), fig.surveys_answered.cell(t)],
        [t("Meetings held"), fig.meetings_held.cell(t)],
    ]
    effect = lambda k: _effect_label(t, k)  # noqa: E731
    trend_rows = [
        [a.name, d.isoformat(), v if v is not None else ""] for a in fig.trends for d, v in a.points
    ]
    return xlsx_bytes(
        [
            (t("Summary"), [what, number], summary),
            (
                t("Concerns"),
                [t("Concern"), number],
                cells(fig.by_concern, lambda k: t(CONCERNS.get(k, k))),
            ),
            (t("Raising agency"), [t("Agency"), number], cells(fig.by_agency, lambda k: k)),
            (t("Age band"), [t("Age band"), number], cells(fig.by_age, lambda k: k)),
            (t("Outcome"), [t("Effect"), number], cells(fig.outcomes, effect)),
            (t("Action effect"), [t("Effect"), number], cells(fig.effects, effect)),
            (
                t("Deviations"),
                [t("Kind"), number],
                cells(fig.deviations, lambda k: t(DEVIATION_KINDS.get(k, k))),
            ),
            (
                t("Feedback"),
                [t("Question"), t("Average 1–5")],
                [
                    [t(label), fig.feedback_means[k] if fig.feedback_means[k] is not None else "–"]
                    for k, label in feedback.QUESTIONS.items()
                ],
            ),
            (
                t("Criteria"),
                [t("Criterion"), number],
                [[text, f.cell(t)] for text, f in fig.criteria],
            ),
            (
                t("Attendance"),
                [t("Agency"), t("Meetings attended")],
                cells(fig.attendance, lambda k: k),
            ),
            (t("Trend"), [t("Area"), t("Meeting"), t("Median level")], trend_rows),
        ]
    )


def files(t: Translator, fig: ReviewFigures) -> list[tuple[str, bytes]]:
    """(filename, data) of the PDF and the xlsx."""
    from domain.documents import to_pdf

    start, end = fig.period.start.isoformat(), fig.period.end.isoformat()
    stem = f"halvarsuppfoljning-{fig.forum_code}-{start}-{end}"

    return [(f"{stem}.pdf", to_pdf(document(t, fig))), (f"{stem}.xlsx", workbook(t, fig))]


# --- sent by itself -------------------------------------------------------------------------


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
    sessions: Callable[[], Session],
    clock: Clock,
    messages: ReviewMessages,
    *,
    replica: str,
) -> int:
    """Claim each due review (its own transaction), build it outside the claim, then queue
    the files for the coordinators and the channel summary and mark it done. Returns how
    many were sent."""
    with sessions() as session, session.begin():
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
            for user in action_service.coordinators(session, forum.id):
                for filename, data in documents:
                    scheduling.enqueue(
                        session,
                        clock,
                        team_id=forum.team_id,
                        method=scheduling.UPLOAD_METHOD,
                        payload=scheduling.upload_payload(
                            channel=user, filename=filename, title=filename, data=data
                        ),
                        dedupe_key=f"{key}:{user}:{filename.rsplit('.', 1)[-1]}",
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
