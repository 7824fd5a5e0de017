"""Scheduled effects that happen exactly once, and the outbox of Slack calls.

Every scheduled effect (an agenda post, a reminder, …) is a row keyed by
(forum, kind, subject, occurrence). A replica *claims* the row with one conditional UPDATE
before acting, so two replicas never both act; a claim whose lease ran out (the replica
died) may be taken over, and a bot that was down finds unclaimed past rows and catches up.
The effect itself is written to the outbox in the same transaction, and the outbox is
delivered with retries, so a Slack outage delays a message but never loses or doubles it.
APScheduler only wakes the process up; the database decides what is due.

Exactly once across a crash. Slack's Web API has no idempotency key, and a post is
settled (marked sent) in a transaction after Slack answered: a replica killed between the
two leaves the row claimed, and once its lease runs out another replica takes it over.
So every posted message carries its outbox key in Slack message metadata
(``event_type`` ``samverkan_outbox``), and a replica that takes over an expired lease of a
``chat.postMessage`` first looks for that key in the channel's recent history
(``conversations.history`` with ``include_all_metadata``, its latest
:data:`HISTORY_LOOKUP_LIMIT` messages; a count, not a time window, because Slack's clock
is not ours — the test clock runs elsewhere): found, the row is settled with the posted
message's ts and nothing is posted again.

What remains:

* a channel whose history the bot cannot read: it was removed from the channel or the
  channel was archived (the post then fails anyway), or the workspace did not grant the
  history scopes (``channels:history``, ``groups:history``, ``im:history`` for DMs; see
  deploy/slack-manifest.yaml) — the lookup fails and the message is posted, as before;
* more than :data:`HISTORY_LOOKUP_LIMIT` messages in the channel after the lost one
  (the lookup is bounded; a forum channel sees a handful between a crash and the takeover,
  five minutes later);
* a connection that breaks after Slack received a post but before its answer arrived, with
  the replica alive: the row is retried without a lookup only when the lease is ours; a
  ``RetryLater`` for a post Slack may have taken is rare (429 and 5xx are not posts that
  went through);
* other methods (``chat.update`` is idempotent by its ts; file uploads are not looked up).
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, cast, runtime_checkable

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    delete,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from domain.clock import Clock
from storage.models import EffectStatus, OutboxMessage, OutboxStatus, ScheduledEffect

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
# A delivered (or given-up) row keeps no text: its payload is emptied as it settles, and
# the row itself goes after this long (long after any dedupe key or thread could matter).
OUTBOX_KEEP = dt.timedelta(days=90)
# Slack being busy or away (429, 5xx, unreachable) delays a message, it does not drop it:
# such failures are retried with growing pauses for a day before the message is given up.
GIVE_UP_AFTER = dt.timedelta(hours=24)
MAX_PAUSE = dt.timedelta(minutes=5)
# Not a Web API method: a file upload (files_upload_v2, several calls) the gateway makes for
# an outbox row whose payload carries the file (base64), e.g. the situation picture's PNG.
UPLOAD_METHOD = "samverkan.files_upload_v2"


def upload_payload(
    *, channel: str, filename: str, title: str, data: bytes, alt_text: str | None = None
) -> dict[str, Any]:
    """An outbox row's file; ``alt_text`` describes an image for screen readers."""
    payload = {
        "channel": channel,
        "filename": filename,
        "title": title,
        "content_b64": base64.b64encode(data).decode("ascii"),
    }
    if alt_text:
        payload["alt_text"] = alt_text
    return payload


class SlackGateway(Protocol):
    """The one way scheduled work reaches Slack (implemented on slack_sdk in handlers)."""

    def call(self, team_id: str | None, method: str, payload: Mapping[str, Any]) -> str | None:
        """Make a Web API call; return the message ``ts`` where there is one. Raises on
        failure; :class:`RetryLater` says when to try again."""
        ...


@runtime_checkable
class Renderer(Protocol):
    """A gateway that renders a payload when it is delivered (see :func:`enqueue_update`)."""

    def render(self, session: Session, name: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
        """The message ``name`` renders from ``args`` now (the current state, read in
        ``session``); None when there is nothing to show any more (e.g. the forum is gone)."""
        ...


@runtime_checkable
class PostFinder(Protocol):
    """A gateway that can look for a message it posted (by its outbox key)."""

    def find_posted(self, team_id: str | None, channel: str, key: str) -> str | None:
        """The ts of the message carrying ``key`` in its metadata among the channel's
        latest :data:`HISTORY_LOOKUP_LIMIT`; None when there is none (or the history
        cannot be read)."""
        ...


# The metadata event type our posts carry (with the outbox key in its payload).
METADATA_EVENT = "samverkan_outbox"
HISTORY_LOOKUP_LIMIT = 200


def with_key(method: str, payload: dict[str, Any], key: str) -> dict[str, Any]:
    """A ``chat.postMessage`` payload that carries its outbox key in message metadata."""
    if method != "chat.postMessage" or "metadata" in payload:
        return payload
    return {**payload, "metadata": {"event_type": METADATA_EVENT, "event_payload": {"key": key}}}


class Refused(Exception):
    """Slack refused the call for a reason retrying will not fix (``code``: Slack's error,
    e.g. ``not_in_channel``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class RetryLater(Exception):
    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds


def _insert(session: Session) -> Callable[..., Any]:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def claim(
    session: Session,
    clock: Clock,
    *,
    forum_id: int,
    kind: str,
    subject: str,
    occurrence: dt.datetime,
    due_at: dt.datetime,
    replica: str,
) -> ScheduledEffect | None:
    """Claim one effect for this replica, or None if it is done or claimed by a live one."""
    now = clock.now()
    session.execute(
        _insert(session)(ScheduledEffect)
        .values(
            forum_id=forum_id,
            kind=kind,
            subject=subject,
            occurrence=occurrence,
            due_at=due_at,
            status=EffectStatus.PENDING,
            late=False,
        )
        .on_conflict_do_nothing(index_elements=["forum_id", "kind", "subject", "occurrence"])
    )
    claimed = session.scalar(
        update(ScheduledEffect)
        .where(
            ScheduledEffect.forum_id == forum_id,
            ScheduledEffect.kind == kind,
            ScheduledEffect.subject == subject,
            ScheduledEffect.occurrence == occurrence,
            or_(
                ScheduledEffect.status == EffectStatus.PENDING,
                and_(
                    ScheduledEffect.status == EffectStatus.CLAIMED,
                    ScheduledEffect.lease_until < now,
                ),
            ),
        )
        .values(
            status=EffectStatus.CLAIMED,
            claimed_by=replica,
            claimed_at=now,
            lease_until=now + LEASE,
        )
        .returning(ScheduledEffect.id)
    )
    return session.get(ScheduledEffect, claimed) if claimed is not None else None


def complete(
    session: Session, clock: Clock, effect: ScheduledEffect, *, late: bool = False
) -> None:
    effect.status = EffectStatus.DONE
    effect.done_at = clock.now()
    effect.late = late


def enqueue(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    method: str,
    payload: dict[str, Any],
    dedupe_key: str,
) -> None:
    """Queue one Slack call; the same ``dedupe_key`` is only ever queued once."""
    now = clock.now()
    session.execute(
        _insert(session)(OutboxMessage)
        .values(
            team_id=team_id,
            method=method,
            payload=payload,
            dedupe_key=dedupe_key,
            status=OutboxStatus.PENDING,
            created_at=now,
            not_before=now,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )


# Payload keys the outbox itself reads (never sent to Slack): "_after" names the dedupe key
# of a message that must be sent first; "_fill" maps a payload field to the dedupe key whose
# message ts it takes (a thread reply's thread_ts, an update's ts).
AFTER = "_after"
FILL = "_fill"
DEPENDENCY_WAIT = dt.timedelta(seconds=2)
# A payload rendered when it is delivered, not when it is queued: "_render" names what the
# gateway renders (:class:`Renderer`), "_args" its arguments (ids, never text).
RENDER = "_render"
RENDER_ARGS = "_args"


def _update_lookup() -> Any:
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
            OutboxMessage.dedupe_key.like(bindparam("prefix")),
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


def _update_lookup_and_touch() -> Any:
    """PostgreSQL: :data:`_UPDATE_LOOKUP` and :data:`_TOUCH` in one round trip. The touch is
    a CTE of the lookup (``touched``, true on the latest update's row when it was touched),
    with the same conditions: a pending update no deliverer has taken, after a posted
    message that did not fail. Like the two statements, the lookup reads the snapshot and
    the touch re-checks the row once it holds its lock (a deliverer that took it first
    makes it miss)."""
    outbox = cast(Table, OutboxMessage.__table__)
    posted = outbox.alias("posted")
    columns = (outbox.c.id, outbox.c.dedupe_key, outbox.c.status, outbox.c.lease_until)
    latest = (
        select(*columns)
        .where(
            outbox.c.id
            > select(outbox.c.id).where(outbox.c.dedupe_key == bindparam("key")).scalar_subquery(),
            outbox.c.dedupe_key.like(bindparam("prefix")),
        )
        .order_by(outbox.c.id.desc())
        .limit(1)
        .cte("latest")
    )
    touched = (
        update(outbox)
        .where(
            outbox.c.id == select(latest.c.id).scalar_subquery(),
            outbox.c.status == OutboxStatus.PENDING,
            outbox.c.lease_until.is_(None),
            select(posted.c.id)
            .where(
                posted.c.dedupe_key == bindparam("key"),
                posted.c.status != OutboxStatus.FAILED,
            )
            .exists(),
        )
        # Locks the row without moving its send time (a Retry-After wait stays).
        .values(not_before=outbox.c.not_before)
        .returning(outbox.c.id)
        .cte("touched")
    )
    return union_all(
        select(*columns, literal(False).label("touched")).where(
            outbox.c.dedupe_key == bindparam("key")
        ),
        select(*latest.c, select(touched.c.id).exists().label("touched")),
    ).add_cte(touched)


_LOOKUP_AND_TOUCH = _update_lookup_and_touch()


def enqueue_update(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    key: str,
    render: str,
    args: Mapping[str, Any],
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
    """
    posted = latest = None
    both = session.get_bind().dialect.name == "postgresql"  # the touch in the lookup
    lookup = _LOOKUP_AND_TOUCH if both else _UPDATE_LOOKUP
    params = {"key": key, "prefix": f"{key}:u%"}
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
    after, number = _next_update(key, latest)
    enqueue(
        session,
        clock,
        team_id=team_id,
        method="chat.update",
        payload={
            RENDER: render,
            RENDER_ARGS: dict(args),
            FILL: {"ts": key},
            AFTER: after,
        },
        dedupe_key=f"{key}:u{number}",
    )
    return True


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


def enqueue_dms(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    users: Iterable[str],
    payload: dict[str, Any],
    key: str,
) -> None:
    """Queue the same message as a DM to each user, once: the dedupe key is ``key:user``."""
    for user in users:
        enqueue(
            session,
            clock,
            team_id=team_id,
            method="chat.postMessage",
            payload={"channel": user, **payload},
            dedupe_key=f"{key}:{user}",
        )


def key_starts(session: Session, prefix: str) -> ColumnElement[bool]:
    """Outbox rows whose dedupe key starts with ``prefix``, as a range of keys that an index
    serves, also under a generic plan (``LIKE 'prefix%'`` with a parameter is served by no
    index: the database's collation is not ``C``, and a generic plan does not know the
    prefix). Keys compare byte by byte here, so the range holds exactly the prefixed keys."""
    key = OutboxMessage.dedupe_key
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    if session.get_bind().dialect.name == "postgresql":
        # The pattern operators compare bytewise; ix_outbox_dedupe_key_pattern
        # (varchar_pattern_ops, migration 0015_outbox_key_index) serves them.
        return and_(key.op("~>=~")(prefix), key.op("~<~")(upper))
    return and_(key >= prefix, key < upper)  # SQLite compares bytewise (BINARY) already


def enqueue_dm_update(
    session: Session, clock: Clock, *, team_id: str | None, key: str, message: dict[str, Any]
) -> None:
    """Queue a chat.update of the DM sent under dedupe key ``key`` (``...:user``), after that
    DM and any earlier update of it: the updates are keyed ``key:u1``, ``key:u2``, ..."""
    user = key.rsplit(":", 1)[-1]
    latest = session.execute(
        select(OutboxMessage.dedupe_key, OutboxMessage.status)
        .where(key_starts(session, f"{key}:u"))
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).first()
    previous, number = _next_update(key, latest)
    enqueue(
        session,
        clock,
        team_id=team_id,
        method="chat.update",
        payload={
            "channel": user,  # a DM: the gateway opens it to find its D… id
            **message,
            FILL: {"ts": key},
            AFTER: previous,
        },
        dedupe_key=f"{key}:u{number}",
    )


def _resolve(
    session: Session, payload: dict[str, Any]
) -> tuple[dict[str, Any], OutboxStatus | None]:
    """The payload to send, or the status that makes it wait (PENDING) or fail (FAILED)."""
    fills: dict[str, str] = dict(payload.get(FILL) or {})
    keys = set(fills.values())
    if payload.get(AFTER):
        keys.add(str(payload[AFTER]))
    clean = {k: v for k, v in payload.items() if not k.startswith("_")}
    if not keys:
        return clean, None
    rows = {
        row.dedupe_key: row
        for row in session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.in_(keys)))
    }
    for key in keys:
        row = rows.get(key)
        if row is None or row.status == OutboxStatus.PENDING:
            return clean, OutboxStatus.PENDING
        if row.status == OutboxStatus.FAILED:
            return clean, OutboxStatus.FAILED
    for field, key in fills.items():
        clean[field] = rows[key].result_ts
    return clean, None


@dataclass(frozen=True)
class Delivery:
    sent: int
    failed: int
    retrying: int


def deliver(
    sessions: Callable[[], Session],
    clock: Clock,
    gateway: SlackGateway,
    *,
    replica: str,
    limit: int = 50,
    workers: int = 1,
) -> Delivery:
    """Send due outbox rows. Each row is claimed (conditional UPDATE with a lease) before it
    is sent, so two replicas never send the same message."""
    with sessions() as session, session.begin():
        now = clock.now()
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.payload)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.not_before <= now,
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
    # Messages that wait for another one (thread replies, updates) go after the rest, in
    # order, so they find what they depend on sent; the rest may go several at once.
    free = [mid for mid, payload in rows if not (payload.get(AFTER) or payload.get(FILL))]
    dependent = [mid for mid, payload in rows if payload.get(AFTER) or payload.get(FILL)]
    if workers > 1 and len(free) > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="outbox") as pool:
            kinds = list(
                pool.map(
                    lambda mid: _deliver_one(sessions, clock, gateway, mid, replica=replica), free
                )
            )
    else:
        kinds = [_deliver_one(sessions, clock, gateway, mid, replica=replica) for mid in free]
    kinds += [_deliver_one(sessions, clock, gateway, mid, replica=replica) for mid in dependent]
    return Delivery(
        sent=kinds.count("sent"), failed=kinds.count("failed"), retrying=kinds.count("retrying")
    )


def _deliver_one(
    sessions: Callable[[], Session],
    clock: Clock,
    gateway: SlackGateway,
    message_id: int,
    *,
    replica: str,
) -> str:
    """Claim, send and settle one outbox row: "sent", "failed", "retrying" or "skipped"."""
    with sessions() as session, session.begin():
        now = clock.now()
        # A lease still set but run out: its claimer died, maybe right after Slack answered.
        taken_over = session.scalar(
            select(OutboxMessage.lease_until.is_not(None)).where(OutboxMessage.id == message_id)
        )
        mine = session.scalar(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status == OutboxStatus.PENDING,
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
            )
            .values(claimed_by=replica, lease_until=now + LEASE)
            .returning(OutboxMessage.id)
        )
        message = session.get(OutboxMessage, mine) if mine is not None else None
        if message is None:
            return "skipped"  # another replica took it
        payload, wait = _resolve(session, message.payload)
        if wait is OutboxStatus.PENDING and now - message.created_at > GIVE_UP_AFTER:
            wait = OutboxStatus.FAILED  # what it waits for was not sent within a day
        if wait is not None:
            # It depends on a message not sent yet (a thread reply, an update): later.
            message.lease_until = None
            if wait is OutboxStatus.FAILED:
                message.status = OutboxStatus.FAILED
                message.last_error = "the message it depends on could not be sent"
                message.payload = emptied(message.payload)
                return "failed"
            message.not_before = now + DEPENDENCY_WAIT
            return "retrying"
        if message.payload.get(RENDER):
            # Rendered now, in the transaction that took it: a change committed before
            # this point is shown; one after it queued an update of its own.
            try:
                rendered = _render(session, gateway, message.payload)
            except Exception as exc:  # logged without its text (it may hold content)
                # A passing failure (a deadlock victim, a dropped connection): tried again
                # later, as a Slack outage would be, not given up at once.
                log.warning(
                    "outbox: could not render %s: %s",
                    message.payload[RENDER],
                    exc.__class__.__name__,
                )
                message.lease_until = None
                message.attempts += 1
                message.last_error = f"rendering: {exc.__class__.__name__}"
                if now - message.created_at > GIVE_UP_AFTER:
                    message.status = OutboxStatus.FAILED
                    message.payload = emptied(message.payload)
                    return "failed"
                message.not_before = now + _pause(message.attempts)
                return "retrying"
            if rendered is None:
                message.lease_until = None
                message.status = OutboxStatus.FAILED
                message.last_error = "nothing to render"
                message.payload = emptied(message.payload)
                return "failed"
            payload = {**rendered, **payload}
    outcome: dict[str, Any]
    payload = with_key(message.method, payload, message.dedupe_key)
    try:
        ts = None
        if taken_over and message.method == "chat.postMessage" and isinstance(gateway, PostFinder):
            ts = gateway.find_posted(
                message.team_id, str(payload.get("channel", "")), message.dedupe_key
            )
        if ts is None:
            ts = gateway.call(message.team_id, message.method, payload)
        outcome = {"status": OutboxStatus.SENT, "sent_at": clock.now(), "result_ts": ts}
        kind = "sent"
    except RetryLater as exc:
        attempts = message.attempts + 1
        give_up = clock.now() - message.created_at > GIVE_UP_AFTER
        # At least what Slack asked for; longer after repeated failures, at most 5 minutes.
        pause = max(dt.timedelta(seconds=exc.seconds), _pause(attempts))
        outcome = {
            "status": OutboxStatus.FAILED if give_up else OutboxStatus.PENDING,
            "attempts": attempts,
            "last_error": str(exc)[:500],
            "not_before": clock.now() + pause,
        }
        kind = "failed" if give_up else "retrying"
    except Exception as exc:
        outcome = {
            "status": OutboxStatus.FAILED,
            "attempts": message.attempts + 1,
            "last_error": (
                exc.code if isinstance(exc, Refused) else f"{exc.__class__.__name__}: {exc}"
            )[:500],
        }
        kind = "failed"
    if outcome["status"] is not OutboxStatus.PENDING:
        # Settled: the text is in Slack (or will never be); the outbox keeps none of it.
        outcome["payload"] = emptied(message.payload)
    with sessions() as session, session.begin():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id)
            .values(lease_until=None, **outcome)
        )
    return kind


def _pause(attempts: int) -> dt.timedelta:
    """The wait before another try: longer after repeated failures, at most 5 minutes."""
    return min(dt.timedelta(seconds=5 * 2 ** min(attempts, 10)), MAX_PAUSE)


def _render(
    session: Session, gateway: SlackGateway, payload: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The rendered message; None when there is nothing to render (no renderer, the forum
    is gone). Raises what the rendering met (the caller tries again later)."""
    if not isinstance(gateway, Renderer):
        return None
    args = payload.get(RENDER_ARGS) or {}
    with session.begin_nested():  # a failed rendering leaves the claim's transaction usable
        return gateway.render(session, str(payload[RENDER]), args)


def emptied(payload: dict[str, Any]) -> dict[str, Any]:
    """What a settled outbox row keeps of its payload: where it went (a channel, or the
    member a DM went to), no text, blocks or file. A posted agenda is updated by the ts
    in ``result_ts`` and the forum's channel, so nothing else is needed."""
    channel = payload.get("channel")
    return {"channel": channel} if isinstance(channel, str) else {}


def prune_outbox(session: Session, clock: Clock) -> int:
    """Delete outbox rows older than :data:`OUTBOX_KEEP` (whatever their state: a row
    pending that long will never go). Uses the (status, not_before) index."""
    cutoff = clock.now() - OUTBOX_KEEP
    result = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_(tuple(OutboxStatus)), OutboxMessage.not_before < cutoff
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def enqueue_files(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    users: Iterable[str],
    files: Sequence[tuple[str, bytes]],
    key: str,
) -> None:
    """Queue each file (name, bytes) as a DM to each user, once: the dedupe key is
    ``key:user:suffix`` (the reports sent by themselves to a forum's coordinators)."""
    for user in users:
        for filename, data in files:
            enqueue(
                session,
                clock,
                team_id=team_id,
                method=UPLOAD_METHOD,
                payload=upload_payload(channel=user, filename=filename, title=filename, data=data),
                dedupe_key=f"{key}:{user}:{filename.rsplit('.', 1)[-1]}",
            )
