"""Legal grounds other than consent (rättslig grund): a coordinator records, per case and
agency, a ground from a short list, and from then on that agency sees the case's details as
it would under an active consent (:func:`domain.disclosure.case_decision`).

Recording and ending a ground are audited; so is every read of details that a ground
unlocked (``legal_ground`` in the read's detail). Without consent or a ground, other
agencies keep seeing an anonymous consultation, and those reads are audited as refused
(``details: false``). The note is optional, short and privacy-guarded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from domain import audit, disclosure, privacy
from domain.access import Access
from domain.cases import find_case_by_reference
from domain.clock import Clock
from domain.errors import (
    CaseNotFound,
    DomainError,
    IdentifyingDataRefused,
    InputErrors,
    InvalidInput,
    NotCoordinator,
)
from domain.forums import active_agencies, local_today
from domain.i18n import N_, N_plural
from domain.references import no_such_case
from storage.models import AuditAction, Case, LegalGround, LegalGroundKind

NOTE_MAX = 300

# The short list: a label and the provision it usually rests on (the municipality's own
# secrecy assessment, docs/privacy/osl-10-2a-mall.md, names the law for each case).
GROUNDS: dict[LegalGroundKind, tuple[str, str]] = {
    LegalGroundKind.NECESSARY: (
        N_("Necessary for the agency to carry out its task"),
        N_("OSL chapter 10 section 2"),
    ),
    LegalGroundKind.PROTECTION: (
        N_("Acute protection of the child's life or health"),
        N_("Emergency (nöd), e.g. Penal Code chapter 24 section 4"),
    ),
    LegalGroundKind.DUTY_TO_REPORT: (
        N_("A duty to report or inform under law"),
        N_("OSL chapter 10 section 28, e.g. a report of concern"),
    ),
    LegalGroundKind.DECISION: (
        N_("A decision under LVU or by a court"),
        N_("The decision itself is the ground"),
    ),
}

REFUSED = NotCoordinator(N_("Only coordinators can record a legal ground other than consent."))


class GroundNotFound(InvalidInput):
    """No legal ground of that id in the reader's forum (none at all, or another forum's)."""

    msgid = N_("That legal ground does not exist in this forum.")


def ground_case(session: Session, ground_id: int) -> int | None:
    """The case a legal ground is for (to audit a refused attempt at it); None for none."""
    if ground_id <= 0:
        return None
    return session.scalar(select(LegalGround.case_id).where(LegalGround.id == ground_id))


@dataclass(frozen=True)
class GroundEntry:
    id: int
    agency: str
    ground: LegalGroundKind
    decided_on: dt.date
    note: str | None
    recorded_by: str
    recorded_at: dt.datetime
    ended_at: dt.datetime | None
    ended_by: str | None

    @property
    def active(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class CaseGrounds:
    """One case's grounds and the agencies a new one can be recorded for."""

    case_id: int
    reference: str
    raising_agency: str
    entries: tuple[GroundEntry, ...]
    agencies: tuple[tuple[int, str], ...]


@dataclass
class GroundDraft:
    """What a coordinator chose in the legal-ground modal, before it is checked."""

    agency_id: int | None
    ground: str | None
    decided_on: dt.date | None
    note: str


def _require_coordinator(access: Access) -> None:
    if not access.is_coordinator:
        raise REFUSED


def _case(session: Session, access: Access, reference: str) -> Case:
    case = find_case_by_reference(session, access.forum, reference)
    if case is None:
        raise no_such_case(reference, error=CaseNotFound)
    return case


def _audit(
    session: Session,
    clock: Clock,
    access: Access,
    action: AuditAction,
    reference: str,
    detail: dict[str, object],
) -> None:
    audit.record_by(
        session,
        clock,
        access,
        action=action,
        object_type="legal_ground",
        object_ref=reference,
        detail=detail,
    )


def entries(grounds: Sequence[LegalGround]) -> tuple[GroundEntry, ...]:
    return tuple(
        GroundEntry(
            id=g.id,
            agency=g.agency.name,
            ground=g.ground,
            decided_on=g.decided_on,
            note=g.note,
            recorded_by=g.recorded_by,
            recorded_at=g.recorded_at,
            ended_at=g.ended_at,
            ended_by=g.ended_by,
        )
        for g in grounds
    )


def load(session: Session, case_id: int) -> list[LegalGround]:
    return list(
        session.scalars(
            select(LegalGround)
            .options(selectinload(LegalGround.agency))
            .where(LegalGround.case_id == case_id)
            .order_by(LegalGround.id)
        )
    )


def case_grounds(session: Session, clock: Clock, *, access: Access, reference: str) -> CaseGrounds:
    """What the coordinator's legal-ground modal shows (an audited read: notes included).
    The disclosure rule decides who (coordinators) and logs every look, a refused one too."""
    case = _case(session, access, reference)
    if not disclosure.disclose(session, clock, access, case, surface_name="legal_grounds").allowed:
        raise REFUSED
    grounds = load(session, case.id)
    return CaseGrounds(
        case_id=case.id,
        reference=case.reference,
        raising_agency=case.raising_agency.name,
        entries=entries(grounds),
        agencies=tuple(
            (a.id, a.name) for a in active_agencies(access.forum) if a.id != case.raising_agency_id
        ),
    )


def record_ground(
    session: Session, clock: Clock, *, access: Access, case_id: int, draft: GroundDraft
) -> LegalGround:
    """Record a ground for one agency; every field error at once (InputErrors, by field:
    agency, ground, decided_on, note); nothing is stored on error."""
    _require_coordinator(access)
    case = session.scalar(select(Case).where(Case.id == case_id, Case.forum_id == access.forum.id))
    if case is None:
        raise CaseNotFound()  # "That case does not exist in this forum."
    today = local_today(access.forum, clock)
    note = " ".join(draft.note.split())
    errors: dict[str, DomainError] = {}
    for fld, msgid in privacy.check_fields({"note": note}, today=today).items():
        errors[fld] = IdentifyingDataRefused(msgid, field=fld)
    if len(note) > NOTE_MAX:
        errors.setdefault(
            "note",
            InvalidInput(
                N_plural(
                    "The note can be at most {n} character.",
                    "The note can be at most {n} characters.",
                ),
                field="note",
                n=NOTE_MAX,
            ),
        )
    agencies = {a.id: a for a in active_agencies(access.forum)}
    if draft.agency_id is None or draft.agency_id not in agencies:
        errors["agency"] = InvalidInput(N_("Choose an agency of this forum."), field="agency")
    elif draft.agency_id == case.raising_agency_id:
        errors["agency"] = InvalidInput(
            N_("The raising agency already sees the case. Choose another agency."),
            field="agency",
        )
    kind = next((k for k in LegalGroundKind if k.value == draft.ground), None)
    if kind is None:
        errors["ground"] = InvalidInput(N_("Choose the legal ground."), field="ground")
    if draft.decided_on is None:
        errors["decided_on"] = InvalidInput(
            N_("Give the day of the assessment or decision."), field="decided_on"
        )
    elif draft.decided_on > today:
        errors["decided_on"] = InvalidInput(
            N_("The assessment cannot be made in the future."), field="decided_on"
        )
    if kind is not None and "agency" not in errors:
        duplicate = session.scalar(
            select(LegalGround.id).where(
                LegalGround.case_id == case.id,
                LegalGround.agency_id == draft.agency_id,
                LegalGround.ground == kind,
                LegalGround.ended_at.is_(None),
            )
        )
        if duplicate is not None:
            errors["ground"] = InvalidInput(
                N_("This agency already has that ground for the case."), field="ground"
            )
    if errors:
        raise InputErrors(errors)
    assert kind is not None and draft.agency_id is not None and draft.decided_on is not None
    ground = LegalGround(
        case_id=case.id,
        agency_id=draft.agency_id,
        ground=kind,
        decided_on=draft.decided_on,
        note=note or None,
        recorded_by=access.member.slack_user_id,
        recorded_at=clock.now(),
    )
    session.add(ground)
    session.flush()
    session.expire(case, ["legal_grounds"])
    _audit(
        session,
        clock,
        access,
        AuditAction.CREATE,
        case.reference,
        {"agency_id": draft.agency_id, "ground": kind.value},
    )
    return ground


def end_ground(session: Session, clock: Clock, *, access: Access, ground_id: int) -> Case:
    """The ground no longer applies: the agency sees an anonymous consultation again."""
    _require_coordinator(access)
    row = session.execute(
        select(LegalGround, Case)
        .join(Case, LegalGround.case_id == Case.id)
        .where(LegalGround.id == ground_id, Case.forum_id == access.forum.id)
    ).first()
    if row is None:
        raise GroundNotFound()
    ground, case = row
    if ground.ended_at is not None:
        raise InvalidInput(N_("That legal ground has already ended."))
    ground.ended_at = clock.now()
    ground.ended_by = access.member.slack_user_id
    _audit(
        session,
        clock,
        access,
        AuditAction.UPDATE,
        case.reference,
        {"agency_id": ground.agency_id, "ground": ground.ground.value, "ended": True},
    )
    return case
