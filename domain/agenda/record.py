"""A meeting's record: what was on its agenda."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import audit, meetings
from domain.access import Access
from domain.agenda.items import _items, _next_position, _require_coordinator
from domain.clock import Clock
from domain.errors import InvalidInput
from domain.i18n import N_
from storage.models import (
    AgendaItem,
    AgendaItemKind,
    AuditAction,
    Case,
    CaseStatus,
    Meeting,
    MeetingStatus,
)

# --- after the meeting ------------------------------------------------------------------------


def record_meeting(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    meeting_id: int,
    attended_agency_ids: Sequence[int],
    discussed_item_ids: Sequence[int],
) -> Meeting | None:
    """Attendance and discussed items; what was not discussed rolls over to the next
    meeting. Returns that next meeting (None if there is none planned)."""
    _require_coordinator(access)
    forum = access.forum
    meeting = meetings.get_meeting(session, forum, meeting_id)
    if meeting.starts_at > clock.now():
        raise InvalidInput(N_("The meeting has not started yet."))
    if meeting.status == MeetingStatus.CANCELLED:
        raise InvalidInput(N_("This meeting is already cancelled."))
    known = {a.id for a in forum.agencies}
    meeting.attendance = [a for a in attended_agency_ids if a in known]
    meeting.status = MeetingStatus.HELD
    discussed = set(discussed_item_ids)
    following = meetings.next_meeting(session, forum, after=max(meeting.starts_at, clock.now()))
    position = _next_position(session, following.id) if following else 0
    for item in _items(session, meeting.id):
        if item.removed:
            continue
        item.discussed = item.id in discussed
        case = session.get(Case, item.case_id) if item.case_id else None
        if item.discussed:
            if case is not None and case.status in (CaseStatus.NEW, CaseStatus.SCHEDULED):
                case.status = CaseStatus.DISCUSSED
            continue
        if following is None:
            continue
        if case is not None:
            if case.status == CaseStatus.CLOSED:
                continue
            case.meeting_id = following.id
        if item.kind == AgendaItemKind.ACTION:
            continue  # collected again for the next meeting while still due
        session.add(
            AgendaItem(
                meeting_id=following.id,
                kind=item.kind,
                case_id=item.case_id,
                text=item.text,
                position=position,
                added_by=item.added_by,
                added_at=clock.now(),
                discussed=False,
                agency_ids=item.agency_ids,
                rolled_over=True,
            )
        )
        position += 1
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.UPDATE,
        object_type="meeting",
        object_ref=str(meeting.id),
        detail={"attended": len(meeting.attendance), "discussed": len(discussed)},
    )
    session.flush()
    return following


def items_for_record(session: Session, meeting: Meeting) -> list[tuple[int, str]]:
    """(item id, short label) for the attendance modal: references, text, no details."""
    rows = []
    for item in _items(session, meeting.id):
        if item.removed:
            continue
        if item.case_id is not None:
            ref = session.scalar(select(Case.reference).where(Case.id == item.case_id))
            rows.append((item.id, ref or "?"))
        elif item.action_id is not None:
            rows.append((item.id, f"#{item.action_id}"))
        else:
            rows.append((item.id, (item.text or "")[:60]))
    return rows
