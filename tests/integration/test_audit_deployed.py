"""The audit log as deployed: the migration hashes like the domain, a bot role that does not
own the tables seals and purges but cannot go around the triggers, and a save through the
app is sealed into its chain.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from domain import audit
from domain.clock import AdjustableClock
from storage.db import MIGRATIONS_DIR, transaction
from storage.models import AuditAction, AuditEvent
from tests.conftest import Bot, postgresql_only
from tests.support.audit_log import (
    SECRET,
    TEAM,
    cli,
    raw,
    real_keys,
    seal,
    verified,
    without_triggers,
    write,
)
from tests.support.forums import settings_saved


@pytest.fixture(autouse=True)
def keys() -> Iterator[audit.AuditKeys]:
    yield from real_keys()


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
    assert settings_saved(saved)  # saved: the modal says so
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
