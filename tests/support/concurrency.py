"""Order racing threads by what the database says, not by sleeping.

``race(bot, monkeypatch, first=..., second=...)`` sends two requests through the real app
with the first's transaction held open after its domain call, and tells whether the second
waited for its locks.

``lock_waits(engine)`` tells when a thread has reached the point where it waits for a lock
another transaction holds: on PostgreSQL a backend of this database waits on a lock
(``pg_stat_activity``); on SQLite, whose writers wait inside ``BEGIN IMMEDIATE``'s busy
handler (not observable from outside), when the thread has issued that BEGIN.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from tests.conftest import Bot
from tests.support.slack_driver import Response
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


@contextmanager
def held(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str
) -> Iterator[tuple[threading.Event, threading.Event]]:
    """``module.name`` (the domain function a listener calls) holds its caller's
    transaction open once it has returned, the first time: ``(done, release)``."""
    done, release = threading.Event(), threading.Event()
    original: Callable[..., Any] = getattr(module, name)

    def holding(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if not done.is_set():
            done.set()
            release.wait(20)
        return result

    monkeypatch.setattr(module, name, holding)
    try:
        yield done, release
    finally:
        release.set()


def race(
    bot: Bot,
    monkeypatch: pytest.MonkeyPatch,
    *,
    first: tuple[Any, str, dict[str, Any]],
    second: dict[str, Any],
) -> tuple[Response, Response, bool]:
    """Send ``first`` (its domain function held after it ran), then ``second`` while it is
    held; release it once ``second`` waits for a lock (or is done). The answers, and whether
    ``second`` was still waiting when ``first`` was let go."""
    module, name, payload = first
    answers: dict[str, Response] = {}

    def send(key: str, body: dict[str, Any]) -> None:
        answers[key] = bot.driver.send_payload(body)

    with held(monkeypatch, module, name) as (done, release):
        one = threading.Thread(target=send, args=("first", payload))
        one.start()
        assert done.wait(20)
        with lock_waits(bot.runtime.engine) as waits:
            two = threading.Thread(target=send, args=("second", second))
            two.start()
            # Waiting for the first's locks, or (the bug) not held up at all.
            eventually(lambda: waits.waiting() or not two.is_alive(), timeout=20)
            waited = two.is_alive()
        release.set()
        one.join(30)
        two.join(30)
    return answers["first"], answers["second"], waited
