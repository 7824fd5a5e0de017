"""Retention of the audit log: cut without breaking the rest of the chain, except what a
legal hold keeps; runs at once, and month partitions dropped whole or made ahead.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from domain import audit
from domain.clock import AdjustableClock
from storage.db import transaction
from storage.models import AuditEvent
from tests.conftest import postgresql_only
from tests.support.audit_log import (
    TEAM,
    Sessions,
    event_rows,
    raw,
    real_keys,
    seal,
    verified,
    without_triggers,
    write,
)


@pytest.fixture(autouse=True)
def keys() -> Iterator[audit.AuditKeys]:
    yield from real_keys()


# --- retention ------------------------------------------------------------------------------


def test_retention_cut_keeps_the_rest_verifiable_and_a_moved_start_does_not(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    write(sessions, clock, 3)
    clock.advance(dt.timedelta(days=10))
    write(sessions, clock, 2)
    write(sessions, clock, 1, team="T0002")
    seal(sessions)
    with transaction(sessions) as s:
        removed = audit.purge_before(
            s, clock, cutoff=clock.now() - dt.timedelta(days=5), actor="samverkan"
        )
    assert removed == 3
    result = verified(sessions, chain=TEAM)
    cuts = [r for r in event_rows(sessions) if r["object_type"] == "audit_events"]
    assert result.ok, result.problems
    assert result.start_seq == 4 and result.checked == 3
    assert len(cuts) == 1 and cuts[0]["detail"]["removed"] == 3  # type: ignore[index]
    assert verified(sessions, chain="T0002").checked == 1  # another workspace: untouched
    # Deleting without retention's permit is refused …
    with pytest.raises(DBAPIError, match="append-only"):
        raw(sessions, "DELETE FROM audit_events WHERE chain = 'T0001' AND seq = 4")
    # … and moving the start past events around the triggers is found.
    without_triggers(
        sessions,
        "DELETE FROM audit_events WHERE chain = 'T0001' AND seq = 4",
        "UPDATE audit_chain SET start_seq = 5 WHERE chain = 'T0001'",
    )
    result = verified(sessions)
    assert not result.ok
    assert any("no retention event signed that cut" in p for p in result.problems)


def test_retention_keeps_the_events_of_a_case_under_legal_hold_and_still_verifies(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    write(sessions, clock, 4, ref="FOS-2026-{i:03d}")  # FOS-2026-000 … 003
    write(sessions, clock, 1, ref="FOS-2026-001")  # the held case again
    clock.advance(dt.timedelta(days=10))
    write(sessions, clock, 1, ref="FOS-2026-009")
    seal(sessions)
    held = [audit.HeldRef(1, "FOS-2026-001")]
    with sessions() as s:
        (plan,) = audit.plan_purge(s, cutoff=clock.now() - dt.timedelta(days=5), held=held)
    assert (plan.cut_seq, plan.removed, len(plan.ids)) == (6, 3, 3)
    with transaction(sessions) as s:
        removed = audit.purge_before(
            s, clock, cutoff=clock.now() - dt.timedelta(days=5), actor="samverkan", held=held
        )
    assert removed == 3
    rows = event_rows(sessions)
    assert [(r["seq"], r["object_ref"]) for r in rows if int(r["seq"]) < 6] == [  # type: ignore[call-overload]
        (2, "FOS-2026-001"),
        (5, "FOS-2026-001"),
    ]
    result = verified(sessions)
    assert result.ok, result.problems
    assert result.kept == 2
    # A held event removed around the triggers is missed; one forged below the cut is found.
    without_triggers(sessions, "DELETE FROM audit_events WHERE chain = 'T0001' AND seq = 2")
    result = verified(sessions)
    assert any("seq 2, kept under legal hold at the cut, is missing" in p for p in result.problems)

    # When the hold is released, the next run removes them and records a new cut.
    with transaction(sessions) as s:
        assert (
            audit.purge_before(
                s, clock, cutoff=clock.now() - dt.timedelta(days=5), actor="samverkan", held=[]
            )
            == 1
        )
    assert [r["seq"] for r in event_rows(sessions) if int(r["seq"]) < 6] == []  # type: ignore[call-overload]
    assert verified(sessions).ok


def test_two_retention_runs_at_once_cut_each_chain_once_without_deadlock(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    teams = [f"T{n}" for n in range(4)]
    for team in teams:
        write(sessions, clock, 2, team=team)
    seal(sessions)
    clock.advance(dt.timedelta(days=10))
    for team in reversed(teams):
        write(sessions, clock, 1, team=team)  # pending: each run seals before it cuts
    with sessions() as s:
        postgres = s.get_bind().dialect.name == "postgresql"
    if postgres:
        # A month ahead is missing (another test dropped it, or the clock is past the months
        # the migration made): making it locks audit_events, which the run waiting for the
        # other's heads has read — a deadlock when retention made months ahead.
        ahead = (clock.now().date().replace(day=1) + dt.timedelta(days=62)).replace(day=1)
        raw(sessions, f"DROP TABLE audit_partitions.audit_events_y{ahead:%Y}m{ahead:%m}")
    barrier = threading.Barrier(2)
    removed: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            with transaction(sessions) as s:
                removed.append(
                    audit.purge_before(
                        s, clock, cutoff=clock.now() - dt.timedelta(days=5), actor="samverkan"
                    )
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(removed) == [0, 8]
    with sessions() as s:
        cuts = s.scalars(
            select(AuditEvent.chain).where(AuditEvent.object_type == "audit_events")
        ).all()
    assert sorted(cuts) == teams
    assert verified(sessions).ok
    with sessions() as s, s.begin():
        audit.ensure_partitions(s, clock.now())  # the month again, for the worker's next tests


@postgresql_only  # SQLite keeps one table (no partitions)
def test_retention_drops_a_whole_month_partition_unless_a_hold_keeps_an_event_in_it(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    october = dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)
    with sessions() as s, s.begin():
        audit.ensure_partitions(s, october)
        audit.ensure_partitions(s, dt.datetime(2026, 8, 5, 9, 0, tzinfo=dt.UTC))
    clock.set(dt.datetime(2026, 8, 5, 9, 0, tzinfo=dt.UTC))
    write(sessions, clock, 3)  # August
    write(sessions, clock, 1, team="T0002")  # August, another workspace
    clock.set(dt.datetime(2026, 9, 5, 9, 0, tzinfo=dt.UTC))
    write(sessions, clock, 3, ref="SEP-{i}")  # September, one of them held
    clock.set(october)
    write(sessions, clock, 1, ref="OCT")
    seal(sessions)

    def names() -> set[str]:
        with sessions() as s:
            return {name for name, _ in audit.partitions(s)}

    assert {"audit_events_y2026m08", "audit_events_y2026m09"} <= names()
    with transaction(sessions) as s:
        removed = audit.purge_before(
            s,
            clock,
            cutoff=dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
            actor="samverkan",
            held=[audit.HeldRef(1, "SEP-1")],
        )
    assert removed == 6  # 3 + 1 dropped with August, 2 deleted in September
    left = names()
    assert "audit_events_y2026m08" not in left
    assert "audit_events_y2026m09" in left  # the held event keeps its month
    with sessions() as s:
        september = s.scalars(
            text("SELECT object_ref FROM audit_partitions.audit_events_y2026m09")
        ).all()
    assert september == ["SEP-1"]
    result = verified(sessions)
    assert result.ok, result.problems
    assert result.kept == 1


@postgresql_only  # SQLite keeps one table (no partitions)
def test_partitions_are_made_ahead_and_events_outside_them_still_land(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    far = dt.datetime(2031, 5, 1, tzinfo=dt.UTC)
    clock.set(far)
    write(sessions, clock, 1)  # no partition for May 2031 yet: the DEFAULT one takes it
    with sessions() as s, s.begin():
        created = audit.ensure_partitions(s, dt.datetime(2031, 3, 1, tzinfo=dt.UTC))
    # May is left out: its event sits in the DEFAULT partition already.
    assert created == ["2031-03", "2031-04", "2031-06"]
    with sessions() as s:
        assert s.scalar(text("SELECT count(*) FROM audit_partitions.audit_events_default")) == 1
        months = {first for _, first in audit.partitions(s)}
    assert dt.date(2031, 3, 1) in months and dt.date(2031, 5, 1) not in months
    seal(sessions)
    assert verified(sessions).ok


@postgresql_only  # SQLite keeps one table (no partitions)
def test_two_retention_runs_at_once_that_drop_a_month_do_not_deadlock(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    # Dropping a month locks audit_events; the other run, waiting for a chain head this one
    # holds, has read audit_events: it must not be failed as a deadlock's victim.
    with sessions() as s, s.begin():
        audit.ensure_partitions(s, dt.datetime(2026, 8, 5, 9, 0, tzinfo=dt.UTC))
    clock.set(dt.datetime(2026, 8, 5, 9, 0, tzinfo=dt.UTC))
    teams = [f"T{n}" for n in range(4)]
    for team in teams:
        write(sessions, clock, 2, team=team)  # August: a month retention drops whole
    seal(sessions)
    clock.set(dt.datetime(2026, 11, 5, 9, 0, tzinfo=dt.UTC))
    for team in reversed(teams):
        write(sessions, clock, 1, team=team)
    barrier = threading.Barrier(2)
    removed: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            with transaction(sessions) as s:
                removed.append(
                    audit.purge_before(
                        s, clock, cutoff=dt.datetime(2026, 10, 1, tzinfo=dt.UTC), actor="samverkan"
                    )
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(removed) == [0, 8]
    with sessions() as s:
        august = s.scalar(
            select(text("count(*)"))
            .select_from(AuditEvent)
            .where(AuditEvent.at < dt.datetime(2026, 9, 1, tzinfo=dt.UTC))
        )
    assert august == 0  # the month is gone, dropped whole or row by row
    assert verified(sessions).ok
