"""Audit events: who read, changed, exported or deleted what, and when.

Recorded through the caller's session so the event commits (or rolls back) together with
the read or change it describes.

The log is append-only and hash-chained:

* ``record()`` inserts the event at once (it is visible in the transaction and has an id),
  but without its place in the chain.
* When the transaction commits, :func:`_seal` (a ``before_commit`` hook) locks the chain
  head (one row in ``audit_chain``, ``SELECT … FOR UPDATE``), gives this transaction's
  events the next sequence numbers in id order and stores for each the hash of the event
  before it and its own hash. The head lock is the last lock a transaction takes and is held
  only for the commit, so two writers never fork the chain and cannot deadlock on it.
* Database triggers (migration 0003) refuse every UPDATE except that one-time sealing and
  every DELETE except retention's (:func:`purge_before`), which removes the oldest events
  as a prefix and records the cut, so :func:`verify` starts the chain there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from domain.clock import Clock
from storage.models import AuditAction, AuditChain, AuditEvent

if TYPE_CHECKING:  # forums imports this module
    from domain.forums import Access

GENESIS = "0" * 64
HASH_VERSION = 1
_PENDING = "samverkan_audit_pending"
# What the chain head's retention cut is recorded as (see purge_before / verify).
CUT_OBJECT_TYPE = "audit_events"


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
    )
    session.add(audit_event)
    session.flush()  # gives the event its id; it commits or rolls back with the change
    pending: list[tuple[int, SessionTransaction | None]] = session.info.setdefault(_PENDING, [])
    pending.append((audit_event.id, session.get_nested_transaction()))
    return audit_event


# --- hashing --------------------------------------------------------------------------------


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


def canonical(row: Mapping[str, Any]) -> bytes:
    """The bytes an event's hash covers (version 1). Changing this breaks every chain: add a
    new version instead. Migration 0003 holds a frozen copy (a unit test keeps them equal)."""
    at = row["at"]
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    action = row["action"]
    payload = {
        "v": HASH_VERSION,
        "seq": row["seq"],
        "prev": row["prev_hash"],
        "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "team": row["team_id"],
        "forum": row["forum_id"],
        "actor": row["actor"],
        "agency": row["actor_agency_id"],
        "action": action.value if isinstance(action, AuditAction) else str(action),
        "type": row["object_type"],
        "ref": row["object_ref"],
        "detail": row["detail"],
    }
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def event_hash(row: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


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
    "seq",
    "prev_hash",
    "hash",
)


def _row_select() -> Any:
    table = AuditEvent.__table__
    return select(*(table.c[name] for name in _COLUMNS))


def lock_head(session: Session) -> AuditChain:
    """The chain head, locked until this transaction ends (created if missing)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(AuditChain)
        .values(
            id=1,
            last_seq=0,
            last_hash=GENESIS,
            start_seq=1,
            start_hash=GENESIS,
            purge_below_seq=None,
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )
    head = session.scalars(
        select(AuditChain)
        .where(AuditChain.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return head


def _seal(session: Session) -> None:
    """Give this transaction's events their place in the chain (before_commit hook)."""
    pending: list[tuple[int, SessionTransaction | None]] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()
    ids = [event_id for event_id, _ in pending]
    table = AuditEvent.__table__
    rows = session.execute(
        _row_select().where(table.c.id.in_(ids), table.c.hash.is_(None)).order_by(table.c.id)
    ).all()
    if not rows:
        return
    head = lock_head(session)
    seq, prev = head.last_seq, head.last_hash
    identity = session.identity_map
    for row in rows:
        seq += 1
        values = dict(row._mapping)
        values.update(seq=seq, prev_hash=prev)
        digest = event_hash(values)
        session.execute(
            update(AuditEvent)
            .where(AuditEvent.id == row.id, AuditEvent.hash.is_(None))
            .values(seq=seq, prev_hash=prev, hash=digest)
            .execution_options(synchronize_session=False)
        )
        loaded = identity.get(identity_key(AuditEvent, row.id))
        if loaded is not None:
            set_committed_value(loaded, "seq", seq)
            set_committed_value(loaded, "prev_hash", prev)
            set_committed_value(loaded, "hash", digest)
        prev = digest
    head.last_seq, head.last_hash = seq, prev
    session.flush()


def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """A savepoint (or the whole transaction) rolled back: its events are gone."""
    pending: list[tuple[int, SessionTransaction | None]] | None = session.info.get(_PENDING)
    if not pending:
        return
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
        return

    def inside(trans: SessionTransaction | None) -> bool:
        while trans is not None:
            if trans is previous_transaction:
                return True
            trans = trans.parent
        return False

    session.info[_PENDING] = [(i, t) for i, t in pending if not inside(t)]


event.listen(Session, "before_commit", _seal)
event.listen(Session, "after_soft_rollback", _forget_rolled_back)


# --- verification ---------------------------------------------------------------------------


@dataclass
class Verification:
    checked: int = 0
    start_seq: int = 1
    last_seq: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, *, batch: int = 2000, max_problems: int = 20) -> Verification:
    """Recompute the chain: every event's hash, every link, no gaps, the head and the cut.

    Problems are plain English lines for the operator (CLI); the first few are kept.
    """
    table = AuditEvent.__table__
    head = session.get(AuditChain, 1)
    start_seq = head.start_seq if head else 1
    start_hash = head.start_hash if head else GENESIS
    result = Verification(start_seq=start_seq)

    def problem(text: str) -> None:
        if len(result.problems) < max_problems:
            result.problems.append(text)

    unsealed = session.scalar(select(func.count()).select_from(table).where(table.c.hash.is_(None)))
    if unsealed:
        problem(f"{unsealed} event(s) have no place in the chain (written around the log)")
    before_start = session.scalar(
        select(func.count()).select_from(table).where(table.c.seq < start_seq)
    )
    if before_start:
        problem(f"{before_start} event(s) lie before the chain's start (seq {start_seq})")
    if start_seq > 1:
        _check_cut(session, start_seq, start_hash, problem)

    expected_seq, prev = start_seq, start_hash
    for row in _rows_from(session, start_seq, batch):
        values = dict(row._mapping)
        if values["seq"] != expected_seq:
            if values["seq"] > expected_seq:
                problem(f"event(s) seq {expected_seq}–{values['seq'] - 1} are missing")
            expected_seq = values["seq"]
        if values["prev_hash"] != prev:
            problem(f"seq {values['seq']} (id {values['id']}): link to the previous event broken")
        if event_hash(values) != values["hash"]:
            problem(f"seq {values['seq']} (id {values['id']}): content does not match its hash")
        prev = values["hash"]
        expected_seq += 1
        result.checked += 1
    result.last_seq = expected_seq - 1
    if head is not None and (head.last_seq, head.last_hash) != (result.last_seq, prev):
        problem(
            f"the chain head says seq {head.last_seq} but the log ends at {result.last_seq}"
            " (events after it were removed, or added around the log)"
        )
    return result


def _rows_from(session: Session, start_seq: int, batch: int) -> Iterator[Any]:
    table = AuditEvent.__table__
    after = start_seq - 1
    while True:
        rows = session.execute(
            _row_select().where(table.c.seq > after).order_by(table.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def _check_cut(session: Session, start_seq: int, start_hash: str, problem: Any) -> None:
    """A chain that starts after 1 must say so in an event of its own (retention's)."""
    cuts = session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == CUT_OBJECT_TYPE,
            AuditEvent.action == AuditAction.DELETE,
            AuditEvent.seq >= start_seq,
        )
    ).all()
    if not any(
        (c.detail or {}).get("cut_seq") == start_seq
        and (c.detail or {}).get("cut_hash") == start_hash
        for c in cuts
    ):
        problem(f"the chain starts at seq {start_seq} but no retention event records that cut")


# --- retention of the log itself ------------------------------------------------------------


def purge_before(session: Session, clock: Clock, *, cutoff: dt.datetime, actor: str) -> int:
    """Remove the oldest events recorded before ``cutoff``, as a prefix of the chain, and
    record the cut as an event of its own. Returns how many were removed.

    Only a prefix may go, so the rest still verifies: the cut is the first event at or after
    ``cutoff`` (events later in the chain but older are kept until everything before them
    goes). The DELETE trigger allows it because ``purge_below_seq`` is set in this
    transaction only, and reset before it commits.
    """
    table = AuditEvent.__table__
    head = lock_head(session)
    first_kept = session.scalar(
        select(func.min(table.c.seq)).where(table.c.at >= cutoff, table.c.seq.is_not(None))
    )
    cut = first_kept if first_kept is not None else head.last_seq + 1
    if cut <= head.start_seq:
        return 0
    if first_kept is not None:
        cut_hash = session.scalar(select(table.c.prev_hash).where(table.c.seq == cut))
    else:
        cut_hash = head.last_hash
    session.execute(update(AuditChain).where(AuditChain.id == 1).values(purge_below_seq=cut))
    result = session.execute(delete(AuditEvent).where(AuditEvent.seq < cut))
    removed = int(result.rowcount or 0)  # type: ignore[attr-defined]
    session.execute(
        update(AuditChain)
        .where(AuditChain.id == 1)
        .values(purge_below_seq=None, start_seq=cut, start_hash=cut_hash or GENESIS)
    )
    session.expire(head)
    record(
        session,
        clock,
        actor=actor,
        action=AuditAction.DELETE,
        object_type=CUT_OBJECT_TYPE,
        object_ref=f"seq<{cut}",
        detail={"removed": removed, "cut_seq": cut, "cut_hash": cut_hash or GENESIS},
    )
    return removed
