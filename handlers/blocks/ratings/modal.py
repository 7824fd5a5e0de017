"""The rating modal (paged: at most 100 blocks whatever the number of areas), the saved
modal, and the text of an escalation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.i18n import Translator
from domain.ratings import (
    COMMENT_MAX,
    LEVELS,
    OBSERVATION_FIELD,
    OBSERVATION_MAX,
    Escalation,
    RatingForm,
    level_label,
)
from handlers.blocks.common import (
    Block,
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
from handlers.blocks.ratings.base import (
    AREAS_PER_PAGE,
    CB_RATE,
    LEVEL_EMOJI,
    _day,
    _when,
    level_text,
)

# --- the rating modal ---------------------------------------------------------------------------


def page_count(form: RatingForm) -> int:
    return max(1, -(-len(form.rows) // AREAS_PER_PAGE))


def page_rows(form: RatingForm, page: int) -> Sequence[Any]:
    return form.rows[page * AREAS_PER_PAGE : (page + 1) * AREAS_PER_PAGE]


def _level_options(t: Translator) -> list[Block]:
    return [option(f"{LEVEL_EMOJI[lvl]} {lvl} {level_label(t, lvl)}", str(lvl)) for lvl in LEVELS]


def rating_modal(t: Translator, form: RatingForm, *, page: int, private_metadata: str) -> Block:
    pages = page_count(form)
    page = max(0, min(page, pages - 1))
    options = _level_options(t)
    intro = t(
        "*{agency}* rates the situation before *{forum}* {day}. Answer by {deadline}.",
        agency=escape(form.agency_name),
        forum=escape(form.forum_name),
        day=_day(t, form.meeting_start, form.timezone),
        deadline=_when(t, form.deadline_at, form.timezone),
    )
    blocks: list[Block] = [section(intro)]
    notes = [
        t("Never write names or other identifying details in a comment."),
    ]
    if pages > 1:
        notes.insert(0, t("Page {page} of {pages}.", page=page + 1, pages=pages))
    if form.answered_by:
        notes.append(t("Your agency has answered; saving again replaces that answer."))
    blocks.append(context(" ".join(notes)))
    for row in page_rows(form, page):
        select: Block = {
            "type": "static_select",
            "action_id": "value",
            "placeholder": plain(t("Choose a level"), 150),
            "options": options,
        }
        if row.level in LEVELS:
            select["initial_option"] = options[row.level - 1]
        blocks.append(
            input_block(
                f"level_{row.area_id}",
                row.name,
                select,
                # Nothing when the agency never rated the area before (its first round,
                # or a new area): "Last time: not rated" spoke of a time that never was.
                hint=(
                    t("Last time: {level}", level=level_text(t, row.previous))
                    if row.previous is not None
                    else None
                ),
            )
        )
        blocks.append(
            input_block(
                f"comment_{row.area_id}",
                t("Comment on {area}", area=row.name),
                text_input("value", initial=row.comment, max_length=COMMENT_MAX),
                optional=True,
            )
        )
    last = page >= pages - 1
    if last:
        blocks.append(divider())
        blocks.append(
            input_block(
                OBSERVATION_FIELD,
                t("What do you see right now?"),
                text_input(
                    "value",
                    initial=form.observation,
                    multiline=True,
                    max_length=OBSERVATION_MAX,
                ),
                optional=True,
                hint=t(
                    "In a few sentences, what your agency sees in the forum's areas right now: "
                    "places, themes, changes. Only the coordinators read it. No names or other "
                    "identifying details."
                ),
            )
        )
    return modal(
        callback_id=CB_RATE,
        title=t("Situation picture"),
        blocks=blocks,
        submit=t("Send") if last else t("Save and next"),
        close=t("Cancel"),
        private_metadata=private_metadata,
    )


def saved_modal(t: Translator, *, agency: str, complete: bool, deadline: str) -> Block:
    text = (
        t(
            "Thank you! The answer for {agency} is saved. You can change it until {deadline}.",
            agency=escape(agency),
            deadline=deadline,
        )
        if complete
        else t(
            "Saved. Some areas for {agency} are still without an answer: open the form again "
            "before {deadline}.",
            agency=escape(agency),
            deadline=deadline,
        )
    )
    return modal(
        callback_id="rating_saved",
        title=t("Situation picture"),
        blocks=[section(text)],
        close=t("Close"),
    )


def escalations_text(t: Translator, forum: str, escalations: Sequence[Escalation]) -> str:
    """One DM for all the escalations of one submission: the single line as before for one
    area, else one line naming the agency and one per area with its level."""
    if len(escalations) == 1:
        return escalation_text(t, forum, escalations[0])
    lines = [
        t.ngettext(
            "Situation picture {forum}: {agency} rates {n} area as follows:",
            "Situation picture {forum}: {agency} rates {n} areas as follows:",
            len(escalations),
            forum=escape(forum),
            agency=escape(escalations[0].agency),
        )
    ]
    for escalation in escalations:
        level = level_label(t, escalation.level)
        if escalation.previous is not None and escalation.level < 4:
            level = t(
                "{level} (up from {previous})",
                level=level,
                previous=level_label(t, escalation.previous),
            )
        lines.append(f"• *{escape(escalation.area)}*: {level}")
    return "\n".join(lines)


def escalation_text(t: Translator, forum: str, escalation: Escalation) -> str:
    """Area, agency and level only (nothing else), for the coordinators' DM."""
    if escalation.previous is not None and escalation.level < 4:
        return t(
            "Situation picture {forum}: {agency} rates {area} as {level} (up from {previous}).",
            forum=forum,
            agency=escalation.agency,
            area=escalation.area,
            level=level_label(t, escalation.level),
            previous=level_label(t, escalation.previous),
        )
    return t(
        "Situation picture {forum}: {agency} rates {area} as {level}.",
        forum=forum,
        agency=escalation.agency,
        area=escalation.area,
        level=level_label(t, escalation.level),
    )
