"""Block Kit for actions (insatser): the action modal, the owner's DM card with its buttons,
reminders and the overdue digest, the list, App Home's "mina insatser", postponing, handing
over, the follow-up of effect, an action's history, the case view's linked actions and the
statistics summary.

Actions are shown only to members (ephemeral messages, DMs, modals, App Home); descriptions
passed the privacy guard when they were written. Everything a user typed is escaped.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.actions import (
    COMMENT_MAX,
    DESCRIPTION_MAX,
    FILTERS,
    HOPED_EFFECT_MAX,
    REASON_MAX,
    SCOPES,
    ActionPage,
    ActionRow,
    ActionView,
    Filter,
    HistoryEntry,
    Scope,
)
from domain.corrections import Field
from domain.i18n import Locale, Translator
from handlers.blocks.cases import effect_label
from handlers.blocks.common import (
    MESSAGE_BLOCKS_MAX,
    MODAL_BLOCKS_MAX,
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    escape,
    header,
    input_block,
    message,
    modal,
    option,
    plain,
    section,
    text_input,
    text_sections,
)
from handlers.blocks.common import notice_modal as notice_modal  # listeners use ui.notice_modal
from handlers.blocks.corrections import (
    edit_button,
    redact_button,
)
from storage.models import ActionStatus, Effect

# --- ids the listeners are wired to ---------------------------------------------------------

CB_ACTION_NEW = "action_new"
CB_ACTION_POSTPONE = "action_postpone"
CB_ACTION_HANDOVER = "action_handover"
CB_ACTION_FOLLOW_UP = "action_follow_up"
CB_ACTION_DETAIL = "action_detail"

# Buttons whose value is the action id.
ACTION_DONE = "action_done"
ACTION_MORE_TIME = "action_more_time"
ACTION_HAND_OVER = "action_hand_over"
ACTION_SNOOZE_HOUR = "action_snooze_hour"
ACTION_SNOOZE_MORNING = "action_snooze_morning"
ACTION_FOLLOW_UP = "action_follow_up_open"  # the agenda's follow-up button uses it too
ACTION_HISTORY = "action_history"
# One overflow menu per list row; option value "<verb>:<action id>".
ACTION_ROW_MENU = "action_row_menu"
ROW_VERBS = ("done", "more_time", "hand_over", "follow_up", "history")
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
    if len(parts) >= 3 and parts[0].isdigit():
        page, key, parts = int(parts[0]), (parts[3] if len(parts) == 4 else ""), parts[1:3]
    if len(parts) != 2:
        return ListRequest(0, "mine", "open")
    scope: Scope = next((s for s in SCOPES if s == parts[0]), "mine")
    flt: Filter = next((f for f in FILTERS if f == parts[1]), "open")
    number, _, sort_value = key[1:].partition("~")
    if key[:1] in ("a", "b") and number.isdigit() and sort_value:
        found = (sort_value, int(number))
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
    if verb not in ROW_VERBS or not action_id.isdigit():
        return None
    return verb, int(action_id)


# --- labels ---------------------------------------------------------------------------------


def status_label(t: Translator, status: ActionStatus) -> str:
    return {
        ActionStatus.OPEN: t("Open (not done)"),
        ActionStatus.DONE: t("Done"),
        ActionStatus.CANCELLED: t("Cancelled"),
    }[status]


def scope_label(t: Translator, scope: Scope) -> str:
    return {
        "mine": t("My actions"),
        "agency": t("My agency's actions"),
        "forum": t("The forum's actions"),
    }[scope]


def filter_label(t: Translator, flt: Filter) -> str:
    return {
        "open": t("Open"),
        "overdue": t("Overdue"),
        "done": t("Done"),
        "follow_up": t("Awaiting follow-up"),
        "all": t("All"),
    }[flt]


def _owner(t: Translator, owner: str | None) -> str:
    return f"<@{escape(owner)}>" if owner else t("no owner (with the agency)")


def _due(t: Translator, row: ActionRow, today: dt.date) -> str:
    day = t.day(row.due_on)
    if row.status is not ActionStatus.OPEN:
        return t("due {date}", date=day)
    if row.due_on < today:
        return ":warning: " + t("overdue since {date}", date=day)
    if row.due_on == today:
        return t("due today")
    return t("due {date}", date=day)


def _status(t: Translator, row: ActionRow) -> str:
    if row.status is ActionStatus.DONE:
        if row.effect is None:
            return t("Done · awaiting follow-up of effect")
        text = t("Done · effect: {effect}", effect=effect_label(t, row.effect))
        if row.follow_up_comment:
            text += f" – _{escape(clip(row.follow_up_comment, 300))}_"
        return text
    return status_label(t, row.status)


def hidden_text(t: Translator) -> str:
    """What a reader sees instead of the text of an action linked to a case whose details
    the disclosure rule does not let them see."""
    return "_" + t("details hidden") + "_"


def description_text(t: Translator, row: ActionRow, limit: int | None = 500) -> str:
    if not row.details:
        return hidden_text(t)
    return escape(clip(row.description, limit) if limit else row.description)


def row_text(t: Translator, row: ActionRow, today: dt.date, *, forum: bool = False) -> str:
    """Two or three lines about one action (mrkdwn, user text escaped)."""
    title = f"*#{row.id}* {description_text(t, row)}"
    facts = [escape(row.agency), _owner(t, row.owner), _due(t, row, today), _status(t, row)]
    lines = [title, " · ".join(facts)]
    links = []
    if forum:
        links.append(escape(row.forum_name))
    if row.case_reference:
        links.append(t("case {reference}", reference=escape(row.case_reference)))
    if row.area:
        links.append(t("area {area}", area=escape(row.area)))
    if links:
        lines.append(" · ".join(links))
    return "\n".join(lines)


# --- the action modal -----------------------------------------------------------------------


def _select(kind: str, placeholder: str, options: list[Block]) -> Block:
    return {
        "type": kind,
        "action_id": "value",
        "placeholder": plain(placeholder, 150),
        "options": options[:MAX_OPTIONS],
    }


def action_modal(
    t: Translator,
    *,
    agencies: Sequence[tuple[int, str]],
    own_agency_id: int | None,
    areas: Sequence[tuple[int, str]],
    meetings: Sequence[tuple[int, dt.datetime]],
    tz: dt.tzinfo,
    today: dt.date,
    owner: str | None,
    case_reference: str | None,
    private_metadata: str,
    area_id: int | None = None,
) -> Block:
    """The "new action" modal. Input block ids are the :data:`ACTION_FIELDS`; every
    element's action_id is ``value``."""
    agency_options = [option(name, str(agency_id)) for agency_id, name in agencies]
    agency_el = _select("static_select", t("Choose an agency"), agency_options)
    own = [o for o in agency_options if o["value"] == str(own_agency_id)]
    if own:
        agency_el["initial_option"] = own[0]
    owner_el: Block = {
        "type": "users_select",
        "action_id": "value",
        "placeholder": plain(t("Choose a person"), 150),
    }
    if owner:
        owner_el["initial_user"] = owner
    blocks: list[Block] = [
        context(
            t(
                "Never write names, personal identity numbers, phone numbers or addresses: "
                "use case references and non-identifying text."
            )
        ),
        input_block(
            "description",
            t("What is to be done"),
            text_input("value", multiline=True, max_length=DESCRIPTION_MAX),
            hint=t("Concrete and non-identifying."),
        ),
        input_block("agency", t("Owning agency"), agency_el),
        input_block(
            "owner",
            t("Owner"),
            owner_el,
            hint=t("A member of the owning agency in this forum."),
        ),
        input_block(
            "due_on",
            t("Due date"),
            {"type": "datepicker", "action_id": "value", "initial_date": today.isoformat()},
        ),
        input_block(
            "case",
            t("Case reference"),
            text_input("value", initial=case_reference, max_length=32, placeholder="FOS-2026-017"),
            optional=True,
        ),
    ]
    if areas:
        area_el = _select(
            "static_select",
            t("Choose an area"),
            [option(name, str(aid)) for aid, name in areas],
        )
        chosen = [o for o in area_el["options"] if o["value"] == str(area_id)]
        if chosen:
            area_el["initial_option"] = chosen[0]
        blocks.append(input_block("area", t("Area"), area_el, optional=True))
    if meetings:
        blocks.append(
            input_block(
                "meeting",
                t("Decided at or followed up at meeting"),
                _select(
                    "static_select",
                    t("Choose a meeting"),
                    [option(t.day_time(start, tz), str(mid)) for mid, start in meetings],
                ),
                optional=True,
            )
        )
    blocks.append(
        input_block(
            "hoped_effect",
            t("Hoped-for effect"),
            text_input("value", multiline=True, max_length=HOPED_EFFECT_MAX),
            optional=True,
        )
    )
    return modal(
        callback_id=CB_ACTION_NEW,
        title=t("New action"),
        submit=t("Create action"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def new_for_area_block(t: Translator, areas: Sequence[tuple[int, str]]) -> Block | None:
    """Under the situation picture: pick an area to create an action for it."""
    if not areas:
        return None
    return actions(
        {
            "type": "static_select",
            "action_id": ACTION_NEW_FOR_AREA,
            "placeholder": plain(t("New action for an area…"), 150),
            "options": [option(name, str(aid)) for aid, name in areas][:MAX_OPTIONS],
        },
        block_id=ACTION_NEW_FOR_AREA,
    )


def with_new_action_for_area(
    t: Translator, reply: dict[str, Any], areas: Sequence[tuple[int, str]]
) -> dict[str, Any]:
    """Append :func:`new_for_area_block` to a message when there is room (≤ 50 blocks)."""
    block = new_for_area_block(t, areas)
    blocks = list(reply.get("blocks") or [])
    if block is not None and len(blocks) < MESSAGE_BLOCKS_MAX:
        reply = {**reply, "blocks": [*blocks, block]}
    return reply


# --- cards, DMs and reminders -----------------------------------------------------------------


def action_buttons(t: Translator, row: ActionRow, *, snooze: bool = False) -> list[Block]:
    value = str(row.id)
    if row.status is ActionStatus.OPEN:
        buttons = [
            button(t("Done"), ACTION_DONE, value=value, style="primary"),
            button(t("Need more time"), ACTION_MORE_TIME, value=value),
            button(t("Hand over"), ACTION_HAND_OVER, value=value),
        ]
        if snooze:
            buttons.append(button(t("Remind me in 1 hour"), ACTION_SNOOZE_HOUR, value=value))
            buttons.append(
                button(t("Remind me tomorrow morning"), ACTION_SNOOZE_MORNING, value=value)
            )
        return buttons
    if row.awaiting_follow_up:
        return [follow_up_button(t, row.id)]
    return []


def follow_up_button(t: Translator, action_id: int) -> Block:
    """Record the follow-up of effect (also used by the agenda)."""
    return button(t("Follow up effect"), ACTION_FOLLOW_UP, value=str(action_id))


def action_card(
    t: Translator,
    row: ActionRow,
    today: dt.date,
    *,
    intro: str | None = None,
    note: str | None = None,
    snooze: bool = False,
) -> list[Block]:
    blocks: list[Block] = []
    if intro:
        blocks.append(section(intro))
    text = row_text(t, row, today, forum=True)
    if row.hoped_effect:
        label = t("Hoped-for effect")
        text += f"\n*{label}:* {escape(clip(row.hoped_effect, 500))}"
    blocks.append(section(text, block_id=f"action.{row.id}"))
    elements = action_buttons(t, row, snooze=snooze)
    if elements:
        blocks.append(actions(*elements, block_id=f"action_buttons.{row.id}"))
    if note:
        blocks.append(context(note))
    return blocks


def created_dm(t: Translator, row: ActionRow, today: dt.date, *, by: str) -> dict[str, Any]:
    intro = t(
        "<@{user}> gave you an action in {forum}.", user=escape(by), forum=escape(row.forum_name)
    )
    return message(
        t("New action #{id}: due {date}", id=row.id, date=t.day(row.due_on)),
        action_card(t, row, today, intro=intro),
    )


def handed_over_dm(t: Translator, row: ActionRow, today: dt.date, *, by: str) -> dict[str, Any]:
    intro = t("<@{user}> handed action #{id} over to you.", user=escape(by), id=row.id)
    return message(
        t("Action #{id} is now yours", id=row.id), action_card(t, row, today, intro=intro)
    )


def card_message(
    t: Translator, row: ActionRow, today: dt.date, *, note: str | None = None
) -> dict[str, Any]:
    return message(t("Action #{id}", id=row.id), action_card(t, row, today, note=note))


def reminder_message(t: Translator, row: ActionRow, today: dt.date) -> dict[str, Any]:
    if row.due_on > today:
        intro = t("Reminder: action #{id} is due {date}.", id=row.id, date=t.day(row.due_on))
    elif row.due_on == today:
        intro = t("Reminder: action #{id} is due today.", id=row.id)
    else:
        intro = t("Reminder: action #{id} was due {date}.", id=row.id, date=t.day(row.due_on))
    return message(intro, action_card(t, row, today, intro=f"*{intro}*", snooze=True))


def digest_message(
    t: Translator, rows: Sequence[ActionRow], total: int, today: dt.date
) -> dict[str, Any]:
    """One DM a day with all the owner's overdue actions (buttons on each)."""
    title = t.ngettext("You have {n} overdue action.", "You have {n} overdue actions.", total)
    blocks: list[Block] = [header(title)]
    for row in rows:
        blocks.append(divider())
        blocks.extend(action_card(t, row, today))
    if total > len(rows):
        blocks.append(
            context(
                t(
                    "…and {n} more: /samverkan actions overdue in the forum's channel.",
                    n=total - len(rows),
                )
            )
        )
    return message(title, blocks)


def released_message(t: Translator, forum_name: str, rows: Sequence[ActionRow]) -> dict[str, Any]:
    """To the coordinators: the owner left; the actions stay with their agencies."""
    title = t.ngettext(
        "{n} action in {forum} no longer has an owner: the owner left the forum.",
        "{n} actions in {forum} no longer have an owner: the owner left the forum.",
        len(rows),
        forum=escape(forum_name),
    )
    today = dt.date.min
    blocks: list[Block] = [section(f"*{title}*")]
    for row in rows[:20]:
        blocks.append(
            section(
                row_text(t, row, today),
                accessory=button(t("Hand over"), ACTION_HAND_OVER, value=str(row.id)),
            )
        )
    blocks.append(context(t("They stay with their agencies until someone takes them over.")))
    return message(title, blocks)


class ScheduledMessages:
    """The DMs the scheduler sends (domain.actions.ActionMessages)."""

    def reminder(self, locale: Locale, row: ActionRow, today: dt.date) -> dict[str, Any]:
        return reminder_message(Translator(locale), row, today)

    def digest(
        self, locale: Locale, rows: Sequence[ActionRow], total: int, today: dt.date
    ) -> dict[str, Any]:
        return digest_message(Translator(locale), rows, total, today)

    def released(
        self, locale: Locale, forum_name: str, rows: Sequence[ActionRow]
    ) -> dict[str, Any]:
        return released_message(Translator(locale), forum_name, rows)


# --- lists ----------------------------------------------------------------------------------


def _row_menu(t: Translator, row: ActionRow) -> Block:
    options: list[Block] = []
    if row.status is ActionStatus.OPEN:
        options += [
            option(t("Done"), f"done:{row.id}"),
            option(t("Need more time"), f"more_time:{row.id}"),
            option(t("Hand over"), f"hand_over:{row.id}"),
        ]
    if row.status is ActionStatus.DONE:
        options.append(option(t("Follow up effect"), f"follow_up:{row.id}"))
    options.append(option(t("History"), f"history:{row.id}"))
    if len(options) < 2:
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
    blocks.append(
        context(
            t("Page {n}", n=page.page + 1)
            + " · "
            + t("New action: {command}", command=t("/samverkan action"))
        )
    )
    return message(title, blocks)


def home_blocks(
    t: Translator, rows: Sequence[ActionRow], total: int, days: Mapping[int, dt.date]
) -> list[Block]:
    """App Home's "mina insatser": the user's open actions with the same buttons; ``days``
    is today in each forum's time zone (by forum id)."""
    blocks: list[Block] = [divider(), header(t("My actions"))]
    if not rows:
        blocks.append(section(t("You have no open actions.")))
        return blocks
    for row in rows:
        blocks.append(
            section(
                row_text(t, row, _day_of(row, days), forum=True),
                block_id=f"home_action.{row.id}",
                accessory=_row_menu(t, row),
            )
        )
    if total > len(rows):
        blocks.append(
            context(
                t("…and {n} more: /samverkan actions in the forum's channel.", n=total - len(rows))
            )
        )
    return blocks


def _day_of(row: ActionRow, days: Mapping[int, dt.date]) -> dt.date:
    # A forum missing from ``days``: the row's own overdue flag decides (computed in its zone).
    if row.forum_id in days:
        return days[row.forum_id]
    return row.due_on + dt.timedelta(days=1) if row.overdue else row.due_on - dt.timedelta(days=1)


def add_to_home(view: Block, blocks: list[Block]) -> Block:
    """Put the actions section before the home tab's closing hint, within 100 blocks."""
    existing = list(view.get("blocks", []))
    tail = existing[-1:] if existing and existing[-1].get("type") == "context" else []
    head = existing[: len(existing) - len(tail)]
    room = 100 - len(head) - len(tail)
    view["blocks"] = head + blocks[: max(room, 0)] + tail
    return view


# --- modals for changes -----------------------------------------------------------------------


def _summary(t: Translator, row: ActionRow) -> Block:
    return section(row_text(t, row, dt.date.min))


def postpone_modal(
    t: Translator, row: ActionRow, *, today: dt.date, private_metadata: str
) -> Block:
    blocks = [
        _summary(t, row),
        input_block(
            "due_on",
            t("New due date"),
            {
                "type": "datepicker",
                "action_id": "value",
                "initial_date": max(row.due_on, today).isoformat(),
            },
        ),
        input_block(
            "reason",
            t("Why is more time needed?"),
            text_input("value", multiline=True, max_length=REASON_MAX),
            hint=t("Short and non-identifying."),
        ),
    ]
    return modal(
        callback_id=CB_ACTION_POSTPONE,
        title=t("More time"),
        submit=t("Save"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def handover_modal(t: Translator, row: ActionRow, *, private_metadata: str) -> Block:
    blocks = [
        _summary(t, row),
        input_block(
            "owner",
            t("New owner"),
            {
                "type": "users_select",
                "action_id": "value",
                "placeholder": plain(t("Choose a person"), 150),
            },
            hint=t("A member of {agency} in this forum.", agency=row.agency),
        ),
    ]
    return modal(
        callback_id=CB_ACTION_HANDOVER,
        title=t("Hand over"),
        submit=t("Hand over"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def follow_up_modal(t: Translator, row: ActionRow, *, private_metadata: str) -> Block:
    effect_options = [option(effect_label(t, e), e.value) for e in Effect]
    blocks = [
        _summary(t, row),
        input_block(
            "effect",
            t("Did the action have the desired effect?"),
            {"type": "radio_buttons", "action_id": "value", "options": effect_options},
        ),
        input_block(
            "comment",
            t("Comment"),
            text_input("value", multiline=True, max_length=COMMENT_MAX),
            optional=True,
            hint=t("Short and non-identifying."),
        ),
    ]
    if row.hoped_effect:
        label = t("Hoped-for effect")
        blocks.insert(1, context(f"*{label}:* {escape(clip(row.hoped_effect, 500))}"))
    return modal(
        callback_id=CB_ACTION_FOLLOW_UP,
        title=t("Follow up effect"),
        submit=t("Save"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def _history_line(t: Translator, entry: HistoryEntry, tz: dt.tzinfo) -> str:
    d = entry.detail
    if entry.kind == "created":
        what = t("created the action")
    elif entry.kind == "done":
        what = t("marked it done")
    elif entry.kind == "postponed":
        what = t(
            "moved the due date from {old} to {new}",
            old=_iso_day(t, d.get("from")),
            new=_iso_day(t, d.get("to")),
        )
    elif entry.kind == "handed_over":
        what = t("handed it over to {user}", user=_owner(t, d.get("to")))
    elif entry.kind == "owner_left":
        what = t("left the forum; the action stays with the agency")
    elif entry.kind == "follow_up":
        effect = str(d.get("effect"))
        label = effect_label(t, Effect(effect)) if effect in Effect._value2member_map_ else "–"
        what = t("followed up the effect: {effect}", effect=label)
    elif entry.kind == "snoozed":
        what = t("snoozed the reminder")
    else:
        what = escape(entry.kind)
    line = f"{t.day_time(entry.at, tz)} · <@{escape(entry.actor)}> {what}"
    if entry.note:
        line += f" – _{escape(clip(entry.note, 300))}_"
    return line


def _iso_day(t: Translator, value: Any) -> str:
    try:
        return t.day(dt.date.fromisoformat(str(value)))
    except ValueError:
        return "–"


def _detail_card(t: Translator, row: ActionRow, today: dt.date, *, buttons: bool) -> list[Block]:
    """The action in full (the detail modal): the whole description, then the facts."""
    title = f"*#{row.id}*\n{description_text(t, row, None)}"
    blocks = text_sections([title])
    facts = [escape(row.agency), _owner(t, row.owner), _due(t, row, today), _status(t, row)]
    lines = [" · ".join(facts)]
    links = [escape(row.forum_name)]
    if row.case_reference:
        links.append(t("case {reference}", reference=escape(row.case_reference)))
    if row.area:
        links.append(t("area {area}", area=escape(row.area)))
    lines.append(" · ".join(links))
    if row.hoped_effect:
        label = t("Hoped-for effect")
        lines.append(f"*{label}:* {escape(row.hoped_effect)}")
    blocks.extend(text_sections(lines))
    elements = action_buttons(t, row) if buttons else []
    if elements:
        blocks.append(actions(*elements, block_id=f"action_buttons.{row.id}"))
    return blocks


def action_detail_modal(t: Translator, view: ActionView, *, tz: dt.tzinfo, today: dt.date) -> Block:
    blocks = _detail_card(t, view.row, today, buttons=view.may_change)
    fixes: list[Block] = []
    if view.may_edit:
        fixes.append(edit_button(t, Field.ACTION_DESCRIPTION, view.row.id))
    if view.may_redact:
        fixes.append(redact_button(t, Field.ACTION_DESCRIPTION, view.row.id))
        if view.row.hoped_effect:
            fixes.append(
                redact_button(
                    t, Field.ACTION_HOPED_EFFECT, view.row.id, t("Mask the hoped-for effect")
                )
            )
        if view.row.follow_up_comment:
            fixes.append(redact_button(t, Field.ACTION_COMMENT, view.row.id, t("Mask the comment")))
    if fixes:
        blocks.append(actions(*fixes, block_id=f"action_fix.{view.row.id}"))
    # Newest first, in as many sections as the entries need (never clipped).
    shown = list(reversed(view.history[-HISTORY_SHOWN:]))
    label = t("History")
    blocks.append(divider())
    lines = [f"*{label}*"] + ([_history_line(t, e, tz) for e in shown] or ["–"])
    blocks.extend(text_sections(lines)[: MODAL_BLOCKS_MAX - len(blocks)])
    return modal(
        callback_id=CB_ACTION_DETAIL,
        title=t("Action #{id}", id=view.row.id),
        close=t("Close"),
        blocks=blocks,
        # The forum, for the edit/mask buttons (the domain refuses another forum's action).
        private_metadata=json.dumps({"forum_id": view.row.forum_id}),
    )


# --- the case view's linked actions ---------------------------------------------------------------


def case_actions_blocks(
    t: Translator, rows: Sequence[ActionRow], *, reference: str, today: dt.date, details: bool
) -> list[Block]:
    """Linked actions in a case's modal (descriptions only with access to the details)."""
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
