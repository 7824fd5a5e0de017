"""Raising a case at the domain level (no Slack), on SQLite and PostgreSQL: references,
what is stored, what is refused, and submissions at the same moment.

Every unit of work goes through ``storage.db.transaction`` exactly as the handlers do, and
every check reads the database back in a fresh session, so what is asserted is what was
committed (or not).
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import select

from domain import cases as cs
from domain import forums as fs
from domain.clock import AdjustableClock
from domain.errors import IdentifyingDataRefused, InputErrors, InvalidInput
from storage.db import transaction
from storage.models import (
    AuditAction,
    Case,
    CaseEvent,
    CaseStatus,
    Consent,
    ConsentGiver,
    Forum,
    Meeting,
    MeetingStatus,
    SipStatus,
)
from tests.conftest import postgresql_only
from tests.support.cases_domain import (
    ADMIN,
    COORD,
    DOCTOR,
    MEETINGS,
    NURSE,
    OSF_ADMIN,
    PNR,
    SOC,
    SOCIAL,
    SUMMARY,
    TEACHER,
    TEAM,
    TODAY,
    Raised,
    Sessions,
    Setup,
    assert_no_case_stored,
    count,
    forum_draft,
    make_setup,
    osf_changes,
)
from tests.support.concurrency import lock_waits


@pytest.fixture
def setup(sessions: Sessions, clock: AdjustableClock) -> Setup:
    return make_setup(sessions, clock)


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


@postgresql_only  # SQLite's writers queue whole (BEGIN IMMEDIATE): no save reads mid-race
def test_a_case_raised_while_a_code_change_is_checked_keeps_its_reference_true(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The save reads "no cases yet" without a lock. While OSF's admin's save (code OSF to
    OSF2) is between its check and its write, a case is raised in OSF (OSF-2026-001,
    committed): the save is refused on the code field, so the code stays OSF and the
    reference printed in messages and minutes stays true."""
    from domain.forums.checking import draft_calendar

    osf = {"agencies": ["Polis", "Grundskola"], "own_agency": None}
    checked, go = threading.Event(), threading.Event()
    outcome: dict[str, BaseException | None] = {}

    def checked_then_pause(*args: Any, **kwargs: Any) -> Any:
        # The save's last step before its write (the checks, the code's included, are done).
        calendar = draft_calendar(*args, **kwargs)
        if not checked.is_set():
            checked.set()
            assert go.wait(10)
        return calendar

    monkeypatch.setattr("domain.forums.saving.draft_calendar", checked_then_pause)

    def save() -> None:
        try:
            with transaction(setup.sessions) as s:
                fs.save_forum_settings(
                    s,
                    setup.clock,
                    forum_id=setup.osf,
                    team_id=TEAM,
                    actor=OSF_ADMIN,
                    draft=forum_draft(name="OSF", code="OSF2", **osf),
                )
            outcome["save"] = None
        except BaseException as exc:
            outcome["save"] = exc

    saving = threading.Thread(target=save)
    saving.start()
    try:
        assert checked.wait(10)
        raised = setup.raise_case(OSF_ADMIN, forum_id=setup.osf, **osf_changes(setup))
    finally:
        go.set()
        saving.join(20)
    refused = outcome["save"]
    assert isinstance(refused, InputErrors) and set(refused.errors) == {"code"}, refused
    with setup.sessions() as s:
        forum = s.get(Forum, setup.osf)
        assert forum is not None and forum.code == "OSF"
    assert raised.reference.startswith("OSF-")
