"""Agenda items: collected automatically, added, moved and removed."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from domain import actions as action_service
from domain import audit, meetings, privacy
from domain.access import Access
from domain.agenda.base import ITEM_TEXT_MAX, ItemNotFound, ItemRemoved, NoUpcomingMeeting
from domain.clock import Clock
from domain.errors import InvalidInput
from domain.i18n import N_, N_plural
from storage.models import (
    AgendaItem,
    AgendaItemKind,
    AuditAction,
    Case,
    CaseStatus,
    Forum,
    Meeting,
    MeetingStatus,
    MinuteEntry,
)

# --- collecting items -------------------------------------------------------------------------


def _next_position(session: Session, meeting_id: int) -> int:
    top = session.scalar(
        select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting_id)
    )
    return (top or 0) + 1


def collect(
    session: Session, clock: Clock, meeting: Meeting, forum: Forum
) -> action_service.DueActions:
    """Add the automatic items that are not on this meeting's agenda yet (idempotent).
    Returns the agenda's due actions (:func:`build` lists their details from the same)."""
    now = clock.now()
    # What is on the agenda already, and its last position: one statement.
    on_agenda_cases: set[int] = set()
    on_agenda_actions: set[int] = set()
    position = 1
    for case_id, action_id, at in session.execute(
        select(AgendaItem.case_id, AgendaItem.action_id, AgendaItem.position).where(
            AgendaItem.meeting_id == meeting.id
        )
    ):
        if case_id is not None:
            on_agenda_cases.add(case_id)
        if action_id is not None:
            on_agenda_actions.add(action_id)
        position = max(position, at + 1)
    # New cases for this meeting, and new cases raised without a meeting (none was planned);
    # cases planned for a meeting that is over and did not discuss them (:func:`_left_behind`);
    # cases marked for follow-up that are not yet on a later meeting's agenda. One statement
    # (bounded by the forum and the status), split by status here.
    fresh = (CaseStatus.NEW, CaseStatus.SCHEDULED)
    planned_here = or_(Case.meeting_id == meeting.id, Case.meeting_id.is_(None))
    if meeting.starts_at > now:
        planned_here = or_(planned_here, _left_behind(forum, meeting, now))
    found = session.execute(
        select(Case.id, Case.meeting_id, Case.status)
        .where(
            Case.forum_id == forum.id,
            or_(
                and_(
                    Case.status.in_(fresh),
                    planned_here,
                    Case.created_at <= now,
                ),
                and_(
                    Case.status == CaseStatus.FOLLOW_UP,
                    or_(
                        Case.meeting_id.is_(None),
                        Case.meeting_id == meeting.id,
                        exists().where(
                            Meeting.id == Case.meeting_id,
                            Meeting.forum_id == forum.id,  # this forum's meetings (indexed)
                            Meeting.starts_at < meeting.starts_at,
                        ),
                    ),
                ),
            ),
        )
        .order_by(Case.id)
    ).all()
    new_cases = [(c, m) for c, m, status in found if status in fresh]
    follow_ups = [(c, m) for c, m, status in found if status == CaseStatus.FOLLOW_UP]
    # Rows, not objects: what is collected is inserted in one statement (Thursday builds
    # thousands of agendas; the ORM's unit of work per item was most of a build's CPU).
    items: list[dict[str, Any]] = []
    unplanned: list[int] = []
    # (case, the meeting that passed it by): carried over to this one.
    carried: list[tuple[int, int]] = []
    for kind, cases in (
        (AgendaItemKind.NEW_CASE, new_cases),
        (AgendaItemKind.FOLLOW_UP, follow_ups),
    ):
        for case_id, case_meeting in cases:
            left = kind == AgendaItemKind.NEW_CASE and case_meeting not in (None, meeting.id)
            if left and case_meeting is not None:
                # Planned here from now on, on the agenda or not (taken off it by hand).
                carried.append((case_id, case_meeting))
            if case_id in on_agenda_cases:
                continue
            if case_meeting is None:
                unplanned.append(case_id)
            items.append(
                {
                    "kind": kind,
                    "case_id": case_id,
                    "action_id": None,
                    "position": position,
                    "rolled_over": left,
                }
            )
            on_agenda_cases.add(case_id)
            position += 1
    if unplanned:
        session.execute(
            update(Case)
            .where(Case.id.in_(unplanned), Case.meeting_id.is_(None))
            .values(meeting_id=meeting.id)
        )
    decided: set[int] = set()
    if carried:
        # Only while still planned for the meeting that passed (a record or a close that
        # came first decides, see domain.agenda.record). A transaction that held the case's
        # row meanwhile (the minutes, the record, a close: read above as left behind, then
        # dealt with) leaves it unmatched: then it is not carried onto this agenda either.
        # One statement however many are carried (a Thursday builds thousands of agendas).
        moved = set(
            session.scalars(
                update(Case)
                .where(
                    Case.id.in_([case_id for case_id, _ in carried]),
                    Case.meeting_id.in_(sorted({before for _, before in carried})),
                    Case.status.in_(fresh),
                )
                .values(meeting_id=meeting.id)
                .returning(Case.id)
            )
        )
        decided = {case_id for case_id, _ in carried} - moved
    if decided:
        items = [i for i in items if i["case_id"] not in decided]
    day = meeting.starts_at.astimezone(zoneinfo.ZoneInfo(forum.timezone)).date()
    # Open and due by the meeting day, or done without a follow-up of effect: the same
    # capped list the agenda shows details for (the rest is "and N more").
    due = action_service.agenda_due_actions(session, forum.id, day)
    for action_id in due.ids:
        if action_id in on_agenda_actions:
            continue
        items.append(
            {
                "kind": AgendaItemKind.ACTION,
                "case_id": None,
                "action_id": action_id,
                "position": position,
                "rolled_over": False,
            }
        )
        position += 1
    if items:
        common = {"meeting_id": meeting.id, "added_at": now, "discussed": False}
        # Core on the table: one multi-row INSERT (the ORM splits rows by the keys set).
        session.execute(
            insert(AgendaItem.__table__),  # type: ignore[arg-type]
            [{**common, **item} for item in items],
        )
    return due


def _left_behind(forum: Forum, meeting: Meeting, now: dt.datetime) -> ColumnElement[bool]:
    """A new or planned case whose meeting is over without discussing it: the meeting
    (this forum's, before ``meeting``) has ended or was cancelled, and neither its record
    (the item ticked as discussed) nor its minutes (an entry for the case) say it was
    dealt with. It is carried to the next meeting's agenda whichever way the meeting was
    recorded, or if it was never recorded at all: a case never silently drops off the
    agendas (a record that says so rolls it over itself, :func:`domain.agenda.record_meeting`;
    this is for the minutes, and for a meeting nobody recorded). Only onto the next
    meeting (no planned meeting starts between now and ``meeting``): a later one's agenda
    built early does not take the case past it."""
    sooner = aliased(Meeting)
    return and_(
        ~exists().where(
            sooner.forum_id == forum.id,
            sooner.status == MeetingStatus.PLANNED,
            sooner.starts_at > now,
            sooner.starts_at < meeting.starts_at,
        ),
        exists().where(
            Meeting.id == Case.meeting_id,
            Meeting.forum_id == forum.id,
            Meeting.id != meeting.id,
            Meeting.starts_at < meeting.starts_at,
            or_(Meeting.ends_at <= now, Meeting.status == MeetingStatus.CANCELLED),
        ),
        ~exists().where(
            AgendaItem.meeting_id == Case.meeting_id,
            AgendaItem.case_id == Case.id,
            AgendaItem.discussed.is_(True),
        ),
        ~exists().where(
            MinuteEntry.meeting_id == Case.meeting_id,
            MinuteEntry.case_id == Case.id,
        ),
    )


def add_item(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    text: str,
    agency_ids: Sequence[int] = (),
    meeting_id: int | None = None,
) -> tuple[AgendaItem, Meeting]:
    """Other business from a member, for the given or the next meeting."""
    forum = access.forum
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InvalidInput(N_("Write what you want to raise."), field="text")
    if len(cleaned) > ITEM_TEXT_MAX:
        raise InvalidInput(
            N_plural("Keep it under {n} character.", "Keep it under {n} characters."),
            field="text",
            n=ITEM_TEXT_MAX,
        )
    privacy.check_text(cleaned, field="text", today=clock.now().date())
    if meeting_id is not None:
        meeting = meetings.get_meeting(session, forum, meeting_id)
    else:
        upcoming = meetings.upcoming(session, clock, forum, count=1)
        if not upcoming:
            raise NoUpcomingMeeting()
        meeting = upcoming[0]
    if meeting.status != MeetingStatus.PLANNED or meeting.starts_at <= clock.now():
        raise InvalidInput(N_("That meeting has already started or is cancelled."))
    known = {a.id for a in forum.agencies if a.active}
    chosen = [a for a in agency_ids if a in known]
    item = AgendaItem(
        meeting_id=meeting.id,
        kind=AgendaItemKind.OTHER,
        text=cleaned,
        position=_next_position(session, meeting.id),
        added_by=access.member.slack_user_id,
        added_at=clock.now(),
        discussed=False,
        agency_ids=chosen or None,
    )
    session.add(item)
    session.flush()
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.CREATE,
        object_type="agenda_item",
        object_ref=str(item.id),
    )
    return item, meeting


def _item(session: Session, forum: Forum, item_id: int) -> tuple[AgendaItem, Meeting]:
    item = session.get(AgendaItem, item_id)
    meeting = session.get(Meeting, item.meeting_id) if item else None
    if item is None or meeting is None or meeting.forum_id != forum.id:
        raise ItemNotFound()
    if item.removed:  # the forum's own, removed since the editor was drawn
        raise ItemRemoved()
    return item, meeting


def move_item(
    session: Session, clock: Clock, *, access: Access, item_id: int, step: int
) -> Meeting:
    """Move an item up (-1) or down (+1) within its section (coordinators)."""
    _require_coordinator(access)
    item, meeting = _item(session, access.forum, item_id)
    siblings = [i for i in _items(session, meeting.id) if i.kind == item.kind and not i.removed]
    index = next(n for n, i in enumerate(siblings) if i.id == item.id)
    other = index + step
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
        positions = sorted(i.position for i in siblings)
        if len(set(positions)) < len(positions):  # ties: renumber the section
            positions = list(range(positions[0], positions[0] + len(positions)))
        for pos, sibling in zip(positions, siblings, strict=True):
            sibling.position = pos
        session.flush()  # the caller publishes it (publish_update) if already posted
    return meeting


def remove_item(session: Session, clock: Clock, *, access: Access, item_id: int) -> Meeting:
    """Take an item off the agenda (coordinators, or the member who added it)."""
    item, meeting = _item(session, access.forum, item_id)
    if not (access.is_coordinator or item.added_by == access.member.slack_user_id):
        raise InvalidInput(N_("Only a coordinator or the member who added it can remove it."))
    item.removed = True
    session.flush()  # the caller publishes it (publish_update) if already posted
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.DELETE,
        object_type="agenda_item",
        object_ref=str(item.id),
    )
    return meeting


def _require_coordinator(access: Access) -> None:
    if not access.is_coordinator:
        from domain.errors import NotCoordinator

        raise NotCoordinator()


def _items(session: Session, meeting_id: int) -> list[AgendaItem]:
    return list(
        session.scalars(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting_id)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    )
