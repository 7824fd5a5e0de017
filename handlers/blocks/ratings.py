"""Block Kit for rating rounds and the situation picture: the DM that asks an agency to
rate, the rating modal (paged: ≤ 100 blocks whatever the number of areas), the picture
(compact: ≤ 20 blocks even for 40 areas), the coordinator's status, the settings modal.

Channel messages carry areas, agencies and levels only; comments stay in the modal.
Everything a user typed (area and agency names) is escaped for mrkdwn.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections.abc import Sequence
from typing import Any

from babel.dates import format_date

from domain.corrections import REDACTED, Field
from domain.i18n import Translator
from domain.ratings import (
    CADENCE_LABELS,
    COMMENT_MAX,
    LEVELS,
    OBSERVATION_FIELD,
    OBSERVATION_MAX,
    REMINDER_CHOICES,
    AgencyStatus,
    AreaPicture,
    Cadence,
    Escalation,
    Invite,
    Missed,
    Overview,
    Picture,
    RatingForm,
    RatingSettings,
    RoundComments,
    RoundStatus,
    highest_in_words,
    level_label,
)
from handlers.blocks.common import (
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    escape,
    header,
    input_block,
    message,
    modal,
    mrkdwn,
    option,
    plain,
    section,
    text_input,
)
from handlers.blocks.corrections import redact_button
from storage.models import Meeting

CB_RATE = "rating_submit"
CB_SETTINGS = "rating_settings"
ACTION_RATE = "rating_open"  # button value "<round_id>:<agency_id>"
ACTION_CLOSE = "rating_close_early"  # button value: the round id
ACTION_EXTEND = "rating_extend"  # static_select value "<round_id>:<days>"
ACTION_EXPORT_XLSX = "rating_export_xlsx"
ACTION_EXPORT_CSV = "rating_export_csv"
ACTION_SETTINGS = "rating_settings_open"
ACTION_COMMENTS = "rating_comments_open"  # button value: the round id
AREAS_PER_PAGE = 15  # two inputs per area: 30 inputs and a few more blocks per page
PICTURE_BLOCKS_MAX = 20
FIELDS_PER_SECTION = 10
SETTINGS_FIELDS = (
    "cadence",
    "days_before",
    "deadline_days",
    "deadline_time",
    "reminders",
    "chosen",
)

# Slack's limits for the native blocks (docs.slack.dev: table block; data visualization
# block). Past them the picture falls back to sections and the PNGs.
TABLE_COLUMNS_MAX = 20
TABLE_ROWS_MAX = 100
CHART_SERIES_MAX = 6
CHART_POINTS_MAX = 20
CHART_LABEL_MAX = 20
CHART_TITLE_MAX = 50
CHART_AXIS_LABEL_MAX = 50

LEVEL_EMOJI = {1: "🟩", 2: "🟨", 3: "🟧", 4: "🟥", 5: "🟪"}
TREND = {"up": "↑", "down": "↓", "same": "→"}
STATE_EMOJI = {"answered": "✅", "partial": "◐", "missing": "❌", "away": "🏖"}


def invite_value(round_id: int, agency_id: int) -> str:
    return f"{round_id}:{agency_id}"


def parse_pair(value: str) -> tuple[int, int] | None:
    first, _, second = value.partition(":")
    if not first.isdigit() or not second.isdigit():
        return None
    return int(first), int(second)


def _when(t: Translator, moment: dt.datetime, tz: str) -> str:
    return t.day_time(moment, zoneinfo.ZoneInfo(tz))


def _day(t: Translator, moment: dt.datetime, tz: str) -> str:
    return t.day(moment.astimezone(zoneinfo.ZoneInfo(tz)).date(), year=False)


def number(t: Translator, value: float | None) -> str:
    if value is None:
        return "–"
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if t.locale == "sv" else text


def level_text(t: Translator, level: int | None) -> str:
    if level is None:
        return t("not rated")
    return f"{LEVEL_EMOJI[level]} {level_label(t, level)}"


# --- the DM asking an agency to rate -----------------------------------------------------------


def invite_message(t: Translator, invite: Invite) -> dict[str, Any]:
    day = _day(t, invite.meeting_start, invite.timezone)
    deadline = _when(t, invite.deadline_at, invite.timezone)
    if invite.reminder:
        text = t(
            "Reminder: situation picture before {forum} {day}. {agency} has not answered yet: "
            "rate the situation for your agency by {deadline}.",
            forum=invite.forum_name,
            day=day,
            agency=invite.agency_name,
            deadline=deadline,
        )
    else:
        text = t(
            "Situation picture before {forum} {day}: rate the situation for your agency "
            "by {deadline}.",
            forum=invite.forum_name,
            day=day,
            deadline=deadline,
        )
    blocks = [
        section(escape(text)),
        context(
            t(
                "You answer for {agency}. Anyone from your agency may answer or change it.",
                agency=escape(invite.agency_name),
            )
        ),
        actions(
            button(
                t("Rate the situation"),
                ACTION_RATE,
                value=invite_value(invite.round_id, invite.agency_id),
                style="primary",
            )
        ),
    ]
    return message(text, blocks)


def missed_message(t: Translator, missed: Missed) -> dict[str, Any]:
    text = t(
        "The rating round before {forum} {day} could not be held: the bot was unavailable "
        "until after its deadline ({deadline}). There is no situation picture for this "
        "meeting; you can ask the agencies at the meeting.",
        forum=missed.forum_name,
        day=_day(t, missed.meeting_start, missed.timezone),
        deadline=_when(t, missed.deadline_at, missed.timezone),
    )
    return message(text, [section(escape(text))])


class SlackRenderers:
    """The renderers domain.ratings asks for (scheduled DMs and the channel post)."""

    def invite(self, t: Translator, invite: Invite) -> dict[str, Any]:
        return invite_message(t, invite)

    def picture(self, t: Translator, picture: Picture) -> dict[str, Any]:
        return picture_message(t, picture)

    def missed(self, t: Translator, missed: Missed) -> dict[str, Any]:
        return missed_message(t, missed)

    def images(self, t: Translator, picture: Picture) -> list[tuple[str, str, str, bytes]]:
        # matplotlib is loaded only here, when a picture is drawn (an idle replica never).
        from handlers.blocks.charts import picture_images

        return picture_images(t, picture)


RENDERERS = SlackRenderers()


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
                hint=t("Last time: {level}", level=level_text(t, row.previous)),
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


# --- the picture --------------------------------------------------------------------------------


def _area_field(t: Translator, area: AreaPicture, agencies: int) -> str:
    # The arrow after the area compares the highest level, the measure the picture is
    # grouped by; the median's own change is shown after the median.
    trend = TREND.get(area.trend or "", "")
    first = f"*{escape(clip(area.name, 60))}* {trend}".strip()
    median = t("median {median}", median=number(t, area.median))
    if area.median_trend:
        median += " " + TREND[area.median_trend]
    parts = [
        t("highest {level}", level=level_label(t, area.highest))
        if area.highest
        else t("not rated"),
        median,
        t("{n} of {total}", n=area.count, total=agencies),
    ]
    line = " · ".join(parts)
    if area.disagreement:
        line += " · ⚠ " + t("disagreement")
    return f"{first}\n{line}"


def _cell(text: str) -> Block:
    return {"type": "raw_text", "text": text or "–"}


def _level_cell(t: Translator, level: int | None) -> str:
    return f"{LEVEL_EMOJI[level]} {level_label(t, level)}" if level in LEVELS else "–"


def _area_cell(area: AreaPicture) -> str:
    trend = TREND.get(area.trend or "", "")
    mark = " ⚠" if area.disagreement else ""
    return f"{clip(area.name, 60)} {trend}".strip() + mark


def picture_table(t: Translator, picture: Picture) -> Block | None:
    """The picture as a native table, areas × agencies (a colour and a level word per cell),
    the median last; None when it does not fit Slack's table (20 columns, 100 rows)."""
    columns = 1 + len(picture.agencies) + 1
    rows = 1 + len(picture.areas)
    if not picture.areas or not picture.agencies:
        return None
    if columns > TABLE_COLUMNS_MAX or rows > TABLE_ROWS_MAX:
        return None
    head = [
        _cell(t("Area")),
        *(_cell(clip(name, 40)) for name in picture.agencies),
        _cell(t("Median")),
    ]
    body = []
    for area in picture.areas:
        median = number(t, area.median)
        if area.median_trend:
            median += " " + TREND[area.median_trend]
        body.append(
            [
                _cell(_area_cell(area)),
                *(_cell(_level_cell(t, level)) for level in area.levels),
                _cell(median),
            ]
        )
    return {
        "type": "table",
        "column_settings": [
            {"is_wrapped": True},
            *({"align": "left"} for _ in picture.agencies),
            {"align": "right"},
        ],
        "rows": [head, *body],
    }


def _short_day(t: Translator, moment: dt.datetime, tz: str) -> str:
    day = moment.astimezone(zoneinfo.ZoneInfo(tz)).date()
    return clip(format_date(day, "d MMM", locale=t.locale), CHART_LABEL_MAX)


def trend_chart(t: Translator, picture: Picture) -> Block | None:
    """The trend as a native line chart: the highest level per area (the picture's measure)
    over the rounds where every area was rated; None when it does not fit (at most six
    areas, twenty rounds) or there are fewer than two such rounds. The PNG is the fallback."""
    areas = picture.areas
    if not areas or len(areas) > CHART_SERIES_MAX:
        return None
    dates = [*picture.history_dates, picture.meeting_start]
    values = [[*a.history_highest, a.highest] for a in areas]
    if any(len(v) != len(dates) for v in values):
        return None
    kept = [n for n in range(len(dates)) if all(v[n] is not None for v in values)]
    kept = kept[-CHART_POINTS_MAX:]
    if len(kept) < 2:
        return None
    labels = [_short_day(t, dates[n], picture.timezone) for n in kept]
    names = [clip(a.name, CHART_LABEL_MAX) for a in areas]
    if len(set(labels)) < len(labels) or len(set(names)) < len(names):
        return None
    series = [
        {
            "name": name,
            "data": [
                {"label": label, "value": row[n]} for label, n in zip(labels, kept, strict=True)
            ],
        }
        for name, row in zip(names, values, strict=True)
    ]
    return {
        "type": "data_visualization",
        "title": clip(t("Highest level per area"), CHART_TITLE_MAX),
        "chart": {
            "type": "line",
            "series": series,
            "axis_config": {
                "categories": labels,
                "x_label": clip(t("Meeting"), CHART_AXIS_LABEL_MAX),
                "y_label": clip(t("Level (1 normal – 5 serious)"), CHART_AXIS_LABEL_MAX),
            },
        },
    }


def picture_blocks(t: Translator, picture: Picture) -> list[dict[str, Any]]:
    """The aggregate: a header, the answers so far, the picture as a native table (or, when
    it does not fit, one section per severity group, fields 10 per section), the trend as a
    native line chart when it fits, and the legend. At most 20 blocks for any number of
    areas."""
    tz = picture.timezone
    blocks: list[Block] = [
        header(
            t(
                "Situation picture {forum} {day}",
                forum=picture.forum_name,
                day=_day(t, picture.meeting_start, tz),
            )
        )
    ]
    answered = len(picture.agencies) - len(picture.missing) - len(picture.away)
    summary = [
        t.ngettext(
            "{answered} of {n} agency answered.",
            "{answered} of {n} agencies answered.",
            len(picture.agencies),
            answered=answered,
        )
    ]
    if picture.missing:
        summary.append(
            t(
                "*Incomplete:* missing {agencies}.",
                agencies=", ".join(escape(a) for a in picture.missing),
            )
        )
    if picture.away:
        summary.append(t("Away: {agencies}.", agencies=", ".join(escape(a) for a in picture.away)))
    blocks.append(section(" ".join(summary)))
    table = picture_table(t, picture)
    if table is not None:
        blocks.append(table)
        chart = trend_chart(t, picture)
        if chart is not None:
            blocks.append(chart)
        note = legend(t)
        if any(a.disagreement for a in picture.areas):
            note += "  ·  " + t("⚠ agencies two or more levels apart.")
        blocks.append(context(note))
        return blocks
    groups: list[tuple[int | None, list[AreaPicture]]] = []
    for area in picture.areas:
        if groups and groups[-1][0] == area.highest:
            groups[-1][1].append(area)
        else:
            groups.append((area.highest, [area]))
    budget = PICTURE_BLOCKS_MAX - len(blocks) - 2  # the legend and a possible "more" line
    left_out = 0
    for level, areas in groups:
        for start in range(0, len(areas), FIELDS_PER_SECTION):
            chunk = areas[start : start + FIELDS_PER_SECTION]
            if budget <= 0:
                left_out += len(chunk)
                continue
            label = level_label(t, level) if level else t("not rated")
            title = f"{LEVEL_EMOJI.get(level or 0, '⬜')} *{label.capitalize()}*"
            blocks.append(
                {
                    "type": "section",
                    "text": mrkdwn(title),
                    "fields": [
                        mrkdwn(_area_field(t, a, len(picture.agencies)), 2000) for a in chunk
                    ],
                }
            )
            budget -= 1
    if left_out:
        blocks.append(
            context(
                t.ngettext(
                    "… and {n} more area: see the image.",
                    "… and {n} more areas: see the image.",
                    left_out,
                )
            )
        )
    chart = trend_chart(t, picture)
    if chart is not None and len(blocks) < PICTURE_BLOCKS_MAX - 1:
        blocks.append(chart)
    blocks.append(context(legend(t)))
    return blocks[:PICTURE_BLOCKS_MAX]


def legend(t: Translator) -> str:
    levels = "  ".join(f"{LEVEL_EMOJI[lvl]} {level_label(t, lvl)}" for lvl in LEVELS)
    return (
        levels
        + "  ·  "
        + t(
            "The arrow after an area compares its highest level with last time, the arrow "
            "after the median compares the median: ↑ worse, ↓ better, → same."
        )
    )


def picture_message(t: Translator, picture: Picture) -> dict[str, Any]:
    text = t(
        "Situation picture {forum} {day}",
        forum=picture.forum_name,
        day=_day(t, picture.meeting_start, picture.timezone),
    )
    if not picture.complete:
        text += " – " + t("incomplete")
    # The fallback text (notifications, screen readers, clients without tables and charts)
    # says the same in words: each area's highest level.
    text += ". " + highest_in_words(t, picture)
    return message(text, picture_blocks(t, picture))


# --- /samverkan lägesbild -------------------------------------------------------------------


def _state_line(t: Translator, status: AgencyStatus, tz: str) -> str:
    name = escape(status.name)
    if status.state == "answered":
        at = _when(t, status.answered_at, tz) if status.answered_at else ""
        return f"{STATE_EMOJI['answered']} {name} – " + t("answered {at}", at=at).strip()
    if status.state == "partial":
        return f"{STATE_EMOJI['partial']} {name} – " + t.ngettext(
            "partly ({n} area)", "partly ({n} areas)", status.rated
        )
    if status.state == "away":
        return f"{STATE_EMOJI['away']} {name} – " + t("away")
    return f"{STATE_EMOJI['missing']} {name} – " + t("not answered")


def status_blocks(t: Translator, current: RoundStatus) -> list[Block]:
    tz = current.timezone
    lines = [
        t(
            "*Rating round before {day}*: answers by {deadline}.",
            day=_day(t, current.meeting_start, tz),
            deadline=_when(t, current.deadline_at, tz),
        )
    ]
    if current.original_deadline_at:
        lines.append(
            t("(extended from {deadline})", deadline=_when(t, current.original_deadline_at, tz))
        )
    blocks: list[Block] = [section(" ".join(lines))]
    states = [_state_line(t, s, tz) for s in current.agencies]
    for start in range(0, len(states), 25):
        blocks.append(section("\n".join(states[start : start + 25])))
    counts = {k: sum(1 for s in current.agencies if s.state == k) for k in STATE_EMOJI}
    blocks.append(
        context(
            t(
                "{answered} answered, {partial} partly, {missing} not answered, {away} away.",
                **counts,
            )
        )
    )
    buttons: list[Block] = []
    mine = next((s for s in current.agencies if s.agency_id == current.your_agency_id), None)
    if mine is not None:
        buttons.append(
            button(
                t("Rate the situation"),
                ACTION_RATE,
                value=invite_value(current.round_id, current.your_agency_id),
                style="primary",
            )
        )
    if current.is_coordinator:
        close = button(t("Close now"), ACTION_CLOSE, value=str(current.round_id), style="danger")
        close["confirm"] = {
            "title": plain(t("Close the round?"), 100),
            "text": plain(t("The picture is posted in the channel with the answers so far."), 300),
            "confirm": plain(t("Close now"), 30),
            "deny": plain(t("Cancel"), 30),
        }
        buttons.append(close)
        if current.can_extend:
            buttons.append(
                {
                    "type": "static_select",
                    "action_id": ACTION_EXTEND,
                    "placeholder": plain(t("Extend the deadline"), 150),
                    "options": [
                        option(
                            t.ngettext("by {n} day", "by {n} days", n), f"{current.round_id}:{n}"
                        )
                        for n in (1, 2, 3)
                    ],
                }
            )
    if buttons:
        blocks.append(actions(*buttons))
    return blocks


def overview_message(
    t: Translator, view: Overview, *, forum_name: str, coordinator: bool
) -> dict[str, Any]:
    blocks: list[Block] = [header(t("Situation picture – {forum}", forum=forum_name))]
    if view.cadence is Cadence.NONE:
        blocks.append(
            context(
                t(
                    "This forum has no situation picture. Coordinators turn it on with "
                    "/samverkan lägesbild inställningar."
                )
            )
        )
    if view.current is not None:
        blocks.extend(status_blocks(t, view.current))
    elif view.cadence is not Cadence.NONE:
        blocks.append(section(t("No rating round is open right now.")))
    if view.latest is not None:
        blocks.append(divider())
        blocks.extend(picture_blocks(t, view.latest)[:PICTURE_BLOCKS_MAX])
    extra: list[Block] = []
    if coordinator:
        rounds = [r for r in (view.current, view.latest) if r is not None]
        if rounds:
            extra.append(
                button(t("What agencies see"), ACTION_COMMENTS, value=str(rounds[0].round_id))
            )
        if view.latest is not None:
            extra.append(button(t("Export xlsx"), ACTION_EXPORT_XLSX, value="latest"))
            extra.append(button(t("Export CSV"), ACTION_EXPORT_CSV, value="latest"))
        extra.append(button(t("Settings"), ACTION_SETTINGS))
    if extra:
        blocks.append(actions(*extra))
    return message(t("Situation picture – {forum}", forum=forum_name), blocks)


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
