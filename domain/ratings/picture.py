"""The situation picture of a rating round: every agency × area, highest, median,
disagreement, and the trend against the earlier rounds (data only; handlers draw it)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import desc, select
from sqlalchemy.orm import Session

from domain.i18n import Translator
from domain.ratings.settings import DISAGREEMENT, HISTORY_ROUNDS, _zone, level_label
from storage.models import (
    Agency,
    Area,
    Forum,
    Meeting,
    MeetingStatus,
    Member,
    Rating,
    RatingRound,
    RatingRoundStatus,
    Role,
)

# --- the picture ------------------------------------------------------------------------------

Trend = Literal["up", "down", "same"]


@dataclass(frozen=True)
class AreaPicture:
    """One area of the picture. The picture is grouped and sorted by the highest level any
    agency gave, so the trend arrow compares that same measure with the previous closed
    round; the median's change is kept beside it."""

    area_id: int
    name: str
    levels: tuple[int | None, ...]  # one per agency of the picture, in its order
    highest: int | None
    median: float | None
    count: int
    disagreement: bool
    # The highest level against the previous closed round's, of the agencies that answered
    # the area both times (like with like; None when no agency did).
    trend: Trend | None
    history: tuple[float | None, ...]  # medians of the earlier rounds, oldest first
    median_trend: Trend | None = None  # the median against the previous round's, likewise
    history_highest: tuple[int | None, ...] = ()  # highest levels of the earlier rounds


@dataclass(frozen=True)
class Picture:
    round_id: int
    forum_id: int
    forum_name: str
    forum_code: str
    meeting_id: int
    meeting_start: dt.datetime
    deadline_at: dt.datetime
    closed_at: dt.datetime | None
    timezone: str
    agencies: tuple[str, ...]  # every agency, rated or not (the matrix rows)
    areas: tuple[AreaPicture, ...]  # sorted by severity
    missing: tuple[str, ...]  # agencies that did not answer (fully)
    away: tuple[str, ...]  # agencies whose representatives were all away
    history_dates: tuple[dt.datetime, ...] = field(default=())  # earlier meetings, oldest first
    # Of ``missing``: the agencies that rated some areas, not all, with how many of how many
    # (the picture shows their levels, so "missing" alone would contradict it).
    partly: tuple[tuple[str, int, int], ...] = field(default=())
    # The arrows compare like with like: per area, only the agencies that answered it both
    # this time and last time. Of those that answered an area only one of the two times:
    # the agencies without an answer now, and those without one last time (for the note).
    not_compared_now: tuple[str, ...] = field(default=())
    not_compared_before: tuple[str, ...] = field(default=())

    @property
    def complete(self) -> bool:
        return not self.missing


def median_of(counts: dict[int, int]) -> float | None:
    """The median level from ``{level: how many}``."""
    total = sum(counts.values())
    if not total:
        return None
    values: list[int] = []
    for level in sorted(counts):
        values.extend([level] * counts[level])
    return float(statistics.median(values))


def highest_of(counts: dict[int, int]) -> int | None:
    """The highest level given, from ``{level: how many}``."""
    return max((level for level, n in counts.items() if n), default=None)


def _trend(now: float | None, before: float | None) -> Trend | None:
    if now is None or before is None:
        return None
    return "up" if now > before else "down" if now < before else "same"


@dataclass(frozen=True)
class Comparison:
    """Two rounds' answers to one area compared like with like: only the agencies that
    answered it both times count (an area looked better only because the agency that said
    allvarligt did not answer the second time). ``gone``: agencies that answered the first
    time, not the second; ``new``: the second time, not the first (empty when either time
    had no answer: nothing is compared then)."""

    highest: Trend | None
    median: Trend | None
    gone: frozenset[int]
    new: frozenset[int]


def compare_like_with_like(before_by: Mapping[int, int], now_by: Mapping[int, int]) -> Comparison:
    """The trend of an area from ``before_by`` to ``now_by`` (each ``{agency id: level}``),
    of the agencies that answered both times: the situation picture's arrows, and the
    half-year review's and the yearly picture's trend from the first to the last meeting."""
    both = sorted(now_by.keys() & before_by.keys())
    gone: frozenset[int] = frozenset()
    new: frozenset[int] = frozenset()
    if now_by and before_by:
        gone = frozenset(before_by.keys() - now_by.keys())
        new = frozenset(now_by.keys() - before_by.keys())
    if not both:
        return Comparison(None, None, gone, new)
    now_same = [now_by[a] for a in both]
    before_same = [before_by[a] for a in both]
    return Comparison(
        highest=_trend(max(now_same), max(before_same)),
        median=_trend(statistics.median(now_same), statistics.median(before_same)),
        gone=gone,
        new=new,
    )


def picture_for_meeting(session: Session, meeting: Meeting) -> Picture | None:
    """The situation picture of a meeting's closed round, or None (for the agenda). The
    trend leaves out the rounds of cancelled meetings (closed without a picture, often with
    few answers: domain.ratings.closing.follow_meeting), as build_picture does.

    One query finds the meeting's round with the earlier closed rounds of its trend, and
    the forum and meeting come from the session (the agenda has them loaded): every agenda
    of a Thursday draws this, so it takes 5 statements, not 8."""
    rounds = session.execute(
        select(RatingRound, Meeting.starts_at)
        .join(Meeting, RatingRound.meeting_id == Meeting.id)
        .where(
            RatingRound.forum_id == meeting.forum_id,
            RatingRound.status == RatingRoundStatus.CLOSED,
            Meeting.starts_at <= meeting.starts_at,
            (Meeting.status != MeetingStatus.CANCELLED) | (Meeting.id == meeting.id),
        )
        .order_by(desc(Meeting.starts_at), desc(RatingRound.id))
        .limit(HISTORY_ROUNDS + 1)
    ).all()
    current = next((r for r, _ in rounds if r.meeting_id == meeting.id), None)
    if current is None:
        return None  # no round for this meeting, or it is not closed
    earlier = [
        (r.id, start) for r, start in rounds if r.id != current.id and start < meeting.starts_at
    ][:HISTORY_ROUNDS]
    return _build(session, current, earlier)


def build_picture(session: Session, rating_round: RatingRound) -> Picture:
    """The aggregate of a round with trends, in a fixed number of queries (at most 7,
    fewer when the session has the meeting and forum) however many agencies, areas and
    earlier rounds there are."""
    meeting = session.get(Meeting, rating_round.meeting_id)
    assert meeting is not None
    earlier = session.execute(
        select(RatingRound.id, Meeting.starts_at)
        .join(Meeting, RatingRound.meeting_id == Meeting.id)
        .where(
            RatingRound.forum_id == rating_round.forum_id,
            RatingRound.status == RatingRoundStatus.CLOSED,
            Meeting.starts_at < meeting.starts_at,
            Meeting.status != MeetingStatus.CANCELLED,  # its round closed without a picture
        )
        .order_by(desc(Meeting.starts_at))
        .limit(HISTORY_ROUNDS)
    ).all()
    return _build(session, rating_round, [(r, start) for r, start in earlier])


def _build(
    session: Session, rating_round: RatingRound, earlier: list[tuple[int, dt.datetime]]
) -> Picture:
    """The picture of ``rating_round`` with ``earlier`` (closed rounds' ids and meeting
    starts, newest first) as its trend."""
    # From the session when loaded (the agenda's meeting and forum): no statement then.
    meeting = session.get(Meeting, rating_round.meeting_id)
    assert meeting is not None
    forum = session.get(Forum, meeting.forum_id)
    assert forum is not None
    agencies = session.scalars(
        select(Agency).where(Agency.forum_id == forum.id).order_by(Agency.position, Agency.id)
    ).all()
    areas = session.scalars(
        select(Area).where(Area.forum_id == forum.id).order_by(Area.position, Area.id)
    ).all()
    earlier_ids = [r for r, _ in earlier]
    # This round's ratings and the earlier rounds' in one query (those are counted here).
    ratings: list[tuple[int, int, int]] = []
    last_id = earlier_ids[0] if earlier_ids else None
    last_time: dict[int, dict[int, int]] = defaultdict(dict)  # the previous round's, by area
    history_counts: dict[tuple[int, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for round_id, agency_id, area_id, level in session.execute(
        select(Rating.round_id, Rating.agency_id, Rating.area_id, Rating.level).where(
            Rating.round_id.in_([rating_round.id, *earlier_ids]), Rating.is_current.is_(True)
        )
    ):
        if round_id == rating_round.id:
            ratings.append((agency_id, area_id, level))
        else:
            history_counts[(round_id, area_id)][level] += 1
            if round_id == last_id:
                last_time[area_id][agency_id] = level
    members = session.execute(
        select(Member.agency_id, Member.away_until).where(
            Member.forum_id == forum.id,
            Member.active.is_(True),
            Member.role != Role.REVIEWER,
        )
    ).all()

    rated_agencies = {a for a, _, _ in ratings}
    rated_areas = {a for _, a, _ in ratings}
    shown_agencies = [a for a in agencies if a.active or a.id in rated_agencies]
    shown_areas = [a for a in areas if a.active or a.id in rated_areas]
    matrix: dict[tuple[int, int], int] = {(ag, ar): lvl for ag, ar, lvl in ratings}
    day = rating_round.deadline_at.astimezone(_zone(forum)).date()
    away_until: dict[int, list[dt.date | None]] = defaultdict(list)
    for agency_id, until in members:
        away_until[agency_id].append(until)

    oldest_first = list(reversed(earlier_ids))
    rows = []
    gone: set[int] = set()  # agencies that answered an area last time, not now
    new: set[int] = set()  # agencies that answered an area now, not last time
    for area in shown_areas:
        levels = tuple(matrix.get((a.id, area.id)) for a in shown_agencies)
        given = [lvl for lvl in levels if lvl is not None]
        counts: dict[int, int] = defaultdict(int)
        for lvl in given:
            counts[lvl] += 1
        median = median_of(counts)
        highest = max(given) if given else None
        earlier_counts = [history_counts.get((r, area.id), {}) for r in oldest_first]
        history = tuple(median_of(c) for c in earlier_counts)
        history_highest = tuple(highest_of(c) for c in earlier_counts)
        # Like with like: the agencies that answered this area both times (Gråbo looked
        # better only because the agency that said allvarligt did not answer this time).
        now_by = {
            a.id: matrix[(a.id, area.id)] for a in shown_agencies if (a.id, area.id) in matrix
        }
        compared = compare_like_with_like(last_time.get(area.id, {}), now_by)
        gone |= compared.gone
        new |= compared.new
        rows.append(
            AreaPicture(
                area_id=area.id,
                name=area.name,
                levels=levels,
                highest=highest,
                median=median,
                count=len(given),
                disagreement=bool(given) and max(given) - min(given) >= DISAGREEMENT,
                trend=compared.highest,
                history=history,
                median_trend=compared.median,
                history_highest=history_highest,
            )
        )
    rows.sort(key=lambda r: (-(r.highest or 0), -(r.median or 0), -r.count, r.name.casefold()))
    area_count = len([a for a in shown_areas if a.active])
    missing, away = [], []
    partly: list[tuple[str, int, int]] = []
    for agency in shown_agencies:
        answered = sum(1 for area in shown_areas if area.active and (agency.id, area.id) in matrix)
        if area_count and answered >= area_count:
            continue
        if answered:
            partly.append((agency.name, answered, area_count))
        untils = away_until.get(agency.id, [])
        if not answered and untils and all(u is not None and u >= day for u in untils):
            away.append(agency.name)
        else:
            missing.append(agency.name)
    return Picture(
        round_id=rating_round.id,
        forum_id=forum.id,
        forum_name=forum.name,
        forum_code=forum.code,
        meeting_id=meeting.id,
        meeting_start=meeting.starts_at,
        deadline_at=rating_round.deadline_at,
        closed_at=rating_round.closed_at,
        timezone=forum.timezone,
        agencies=tuple(a.name for a in shown_agencies),
        areas=tuple(rows),
        missing=tuple(missing),
        away=tuple(away),
        history_dates=tuple(start for _, start in reversed(earlier)),
        partly=tuple(partly),
        not_compared_now=tuple(a.name for a in agencies if a.id in gone),
        not_compared_before=tuple(a.name for a in agencies if a.id in new),
    )


def highest_in_words(t: Translator, picture: Picture, *, limit: int = 12) -> str:
    """Each area's highest level in words ("Gråbo: kritiskt; Hemse: normalt"), for an
    image's alt text and a message's fallback text: areas and levels only."""
    parts = [
        f"{a.name}: {level_label(t, a.highest) if a.highest else t('not rated')}"
        for a in picture.areas[:limit]
    ]
    if len(picture.areas) > limit:
        parts.append("…")
    return "; ".join(parts)
