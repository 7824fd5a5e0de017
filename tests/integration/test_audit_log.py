"""The audit log is append-only and hash-chained: the database refuses changes, and
``samverkan audit verify`` finds an edited, removed or forged record; concurrent writers
never fork the chain; retention's cut keeps the rest verifiable."""

from __future__ import annotations

import datetime as dt
import importlib.util
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from bot.cli import main
from domain import audit
from domain.clock import AdjustableClock
from storage.db import MIGRATIONS_DIR, transaction
from storage.models import AuditAction, AuditChain, AuditEvent

Sessions = sessionmaker[Session]


def write(sessions: Sessions, clock: AdjustableClock, n: int, *, actor: str = "U1") -> None:
    with transaction(sessions) as s:
        for i in range(n):
            audit.record(
                s,
                clock,
                actor=actor,
                action=AuditAction.READ,
                object_type="case",
                object_ref=f"FOS-2026-{i:03d}",
                team_id="T0001",
                forum_id=1,
                detail={"details": True, "n": i, "text": "åäö"},
            )


def cli_verify(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", database_url)
    code = main(["audit", "verify"])
    out = capsys.readouterr()
    return code, out.out + out.err


def raw(sessions: Sessions, sql: str) -> None:
    with sessions() as s, s.begin():
        s.execute(text(sql))


def without_triggers(sessions: Sessions, sql: str) -> None:
    """Tamper as someone with full database access would: around the triggers."""
    with sessions() as s, s.begin():
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SET LOCAL session_replication_role = replica"))
            s.execute(text(sql))
        else:
            s.execute(text("DROP TRIGGER audit_events_no_update"))
            s.execute(text("DROP TRIGGER audit_events_no_delete"))
            s.execute(text(sql))


def test_committed_events_form_one_chain_that_verifies(
    sessions: Sessions,
    clock: AdjustableClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write(sessions, clock, 3)
    write(sessions, clock, 2, actor="U2")
    with sessions() as s:
        rows = s.execute(select(AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash)).all()
        result = audit.verify(s)
    assert sorted(r.seq for r in rows) == [1, 2, 3, 4, 5]
    assert all(r.hash and len(r.hash) == 64 for r in rows)
    assert result.ok and result.checked == 5
    code, out = cli_verify(database_url, monkeypatch, tmp_path, capsys)
    assert code == 0
    assert "OK: 5 events" in out


def test_the_database_refuses_to_change_or_delete_a_record(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    write(sessions, clock, 2)
    for sql in (
        "UPDATE audit_events SET actor = 'U666' WHERE seq = 1",
        "UPDATE audit_events SET hash = NULL WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 2",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            raw(sessions, sql)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 2
        assert audit.verify(s).ok


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("UPDATE audit_events SET actor = 'U666' WHERE seq = 2", "seq 2"),
        ("UPDATE audit_events SET detail = NULL WHERE seq = 1", "does not match its hash"),
        ("DELETE FROM audit_events WHERE seq = 2", "missing"),
        ("DELETE FROM audit_events WHERE seq = 3", "chain head"),
    ],
)
def test_an_altered_or_removed_record_fails_audit_verify(
    sessions: Sessions,
    clock: AdjustableClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tamper: str,
    expected: str,
) -> None:
    write(sessions, clock, 3)
    without_triggers(sessions, tamper)
    code, out = cli_verify(database_url, monkeypatch, tmp_path, capsys)
    assert code == 1
    assert "FAILED" in out and expected in out


def test_a_record_written_around_the_log_fails_verify(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    write(sessions, clock, 1)
    raw(
        sessions,
        "INSERT INTO audit_events (at, actor, action, object_type, object_ref)"
        " VALUES ('2026-11-23 09:00:00', 'U9', 'read', 'case', 'FOS-2026-001')",
    )
    with sessions() as s:
        result = audit.verify(s)
    assert not result.ok
    assert any("no place in the chain" in p for p in result.problems)


def test_events_of_a_rolled_back_savepoint_are_not_chained(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    with transaction(sessions) as s:
        audit.record(s, clock, actor="U1", action=AuditAction.READ, object_type="x", object_ref="1")
        with pytest.raises(RuntimeError), s.begin_nested():
            audit.record(
                s, clock, actor="U1", action=AuditAction.READ, object_type="x", object_ref="2"
            )
            raise RuntimeError
        audit.record(s, clock, actor="U1", action=AuditAction.READ, object_type="x", object_ref="3")
    with sessions() as s:
        refs = s.execute(select(AuditEvent.object_ref, AuditEvent.seq).order_by(AuditEvent.seq))
        assert [tuple(r) for r in refs] == [("1", 1), ("3", 2)]
        assert audit.verify(s).ok


def test_concurrent_writers_never_fork_the_chain(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    writers, each = 6, 8
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for _ in range(each):
                write(sessions, clock, 2, actor=f"U{n}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    total = writers * each * 2
    with sessions() as s:
        seqs = sorted(int(q or 0) for q in s.scalars(select(AuditEvent.seq)))
        result = audit.verify(s)
        head = s.get(AuditChain, 1)
    assert seqs == list(range(1, total + 1))
    assert result.ok, result.problems
    assert head is not None and head.last_seq == total


def test_retention_cut_keeps_the_rest_verifiable_and_a_forged_cut_does_not(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    write(sessions, clock, 3)
    clock.advance(dt.timedelta(days=10))
    write(sessions, clock, 2)
    with transaction(sessions) as s:
        removed = audit.purge_before(
            s, clock, cutoff=clock.now() - dt.timedelta(days=5), actor="samverkan"
        )
    assert removed == 3
    with sessions() as s:
        result = audit.verify(s)
        cut = s.scalars(select(AuditEvent).where(AuditEvent.object_type == "audit_events")).one()
    assert result.ok, result.problems
    assert result.start_seq == 4 and result.checked == 3
    assert cut.detail is not None and cut.detail["removed"] == 3
    # Deleting without retention's permit is refused …
    with pytest.raises(DBAPIError, match="append-only"):
        raw(sessions, "DELETE FROM audit_events WHERE seq = 4")
    # … and moving the start past events around the triggers is found.
    without_triggers(sessions, "DELETE FROM audit_events WHERE seq = 4")
    with sessions() as s, s.begin():
        s.execute(update(AuditChain).values(start_seq=5))
    with sessions() as s:
        result = audit.verify(s)
    assert not result.ok
    assert any("no retention event records that cut" in p for p in result.problems)


def test_the_migration_hashes_like_the_domain() -> None:
    path = MIGRATIONS_DIR / "versions" / "0003_privacy_audit_retention.py"
    spec = importlib.util.spec_from_file_location("migration_0003", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    row = {
        "seq": 7,
        "prev_hash": "a" * 64,
        "at": dt.datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=dt.UTC),
        "team_id": "T1",
        "forum_id": 3,
        "actor": "U1",
        "actor_agency_id": None,
        "action": AuditAction.UPDATE,
        "object_type": "case",
        "object_ref": "FOS-2026-001",
        "detail": {"status": "closed", "å": [1, 2]},
    }
    assert module._canonical_v1({**row, "action": "update"}) == audit.canonical(row)
    naive = {
        **row,
        "at": "2026-11-23 09:00:00.123456",
        "detail": '{"å": [1, 2], "status": "closed"}',
    }
    assert module._canonical_v1({**naive, "action": "update"}) == audit.canonical(row)
