"""The situation picture in Slack's native blocks (issue #15, point 5): a table block when it
fits, a data_visualization line chart for the trend when it fits, sections and the PNGs
otherwise. The table is checked with slack_sdk's own model; the chart, which slack_sdk does
not model, against the documented limits (the Web API stand-in's validator, checked itself
below); the sandbox page draws both."""

from __future__ import annotations

import copy
import datetime as dt
import zoneinfo
from typing import Any

import pytest
from slack_sdk.models.blocks import Block, TableBlock

from domain.i18n import Translator
from domain.ratings import AreaPicture, Picture
from handlers.blocks.ratings import (
    picture_blocks,
    picture_message,
    picture_table,
    trend_chart,
    trend_charts,
)
from sandbox.blockkit_html import RenderContext, render_blocks
from sandbox.webapi import validate_message, validate_view

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
SV = Translator("sv")


def day(n: int) -> dt.datetime:
    """The n-th Thursday meeting (13:00) from 5 November 2026."""
    return dt.datetime(2026, 11, 5, 13, 0, tzinfo=STOCKHOLM) + dt.timedelta(weeks=n)


def picture(areas: int = 3, agencies: int = 3, rounds: int = 3) -> Picture:
    """Area n is rated (n % 5) + 1 by every other agency; earlier rounds climb to it."""
    names = tuple(f"Verksamhet {a}" for a in range(agencies))
    rows = tuple(
        AreaPicture(
            area_id=n,
            name=f"Område {n}",
            levels=tuple((n % 5) + 1 if a % 2 == 0 else None for a in range(agencies)),
            highest=(n % 5) + 1,
            median=float((n % 5) + 1),
            count=(agencies + 1) // 2,
            disagreement=False,
            trend="up",
            history=tuple(float(1 + r % 5) for r in range(rounds - 1)),
            median_trend="same",
            history_highest=tuple(1 + r % 5 for r in range(rounds - 1)),
        )
        for n in range(areas)
    )
    return Picture(
        round_id=1,
        forum_id=1,
        forum_name="OSF",
        forum_code="OSF",
        meeting_id=1,
        meeting_start=day(rounds - 1),
        deadline_at=day(rounds - 1) - dt.timedelta(days=1),
        closed_at=day(rounds - 1) - dt.timedelta(days=1),
        timezone="Europe/Stockholm",
        agencies=names,
        areas=rows,
        missing=(),
        away=(),
        history_dates=tuple(day(r) for r in range(rounds - 1)),
    )


def blocks_of(kind: str, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b.get("type") == kind]


# --- the table ---------------------------------------------------------------------------------


def test_the_picture_is_a_table_of_areas_by_agencies_with_a_colour_and_a_word_per_cell() -> None:
    table = picture_table(SV, picture(areas=3, agencies=3))
    assert table is not None
    # slack_sdk's model reads it back unchanged and finds it valid.
    parsed = Block.parse(copy.deepcopy(table))
    assert isinstance(parsed, TableBlock)
    parsed.validate_json()
    assert parsed.to_dict() == table
    head, *rows = table["rows"]
    assert [c["text"] for c in head] == [
        "Område",
        "Verksamhet 0",
        "Verksamhet 1",
        "Verksamhet 2",
        "Median",
    ]
    assert [c["text"] for c in rows[2]] == ["Område 2 ↑", "🟧 oroande", "–", "🟧 oroande", "3 →"]
    assert all(c["type"] == "raw_text" and c["text"] for row in table["rows"] for c in row)
    assert validate_message({"channel": "C1", "text": "x", "blocks": [table]}) == []


@pytest.mark.parametrize(
    ("areas", "agencies", "fits"),
    [(99, 18, True), (100, 3, False), (3, 19, False)],  # 100 rows and 20 columns at most
)
def test_the_table_is_used_only_when_it_fits(areas: int, agencies: int, fits: bool) -> None:
    shown = picture(areas=areas, agencies=agencies)
    table = picture_table(SV, shown)
    assert (table is not None) is fits
    blocks = picture_blocks(SV, shown)
    assert bool(blocks_of("table", blocks)) is fits
    if fits:
        assert table is not None and len(table["rows"]) <= 100
        assert all(len(row) <= 20 for row in table["rows"])
    else:
        # The fallback: the areas grouped by their highest level, in sections.
        assert any(b.get("fields") for b in blocks)
    message = picture_message(SV, shown)
    assert len(message["blocks"]) <= 20
    assert validate_message({"channel": "C1", **message}) == []


def test_the_fallback_text_says_each_areas_highest_level_in_words() -> None:
    text = picture_message(SV, picture(areas=2))["text"]
    assert "Område 0: normalt; Område 1: avvikande" in text


# --- the trend chart ---------------------------------------------------------------------------


def test_the_trend_is_a_line_chart_of_the_highest_level_per_area() -> None:
    chart = trend_chart(SV, picture(areas=3, rounds=4))
    assert chart is not None
    assert chart["type"] == "data_visualization" and chart["chart"]["type"] == "line"
    assert len(chart["title"]) <= 50
    series = chart["chart"]["series"]
    assert [s["name"] for s in series] == ["Område 0", "Område 1", "Område 2"]
    assert chart["chart"]["axis_config"]["categories"] == [
        "5 nov.",
        "12 nov.",
        "19 nov.",
        "26 nov.",
    ]
    assert [p["value"] for p in series[2]["data"]] == [1, 2, 3, 3]
    assert validate_message({"channel": "C1", "text": "x", "blocks": [chart]}) == []


@pytest.mark.parametrize(
    ("areas", "rounds", "points"),
    [(6, 3, 3), (7, 3, None), (3, 1, None), (3, 25, 20)],
)
def test_the_chart_is_used_only_when_it_fits(areas: int, rounds: int, points: int | None) -> None:
    chart = trend_chart(SV, picture(areas=areas, rounds=rounds))
    if points is None:
        assert chart is None  # more than six areas, or fewer than two rounds: the PNG only
        return
    assert chart is not None
    assert all(len(s["data"]) == points for s in chart["chart"]["series"])
    assert validate_message({"channel": "C1", "text": "x", "blocks": [chart]}) == []


def test_rounds_where_an_area_was_not_rated_are_left_out_of_the_chart() -> None:
    shown = picture(areas=2, rounds=4)
    first = shown.areas[0]
    gap = AreaPicture(**{**first.__dict__, "history_highest": (1, None, 2)})
    chart = trend_chart(SV, Picture(**{**shown.__dict__, "areas": (gap, shown.areas[1])}))
    assert chart is not None
    assert chart["chart"]["axis_config"]["categories"] == ["5 nov.", "19 nov.", "26 nov."]


# --- the documented limits, as the stand-in checks them ---------------------------------------


def _chart(series: list[dict[str, Any]], categories: list[str]) -> dict[str, Any]:
    return {
        "type": "data_visualization",
        "title": "Trend",
        "chart": {"type": "line", "series": series, "axis_config": {"categories": categories}},
    }


def _line(name: str, labels: list[str]) -> dict[str, Any]:
    return {"name": name, "data": [{"label": label, "value": 1} for label in labels]}


@pytest.mark.parametrize(
    ("block", "complaint"),
    [
        (_chart([_line(f"S{n}", ["a"]) for n in range(7)], ["a"]), "less than 7 items"),
        (_chart([_line("x" * 21, ["a"])], ["a"]), "less than 21 characters"),
        (_chart([_line("S", ["a", "b"])], ["a", "c"]), "must match axis_config.categories"),
        (_chart([_line("S", ["a"]), _line("S", ["a"])], ["a"]), "duplicate series name"),
        (
            _chart([_line("S", [str(n) for n in range(21)])], [str(n) for n in range(21)]),
            "less than 21 items",
        ),
        ({**_chart([_line("S", ["a"])], ["a"]), "title": "t" * 51}, "less than 51 characters"),
        (
            {"type": "table", "rows": [[{"type": "raw_text", "text": "x"}] * 21]},
            "less than 21 items",
        ),
        ({"type": "table", "rows": [[{"type": "raw_text", "text": ""}]]}, "more than 0"),
        ({"type": "table", "rows": [[{"type": "mrkdwn", "text": "*x*"}]]}, "raw_text"),
    ],
)
def test_the_stand_in_refuses_what_slack_documents_as_too_much(
    block: dict[str, Any], complaint: str
) -> None:
    errors = validate_message({"channel": "C1", "text": "x", "blocks": [block]})
    assert any(complaint in e for e in errors), errors


def test_one_table_per_message_and_none_in_modals() -> None:
    table = picture_table(SV, picture())
    assert table is not None
    errors = validate_message({"channel": "C1", "text": "x", "blocks": [table, table]})
    assert any("only one table" in e for e in errors)
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": [table]}
    assert any("only supported in messages" in e for e in validate_view(modal))


# --- the sandbox page --------------------------------------------------------------------------


def test_the_sandbox_draws_the_table_and_the_chart() -> None:
    blocks = picture_blocks(SV, picture(areas=3, rounds=3))
    assert blocks_of("table", blocks) and blocks_of("data_visualization", blocks)
    page = render_blocks(blocks, RenderContext())
    assert '<table class="bk-table">' in page and "<th" in page and "🟧 oroande" in page
    assert "<svg" in page and "<polyline" in page and "Högsta nivå per område" in page
    hostile = {
        "type": "table",
        "rows": [[{"type": "raw_text", "text": "<script>alert(1)</script>"}]],
    }
    assert "<script>" not in render_blocks([hostile], RenderContext())


def test_a_new_area_gets_a_chart_of_its_own_and_the_others_keep_their_history() -> None:
    shown = picture(areas=3, rounds=5)
    newer = AreaPicture(**{**shown.areas[2].__dict__, "history_highest": (None, None, 2, 3)})
    charts = trend_charts(SV, Picture(**{**shown.__dict__, "areas": (*shown.areas[:2], newer)}))
    assert [len(c["chart"]["axis_config"]["categories"]) for c in charts] == [5, 3]
    assert [s["name"] for s in charts[0]["chart"]["series"]] == ["Område 0", "Område 1"]
    assert [p["value"] for p in charts[1]["chart"]["series"][0]["data"]] == [2, 3, 3]
    assert validate_message({"channel": "C1", "text": "x", "blocks": charts}) == []
