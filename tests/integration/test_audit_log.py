"""The audit log: events are written in the request's transaction, sealed after commit into
one keyed chain per workspace, protected by triggers, verified by ``samverkan audit
verify`` (with anchors against truncation), and cut by retention without breaking the rest
— except what a legal hold keeps. Every rewrite of the problem report (issue 14, point 3)
is tried here with the app's own database connection."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from bot.cli import main
from domain import audit
from domain.clock import AdjustableClock
from storage.db import MIGRATIONS_DIR, transaction
from storage.models import AuditAction, AuditChain, AuditEvent
from tests.conftest import Bot, postgresql_only

Sessions = sessionmaker[Session]
SECRET = "test-audit-key-that-is-long-enough-0001"
OTHER_SECRET = "test-audit-key-that-is-long-enough-0002"
TEAM = "T0001"


@pytest.fixture(autouse=True)
def keys() -> Iterator[audit.AuditKeys]:
    """A real (non-development) key, as production has: outside the database."""
    before = audit.current_keys()
    ring = audit.AuditKeys.parse(SECRET)
    audit.use_keys(ring)
    yield ring
    audit.use_keys(before)


def write(
    sessions: Sessions,
    clock: AdjustableClock,
    n: int,
    *,
    actor: str = "U1",
    team: str | None = TEAM,
    ref: str = "FOS-2026-{i:03d}",
    forum_id: int = 1,
) -> None:
    with transaction(sessions) as s:
        for i in range(n):
            audit.record(
                s,
                clock,
                actor=actor,
                action=AuditAction.READ,
                object_type="case",
                object_ref=ref.format(i=i),
                team_id=team,
                forum_id=forum_id,
                detail={"details": True, "n": i, "text": "åäö"},
            )


def seal(sessions: Sessions) -> int:
    return audit.seal_pending(sessions)


def cli(
    args: list[str],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    *,
    audit_keys: str = SECRET,
) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("SAMVERKAN_AUDIT_KEYS", audit_keys)
    code = main(args)
    out = capsys.readouterr()
    return code, out.out + out.err


def raw(sessions: Sessions, *sql: str, **params: object) -> None:
    """SQL as the app's own database connection runs it (triggers apply)."""
    with sessions() as s, s.begin():
        for statement in sql:
            s.execute(text(statement), params)


def without_triggers(sessions: Sessions, *sql: str, **params: object) -> None:
    """Tamper as someone with full database access would: around the triggers."""
    with sessions() as s, s.begin():
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for (name,) in s.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).all():
                s.execute(text(f'DROP TRIGGER "{name}"'))
        for statement in sql:
            s.execute(text(statement), params)


def verified(sessions: Sessions, **kw: object) -> audit.Verification:
    with sessions() as s:
        return audit.verify(s, **kw)  # type: ignore[arg-type]


def event_rows(sessions: Sessions, chain: str = TEAM) -> list[dict[str, object]]:
    table = AuditEvent.__table__
    with sessions() as s:
        return [
            dict(r._mapping)
            for r in s.execute(
                select(table).where(table.c.chain == chain).order_by(table.c.seq)
            ).all()
        ]


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


# --- anchors --------------------------------------------------------------------------------


def test_an_anchor_is_signed_and_verify_checks_it(
    sessions: Sessions,
    clock: AdjustableClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write(sessions, clock, 3)
    write(sessions, clock, 2, team="T0002")
    code, out = cli(["audit", "anchor"], database_url, monkeypatch, tmp_path, capsys)
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("sva1:")]
    assert [line.split(":")[1:3] for line in lines] == [[TEAM, "3"], ["T0002", "2"]]
    mine = lines[0]
    write(sessions, clock, 2)  # the chain goes on after the anchor
    code, out = cli(
        ["audit", "verify", "--anchor", mine], database_url, monkeypatch, tmp_path, capsys
    )
    assert code == 0, out
    # An edited line, a line from another key, and a rewritten event are all refused.
    parts = mine.split(":")
    edited = ":".join([*parts[:2], "2", *parts[3:]])
    code, out = cli(
        ["audit", "verify", "--anchor", edited], database_url, monkeypatch, tmp_path, capsys
    )
    assert code == 1 and "signature does not match" in out
    code, out = cli(
        ["audit", "verify", "--anchor", mine],
        database_url,
        monkeypatch,
        tmp_path,
        capsys,
        audit_keys=OTHER_SECRET,
    )
    assert code == 1 and "SAMVERKAN_AUDIT_KEYS lacks" in out
    without_triggers(
        sessions, "UPDATE audit_events SET hash = :h WHERE chain = 'T0001' AND seq = 3", h="f" * 64
    )
    code, out = cli(
        ["audit", "verify", "--anchor", mine], database_url, monkeypatch, tmp_path, capsys
    )
    assert code == 1 and "seq 3 is not the anchored event" in out
    code, out = cli(
        ["audit", "verify", "--anchor", "sva1:nonsense"],
        database_url,
        monkeypatch,
        tmp_path,
        capsys,
    )
    assert code == 2 and out.strip().startswith("samverkan: --anchor: not an anchor line")


# --- keys -----------------------------------------------------------------------------------


def test_audit_keys_rotate_old_events_verify_until_their_key_is_removed(
    sessions: Sessions,
    clock: AdjustableClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = audit.AuditKeys.parse(SECRET)
    write(sessions, clock, 2)
    seal(sessions)
    rotated = audit.AuditKeys.parse(f"{OTHER_SECRET},{SECRET}")
    write(sessions, clock, 1)
    audit.seal_pending(sessions, keys=rotated)
    kids = [r["key_id"] for r in event_rows(sessions)]
    assert kids == [old.signing_id, old.signing_id, rotated.signing_id]
    both = f"{OTHER_SECRET},{SECRET}"
    code, out = cli(
        ["audit", "verify"], database_url, monkeypatch, tmp_path, capsys, audit_keys=both
    )
    assert code == 0, out
    code, out = cli(
        ["audit", "verify"], database_url, monkeypatch, tmp_path, capsys, audit_keys=OTHER_SECRET
    )
    assert code == 1 and f"2 event(s) signed with key id {old.signing_id}" in out


def test_the_development_key_is_named_in_verify(
    sessions: Sessions,
    clock: AdjustableClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write(sessions, clock, 1)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", database_url)
    monkeypatch.delenv("SAMVERKAN_AUDIT_KEYS", raising=False)
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr()
    assert "using the public development key" in out.err
    assert "1 event(s) are signed with the public development key" in out.err


@pytest.mark.parametrize("value", ["short", "x" * 40 + ",tiny"])
def test_a_bad_audit_key_setting_is_one_line_naming_the_key_not_its_value(
    value: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = cli(
        ["audit", "verify"], database_url, monkeypatch, tmp_path, capsys, audit_keys=value
    )
    assert code == 2
    assert out.strip().startswith("samverkan: SAMVERKAN_AUDIT_KEYS: key #")
    assert "tiny" not in out and "short" not in out.replace("shorter", "")


def test_new_key_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "new-key"]) == 0
    key = capsys.readouterr().out.strip()
    assert audit.AuditKeys.parse(key).signing_id != audit.DEV_KEY_ID


# --- export ---------------------------------------------------------------------------------


def test_a_workspace_exports_its_own_chain_and_the_file_verifies_alone(
    sessions: Sessions,
    clock: AdjustableClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write(sessions, clock, 3)
    write(sessions, clock, 2, team="T0002", actor="U9")
    code, out = cli(
        ["audit", "export", "--team", TEAM, "--out", str(tmp_path)],
        database_url,
        monkeypatch,
        tmp_path,
        capsys,
    )
    assert code == 0 and f"3 events of chain {TEAM}" in out
    (path,) = tmp_path.glob("samverkan-audit-T0001-*.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4 and "U9" not in path.read_text(encoding="utf-8")
    code, out = cli(
        ["audit", "verify", "--file", str(path)], database_url, monkeypatch, tmp_path, capsys
    )
    assert code == 0 and "OK: 3 events" in out
    tampered = json.loads(lines[2])
    tampered["actor"] = "U666"
    path.write_text("\n".join([*lines[:2], json.dumps(tampered), lines[3]]), encoding="utf-8")
    code, out = cli(
        ["audit", "verify", "--file", str(path)], database_url, monkeypatch, tmp_path, capsys
    )
    assert code == 1 and "seq 2: content" in out


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


# --- the migration --------------------------------------------------------------------------


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
    assert module._canonical_v1({**row, "action": "update"}) == audit.canonical_v1(row)
    naive = {
        **row,
        "at": "2026-11-23 09:00:00.123456",
        "detail": '{"å": [1, 2], "status": "closed"}',
    }
    assert module._canonical_v1({**naive, "action": "update"}) == audit.canonical_v1(row)


# --- a bot role that does not own the tables (PostgreSQL) -----------------------------------


@pytest.fixture
def app_role_url(database_url: str) -> Iterator[str]:
    """A login role with only the grants the bot needs (not the tables' owner); PostgreSQL
    only (SQLite has no roles), so its tests are ``@postgresql_only``."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"samverkan_app_{secrets.token_hex(3)}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {name} LOGIN"))
        conn.execute(
            text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}")
        )
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}"))
    try:
        yield make_url(database_url).set(username=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP OWNED BY {name}"))
            conn.execute(text(f"DROP ROLE {name}"))
        admin.dispose()


@postgresql_only
def test_a_bot_role_without_ownership_seals_and_purges_but_cannot_go_around_the_triggers(
    app_role_url: str, clock: AdjustableClock
) -> None:
    from storage.db import create_db_engine, session_factory

    engine = create_db_engine(app_role_url, pool_size=2)
    sessions = session_factory(engine)
    try:
        clock.set(dt.datetime(2026, 8, 5, 9, 0, tzinfo=dt.UTC))
        with sessions() as s, s.begin():
            audit.ensure_partitions(s, clock.now())  # through the SECURITY DEFINER function
        write(sessions, clock, 3)
        clock.set(dt.datetime(2026, 11, 5, 9, 0, tzinfo=dt.UTC))
        write(sessions, clock, 1)
        seal(sessions)
        with transaction(sessions) as s:
            removed = audit.purge_before(
                s, clock, cutoff=dt.datetime(2026, 10, 1, tzinfo=dt.UTC), actor="samverkan"
            )
        assert removed == 3
        with sessions() as s:
            assert "audit_events_y2026m08" not in {name for name, _ in audit.partitions(s)}
        assert verified(sessions).ok
        for sql in (
            "ALTER TABLE audit_events DISABLE TRIGGER ALL",
            "DROP TRIGGER audit_events_append_only ON audit_events",
            "SET session_replication_role = replica",
            "TRUNCATE audit_events",
            "ALTER TABLE audit_chain DISABLE TRIGGER audit_chain_forward_only",
            "SELECT samverkan_audit_drop_partition('audit_events_y2026m11')",
        ):
            with pytest.raises(DBAPIError, match=r"owner|permission denied|retention does not"):
                raw(sessions, sql)
    finally:
        engine.dispose()


def test_a_forum_save_through_the_app_is_sealed_into_its_chain_and_verifies(
    bot: Bot,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A forum's settings are saved with their audit event written by ``audit.append_with`` (one
    INSERT, no object in the unit of work): it is sealed into the workspace's chain like any
    other event, ``samverkan audit verify`` passes, and an altered save event fails it."""
    from tests.integration.test_forum_flow import blocks_of, create_forum, forum_values, meta

    audit.use_keys(audit.AuditKeys.parse(SECRET))  # the bot's runtime set the development key
    bot.slack.set_channel("C0001", is_member=True)
    forum_id = create_forum(bot)
    values = forum_values(name="Forum Ett", code="ETT", own=None)
    saved = bot.driver.view_submission(
        "forum_edit",
        values,
        user="U1",
        private_metadata=meta(forum_id=forum_id),
        blocks=blocks_of(values),
    )
    assert saved.json() is None  # saved: the modal closes
    bot.wait_idle()
    seal(bot.sessions)
    with bot.sessions() as s:
        event = s.scalars(
            select(AuditEvent).where(
                AuditEvent.object_type == "forum", AuditEvent.action == AuditAction.UPDATE
            )
        ).one()
        assert (event.actor, event.object_ref, event.forum_id) == ("U1", "ETT", forum_id)
        assert event.chain == TEAM and event.seq is not None and event.hash is not None
        unsealed = s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_(None))
        )
        assert unsealed == 0
    code, out = cli(["audit", "verify"], database_url, monkeypatch, tmp_path, capsys)
    assert code == 0, out
    without_triggers(
        bot.sessions,
        "UPDATE audit_events SET object_ref = 'ANNAN' WHERE id = :id",
        id=event.id,
    )
    code, out = cli(["audit", "verify"], database_url, monkeypatch, tmp_path, capsys)
    assert code == 1 and "FAILED" in out
