"""Which pooled connections each thread holds, for tests about a second connection."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker


@contextmanager
def second_connection_reads(sessions: sessionmaker[Session], marker: str) -> Iterator[list[bool]]:
    """For every statement inside the block that contains ``marker`` (say ``FROM
    member_languages``): whether the thread that sent it held another pooled connection at
    that moment (a read that waits for a second connection while the caller holds one: with
    every pooled connection held so, none comes back)."""
    held: dict[int, set[Any]] = {}  # thread id -> the DB-API connections it checked out
    lock = threading.Lock()
    seen: list[bool] = []

    def checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        with lock:
            held.setdefault(threading.get_ident(), set()).add(dbapi_connection)

    def checkin(dbapi_connection: Any, _record: Any) -> None:
        with lock:
            for connections in held.values():
                connections.discard(dbapi_connection)

    def on_execute(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if marker not in " ".join(statement.split()):
            return
        this = conn.connection.dbapi_connection
        with lock:
            others = held.get(threading.get_ident(), set()) - {this}
            seen.append(bool(others))

    engine = sessions.kw["bind"]
    hooks = (("checkout", checkout), ("checkin", checkin), ("before_cursor_execute", on_execute))
    for name, fn in hooks:
        event.listen(engine, name, fn)
    try:
        yield seen
    finally:
        for name, fn in hooks:
            event.remove(engine, name, fn)
