"""Writing audit events in the caller's transaction, and the commit hooks that wake the
sealer (or seal at commit, for the benchmark's old way)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Result, Table, bindparam, event, insert
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import Executable

from domain.access import Access
from domain.audit.chain import seal_chain
from domain.audit.keys import _WROTE, SEAL_AT_COMMIT, chain_of
from domain.clock import Clock
from storage.models import AuditAction, AuditEvent

# --- writing --------------------------------------------------------------------------------


def record(
    session: Session,
    clock: Clock,
    *,
    actor: str,
    action: AuditAction,
    object_type: str,
    object_ref: str,
    team_id: str | None = None,
    forum_id: int | None = None,
    actor_agency_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit event in the caller's transaction (sealed after it commits)."""
    audit_event = AuditEvent(
        **_event(
            clock,
            actor=actor,
            action=action,
            object_type=object_type,
            object_ref=object_ref,
            team_id=team_id,
            forum_id=forum_id,
            actor_agency_id=actor_agency_id,
            detail=detail,
        )
    )
    session.add(audit_event)
    session.flush()  # gives the event its id; it commits or rolls back with the change
    _wrote(session, audit_event.chain)
    return audit_event


_EVENT_COLUMNS = (
    "at",
    "team_id",
    "forum_id",
    "actor",
    "actor_agency_id",
    "action",
    "object_type",
    "object_ref",
    "detail",
    "chain",
)
# Built once: a statement object reused keeps its cache key (see :func:`append_with`). On the
# table, not the mapped class: an ORM insert runs SQLAlchemy's bulk-persistence machinery
# (a third of the statement's CPU) for nothing here; through the session the storage-edge
# wall still sees it (do_orm_execute).
_EVENTS = cast(Table, AuditEvent.__table__)
_INSERT = insert(_EVENTS)
# The same INSERT as a CTE of another statement, its values in parameters named "audit_…"
# (never a column name of the statement it rides on).
_EVENT_CTE = (
    insert(_EVENTS)
    .values({name: bindparam(f"audit_{name}") for name in _EVENT_COLUMNS})
    .cte("audit_event")
)
_WITH_EVENT: dict[Executable, Executable] = {}


def _event(
    clock: Clock,
    *,
    actor: str,
    action: AuditAction,
    object_type: str,
    object_ref: str,
    team_id: str | None,
    forum_id: int | None,
    actor_agency_id: int | None,
    detail: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "at": clock.now(),
        "team_id": team_id,
        "forum_id": forum_id,
        "actor": actor,
        "actor_agency_id": actor_agency_id,
        "action": action,
        "object_type": object_type,
        "object_ref": object_ref,
        "detail": detail,
        "chain": chain_of(team_id),
    }


def _wrote(session: Session, chain: str) -> None:
    wrote: set[str] = session.info.setdefault(_WROTE, set())
    wrote.add(chain)


def append_with(
    session: Session,
    clock: Clock,
    statement: Executable,
    parameters: dict[str, Any],
    *,
    actor: str,
    action: AuditAction,
    object_type: str,
    object_ref: str,
    team_id: str | None = None,
    forum_id: int | None = None,
    actor_agency_id: int | None = None,
) -> Result[Any]:
    """:func:`record` for a hot path that does not need the event back (no object in the
    unit of work), and run ``statement`` (the change it records, an INSERT or UPDATE built
    once by the caller) with ``parameters``: on PostgreSQL in one round trip, the
    event's INSERT a CTE of the statement (both or neither, as in two statements of one
    transaction); elsewhere the event first, then the statement. The storage-edge wall sees
    both (it checks a statement's DML CTEs too). Returns the statement's result."""
    values = _event(
        clock,
        actor=actor,
        action=action,
        object_type=object_type,
        object_ref=object_ref,
        team_id=team_id,
        forum_id=forum_id,
        actor_agency_id=actor_agency_id,
        detail=None,
    )
    if session.get_bind().dialect.name != "postgresql":
        session.execute(_INSERT, values)
        result = session.execute(statement, parameters)
    else:
        combined = _WITH_EVENT.get(statement)
        if combined is None:
            # Built once per caller's statement, so it keeps its cache key.
            combined = _WITH_EVENT.setdefault(statement, statement.add_cte(_EVENT_CTE))  # type: ignore[attr-defined]
        result = session.execute(
            combined, {**parameters, **{f"audit_{k}": v for k, v in values.items()}}
        )
    _wrote(session, values["chain"])
    return result


def record_by(
    session: Session,
    clock: Clock,
    access: Access,
    *,
    action: AuditAction,
    object_type: str,
    object_ref: str,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """:func:`record` for something a member did in their forum (actor, agency, forum)."""
    return record(
        session,
        clock,
        actor=access.member.slack_user_id,
        action=action,
        object_type=object_type,
        object_ref=object_ref,
        team_id=access.forum.team_id,
        forum_id=access.forum.id,
        actor_agency_id=access.member.agency_id,
        detail=detail,
    )


_wakers: list[Callable[[frozenset[str]], None]] = []


def on_commit(callback: Callable[[frozenset[str]], None]) -> Callable[[], None]:
    """Call ``callback(chains)`` after each commit that wrote audit events to ``chains``
    (the sealer's wake-up). Returns a function that removes it again."""
    _wakers.append(callback)

    def remove() -> None:
        if callback in _wakers:
            _wakers.remove(callback)

    return remove


def _before_commit(session: Session) -> None:
    chains: set[str] | None = session.info.get(_WROTE)
    if chains and session.info.get(SEAL_AT_COMMIT):
        session.flush()
        for chain in sorted(chains):  # one order, so two committers cannot deadlock
            seal_chain(session, chain, wait=True, limit=None)


def _after_commit(session: Session) -> None:
    chains = session.info.pop(_WROTE, None)
    if chains:
        for wake in list(_wakers):
            wake(frozenset(chains))


def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_WROTE, None)


event.listen(Session, "before_commit", _before_commit)
event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_soft_rollback", _after_soft_rollback)
