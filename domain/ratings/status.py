"""What coordinators see and do while a round is open: each agency's status, closing early,
extending the deadline, and the comments for leading the meeting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import audit, disclosure, locks, meetings
from domain.access import Access
from domain.clock import Clock
from domain.errors import (
    DomainError,
    InvalidInput,
    NotCoordinator,
)
from domain.i18n import N_, When
from domain.ratings.answering import RoundClosed, _load_round, _require_open
from domain.ratings.closing import OnClosed, _close
from domain.ratings.jobs import Renderers
from domain.ratings.picture import Picture, build_picture
from domain.ratings.settings import (
    AgencyStatus,
    Cadence,
    _zone,
    agency_states,
    rating_settings,
)
from storage.models import (
    Agency,
    Area,
    AuditAction,
    Forum,
    Meeting,
    MeetingStatus,
    Rating,
    RatingObservation,
    RatingRound,
    RatingRoundStatus,
)


# --- status for coordinators ------------------------------------------------------------------
@dataclass(frozen=True)
class RoundStatus:
    round_id: int
    status: RatingRoundStatus
    forum_name: str
    meeting_start: dt.datetime
    opens_at: dt.datetime
    deadline_at: dt.datetime
    original_deadline_at: dt.datetime | None
    timezone: str
    agencies: tuple[AgencyStatus, ...]
    your_agency_id: int
    is_coordinator: bool
    can_extend: bool


@dataclass(frozen=True)
class Overview:
    """What ``/samverkan lägesbild`` shows: the open round, else the latest closed one."""

    cadence: Cadence
    current: RoundStatus | None
    latest: Picture | None
    next_meeting: dt.datetime | None
    timezone: str


def _status(
    session: Session, clock: Clock, access: Access, rating_round: RatingRound
) -> RoundStatus:
    forum = access.forum
    meeting = session.get(Meeting, rating_round.meeting_id)
    assert meeting is not None
    return RoundStatus(
        round_id=rating_round.id,
        status=rating_round.status,
        forum_name=forum.name,
        meeting_start=meeting.starts_at,
        opens_at=rating_round.opens_at,
        deadline_at=rating_round.deadline_at,
        original_deadline_at=rating_round.original_deadline_at,
        timezone=forum.timezone,
        agencies=tuple(agency_states(session, clock, forum, rating_round)),
        your_agency_id=access.member.agency_id,
        is_coordinator=access.is_coordinator,
        can_extend=rating_round.deadline_at + dt.timedelta(days=1)
        < meeting.starts_at - dt.timedelta(hours=1),
    )


def overview(session: Session, clock: Clock, *, access: Access) -> Overview:
    forum = access.forum
    open_round = session.scalar(
        select(RatingRound)
        .where(RatingRound.forum_id == forum.id, RatingRound.status == RatingRoundStatus.OPEN)
        .order_by(RatingRound.deadline_at)
        .limit(1)
    )
    latest_closed = session.scalar(
        select(RatingRound)
        .join(Meeting, RatingRound.meeting_id == Meeting.id)
        .where(
            RatingRound.forum_id == forum.id,
            RatingRound.status == RatingRoundStatus.CLOSED,
            Meeting.status != MeetingStatus.CANCELLED,  # closed without a picture
        )
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    )
    upcoming = meetings.upcoming(session, clock, forum, count=1)
    return Overview(
        cadence=rating_settings(forum).cadence,
        current=_status(session, clock, access, open_round) if open_round else None,
        latest=build_picture(session, latest_closed) if latest_closed else None,
        next_meeting=upcoming[0].starts_at if upcoming else None,
        timezone=forum.timezone,
    )


def _audit_round(
    session: Session, clock: Clock, access: Access, rating_round: RatingRound, **detail: Any
) -> None:
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.UPDATE,
        object_type="rating_round",
        object_ref=str(rating_round.id),
        detail=detail,
    )


class RoundAlreadyClosed(DomainError):
    msgid = N_("The rating round is already closed ({closed}).")


def _require_open_for_coordinator(rating_round: RatingRound, forum: Forum, clock: Clock) -> None:
    """:func:`_require_open`, told as what it is to a coordinator closing or extending the
    round (a second click, a status shown before the deadline), not as a late answer's
    "your answer could not be included"."""
    try:
        _require_open(rating_round, forum, clock)
    except RoundClosed:
        closed = rating_round.closed_at or rating_round.deadline_at
        raise RoundAlreadyClosed(closed=When(closed, _zone(forum))) from None


def close_early(
    session: Session,
    clock: Clock,
    renderers: Renderers,
    *,
    access: Access,
    round_id: int,
    on_closed: OnClosed | None = None,
) -> None:
    """A coordinator closes the round now; the picture is posted as at the deadline."""
    if not access.is_coordinator:
        raise NotCoordinator()
    rating_round = _load_round(session, access.forum, round_id)
    # Its meeting's row first, then the round's (domain.locks.lock_round): read again.
    locks.lock_round(session, rating_round.id)
    _require_open_for_coordinator(rating_round, access.forum, clock)
    _close(session, clock, rating_round.id, renderers, early=True, on_closed=on_closed, locked=True)
    _audit_round(session, clock, access, rating_round, closed_early=True)


def extend(
    session: Session, clock: Clock, *, access: Access, round_id: int, days: int
) -> dt.datetime:
    """A coordinator moves the deadline later (never past an hour before the meeting)."""
    if not access.is_coordinator:
        raise NotCoordinator()
    if not 1 <= days <= 7:
        raise InvalidInput(N_("Extend by 1–7 days."))
    rating_round = _load_round(session, access.forum, round_id, lock=True)
    _require_open_for_coordinator(rating_round, access.forum, clock)
    meeting = session.get(Meeting, rating_round.meeting_id)
    assert meeting is not None
    new_deadline = rating_round.deadline_at + dt.timedelta(days=days)
    if new_deadline > meeting.starts_at - dt.timedelta(hours=1):
        raise InvalidInput(N_("The deadline must stay at least an hour before the meeting."))
    if rating_round.original_deadline_at is None:
        rating_round.original_deadline_at = rating_round.deadline_at
    rating_round.deadline_at = new_deadline
    _audit_round(session, clock, access, rating_round, deadline=new_deadline.isoformat())
    return new_deadline


def find_open_round(session: Session, forum: Forum) -> RatingRound | None:
    return session.scalar(
        select(RatingRound)
        .where(RatingRound.forum_id == forum.id, RatingRound.status == RatingRoundStatus.OPEN)
        .order_by(RatingRound.deadline_at)
        .limit(1)
    )


# --- comments, for the coordinators who lead the meeting -----------------------------------------


@dataclass(frozen=True)
class RatingComment:
    area: str
    agency: str
    level: int
    comment: str
    rating_id: int = 0  # a coordinator masks it by this id


@dataclass(frozen=True)
class AgencyNotes:
    """One agency's levels (one per area of the round, in its order) and what it sees."""

    agency: str
    levels: tuple[int | None, ...]
    observation: str | None


@dataclass(frozen=True)
class RoundComments:
    round_id: int
    forum_name: str
    meeting_start: dt.datetime
    timezone: str
    comments: tuple[RatingComment, ...]
    areas: tuple[str, ...] = ()
    agencies: tuple[AgencyNotes, ...] = ()


def round_comments(
    session: Session, clock: Clock, *, access: Access, round_id: int
) -> RoundComments:
    """What the agencies wrote in one round: per agency its levels side by side with what it
    sees right now ("Vad ser ni just nu?"), and the comments on its answers, area by area.

    Only coordinators see them (they lead the meeting); every look is an audited read, like
    a case's details, since a comment is free text about a place or a theme. The disclosure
    rule decides and logs it, with how many comments and observations were shown; nothing
    read here leaves before it allows."""
    forum = access.forum
    rating_round = session.get(RatingRound, round_id)
    if rating_round is None or rating_round.forum_id != forum.id:
        raise InvalidInput(N_("That rating round no longer exists."))
    meeting = session.get(Meeting, rating_round.meeting_id)
    assert meeting is not None
    rows = session.execute(
        select(Area.name, Agency.name, Rating.level, Rating.comment, Rating.id)
        .join(Area, Area.id == Rating.area_id)
        .join(Agency, Agency.id == Rating.agency_id)
        .where(
            Rating.round_id == round_id,
            Rating.is_current.is_(True),
            Rating.comment.is_not(None),
            Rating.comment != "",
        )
        .order_by(Area.position, Area.id, Agency.position, Agency.id)
    ).all()
    picture = build_picture(session, rating_round)
    observations = {
        agency_id: text
        for agency_id, text in session.execute(
            select(RatingObservation.agency_id, RatingObservation.text).where(
                RatingObservation.round_id == round_id
            )
        )
    }
    names = {a.id: a.name for a in forum.agencies}
    by_name = {names[a]: text for a, text in observations.items() if a in names}
    notes = tuple(
        AgencyNotes(
            agency=name,
            levels=tuple(area.levels[n] for area in picture.areas),
            observation=by_name.get(name),
        )
        for n, name in enumerate(picture.agencies)
    )
    decision = disclosure.disclose(
        session,
        clock,
        access,
        rating_round,
        surface_name="rating_comments",
        shown={"comments": len(rows), "observations": len(by_name)},
    )
    if not decision.allowed:
        raise NotCoordinator()
    return RoundComments(
        round_id=round_id,
        forum_name=forum.name,
        meeting_start=meeting.starts_at,
        timezone=forum.timezone,
        comments=tuple(RatingComment(a, g, lvl, c or "", rid) for a, g, lvl, c, rid in rows),
        areas=tuple(area.name for area in picture.areas),
        agencies=notes,
    )
