"""Units of work on both databases: a read never waits for a writer, and a reader that
tries to write is refused (on SQLite a read is a deferred transaction, not BEGIN IMMEDIATE,
so it does not take the write lock every writer needs)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from domain import forums as fs
from domain.clock import AdjustableClock
from storage.db import ping, reading, transaction
from storage.models import Forum
from tests.support.forums import forum_draft


def forums(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Forum)) or 0)


def test_a_read_does_not_wait_for_a_writer_and_sees_what_was_committed(
    sessions: sessionmaker[Session], clock: AdjustableClock
) -> None:
    with transaction(sessions) as s:
        fs.create_forum(s, clock, team_id="T1", channel_id="C1", actor="U1", draft=forum_draft())
    writer = sessions()
    writer.begin()
    try:
        # The writer holds the write lock (SQLite: BEGIN IMMEDIATE) with a change not
        # committed yet; readers go on, with the committed state.
        fs.create_forum(
            writer, clock, team_id="T2", channel_id="C2", actor="U1", draft=forum_draft()
        )
        writer.flush()
        with reading(sessions) as s:
            assert forums(s) == 1
        assert ping(sessions.kw["bind"])
        writer.commit()
    finally:
        writer.close()
    with reading(sessions) as s:
        assert forums(s) == 2
    with transaction(sessions) as s:  # a writer after the readers: their state is gone
        assert forums(s) == 2


def test_a_read_that_tries_to_write_is_refused_and_leaves_no_trace(
    sessions: sessionmaker[Session], clock: AdjustableClock
) -> None:
    with pytest.raises(DBAPIError), reading(sessions) as s:
        fs.create_forum(s, clock, team_id="T1", channel_id="C1", actor="U1", draft=forum_draft())
        s.flush()
    with transaction(sessions) as s:  # the same pooled connection writes again
        fs.create_forum(s, clock, team_id="T1", channel_id="C1", actor="U1", draft=forum_draft())
    with reading(sessions) as s:
        assert forums(s) == 1
