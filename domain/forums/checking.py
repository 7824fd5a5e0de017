"""A forum draft checked (name, code, agencies, areas, schedule, calendar) and its lists
applied to the forum."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import privacy
from domain.calendar import (
    ForumCalendar,
    HolidayPolicy,
    calendar_from_settings,
    check_calendar,
    day_off,
)
from domain.clock import Clock
from domain.errors import (
    CodeTaken,
    DomainError,
    IdentifyingDataRefused,
    InputErrors,
    InvalidInput,
)
from domain.forums.drafts import AGENCY_MAX, AREA_MAX, CODE_RE, NAME_MAX, ForumDraft
from domain.forums.lookups import ForumFields, forum_schedule
from domain.i18n import N_, N_plural
from domain.schedule import (
    DEFAULT_START,
    HORIZON,
    Schedule,
    normalize_rrule,
    occurrences,
    validate_schedule,
)
from storage.models import Agency, Area, Forum, name_key

# --- checking a draft ---------------------------------------------------------------------


def _check_draft(
    session: Session,
    clock: Clock,
    draft: ForumDraft,
    *,
    team_id: str,
    timezone: str,
    forum: Forum | ForumFields | None,
) -> Schedule:
    errors: dict[str, DomainError] = {}
    # Every free-text field passes the privacy guard first, so its message wins.
    texts = {
        "name": draft.name,
        "code": draft.code,
        "agencies_other": "\n".join(draft.agencies),
        "rrule": draft.rrule,
        "areas": "\n".join(draft.areas),
    }
    today = clock.now().astimezone(zoneinfo.ZoneInfo(timezone)).date()
    for fld, msgid in privacy.check_fields(texts, today=today).items():
        errors[fld] = IdentifyingDataRefused(msgid, field=fld)

    name = draft.name.strip()
    if not name:
        errors.setdefault("name", InvalidInput(N_("Give the forum a name."), field="name"))
    elif len(name) > NAME_MAX:
        errors.setdefault(
            "name",
            InvalidInput(
                N_plural(
                    "The name can be at most {n} character.",
                    "The name can be at most {n} characters.",
                ),
                field="name",
                n=NAME_MAX,
            ),
        )

    code = draft.code.strip().upper()
    if "code" not in errors:
        if not CODE_RE.match(code):
            errors["code"] = InvalidInput(
                N_("The code is 2–6 letters or digits starting with a letter, e.g. FOS."),
                field="code",
            )
        elif forum is None or code != forum.code:
            taken = session.scalar(
                select(Forum).where(Forum.team_id == team_id, Forum.code == code)
            )
            if taken is not None and (forum is None or taken.id != forum.id):
                errors["code"] = CodeTaken(field="code", code=code)

    if not draft.agencies:
        errors["agencies"] = InvalidInput(
            N_("Choose at least one agency that takes part."), field="agencies"
        )
    too_long = [a for a in draft.agencies if len(a) > AGENCY_MAX]
    if too_long:
        errors.setdefault(
            "agencies_other",
            InvalidInput(
                N_plural(
                    "An agency name can be at most {n} character: {name}",
                    "An agency name can be at most {n} characters: {name}",
                ),
                field="agencies_other",
                n=AGENCY_MAX,
                name=too_long[0][:40],
            ),
        )
    if forum is None:
        if not draft.own_agency:
            errors["own_agency"] = InvalidInput(
                N_("Choose the agency you represent."), field="own_agency"
            )
        elif name_key(draft.own_agency) not in {name_key(a) for a in draft.agencies}:
            errors["own_agency"] = InvalidInput(
                N_("Your agency must be one of the forum's agencies."), field="own_agency"
            )

    long_areas = [a for a in draft.areas if len(a) > AREA_MAX]
    if long_areas:
        errors.setdefault(
            "areas",
            InvalidInput(
                N_plural(
                    "An area name can be at most {n} character: {name}",
                    "An area name can be at most {n} characters: {name}",
                ),
                field="areas",
                n=AREA_MAX,
                name=long_areas[0][:40],
            ),
        )

    schedule: Schedule | None = None
    if draft.start is None:
        errors["start"] = InvalidInput(N_("Choose when the meeting starts."), field="start")
    if draft.end is None:
        errors["end"] = InvalidInput(N_("Choose when the meeting ends."), field="end")
    if forum is not None and draft.first_meeting is None and _same_schedule(forum, draft):
        schedule = forum_schedule(forum)  # unchanged: already checked when it was set
    elif draft.start is not None and draft.end is not None:
        try:
            schedule = validate_schedule(
                draft.rrule,
                draft.start,
                draft.end,
                timezone,
                clock.now(),
                anchor=_kept_anchor(forum, draft),
                first=draft.first_meeting,
            )
        except InvalidInput as exc:
            errors.setdefault(exc.field or "rrule", exc)

    try:
        calendar = draft_calendar(draft, forum)
    except InvalidInput as exc:
        errors.setdefault(exc.field or "holidays", exc)
    else:
        unchanged = (
            forum is not None
            and _same_schedule(forum, draft)
            and calendar == calendar_from_settings(forum.settings)
        )  # what the forum already meets by was checked when it was saved
        if (
            schedule is not None
            and not unchanged
            and _every_meeting_cancelled(schedule, calendar, clock.now())
        ):
            errors.setdefault("rrule", InvalidInput(MSG_ALL_CANCELLED, field="rrule"))

    if errors:
        raise InputErrors(errors)
    assert schedule is not None
    return schedule


MSG_ALL_CANCELLED = N_(
    "Every meeting by this schedule in the next two years falls on a public holiday or a day "
    "off, and those are cancelled: the forum would never meet. Choose other days, or move "
    "such meetings to the working day before or after."
)


def _every_meeting_cancelled(schedule: Schedule, calendar: ForumCalendar, now: dt.datetime) -> bool:
    """The schedule has meetings, but every one falls on a day off that cancels it (a
    moved one always finds a working day within the week: ``meetings.plan``)."""
    if calendar.holiday_policy is not HolidayPolicy.SKIP:
        return False
    # Window by window, stopping at the first meeting that is held: every forum save asks,
    # and two years of a weekly schedule at once cost the save ~1.5 ms (bench.save_cost).
    end, window = now + HORIZON, dt.timedelta(days=62)
    start, found = now, False
    while start < end:
        starts = occurrences(schedule, start, min(start + window, end))
        if any(not day_off(meeting.date(), calendar) for meeting in starts):
            return False
        found = found or bool(starts)
        start += window
    return found


def draft_calendar(draft: ForumDraft, forum: Forum | ForumFields | None) -> ForumCalendar:
    """The calendar the draft asks for; fields left out keep the forum's (or the default)."""
    current = calendar_from_settings(forum.settings if forum else None)
    return check_calendar(
        draft.start or DEFAULT_START,
        holiday_policy=draft.holiday_policy or current.holiday_policy.value,
        extra_days_off=(
            draft.extra_days_off
            if draft.extra_days_off is not None
            else sorted(current.extra_days_off)
        ),
        agenda_time=draft.agenda_time or current.agenda_time,
        agenda_days_before=(
            draft.agenda_days_before
            if draft.agenda_days_before is not None
            else current.agenda_days_before
        ),
    )


def _same_schedule(forum: Forum | ForumFields, draft: ForumDraft) -> bool:
    schedule = forum_schedule(forum)
    return (
        draft.start == schedule.start
        and draft.end == schedule.end
        and normalize_rrule(draft.rrule) == schedule.rrule
    )


def _kept_anchor(forum: Forum | ForumFields | None, draft: ForumDraft) -> dt.date | None:
    """An unchanged rule keeps its first day (whatever the time); a new rule starts anew."""
    if forum is None or normalize_rrule(draft.rrule) != forum.schedule_rrule:
        return None
    return forum.schedule_anchor


_Listed = TypeVar("_Listed", Agency, Area)


def _sync_list(items: list[_Listed], make: type[_Listed], names: Sequence[str]) -> None:
    """Make a forum's agencies or areas the named ones, in that order: a new name is added,
    a known one (whatever its case) is offered again at its place, and one no longer named is
    kept (cases and members refer to it) but no longer offered."""
    by_name = {name_key(item.name): item for item in items}
    for position, name in enumerate(names):
        existing = by_name.get(name_key(name))
        if existing is None:
            item = make(name=name, position=position, active=True)
            items.append(item)
            by_name[name_key(name)] = item
        else:
            existing.active, existing.position = True, position
    wanted = {name_key(n) for n in names}
    for item in items:
        if name_key(item.name) not in wanted:
            item.active = False


def _sync_agencies(forum: Forum, names: Sequence[str]) -> None:
    _sync_list(forum.agencies, Agency, names)


def _sync_areas(forum: Forum, names: Sequence[str]) -> None:
    _sync_list(forum.areas, Area, names)
