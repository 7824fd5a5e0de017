"""A forum's meetings: schedule occurrences minus Swedish public holidays, with single
meetings moved or cancelled by a coordinator.

Meeting rows are kept a few months ahead (``sync_meetings``), keyed by the schedule
occurrence they came from, so an agenda, a rating round or a case refers to one row
whether the meeting was moved or not. Each row knows when its agenda is due, so the
scheduler finds due agendas with one indexed query however many forums there are.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import holidays
from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from domain import audit
from domain.clock import Clock
from domain.errors import DomainError, InvalidInput
from domain.forums import Access, forum_schedule
from domain.i18n import N_, Locale, Translator
from domain.schedule import Schedule, occurrences
from storage.models import (
    AgendaItem,
    AuditAction,
    Case,
    CaseStatus,
    Forum,
    Meeting,
    MeetingStatus,
    RatingRound,
)

# Meeting rows exist this far ahead; the scheduler extends them when less than SYNC_AHEAD
# remains, so forums are re-planned a few times a month, not every minute.
HORIZON = dt.timedelta(days=120)
SYNC_AHEAD = dt.timedelta(days=60)
# Past meetings are left as they were; planning starts this far back so today's meeting
# (already started) is not re-planned away.
DEFAULT_AGENDA_TIME = dt.time(8, 0)


class HolidayPolicy(enum.StrEnum):
    SKIP = "skip"
    EARLIER = "earlier"  # the working day before
    LATER = "later"  # the working day after


# Days that are not public holidays but that many municipalities treat as days off. In the
# `holidays` package they are in the DE_FACTO category (pinned version in pyproject).
EXTRA_DAYS_OFF: dict[str, str] = {
    "midsummer_eve": "Midsummer Eve",
    "christmas_eve": "Christmas Eve",
    "new_years_eve": "New Year's Eve",
}
EXTRA_DAY_LABELS: dict[str, str] = {
    "midsummer_eve": N_("Midsummer Eve"),
    "christmas_eve": N_("Christmas Eve"),
    "new_years_eve": N_("New Year's Eve"),
}


@dataclass(frozen=True)
class ForumCalendar:
    """The per-forum choices that decide when meetings and agendas happen."""

    holiday_policy: HolidayPolicy = HolidayPolicy.SKIP
    extra_days_off: frozenset[str] = frozenset(EXTRA_DAYS_OFF)
    agenda_time: dt.time = DEFAULT_AGENDA_TIME
    agenda_days_before: int = 0

    def as_settings(self) -> dict[str, Any]:
        return {
            "holiday_policy": self.holiday_policy.value,
            "extra_days_off": sorted(self.extra_days_off),
            "agenda_time": self.agenda_time.strftime("%H:%M"),
            "agenda_days_before": self.agenda_days_before,
        }


def calendar_of(forum: Forum) -> ForumCalendar:
    """The forum's calendar choices; anything missing or unreadable takes the default."""
    raw = forum.settings or {}
    default = ForumCalendar()
    try:
        policy = HolidayPolicy(raw.get("holiday_policy", default.holiday_policy))
    except ValueError:
        policy = default.holiday_policy
    extra_raw = raw.get("extra_days_off")
    extra = (
        frozenset(k for k in extra_raw if k in EXTRA_DAYS_OFF)
        if isinstance(extra_raw, list)
        else default.extra_days_off
    )
    try:
        agenda_time = dt.time.fromisoformat(str(raw.get("agenda_time", "08:00")))
    except ValueError:
        agenda_time = default.agenda_time
    days_before = raw.get("agenda_days_before", 0)
    if not isinstance(days_before, int) or not 0 <= days_before <= 7:
        days_before = 0
    return ForumCalendar(policy, extra, agenda_time, days_before)


def check_calendar(
    schedule: Schedule,
    *,
    holiday_policy: str,
    extra_days_off: Sequence[str],
    agenda_time: dt.time | None,
    agenda_days_before: int,
) -> ForumCalendar:
    """Check calendar choices a coordinator made; raise :class:`InvalidInput` on the field."""
    try:
        policy = HolidayPolicy(holiday_policy)
    except ValueError:
        raise InvalidInput(
            N_("Choose what happens on public holidays."), field="holidays"
        ) from None
    time = agenda_time or DEFAULT_AGENDA_TIME
    if time.hour == 2:
        raise InvalidInput(
            N_(
                "Times between 02:00 and 02:59 are skipped or repeated when daylight saving "
                "time changes. Choose another time."
            ),
            field="agenda_time",
        )
    if not 0 <= agenda_days_before <= 7:
        raise InvalidInput(N_("Post the agenda at most 7 days before."), field="agenda_days")
    if agenda_days_before == 0 and time >= schedule.start:
        raise InvalidInput(
            N_("The agenda must be posted before the meeting starts ({time})."),
            field="agenda_time",
            time=schedule.start.strftime("%H:%M"),
        )
    return ForumCalendar(
        policy,
        frozenset(k for k in extra_days_off if k in EXTRA_DAYS_OFF),
        time,
        agenda_days_before,
    )


# --- holidays -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _public_holidays(year: int, language: str) -> dict[dt.date, str]:
    # include_sundays=False: the package counts every Sunday as a Swedish holiday otherwise.
    days = holidays.country_holidays(
        "SE", years=year, language=language, categories=("public",), include_sundays=False
    )
    return dict(days.items())


@functools.lru_cache(maxsize=64)
def _de_facto(year: int) -> dict[dt.date, str]:
    """Date → key in EXTRA_DAYS_OFF for the de facto days off of ``year``."""
    days = holidays.country_holidays(
        "SE", years=year, language="en_US", categories=("de_facto",), include_sundays=False
    )
    by_name = {name: key for key, name in EXTRA_DAYS_OFF.items()}
    return {day: by_name[name] for day, name in days.items() if name in by_name}


def day_off(day: dt.date, calendar: ForumCalendar) -> bool:
    """A Swedish public holiday, or a de facto day off the forum chose."""
    if day in _public_holidays(day.year, "sv"):
        return True
    key = _de_facto(day.year).get(day)
    return key is not None and key in calendar.extra_days_off


def working_day(day: dt.date, calendar: ForumCalendar) -> bool:
    return day.weekday() < 5 and not day_off(day, calendar)


def holiday_name(day: dt.date, locale: Locale) -> str | None:
    """The day's holiday name in the user's language, for messages."""
    language = "sv" if locale == "sv" else "en_US"
    name = _public_holidays(day.year, language).get(day)
    if name:
        return name
    key = _de_facto(day.year).get(day)
    return Translator(locale)(EXTRA_DAY_LABELS[key]) if key else None


# --- planning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedMeeting:
    occurrence: dt.datetime  # the schedule's own start (aware)
    starts_at: dt.datetime  # where it actually happens (aware, forum zone)
    status: MeetingStatus
    holiday: dt.date | None


def plan(
    schedule: Schedule, calendar: ForumCalendar, after: dt.datetime, until: dt.datetime
) -> list[PlannedMeeting]:
    """The meetings of ``schedule`` starting in [after, until), holidays applied."""
    starts = occurrences(schedule, after, until)
    taken = {s.date() for s in starts}
    planned = []
    for start in starts:
        day = start.date()
        if not day_off(day, calendar):
            planned.append(PlannedMeeting(start, start, MeetingStatus.PLANNED, None))
            continue
        moved = _move_off(day, calendar, taken)
        if moved is None:
            planned.append(PlannedMeeting(start, start, MeetingStatus.CANCELLED, day))
        else:
            new_start = dt.datetime.combine(moved, schedule.start, tzinfo=schedule.zone)
            planned.append(PlannedMeeting(start, new_start, MeetingStatus.PLANNED, day))
            taken.add(moved)
    return planned


def _move_off(day: dt.date, calendar: ForumCalendar, taken: set[dt.date]) -> dt.date | None:
    if calendar.holiday_policy is HolidayPolicy.SKIP:
        return None
    step = dt.timedelta(days=-1 if calendar.holiday_policy is HolidayPolicy.EARLIER else 1)
    candidate = day
    for _ in range(7):  # never further than a week (Easter and Christmas take four days)
        candidate += step
        if working_day(candidate, calendar) and candidate not in taken:
            return candidate
    return None


def agenda_due(starts_at: dt.datetime, calendar: ForumCalendar, zone: dt.tzinfo) -> dt.datetime:
    """The forum's agenda time on the meeting's day (or N days before), in UTC.

    Combined in local wall time, so 08:00 stays 08:00 across daylight saving changes."""
    local = starts_at.astimezone(zone)
    day = local.date() - dt.timedelta(days=calendar.agenda_days_before)
    due = dt.datetime.combine(day, calendar.agenda_time, tzinfo=zone)
    # A meeting moved to before the agenda time still gets its agenda an hour before.
    if due >= local:
        due = local - dt.timedelta(hours=1)
    return due.astimezone(dt.UTC)


def needs_sync(forum: Forum, now: dt.datetime) -> bool:
    return forum.meetings_until is None or forum.meetings_until < now + SYNC_AHEAD


def sync_meetings(session: Session, clock: Clock, forum: Forum) -> None:
    """Bring the forum's future meeting rows in line with its schedule and calendar.

    Meetings that already started, that a coordinator changed by hand or whose agenda was
    posted are left alone. A future meeting the schedule no longer has is removed (its
    other-business items move to the next meeting); one with a rating round is cancelled.
    """
    now = clock.now()
    # One planner per forum at a time: the row lock makes a concurrent sync wait and then
    # see the rows the first one wrote (SQLite's BEGIN IMMEDIATE serialises anyway).
    session.execute(select(Forum.id).where(Forum.id == forum.id).with_for_update())
    schedule = forum_schedule(forum)
    calendar = calendar_of(forum)
    horizon = now + HORIZON
    wanted = {p.occurrence.astimezone(dt.UTC): p for p in plan(schedule, calendar, now, horizon)}
    existing = {
        m.occurrence: m
        for m in session.scalars(
            select(Meeting).where(Meeting.forum_id == forum.id, Meeting.occurrence >= now)
        )
    }
    minutes = dt.timedelta(minutes=forum.meeting_minutes)
    orphans: list[Meeting] = []
    for occurrence, meeting in existing.items():
        if meeting.changed_by or meeting.agenda_channel_ts or meeting.starts_at <= now:
            continue
        planned = wanted.get(occurrence)
        if planned is None:
            orphans.append(meeting)
            continue
        meeting.starts_at = planned.starts_at.astimezone(dt.UTC)
        meeting.ends_at = meeting.starts_at + minutes
        meeting.status = planned.status
        meeting.holiday = planned.holiday
        meeting.agenda_due_at = agenda_due(planned.starts_at, calendar, schedule.zone)
    for occurrence, planned in wanted.items():
        if occurrence in existing:
            continue
        starts = planned.starts_at.astimezone(dt.UTC)
        session.add(
            Meeting(
                forum_id=forum.id,
                occurrence=occurrence,
                starts_at=starts,
                ends_at=starts + minutes,
                status=planned.status,
                holiday=planned.holiday,
                has_situation_picture=False,
                agenda_due_at=agenda_due(planned.starts_at, calendar, schedule.zone),
                agenda_version=0,
            )
        )
    session.flush()
    for meeting in orphans:
        _retire(session, forum, meeting, now)
    forum.meetings_until = horizon
    session.flush()


def _retire(session: Session, forum: Forum, meeting: Meeting, now: dt.datetime) -> None:
    has_round = session.scalar(select(exists().where(RatingRound.meeting_id == meeting.id)))
    following = next_meeting(session, forum, after=meeting.starts_at, exclude=meeting.id)
    if following is not None:
        for item in session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)):
            item.meeting_id = following.id
        for case in session.scalars(select(Case).where(Case.meeting_id == meeting.id)):
            case.meeting_id = following.id
    if has_round:
        meeting.status = MeetingStatus.CANCELLED
        meeting.note = "schedule_changed"
    else:
        session.flush()
        session.execute(delete(Meeting).where(Meeting.id == meeting.id))


def ensure_synced(session: Session, clock: Clock, forum: Forum) -> None:
    if not needs_sync(forum, clock.now()):
        return
    # Another request may be planning this forum right now: wait for it, then look again.
    latest = session.scalar(
        select(Forum.meetings_until)
        .where(Forum.id == forum.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if latest is not None and latest >= clock.now() + SYNC_AHEAD:
        session.refresh(forum, ["meetings_until"])
        return
    sync_meetings(session, clock, forum)


def resync(session: Session, clock: Clock, forum: Forum) -> None:
    """After a schedule or calendar change: re-plan now, not at the next horizon check."""
    sync_meetings(session, clock, forum)


def sync_due_forums(session: Session, clock: Clock, *, limit: int = 200) -> int:
    """Extend the meeting horizon of forums that need it (a few per pass)."""
    now = clock.now()
    forums = session.scalars(
        select(Forum)
        .where((Forum.meetings_until.is_(None)) | (Forum.meetings_until < now + SYNC_AHEAD))
        .order_by(Forum.id)
        .limit(limit)
    ).all()
    for forum in forums:
        sync_meetings(session, clock, forum)
    return len(forums)


# --- reading --------------------------------------------------------------------------------


def upcoming(
    session: Session, clock: Clock, forum: Forum, *, count: int = 8, include_cancelled: bool = False
) -> list[Meeting]:
    """The forum's next meetings (not yet started), soonest first."""
    ensure_synced(session, clock, forum)
    query = select(Meeting).where(Meeting.forum_id == forum.id, Meeting.starts_at > clock.now())
    if not include_cancelled:
        query = query.where(Meeting.status == MeetingStatus.PLANNED)
    else:
        query = query.where(
            (Meeting.note.is_(None)) | (Meeting.note != "schedule_changed")  # hidden
        )
    return list(session.scalars(query.order_by(Meeting.starts_at).limit(count)))


def next_meeting(
    session: Session, forum: Forum, *, after: dt.datetime, exclude: int | None = None
) -> Meeting | None:
    query = select(Meeting).where(
        Meeting.forum_id == forum.id,
        Meeting.starts_at > after,
        Meeting.status == MeetingStatus.PLANNED,
    )
    if exclude is not None:
        query = query.where(Meeting.id != exclude)
    return session.scalars(query.order_by(Meeting.starts_at).limit(1)).first()


def recent(session: Session, clock: Clock, forum: Forum, *, count: int = 4) -> list[Meeting]:
    """Meetings that have started (most recent first), for recording attendance."""
    return list(
        session.scalars(
            select(Meeting)
            .where(
                Meeting.forum_id == forum.id,
                Meeting.starts_at <= clock.now(),
                Meeting.status != MeetingStatus.CANCELLED,
            )
            .order_by(Meeting.starts_at.desc())
            .limit(count)
        )
    )


def get_meeting(session: Session, forum: Forum, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.forum_id != forum.id:
        raise MeetingNotFound()
    return meeting


class MeetingNotFound(DomainError):
    msgid = N_("That meeting no longer exists. Open /samverkan möten again.")


# --- coordinator changes -------------------------------------------------------------------


def _require_future(meeting: Meeting, clock: Clock) -> None:
    if meeting.starts_at <= clock.now():
        raise InvalidInput(N_("This meeting has already started and can no longer be changed."))


def cancel_meeting(
    session: Session, clock: Clock, *, access: Access, meeting_id: int, reason: str
) -> Meeting:
    """Cancel one meeting; its items and cases move to the next meeting."""
    forum = access.forum
    meeting = get_meeting(session, forum, meeting_id)
    _require_future(meeting, clock)
    if meeting.status == MeetingStatus.CANCELLED:
        raise InvalidInput(N_("This meeting is already cancelled."))
    meeting.status = MeetingStatus.CANCELLED
    meeting.changed_by = access.member.slack_user_id
    meeting.note = reason or None
    following = next_meeting(session, forum, after=meeting.starts_at, exclude=meeting.id)
    if following is not None:
        for item in session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)):
            item.meeting_id = following.id
        for case in session.scalars(
            select(Case).where(Case.meeting_id == meeting.id, Case.status != CaseStatus.CLOSED)
        ):
            case.meeting_id = following.id
    audit.record(
        session,
        clock,
        team_id=forum.team_id,
        forum_id=forum.id,
        actor=access.member.slack_user_id,
        actor_agency_id=access.member.agency_id,
        action=AuditAction.UPDATE,
        object_type="meeting",
        object_ref=str(meeting.id),
        detail={"cancelled": True},
    )
    session.flush()
    return meeting


def move_meeting(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    meeting_id: int,
    day: dt.date | None,
    start: dt.time | None,
) -> Meeting:
    """Move one meeting to another day and/or time (same length)."""
    forum = access.forum
    meeting = get_meeting(session, forum, meeting_id)
    _require_future(meeting, clock)
    schedule = forum_schedule(forum)
    zone = schedule.zone
    current = meeting.starts_at.astimezone(zone)
    if day is None:
        raise InvalidInput(N_("Choose the new day."), field="day")
    start = start or current.time()
    if start.hour == 2:
        raise InvalidInput(
            N_(
                "Times between 02:00 and 02:59 are skipped or repeated when daylight saving "
                "time changes. Choose another time."
            ),
            field="start",
        )
    new_start = dt.datetime.combine(day, start, tzinfo=zone)
    if new_start.astimezone(dt.UTC) <= clock.now():
        raise InvalidInput(N_("Choose a day and time in the future."), field="day")
    clash = session.scalar(
        select(Meeting.id).where(
            Meeting.forum_id == forum.id,
            Meeting.id != meeting.id,
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.starts_at >= dt.datetime.combine(day, dt.time(0), tzinfo=zone),
            Meeting.starts_at
            < dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone),
        )
    )
    if clash is not None:
        raise InvalidInput(N_("The forum already meets that day."), field="day")
    length = meeting.ends_at - meeting.starts_at
    meeting.starts_at = new_start.astimezone(dt.UTC)
    meeting.ends_at = meeting.starts_at + length
    meeting.status = MeetingStatus.PLANNED
    meeting.changed_by = access.member.slack_user_id
    meeting.agenda_due_at = agenda_due(new_start, calendar_of(forum), zone)
    audit.record(
        session,
        clock,
        team_id=forum.team_id,
        forum_id=forum.id,
        actor=access.member.slack_user_id,
        actor_agency_id=access.member.agency_id,
        action=AuditAction.UPDATE,
        object_type="meeting",
        object_ref=str(meeting.id),
        detail={"moved_to": meeting.starts_at.isoformat()},
    )
    session.flush()
    return meeting
