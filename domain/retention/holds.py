"""Legal holds (a case kept past its retention), and a forum's retention overview."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import audit, privacy
from domain.access import Access
from domain.clock import Clock
from domain.errors import (
    CaseChangeRefused,
    CaseNotFound,
    IdentifyingDataRefused,
    InvalidInput,
    NotCoordinator,
)
from domain.i18n import N_, N_plural
from domain.retention.due import plan_forum
from domain.retention.policy import HOLD_REASON_MAX, Due, RetentionPolicy
from storage.models import (
    AuditAction,
    Case,
    Forum,
)

# --- legal hold -----------------------------------------------------------------------------


def _case(session: Session, access: Access, reference: str) -> Case:
    from domain.cases import find_case_by_reference
    from domain.references import no_such_case

    case = find_case_by_reference(session, access.forum, reference)
    if case is None:  # another forum's reference typed is audited at the case's door
        raise no_such_case(reference, error=CaseNotFound)
    return case


def not_coordinator(attempt: str) -> CaseChangeRefused:
    """A member who is no coordinator asking to set or release a legal hold: told as any
    coordinators' door tells them, and audited at the case's door naming ``attempt``."""
    return CaseChangeRefused(NotCoordinator.msgid, attempt=attempt, reason="not_coordinator")


def set_legal_hold(
    session: Session, clock: Clock, *, access: Access, reference: str, reason: str
) -> Case:
    """A coordinator stops retention for one case, with a non-identifying reason."""
    if not access.is_coordinator:
        raise not_coordinator("legal_hold")
    reason = " ".join(reason.split())
    today = clock.now().date()
    for _fld, msgid in privacy.check_fields({"reason": reason}, today=today).items():
        raise IdentifyingDataRefused(msgid, field="reason")
    if not reason:
        raise InvalidInput(
            N_("Give a reason for the legal hold, e.g. a request from the supervisory authority."),
            field="reason",
        )
    if len(reason) > HOLD_REASON_MAX:
        raise InvalidInput(
            N_plural(
                "The reason can be at most {n} character.",
                "The reason can be at most {n} characters.",
            ),
            field="reason",
            n=HOLD_REASON_MAX,
        )
    case = _case(session, access, reference)
    now = clock.now()
    case.legal_hold = True
    case.legal_hold_reason = reason
    case.legal_hold_by = access.member.slack_user_id
    case.legal_hold_at = now
    _audit_hold(session, clock, access, case, held=True)
    return case


def release_legal_hold(session: Session, clock: Clock, *, access: Access, reference: str) -> Case:
    if not access.is_coordinator:
        raise not_coordinator("legal_hold_release")
    case = _case(session, access, reference)
    if not case.legal_hold:
        raise InvalidInput(N_("{reference} is not under legal hold."), reference=case.reference)
    case.legal_hold = False
    case.legal_hold_reason = None
    case.legal_hold_by = None
    case.legal_hold_at = None
    _audit_hold(session, clock, access, case, held=False)
    return case


def _audit_hold(session: Session, clock: Clock, access: Access, case: Case, *, held: bool) -> None:
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.UPDATE,
        object_type="case",
        object_ref=case.reference,
        detail={"legal_hold": held},
    )


@dataclass(frozen=True)
class HoldRow:
    reference: str
    reason: str
    by: str
    at: dt.datetime | None


def legal_holds(session: Session, forum: Forum) -> list[HoldRow]:
    cases = session.scalars(
        select(Case).where(Case.forum_id == forum.id, Case.legal_hold.is_(True)).order_by(Case.id)
    ).all()
    return [
        HoldRow(c.reference, c.legal_hold_reason or "", c.legal_hold_by or "", c.legal_hold_at)
        for c in cases
    ]


def forum_overview(
    session: Session, clock: Clock, policy: RetentionPolicy, forum: Forum
) -> tuple[RetentionPolicy, Sequence[Due]]:
    """The forum's periods and what would go now (for the coordinator's view)."""
    return policy.for_forum(forum), plan_forum(session, clock, policy, forum)
