"""Small readers of Slack payloads shared by the listeners, and the bare ack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack


def ack_only(ack: Ack) -> None:
    """Acknowledge at once; a lazy listener does the work (and the Slack calls)."""
    ack()


def team_of(body: dict[str, Any]) -> str:
    return str((body.get("team") or {}).get("id") or body.get("user", {}).get("team_id") or "")


def channel_of(body: dict[str, Any]) -> str:
    """The channel a block action came from (message actions carry it in two places)."""
    return str(
        (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id")
        or ""
    )
