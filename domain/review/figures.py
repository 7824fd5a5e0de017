"""The half-year review's settings and the exact figures of a period (they never leave the
forum as they are)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import criteria, feedback
from domain.cases import AGE_BANDS
from domain.errors import InvalidInput
from domain.forums import forum_zone
from domain.i18n import N_
from domain.locks import update_forum_settings
from domain.periods import bounds
from domain.ratings import Trend, compare_like_with_like, median_of
from domain.statistics import Period, cases_discussed, done_actions
from storage.models import (
    Action,
    ActionStatus,
    Agency,
    Area,
    Case,
    CaseStatus,
    Deviation,
    Forum,
    Meeting,
    MeetingStatus,
    Rating,
    RatingRound,
    RatingRoundStatus,
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


def save_settings(session: Session, forum: Forum, settings: ReviewSettings) -> None:
    if not 1 <= settings.end_month <= 6:
        raise InvalidInput(N_("Choose when the review periods end."), field="review_end")
    update_forum_settings(
        session, forum, {"review": {"auto": settings.auto, "end_month": settings.end_month}}
    )


# --- the exact figures ----------------------------------------------------------------------


@dataclass(frozen=True)
class AreaTrend:
    name: str
    points: tuple[tuple[dt.date, float | None], ...]  # (meeting day, median level)
    # The median from the area's first rated meeting in the period to its last, of the
    # agencies that answered it both times (like with like, as the situation picture's
    # arrows: domain.ratings.compare_like_with_like); None when no agency did or there was
    # one meeting. Of the agencies that answered only one of the two times: those without
    # an answer the last time, and those without one the first time (for the note).
    trend: Trend | None = None
    not_compared_last: tuple[str, ...] = ()
    not_compared_first: tuple[str, ...] = ()
    # The first and last medians the trend compares (the same agencies both times), shown
    # beside it so a row never reads "3.5 → 2, unchanged"; None where ``trend`` is None.
    compared_first: float | None = None
    compared_last: float | None = None


def not_compared(trends: Sequence[AreaTrend]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Of all areas: the agencies left out of the trend for not answering at the last
    meeting, and those for not answering at the first (each once, in the areas' order)."""
    last = tuple(dict.fromkeys(a for t in trends for a in t.not_compared_last))
    first = tuple(dict.fromkeys(a for t in trends for a in t.not_compared_first))
    return last, first


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
    # Of the deviations reported in the period, those followed up by now (the rest are open).
    deviations_followed_up: int = 0
    # The cases discussed at the forum's meetings in the period, each once, whenever it was
    # raised (domain.statistics.cases_discussed); cases_total counts those raised.
    cases_discussed: int = 0
    # Of actions_done: late for the due date first agreed, but by a new one it got
    # (actions_on_time counts those done by the first; domain.statistics.DoneActions).
    actions_after_new_date: int = 0


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
    finished = done_actions(session, forum.id, start, end, zone)
    effects = Counter(effect.value for effect in finished.effects if effect is not None)
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
    reported = session.execute(
        select(Deviation.kind, Deviation.followed_up_at).where(
            Deviation.forum_id == forum.id,
            Deviation.created_at >= start,
            Deviation.created_at < end,
        )
    ).all()
    deviations = Counter(kind for kind, _ in reported)
    followed_up = sum(1 for _, at in reported if at is not None)
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
        actions_done=finished.done,
        actions_on_time=finished.on_time,
        actions_after_new_date=finished.after_new_date,
        actions_overdue=overdue,
        effects={k: effects.get(k, 0) for k in EFFECTS},
        deviations=dict(deviations.most_common()),
        feedback=feedback.results(session, forum_ids=[forum.id], start=start, end=end),
        criteria=criteria.statistics(session, forum_id=forum.id, start=start, end=end),
        meetings_held=len(held),
        attendance={name: attendance.get(name, 0) for name in agencies.values()},
        trends=area_trends(session, forum=forum, start=start, end=end),
        deviations_followed_up=followed_up,
        cases_discussed=cases_discussed(session, forum.id, start, end),
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
    counts: dict[tuple[int, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    given: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)  # agency: level
    for round_id, agency_id, area_id, level in session.execute(
        select(Rating.round_id, Rating.agency_id, Rating.area_id, Rating.level).where(
            Rating.round_id.in_(list(day)), Rating.is_current.is_(True)
        )
    ):
        counts[(round_id, area_id)][level] += 1
        given[(round_id, area_id)][agency_id] = level
    areas = session.scalars(
        select(Area).where(Area.forum_id == forum.id).order_by(Area.position, Area.id)
    ).all()
    names = {
        agency_id: name
        for agency_id, name in session.execute(
            select(Agency.id, Agency.name).where(Agency.forum_id == forum.id)
        )
    }
    trends = []
    for area in areas:
        points = tuple((day[r], median_of(counts.get((r, area.id), {}))) for r, _ in rounds)
        rated = [r for r, _ in rounds if given.get((r, area.id))]
        if not rated:
            continue
        before_by, now_by = given[(rated[0], area.id)], given[(rated[-1], area.id)]
        compared = compare_like_with_like(before_by, now_by) if len(rated) > 1 else None
        both = sorted(before_by.keys() & now_by.keys()) if compared else []
        trends.append(
            AreaTrend(
                area.name,
                points,
                trend=compared.median if compared else None,
                not_compared_last=_named(names, compared.gone if compared else ()),
                not_compared_first=_named(names, compared.new if compared else ()),
                compared_first=statistics.median(before_by[a] for a in both) if both else None,
                compared_last=statistics.median(now_by[a] for a in both) if both else None,
            )
        )
    return tuple(trends)


def _named(names: dict[int, str], agency_ids: Iterable[int]) -> tuple[str, ...]:
    return tuple(sorted((names.get(a, "?") for a in agency_ids), key=str.casefold))
