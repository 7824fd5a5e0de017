"""Retention of the log itself: purging a chain's oldest events as a prefix (legal holds kept,
the cut recorded and signed), and PostgreSQL's month partitions."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    false,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from domain.audit.chain import pending_chains, seal_chain
from domain.audit.keys import (
    _EVENTS,
    _HEADS,
    CUT_OBJECT_TYPE,
    GENESIS,
    GLOBAL_CHAIN,
    PARTITION_RE,
    PARTITION_SCHEMA,
    AuditKeys,
    current_keys,
)
from domain.audit.verification import _cut_message
from domain.audit.writing import record
from domain.clock import Clock, as_utc
from storage.models import AuditAction

log = logging.getLogger(__name__)

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
    signing = keys or current_keys()
    cuts: list[ChainCut] = []
    # Heads are locked in one order (two replicas' retention cannot deadlock), and what is
    # committed is sealed first, so the cut sees the whole chain (this also seals where no
    # background sealer runs).
    for chain in sorted(set(_due_chains(session, cutoff)) | set(pending_chains(session))):
        seal_chain(session, chain, keys=signing, wait=True, limit=None)  # locks the head
        head = session.execute(select(_HEADS).where(_HEADS.c.chain == chain)).one()
        if not (
            (head.start_at is not None and as_utc(head.start_at) < cutoff)
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
    # No months are made here: creating a partition locks audit_events, and another run
    # waiting for a head this transaction holds (its own reads or audit events already hold
    # a lock on audit_events) would make a deadlock. Months ahead are made in a transaction
    # of their own (the sealer's housekeeping; the CLI after its run).
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


def _lock_events_without_waiting(session: Session, *, seconds: float = 2.0) -> bool:
    """Take ``audit_events`` (the parent only) ACCESS EXCLUSIVE for the rest of the
    transaction, without ever queueing for it: NOWAIT, tried again every 50 ms for up to
    ``seconds``. A queued lock request would be an edge in PostgreSQL's wait graph: another
    retention run waiting for a chain head this transaction holds, already holding a lock on
    audit_events (its own reads, its forums' audit events), makes a cycle, and its deadlock
    check fails *it*. Sleeping between tries is no edge; the caller falls back to deleting
    the month's rows when the lock does not come."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with session.begin_nested():
                session.execute(
                    text(f"LOCK TABLE ONLY {_EVENTS.name} IN ACCESS EXCLUSIVE MODE NOWAIT")
                )
            return True
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
                raise
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _drop_partition(session: Session, name: str) -> bool:
    try:
        if not _lock_events_without_waiting(session):
            log.warning("audit partition %s not dropped (its rows go one by one): busy", name)
            return False
        with session.begin_nested(), _ShortLockWait(session):
            session.execute(text("SELECT samverkan_audit_drop_partition(:n)"), {"n": name})
        return True
    except DBAPIError as exc:
        log.warning("audit partition %s not dropped (its rows go one by one): %s", name, exc.orig)
        return False
