"""The action modal, the modals for changes (postpone, hand over, follow up) and an action's
detail view with its history."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from domain.actions import (
    COMMENT_MAX,
    DESCRIPTION_MAX,
    HOPED_EFFECT_MAX,
    REASON_MAX,
    ActionRow,
    ActionView,
    HistoryEntry,
    OwnerChoice,
)
from domain.corrections import Field
from domain.i18n import Translator, swedish_sort_key
from handlers.blocks.actions.cards import (
    _due,
    _owner,
    _status,
    action_buttons,
    description_text,
    row_text,
)
from handlers.blocks.actions.ids import (
    ACTION_NEW_FOR_AREA,
    CB_ACTION_CANCEL,
    CB_ACTION_DETAIL,
    CB_ACTION_FOLLOW_UP,
    CB_ACTION_HANDOVER,
    CB_ACTION_NEW,
    CB_ACTION_POSTPONE,
    HISTORY_SHOWN,
    MAX_OPTIONS,
)
from handlers.blocks.cases import effect_label
from handlers.blocks.common import (
    MESSAGE_BLOCKS_MAX,
    MODAL_BLOCKS_MAX,
    Block,
    actions,
    clip,
    context,
    divider,
    escape,
    input_block,
    modal,
    option,
    plain,
    reference_example,
    section,
    text_input,
    text_sections,
)
from handlers.blocks.common import notice_modal as notice_modal
from handlers.blocks.corrections import (
    edit_button,
    redact_button,
)
from storage.models import Effect

# --- the action modal -----------------------------------------------------------------------


def _select(kind: str, placeholder: str, options: list[Block]) -> Block:
    return {
        "type": kind,
        "action_id": "value",
        "placeholder": plain(placeholder, 150),
        "options": options[:MAX_OPTIONS],
    }


def owner_element(
    t: Translator,
    choices: Sequence[OwnerChoice] | None,
    names: Mapping[str, str],
    *,
    initial: str | None = None,
) -> Block:
    """The owner picker: exactly those who may own the action (``choices``,
    domain.actions.owner_choices), "name – agency" in Swedish order, when there are some,
    no more than a select holds, and Slack named each (``names``); else the workspace's
    people picker (the save refuses whoever may not own it, as it always does).
    ``initial``: the owner preset."""
    placeholder = plain(t("Choose a person"), 150)
    if choices and len(choices) <= MAX_OPTIONS and all(c.slack_user_id in names for c in choices):
        options = sorted(
            (option(f"{names[c.slack_user_id]} – {c.agency}", c.slack_user_id) for c in choices),
            key=lambda o: swedish_sort_key(o["text"]["text"]),
        )
        picker: Block = {
            "type": "static_select",
            "action_id": "value",
            "placeholder": placeholder,
            "options": options,
        }
        preset = [o for o in options if o["value"] == initial]
        if preset:
            picker["initial_option"] = preset[0]
        return picker
    people: Block = {"type": "users_select", "action_id": "value", "placeholder": placeholder}
    if initial:
        people["initial_user"] = initial
    return people


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
    forum_code: str = "",
) -> Block:
    """The "new action" modal. Input block ids are the :data:`ACTION_FIELDS`; every
    element's action_id is ``value``."""
    agency_options = [option(name, str(agency_id)) for agency_id, name in agencies]
    agency_el = _select("static_select", t("Choose an agency"), agency_options)
    own = [o for o in agency_options if o["value"] == str(own_agency_id)]
    if own:
        agency_el["initial_option"] = own[0]
    # The agency (and the case) are chosen in this modal: the workspace's people.
    owner_el = owner_element(t, None, {}, initial=owner)
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
            text_input(
                "value",
                initial=case_reference,
                max_length=32,
                placeholder=reference_example(forum_code, today.year) if forum_code else None,
            ),
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


def cancel_modal(t: Translator, row: ActionRow, *, private_metadata: str) -> Block:
    """Avbryt insatsen: the action is no longer relevant; a short reason is required."""
    blocks = [
        _summary(t, row),
        input_block(
            "reason",
            t("Why is the action cancelled?"),
            text_input("value", multiline=True, max_length=REASON_MAX),
            hint=t("Short and non-identifying. A cancelled action is not counted as done."),
        ),
    ]
    return modal(
        callback_id=CB_ACTION_CANCEL,
        title=t("Cancel the action"),
        submit=t("Cancel the action"),
        close=t("Back"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def handover_modal(
    t: Translator,
    row: ActionRow,
    *,
    private_metadata: str,
    agencies: Sequence[tuple[int, str]] | None = None,
    owners: Sequence[OwnerChoice] | None = None,
    names: Mapping[str, str] | None = None,
) -> Block:
    """Lämna över to a member of the owning agency; for a coordinator (``agencies``: the
    forum's active agencies) also to another agency, e.g. when its own is gone. ``owners``
    (with their ``names``): who may take it over, offered when the agency is not chosen
    in the modal (:func:`owner_element`)."""
    owner_hint = t("A member of {agency} in this forum.", agency=row.agency)
    blocks = [_summary(t, row)]
    if agencies is not None:
        agency_options = [option(name, str(agency_id)) for agency_id, name in agencies]
        agency_el = _select("static_select", t("Choose an agency"), agency_options)
        own = [o for o in agency_options if o["value"] == str(row.agency_id)]
        if own:
            agency_el["initial_option"] = own[0]
        blocks.append(
            input_block(
                "agency",
                t("Owning agency"),
                agency_el,
                hint=t("A coordinator can move the action to another agency of the forum."),
            )
        )
        owner_hint = t("A member of the chosen agency in this forum.")
    blocks.append(
        input_block(
            "owner",
            t("New owner"),
            owner_element(t, owners if agencies is None else None, names or {}),
            hint=owner_hint,
        )
    )
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
    elif entry.kind == "handed_over" and d.get("to_agency") and d.get("from") == d.get("to"):
        what = t("moved it to {agency}", agency=escape(str(d.get("to_agency"))))  # owner kept
    elif entry.kind == "handed_over" and d.get("to_agency"):
        what = t(
            "moved it to {agency} and handed it over to {user}",
            agency=escape(str(d.get("to_agency"))),
            user=_owner(t, d.get("to")),
        )
    elif entry.kind == "handed_over":
        what = t("handed it over to {user}", user=_owner(t, d.get("to")))
    elif entry.kind == "owner_left":
        what = t("left the forum; the action stays with the agency")
    elif entry.kind == "owner_unreachable":
        what = t("could not be reached in Slack; the action stays with the agency")
    elif entry.kind == "owner_moved":
        what = t(
            "moved to {agency}; the action stays with its agency",
            agency=escape(str(d.get("to_agency") or "–")),
        )
    elif entry.kind == "follow_up":
        effect = str(d.get("effect"))
        label = effect_label(t, Effect(effect)) if effect in Effect._value2member_map_ else "–"
        what = t("followed up the effect: {effect}", effect=label)
    elif entry.kind == "reopened":
        what = t("opened it again")
    elif entry.kind == "cancelled":
        what = t("cancelled the action")
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


def _detail_card(
    t: Translator, row: ActionRow, today: dt.date, *, change: bool, follow_up: bool
) -> list[Block]:
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
    elements = action_buttons(t, row, change=change, follow_up=follow_up)
    if elements:
        blocks.append(actions(*elements, block_id=f"action_buttons.{row.id}"))
    return blocks


def action_detail_modal(t: Translator, view: ActionView, *, tz: dt.tzinfo, today: dt.date) -> Block:
    # Done and awaiting its follow-up: that button is for whoever may record the effect.
    blocks = _detail_card(t, view.row, today, change=view.may_change, follow_up=view.may_follow_up)
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
