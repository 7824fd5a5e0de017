"""The SQL statements the bot sends, for tests that count them (on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from sandbox.webapi import SlackWebApiStub
from sandbox.webapi.calls import Call


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


@contextmanager
def slack_calls_in_open_writes(
    sessions: sessionmaker[Session], slack: SlackWebApiStub, method: str, marker: str
) -> Iterator[list[bool]]:
    """For every ``method`` call Slack serves inside the block: whether a database
    transaction that has sent a statement starting with ``marker`` (say ``UPDATE actions``)
    was still open at that moment (a Slack wait inside it holds its rows, on SQLite the
    whole database)."""
    open_writes: dict[Any, bool] = {}
    lock = threading.Lock()
    seen: list[bool] = []

    def on_begin(conn: Any) -> None:
        with lock:
            open_writes[conn] = False

    def on_execute(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith(marker):
            with lock:
                open_writes[conn] = True

    def on_end(conn: Any) -> None:
        with lock:
            open_writes.pop(conn, None)

    def on_call(call: Call) -> None:
        if call.method == method:
            with lock:
                seen.append(any(open_writes.values()))

    engine = sessions.kw["bind"]
    hooks = (
        ("begin", on_begin),
        ("before_cursor_execute", on_execute),
        ("commit", on_end),
        ("rollback", on_end),
    )
    for name, fn in hooks:
        event.listen(engine, name, fn)
    slack.add_listener(on_call)
    try:
        yield seen
    finally:
        for name, fn in hooks:
            event.remove(engine, name, fn)
