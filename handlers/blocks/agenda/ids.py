"""The ids the agenda listeners are wired to, the section titles and the limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.i18n import N_, Translator
from handlers.blocks.common import (
    Block,
)
from storage.models import AgendaItemKind

CB_ITEM_ADD = "agenda_item_add"
CB_AGENDA_EDIT = "agenda_edit"
CB_MEETING_MOVE = "meeting_move"
CB_MEETING_CANCEL = "meeting_cancel"
CB_MEETING_RECORD = "meeting_record"
CB_MEETING_EXTRA = "meeting_extra"
ACTION_AGENDA_EDIT = "agenda_edit_open"
ACTION_ITEM_ADD = "agenda_item_add_open"
ACTION_ITEM_MENU = "agenda_item_menu"
ACTION_MEETING_MENU = "meeting_menu"
ACTION_MEETING_RECORD = "meeting_record_open"
ACTION_MEETING_EXTRA = "meeting_extra_open"
ACTION_SLOTS_OPEN = "slots_open"  # the time slots modal (handlers/minutes.py)
ITEM_TEXT_MAX = 300
CHECKBOXES_MAX = 10

SECTION_TITLES: dict[AgendaItemKind, str] = {
    AgendaItemKind.NEW_CASE: N_("New cases"),
    AgendaItemKind.FOLLOW_UP: N_("Cases for follow-up"),
    AgendaItemKind.SITUATION_PICTURE: N_("Situation picture"),
    AgendaItemKind.ACTION: N_("Actions due"),
    AgendaItemKind.OTHER: N_("Any other business"),
}
EMPTY: dict[AgendaItemKind, str] = {
    AgendaItemKind.NEW_CASE: N_("No new cases."),
    AgendaItemKind.FOLLOW_UP: N_("No cases for follow-up."),
    AgendaItemKind.SITUATION_PICTURE: N_("No situation picture for this meeting."),
    AgendaItemKind.ACTION: N_("No actions due."),
    AgendaItemKind.OTHER: N_("No other business yet."),
}

PictureBlocks = Callable[[Translator, Any], list[Block]]
# A button for a done action whose effect is to be followed up (the actions feature's own).
ActionButton = Callable[[Translator, int], Block]
