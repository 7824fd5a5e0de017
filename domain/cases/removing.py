"""Deleting a case raised by mistake (wrong forum, wrong child, a duplicate).

Closing such a case would keep a child's data until retention (gallring) erases it, years
later, for no reason (GDPR: data minimisation, art. 17). The member who raised it, or a
coordinator of the forum, deletes it at once while nothing else was built on it: no
actions, no minutes, no meeting held with it on the agenda, no deviation or feedback naming
it, no legal hold. The erasure is retention's own (:func:`domain.retention.erase_cases`);
the audit log records the deletion by the reference and the reason alone."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from domain import retention
from domain.access import Access
from domain.cases.base import _audit
from domain.cases.reading import _load, may_delete
from domain.clock import Clock
from domain.errors import CaseChangeRefused, InvalidInput
from domain.i18n import N_
from storage.models import (
    Action,
    AgendaItem,
    AuditAction,
    Case,
    CaseStatus,
    Deviation,
    FamilyView,
    FeedbackSurvey,
    Meeting,
    MeetingStatus,
    MinuteEntry,
)

# The audit event's reason, in the register's language (the log is the municipality's).
MISTAKE_REASON = "registrerat av misstag"
DELETE_ATTEMPT = "delete"

_NOT_THEIRS = N_("Only the member who raised the case or a coordinator can delete it.")
_BUILT_ON = N_(
    "The case cannot be deleted: work has been recorded on it (actions, minutes, a meeting "
    "where it was on the agenda, or feedback), or it is under a legal hold. Close the case "
    "instead."
)


def _built_on(session: Session, clock: Clock, case: Case) -> bool:
    """Something else refers to the case: it is the forum's record now, not a mistake."""
    if case.legal_hold or case.status in (CaseStatus.DISCUSSED, CaseStatus.FOLLOW_UP):
        return True
    on_agenda_of_a_held_meeting = exists().where(
        AgendaItem.case_id == case.id,
        AgendaItem.meeting_id == Meeting.id,
        Meeting.starts_at <= clock.now(),
        Meeting.status != MeetingStatus.CANCELLED,
    )
    built = (
        exists().where(Action.case_id == case.id)
        | exists().where(MinuteEntry.case_id == case.id)
        | exists().where(Deviation.case_id == case.id)
        | exists().where(FamilyView.case_id == case.id)
        | exists().where(FeedbackSurvey.case_id == case.id)
        | on_agenda_of_a_held_meeting
    )
    return bool(session.scalar(select(built)))


def _deletable(session: Session, clock: Clock, access: Access, case_id: int) -> Case:
    case = _load(session, access, case_id)
    if not may_delete(case, access):
        raise CaseChangeRefused(_NOT_THEIRS, attempt=DELETE_ATTEMPT)
    if _built_on(session, clock, case):
        raise InvalidInput(_BUILT_ON)
    return case


def delete_by_mistake(session: Session, clock: Clock, *, access: Access, case_id: int) -> str:
    """Delete a case raised by mistake: refused to anyone but its raiser or a coordinator
    (audited at the case's door), and with a text saying to close it instead once anything
    was built on it. Its rows go as retention removes a case (consent, agencies, history,
    agenda items: the database cascades); one audit event names the reference and the
    reason, never the case's details. Returns the reference."""
    session.execute(
        select(Case.id)
        .where(Case.id == case_id, Case.forum_id == access.forum.id)
        .with_for_update(key_share=True)
    ).all()
    case = _deletable(session, clock, access, case_id)
    reference = case.reference
    retention.erase_cases(
        session, clock, forum_id=access.forum.id, forum_code=access.forum.code, ids=[case.id]
    )
    _audit(
        session,
        clock,
        access,
        AuditAction.DELETE,
        "case",
        reference,
        {"reason": MISTAKE_REASON},
    )
    return reference
