"""The rating scale, a forum's rating settings, when rounds open and remind, and who rates."""

from __future__ import annotations

import datetime as dt
import enum
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from domain import audit, meetings
from domain.access import Access
from domain.clock import Clock
from domain.errors import (
    DomainError,
    InputErrors,
    InvalidInput,
    NotCoordinator,
)
from domain.forums import forum_zone
from domain.forums import local_today as local_today  # ratings.local_today
from domain.i18n import N_, Translator, normalize_locale
from domain.ids import id_value, id_values
from domain.locks import update_forum_settings
from domain.meetings import ForumCalendar, calendar_of, working_day
from storage.models import (
    Agency,
    Area,
    AuditAction,
    Forum,
    Meeting,
    Member,
    Rating,
    RatingRound,
    RatingRoundStatus,
    Role,
)

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
    days = id_value(days_before) if days_before else None
    days = -1 if days is None else days
    if not 1 <= days <= 21:
        errors["days_before"] = InvalidInput(N_("Open the round 1–21 days before the meeting."))
    dl_days = id_value(deadline_days_before)
    dl_days = -1 if dl_days is None else dl_days
    if not 0 <= dl_days <= 7:
        errors["deadline_days"] = InvalidInput(N_("Set the deadline 0–7 days before."))
    elif days >= 1 and dl_days >= days:
        errors["deadline_days"] = InvalidInput(N_("The deadline must come after the round opens."))
    time = deadline_time or dt.time(12, 0)
    if not DAY_START <= time < DAY_END:
        errors["deadline_time"] = InvalidInput(
            N_("Choose a deadline in the daytime (07:00–21:00).")
        )
    hours = sorted(set(id_values(reminder_hours)), reverse=True)
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
    update_forum_settings(session, forum, settings.as_settings())
    forum.updated_at = clock.now()
    if settings.cadence is Cadence.CHOSEN:
        upcoming = meetings.upcoming(session, clock, forum, count=CHOOSABLE)
        wanted = set(chosen_meeting_ids)
        for meeting in upcoming:
            has_round = session.scalar(select(exists().where(RatingRound.meeting_id == meeting.id)))
            if not has_round:
                meeting.has_situation_picture = meeting.id in wanted
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.UPDATE,
        object_type="forum",
        object_ref=forum.code,
        detail={"situation_picture": settings.as_settings()},
    )


CHOOSABLE = 12


def choosable_meetings(session: Session, clock: Clock, forum: Forum) -> list[Meeting]:
    return meetings.upcoming(session, clock, forum, count=CHOOSABLE)


# --- times ------------------------------------------------------------------------------------


def _zone(forum: Forum) -> zoneinfo.ZoneInfo:
    return forum_zone(forum)


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
    return round_times_at(forum, meeting.starts_at, settings)


def round_times_at(
    forum: Forum, starts_at: dt.datetime, settings: RatingSettings
) -> tuple[dt.datetime, dt.datetime]:
    """:func:`round_times` of a meeting starting at ``starts_at`` (no meeting loaded)."""
    zone = _zone(forum)
    calendar = calendar_of(forum)
    start = starts_at.astimezone(zone)
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


def _forum_t(forum: Forum) -> Translator:
    return Translator(normalize_locale(forum.language))


AgencyState = Literal["answered", "partial", "missing", "away"]


@dataclass(frozen=True)
class AgencyStatus:
    agency_id: int
    name: str
    state: AgencyState
    rated: int
    answered_at: dt.datetime | None
    unrepresented: bool = False
    """No member represents the agency: no one was invited to answer for it (a new forum's
    agency that no one was added for yet), which the coordinators need to know."""


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
        unrepresented = agency.active and not reps.get(agency.id)
        result.append(AgencyStatus(agency.id, agency.name, state, n, at, unrepresented))
    return result
