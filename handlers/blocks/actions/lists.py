"""The action list, App Home's "mina insatser" and the case view's linked actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from domain.actions import (
    FILTERS,
    SCOPES,
    ActionPage,
    ActionRow,
    Filter,
    Scope,
)
from domain.i18n import Translator
from handlers.blocks.actions.cards import filter_label, row_text, scope_label
from handlers.blocks.actions.ids import (
    ACTION_HISTORY,
    ACTION_LIST_FILTER,
    ACTION_LIST_NEXT,
    ACTION_LIST_PREV,
    ACTION_NEW_FOR_CASE,
    ACTION_ROW_MENU,
    list_value,
    row_block_id,
)
from handlers.blocks.common import (
    Block,
    actions,
    button,
    context,
    divider,
    header,
    message,
    option,
    plain,
    section,
)
from handlers.blocks.common import notice_modal as notice_modal
from handlers.blocks.home import HomeSection
from storage.models import ActionStatus

# --- lists ----------------------------------------------------------------------------------


def _row_menu(t: Translator, row: ActionRow) -> Block:
    # Only what this reader may do (a member of another agency: the history).
    options: list[Block] = []
    if row.status is ActionStatus.OPEN and row.changeable:
        options += [
            option(t("Done"), f"done:{row.id}"),
            option(t("Need more time"), f"more_time:{row.id}"),
            option(t("Hand over"), f"hand_over:{row.id}"),
            option(t("Cancel the action"), f"cancel:{row.id}"),
        ]
    if row.status is ActionStatus.DONE and row.followable:
        options.append(option(t("Follow up effect"), f"follow_up:{row.id}"))
    if row.awaiting_follow_up and row.changeable:
        options.append(option(t("Open again"), f"reopen:{row.id}"))
    if not options:  # the history alone: a button, not a menu of one (or of it twice)
        return button(t("History"), ACTION_HISTORY, value=str(row.id))
    options.append(option(t("History"), f"history:{row.id}"))
    return {"type": "overflow", "action_id": ACTION_ROW_MENU, "options": options[:5]}


def _filter_select(t: Translator, scope: Scope, flt: Filter) -> Block:
    groups = []
    initial = None
    for s in SCOPES:
        opts = [
            option(f"{scope_label(t, s)}: {filter_label(t, f)}", list_value(s, f)) for f in FILTERS
        ]
        groups.append({"label": plain(scope_label(t, s), 75), "options": opts})
        if s == scope:
            initial = next(o for o in opts if o["value"] == list_value(scope, flt))
    element: Block = {
        "type": "static_select",
        "action_id": ACTION_LIST_FILTER,
        "placeholder": plain(t("Filter"), 150),
        "option_groups": groups,
    }
    if initial:
        element["initial_option"] = initial
    return element


def action_list_message(
    t: Translator, page: ActionPage, today: dt.date, *, note: str | None = None
) -> dict[str, Any]:
    """The list; ``note`` (what the user just did from it) is shown at the top."""
    title = f"{scope_label(t, page.scope)}: {filter_label(t, page.filter)}"
    blocks: list[Block] = [header(t("Actions"))]
    if note:
        blocks.append(context(note))
    blocks.append(
        actions(_filter_select(t, page.scope, page.filter), block_id="action_list_filter")
    )
    for row in page.rows:
        blocks.append(
            section(
                row_text(t, row, today),
                block_id=row_block_id(row.id, page.scope, page.filter, page.page),
                accessory=_row_menu(t, row),
            )
        )
    if not page.rows:
        blocks.append(
            section(t("No actions match this filter.") if page.page == 0 else t("No more actions."))
        )
    nav: list[Block] = []
    if page.page > 0:
        previous = list_value(page.scope, page.filter, page.page - 1, before=page.first_key)
        nav.append(button(t("Previous"), ACTION_LIST_PREV, value=previous))
    if page.has_more and page.last_key is not None:
        following = list_value(page.scope, page.filter, page.page + 1, after=page.last_key)
        nav.append(button(t("Next"), ACTION_LIST_NEXT, value=following))
    if nav:
        blocks.append(actions(*nav, block_id="action_list_page"))
    new = t("New action: {command}", command=t("/samverkan action"))
    paged = page.page > 0 or page.has_more  # one page only: no "Page 1"
    blocks.append(context(t("Page {n}", n=page.page + 1) + " · " + new if paged else new))
    return message(title, blocks)


def home_section(
    t: Translator, rows: Sequence[ActionRow], total: int, days: Mapping[int, dt.date]
) -> HomeSection:
    """App Home's "mina insatser": the user's open actions with the same buttons, one entry
    each (``total``: all of them); ``days`` is today in each forum's time zone (by forum
    id)."""
    head: list[Block] = [divider(), header(t("My actions"))]
    if not rows:
        return HomeSection(head=[*head, section(t("You have no open actions."))])
    entries = [
        [
            section(
                row_text(t, row, _day_of(row, days), forum=True),
                block_id=f"home_action.{row.id}",
                accessory=_row_menu(t, row),
            )
        ]
        for row in rows
    ]

    def more(n: int) -> Block:
        return context(t("…and {n} more: /samverkan actions in the forum's channel.", n=n))

    return HomeSection(head=head, entries=entries, more=more, left_out=total - len(rows))


def _day_of(row: ActionRow, days: Mapping[int, dt.date]) -> dt.date:
    # A forum missing from ``days``: the row's own overdue flag decides (computed in its zone).
    if row.forum_id in days:
        return days[row.forum_id]
    return row.due_on + dt.timedelta(days=1) if row.overdue else row.due_on - dt.timedelta(days=1)


# --- the case view's linked actions ---------------------------------------------------------------


def case_actions_blocks(
    t: Translator,
    rows: Sequence[ActionRow],
    *,
    reference: str,
    today: dt.date,
    details: bool,
    closed: bool = False,
) -> list[Block]:
    """Linked actions in a case's modal (descriptions only with access to the details);
    a closed case offers no new one (the action modal refuses it)."""
    label = t("Linked actions")
    blocks: list[Block] = [divider()]
    if not rows:
        blocks.append(section(f"*{label}*\n" + t("No actions yet.")))
    else:
        # Each row is as the disclosure rule let this reader see it ("details hidden").
        blocks.append(section(f"*{label}*"))
        blocks.extend(
            section(row_text(t, r, today), block_id=f"case_action.{r.id}") for r in rows[:10]
        )
        if len(rows) > 10:
            blocks.append(context(t("…and {n} more.", n=len(rows) - 10)))
    if not closed:
        blocks.append(
            actions(
                button(t("Add an action"), ACTION_NEW_FOR_CASE, value=reference[:32]),
                block_id="case_add_action",
            )
        )
    return blocks


def add_case_actions(view: Block, blocks: list[Block]) -> Block:
    """Insert the linked actions before the case modal's own buttons (within 100 blocks)."""
    existing = list(view.get("blocks", []))
    at = next(
        (i for i, b in enumerate(existing) if b.get("block_id") == "case_actions"), len(existing)
    )
    merged = existing[:at] + blocks + existing[at:]
    view["blocks"] = merged[:100]
    return view
