"""The outbox: Slack calls queued in the transaction of the change that causes them.

What is queued here is sent by :mod:`domain.scheduling.delivery`.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from domain.clock import Clock
from domain.scheduling.effects import _insert
from storage.models import OutboxMessage, OutboxStatus

# A delivered (or given-up) row keeps no text: its payload is emptied as it settles, and
# the row itself goes after this long (long after any dedupe key or thread could matter).
OUTBOX_KEEP = dt.timedelta(days=90)
# Not a Web API method: a file upload (files_upload_v2, several calls) the gateway makes for
# an outbox row whose payload carries the file (base64), e.g. the situation picture's PNG.
UPLOAD_METHOD = "samverkan.files_upload_v2"

# Payload keys the outbox itself reads (never sent to Slack): "_after" names the dedupe key
# of a message that must be sent first; "_fill" maps a payload field to the dedupe key whose
# message ts it takes (a thread reply's thread_ts, an update's ts).
AFTER = "_after"
FILL = "_fill"
# A payload rendered when it is delivered, not when it is queued: "_render" names what the
# gateway renders (:class:`Renderer`), "_args" its arguments (ids, never text).
RENDER = "_render"
RENDER_ARGS = "_args"


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


def enqueue(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    method: str,
    payload: dict[str, Any],
    dedupe_key: str,
) -> bool:
    """Queue one Slack call; the same ``dedupe_key`` is only ever queued once. False when a
    call under that key was queued already (then nothing is)."""
    now = clock.now()
    queued = session.scalar(
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
        .returning(OutboxMessage.id)  # (rowcount is -1 for this insert on psycopg)
    )
    return queued is not None


def enqueue_all(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    method: str,
    calls: Sequence[tuple[str, dict[str, Any]]],
) -> None:
    """Queue many Slack calls, ``(dedupe_key, payload)`` each, in one statement: as
    :func:`enqueue` for each in turn (a key queued already is skipped), without building
    and sending an INSERT per call (a rating round's invitations, one per person)."""
    if not calls:
        return
    now = clock.now()
    session.execute(
        _insert(session)(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"]),
        [
            {
                "team_id": team_id,
                "method": method,
                "payload": payload,
                "dedupe_key": key,
                "status": OutboxStatus.PENDING,
                "created_at": now,
                "not_before": now,
                "attempts": 0,
            }
            for key, payload in calls
        ],
    )


def enqueue_dms(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    users: Iterable[str],
    payload: dict[str, Any],
    key: str,
) -> None:
    """Queue the same message as a DM to each user, once: the dedupe key is ``key:user``
    (in one statement)."""
    enqueue_all(
        session,
        clock,
        team_id=team_id,
        method="chat.postMessage",
        calls=[(f"{key}:{user}", {"channel": user, **payload}) for user in users],
    )


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


def retire(session: Session, dedupe_key: str) -> bool:
    """Free ``dedupe_key`` for one more message: the row queued under it (if any) keeps its
    place under ``<key>:retired:<id>``, so what it was is still known and the same key may
    be queued once again (the bot's hello in a channel it left and was invited back to).
    False when nothing was queued under the key."""
    row_id = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
    if row_id is None:
        return False
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(dedupe_key=f"{dedupe_key}:retired:{row_id}")
    )
    return True
