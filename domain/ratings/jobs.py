"""Scheduled work of rating rounds: open them, remind the agencies that have not answered,
close them at the deadline and post the picture, through the renderers the caller passes in."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from sqlalchemy import String, cast, exists, select, update
from sqlalchemy.orm import Session

from domain import scheduling
from domain.clock import Clock
from domain.forums import coordinators
from domain.i18n import Translator
from domain.meetings import calendar_of
from domain.ratings.picture import Picture, build_picture
from domain.ratings.settings import (
    LOOKAHEAD,
    Cadence,
    RatingSettings,
    _forum_t,
    _zone,
    agency_states,
    allowed,
    local_today,
    rating_settings,
    recipients,
    reminder_times,
    representatives,
    round_times,
)
from storage.models import (
    Agency,
    Area,
    EffectStatus,
    Forum,
    Meeting,
    MeetingStatus,
    RatingRound,
    RatingRoundStatus,
    ScheduledEffect,
)

log = logging.getLogger(__name__)

# --- the renderers the caller passes in -------------------------------------------------------


@dataclass(frozen=True)
class Invite:
    """What the DM that asks an agency to rate says (no personal data)."""

    round_id: int
    agency_id: int
    agency_name: str
    forum_name: str
    meeting_start: dt.datetime
    deadline_at: dt.datetime
    timezone: str
    reminder: bool = False


class Renderers(Protocol):
    def invite(self, t: Translator, invite: Invite) -> dict[str, Any]:
        """A chat.postMessage payload (text and blocks) asking an agency to rate."""
        ...

    def picture(self, t: Translator, picture: Picture) -> dict[str, Any]:
        """The chat.postMessage payload with the aggregate, for the forum's channel."""
        ...

    def missed(self, t: Translator, missed: Missed) -> dict[str, Any]:
        """The DM telling a coordinator that a round could not be opened in time."""
        ...

    def images(self, t: Translator, picture: Picture) -> list[tuple[str, str, str, bytes]]:
        """The picture drawn for the channel: (name, title, alt text, PNG) per image. Called
        outside any transaction when a round closes at its deadline."""
        ...


# --- scheduled work ---------------------------------------------------------------------------


def wants_picture(
    session: Session, forum: Forum, meeting: Meeting, settings: RatingSettings
) -> bool:
    if settings.cadence is Cadence.EVERY:
        return True
    if settings.cadence is Cadence.CHOSEN:
        return meeting.has_situation_picture
    if settings.cadence is Cadence.EVERY_OTHER:
        previous = session.scalar(
            select(Meeting.id)
            .where(
                Meeting.forum_id == forum.id,
                Meeting.status == MeetingStatus.PLANNED,
                Meeting.starts_at < meeting.starts_at,
            )
            .order_by(Meeting.starts_at.desc())
            .limit(1)
        )
        if previous is None:
            return True
        return not session.scalar(select(exists().where(RatingRound.meeting_id == previous)))
    return False


Sessions = Callable[[], Session]


def _each(
    sessions: Sessions, what: str, items: Sequence[int], work: Callable[[Session, int], bool]
) -> int:
    """``work`` for each item in a transaction of its own: one forum's failure (its claim
    rolls back, so the next pass tries it again) does not stop the others, and no lock is
    held longer than one round's work."""
    done = 0
    for item in items:
        try:
            with sessions() as session, session.begin():
                if work(session, item):
                    done += 1
        except Exception:
            log.exception("%s %s failed; it is tried again at the next pass", what, item)
    return done


def _checked(what: str, item: int, check: Callable[[], bool]) -> bool:
    """``check()``, or False (logged) if one forum's data makes it fail."""
    try:
        return check()
    except Exception:
        log.exception("%s %s failed; it is tried again at the next pass", what, item)
        return False


def _opening(
    session: Session, clock: Clock, meeting: Meeting, forum: Forum
) -> tuple[Literal["open", "missed"], dt.datetime, dt.datetime] | None:
    """Whether ``meeting``'s round is to be opened now, or reported as missed, or neither.

    Opening DMs, like reminders, only go out on working days in the daytime: after downtime
    at night the round waits for the morning. A round whose deadline passed entirely while
    the bot was down is *missed* (the forum was set up for it before the deadline)."""
    now = clock.now()
    settings = rating_settings(forum)
    if settings.cadence is Cadence.NONE:
        return None
    opens_at, deadline_at = round_times(forum, meeting, settings)
    if now < opens_at or not allowed(now, calendar_of(forum), _zone(forum)):
        return None
    if now >= deadline_at and forum.updated_at >= deadline_at:
        return None  # the situation picture was chosen after this round's deadline
    if not wants_picture(session, forum, meeting, settings):
        return None
    has_areas = session.scalar(
        select(exists().where(Area.forum_id == forum.id, Area.active.is_(True)))
    )
    if not has_areas:
        return None  # nothing to rate until the forum has areas
    return ("open" if now < deadline_at else "missed"), opens_at, deadline_at


def _unopened(now: dt.datetime) -> Any:
    return (
        select(Meeting, Forum)
        .join(Forum, Meeting.forum_id == Forum.id)
        .where(
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.starts_at > now,
            Meeting.starts_at <= now + LOOKAHEAD,
            ~exists().where(RatingRound.meeting_id == Meeting.id),
            ~exists().where(
                ScheduledEffect.forum_id == Meeting.forum_id,
                ScheduledEffect.kind == MISSED,
                ScheduledEffect.subject == cast(Meeting.id, String),
                ScheduledEffect.status == EffectStatus.DONE,
            ),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )


MISSED = "rating_missed"


def open_due_rounds(sessions: Sessions, clock: Clock, renderers: Renderers, *, replica: str) -> int:
    """Open the rounds that are due (or were due while the bot was down, if their deadline
    is still ahead) and queue the DMs to every agency's representatives; tell the
    coordinators once about a round whose deadline passed while the bot was down. One
    transaction per meeting. Returns how many rounds opened."""
    with sessions() as session:
        due = [
            meeting.id
            for meeting, forum in session.execute(_unopened(clock.now()))
            if _checked(
                "checking the rating round of meeting",
                meeting.id,
                lambda: _opening(session, clock, meeting, forum) is not None,  # noqa: B023
            )
        ]
    return _each(
        sessions,
        "opening the rating round of meeting",
        due,
        lambda session, meeting_id: _open_one(
            session, clock, renderers, meeting_id, replica=replica
        ),
    )


def _open_one(
    session: Session, clock: Clock, renderers: Renderers, meeting_id: int, *, replica: str
) -> bool:
    now = clock.now()
    row = session.execute(_unopened(now).where(Meeting.id == meeting_id)).first()
    if row is None:
        return False
    meeting, forum = row
    decision = _opening(session, clock, meeting, forum)
    if decision is None:
        return False
    what, opens_at, deadline_at = decision
    effect = scheduling.claim(
        session,
        clock,
        forum_id=forum.id,
        kind="rating_open" if what == "open" else MISSED,
        subject=str(meeting.id),
        occurrence=meeting.occurrence,
        due_at=opens_at,
        replica=replica,
    )
    if effect is None:
        return False
    if what == "missed":
        _tell_missed(session, clock, forum, meeting, deadline_at, renderers)
        effect.note = "the deadline passed while the bot was down"
        scheduling.complete(session, clock, effect, late=True)
        return False
    rating_round = RatingRound(
        forum_id=forum.id,
        meeting_id=meeting.id,
        opens_at=max(opens_at, now),
        deadline_at=deadline_at,
        status=RatingRoundStatus.OPEN,
        closed_early=False,
    )
    session.add(rating_round)
    meeting.has_situation_picture = True
    session.flush()
    _invite(session, clock, forum, meeting, rating_round, renderers, reminder=False)
    scheduling.complete(session, clock, effect, late=now - opens_at > dt.timedelta(hours=1))
    return True


@dataclass(frozen=True)
class Missed:
    """What the coordinators are told about a round the bot could not open in time."""

    forum_name: str
    meeting_start: dt.datetime
    deadline_at: dt.datetime
    timezone: str


def _tell_missed(
    session: Session,
    clock: Clock,
    forum: Forum,
    meeting: Meeting,
    deadline_at: dt.datetime,
    renderers: Renderers,
) -> None:
    payload = renderers.missed(
        _forum_t(forum), Missed(forum.name, meeting.starts_at, deadline_at, forum.timezone)
    )
    for user in coordinators(session, forum.id):
        scheduling.enqueue(
            session,
            clock,
            team_id=forum.team_id,
            method="chat.postMessage",
            payload={"channel": user, **payload},
            dedupe_key=f"rating_missed:{meeting.id}:{user}",
        )


def _invite(
    session: Session,
    clock: Clock,
    forum: Forum,
    meeting: Meeting,
    rating_round: RatingRound,
    renderers: Renderers,
    *,
    reminder: bool,
    only: Iterable[int] | None = None,
    key: str = "open",
) -> int:
    t = _forum_t(forum)
    today = local_today(forum, clock)
    reps = representatives(session, forum)
    wanted = set(only) if only is not None else None
    sent = 0
    for agency in session.scalars(
        select(Agency)
        .where(Agency.forum_id == forum.id, Agency.active.is_(True))
        .order_by(Agency.position)
    ):
        if wanted is not None and agency.id not in wanted:
            continue
        invite = Invite(
            round_id=rating_round.id,
            agency_id=agency.id,
            agency_name=agency.name,
            forum_name=forum.name,
            meeting_start=meeting.starts_at,
            deadline_at=rating_round.deadline_at,
            timezone=forum.timezone,
            reminder=reminder,
        )
        payload = renderers.invite(t, invite)
        for user in recipients(reps.get(agency.id, []), today):
            scheduling.enqueue(
                session,
                clock,
                team_id=forum.team_id,
                method="chat.postMessage",
                payload={"channel": user, **payload},
                dedupe_key=f"rating_{key}:{rating_round.id}:{agency.id}:{user}",
            )
            sent += 1
    return sent


def send_due_reminders(
    sessions: Sessions, clock: Clock, renderers: Renderers, *, replica: str
) -> int:
    """Remind the agencies that have not answered. After downtime only the latest due
    reminder goes out (the earlier ones are marked done, late); at night it waits. One
    transaction per round."""
    now = clock.now()
    with sessions() as session:
        due = [
            rating_round.id
            for rating_round, forum in session.execute(
                select(RatingRound, Forum)
                .join(Forum, RatingRound.forum_id == Forum.id)
                .where(RatingRound.status == RatingRoundStatus.OPEN, RatingRound.deadline_at > now)
                .order_by(RatingRound.id)
            )
            if _checked(
                "checking the reminders of rating round",
                rating_round.id,
                lambda: (
                    allowed(now, calendar_of(forum), _zone(forum))  # noqa: B023
                    and any(moment <= now for moment in reminder_times(forum, rating_round))  # noqa: B023
                ),
            )
        ]
    return _each(
        sessions,
        "reminding about rating round",
        due,
        lambda session, round_id: _remind_one(session, clock, renderers, round_id, replica=replica),
    )


def _remind_one(
    session: Session, clock: Clock, renderers: Renderers, round_id: int, *, replica: str
) -> bool:
    now = clock.now()
    row = session.execute(
        select(RatingRound, Forum, Meeting)
        .join(Forum, RatingRound.forum_id == Forum.id)
        .join(Meeting, RatingRound.meeting_id == Meeting.id)
        .where(
            RatingRound.id == round_id,
            RatingRound.status == RatingRoundStatus.OPEN,
            RatingRound.deadline_at > now,
        )
    ).first()
    if row is None:
        return False
    rating_round, forum, meeting = row
    due = [moment for moment in reminder_times(forum, rating_round) if moment <= now]
    if not due or not allowed(now, calendar_of(forum), _zone(forum)):
        return False
    latest = max(due)
    reminded = False
    for moment in due:
        effect = scheduling.claim(
            session,
            clock,
            forum_id=forum.id,
            kind="rating_remind",
            subject=str(rating_round.id),
            occurrence=moment,
            due_at=moment,
            replica=replica,
        )
        if effect is None:
            continue
        if moment != latest:
            effect.note = "superseded by a later reminder"
            scheduling.complete(session, clock, effect, late=True)
            continue
        missing = [
            s.agency_id
            for s in agency_states(session, clock, forum, rating_round)
            if s.state in ("missing", "partial")
        ]
        _invite(
            session,
            clock,
            forum,
            meeting,
            rating_round,
            renderers,
            reminder=True,
            only=missing,
            key=f"remind:{int(moment.timestamp())}",
        )
        scheduling.complete(session, clock, effect, late=now - moment > dt.timedelta(minutes=30))
        reminded = True
    return reminded


# Called in the transaction that closes a round, with the round's meeting id: the caller
# brings what shows the meeting (the agenda's preview, a posted agenda) up to date.
OnClosed = Callable[[Session, int], None]


def close_due_rounds(
    sessions: Sessions,
    clock: Clock,
    renderers: Renderers,
    *,
    replica: str,
    on_closed: OnClosed | None = None,
) -> int:
    """Close the open rounds whose deadline passed and post their picture (once), each
    round on its own (see close_due_round)."""
    with sessions() as session:
        due = list(
            session.scalars(
                select(RatingRound.id)
                .where(
                    RatingRound.status == RatingRoundStatus.OPEN,
                    RatingRound.deadline_at <= clock.now(),
                )
                .order_by(RatingRound.deadline_at, RatingRound.id)
            )
        )
    closed = 0
    for round_id in due:
        try:
            if close_due_round(
                sessions, clock, renderers, round_id, replica=replica, on_closed=on_closed
            ):
                closed += 1
        except Exception:
            log.exception("closing rating round %s failed; it is tried again", round_id)
    return closed


@dataclass(frozen=True)
class _Drawn:
    picture: Picture
    images: list[tuple[str, str, str, bytes]]


def close_due_round(
    sessions: Sessions,
    clock: Clock,
    renderers: Renderers,
    round_id: int,
    *,
    replica: str,
    on_closed: OnClosed | None = None,
) -> bool:
    """Close one round at its deadline, in three steps so no lock is held while drawing:
    claim it (checking, under the row lock, that the deadline has passed: an extension
    committed meanwhile keeps it open), draw the heatmap and the trend chart outside any
    transaction, then close it (again only if the deadline has passed) and queue the
    picture and the images. A replica that dies in between leaves the claim to expire and
    be taken again."""
    now = clock.now()
    with sessions() as session, session.begin():
        rating_round = _due(session, round_id, now)
        if rating_round is None:
            return False
        effect = scheduling.claim(
            session,
            clock,
            forum_id=rating_round.forum_id,
            kind="rating_close",
            subject=str(round_id),
            occurrence=rating_round.deadline_at,
            due_at=rating_round.deadline_at,
            replica=replica,
        )
        if effect is None:
            return False
        effect_id = effect.id
        picture = build_picture(session, rating_round)
        forum = session.get(Forum, rating_round.forum_id)
        assert forum is not None
        t = _forum_t(forum)
    drawn = _Drawn(picture, renderers.images(t, picture))
    with sessions() as session, session.begin():
        effect = session.get(ScheduledEffect, effect_id)
        assert effect is not None
        closed = _close(
            session, clock, round_id, renderers, early=False, drawn=drawn, on_closed=on_closed
        )
        if not closed:
            effect.note = "not closed: the deadline was extended or the round closed early"
        scheduling.complete(
            session, clock, effect, late=now - effect.due_at > dt.timedelta(hours=1)
        )
        return closed


def _due(session: Session, round_id: int, now: dt.datetime) -> RatingRound | None:
    rating_round = session.scalar(
        select(RatingRound)
        .where(RatingRound.id == round_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if (
        rating_round is None
        or rating_round.status is not RatingRoundStatus.OPEN
        or rating_round.deadline_at > now
    ):
        return None
    return rating_round


def _close(
    session: Session,
    clock: Clock,
    round_id: int,
    renderers: Renderers,
    *,
    early: bool,
    drawn: _Drawn | None = None,
    on_closed: OnClosed | None = None,
) -> bool:
    """Close one round (a conditional UPDATE: only one closer wins, and at the deadline only
    if the deadline has not been extended meanwhile) and queue the picture, the heatmap and
    the trend chart for the forum's channel."""
    now = clock.now()
    condition = [RatingRound.id == round_id, RatingRound.status == RatingRoundStatus.OPEN]
    if not early:
        condition.append(RatingRound.deadline_at <= now)
    won = session.scalar(
        update(RatingRound)
        .where(*condition)
        .values(status=RatingRoundStatus.CLOSED, closed_at=now, closed_early=early)
        .returning(RatingRound.id)
    )
    if won is None:
        return False
    rating_round = session.get(RatingRound, round_id, populate_existing=True)
    assert rating_round is not None
    picture = build_picture(session, rating_round)
    forum = session.get(Forum, rating_round.forum_id)
    assert forum is not None
    t = _forum_t(forum)
    scheduling.enqueue(
        session,
        clock,
        team_id=forum.team_id,
        method="chat.postMessage",
        payload={"channel": forum.channel_id, **renderers.picture(t, picture)},
        dedupe_key=f"rating_picture:{round_id}",
    )
    same = drawn is not None and replace(drawn.picture, closed_at=None) == replace(
        picture, closed_at=None
    )
    images = drawn.images if drawn is not None and same else renderers.images(t, picture)
    stamp = picture.meeting_start.astimezone(_zone(forum)).strftime("%Y-%m-%d")
    for name, title, alt_text, data in images:
        scheduling.enqueue(
            session,
            clock,
            team_id=forum.team_id,
            method=scheduling.UPLOAD_METHOD,
            payload=scheduling.upload_payload(
                channel=forum.channel_id,
                filename=f"lagesbild-{forum.code}-{stamp}-{name}.png",
                title=title,
                data=data,
                alt_text=alt_text,
            ),
            dedupe_key=f"rating_{name}:{round_id}",
        )
    if on_closed is not None:
        on_closed(session, rating_round.meeting_id)
    return True
