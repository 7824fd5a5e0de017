"""Listing and reading cases at the domain level (no Slack), on SQLite and PostgreSQL:
pages, filters, the queries a list costs, and details shown only under consent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event

from domain import cases as cs
from domain.clock import AdjustableClock
from storage.db import transaction
from storage.models import (
    AuditAction,
    CaseStatus,
    ConsentGiver,
    SipStatus,
)
from tests.support.cases_domain import (
    ADMIN,
    COORD,
    DOCTOR,
    MEETINGS,
    NURSE,
    OSF_ADMIN,
    SOC,
    SOCIAL,
    SUMMARY,
    TEACHER,
    Sessions,
    Setup,
    make_setup,
)


@pytest.fixture
def setup(sessions: Sessions, clock: AdjustableClock) -> Setup:
    return make_setup(sessions, clock)


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


def test_an_agency_without_consent_does_not_learn_of_consent_events(setup: Setup) -> None:
    raised = setup.raise_case(TEACHER)  # consent covers Socialtjänst/IFO only
    setup.withdraw(TEACHER, raised.id)
    kinds_for_raiser = {e.kind for e in setup.read(TEACHER, raised.id).history}
    kinds_for_doctor = {e.kind for e in setup.read(DOCTOR, raised.id).history}
    assert "consent_withdrawn" in kinds_for_raiser
    assert "consent_withdrawn" not in kinds_for_doctor
