"""Reading Block Kit payloads in tests: every text object, the mrkdwn ones, all text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def text_objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every text object (plain_text or mrkdwn) anywhere in a payload."""
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
            yield node
        for value in node.values():
            yield from text_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from text_objects(item)


def mrkdwn_texts(payload: Any) -> list[str]:
    return [o["text"] for o in text_objects(payload) if o["type"] == "mrkdwn"]


def all_text(payload: Any) -> str:
    return "\n".join(o["text"] for o in text_objects(payload))
