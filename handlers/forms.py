"""Read a modal's ``view.state.values`` into plain Python values (pure, no Slack calls)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.forums import ForumDraft, split_lines

Values = dict[str, dict[str, dict[str, Any]]]


def _element(values: Values, field: str) -> dict[str, Any] | None:
    """The element of the block named ``field`` or ``field.<version>``."""
    for block_id, elements in values.items():
        if block_id == field or block_id.split(".", 1)[0] == field:
            return next(iter(elements.values()), None)
    return None


def text(values: Values, field: str) -> str:
    el = _element(values, field)
    return (el or {}).get("value") or ""


def selected(values: Values, field: str) -> str | None:
    el = _element(values, field) or {}
    opt = el.get("selected_option")
    if opt:
        return str(opt.get("value"))
    user = el.get("selected_user")
    return str(user) if user else None


def selected_many(values: Values, field: str) -> list[str]:
    el = _element(values, field) or {}
    if "selected_users" in el:
        return [str(u) for u in el.get("selected_users") or []]
    return [str(o.get("value")) for o in el.get("selected_options") or []]


def time_value(values: Values, field: str) -> dt.time | None:
    raw = (_element(values, field) or {}).get("selected_time")
    if not raw:
        return None
    try:
        return dt.time.fromisoformat(raw)
    except ValueError:
        return None


def block_ids(view: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"]


def forum_draft(values: Values, *, template: str | None = None) -> ForumDraft:
    own = selected(values, "own_agency")
    agencies = selected_many(values, "agencies") + split_lines(text(values, "agencies_other"))
    if own and own.casefold() not in {a.casefold() for a in agencies}:
        agencies.append(own)  # the creator's own agency always takes part
    return ForumDraft(
        name=text(values, "name"),
        code=text(values, "code"),
        agencies=list(dict.fromkeys(agencies)),
        own_agency=own,
        rrule=text(values, "rrule"),
        start=time_value(values, "start"),
        end=time_value(values, "end"),
        areas=split_lines(text(values, "areas")),
        template=template or selected(values, "template"),
    )
