"""Updates of a message the outbox posted: numbered, in order, rendered when sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import String, Table, and_, bindparam, literal, select, union_all, update
from sqlalchemy.orm import Session

from domain.clock import Clock
from domain.scheduling.outbox import AFTER, FILL, RENDER, RENDER_ARGS, enqueue, key_starts
from storage.models import OutboxMessage, OutboxStatus

# Tries before giving up on a key that other changes keep taking (each lost try means another
# transaction queued an update and committed: progress, so a few are plenty).
_CONTENDED = 5


def updates_of(key: str) -> tuple[str, str]:
    """The range of keys of the updates of the message posted under ``key`` (``key:u…``):
    from ``key:u`` up to, not including, ``key:v``; the keys compare byte by byte (see
    :func:`~domain.scheduling.outbox.key_starts`), so the range holds exactly those keys.
    A range, not ``LIKE 'key:u%'``: a LIKE with a parameter is served by no index under
    PostgreSQL's generic plan (the one a statement prepared after five runs may get, which
    does not know the pattern), so the lookup read every forum's messages and updates;
    and ``_`` in ``forum_created:7`` was a wildcard."""
    prefix = f"{key}:u"
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _in_range(column: Any, lower: str, upper: str, *, postgresql: bool) -> Any:
    """``column`` within the parameters ``lower`` (included) and ``upper`` (excluded),
    compared byte by byte: PostgreSQL's pattern operators (ix_outbox_dedupe_key_pattern,
    varchar_pattern_ops, serves them also under a generic plan); SQLite compares bytewise."""
    if postgresql:
        return and_(
            column.op("~>=~")(bindparam(lower, type_=String)),
            column.op("~<~")(bindparam(upper, type_=String)),
        )
    return and_(column >= bindparam(lower, type_=String), column < bindparam(upper, type_=String))


def _update_lookup() -> Any:  # SQLite's (PostgreSQL's: _LOOKUP_AND_TOUCH)
    """The posted message (``key``) and its latest update (the newest outbox row after it
    whose key starts with ``prefix``) in one round trip. The update is found by walking the
    primary key back from the end, not by scanning the whole outbox as a LIKE would; by its
    number, not a count, so rows that retention removed cannot make a key repeat. Built
    once: a statement object reused keeps its cache key (no rebuilding per save)."""
    columns = (
        OutboxMessage.id,
        OutboxMessage.dedupe_key,
        OutboxMessage.status,
        OutboxMessage.lease_until,
    )
    posted = select(*columns).where(OutboxMessage.dedupe_key == bindparam("key"))
    latest = (
        select(*columns)
        .where(
            OutboxMessage.id
            > select(OutboxMessage.id)
            .where(OutboxMessage.dedupe_key == bindparam("key"))
            .scalar_subquery(),
            _in_range(OutboxMessage.dedupe_key, "prefix", "prefix_upper", postgresql=False),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
        .subquery()
    )
    return union_all(posted, select(latest))


_UPDATE_LOOKUP = _update_lookup()
# Touch a queued update no deliverer has taken: its row stays locked until our commit. The
# touch changes nothing: an update waiting out a pause (Slack's Retry-After, an outage)
# keeps it.
_TOUCH = (
    update(OutboxMessage)
    .where(
        OutboxMessage.id == bindparam("message_id"),
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.lease_until.is_(None),
    )
    .values(not_before=OutboxMessage.not_before)
    .returning(OutboxMessage.id)
    .execution_options(synchronize_session=False)
)


def _latest_and_touch(*, key: str, prefix: str, skip_locked: bool) -> tuple[Any, Any]:
    """PostgreSQL: the latest update after the message posted under the parameter ``key``
    (``latest``, a CTE) and the touch of it (``touched``, an UPDATE as a CTE returning its
    id), with the conditions of :data:`_UPDATE_LOOKUP` and :data:`_TOUCH`: a pending update
    no deliverer has taken, after a posted message that did not fail. Like the two
    statements, the lookup reads the snapshot and the touch re-checks the row once it holds
    its lock (a deliverer that took it first makes it miss). ``skip_locked``: a row another
    transaction holds (a deliverer taking it) counts as taken, waited for by no one."""
    outbox = cast(Table, OutboxMessage.__table__)
    posted = outbox.alias("posted")
    columns = (outbox.c.id, outbox.c.dedupe_key, outbox.c.status, outbox.c.lease_until)
    latest = (
        select(*columns)
        .where(
            outbox.c.id
            > select(outbox.c.id).where(outbox.c.dedupe_key == bindparam(key)).scalar_subquery(),
            _in_range(outbox.c.dedupe_key, prefix, f"{prefix}_upper", postgresql=True),
        )
        # ``id + 0``: not the primary key's order, so no plan walks the primary key back
        # from the newest row (a generic plan did: it guesses the range holds many rows and
        # read every message queued after this one); the range's few rows are sorted.
        .order_by((outbox.c.id + 0).desc())
        .limit(1)
        .cte("latest")
    )
    target: Any = select(latest.c.id).scalar_subquery()
    if skip_locked:
        free = outbox.alias("free")
        target = (
            select(free.c.id)
            .where(
                free.c.id == target,
                free.c.status == OutboxStatus.PENDING,
                free.c.lease_until.is_(None),
            )
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    touched = (
        update(outbox)
        .where(
            outbox.c.id == target,
            outbox.c.status == OutboxStatus.PENDING,
            outbox.c.lease_until.is_(None),
            select(posted.c.id)
            .where(
                posted.c.dedupe_key == bindparam(key),
                posted.c.status != OutboxStatus.FAILED,
            )
            .exists(),
        )
        # Locks the row without moving its send time (a Retry-After wait stays).
        .values(not_before=outbox.c.not_before)
        .returning(outbox.c.id)
        .cte("touched")
    )
    return latest, touched


def _update_lookup_and_touch(*, skip_locked: bool) -> Any:
    """PostgreSQL: :data:`_UPDATE_LOOKUP` and :data:`_TOUCH` in one round trip (the touch a
    CTE of the lookup, ``touched`` true on the latest update's row when it was touched)."""
    outbox = cast(Table, OutboxMessage.__table__)
    latest, touched = _latest_and_touch(key="key", prefix="prefix", skip_locked=skip_locked)
    columns = (outbox.c.id, outbox.c.dedupe_key, outbox.c.status, outbox.c.lease_until)
    return union_all(
        select(*columns, literal(False).label("touched")).where(
            outbox.c.dedupe_key == bindparam("key")
        ),
        select(*latest.c, select(touched.c.id).exists().label("touched")),
    ).add_cte(touched)


_LOOKUP_AND_TOUCH = _update_lookup_and_touch(skip_locked=False)
_LOOKUP_AND_TOUCH_FREE = _update_lookup_and_touch(skip_locked=True)


@dataclass(frozen=True)
class UpdateOf:
    """An update of the message posted under dedupe key ``key`` that a change asks for
    (:func:`enqueue_update`'s arguments), for a change that queues it with its own write
    (:func:`touch_riding`)."""

    team_id: str | None
    key: str
    render: str
    args: Mapping[str, Any]

    def parameters(self) -> dict[str, str]:
        """The parameters of :func:`touch_riding`'s CTE."""
        lower, upper = updates_of(self.key)
        return {"update_key": self.key, "update_prefix": lower, "update_prefix_upper": upper}


def touch_riding() -> tuple[Any, Any]:
    """PostgreSQL: the touch of :func:`enqueue_update` as a CTE another statement carries
    (its parameters ``update_key``, ``update_prefix`` and ``update_prefix_upper``:
    :meth:`UpdateOf.parameters`), and
    the boolean to return from that statement: whether it touched. A row another
    transaction holds counts as taken (``SKIP LOCKED``), so the statement never waits for
    a deliverer, whatever locks it took before; when it did not touch, queue the update
    with :func:`enqueue_update` and ``skip_locked=True``. Build once (a statement object
    reused keeps its cache key)."""
    _latest, touched = _latest_and_touch(key="update_key", prefix="update_prefix", skip_locked=True)
    return touched, select(touched.c.id).exists()


def enqueue_update(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    key: str,
    render: str,
    args: Mapping[str, Any],
    skip_locked: bool = False,
) -> bool:
    """Queue ``chat.update`` of the message posted under dedupe key ``key``, rendered when it
    is delivered, after any earlier update of it (keyed ``key:u1``, ``key:u2``, …). False
    when that message is not in the outbox or could not be sent.

    Coalesced: while an update is queued and no deliverer has taken it yet, it will show the
    state as it is when it goes, so no other is added; it is only touched, which locks its
    row until this transaction commits. A deliverer that takes it meanwhile waits for that
    commit and renders what it wrote; one that took it first makes the touch miss (its
    lease is set), and a new update goes after it. So many changes in a row cost one
    update of the message in Slack, and each change two statements, not a rendering.

    ``skip_locked`` (PostgreSQL): an update another transaction holds counts as taken and
    is not waited for; for a change that already holds a lock a deliverer may wait for
    while it holds the update (a forum's row: ``domain.forums.saving``).
    """
    both = session.get_bind().dialect.name == "postgresql"  # the touch in the lookup
    if both:
        lookup = _LOOKUP_AND_TOUCH_FREE if skip_locked else _LOOKUP_AND_TOUCH
    else:
        lookup = _UPDATE_LOOKUP
    lower, upper = updates_of(key)
    params = {"key": key, "prefix": lower, "prefix_upper": upper}
    for _ in range(_CONTENDED):
        posted = latest = None
        for row in session.execute(lookup, params):
            if row.dedupe_key == key:
                posted = row
            else:
                latest = row
        if posted is None or posted.status is OutboxStatus.FAILED:
            return False
        if latest is not None and (
            latest.touched
            if both
            else latest.status is OutboxStatus.PENDING
            and latest.lease_until is None
            and session.scalar(_TOUCH, {"message_id": latest.id}) is not None
        ):
            return True
        if _enqueue_next(
            session,
            clock,
            team_id=team_id,
            key=key,
            latest=latest,
            payload={RENDER: render, RENDER_ARGS: dict(args)},
        ):
            return True
        # A change at the same time queued this number (it committed while our insert
        # waited on the key): dropping ours could leave that update rendered before our
        # commit. Look again (PostgreSQL's next statement sees that row): touch it, or go
        # after it if a deliverer has taken it.
    raise RuntimeError(f"outbox: updates of {key!r} kept colliding")


def _next_update(key: str, latest: Any) -> tuple[str, int]:
    """For a new update of the message posted under ``key``, given the latest earlier update
    (a row with ``dedupe_key`` and ``status``, or None): the key it goes after, and its
    number. Numbered from the latest key, not a count: rows that retention removed cannot
    make a key repeat (ON CONFLICT would drop the update). After the latest update, so two
    are never sent out of order; not after one that was given up (waiting for it would give
    this one, and every later one, up too): this one shows its state when it is sent."""
    if latest is None:
        return key, 1
    number = int(latest.dedupe_key.rsplit(":u", 1)[1]) + 1
    return (key if latest.status is OutboxStatus.FAILED else latest.dedupe_key), number


def _enqueue_next(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    key: str,
    latest: Any,
    payload: dict[str, Any],
) -> bool:
    """Queue ``payload`` as the next ``chat.update`` of the message posted under ``key``:
    numbered and ordered after ``latest`` by :func:`_next_update`, its ts filled in from
    that message when it is sent. False when another change took that number first."""
    after, number = _next_update(key, latest)
    return enqueue(
        session,
        clock,
        team_id=team_id,
        method="chat.update",
        payload={**payload, FILL: {"ts": key}, AFTER: after},
        dedupe_key=f"{key}:u{number}",
    )


def enqueue_dm_update(
    session: Session, clock: Clock, *, team_id: str | None, key: str, message: dict[str, Any]
) -> None:
    """Queue a chat.update of the DM sent under dedupe key ``key`` (``...:user``), after that
    DM and any earlier update of it: the updates are keyed ``key:u1``, ``key:u2``, ..."""
    user = key.rsplit(":", 1)[-1]
    for _ in range(_CONTENDED):
        latest = session.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.status)
            .where(key_starts(session, f"{key}:u"))
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        ).first()
        if _enqueue_next(
            session,
            clock,
            team_id=team_id,
            key=key,
            latest=latest,
            # A DM: the gateway opens it to find its D… id.
            payload={"channel": user, **message},
        ):
            return
        # Another update of this DM took the number at the same time: ours (newer text)
        # goes after it rather than being dropped.
    raise RuntimeError(f"outbox: updates of {key!r} kept colliding")
