"""Back from the page: the element an action names, ``view.state.values`` and
``block_actions`` payloads in Slack's shapes, and a form's initial values."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sandbox.blockkit_html.elements import _options
from sandbox.blockkit_html.text import INPUT_TYPES, _text_value

# --- back from the page: actions and state ----------------------------------------------


def _elements(blocks: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(block id, element) of every element of the blocks, a block's id ``_b<index>`` when
    it has none: its ``element``, its ``accessory`` and its ``elements``."""
    if not isinstance(blocks, list):
        return
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        block_id = str(block.get("block_id") or f"_b{i}")
        for element in [
            block.get("element"),
            block.get("accessory"),
            *(block.get("elements") or []),
        ]:
            if isinstance(element, dict):
                yield block_id, element


def find_element(blocks: Any, block_id: str, action_id: str) -> dict[str, Any] | None:
    """The element with ``action_id`` in the block ``block_id`` (or ``_b<index>``)."""
    for found_in, element in _elements(blocks):
        if found_in == block_id and element.get("action_id", "") == action_id:
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


# The key of what was chosen in ``view.state.values``: one value, or the list of them.
_ONE_CHOSEN = {
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
}
_ALL_CHOSEN = {
    "multi_users_select": "selected_users",
    "multi_conversations_select": "selected_conversations",
    "multi_channels_select": "selected_channels",
}


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
    elif kind in _ONE_CHOSEN:
        state[_ONE_CHOSEN[kind]] = first
    elif kind in _ALL_CHOSEN:
        state[_ALL_CHOSEN[kind]] = values
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
    for block_id, element in _elements(blocks):
        if element.get("type") not in INPUT_TYPES:
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
    for block_id, element in _elements(blocks):
        if element.get("type") not in INPUT_TYPES:
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
