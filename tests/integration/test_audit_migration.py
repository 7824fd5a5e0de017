"""Migration 0008_audit on a database with a version-1 (unkeyed) audit chain: the old
events keep their hashes and places in the global chain, the first keyed event after them
pins them, a rewrite of the old part is found; the downgrade re-chains everything."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from domain import audit
from storage.db import alembic_config, create_db_engine, session_factory, temporary_database
from tests.conftest import PG_URL, REQUIRE_PG

BEFORE = "0006"
HEAD = "0008_audit"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    database = temporary_database(PG_URL, "samverkan_migration")
    try:
        url = database.__enter__()
    except SQLAlchemyError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required but not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    try:
        yield url
    finally:
        database.__exit__(None, None, None)


def _v1_chain(engine: Engine, count: int) -> list[str]:
    """Events as migration 0003's code wrote them: sealed at commit, unkeyed SHA-256."""
    hashes, prev = [], audit.GENESIS
    with engine.begin() as conn:
        for n in range(1, count + 1):
            at = dt.datetime(2026, 10, n, 9, 0, tzinfo=dt.UTC)
            detail = {"n": n, "text": "åäö"}
            conn.execute(
                text(
                    "INSERT INTO audit_events (id, at, team_id, forum_id, actor, action,"
                    " object_type, object_ref, detail) VALUES (:id, :at, 'T0001', 1, 'U1',"
                    " 'read', 'case', :ref, :detail)"
                ),
                {
                    "id": n,
                    # As the models store it: naive UTC on SQLite.
                    "at": at.replace(tzinfo=None) if engine.dialect.name == "sqlite" else at,
                    "ref": f"FOS-2026-{n:03d}",
                    "detail": json.dumps(detail),
                },
            )
            row = {
                "seq": n,
                "prev_hash": prev,
                "at": at,
                "team_id": "T0001",
                "forum_id": 1,
                "actor": "U1",
                "actor_agency_id": None,
                "action": "read",
                "object_type": "case",
                "object_ref": f"FOS-2026-{n:03d}",
                "detail": detail,
            }
            digest = hashlib.sha256(audit.canonical_v1(row)).hexdigest()
            conn.execute(
                text("UPDATE audit_events SET seq = :s, prev_hash = :p, hash = :h WHERE id = :id"),
                {"s": n, "p": prev, "h": digest, "id": n},
            )
            hashes.append(digest)
            prev = digest
        conn.execute(
            text("UPDATE audit_chain SET last_seq = :s, last_hash = :h WHERE id = 1"),
            {"s": count, "h": prev},
        )
    return hashes


def test_old_events_stay_verifiable_and_the_first_keyed_event_pins_them(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    command.upgrade(config, BEFORE)
    engine = create_db_engine(fresh_url)
    sessions = session_factory(engine)
    keys = audit.AuditKeys.parse("migration-test-key-that-is-long-enough")
    try:
        old = _v1_chain(engine, 3)
        command.upgrade(config, HEAD)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT chain, seq, hash, key_id FROM audit_events ORDER BY id")
            ).all()
        assert [tuple(r) for r in rows[:3]] == [("global", n, old[n - 1], None) for n in (1, 2, 3)]
        assert rows[3][1:] == (None, None, None)  # the marker, waiting for its signature
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                assert (
                    conn.scalar(text("SELECT count(*) FROM audit_partitions.audit_events_y2026m10"))
                    == 3
                )

        audit.seal_pending(sessions, keys=keys)
        with sessions() as s:
            result = audit.verify(s, keys=keys)
            marker = s.execute(
                text("SELECT seq, prev_hash, detail FROM audit_events WHERE id = 4")
            ).one()
        assert result.ok, result.problems
        assert (result.checked, result.unkeyed) == (4, 3)
        assert (marker[0], marker[1]) == (4, old[2])

        # Someone rewrites the unkeyed part consistently with the public v1 function …
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            else:
                for (name,) in conn.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                ).all():
                    conn.execute(text(f'DROP TRIGGER "{name}"'))
            prev = old[0]
            for n in (2, 3):
                row = dict(
                    conn.execute(text("SELECT * FROM audit_events WHERE seq = :s"), {"s": n})
                    .mappings()
                    .one()
                )
                row["detail"] = {"n": n, "rewritten": True}
                row["prev_hash"] = prev
                digest = hashlib.sha256(audit.canonical_v1(row)).hexdigest()
                conn.execute(
                    text(
                        "UPDATE audit_events SET detail = :d, prev_hash = :p, hash = :h"
                        " WHERE seq = :s"
                    ),
                    {"d": json.dumps(row["detail"]), "p": prev, "h": digest, "s": n},
                )
                prev = digest
        # … and the signed event after it no longer links.
        with sessions() as s:
            result = audit.verify(s, keys=keys)
        assert any("seq 4: link to the previous event broken" in p for p in result.problems)
    finally:
        engine.dispose()


def test_the_downgrade_rechains_everything_unkeyed_and_upgrades_again(fresh_url: str) -> None:
    config = alembic_config(fresh_url)
    command.upgrade(config, BEFORE)
    engine = create_db_engine(fresh_url)
    sessions = session_factory(engine)
    try:
        _v1_chain(engine, 2)
        command.upgrade(config, HEAD)
        audit.seal_pending(sessions)
        command.downgrade(config, BEFORE)
        with engine.connect() as conn:
            rows = (
                conn.execute(
                    text(
                        "SELECT id, at, team_id, forum_id, actor, actor_agency_id, action,"
                        " object_type, object_ref, detail, seq, prev_hash, hash"
                        " FROM audit_events ORDER BY seq"
                    )
                )
                .mappings()
                .all()
            )
            head = conn.execute(text("SELECT last_seq, last_hash FROM audit_chain")).one()
        prev = audit.GENESIS
        for n, row in enumerate(rows, start=1):
            values = dict(row)
            if isinstance(values["detail"], str):
                values["detail"] = json.loads(values["detail"])
            assert values["seq"] == n and values["prev_hash"] == prev
            assert hashlib.sha256(audit.canonical_v1(values)).hexdigest() == values["hash"]
            prev = str(values["hash"])
        assert len(rows) == 3 and tuple(head) == (3, prev)
        command.upgrade(config, HEAD)
        with sessions() as s:
            assert audit.verify(s).ok
    finally:
        engine.dispose()
