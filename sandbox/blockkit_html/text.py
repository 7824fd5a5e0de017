"""Plain text and mrkdwn as HTML (escaped; links only http, https and mailto)."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SAFE_URL = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
EMOJI = {
    "warning": "⚠️",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "x": "❌",
    "calendar": "📅",
    "spiral_calendar_pad": "🗓️",
    "date": "📅",
    "clock1": "🕐",
    "alarm_clock": "⏰",
    "bell": "🔔",
    "memo": "📝",
    "pushpin": "📌",
    "lock": "🔒",
    "bust_in_silhouette": "👤",
    "busts_in_silhouette": "👥",
    "information_source": "ℹ️",
    "eyes": "👀",
    "tada": "🎉",
    "red_circle": "🔴",
    "large_orange_circle": "🟠",
    "large_yellow_circle": "🟡",
    "large_green_circle": "🟢",
    "white_circle": "⚪",
    "arrow_right": "➡️",
    "point_right": "👉",
    "clipboard": "📋",
    "bar_chart": "📊",
    "inbox_tray": "📥",
    "rotating_light": "🚨",
    "speech_balloon": "💬",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "house": "🏠",
    "school": "🏫",
    "scales": "⚖️",
}
_EMOJI_RE = re.compile(r":([a-z0-9_+\-]+):")
_CONTROL_RE = re.compile(r"<([^<>\n]+)>")
_CODE_BLOCK_RE = re.compile(r"```(.+?)```", re.DOTALL)
_CODE_RE = re.compile(r"`([^`\n]+)`")
_BOLD_RE = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])")
_ITALIC_RE = re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])")
_STRIKE_RE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])")
_PLACEHOLDER_RE = re.compile("\ue000(\\d+)\ue001")

INPUT_TYPES = frozenset(
    {
        "plain_text_input",
        "number_input",
        "email_text_input",
        "url_text_input",
        "static_select",
        "multi_static_select",
        "external_select",
        "multi_external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
        "radio_buttons",
        "checkboxes",
        "datepicker",
        "timepicker",
        "datetimepicker",
        "rich_text_input",
    }
)


@dataclass(frozen=True)
class RenderContext:
    """What the renderer needs to know about the workspace."""

    users: Mapping[str, str] = field(default_factory=dict)
    """User id → display name, for ``<@U…>`` mentions and user selects."""
    channels: Mapping[str, str] = field(default_factory=dict)
    """Channel id → name (without ``#``), for ``<#C…>`` and conversation selects."""
    surface: str = "message"
    """``message``, ``modal`` or ``home``: where the blocks are shown."""
    people: Mapping[str, str] | None = None
    """Who user selects offer (default: :attr:`users`); the bot itself is left out."""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _emoji(text: str) -> str:
    return _EMOJI_RE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def _unescape_slack(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain(text: Any, *, emoji: bool = True) -> str:
    """A ``plain_text`` string as HTML (escaped, line breaks kept)."""
    value = esc(text)
    if emoji:
        value = _emoji(value)
    return value.replace("\n", "<br>")


def _control(inner: str, ctx: RenderContext) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        user_id = target[1:]
        name = ctx.users.get(user_id) or label or user_id
        return f'<span class="mention" data-user="{esc(user_id)}">@{esc(name)}</span>'
    if target.startswith("#"):
        channel_id = target[1:]
        name = ctx.channels.get(channel_id) or label or channel_id
        return f'<span class="mention channel" data-channel="{esc(channel_id)}">#{esc(name)}</span>'
    if target.startswith("!subteam^"):
        return f'<span class="mention">@{esc(label or target[9:])}</span>'
    if target.startswith("!date^"):
        parts = target.split("^")
        fallback = label or (parts[3] if len(parts) > 3 else parts[1])
        return f'<span class="date">{esc(fallback)}</span>'
    if target.startswith("!"):
        return f'<span class="mention">@{esc(label or target[1:])}</span>'
    url = _unescape_slack(target)
    text = _unescape_slack(label) if label else url
    if SAFE_URL.match(url):
        return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(text)}</a>'
    return esc(text)


def mrkdwn(text: Any, ctx: RenderContext | None = None) -> str:
    """Slack mrkdwn as HTML: bold, italics, strike, code, quotes, links and mentions."""
    ctx = ctx or RenderContext()
    source = "" if text is None else str(text)
    pieces: list[str] = []

    def hold(rendered: str) -> str:
        pieces.append(rendered)
        return f"\ue000{len(pieces) - 1}\ue001"

    source = source.replace("\ue000", "").replace("\ue001", "")
    source = _CODE_BLOCK_RE.sub(
        lambda m: hold(f"<pre>{esc(_unescape_slack(m.group(1).strip(chr(10))))}</pre>"), source
    )
    source = _CODE_RE.sub(
        lambda m: hold(f"<code>{esc(_unescape_slack(m.group(1)))}</code>"), source
    )
    source = _CONTROL_RE.sub(lambda m: hold(_control(m.group(1), ctx)), source)
    # What is left is plain text with Slack's three entities; HTML-escape it afresh.
    body = _emoji(esc(_unescape_slack(source)))
    body = _BOLD_RE.sub(r"<b>\1</b>", body)
    body = _ITALIC_RE.sub(r"<i>\1</i>", body)
    body = _STRIKE_RE.sub(r"<s>\1</s>", body)
    lines = []
    for line in body.split("\n"):
        if line.startswith("&gt; ") or line == "&gt;":
            lines.append(f"<blockquote>{line[5:]}</blockquote>")
        else:
            lines.append(line)
    body = "<br>".join(lines).replace("</blockquote><br><blockquote>", "<br>")
    # Placeholders may nest (a mention inside bold is fine; code holds no placeholders).
    return _PLACEHOLDER_RE.sub(lambda m: pieces[int(m.group(1))], body)


def text_html(obj: Any, ctx: RenderContext) -> str:
    """A text object (``plain_text`` or ``mrkdwn``) as HTML."""
    if isinstance(obj, str):
        return plain(obj)
    if not isinstance(obj, dict):
        return ""
    if obj.get("type") == "mrkdwn":
        return mrkdwn(obj.get("text"), ctx)
    return plain(obj.get("text"), emoji=obj.get("emoji", True) is not False)


def _text_value(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return "" if obj is None else str(obj)
