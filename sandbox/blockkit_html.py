"""Block Kit and mrkdwn as HTML, for the sandbox page.

Pure functions: a payload in, an HTML string out. Every piece of text from a payload goes
through :func:`html.escape` (attributes too), and links keep only ``http``, ``https`` and
``mailto`` URLs, so nothing a bot or a user typed can run script in the page.

Interactive elements carry ``data-*`` attributes (``data-block-id``, ``data-action-id``,
``data-type``) that the page's script reads to send ``block_actions`` and collect
``view.state.values``; :func:`state_values` turns what the script collected back into the
shapes Slack sends.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "RenderContext",
    "action_payload",
    "find_element",
    "mrkdwn",
    "plain",
    "render_blocks",
    "render_message",
    "render_view",
    "state_values",
]

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


# --- elements ---------------------------------------------------------------------------


def _attrs(block_id: str, element: Mapping[str, Any], *, dispatch: bool) -> str:
    parts = [
        f'data-block-id="{esc(block_id)}"',
        f'data-action-id="{esc(element.get("action_id", ""))}"',
        f'data-type="{esc(element.get("type", ""))}"',
    ]
    if dispatch:
        parts.append('data-dispatch="1"')
    return " ".join(parts)


def _options(element: Mapping[str, Any]) -> list[tuple[str | None, list[dict[str, Any]]]]:
    """Options as (group label, options); ungrouped options have label None."""
    groups: list[tuple[str | None, list[dict[str, Any]]]] = []
    options = element.get("options")
    if isinstance(options, list):
        groups.append((None, [o for o in options if isinstance(o, dict)]))
    for group in element.get("option_groups") or []:
        if isinstance(group, dict):
            opts = [o for o in group.get("options") or [] if isinstance(o, dict)]
            groups.append((_text_value(group.get("label")), opts))
    return groups


def _select(
    element: Mapping[str, Any],
    attrs: str,
    choices: Sequence[tuple[str | None, Sequence[tuple[str, str]]]],
    selected: set[str],
    *,
    multiple: bool,
    placeholder: str,
) -> str:
    """A single select as ``<select>``; a multi select as a list of check boxes (easier to
    use than ``<select multiple>``, and what a person picking several agencies needs)."""
    if multiple:
        name = esc(element.get("action_id", ""))
        rows = []
        for label, opts in choices:
            if label:
                rows.append(f'<div class="bk-group">{esc(label)}</div>')
            rows.extend(
                f'<label class="bk-choice"><input type="checkbox" name="{name}" '
                f'value="{esc(v)}"{" checked" if v in selected else ""}> <span>{esc(t)}</span>'
                "</label>"
                for v, t in opts
            )
        title = f' title="{esc(placeholder)}"' if placeholder else ""
        return f'<div class="bk-choices bk-multi" {attrs}{title}>{"".join(rows)}</div>'
    empty = " selected" if not selected else ""
    rows = [f'<option value=""{empty}>{esc(placeholder or "Välj …")}</option>']
    for label, opts in choices:
        inner = "".join(
            f'<option value="{esc(v)}"{" selected" if v in selected else ""}>{esc(t)}</option>'
            for v, t in opts
        )
        rows.append(f'<optgroup label="{esc(label)}">{inner}</optgroup>' if label else inner)
    title = f' title="{esc(placeholder)}"' if placeholder else ""
    return f'<select class="bk-select" {attrs}{title}>{"".join(rows)}</select>'


def _option_pairs(element: Mapping[str, Any]) -> list[tuple[str | None, list[tuple[str, str]]]]:
    return [
        (label, [(str(o.get("value", "")), _text_value(o.get("text"))) for o in opts])
        for label, opts in _options(element)
    ]


def render_element(
    element: Any, block_id: str, ctx: RenderContext, *, dispatch: bool = True
) -> str:
    """One element. ``dispatch``: changing it sends ``block_actions`` at once."""
    if not isinstance(element, dict):
        return ""
    kind = str(element.get("type", ""))
    attrs = _attrs(block_id, element, dispatch=dispatch)
    placeholder = _text_value(element.get("placeholder"))
    if kind == "button":
        style = element.get("style")
        cls = "bk-button" + (f" bk-{esc(style)}" if style in ("primary", "danger") else "")
        url = element.get("url")
        link = f' data-url="{esc(url)}"' if isinstance(url, str) and SAFE_URL.match(url) else ""
        value = f' data-value="{esc(element["value"])}"' if "value" in element else ""
        return (
            f'<button type="button" class="{cls}" {attrs}{value}{link}>'
            f"{text_html(element.get('text'), ctx)}</button>"
        )
    if kind in ("static_select", "multi_static_select", "overflow"):
        multiple = kind == "multi_static_select"
        chosen = [element.get("initial_option")] if element.get("initial_option") else []
        chosen += list(element.get("initial_options") or [])
        selected = {str(o.get("value")) for o in chosen if isinstance(o, dict)}
        if kind == "overflow":
            placeholder = "⋯"
            selected = set()
        return _select(
            element,
            attrs,
            _option_pairs(element),
            selected,
            multiple=multiple,
            placeholder=placeholder,
        )
    if kind in ("users_select", "multi_users_select"):
        choosable = ctx.people if ctx.people is not None else ctx.users
        users = sorted(choosable.items(), key=lambda kv: kv[1])
        selected = {str(u) for u in element.get("initial_users") or []}
        if element.get("initial_user"):
            selected.add(str(element["initial_user"]))
        return _select(
            element,
            attrs,
            [(None, users)],
            selected,
            multiple=kind.startswith("multi_"),
            placeholder=placeholder,
        )
    if kind in (
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
    ):
        channels = sorted(((k, f"#{v}") for k, v in ctx.channels.items()), key=lambda kv: kv[1])
        selected = {
            str(c)
            for c in [
                element.get("initial_conversation"),
                element.get("initial_channel"),
                *(element.get("initial_conversations") or []),
                *(element.get("initial_channels") or []),
            ]
            if c
        }
        return _select(
            element,
            attrs,
            [(None, channels)],
            selected,
            multiple=kind.startswith("multi_"),
            placeholder=placeholder,
        )
    if kind in ("radio_buttons", "checkboxes"):
        input_type = "radio" if kind == "radio_buttons" else "checkbox"
        chosen = [element.get("initial_option")] if element.get("initial_option") else []
        chosen += list(element.get("initial_options") or [])
        selected = {str(o.get("value")) for o in chosen if isinstance(o, dict)}
        name = f"{block_id}/{element.get('action_id', '')}"
        rows = []
        for _label, opts in _options(element):
            for o in opts:
                value = str(o.get("value", ""))
                checked = " checked" if value in selected else ""
                description = (
                    f'<span class="bk-description">{text_html(o["description"], ctx)}</span>'
                    if o.get("description")
                    else ""
                )
                rows.append(
                    f'<label class="bk-choice"><input type="{input_type}" name="{esc(name)}" '
                    f'value="{esc(value)}"{checked}> <span>{text_html(o.get("text"), ctx)}'
                    f"</span>{description}</label>"
                )
        return f'<div class="bk-choices" {attrs}>{"".join(rows)}</div>'
    if kind in ("datepicker", "timepicker", "datetimepicker"):
        input_type = {"datepicker": "date", "timepicker": "time"}.get(kind, "datetime-local")
        initial = element.get("initial_date") or element.get("initial_time") or ""
        if kind == "datetimepicker" and element.get("initial_date_time"):
            initial = ""  # epoch seconds; the page shows an empty picker
        return (
            f'<input class="bk-input" type="{input_type}" {attrs} value="{esc(initial)}"'
            f' title="{esc(placeholder)}">'
        )
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        initial = element.get("initial_value") or ""
        limits = ""
        if element.get("max_length"):
            limits += f' maxlength="{esc(element["max_length"])}"'
        if element.get("multiline"):
            return (
                f'<textarea class="bk-input" rows="4" {attrs}{limits} '
                f'placeholder="{esc(placeholder)}">{esc(initial)}</textarea>'
            )
        input_type = {
            "number_input": "number",
            "email_text_input": "email",
            "url_text_input": "url",
        }.get(kind, "text")
        if kind == "number_input" and element.get("is_decimal_allowed"):
            limits += ' step="any"'
        return (
            f'<input class="bk-input" type="{input_type}" {attrs}{limits} '
            f'value="{esc(initial)}" placeholder="{esc(placeholder)}">'
        )
    if kind == "image":
        return _image(element.get("image_url"), element.get("alt_text"), cls="bk-thumb")
    if kind in ("plain_text", "mrkdwn"):
        return f"<span>{text_html(element, ctx)}</span>"
    return f'<span class="bk-unsupported">[{esc(kind or "element")}]</span>'


def _image(url: Any, alt: Any, *, cls: str) -> str:
    if isinstance(url, str) and SAFE_URL.match(url):
        return f'<img class="{cls}" src="{esc(url)}" alt="{esc(alt)}" loading="lazy">'
    return f'<span class="{cls} bk-missing">{esc(alt)}</span>'


# --- blocks -----------------------------------------------------------------------------


def render_block(block: Any, index: int, ctx: RenderContext) -> str:
    if not isinstance(block, dict):
        return ""
    kind = block.get("type")
    block_id = str(block.get("block_id") or f"_b{index}")
    data = f'data-block="{esc(block_id)}"'
    if kind == "header":
        return f'<h3 class="bk-header" {data}>{text_html(block.get("text"), ctx)}</h3>'
    if kind == "divider":
        return f'<hr class="bk-divider" {data}>'
    if kind == "section":
        parts = []
        if block.get("text"):
            parts.append(f'<div class="bk-text">{text_html(block["text"], ctx)}</div>')
        if block.get("fields"):
            fields = "".join(
                f'<div class="bk-field">{text_html(f, ctx)}</div>' for f in block["fields"]
            )
            parts.append(f'<div class="bk-fields">{fields}</div>')
        accessory = block.get("accessory")
        side = (
            f'<div class="bk-accessory">{render_element(accessory, block_id, ctx)}</div>'
            if accessory
            else ""
        )
        main = f'<div class="bk-main">{"".join(parts)}</div>'
        return f'<div class="bk-section" {data}>{main}{side}</div>'
    if kind == "context":
        items = []
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("type") == "image":
                items.append(
                    _image(element.get("image_url"), element.get("alt_text"), cls="bk-ctx-img")
                )
            else:
                items.append(f"<span>{text_html(element, ctx)}</span>")
        return f'<div class="bk-context" {data}>{"".join(items)}</div>'
    if kind == "image":
        title = (
            f"<figcaption>{text_html(block['title'], ctx)}</figcaption>"
            if block.get("title")
            else ""
        )
        img = _image(block.get("image_url"), block.get("alt_text"), cls="bk-image")
        return f'<figure class="bk-figure" {data}>{img}{title}</figure>'
    if kind == "actions":
        elements = "".join(render_element(e, block_id, ctx) for e in block.get("elements") or [])
        return f'<div class="bk-actions" {data}>{elements}</div>'
    if kind == "input":
        element = block.get("element") or {}
        optional = ' <span class="bk-optional">(valfritt)</span>' if block.get("optional") else ""
        hint = (
            f'<div class="bk-hint">{text_html(block["hint"], ctx)}</div>'
            if block.get("hint")
            else ""
        )
        control = render_element(
            element, block_id, ctx, dispatch=bool(block.get("dispatch_action"))
        )
        return (
            f'<div class="bk-input-block" {data}><label class="bk-label">'
            f"{text_html(block.get('label'), ctx)}{optional}</label>{control}{hint}"
            f'<div class="bk-error" data-error-for="{esc(block_id)}"></div></div>'
        )
    if kind == "markdown":
        return f'<div class="bk-markdown" {data}>{mrkdwn(block.get("text"), ctx)}</div>'
    if kind == "rich_text":
        return f'<div class="bk-text" {data}>{plain(_rich_text(block))}</div>'
    if kind == "table":
        return f'<div class="bk-table-wrap" {data}>{_table(block)}</div>'
    if kind == "data_visualization":
        return f'<figure class="bk-chart" {data}>{_chart(block)}</figure>'
    return f'<div class="bk-unsupported" {data}>[{esc(kind or "block")}]</div>'


def _cell_text(cell: Any) -> str:
    if not isinstance(cell, dict):
        return ""
    if cell.get("type") == "rich_text":
        return _rich_text(cell)
    return str(cell.get("text", ""))


def _table(block: Mapping[str, Any]) -> str:
    """A table block as an HTML table: the first row is the header, as in Slack."""
    rows = [r for r in block.get("rows") or [] if isinstance(r, list)]
    settings = block.get("column_settings") or []
    aligns = [
        s.get("align")
        if isinstance(s, dict) and s.get("align") in ("left", "center", "right")
        else "left"
        for s in settings
    ]

    def cells(row: list[Any], tag: str) -> str:
        out = []
        for n, cell in enumerate(row):
            align = aligns[n] if n < len(aligns) else "left"
            out.append(f'<{tag} style="text-align:{align}">{plain(_cell_text(cell))}</{tag}>')
        return "".join(out)

    if not rows:
        return '<table class="bk-table"></table>'
    head = f"<thead><tr>{cells(rows[0], 'th')}</tr></thead>"
    body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in rows[1:])
    return f'<table class="bk-table">{head}<tbody>{body}</tbody></table>'


CHART_COLOURS = ("#1d4f73", "#e01e5a", "#2eb67d", "#ecb22e", "#36c5f0", "#6a1b9a")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _chart(block: Mapping[str, Any]) -> str:
    """A data visualization block as a small inline SVG (line, area or bar: one polyline per
    series; pie: the segments as a list) with its title and a legend."""
    chart = block.get("chart") if isinstance(block.get("chart"), dict) else {}
    assert isinstance(chart, dict)
    title = f'<figcaption class="bk-chart-title">{plain(block.get("title", ""))}</figcaption>'
    if chart.get("type") == "pie":
        items = "".join(
            f"<li>{plain(seg.get('label', ''))}: {esc(seg.get('value', ''))}</li>"
            for seg in chart.get("segments") or []
            if isinstance(seg, dict)
        )
        return f'{title}<ul class="bk-chart-list">{items}</ul>'
    axis = chart.get("axis_config") if isinstance(chart.get("axis_config"), dict) else {}
    assert isinstance(axis, dict)
    categories = [str(c) for c in axis.get("categories") or []]
    series = [s for s in chart.get("series") or [] if isinstance(s, dict)]
    values = [
        [_number(p.get("value")) for p in s.get("data") or [] if isinstance(p, dict)]
        for s in series
    ]
    numbers = [v for row in values for v in row if v is not None]
    width, height, pad = 320, 160, 28
    low, high = (min(numbers), max(numbers)) if numbers else (0.0, 1.0)
    if high == low:
        low, high = low - 1, high + 1
    steps = max(len(categories) - 1, 1)

    def x(n: int) -> float:
        return pad + (width - 2 * pad) * n / steps

    def y(v: float) -> float:
        return height - pad - (height - 2 * pad) * (v - low) / (high - low)

    lines = []
    legend = []
    for n, (one, row) in enumerate(zip(series, values, strict=True)):
        colour = CHART_COLOURS[n % len(CHART_COLOURS)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(row) if v is not None)
        lines.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
        )
        legend.append(
            f'<li><span class="bk-chart-key" style="background:{colour}"></span>'
            f"{plain(one.get('name', ''))}</li>"
        )
    labels = "".join(
        f'<text x="{x(i):.1f}" y="{height - 6}" font-size="9" text-anchor="middle">{esc(c)}</text>'
        for i, c in enumerate(categories)
    )
    axis_text = " · ".join(plain(axis.get(k, "")) for k in ("x_label", "y_label") if axis.get(k))
    svg = (
        f'<svg class="bk-chart-svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{esc(block.get("title", ""))}">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#bbb"/>'
        f"{''.join(lines)}{labels}</svg>"
    )
    return (
        f'{title}{svg}<ul class="bk-chart-legend">{"".join(legend)}</ul>'
        f'<div class="bk-chart-axes">{axis_text}</div>'
    )


def _rich_text(node: Any) -> str:
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        if node.get("type") == "link":
            return str(node.get("text") or node.get("url") or "")
        if node.get("type") == "user":
            return f"@{node.get('user_id', '')}"
        return "".join(_rich_text(e) for e in node.get("elements") or [])
    return ""


def render_blocks(blocks: Any, ctx: RenderContext) -> str:
    if not isinstance(blocks, list):
        return ""
    return "".join(render_block(b, i, ctx) for i, b in enumerate(blocks))


def render_message(message: Mapping[str, Any], ctx: RenderContext) -> str:
    """A message's body: its blocks, or its text when it has none, and its attachments."""
    body = (
        render_blocks(message["blocks"], ctx)
        if message.get("blocks")
        else f'<div class="bk-text">{mrkdwn(message.get("text", ""), ctx)}</div>'
    )
    for attachment in message.get("attachments") or []:
        if not isinstance(attachment, dict):
            continue
        color = str(attachment.get("color") or "#ddd")
        if not re.fullmatch(r"#?[0-9a-fA-F]{3,8}|good|warning|danger", color):
            color = "#ddd"
        color = {"good": "#2eb67d", "warning": "#ecb22e", "danger": "#e01e5a"}.get(color, color)
        if not color.startswith("#"):
            color = "#" + color
        inner = render_blocks(attachment.get("blocks"), ctx) or mrkdwn(
            attachment.get("text") or attachment.get("fallback") or "", ctx
        )
        body += f'<div class="bk-attachment" style="border-color:{esc(color)}">{inner}</div>'
    return body + render_files(message.get("files"))


FILE_KINDS = {"png": "PNG", "xlsx": "Excel", "csv": "CSV", "pdf": "PDF", "docx": "Word"}


def _size(size: Any) -> str:
    if not isinstance(size, int):
        return ""
    return f"{size / 1024:.0f} kB" if size >= 1024 else f"{size} B"


def render_files(files: Any) -> str:
    """Shared files as Slack shows them: a card with the title, kind and size, and the
    picture itself for an image; each opens the file (``/files/<id>/<name>``)."""
    cards = ""
    for item in files or []:
        if not isinstance(item, dict) or not re.fullmatch(r"F\w+", str(item.get("id") or "")):
            continue
        name = str(item.get("name") or "fil")
        title = str(item.get("title") or name)
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        kind = FILE_KINDS.get(ext, ext.upper() or "Fil")
        href = f"/files/{item['id']}/{urllib.parse.quote(name)}"
        preview = (
            f'<img class="file-preview" src="{esc(href)}" alt="{esc(title)}">'
            if ext in ("png", "jpg", "jpeg", "gif")
            else ""
        )
        cards += (
            f'<a class="file-card file-{esc(ext or "other")}" href="{esc(href)}" '
            f'target="_blank" rel="noopener" data-file="{esc(str(item["id"]))}">{preview}'
            f'<span class="file-icon">{esc(kind)}</span>'
            f'<span class="file-title">{esc(title)}</span>'
            f'<span class="file-meta">{esc(kind)} · {esc(_size(item.get("size")))}</span></a>'
        )
    return f'<div class="files">{cards}</div>' if cards else ""


def render_view(view: Mapping[str, Any], ctx: RenderContext) -> str:
    """A modal's or home tab's blocks (the page draws title and buttons around them)."""
    return render_blocks(view.get("blocks"), ctx)


# --- back from the page: actions and state ----------------------------------------------


def find_element(blocks: Any, block_id: str, action_id: str) -> dict[str, Any] | None:
    """The element with ``action_id`` in the block ``block_id`` (or ``_b<index>``)."""
    if not isinstance(blocks, list):
        return None
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        if str(block.get("block_id") or f"_b{i}") != block_id:
            continue
        candidates = [block.get("element"), block.get("accessory"), *(block.get("elements") or [])]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id", "") == action_id:
                return element
    return None


def _option_by_value(element: Mapping[str, Any], value: str) -> dict[str, Any] | None:
    for _label, opts in _options(element):
        for o in opts:
            if str(o.get("value", "")) == value:
                return {k: o[k] for k in ("text", "value", "description") if k in o}
    return None


def _values(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, list):
        return [str(v) for v in raw if v not in (None, "")]
    return [] if raw == "" else [str(raw)]


def element_state(element: Mapping[str, Any], raw: Any) -> dict[str, Any]:
    """What Slack puts in ``view.state.values`` (and in an action) for ``raw`` from the page."""
    kind = str(element.get("type", ""))
    values = _values(raw)
    first = values[0] if values else None
    state: dict[str, Any] = {"type": kind}
    if kind in ("static_select", "radio_buttons", "overflow", "external_select"):
        state["selected_option"] = _option_by_value(element, first) if first else None
    elif kind in ("multi_static_select", "checkboxes", "multi_external_select"):
        found = [_option_by_value(element, v) for v in values]
        state["selected_options"] = [o for o in found if o is not None]
    elif kind == "users_select":
        state["selected_user"] = first
    elif kind == "multi_users_select":
        state["selected_users"] = values
    elif kind == "conversations_select":
        state["selected_conversation"] = first
    elif kind == "multi_conversations_select":
        state["selected_conversations"] = values
    elif kind == "channels_select":
        state["selected_channel"] = first
    elif kind == "multi_channels_select":
        state["selected_channels"] = values
    elif kind == "datepicker":
        state["selected_date"] = first
    elif kind == "timepicker":
        state["selected_time"] = first
    elif kind == "datetimepicker":
        state["selected_date_time"] = None
    elif kind == "button":
        state["value"] = element.get("value")
    else:  # text inputs keep what was typed, "" included
        state["value"] = raw if isinstance(raw, str) and raw != "" else None
    return state


def state_values(blocks: Any, raw: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``view.state.values`` for every stateful element, from the page's raw values."""
    result: dict[str, dict[str, Any]] = {}
    if not isinstance(blocks, list):
        return result
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        block_id = str(block.get("block_id") or f"_b{i}")
        elements = [block.get("element"), block.get("accessory"), *(block.get("elements") or [])]
        for element in elements:
            if not isinstance(element, dict) or element.get("type") not in INPUT_TYPES:
                continue
            action_id = str(element.get("action_id", ""))
            given = (raw.get(block_id) or {}).get(action_id)
            result.setdefault(block_id, {})[action_id] = element_state(element, given)
    return result


def action_payload(
    element: Mapping[str, Any], block_id: str, raw: Any, action_ts: str
) -> dict[str, Any]:
    """One entry of a ``block_actions`` payload's ``actions`` list."""
    action: dict[str, Any] = {
        "action_id": element.get("action_id", ""),
        "block_id": block_id,
        "action_ts": action_ts,
    }
    action.update(element_state(element, raw))
    if element.get("type") == "button":
        action["text"] = element.get("text")
        if element.get("style"):
            action["style"] = element["style"]
        if "value" not in element:
            action.pop("value", None)
    return action


def initial_raw(blocks: Any) -> dict[str, dict[str, Any]]:
    """What the page shows in each stateful element before anyone types: the view's
    ``initial_*`` values as the page would send them (strings or lists of strings)."""
    result: dict[str, dict[str, Any]] = {}
    if not isinstance(blocks, list):
        return result
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        block_id = str(block.get("block_id") or f"_b{i}")
        for element in [
            block.get("element"),
            block.get("accessory"),
            *(block.get("elements") or []),
        ]:
            if not isinstance(element, dict) or element.get("type") not in INPUT_TYPES:
                continue
            kind = str(element["type"])
            value: Any = None
            if element.get("initial_option"):
                value = str(element["initial_option"].get("value", ""))
            elif element.get("initial_options") is not None:
                value = [str(o.get("value", "")) for o in element["initial_options"]]
            elif kind.startswith("multi_") or kind == "checkboxes":
                value = list(
                    element.get("initial_users")
                    or element.get("initial_conversations")
                    or element.get("initial_channels")
                    or []
                )
            else:
                for key in (
                    "initial_value",
                    "initial_date",
                    "initial_time",
                    "initial_user",
                    "initial_conversation",
                    "initial_channel",
                ):
                    if element.get(key) is not None:
                        value = str(element[key])
                        break
            result.setdefault(block_id, {})[str(element.get("action_id", ""))] = value
    return result


def option_value(element: Mapping[str, Any], wanted: str) -> str | None:
    """The value of the option whose value or text is ``wanted``."""
    for _label, opts in _options(element):
        for o in opts:
            if str(o.get("value", "")) == wanted or _text_value(o.get("text")) == wanted:
                return str(o.get("value", ""))
    return None
