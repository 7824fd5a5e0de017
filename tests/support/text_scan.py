"""Slack parses a message's fallback ``text`` and every mrkdwn text: a ``<!channel>`` there
pings everyone. Our own texts never broadcast, so any ``<!`` in what the bot sends came from
something a user typed and was not escaped (handlers/blocks/common.py ``slack_safe``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


def parsed_texts(args: Any, *, top: bool = True) -> Iterator[str]:
    """Every string in a Slack call that Slack parses as mrkdwn."""
    if isinstance(args, list):
        for item in args:
            yield from parsed_texts(item, top=False)
        return
    if not isinstance(args, dict):
        return
    kind = args.get("type")
    for key, value in args.items():
        if isinstance(value, str):
            parsed = kind == "mrkdwn" or (top and kind is None)
            if (key == "text" and parsed) or (key == "initial_comment" and top):
                yield value
        else:
            yield from parsed_texts(value, top=False)


def broadcasts(calls: Iterable[Any]) -> list[str]:
    """Texts in ``calls`` (the stand-in's recorded calls) that would ping a channel."""
    return [text for call in calls for text in parsed_texts(call.args) if "<!" in text]
