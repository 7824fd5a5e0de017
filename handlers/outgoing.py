"""The one way out to Slack for the listeners: messages go into the outbox.

A listener queues every message it causes (channel posts, DMs, updates, file shares) with
these helpers in the same transaction as the change that causes it, then asks the outbox to
deliver now (:func:`deliver_now`; the scheduler would within its interval). A Slack outage
delays such a message instead of losing it. Only ``views.*``, ``response_url`` replies and
the ack itself go to Slack directly (tests/unit/test_one_way_out.py holds the line).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from domain import scheduling
from domain.clock import Clock
from handlers.deps import Deps
from handlers.gateway import WebApiGateway

log = logging.getLogger(__name__)


def _key(kind: str, key: str | None) -> str:
    # A listener's message is queued once per request; a fresh key unless the caller has
    # a natural one (the same key is only ever queued once).
    return f"{kind}:{key}" if key else f"{kind}:{uuid.uuid4().hex}"


def post(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    channel: str,
    message: dict[str, Any],
    key: str | None = None,
) -> str:
    """Queue a message to a channel (or to a person's DM, ``channel`` being their id).
    Returns the outbox key (an update or a thread reply can wait for it)."""
    dedupe_key = _key("post", key)
    scheduling.enqueue(
        session,
        clock,
        team_id=team_id,
        method="chat.postMessage",
        payload={**message, "channel": channel},
        dedupe_key=dedupe_key,
    )
    return dedupe_key


def tell(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    user_id: str,
    text: str,
    key: str | None = None,
) -> str:
    """Queue a direct message (plain mrkdwn text) to one person."""
    return post(session, clock, team_id=team_id, channel=user_id, message={"text": text}, key=key)


def update(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    channel: str,
    ts: str,
    message: dict[str, Any],
    key: str | None = None,
) -> str:
    """Queue ``chat.update`` of a message we posted (its channel and ts known)."""
    dedupe_key = _key("update", key)
    scheduling.enqueue(
        session,
        clock,
        team_id=team_id,
        method="chat.update",
        payload={**message, "channel": channel, "ts": ts},
        dedupe_key=dedupe_key,
    )
    return dedupe_key


def share_file(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    user_id: str,
    data: bytes,
    filename: str,
    comment: str,
    alt_text: str | None = None,
) -> str:
    """Queue a file for the person's DM with the bot (never a channel); an image has
    ``alt_text``. The file's bytes leave the outbox row once it is delivered."""
    payload = scheduling.upload_payload(
        channel=user_id, filename=filename, title=filename, data=data, alt_text=alt_text
    )
    payload["initial_comment"] = comment
    dedupe_key = _key("file", None)
    scheduling.enqueue(
        session,
        clock,
        team_id=team_id,
        method=scheduling.UPLOAD_METHOD,
        payload=payload,
        dedupe_key=dedupe_key,
    )
    return dedupe_key


def deliver_now(deps: Deps, client: WebClient) -> None:
    """Send what was just queued now, with the request's client (the scheduler would,
    within its interval). A failure leaves it queued; the scheduler retries."""
    try:
        scheduling.deliver(
            deps.sessions, deps.clock, WebApiGateway(lambda _team: client), replica="listener"
        )
    except Exception as exc:  # the outbox keeps it; the scheduler sends it later
        log.warning("immediate delivery failed, the scheduler retries: %s", exc)
