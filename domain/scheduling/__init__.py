"""Scheduled effects that happen exactly once, and the outbox of Slack calls.

Every scheduled effect (an agenda post, a reminder, …) is a row keyed by
(forum, kind, subject, occurrence). A replica *claims* the row with one conditional UPDATE
before acting, so two replicas never both act; a claim whose lease ran out (the replica
died) may be taken over, and a bot that was down finds unclaimed past rows and catches up.
The effect itself is written to the outbox in the same transaction, and the outbox is
delivered with retries, so a Slack outage delays a message but never loses or doubles it.
APScheduler only wakes the process up; the database decides what is due.

Its rooms: :mod:`~domain.scheduling.effects` (claiming a scheduled effect),
:mod:`~domain.scheduling.outbox` (queueing Slack calls), :mod:`~domain.scheduling.updates`
(updates of a posted message) and :mod:`~domain.scheduling.delivery` (sending the outbox,
exactly once across a crash). Every public name is importable from ``domain.scheduling``.
"""

from __future__ import annotations

from domain.scheduling.delivery import (
    DEPENDENCY_WAIT,
    GIVE_UP_AFTER,
    HISTORY_LOOKUP_LIMIT,
    MAX_PAUSE,
    METADATA_EVENT,
    Delivery,
    PostFinder,
    ReachWatcher,
    Refused,
    Renderer,
    RetryLater,
    SlackGateway,
    deliver,
    with_key,
)
from domain.scheduling.effects import (
    LEASE,
    Claimable,
    claim,
    complete,
    each_claimed,
    open_to_claim,
    release,
    settled_near,
)
from domain.scheduling.outbox import (
    AFTER,
    FILL,
    OUTBOX_KEEP,
    RENDER,
    RENDER_ARGS,
    UPLOAD_METHOD,
    emptied,
    enqueue,
    enqueue_all,
    enqueue_dms,
    enqueue_files,
    key_starts,
    prune_outbox,
    retire,
    upload_payload,
)
from domain.scheduling.reach import (
    UNREACHABLE,
    channel_refused,
    mark_archived,
    mark_reachable,
)
from domain.scheduling.updates import (
    UpdateOf,
    enqueue_dm_update,
    enqueue_update,
    touch_riding,
)
from domain.scheduling.updates import (
    _next_update as _next_update,
)

__all__ = [
    "AFTER",
    "DEPENDENCY_WAIT",
    "FILL",
    "GIVE_UP_AFTER",
    "HISTORY_LOOKUP_LIMIT",
    "LEASE",
    "MAX_PAUSE",
    "METADATA_EVENT",
    "OUTBOX_KEEP",
    "RENDER",
    "RENDER_ARGS",
    "UNREACHABLE",
    "UPLOAD_METHOD",
    "Claimable",
    "Delivery",
    "PostFinder",
    "ReachWatcher",
    "Refused",
    "Renderer",
    "RetryLater",
    "SlackGateway",
    "UpdateOf",
    "channel_refused",
    "claim",
    "complete",
    "deliver",
    "each_claimed",
    "emptied",
    "enqueue",
    "enqueue_all",
    "enqueue_dm_update",
    "enqueue_dms",
    "enqueue_files",
    "enqueue_update",
    "key_starts",
    "mark_archived",
    "mark_reachable",
    "open_to_claim",
    "prune_outbox",
    "release",
    "retire",
    "settled_near",
    "touch_riding",
    "upload_payload",
    "with_key",
]
