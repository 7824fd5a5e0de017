"""The audit log's test helpers: a real key, events written and sealed, tampering with and
around the triggers, and ``samverkan audit`` run as the CLI (tests/integration/test_audit_*.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.cli import main
from domain import audit
from domain.clock import AdjustableClock
from storage.db import transaction
from storage.models import AuditAction, AuditEvent

if TYPE_CHECKING:
    from tests.conftest import Bot

Sessions = sessionmaker[Session]
SECRET = "test-audit-key-that-is-long-enough-0001"
OTHER_SECRET = "test-audit-key-that-is-long-enough-0002"
TEAM = "T0001"


def real_keys() -> Iterator[audit.AuditKeys]:
    """A real (non-development) key, as production has: outside the database."""
    before = audit.current_keys()
    ring = audit.AuditKeys.parse(SECRET)
    audit.use_keys(ring)
    yield ring
    audit.use_keys(before)


def write(
    sessions: Sessions,
    clock: AdjustableClock,
    n: int,
    *,
    actor: str = "U1",
    team: str | None = TEAM,
    ref: str = "FOS-2026-{i:03d}",
    forum_id: int = 1,
) -> None:
    with transaction(sessions) as s:
        for i in range(n):
            audit.record(
                s,
                clock,
                actor=actor,
                action=AuditAction.READ,
                object_type="case",
                object_ref=ref.format(i=i),
                team_id=team,
                forum_id=forum_id,
                detail={"details": True, "n": i, "text": "åäö"},
            )


def seal(sessions: Sessions) -> int:
    return audit.seal_pending(sessions)


def cli(
    args: list[str],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    *,
    audit_keys: str = SECRET,
) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("SAMVERKAN_AUDIT_KEYS", audit_keys)
    code = main(args)
    out = capsys.readouterr()
    return code, out.out + out.err


def raw(sessions: Sessions, *sql: str, **params: object) -> None:
    """SQL as the app's own database connection runs it (triggers apply)."""
    with sessions() as s, s.begin():
        for statement in sql:
            s.execute(text(statement), params)


def without_triggers(sessions: Sessions, *sql: str, **params: object) -> None:
    """Tamper as someone with full database access would: around the triggers."""
    with sessions() as s, s.begin():
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for (name,) in s.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).all():
                s.execute(text(f'DROP TRIGGER "{name}"'))
        for statement in sql:
            s.execute(text(statement), params)


def verified(sessions: Sessions, **kw: object) -> audit.Verification:
    with sessions() as s:
        return audit.verify(s, **kw)  # type: ignore[arg-type]


def event_rows(sessions: Sessions, chain: str = TEAM) -> list[dict[str, object]]:
    table = AuditEvent.__table__
    with sessions() as s:
        return [
            dict(r._mapping)
            for r in s.execute(
                select(table).where(table.c.chain == chain).order_by(table.c.seq)
            ).all()
        ]


# --- what a request wrote into the log (the refused-attempt tests) ----------------------------


def last_id(bot: Bot) -> int:
    """The newest audit event's id (0 for none): a mark to read the events after."""
    with bot.sessions() as s:
        return s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


def events_since(bot: Bot, mark: int) -> list[AuditEvent]:
    with bot.sessions() as s:
        return list(
            s.scalars(select(AuditEvent).where(AuditEvent.id > mark).order_by(AuditEvent.id))
        )


def refusals(events: list[AuditEvent]) -> list[AuditEvent]:
    return [e for e in events if (e.detail or {}).get("refused")]


def refusals_since(bot: Bot, mark: int) -> list[AuditEvent]:
    return refusals(events_since(bot, mark))


Refusal = tuple[str, str, str, str | None, int | None, dict[str, object] | None]
"""A refusal as the door tests compare it: actor, object type, object ref, workspace,
actor's agency, detail."""


def refusals_in(bot: Bot, mark: int, forum_id: int) -> list[Refusal]:
    """The refusals written since ``mark`` in one forum's log, oldest first."""
    return [
        (e.actor, e.object_type, e.object_ref, e.team_id, e.actor_agency_id, e.detail)
        for e in refusals_since(bot, mark)
        if e.forum_id == forum_id
    ]


def refused_once_each(
    whys: Iterable[tuple[str, str]],
    *,
    object_type: str,
    object_ref: str,
    surface: str,
    team_id: str = "T0001",
) -> list[Refusal]:
    """What :func:`refusals_in` shows when each ``(actor, reason)`` of ``whys`` was refused
    once, in that order, at one object of a forum in ``team_id``: outsiders (no agency of
    the forum), shown no details."""
    return [
        (
            who,
            object_type,
            object_ref,
            team_id,
            None,
            {"surface": surface, "details": False, "refused": why},
        )
        for who, why in whys
    ]
