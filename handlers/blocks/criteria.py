"""Block Kit for a forum's case criteria: the settings modal and the statistics."""

from __future__ import annotations

from typing import Any

from domain.criteria import MAX_CRITERIA, TEMPLATES, CriteriaStats, Criterion
from domain.i18n import Translator
from domain.small_numbers import share
from handlers.blocks.common import (
    Block,
    context,
    escape,
    header,
    input_block,
    message,
    modal,
    option,
    section,
    text_input,
)

CB_CRITERIA = "case_criteria"
ACTION_TEMPLATE = "case_criteria_template"
ACTION_OPEN = "case_criteria_open"


def criteria_modal(t: Translator, *, lines: str, private_metadata: str, version: int = 0) -> Block:
    """``version`` renews the text field's block id, so a chosen template fills it anew."""
    templates = [option(t(label), key) for key, (label, _items) in TEMPLATES.items()]
    blocks: list[Block] = [
        section(
            t(
                "Criteria help members see which cases belong in the forum. In the case form "
                "they are optional checkboxes: never required, one click to skip. At most "
                "{max}.",
                max=MAX_CRITERIA,
            )
        ),
        input_block(
            "template",
            t("Start from a template"),
            {
                "type": "static_select",
                "action_id": ACTION_TEMPLATE,
                "placeholder": {"type": "plain_text", "text": t("Choose a template")},
                "options": templates,
            },
            optional=True,
            dispatch_action=True,
        ),
        input_block(
            f"criteria.{version}",
            t("Criteria, one per line"),
            text_input("value", initial=lines, multiline=True, max_length=1500),
            optional=True,
            hint=t(
                "Write a help text after a vertical bar: Hög skolfrånvaro | T.ex. över 10 %. "
                "Leave it empty for no criteria."
            ),
        ),
    ]
    return modal(
        callback_id=CB_CRITERIA,
        title=t("Case criteria"),
        submit=t("Save"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def criteria_message(
    t: Translator,
    *,
    forum_name: str,
    criteria: list[Criterion],
    stats: CriteriaStats,
    period: str,
) -> dict[str, Any]:
    title = t("Case criteria in {forum}", forum=forum_name)
    blocks: list[Block] = [header(title)]
    if not criteria and not stats.rows:
        blocks.append(
            section(t("The forum has no case criteria. A coordinator adds them in the settings."))
        )
        return message(title, blocks)
    lines = [
        t.ngettext(
            "{period}: {n} case raised, {with_any} with at least one criterion ticked.",
            "{period}: {n} cases raised, {with_any} with at least one criterion ticked.",
            stats.cases,
            period=period,
            with_any=stats.cases_with_any,
        )
    ]
    for row in stats.rows:
        pct = share(row.met, stats.cases) if stats.cases else None
        shown = f" ({pct:.0f} %)" if pct is not None else ""
        retired = "" if row.active else " " + t("(no longer in the list)")
        lines.append(f"• {escape(row.text)}: *{row.met}*{shown}{retired}")
    blocks.append(section("\n".join(lines)))
    blocks.append(context(t("Counts the cases whose raiser ticked the criterion.")))
    return message(title, blocks)
