"""A user's direct message with the bot: its channel id, looked up in one place.

``conversations.open`` with the user's id gives the existing DM back (it opens nothing new),
and the id never changes, so it is asked once per user and workspace and kept. The outbox's
gateway (a DM queued by user id: its history, an upload, ``chat.update``) and the listeners
(is this the user's own DM?) share one :class:`DmChannels`.
"""

from __future__ import annotations

from threading import Lock
from typing import Any

from cachetools import LRUCache

_KEEP = 10_000  # users remembered at most (the least recently asked are forgotten first)


class DmChannels:
    def __init__(self, keep: int = _KEEP) -> None:
        self._ids: LRUCache[tuple[str, str], str] = LRUCache(maxsize=keep)
        self._lock = Lock()  # an LRUCache reorders itself on every read

    def open(self, client: Any, team_id: str | None, user_id: str) -> str | None:
        """The id of ``user_id``'s DM with the bot in ``team_id`` (``client``: that
        workspace's Web API client), None when Slack names none. What ``conversations.open``
        raises (SlackApiError, OSError) is the caller's to handle; nothing is kept then."""
        key = (team_id or "", user_id)
        with self._lock:
            hit = self._ids.get(key)
        if hit is not None:
            return hit
        opened = client.conversations_open(users=user_id)
        channel = str((opened.get("channel") or {}).get("id") or "")
        if not channel:
            return None
        with self._lock:
            self._ids[key] = channel
        return channel
