"""Small Slack shapes the emulation answers with: a stored view, Slack's truthy form flags,
a time zone's offset."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sandbox.webapi.calls import APP_ID, BOT_ID, TEAM_ID


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def tz_offset(tz: str) -> int:
    try:
        offset = datetime.now(zoneinfo.ZoneInfo(tz)).utcoffset()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return 3600
    return int(offset.total_seconds()) if offset is not None else 0


def stored_view(
    view: Mapping[str, Any], view_id: str, *, view_hash: str, previous: Any = None
) -> dict[str, Any]:
    """A view as Slack keeps it and sends it back (views.* answers, view_submission payloads):
    what the app sent plus Slack's own fields."""
    stored: dict[str, Any] = {
        "id": view_id,
        "team_id": TEAM_ID,
        "type": view.get("type", "modal"),
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": {}},
        "hash": view_hash,
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "external_id": view.get("external_id", ""),
        "app_id": APP_ID,
        "app_installed_team_id": TEAM_ID,
        "bot_id": BOT_ID,
        "root_view_id": view_id,
        "previous_view_id": previous,
    }
    for key in ("title", "submit", "close"):
        if key in view:
            stored[key] = view[key]
    return stored
