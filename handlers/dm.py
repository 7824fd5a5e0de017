"""A user's direct message with the bot: its channel id, looked up in one place.

``conversations.open`` with the user's id gives the existing DM back (it opens nothing new),
and the id never changes, so it is asked once per user and workspace and kept. The outbox's
gateway (a DM queued by user id: its history, an upload, ``chat.update``) and the listeners
(is this the user's own DM?) share one :class:`DmChannels`.
"""

from __future__ import annotations

from threading import Lock
from typing import Any

_KEEP = 10_000  # users remembered at most (then forgotten all at once, asked again)


class DmChannels:
    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], str] = {}
        self._lock = Lock()

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
            if len(self._ids) > _KEEP:
                self._ids.clear()
            self._ids[key] = channel
        return channel
