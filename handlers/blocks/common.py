"""Small pure Block Kit helpers. Every builder returns plain dicts and respects Slack's limits."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from domain.i18n import Translator

Block = dict[str, Any]

SECTION_TEXT_MAX = 3000
HEADER_MAX = 150
OPTION_TEXT_MAX = 75
MODAL_TITLE_MAX = 24
BUTTON_TEXT_MAX = 75
CONTEXT_TEXT_MAX = 2000
MESSAGE_BLOCKS_MAX = 50
MODAL_BLOCKS_MAX = 100


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(slack_safe(text), limit)}


def escape(text: str) -> str:
    """Escape user text for mrkdwn (Slack's three control characters)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# What our own texts may keep of Slack's markup: a person or channel by id, and entities
# already escaped. Everything else that Slack would parse (<!channel>, <!here>, links, a
# stray & < >) can only have come from something a user typed.
_KEEP = re.compile(r"<@[UW][A-Z0-9]{1,30}>|<#[CG][A-Z0-9]{1,30}>|&(?:amp|lt|gt);")


def slack_safe(text: str) -> str:
    """Text that Slack parses (a message's fallback ``text``, mrkdwn) with everything but
    our own mentions escaped, so a forum named ``<!channel>`` never pings anyone.
    Idempotent: escaped text and mentions by id stay as they are."""
    out: list[str] = []
    pos = 0
    for match in _KEEP.finditer(text):
        out.append(escape(text[pos : match.start()]))
        out.append(match.group())
        pos = match.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_MAX)}


def section(text: str, *, block_id: str | None = None, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id
    if accessory:
        block["accessory"] = accessory
    return block


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text, CONTEXT_TEXT_MAX)]}


def divider() -> Block:
    return {"type": "divider"}


def button(
    text: str, action_id: str, *, value: str | None = None, style: str | None = None
) -> Block:
    element: Block = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_MAX),
        "action_id": action_id,
    }
    if value is not None:
        element["value"] = value
    if style:
        element["style"] = style
    return element


def actions(*elements: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def option(text: str, value: str) -> Block:
    return {"text": plain(text, OPTION_TEXT_MAX), "value": value}


def input_block(
    block_id: str,
    label: str,
    element: Block,
    *,
    optional: bool = False,
    hint: str | None = None,
    dispatch_action: bool = False,
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    if dispatch_action:
        block["dispatch_action"] = True
    return block


def text_input(
    action_id: str,
    *,
    initial: str | None = None,
    multiline: bool = False,
    max_length: int | None = None,
    placeholder: str | None = None,
) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": action_id, "multiline": multiline}
    if initial:
        element["initial_value"] = initial
    if max_length:
        element["max_length"] = max_length
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    return element


def modal(
    *,
    callback_id: str,
    title: str,
    blocks: list[Block],
    submit: str | None = None,
    close: str | None = None,
    private_metadata: str = "",
    external_id: str | None = None,
) -> Block:
    view: Block = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, MODAL_TITLE_MAX),
        "blocks": blocks[:MODAL_BLOCKS_MAX],
        "private_metadata": private_metadata,
    }
    if submit:
        view["submit"] = plain(submit, MODAL_TITLE_MAX)
    if close:
        view["close"] = plain(close, MODAL_TITLE_MAX)
    if external_id:
        view["external_id"] = external_id
    return view


def message(text: str, blocks: list[Block]) -> dict[str, Any]:
    """A message payload: fallback text for notifications (escaped: Slack parses it) plus
    at most 50 blocks."""
    return {"text": clip(slack_safe(text), 3000), "blocks": blocks[:MESSAGE_BLOCKS_MAX]}


def safe_payload(payload: Any) -> Any:
    """A Web API payload with its fallback ``text`` and every mrkdwn text made
    :func:`slack_safe` (for payloads built outside these helpers, e.g. in the outbox)."""
    if isinstance(payload, list):
        return [safe_payload(item) for item in payload]
    if not isinstance(payload, dict):
        return payload
    out = {key: safe_payload(value) for key, value in payload.items()}
    if isinstance(out.get("text"), str) and payload.get("type") in (None, "mrkdwn"):
        out["text"] = slack_safe(out["text"])
    return out


def reference_example(code: str, year: int) -> str:
    """A case reference as the forum's own would look (its code, this year), for a field's
    placeholder: "TE-2026-001" in forum TE, not another forum's."""
    return f"{code}-{year}-001"


def notice_modal(t: Translator, text: str, *, callback_id: str = "notice") -> Block:
    """A modal that only says what happened (e.g. after you removed yourself, or why not)."""
    return modal(
        callback_id=callback_id, title=t("Samverkan"), close=t("Close"), blocks=[section(text)]
    )


def _split(text: str, limit: int) -> list[str]:
    """Cut mrkdwn text into pieces of at most ``limit`` characters, at a line break or a space
    where there is one, never inside an escaped entity (``&amp;``)."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        if cut < limit // 2:
            cut = limit
            amp = text.rfind("&", cut - 6, cut)
            if amp != -1 and ";" not in text[amp:cut]:
                cut = amp
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n ")
    if text:
        pieces.append(text)
    return pieces


def text_sections(lines: Sequence[str], *, limit: int = SECTION_TEXT_MAX) -> list[Block]:
    """As few sections as hold ``lines`` whole (each section at most ``limit`` characters);
    a line longer than a section is split across several."""
    blocks: list[Block] = []
    current = ""
    for line in lines:
        for piece in _split(line, limit):
            if current and len(current) + 1 + len(piece) <= limit:
                current += "\n" + piece
                continue
            if current:
                blocks.append(section(current))
            current = piece
    if current:
        blocks.append(section(current))
    return blocks
