"""The SQL statements the bot sends, for tests that count them (on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker


@contextmanager
def statements(sessions: sessionmaker[Session]) -> Iterator[list[str]]:
    """Every statement sent through the sessions' engine inside the block (the bot's lazy
    listeners too, until the block ends), white space folded."""
    sent: list[str] = []

    def on_execute(*args: Any) -> None:
        sent.append(" ".join(str(args[2]).split()))

    engine = sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
