"""Order racing threads by what the database says, not by sleeping.

``lock_waits(engine)`` tells when a thread has reached the point where it waits for a lock
another transaction holds: on PostgreSQL a backend of this database waits on a lock
(``pg_stat_activity``); on SQLite, whose writers wait inside ``BEGIN IMMEDIATE``'s busy
handler (not observable from outside), when the thread has issued that BEGIN.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, text

from tests.support.wait import eventually


class LockWaits:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._begun: set[int] = set()
        self._lock = threading.Lock()

    def _before_execute(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("BEGIN IMMEDIATE"):
            with self._lock:
                self._begun.add(threading.get_ident())

    def waiting(self) -> bool:
        """PostgreSQL: whether a backend of this database waits for a lock now."""
        return self._waiting_on_postgres()

    def _waiting_on_postgres(self) -> bool:
        with self.engine.connect() as conn:
            waiting = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        return bool(waiting)

    def wait_for(self, thread: threading.Thread, *, timeout: float = 10.0) -> None:
        """Return once ``thread`` waits for (or is about to wait for) another's lock."""
        if self.engine.dialect.name == "postgresql":
            eventually(self._waiting_on_postgres, timeout=timeout)
        else:

            def begun() -> bool:
                with self._lock:
                    return thread.ident in self._begun

            eventually(begun, timeout=timeout)


@contextmanager
def lock_waits(engine: Engine) -> Iterator[LockWaits]:
    waits = LockWaits(engine)
    event.listen(engine, "before_cursor_execute", waits._before_execute)
    try:
        yield waits
    finally:
        event.remove(engine, "before_cursor_execute", waits._before_execute)
