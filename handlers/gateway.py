"""The outbound Slack gateway: delivers outbox rows through slack_sdk.

slack_sdk's retry handlers already retry connection errors, 429 (Retry-After) and 5xx a few
times within one call; what still fails is handed back to the outbox as ``RetryLater``.
"""

from __future__ import annotations

import base64
import logging
import os
import signal
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from domain.scheduling import (
    HISTORY_LOOKUP_LIMIT,
    METADATA_EVENT,
    UPLOAD_METHOD,
    Refused,
    RetryLater,
)
from handlers.blocks.common import safe_payload
from handlers.dm import DmChannels

log = logging.getLogger(__name__)

# Renders a message when the outbox sends it (domain.scheduling.enqueue_update): its
# arguments (ids) in, the message (with its channel) out, None when there is none any more.
Render = Callable[[Session, Mapping[str, Any]], dict[str, Any] | None]

# Errors worth trying again later; anything else (channel_not_found, …) will not improve.
_TRANSIENT = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}


class WebApiGateway:
    """``crash_after_post``: a test fault hook (bot.settings honours it only with the test
    flag): the path of a marker file; the first ``chat.postMessage`` Slack answers while
    it does not exist creates it and kills this process at once (``SIGKILL``), before the
    outbox row is settled, as a crash in that window would. ``renderers``: what it renders
    when it is sent (``handlers.outgoing.renderers``). ``dms``: the users' DMs with the bot
    (a DM queued by user id), shared with the listeners (``Deps.dms``). ``on_reach_changed``:
    called with (workspace, forum id) when a post showed that the bot can no longer post in
    a forum's channel, or can again (``domain.scheduling.ReachWatcher``)."""

    def __init__(
        self,
        client_for_team: Callable[[str | None], WebClient],
        *,
        crash_after_post: str | None = None,
        renderers: Mapping[str, Render] | None = None,
        dms: DmChannels | None = None,
        on_reach_changed: Callable[[str, int], None] | None = None,
    ) -> None:
        self._client_for_team = client_for_team
        self._on_reach_changed = on_reach_changed
        self._dms = dms if dms is not None else DmChannels()
        self._crash_after_post = crash_after_post
        self._renderers = dict(renderers or {})

    def _dm(self, client: WebClient, team_id: str | None, user_id: str) -> str:
        """The user's DM with the bot, to send to (refused when Slack names none)."""
        channel = self._dms.open(client, team_id, user_id)
        if channel is None:
            raise Refused("no_dm_channel")
        return channel

    def render(self, session: Session, name: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
        found = self._renderers.get(name)
        return found(session, args) if found is not None else None

    def reach_changed(self, team_id: str, forum_id: int) -> None:
        if self._on_reach_changed is not None:
            self._on_reach_changed(team_id, forum_id)

    def find_posted(self, team_id: str | None, channel: str, key: str) -> str | None:
        """Look for our message with this outbox key in the channel's recent history."""
        client = self._client_for_team(team_id)
        try:
            if channel[:1] in ("U", "W"):  # a DM is posted to the user; its history is the IM's
                channel = self._dms.open(client, team_id, channel) or channel
            history = client.conversations_history(
                channel=channel,
                limit=HISTORY_LOOKUP_LIMIT,
                include_all_metadata=True,
            )
        except (SlackApiError, OSError) as exc:  # no history scope, not in the channel …
            log.warning("outbox: cannot look for %s in %s's history (%s)", key, channel, exc)
            return None
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            if (
                metadata.get("event_type") == METADATA_EVENT
                and (metadata.get("event_payload") or {}).get("key") == key
            ):
                log.info(
                    "outbox: %s was already posted (ts %s); not posting again",
                    key,
                    message.get("ts"),
                )
                return str(message.get("ts"))
        return None

    def call(self, team_id: str | None, method: str, payload: Mapping[str, Any]) -> str | None:
        client = self._client_for_team(team_id)
        try:
            if method == UPLOAD_METHOD:
                channel = str(payload["channel"])
                if channel.startswith(("U", "W")):  # a person: their DM with the bot
                    channel = self._dm(client, team_id, channel)
                client.files_upload_v2(
                    channel=channel,
                    content=base64.b64decode(payload["content_b64"]),
                    filename=payload["filename"],
                    title=payload.get("title") or payload["filename"],
                    alt_txt=payload.get("alt_text"),
                    initial_comment=payload.get("initial_comment"),
                )
                return None
            body = dict(payload)
            if method == "chat.update" and str(body.get("channel", ""))[:1] in ("U", "W"):
                # A DM queued by user id (chat.postMessage takes one): chat.update needs the
                # DM's own id, which conversations.open gives back without opening anything new.
                body["channel"] = self._dm(client, team_id, str(body["channel"]))
            # Fallback text and mrkdwn escaped: DMs built in the domain carry forum names.
            response = client.api_call(method, json=safe_payload(body))
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            status = exc.response.status_code
            if status == 429 or status >= 500 or error in _TRANSIENT:
                retry_after = float(exc.response.headers.get("Retry-After", 30) or 30)
                raise RetryLater(max(retry_after, 5.0), error or f"HTTP {status}") from exc
            raise Refused(error or f"HTTP {status}") from exc
        except OSError as exc:  # Slack unreachable: the outbox tries again later
            raise RetryLater(60.0, f"{exc.__class__.__name__}: {exc}") from exc
        if self._crash_after_post and method == "chat.postMessage":
            self._crash_once(self._crash_after_post)
        ts = response.get("ts")
        return str(ts) if ts else None

    @staticmethod
    def _crash_once(marker: str) -> None:
        try:
            with open(marker, "x"):
                pass
        except FileExistsError:
            return
        log.warning("test fault hook: killing this process right after Slack answered")
        os.kill(os.getpid(), signal.SIGKILL)
