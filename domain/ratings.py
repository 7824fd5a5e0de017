"""Rating rounds and the situation picture (lägesbild).

Before a meeting that has a situation picture, a *rating round* opens: every agency rates
every area of the forum on five levels (normalt · avvikande · oroande · kritiskt ·
allvarligt). One answer per agency and area stands (the latest); earlier answers are kept
with ``is_current`` false. Reminders go to agencies that have not answered, never on days
off or at night; at the deadline the round closes and the aggregate is posted.

Opening, reminding and closing are scheduled effects (domain.scheduling): claimed by one
replica, delivered through the outbox, caught up after downtime. Slack messages are built
by renderers the caller passes in (handlers build Block Kit; the domain never does).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import statistics
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from sqlalchemy import String, cast, desc, exists, func, select, update
from sqlalchemy.orm import Session

from domain import audit, disclosure, meetings, privacy, scheduling
from domain.access import Access
from domain.clock import Clock
from domain.errors import (
    DomainError,
    IdentifyingDataRefused,
    InputErrors,
    InvalidInput,
    NotCoordinator,
)
from domain.i18n import N_, N_plural, Translator, normalize_locale
from domain.meetings import ForumCalendar, calendar_of, working_day
from storage.models import (
    Agency,
    Area,
    AuditAction,
    EffectStatus,
    Forum,
    Meeting,
    MeetingStatus,
    Member,
    Rating,
    RatingObservation,
    RatingRound,
    RatingRoundStatus,
    Role,
    ScheduledEffect,
)

log = logging.getLogger(__name__)

# --- the scale --------------------------------------------------------------------------------

LEVELS: dict[int, str] = {
    1: N_("normal"),
    2: N_("deviating"),
    3: N_("worrying"),
    4: N_("critical"),
    5: N_("serious"),
}
ESCALATE_AT = 4  # kritiskt or allvarligt alerts the coordinators at once
JUMP = 2  # … and so does a jump of two levels since the agency's previous rating
DISAGREEMENT = 2  # agencies two or more levels apart
COMMENT_MAX = 500
OBSERVATION_MAX = 1000  # "Vad ser ni just nu?": one free text per agency and round
HISTORY_ROUNDS = 12  # rounds in the trend chart (and the trend's baseline is the latest)
EXPORT_MAX_ROUNDS = 120

# Never at night: reminders (and catch-up) wait for the day, in the forum's time zone.
DAY_START = dt.time(7, 0)
DAY_END = dt.time(21, 0)
OPEN_TIME = dt.time(8, 0)
LOOKAHEAD = dt.timedelta(days=22)  # the earliest a round can open (days_before ≤ 21)


def level_label(t: Translator, level: int | None) -> str:
    return t(LEVELS[level]) if level in LEVELS else "–"


# --- per-forum settings -----------------------------------------------------------------------


class Cadence(enum.StrEnum):
    NONE = "none"
    EVERY = "every"
    EVERY_OTHER = "every_other"
    CHOSEN = "chosen"


CADENCE_LABELS: dict[Cadence, str] = {
    Cadence.NONE: N_("No situation picture"),
    Cadence.EVERY: N_("Every meeting"),
    Cadence.EVERY_OTHER: N_("Every other meeting"),
    Cadence.CHOSEN: N_("Meetings I choose"),
}
REMINDER_CHOICES: tuple[int, ...] = (1, 2, 4, 24, 48, 72)


@dataclass(frozen=True)
class RatingSettings:
    cadence: Cadence = Cadence.NONE
    days_before: int = 5
    deadline_days_before: int = 1
    deadline_time: dt.time = dt.time(12, 0)
    reminder_hours: tuple[int, ...] = (48, 2)

    def as_settings(self) -> dict[str, Any]:
        return {
            "situation_picture": self.cadence.value,
            "rating_days_before": self.days_before,
            "rating_deadline_days_before": self.deadline_days_before,
            "rating_deadline_time": self.deadline_time.strftime("%H:%M"),
            "rating_reminder_hours": list(self.reminder_hours),
        }


def rating_settings(forum: Forum) -> RatingSettings:
    """The forum's situation-picture settings; anything missing or unreadable is the default."""
    raw = forum.settings or {}
    default = RatingSettings()
    try:
        cadence = Cadence(raw.get("situation_picture", "none"))
    except ValueError:
        cadence = default.cadence

    def number(key: str, low: int, high: int, fallback: int) -> int:
        value = raw.get(key, fallback)
        return value if isinstance(value, int) and low <= value <= high else fallback

    try:
        deadline_time = dt.time.fromisoformat(str(raw.get("rating_deadline_time", "12:00")))
    except ValueError:
        deadline_time = default.deadline_time
    hours = raw.get("rating_reminder_hours", list(default.reminder_hours))
    reminder_hours = (
        tuple(sorted({h for h in hours if isinstance(h, int) and 1 <= h <= 24 * 14}, reverse=True))
        if isinstance(hours, list)
        else default.reminder_hours
    )
    return RatingSettings(
        cadence=cadence,
        days_before=number("rating_days_before", 1, 21, default.days_before),
        deadline_days_before=number(
            "rating_deadline_days_before", 0, 7, default.deadline_days_before
        ),
        deadline_time=deadline_time,
        reminder_hours=reminder_hours,
    )


def check_settings(
    *,
    cadence: str | None,
    days_before: str | None,
    deadline_days_before: str | None,
    deadline_time: dt.time | None,
    reminder_hours: Sequence[str],
) -> RatingSettings:
    """Check what a coordinator chose in the settings modal (errors on their fields)."""
    errors: dict[str, DomainError] = {}
    try:
        chosen = Cadence(cadence or "")
    except ValueError:
        errors["cadence"] = InvalidInput(N_("Choose when there is a situation picture."))
        chosen = Cadence.NONE
    days = int(days_before) if days_before and days_before.isdigit() else -1
    if not 1 <= days <= 21:
        errors["days_before"] = InvalidInput(N_("Open the round 1–21 days before the meeting."))
    dl_days = (
        int(deadline_days_before) if deadline_days_before and deadline_days_before.isdigit() else -1
    )
    if not 0 <= dl_days <= 7:
        errors["deadline_days"] = InvalidInput(N_("Set the deadline 0–7 days before."))
    elif days >= 1 and dl_days >= days:
        errors["deadline_days"] = InvalidInput(N_("The deadline must come after the round opens."))
    time = deadline_time or dt.time(12, 0)
    if not DAY_START <= time < DAY_END:
        errors["deadline_time"] = InvalidInput(
            N_("Choose a deadline in the daytime (07:00–21:00).")
        )
    hours = sorted({int(h) for h in reminder_hours if h.isdigit()}, reverse=True)
    if any(h not in REMINDER_CHOICES for h in hours):
        errors["reminders"] = InvalidInput(N_("Choose reminders from the list."))
    if errors:
        for key, err in errors.items():
            err.field = key
        raise InputErrors(errors)
    return RatingSettings(chosen, days, dl_days, time, tuple(hours))


def save_settings(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    settings: RatingSettings,
    chosen_meeting_ids: Sequence[int] = (),
) -> None:
    """Store the forum's settings; with ``chosen`` cadence, mark the chosen meetings."""
    if not access.is_coordinator:
        raise NotCoordinator()
    forum = access.forum
    forum.settings = {**(forum.settings or {}), **settings.as_settings()}
    forum.updated_at = clock.now()
    if settings.cadence is Cadence.CHOSEN:
        upcoming = meetings.upcoming(session, clock, forum, count=CHOOSABLE)
        wanted = set(chosen_meeting_ids)
        for meeting in upcoming:
            has_round = session.scalar(select(exists().where(RatingRound.meeting_id == meeting.id)))
            if not has_round:
                meeting.has_situation_picture = meeting.id in wanted
    audit.record(
        session,
        clock,
        actor=access.member.slack_user_id,
        action=AuditAction.UPDATE,
        object_type="forum",
        object_ref=forum.code,
        team_id=forum.team_id,
        forum_id=forum.id,
        actor_agency_id=access.member.agency_id,
        detail={"situation_picture": settings.as_settings()},
    )


CHOOSABLE = 12


def choosable_meetings(session: Session, clock: Clock, forum: Forum) -> list[Meeting]:
    return meetings.upcoming(session, clock, forum, count=CHOOSABLE)


# --- times ------------------------------------------------------------------------------------


def _zone(forum: Forum) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(forum.timezone)


def allowed(moment: dt.datetime, calendar: ForumCalendar, zone: dt.tzinfo) -> bool:
    """A working day (no weekend, no public holiday), in the daytime."""
    local = moment.astimezone(zone)
    return working_day(local.date(), calendar) and DAY_START <= local.time() < DAY_END


def next_allowed(moment: dt.datetime, calendar: ForumCalendar, zone: dt.tzinfo) -> dt.datetime:
    """``moment`` if allowed, else the next working day's morning."""
    local = moment.astimezone(zone)
    for _ in range(40):
        if working_day(local.date(), calendar) and DAY_START <= local.time() < DAY_END:
            return local.astimezone(dt.UTC)
        if working_day(local.date(), calendar) and local.time() < DAY_START:
            local = dt.datetime.combine(local.date(), DAY_START, tzinfo=zone)
        else:
            nxt = local.date() + dt.timedelta(days=1)
            local = dt.datetime.combine(nxt, DAY_START, tzinfo=zone)
    return local.astimezone(dt.UTC)


def previous_allowed(moment: dt.datetime, calendar: ForumCalendar, zone: dt.tzinfo) -> dt.datetime:
    """``moment`` if allowed, else the evening of the working day before."""
    evening = dt.time(20, 0)
    local = moment.astimezone(zone)
    for _ in range(40):
        if working_day(local.date(), calendar) and DAY_START <= local.time() < DAY_END:
            return local.astimezone(dt.UTC)
        if working_day(local.date(), calendar) and local.time() >= DAY_END:
            local = dt.datetime.combine(local.date(), evening, tzinfo=zone)
        else:
            prev = local.date() - dt.timedelta(days=1)
            local = dt.datetime.combine(prev, evening, tzinfo=zone)
    return local.astimezone(dt.UTC)


def round_times(
    forum: Forum, meeting: Meeting, settings: RatingSettings
) -> tuple[dt.datetime, dt.datetime]:
    """When the round for ``meeting`` opens and its deadline (UTC).

    The deadline is N days before at the chosen time, moved back to a working day; the round
    opens ``days_before`` days before the meeting at 08:00, also on a working day."""
    zone = _zone(forum)
    calendar = calendar_of(forum)
    start = meeting.starts_at.astimezone(zone)
    day = start.date() - dt.timedelta(days=settings.deadline_days_before)
    for _ in range(10):
        if working_day(day, calendar) or day == start.date():
            break
        day -= dt.timedelta(days=1)
    deadline = dt.datetime.combine(day, settings.deadline_time, tzinfo=zone)
    if deadline >= start:
        deadline = start - dt.timedelta(hours=1)
    open_day = start.date() - dt.timedelta(days=settings.days_before)
    for _ in range(10):
        if working_day(open_day, calendar):
            break
        open_day -= dt.timedelta(days=1)
    opens = dt.datetime.combine(open_day, OPEN_TIME, tzinfo=zone)
    if opens >= deadline:
        opens = deadline - dt.timedelta(days=1)
    return opens.astimezone(dt.UTC), deadline.astimezone(dt.UTC)


def reminder_times(forum: Forum, rating_round: RatingRound) -> list[dt.datetime]:
    """The round's reminders: N hours before the deadline, moved off days off and nights
    (to the next allowed time, or back to the one before if that would miss the deadline)."""
    zone = _zone(forum)
    calendar = calendar_of(forum)
    deadline = rating_round.deadline_at
    times: set[dt.datetime] = set()
    for hours in rating_settings(forum).reminder_hours:
        wanted = deadline - dt.timedelta(hours=hours)
        moment = next_allowed(wanted, calendar, zone)
        if moment >= deadline:
            moment = previous_allowed(wanted, calendar, zone)
        if rating_round.opens_at < moment < deadline:
            times.add(moment)
    return sorted(times)


# --- who rates --------------------------------------------------------------------------------


def local_today(forum: Forum, clock: Clock) -> dt.date:
    return clock.now().astimezone(_zone(forum)).date()


def _away(member: Member, day: dt.date) -> bool:
    return member.away_until is not None and member.away_until >= day


def representatives(session: Session, forum: Forum) -> dict[int, list[Member]]:
    """Active members by agency (granskare review the log; they do not rate)."""
    by_agency: dict[int, list[Member]] = defaultdict(list)
    for member in session.scalars(
        select(Member)
        .where(
            Member.forum_id == forum.id,
            Member.active.is_(True),
            Member.role != Role.REVIEWER,
        )
        .order_by(Member.id)
    ):
        by_agency[member.agency_id].append(member)
    return by_agency


def recipients(reps: Sequence[Member], day: dt.date) -> list[str]:
    """Who of an agency gets the round's DMs on ``day``: everyone not away (stand-ins are
    members of the same agency, so they are among them)."""
    return [m.slack_user_id for m in reps if not _away(m, day)]


def agency_away(reps: Sequence[Member], day: dt.date) -> bool:
    return bool(reps) and all(_away(m, day) for m in reps)


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


def _forum_t(forum: Forum) -> Translator:
    return Translator(normalize_locale(forum.language))


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


def _coordinators(session: Session, forum: Forum) -> list[str]:
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                Member.forum_id == forum.id,
                Member.active.is_(True),
                Member.role.in_((Role.COORDINATOR, Role.ADMIN)),
            )
            .order_by(Member.id)
        )
    )


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
    for user in _coordinators(session, forum):
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


# --- answering --------------------------------------------------------------------------------


class RoundClosed(DomainError):
    msgid = N_(
        "Thank you! This rating round closed on {closed}, so your answer could not be "
        "included in the situation picture. You are welcome to raise it at the meeting."
    )


class RoundNotFound(DomainError):
    msgid = N_("That rating round does not exist in this forum.")


class NotRepresented(DomainError):
    msgid = N_(
        "You do not represent {agency} in this forum, so you cannot rate for it. "
        "Ask the forum's coordinator if this is wrong."
    )


@dataclass(frozen=True)
class FormRow:
    area_id: int
    name: str
    level: int | None  # this round's current answer
    comment: str | None
    previous: int | None  # the agency's latest rating in an earlier round


@dataclass(frozen=True)
class RatingForm:
    round_id: int
    agency_id: int
    agency_name: str
    forum_name: str
    meeting_start: dt.datetime
    deadline_at: dt.datetime
    timezone: str
    rows: tuple[FormRow, ...]
    answered_by: str | None  # who gave the current answer (their own agency sees it)
    observation: str | None = None  # what the agency sees right now (its current answer)


def _load_round(
    session: Session, forum: Forum, round_id: int, *, lock: bool = False
) -> RatingRound:
    query = select(RatingRound).where(RatingRound.id == round_id, RatingRound.forum_id == forum.id)
    if lock:
        query = query.with_for_update()
    rating_round = session.scalar(query.execution_options(populate_existing=True))
    if rating_round is None:
        raise RoundNotFound()
    return rating_round


def _require_open(rating_round: RatingRound, forum: Forum, clock: Clock) -> None:
    if rating_round.status is RatingRoundStatus.OPEN and rating_round.deadline_at > clock.now():
        return
    closed = rating_round.closed_at or rating_round.deadline_at
    t = _forum_t(forum)
    raise RoundClosed(closed=t.day_time(closed, _zone(forum)))


def _require_agency(access: Access, agency_id: int | None) -> Agency:
    agency = access.member.agency
    if agency_id is not None and agency_id != access.member.agency_id:
        other = next((a for a in access.forum.agencies if a.id == agency_id), None)
        raise NotRepresented(agency=other.name if other else "?")
    if not agency.active:
        raise NotRepresented(agency=agency.name)
    return agency


def _previous_levels(session: Session, rating_round: RatingRound, agency_id: int) -> dict[int, int]:
    """The agency's latest current rating per area from any earlier closed round of the
    forum (an agency that skipped the last round still has its rating from before), in one
    query."""
    ranked = (
        select(
            Rating.area_id.label("area_id"),
            Rating.level.label("level"),
            func.row_number()
            .over(
                partition_by=Rating.area_id,
                order_by=(Meeting.starts_at.desc(), RatingRound.id.desc()),
            )
            .label("rank"),
        )
        .join(RatingRound, Rating.round_id == RatingRound.id)
        .join(Meeting, RatingRound.meeting_id == Meeting.id)
        .where(
            Rating.agency_id == agency_id,
            Rating.is_current.is_(True),
            RatingRound.forum_id == rating_round.forum_id,
            RatingRound.id != rating_round.id,
            RatingRound.status == RatingRoundStatus.CLOSED,
            Meeting.starts_at
            < select(Meeting.starts_at)
            .where(Meeting.id == rating_round.meeting_id)
            .scalar_subquery(),
        )
        .subquery()
    )
    return {
        area_id: level
        for area_id, level in session.execute(
            select(ranked.c.area_id, ranked.c.level).where(ranked.c.rank == 1)
        )
    }


def _current(session: Session, round_id: int, agency_id: int) -> dict[int, Rating]:
    return {
        r.area_id: r
        for r in session.scalars(
            select(Rating).where(
                Rating.round_id == round_id,
                Rating.agency_id == agency_id,
                Rating.is_current.is_(True),
            )
        )
    }


def rating_form(
    session: Session, clock: Clock, *, access: Access, round_id: int, agency_id: int | None
) -> RatingForm:
    """The rating modal's content for the member's agency (refused when closed, or when the
    member does not represent the agency the DM was for)."""
    forum = access.forum
    rating_round = _load_round(session, forum, round_id)
    agency = _require_agency(access, agency_id)
    _require_open(rating_round, forum, clock)
    meeting = session.get(Meeting, rating_round.meeting_id)
    assert meeting is not None
    current = _current(session, rating_round.id, agency.id)
    previous = _previous_levels(session, rating_round, agency.id)
    areas = session.scalars(
        select(Area).where(Area.forum_id == forum.id, Area.active.is_(True)).order_by(Area.position)
    ).all()
    latest = max(current.values(), key=lambda r: r.rated_at, default=None)
    observation = _observation(session, rating_round.id, agency.id)
    return RatingForm(
        round_id=rating_round.id,
        agency_id=agency.id,
        agency_name=agency.name,
        forum_name=forum.name,
        meeting_start=meeting.starts_at,
        deadline_at=rating_round.deadline_at,
        timezone=forum.timezone,
        rows=tuple(
            FormRow(
                area_id=a.id,
                name=a.name,
                level=current[a.id].level if a.id in current else None,
                comment=current[a.id].comment if a.id in current else None,
                previous=previous.get(a.id),
            )
            for a in areas
        ),
        answered_by=latest.rated_by if latest else None,
        observation=observation.text if observation else None,
    )


def _observation(session: Session, round_id: int, agency_id: int) -> RatingObservation | None:
    return session.scalar(
        select(RatingObservation).where(
            RatingObservation.round_id == round_id, RatingObservation.agency_id == agency_id
        )
    )


@dataclass(frozen=True)
class Answer:
    area_id: int
    level: int | None
    comment: str | None


@dataclass(frozen=True)
class Escalation:
    area: str
    agency: str
    level: int
    previous: int | None


@dataclass(frozen=True)
class Saved:
    forum_name: str
    agency_name: str
    changed: int
    complete: bool  # every area of the forum has this agency's answer
    escalations: tuple[Escalation, ...]
    coordinators: tuple[str, ...]


def submit_ratings(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    round_id: int,
    agency_id: int | None,
    answers: Sequence[Answer],
    observation: str | None = None,
) -> Saved:
    """Save the agency's answer for some areas (one page of the modal) and, when the page
    asks it (``observation`` not None; empty clears it), what the agency sees right now.
    The round row is locked, so two representatives saving at once, or the deadline closing
    the round at that moment, happen one after the other."""
    forum = access.forum
    rating_round = _load_round(session, forum, round_id, lock=True)
    agency = _require_agency(access, agency_id)
    _require_open(rating_round, forum, clock)
    areas = {
        a.id: a
        for a in session.scalars(
            select(Area).where(Area.forum_id == forum.id, Area.active.is_(True))
        )
    }
    errors: dict[str, DomainError] = {}
    today = local_today(forum, clock)
    texts = {f"comment_{a.area_id}": a.comment for a in answers}
    seen = " ".join((observation or "").split()) if observation is not None else None
    if seen:
        texts[OBSERVATION_FIELD] = seen
    for fld, msgid in privacy.check_fields(texts, today=today).items():
        errors[fld] = IdentifyingDataRefused(msgid, field=fld)
    if seen and len(seen) > OBSERVATION_MAX:
        errors.setdefault(
            OBSERVATION_FIELD,
            InvalidInput(
                N_plural("Keep it under {n} character.", "Keep it under {n} characters."),
                field=OBSERVATION_FIELD,
                n=OBSERVATION_MAX,
            ),
        )
    for answer in answers:
        if answer.area_id not in areas:
            errors[f"level_{answer.area_id}"] = InvalidInput(
                N_("This area is no longer rated. Close the form and open it again."),
                field=f"level_{answer.area_id}",
            )
        elif answer.level not in LEVELS:
            errors[f"level_{answer.area_id}"] = InvalidInput(
                N_("Choose a level for {area}."),
                field=f"level_{answer.area_id}",
                area=areas[answer.area_id].name,
            )
        if answer.comment and len(answer.comment) > COMMENT_MAX:
            errors.setdefault(
                f"comment_{answer.area_id}",
                InvalidInput(
                    N_plural(
                        "A comment can be at most {n} character.",
                        "A comment can be at most {n} characters.",
                    ),
                    field=f"comment_{answer.area_id}",
                    n=COMMENT_MAX,
                ),
            )
    if errors:
        raise InputErrors(errors)
    now = clock.now()
    current = _current(session, rating_round.id, agency.id)
    previous = _previous_levels(session, rating_round, agency.id)
    changed: list[Answer] = []
    for answer in answers:
        comment = (answer.comment or "").strip() or None
        old = current.get(answer.area_id)
        if old is not None and old.level == answer.level and old.comment == comment:
            continue
        changed.append(Answer(answer.area_id, answer.level, comment))
    if changed:
        session.execute(
            update(Rating)
            .where(
                Rating.round_id == rating_round.id,
                Rating.agency_id == agency.id,
                Rating.area_id.in_([a.area_id for a in changed]),
                Rating.is_current.is_(True),
            )
            .values(is_current=False)
            .execution_options(synchronize_session=False)
        )
    observed = (
        _save_observation(session, rating_round.id, agency.id, seen, access, now)
        if seen is not None
        else False
    )
    escalations = []
    for answer in changed:
        assert answer.level is not None
        session.add(
            Rating(
                round_id=rating_round.id,
                agency_id=agency.id,
                area_id=answer.area_id,
                level=answer.level,
                comment=answer.comment,
                rated_by=access.member.slack_user_id,
                rated_at=now,
                is_current=True,
            )
        )
        old = current.get(answer.area_id)
        if old is not None and old.level == answer.level:
            continue  # only the comment changed: nothing new to alert about
        before = previous.get(answer.area_id)
        jumped = before is not None and answer.level - before >= JUMP
        if answer.level >= ESCALATE_AT or jumped:
            escalations.append(
                Escalation(
                    area=areas[answer.area_id].name,
                    agency=agency.name,
                    level=answer.level,
                    previous=before,
                )
            )
    session.flush()
    answered = session.scalar(
        select(func.count())
        .select_from(Rating)
        .where(
            Rating.round_id == rating_round.id,
            Rating.agency_id == agency.id,
            Rating.is_current.is_(True),
            Rating.area_id.in_(list(areas)),
        )
    )
    if changed or observed:
        audit.record(
            session,
            clock,
            actor=access.member.slack_user_id,
            action=AuditAction.UPDATE if current else AuditAction.CREATE,
            object_type="rating",
            object_ref=str(rating_round.id),
            team_id=forum.team_id,
            forum_id=forum.id,
            actor_agency_id=access.member.agency_id,
            detail={"areas": len(changed), "observation": observed},
        )
    coordinators = session.scalars(
        select(Member.slack_user_id)
        .where(
            Member.forum_id == forum.id,
            Member.active.is_(True),
            Member.role.in_((Role.COORDINATOR, Role.ADMIN)),
        )
        .order_by(Member.id)
    ).all()
    return Saved(
        forum_name=forum.name,
        agency_name=agency.name,
        changed=len(changed),
        complete=(answered or 0) >= len(areas),
        escalations=tuple(escalations),
        coordinators=tuple(coordinators) if escalations else (),
    )


OBSERVATION_FIELD = "observation"


def _save_observation(
    session: Session,
    round_id: int,
    agency_id: int,
    text: str,
    access: Access,
    now: dt.datetime,
) -> bool:
    """Store (or clear, when empty) what the agency sees; True when it changed."""
    row = _observation(session, round_id, agency_id)
    if not text:
        if row is None:
            return False
        session.delete(row)
        return True
    if row is not None and row.text == text:
        return False
    if row is None:
        row = RatingObservation(round_id=round_id, agency_id=agency_id)
        session.add(row)
    row.text = text
    row.written_by = access.member.slack_user_id
    row.written_at = now
    return True


# --- status for coordinators ------------------------------------------------------------------

AgencyState = Literal["answered", "partial", "missing", "away"]


@dataclass(frozen=True)
class AgencyStatus:
    agency_id: int
    name: str
    state: AgencyState
    rated: int
    answered_at: dt.datetime | None


def agency_states(
    session: Session, clock: Clock, forum: Forum, rating_round: RatingRound
) -> list[AgencyStatus]:
    """Every active agency (and any that rated): answered, partly, not, or away."""
    area_ids = list(
        session.scalars(select(Area.id).where(Area.forum_id == forum.id, Area.active.is_(True)))
    )
    counts = {
        agency_id: (n, at)
        for agency_id, n, at in session.execute(
            select(Rating.agency_id, func.count(), func.max(Rating.rated_at))
            .where(
                Rating.round_id == rating_round.id,
                Rating.is_current.is_(True),
                Rating.area_id.in_(area_ids),
            )
            .group_by(Rating.agency_id)
        )
    }
    reps = representatives(session, forum)
    day = (
        rating_round.deadline_at.astimezone(_zone(forum)).date()
        if rating_round.status is RatingRoundStatus.CLOSED
        else local_today(forum, clock)
    )
    result = []
    for agency in session.scalars(
        select(Agency).where(Agency.forum_id == forum.id).order_by(Agency.position)
    ):
        n, at = counts.get(agency.id, (0, None))
        if not agency.active and not n:
            continue
        state: AgencyState
        if area_ids and n >= len(area_ids):
            state = "answered"
        elif n:
            state = "partial"
        elif agency_away(reps.get(agency.id, []), day):
            state = "away"
        else:
            state = "missing"
        result.append(AgencyStatus(agency.id, agency.name, state, n, at))
    return result


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
        .where(RatingRound.forum_id == forum.id, RatingRound.status == RatingRoundStatus.CLOSED)
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
    rating_round = _load_round(session, access.forum, round_id, lock=True)
    _require_open(rating_round, access.forum, clock)
    _close(session, clock, rating_round.id, renderers, early=True, on_closed=on_closed)
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
    _require_open(rating_round, access.forum, clock)
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


# --- away and stand-in ------------------------------------------------------------------------


@dataclass(frozen=True)
class Absence:
    until: dt.date | None
    stand_in: str | None
    agency_name: str


def set_away(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    until: dt.date | None,
    stand_in: str | None,
) -> Absence:
    """Mark the member away until a day (inclusive), naming a stand-in from their agency;
    ``until=None`` means back. Every change is in the audit log."""
    forum, member = access.forum, access.member
    today = local_today(forum, clock)
    if until is not None and until < today:
        raise InvalidInput(N_("Choose a day from today on."))
    if until is not None and until > today + dt.timedelta(days=366):
        raise InvalidInput(N_("Choose a day within a year."))
    stand_in_member: Member | None = None
    if stand_in:
        if until is None:
            raise InvalidInput(N_("A stand-in is named together with the day you are back."))
        stand_in_member = session.scalar(
            select(Member).where(
                Member.forum_id == forum.id,
                Member.slack_user_id == stand_in,
                Member.active.is_(True),
            )
        )
        if stand_in_member is None or stand_in_member.agency_id != member.agency_id:
            raise InvalidInput(
                N_("The stand-in must be a member of the forum from your agency ({agency})."),
                agency=member.agency.name,
            )
        if stand_in_member.id == member.id:
            raise InvalidInput(N_("Name someone else as your stand-in."))
        if _away(stand_in_member, today):
            raise InvalidInput(N_("Your stand-in is away too. Name someone else."))
    member.away_until = until
    member.stand_in_member_id = stand_in_member.id if stand_in_member else None
    member.updated_at = clock.now()
    audit.record(
        session,
        clock,
        actor=member.slack_user_id,
        action=AuditAction.UPDATE,
        object_type="absence",
        object_ref=member.slack_user_id,
        team_id=forum.team_id,
        forum_id=forum.id,
        actor_agency_id=member.agency_id,
        detail={
            "away_until": until.isoformat() if until else None,
            "stand_in": stand_in_member.slack_user_id if stand_in_member else None,
        },
    )
    return Absence(
        until, stand_in_member.slack_user_id if stand_in_member else None, member.agency.name
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
    trend: Trend | None  # the highest level against the previous closed round's highest
    history: tuple[float | None, ...]  # medians of the earlier rounds, oldest first
    median_trend: Trend | None = None  # the median against the previous round's median
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


def picture_for_meeting(session: Session, meeting: Meeting) -> Picture | None:
    """The situation picture of a meeting's closed round, or None (for the agenda)."""
    rating_round = session.scalar(select(RatingRound).where(RatingRound.meeting_id == meeting.id))
    if rating_round is None or rating_round.status is not RatingRoundStatus.CLOSED:
        return None
    return build_picture(session, rating_round)


def build_picture(session: Session, rating_round: RatingRound) -> Picture:
    """The aggregate of a round with trends, in a fixed number of queries (7) however many
    agencies, areas and earlier rounds there are."""
    forum, meeting = session.execute(
        select(Forum, Meeting)
        .join(Meeting, Meeting.forum_id == Forum.id)
        .where(Meeting.id == rating_round.meeting_id)
    ).one()
    agencies = session.scalars(
        select(Agency).where(Agency.forum_id == forum.id).order_by(Agency.position, Agency.id)
    ).all()
    areas = session.scalars(
        select(Area).where(Area.forum_id == forum.id).order_by(Area.position, Area.id)
    ).all()
    ratings = session.execute(
        select(Rating.agency_id, Rating.area_id, Rating.level).where(
            Rating.round_id == rating_round.id, Rating.is_current.is_(True)
        )
    ).all()
    earlier = session.execute(
        select(RatingRound.id, Meeting.starts_at)
        .join(Meeting, RatingRound.meeting_id == Meeting.id)
        .where(
            RatingRound.forum_id == forum.id,
            RatingRound.status == RatingRoundStatus.CLOSED,
            Meeting.starts_at < meeting.starts_at,
        )
        .order_by(desc(Meeting.starts_at))
        .limit(HISTORY_ROUNDS)
    ).all()
    earlier_ids = [r for r, _ in earlier]
    history_counts: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    if earlier_ids:
        for round_id, area_id, level, n in session.execute(
            select(Rating.round_id, Rating.area_id, Rating.level, func.count())
            .where(Rating.round_id.in_(earlier_ids), Rating.is_current.is_(True))
            .group_by(Rating.round_id, Rating.area_id, Rating.level)
        ):
            history_counts[(round_id, area_id)][level] = n
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
        rows.append(
            AreaPicture(
                area_id=area.id,
                name=area.name,
                levels=levels,
                highest=highest,
                median=median,
                count=len(given),
                disagreement=bool(given) and max(given) - min(given) >= DISAGREEMENT,
                trend=_trend(highest, history_highest[-1] if history_highest else None),
                history=history,
                median_trend=_trend(median, history[-1] if history else None),
                history_highest=history_highest,
            )
        )
    rows.sort(key=lambda r: (-(r.highest or 0), -(r.median or 0), -r.count, r.name.casefold()))
    area_count = len([a for a in shown_areas if a.active])
    missing, away = [], []
    for agency in shown_agencies:
        answered = sum(1 for area in shown_areas if area.active and (agency.id, area.id) in matrix)
        if area_count and answered >= area_count:
            continue
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
    )


# --- exports ----------------------------------------------------------------------------------

EXPORT_HEADERS = (
    N_("Meeting"),
    N_("Area"),
    N_("Agency"),
    N_("Level"),
    N_("Level name"),
    N_("Highest"),
    N_("Median"),
    N_("Agencies rated"),
    N_("Disagreement"),
    N_("Trend (highest level)"),
    N_("Trend (median)"),
)
SUMMARY_HEADERS = EXPORT_HEADERS[:2] + EXPORT_HEADERS[5:]
TREND_LABELS: dict[str, str] = {
    "up": N_("↑ worse"),
    "down": N_("↓ better"),
    "same": N_("→ same"),
}


@dataclass(frozen=True)
class ExportData:
    forum_code: str
    rounds: int
    headers: tuple[str, ...]
    rows: list[list[Any]]
    summary_headers: tuple[str, ...]
    summary: list[list[Any]]


def export_rounds(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    start: dt.date | None = None,
    end: dt.date | None = None,
    t: Translator | None = None,
) -> ExportData:
    """Every agency × every area of the closed rounds in a period (or the latest round), for
    the municipality's lägesbild. Levels only: comments stay in Slack. Coordinators only;
    the export is an audited event. Headers and values in ``t``'s language (the forum's,
    Swedish by default, when not given)."""
    if not access.is_coordinator:
        raise NotCoordinator()
    forum = access.forum
    zone = _zone(forum)
    query = (
        select(RatingRound)
        .join(Meeting, RatingRound.meeting_id == Meeting.id)
        .where(RatingRound.forum_id == forum.id, RatingRound.status == RatingRoundStatus.CLOSED)
    )
    if start is not None or end is not None:
        if start and end and end < start:
            raise InvalidInput(N_("The period ends before it starts."))
        if start:
            query = query.where(
                Meeting.starts_at >= dt.datetime.combine(start, dt.time(0), tzinfo=zone)
            )
        if end:
            query = query.where(
                Meeting.starts_at
                < dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
            )
        rounds = session.scalars(query.order_by(Meeting.starts_at).limit(EXPORT_MAX_ROUNDS)).all()
    else:
        rounds = session.scalars(query.order_by(Meeting.starts_at.desc()).limit(1)).all()
    if not rounds:
        raise InvalidInput(N_("There is no closed rating round to export yet."))
    t = t or _forum_t(forum)
    rows: list[list[Any]] = []
    summary: list[list[Any]] = []
    for rating_round in rounds:
        picture = build_picture(session, rating_round)
        day = picture.meeting_start.astimezone(zone).date().isoformat()
        for area in picture.areas:
            aggregate = [
                area.highest,
                area.median,
                area.count,
                t("Yes") if area.disagreement else t("No"),
                t(TREND_LABELS[area.trend]) if area.trend else "",
                t(TREND_LABELS[area.median_trend]) if area.median_trend else "",
            ]
            summary.append([day, area.name, *aggregate])
            for agency, level in zip(picture.agencies, area.levels, strict=True):
                rows.append(
                    [
                        day,
                        area.name,
                        agency,
                        level,
                        level_label(t, level) if level else "",
                        *aggregate,
                    ]
                )
    audit.record(
        session,
        clock,
        actor=access.member.slack_user_id,
        action=AuditAction.EXPORT,
        object_type="rating_round",
        object_ref=",".join(str(r.id) for r in rounds)[:64],
        team_id=forum.team_id,
        forum_id=forum.id,
        actor_agency_id=access.member.agency_id,
        detail={"rounds": len(rounds)},
    )
    return ExportData(
        forum_code=forum.code,
        rounds=len(rounds),
        headers=tuple(t(h) for h in EXPORT_HEADERS),
        rows=rows,
        summary_headers=tuple(t(h) for h in SUMMARY_HEADERS),
        summary=summary,
    )


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
