"""Audit events: who read, changed, exported or deleted what, and when, in a log that the
database's own users cannot rewrite unnoticed.

**Writing.** :func:`record` inserts the event through the caller's session, so it commits
or rolls back together with the read or change it describes. It is written *unsealed*: no
place in a chain yet (``seq``, ``prev_hash``, ``hash`` and ``key_id`` are NULL; a trigger
refuses an INSERT that sets them).

**Chains.** One chain per workspace (``chain`` is the Slack team id) and one, ``global``,
for events without a workspace. Each chain has its own head row in ``audit_chain``, so a
workspace's log reviewer verifies, anchors and exports their chain without anyone else's
events, and workspaces never wait for each other's sealing.

**Sealing, after commit and in batches.** :func:`seal_chain` gives a chain's unsealed events
their place in one short transaction of its own: it locks the chain's head (``SELECT … FOR
UPDATE SKIP LOCKED`` on PostgreSQL, so a head another sealer holds is skipped and never
waited for; on SQLite every transaction begins IMMEDIATE and sealers simply take turns),
reads the chain's committed unsealed events, gives them the next sequence numbers and
stores for each the hash of the event before it and its own keyed hash. A background
thread per process (:mod:`bot.sealer`) does this, woken by every commit that wrote events
(after a short batching delay) and once a second otherwise.

*Why no event is ever skipped although ids commit out of order:* the chain is built in
**seal order**, not id order. A sealer never remembers "sealed up to id N"; each batch takes
every committed event that has no hash yet (a partial index finds them). An event with a
small id whose transaction commits after a bigger one was sealed simply gets a later
``seq`` in the next batch. ``seq`` (not ``id``, not ``at``) is the chain's order. A replica
that dies between commit and seal leaves committed unsealed events, and the next sealer of
any replica picks them up; the age of the oldest unsealed event is the metric
``samverkan_audit_unsealed_seconds``. (The old way — every transaction sealing its own
events at commit under the head's lock — is still here for the benchmark: a sessionmaker
with ``info={SEAL_AT_COMMIT: True}``.)

**Keys.** An event's hash is HMAC-SHA256 over its canonical form (version 2: content,
chain, ``seq``, previous hash and key id) with a secret kept outside the database
(``SAMVERKAN_AUDIT_KEYS``: comma-separated, the first signs, the others still verify; each
event records the id of the key that signed it). Someone with the database alone cannot
compute a valid hash, so a rewritten or forged event fails :func:`verify`. Without the
setting the public development key (id ``dev``) signs — the sandbox and tests only;
``samverkan serve`` against real Slack refuses to start without a key. Events from before
migration 0008 keep their version-1 hashes (unkeyed SHA-256): the first keyed event after
them links to the last of them, so its signature pins that history too.

**Protection.** Triggers (migration 0008) refuse changing an event except its one-time
sealing, deleting one except below its chain's ``purge_below_seq`` (set only inside the
retention transaction), moving a chain head backwards, deleting a head, and TRUNCATE.
What a trigger cannot stop (a superuser or the table owner can drop triggers) :func:`verify`
finds: every event's keyed hash, every link, no gaps or duplicates, the head, and that a
chain starting after seq 1 has a signed retention event recording that cut. Truncating the
newest events and rewinding the head with the triggers dropped is found with an **anchor**
(:func:`anchor`): the signed head taken earlier and kept outside the database (the monthly
log check DMs it to the log reviewers); ``samverkan audit verify --anchor …`` fails when the
chain no longer holds that event or ends before it.

**Retention.** :func:`purge_before` removes a chain's oldest events as a prefix — except
those of cases under legal hold — and records the cut (where the chain now starts, its
hash, and which older events were kept) as an event of the chain, sealed at once. On
PostgreSQL a month partition whose events all lie below their chains' cuts is dropped whole.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Table,
    and_,
    bindparam,
    delete,
    event,
    false,
    func,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from domain.access import Access
from domain.clock import Clock
from storage.models import AuditAction, AuditChain, AuditEvent

log = logging.getLogger(__name__)

GENESIS = "0" * 64
GLOBAL_CHAIN = "global"
# What the chain head's retention cut is recorded as (see purge_before / verify).
CUT_OBJECT_TYPE = "audit_events"
DEV_KEY_ID = "dev"
DEV_SECRET = "samverkan-development-audit-key-public-not-secret"
MIN_KEY_LENGTH = 32
ANCHOR_PREFIX = "sva1"
# A sessionmaker's ``info`` key: seal a transaction's events at its commit (the old way).
SEAL_AT_COMMIT = "samverkan_audit_seal_at_commit"
PARTITION_SCHEMA = "audit_partitions"
PARTITION_RE = re.compile(r"^audit_events_y(\d{4})m(\d{2})$")
_WROTE = "samverkan_audit_wrote"

_EVENTS: Table = AuditEvent.__table__  # type: ignore[assignment]
_HEADS: Table = AuditChain.__table__  # type: ignore[assignment]


def chain_of(team_id: str | None) -> str:
    """The chain an event of this workspace goes to."""
    return team_id or GLOBAL_CHAIN


# --- keys -----------------------------------------------------------------------------------


def key_id(secret: bytes) -> str:
    """A key's public name: derived from it, so the same key always has the same id."""
    if secret == DEV_SECRET.encode():
        return DEV_KEY_ID
    return hashlib.sha256(b"samverkan audit key id\n" + secret).hexdigest()[:8]


def new_key() -> str:
    """A fresh random audit key (for ``samverkan audit new-key``)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class AuditKeys:
    """The HMAC keys: the first signs, every one verifies."""

    keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def parse(cls, value: str) -> AuditKeys:
        """Comma-separated secrets of at least 32 characters; raises ValueError (never
        echoing a key)."""
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if not parts:
            raise ValueError("no key given (make one with `samverkan audit new-key`)")
        keys: list[tuple[str, bytes]] = []
        for position, part in enumerate(parts, start=1):
            if len(part) < MIN_KEY_LENGTH:
                raise ValueError(
                    f"key #{position} is shorter than {MIN_KEY_LENGTH} characters"
                    " (make one with `samverkan audit new-key`)"
                )
            secret = part.encode("utf-8")
            keys.append((key_id(secret), secret))
        return cls(tuple(keys))

    @classmethod
    def development(cls) -> AuditKeys:
        return cls(((DEV_KEY_ID, DEV_SECRET.encode()),))

    @property
    def signing_id(self) -> str:
        return self.keys[0][0]

    @property
    def is_development(self) -> bool:
        return self.signing_id == DEV_KEY_ID

    def ids(self) -> tuple[str, ...]:
        return tuple(kid for kid, _ in self.keys)

    def mac(self, kid: str, data: bytes) -> str | None:
        """HMAC-SHA256 of ``data`` with the key ``kid`` (hex), or None without that key."""
        for known, secret in self.keys:
            if known == kid:
                return hmac.new(secret, data, hashlib.sha256).hexdigest()
        return None


_keys = AuditKeys.development()


def use_keys(keys: AuditKeys) -> None:
    """The keys this process signs and verifies with (set once by the wiring or the CLI)."""
    global _keys
    _keys = keys


def current_keys() -> AuditKeys:
    return _keys


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
    chain = chain_of(team_id)
    audit_event = AuditEvent(
        at=clock.now(),
        team_id=team_id,
        forum_id=forum_id,
        actor=actor,
        actor_agency_id=actor_agency_id,
        action=action,
        object_type=object_type,
        object_ref=object_ref,
        detail=detail,
        chain=chain,
    )
    session.add(audit_event)
    session.flush()  # gives the event its id; it commits or rolls back with the change
    wrote: set[str] = session.info.setdefault(_WROTE, set())
    wrote.add(chain)
    return audit_event


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
    return (keys or _keys).mac(str(kid), canonical_v2(row))


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
    keys = keys or _keys
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
        with sessions() as session:
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


# --- verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    """Where a chain starts and ends (a head row, or the header of an exported file)."""

    chain: str
    start_seq: int = 1
    start_hash: str = GENESIS
    last_seq: int = 0
    last_hash: str = GENESIS

    @classmethod
    def of(cls, session: Session, chain: str) -> Head | None:
        row = session.execute(select(_HEADS).where(_HEADS.c.chain == chain)).first()
        if row is None:
            return None
        return cls(chain, row.start_seq, row.start_hash, row.last_seq, row.last_hash)


@dataclass
class Verification:
    checked: int = 0
    chains: int = 0
    start_seq: int = 1  # of the (last) chain checked
    last_seq: int = 0
    kept: int = 0  # events before a cut kept under legal hold (each checked on its own)
    unkeyed: int = 0  # version-1 events (from before migration 0008)
    development: int = 0  # events signed with the public development key
    unsealed: int = 0
    oldest_unsealed: dt.datetime | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Problems:
    def __init__(self, result: Verification, prefix: str, limit: int) -> None:
        self.result, self.prefix, self.limit = result, prefix, limit

    def __call__(self, text: str) -> None:
        if len(self.result.problems) < self.limit:
            self.result.problems.append(self.prefix + text)


def check_chain(
    rows: Iterable[Mapping[str, Any]],
    head: Head | None,
    *,
    chain: str,
    keys: AuditKeys,
    result: Verification,
    problem: Callable[[str], None],
) -> None:
    """Check one chain's sealed events, given in ``seq`` order (the kept ones before the
    chain's start first). Adds to ``result``; reports through ``problem``."""
    start_seq = head.start_seq if head else 1
    start_hash = head.start_hash if head else GENESIS
    expected, prev = start_seq, start_hash
    below: list[int] = []
    kept_listed: set[int] | None = None
    keyed_seen = False
    unknown: dict[str, int] = {}
    checked = 0
    for row in rows:
        seq = int(row["seq"])
        kid = row.get("key_id")
        if row.get("chain", chain) != chain:
            problem(f"seq {seq}: belongs to chain {row.get('chain')}")
        digest = event_hash(row, keys)
        if digest is None:
            unknown[str(kid)] = unknown.get(str(kid), 0) + 1
        if not kid:
            result.unkeyed += 1
        elif kid == DEV_KEY_ID:
            result.development += 1
        content_ok = digest is not None and hmac.compare_digest(digest, str(row["hash"]))
        if seq < start_seq:
            below.append(seq)
            if digest is not None and not content_ok:
                problem(f"seq {seq} (kept before the cut): content does not match its hash")
            continue
        if seq < expected:
            problem(f"seq {seq} appears more than once")
            continue
        if seq > expected:
            problem(f"event(s) seq {expected}–{seq - 1} are missing")
        if row["prev_hash"] != prev:
            problem(f"seq {seq}: link to the previous event broken")
        if digest is not None and not content_ok:
            problem(f"seq {seq}: content does not match its hash")
        if kid:
            keyed_seen = True
        elif keyed_seen:
            problem(f"seq {seq}: an unkeyed (version 1) event after keyed ones")
        if start_seq > 1 and content_ok and _is_cut(row, start_seq, start_hash, keys, chain):
            kept_listed = {int(s) for s in (row["detail"] or {}).get("kept", [])}
        prev, expected = str(row["hash"]), seq + 1
        checked += 1
    for kid, count in sorted(unknown.items()):
        problem(f"{count} event(s) signed with key id {kid}, which SAMVERKAN_AUDIT_KEYS lacks")
    last_seq = expected - 1
    if head is None and checked:
        problem("sealed events but no chain head")
    elif head is not None and (head.last_seq, head.last_hash) != (last_seq, prev):
        problem(
            f"the chain head says seq {head.last_seq} but the log ends at {last_seq}"
            " (events after it were removed, or added around the log)"
        )
    if start_seq > 1 and kept_listed is None:
        problem(f"the chain starts at seq {start_seq} but no retention event signed that cut")
    kept = set(below)
    if kept_listed is not None:
        for seq in sorted(kept - kept_listed)[:5]:
            problem(f"seq {seq} lies before the chain's start but the cut did not keep it")
        for seq in sorted(kept_listed - kept)[:5]:
            problem(f"seq {seq}, kept under legal hold at the cut, is missing")
    elif below:
        problem(f"{len(below)} event(s) lie before the chain's start (seq {start_seq})")
    result.checked += checked
    result.kept += len(below)
    result.chains += 1
    result.start_seq, result.last_seq = start_seq, last_seq


def _cut_message(chain: str, cut_seq: int, cut_hash: str, kept: Sequence[int]) -> bytes:
    return _dumps({"cut": chain, "seq": cut_seq, "hash": cut_hash, "kept": list(kept)})


def _is_cut(
    row: Mapping[str, Any], start_seq: int, start_hash: str, keys: AuditKeys, chain: str
) -> bool:
    """Is this the signed record of the cut the chain starts at? Its ``sig`` is made by
    retention with the key (the sealer signs whatever is inserted, so a cut record
    inserted by hand would be sealed too — but cannot carry this signature)."""
    detail = row["detail"] or {}
    if not (
        row["object_type"] == CUT_OBJECT_TYPE
        and _action(row["action"]) == AuditAction.DELETE.value
        and detail.get("cut_seq") == start_seq
        and detail.get("cut_hash") == start_hash
        and row.get("key_id")
    ):
        return False
    expected = keys.mac(
        str(row["key_id"]), _cut_message(chain, start_seq, start_hash, detail.get("kept", []))
    )
    return expected is not None and hmac.compare_digest(expected, str(detail.get("sig", "")))


def _chain_rows(session: Session, chain: str, batch: int) -> Iterator[Mapping[str, Any]]:
    """A chain's sealed events in (seq, id) order, a batch at a time."""
    after: tuple[int, int] = (-1, -1)
    while True:
        rows = session.execute(
            _row_select()
            .where(
                _EVENTS.c.chain == chain,
                _EVENTS.c.seq.is_not(None),
                tuple_(_EVENTS.c.seq, _EVENTS.c.id) > tuple_(*after),
            )
            .order_by(_EVENTS.c.seq, _EVENTS.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield dict(row._mapping)
        after = (rows[-1].seq, rows[-1].id)


def chains(session: Session) -> list[str]:
    """Every chain that has sealed events (or had: a head past the genesis)."""
    heads = set(session.scalars(select(_HEADS.c.chain).where(_HEADS.c.last_seq > 0)))
    sealed = set(
        session.scalars(select(_EVENTS.c.chain).where(_EVENTS.c.seq.is_not(None)).distinct())
    )
    return sorted(heads | sealed)


def verify(
    session: Session,
    *,
    chain: str | None = None,
    keys: AuditKeys | None = None,
    anchors: Sequence[Anchor] = (),
    batch: int = 2000,
    max_problems: int = 20,
) -> Verification:
    """Recompute one chain (or every chain): each event's keyed hash, each link, no gaps or
    duplicates, the head, the retention cut and the events kept before it; check each
    anchor; count what is not sealed yet (that is not a problem, only lag).

    Problems are plain English lines for the operator (CLI); the first few are kept.
    """
    keys = keys or _keys
    result = Verification()
    names = [chain] if chain is not None else chains(session)
    for name in names:
        problem = _Problems(result, "" if chain is not None else f"chain {name}: ", max_problems)
        check_chain(
            _chain_rows(session, name, batch),
            Head.of(session, name),
            chain=name,
            keys=keys,
            result=result,
            problem=problem,
        )
    for anchored in anchors:
        if chain is not None and anchored.chain != chain:
            result.problems.append(f"the anchor is for chain {anchored.chain}, not {chain}")
            continue
        check_anchor(session, anchored, keys=keys, result=result)
    waiting = backlog(session, chain)
    result.unsealed, result.oldest_unsealed = waiting.count, waiting.oldest
    return result


# --- anchors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """A chain's head at one moment, signed: a one-line copy kept outside the database."""

    chain: str
    seq: int
    hash: str  # the first 32 hex digits of the event's hash
    at: dt.datetime
    key_id: str
    signature: str = ""

    def message(self) -> bytes:
        return "|".join(
            [ANCHOR_PREFIX, self.chain, str(self.seq), self.hash, self._time(), self.key_id]
        ).encode("utf-8")

    def _time(self) -> str:
        return self.at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")

    @property
    def line(self) -> str:
        return ":".join(
            [
                ANCHOR_PREFIX,
                self.chain,
                str(self.seq),
                self.hash,
                self._time(),
                self.key_id,
                self.signature,
            ]
        )

    @classmethod
    def parse(cls, line: str) -> Anchor:
        parts = line.strip().split(":")
        if len(parts) != 7 or parts[0] != ANCHOR_PREFIX:
            raise ValueError(
                f"not an anchor line (expected {ANCHOR_PREFIX}:chain:seq:hash:time:key:signature)"
            )
        _, chain, seq, digest, when, kid, signature = parts
        try:
            at = dt.datetime.strptime(when, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
            number = int(seq)
        except ValueError:
            raise ValueError("the anchor line's seq or time is malformed") from None
        if not re.fullmatch(r"[0-9a-f]{32}", digest) or not re.fullmatch(
            r"[0-9a-f]{32}", signature
        ):
            raise ValueError("the anchor line's hash or signature is malformed")
        return cls(chain, number, digest, at, kid, signature)


def anchor(session: Session, clock: Clock, *, chain: str, keys: AuditKeys | None = None) -> Anchor:
    """The chain's sealed head now, signed with the signing key."""
    keys = keys or _keys
    head = Head.of(session, chain) or Head(chain)
    unsigned = Anchor(
        chain,
        head.last_seq,
        head.last_hash[:32],
        clock.now().replace(microsecond=0),
        keys.signing_id,
    )
    signature = keys.mac(unsigned.key_id, unsigned.message())
    assert signature is not None
    return dataclasses.replace(unsigned, signature=signature[:32])


def check_anchor(
    session: Session, anchored: Anchor, *, keys: AuditKeys, result: Verification
) -> None:
    """Does the chain still hold the anchored event, unchanged, and go at least that far?"""
    problem = _Problems(result, f"anchor {anchored.chain}:{anchored.seq}: ", 1000)
    expected = keys.mac(anchored.key_id, anchored.message())
    if expected is None:
        problem(f"signed with key id {anchored.key_id}, which SAMVERKAN_AUDIT_KEYS lacks")
        return
    if not hmac.compare_digest(expected[:32], anchored.signature):
        problem("the signature does not match (the line was edited or not made by Samverkan)")
        return
    head = Head.of(session, anchored.chain) or Head(anchored.chain)
    if head.last_seq < anchored.seq:
        problem(
            f"the chain ends at seq {head.last_seq}, before the anchored seq {anchored.seq}:"
            " events were removed after the anchor"
        )
        return
    if anchored.seq == 0:
        return
    if anchored.seq < head.start_seq:
        if anchored.seq == head.start_seq - 1 and not head.start_hash.startswith(anchored.hash):
            problem("the retention cut does not follow the anchored event")
        else:
            result.notes.append(
                f"anchor {anchored.chain}:{anchored.seq} lies before the retention cut at seq"
                f" {head.start_seq}; the signed cut event covers it"
            )
        return
    found = session.scalars(
        select(_EVENTS.c.hash).where(
            _EVENTS.c.chain == anchored.chain, _EVENTS.c.seq == anchored.seq
        )
    ).all()
    if not found:
        problem(f"the chain no longer holds seq {anchored.seq}")
    elif any(not (digest or "").startswith(anchored.hash) for digest in found):
        problem(f"seq {anchored.seq} is not the anchored event: the log was rewritten")


# --- export ---------------------------------------------------------------------------------


def export_chain(session: Session, chain: str, *, batch: int = 2000) -> Iterator[dict[str, Any]]:
    """The chain as JSON-ready rows: first its head, then every sealed event in seq order
    (``samverkan audit export``; :func:`verify_export` checks such a file)."""
    head = Head.of(session, chain) or Head(chain)
    yield {"head": dataclasses.asdict(head)}
    for row in _chain_rows(session, chain, batch):
        out = {name: row[name] for name in _COLUMNS}
        out["at"] = _at(row["at"])
        out["action"] = _action(row["action"])
        yield out


def verify_export(lines: Iterable[str], *, keys: AuditKeys | None = None) -> Verification:
    """Check an exported chain (JSON lines from :func:`export_chain`) without the database."""
    keys = keys or _keys
    result = Verification()
    iterator = iter(lines)
    try:
        first = json.loads(next(iterator))
        head = Head(**first["head"])
    except (StopIteration, ValueError, KeyError, TypeError):
        result.problems.append("the file does not start with a chain head")
        return result
    check_chain(
        (json.loads(line) for line in iterator if line.strip()),
        head,
        chain=head.chain,
        keys=keys,
        result=result,
        problem=_Problems(result, "", 20),
    )
    return result


# --- retention of the log itself ------------------------------------------------------------


@dataclass(frozen=True)
class HeldRef:
    """Events about something under legal hold: in ``forum_id``, with ``object_ref``, of
    ``object_type`` (None: any type, e.g. a case reference used by case, consent and legal
    ground events)."""

    forum_id: int
    object_ref: str
    object_type: str | None = None


@dataclass
class ChainCut:
    chain: str
    cut_seq: int
    cut_hash: str
    removed: int = 0
    ids: tuple[int, ...] = ()  # what would go (plans only)
    kept: tuple[int, ...] = ()  # seqs below the cut that stay (legal hold)


def _held(held: Sequence[HeldRef]) -> ColumnElement[bool]:
    if not held:
        return false()
    return or_(
        *(
            and_(
                _EVENTS.c.forum_id == ref.forum_id,
                _EVENTS.c.object_ref == ref.object_ref,
                *([_EVENTS.c.object_type == ref.object_type] if ref.object_type else []),
            )
            for ref in held
        )
    )


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _due_chains(session: Session, cutoff: dt.datetime) -> list[str]:
    """Chains whose first event is older than the cutoff, or that keep events under hold
    (a hold may have been released). Cheap: it reads the heads only."""
    return list(
        session.scalars(
            select(_HEADS.c.chain)
            .where(or_(_HEADS.c.start_at < cutoff, _HEADS.c.kept_below_start > 0))
            .order_by(_HEADS.c.chain)
        )
    )


def _plan_chain(
    session: Session,
    head: Any,
    cutoff: dt.datetime,
    held: Sequence[HeldRef],
    *,
    with_ids: bool = False,
) -> ChainCut | None:
    """Where the chain's cut would be and what would go; None when nothing changes."""
    chain = head.chain
    first_kept = session.scalar(
        select(func.min(_EVENTS.c.seq)).where(
            _EVENTS.c.chain == chain, _EVENTS.c.seq >= head.start_seq, _EVENTS.c.at >= cutoff
        )
    )
    if first_kept is not None:
        cut = int(first_kept)
        cut_hash = session.scalar(
            select(_EVENTS.c.prev_hash).where(_EVENTS.c.chain == chain, _EVENTS.c.seq == cut)
        )
    else:
        cut, cut_hash = int(head.last_seq) + 1, head.last_hash
    below = and_(_EVENTS.c.chain == chain, _EVENTS.c.seq < cut, ~_held(held))
    going = int(session.scalar(select(func.count()).select_from(_EVENTS).where(below)) or 0)
    if going == 0 and cut <= head.start_seq:
        return None
    ids: tuple[int, ...] = ()
    if with_ids:
        ids = tuple(session.scalars(select(_EVENTS.c.id).where(below).order_by(_EVENTS.c.seq)))
    return ChainCut(chain, cut, str(cut_hash or GENESIS), going, ids)


def plan_purge(
    session: Session, *, cutoff: dt.datetime, held: Sequence[HeldRef] = ()
) -> list[ChainCut]:
    """What :func:`purge_before` would remove now, per chain (for a dry run)."""
    plans = []
    for chain in _due_chains(session, cutoff):
        head = session.execute(select(_HEADS).where(_HEADS.c.chain == chain)).one()
        planned = _plan_chain(session, head, cutoff, held, with_ids=True)
        if planned is not None:
            plans.append(planned)
    return plans


def purge_before(
    session: Session,
    clock: Clock,
    *,
    cutoff: dt.datetime,
    actor: str,
    held: Sequence[HeldRef] = (),
    keys: AuditKeys | None = None,
) -> int:
    """Remove each chain's oldest events recorded before ``cutoff`` as a prefix — except
    those ``held`` (legal hold) — and record each cut as a signed event of its chain.
    Returns how many were removed.

    Only a prefix may go, so the rest still verifies: the cut is the chain's first event
    at or after ``cutoff`` (events later in the chain but older are kept until everything
    before them goes). The held events before the cut stay and are listed in the cut's
    record (``kept``), so verify knows them. The DELETE trigger allows the removal because
    ``purge_below_seq`` is set in this transaction only, and reset before it commits.

    On PostgreSQL a month that ends before the cutoff and holds only events that go is
    dropped whole instead (last, since dropping a partition locks the table until commit,
    and with a short lock timeout: if it cannot have the lock, its rows go one by one).
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    signing = keys or _keys
    cuts: list[ChainCut] = []
    # Heads are locked in one order (two replicas' retention cannot deadlock), and what is
    # committed is sealed first, so the cut sees the whole chain (this also seals where no
    # background sealer runs).
    for chain in sorted(set(_due_chains(session, cutoff)) | set(pending_chains(session))):
        seal_chain(session, chain, keys=signing, wait=True, limit=None)  # locks the head
        head = session.execute(select(_HEADS).where(_HEADS.c.chain == chain)).one()
        if not (
            (head.start_at is not None and _aware(head.start_at) < cutoff)
            or head.kept_below_start > 0
        ):
            continue
        planned = _plan_chain(session, head, cutoff, held)
        if planned is None:
            continue
        session.execute(
            update(_HEADS).where(_HEADS.c.chain == chain).values(purge_below_seq=planned.cut_seq)
        )
        cuts.append(planned)
    if not cuts:
        return 0
    droppable = _droppable_partitions(session, cutoff, held) if postgres else []
    in_dropped = [and_(_EVENTS.c.at >= first, _EVENTS.c.at < end) for _, first, end, _ in droppable]
    dropped: dict[str, int] = {}
    for _, _, _, counts in droppable:
        for chain, count in counts.items():
            dropped[chain] = dropped.get(chain, 0) + count
    total = 0
    for cut in cuts:
        going = and_(
            _EVENTS.c.chain == cut.chain,
            _EVENTS.c.seq < cut.cut_seq,
            _EVENTS.c.at < cutoff,
            ~_held(held),
        )
        result = session.execute(delete(_EVENTS).where(going, *(~r for r in in_dropped)))
        gone = int(result.rowcount or 0) + dropped.get(cut.chain, 0)  # type: ignore[attr-defined]
        kept = tuple(
            int(s)
            for s in session.scalars(
                select(_EVENTS.c.seq)
                .where(_EVENTS.c.chain == cut.chain, _EVENTS.c.seq < cut.cut_seq, _held(held))
                .order_by(_EVENTS.c.seq)
            )
        )
        start_at = session.scalar(
            select(_EVENTS.c.at).where(_EVENTS.c.chain == cut.chain, _EVENTS.c.seq == cut.cut_seq)
        )
        session.execute(
            update(_HEADS)
            .where(_HEADS.c.chain == cut.chain)
            .values(
                start_seq=cut.cut_seq,
                start_hash=cut.cut_hash,
                start_at=start_at,
                kept_below_start=len(kept),
            )
        )
        record(
            session,
            clock,
            actor=actor,
            action=AuditAction.DELETE,
            object_type=CUT_OBJECT_TYPE,
            object_ref=f"seq<{cut.cut_seq}",
            team_id=None if cut.chain == GLOBAL_CHAIN else cut.chain,
            detail={
                "removed": gone,
                "cut_seq": cut.cut_seq,
                "cut_hash": cut.cut_hash,
                "kept": list(kept),
                "sig": signing.mac(
                    signing.signing_id,
                    _cut_message(cut.chain, cut.cut_seq, cut.cut_hash, kept),
                ),
            },
        )
        # The head is ours until commit: the cut is signed at once (and what waited before it).
        seal_chain(session, cut.chain, keys=signing, wait=True, limit=None)
        total += gone
    for name, first, end, counts in droppable:
        if not _drop_partition(session, name):
            for cut in cuts:
                if cut.chain in counts:
                    session.execute(
                        delete(_EVENTS).where(
                            _EVENTS.c.chain == cut.chain,
                            _EVENTS.c.seq < cut.cut_seq,
                            _EVENTS.c.at >= first,
                            _EVENTS.c.at < end,
                            ~_held(held),
                        )
                    )
    session.execute(
        update(_HEADS)
        .where(_HEADS.c.chain.in_([cut.chain for cut in cuts]))
        .values(purge_below_seq=None)
    )
    if postgres:
        ensure_partitions(session, clock.now())
    return total


# --- partitions (PostgreSQL) ----------------------------------------------------------------


def _month(day: dt.date, add: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + add
    return dt.date(index // 12, index % 12 + 1, 1)


def partitions(session: Session) -> list[tuple[str, dt.date]]:
    """The month partitions of ``audit_events`` (name, first day), oldest first."""
    names = session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE p.relname = 'audit_events' AND n.nspname = :schema"
        ),
        {"schema": PARTITION_SCHEMA},
    ).all()
    found = []
    for name in names:
        match = PARTITION_RE.match(name)
        if match:
            found.append((name, dt.date(int(match.group(1)), int(match.group(2)), 1)))
    return sorted(found, key=lambda item: item[1])


class _ShortLockWait:
    """Within a savepoint: wait at most two seconds for a lock (then the savepoint rolls
    back), and restore the transaction's own lock timeout afterwards."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __enter__(self) -> None:
        self.before = self.session.scalar(text("SELECT current_setting('lock_timeout')"))
        self.session.execute(text("SELECT set_config('lock_timeout', '2s', true)"))

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.session.execute(
                text("SELECT set_config('lock_timeout', :v, true)"), {"v": self.before}
            )


def ensure_partitions(session: Session, now: dt.datetime, *, ahead: int = 3) -> list[str]:
    """Create the month partitions from this month to ``ahead`` months on (PostgreSQL; a
    no-op on SQLite). A month whose events already went to the DEFAULT partition is left
    there (logged). Returns the months created."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    existing = {first for _, first in partitions(session)}
    created = []
    for step in range(ahead + 1):
        month = _month(now.date(), step)
        if month in existing:
            continue
        try:
            with session.begin_nested(), _ShortLockWait(session):
                if session.scalar(
                    text("SELECT samverkan_audit_ensure_partition(:month)"), {"month": month}
                ):
                    created.append(f"{month:%Y-%m}")
        except DBAPIError as exc:
            log.warning("audit partition for %s not created: %s", f"{month:%Y-%m}", exc.orig)
    return created


def _droppable_partitions(
    session: Session, cutoff: dt.datetime, held: Sequence[HeldRef]
) -> list[tuple[str, dt.datetime, dt.datetime, dict[str, int]]]:
    """Months that end before the cutoff and hold only events below their chain's cut
    (``purge_below_seq``, set by the caller) and none under hold: (name, first, end, rows
    per chain). Read through the parent table (the month's bounds prune to the partition),
    so the bot's role needs no rights on the partitions themselves."""
    found = []
    for name, month in partitions(session):
        first = dt.datetime.combine(month, dt.time(0), tzinfo=dt.UTC)
        end = dt.datetime.combine(_month(month, 1), dt.time(0), tzinfo=dt.UTC)
        if end > cutoff:
            break
        in_month = and_(_EVENTS.c.at >= first, _EVENTS.c.at < end)
        stays = or_(
            _EVENTS.c.seq.is_(None),
            _HEADS.c.purge_below_seq.is_(None),
            _EVENTS.c.seq >= _HEADS.c.purge_below_seq,
            _held(held),
        )
        blocked = session.scalar(
            select(
                select(_EVENTS.c.id)
                .select_from(_EVENTS.outerjoin(_HEADS, _HEADS.c.chain == _EVENTS.c.chain))
                .where(in_month, stays)
                .exists()
            )
        )
        if blocked:
            continue
        counts = {
            str(chain): int(count)
            for chain, count in session.execute(
                select(_EVENTS.c.chain, func.count()).where(in_month).group_by(_EVENTS.c.chain)
            )
        }
        found.append((name, first, end, counts))
    return found


def _drop_partition(session: Session, name: str) -> bool:
    try:
        with session.begin_nested(), _ShortLockWait(session):
            session.execute(text("SELECT samverkan_audit_drop_partition(:n)"), {"n": name})
        return True
    except DBAPIError as exc:
        log.warning("audit partition %s not dropped (its rows go one by one): %s", name, exc.orig)
        return False
