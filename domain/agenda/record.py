"""A meeting's record: what was on its agenda."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import audit, locks, meetings
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
    meeting. Returns that next meeting (None if there is none planned).

    The meeting's row is locked first, then the next planned meeting's row (a cancel of it
    at the same moment either comes first, and the items go to the one after, or waits and
    hands them on), then the rows of its agenda's cases (by id, :mod:`domain.locks`, the
    minutes' order), and their status is read after that: a case
    closed at the same moment is either read as closed (left as it is: not marked
    discussed, not rolled over) or closed after this record, which its close then reads.
    Recording a meeting again (the modal saved twice, a retry from Slack, a correction)
    takes turns at the meeting's row and rolls each item over once (:func:`_rolled_over`)."""
    _require_coordinator(access)
    forum = access.forum
    meeting = meetings.get_meeting(session, forum, meeting_id)
    locks.lock_meeting(session, meeting.id)  # read again: a twin may have committed meanwhile
    if meeting.starts_at > clock.now():
        raise InvalidInput(N_("The meeting has not started yet."))
    if meeting.status == MeetingStatus.CANCELLED:
        raise InvalidInput(N_("This meeting is already cancelled."))
    known = {a.id for a in forum.agencies}
    meeting.attendance = [a for a in attended_agency_ids if a in known]
    meeting.status = MeetingStatus.HELD
    discussed = set(discussed_item_ids)
    # The next meeting's row next (then the cases): one cancelled or moved at this moment is
    # either read so (the next planned one chosen again) or waits and hands on what this puts.
    following = meetings.lock_next_meeting(
        session, forum, after=max(meeting.starts_at, clock.now())
    )
    position = _next_position(session, following.id) if following else 0
    items = [i for i in _items(session, meeting.id) if not i.removed]
    locks.lock_cases(session, {i.case_id for i in items if i.case_id is not None})
    there = _rolled_over(session, following.id) if following else _OnAgenda(set(), Counter())
    for item in items:
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
        if there.has(item):
            continue  # rolled over already (this meeting recorded before), or on it anyway
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


_Other = tuple[AgendaItemKind, str | None, str | None, tuple[int, ...] | None]


def _other(item: AgendaItem) -> _Other:
    """What tells an item without a case (other business) from another: nothing links a
    rolled-over copy to its original, so its kind, text, author and agencies."""
    agencies = tuple(item.agency_ids) if item.agency_ids is not None else None
    return (item.kind, item.text, item.added_by, agencies)


@dataclass
class _OnAgenda:
    """The next meeting's agenda as a roll-over finds it: its cases (any item, a removed
    one too, as :func:`collect` counts them: a case taken off is not put back) and its
    rolled-over items without a case, each as often as it is there."""

    cases: set[int]
    others: Counter[_Other]

    def has(self, item: AgendaItem) -> bool:
        """Whether ``item`` is on it already (each copy found answers once: two like
        items of one meeting, both not discussed, both roll over)."""
        if item.case_id is not None:
            return item.case_id in self.cases
        key = _other(item)
        if self.others[key] > 0:
            self.others[key] -= 1
            return True
        return False


def _rolled_over(session: Session, meeting_id: int) -> _OnAgenda:
    cases: set[int] = set()
    others: Counter[_Other] = Counter()
    for item in _items(session, meeting_id):
        if item.case_id is not None:
            cases.add(item.case_id)
        elif item.rolled_over and item.action_id is None:
            others[_other(item)] += 1
    return _OnAgenda(cases, others)


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
