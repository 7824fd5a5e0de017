"""Scheduled work of rating rounds: open them and remind the agencies that have not answered,
through the renderers the caller passes in (closing: domain.ratings.closing)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy import ColumnElement, String, cast, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from domain import audit, scheduling
from domain.clock import Clock
from domain.forums import coordinators
from domain.i18n import LocaleOf, Renders, Translator
from domain.meetings import calendar_of
from domain.ratings.answering import Escalation
from domain.ratings.picture import Picture
from domain.ratings.settings import (
    LOOKAHEAD,
    Cadence,
    RatingSettings,
    _zone,
    agency_states,
    allowed,
    local_today,
    rating_settings,
    recipients,
    reminder_times,
    representatives,
    round_times,
    round_times_at,
)
from storage.db import reading
from storage.models import (
    SYSTEM_ACTOR,
    Agency,
    Area,
    AuditAction,
    EffectStatus,
    Forum,
    Meeting,
    MeetingStatus,
    Member,
    OutboxMessage,
    Rating,
    RatingObservation,
    RatingRound,
    RatingRoundStatus,
    ScheduledEffect,
)

log = logging.getLogger(__name__)

SCHEDULE_CHANGED = "schedule_changed"  # the note of a meeting a schedule change retired
# A retired round's answers carry over only to a meeting at most this far from its own: two
# weeks is a fortnightly forum's gap, beyond it the answers describe another situation.
CARRY_OVER_WITHIN = dt.timedelta(days=14)

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
    # The round opened again because its cancelled meeting was taken up again.
    reopened: bool = False
    # The round's meeting moved, and with it the round's deadline.
    moved: bool = False
    # A reminder to an agency that rated some areas, not all: how many of how many.
    rated: int = 0
    areas: int = 0
    # The first round after a change of the forum's schedule retired an open round (its
    # meeting left the schedule): that meeting's start, and whether this agency's answers
    # to it were carried over to this round (the invitation says why, and what to do).
    replaced: dt.datetime | None = None
    carried_over: bool = False


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

    def escalations(
        self, t: Translator, forum_name: str, escalations: tuple[Escalation, ...]
    ) -> dict[str, Any]:
        """The DM telling a coordinator of an agency's escalations (as a form tells them),
        for those the round closing finds untold."""
        ...

    def images(self, t: Translator, picture: Picture) -> list[tuple[str, str, str, bytes]]:
        """The picture drawn for the channel: (name, title, alt text, PNG) per image. Called
        outside any transaction when a round closes at its deadline."""
        ...


# --- scheduled work ---------------------------------------------------------------------------


def wants_picture(
    session: Session, forum: Forum, meeting: Meeting, settings: RatingSettings
) -> bool:
    if settings.cadence is Cadence.CHOSEN:
        return meeting.has_situation_picture
    if meeting.extra:
        # An extra meeting (an urgent situation between the scheduled ones) has no round of
        # its own unless a coordinator chose it: one added for tomorrow would be told as a
        # round missed, and it does not count in "every other" either.
        return False
    if settings.cadence is Cadence.EVERY:
        return True
    if settings.cadence is Cadence.EVERY_OTHER:
        # A picture unless the meeting before had one. A cancelled meeting had none, whether
        # it was to have one (the next meeting held takes it over) or not (the next meeting
        # held is the one after a meeting without, as when the forum met): so no two
        # meetings held in a row go without a picture. A meeting recorded as held counts.
        previous = session.execute(
            select(Meeting.id, Meeting.status)
            .where(
                Meeting.forum_id == forum.id,
                Meeting.starts_at < meeting.starts_at,
                Meeting.extra.is_(False),
            )
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
            .limit(1)
        ).first()
        if previous is None or previous.status is MeetingStatus.CANCELLED:
            return True
        return not session.scalar(select(exists().where(RatingRound.meeting_id == previous.id)))
    return False


Sessions = sessionmaker[Session]


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


def _may_open(session: Session, now: dt.datetime) -> list[tuple[int, Forum]]:
    """The unopened meetings (in order) whose round has opened by ``now``, each with its
    forum: only these can be due (:func:`_opening` says which are).

    Every forum has a few planned meetings within the lookahead, and on almost every tick
    none of their rounds opens: reading only the meetings' start times and each forum once,
    and skipping the rounds that open later, keeps the tick from loading them all
    (``bench.tick_cost``: this pass was three quarters of an idle tick's CPU)."""
    rows = session.execute(
        _unopened(now).with_only_columns(Meeting.id, Meeting.forum_id, Meeting.starts_at)
    ).all()
    if not rows:
        return []
    forums = {
        forum.id: forum
        for forum in session.scalars(
            # A subquery, not the ids as parameters: no limit on the forums, no long
            # statement for the driver to convert on every tick.
            select(Forum).where(
                Forum.id.in_(_unopened(now).with_only_columns(Meeting.forum_id).order_by(None))
            )
        )
    }
    settings: dict[int, RatingSettings] = {}
    may: list[tuple[int, Forum]] = []
    for meeting_id, forum_id, starts_at in rows:
        forum = forums.get(forum_id)
        if forum is None:
            continue  # deleted since the first statement: nothing of it opens
        try:
            chosen = settings.get(forum_id) or settings.setdefault(forum_id, rating_settings(forum))
            # The first two checks of _opening, which decides the rest with the meeting.
            later = (
                chosen.cadence is Cadence.NONE or now < round_times_at(forum, starts_at, chosen)[0]
            )
        except Exception:
            later = False  # _opening meets it again and logs it, with the meeting, as before
        if not later:
            may.append((meeting_id, forum))
    return may


def open_due_rounds(
    sessions: Sessions,
    clock: Clock,
    renderers: Renderers,
    *,
    replica: str,
    locale_of: LocaleOf | None = None,
    renders: Renders | None = None,
) -> int:
    """Open the rounds that are due (or were due while the bot was down, if their deadline
    is still ahead) and queue the DMs to every agency's representatives; tell the
    coordinators once about a round whose deadline passed while the bot was down. Each DM
    in its recipient's language (``locale_of``; the forum's when unknown). One transaction
    per meeting. Returns how many rounds opened. ``renders``: the tick's renderings (each
    agency's invitation rendered once per language, not once per person)."""
    renders = renders or Renders()
    with reading(sessions) as session:  # finding what is due only reads
        due = [
            meeting_id
            for meeting_id, forum in _may_open(session, clock.now())
            if _checked(
                "checking the rating round of meeting",
                meeting_id,
                lambda: (
                    _opening(
                        session,
                        clock,
                        session.get_one(Meeting, meeting_id),  # noqa: B023
                        forum,  # noqa: B023
                    )
                    is not None
                ),
            )
        ]
    return _each(
        sessions,
        "opening the rating round of meeting",
        due,
        lambda session, meeting_id: _open_one(
            session,
            clock,
            renderers,
            meeting_id,
            replica=replica,
            locale_of=locale_of,
            renders=renders,
        ),
    )


def _open_one(
    session: Session,
    clock: Clock,
    renderers: Renderers,
    meeting_id: int,
    *,
    replica: str,
    locale_of: LocaleOf | None,
    renders: Renders,
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
        _tell_missed(session, clock, forum, meeting, deadline_at, renderers, locale_of, renders)
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
    _invite(
        session,
        clock,
        forum,
        meeting,
        rating_round,
        renderers,
        locale_of,
        renders,
        reminder=False,
        replaced=_replaced(session, clock, forum, rating_round),
    )
    scheduling.complete(session, clock, effect, late=now - opens_at > dt.timedelta(hours=1))
    return True


def _replaced(
    session: Session, clock: Clock, forum: Forum, rating_round: RatingRound
) -> tuple[dt.datetime, set[int]] | None:
    """The open round a change of the forum's schedule retired (its meeting left the
    schedule: domain.meetings), when ``rating_round`` is the first round opened since:
    that meeting's start and the agencies whose answers are carried over to this round.

    Carried over, as a meeting moved by hand keeps its round and the answers given
    (closing.follow_meeting): the answers of the areas and agencies still active, each with
    who gave it and when, and what each agency sees; the retired round keeps its own. An
    agency that answered every area is then not reminded; the invitation says why the
    round started again and that the answers were carried over, to check and change. Only
    when this round's meeting is within CARRY_OVER_WITHIN of the retired one's: else no
    answers are carried over and every agency is asked afresh."""
    retired = session.execute(
        select(RatingRound.id, RatingRound.closed_at, Meeting.starts_at)
        .join(Meeting, Meeting.id == RatingRound.meeting_id)
        .where(
            RatingRound.forum_id == rating_round.forum_id,
            RatingRound.id != rating_round.id,
            RatingRound.status == RatingRoundStatus.CLOSED,
            RatingRound.closed_at.is_not(None),
            Meeting.status == MeetingStatus.CANCELLED,
            Meeting.note == SCHEDULE_CHANGED,
        )
        .order_by(RatingRound.closed_at.desc(), RatingRound.id.desc())
        .limit(1)
    ).first()
    if retired is None:
        return None
    round_id, closed_at, starts_at = retired
    opened_since = session.scalar(
        select(
            exists().where(
                RatingRound.forum_id == rating_round.forum_id,
                RatingRound.id != round_id,
                RatingRound.id < rating_round.id,
                RatingRound.opens_at >= closed_at,
            )
        )
    )
    if opened_since:
        return None  # an earlier round after the change took them over
    meeting = session.get(Meeting, rating_round.meeting_id)
    assert meeting is not None
    if abs(meeting.starts_at - starts_at) > CARRY_OVER_WITHIN:
        return starts_at, set()  # too far off: the agencies are asked afresh
    active_areas = select(Area.id).where(Area.forum_id == forum.id, Area.active.is_(True))
    active_agencies = select(Agency.id).where(Agency.forum_id == forum.id, Agency.active.is_(True))
    carried: set[int] = set()
    for old in session.scalars(
        select(Rating).where(
            Rating.round_id == round_id,
            Rating.is_current.is_(True),
            Rating.area_id.in_(active_areas),
            Rating.agency_id.in_(active_agencies),
        )
    ):
        carried.add(old.agency_id)
        session.add(
            Rating(
                round_id=rating_round.id,
                agency_id=old.agency_id,
                area_id=old.area_id,
                level=old.level,
                comment=old.comment,
                rated_by=old.rated_by,
                rated_at=old.rated_at,
                is_current=True,
            )
        )
    for seen in session.scalars(
        select(RatingObservation).where(
            RatingObservation.round_id == round_id,
            RatingObservation.agency_id.in_(carried),
        )
    ):
        session.add(
            RatingObservation(
                round_id=rating_round.id,
                agency_id=seen.agency_id,
                text=seen.text,
                written_by=seen.written_by,
                written_at=seen.written_at,
            )
        )
    if carried:
        audit.record(
            session,
            clock,
            actor=SYSTEM_ACTOR,
            action=AuditAction.CREATE,
            object_type="rating",
            object_ref=str(rating_round.id),
            team_id=forum.team_id,
            forum_id=forum.id,
            detail={"carried_over_from": round_id, "agencies": len(carried)},
        )
        session.flush()
    return starts_at, carried


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
    locale_of: LocaleOf | None,
    renders: Renders,
) -> None:
    missed = Missed(forum.name, meeting.starts_at, deadline_at, forum.timezone)
    for user in coordinators(session, forum.id):
        scheduling.enqueue_dms(
            session,
            clock,
            team_id=forum.team_id,
            users=[user],
            payload=renders.to(locale_of, forum, user, renderers.missed, missed),
            key=f"rating_missed:{meeting.id}",
        )


def _invite(
    session: Session,
    clock: Clock,
    forum: Forum,
    meeting: Meeting,
    rating_round: RatingRound,
    renderers: Renderers,
    locale_of: LocaleOf | None,
    renders: Renders,
    *,
    reminder: bool,
    only: Iterable[int] | None = None,
    key: str = "open",
    reopened: bool = False,
    moved: bool = False,
    partly: Mapping[int, tuple[int, int]] | None = None,
    replaced: tuple[dt.datetime, set[int]] | None = None,
) -> int:
    """Queue the round's DM to the representatives of the forum's active agencies (of
    ``only`` when given), once per ``key``, agency and person, each in their own language
    (:func:`domain.i18n.recipient_locale`): rendered once per agency and language
    (``renders``; the invitation names the agency, the round and the forum, never the
    person). ``partly``: the agencies that rated some areas, with (rated, areas), which
    the reminder says instead of "has not answered yet"."""
    today = local_today(forum, clock)
    reps = representatives(session, forum)
    wanted = set(only) if only is not None else None
    calls: list[tuple[str, dict[str, Any]]] = []
    for agency in session.scalars(
        select(Agency)
        .where(Agency.forum_id == forum.id, Agency.active.is_(True))
        .order_by(Agency.position)
    ):
        if wanted is not None and agency.id not in wanted:
            continue
        rated, areas = (partly or {}).get(agency.id, (0, 0))
        invite = Invite(
            round_id=rating_round.id,
            agency_id=agency.id,
            agency_name=agency.name,
            forum_name=forum.name,
            meeting_start=meeting.starts_at,
            deadline_at=rating_round.deadline_at,
            timezone=forum.timezone,
            reminder=reminder,
            reopened=reopened,
            moved=moved,
            rated=rated,
            areas=areas,
            replaced=replaced[0] if replaced else None,
            carried_over=replaced is not None and agency.id in replaced[1],
        )
        for user in recipients(reps.get(agency.id, []), today):
            message = renders.to(locale_of, forum, user, renderers.invite, invite)
            calls.append(
                (
                    f"rating_{key}:{rating_round.id}:{agency.id}:{user}",
                    {"channel": user, **message},
                )
            )
    # The round's DMs in one statement, not one each.
    scheduling.enqueue_all(
        session, clock, team_id=forum.team_id, method="chat.postMessage", calls=calls
    )
    return len(calls)


def _opened_keys(session: Session, round_id: int, key: str = "open") -> set[tuple[int, str]]:
    """The (agency, person) pairs the round's invitation was queued for (its outbox keys;
    ``key`` :data:`REOPEN_KEY`: the invitation again, after the round opened again)."""
    prefix = f"rating_{key}:{round_id}:"
    pairs = set()
    for key in session.scalars(
        select(OutboxMessage.dedupe_key).where(scheduling.key_starts(session, prefix))
    ):
        agency, _, user = key[len(prefix) :].partition(":")
        pairs.add((int(agency), user))
    return pairs


def invite_late_agencies(
    sessions: Sessions,
    clock: Clock,
    renderers: Renderers,
    *,
    locale_of: LocaleOf | None = None,
    renders: Renders | None = None,
) -> int:
    """The round's invitation, once, to an agency none of whose members has it: one added
    to the forum (or taken off and offered again) while the round is open, its members once
    it has some. Before, it only got the later reminders (none in a forum without reminders).
    Only rounds whose forum or members changed since the round opened are looked at; on
    working days in the daytime, as the opening's. Returns how many agencies were invited."""
    renders = renders or Renders()
    now = clock.now()
    with reading(sessions) as session:  # finding what is due only reads
        changed = (Forum.updated_at > RatingRound.opens_at) | exists().where(
            Member.forum_id == RatingRound.forum_id, Member.updated_at > RatingRound.opens_at
        )
        due = [
            rating_round.id
            for rating_round, forum in session.execute(
                select(RatingRound, Forum)
                .join(Forum, RatingRound.forum_id == Forum.id)
                .where(
                    RatingRound.status == RatingRoundStatus.OPEN,
                    RatingRound.deadline_at > now,
                    changed,
                )
                .order_by(RatingRound.id)
            )
            if allowed(now, calendar_of(forum), _zone(forum))
        ]
    return _each(
        sessions,
        "inviting late agencies to rating round",
        due,
        lambda session, round_id: _invite_late(
            session, clock, renderers, round_id, locale_of, renders
        ),
    )


def _invite_late(
    session: Session,
    clock: Clock,
    renderers: Renderers,
    round_id: int,
    locale_of: LocaleOf | None,
    renders: Renders,
) -> bool:
    row = _open_round(session, clock.now(), RatingRound.id == round_id)
    if row is None:
        return False
    rating_round, forum, meeting = row
    invited = _opened_keys(session, round_id)
    reps = representatives(session, forum)
    # An agency none of whose members now was invited: one added, or one taken off and
    # offered again with other members than the ones invited when the round opened. (A
    # newcomer to an agency whose colleague has the invitation is not invited: the agency
    # answers once, and its colleague can.)
    late = [
        agency_id
        for agency_id in session.scalars(
            select(Agency.id).where(Agency.forum_id == forum.id, Agency.active.is_(True))
        )
        if not any((agency_id, m.slack_user_id) in invited for m in reps.get(agency_id, []))
    ]
    if not late:
        return False
    invited_now = _invite(
        session,
        clock,
        forum,
        meeting,
        rating_round,
        renderers,
        locale_of,
        renders,
        reminder=False,
        only=late,
    )
    return invited_now > 0


def send_due_reminders(
    sessions: Sessions,
    clock: Clock,
    renderers: Renderers,
    *,
    replica: str,
    locale_of: LocaleOf | None = None,
    renders: Renders | None = None,
) -> int:
    """Remind the agencies that have not answered. After downtime only the latest due
    reminder goes out (the earlier ones are marked done, late); at night it waits. One
    transaction per round; each agency's reminder rendered once per language (``renders``)."""
    renders = renders or Renders()
    now = clock.now()
    with reading(sessions) as session:  # finding what is due only reads
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
        lambda session, round_id: _remind_one(
            session,
            clock,
            renderers,
            round_id,
            replica=replica,
            locale_of=locale_of,
            renders=renders,
        ),
    )


def _remind_one(
    session: Session,
    clock: Clock,
    renderers: Renderers,
    round_id: int,
    *,
    replica: str,
    locale_of: LocaleOf | None,
    renders: Renders,
) -> bool:
    now = clock.now()
    row = _open_round(session, now, RatingRound.id == round_id)
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
        states = agency_states(session, clock, forum, rating_round)
        missing = [s.agency_id for s in states if s.state in ("missing", "partial")]
        areas = session.scalar(
            select(func.count())
            .select_from(Area)
            .where(Area.forum_id == forum.id, Area.active.is_(True))
        )
        partly = {s.agency_id: (s.rated, areas or 0) for s in states if s.state == "partial"}
        _invite(
            session,
            clock,
            forum,
            meeting,
            rating_round,
            renderers,
            locale_of,
            renders,
            reminder=True,
            only=missing,
            partly=partly,
            key=f"remind:{int(moment.timestamp())}",
        )
        scheduling.complete(session, clock, effect, late=now - moment > dt.timedelta(minutes=30))
        reminded = True
    return reminded


REOPENED = "rating_reopen"
# The meeting of an open round moved, and with it its deadline: the agencies that have not
# answered every area are told the new day and deadline (as after a reopening, once per
# agency, round and deadline; the same outbox keys, so one told either way is not told twice).
MOVED = "rating_moved"
_AGAIN = (REOPENED, MOVED)
# The invitation again's outbox keys: rating_reinvite@<deadline>:<round>:<agency>:<person>
# (before, rating_reopen:<effect>:<round>:…, once per reopening; a new name, so none is
# misread).
REOPEN_KEY = "reinvite"


def _reopen_key(rating_round: RatingRound) -> str:
    """The invitation again's key for the round's deadline now: once per agency, round and
    deadline (a take-up on another day tells them the new one; the same again, nothing)."""
    return f"{REOPEN_KEY}@{int(rating_round.deadline_at.timestamp())}"


def plan_reopened_invites(
    session: Session, clock: Clock, rating_round: RatingRound, *, kind: str = REOPENED
) -> None:
    """The round opened again (its cancelled meeting was taken up again: closing.
    follow_meeting): its invitation goes out again, once per agency, round and deadline, to the
    agencies that have not answered every area, at the next pass on a working day in the daytime
    (:func:`invite_reopened`). One pending effect per reopening; a reopening while the last
    one's DMs are still waiting adds none (they go out with the new day and deadline).
    ``kind`` :data:`MOVED`: the round stayed open but its meeting moved, and its deadline."""
    mine = (
        ScheduledEffect.forum_id == rating_round.forum_id,
        ScheduledEffect.kind == kind,
        ScheduledEffect.subject == str(rating_round.id),
    )
    waiting = select(ScheduledEffect.id).where(
        *mine, ScheduledEffect.status.in_((EffectStatus.PENDING, EffectStatus.CLAIMED))
    )
    if session.scalar(waiting.limit(1)) is not None:
        return
    now = clock.now()
    last = session.scalar(select(func.max(ScheduledEffect.occurrence)).where(*mine))
    # Each reopening its own row, even two within one instant (the key is the occurrence).
    occurrence = now if last is None or last < now else last + dt.timedelta(seconds=1)
    session.add(
        ScheduledEffect(
            forum_id=rating_round.forum_id,
            kind=kind,
            subject=str(rating_round.id),
            occurrence=occurrence,
            due_at=now,
            status=EffectStatus.PENDING,
            late=False,
        )
    )
    session.flush()


def _open_round(
    session: Session, now: dt.datetime, *which: ColumnElement[bool]
) -> tuple[RatingRound, Forum, Meeting] | None:
    """The round (``which``), its forum and meeting, while it is open and its deadline ahead."""
    row = session.execute(
        select(RatingRound, Forum, Meeting)
        .join(Forum, RatingRound.forum_id == Forum.id)
        .join(Meeting, RatingRound.meeting_id == Meeting.id)
        .where(
            *which,
            RatingRound.status == RatingRoundStatus.OPEN,
            RatingRound.deadline_at > now,
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def _unanswered(
    session: Session, clock: Clock, forum: Forum, rating_round: RatingRound
) -> list[int]:
    """The round's agencies that have not rated every area (none, or some)."""
    return [
        s.agency_id
        for s in agency_states(session, clock, forum, rating_round)
        if s.state in ("missing", "partial")
    ]


def invite_reopened(
    sessions: Sessions,
    clock: Clock,
    renderers: Renderers,
    *,
    replica: str,
    locale_of: LocaleOf | None = None,
    renders: Renders | None = None,
) -> int:
    """The invitation again to the agencies that have not answered every area of a round
    that opened again (:func:`plan_reopened_invites`), each person in their own language
    (``locale_of``), once per agency and round however often it opens again (each
    reopening's effect claimed; the DMs keyed by round, agency and person). On working
    days in the daytime, as the opening. A round closed again meanwhile (cancelled again,
    or its deadline passed) sends nothing. Returns how many reopenings were sent."""
    renders = renders or Renders()
    now = clock.now()
    with reading(sessions) as session:  # finding what is due only reads
        due = [
            effect.id
            for effect, forum in session.execute(
                select(ScheduledEffect, Forum)
                .join(Forum, ScheduledEffect.forum_id == Forum.id)
                .where(
                    ScheduledEffect.kind.in_(_AGAIN),
                    ScheduledEffect.due_at <= now,
                    scheduling.open_to_claim(now),
                )
                .order_by(ScheduledEffect.id)
            )
            if allowed(now, calendar_of(forum), _zone(forum))
        ]
    return _each(
        sessions,
        "inviting again to a reopened rating round, effect",
        due,
        lambda session, effect_id: _invite_reopened(
            session,
            clock,
            renderers,
            effect_id,
            replica=replica,
            locale_of=locale_of,
            renders=renders,
        ),
    )


def _invite_reopened(
    session: Session,
    clock: Clock,
    renderers: Renderers,
    effect_id: int,
    *,
    replica: str,
    locale_of: LocaleOf | None,
    renders: Renders,
) -> bool:
    now = clock.now()
    planned = session.get(ScheduledEffect, effect_id)
    if planned is None or planned.kind not in _AGAIN:
        return False
    effect = scheduling.claim(
        session,
        clock,
        forum_id=planned.forum_id,
        kind=planned.kind,
        subject=planned.subject,
        occurrence=planned.occurrence,
        due_at=planned.due_at,
        replica=replica,
    )
    if effect is None:
        return False  # sent already, or another replica is sending it
    row = _open_round(
        session,
        now,
        RatingRound.id == int(effect.subject),
        RatingRound.forum_id == effect.forum_id,
        Meeting.status == MeetingStatus.PLANNED,
    )
    if row is None:
        effect.status, effect.done_at = EffectStatus.SKIPPED, now
        effect.note = "the round closed again before its invitation went out"
        return False
    rating_round, forum, meeting = row
    if not allowed(now, calendar_of(forum), _zone(forum)):
        scheduling.release(effect)  # not at night: the morning's pass sends it
        return False
    # Once per agency, round and deadline: an agency told that the round is open again is
    # not told at each further cancel and take-up to the same time (the reminders follow as
    # for any round); taken up on another day, it is told the new day and deadline.
    key = _reopen_key(rating_round)
    told = {agency for agency, _ in _opened_keys(session, rating_round.id, key)}
    unanswered = [a for a in _unanswered(session, clock, forum, rating_round) if a not in told]
    _invite(
        session,
        clock,
        forum,
        meeting,
        rating_round,
        renderers,
        renders=renders,
        reminder=True,
        reopened=effect.kind == REOPENED,
        moved=effect.kind == MOVED,
        only=unanswered,
        key=key,
        locale_of=locale_of,
    )
    # The reminders already due for the deadline it names are told by it: not a reminder
    # too in the same pass (two DMs in a minute, saying the same).
    for moment in reminder_times(forum, rating_round):
        if moment > now:
            continue
        reminder = scheduling.claim(
            session,
            clock,
            forum_id=forum.id,
            kind="rating_remind",
            subject=str(rating_round.id),
            occurrence=moment,
            due_at=moment,
            replica=replica,
        )
        if reminder is not None:
            reminder.note = "superseded by the invitation again"
            scheduling.complete(session, clock, reminder, late=True)
    scheduling.complete(session, clock, effect, late=now - effect.due_at > dt.timedelta(hours=1))
    return True
