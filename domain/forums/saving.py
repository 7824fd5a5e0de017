"""Creating a forum and saving its settings (audited, conflicts answered as field errors)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, cast

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain import audit, scheduling
from domain.clock import Clock
from domain.errors import (
    CodeTaken,
    DomainError,
    ForumExists,
    ForumNotFound,
    InputErrors,
    InvalidInput,
    NotAMember,
    NotCoordinator,
)
from domain.forums.checking import (
    _check_draft,
    _same_schedule,
    _sync_agencies,
    _sync_areas,
    draft_calendar,
)
from domain.forums.drafts import TEMPLATES, ForumDraft
from domain.forums.lookups import ForumFields, forum_for_channel
from domain.i18n import N_
from storage.models import Agency, Area, AuditAction, Case, Forum, Member, Role, name_key
from storage.sql import json_rows

# --- changes ------------------------------------------------------------------------------

_HAS_MEMBERS = N_("{name} still has members. Move or remove them first.")
_CODE_FIXED = N_("The code cannot change once the forum has cases.")
_ADDED_MEANWHILE = N_("Someone added these people at the same moment. Please try again.")
_SAME_NAME = N_("Two names differ only in upper and lower case: keep one of them.")
_NAMES_MEANWHILE = N_(
    "Someone changed the forum's agencies or areas at the same moment. Please try again."
)


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


def _same_name(field: str) -> InvalidInput:
    return InvalidInput(_SAME_NAME, field=field)


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
            # One name whatever its case (the draft's lists are merged so before this).
            "uq_agencies_forum_id_name_key": _same_name("agencies_other"),
            "agencies.name_key": _same_name("agencies_other"),
            "uq_areas_forum_id_name_key": _same_name("areas"),
            "areas.name_key": _same_name("areas"),
        },
    )
    own_name = name_key(draft.own_agency or "")
    own = next(a for a in forum.agencies if name_key(a.name) == own_name)
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
    save_forum_settings(
        session, clock, forum_id=forum.id, team_id=forum.team_id, actor=actor, draft=draft
    )
    return forum


@dataclass(frozen=True)
class _Named:
    """An agency or area as the settings save compares it (loaded with Core, not the ORM)."""

    id: int
    name: str
    position: int
    active: bool


# The save's statements, built once: a statement object reused keeps its cache key, so a
# save does not build and hash its SQL expressions again (a measurable part of its CPU).
_FORUMS = cast(Table, Forum.__table__)
_MEMBERS = cast(Table, Member.__table__)


def _rows_of(model: type[Agency] | type[Area]) -> Any:
    """A forum's agencies or areas as JSON rows, read in the forum's statement."""
    table = cast(Table, model.__table__)
    return (
        select(json_rows(table.c.id, table.c.name, table.c.position, table.c.active))
        .where(table.c.forum_id == _FORUMS.c.id)
        .scalar_subquery()
    )


# The forum's fields the save checks (lookups.ForumFields), the actor's role and agency, and
# the forum's agencies and areas: one statement, on the tables (a row, no ORM object).
_FIELDS = [_FORUMS.c[f.name] for f in fields(ForumFields)]
_FORUM_AND_ROLE = (
    select(*_FIELDS, _MEMBERS.c.role, _MEMBERS.c.agency_id, _rows_of(Agency), _rows_of(Area))
    .outerjoin(
        _MEMBERS,
        and_(
            _MEMBERS.c.forum_id == _FORUMS.c.id,
            _MEMBERS.c.slack_user_id == bindparam("actor"),
            _MEMBERS.c.active.is_(True),
        ),
    )
    .where(_FORUMS.c.id == bindparam("forum_id"))
)
# The SET clause comes from the parameters (the values of this save); the storage-edge wall
# checks them (domain.privacy_wall: do_orm_execute reads the parameters). On the table, not
# the mapped class: no ORM bulk-update machinery (and no session to synchronise).
_UPDATE_FORUM = update(_FORUMS).where(_FORUMS.c.id == bindparam("saved_forum_id"))


def _update_against_the_row() -> Any:
    """PostgreSQL: :data:`_UPDATE_FORUM` deciding what depends on the forum's row as the
    UPDATE finds it, not as the save read it. The save reads and checks the forum without a
    lock; another save may commit in between (the UPDATE then waits for its row lock and
    reads its version). So the calendar settings are merged into the row's ``settings``
    (``||``: another setting written meanwhile stays), and ``meetings_until`` is kept only
    when the row's schedule and calendar are already the ones saved: a save that puts back
    a schedule another save had just replaced (and meetings planned for) re-plans them."""
    row = _FORUMS.c
    settings = func.coalesce(row.settings, literal_column("'{}'::jsonb", JSONB))
    merged = settings.op("||", return_type=JSONB)(bindparam("calendar", type_=JSONB))
    same = and_(
        row.schedule_rrule == bindparam("same_rrule"),
        row.schedule_anchor == bindparam("same_anchor"),
        row.meeting_start == bindparam("same_start"),
        row.meeting_minutes == bindparam("same_minutes"),
        merged == settings,
    )
    # The checks that hang on other rows, made again as the UPDATE runs (the save read them
    # without a lock): the saver is still an active coordinator or admin of the forum (a
    # removal or demotion committed meanwhile refuses the save), and the code changes only
    # while the forum has no case (a case created meanwhile has a reference with the old
    # code). No row written: the caller tells why (:func:`_refused_at_the_write`).
    members, cases = _MEMBERS.c, cast(Table, Case.__table__).c
    may_save = exists().where(
        members.forum_id == row.id,
        members.slack_user_id == bindparam("saver"),
        members.active.is_(True),
        # Two comparisons, not IN: an IN list is an "expanding" parameter, rendered into the
        # cached SQL again at every execution (~2 % of a request worker's CPU per save).
        or_(members.role == Role.COORDINATOR, members.role == Role.ADMIN),
    )
    code_may_change = or_(
        row.code == bindparam("new_code"), ~exists().where(cases.forum_id == row.id)
    )
    return (
        _UPDATE_FORUM.where(may_save, code_may_change)
        .values(settings=merged, meetings_until=case((same, row.meetings_until), else_=None))
        .returning(row.id)
    )


_UPDATE_AGAINST_THE_ROW = _update_against_the_row()
# The same, touching the queued update of a message the save changes (the channel
# announcement) in the same statement: after the forum's row is locked, and without waiting
# for a row a deliverer holds (scheduling.touch_riding); it returns whether it touched.
_TOUCHED, _TOUCHED_FLAG = scheduling.touch_riding()
_UPDATE_AND_TOUCH = _UPDATE_AGAINST_THE_ROW.add_cte(_TOUCHED).returning(_TOUCHED_FLAG)


def _named(rows: list[list[Any]] | None) -> list[_Named]:
    """JSON rows (:func:`_rows_of`) as :class:`_Named`, in the forum's order."""
    named = [_Named(int(i), str(n), int(p), bool(a)) for i, n, p, a in rows or ()]
    return sorted(named, key=lambda r: (r.position, r.id))


def _sync(
    session: Session,
    model: type[Agency] | type[Area],
    forum_id: int,
    rows: list[_Named],
    names: Sequence[str],
) -> None:
    """:func:`_sync_agencies` / :func:`_sync_areas` with Core statements, and only for rows
    that change (a rename of the forum writes none). Names are one name whatever their case
    (:func:`storage.models.name_key`, unique per forum in the database)."""
    by_name = {name_key(r.name): r for r in rows}
    wanted = {name_key(n) for n in names}
    new: list[dict[str, object]] = []
    changes: list[tuple[_Named, int, bool]] = []
    for position, name in enumerate(names):
        key = name_key(name)
        row = by_name.get(key)
        if row is None:
            new.append(
                {
                    "forum_id": forum_id,
                    "name": name,
                    "name_key": key,
                    "position": position,
                    "active": True,
                }
            )
            by_name[key] = _Named(0, name, position, True)
        elif (row.position, row.active) != (position, True):
            changes.append((row, position, True))
    for row in rows:
        if name_key(row.name) not in wanted and row.active:
            changes.append((row, row.position, False))  # kept, no longer offered
    for row, position, active in changes:
        statement = update(model).where(model.id == row.id).values(position=position, active=active)
        if model is Agency and not active:
            # The save checked "no members" without a lock: an agency given a member since
            # (committed) stays, and the save is refused as it would have been a moment later.
            statement = statement.where(
                ~exists().where(
                    Member.forum_id == forum_id,
                    Member.agency_id == Agency.id,
                    Member.active.is_(True),
                )
            )
            if session.execute(statement.returning(Agency.id)).first() is None:
                raise InputErrors(
                    {"agencies": InvalidInput(_HAS_MEMBERS, field="agencies", name=row.name)}
                )
            continue
        session.execute(statement)
    if new:
        # PostgreSQL: saves of one forum read it without a lock, so another may have added
        # the same name since (committed), in any case ("fos" for "FOS"). Then its row is
        # this save's, where this save puts it (and keeps the name it has). SQLite's writers
        # queue from their BEGIN, so the names read are the names stored; the same statement
        # there (no save can fail on a name another wrote).
        table = cast(Table, model.__table__)
        postgresql = session.get_bind().dialect.name == "postgresql"
        added = (pg_insert if postgresql else sqlite_insert)(table)
        try:
            session.execute(
                added.on_conflict_do_update(
                    index_elements=[table.c.forum_id, table.c.name_key],
                    set_={"position": added.excluded.position, "active": True},
                ),
                new,
            )
        except IntegrityError as exc:
            # PostgreSQL: the upsert takes over a row only on its key; another save inserting
            # the same name in the very same instant can still meet the unique (forum, name)
            # first (kept while an older release runs beside this one). Told, not an outage.
            if f"{table.name}_forum_id_name" not in str(exc.orig):
                raise
            field = "agencies_other" if model is Agency else "areas"
            raise InputErrors({field: InvalidInput(_NAMES_MEANWHILE, field=field)}) from None


def _enqueue(session: Session, clock: Clock, update: scheduling.UpdateOf) -> None:
    scheduling.enqueue_update(
        session,
        clock,
        team_id=update.team_id,
        key=update.key,
        render=update.render,
        args=update.args,
        skip_locked=True,  # the forum's row may be ours already: wait for no deliverer
    )


def _saver_row(session: Session, *, forum_id: int, team_id: str, actor: str) -> Any:
    """The forum with the saver's role, agencies and areas (:data:`_FORUM_AND_ROLE`), or
    why the saver may not save it."""
    found = session.execute(_FORUM_AND_ROLE, {"forum_id": forum_id, "actor": actor}).first()
    if found is None or ForumFields(*found[: len(_FIELDS)]).team_id != team_id:
        raise ForumNotFound()
    role = found[len(_FIELDS)]
    if role is None:
        raise NotAMember()
    if role not in (Role.COORDINATOR, Role.ADMIN):
        raise NotCoordinator()
    return found


def _refused_at_the_write(session: Session, *, forum_id: int, team_id: str, actor: str) -> None:
    """PostgreSQL: the forum's UPDATE wrote no row, so a check it makes again failed against
    what another transaction committed after this save read the forum: say which (the
    caller's transaction, with the audit event of the UPDATE, rolls back)."""
    _saver_row(session, forum_id=forum_id, team_id=team_id, actor=actor)
    raise InputErrors({"code": InvalidInput(_CODE_FIXED, field="code")})


def save_forum_settings(
    session: Session,
    clock: Clock,
    *,
    forum_id: int,
    team_id: str,
    actor: str,
    draft: ForumDraft,
    update: scheduling.UpdateOf | None = None,
) -> None:
    """A coordinator saves the forum's settings modal: checked, written, audited.

    The lean write path (it runs before the ack, and every save is audited): the forum
    (the fields it checks, as a row: no ORM object) with the actor's membership, its
    agencies and areas in one statement, the checks in Python, then the audit event with
    one UPDATE of the forum (Core, no unit of work; one round trip on PostgreSQL),
    statements for agencies and areas only where they change. Members are read only when
    an agency with members would go, cases only when the code changes.

    ``update``: a message that shows the forum (its channel announcement) and is updated
    with it (``scheduling.enqueue_update``), queued in this transaction.

    Nothing is locked while the forum is read and checked: saves of one forum queue only
    on its row, from their UPDATE to their commit. On PostgreSQL the update's queued
    ``chat.update`` is touched in that same statement, after the forum's row is locked,
    skipping a row a deliverer holds (which may wait for the forum's row to plan its
    meetings: no deadlock); only when nothing was touched is an update queued after it
    (:func:`scheduling.enqueue_update`, skipping held rows too). A refused save queues
    nothing. Whatever another save wrote between this save's read and its UPDATE is not
    overwritten with what this save read (:func:`_update_against_the_row`; SQLite's
    writers queue whole, from their BEGIN)."""
    found = _saver_row(session, forum_id=forum_id, team_id=team_id, actor=actor)
    forum = ForumFields(*found[: len(_FIELDS)])
    _, actor_agency, agency_rows, area_rows = found[len(_FIELDS) :]
    draft.template = forum.template
    schedule = _check_draft(
        session, clock, draft, team_id=forum.team_id, timezone=forum.timezone, forum=forum
    )
    agencies, areas = _named(agency_rows), _named(area_rows)
    kept = {name_key(n) for n in draft.agencies}
    leaving = {a.id: a.name for a in agencies if a.active and name_key(a.name) not in kept}
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
                        _HAS_MEMBERS,
                        field="agencies",
                        name=sorted(leaving[a] for a in set(staying))[0],
                    )
                }
            )
    new_code = draft.code.strip().upper()
    if new_code != forum.code and session.scalar(select(exists().where(Case.forum_id == forum.id))):
        # References like FOS-2026-017 are printed in minutes and messages: keep them true.
        raise InputErrors({"code": InvalidInput(_CODE_FIXED, field="code")})
    calendar = draft_calendar(draft, forum).as_settings()
    values: dict[str, object] = {
        "name": draft.name.strip(),
        "code": new_code,
        "schedule_rrule": schedule.rrule,
        "schedule_anchor": schedule.anchor,
        "meeting_start": schedule.start,
        "meeting_minutes": schedule.minutes,
        "updated_at": clock.now(),
    }
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        # Decided against the row as the UPDATE finds it (another save may have committed
        # since this one read it).
        statement = _UPDATE_AGAINST_THE_ROW if update is None else _UPDATE_AND_TOUCH
        values |= {
            "calendar": calendar,
            "same_rrule": schedule.rrule,
            "same_anchor": schedule.anchor,
            "same_start": schedule.start,
            "same_minutes": schedule.minutes,
            "saver": actor,
            "new_code": new_code,
            **(update.parameters() if update is not None else {}),
        }
    else:  # the write lock was taken at BEGIN: the row read is the row written
        statement = _UPDATE_FORUM
        values["settings"] = {**(forum.settings or {}), **calendar}
        if (
            not _same_schedule(forum, draft)
            or schedule.anchor != forum.schedule_anchor  # a first meeting chosen
            or any((forum.settings or {}).get(k) != v for k, v in calendar.items())
        ):
            values["meetings_until"] = None  # meetings are re-planned at the next read or tick
        if update is not None:
            _enqueue(session, clock, update)
    # The audit event and the forum's UPDATE in one round trip (PostgreSQL): the forum's
    # row is locked from its UPDATE to the commit, and saves of one forum queue on that lock,
    # so as little as possible runs after it. A race for the code with another save ends in
    # IntegrityError (the caller's field error).
    saved = audit.append_with(
        session,
        clock,
        statement,
        {"saved_forum_id": forum.id, **values},
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="forum",
        object_ref=new_code,
        team_id=forum.team_id,
        forum_id=forum.id,
        actor_agency_id=actor_agency,
    )
    if postgresql:
        written = saved.first()
        if written is None:
            _refused_at_the_write(session, forum_id=forum_id, team_id=team_id, actor=actor)
        elif update is not None and not written[-1]:
            _enqueue(session, clock, update)  # none queued, or a deliverer has it: one after it
    _sync(session, Agency, forum.id, agencies, draft.agencies)
    _sync(session, Area, forum.id, areas, draft.areas)
    # Written with Core: a forum this session has loaded is read again when next used.
    loaded = session.identity_map.get(session.identity_key(Forum, forum.id))
    if loaded is not None:
        session.expire(loaded)
