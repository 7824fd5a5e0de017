"""A case's life at the domain level (no Slack), on SQLite and PostgreSQL: consent
withdrawn or expired, status changes and closing rules, and deviation reports.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from domain import cases as cs
from domain.clock import AdjustableClock
from domain.errors import IdentifyingDataRefused, InputErrors, InvalidInput, NotCoordinator
from storage.db import transaction
from storage.models import (
    AuditAction,
    CaseStatus,
    Consent,
    ConsentGiver,
    Deviation,
    Effect,
    SipStatus,
)
from tests.support.cases_domain import (
    ADMIN,
    COORD,
    NURSE,
    OSF_ADMIN,
    PNR,
    SOC,
    SOCIAL,
    SUMMARY,
    TEACHER,
    Sessions,
    Setup,
    count,
    make_setup,
    osf_changes,
)


@pytest.fixture
def setup(sessions: Sessions, clock: AdjustableClock) -> Setup:
    return make_setup(sessions, clock)


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
