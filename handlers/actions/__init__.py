"""Listeners for actions (insatser): the action modal, the owner's buttons (Klar, Behöver mer
tid, Lämna över, snooze), the follow-up of effect, lists, App Home, the åtgärdsplan export
and statistics. Parse → ack → domain → render; Slack calls in lazy listeners.

Parts: ``meta`` (metadata and shared helpers), ``commands`` (the command router's entry
points), ``create`` (creating an action), ``changes`` (changing one, the list). The
``register(app)`` table is here.
"""

from __future__ import annotations

from slack_bolt import App

from handlers.actions.changes import (
    CHANGE_CALLBACKS,
    CHANGE_VERBS,
    QUICK_VERBS,
    after_change,
    button_change,
    button_quick,
    change_list,
    open_change,
    quick,
    refresh,
    row_menu,
    submit_change,
)
from handlers.actions.commands import action_list, export_plan, open_action_modal, route, statistics
from handlers.actions.create import after_create, new_for_area, new_for_case, submit_action
from handlers.actions.meta import (
    ACTION,
    ACTIONS,
    FILTER_WORDS,
    PLAN,
    SCOPE_WORDS,
    STATISTICS,
    WORDS,
    ActionMeta,
    Origin,
    refresh_case_modal,
    republish_agendas,
)
from handlers.blocks import actions as ui
from handlers.payload import ack_only

__all__ = [
    "ACTION",
    "ACTIONS",
    "CHANGE_CALLBACKS",
    "CHANGE_VERBS",
    "FILTER_WORDS",
    "PLAN",
    "QUICK_VERBS",
    "SCOPE_WORDS",
    "STATISTICS",
    "WORDS",
    "ActionMeta",
    "Origin",
    "action_list",
    "after_change",
    "after_create",
    "button_change",
    "button_quick",
    "change_list",
    "export_plan",
    "new_for_area",
    "new_for_case",
    "open_action_modal",
    "open_change",
    "quick",
    "refresh",
    "refresh_case_modal",
    "register",
    "republish_agendas",
    "route",
    "row_menu",
    "statistics",
    "submit_action",
    "submit_change",
]


def register(app: App) -> None:
    app.view(ui.CB_ACTION_NEW)(ack=submit_action, lazy=[after_create])
    app.action(ui.ACTION_NEW_FOR_CASE)(ack=ack_only, lazy=[new_for_case])
    app.action(ui.ACTION_NEW_FOR_AREA)(ack=ack_only, lazy=[new_for_area])
    for action_id in QUICK_VERBS:
        app.action(action_id)(ack=ack_only, lazy=[button_quick])
    for action_id in CHANGE_VERBS:
        app.action(action_id)(ack=ack_only, lazy=[button_change])
    app.action(ui.ACTION_ROW_MENU)(ack=ack_only, lazy=[row_menu])
    for callback_id in CHANGE_CALLBACKS:
        app.view(callback_id)(ack=submit_change, lazy=[after_change])
    app.action(ui.ACTION_LIST_FILTER)(ack=ack_only, lazy=[change_list])
    app.action(ui.ACTION_LIST_PAGE_RE)(ack=ack_only, lazy=[change_list])
