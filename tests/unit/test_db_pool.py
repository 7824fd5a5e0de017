"""The PostgreSQL pool pings a connection only when it may be dead (storage.db.ping_when_idle):
not before every transaction (a round trip each), yet a connection the server ended while it
sat in the pool is replaced before a request uses it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from storage import db
from tests.conftest import postgresql_only


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.create_db_engine(database_url, pool_size=2)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each ping the pool makes (the dialect's own ``do_ping``, kept working)."""
    seen: list[int] = []
    real = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        seen.append(1)
        return bool(real(dbapi_connection))

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return seen


def backend_pid(engine: Engine) -> int:
    with engine.begin() as conn:
        return int(conn.scalar(text("SELECT pg_backend_pid()")) or 0)


@postgresql_only
def test_a_connection_in_use_again_soon_is_not_pinged(engine: Engine, pings: list[int]) -> None:
    first = backend_pid(engine)
    assert backend_pid(engine) == first  # the same pooled connection
    assert backend_pid(engine) == first
    assert pings == []


@postgresql_only
def test_a_connection_idle_for_a_while_is_pinged(
    engine: Engine, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = backend_pid(engine)
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
    assert backend_pid(engine) == first  # pinged, alive, kept
    assert pings == [1]


@postgresql_only
def test_a_connection_the_server_ended_is_replaced_before_use(
    engine: Engine, pings: list[int], database_url: str
) -> None:
    """``pg_terminate_backend`` (as a restart or an idle timeout would) ends the pooled
    connection right after it was used: the next transaction still succeeds, on a new
    connection, without waiting for the idle time."""
    first = backend_pid(engine)
    other = db.create_db_engine(database_url, pool_size=1)
    try:
        with other.begin() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            # The server has closed it once it is gone from pg_stat_activity (a busy
            # machine: seconds). The view is a snapshot taken once per transaction, so it
            # is cleared before each look; without that a backend still there at the first
            # look stays there for the whole loop.
            for _ in range(1000):
                conn.execute(text("SELECT pg_stat_clear_snapshot()"))
                gone = not conn.scalar(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": first}
                )
                if gone:
                    break
                conn.execute(text("SELECT pg_sleep(0.01)"))
            assert gone
    finally:
        other.dispose()
    second = backend_pid(engine)
    assert second != first
    assert pings == [1]  # the ended connection was pinged (and failed), the new one was not
    assert backend_pid(engine) == second
    assert pings == [1]
