"""Statistics for the steering levels (board, 2+2, steering group) and the action plan
(åtgärdsplan) export: counts and shares only, never case details or names of children.

A period is a range of the forum's local calendar days, both ends included.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.orm import Session, joinedload

from domain import audit, disclosure
from domain.access import Access
from domain.clock import Clock
from domain.errors import InvalidInput
from domain.forums import forum_schedule
from domain.i18n import N_
from domain.ids import year_value
from storage.models import (
    Action,
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
    actions_on_time: int
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


def done_actions(
    session: Session, forum_id: int, start: dt.datetime, end: dt.datetime, zone: dt.tzinfo
) -> tuple[list[Effect | None], int]:
    """The effects of the forum's actions completed in [start, end), and how many of those were
    completed on or before their due date (the forum's local day)."""
    done = session.execute(
        select(Action.completed_at, Action.due_on, Action.effect).where(
            Action.forum_id == forum_id,
            Action.status == ActionStatus.DONE,
            Action.completed_at >= start,
            Action.completed_at < end,
        )
    ).all()
    on_time = sum(
        1 for completed, due, _ in done if completed and completed.astimezone(zone).date() <= due
    )
    return [effect for _, _, effect in done], on_time


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
    done, on_time = done_actions(session, forum.id, start, end, zone)
    effects: Counter[str] = Counter(
        effect.value if effect is not None else "none" for effect in done
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
        actions_done=len(done),
        actions_on_time=on_time,
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
