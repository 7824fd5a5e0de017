"""A meeting's record: what was on its agenda."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
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
    CaseEvent,
    CaseStatus,
    Meeting,
    MeetingStatus,
    MinuteEntry,
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
) -> Record:
    """Attendance and discussed items; what was not discussed rolls over to the next
    meeting (:class:`Record`: that meeting, None if there is none planned, and whether its
    agenda changed).

    The meeting's row is locked first, then the next planned meeting's row (a cancel of it
    at the same moment either comes first, and the items go to the one after, or waits and
    hands them on), then the rows of its agenda's cases (by id, :mod:`domain.locks`, the
    minutes' order), and their status is read after that: a case
    closed at the same moment is either read as closed (left as it is: not marked
    discussed, not rolled over) or closed after this record, which its close then reads.
    Recording a meeting again (the modal saved twice, a retry from Slack, a correction)
    takes turns at the meeting's row and rolls each item over once (:func:`_rolled_over`).
    A correction that now says an item rolled over before was discussed takes its copy off
    the next agenda again (:func:`_take_back`)."""
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
    there = _rolled_over(session, meeting, following) if following else _OnAgenda({}, {})
    changed = False
    actor, now = access.member.slack_user_id, clock.now()
    for item in items:
        item.discussed = item.id in discussed
        case = session.get(Case, item.case_id) if item.case_id else None
        if item.discussed:
            if case is not None:
                _mark(session, item, case, actor=actor, now=now)
            if following is not None:
                changed |= _take_back(session, meeting, following, item, case, there)
            continue
        _unmark(session, item, case, actor=actor, now=now)
        if following is None:
            continue
        if case is not None:
            if case.status == CaseStatus.CLOSED:
                continue
            # Planned for the next meeting, unless it is on a meeting under way since
            # (rolled there by an earlier save of this record): that one's record decides.
            if there.placed(case.id) in (None, following.id):
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
        changed = True
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
    left = sum(1 for item in items if not item.discussed)
    return Record(following=following, next_agenda_changed=changed, not_discussed=left)


def _mark(session: Session, item: AgendaItem, case: Case, *, actor: str, now: dt.datetime) -> None:
    """``item`` is recorded as discussed: a new or planned case is now discussed. Remembered
    on the item (a correction to "not discussed" puts it back, :func:`_unmark`) and in the
    case's history as any change of status (who, when, from what), once: a case discussed
    already (an earlier save of the record, or the minutes) is left as it is."""
    if case.status not in (CaseStatus.NEW, CaseStatus.SCHEDULED):
        return
    item.discussed_from = case.status.value
    status_changed(session, case, CaseStatus.DISCUSSED, actor=actor, now=now)
    case.status = CaseStatus.DISCUSSED


def _unmark(
    session: Session, item: AgendaItem, case: Case | None, *, actor: str, now: dt.datetime
) -> None:
    """``item`` is now recorded as not discussed: what an earlier record of it did to its
    case's status (marked it discussed) is undone, the case as it was before (in its
    history too). Only while the case is still as that record left it: a status changed
    since (closed, planned for a follow-up, set by hand: :func:`domain.cases.change_status`
    clears the mark) is someone else's doing and stays."""
    before, item.discussed_from = item.discussed_from, None
    if before is None or case is None or case.status != CaseStatus.DISCUSSED:
        return
    status_changed(session, case, CaseStatus(before), actor=actor, now=now)
    case.status = CaseStatus(before)


def status_changed(
    session: Session, case: Case, to: CaseStatus, *, actor: str, now: dt.datetime
) -> None:
    """A line in ``case``'s history (who, when, from what to ``to``) for a status a
    meeting's record or minutes set: its readers otherwise saw a status with nothing
    saying how it got there. The caller sets the status."""
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=actor,
            kind="status",
            from_status=case.status.value,
            to_status=to.value,
        )
    )


def mark_minuted(
    session: Session,
    clock: Clock,
    *,
    meeting: Meeting,
    cases: Sequence[Case],
    actor: str,
) -> Meeting | None:
    """The minutes of ``meeting`` say ``cases`` were dealt with (a decision, an action or
    a follow-up written for them): their items are marked discussed as the meeting's record
    marks them (:func:`_mark`: the case's status and history; the record modal then shows
    them ticked), and a copy that went onto the next agenda meanwhile (collected before the
    minutes were written: a case not discussed is carried over, :func:`domain.agenda.collect`)
    comes off it again (:func:`_take_back`). The next meeting if its agenda changed.

    The caller holds the meeting's row, then the cases' (:mod:`domain.locks`). Items are
    changed by statement, not loaded (a page of the minutes is saved per click; its reads
    are counted, see test_minutes_pages)."""
    if not cases:
        return None
    now = clock.now()
    fresh = (CaseStatus.NEW, CaseStatus.SCHEDULED)
    # Carried to a later meeting's agenda since (collect): that copy comes off again.
    carried = [c for c in cases if c.status in fresh and c.meeting_id not in (None, meeting.id)]
    live = (
        AgendaItem.meeting_id == meeting.id,
        AgendaItem.removed.is_(False),
    )
    for status in fresh:
        marked = [c for c in cases if c.status is status]
        if marked:
            session.execute(
                update(AgendaItem)
                .where(*live, AgendaItem.case_id.in_([c.id for c in marked]))
                .values(discussed_from=status.value),
                execution_options={"synchronize_session": False},
            )
        for case in marked:
            status_changed(session, case, CaseStatus.DISCUSSED, actor=actor, now=now)
            case.status = CaseStatus.DISCUSSED
    session.execute(
        update(AgendaItem)
        .where(*live, AgendaItem.case_id.in_([c.id for c in cases]))
        .values(discussed=True),
        execution_options={"synchronize_session": False},
    )
    changed: Meeting | None = None
    for case in carried:
        following = session.get(Meeting, case.meeting_id)
        if (
            following is None
            or following.status != MeetingStatus.PLANNED
            or following.starts_at <= now
        ):
            continue  # under way or held: its own record says what became of the case
        there = _rolled_over(session, meeting, following)
        for item in _items(session, meeting.id):
            mine = item.case_id == case.id and not item.removed
            if mine and _take_back(session, meeting, following, item, case, there):
                changed = following
    return changed


@dataclass(frozen=True)
class Record:
    """What recording a meeting did to the next one: ``following`` is the next planned
    meeting (None: none is planned); ``next_agenda_changed`` whether items were rolled onto
    its agenda or taken off it (its posted agenda and previews are then updated);
    ``not_discussed`` how many of this meeting's items were left undiscussed."""

    following: Meeting | None
    next_agenda_changed: bool
    # Items of this meeting recorded as not discussed (0: the coordinator is told all were).
    not_discussed: int = 0


def _take_back(
    session: Session,
    meeting: Meeting,
    following: Meeting,
    item: AgendaItem,
    case: Case | None,
    there: _OnAgenda,
) -> bool:
    """``item`` is now recorded as discussed: its copy that an earlier record of this
    meeting rolled onto the next agenda goes (the next agenda as it would be had the record
    said so from the start), and its case goes back to this meeting. True if it did.

    Only on ``following``, the next meeting that has not started: a copy on a meeting
    under way or held stays, as that meeting's own record says what became of it. Only a
    copy still as the roll-over left it: one a coordinator took off the next agenda is left
    so (collect does not put a case taken off back). A case that comes back for a
    follow-up is due on the next agenda anyway (:func:`collect` takes follow-ups not planned
    for a later meeting): its item stays, no longer marked as rolled over. A coordinator's
    slot for the copy goes with it: it was given to an item that seemed not dealt with."""
    copy = there.take(item)
    if copy is None:
        return False
    if case is not None and _due_there(session, case, following):
        copy.rolled_over = False
        return True
    # Deleted, not marked removed: a later correction back to "not discussed" rolls it over
    # again (a removed case item would keep it off, see _OnAgenda).
    session.delete(copy)
    if case is not None:
        del there.cases[case.id]
    if case is not None and case.status != CaseStatus.CLOSED and case.meeting_id == following.id:
        case.meeting_id = meeting.id
    return True


def _due_there(session: Session, case: Case, following: Meeting) -> bool:
    """Whether :func:`collect` would put ``case`` on ``following``'s agenda as a follow-up."""
    if case.status != CaseStatus.FOLLOW_UP:
        return False
    if case.meeting_id is None or case.meeting_id == following.id:
        return True
    planned = session.get(Meeting, case.meeting_id)
    return planned is not None and planned.starts_at < following.starts_at


_Other = tuple[AgendaItemKind, str | None, str | None, tuple[int, ...] | None]


def _other(item: AgendaItem) -> _Other:
    """What tells an item without a case (other business) from another: nothing links a
    rolled-over copy to its original, so its kind, text, author and agencies."""
    agencies = tuple(item.agency_ids) if item.agency_ids is not None else None
    return (item.kind, item.text, item.added_by, agencies)


@dataclass
class _OnAgenda:
    """The next meeting's agenda (and those of meetings under way since this one, see
    :func:`_rolled_over`) as a roll-over finds it: its case items (any item, a removed one
    too, as :func:`collect` counts them: a case taken off is not put back; the earliest
    meeting's) and its rolled-over items without a case (each copy as often as it is
    there)."""

    cases: dict[int, AgendaItem]
    others: dict[_Other, list[AgendaItem]]
    # The next meeting: only a copy on it is taken back (:func:`_take_back`).
    following_id: int | None = None

    def has(self, item: AgendaItem) -> bool:
        """Whether ``item`` is on it already (each copy found answers once: two like
        items of one meeting, both not discussed, both roll over)."""
        if item.case_id is not None:
            return item.case_id in self.cases
        copies = self.others.get(_other(item))
        if copies:
            copies.pop(0)
            return True
        return False

    def placed(self, case_id: int) -> int | None:
        """The meeting whose agenda has the case (None: none of them)."""
        found = self.cases.get(case_id)
        return found.meeting_id if found is not None else None

    def take(self, item: AgendaItem) -> AgendaItem | None:
        """The copy of ``item`` a roll-over put there and no one has changed since (still
        rolled over, not taken off, not discussed), if any; each copy is found once."""
        if item.case_id is not None:
            copy = self.cases.get(item.case_id)
            if copy is None or not self._untouched(copy):
                return None
            return copy
        copies = self.others.get(_other(item)) or []
        for n, copy in enumerate(copies):
            if self._untouched(copy):
                return copies.pop(n)
        return None

    def _untouched(self, copy: AgendaItem) -> bool:
        return (
            copy.meeting_id == self.following_id
            and copy.rolled_over
            and not copy.removed
            and not copy.discussed
        )


def _rolled_over(session: Session, meeting: Meeting, following: Meeting) -> _OnAgenda:
    """The agendas after ``meeting`` up to ``following``: the next meeting, and any that
    started after this meeting and before now (this record saved again once the next
    meeting was under way: what an earlier save rolled onto it is there, its own record
    says what became of it, and it is not put on ``following`` as well)."""
    between = list(
        session.scalars(
            select(Meeting.id)
            .where(
                Meeting.forum_id == meeting.forum_id,
                Meeting.starts_at > meeting.starts_at,
                Meeting.starts_at <= following.starts_at,
            )
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )
    cases: dict[int, AgendaItem] = {}
    others: dict[_Other, list[AgendaItem]] = {}
    for meeting_id in dict.fromkeys([*between, following.id]):
        for item in _items(session, meeting_id):
            if item.case_id is not None:
                cases.setdefault(item.case_id, item)
            elif item.rolled_over and item.action_id is None:
                others.setdefault(_other(item), []).append(item)
    return _OnAgenda(cases, others, following.id)


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


def discussed_for_record(session: Session, meeting: Meeting) -> set[int]:
    """The items the record modal shows ticked: recorded as discussed (by an earlier save
    of the record, or by the minutes), or a case the meeting's minutes have an entry for
    (minutes written before the minutes marked items). Saving the modal as shown keeps
    them discussed, instead of undoing what the minutes said."""
    minuted = set(
        session.scalars(select(MinuteEntry.case_id).where(MinuteEntry.meeting_id == meeting.id))
    )
    return {
        item.id
        for item in _items(session, meeting.id)
        if not item.removed and (item.discussed or item.case_id in minuted)
    }
