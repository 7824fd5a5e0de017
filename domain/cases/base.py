"""Cases' limits, shapes and audit helper."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session

from domain import audit, disclosure
from domain.access import Access
from domain.clock import Clock
from domain.i18n import N_
from storage.models import (
    AuditAction,
    CaseStatus,
    ConsentGiver,
    Effect,
    LegalGroundKind,
    SipStatus,
)

# Concerns and age bands are fixed vocabularies: keys are stored, labels are translated.
CONCERNS: dict[str, str] = {
    "school_absence": N_("School absence"),
    "mental_health": N_("Mental ill-health"),
    "drugs_alcohol": N_("Drugs/alcohol"),
    "domestic_violence": N_("Violence in close relationships"),
    # Seed 001 (OSF: "Sexuellt våld mot unga") and seed 002 (BUS: "hedersproblematik").
    "sexual_violence": N_("Sexual violence"),
    "honour": N_("Honour-related violence and oppression"),
    "online_exposure": N_("Exposure online"),
    "crime_networks": N_("Crime/networks"),
    "disability": N_("Disability"),
    "other": N_("Other"),
}
AGE_BANDS: tuple[str, ...] = ("0-5", "6-12", "13-15", "16-18")
SUMMARY_MAX = 1000
OUTCOME_MAX = 500  # the same limits as the data inventory's (domain/inventory)
DEVIATION_TEXT_MAX = 1000
MEETING_CHOICES = 6
PAGE_SIZE = 20

# Who may move a case where. Closing needs an outcome; a closed case can be reopened.
TRANSITIONS: dict[CaseStatus, tuple[CaseStatus, ...]] = {
    CaseStatus.NEW: (CaseStatus.SCHEDULED, CaseStatus.DISCUSSED, CaseStatus.CLOSED),
    CaseStatus.SCHEDULED: (CaseStatus.DISCUSSED, CaseStatus.CLOSED),
    CaseStatus.DISCUSSED: (CaseStatus.FOLLOW_UP, CaseStatus.CLOSED),
    CaseStatus.FOLLOW_UP: (CaseStatus.DISCUSSED, CaseStatus.CLOSED),
    CaseStatus.CLOSED: (CaseStatus.FOLLOW_UP,),
}

Scope = Literal["all", "mine", "agency"]


@dataclass
class CaseDraft:
    """What a member typed in the case modal, before it is checked."""

    summary: str
    concerns: list[str]
    age_band: str | None
    agency_ids: list[int]
    consent_giver: ConsentGiver | None
    consent_agency_ids: list[int]
    consent_given_on: dt.date | None
    consent_expires_on: dt.date | None
    sip: SipStatus
    meeting: dt.datetime | None
    # The forum's case criteria the member ticked (optional, domain.criteria).
    criterion_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class CaseRow:
    """One line of the case list: logistics only, never the summary."""

    id: int
    reference: str
    status: CaseStatus
    meeting_start: dt.datetime | None
    raising_agency: str
    agencies: tuple[str, ...]
    consultation: bool


@dataclass(frozen=True)
class CasePage:
    """One page, newest first. Pages are keyed (keyset, not OFFSET): the next page starts
    after the last row's id, the previous one before the first row's, so a case raised
    while someone pages never shifts or repeats a row, and a deep page costs what the first
    does. ``page`` only numbers the page for people."""

    rows: tuple[CaseRow, ...]
    page: int
    has_more: bool

    @property
    def first_id(self) -> int | None:
        return self.rows[0].id if self.rows else None

    @property
    def last_id(self) -> int | None:
        return self.rows[-1].id if self.rows else None


@dataclass(frozen=True)
class ConsentView:
    given_by: ConsentGiver
    agencies: tuple[str, ...]
    given_on: dt.date | None
    expires_on: dt.date | None
    withdrawn_at: dt.datetime | None
    active: bool  # neither withdrawn nor expired (forum-local day)


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None


@dataclass(frozen=True)
class CaseView:
    """A case as one member may see it. ``details`` is False for an anonymous consultation
    (no consent covering the reader's agency): then only concerns and age band are shown."""

    id: int
    reference: str
    status: CaseStatus
    concerns: tuple[str, ...]
    age_band: str
    raising_agency: str
    agencies: tuple[str, ...]
    meeting_start: dt.datetime | None
    sip: SipStatus
    details: bool
    summary: str | None
    consent: ConsentView | None
    history: tuple[HistoryEntry, ...]
    may_change_status: bool
    next_statuses: tuple[CaseStatus, ...]
    outcome: str | None
    effect: Effect | None
    # The details are shown under a recorded legal ground (not consent) for this agency.
    legal_ground: LegalGroundKind | None = None
    # Coordinators stop retention for a case (legal hold) from the case modal.
    may_hold: bool = False
    legal_hold: bool = False
    legal_hold_reason: str | None = None
    # The raising agency or a coordinator corrects the summary/outcome (with the details).
    may_edit: bool = False
    may_redact: bool = False
    # The member who raised it or a coordinator deletes a case raised by mistake (refused
    # with a reason once something was built on it: domain.cases.removing).
    may_delete: bool = False
    # Agencies that must attend but are covered neither by the consent nor by a legal ground
    # (shown only to those who see the details, as a warning).
    not_covered: tuple[str, ...] = ()
    # Why the details are hidden from this reader's agency (domain.disclosure.Hidden), so
    # the modal tells the true reason; None when shown.
    hidden: disclosure.Hidden | None = None


def _audit(
    session: Session,
    clock: Clock,
    access: Access,
    action: AuditAction,
    object_type: str,
    object_ref: str,
    detail: dict[str, object] | None = None,
) -> None:
    """An audit event by this member, in this forum, in the caller's transaction."""
    audit.record_by(
        session,
        clock,
        access,
        action=action,
        object_type=object_type,
        object_ref=object_ref,
        detail=detail,
    )


# --- raising a case -------------------------------------------------------------------------


_consent_active = disclosure.consent_active
_current_consent = disclosure.current_consent
