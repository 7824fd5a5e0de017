"""The situation picture in the channel: compact (at most 20 blocks even for 40 areas), a
table and a trend chart block where Slack has them, and the legend."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from babel.dates import format_date

from domain.i18n import Translator
from domain.ratings import (
    LEVELS,
    AreaPicture,
    Picture,
    highest_in_words,
    level_label,
)
from handlers.blocks.common import (
    Block,
    clip,
    context,
    escape,
    header,
    message,
    mrkdwn,
    section,
)
from handlers.blocks.ratings.base import (
    CHART_AXIS_LABEL_MAX,
    CHART_LABEL_MAX,
    CHART_POINTS_MAX,
    CHART_SERIES_MAX,
    CHART_TITLE_MAX,
    FIELDS_PER_SECTION,
    LEVEL_EMOJI,
    PICTURE_BLOCKS_MAX,
    TABLE_COLUMNS_MAX,
    TABLE_ROWS_MAX,
    TREND,
    _day,
    number,
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
    """The first of :func:`trend_charts` (the areas with the longest history), or None."""
    charts = trend_charts(t, picture)
    return charts[0] if charts else None


def trend_charts(t: Translator, picture: Picture) -> list[Block]:
    """The trend as native line charts: the highest level per area (the picture's measure).
    Slack's line chart wants a value of every series at every category, so an area added
    later cannot share a chart with the older areas' history: the areas rated since the
    oldest round shown keep their history in one chart, and areas that joined since get a
    chart of their own from their first round (once they have two). A round where an area
    rated by then was left unrated is left out. None fits beyond six areas or with fewer
    than two rounds; the PNG is the fallback."""
    areas = picture.areas
    if not areas or len(areas) > CHART_SERIES_MAX:
        return []
    dates = [*picture.history_dates, picture.meeting_start]
    values = [[*a.history_highest, a.highest] for a in areas]
    if any(len(v) != len(dates) for v in values):
        return []
    first = [next((n for n, v in enumerate(row) if v is not None), None) for row in values]
    charted = [i for i, start in enumerate(first) if start is not None]
    kept = [
        n
        for n in range(len(dates))
        if all(values[i][n] is not None for i in charted if (first[i] or 0) <= n)
    ][-CHART_POINTS_MAX:]
    if not kept:
        return []
    older = [i for i in charted if (first[i] or 0) <= kept[0]]
    newer = [i for i in charted if (first[i] or 0) > kept[0]]
    charts = [
        _line_chart(
            t,
            picture,
            dates,
            [(areas[i], values[i]) for i in older],
            kept,
            t("Highest level per area"),
        )
    ]
    if newer:
        since = max(first[i] or 0 for i in newer)
        charts.append(
            _line_chart(
                t,
                picture,
                dates,
                [(areas[i], values[i]) for i in newer],
                [n for n in kept if n >= since],
                t("Highest level per area, new areas"),
            )
        )
    return [c for c in charts if c is not None]


def _line_chart(
    t: Translator,
    picture: Picture,
    dates: list[dt.datetime],
    rows: list[tuple[AreaPicture, list[int | None]]],
    kept: list[int],
    title: str,
) -> Block | None:
    if not rows or len(kept) < 2:
        return None
    labels = [_short_day(t, dates[n], picture.timezone) for n in kept]
    names = [clip(area.name, CHART_LABEL_MAX) for area, _ in rows]
    if len(set(labels)) < len(labels) or len(set(names)) < len(names):
        return None
    series = [
        {
            "name": name,
            "data": [
                {"label": label, "value": row[n]} for label, n in zip(labels, kept, strict=True)
            ],
        }
        for name, (_, row) in zip(names, rows, strict=True)
    ]
    return {
        "type": "data_visualization",
        "title": clip(title, CHART_TITLE_MAX),
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
    partly = {name for name, _, _ in picture.partly}
    none = [a for a in picture.missing if a not in partly]
    if none:
        summary.append(
            t(
                "*Incomplete:* missing {agencies}.",
                agencies=", ".join(escape(a) for a in none),
            )
        )
    if picture.partly:
        # Their levels are in the picture: "missing" alone would contradict it.
        partly_answered = [
            t.ngettext(
                "{agency} ({rated} of {n} area)",
                "{agency} ({rated} of {n} areas)",
                n,
                agency=escape(name),
                rated=rated,
            )
            for name, rated, n in picture.partly
        ]
        lead = t("*Incomplete:*") + " " if not none else ""
        summary.append(
            lead + t("Partly answered: {agencies}.", agencies=", ".join(partly_answered))
        )
    if picture.away:
        summary.append(t("Away: {agencies}.", agencies=", ".join(escape(a) for a in picture.away)))
    blocks.append(section(" ".join(summary)))
    table = picture_table(t, picture)
    if table is not None:
        blocks.append(table)
        blocks.extend(trend_charts(t, picture))
        note = legend(t)
        if any(a.disagreement for a in picture.areas):
            note += "  ·  " + t("⚠ agencies two or more levels apart.")
        compared = comparison_note(t, picture)
        if compared:
            note += "  ·  " + compared
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
    for chart in trend_charts(t, picture):
        if len(blocks) < PICTURE_BLOCKS_MAX - 1:
            blocks.append(chart)
    note = legend(t)
    compared = comparison_note(t, picture)
    if compared:
        note += "  ·  " + compared
    blocks.append(context(note))
    return blocks[:PICTURE_BLOCKS_MAX]


def comparison_note(t: Translator, picture: Picture) -> str | None:
    """When the agencies that answered changed since last time, say that the arrows compare
    only the agencies that answered both times, and who is left out of the comparison."""
    if not picture.not_compared_now and not picture.not_compared_before:
        return None
    parts = [t("The arrows compare only agencies that answered both times.")]
    if picture.not_compared_now:
        parts.append(
            t(
                "Not answered this time: {agencies}.",
                agencies=", ".join(escape(clip(a, 60)) for a in picture.not_compared_now),
            )
        )
    if picture.not_compared_before:
        parts.append(
            t(
                "Not answered last time: {agencies}.",
                agencies=", ".join(escape(clip(a, 60)) for a in picture.not_compared_before),
            )
        )
    return " ".join(parts)


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
