"""Cases at the domain level: two forums of one workspace, their members, and a
:class:`Setup` that raises, reads and changes cases as the handlers do (each in its own
``storage.db.transaction``), shared by tests/unit/test_cases_*.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from domain import cases as cs
from domain import forums as fs
from domain.access import Access
from domain.clock import AdjustableClock
from domain.schedule import DEFAULT_END, DEFAULT_RRULE, DEFAULT_START
from storage.db import transaction
from storage.models import (
    AuditEvent,
    Case,
    CaseCounter,
    CaseEvent,
    CaseStatus,
    Consent,
    ConsentGiver,
    Meeting,
    Role,
    SipStatus,
)
from tests.support.personnummer import pnr

Sessions = sessionmaker[Session]

TEAM = "T0001"
FOS_CHANNEL = "C0001"
OSF_CHANNEL = "C0002"

ADMIN = "UADMIN"  # Grundskola, admin
TEACHER = "UTEACHER"  # Grundskola, member: raises most cases
SOCIAL = "USOCIAL"  # Socialtjänst/IFO, member
COORD = "UCOORD"  # Socialtjänst/IFO, coordinator
NURSE = "UNURSE"  # Elevhälsa, member
DOCTOR = "UDOCTOR"  # BUP, member
GONE = "UGONE"  # Elevhälsa, removed from the forum
OSF_ADMIN = "UOSFADMIN"  # the other forum's admin (Polis)

AGENCIES = ["Grundskola", "Elevhälsa", "Socialtjänst/IFO", "BUP"]
SOC = "Socialtjänst/IFO"

PNR = pnr("090312", "123")
SUMMARY = "Hög frånvaro sedan höstlovet, oro för hemsituationen."

# Monday 23 November 2026 09:00 UTC (the clock fixture); the forum meets Thursdays 13:00
# Stockholm time (12:00 UTC in winter).
TODAY = dt.date(2026, 11, 23)
# Christmas Eve and New Year's Eve (Thursdays in 2026) are days off: no meetings then.
MEETINGS = [
    dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC) + dt.timedelta(weeks=w)
    for w in (0, 1, 2, 3, 6, 7)
]


def forum_draft(**changes: Any) -> fs.ForumDraft:
    base = fs.ForumDraft(
        name="FOSSAM Norr",
        code="FOS",
        agencies=list(AGENCIES),
        own_agency="Grundskola",
        rrule=DEFAULT_RRULE,
        start=DEFAULT_START,
        end=DEFAULT_END,
        areas=[],
    )
    return dataclasses.replace(base, **changes)


def count(sessions: Sessions, model: Any) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def last_event_id(sessions: Sessions) -> int:
    with sessions() as s:
        return s.scalar(select(func.max(AuditEvent.id))) or 0


@dataclass(frozen=True)
class Raised:
    id: int
    reference: str
    created: bool


@dataclass
class Setup:
    """Forum FOS (Grundskola, Elevhälsa, Socialtjänst/IFO, BUP) with members of every
    agency, and forum OSF (Polis, Grundskola) in another channel of the same workspace."""

    sessions: Sessions
    clock: AdjustableClock
    fos: int
    osf: int
    agency: dict[str, int]  # FOS agencies by name
    osf_agency: dict[str, int]
    mark: int  # last audit event id after the set-up

    def draft(self, **changes: Any) -> cs.CaseDraft:
        base = cs.CaseDraft(
            summary=SUMMARY,
            concerns=["school_absence", "mental_health"],
            age_band="13-15",
            agency_ids=[self.agency[SOC]],
            consent_giver=ConsentGiver.GUARDIANS,
            consent_agency_ids=[self.agency[SOC]],
            consent_given_on=dt.date(2026, 11, 20),
            consent_expires_on=dt.date(2027, 5, 31),
            sip=SipStatus.NOT_RELEVANT,
            meeting=None,
        )
        return dataclasses.replace(base, **changes)

    def access(self, s: Session, user: str, forum_id: int | None = None) -> Access:
        forum = fs.get_forum(s, forum_id=forum_id or self.fos, team_id=TEAM)
        return fs.require_member(s, forum=forum, slack_user_id=user)

    def raise_case(
        self,
        user: str = TEACHER,
        *,
        forum_id: int | None = None,
        key: str | None = None,
        **changes: Any,
    ) -> Raised:
        with transaction(self.sessions) as s:
            case, created = cs.raise_case(
                s,
                self.clock,
                access=self.access(s, user, forum_id),
                draft=self.draft(**changes),
                submission_key=key,
            )
            return Raised(case.id, case.reference, created)

    def read(self, user: str, case_id: int) -> cs.CaseView:
        with transaction(self.sessions) as s:
            return cs.read_case(s, self.clock, access=self.access(s, user), case_id=case_id)

    def page(self, user: str, **kwargs: Any) -> cs.CasePage:
        with transaction(self.sessions) as s:
            return cs.list_cases(s, self.clock, access=self.access(s, user), **kwargs)

    def change(self, user: str, case_id: int, to: CaseStatus, **kwargs: Any) -> None:
        with transaction(self.sessions) as s:
            cs.change_status(
                s, self.clock, access=self.access(s, user), case_id=case_id, to=to, **kwargs
            )

    def withdraw(self, user: str, case_id: int) -> None:
        with transaction(self.sessions) as s:
            cs.withdraw_consent(s, self.clock, access=self.access(s, user), case_id=case_id)

    def case(self, case_id: int) -> Case:
        with self.sessions() as s:
            case = s.get(Case, case_id)
            assert case is not None
            return case

    def events(self) -> list[AuditEvent]:
        with self.sessions() as s:
            return list(
                s.scalars(select(AuditEvent).where(AuditEvent.id > self.mark).order_by("id"))
            )

    def seen(self) -> list[AuditEvent]:
        """The audit events since the last call (or the set-up)."""
        new = self.events()
        if new:
            self.mark = new[-1].id
        return new


def make_setup(sessions: Sessions, clock: AdjustableClock) -> Setup:
    """Both forums and their members (one removed), the audit mark after them."""
    with transaction(sessions) as s:
        fos = fs.create_forum(
            s, clock, team_id=TEAM, channel_id=FOS_CHANNEL, actor=ADMIN, draft=forum_draft()
        )
        agency = {a.name: a.id for a in fos.agencies}
        for users, name, role in (
            ([TEACHER], "Grundskola", Role.MEMBER),
            ([SOCIAL], SOC, Role.MEMBER),
            ([COORD], SOC, Role.COORDINATOR),
            ([NURSE, GONE], "Elevhälsa", Role.MEMBER),
            ([DOCTOR], "BUP", Role.MEMBER),
        ):
            fs.add_members(
                s,
                clock,
                forum=fos,
                actor=ADMIN,
                slack_user_ids=users,
                agency_id=agency[name],
                role=role,
            )
        osf = fs.create_forum(
            s,
            clock,
            team_id=TEAM,
            channel_id=OSF_CHANNEL,
            actor=OSF_ADMIN,
            draft=forum_draft(
                name="OSF", code="OSF", agencies=["Polis", "Grundskola"], own_agency="Polis"
            ),
        )
        osf_agency = {a.name: a.id for a in osf.agencies}
        gone = fs.find_member(s, forum=fos, slack_user_id=GONE)
        assert gone is not None
        fs.remove_member(s, clock, forum=fos, actor=ADMIN, member_id=gone.id)
    return Setup(
        sessions=sessions,
        clock=clock,
        fos=fos.id,
        osf=osf.id,
        agency=agency,
        osf_agency=osf_agency,
        mark=last_event_id(sessions),
    )


def assert_no_case_stored(setup: Setup) -> None:
    for model in (Case, CaseCounter, Meeting, Consent, CaseEvent):
        assert count(setup.sessions, model) == 0, model.__name__
    assert setup.events() == []


def osf_changes(setup: Setup) -> dict[str, Any]:
    """A valid draft for the OSF forum (its own agencies)."""
    return {
        "agency_ids": [setup.osf_agency["Grundskola"]],
        "consent_agency_ids": [setup.osf_agency["Grundskola"]],
    }
