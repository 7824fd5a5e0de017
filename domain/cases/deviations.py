"""Deviations (avvikelser) reported about a case."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import privacy
from domain.access import Access
from domain.cases.base import DEVIATION_TEXT_MAX, _audit
from domain.clock import Clock
from domain.errors import (
    DomainError,
    IdentifyingDataRefused,
    InputErrors,
    InvalidInput,
)
from domain.forums import active_agencies, local_today
from domain.i18n import N_, N_plural
from domain.references import no_such_case
from storage.models import (
    AuditAction,
    Case,
    Deviation,
    Forum,
)

# --- deviations -----------------------------------------------------------------------------

DEVIATION_KINDS: dict[str, str] = {
    "information": N_("Information was not shared"),
    "attendance": N_("An agency did not take part"),
    "routine": N_("A routine was not followed"),
    "delay": N_("Support was delayed"),
    "other": N_("Other"),
}


def find_case_by_reference(session: Session, forum: Forum, reference: str) -> Case | None:
    return session.scalar(
        select(Case).where(
            Case.forum_id == forum.id, func.upper(Case.reference) == reference.strip().upper()
        )
    )


def report_deviation(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    agency_ids: Sequence[int],
    kind: str | None,
    text: str,
    case_reference: str | None,
) -> Deviation:
    forum, member = access.forum, access.member
    errors: dict[str, DomainError] = {}
    texts = {"text": text, "case": case_reference}
    if len(text.strip()) > DEVIATION_TEXT_MAX:  # before the guard reads it
        errors["text"] = InvalidInput(
            N_plural(
                "The description can be at most {n} character.",
                "The description can be at most {n} characters.",
            ),
            field="text",
            n=DEVIATION_TEXT_MAX,
        )
        texts = {"case": case_reference}
    if case_reference and len(case_reference) > 32:
        texts.pop("case", None)  # no reference is that long: "There is no case …" below
    for fld, msgid in privacy.check_fields(texts, today=local_today(forum, clock)).items():
        errors[fld] = IdentifyingDataRefused(msgid, field=fld)
    if not text.strip():
        errors.setdefault(
            "text", InvalidInput(N_("Describe what happened, without names."), field="text")
        )
    if kind not in DEVIATION_KINDS:
        errors["kind"] = InvalidInput(N_("Choose what kind of deviation it is."), field="kind")
    by_id = {a.id: a for a in active_agencies(forum)}
    if not agency_ids or any(a not in by_id for a in agency_ids):
        errors["agencies"] = InvalidInput(N_("Choose the agencies it concerns."), field="agencies")
    case = None
    if case_reference and case_reference.strip() and "case" not in errors:
        case = find_case_by_reference(session, forum, case_reference)
        if case is None:
            errors["case"] = no_such_case(case_reference, field="case")
    if errors:
        raise InputErrors(errors)
    now = clock.now()
    deviation = Deviation(
        forum_id=forum.id,
        reported_by=member.slack_user_id,
        reporting_agency_id=member.agency_id,
        kind=kind or "other",
        text=text.strip(),
        case_id=case.id if case else None,
        created_at=now,
        updated_at=now,
        agencies=[by_id[a] for a in dict.fromkeys(agency_ids)],
    )
    session.add(deviation)
    session.flush()
    _audit(session, clock, access, AuditAction.CREATE, "deviation", str(deviation.id))
    return deviation
