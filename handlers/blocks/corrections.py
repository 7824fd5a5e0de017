"""Block Kit for correcting and masking free text: the buttons and the two modals."""

from __future__ import annotations

import re

from domain.corrections import MAX_LENGTH, REDACTED, Editable, Field
from domain.i18n import Translator
from domain.ids import ASCII_NUMBER as _ASCII_NUMBER
from domain.ids import id_value
from handlers.blocks.common import (
    Block,
    button,
    context,
    escape,
    input_block,
    modal,
    section,
    text_input,
)

ACTION_TEXT_EDIT = "text_edit"  # value "<field>:<object id>"
ACTION_TEXT_REDACT = "text_redact"  # value "<field>:<object id>"
CB_TEXT_EDIT = "text_edit_submit"
CB_TEXT_REDACT = "text_redact_submit"


def target_value(field: Field, object_id: int) -> str:
    return f"{field.value}:{object_id}"


def parse_target(value: str) -> tuple[Field, int] | None:
    name, _, raw = value.rpartition(":")
    if not _ASCII_NUMBER.fullmatch(raw):
        return None
    try:
        field = Field(name)
    except ValueError:
        return None
    return field, id_value(raw) or 0  # past any row: no such text


# A view may carry several of these buttons (summary and outcome, text and comment), and Slack
# wants each action_id once: the field goes into the id too, and the listeners match the prefix.
ACTION_TEXT_EDIT_RE = re.compile(rf"^{ACTION_TEXT_EDIT}(\..+)?$")
ACTION_TEXT_REDACT_RE = re.compile(rf"^{ACTION_TEXT_REDACT}(\..+)?$")


def edit_action_id(field: Field) -> str:
    return f"{ACTION_TEXT_EDIT}.{field.value}"


def redact_action_id(field: Field) -> str:
    return f"{ACTION_TEXT_REDACT}.{field.value}"


def edit_button(t: Translator, field: Field, object_id: int, label: str | None = None) -> Block:
    return button(label or t("Edit"), edit_action_id(field), value=target_value(field, object_id))


def redact_button(t: Translator, field: Field, object_id: int, label: str | None = None) -> Block:
    return button(
        label or t("Mask"),
        redact_action_id(field),
        value=target_value(field, object_id),
        style="danger",
    )


def edit_modal(t: Translator, text: Editable, *, private_metadata: str) -> Block:
    """The text in an input, guarded like the original when saved; the old text is kept
    nowhere after saving."""
    return modal(
        callback_id=CB_TEXT_EDIT,
        title=t("Correct the text"),
        submit=t("Save"),
        close=t("Cancel"),
        private_metadata=private_metadata,
        blocks=[
            context(escape(text.label_ref)),
            input_block(
                "text",
                t("Text"),
                text_input(
                    "value",
                    initial=text.text,
                    multiline=True,
                    max_length=MAX_LENGTH[text.field],
                ),
                hint=t(
                    "Non-identifying text only. The old text is not kept anywhere; the log "
                    "records that it changed and by whom."
                ),
            ),
        ],
    )


def redact_modal(t: Translator, text: Editable, *, private_metadata: str) -> Block:
    """Ask before masking: the text, and what it will read as."""
    return modal(
        callback_id=CB_TEXT_REDACT,
        title=t("Mask the text"),
        submit=t("Mask"),
        close=t("Cancel"),
        private_metadata=private_metadata,
        blocks=[
            context(escape(text.label_ref)),
            section(escape(text.text[:2900]) or "–"),
            context(
                t(
                    "It will read {marker} everywhere it was shown, and the old text is kept "
                    "nowhere. The log records that it was masked and by whom.",
                    marker=REDACTED,
                )
            ),
        ],
    )
