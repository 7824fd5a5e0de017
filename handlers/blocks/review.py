"""Block Kit for the half-year review: the short channel summary and the settings modal.
Figures only, after the small-number rule (``domain.review.ReviewFigures``)."""

from __future__ import annotations

from typing import Any

from domain.i18n import Translator
from domain.review import ReviewFigures, ReviewSettings
from domain.small_numbers import percent_text
from handlers.blocks.common import (
    Block,
    context,
    header,
    input_block,
    message,
    modal,
    option,
    section,
)

CB_SETTINGS = "review_settings"
MONTHS = (
    (1, "31 januari och 31 juli", "31 January and 31 July"),
    (2, "28 februari och 31 augusti", "28 February and 31 August"),
    (3, "31 mars och 30 september", "31 March and 30 September"),
    (4, "30 april och 31 oktober", "30 April and 31 October"),
    (5, "31 maj och 30 november", "31 May and 30 November"),
    (6, "30 juni och 31 december", "30 June and 31 December"),
)


class ReviewPosts:
    """The channel summary (``domain.review.ReviewMessages``)."""

    def summary(self, t: Translator, figures: ReviewFigures, *, automatic: bool) -> dict[str, Any]:
        return summary_message(t, figures, automatic=automatic)


def summary_message(t: Translator, fig: ReviewFigures, *, automatic: bool) -> dict[str, Any]:
    title = t("Half-year review: {forum}", forum=fig.forum_name)
    period = f"{t.day(fig.period.start)} – {t.day(fig.period.end)}"
    answered = fig.surveys_answered.text(t)
    lines = [
        t(
            "*Cases raised:* {n} · SIP started: {sip} · discussed at the meetings: {discussed}",
            n=fig.cases_total.text(t),
            sip=fig.sip_started.text(t),
            discussed=fig.cases_discussed.text(t),
        ),
        t(
            "*Actions:* {started} started, {done} done, {pct} on time (by the first agreed "
            "due date), {later} after a new due date",
            started=fig.actions_started.text(t),
            done=fig.actions_done.text(t),
            pct=percent_text(t, fig.on_time_share),
            later=fig.actions_after_new_date.text(t),
        ),
        t(
            "*Deviations:* {n} · followed up: {done}, open: {open}",
            n=fig.deviations_total.text(t),
            done=fig.deviations_followed_up.text(t),
            open=fig.deviations_open.text(t),
        ),
        t.ngettext(
            "*Feedback:* {answered} survey answered",
            "*Feedback:* {answered} surveys answered",
            fig.surveys_answered.plural_count,
            answered=answered,
        ),
    ]
    sent = (
        t("The coordinators got the report (PDF and xlsx) in a direct message.")
        if automatic
        else t("The report (PDF and xlsx) went to the coordinator who asked for it.")
    )
    blocks: list[Block] = [
        header(title),
        section(f"{period}\n" + "\n".join(lines)),
        context(t("Counts under 5 are shown as “fewer than 5”.") + " " + sent),
    ]
    return message(title, blocks)


def settings_modal(t: Translator, settings: ReviewSettings, *, private_metadata: str) -> Block:
    auto_options = [option(t("Send the half-year review by itself to the coordinators"), "auto")]
    auto: Block = {"type": "checkboxes", "action_id": "value", "options": auto_options}
    if settings.auto:
        auto["initial_options"] = auto_options
    months = [option(sv if t.locale == "sv" else en, str(n)) for n, sv, en in MONTHS]
    end: Block = {
        "type": "static_select",
        "action_id": "value",
        "options": months,
        "initial_option": months[settings.end_month - 1],
    }
    return modal(
        callback_id=CB_SETTINGS,
        title=t("Half-year review"),
        submit=t("Save"),
        close=t("Cancel"),
        private_metadata=private_metadata,
        blocks=[
            input_block("review_auto", t("Automatic review"), auto, optional=True),
            input_block(
                "review_end",
                t("The review periods end"),
                end,
                hint=t("The review is sent on the first working day after, at 08:00."),
            ),
        ],
    )
