"""Closing a rating round at its deadline (claimed once; drawn outside any transaction) or
early, and queueing the picture and its images for the forum's channel."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain import locks, scheduling
from domain.clock import Clock
from domain.i18n import LocaleOf, Renders
from domain.ratings.answering import untold_escalations
from domain.ratings.jobs import MOVED, Renderers, Sessions, plan_reopened_invites
from domain.ratings.picture import Picture, build_picture
from domain.ratings.settings import (
    _forum_t,
    _zone,
    rating_settings,
    round_times,
)
from storage.db import reading
from storage.models import (
    Agency,
    Forum,
    Meeting,
    MeetingStatus,
    OutboxMessage,
    Rating,
    RatingRound,
    RatingRoundStatus,
    ScheduledEffect,
)

log = logging.getLogger(__name__)

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
    locale_of: LocaleOf | None = None,
) -> int:
    """Close the open rounds whose deadline passed and post their picture (once), each
    round on its own (see close_due_round)."""
    with reading(sessions) as session:  # finding what is due only reads
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
                sessions,
                clock,
                renderers,
                round_id,
                replica=replica,
                on_closed=on_closed,
                locale_of=locale_of,
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
    locale_of: LocaleOf | None = None,
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
            session,
            clock,
            round_id,
            renderers,
            early=False,
            drawn=drawn,
            on_closed=on_closed,
            locale_of=locale_of,
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
    locked: bool = False,
    locale_of: LocaleOf | None = None,
) -> bool:
    """Close one round (a conditional UPDATE: only one closer wins, and at the deadline only
    if the deadline has not been extended meanwhile) and queue the picture, the heatmap and
    the trend chart for the forum's channel. ``locked``: the caller has locked the round
    (domain.locks.lock_round) in this transaction already."""
    now = clock.now()
    # The meeting's row before the round's (domain.locks): on_closed updates the meeting's
    # posted agenda, and a cancel or a move of the meeting locks it before the round.
    if not locked:
        locks.lock_round(session, round_id)
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
    _tell_untold_escalations(session, clock, forum, rating_round, renderers, locale_of)
    if on_closed is not None:
        on_closed(session, rating_round.meeting_id)
    return True


def _tell_untold_escalations(
    session: Session,
    clock: Clock,
    forum: Forum,
    rating_round: RatingRound,
    renderers: Renderers,
    locale_of: LocaleOf | None,
) -> None:
    """At the latest when the round closes, the coordinators are told the escalations the
    agencies' stored ratings hold and no DM told yet (a form of several pages whose close
    Slack never sent, its last page never saved): the form's own path
    (answering.untold_escalations) and its outbox keys, so none is told twice."""
    renders = Renders()
    last_by: dict[int, str] = {}
    for agency_id, rated_by in session.execute(
        select(Rating.agency_id, Rating.rated_by)
        .where(
            Rating.round_id == rating_round.id,
            # Rated in this round: answers carried over from a round a schedule change
            # retired (told there) are not news unless the agency answered since.
            Rating.rated_at >= rating_round.opens_at,
        )
        .order_by(Rating.id)
    ):
        last_by[agency_id] = rated_by
    if not last_by:
        return
    for agency in session.scalars(
        select(Agency).where(Agency.id.in_(list(last_by))).order_by(Agency.position, Agency.id)
    ):
        found = untold_escalations(
            session, clock, forum, rating_round, agency, rater=last_by[agency.id]
        )
        for coordinator in found.coordinators:
            payload = renders.to(
                locale_of,
                forum,
                coordinator,
                renderers.escalations,
                found.forum_name,
                found.escalations,
            )
            scheduling.enqueue(
                session,
                clock,
                team_id=forum.team_id,
                method="chat.postMessage",
                payload={**payload, "channel": coordinator},
                dedupe_key=f"{found.key}:{coordinator}",
            )


def follow_meeting(session: Session, clock: Clock, meeting: Meeting) -> None:
    """The open round of a meeting that was cancelled or moved follows it (called in the
    transaction that changes the meeting). Cancelled: the round closes at once, without a
    picture in the channel (no reminders for a meeting that will not happen, no "lägesbild
    inför" a cancelled meeting; the answers given are kept). Moved: the deadline is the
    forum's deadline for the new time, so the picture is ready before the meeting (and a
    later meeting gives more time); a coordinator's extension moves along, still at least an
    hour before the meeting. When the deadline changes, the agencies that have not answered
    every area are told the meeting's new day and the new deadline (jobs.invite_reopened).

    A cancelled meeting moved (taken up again, at its time or another): its round, closed by
    the cancel without a picture, opens again with the deadline for the new time and the
    answers given kept (the same meeting, so the same round: a meeting has one round). Its
    members' invitations work again, the agencies that have not answered every area get
    the invitation again (once per agency and round: jobs.invite_reopened) and the reminders
    follow; a deadline already past closes it at the next pass with the picture of the
    answers given, before the meeting. A round whose picture was posted (closed at its
    deadline or early, before the cancel) stays closed."""
    rating_round = session.scalar(
        select(RatingRound)
        .where(RatingRound.meeting_id == meeting.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if rating_round is None:
        return
    was_open = rating_round.status is RatingRoundStatus.OPEN
    if not was_open:
        if meeting.status is MeetingStatus.CANCELLED or _picture_posted(session, rating_round):
            return
        rating_round.status = RatingRoundStatus.OPEN
        rating_round.closed_at = None
        rating_round.closed_early = False
        plan_reopened_invites(session, clock, rating_round)
    if meeting.status is MeetingStatus.CANCELLED:
        rating_round.status = RatingRoundStatus.CLOSED
        rating_round.closed_at = clock.now()
        rating_round.closed_early = True
        return
    forum = session.get(Forum, rating_round.forum_id)
    assert forum is not None
    _, deadline = round_times(forum, meeting, rating_settings(forum))
    if rating_round.original_deadline_at is not None:
        extra = rating_round.deadline_at - rating_round.original_deadline_at
        rating_round.original_deadline_at = deadline
        latest = meeting.starts_at - dt.timedelta(hours=1)
        deadline = max(deadline, min(deadline + extra, latest))
    if was_open and deadline != rating_round.deadline_at:
        # The invitation named the old deadline: the agencies that have not answered every
        # area are told the new one (a meeting moved earlier could close the round before
        # anyone knew; jobs.invite_reopened).
        plan_reopened_invites(session, clock, rating_round, kind=MOVED)
    rating_round.deadline_at = deadline


def _picture_posted(session: Session, rating_round: RatingRound) -> bool:
    """Whether the round's picture was queued for the channel (it closed at its deadline or
    early, not with its cancelled meeting)."""
    key = f"rating_picture:{rating_round.id}"
    return (
        session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)) is not None
    )
