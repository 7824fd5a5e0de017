"""Hashing an event (canonical forms v1 and v2, keyed HMAC) and sealing a chain's committed
unsealed events in batches."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Row,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from domain.audit.keys import _EVENTS, _HEADS, GENESIS, AuditKeys, current_keys
from storage.db import reading
from storage.models import AuditAction, AuditEvent

# --- hashing --------------------------------------------------------------------------------


def _at(value: Any) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return str(value.astimezone(dt.UTC).isoformat(timespec="microseconds"))


def _action(value: Any) -> str:
    return value.value if isinstance(value, AuditAction) else str(value)


def _dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def _content(row: Mapping[str, Any]) -> dict[str, Any]:
    """What an event says (both versions hash it)."""
    return {
        "at": _at(row["at"]),
        "team": row["team_id"],
        "forum": row["forum_id"],
        "actor": row["actor"],
        "agency": row["actor_agency_id"],
        "action": _action(row["action"]),
        "type": row["object_type"],
        "ref": row["object_ref"],
        "detail": row["detail"],
    }


def canonical_v1(row: Mapping[str, Any]) -> bytes:
    """The bytes a version-1 (unkeyed, before migration 0008) hash covers. Frozen: migration
    0003 holds a copy (a unit test keeps them equal)."""
    return _dumps({"v": 1, "seq": row["seq"], "prev": row["prev_hash"], **_content(row)})


def canonical_v2(row: Mapping[str, Any]) -> bytes:
    """The bytes a version-2 (keyed) hash covers: the content, its chain and place, the
    previous event's hash and the signing key's id. Changing this breaks every chain: add
    a version instead."""
    return _dumps(
        {
            "v": 2,
            "chain": row["chain"],
            "seq": row["seq"],
            "prev": row["prev_hash"],
            "kid": row["key_id"],
            **_content(row),
        }
    )


def canonical(row: Mapping[str, Any]) -> bytes:
    """The hash input of an event: version 2 when it names a key, else version 1."""
    return canonical_v2(row) if row.get("key_id") else canonical_v1(row)


def event_hash(row: Mapping[str, Any], keys: AuditKeys | None = None) -> str | None:
    """The hash an event should carry; None when it names a key that is not configured."""
    kid = row.get("key_id")
    if not kid:
        return hashlib.sha256(canonical_v1(row)).hexdigest()
    return (keys or current_keys()).mac(str(kid), canonical_v2(row))


_COLUMNS = (
    "id",
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
    "seq",
    "prev_hash",
    "hash",
    "key_id",
)


def _row_select() -> Any:
    return select(*(_EVENTS.c[name] for name in _COLUMNS))


# --- sealing --------------------------------------------------------------------------------


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _lock_head(session: Session, chain: str, *, wait: bool) -> Row[Any] | None:
    """The chain's head, locked until this transaction ends (created if missing); None
    when another sealer holds it and ``wait`` is false."""
    query = select(_HEADS).where(_HEADS.c.chain == chain).with_for_update(skip_locked=not wait)
    head = session.execute(query).first()
    if head is not None:
        return head
    if session.scalar(select(func.count()).select_from(_HEADS).where(_HEADS.c.chain == chain)):
        return None  # it exists: another sealer has it
    session.execute(
        _insert(session)(_HEADS)
        .values(
            chain=chain,
            last_seq=0,
            last_hash=GENESIS,
            start_seq=1,
            start_hash=GENESIS,
            kept_below_start=0,
        )
        .on_conflict_do_nothing(index_elements=["chain"])
    )
    return session.execute(query).first()


def seal_chain(
    session: Session,
    chain: str,
    *,
    keys: AuditKeys | None = None,
    wait: bool = False,
    limit: int | None = 1000,
) -> int | None:
    """Seal up to ``limit`` unsealed events of ``chain`` in the caller's transaction, in id
    order after the chain's head. Returns how many, or None when another sealer holds the
    chain (and ``wait`` is false). Commit soon: the chain's head stays locked until then."""
    keys = keys or current_keys()
    head = _lock_head(session, chain, wait=wait)
    if head is None:
        return None
    query = (
        _row_select()
        .where(_EVENTS.c.chain == chain, _EVENTS.c.hash.is_(None))
        .order_by(_EVENTS.c.id)
    )
    rows = session.execute(query if limit is None else query.limit(limit)).all()
    if not rows:
        return 0
    kid = keys.signing_id
    seq, prev = int(head.last_seq), str(head.last_hash)
    start_at = None
    params: list[dict[str, Any]] = []
    for row in rows:
        seq += 1
        values = {**row._mapping, "seq": seq, "prev_hash": prev, "key_id": kid}
        digest = keys.mac(kid, canonical_v2(values))
        assert digest is not None
        params.append(
            {"b_id": row.id, "b_at": row.at, "b_seq": seq, "b_prev": prev, "b_hash": digest}
        )
        if seq == head.start_seq:
            start_at = row.at
        prev = digest
    # ``at`` narrows the update to one partition on PostgreSQL; on SQLite the id is enough.
    where = [_EVENTS.c.id == bindparam("b_id"), _EVENTS.c.hash.is_(None)]
    if session.get_bind().dialect.name == "postgresql":
        where.append(_EVENTS.c.at == bindparam("b_at"))
    result = session.execute(
        update(_EVENTS)
        .where(*where)
        .values(
            seq=bindparam("b_seq"),
            prev_hash=bindparam("b_prev"),
            hash=bindparam("b_hash"),
            key_id=kid,
        ),
        params,
    )
    if result.rowcount != len(params):  # type: ignore[attr-defined]
        raise RuntimeError(f"audit chain {chain}: events changed while being sealed")
    head_values: dict[str, Any] = {"last_seq": seq, "last_hash": prev}
    if start_at is not None:
        head_values["start_at"] = start_at
    session.execute(update(_HEADS).where(_HEADS.c.id == head.id).values(**head_values))
    _refresh_loaded(session, params, kid)
    return len(rows)


def _refresh_loaded(session: Session, params: list[dict[str, Any]], kid: str) -> None:
    """Events of this session's own transaction that are loaded show their seal."""
    sealed = {p["b_id"]: p for p in params}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, AuditEvent) and obj.id in sealed:
            p = sealed[obj.id]
            set_committed_value(obj, "seq", p["b_seq"])
            set_committed_value(obj, "prev_hash", p["b_prev"])
            set_committed_value(obj, "hash", p["b_hash"])
            set_committed_value(obj, "key_id", kid)


def pending_chains(session: Session) -> list[str]:
    """Chains that have committed events not sealed yet."""
    return list(
        session.scalars(
            select(_EVENTS.c.chain)
            .where(_EVENTS.c.hash.is_(None))
            .distinct()
            .order_by(_EVENTS.c.chain)
        )
    )


def seal_pending(
    sessions: sessionmaker[Session],
    *,
    keys: AuditKeys | None = None,
    wait: bool = True,
    limit: int = 1000,
    chains: Iterable[str] | None = None,
) -> int:
    """Seal every chain's committed events (or only those of ``chains``), each chain in
    transactions of its own (a batch of ``limit`` at a time). With ``wait`` false a chain
    another sealer holds is skipped. Returns how many events were sealed."""
    if chains is None:
        with reading(sessions) as session:  # never waits for a writer
            chains = pending_chains(session)
    total = 0
    for chain in chains:
        while True:
            with sessions() as session, session.begin():
                sealed = seal_chain(session, chain, keys=keys, wait=wait, limit=limit)
            if not sealed:
                break
            total += sealed
            if sealed < limit:
                break
    return total


@dataclass(frozen=True)
class Backlog:
    """Events committed but not sealed yet."""

    count: int
    oldest: dt.datetime | None

    def age(self, now: dt.datetime) -> float:
        """Seconds since the oldest unsealed event was recorded (0 when there is none)."""
        if self.oldest is None:
            return 0.0
        oldest = self.oldest if self.oldest.tzinfo else self.oldest.replace(tzinfo=dt.UTC)
        return max(0.0, (now - oldest).total_seconds())


def backlog(session: Session, chain: str | None = None) -> Backlog:
    query = select(func.count(), func.min(_EVENTS.c.at)).where(_EVENTS.c.hash.is_(None))
    if chain is not None:
        query = query.where(_EVENTS.c.chain == chain)
    count, oldest = session.execute(query).one()
    return Backlog(int(count or 0), oldest)
