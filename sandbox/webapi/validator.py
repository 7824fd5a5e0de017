"""Block Kit validation: what Slack would refuse in a message or a view, in Slack's words
(``... [json-pointer:/blocks/0/text]``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
# docs.slack.dev, table block: ≤ 100 rows of ≤ 20 cells (raw_text, raw_number or rich_text),
# ≤ 20 column settings; one table per message, in messages only.
TABLE_MAX_ROWS = 100
TABLE_MAX_CELLS = 20
TABLE_CELL_TYPES = frozenset({"raw_text", "raw_number", "rich_text"})
TABLE_ALIGN = frozenset({"left", "center", "right"})
# docs.slack.dev, data visualization block: a title of ≤ 50 characters; a pie of 1–6
# segments, or a bar/area/line chart of 1–6 uniquely named series (names ≤ 20 characters),
# each with 1–20 points whose labels (≤ 20 characters) are the x-axis categories; axis labels
# ≤ 50 characters.
CHART_TYPES = frozenset({"pie", "bar", "area", "line"})
CHART_TITLE_MAX = 50
CHART_MAX_SERIES = 6
CHART_MAX_POINTS = 20
CHART_LABEL_MAX = 20
CHART_AXIS_LABEL_MAX = 50

SELECT_TYPES = frozenset({"static_select", "multi_static_select"})
PLAIN_OPTION_TYPES = SELECT_TYPES | {"overflow"}


class _Validator:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, message: str, pointer: str) -> None:
        self.errors.append(f"{message} [json-pointer:{pointer}]")

    def max_len(self, value: Any, limit: int, pointer: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.add(f"must be less than {limit + 1} characters", pointer)

    def max_items(self, value: Any, limit: int, pointer: str) -> None:
        if isinstance(value, list) and len(value) > limit:
            self.add(f"must be less than {limit + 1} items", pointer)

    def text(
        self,
        obj: Any,
        limit: int,
        pointer: str,
        *,
        plain_only: bool = False,
        required: bool = False,
    ) -> None:
        if obj is None:
            if required:
                self.add("missing required field", pointer)
            return
        if not isinstance(obj, dict):
            self.add("must be a text object", pointer)
            return
        kind = obj.get("type")
        if plain_only and kind != "plain_text":
            self.add('must be "plain_text"', f"{pointer}/type")
        elif kind not in ("plain_text", "mrkdwn"):
            self.add('must be either "plain_text" or "mrkdwn"', f"{pointer}/type")
        text = obj.get("text")
        if not isinstance(text, str):
            self.add("must provide a string", f"{pointer}/text")
        elif not text:
            self.add("must be more than 0 characters", f"{pointer}/text")
        else:
            self.max_len(text, limit, f"{pointer}/text")

    # -- blocks ---------------------------------------------------------------------------------

    def blocks(self, blocks: Any, limit: int, pointer: str) -> None:
        if blocks is None:
            return
        if not isinstance(blocks, list):
            self.add("must be an array", pointer)
            return
        self.max_items(blocks, limit, pointer)
        seen: set[str] = set()
        for i, block in enumerate(blocks):
            self.block(block, f"{pointer}/{i}", seen)

    def block(self, block: Any, p: str, seen_block_ids: set[str]) -> None:
        if not isinstance(block, dict):
            self.add("must be an object", p)
            return
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str):
                self.add("must be a string", f"{p}/block_id")
            else:
                self.max_len(block_id, 255, f"{p}/block_id")
                if block_id in seen_block_ids:
                    self.add(f"duplicate block_id {block_id!r}", f"{p}/block_id")
                seen_block_ids.add(block_id)
        kind = block.get("type")
        if kind is None:
            self.add("missing required field: type", p)
        elif kind == "section":
            self.section(block, p)
        elif kind == "header":
            self.text(block.get("text"), 150, f"{p}/text", plain_only=True, required=True)
        elif kind == "input":
            self.text(block.get("hint"), 2000, f"{p}/hint", plain_only=True)
            element = block.get("element")
            if element is None:
                self.add("missing required field: element", p)
            else:
                self.element(element, f"{p}/element")
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                self.add("must provide a non-empty array", f"{p}/elements")
            else:
                self.max_items(elements, 25, f"{p}/elements")
                self.elements(elements, f"{p}/elements")
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                self.add("must provide a non-empty array", f"{p}/elements")
            else:
                self.max_items(elements, 10, f"{p}/elements")
                for i, element in enumerate(elements):
                    if isinstance(element, dict) and element.get("type") in (
                        "plain_text",
                        "mrkdwn",
                    ):
                        self.text(element, 3000, f"{p}/elements/{i}")
        elif kind == "image":
            self.max_len(block.get("alt_text"), 2000, f"{p}/alt_text")
            self.max_len(block.get("image_url"), 3000, f"{p}/image_url")
            self.text(block.get("title"), 2000, f"{p}/title", plain_only=True)
        elif kind == "markdown":
            self.max_len(block.get("text"), 12_000, f"{p}/text")
        elif kind == "table":
            self.table(block, p)
        elif kind == "data_visualization":
            self.data_visualization(block, p)
        if "label" in block:
            # Required on input blocks; checked wherever it appears.
            self.text(block.get("label"), 2000, f"{p}/label", plain_only=True, required=True)
        elif kind == "input":
            self.add("missing required field: label", p)

    def table(self, block: dict[str, Any], p: str) -> None:
        rows = block.get("rows")
        if not isinstance(rows, list) or not rows:
            self.add("must provide a non-empty array", f"{p}/rows")
            return
        self.max_items(rows, TABLE_MAX_ROWS, f"{p}/rows")
        for i, row in enumerate(rows):
            rp = f"{p}/rows/{i}"
            if not isinstance(row, list) or not row:
                self.add("must provide a non-empty array", rp)
                continue
            self.max_items(row, TABLE_MAX_CELLS, rp)
            for j, cell in enumerate(row):
                cp = f"{rp}/{j}"
                kind = cell.get("type") if isinstance(cell, dict) else None
                if kind not in TABLE_CELL_TYPES:
                    self.add('must be "raw_text", "raw_number" or "rich_text"', f"{cp}/type")
                elif kind == "raw_text":
                    text = cell.get("text")
                    if not isinstance(text, str) or not text:
                        self.add("must be more than 0 characters", f"{cp}/text")
                elif kind == "raw_number":
                    value = cell.get("value")
                    if isinstance(value, bool) or not isinstance(value, int | float):
                        self.add("must be a number", f"{cp}/value")
                    if not isinstance(cell.get("text"), str) or not cell.get("text"):
                        self.add("must be more than 0 characters", f"{cp}/text")
                elif not isinstance(cell.get("elements"), list):
                    self.add("must provide an array", f"{cp}/elements")
        settings = block.get("column_settings")
        if settings is not None:
            if not isinstance(settings, list):
                self.add("must be an array", f"{p}/column_settings")
                return
            self.max_items(settings, TABLE_MAX_CELLS, f"{p}/column_settings")
            for i, setting in enumerate(settings):
                sp = f"{p}/column_settings/{i}"
                if setting is None:
                    continue
                if not isinstance(setting, dict):
                    self.add("must be an object", sp)
                    continue
                if "align" in setting and setting["align"] not in TABLE_ALIGN:
                    self.add('must be "left", "center" or "right"', f"{sp}/align")
                if "is_wrapped" in setting and not isinstance(setting["is_wrapped"], bool):
                    self.add("must be a boolean", f"{sp}/is_wrapped")

    def _chart_label(self, value: Any, pointer: str) -> None:
        if not isinstance(value, str) or not value:
            self.add("must be more than 0 characters", pointer)
        else:
            self.max_len(value, CHART_LABEL_MAX, pointer)

    def _chart_value(self, value: Any, pointer: str) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.add("must be a finite number", pointer)

    def data_visualization(self, block: dict[str, Any], p: str) -> None:
        title = block.get("title")
        if not isinstance(title, str) or not title:
            self.add("must be more than 0 characters", f"{p}/title")
        else:
            self.max_len(title, CHART_TITLE_MAX, f"{p}/title")
        chart = block.get("chart")
        if not isinstance(chart, dict):
            self.add("missing required field: chart", p)
            return
        cp = f"{p}/chart"
        kind = chart.get("type")
        if kind not in CHART_TYPES:
            self.add('must be "pie", "bar", "area" or "line"', f"{cp}/type")
            return
        if kind == "pie":
            segments = chart.get("segments")
            if not isinstance(segments, list) or not segments:
                self.add("must provide a non-empty array", f"{cp}/segments")
                return
            self.max_items(segments, CHART_MAX_SERIES, f"{cp}/segments")
            for i, segment in enumerate(segments):
                segment = segment if isinstance(segment, dict) else {}
                self._chart_label(segment.get("label"), f"{cp}/segments/{i}/label")
                self._chart_value(segment.get("value"), f"{cp}/segments/{i}/value")
            return
        axis = chart.get("axis_config")
        categories: list[Any] = []
        if not isinstance(axis, dict):
            self.add("missing required field: axis_config", cp)
        else:
            raw = axis.get("categories")
            if not isinstance(raw, list) or not raw:
                self.add("must provide a non-empty array", f"{cp}/axis_config/categories")
            else:
                categories = raw
                self.max_items(raw, CHART_MAX_POINTS, f"{cp}/axis_config/categories")
                for i, category in enumerate(raw):
                    self._chart_label(category, f"{cp}/axis_config/categories/{i}")
            for key in ("x_label", "y_label"):
                self.max_len(axis.get(key), CHART_AXIS_LABEL_MAX, f"{cp}/axis_config/{key}")
        series = chart.get("series")
        if not isinstance(series, list) or not series:
            self.add("must provide a non-empty array", f"{cp}/series")
            return
        self.max_items(series, CHART_MAX_SERIES, f"{cp}/series")
        names: set[str] = set()
        for i, one in enumerate(series):
            sp = f"{cp}/series/{i}"
            one = one if isinstance(one, dict) else {}
            name = one.get("name")
            self._chart_label(name, f"{sp}/name")
            if isinstance(name, str):
                if name in names:
                    self.add(f"duplicate series name {name!r}", f"{sp}/name")
                names.add(name)
            data = one.get("data")
            if not isinstance(data, list) or not data:
                self.add("must provide a non-empty array", f"{sp}/data")
                continue
            self.max_items(data, CHART_MAX_POINTS, f"{sp}/data")
            labels = []
            for j, point in enumerate(data):
                point = point if isinstance(point, dict) else {}
                self._chart_label(point.get("label"), f"{sp}/data/{j}/label")
                self._chart_value(point.get("value"), f"{sp}/data/{j}/value")
                labels.append(point.get("label"))
            if categories and labels != categories:
                self.add("data labels must match axis_config.categories", f"{sp}/data")

    def section(self, block: dict[str, Any], p: str) -> None:
        text = block.get("text")
        fields = block.get("fields")
        if text is None and not fields:
            self.add("must provide either text or fields", p)
        self.text(text, 3000, f"{p}/text")
        if fields is not None:
            if not isinstance(fields, list):
                self.add("must be an array", f"{p}/fields")
            else:
                self.max_items(fields, 10, f"{p}/fields")
                for i, item in enumerate(fields):
                    self.text(item, 2000, f"{p}/fields/{i}", required=True)
        accessory = block.get("accessory")
        if accessory is not None:
            self.element(accessory, f"{p}/accessory")

    # -- elements -------------------------------------------------------------------------------

    def elements(self, elements: list[Any], p: str) -> None:
        seen: set[str] = set()
        for i, element in enumerate(elements):
            self.element(element, f"{p}/{i}")
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if isinstance(action_id, str):
                if action_id in seen:
                    self.add(f"duplicate action_id {action_id!r}", f"{p}/{i}/action_id")
                seen.add(action_id)

    def element(self, element: Any, p: str) -> None:
        if not isinstance(element, dict):
            self.add("must be an object", p)
            return
        kind = element.get("type")
        if kind is None:
            self.add("missing required field: type", p)
        action_id = element.get("action_id")
        if action_id is not None:
            if not isinstance(action_id, str):
                self.add("must be a string", f"{p}/action_id")
            else:
                self.max_len(action_id, 255, f"{p}/action_id")
        self.text(element.get("placeholder"), 150, f"{p}/placeholder", plain_only=True)
        if kind == "button":
            self.text(element.get("text"), 75, f"{p}/text", plain_only=True, required=True)
            self.max_len(element.get("value"), 2000, f"{p}/value")
            self.max_len(element.get("url"), 3000, f"{p}/url")
        plain_options = kind in PLAIN_OPTION_TYPES
        options = element.get("options")
        groups = element.get("option_groups")
        if kind in SELECT_TYPES and options is None and groups is None:
            self.add("must provide either options or option_groups", p)
        if options is not None:
            if not isinstance(options, list):
                self.add("must be an array", f"{p}/options")
            else:
                limit = {"checkboxes": 10, "radio_buttons": 10, "overflow": 5}.get(kind or "", 100)
                self.max_items(options, limit, f"{p}/options")
                for i, option in enumerate(options):
                    self.option(option, f"{p}/options/{i}", plain_only=plain_options)
        if groups is not None:
            if not isinstance(groups, list):
                self.add("must be an array", f"{p}/option_groups")
            else:
                self.max_items(groups, 100, f"{p}/option_groups")
                for i, group in enumerate(groups):
                    gp = f"{p}/option_groups/{i}"
                    if not isinstance(group, dict):
                        self.add("must be an object", gp)
                        continue
                    self.text(group.get("label"), 75, f"{gp}/label", plain_only=True, required=True)
                    group_options = group.get("options")
                    self.max_items(group_options, 100, f"{gp}/options")
                    for j, option in enumerate(group_options or []):
                        self.option(option, f"{gp}/options/{j}", plain_only=True)
        if element.get("initial_option") is not None:
            self.option(element["initial_option"], f"{p}/initial_option", plain_only=plain_options)
        initial_options = element.get("initial_options")
        if isinstance(initial_options, list):
            for i, option in enumerate(initial_options):
                self.option(option, f"{p}/initial_options/{i}", plain_only=plain_options)
        confirm = element.get("confirm")
        if confirm is not None:
            self.confirm(confirm, f"{p}/confirm")

    def option(self, option: Any, p: str, *, plain_only: bool) -> None:
        if not isinstance(option, dict):
            self.add("must be an object", p)
            return
        self.text(option.get("text"), 75, f"{p}/text", plain_only=plain_only, required=True)
        value = option.get("value")
        if value is not None:
            self.max_len(value, 150, f"{p}/value")
        self.text(option.get("description"), 75, f"{p}/description")

    def confirm(self, confirm: Any, p: str) -> None:
        if not isinstance(confirm, dict):
            self.add("must be an object", p)
            return
        self.text(confirm.get("title"), 100, f"{p}/title", plain_only=True, required=True)
        self.text(confirm.get("text"), 300, f"{p}/text", required=True)
        self.text(confirm.get("confirm"), 30, f"{p}/confirm", plain_only=True, required=True)
        self.text(confirm.get("deny"), 30, f"{p}/deny", plain_only=True, required=True)

    # -- surfaces -------------------------------------------------------------------------------

    def view(self, view: Any, p: str = "/view") -> None:
        if not isinstance(view, dict):
            self.add("must provide an object", p)
            return
        kind = view.get("type")
        if kind not in ("modal", "home"):
            self.add('must be either "modal" or "home"', f"{p}/type")
        blocks = view.get("blocks")
        if blocks is None:
            self.add("missing required field: blocks", p)
        self.blocks(blocks, MAX_VIEW_BLOCKS, f"{p}/blocks")
        for i, block in enumerate(blocks if isinstance(blocks, list) else []):
            if isinstance(block, dict) and block.get("type") == "table":
                self.add("table blocks are only supported in messages", f"{p}/blocks/{i}")
        if kind == "modal":
            self.text(view.get("title"), 24, f"{p}/title", plain_only=True, required=True)
            self.text(view.get("submit"), 24, f"{p}/submit", plain_only=True)
            self.text(view.get("close"), 24, f"{p}/close", plain_only=True)
            has_input = isinstance(blocks, list) and any(
                isinstance(b, dict) and b.get("type") == "input" for b in blocks
            )
            if has_input and view.get("submit") is None:
                self.add("must provide a submit property when using input blocks", p)
        self.max_len(view.get("private_metadata"), 3000, f"{p}/private_metadata")
        self.max_len(view.get("callback_id"), 255, f"{p}/callback_id")
        self.max_len(view.get("external_id"), 255, f"{p}/external_id")

    def message(self, args: Mapping[str, Any]) -> None:
        blocks = args.get("blocks")
        self.blocks(blocks, MAX_MESSAGE_BLOCKS, "/blocks")
        tables = [
            i
            for i, b in enumerate(blocks if isinstance(blocks, list) else [])
            if isinstance(b, dict) and b.get("type") == "table"
        ]
        for i in tables[1:]:
            self.add("only one table block is allowed per message", f"/blocks/{i}")
        attachments = args.get("attachments")
        if isinstance(attachments, list):
            for i, attachment in enumerate(attachments):
                if isinstance(attachment, dict):
                    self.blocks(
                        attachment.get("blocks"), MAX_MESSAGE_BLOCKS, f"/attachments/{i}/blocks"
                    )


def validate_message(args: Mapping[str, Any]) -> list[str]:
    """Block Kit violations in a message payload (``blocks``/``attachments``), Slack style."""
    v = _Validator()
    v.message(args)
    return v.errors


def validate_view(view: Any) -> list[str]:
    """Block Kit violations in a modal or home tab view, Slack style."""
    v = _Validator()
    v.view(view)
    return v.errors
