"""Engine, session factory and migrations. Works on SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import hashlib
import secrets
import select
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite opens transactions on its own (not for SELECT, and a SAVEPOINT's RELEASE then
    # commits everything): let SQLAlchemy emit BEGIN itself (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers and one writer work at once; busy_timeout waits instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")  # same as the driver timeout below
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY = "samverkan_read_only"
"""Execution option of a connection (or engine) that only reads: see :func:`reading`."""


def _read_only(connection: Any) -> bool:
    return bool(connection.get_execution_options().get(READ_ONLY))


def _sqlite_begin(connection: Any) -> None:
    # SQLAlchemy emits BEGIN itself (see _sqlite_pragmas), before reads and savepoints too,
    # so a unit of work is one transaction.
    if _read_only(connection):
        # A deferred BEGIN takes no lock until the first read, and in WAL mode a reader
        # never waits for the writer: it reads the last committed state. query_only makes a
        # write in it fail at once instead of upgrading (which can fail under a writer).
        _query_only(connection, True)
        connection.exec_driver_sql("BEGIN")
    else:
        # A unit that may write takes the write lock up front: two writers that read and
        # then write wait for each other at BEGIN instead of one failing halfway (a
        # deferred transaction cannot take the lock once another writer committed).
        _query_only(connection, False)  # whatever a reader left
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_end(connection: Any) -> None:
    if _read_only(connection):
        _query_only(connection, False)


def _query_only(connection: Any, on: bool) -> None:
    # On the driver's connection: a connection setting, not a statement of the unit of work
    # (statement counts and logs see only BEGIN and the unit's own SQL).
    connection.connection.driver_connection.execute(f"PRAGMA query_only = {int(on)}")


def lock_until_transaction_end(session: Session, *key: str) -> None:
    """Wait for, then hold until the session's transaction ends, a lock on ``key``: the
    transactions that take the same key run this part one after the other. PostgreSQL: a
    transaction-scoped advisory lock on a 64-bit hash of the key. SQLite: nothing more to
    take, a transaction that may write holds the database's write lock from its BEGIN
    IMMEDIATE."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b("\x1f".join(key).encode(), digest_size=8).digest()
    session.execute(
        text("SELECT pg_advisory_xact_lock(:key)"),
        {"key": int.from_bytes(digest, "big", signed=True)},
    )


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def create_db_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs: dict[str, Any] = {
            "connect_args": {"check_same_thread": False, "timeout": 15},
            "hide_parameters": True,
        }
        if parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "commit", _sqlite_end)
        event.listen(engine, "rollback", _sqlite_end)
        return engine
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=5,
        connect_args={"connect_timeout": 5},
        # Never repeat SQL parameters (a case summary, a comment) in errors or logs.
        hide_parameters=True,
    )
    ping_when_idle(engine)
    return engine


IDLE_PING_SECONDS = 10.0
"""A pooled PostgreSQL connection idle this long is pinged before it is used again."""

_IDLE_SINCE = "samverkan_idle_since"


def _has_news(dbapi_connection: Any) -> bool:
    """Whether the server sent something to a connection nobody is using: a server that
    ends a connection (``pg_terminate_backend``, a restart, ``idle_session_timeout``) sends
    its FATAL error and closes the socket, which makes it readable; a healthy idle
    connection has nothing to read. Unknown (no socket): yes."""
    try:
        fd = dbapi_connection.fileno()
    except Exception:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's ``pool_pre_ping``, for the connections that need it: a connection taken
    from the pool is pinged (``SELECT 1``, a round trip) only when it was idle for
    :data:`IDLE_PING_SECONDS` or the server has sent it something (its end, see
    :func:`_has_news`), not before every transaction. A ping that fails replaces the
    connection and, as ``pool_pre_ping`` does, every pooled connection older than it (a
    restarted database ended them all), so the request still gets a working one."""
    dialect = engine.dialect

    def idle_from_now(_dbapi_connection: Any, record: Any) -> None:
        # A new connection and one given back to the pool are idle from now.
        record.info[_IDLE_SINCE] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if (
            idle_since is not None
            and time.monotonic() - idle_since < IDLE_PING_SECONDS
            and not _has_news(dbapi_connection)
        ):
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            raise InvalidatePoolError(f"ping failed: {exc.__class__.__name__}") from None

    event.listen(engine, "connect", idle_from_now)
    event.listen(engine, "checkin", idle_from_now)
    event.listen(engine, "checkout", checked_out)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    event.listen(factory, "after_begin", _held_from)
    event.listen(factory, "after_transaction_end", _held_until)
    return factory


# --- the transaction a thread holds a connection for ------------------------------------------

_HOLDING = threading.local()


def _held() -> list[Session]:
    """The sessions (of :func:`session_factory`'s factories) whose transaction holds a pooled
    connection in this thread, innermost last."""
    held: list[Session] | None = getattr(_HOLDING, "sessions", None)
    if held is None:
        held = _HOLDING.sessions = []
    return held


def _held_from(session: Session, transaction: SessionTransaction, _connection: Any) -> None:
    # The session's transaction has just taken its connection (its first statement).
    held = _held()
    if transaction.parent is None and not any(s is session for s in held):
        held[:] = [s for s in held if s.in_transaction()]  # one ended in another thread
        held.append(session)


def _held_until(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        held = _held()
        held[:] = [s for s in held if s is not session]


def held_session(factory: sessionmaker[Session]) -> Session | None:
    """The session whose transaction this thread holds a connection of ``factory``'s
    database for (the innermost), if any: a read the caller's work needs on the way (a
    recipient's stored language) goes on it instead of taking a second pooled connection,
    which every caller holding one could wait for at once (the pool's 5 s, then an error).
    Only sessions of :func:`session_factory`'s factories are known."""
    pool = factory.kw["bind"].pool
    for session in reversed(_held()):
        if session.in_transaction() and getattr(session.get_bind(), "pool", None) is pool:
            return session
    return None


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work that only reads: on SQLite a deferred transaction, which never takes
    (or waits for) the write lock; on PostgreSQL a READ ONLY transaction. A write in it
    fails on both."""
    bind = factory.kw["bind"]
    with (
        factory(
            bind=bind.execution_options(**{READ_ONLY: True}, postgresql_readonly=True)
        ) as session,
        session.begin(),
    ):
        yield session


def ping(engine: Engine) -> bool:
    try:
        with engine.execution_options(**{READ_ONLY: True}).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


@contextmanager
def temporary_database(admin_url: str, prefix: str) -> Iterator[str]:
    """Create a fresh PostgreSQL database next to ``admin_url``; drop it afterwards.

    For tests and benchmarks, which need a database of their own on a shared server.
    """
    admin = create_engine(
        normalize_url(admin_url), isolation_level="AUTOCOMMIT", hide_parameters=True
    )
    name = f"{prefix}_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(normalize_url(admin_url)).set(database=name)
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def alembic_config(url: str) -> Config:
    # Alembic (and Mako) load only to migrate: a serving replica never needs them.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)
