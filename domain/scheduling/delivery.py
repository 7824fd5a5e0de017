"""Delivery of the outbox: each row claimed, sent, and settled, with retries.

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

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from domain.clock import Clock, as_utc
from domain.scheduling.effects import LEASE
from domain.scheduling.outbox import AFTER, FILL, RENDER, RENDER_ARGS, emptied
from domain.scheduling.reach import note_delivery
from storage.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

# Slack being busy or away (429, 5xx, unreachable) delays a message, it does not drop it:
# such failures are retried with growing pauses for a day before the message is given up.
GIVE_UP_AFTER = dt.timedelta(hours=24)
MAX_PAUSE = dt.timedelta(minutes=5)
DEPENDENCY_WAIT = dt.timedelta(seconds=2)
# At most this many looks per delivery (:func:`deliver`): each after a round that sent.
ROUNDS = 5


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


@runtime_checkable
class ReachWatcher(Protocol):
    """A gateway told when a forum's channel became unreachable for the bot, or reachable
    again (:mod:`domain.scheduling.reach`), after that was committed."""

    def reach_changed(self, team_id: str, forum_id: int) -> None:
        """The forum's members' App Home shows the state: publish it anew."""
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


def _in_flight(session: Session, payload: dict[str, Any], now: dt.datetime) -> bool:
    """Whether every message this one waits for that is not sent yet is being sent right now
    (claimed, its lease running): then the deliverer sending it takes this one next
    (:func:`deliver` looks again after what it sent), with no pause."""
    keys = set((payload.get(FILL) or {}).values())
    if payload.get(AFTER):
        keys.add(str(payload[AFTER]))
    waiting = session.execute(
        select(OutboxMessage.lease_until).where(
            OutboxMessage.dedupe_key.in_(keys), OutboxMessage.status == OutboxStatus.PENDING
        )
    ).all()
    return bool(waiting) and all(lease is not None and as_utc(lease) > now for (lease,) in waiting)


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
    kinds: list[str] = []
    # Another look after a round that sent something: a message queued meanwhile that waits
    # for one sent in that round (an update of a posted agenda whose previous update another
    # request queued and this round sent) goes now, not at the scheduler's next pass.
    for _round in range(ROUNDS):
        sent_before = kinds.count("sent")
        kinds += _deliver_round(
            sessions, clock, gateway, replica=replica, limit=limit, workers=workers
        )
        if kinds.count("sent") == sent_before:
            break
    return Delivery(
        sent=kinds.count("sent"), failed=kinds.count("failed"), retrying=kinds.count("retrying")
    )


def _deliver_round(
    sessions: Callable[[], Session],
    clock: Clock,
    gateway: SlackGateway,
    *,
    replica: str,
    limit: int,
    workers: int,
) -> list[str]:
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
    return kinds


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
            if _in_flight(session, message.payload, now):
                return "waiting"  # its deliverer sends this one right after (deliver)
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
    reached: tuple[str | None] | None = None  # (Slack's refusal or None) when it is known
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
        reached = (None,)
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
        if isinstance(exc, Refused):
            reached = (exc.code,)
    if outcome["status"] is not OutboxStatus.PENDING:
        # Settled: the text is in Slack (or will never be); the outbox keeps none of it.
        outcome["payload"] = emptied(message.payload)
    with sessions() as session, session.begin():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id)
            .values(lease_until=None, **outcome)
        )
    if reached is not None:  # a forum's channel the bot cannot post in, or can again
        # After the settle, in a transaction of its own: a failure here (a lock on the
        # forum's row) must not undo the settle, which would send the message again.
        changed: int | None = None
        try:
            with sessions() as session, session.begin():
                changed = note_delivery(
                    session,
                    clock,
                    team_id=message.team_id,
                    channel=str(payload.get("channel") or ""),
                    error=reached[0],
                )
        except Exception as exc:  # the next post to the channel notes it again
            log.warning("outbox: channel state not noted: %s", exc.__class__.__name__)
        if changed is not None and message.team_id and isinstance(gateway, ReachWatcher):
            try:  # committed: the members' App Home shows the new state
                gateway.reach_changed(message.team_id, changed)
            except Exception as exc:  # best effort: the next app_home_opened shows it
                log.warning("outbox: App Home not refreshed: %s", exc.__class__.__name__)
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
