"""Block Kit for feedback after a case: the survey DM, its modal, the family's view and the
results per period. References and counts only; comments only in the coordinators' list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from domain.feedback import (
    ANSWERS,
    COMMENT_MAX,
    FAMILY_QUESTIONS,
    QUESTIONS,
    SCALE_LABELS,
    Comment,
    FeedbackResults,
    SurveyInvite,
)
from domain.i18n import Translator
from domain.small_numbers import mean_text
from handlers.blocks.common import (
    Block,
    actions,
    button,
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

ACTION_SURVEY_OPEN = "feedback_survey_open"
ACTION_FAMILY_OPEN = "feedback_family_open"
ACTION_COMMENTS = "feedback_comments"
CB_SURVEY = "feedback_survey"
CB_FAMILY = "feedback_family"


def answer_label(t: Translator, value: str) -> str:
    return {"yes": t("Yes"), "partly": t("Partly"), "no": t("No")}.get(value, value)


class SurveyDMs:
    """The DMs the scheduler queues (``domain.feedback.SurveyMessages``)."""

    def invite(self, t: Translator, invite: SurveyInvite) -> dict[str, Any]:
        if invite.reminder:
            text = t(
                "Reminder: {agency} has not yet answered the three questions about the closed "
                "case {reference} in {forum}.",
                agency=escape(invite.agency),
                reference=invite.reference,
                forum=escape(invite.forum_name),
            )
        else:
            text = t(
                "The case {reference} in {forum} is closed. Three short questions for {agency} "
                "help the forum learn: one answer per agency, and results are only shown per "
                "period, never per person.",
                reference=invite.reference,
                forum=escape(invite.forum_name),
                agency=escape(invite.agency),
            )
        buttons = [
            button(t("Answer"), ACTION_SURVEY_OPEN, value=str(invite.survey_id), style="primary")
        ]
        if invite.raising_agency and not invite.reminder:
            buttons.append(
                button(t("Record the family's view"), ACTION_FAMILY_OPEN, value=str(invite.case_id))
            )
        return message(text, [section(text), actions(*buttons)])


def _scale(t: Translator, key: str, label: str) -> Block:
    options = [option(t(text), str(value)) for value, text in SCALE_LABELS.items()]
    return input_block(
        key, label, {"type": "radio_buttons", "action_id": "value", "options": options}
    )


def _comment(t: Translator, hint: str) -> Block:
    return input_block(
        "comment",
        t("Comment"),
        text_input("value", multiline=True, max_length=COMMENT_MAX),
        optional=True,
        hint=hint,
    )


def survey_modal(t: Translator, *, reference: str, agency: str, private_metadata: str) -> Block:
    blocks: list[Block] = [
        section(
            t(
                "Feedback on *{reference}* for {agency}. One answer per agency.",
                reference=reference,
                agency=escape(agency),
            )
        )
    ]
    blocks += [_scale(t, key, t(label)) for key, label in QUESTIONS.items()]
    blocks.append(
        _comment(t, t("Never write names or other identifying data. Seen by coordinators only."))
    )
    return modal(
        callback_id=CB_SURVEY,
        title=t("Feedback"),
        submit=t("Send"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def family_modal(t: Translator, *, reference: str, private_metadata: str) -> Block:
    options = [option(answer_label(t, a), a) for a in ANSWERS]
    blocks: list[Block] = [
        section(
            t(
                "The family's view of *{reference}*, as they told your agency. No names.",
                reference=reference,
            )
        )
    ]
    for key, label in FAMILY_QUESTIONS.items():
        blocks.append(
            input_block(
                key, t(label), {"type": "radio_buttons", "action_id": "value", "options": options}
            )
        )
    blocks.append(_comment(t, t("In the family's words, without names or other identifying data.")))
    return modal(
        callback_id=CB_FAMILY,
        title=t("The family's view"),
        submit=t("Save"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def thanks_modal(t: Translator, text: str) -> Block:
    return modal(
        callback_id="feedback_thanks", title=t("Feedback"), close=t("Close"), blocks=[section(text)]
    )


def results_message(
    t: Translator,
    results: FeedbackResults,
    *,
    forum_name: str,
    start: dt.date,
    end: dt.date,
    coordinator: bool,
    period_value: str,
) -> dict[str, Any]:
    title = t("Feedback after cases in {forum}", forum=forum_name)
    start_day, end_day = t.day(start), t.day(end)
    lines = [
        t.ngettext(
            "{start} – {end}: {answered} of {n} survey answered.",
            "{start} – {end}: {answered} of {n} surveys answered.",
            results.surveys_sent,
            start=start_day,
            end=end_day,
            answered=results.surveys_answered,
        )
    ]
    for key, label in QUESTIONS.items():
        question = t(label)
        lines.append(f"• {question} *{mean_text(t, results.mean(key))}*")
    blocks: list[Block] = [header(title), section("\n".join(lines))]
    if results.family_views:
        family_lines = [t("The family's view ({n} recorded):", n=results.family_views)]
        for key, label in FAMILY_QUESTIONS.items():
            counts = results.family.get(key, {})
            parts = ", ".join(f"{answer_label(t, a)}: {counts.get(a, 0)}" for a in ANSWERS)
            question = t(label)
            family_lines.append(f"• {question} {parts}")
        blocks.append(section("\n".join(family_lines)))
    blocks.append(
        context(t("Scale 1 (not at all) – 5 (fully). Results per forum and period only."))
    )
    if coordinator:
        blocks.append(actions(button(t("Show comments"), ACTION_COMMENTS, value=period_value)))
    return message(title, blocks)


def comments_message(t: Translator, comments: Sequence[Comment]) -> dict[str, Any]:
    title = t("Comments from the feedback")
    if not comments:
        return message(title, [section(t("No comments in the period."))])
    lines = [
        ("• " + (t("Family") if c.kind == "family" else t("Agency")) + ": " + escape(c.text))
        for c in comments[:40]
    ]
    text = "\n".join(lines)
    blocks: list[Block] = [header(title)]
    while text:
        blocks.append(section(text[:2900]))
        text = text[2900:]
    blocks.append(context(t("Without references: for learning, not for following up a case.")))
    return message(title, blocks[:50])
