"""Cases (ärenden) at the domain level (no Slack), on SQLite and PostgreSQL.

Every unit of work goes through ``storage.db.transaction`` exactly as the handlers do, and
every check reads the database back in a fresh session, so what is asserted is what was
committed (or not).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from domain import cases as cs
from domain import forums as fs
from domain.access import Access
from domain.clock import AdjustableClock
from domain.errors import IdentifyingDataRefused, InputErrors, InvalidInput, NotCoordinator
from domain.schedule import DEFAULT_END, DEFAULT_RRULE, DEFAULT_START
from storage.db import transaction
from storage.models import (
    AuditAction,
    AuditEvent,
    Case,
    CaseCounter,
    CaseEvent,
    CaseStatus,
    Consent,
    ConsentGiver,
    Deviation,
    Effect,
    Forum,
    Meeting,
    MeetingStatus,
    Role,
    SipStatus,
)
from tests.support.concurrency import lock_waits
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


@pytest.fixture
def setup(sessions: Sessions, clock: AdjustableClock) -> Setup:
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


# --- raise_case: references ------------------------------------------------------------------


def test_references_count_per_forum_and_local_year(setup: Setup, clock: AdjustableClock) -> None:
    refs = [setup.raise_case().reference for _ in range(2)]
    refs.append(setup.raise_case(OSF_ADMIN, forum_id=setup.osf, **osf_changes(setup)).reference)
    refs.append(setup.raise_case(NURSE).reference)
    assert refs == ["FOS-2026-001", "FOS-2026-002", "OSF-2026-001", "FOS-2026-003"]

    # 23:30 on New Year's Eve in Stockholm is still 2026 …
    clock.set(dt.datetime(2026, 12, 31, 22, 30, tzinfo=dt.UTC))
    assert setup.raise_case().reference == "FOS-2026-004"
    # … but 00:30 on New Year's Day is 2027, though it is still 2026 in UTC.
    clock.set(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC))
    first = setup.raise_case()
    assert first.reference == "FOS-2027-001"
    assert setup.raise_case().reference == "FOS-2027-002"
    assert setup.raise_case(OSF_ADMIN, forum_id=setup.osf, **osf_changes(setup)).reference == (
        "OSF-2027-001"
    )

    stored = setup.case(first.id)
    assert (stored.year, stored.sequence, stored.forum_id) == (2027, 1, setup.fos)
    with setup.sessions() as s:
        references = s.scalars(select(Case.reference).where(Case.forum_id == setup.fos))
        assert sorted(references) == [
            "FOS-2026-001",
            "FOS-2026-002",
            "FOS-2026-003",
            "FOS-2026-004",
            "FOS-2027-001",
            "FOS-2027-002",
        ]


def osf_changes(setup: Setup) -> dict[str, Any]:
    """A valid draft for the OSF forum (its own agencies)."""
    return {
        "agency_ids": [setup.osf_agency["Grundskola"]],
        "consent_agency_ids": [setup.osf_agency["Grundskola"]],
    }


# --- raise_case: what is stored ----------------------------------------------------------------


def test_raise_case_stores_agencies_meeting_consent_history_and_audit(setup: Setup) -> None:
    # Elevhälsa is not chosen: the raising agency is always among the agencies needed.
    first = setup.raise_case(
        NURSE,
        summary=f"  {SUMMARY}  ",
        concerns=["school_absence", "mental_health", "school_absence"],
        agency_ids=[setup.agency[SOC], setup.agency["BUP"]],
        consent_agency_ids=[setup.agency[SOC], setup.agency["BUP"]],
        sip=SipStatus.NEEDED,
    )
    assert first == Raised(first.id, "FOS-2026-001", True)
    chosen = setup.raise_case(TEACHER, meeting=MEETINGS[2])
    # Same default meeting as the first case: the same meeting row.
    third = setup.raise_case(SOCIAL, agency_ids=[], meeting=MEETINGS[0])

    with setup.sessions() as s:
        case = s.get(Case, first.id)
        assert case is not None
        assert case.summary == SUMMARY
        assert case.concerns == ["school_absence", "mental_health"]
        assert case.age_band == "13-15"
        assert case.raised_by == NURSE
        assert case.raising_agency_id == setup.agency["Elevhälsa"]
        assert {a.name for a in case.agencies} == {"Elevhälsa", SOC, "BUP"}
        assert case.status is CaseStatus.SCHEDULED
        assert case.sip is SipStatus.NEEDED
        assert case.created_at == setup.clock.now()
        assert case.closed_at is None and case.outcome is None and case.effect is None
        assert case.meeting is not None
        assert case.meeting.starts_at == MEETINGS[0]
        assert case.meeting.ends_at == MEETINGS[0] + dt.timedelta(hours=2)
        assert case.meeting.status is MeetingStatus.PLANNED
        assert case.meeting.forum_id == setup.fos
        (consent,) = case.consents
        assert consent.given_by is ConsentGiver.GUARDIANS
        assert (consent.given_on, consent.expires_on) == (
            dt.date(2026, 11, 20),
            dt.date(2027, 5, 31),
        )
        assert {a.name for a in consent.agencies} == {SOC, "BUP"}
        assert consent.recorded_by == NURSE
        assert consent.withdrawn_at is None
        (created,) = s.scalars(select(CaseEvent).where(CaseEvent.case_id == first.id))
        assert (created.kind, created.actor, created.to_status) == ("created", NURSE, "scheduled")

        other = s.get(Case, chosen.id)
        assert other is not None and other.meeting is not None
        assert other.meeting.starts_at == MEETINGS[2]
        assert other.status is CaseStatus.SCHEDULED
        assert {a.name for a in other.agencies} == {"Grundskola", SOC}

        last = s.get(Case, third.id)
        assert last is not None
        assert last.meeting_id == case.meeting_id
        assert [a.name for a in last.agencies] == [SOC]

        # The needed agencies' active members are told, but not the one who raised it (nor
        # the member who left, nor the other forum's members).
        assert set(cs.members_to_notify(s, first.id)) == {SOCIAL, COORD, DOCTOR}
        assert set(cs.members_to_notify(s, chosen.id)) == {ADMIN, SOCIAL, COORD}
        assert cs.members_to_notify(s, third.id) == [COORD]
    with setup.sessions() as s:
        used = set(s.scalars(select(Case.meeting_id)))
        starts = {s.get(Meeting, m).starts_at for m in used}  # type: ignore[union-attr]
    assert starts == {MEETINGS[0], MEETINGS[2]}

    events = setup.events()
    assert [(e.action, e.object_type, e.object_ref) for e in events] == [
        (AuditAction.CREATE, "case", "FOS-2026-001"),
        (AuditAction.CREATE, "case", "FOS-2026-002"),
        (AuditAction.CREATE, "case", "FOS-2026-003"),
    ]
    assert (events[0].actor, events[0].actor_agency_id) == (NURSE, setup.agency["Elevhälsa"])
    assert (events[0].forum_id, events[0].team_id) == (setup.fos, TEAM)
    # The audit log holds the reference, never the summary.
    assert all(SUMMARY not in repr(e.detail) for e in events)


def test_invalid_drafts_report_every_field_at_once_and_store_nothing(setup: Setup) -> None:
    def errors_of(**changes: Any) -> dict[str, Any]:
        with pytest.raises(InputErrors) as exc:
            setup.raise_case(**changes)
        for fld, error in exc.value.errors.items():
            assert isinstance(error, InvalidInput), fld
            assert error.field == fld
        return exc.value.errors

    assert set(
        errors_of(
            summary="   ",
            concerns=[],
            age_band="19-25",
            agency_ids=[setup.osf_agency["Polis"]],
            consent_giver=None,
            sip=SipStatus.NEEDED,
            meeting=MEETINGS[0] + dt.timedelta(days=1),
        )
    ) == {"summary", "concerns", "age_band", "agencies", "consent", "sip", "meeting"}

    tomorrow, yesterday = TODAY + dt.timedelta(days=1), TODAY - dt.timedelta(days=1)
    assert set(
        errors_of(
            concerns=["school_absence", "astrology"],
            age_band=None,
            consent_agency_ids=[],
            consent_given_on=tomorrow,
            consent_expires_on=yesterday,
        )
    ) == {"concerns", "age_band", "consent_agencies", "consent_given_on", "consent_expires_on"}

    # Consent covering an agency of another forum.
    assert set(errors_of(consent_agency_ids=[setup.osf_agency["Grundskola"]])) == {"agencies"}
    # A SIP needs consent.
    for giver in (ConsentGiver.NONE, None):
        errors = errors_of(consent_giver=giver, consent_agency_ids=[], sip=SipStatus.STARTED)
        assert "sip" in errors
    # A meeting further away than the choices offered.
    assert set(errors_of(meeting=MEETINGS[-1] + dt.timedelta(weeks=1))) == {"meeting"}
    assert set(errors_of(summary="x" * (cs.SUMMARY_MAX + 1))) == {"summary"}

    # Identifying data in the summary is refused on that field, with the other fields' errors.
    for text, kind in (
        (f"Elev {PNR}, hög frånvaro", "personnummer"),
        ("Mamma nås på 070-123 45 67", "phone"),
        ("Skriv till anna.svensson@example.se", "e-mail"),
    ):
        for concerns, fields in ((["other"], {"summary"}), ([], {"summary", "concerns"})):
            with pytest.raises(InputErrors) as exc:
                setup.raise_case(summary=text, concerns=concerns)
            assert set(exc.value.errors) == fields, text
            error = exc.value.errors["summary"]
            assert isinstance(error, IdentifyingDataRefused), text
            assert error.field == "summary"
            assert kind in error.msgid

    assert_no_case_stored(setup)


# --- parallel submissions (the must-hold) -----------------------------------------------


def run_at_once(setup: Setup, keys: list[str]) -> tuple[list[Raised], list[BaseException]]:
    """Each thread raises a case in its own transaction, all released at the same moment."""
    barrier = threading.Barrier(len(keys))
    results: list[Raised] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(key: str) -> None:
        try:
            draft = setup.draft()
            barrier.wait(20)  # all start their transactions at the same moment
            with transaction(setup.sessions) as s:
                access = setup.access(s, TEACHER)
                case, created = cs.raise_case(
                    s, setup.clock, access=access, draft=draft, submission_key=key
                )
                raised = Raised(case.id, case.reference, created)
            with lock:
                results.append(raised)
        except BaseException as exc:  # reported by the test
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads)
    return results, errors


def test_members_submitting_at_the_same_moment_get_distinct_references(setup: Setup) -> None:
    results, errors = run_at_once(setup, [f"view-{i}" for i in range(8)])
    assert errors == []
    assert sorted(r.reference for r in results) == [f"FOS-2026-{n:03d}" for n in range(1, 9)]
    assert all(r.created for r in results)
    assert count(setup.sessions, Case) == 8
    with setup.sessions() as s:  # one row for the meeting they all go to
        assert len(set(s.scalars(select(Case.meeting_id)))) == 1
    assert len(setup.seen()) == 8

    # A submission delivered again later (Slack retry) finds its case and takes no number.
    with setup.sessions() as s:
        third = s.scalar(select(Case).where(Case.submission_key == "view-3"))
        assert third is not None
    assert setup.raise_case(key="view-3") == Raised(third.id, third.reference, False)
    assert setup.raise_case(key="view-new").reference == "FOS-2026-009"
    for model, n in ((Case, 9), (Consent, 9), (CaseEvent, 9)):
        assert count(setup.sessions, model) == n, model.__name__
    assert [e.object_ref for e in setup.seen()] == ["FOS-2026-009"]

    # The same submission delivered several times at the same moment: one case.
    results, errors = run_at_once(setup, ["view-double"] * 4)
    assert errors == []
    assert len({r.id for r in results}) == 1
    assert [r.created for r in results].count(True) == 1
    assert count(setup.sessions, Case) == 10
    (created,) = setup.seen()
    assert created.object_ref == results[0].reference


# --- list_cases ------------------------------------------------------------------------------


def test_list_cases_newest_first_with_filters_and_pages_and_no_details(setup: Setup) -> None:
    c1 = setup.raise_case(TEACHER)  # Grundskola + Socialtjänst, consent for Socialtjänst
    c2 = setup.raise_case(  # Elevhälsa only, an anonymous consultation
        NURSE, agency_ids=[], consent_giver=ConsentGiver.NONE, consent_agency_ids=[]
    )
    c3 = setup.raise_case(SOCIAL, agency_ids=[setup.agency["BUP"]])
    c4 = setup.raise_case(TEACHER, agency_ids=[setup.agency["Elevhälsa"]], meeting=MEETINGS[1])
    setup.change(TEACHER, c4.id, CaseStatus.DISCUSSED)
    setup.seen()

    def refs(user: str, **kwargs: Any) -> list[str]:
        return [r.reference for r in setup.page(user, **kwargs).rows]

    assert refs(COORD) == [c4.reference, c3.reference, c2.reference, c1.reference]
    assert refs(DOCTOR, status=CaseStatus.DISCUSSED) == [c4.reference]
    assert refs(DOCTOR, status=CaseStatus.SCHEDULED) == [c3.reference, c2.reference, c1.reference]
    assert refs(DOCTOR, status=CaseStatus.CLOSED) == []
    assert refs(TEACHER, scope="mine") == [c4.reference, c1.reference]
    assert refs(TEACHER, scope="mine", status=CaseStatus.SCHEDULED) == [c1.reference]
    assert refs(ADMIN, scope="mine") == []
    # My agency: raised by it, or needed from it.
    assert refs(ADMIN, scope="agency") == [c4.reference, c1.reference]
    assert refs(NURSE, scope="agency") == [c4.reference, c2.reference]
    assert refs(DOCTOR, scope="agency") == [c3.reference]
    assert refs(COORD, scope="agency") == [c3.reference, c1.reference]
    # The other forum's list is its own.
    with transaction(setup.sessions) as s:
        page = cs.list_cases(
            s, setup.clock, access=setup.access(s, OSF_ADMIN, setup.osf), scope="all"
        )
    assert page.rows == ()

    first = setup.page(COORD, page_size=3)
    assert [r.reference for r in first.rows] == [c4.reference, c3.reference, c2.reference]
    assert (first.page, first.has_more) == (0, True)
    second = setup.page(COORD, page=1, after=first.last_id, page_size=3)
    assert [r.reference for r in second.rows] == [c1.reference]
    assert (second.page, second.has_more) == (1, False)
    exact = setup.page(COORD, page_size=4)
    assert len(exact.rows) == 4 and not exact.has_more
    assert setup.page(COORD, page=2, after=c1.id, page_size=3).rows == ()
    back = setup.page(COORD, page=0, before=second.first_id, page_size=3)
    assert back.rows == first.rows and back.page == 0

    rows = {r.reference: r for r in setup.page(NURSE).rows}
    assert rows[c1.reference] == cs.CaseRow(
        id=c1.id,
        reference=c1.reference,
        status=CaseStatus.SCHEDULED,
        meeting_start=MEETINGS[0],
        raising_agency="Grundskola",
        agencies=("Grundskola", SOC),
        consultation=True,  # for this reader: the consent covers SOC, not Elevhälsa
    )
    covered = {r.reference: r for r in setup.page(COORD).rows}
    assert covered[c1.reference].consultation is False
    assert rows[c2.reference].consultation is False  # the reader's own agency raised it
    assert covered[c2.reference].consultation is True  # no consent for anyone else
    assert rows[c2.reference].agencies == ("Elevhälsa",)
    assert rows[c4.reference].status is CaseStatus.DISCUSSED
    assert rows[c4.reference].meeting_start == MEETINGS[1]

    # A list is logistics only: no summary in its rows, and no audit event.
    assert {f.name for f in dataclasses.fields(cs.CaseRow)} == {
        "id",
        "reference",
        "status",
        "meeting_start",
        "raising_agency",
        "agencies",
        "consultation",
    }
    assert SUMMARY not in repr(setup.page(TEACHER))
    assert setup.events() == []


def test_keyed_pages_neither_repeat_nor_skip_a_case_raised_while_paging(setup: Setup) -> None:
    raised = [setup.raise_case(TEACHER) for _ in range(7)]
    first = setup.page(COORD, page_size=3)
    assert [r.id for r in first.rows] == [c.id for c in raised[:-4:-1]]
    # Two cases are raised while the coordinator reads the first page.
    newer = [setup.raise_case(NURSE) for _ in range(2)]
    second = setup.page(COORD, page=1, after=first.last_id, page_size=3)
    third = setup.page(COORD, page=2, after=second.last_id, page_size=3)
    seen = [r.id for r in (*first.rows, *second.rows, *third.rows)]
    assert seen == [c.id for c in reversed(raised)]  # each once, newest first, none skipped
    assert not third.has_more
    # Back from the second page: the page before it, as it was, however many were added.
    back = setup.page(COORD, page=0, before=second.first_id, page_size=3)
    assert [r.id for r in back.rows] == [r.id for r in first.rows]
    # Back from a page right under the newest: the first page as it is now, full.
    top = setup.page(COORD, page=0, before=raised[-1].id, page_size=3)
    assert [r.id for r in top.rows] == [newer[1].id, newer[0].id, raised[-1].id]
    assert (top.page, top.has_more) == (0, True)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def test_list_cases_query_count_does_not_grow_with_the_cases(setup: Setup) -> None:
    engine: Engine = setup.sessions.kw["bind"]

    def list_statements(**kwargs: Any) -> int:
        with transaction(setup.sessions) as s:
            access = setup.access(s, COORD)
            with statements(engine) as seen:
                page = cs.list_cases(s, setup.clock, access=access, **kwargs)
            assert page.rows
            return len(seen)

    def add_cases(n: int) -> None:
        with transaction(setup.sessions) as s:
            access = setup.access(s, TEACHER)
            for i in range(n):
                cs.raise_case(
                    s,
                    setup.clock,
                    access=access,
                    draft=setup.draft(meeting=MEETINGS[i % 3]),
                )

    add_cases(3)
    few = [list_statements(), list_statements(scope="agency", status=CaseStatus.SCHEDULED)]
    add_cases(57)
    many = [list_statements(), list_statements(scope="agency", status=CaseStatus.SCHEDULED)]
    assert many == few
    with transaction(setup.sessions) as s:
        last = cs.list_cases(s, setup.clock, access=setup.access(s, COORD)).last_id
    assert list_statements(page=1, after=last) == few[0]  # a deeper page: the same queries
    assert few[0] <= 5, few  # cases (with raising agency and meeting), then one per relation


# --- read_case -------------------------------------------------------------------------------


def assert_one_read(setup: Setup, user: str, reference: str, *, details: bool) -> None:
    (audit_event,) = setup.seen()
    assert audit_event.action is AuditAction.READ
    assert (audit_event.object_type, audit_event.object_ref) == ("case", reference)
    assert audit_event.actor == user
    assert audit_event.forum_id == setup.fos
    assert audit_event.detail is not None
    assert audit_event.detail["details"] == details
    assert audit_event.detail["surface"] == "case_modal"


def test_read_case_shows_details_only_under_consent_and_audits_every_read(
    setup: Setup,
) -> None:
    raised = setup.raise_case(
        TEACHER,
        agency_ids=[setup.agency[SOC], setup.agency["Elevhälsa"]],
        consent_giver=ConsentGiver.BOTH,
        consent_expires_on=dt.date(2026, 12, 31),
        sip=SipStatus.NEEDED,
    )
    setup.seen()

    # The raising agency (the raiser and a colleague) and the agency the consent covers.
    for user in (TEACHER, ADMIN, SOCIAL, COORD):
        view = setup.read(user, raised.id)
        assert view.details, user
        assert view.summary == SUMMARY
        assert view.consent == cs.ConsentView(
            given_by=ConsentGiver.BOTH,
            agencies=(SOC,),
            given_on=dt.date(2026, 11, 20),
            expires_on=dt.date(2026, 12, 31),
            withdrawn_at=None,
            active=True,
        )
        assert_one_read(setup, user, raised.reference, details=True)
    assert view.reference == raised.reference
    assert view.raising_agency == "Grundskola"
    assert view.agencies == ("Grundskola", "Elevhälsa", SOC)
    assert view.meeting_start == MEETINGS[0]
    assert view.sip is SipStatus.NEEDED
    assert [(h.kind, h.actor, h.to_status) for h in view.history] == [
        ("created", TEACHER, "scheduled")
    ]

    # Elevhälsa is needed but not covered by the consent; BUP is neither.
    for user in (NURSE, DOCTOR):
        view = setup.read(user, raised.id)
        assert not view.details
        assert (view.summary, view.consent, view.outcome) == (None, None, None)
        assert view.concerns == ("school_absence", "mental_health")
        assert view.age_band == "13-15"
        assert view.reference == raised.reference
        assert_one_read(setup, user, raised.reference, details=False)

    # Reading twice is two reads.
    setup.read(TEACHER, raised.id)
    setup.read(TEACHER, raised.id)
    assert [e.action for e in setup.seen()] == [AuditAction.READ, AuditAction.READ]

    # On the expiry date the consent still holds; the day after it does not.
    setup.clock.set(dt.datetime(2026, 12, 31, 12, 0, tzinfo=dt.UTC))
    assert setup.read(SOCIAL, raised.id).details
    setup.clock.set(dt.datetime(2027, 1, 1, 12, 0, tzinfo=dt.UTC))
    expired = setup.read(SOCIAL, raised.id)
    assert not expired.details
    assert (expired.summary, expired.consent) == (None, None)
    assert expired.concerns == ("school_absence", "mental_health")
    assert expired.age_band == "13-15"
    assert setup.read(TEACHER, raised.id).summary == SUMMARY  # the raiser still sees it
    (row,) = setup.page(SOCIAL).rows
    assert row.consultation


def test_withdrawn_consent_makes_the_case_an_anonymous_consultation(setup: Setup) -> None:
    raised = setup.raise_case(TEACHER)
    anonymous = setup.raise_case(
        TEACHER, consent_giver=ConsentGiver.NONE, consent_agency_ids=[setup.agency[SOC]]
    )
    assert setup.read(SOCIAL, raised.id).details
    assert not setup.read(SOCIAL, anonymous.id).details  # "not given" covers no one
    setup.seen()

    # Only with a consent to withdraw, and only the raising agency or a coordinator.
    with pytest.raises(InvalidInput):
        setup.withdraw(TEACHER, anonymous.id)
    with pytest.raises(NotCoordinator):
        setup.withdraw(NURSE, raised.id)
    with pytest.raises(NotCoordinator):
        setup.withdraw(SOCIAL, raised.id)  # covered by the consent, but not the raiser
    assert setup.seen() == []

    setup.clock.advance(dt.timedelta(hours=1))
    setup.withdraw(TEACHER, raised.id)
    (audit_event,) = setup.seen()
    assert audit_event.action is AuditAction.UPDATE
    assert (audit_event.object_type, audit_event.object_ref) == ("consent", raised.reference)
    with pytest.raises(InvalidInput):
        setup.withdraw(COORD, raised.id)  # already withdrawn

    view = setup.read(SOCIAL, raised.id)
    assert not view.details
    assert (view.summary, view.consent) == (None, None)
    assert view.concerns == ("school_absence", "mental_health")
    own = setup.read(TEACHER, raised.id)
    assert own.summary == SUMMARY
    assert own.consent is not None
    assert own.consent.withdrawn_at == setup.clock.now()
    assert [h.kind for h in own.history] == ["created", "consent_withdrawn"]
    rows = {r.reference: r for r in setup.page(SOCIAL).rows}
    assert rows[raised.reference].consultation
    with setup.sessions() as s:
        consent = s.scalar(select(Consent).where(Consent.case_id == raised.id))
        assert consent is not None
        assert consent.withdrawn_by == TEACHER

    # A case of another forum can be neither read nor changed from this one.
    other = setup.raise_case(OSF_ADMIN, forum_id=setup.osf, **osf_changes(setup))
    setup.seen()
    for user in (ADMIN, TEACHER):
        with pytest.raises(InvalidInput):
            setup.read(user, other.id)
        with pytest.raises(InvalidInput):
            setup.change(user, other.id, CaseStatus.DISCUSSED)
        with pytest.raises(InvalidInput):
            setup.withdraw(user, other.id)
    assert setup.seen() == []
    assert setup.case(other.id).status is CaseStatus.SCHEDULED


# --- change_status ---------------------------------------------------------------------------


def test_change_status_follows_the_lifecycle_and_keeps_history(setup: Setup) -> None:
    raised = setup.raise_case(TEACHER, sip=SipStatus.NEEDED)
    setup.seen()
    clock = setup.clock

    def refused_moves(user: str) -> None:
        status = setup.case(raised.id).status
        for to in CaseStatus:
            if to not in cs.TRANSITIONS[status]:
                with pytest.raises(InvalidInput):
                    setup.change(user, raised.id, to, effect=Effect.YES)
        assert setup.case(raised.id).status is status

    # Another agency's plain member may not change the status (whatever the move).
    for user in (NURSE, SOCIAL):
        with pytest.raises(NotCoordinator):
            setup.change(user, raised.id, CaseStatus.DISCUSSED)
        view = setup.read(user, raised.id)
        assert (view.may_change_status, view.next_statuses) == (False, ())
    setup.seen()
    view = setup.read(TEACHER, raised.id)
    assert view.may_change_status
    assert view.next_statuses == cs.TRANSITIONS[CaseStatus.SCHEDULED]
    setup.seen()

    refused_moves(TEACHER)
    clock.advance(dt.timedelta(days=3))
    setup.change(TEACHER, raised.id, CaseStatus.DISCUSSED)  # the raiser
    refused_moves(TEACHER)
    setup.change(COORD, raised.id, CaseStatus.FOLLOW_UP)  # a coordinator of another agency
    refused_moves(COORD)
    setup.change(ADMIN, raised.id, CaseStatus.DISCUSSED)  # the raising agency's other member
    setup.change(ADMIN, raised.id, CaseStatus.FOLLOW_UP)

    # Closing needs an effect, and the outcome passes the privacy guard.
    with pytest.raises(InputErrors) as exc:
        setup.change(TEACHER, raised.id, CaseStatus.CLOSED, outcome="Bättre närvaro")
    assert set(exc.value.errors) == {"effect"}
    with pytest.raises(InputErrors) as exc:
        setup.change(
            TEACHER, raised.id, CaseStatus.CLOSED, outcome=f"Klart för {PNR}", effect=Effect.YES
        )
    assert set(exc.value.errors) == {"outcome"}
    assert isinstance(exc.value.errors["outcome"], IdentifyingDataRefused)
    with pytest.raises(InputErrors) as exc:
        setup.change(TEACHER, raised.id, CaseStatus.CLOSED, outcome=f"Klart för {PNR}")
    assert set(exc.value.errors) == {"outcome", "effect"}
    stored = setup.case(raised.id)
    assert stored.status is CaseStatus.FOLLOW_UP
    assert (stored.outcome, stored.effect, stored.closed_at) == (None, None, None)

    clock.advance(dt.timedelta(days=7))
    closed_at = clock.now()
    setup.change(
        TEACHER,
        raised.id,
        CaseStatus.CLOSED,
        outcome="  Närvaron bättre efter SIP-möte.  ",
        effect=Effect.PARTLY,
        sip_started=True,
    )
    stored = setup.case(raised.id)
    assert stored.status is CaseStatus.CLOSED
    assert stored.closed_at == closed_at
    assert stored.updated_at == closed_at
    assert (stored.outcome, stored.effect) == ("Närvaron bättre efter SIP-möte.", Effect.PARTLY)
    assert stored.sip is SipStatus.STARTED
    refused_moves(TEACHER)

    clock.advance(dt.timedelta(days=1))
    with pytest.raises(NotCoordinator):
        setup.change(NURSE, raised.id, CaseStatus.FOLLOW_UP)
    setup.change(COORD, raised.id, CaseStatus.FOLLOW_UP)  # reopened
    stored = setup.case(raised.id)
    assert stored.status is CaseStatus.FOLLOW_UP
    assert stored.closed_at is None

    view = setup.read(TEACHER, raised.id)
    assert [(h.kind, h.actor, h.from_status, h.to_status) for h in view.history] == [
        ("created", TEACHER, None, "scheduled"),
        ("status", TEACHER, "scheduled", "discussed"),
        ("status", COORD, "discussed", "follow_up"),
        ("status", ADMIN, "follow_up", "discussed"),
        ("status", ADMIN, "discussed", "follow_up"),
        ("status", TEACHER, "follow_up", "closed"),
        ("reopened", COORD, "closed", "follow_up"),
    ]
    assert view.history[5].at == closed_at
    updates = [e for e in setup.seen() if e.action is AuditAction.UPDATE]
    assert [(e.actor, e.object_ref, e.detail) for e in updates] == [
        (TEACHER, raised.reference, {"status": "discussed"}),
        (COORD, raised.reference, {"status": "follow_up"}),
        (ADMIN, raised.reference, {"status": "discussed"}),
        (ADMIN, raised.reference, {"status": "follow_up"}),
        (TEACHER, raised.reference, {"status": "closed"}),
        (COORD, raised.reference, {"status": "follow_up"}),
    ]


# --- report_deviation ------------------------------------------------------------------------


def test_report_deviation_stores_the_report_and_refuses_bad_input(setup: Setup) -> None:
    raised = setup.raise_case(TEACHER)
    other = setup.raise_case(OSF_ADMIN, forum_id=setup.osf, **osf_changes(setup))
    setup.seen()

    def report(
        *,
        user: str = NURSE,
        agency_ids: list[int] | None = None,
        kind: str | None = "attendance",
        text: str = "  BUP kom inte till mötet trots kallelse.  ",
        case_reference: str | None = None,
    ) -> int:
        with transaction(setup.sessions) as s:
            deviation = cs.report_deviation(
                s,
                setup.clock,
                access=setup.access(s, user),
                agency_ids=[setup.agency["BUP"]] if agency_ids is None else agency_ids,
                kind=kind,
                text=text,
                case_reference=case_reference,
            )
            return deviation.id

    def refused(**kwargs: Any) -> dict[str, Any]:
        with pytest.raises(InputErrors) as exc:
            report(**kwargs)
        for fld, error in exc.value.errors.items():
            assert error.field == fld
        return exc.value.errors

    assert set(refused(case_reference="FOS-2026-999")) == {"case"}
    assert set(refused(case_reference=other.reference)) == {"case"}  # another forum's case
    assert set(refused(kind="weather")) == {"kind"}
    assert set(refused(kind=None)) == {"kind"}
    assert set(refused(agency_ids=[])) == {"agencies"}
    assert set(refused(agency_ids=[setup.osf_agency["Polis"]])) == {"agencies"}
    assert set(refused(text="   ")) == {"text"}
    errors = refused(text=f"Gäller {PNR}")
    assert set(errors) == {"text"}
    assert isinstance(errors["text"], IdentifyingDataRefused)
    assert set(
        refused(text=f"Gäller {PNR}", kind="x", agency_ids=[], case_reference="FOS-1999-001")
    ) == {"text", "kind", "agencies", "case"}
    assert count(setup.sessions, Deviation) == 0
    assert setup.seen() == []

    linked = report(
        case_reference=f" {raised.reference.lower()} ",
        agency_ids=[setup.agency["BUP"], setup.agency[SOC]],
    )
    plain = report(kind="information", case_reference="  ", user=COORD)
    with setup.sessions() as s:
        deviation = s.get(Deviation, linked)
        assert deviation is not None
        assert deviation.forum_id == setup.fos
        assert deviation.kind == "attendance"
        assert deviation.text == "BUP kom inte till mötet trots kallelse."
        assert deviation.case_id == raised.id
        assert deviation.reported_by == NURSE
        assert deviation.reporting_agency_id == setup.agency["Elevhälsa"]
        assert deviation.created_at == setup.clock.now()
        assert [a.name for a in deviation.agencies] == [SOC, "BUP"]
        second = s.get(Deviation, plain)
        assert second is not None
        assert (second.case_id, second.kind, second.reported_by) == (None, "information", COORD)
    events = setup.seen()
    assert [(e.action, e.object_type, e.object_ref, e.actor) for e in events] == [
        (AuditAction.CREATE, "deviation", str(linked), NURSE),
        (AuditAction.CREATE, "deviation", str(plain), COORD),
    ]


# --- update_forum ----------------------------------------------------------------------------


def test_the_forum_code_cannot_change_once_it_has_cases(setup: Setup) -> None:
    def update(forum_id: int, actor: str, **changes: Any) -> None:
        with transaction(setup.sessions) as s:
            forum = fs.get_forum(s, forum_id=forum_id, team_id=TEAM)
            fs.update_forum(s, setup.clock, forum=forum, actor=actor, draft=forum_draft(**changes))

    osf = {"agencies": ["Polis", "Grundskola"], "own_agency": None}
    # Without cases the code may change.
    update(setup.osf, OSF_ADMIN, name="OSF", code="OSF2", **osf)
    setup.raise_case(OSF_ADMIN, forum_id=setup.osf, **osf_changes(setup))
    setup.raise_case(TEACHER)

    for forum_id, actor, changes in (
        (setup.fos, ADMIN, {"code": "FOSS"}),
        (setup.osf, OSF_ADMIN, {"name": "OSF", "code": "OSF", **osf}),
    ):
        with pytest.raises(InputErrors) as exc:
            update(forum_id, actor, **changes)
        assert set(exc.value.errors) == {"code"}
        assert exc.value.errors["code"].field == "code"
    # Other settings still change; the same code (any case) is not a change.
    update(setup.fos, ADMIN, name="FOSSAM Norr och Söder", code="fos")
    with setup.sessions() as s:
        codes = {row.id: row.code for row in s.execute(select(Forum.id, Forum.code))}
        fos = s.get(Forum, setup.fos)
        assert fos is not None and fos.name == "FOSSAM Norr och Söder"
    assert codes == {setup.fos: "FOS", setup.osf: "OSF2"}
    assert setup.raise_case(TEACHER).reference == "FOS-2026-002"


# --- bugs ------------------------------------------------------------------------------------

# The two date bugs are pure date arithmetic in domain/cases, the same on every backend.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@SQLITE_ONLY
def test_consent_expires_at_the_forums_local_midnight(setup: Setup) -> None:
    raised = setup.raise_case(TEACHER, consent_expires_on=dt.date(2026, 11, 30))
    # 00:30 on 1 December in Stockholm (still 30 November in UTC): the consent has expired.
    setup.clock.set(dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC))
    view = setup.read(SOCIAL, raised.id)
    assert not view.details
    assert view.summary is None


@SQLITE_ONLY
def test_consent_given_today_is_accepted_just_after_local_midnight(setup: Setup) -> None:
    # 00:30 on Tuesday 24 November in Stockholm (still Monday in UTC).
    setup.clock.set(dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.UTC))
    try:
        raised = setup.raise_case(TEACHER, consent_given_on=dt.date(2026, 11, 24))
    except InputErrors as exc:
        if set(exc.errors) != {"consent_given_on"}:
            raise RuntimeError(f"refused for another reason: {sorted(exc.errors)}") from exc
        raise AssertionError("consent given today (local date) refused as 'in the future'") from exc
    assert raised.created


def test_a_submission_delivered_twice_at_once_takes_no_number(setup: Setup) -> None:
    """Like a retry delivered later (which takes no number, see above): the second delivery
    arrives while the first one's transaction is still open."""
    first_done, release = threading.Event(), threading.Event()
    outcome: dict[str, Raised | BaseException] = {}

    def first() -> None:
        try:
            with transaction(setup.sessions) as s:
                case, created = cs.raise_case(
                    s,
                    setup.clock,
                    access=setup.access(s, TEACHER),
                    draft=setup.draft(),
                    submission_key="view-1",
                )
                outcome["first"] = Raised(case.id, case.reference, created)
                first_done.set()
                release.wait(10)
        except BaseException as exc:
            outcome["first"] = exc
            first_done.set()

    def second() -> None:
        try:
            outcome["second"] = setup.raise_case(key="view-1")
        except BaseException as exc:
            outcome["second"] = exc

    a = threading.Thread(target=first)
    a.start()
    assert first_done.wait(10)
    with lock_waits(setup.sessions.kw["bind"]) as waits:
        b = threading.Thread(target=second)
        b.start()
        waits.wait_for(b)  # the second delivery waits on the first's insert
    release.set()
    a.join(20)
    b.join(20)
    one, two = outcome["first"], outcome["second"]
    assert isinstance(one, Raised) and isinstance(two, Raised), outcome
    assert (one.created, two.created, two.id) == (True, False, one.id)
    assert count(setup.sessions, Case) == 1
    assert setup.raise_case(key="view-2").reference == "FOS-2026-002"


def test_closing_rules_sip_needs_consent_and_reopening_forgets_the_outcome(setup: Setup) -> None:
    anonymous = setup.raise_case(TEACHER, consent_giver=ConsentGiver.NONE, consent_agency_ids=[])
    with pytest.raises(InputErrors) as refused:
        setup.change(TEACHER, anonymous.id, CaseStatus.CLOSED, effect=Effect.YES, sip_started=True)
    assert "sip_started" in refused.value.errors
    assert setup.case(anonymous.id).status is not CaseStatus.CLOSED

    setup.change(TEACHER, anonymous.id, CaseStatus.CLOSED, effect=Effect.NO, outcome="Klart")
    setup.change(TEACHER, anonymous.id, CaseStatus.FOLLOW_UP)  # reopened
    reopened = setup.case(anonymous.id)
    assert (reopened.outcome, reopened.effect, reopened.closed_at) == (None, None, None)


def test_an_agency_without_consent_does_not_learn_of_consent_events(setup: Setup) -> None:
    raised = setup.raise_case(TEACHER)  # consent covers Socialtjänst/IFO only
    setup.withdraw(TEACHER, raised.id)
    kinds_for_raiser = {e.kind for e in setup.read(TEACHER, raised.id).history}
    kinds_for_doctor = {e.kind for e in setup.read(DOCTOR, raised.id).history}
    assert "consent_withdrawn" in kinds_for_raiser
    assert "consent_withdrawn" not in kinds_for_doctor
