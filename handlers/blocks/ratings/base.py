"""Ids the rating listeners are wired to, the values they parse, numbers and levels in words."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from domain.i18n import Translator
from domain.ids import id_value
from domain.ratings import (
    level_label,
)

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
    first_id, second_id = id_value(first), id_value(second)
    if first_id is None or second_id is None:
        return None
    return first_id, second_id


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
