"""Block Kit for meetings and agendas. Pure functions returning dicts.

The posted agenda is a channel message: references, agencies, owners and dates only,
never case details. Long agendas are split into messages of at most 50 blocks; the
first is the post, the rest go in its thread.

Parts: ``ids`` (ids, titles, limits), ``message`` (the agenda message and its preview),
``modals`` (editing the agenda, adding an item), ``meetings`` (the meetings list, moving,
cancelling, recording a meeting). Every public name is importable from here.
"""

from __future__ import annotations

from handlers.blocks.agenda.ids import (
    ACTION_AGENDA_EDIT,
    ACTION_ITEM_ADD,
    ACTION_ITEM_MENU,
    ACTION_MEETING_EXTRA,
    ACTION_MEETING_MENU,
    ACTION_MEETING_RECORD,
    ACTION_SLOTS_OPEN,
    CB_AGENDA_EDIT,
    CB_ITEM_ADD,
    CB_MEETING_CANCEL,
    CB_MEETING_EXTRA,
    CB_MEETING_MOVE,
    CB_MEETING_RECORD,
    CHECKBOXES_MAX,
    EMPTY,
    ITEM_TEXT_MAX,
    SECTION_TITLES,
    ActionButton,
    PictureBlocks,
)
from handlers.blocks.agenda.meetings import (
    cancel_modal,
    extra_meeting_message,
    extra_modal,
    meeting_changed_message,
    meetings_message,
    move_modal,
    record_modal,
    recorded_text,
)
from handlers.blocks.agenda.message import (
    agenda_blocks,
    agenda_messages,
    agenda_preview,
    meeting_link_text,
    slot_time,
    split,
)
from handlers.blocks.agenda.modals import add_item_modal, edit_modal, item_added_text

__all__ = [
    "ACTION_AGENDA_EDIT",
    "ACTION_ITEM_ADD",
    "ACTION_ITEM_MENU",
    "ACTION_MEETING_EXTRA",
    "ACTION_MEETING_MENU",
    "ACTION_MEETING_RECORD",
    "ACTION_SLOTS_OPEN",
    "CB_AGENDA_EDIT",
    "CB_ITEM_ADD",
    "CB_MEETING_CANCEL",
    "CB_MEETING_EXTRA",
    "CB_MEETING_MOVE",
    "CB_MEETING_RECORD",
    "CHECKBOXES_MAX",
    "EMPTY",
    "ITEM_TEXT_MAX",
    "SECTION_TITLES",
    "ActionButton",
    "PictureBlocks",
    "add_item_modal",
    "agenda_blocks",
    "agenda_messages",
    "agenda_preview",
    "cancel_modal",
    "edit_modal",
    "extra_meeting_message",
    "extra_modal",
    "item_added_text",
    "meeting_changed_message",
    "meeting_link_text",
    "meetings_message",
    "move_modal",
    "record_modal",
    "recorded_text",
    "slot_time",
    "split",
]
