"""The consent register: per case who consented, for which agencies, when, until when, and
withdrawals; and the consents about to expire. Looking at it is an audited read; so is a
refused look (someone whose agency may not see the case's details)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from domain import disclosure, legal_grounds
from domain.access import Access
from domain.cases import find_case_by_reference
from domain.clock import Clock
from domain.errors import CaseNotFound, NotCoordinator
from domain.forums import local_today
from domain.i18n import N_
from domain.references import no_such_case
from storage.models import Case, CaseStatus, Consent, ConsentGiver

EXPIRING_DAYS = 30


@dataclass(frozen=True)
class ConsentEntry:
    given_by: ConsentGiver
    agencies: tuple[str, ...]
    given_on: dt.date | None
    expires_on: dt.date | None
    recorded_by: str
    recorded_at: dt.datetime
    withdrawn_at: dt.datetime | None
    withdrawn_by: str | None
    current: bool
    active: bool


@dataclass(frozen=True)
class ConsentRegister:
    reference: str
    entries: tuple[ConsentEntry, ...]
    refused: bool = False  # the reader may not see it; the attempt is in the log
    # Other legal grounds recorded for the case (domain.legal_grounds), ended ones too.
    grounds: tuple[legal_grounds.GroundEntry, ...] = ()
    may_record_ground: bool = False


REFUSED = NotCoordinator(
    N_("Only coordinators and the agency that raised the case can see its consents.")
)


def _active(consent: Consent, today: dt.date) -> bool:
    if consent.given_by is ConsentGiver.NONE or consent.withdrawn_at is not None:
        return False
    return consent.expires_on is None or consent.expires_on >= today


def consent_register(
    session: Session, clock: Clock, *, access: Access, reference: str
) -> ConsentRegister:
    """Coordinators and the raising agency see a case's consents; anyone else gets a refused
    register (no entries) and the attempt is logged: commit, then raise :data:`REFUSED`."""
    case = find_case_by_reference(session, access.forum, reference)
    if case is None:
        raise no_such_case(reference, error=CaseNotFound)
    decision = disclosure.disclose(session, clock, access, case, surface_name="consent_register")
    if not decision.allowed:
        return ConsentRegister(reference=case.reference, entries=(), refused=True)
    consents = session.scalars(
        select(Consent)
        .options(selectinload(Consent.agencies))
        .where(Consent.case_id == case.id)
        .order_by(Consent.id)
    ).all()
    today = local_today(access.forum, clock)
    entries = tuple(
        ConsentEntry(
            given_by=c.given_by,
            agencies=tuple(a.name for a in c.agencies),
            given_on=c.given_on,
            expires_on=c.expires_on,
            recorded_by=c.recorded_by,
            recorded_at=c.recorded_at,
            withdrawn_at=c.withdrawn_at,
            withdrawn_by=c.withdrawn_by,
            current=i == len(consents) - 1,
            active=_active(c, today),
        )
        for i, c in enumerate(consents)
    )
    grounds = legal_grounds.entries(legal_grounds.load(session, case.id))
    return ConsentRegister(
        reference=case.reference,
        entries=entries,
        grounds=grounds,
        may_record_ground=access.is_coordinator,
    )


@dataclass(frozen=True)
class ExpiringConsent:
    reference: str
    expires_on: dt.date  # its last day (it holds through it)
    days_left: int  # negative: it ran out that many days ago and was not renewed

    @property
    def lapsed(self) -> bool:
        return self.days_left < 0


def expiring_consents(
    session: Session, clock: Clock, *, access: Access, within_days: int = EXPIRING_DAYS
) -> list[ExpiringConsent]:
    """Open cases whose current consent expires within ``within_days`` (coordinators), and
    those whose current consent ran out in the last ``within_days`` days and was not renewed
    (no later consent, not withdrawn: ``lapsed``), so it does not drop off the list the day
    after it ran out. Each case listed is audited as a read of its consent register (its
    reference and its consent's last day are what the register tells), as the action lists
    audit each action whose case details they show."""
    if not access.is_coordinator:
        raise NotCoordinator()
    today = local_today(access.forum, clock)
    horizon = today + dt.timedelta(days=within_days)
    since = today - dt.timedelta(days=within_days)
    cases = session.scalars(
        select(Case)
        .options(selectinload(Case.consents))
        .where(Case.forum_id == access.forum.id, Case.status != CaseStatus.CLOSED)
        .order_by(Case.id)
    ).all()
    rows = []
    for case in cases:
        if not case.consents:
            continue
        current = case.consents[-1]
        if (
            current.given_by is ConsentGiver.NONE
            or current.withdrawn_at is not None
            or current.expires_on is None
        ):
            continue
        if since <= current.expires_on <= horizon:
            disclosure.disclose(session, clock, access, case, surface_name="consent_register")
            rows.append(
                ExpiringConsent(
                    case.reference, current.expires_on, (current.expires_on - today).days
                )
            )
    return sorted(rows, key=lambda r: (r.expires_on, r.reference))
