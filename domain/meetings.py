"""A forum's meetings: schedule occurrences minus Swedish public holidays, with single
meetings moved or cancelled by a coordinator.

Meeting rows are kept a few months ahead (``sync_meetings``), keyed by the schedule
occurrence they came from, so an agenda, a rating round or a case refers to one row
whether the meeting was moved or not. Each row knows when its agenda is due, so the
scheduler finds due agendas with one indexed query however many forums there are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from domain import audit, locks, privacy
from domain.access import Access
from domain.calendar import (
    DEFAULT_AGENDA_TIME,
    EXTRA_DAYS_OFF,
    ForumCalendar,
    HolidayPolicy,
    calendar_from_settings,
    day_off,
    holiday_name,
    working_day,
)
from domain.clock import Clock
from domain.errors import DomainError, ForumNotFound, InvalidInput, NotAMember, NotCoordinator
from domain.forums import (
    find_member,
    forum_schedule,
    get_forum,
    require_coordinator,
    require_member,
)
from domain.i18n import N_, Locale, N_plural
from domain.schedule import Schedule, occurrences
from storage.models import (
    SYSTEM_ACTOR,
    AgendaItem,
    AuditAction,
    AuditEvent,
    Case,
    CaseStatus,
    EffectStatus,
    Forum,
    Meeting,
    MeetingStatus,
    RatingRound,
    ScheduledEffect,
)

# The scheduled effects that post a meeting's agenda (domain.agenda.AGENDA) and send its
# coordinators' preview a day earlier (domain.agenda.PREVIEW).
AGENDA_EFFECT = "agenda"
PREVIEW_EFFECT = "agenda_preview"

# Meeting rows exist this far ahead; the scheduler extends them when less than SYNC_AHEAD
# remains, so forums are re-planned a few times a month, not every minute.
HORIZON = dt.timedelta(days=120)
SYNC_AHEAD = dt.timedelta(days=60)


def calendar_of(forum: Forum) -> ForumCalendar:
    """The forum's calendar choices (holidays, days off, agenda time)."""
    return calendar_from_settings(forum.settings)


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
        if moved is not None and (
            dt.datetime.combine(moved, schedule.start, tzinfo=schedule.zone) <= after
        ):
            moved = None  # the working day before has passed: no meeting in the past
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
    """The forum's agenda time on the meeting's day (or N working days before), in UTC.

    Days before count working days, as action reminders do ("two days before" a Monday
    meeting is Thursday, not Saturday; a day off is skipped): an agenda posted on a weekend
    or a public holiday is read by no one until the working day after it, too late to add
    to it. Combined in local wall time, so 08:00 stays 08:00 across daylight saving
    changes."""
    local = starts_at.astimezone(zone)
    day = local.date()
    counted = 0
    while counted < calendar.agenda_days_before:
        day -= dt.timedelta(days=1)
        counted += working_day(day, calendar)
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
    posted are left alone, and no second meeting is planned on their day (a schedule edited
    on a meeting day changes the meetings from the next one on: no second agenda that day;
    nor, while an agenda of the old schedule is out, a new meeting whose agenda time has
    passed). A future meeting the schedule no longer has is removed (its other-business
    items move to the next meeting); one with a rating round is cancelled.
    """
    now = clock.now()
    # One planner per forum at a time: the row lock makes a concurrent sync wait and then
    # see the rows the first one wrote (SQLite's BEGIN IMMEDIATE serialises anyway). FOR NO
    # KEY UPDATE, a settings save's own lock: rows that refer to the forum are still written
    # meanwhile, so an agenda being posted (its meeting's row locked, which this re-plan
    # waits for below) commits instead of waiting for this lock (a deadlock).
    session.execute(select(Forum.id).where(Forum.id == forum.id).with_for_update(key_share=True))
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
    # The rows this re-plan may move or remove, locked before it reads which agendas are
    # out (domain.locks): an agenda being posted holds its meeting's row until it commits,
    # and is then read here as posted, its meeting kept.
    locks.lock_meetings(
        session, [m.id for m in existing.values() if not m.changed_by and m.starts_at > now]
    )
    posted = _agendas_posted(session, forum.id, list(existing))
    kept_days = _kept_days(session, forum, now, posted, schedule.zone)
    minutes = dt.timedelta(minutes=forum.meeting_minutes)
    orphans: list[Meeting] = []
    for occurrence, meeting in existing.items():
        if meeting.changed_by or occurrence in posted or meeting.starts_at <= now:
            continue
        planned = wanted.get(occurrence)
        if planned is None:
            orphans.append(meeting)
            continue
        before = (meeting.starts_at, meeting.status)
        meeting.starts_at = planned.starts_at.astimezone(dt.UTC)
        meeting.ends_at = meeting.starts_at + minutes
        meeting.status = planned.status
        meeting.holiday = planned.holiday
        meeting.agenda_due_at = agenda_due(planned.starts_at, calendar, schedule.zone)
        if (meeting.starts_at, meeting.status) != before:
            _round_follows(session, clock, meeting)
            _posts_follow(session, meeting)
    # A meeting of the old schedule whose agenda is out stays (a posted agenda is not taken
    # back), and it is the forum's meeting until then: a new one whose agenda time has
    # passed would get its agenda at once, late: a second meeting that week ("two days
    # before" a Thursday posts on Tuesday; switched to Wednesdays that Tuesday, Wednesday's
    # agenda time was Monday). The new schedule starts with its meeting after that one.
    covered = any(
        occurrence in posted
        and occurrence not in wanted
        and meeting.status == MeetingStatus.PLANNED
        and meeting.starts_at > now
        for occurrence, meeting in existing.items()
    )
    for occurrence, planned in wanted.items():
        if occurrence in existing or planned.starts_at.date() in kept_days:
            continue
        due = agenda_due(planned.starts_at, calendar, schedule.zone)
        if covered and planned.status == MeetingStatus.PLANNED and due <= now:
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
                agenda_due_at=due,
                agenda_version=0,
            )
        )
    session.flush()
    for meeting in orphans:
        _retire(session, clock, forum, meeting, now)
    forum.meetings_until = horizon
    session.flush()


def _agendas_posted(
    session: Session, forum_id: int, occurrences: list[dt.datetime]
) -> set[dt.datetime]:
    """The occurrences (of ``occurrences``) whose agenda is posted (its effect done)."""
    if not occurrences:
        return set()
    return {
        _utc(o)
        for o in session.scalars(
            select(ScheduledEffect.occurrence).where(
                ScheduledEffect.forum_id == forum_id,
                ScheduledEffect.kind == AGENDA_EFFECT,
                ScheduledEffect.subject == "",
                ScheduledEffect.occurrence.in_(occurrences),
                ScheduledEffect.status == EffectStatus.DONE,
            )
        )
    }


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _kept_days(
    session: Session,
    forum: Forum,
    now: dt.datetime,
    posted: set[dt.datetime],
    zone: dt.tzinfo,
) -> set[dt.date]:
    """Local days a meeting the planner leaves alone already holds (one that has started
    since yesterday, was moved or cancelled by hand, or has its agenda posted): a changed
    schedule plans no second meeting on such a day (a forum meets at most once a day)."""
    days: set[dt.date] = set()
    for meeting in session.scalars(
        select(Meeting).where(
            Meeting.forum_id == forum.id, Meeting.starts_at > now - dt.timedelta(days=1)
        )
    ):
        started = meeting.starts_at <= now
        if not (started or meeting.changed_by or _utc(meeting.occurrence) in posted):
            continue
        if started and meeting.status != MeetingStatus.PLANNED:
            continue  # a past cancelled meeting holds no day
        days.add(meeting.starts_at.astimezone(zone).date())
        if meeting.changed_by:  # moved or cancelled by hand: its own day stays decided too
            days.add(meeting.occurrence.astimezone(zone).date())
    return days


def _carry_over(session: Session, forum: Forum, meeting: Meeting) -> None:
    """A meeting that will not happen hands its agenda items and open cases to the next
    (its row locked: a meeting cancelled at the same moment is not handed anything)."""
    following = lock_next_meeting(session, forum, after=meeting.starts_at, exclude=meeting.id)
    if following is None:
        return
    for item in session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)):
        item.meeting_id = following.id
    for case in session.scalars(
        select(Case).where(Case.meeting_id == meeting.id, Case.status != CaseStatus.CLOSED)
    ):
        case.meeting_id = following.id


def _round_follows(session: Session, clock: Clock, meeting: Meeting) -> None:
    """An open rating round of a cancelled or moved meeting follows it (domain.ratings)."""
    from domain.ratings import follow_meeting  # ratings reads the calendar from here

    follow_meeting(session, clock, meeting)


def _posts_follow(session: Session, meeting: Meeting) -> None:
    """A meeting planned again (moved after a cancel, or back in the schedule) whose agenda
    or preview was skipped because it was cancelled just as they were due: they are due
    again, at their time for the meeting as it now stands (at once if that has passed and
    they are still of use: domain.agenda.due_meetings). The same effect rows, so each still
    goes out once; one skipped as too late (``note``: missed) stays skipped."""
    if meeting.status is not MeetingStatus.PLANNED:
        return
    session.execute(
        update(ScheduledEffect)
        .where(
            ScheduledEffect.forum_id == meeting.forum_id,
            ScheduledEffect.kind.in_((AGENDA_EFFECT, PREVIEW_EFFECT)),
            ScheduledEffect.subject == "",
            ScheduledEffect.occurrence == meeting.occurrence,
            ScheduledEffect.status == EffectStatus.SKIPPED,
            ScheduledEffect.note.is_(None),
        )
        .values(
            status=EffectStatus.PENDING,
            claimed_by=None,
            claimed_at=None,
            lease_until=None,
            done_at=None,
        )
        .execution_options(synchronize_session=False)
    )


def _retire(
    session: Session, clock: Clock, forum: Forum, meeting: Meeting, now: dt.datetime
) -> None:
    has_round = session.scalar(select(exists().where(RatingRound.meeting_id == meeting.id)))
    _carry_over(session, forum, meeting)
    if has_round:
        meeting.status = MeetingStatus.CANCELLED
        meeting.note = "schedule_changed"
        _round_follows(session, clock, meeting)
    else:
        session.flush()
        session.execute(delete(Meeting).where(Meeting.id == meeting.id))
        # Its tombstone: a button still naming it (a coordinator's view drawn before the
        # schedule changed) is told kindly, not audited as a refusal (meeting_access).
        audit.record(
            session,
            clock,
            actor=SYSTEM_ACTOR,
            action=AuditAction.DELETE,
            object_type="meeting",
            object_ref=str(meeting.id),
            team_id=forum.team_id,
            forum_id=forum.id,
            detail={"removed": REMOVED_BY_SCHEDULE},
        )


def ensure_synced(session: Session, clock: Clock, forum: Forum) -> None:
    if not needs_sync(forum, clock.now()):
        return
    # Another request may be planning this forum right now: wait for it, then look again.
    latest = session.scalar(
        select(Forum.meetings_until)
        .where(Forum.id == forum.id)
        .with_for_update(key_share=True)  # sync_meetings's own lock
        .execution_options(populate_existing=True)
    )
    if latest is not None and latest >= clock.now() + SYNC_AHEAD:
        session.refresh(forum, ["meetings_until"])
        return
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


def lock_next_meeting(
    session: Session, forum: Forum, *, after: dt.datetime, exclude: int | None = None
) -> Meeting | None:
    """:func:`next_meeting` with its row locked (:mod:`domain.locks`: after the writer's own
    meeting's row), for a writer that puts items or cases on it. A cancel or a move of it
    that came first is read after the lock: the next planned meeting is chosen again (and
    locked) until the one found is the one locked; one that comes later waits for this
    writer and then finds what it put there (a cancel hands it on, :func:`_carry_over`)."""
    locked: set[int] = set()
    while True:
        following = next_meeting(session, forum, after=after, exclude=exclude)
        if following is None or following.id in locked:
            return following
        locks.lock_meeting(session, following.id)
        locked.add(following.id)


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
    if meeting is None and removed_in(session, forum.team_id, meeting_id) == forum.id:
        raise MeetingRemoved()
    if meeting is None or meeting.forum_id != forum.id:
        raise MeetingNotFound()
    return meeting


# Why a meeting the schedule no longer has was removed (its audit event's actor is
# SYSTEM_ACTOR).
REMOVED_BY_SCHEDULE = "schedule_changed"


def removed_in(session: Session, team_id: str, meeting_id: int) -> int | None:
    """The forum (of ``team_id``) whose schedule change removed the meeting of this id (its
    tombstone in the audit log: :func:`_retire`), None for an id of nothing removed so."""
    if meeting_id <= 0:
        return None
    # Its tombstones (one; on SQLite, which reuses ids, one per meeting that had the id),
    # the latest wins: found by ix_audit_events_object. No ORDER BY … LIMIT: PostgreSQL's
    # generic plan answered it by walking the log's primary key backwards.
    tombstones = session.execute(
        select(AuditEvent.id, AuditEvent.forum_id).where(
            AuditEvent.object_type == "meeting",
            AuditEvent.object_ref == str(meeting_id),
            AuditEvent.action == AuditAction.DELETE,
            AuditEvent.actor == SYSTEM_ACTOR,
            AuditEvent.team_id == team_id,
        )
    ).all()
    return max(tombstones)[1] if tombstones else None


CANCEL_REASON_MAX = 200  # the same as the data inventory's meetings.note


class MeetingNotFound(DomainError):
    msgid = N_("That meeting no longer exists. Open /samverkan möten again.")


class NotInMeetingsForum(MeetingNotFound, NotAMember):
    """A meeting, named by its id alone, of a forum the user is not in: told as
    :class:`MeetingNotFound` (a different answer would tell them that a meeting of that id
    exists), and still a :class:`NotAMember` for whoever asks what it is."""


class MeetingRemoved(DomainError):
    """A meeting of the member's own forum that a schedule change removed since their view
    was drawn (a stale button): told so, and no refusal is audited (the doors audit
    MeetingNotFound: another forum's meeting, or none)."""

    msgid = N_(
        "That meeting was removed when the forum's schedule changed. Open /samverkan möten again."
    )


class MeetingOfAnotherWorkspace(MeetingNotFound, ForumNotFound):
    """A meeting, named by its id alone, of another workspace's forum: told as
    :class:`MeetingNotFound`."""


def meeting_access(
    session: Session, *, team_id: str, user_id: str, meeting_id: int, coordinator: bool = True
) -> tuple[Access, Meeting]:
    """The meeting and the user's access to its forum (in this workspace): a coordinator's, or
    with ``coordinator=False`` any member's. Anyone outside the meeting's forum (another
    forum's member, a non-member, another workspace's user) is told what an id of no meeting
    tells them, byte for byte, so the answer does not reveal that a meeting of that id
    exists; a member who is no coordinator is told so (NotCoordinator)."""
    meeting = session.get(Meeting, meeting_id) if meeting_id > 0 else None
    if meeting is None:
        # A stale press of the forum's own member on a meeting a schedule change removed:
        # told so, not refused. Anyone else is told what an id of nothing tells them.
        removed = removed_in(session, team_id, meeting_id)
        forum_of = session.get(Forum, removed) if removed is not None else None
        member = (
            find_member(session, forum=forum_of, slack_user_id=user_id)
            if forum_of is not None and forum_of.team_id == team_id
            else None
        )
        if member is not None:
            raise MeetingRemoved()
        raise MeetingNotFound()
    try:
        forum = get_forum(session, forum_id=meeting.forum_id, team_id=team_id)
    except ForumNotFound:  # another workspace's meeting: no meeting here
        raise MeetingOfAnotherWorkspace() from None
    require = require_coordinator if coordinator else require_member
    try:
        return require(session, forum=forum, slack_user_id=user_id), meeting
    except NotAMember:  # another forum's meeting: no meeting here either
        raise NotInMeetingsForum() from None


# --- coordinator changes -------------------------------------------------------------------


def _require_future(meeting: Meeting, clock: Clock) -> None:
    if meeting.starts_at <= clock.now():
        raise InvalidInput(N_("This meeting has already started and can no longer be changed."))


def cancel_meeting(
    session: Session, clock: Clock, *, access: Access, meeting_id: int, reason: str
) -> Meeting:
    """Cancel one meeting; its items and cases move to the next meeting. The reason is shown in
    the channel: short and privacy-guarded."""
    forum = access.forum
    reason = " ".join((reason or "").split())
    if len(reason) > CANCEL_REASON_MAX:  # before the guard reads it
        raise InvalidInput(
            N_plural(
                "The reason can be at most {n} character.",
                "The reason can be at most {n} characters.",
            ),
            field="reason",
            n=CANCEL_REASON_MAX,
        )
    privacy.check_text(reason, field="reason", today=clock.now().date())
    meeting = get_meeting(session, forum, meeting_id)
    # Read again under the row's lock: a record rolling items onto this meeting, or another
    # cancel, that came first is read here; one that comes later waits (domain.locks).
    locks.lock_meeting(session, meeting.id)
    _require_future(meeting, clock)
    if meeting.status == MeetingStatus.CANCELLED:
        raise InvalidInput(N_("This meeting is already cancelled."))
    meeting.status = MeetingStatus.CANCELLED
    meeting.changed_by = access.member.slack_user_id
    meeting.note = reason or None
    _carry_over(session, forum, meeting)
    _round_follows(session, clock, meeting)
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.UPDATE,
        object_type="meeting",
        object_ref=str(meeting.id),
        detail={"cancelled": True},
    )
    session.flush()
    return meeting


def off_day(forum: Forum, day: dt.date, locale: Locale) -> str | None:
    """What ``day`` is when it is not a working day of the forum: the public holiday's or
    the day off's name in ``locale``, "" for a weekend day; None on a working day. A move
    there is allowed (a forum may choose to meet then), but said."""
    if working_day(day, calendar_of(forum)):
        return None
    return holiday_name(day, locale) or ""


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
    locks.lock_meeting(session, meeting.id)  # a record choosing it as its next waits
    _require_future(meeting, clock)
    zone = forum_schedule(forum).zone
    current = meeting.starts_at.astimezone(zone)
    new_start = _checked_start(session, clock, forum, day, start or current.time(), meeting.id)
    length = meeting.ends_at - meeting.starts_at
    meeting.starts_at = new_start.astimezone(dt.UTC)
    meeting.ends_at = meeting.starts_at + length
    meeting.status = MeetingStatus.PLANNED
    meeting.changed_by = access.member.slack_user_id
    meeting.agenda_due_at = agenda_due(new_start, calendar_of(forum), zone)
    _round_follows(session, clock, meeting)
    _posts_follow(session, meeting)
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.UPDATE,
        object_type="meeting",
        object_ref=str(meeting.id),
        detail={"moved_to": meeting.starts_at.isoformat()},
    )
    session.flush()
    return meeting


def _checked_start(
    session: Session,
    clock: Clock,
    forum: Forum,
    day: dt.date | None,
    start: dt.time | None,
    moving: int | None,
) -> dt.datetime:
    """The start (forum zone) a meeting is moved to or added at: a day and a time in the
    future, not in the daylight saving hour, on a day the forum does not already meet
    (``moving``: the meeting being moved, which does not clash with itself)."""
    zone = forum_schedule(forum).zone
    if day is None:
        raise InvalidInput(N_("Choose the new day."), field="day")
    if start is None:
        raise InvalidInput(N_("Choose the start time."), field="start")
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
    query = select(Meeting.id).where(
        Meeting.forum_id == forum.id,
        Meeting.status == MeetingStatus.PLANNED,
        Meeting.starts_at >= dt.datetime.combine(day, dt.time(0), tzinfo=zone),
        Meeting.starts_at
        < dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone),
    )
    if moving is not None:
        query = query.where(Meeting.id != moving)
    if session.scalar(query.limit(1)) is not None:
        raise InvalidInput(N_("The forum already meets that day."), field="day")
    return new_start


# An extra meeting is planned at most this far ahead: the schedule's own meetings exist that
# far (HORIZON), so one on a day the forum meets anyway is seen and refused.
EXTRA_AHEAD_DAYS = 90


def add_extra_meeting(
    session: Session, clock: Clock, *, access: Access, day: dt.date | None, start: dt.time | None
) -> Meeting:
    """A one-off meeting outside the schedule (an urgent situation between meetings), of the
    forum's usual length. It is the forum's next meeting when it comes first: items and cases
    added for the next meeting go on its agenda, posted like any other (at the agenda time
    before it, or at the next pass when that has passed: not marked late). Schedule syncs
    leave it alone (``changed_by``) and plan no second meeting on its day (_kept_days)."""
    if not access.is_coordinator:
        raise NotCoordinator()
    forum = access.forum
    # Its own forum's planner waits: the clash below sees every scheduled meeting.
    session.execute(select(Forum.id).where(Forum.id == forum.id).with_for_update(key_share=True))
    ensure_synced(session, clock, forum)
    if day is not None and day > clock.now().date() + dt.timedelta(days=EXTRA_AHEAD_DAYS):
        raise InvalidInput(
            N_plural(
                "An extra meeting can be added at most {n} day ahead.",
                "An extra meeting can be added at most {n} days ahead.",
            ),
            field="day",
            n=EXTRA_AHEAD_DAYS,
        )
    new_start = _checked_start(session, clock, forum, day, start, None)
    starts = new_start.astimezone(dt.UTC)
    # Its key: its start with a second no schedule occurrence has (a schedule starts on the
    # minute), and one no meeting or scheduled effect of the forum has had, so it is never
    # taken for a schedule occurrence nor for an agenda already posted or skipped.
    occurrence = starts.replace(second=1, microsecond=0)
    while session.scalar(
        select(
            exists().where(Meeting.forum_id == forum.id, Meeting.occurrence == occurrence)
            | exists().where(
                ScheduledEffect.forum_id == forum.id, ScheduledEffect.occurrence == occurrence
            )
        )
    ):
        occurrence += dt.timedelta(seconds=1)
    due = max(agenda_due(new_start, calendar_of(forum), new_start.tzinfo or dt.UTC), clock.now())
    meeting = Meeting(
        forum_id=forum.id,
        occurrence=occurrence,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=forum.meeting_minutes),
        status=MeetingStatus.PLANNED,
        has_situation_picture=False,
        agenda_due_at=due,
        agenda_version=0,
        changed_by=access.member.slack_user_id,
        extra=True,
    )
    session.add(meeting)
    session.flush()
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.CREATE,
        object_type="meeting",
        object_ref=str(meeting.id),
        detail={"extra": starts.isoformat()},
    )
    return meeting


__all__ = [
    "DEFAULT_AGENDA_TIME",
    "EXTRA_DAYS_OFF",
    "ForumCalendar",
    "HolidayPolicy",
    "calendar_from_settings",
    "day_off",
    "holiday_name",
    "working_day",
]
