"""The ids the action listeners are wired to and the values they parse."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.actions import (
    FILTERS,
    SCOPES,
    Filter,
    Scope,
)
from domain.ids import ASCII_NUMBER as _ASCII_NUMBER
from domain.ids import id_value
from handlers.blocks.common import notice_modal as notice_modal

# --- ids the listeners are wired to ---------------------------------------------------------

CB_ACTION_NEW = "action_new"
CB_ACTION_POSTPONE = "action_postpone"
CB_ACTION_HANDOVER = "action_handover"
CB_ACTION_CANCEL = "action_cancel"
CB_ACTION_FOLLOW_UP = "action_follow_up"
CB_ACTION_DETAIL = "action_detail"

# Buttons whose value is the action id.
ACTION_DONE = "action_done"
ACTION_MORE_TIME = "action_more_time"
ACTION_HAND_OVER = "action_hand_over"
ACTION_CANCEL = "action_cancel_open"  # open, no longer relevant: cancel with a reason
ACTION_SNOOZE_HOUR = "action_snooze_hour"
ACTION_SNOOZE_MORNING = "action_snooze_morning"
ACTION_REOPEN = "action_reopen"  # done, effect not yet followed up: open again
ACTION_FOLLOW_UP = "action_follow_up_open"  # the agenda's follow-up button uses it too
ACTION_HISTORY = "action_history"
# One overflow menu per list row; option value "<verb>:<action id>".
ACTION_ROW_MENU = "action_row_menu"
ROW_VERBS = ("done", "more_time", "hand_over", "cancel", "follow_up", "reopen", "history")
# The list's filter (value "<scope>:<filter>") and previous/next ("<page>:<scope>:<filter>").
ACTION_LIST_FILTER = "action_list_filter"
ACTION_LIST_PREV = "action_list_page_prev"
ACTION_LIST_NEXT = "action_list_page_next"
ACTION_LIST_PAGE_RE = re.compile(r"^action_list_page_(prev|next)$")
# In a case's modal: a new action linked to the case (value: the case reference).
ACTION_NEW_FOR_CASE = "action_new_for_case"
# Under the situation picture: a new action for the chosen area (option value: the area id).
ACTION_NEW_FOR_AREA = "action_new_for_area"

ACTION_FIELDS: tuple[str, ...] = (
    "description",
    "agency",
    "owner",
    "due_on",
    "case",
    "area",
    "meeting",
    "hoped_effect",
)
MAX_OPTIONS = 100
HISTORY_SHOWN = 20


# --- values the listeners parse -------------------------------------------------------------


@dataclass(frozen=True)
class ListRequest:
    """A page of the action list a filter or a previous/next button asks for."""

    page: int
    scope: Scope
    filter: Filter
    after: tuple[str, int] | None = None
    before: tuple[str, int] | None = None


def list_value(
    scope: Scope,
    flt: Filter,
    page: int | None = None,
    *,
    after: tuple[str, int] | None = None,
    before: tuple[str, int] | None = None,
) -> str:
    """``"<scope>:<filter>"`` (a filter), or ``"<page>:<scope>:<filter>:a<id>~<value>"``
    (the rows after that key; ``b`` before it)."""
    if page is None:
        return f"{scope}:{flt}"
    key = after or before
    mark = "a" if after else "b"
    return f"{page}:{scope}:{flt}" + (f":{mark}{key[1]}~{key[0]}" if key else "")


def parse_list_value(value: str) -> ListRequest:
    """``"2:agency:done:a17~2026-11-20T10:00:00+00:00"`` or ``"agency:done"`` → the request;
    odd values → the first page of my open actions; a page without a key → the first page."""
    parts = value.split(":", 3)
    page = 0
    key = ""
    first = id_value(parts[0])
    if len(parts) >= 3 and first is not None:
        page, key, parts = first, (parts[3] if len(parts) == 4 else ""), parts[1:3]
    if len(parts) != 2:
        return ListRequest(0, "mine", "open")
    scope: Scope = next((s for s in SCOPES if s == parts[0]), "mine")
    flt: Filter = next((f for f in FILTERS if f == parts[1]), "open")
    raw, _, sort_value = key[1:].partition("~")
    number = id_value(raw)
    if key[:1] in ("a", "b") and number is not None and sort_value:
        found = (sort_value, number)
        if key[0] == "a":
            return ListRequest(page, scope, flt, after=found)
        return ListRequest(page, scope, flt, before=found)
    return ListRequest(0, scope, flt)


def row_block_id(action_id: int, scope: Scope, flt: Filter, page: int) -> str:
    """A list row's block id: the action and the list it is shown in, so a change made from
    the row's menu can redraw that same list in place."""
    return f"action.{action_id}@{list_value(scope, flt, page)}"


def parse_row_block_id(block_id: str) -> ListRequest | None:
    """The list (scope, filter) a row's block id names; None for other blocks. Pages are
    keyed by the rows around them, which a row does not know: a change made from a row
    redraws the first page of the same list."""
    prefix, at, state = block_id.partition("@")
    if not at or not prefix.startswith("action."):
        return None
    listed = parse_list_value(state)
    return ListRequest(0, listed.scope, listed.filter)


def parse_row_value(value: str) -> tuple[str, int] | None:
    verb, _, action_id = value.partition(":")
    if verb not in ROW_VERBS or not _ASCII_NUMBER.fullmatch(action_id):
        return None
    return verb, id_value(action_id) or 0  # past any row: no such action
