"""Forums, agencies, members and areas, and the access rules that follow membership."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, exists, insert, literal, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from domain import audit, privacy, scheduling
from domain.calendar import ForumCalendar, calendar_from_settings, check_calendar
from domain.clock import Clock
from domain.errors import (
    CodeTaken,
    DomainError,
    ForumExists,
    ForumNotFound,
    IdentifyingDataRefused,
    InputErrors,
    InvalidInput,
    NotAMember,
    NotCoordinator,
)
from domain.i18n import N_, N_plural, Translator, normalize_locale, swedish_sort_key
from domain.schedule import (
    DEFAULT_END,
    DEFAULT_RRULE,
    DEFAULT_START,
    Schedule,
    normalize_rrule,
    validate_schedule,
)
from storage.models import Agency, Area, AuditAction, Case, Forum, Member, Role

DEFAULT_AGENCIES: tuple[str, ...] = (
    "Grundskola",
    "Elevhälsa",
    "Socialtjänst/IFO",
    "Öppna insatser/familjestöd",
    "Första linjen",
    "BUP",
    "Polis",
    "Fritidsgård",
    "Fältassistenter",
    "Förskola",
    "Gymnasium",
)

NAME_MAX = 80
AGENCY_MAX = 75  # Slack option text limit
AREA_MAX = 75
CODE_RE = re.compile(r"^[A-ZÅÄÖ][A-ZÅÄÖ0-9]{1,5}$")


@dataclass(frozen=True)
class ForumTemplate:
    key: str
    label: str
    name: str
    code: str
    agencies: tuple[str, ...]
    rrule: str
    start: dt.time
    end: dt.time
    areas: tuple[str, ...] = ()
    settings: dict[str, object] = field(default_factory=dict)


TEMPLATES: dict[str, ForumTemplate] = {
    t.key: t
    for t in (
        ForumTemplate(
            key="fossam",
            label=N_("Weekly case forum (like FOSSAM)"),
            name="FOSSAM",
            code="FOS",
            agencies=(
                "Första linjen",
                "Grundskola",
                "Elevhälsa",
                "Socialtjänst/IFO",
                "Öppna insatser/familjestöd",
            ),
            rrule=DEFAULT_RRULE,
            start=DEFAULT_START,
            end=DEFAULT_END,
            settings={"situation_picture": "none"},
        ),
        ForumTemplate(
            key="osf",
            label=N_("Crime-prevention forum (like OSF)"),
            name="OSF",
            code="OSF",
            agencies=(
                "Socialtjänst/IFO",
                "Polis",
                "Fritidsgård",
                "Fältassistenter",
                "Grundskola",
                "Gymnasium",
            ),
            rrule="FREQ=MONTHLY;BYDAY=1TH,3TH",
            start=DEFAULT_START,
            end=DEFAULT_END,
            areas=(
                "Gråbo",
                "Hemse",
                "Droger",
                "Alkohol",
                "Psykisk ohälsa",
                "Utsatthet i sociala medier",
                "Hot/utpressning",
                "Sexuellt våld",
            ),
            settings={"situation_picture": "every_other"},
        ),
        ForumTemplate(
            key="sspf",
            label=N_("School, social services, police, leisure (SSPF)"),
            name="SSPF",
            code="SSPF",
            agencies=("Grundskola", "Socialtjänst/IFO", "Polis", "Fritidsgård"),
            rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
            start=DEFAULT_START,
            end=DEFAULT_END,
            areas=("Droger", "Kriminalitet/nätverk", "Otrygga platser"),
            settings={"situation_picture": "every"},
        ),
        # Steering levels (seed 003): they follow operational forums' figures and keep the
        # annual activity plan (domain.steering).
        ForumTemplate(
            key="styrgrupp",
            label=N_("Steering group (at least 8 meetings a year)"),
            name="Styrgrupp",
            code="STY",
            agencies=("Socialtjänst/IFO", "Grundskola", "Elevhälsa"),
            rrule="FREQ=MONTHLY;BYMONTH=1,2,3,4,5,6,8,9,10,11,12;BYDAY=2TU",
            start=dt.time(9, 0),
            end=dt.time(11, 0),
            settings={"situation_picture": "none", "steering_level": "styrgrupp"},
        ),
        ForumTemplate(
            key="2plus2",
            label=N_("2+2 meeting (three a year)"),
            name="2+2",
            code="TVT",
            agencies=("Socialtjänst/IFO", "Grundskola"),
            rrule="FREQ=YEARLY;BYMONTH=2,5,10;BYDAY=1TU",
            start=dt.time(13, 0),
            end=dt.time(15, 0),
            settings={"situation_picture": "none", "steering_level": "2+2"},
        ),
    )
}


@dataclass
class ForumDraft:
    """What a coordinator typed in the forum modal, before it is checked."""

    name: str
    code: str
    agencies: list[str]
    own_agency: str | None
    rrule: str
    start: dt.time | None
    end: dt.time | None
    areas: list[str]
    template: str | None = None
    # Calendar choices (None: keep the forum's, or the default for a new forum).
    holiday_policy: str | None = None
    extra_days_off: list[str] | None = None
    agenda_time: dt.time | None = None
    agenda_days_before: int | None = None


@dataclass(frozen=True)
class Access:
    """The member making a request, with their forum."""

    forum: Forum
    member: Member

    @property
    def is_coordinator(self) -> bool:
        return self.member.role in (Role.COORDINATOR, Role.ADMIN)


def draft_from_template(key: str | None) -> ForumDraft:
    tpl = TEMPLATES.get(key or "")
    if tpl is None:
        return ForumDraft(
            name="",
            code="",
            agencies=[],
            own_agency=None,
            rrule=DEFAULT_RRULE,
            start=DEFAULT_START,
            end=DEFAULT_END,
            areas=[],
            template=None,
        )
    return ForumDraft(
        name=tpl.name,
        code=tpl.code,
        agencies=list(tpl.agencies),
        own_agency=None,
        rrule=tpl.rrule,
        start=tpl.start,
        end=tpl.end,
        areas=list(tpl.areas),
        template=tpl.key,
    )


def split_lines(text: str | None) -> list[str]:
    """One entry per line (commas also separate); blanks and repeats dropped, order kept."""
    seen: dict[str, None] = {}
    for part in re.split(r"[\n,;]", text or ""):
        item = " ".join(part.split())
        if item and item.casefold() not in {s.casefold() for s in seen}:
            seen[item] = None
    return list(seen)


# --- lookups and access -------------------------------------------------------------------


def forum_for_channel(session: Session, *, team_id: str, channel_id: str) -> Forum | None:
    return session.scalar(
        select(Forum).where(Forum.team_id == team_id, Forum.channel_id == channel_id)
    )


def require_forum(session: Session, *, team_id: str, channel_id: str) -> Forum:
    forum = forum_for_channel(session, team_id=team_id, channel_id=channel_id)
    if forum is None:
        raise ForumNotFound()
    return forum


def get_forum(session: Session, *, forum_id: int, team_id: str, with_lists: bool = True) -> Forum:
    """The forum of this workspace; its agencies and areas loaded with it (two more
    statements), or, with ``with_lists=False``, when first read (in the session)."""
    options = [selectinload(Forum.agencies), selectinload(Forum.areas)] if with_lists else []
    forum = session.get(Forum, forum_id, options=options)
    if forum is None or forum.team_id != team_id:
        raise ForumNotFound()
    return forum


def find_member(session: Session, *, forum: Forum, slack_user_id: str) -> Member | None:
    return session.scalar(
        select(Member)
        .options(joinedload(Member.agency))
        .where(
            Member.forum_id == forum.id,
            Member.slack_user_id == slack_user_id,
            Member.active.is_(True),
        )
    )


def require_member(session: Session, *, forum: Forum, slack_user_id: str) -> Access:
    member = find_member(session, forum=forum, slack_user_id=slack_user_id)
    if member is None:
        raise NotAMember()
    return Access(forum=forum, member=member)


def require_member_in_channel(
    session: Session, *, team_id: str, channel_id: str, slack_user_id: str
) -> Access:
    """The forum of this channel, for one of its members (else ForumNotFound/NotAMember)."""
    forum = require_forum(session, team_id=team_id, channel_id=channel_id)
    return require_member(session, forum=forum, slack_user_id=slack_user_id)


def require_coordinator(session: Session, *, forum: Forum, slack_user_id: str) -> Access:
    access = require_member(session, forum=forum, slack_user_id=slack_user_id)
    if not access.is_coordinator:
        raise NotCoordinator()
    return access


def forums_of_user(session: Session, *, team_id: str, slack_user_id: str) -> list[Forum]:
    forums = session.scalars(
        select(Forum)
        .join(Member, Member.forum_id == Forum.id)
        .where(
            Forum.team_id == team_id,
            Member.slack_user_id == slack_user_id,
            Member.active.is_(True),
        )
    )
    return sorted(forums, key=lambda f: swedish_sort_key(f.name))


def active_members(session: Session, forum: Forum) -> list[Member]:
    return list(
        session.scalars(
            select(Member)
            .options(selectinload(Member.agency))
            .where(Member.forum_id == forum.id, Member.active.is_(True))
            .order_by(Member.agency_id, Member.id)
        )
    )


def active_agencies(forum: Forum) -> list[Agency]:
    return [a for a in forum.agencies if a.active]


def active_areas(forum: Forum) -> list[Area]:
    return [a for a in forum.areas if a.active]


def forum_schedule(forum: Forum) -> Schedule:
    return Schedule(
        forum.schedule_rrule,
        forum.meeting_start,
        forum.meeting_minutes,
        forum.timezone,
        forum.schedule_anchor,
    )


# --- checking a draft ---------------------------------------------------------------------


def _check_draft(
    session: Session,
    clock: Clock,
    draft: ForumDraft,
    *,
    team_id: str,
    timezone: str,
    forum: Forum | None,
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
        elif draft.own_agency.casefold() not in {a.casefold() for a in draft.agencies}:
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
    if forum is not None and _same_schedule(forum, draft):
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
            )
        except InvalidInput as exc:
            errors.setdefault(exc.field or "rrule", exc)

    try:
        draft_calendar(draft, forum)
    except InvalidInput as exc:
        errors.setdefault(exc.field or "holidays", exc)

    if errors:
        raise InputErrors(errors)
    assert schedule is not None
    return schedule


def draft_calendar(draft: ForumDraft, forum: Forum | None) -> ForumCalendar:
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


def _same_schedule(forum: Forum, draft: ForumDraft) -> bool:
    schedule = forum_schedule(forum)
    return (
        draft.start == schedule.start
        and draft.end == schedule.end
        and normalize_rrule(draft.rrule) == schedule.rrule
    )


def _kept_anchor(forum: Forum | None, draft: ForumDraft) -> dt.date | None:
    """An unchanged rule keeps its first day (whatever the time); a new rule starts anew."""
    if forum is None or normalize_rrule(draft.rrule) != forum.schedule_rrule:
        return None
    return forum.schedule_anchor


def _sync_agencies(forum: Forum, names: Sequence[str]) -> None:
    by_name = {a.name.casefold(): a for a in forum.agencies}
    for position, name in enumerate(names):
        existing = by_name.get(name.casefold())
        if existing is None:
            agency = Agency(name=name, position=position, active=True)
            forum.agencies.append(agency)
            by_name[name.casefold()] = agency
        else:
            existing.active, existing.position = True, position
    wanted = {n.casefold() for n in names}
    for agency in forum.agencies:
        if agency.name.casefold() not in wanted:
            # Kept (cases and members refer to it) but no longer offered.
            agency.active = False


def _sync_areas(forum: Forum, names: Sequence[str]) -> None:
    by_name = {a.name.casefold(): a for a in forum.areas}
    for position, name in enumerate(names):
        existing = by_name.get(name.casefold())
        if existing is None:
            area = Area(name=name, position=position, active=True)
            forum.areas.append(area)
            by_name[name.casefold()] = area
        else:
            existing.active, existing.position = True, position
    wanted = {n.casefold() for n in names}
    for area in forum.areas:
        if area.name.casefold() not in wanted:
            area.active = False


# --- changes ------------------------------------------------------------------------------

_ADDED_MEANWHILE = N_("Someone added these people at the same moment. Please try again.")


def _flush_or_conflict(session: Session, conflicts: dict[str, DomainError]) -> None:
    """Flush; a unique-key race with another replica becomes the user's field error.

    The check before the insert sees no conflict, but a concurrent transaction can commit
    the same key first; the database refuses ours and the whole transaction rolls back.
    ``conflicts`` maps a constraint name (PostgreSQL) or ``table.column`` (SQLite) to the
    error to show.
    """
    try:
        session.flush()
    except IntegrityError as exc:
        message = str(exc.orig)
        for needle, error in conflicts.items():
            if needle in message:
                raise error from None
        raise


def create_forum(
    session: Session,
    clock: Clock,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    draft: ForumDraft,
    timezone: str = "Europe/Stockholm",
    language: str = "sv",
) -> Forum:
    """Create a forum in a channel; the creator becomes its admin for their agency."""
    existing = forum_for_channel(session, team_id=team_id, channel_id=channel_id)
    if existing is not None:
        raise ForumExists(name=existing.name)
    schedule = _check_draft(session, clock, draft, team_id=team_id, timezone=timezone, forum=None)
    now = clock.now()
    tpl = TEMPLATES.get(draft.template or "")
    forum = Forum(
        team_id=team_id,
        channel_id=channel_id,
        name=draft.name.strip(),
        code=draft.code.strip().upper(),
        template=draft.template,
        schedule_rrule=schedule.rrule,
        schedule_anchor=schedule.anchor,
        meeting_start=schedule.start,
        meeting_minutes=schedule.minutes,
        timezone=timezone,
        language=language,
        settings={**(tpl.settings if tpl else {}), **draft_calendar(draft, None).as_settings()},
        created_by=actor,
        created_at=now,
        updated_at=now,
        agencies=[],
        areas=[],
    )
    _sync_agencies(forum, draft.agencies)
    _sync_areas(forum, draft.areas)
    session.add(forum)
    _flush_or_conflict(
        session,
        {
            "uq_forums_team_id_code": CodeTaken(field="code", code=forum.code),
            "forums.code": CodeTaken(field="code", code=forum.code),
            "uq_forums_team_id_channel_id": ForumExists(name=forum.name),
            "forums.channel_id": ForumExists(name=forum.name),
        },
    )
    own_name = (draft.own_agency or "").casefold()
    own = next(a for a in forum.agencies if a.name.casefold() == own_name)
    session.add(
        Member(
            forum_id=forum.id,
            agency_id=own.id,
            slack_user_id=actor,
            role=Role.ADMIN,
            active=True,
            created_at=now,
            updated_at=now,
        )
    )
    audit.record(
        session,
        clock,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="forum",
        object_ref=forum.code,
        team_id=team_id,
        forum_id=forum.id,
        actor_agency_id=own.id,
    )
    return forum


def update_forum(
    session: Session, clock: Clock, *, forum: Forum, actor: str, draft: ForumDraft
) -> Forum:
    """:func:`save_forum_settings` for a forum already loaded (refreshed afterwards)."""
    return save_forum_settings(
        session, clock, forum_id=forum.id, team_id=forum.team_id, actor=actor, draft=draft
    )


@dataclass(frozen=True)
class _Named:
    """An agency or area as the settings save compares it (loaded with Core, not the ORM)."""

    id: int
    name: str
    position: int
    active: bool


def _lists(session: Session, forum_id: int) -> tuple[list[_Named], list[_Named]]:
    """The forum's agencies and areas in one statement."""
    agencies = select(
        literal("agency").label("kind"), Agency.id, Agency.name, Agency.position, Agency.active
    ).where(Agency.forum_id == forum_id)
    areas = select(
        literal("area").label("kind"), Area.id, Area.name, Area.position, Area.active
    ).where(Area.forum_id == forum_id)
    found: dict[str, list[_Named]] = {"agency": [], "area": []}
    for kind, id_, name, position, active in session.execute(union_all(agencies, areas)):
        found[kind].append(_Named(id_, name, position, bool(active)))
    for rows in found.values():
        rows.sort(key=lambda r: (r.position, r.id))
    return found["agency"], found["area"]


def _sync(
    session: Session,
    model: type[Agency] | type[Area],
    forum_id: int,
    rows: list[_Named],
    names: Sequence[str],
) -> None:
    """:func:`_sync_agencies` / :func:`_sync_areas` with Core statements, and only for rows
    that change (a rename of the forum writes none)."""
    by_name = {r.name.casefold(): r for r in rows}
    wanted = {n.casefold() for n in names}
    new: list[dict[str, object]] = []
    changes: list[tuple[int, int, bool]] = []
    for position, name in enumerate(names):
        row = by_name.get(name.casefold())
        if row is None:
            new.append({"forum_id": forum_id, "name": name, "position": position, "active": True})
            by_name[name.casefold()] = _Named(0, name, position, True)
        elif (row.position, row.active) != (position, True):
            changes.append((row.id, position, True))
    for row in rows:
        if row.name.casefold() not in wanted and row.active:
            changes.append((row.id, row.position, False))  # kept, no longer offered
    for row_id, position, active in changes:
        session.execute(
            update(model).where(model.id == row_id).values(position=position, active=active)
        )
    if new:
        session.execute(insert(model), new)


def save_forum_settings(
    session: Session, clock: Clock, *, forum_id: int, team_id: str, actor: str, draft: ForumDraft
) -> Forum:
    """A coordinator saves the forum's settings modal: checked, written, audited.

    The lean write path (it runs before the ack, and every save is audited): the forum
    and the actor's membership in one statement, the agencies and areas in one, the
    checks in Python, then one UPDATE of the forum (Core, no unit of work), statements
    for agencies and areas only where they change, and the audit event. Members are
    read only when an agency with members would go, cases only when the code changes."""
    found = session.execute(
        select(Forum, Member.role, Member.agency_id)
        .outerjoin(
            Member,
            and_(
                Member.forum_id == Forum.id,
                Member.slack_user_id == actor,
                Member.active.is_(True),
            ),
        )
        .where(Forum.id == forum_id)
    ).first()
    if found is None or found[0].team_id != team_id:
        raise ForumNotFound()
    forum, role, actor_agency = found
    if role is None:
        raise NotAMember()
    if role not in (Role.COORDINATOR, Role.ADMIN):
        raise NotCoordinator()
    draft.template = forum.template
    schedule = _check_draft(
        session, clock, draft, team_id=forum.team_id, timezone=forum.timezone, forum=forum
    )
    agencies, areas = _lists(session, forum.id)
    kept = {n.casefold() for n in draft.agencies}
    leaving = {a.id: a.name for a in agencies if a.active and a.name.casefold() not in kept}
    if leaving:
        staying = session.scalars(
            select(Member.agency_id).where(
                Member.forum_id == forum.id,
                Member.active.is_(True),
                Member.agency_id.in_(leaving),
            )
        ).all()
        if staying:
            raise InputErrors(
                {
                    "agencies": InvalidInput(
                        N_("{name} still has members. Move or remove them first."),
                        field="agencies",
                        name=sorted(leaving[a] for a in set(staying))[0],
                    )
                }
            )
    new_code = draft.code.strip().upper()
    if new_code != forum.code and session.scalar(select(exists().where(Case.forum_id == forum.id))):
        # References like FOS-2026-017 are printed in minutes and messages: keep them true.
        raise InputErrors(
            {
                "code": InvalidInput(
                    N_("The code cannot change once the forum has cases."), field="code"
                )
            }
        )
    calendar = draft_calendar(draft, forum).as_settings()
    values: dict[str, object] = {
        "settings": {**(forum.settings or {}), **calendar},
        "name": draft.name.strip(),
        "code": new_code,
        "schedule_rrule": schedule.rrule,
        "schedule_anchor": schedule.anchor,
        "meeting_start": schedule.start,
        "meeting_minutes": schedule.minutes,
        "updated_at": clock.now(),
    }
    if not _same_schedule(forum, draft) or any(
        (forum.settings or {}).get(k) != v for k, v in calendar.items()
    ):
        values["meetings_until"] = None  # meetings are re-planned at the next read or tick
    # The audit event first: the forum's row is locked from its UPDATE to the commit, and
    # saves of one forum queue on that lock, so as little as possible runs after it.
    audit.record(
        session,
        clock,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="forum",
        object_ref=new_code,
        team_id=forum.team_id,
        forum_id=forum.id,
        actor_agency_id=actor_agency,
    )
    # A race for the code with another save ends in IntegrityError (the caller's field error).
    session.execute(
        update(Forum)
        .where(Forum.id == forum.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    _sync(session, Agency, forum.id, agencies, draft.agencies)
    _sync(session, Area, forum.id, areas, draft.areas)
    session.expire(forum)  # written with Core: read again when next used
    return forum


@dataclass(frozen=True)
class Move:
    """An active member who would change agency (the agency decides what they may see)."""

    slack_user_id: str
    from_agency: str
    to_agency: str


class MoveNeedsConfirmation(DomainError):
    """Adding would move active members to another agency: the coordinator confirms first."""

    msgid = N_("{user} is already a member for {old}. Move them to {new}?")

    def __init__(self, moves: Sequence[Move]):
        first = moves[0]
        super().__init__(
            user=f"<@{first.slack_user_id}>", old=first.from_agency, new=first.to_agency
        )
        self.moves = tuple(moves)


class OwnAgencyChange(NotCoordinator):
    msgid = N_(
        "You cannot change your own agency: ask another coordinator or an admin of the forum "
        "to do it."
    )


def add_members(
    session: Session,
    clock: Clock,
    *,
    forum: Forum,
    actor: str,
    slack_user_ids: Iterable[str],
    agency_id: int,
    role: Role,
    bot_user_ids: Iterable[str] = (),
    confirm_moves: bool = False,
) -> list[Member]:
    """Add (or re-activate) members for one agency. Coordinators only.

    Nobody changes agency silently: an active member of another agency is moved only with
    ``confirm_moves`` (else :class:`MoveNeedsConfirmation` names them), nobody changes their
    own agency (:class:`OwnAgencyChange`), and every agency change is audited and reported to
    the forum's log reviewers by DM."""
    access = require_coordinator(session, forum=forum, slack_user_id=actor)
    agency = next((a for a in active_agencies(forum) if a.id == agency_id), None)
    if agency is None:
        raise InvalidInput(N_("Choose one of the forum's agencies."), field="agency")
    users = list(dict.fromkeys(slack_user_ids))
    if not users:
        raise InvalidInput(N_("Choose at least one person."), field="users")
    bots = set(bot_user_ids)
    if bots & set(users):
        raise InvalidInput(N_("Bots cannot be members of a forum."), field="users")
    if role is Role.ADMIN and access.member.role is not Role.ADMIN:
        raise NotCoordinator(N_("Only an admin of the forum can add admins."))
    existing = {
        m.slack_user_id: m
        for m in session.scalars(
            select(Member)
            .options(joinedload(Member.agency))
            .where(Member.forum_id == forum.id, Member.slack_user_id.in_(users))
        )
    }
    own = existing.get(actor)
    if own is not None and own.agency_id != agency.id:
        raise OwnAgencyChange(field="users")
    moves = [
        Move(user, m.agency.name, agency.name)
        for user, m in existing.items()
        if m.active and m.agency_id != agency.id
    ]
    if moves and not confirm_moves:
        raise MoveNeedsConfirmation(moves)
    now = clock.now()
    result = []
    for user in users:
        member = existing.get(user)
        is_new = member is None
        moved_from: str | None = None
        if member is None:
            member = Member(
                forum_id=forum.id,
                slack_user_id=user,
                agency_id=agency.id,
                role=role,
                active=True,
                created_at=now,
                updated_at=now,
            )
            session.add(member)
        else:
            if member.role is Role.ADMIN and member.active and role is not Role.ADMIN:
                # Demoting an admin is an admin's decision, and never leaves the forum without one.
                if access.member.role is not Role.ADMIN:
                    raise NotCoordinator(N_("Only an admin of the forum can remove an admin."))
                _ensure_other_admin(session, forum, member)
            if member.agency_id != agency.id:
                moved_from = member.agency.name
            member.agency_id, member.role, member.active, member.updated_at = (
                agency.id,
                role,
                True,
                now,
            )
        result.append(member)
        detail: dict[str, object] = {"agency": agency.name, "role": role.value}
        if moved_from is not None:
            detail["from_agency"] = moved_from
        event = audit.record(
            session,
            clock,
            actor=actor,
            action=AuditAction.CREATE if is_new else AuditAction.UPDATE,
            object_type="member",
            object_ref=user,
            team_id=forum.team_id,
            forum_id=forum.id,
            actor_agency_id=access.member.agency_id,
            detail=detail,
        )
        if moved_from is not None:
            _report_agency_change(
                session,
                clock,
                forum,
                user=user,
                actor=actor,
                old=moved_from,
                new=agency.name,
                key=f"agency_change:{forum.id}:{event.id}",
            )
    _flush_or_conflict(
        session,
        {
            "uq_members_forum_id_slack_user_id": InvalidInput(_ADDED_MEANWHILE, field="users"),
            "members.slack_user_id": InvalidInput(_ADDED_MEANWHILE, field="users"),
        },
    )
    return result


def log_reviewers(session: Session, forum: Forum) -> list[str]:
    """The forum's log reviewers (granskare: domain.logreview)."""
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                Member.forum_id == forum.id,
                Member.active.is_(True),
                Member.role == Role.REVIEWER,
            )
            .order_by(Member.id)
        )
    )


def _report_agency_change(
    session: Session,
    clock: Clock,
    forum: Forum,
    *,
    user: str,
    actor: str,
    old: str,
    new: str,
    key: str,
) -> None:
    """A DM to each log reviewer (queued with the change): the agency decides which case
    details someone sees, so reviewers hear of every change."""
    t = Translator(normalize_locale(forum.language))
    text = t(
        "<@{user}> now represents {new} instead of {old} in {forum} (changed by <@{actor}>).",
        user=user,
        new=_mrkdwn(new),
        old=_mrkdwn(old),
        forum=_mrkdwn(forum.name),
        actor=actor,
    )
    for reviewer in log_reviewers(session, forum):
        scheduling.enqueue(
            session,
            clock,
            team_id=forum.team_id,
            method="chat.postMessage",
            payload={"channel": reviewer, "text": text},
            dedupe_key=f"{key}:{reviewer}",
        )


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _ensure_other_admin(session: Session, forum: Forum, leaving: Member) -> None:
    admins = [
        m for m in active_members(session, forum) if m.role is Role.ADMIN and m.id != leaving.id
    ]
    if not admins:
        raise InvalidInput(
            N_("A forum needs at least one admin. Make someone else admin first."), field="users"
        )


def remove_member(
    session: Session, clock: Clock, *, forum: Forum, actor: str, member_id: int
) -> Member:
    access = require_coordinator(session, forum=forum, slack_user_id=actor)
    member = session.get(Member, member_id)
    if member is None or member.forum_id != forum.id or not member.active:
        raise InvalidInput(N_("That person is no longer a member of the forum."))
    if member.role is Role.ADMIN:
        if access.member.role is not Role.ADMIN:
            raise NotCoordinator(N_("Only an admin of the forum can remove an admin."))
        _ensure_other_admin(session, forum, member)
    member.active = False
    member.updated_at = clock.now()
    audit.record(
        session,
        clock,
        actor=actor,
        action=AuditAction.DELETE,
        object_type="member",
        object_ref=member.slack_user_id,
        team_id=forum.team_id,
        forum_id=forum.id,
        actor_agency_id=access.member.agency_id,
    )
    return member


def member_left_channel(
    session: Session, clock: Clock, *, team_id: str, channel_id: str, slack_user_id: str
) -> bool:
    """A member who leaves the forum's channel loses access. Returns True if one did."""
    forum = forum_for_channel(session, team_id=team_id, channel_id=channel_id)
    if forum is None:
        return False
    member = find_member(session, forum=forum, slack_user_id=slack_user_id)
    if member is None:
        return False
    member.active = False
    member.updated_at = clock.now()
    audit.record(
        session,
        clock,
        actor=slack_user_id,
        action=AuditAction.DELETE,
        object_type="member",
        object_ref=slack_user_id,
        team_id=team_id,
        forum_id=forum.id,
        actor_agency_id=member.agency_id,
        detail={"reason": "left_channel"},
    )
    if member.role is Role.ADMIN:
        _keep_an_admin(session, clock, forum, left=member)
    return True


def _keep_an_admin(session: Session, clock: Clock, forum: Forum, *, left: Member) -> None:
    """When the last admin leaves, the longest-serving coordinator (else member) takes over,
    so the forum can always be managed."""
    remaining = [m for m in active_members(session, forum) if m.id != left.id]
    if not remaining or any(m.role is Role.ADMIN for m in remaining):
        return
    successor = min(remaining, key=lambda m: (m.role is not Role.COORDINATOR, m.id))
    successor.role = Role.ADMIN
    successor.updated_at = clock.now()
    audit.record(
        session,
        clock,
        actor=left.slack_user_id,
        action=AuditAction.UPDATE,
        object_type="member",
        object_ref=successor.slack_user_id,
        team_id=forum.team_id,
        forum_id=forum.id,
        actor_agency_id=left.agency_id,
        detail={"role": Role.ADMIN.value, "reason": "last_admin_left"},
    )
