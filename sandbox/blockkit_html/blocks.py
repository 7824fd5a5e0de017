"""Blocks, messages and views as HTML (tables and charts included)."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from sandbox.blockkit_html.elements import _image, render_element
from sandbox.blockkit_html.text import RenderContext, esc, mrkdwn, plain, text_html

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
