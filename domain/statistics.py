"""Statistics for the steering levels (board, 2+2, steering group) and the action plan
(åtgärdsplan) export: counts and shares only, never case details or names of children.

A period is a range of the forum's local calendar days, both ends included.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.orm import Session, joinedload

from domain import audit, disclosure
from domain import small_numbers as sn
from domain.access import Access
from domain.clock import Clock
from domain.errors import InvalidInput
from domain.forums import forum_schedule
from domain.i18n import N_
from domain.ids import year_value
from storage.models import (
    Action,
    ActionEvent,
    ActionStatus,
    Agency,
    AgendaItem,
    AuditAction,
    Case,
    Deviation,
    Effect,
    Forum,
    Meeting,
    MeetingStatus,
    SipStatus,
)

MAX_PERIOD_DAYS = 3 * 366

# What "on time" means wherever actions done are counted (statistics, reviews, reports).
ON_TIME_MEANS = N_(
    "On time: done by the due date agreed when the action was decided. After a new due "
    "date: done later than that, but by a new due date it got when more time was needed."
)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Statistics:
    forum_name: str
    start: dt.date
    end: dt.date
    cases_total: int
    cases_by_month: dict[str, int]  # "2026-03" → count, in order
    cases_by_agency: dict[str, int]
    cases_by_month_agency: dict[tuple[str, str], int]
    concerns: dict[str, int]  # concern key → count, most frequent first
    sip_started: int
    sip_needed: int
    actions_done: int
    actions_on_time: int  # by the due date first agreed (DoneActions)
    actions_open: int
    actions_overdue: int
    effects: dict[str, int]  # yes / partly / no / none (done, not followed up)
    deviations: dict[str, int]  # kind → count
    deviations_total: int
    deviations_followed_up: int = 0  # of deviations_total; the rest wait for a follow-up
    # Cases discussed at the forum's meetings in the period, each counted once, whenever it
    # was raised: the children and families the forum met (seed 000: "FOSSAM har träffat 17
    # barn/familjer"). cases_total counts the cases raised in the period.
    cases_discussed: int = 0
    # Done late for the first agreed due date, but by a new one it got when postponed.
    actions_after_new_date: int = 0


@dataclass(frozen=True)
class PlanRow:
    """One line of the åtgärdsplan."""

    id: int
    description: str | None  # None: linked to a case whose details the reader may not see
    agency: str
    owner: str | None
    due_on: dt.date
    status: ActionStatus
    effect: str | None
    follow_up_comment: str | None
    case_reference: str | None
    area: str | None
    hoped_effect: str | None
    completed_on: dt.date | None


def parse_period(words: Sequence[str], today: dt.date) -> Period:
    """``[]`` → this calendar year; ``["2026"]`` → that year; ``["2026-01-01", "2026-06-30"]``
    → those days. Anything else is an :class:`InvalidInput` with an example."""
    bad = InvalidInput(
        N_("Give the period as a year (2026) or two dates (2026-01-01 2026-06-30)."),
        field="period",
    )
    if not words:
        return Period(dt.date(today.year, 1, 1), dt.date(today.year, 12, 31))
    year = year_value(words[0]) if len(words) == 1 else None
    if year is not None:
        if not 2000 <= year <= 2100:
            raise bad
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31))
    if len(words) == 2:
        try:
            start, end = dt.date.fromisoformat(words[0]), dt.date.fromisoformat(words[1])
        except ValueError:
            raise bad from None
        if end < start:
            raise InvalidInput(N_("The period ends before it starts."), field="period")
        if (end - start).days > MAX_PERIOD_DAYS:
            raise InvalidInput(N_("Choose a period of at most three years."), field="period")
        return Period(start, end)
    raise bad


def last_twelve_months(today: dt.date) -> Period:
    """From the same day a year ago to today (the åtgärdsplan's default)."""
    try:
        start = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        start = today.replace(year=today.year - 1, day=28)
    return Period(start, today)


def _bounds(forum: Forum, period: Period) -> tuple[dt.datetime, dt.datetime]:
    zone = forum_schedule(forum).zone
    start = dt.datetime.combine(period.start, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(
        period.end + dt.timedelta(days=1), dt.time(0), tzinfo=zone
    ).astimezone(dt.UTC)
    return start, end


def first_due_dates(session: Session, action_ids: Sequence[int]) -> dict[int, dt.date]:
    """The due date first agreed for each of ``action_ids`` that was postponed: the date the
    first postponement moved it from (its history). An action never postponed has kept its
    first date (``Action.due_on``) and is not in the result."""
    first: dict[int, dt.date] = {}
    for chunk in range(0, len(action_ids), 500):
        for action_id, detail in session.execute(
            select(ActionEvent.action_id, ActionEvent.detail)
            .where(
                ActionEvent.action_id.in_(action_ids[chunk : chunk + 500]),
                ActionEvent.kind == "postponed",
            )
            .order_by(ActionEvent.action_id, ActionEvent.at, ActionEvent.id)
        ):
            if action_id in first:
                continue
            try:
                first[action_id] = dt.date.fromisoformat(str((detail or {})["from"]))
            except (KeyError, ValueError):
                continue
    return first


@dataclass(frozen=True)
class DoneActions:
    """The forum's actions completed in a period, judged against the due date agreed when
    each was decided (the usual follow-up question: done by the date agreed at the meeting?)."""

    effects: list[Effect | None]  # one per action done
    on_time: int  # done on or before the first agreed due date
    after_new_date: int  # done late for that date, but by a later due date it was given

    @property
    def done(self) -> int:
        return len(self.effects)


def done_actions(
    session: Session, forum_id: int, start: dt.datetime, end: dt.datetime, zone: dt.tzinfo
) -> DoneActions:
    """The forum's actions completed in [start, end) (the forum's local day): how many on or
    before their first agreed due date, and how many only by a new due date they got when
    postponed (neither: done after every due date)."""
    done = session.execute(
        select(Action.id, Action.completed_at, Action.due_on, Action.effect).where(
            Action.forum_id == forum_id,
            Action.status == ActionStatus.DONE,
            Action.completed_at >= start,
            Action.completed_at < end,
        )
    ).all()
    first = first_due_dates(session, [action_id for action_id, *_ in done])
    on_time = after_new_date = 0
    for action_id, completed, due, _ in done:
        if completed is None:
            continue
        day = completed.astimezone(zone).date()
        if day <= first.get(action_id, due):
            on_time += 1
        elif day <= due:
            after_new_date += 1
    return DoneActions(
        effects=[effect for *_, effect in done], on_time=on_time, after_new_date=after_new_date
    )


def cases_discussed(session: Session, forum_id: int, start: dt.datetime, end: dt.datetime) -> int:
    """The cases discussed at the forum's meetings that started in [start, end), each counted
    once however often it was discussed and whenever it was raised; cancelled meetings and
    items taken off the agenda are not counted."""
    found = session.scalar(
        select(func.count(distinct(AgendaItem.case_id)))
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(
            Meeting.forum_id == forum_id,
            Meeting.status != MeetingStatus.CANCELLED,
            Meeting.starts_at >= start,
            Meeting.starts_at < end,
            AgendaItem.case_id.is_not(None),
            AgendaItem.discussed.is_(True),
            AgendaItem.removed.is_(False),
        )
    )
    return int(found or 0)


def forum_statistics(
    session: Session, clock: Clock, *, access: Access, period: Period
) -> Statistics:
    """Counts for the period: cases by month and raising agency, concerns, SIP share, actions
    done on time, the effect distribution and deviations. Audited as an export."""
    forum = access.forum
    zone = forum_schedule(forum).zone
    start, end = _bounds(forum, period)
    agencies = {
        a.id: a.name for a in session.scalars(select(Agency).where(Agency.forum_id == forum.id))
    }
    cases = session.execute(
        select(Case.created_at, Case.raising_agency_id, Case.concerns, Case.sip).where(
            Case.forum_id == forum.id, Case.created_at >= start, Case.created_at < end
        )
    ).all()
    by_month: Counter[str] = Counter()
    by_agency: Counter[str] = Counter()
    by_month_agency: Counter[tuple[str, str]] = Counter()
    concerns: Counter[str] = Counter()
    sip_started = sip_needed = 0
    for created_at, agency_id, case_concerns, sip in cases:
        month = created_at.astimezone(zone).strftime("%Y-%m")
        agency = agencies.get(agency_id, "?")
        by_month[month] += 1
        by_agency[agency] += 1
        by_month_agency[(month, agency)] += 1
        concerns.update(case_concerns or [])
        sip_started += int(sip is SipStatus.STARTED)
        sip_needed += int(sip is SipStatus.NEEDED)
    finished = done_actions(session, forum.id, start, end, zone)
    effects: Counter[str] = Counter(
        effect.value if effect is not None else "none" for effect in finished.effects
    )
    today = clock.now().astimezone(zone).date()
    open_due = session.scalars(
        select(Action.due_on).where(
            Action.forum_id == forum.id,
            Action.status == ActionStatus.OPEN,
            Action.due_on <= period.end,
        )
    ).all()
    reported = session.execute(
        select(Deviation.kind, Deviation.followed_up_at).where(
            Deviation.forum_id == forum.id,
            Deviation.created_at >= start,
            Deviation.created_at < end,
        )
    ).all()
    deviations = Counter(kind for kind, _ in reported)
    discussed = cases_discussed(session, forum.id, start, end)
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.EXPORT,
        object_type="statistics",
        object_ref=forum.code,
        detail={"from": period.start.isoformat(), "to": period.end.isoformat()},
    )
    return Statistics(
        forum_name=forum.name,
        start=period.start,
        end=period.end,
        cases_total=len(cases),
        cases_by_month=dict(sorted(by_month.items())),
        cases_by_agency=dict(by_agency.most_common()),
        cases_by_month_agency=dict(by_month_agency),
        concerns=dict(concerns.most_common()),
        sip_started=sip_started,
        sip_needed=sip_needed,
        actions_done=finished.done,
        actions_on_time=finished.on_time,
        actions_after_new_date=finished.after_new_date,
        actions_open=len(open_due),
        actions_overdue=sum(1 for due in open_due if due < today),
        effects={k: effects.get(k, 0) for k in ("yes", "partly", "no", "none")},
        deviations=dict(deviations.most_common()),
        deviations_total=sum(deviations.values()),
        deviations_followed_up=sum(1 for _, at in reported if at is not None),
        cases_discussed=discussed,
    )


def action_plan(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    period: Period,
    include_open: bool = False,
) -> list[PlanRow]:
    """The åtgärdsplan: the forum's actions due in the period (not cancelled), by due date;
    with ``include_open`` also every open action whatever its due date, and those done in
    the period. Audited as an export."""
    forum = access.forum
    zone = forum_schedule(forum).zone
    in_period = and_(Action.due_on >= period.start, Action.due_on <= period.end)
    if include_open:
        start, end = _bounds(forum, period)
        in_period = or_(
            in_period,
            Action.status == ActionStatus.OPEN,
            and_(Action.completed_at >= start, Action.completed_at < end),
        )
    found = (
        session.scalars(
            select(Action)
            .options(
                joinedload(Action.owning_agency), joinedload(Action.case), joinedload(Action.area)
            )
            .where(
                Action.forum_id == forum.id,
                Action.status != ActionStatus.CANCELLED,
                in_period,
            )
            .order_by(Action.due_on, Action.id)
        )
        .unique()
        .all()
    )
    disclosure.load_cases(session, (a.case_id for a in found if a.case_id is not None))
    decisions = disclosure.disclose_actions(
        session, clock, access, found, surface_name="action_plan"
    )
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.EXPORT,
        object_type="action_plan",
        object_ref=forum.code,
        detail={
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "rows": len(found),
            "open_too": include_open,
            **disclosure.export_detail(decisions.values()),
        },
    )
    rows = []
    for a in found:
        shown = decisions[a.id].allowed
        rows.append(
            PlanRow(
                id=a.id,
                description=a.description if shown else None,
                agency=a.owning_agency.name,
                owner=a.owner,
                due_on=a.due_on,
                status=a.status,
                effect=a.effect.value if a.effect else None,
                follow_up_comment=a.follow_up_comment if shown else None,
                case_reference=a.case.reference if a.case else None,
                area=a.area.name if a.area else None,
                hoped_effect=a.hoped_effect if shown else None,
                completed_on=a.completed_at.astimezone(zone).date() if a.completed_at else None,
            )
        )
    return rows


@dataclass(frozen=True)
class StatisticsFigures:
    """`/samverkan statistik` after the small-number rule (domain.small_numbers), as the
    review and the report print theirs: any member of the forum may run it, for any period,
    while a case's details (its concerns, SIP, outcome) are only for the agencies that may
    see that case (domain.disclosure); the case list shows every member each case's
    raising agency, so a short period's exact counts would tell the details of a case."""

    forum_name: str
    start: dt.date
    end: dt.date
    cases_total: sn.Figure
    cases_discussed: sn.Figure
    cases_by_month: dict[str, sn.Figure]
    cases_by_agency: dict[str, sn.Figure]
    cases_by_month_agency: dict[tuple[str, str], sn.Figure]  # empty: drawn by month only
    concerns: dict[str, sn.Figure]
    sip_started: sn.Figure
    sip_needed: sn.Figure
    sip_share: float | None
    actions_done: sn.Figure
    actions_on_time: sn.Figure
    on_time_share: float | None
    actions_after_new_date: sn.Figure
    actions_late: sn.Figure  # done after every due date (the rest of those done)
    actions_open: sn.Figure
    actions_overdue: sn.Figure
    effects: dict[str, sn.Figure]
    deviations: dict[str, sn.Figure]
    deviations_total: sn.Figure
    deviations_followed_up: sn.Figure
    deviations_open: sn.Figure


def _cells(counts: Mapping[Any, int], total: int, *, multi: bool = False) -> sn.Table:
    return sn.Table(counts, sn.breakdown(counts, total=total, multi=multi), multi)


def _grid(cells: Mapping[tuple[str, str], int]) -> dict[tuple[str, str], sn.Figure]:
    """The month × agency cells of the chart, beside both the months' and the agencies'
    totals (printed in the message): all of them when none is 1–4, else none (the chart
    then draws the months alone). Hiding some cells of a table with totals both ways is
    not safe (one column's shown cells give a hidden one back, and then its row's)."""
    if any(sn.hides(n) for n in cells.values()):
        return {}
    return {c: sn.count(n) for c, n in cells.items()}


def masked_statistics(stats: Statistics) -> StatisticsFigures:
    """The statistics after the small-number rule, each breakdown masked against the total
    printed beside it (as domain.review.masking does)."""
    total = stats.cases_total
    months = _cells(stats.cases_by_month, total)
    agencies = _cells(stats.cases_by_agency, total)
    concerns = _cells(stats.concerns, total, multi=True)
    sip = _cells({"started": stats.sip_started, "needed": stats.sip_needed}, total)
    cases_total = sn.total(total, months, agencies, concerns, sip)
    done = stats.actions_done
    late = done - stats.actions_on_time - stats.actions_after_new_date
    timing = _cells(
        {
            "on_time": stats.actions_on_time,
            "after_new_date": stats.actions_after_new_date,
            "late": late,
        },
        done,
    )
    effects = _cells(stats.effects, done)
    actions_done = sn.total(done, timing, effects)
    overdue = _cells({"overdue": stats.actions_overdue}, stats.actions_open)
    kinds = _cells(stats.deviations, stats.deviations_total)
    followed = _cells(
        {
            "followed": stats.deviations_followed_up,
            "open": stats.deviations_total - stats.deviations_followed_up,
        },
        stats.deviations_total,
    )
    return StatisticsFigures(
        forum_name=stats.forum_name,
        start=stats.start,
        end=stats.end,
        cases_total=cases_total,
        cases_discussed=sn.count(stats.cases_discussed),
        cases_by_month=months.figures,
        cases_by_agency=agencies.figures,
        cases_by_month_agency=_grid(stats.cases_by_month_agency),
        concerns=concerns.figures,
        sip_started=sip.figures["started"],
        sip_needed=sip.figures["needed"],
        sip_share=sn.share(stats.sip_started, total, sip.figures["started"], cases_total),
        actions_done=actions_done,
        actions_on_time=timing.figures["on_time"],
        on_time_share=sn.share(
            stats.actions_on_time, done, timing.figures["on_time"], actions_done
        ),
        actions_after_new_date=timing.figures["after_new_date"],
        actions_late=timing.figures["late"],
        actions_open=sn.total(stats.actions_open, overdue),
        actions_overdue=overdue.figures["overdue"],
        effects=effects.figures,
        deviations=kinds.figures,
        deviations_total=sn.total(stats.deviations_total, kinds, followed),
        deviations_followed_up=followed.figures["followed"],
        deviations_open=followed.figures["open"],
    )
