"""The audit log: events are written in the request's transaction, sealed after commit into
one keyed chain per workspace, protected by triggers, verified by ``samverkan audit
verify`` (with anchors against truncation), and cut by retention without breaking the rest
— except what a legal hold keeps. Every rewrite of the problem report (issue 14, point 3)
is tried here with the app's own database connection.

Here: writing and sealing, what the database refuses, and what verify finds of what gets
past the triggers. Anchors and keys: test_audit_keys.py; retention: test_audit_retention.py;
the migration and a bot role without ownership: test_audit_deployed.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from domain import audit
from domain.clock import AdjustableClock
from storage.db import transaction
from storage.models import AuditAction, AuditChain, AuditEvent
from tests.conftest import postgresql_only
from tests.support.audit_log import (
    TEAM,
    Sessions,
    cli,
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


# --- writing and sealing --------------------------------------------------------------------


def test_events_are_sealed_after_commit_into_one_keyed_chain_per_workspace(
    sessions: Sessions,
    clock: AdjustableClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    keys: audit.AuditKeys,
) -> None:
    write(sessions, clock, 3)
    write(sessions, clock, 2, actor="U2", team="T0002")
    write(sessions, clock, 1, team=None)
    with sessions() as s:
        # Committed, not sealed yet: no place in a chain, and verify says so without failing.
        assert s.scalar(select(func.count()).where(AuditEvent.hash.is_not(None))) == 0
        pending = audit.verify(s)
    assert pending.ok and pending.unsealed == 6 and pending.checked == 0
    code, out = cli(["audit", "verify", "--no-seal"], database_url, monkeypatch, tmp_path, capsys)
    assert code == 0 and "6 event(s) not sealed yet" in out

    assert seal(sessions) == 6
    with sessions() as s:
        rows = s.execute(
            select(AuditEvent.chain, AuditEvent.seq, AuditEvent.key_id).order_by(AuditEvent.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (TEAM, 1, keys.signing_id),
        (TEAM, 2, keys.signing_id),
        (TEAM, 3, keys.signing_id),
        ("T0002", 1, keys.signing_id),
        ("T0002", 2, keys.signing_id),
        ("global", 1, keys.signing_id),
    ]
    result = verified(sessions)
    assert result.ok and result.checked == 6 and result.chains == 3 and result.unsealed == 0
    one = verified(sessions, chain="T0002")
    assert one.ok and one.checked == 2 and (one.start_seq, one.last_seq) == (1, 2)

    # The CLI seals what is pending first, then checks; per workspace with --team.
    write(sessions, clock, 1)
    code, out = cli(
        ["audit", "verify", "--team", TEAM], database_url, monkeypatch, tmp_path, capsys
    )
    assert code == 0
    assert f"audit log of {TEAM} OK: 4 events, seq 1–4" in out


def test_the_hash_is_keyed_a_public_recomputation_does_not_match(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    write(sessions, clock, 1)
    seal(sessions)
    (row,) = event_rows(sessions)
    assert audit.event_hash(row) == row["hash"]
    assert audit.event_hash(row, audit.AuditKeys.development()) is None  # another key id
    unkeyed = {**row, "key_id": None}
    assert audit.event_hash(unkeyed) != row["hash"]


@postgresql_only  # SQLite serialises writers: an id cannot commit after a bigger one there
def test_ids_that_commit_out_of_order_are_all_sealed_none_skipped(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    slow = sessions()
    slow.begin()
    audit.record(
        slow,
        clock,
        actor="U1",
        action=AuditAction.READ,
        object_type="x",
        object_ref="a",
        team_id=TEAM,
    )
    slow_id = slow.scalar(select(func.max(AuditEvent.id)))
    write(sessions, clock, 2)  # bigger ids, committed first
    assert seal(sessions) == 2
    slow.commit()
    slow.close()
    assert seal(sessions) == 1
    with sessions() as s:
        late = s.scalars(select(AuditEvent).where(AuditEvent.id == slow_id)).one()
    assert late.seq == 3  # sealed after the bigger ids: the chain is in seal order
    assert verified(sessions).ok


def test_events_of_a_rolled_back_transaction_or_savepoint_never_enter_the_chain(
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
    with pytest.raises(RuntimeError), transaction(sessions) as s:
        audit.record(s, clock, actor="U1", action=AuditAction.READ, object_type="x", object_ref="4")
        raise RuntimeError
    seal(sessions)
    with sessions() as s:
        refs = s.execute(select(AuditEvent.object_ref, AuditEvent.seq).order_by(AuditEvent.seq))
        assert [tuple(r) for r in refs] == [("1", 1), ("3", 2)]
    assert verified(sessions).ok


def test_concurrent_writers_and_sealers_never_fork_a_chain(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    writers, each = 6, 8
    barrier = threading.Barrier(writers + 2)
    done = threading.Event()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for _ in range(each):
                write(sessions, clock, 2, actor=f"U{n}", team=f"T{n % 2}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def sealer() -> None:
        try:
            barrier.wait()
            while not done.is_set():
                audit.seal_pending(sessions, wait=False, limit=5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    sealers = [threading.Thread(target=sealer) for _ in range(2)]
    for thread in threads + sealers:
        thread.start()
    for thread in threads:
        thread.join(60)
    done.set()
    for thread in sealers:
        thread.join(60)
    assert errors == []
    seal(sessions)
    with sessions() as s:
        for chain in ("T0", "T1"):
            seqs = sorted(
                int(q or 0)
                for q in s.scalars(select(AuditEvent.seq).where(AuditEvent.chain == chain))
            )
            assert seqs == list(range(1, writers * each + 1))
            head = s.scalars(select(AuditChain).where(AuditChain.chain == chain)).one()
            assert head.last_seq == writers * each
    result = verified(sessions)
    assert result.ok, result.problems


def test_sealing_at_commit_the_old_way_still_works_for_the_benchmark(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    at_commit = sessionmaker(
        bind=sessions.kw["bind"], expire_on_commit=False, info={audit.SEAL_AT_COMMIT: True}
    )
    with transaction(at_commit) as s:
        event = audit.record(
            s, clock, actor="U1", action=AuditAction.READ, object_type="x", object_ref="1"
        )
    assert event.seq == 1 and event.hash  # sealed in its own transaction
    write(sessions, clock, 1)  # the background way, in between
    write(at_commit, clock, 1)  # seals everything committed before it too
    with sessions() as s:
        assert audit.backlog(s).count == 0
    assert verified(sessions).ok


# --- the database refuses -------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_events SET actor = 'U666' WHERE seq = 1",
        "UPDATE audit_events SET detail = NULL WHERE seq = 1",
        "UPDATE audit_events SET hash = NULL WHERE seq = 1",
        "UPDATE audit_events SET hash = 'x', seq = 9 WHERE seq = 2",
        "DELETE FROM audit_events WHERE seq = 2",
        "DELETE FROM audit_events",
        "INSERT INTO audit_events (at, chain, actor, action, object_type, object_ref, seq,"
        " prev_hash, hash, key_id) VALUES ('2026-11-23 09:00:00+00', 'T0001', 'U9', 'read',"
        " 'case', 'FOS-2026-001', 3, 'a', 'b', 'c')",
        "UPDATE audit_chain SET last_seq = 1 WHERE chain = 'T0001'",
        "UPDATE audit_chain SET last_hash = 'x' WHERE chain = 'T0001'",
        "UPDATE audit_chain SET start_seq = 0 WHERE chain = 'T0001'",
        "UPDATE audit_chain SET chain = 'T0002' WHERE chain = 'T0001'",
        "DELETE FROM audit_chain",
        "INSERT INTO audit_chain (chain, last_seq, last_hash, start_seq, start_hash,"
        " kept_below_start) VALUES ('T0009', 5, 'x', 1, 'y', 0)",
    ],
)
def test_the_database_refuses_to_change_or_delete_the_log(
    sessions: Sessions, clock: AdjustableClock, sql: str
) -> None:
    write(sessions, clock, 2)
    write(sessions, clock, 1, ref="unsealed")
    with sessions() as s, s.begin():
        audit.seal_chain(s, TEAM, limit=2)
    with pytest.raises(DBAPIError, match=r"append-only|only moves forward"):
        raw(sessions, sql)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 3
    seal(sessions)
    assert verified(sessions).ok


def test_an_unsealed_event_cannot_be_changed_or_removed_before_it_is_sealed(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    write(sessions, clock, 1)
    for sql in (
        "UPDATE audit_events SET detail = NULL",
        "UPDATE audit_events SET actor = 'U666'",
        "DELETE FROM audit_events",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            raw(sessions, sql)


@postgresql_only  # SQLite has no TRUNCATE; a DELETE without WHERE is refused row by row
def test_truncate_is_refused(sessions: Sessions, clock: AdjustableClock) -> None:
    write(sessions, clock, 1)
    for table in ("audit_events", "audit_chain"):
        with pytest.raises(DBAPIError, match="TRUNCATE refused"):
            raw(sessions, f"TRUNCATE {table} CASCADE")


# --- what gets past the triggers, verify finds ---------------------------------------------


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("UPDATE audit_events SET actor = 'U666' WHERE seq = 2", "seq 2: content"),
        ("UPDATE audit_events SET detail = NULL WHERE seq = 1", "does not match its hash"),
        ("UPDATE audit_events SET at = at + interval '1 hour' WHERE seq = 1", "seq 1: content"),
        ("DELETE FROM audit_events WHERE seq = 2", "missing"),
        ("DELETE FROM audit_events WHERE seq = 3", "chain head"),
        ("UPDATE audit_events SET chain = 'T0002' WHERE seq = 3", "chain head"),
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
    seal(sessions)
    if database_url.startswith("sqlite"):
        tamper = tamper.replace("at + interval '1 hour'", "'2026-11-23 10:00:00.000000'")
    without_triggers(sessions, tamper)
    code, out = cli(["audit", "verify"], database_url, monkeypatch, tmp_path, capsys)
    assert code == 1
    assert "FAILED" in out and expected in out


class TestTheReproducedRewritesFail:
    """Issue 14, point 3, with the app's own connection: each rewrite is refused by a
    trigger or found by verify (the key is outside the database)."""

    def test_raising_purge_below_seq_deleting_the_tail_and_resetting_the_head(
        self, sessions: Sessions, clock: AdjustableClock
    ) -> None:
        write(sessions, clock, 6)
        seal(sessions)
        rows = event_rows(sessions)
        # The permit is the app's to set, and then the tail can go …
        raw(
            sessions,
            "UPDATE audit_chain SET purge_below_seq = 1000 WHERE chain = 'T0001'",
            "DELETE FROM audit_events WHERE chain = 'T0001' AND seq > 3",
        )
        # … but the head cannot be wound back,
        with pytest.raises(DBAPIError, match="only moves forward"):
            raw(
                sessions,
                "UPDATE audit_chain SET last_seq = 3, last_hash = :h WHERE chain = 'T0001'",
                h=rows[2]["hash"],
            )
        # so verify sees the head beyond the log's end.
        result = verified(sessions)
        assert not result.ok
        assert any("the chain head says seq 6 but the log ends at 3" in p for p in result.problems)

    def test_deleting_a_prefix_and_moving_the_start_needs_a_signed_cut(
        self, sessions: Sessions, clock: AdjustableClock
    ) -> None:
        write(sessions, clock, 4)
        seal(sessions)
        rows = event_rows(sessions)
        raw(
            sessions,
            "UPDATE audit_chain SET purge_below_seq = 3 WHERE chain = 'T0001'",
            "DELETE FROM audit_events WHERE chain = 'T0001' AND seq < 3",
            "UPDATE audit_chain SET purge_below_seq = NULL, start_seq = 3, start_hash = :h"
            " WHERE chain = 'T0001'",
            h=rows[1]["hash"],
        )
        # A forged cut record inserted unsealed is signed by the sealer like any event …
        cut = {"removed": 2, "cut_seq": 3, "cut_hash": rows[1]["hash"], "kept": []}
        forged = {**cut, "sig": "0" * 64}
        raw(
            sessions,
            "INSERT INTO audit_events (at, chain, team_id, actor, action, object_type,"
            " object_ref, detail) VALUES (:at, 'T0001', 'T0001', 'samverkan', 'delete',"
            " 'audit_events', 'seq<3', :detail)",
            at=clock.now(),
            detail=json.dumps(forged),
        )
        seal(sessions)
        # … but it cannot carry retention's signature over the cut, made with the key.
        result = verified(sessions)
        assert not result.ok
        assert any("no retention event signed that cut" in p for p in result.problems)

    def test_deleting_one_event_and_reinserting_the_rest_with_recomputed_hashes(
        self, sessions: Sessions, clock: AdjustableClock
    ) -> None:
        write(sessions, clock, 4)
        seal(sessions)
        rows = event_rows(sessions)
        kept = [r for r in rows if r["seq"] != 2]
        # With the app's connection a sealed event cannot be inserted at all …
        with pytest.raises(DBAPIError, match="append-only"):
            raw(
                sessions,
                "INSERT INTO audit_events (at, chain, actor, action, object_type, object_ref,"
                " seq, prev_hash, hash, key_id) VALUES (:at, 'T0001', 'U1', 'read', 'case',"
                " 'x', 9, :h, :h, 'dev')",
                at=clock.now(),
                h="0" * 64,
            )
        # … and around the triggers, hashes recomputed without the key do not verify.
        statements = ["DELETE FROM audit_events WHERE chain = 'T0001'"]
        params: dict[str, object] = {}
        prev = audit.GENESIS
        for n, row in enumerate(kept, start=1):
            forged = {**row, "seq": n, "prev_hash": prev, "key_id": "dev"}
            digest = audit.event_hash(forged, audit.AuditKeys.development())
            statements.append(
                "INSERT INTO audit_events (id, at, team_id, forum_id, actor, action,"
                " object_type, object_ref, detail, chain, seq, prev_hash, hash, key_id)"
                f" VALUES (:id{n}, :at{n}, 'T0001', 1, :actor{n}, 'read', 'case', :ref{n},"
                f" :detail{n}, 'T0001', {n}, :prev{n}, :hash{n}, 'dev')"
            )
            params.update(
                {
                    f"id{n}": row["id"],
                    f"at{n}": row["at"],
                    f"actor{n}": row["actor"],
                    f"ref{n}": row["object_ref"],
                    f"detail{n}": json.dumps(row["detail"]),
                    f"prev{n}": prev,
                    f"hash{n}": digest,
                }
            )
            prev = str(digest)
        statements.append(
            "UPDATE audit_chain SET last_seq = 3, last_hash = :last WHERE chain = 'T0001'"
        )
        without_triggers(sessions, *statements, last=prev, **params)
        result = verified(sessions)
        assert not result.ok
        assert any("key id dev" in p for p in result.problems)

    def test_updating_a_detail(self, sessions: Sessions, clock: AdjustableClock) -> None:
        write(sessions, clock, 2)
        seal(sessions)
        with pytest.raises(DBAPIError, match="append-only"):
            raw(sessions, "UPDATE audit_events SET detail = NULL WHERE seq = 2")
        without_triggers(sessions, "UPDATE audit_events SET detail = NULL WHERE seq = 2")
        result = verified(sessions)
        assert not result.ok and any("seq 2: content" in p for p in result.problems)

    def test_a_truncated_and_rewound_chain_fails_against_an_anchor(
        self,
        sessions: Sessions,
        clock: AdjustableClock,
        database_url: str,
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        write(sessions, clock, 5)
        code, out = cli(
            ["audit", "anchor", "--team", TEAM], database_url, monkeypatch, tmp_path, capsys
        )
        assert code == 0
        line = out.strip().splitlines()[-1]
        assert line.startswith(f"sva1:{TEAM}:5:")
        rows = event_rows(sessions)
        # Someone with superuser rights removes the newest events and winds the head back:
        # the chain alone is consistent again …
        without_triggers(
            sessions,
            "DELETE FROM audit_events WHERE chain = 'T0001' AND seq > 3",
            "UPDATE audit_chain SET last_seq = 3, last_hash = :h WHERE chain = 'T0001'",
            h=rows[2]["hash"],
        )
        assert verified(sessions).ok
        # … but not against the anchor kept outside the database.
        code, out = cli(
            ["audit", "verify", "--anchor", line], database_url, monkeypatch, tmp_path, capsys
        )
        assert code == 1
        assert "the chain ends at seq 3, before the anchored seq 5" in out
