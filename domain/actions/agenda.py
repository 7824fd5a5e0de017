"""Actions on a meeting's agenda: the due ones and the follow-ups (domain.agenda renders them)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from domain.actions.base import AGENDA_ACTIONS_MAX, AGENDA_TEXT_MAX
from domain.actions.reading import _with_links
from domain.forums import (
    forum_schedule,
)
from storage.models import (
    Action,
    ActionStatus,
    Forum,
    Meeting,
    Rating,
    RatingRound,
    RatingRoundStatus,
)

# --- the agenda (issue #7 renders it) --------------------------------------------------------


@dataclass(frozen=True)
class AreaRating:
    """One area's ratings in one closed round, in the situation picture's own measure: the
    highest level (1–5) any agency gave, with the median beside it."""

    meeting_day: dt.date
    highest: int
    median: float
    answers: int


@dataclass(frozen=True)
class AgendaAction:
    id: int
    description: str  # passed the privacy guard at creation; at most 150 characters
    agency: str
    owner: str | None
    due_on: dt.date
    overdue: bool
    case_reference: str | None
    area: str | None
    completed_at: dt.datetime | None = None
    rating_before: AreaRating | None = None
    rating_after: AreaRating | None = None


@dataclass(frozen=True)
class AgendaActions:
    """For one meeting: open actions due by the meeting day, and done actions whose effect
    has not been followed up (they stay until it is). ``more``: how many such actions are
    left out past :data:`AGENDA_ACTIONS_MAX` (the agenda says so)."""

    due: tuple[AgendaAction, ...] = field(default_factory=tuple)
    follow_up: tuple[AgendaAction, ...] = field(default_factory=tuple)
    more: int = 0


@dataclass(frozen=True)
class DueActions:
    """The actions an agenda lists, in its order (due date, id), and how many more there are."""

    ids: tuple[int, ...]
    more: int


def agenda_due_actions(
    session: Session, forum_id: int, meeting_day: dt.date, *, limit: int | None = None
) -> DueActions:
    """The open actions due by ``meeting_day`` and the done ones awaiting follow-up of
    effect, at most ``limit`` of them, soonest due first: the one list both the agenda's
    collection (domain.agenda.collect) and its details (:func:`actions_for_agenda`) use.

    Two queries, each an ordered range of ``(forum_id, status, effect, due_on, id)``
    (bounded by the forum and the status however many actions other forums have), merged
    here; the counts only when the limit is reached."""
    limit = AGENDA_ACTIONS_MAX if limit is None else limit
    base = (Action.forum_id == forum_id, Action.effect.is_(None))
    conditions = (
        (*base, Action.status == ActionStatus.OPEN, Action.due_on <= meeting_day),
        (*base, Action.status == ActionStatus.DONE),
    )
    # One statement: the two ranges side by side (UNION ALL of the limited subqueries).
    parts = [
        select(Action.due_on, Action.id)
        .where(*where)
        .order_by(Action.due_on, Action.id)
        .limit(limit)
        .subquery()
        for where in conditions
    ]
    rows = session.execute(
        union_all(
            *(
                select(literal(n).label("part"), part.c.due_on, part.c.id)
                for n, part in enumerate(parts)
            )
        )
    ).all()
    found = sorted((r[1], r[2]) for r in rows)
    full = any(sum(1 for r in rows if r[0] == n) == limit for n in range(len(parts)))
    more = 0
    if full or len(found) > limit:
        total = sum(
            int(session.scalar(select(func.count()).select_from(Action).where(*where)) or 0)
            for where in conditions
        )
        more = max(0, total - limit)
    return DueActions(ids=tuple(i for _d, i in found[:limit]), more=more)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= AGENDA_TEXT_MAX else text[: AGENDA_TEXT_MAX - 1] + "…"


def _area_ratings(
    session: Session, forum: Forum, area_ids: set[int]
) -> dict[int, list[tuple[dt.datetime, AreaRating]]]:
    """Closed rounds' highest level (and median) per area, keyed by when each round closed,
    oldest first (from the rating tables directly)."""
    from domain.ratings import highest_of, median_of

    if not area_ids:
        return {}
    zone = forum_schedule(forum).zone
    closed = func.coalesce(RatingRound.closed_at, RatingRound.deadline_at)
    found = session.execute(
        select(
            Rating.area_id, RatingRound.id, closed, Meeting.starts_at, Rating.level, func.count()
        )
        .join(RatingRound, RatingRound.id == Rating.round_id)
        .join(Meeting, Meeting.id == RatingRound.meeting_id)
        .where(
            RatingRound.forum_id == forum.id,
            RatingRound.status == RatingRoundStatus.CLOSED,
            Rating.is_current.is_(True),
            Rating.area_id.in_(area_ids),
        )
        .group_by(Rating.area_id, RatingRound.id, closed, Meeting.starts_at, Rating.level)
    ).all()
    counts: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    when: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    for area_id, round_id, closed_at, starts_at, level, n in found:
        counts[(area_id, round_id)][level] = int(n)
        when[round_id] = (closed_at, starts_at)
    result: dict[int, list[tuple[dt.datetime, AreaRating]]] = defaultdict(list)
    for (area_id, round_id), levels in counts.items():
        closed_at, starts_at = when[round_id]
        highest, median = highest_of(levels), median_of(levels)
        assert highest is not None and median is not None
        day = starts_at.astimezone(zone).date()
        result[area_id].append((closed_at, AreaRating(day, highest, median, sum(levels.values()))))
    for rows in result.values():
        rows.sort(key=lambda row: row[0])
    return result


def _before_after(
    ratings: list[tuple[dt.datetime, AreaRating]], created: dt.datetime, done: dt.datetime | None
) -> tuple[AreaRating | None, AreaRating | None]:
    """The last round closed before the action was made, and the latest closed after it
    was done."""
    before = [r for closed, r in ratings if closed <= created]
    after = [r for closed, r in ratings if done is not None and closed >= done]
    return (before[-1] if before else None, after[-1] if after else None)


def agenda_action_links() -> Any:
    """The loader options :func:`actions_for_agenda` needs on actions passed as ``loaded``."""
    return _with_links()


def _load_listed(session: Session, listed: DueActions) -> Sequence[Action]:
    if not listed.ids:
        return []
    return (
        session.scalars(
            select(Action)
            .options(*_with_links())
            .where(Action.id.in_(listed.ids))
            .order_by(Action.due_on, Action.id)
        )
        .unique()
        .all()
    )


def actions_for_agenda(
    session: Session,
    forum: Forum,
    meeting: Meeting,
    today: dt.date,
    *,
    listed: DueActions | None = None,
    loaded: Mapping[int, Action] | None = None,
) -> AgendaActions:
    """What the agenda lists about actions for ``meeting``: open actions due on or before the
    meeting day (overdue flagged against ``today``) and done actions awaiting follow-up of
    effect. Area-linked actions carry the area's highest level (the situation picture's
    measure) in the last round closed before the action was created and in the latest closed
    after it was done (None when there is no such round)."""
    meeting_day = meeting.starts_at.astimezone(forum_schedule(forum).zone).date()
    if listed is None:  # domain.agenda.build passes the list its collection used
        listed = agenda_due_actions(session, forum.id, meeting_day)
    if loaded is not None and all(i in loaded for i in listed.ids):
        # domain.agenda.build loaded them already (with agenda_action_links()).
        found = sorted((loaded[i] for i in listed.ids), key=lambda a: (a.due_on, a.id))
    else:
        found = list(_load_listed(session, listed))
    ratings = _area_ratings(session, forum, {a.area_id for a in found if a.area_id is not None})
    due: list[AgendaAction] = []
    follow_up: list[AgendaAction] = []
    for a in found:
        before, after = (
            _before_after(ratings.get(a.area_id, []), a.created_at, a.completed_at)
            if a.area_id is not None
            else (None, None)
        )
        line = AgendaAction(
            id=a.id,
            description=_short(a.description),
            agency=a.owning_agency.name,
            owner=a.owner,
            due_on=a.due_on,
            overdue=a.status is ActionStatus.OPEN and a.due_on < today,
            case_reference=a.case.reference if a.case else None,
            area=a.area.name if a.area else None,
            completed_at=a.completed_at,
            rating_before=before,
            rating_after=after,
        )
        (due if a.status is ActionStatus.OPEN else follow_up).append(line)
    return AgendaActions(due=tuple(due), follow_up=tuple(follow_up), more=listed.more)
