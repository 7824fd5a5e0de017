"""The outbound Slack gateway: delivers outbox rows through slack_sdk.

slack_sdk's retry handlers already retry connection errors, 429 (Retry-After) and 5xx a few
times within one call; what still fails is handed back to the outbox as ``RetryLater``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain.scheduling import UPLOAD_METHOD, Refused, RetryLater
from handlers.blocks.common import safe_payload

# Errors worth trying again later; anything else (channel_not_found, …) will not improve.
_TRANSIENT = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}


class WebApiGateway:
    def __init__(self, client_for_team: Callable[[str | None], WebClient]) -> None:
        self._client_for_team = client_for_team

    def call(self, team_id: str | None, method: str, payload: Mapping[str, Any]) -> str | None:
        client = self._client_for_team(team_id)
        try:
            if method == UPLOAD_METHOD:
                channel = str(payload["channel"])
                if channel.startswith(("U", "W")):  # a person: their DM with the bot
                    channel = client.conversations_open(users=channel)["channel"]["id"]
                client.files_upload_v2(
                    channel=channel,
                    content=base64.b64decode(payload["content_b64"]),
                    filename=payload["filename"],
                    title=payload.get("title") or payload["filename"],
                    alt_txt=payload.get("alt_text"),
                )
                return None
            body = dict(payload)
            if method == "chat.update" and str(body.get("channel", ""))[:1] in ("U", "W"):
                # A DM queued by user id (chat.postMessage takes one): chat.update needs the
                # DM's own id, which conversations.open gives back without opening anything new.
                opened = client.conversations_open(users=body["channel"])
                body["channel"] = opened["channel"]["id"]
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
        ts = response.get("ts")
        return str(ts) if ts else None
