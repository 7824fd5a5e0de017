"""Interactive elements as HTML with the ``data-*`` attributes the page's script reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sandbox.blockkit_html.text import SAFE_URL, RenderContext, _text_value, esc, text_html

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
