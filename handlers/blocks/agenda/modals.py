"""Editing the agenda and adding an item."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from domain.agenda import Agenda, AgendaLine
from domain.i18n import Translator
from handlers.blocks.agenda.ids import (
    ACTION_ITEM_MENU,
    CB_AGENDA_EDIT,
    CB_ITEM_ADD,
    ITEM_TEXT_MAX,
    SECTION_TITLES,
)
from handlers.blocks.agenda.message import _when
from handlers.blocks.common import (
    Block,
    clip,
    context,
    divider,
    escape,
    input_block,
    modal,
    option,
    plain,
    section,
    text_input,
)
from storage.models import AgendaItemKind


def _item_label(t: Translator, line: AgendaLine) -> str:
    if line.reference:
        return f"*{escape(line.reference)}*"
    if line.kind == AgendaItemKind.ACTION and line.action_id:
        return "*" + t("Action #{id}", id=line.action_id) + "*"
    return escape(clip(line.text or "", 200))


def edit_modal(t: Translator, agenda: Agenda, *, private_metadata: str, can_reorder: bool) -> Block:
    """Items with a menu each (up, down, remove) and a field to add other business."""
    blocks: list[Block] = [
        context(t("{forum} {when}", forum=escape(agenda.forum_name), when=_when(t, agenda)))
    ]
    for kind, title in SECTION_TITLES.items():
        lines = agenda.section(kind)
        if not lines:
            continue
        blocks.append(section("*" + t(title) + "*"))
        for line in lines:
            options = []
            if can_reorder:
                options += [
                    option(t("Move up"), f"up:{line.item_id}"),
                    option(t("Move down"), f"down:{line.item_id}"),
                ]
            options.append(option(t("Remove from the agenda"), f"remove:{line.item_id}"))
            if can_reorder and line.kind == AgendaItemKind.OTHER and line.text:
                # Coordinators mask text that identifies someone (kept nowhere after).
                options.append(option(t("Mask the text"), f"redact:{line.item_id}"))
            blocks.append(
                section(
                    _item_label(t, line),
                    block_id=f"item:{line.item_id}",
                    accessory={
                        "type": "overflow",
                        "action_id": ACTION_ITEM_MENU,
                        "options": options,
                    },
                )
            )
    room = 100 - 3
    if len(blocks) > room:
        blocks = [
            *blocks[: room - 1],
            context(t("The agenda is long: only the first items are shown.")),
        ]
    blocks.append(divider())
    blocks.append(
        input_block(
            "text",
            t("Add other business"),
            text_input("text", max_length=ITEM_TEXT_MAX, multiline=True),
            optional=True,
            hint=t("No names or other identifying details: this is posted in the channel."),
        )
    )
    return modal(
        callback_id=CB_AGENDA_EDIT,
        title=t("Agenda"),
        blocks=blocks,
        submit=t("Save"),
        close=t("Close"),
        private_metadata=private_metadata,
    )


def add_item_modal(
    t: Translator,
    *,
    agencies: Sequence[tuple[int, str]],
    meetings: Sequence[tuple[int, dt.datetime]],
    tz: dt.tzinfo,
    private_metadata: str,
    text: str | None = None,
) -> Block:
    meeting_options = [option(t.day_time(start, tz), str(mid)) for mid, start in meetings[:100]]
    blocks: list[Block] = [
        input_block(
            "text",
            t("What do you want to raise?"),
            text_input("text", initial=text, max_length=ITEM_TEXT_MAX, multiline=True),
            hint=t("No names or other identifying details: this is posted in the channel."),
        ),
        input_block(
            "agencies",
            t("Agencies that need to attend"),
            {
                "type": "multi_static_select",
                "action_id": "agencies",
                "placeholder": plain(t("Every agency"), 150),
                "options": [option(name, str(aid)) for aid, name in agencies[:100]],
            },
            optional=True,
        ),
    ]
    if meeting_options:
        blocks.append(
            input_block(
                "meeting",
                t("Meeting"),
                {
                    "type": "static_select",
                    "action_id": "meeting",
                    "options": meeting_options,
                    "initial_option": meeting_options[0],
                },
            )
        )
    return modal(
        callback_id=CB_ITEM_ADD,
        title=t("Other business"),
        blocks=blocks,
        submit=t("Add"),
        close=t("Cancel"),
        private_metadata=private_metadata,
    )


def item_added_text(t: Translator, start: dt.datetime, tz: dt.tzinfo) -> str:
    return ":white_check_mark: " + t("Added to the agenda for {when}.", when=t.day_time(start, tz))


def _meeting_label(t: Translator, start: dt.datetime, tz: dt.tzinfo) -> str:
    return t.day_time(start, tz)
