"""The rating settings modal and the comments modal for the coordinators who lead the meeting."""

from __future__ import annotations

import json
from collections.abc import Sequence

from domain.corrections import REDACTED, Field
from domain.i18n import Translator
from domain.ratings import (
    CADENCE_LABELS,
    REMINDER_CHOICES,
    Cadence,
    RatingSettings,
    RoundComments,
    level_label,
)
from handlers.blocks.common import (
    Block,
    clip,
    context,
    escape,
    header,
    input_block,
    modal,
    option,
    section,
)
from handlers.blocks.corrections import redact_button
from handlers.blocks.ratings.base import CB_SETTINGS, LEVEL_EMOJI, _day, _when
from handlers.blocks.ratings.picture import legend
from storage.models import Meeting

# --- settings -------------------------------------------------------------------------------


def settings_modal(
    t: Translator,
    settings: RatingSettings,
    *,
    meetings: Sequence[Meeting],
    tz: str,
    private_metadata: str,
) -> Block:
    cadences = [option(t(CADENCE_LABELS[c]), c.value) for c in Cadence]
    days = [
        option(t.ngettext("{n} day before", "{n} days before", n), str(n)) for n in range(1, 22)
    ]
    deadline_days = [option(t("the day of the meeting"), "0")] + [
        option(t.ngettext("{n} day before", "{n} days before", n), str(n)) for n in range(1, 8)
    ]
    reminder_options = [
        option(
            t.ngettext("{n} hour before the deadline", "{n} hours before the deadline", h),
            str(h),
        )
        for h in REMINDER_CHOICES
    ]
    chosen_initial = [m for m in meetings if m.has_situation_picture]
    meeting_options = [option(_when(t, m.starts_at, tz), str(m.id)) for m in meetings]

    def pick(options: list[Block], value: str) -> Block | None:
        return next((o for o in options if o["value"] == value), None)

    def select(options: list[Block], value: str) -> Block:
        element: Block = {"type": "static_select", "action_id": "value", "options": options}
        initial = pick(options, value)
        if initial:
            element["initial_option"] = initial
        return element

    reminders: Block = {
        "type": "multi_static_select",
        "action_id": "value",
        "options": reminder_options,
    }
    initial_reminders = [o for o in reminder_options if int(o["value"]) in settings.reminder_hours]
    if initial_reminders:
        reminders["initial_options"] = initial_reminders
    time_picker: Block = {
        "type": "timepicker",
        "action_id": "value",
        "initial_time": settings.deadline_time.strftime("%H:%M"),
    }
    blocks: list[Block] = [
        input_block(
            "cadence",
            t("Situation picture"),
            {
                "type": "radio_buttons",
                "action_id": "value",
                "options": cadences,
                "initial_option": pick(cadences, settings.cadence.value) or cadences[0],
            },
        ),
        input_block("days_before", t("The round opens"), select(days, str(settings.days_before))),
        input_block(
            "deadline_days",
            t("Deadline"),
            select(deadline_days, str(settings.deadline_days_before)),
        ),
        input_block("deadline_time", t("Deadline time"), time_picker),
        input_block(
            "reminders",
            t("Reminders to agencies that have not answered"),
            reminders,
            optional=True,
            hint=t("Never on public holidays or at night: moved to the next working day."),
        ),
    ]
    if meeting_options:
        chosen: Block = {
            "type": "multi_static_select",
            "action_id": "value",
            "options": meeting_options,
        }
        initial = [o for o in meeting_options if int(o["value"]) in {m.id for m in chosen_initial}]
        if initial:
            chosen["initial_options"] = initial
        blocks.append(
            input_block(
                "chosen",
                t("Meetings with a situation picture (when you choose them)"),
                chosen,
                optional=True,
            )
        )
    return modal(
        callback_id=CB_SETTINGS,
        title=t("Situation picture"),
        blocks=blocks,
        submit=t("Save"),
        close=t("Cancel"),
        private_metadata=private_metadata,
    )


def _agency_notes(t: Translator, comments: RoundComments) -> list[Block]:
    """Per agency: its level for each area, and beside it what it sees right now."""
    blocks: list[Block] = [header(t("What the agencies see"))]
    for notes in comments.agencies:
        levels = " · ".join(
            f"{LEVEL_EMOJI.get(level or 0, '⬜')} {escape(clip(area, 40))}"
            for area, level in zip(comments.areas, notes.levels, strict=True)
        )
        seen = escape(clip(notes.observation, 2000)) if notes.observation else "_–_"
        text = f"*{escape(notes.agency)}*\n{levels or '–'}\n" + t(
            "What we see right now: {text}", text=seen
        )
        blocks.append(section(text))
    return blocks


def comments_modal(t: Translator, comments: RoundComments, *, forum_id: int = 0) -> Block:
    """What the agencies wrote (coordinators only; each look is audited): each agency's
    levels side by side with what it sees right now, then the comments area by area."""
    tz = comments.timezone
    blocks: list[Block] = [
        context(
            t(
                "{forum}, the round before {day}. Only coordinators see this; every look is "
                "logged.",
                forum=escape(comments.forum_name),
                day=_day(t, comments.meeting_start, tz),
            )
        )
    ]
    blocks.extend(_agency_notes(t, comments)[:60])
    blocks.append(context(legend(t)))
    blocks.append(header(t("Comments")))
    if not comments.comments:
        blocks.append(section(t("No agency wrote a comment in this round.")))
    area = None
    for row in comments.comments:
        if len(blocks) >= 98:
            blocks.append(context(t("…and more comments than fit here.")))
            break
        if row.area != area:
            area = row.area
            blocks.append(section("*" + escape(row.area) + "*"))
        blocks.append(
            section(
                f"{escape(row.agency)} · {level_label(t, row.level)}\n"
                + escape(clip(row.comment, 2800)),
                # Coordinators (the only readers) mask a comment that identifies someone.
                accessory=(
                    redact_button(t, Field.RATING_COMMENT, row.rating_id)
                    if row.rating_id and row.comment != REDACTED
                    else None
                ),
            )
        )
    return modal(
        callback_id="rating_comments",
        title=t("What agencies see"),
        blocks=blocks,
        close=t("Close"),
        private_metadata=json.dumps({"forum_id": forum_id}),
    )
