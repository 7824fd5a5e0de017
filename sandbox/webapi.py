"""A local stand-in for Slack's Web API.

Point ``slack_sdk.WebClient(base_url=stub.base_url)`` at it and every call is recorded, checked
against Slack's Block Kit limits and answered with a plausible ``{"ok": true, ...}`` response.

This module only speaks HTTP: it must not import anything from the project's own packages.

Besides ``/api/<method>`` it serves two more paths:

* ``/upload/<file_id>`` -- the upload URL handed out by ``files.getUploadURLExternal``; the raw
  bytes are kept in :attr:`SlackWebApiStub.uploads` and the call is recorded as method
  ``"upload"``.
* ``/response/<anything>`` -- usable as a ``response_url`` (see
  :meth:`SlackWebApiStub.response_url`); the JSON body is recorded as method ``"response_url"``.

Run standalone with ``python -m sandbox.webapi --port 8765``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import itertools
import json
import math
import sys
import threading
import time
import zoneinfo
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "BOT_ID",
    "BOT_USER_ID",
    "RESPONSE_URL_METHOD",
    "TEAM_ID",
    "UPLOAD_METHOD",
    "Call",
    "SlackWebApiStub",
    "Violation",
    "validate_message",
    "validate_view",
]

TEAM_ID = "T0001"
TEAM_NAME = "Samverkan Test"
TEAM_DOMAIN = "samverkan-test"
APP_ID = "A0001"
BOT_ID = "B0001"
BOT_USER_ID = "UBOT"
DEFAULT_LOCALE = "sv-SE"
DEFAULT_TZ = "Europe/Stockholm"

UPLOAD_METHOD = "upload"
"""Method name under which raw POSTs to an upload URL are recorded."""
RESPONSE_URL_METHOD = "response_url"
"""Method name under which POSTs to a ``response_url`` are recorded."""

# Arguments that slack_sdk (or a hand-rolled client) may send as JSON text inside form data.
JSON_FIELDS = frozenset(
    {"blocks", "view", "attachments", "files", "metadata", "user_auth_blocks", "outputs", "unfurls"}
)
# Methods that do not take a bearer token.
NO_AUTH_METHODS = frozenset({"oauth.v2.access", "oauth.access", "api.test", "openid.connect.token"})
MESSAGE_METHODS = frozenset(
    {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage"}
)
VIEW_METHODS = frozenset({"views.open", "views.update", "views.push", "views.publish"})

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


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


@dataclass
class Call:
    """One request received by the stub."""

    method: str
    args: dict[str, Any]
    """Request arguments (query, form or JSON), with JSON-text fields such as ``blocks``,
    ``view``, ``attachments`` and ``files`` already decoded."""
    token: str | None
    at: float
    """``time.time()`` when the request arrived."""
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    """The ``error`` of an ``ok: false`` answer (validation, auth or injected fault)."""
    errors: list[str] = field(default_factory=list)
    """Block Kit / argument violations, Slack style (``... [json-pointer:/blocks/0/text]``)."""
    rejected: bool = False
    """True when the stub refused the call as Slack would (invalid blocks/arguments, auth)."""
    injected: bool = False
    """True when the answer was a fault queued with :meth:`SlackWebApiStub.fail_next`."""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Violation:
    """A call Slack would have refused."""

    method: str
    error: str
    messages: tuple[str, ...]
    call: Call = field(repr=False, compare=False)

    def __str__(self) -> str:
        detail = "; ".join(self.messages) if self.messages else "-"
        return f"{self.method}: {self.error}: {detail}"


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    error: str
    remaining: int


# ---------------------------------------------------------------------------------------------
# Block Kit validation
# ---------------------------------------------------------------------------------------------


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


HISTORY_KEPT = 1000  # messages kept per channel for conversations.history


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


# ---------------------------------------------------------------------------------------------
# Request parsing helpers
# ---------------------------------------------------------------------------------------------


def _decode_json_fields(args: dict[str, Any]) -> dict[str, Any]:
    for key in JSON_FIELDS:
        value = args.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(json.JSONDecodeError):
                args[key] = json.loads(value)
    return args


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    raw = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    message = cast(Message, BytesParser(policy=HTTP).parsebytes(raw))
    args: dict[str, Any] = {}
    if not message.is_multipart():
        return args
    for part in message.get_payload():
        if not isinstance(part, Message):
            continue
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None:
            args[name] = data
        else:
            args[name] = data.decode("utf-8", "replace")
    return args


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def _tz_offset(tz: str) -> int:
    try:
        offset = datetime.now(zoneinfo.ZoneInfo(tz)).utcoffset()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return 3600
    return int(offset.total_seconds()) if offset is not None else 0


# ---------------------------------------------------------------------------------------------
# The stub
# ---------------------------------------------------------------------------------------------

_Handler = Callable[[dict[str, Any], str | None], dict[str, Any]]


POLL_INTERVAL = 0.05
"""Seconds between the server loop's looks for a shutdown request (``stop()`` waits that
long at most; the standard library's 0.5 s made every test's teardown wait)."""


class SlackWebApiStub:
    """Slack Web API stand-in on ``127.0.0.1``.

    >>> with SlackWebApiStub() as stub:
    ...     client = WebClient(token="xoxb-test", base_url=stub.base_url)
    ...     client.chat_postMessage(channel="C1", text="hej")
    ...     stub.wait_for("chat.postMessage")

    ``require_include_locale``: like Slack, ``users.info`` only returns ``locale`` when called
    with ``include_locale=true``. ``strict_triggers``: like Slack, a ``trigger_id`` can open
    (``views.open``/``views.push``) only one view; reuse answers ``trigger_exchanged``.
    ``max_calls``: keep only that many of the latest calls (a long-running sandbox).
    """

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        delay_seconds: float = 0.0,
        require_include_locale: bool = True,
        strict_triggers: bool = True,
        verbose: bool = False,
        max_calls: int | None = None,
        channel_post_interval: float | None = None,
    ) -> None:
        self.host = host
        # Slack allows about one chat.postMessage per second per channel; with this set the
        # stand-in answers faster posts to the same channel with 429 and Retry-After.
        self.channel_post_interval = channel_post_interval
        self._last_post: dict[str, float] = {}
        self.delay_seconds = delay_seconds
        self.require_include_locale = require_include_locale
        self.strict_triggers = strict_triggers
        self.verbose = verbose
        self._requested_port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._calls: list[Call] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._members: dict[str, list[str]] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._home_view_ids: dict[str, str] = {}
        self._external_view_ids: dict[str, str] = {}
        self._used_triggers: set[str] = set()
        self._files: dict[str, dict[str, Any]] = {}
        self._uploads: dict[str, bytes] = {}
        # What the bot posted, per channel (DMs under the IM's id), for conversations.history.
        self._history: dict[str, deque[dict[str, Any]]] = {}
        self.socket_mode_url: str | None = None
        self.max_calls = max_calls
        self._listeners: list[Callable[[Call], None]] = []
        self._counters: dict[str, itertools.count[int]] = {}
        self._handlers: dict[str, _Handler] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.scheduleMessage": self._chat_schedule_message,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "team.info": self._team_info,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "oauth.v2.access": self._oauth_v2_access,
            "apps.connections.open": self._apps_connections_open,
        }

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            return self
        server = self._bind()
        self._thread = threading.Thread(
            target=server.serve_forever,
            # stop() waits for the loop to look again: a short poll makes it prompt.
            kwargs={"poll_interval": POLL_INTERVAL},
            name=f"slack-webapi-stub:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = None
        self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def _bind(self) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer((self.host, self._requested_port), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        return server

    def serve_forever(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve in the calling thread until interrupted (used by ``python -m``)."""
        server = self._bind()
        try:
            if on_ready is not None:
                on_ready()
            server.serve_forever(poll_interval=POLL_INTERVAL)
        finally:
            self._server = None
            server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("SlackWebApiStub is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def base_url(self) -> str:
        """Web API base URL for ``WebClient(base_url=...)``; ends with ``/api/``."""
        return f"{self.root_url}api/"

    @property
    def response_url_base(self) -> str:
        return f"{self.root_url}response/"

    def response_url(self, suffix: str = "T0001/1/x") -> str:
        """A ``response_url`` served (and recorded) by this stub."""
        return f"{self.response_url_base}{suffix.lstrip('/')}"

    # -- configuration --------------------------------------------------------------------------

    def set_user(
        self,
        user_id: str,
        *,
        locale: str | None = None,
        name: str | None = None,
        real_name: str | None = None,
        tz: str | None = None,
        email: str | None = None,
        is_bot: bool | None = None,
        deleted: bool | None = None,
        **extra: Any,
    ) -> None:
        """Configure what ``users.info`` returns for ``user_id`` (merged over the defaults)."""
        given = {
            "locale": locale,
            "name": name,
            "real_name": real_name,
            "tz": tz,
            "email": email,
            "is_bot": is_bot,
            "deleted": deleted,
        }
        with self._cond:
            current = self._users.setdefault(user_id, {})
            current.update({k: v for k, v in given.items() if v is not None})
            current.update(extra)

    def set_channel(self, channel: str, **fields: Any) -> None:
        """Override fields of the ``conversations.info`` channel object (``name``, ...)."""
        with self._cond:
            self._channels.setdefault(channel, {}).update(fields)

    def set_channel_members(self, channel: str, users: list[str]) -> None:
        with self._cond:
            self._members[channel] = list(users)

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int | None = 1,
        times: int = 1,
        error: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls to ``method`` (``"*"``: any method) with a fault.

        429 sends ``Retry-After: retry_after`` and ``{"ok": false, "error": "ratelimited"}``;
        5xx sends ``{"ok": false, "error": "fatal_error"}``; status 200 with ``error=...``
        simulates an API error such as ``channel_not_found``.
        """
        if error is None:
            if status == 200:
                raise ValueError("fail_next with status 200 needs an error code")
            error = "ratelimited" if status == 429 else "fatal_error"
        fault = _Fault(
            status=status,
            retry_after=retry_after if status == 429 else None,
            error=error,
            remaining=times,
        )
        with self._cond:
            self._faults.setdefault(method, deque()).append(fault)

    def add_listener(self, listener: Callable[[Call], None]) -> None:
        """Call ``listener(call)`` for every recorded call, before its answer is sent.

        Listeners run in the request's thread; an exception in one is printed and ignored.
        The sandbox page uses this to show messages, modals and home tabs as they arrive.
        """
        with self._cond:
            self._listeners.append(listener)

    def reset(self) -> None:
        """Forget calls, faults and configured users/channels/views."""
        with self._cond:
            self._calls.clear()
            self._faults.clear()
            self._users.clear()
            self._channels.clear()
            self._members.clear()
            self._views.clear()
            self._home_view_ids.clear()
            self._external_view_ids.clear()
            self._used_triggers.clear()
            self._files.clear()
            self._uploads.clear()
            self._history.clear()
            self._counters.clear()

    # -- inspection -----------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """A snapshot of every call so far, recorded before its response is sent."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if c.method == method and (ok is None or c.ok == ok)]

    def count(self, method: str, *, ok: bool | None = None) -> int:
        return len(self.calls_to(method, ok=ok))

    def last(self, method: str) -> Call:
        found = self.calls_to(method)
        if not found:
            raise AssertionError(f"no call to {method}; got: {self._summary(self.calls)}")
        return found[-1]

    def wait_for(
        self, method: str, count: int = 1, timeout: float = 5.0, *, ok: bool | None = None
    ) -> list[Call]:
        """Block until at least ``count`` calls to ``method`` arrived; return all of them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    c for c in self._calls if c.method == method and (ok is None or c.ok == ok)
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for {count} call(s) to {method}"
                        f"{'' if ok is None else f' (ok={ok})'}; got {len(found)}. "
                        f"Calls received: {self._summary(self._calls)}"
                    )
                self._cond.wait(remaining)

    @property
    def violations(self) -> list[Violation]:
        """Calls Slack would have refused (invalid blocks/arguments, auth errors)."""
        with self._cond:
            return [
                Violation(c.method, c.error or "", tuple(c.errors), c)
                for c in self._calls
                if c.rejected
            ]

    def assert_no_violations(self) -> None:
        found = self.violations
        if found:
            raise AssertionError(
                "Slack would have rejected:\n" + "\n".join(f"  {v}" for v in found)
            )

    @property
    def uploads(self) -> dict[str, bytes]:
        """Raw bytes POSTed to upload URLs, by file id."""
        with self._cond:
            return dict(self._uploads)

    def current_view(self, view_id: str) -> dict[str, Any] | None:
        """The latest view opened/pushed/updated/published under ``view_id``."""
        with self._cond:
            return self._views.get(view_id)

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The latest home tab published for ``user_id``."""
        with self._cond:
            view_id = self._home_view_ids.get(user_id)
            return self._views.get(view_id) if view_id else None

    @staticmethod
    def _summary(calls: list[Call]) -> str:
        if not calls:
            return "(none)"
        counts: dict[str, int] = {}
        for c in calls:
            label = c.method if c.ok else f"{c.method}[{c.error}]"
            counts[label] = counts.get(label, 0) + 1
        return ", ".join(f"{k} x{v}" for k, v in counts.items())

    # -- request handling (called from server threads) ------------------------------------------

    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            if self.max_calls is not None and len(self._calls) > self.max_calls:
                del self._calls[: len(self._calls) - self.max_calls]
            self._cond.notify_all()
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(call)
            except Exception as exc:  # a broken listener must not break the Web API
                print(f"[slack-webapi-stub] listener failed: {exc!r}", file=sys.stderr, flush=True)
        if self.verbose:
            state = "ok" if call.ok else f"error={call.error} {call.errors}"
            print(f"[slack-webapi-stub] {call.method} {state}", file=sys.stderr, flush=True)

    def _next(self, kind: str) -> int:
        with self._cond:
            return next(self._counters.setdefault(kind, itertools.count(1)))

    def _ts(self) -> str:
        return f"{int(time.time())}.{self._next('ts') % 1_000_000:06d}"

    def _take_fault(self, method: str) -> _Fault | None:
        with self._cond:
            for key in (method, "*"):
                queue = self._faults.get(key)
                if queue:
                    fault = queue[0]
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        queue.popleft()
                    return fault
        return None

    def handle_api(
        self, method: str, args: dict[str, Any], token: str | None, at: float
    ) -> tuple[int, dict[str, str], dict[str, Any], Call]:
        """Compute (status, headers, body, call) for one Web API request."""
        call = Call(method=method, args=args, token=token, at=at)
        fault = self._take_fault(method) or self._rate_limited(method, args, at)
        if fault is not None:
            headers: dict[str, str] = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            body: dict[str, Any] = {"ok": False, "error": fault.error}
            call.status, call.error, call.injected, call.response = (
                fault.status,
                fault.error,
                True,
                body,
            )
            return fault.status, headers, body, call

        body = self._check_auth(method, token) or self._dispatch(method, args, token)
        if not body.get("ok"):
            call.error = str(body.get("error"))
            call.errors = list(body.get("errors", []))
            call.rejected = not body.get("_api_error", False)
            body.pop("_api_error", None)
        call.response = body
        return 200, {}, body, call

    def _rate_limited(self, method: str, args: dict[str, Any], at: float) -> _Fault | None:
        if self.channel_post_interval is None or method != "chat.postMessage":
            return None
        channel = str(args.get("channel", ""))
        with self._cond:
            last = self._last_post.get(channel)
            if last is not None and at - last < self.channel_post_interval:
                wait = max(1, math.ceil(self.channel_post_interval - (at - last)))
                return _Fault(status=429, retry_after=wait, error="ratelimited", remaining=0)
            self._last_post[channel] = at
        return None

    def _check_auth(self, method: str, token: str | None) -> dict[str, Any] | None:
        if method in NO_AUTH_METHODS:
            return None
        if not token:
            return {"ok": False, "error": "not_authed"}
        if not token.startswith(("xox", "xapp-")):
            return {"ok": False, "error": "invalid_auth"}
        return None

    def _dispatch(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        handler = self._handlers.get(method)
        if handler is None:
            return {"ok": True}
        return handler(args, token)

    # -- helpers for handlers -------------------------------------------------------------------

    @staticmethod
    def _invalid(error: str, errors: list[str]) -> dict[str, Any]:
        return {
            "ok": False,
            "error": error,
            "errors": errors,
            "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
        }

    @staticmethod
    def _api_error(error: str) -> dict[str, Any]:
        # Not a contract violation (e.g. trigger reuse is), just an ordinary API answer.
        return {"ok": False, "error": error, "_api_error": True}

    def _check_message(
        self, args: dict[str, Any], *, require_content: bool
    ) -> dict[str, Any] | None:
        missing = []
        if not args.get("channel"):
            missing.append("missing required field: channel [json-pointer:/channel]")
        if require_content and not (
            args.get("text") or args.get("blocks") or args.get("attachments")
        ):
            missing.append("must provide text, blocks or attachments [json-pointer:/text]")
        if missing:
            return self._invalid("invalid_arguments", missing)
        text = args.get("text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            return self._invalid(
                "msg_too_long",
                [f"must be less than {MAX_MESSAGE_TEXT + 1} characters [json-pointer:/text]"],
            )
        errors = validate_message(args)
        if errors:
            return self._invalid("invalid_blocks", errors)
        return None

    @staticmethod
    def _dm_channel(channel: str) -> str:
        return f"D{channel}" if channel[:1] in ("U", "W") else channel

    def _message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": args.get("text") or "",
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if args.get(key) is not None:
                message[key] = args[key]
        return message

    # -- handlers -------------------------------------------------------------------------------

    def _api_test(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"ok": True, "args": {k: v for k, v in args.items() if isinstance(v, str)}}

    def _auth_test(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": "samverkan",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        invalid = self._check_message(args, require_content=True)
        if invalid:
            return invalid
        ts = self._ts()
        channel = self._dm_channel(str(args["channel"]))
        message = self._message(args, ts)
        with self._cond:
            self._history.setdefault(channel, deque(maxlen=HISTORY_KEPT)).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _conversations_history(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        """The channel's messages newest first (only those the bot posted here), after
        ``oldest``, at most ``limit``; metadata only with ``include_all_metadata``, as Slack."""
        channel = str(args.get("channel") or "")
        if not channel:
            return self._invalid(
                "invalid_arguments", ["missing required field: channel [json-pointer:/channel]"]
            )
        oldest = float(args.get("oldest") or 0)
        limit = int(args.get("limit") or 100)
        metadata = _truthy(args.get("include_all_metadata"))
        with self._cond:
            kept = list(self._history.get(channel, ()))
        found = [m for m in reversed(kept) if float(m["ts"]) > oldest][:limit]
        if not metadata:
            found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
        return {"ok": True, "messages": found, "has_more": False, "pin_count": 0}

    def _chat_post_ephemeral(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        invalid = self._check_message(args, require_content=True)
        if invalid:
            return invalid
        if not args.get("user"):
            return self._invalid(
                "invalid_arguments", ["missing required field: user [json-pointer:/user]"]
            )
        return {"ok": True, "message_ts": self._ts()}

    def _chat_update(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        invalid = self._check_message(args, require_content=False)
        if invalid:
            return invalid
        if str(args.get("channel", ""))[:1] in ("U", "W"):
            # Unlike chat.postMessage, chat.update wants a DM's channel id (D…), not a user.
            return self._api_error("channel_not_found")
        ts = args.get("ts")
        if not ts:
            return self._invalid(
                "invalid_arguments", ["missing required field: ts [json-pointer:/ts]"]
            )
        return {
            "ok": True,
            "channel": args["channel"],
            "ts": ts,
            "text": args.get("text") or "",
            "message": self._message(args, str(ts)),
        }

    def _chat_delete(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not args.get("channel") or not args.get("ts"):
            return self._invalid("invalid_arguments", ["missing required field: channel, ts"])
        return {"ok": True, "channel": args["channel"], "ts": args["ts"]}

    def _chat_schedule_message(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        invalid = self._check_message(args, require_content=True)
        if invalid:
            return invalid
        post_at = args.get("post_at")
        return {
            "ok": True,
            "channel": args["channel"],
            "scheduled_message_id": f"Q{self._next('scheduled'):04d}",
            "post_at": post_at,
            "message": self._message(args, self._ts()),
        }

    def _chat_get_permalink(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        ts = str(args.get("message_ts", "")).replace(".", "")
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts}",
        }

    def _store_view(
        self, view: dict[str, Any], view_id: str, *, user_id: str | None = None
    ) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view.get("type", "modal"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{self._next('hash'):08x}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "external_id": view.get("external_id", ""),
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
            "root_view_id": view_id,
            "previous_view_id": None,
        }
        for key in ("title", "submit", "close"):
            if key in view:
                stored[key] = view[key]
        with self._cond:
            self._views[view_id] = stored
            if user_id is not None:
                self._home_view_ids[user_id] = view_id
            external_id = view.get("external_id")
            if external_id:
                self._external_view_ids[str(external_id)] = view_id
        return stored

    def _check_view(self, args: dict[str, Any]) -> dict[str, Any] | None:
        errors = validate_view(args.get("view"))
        if errors:
            return self._invalid("invalid_arguments", errors)
        return None

    def _views_open(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trigger:
            return self._invalid(
                "invalid_arguments",
                ["missing required field: trigger_id [json-pointer:/trigger_id]"],
            )
        invalid = self._check_view(args)
        if invalid:
            return invalid
        if self.strict_triggers:
            with self._cond:
                if trigger in self._used_triggers:
                    return self._invalid(
                        "trigger_exchanged",
                        [f"trigger_id {trigger} was already used to open a view"],
                    )
                self._used_triggers.add(str(trigger))
        view = self._store_view(args["view"], f"V{self._next('view'):04d}")
        return {"ok": True, "view": view}

    def _views_update(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        invalid = self._check_view(args)
        if invalid:
            return invalid
        view_id = args.get("view_id")
        external_id = args.get("external_id")
        if not view_id and external_id:
            with self._cond:
                view_id = self._external_view_ids.get(str(external_id))
            if view_id is None:
                return self._api_error("not_found")
        if not view_id:
            return self._invalid(
                "invalid_arguments", ["must provide either view_id or external_id"]
            )
        return {"ok": True, "view": self._store_view(args["view"], str(view_id))}

    def _views_publish(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        user_id = args.get("user_id")
        if not user_id:
            return self._invalid(
                "invalid_arguments", ["missing required field: user_id [json-pointer:/user_id]"]
            )
        invalid = self._check_view(args)
        if invalid:
            return invalid
        view = args["view"]
        if view.get("type") != "home":
            return self._invalid("invalid_arguments", ['must be "home" [json-pointer:/view/type]'])
        with self._cond:
            view_id = self._home_view_ids.get(str(user_id))
        view_id = view_id or f"V{self._next('view'):04d}"
        return {"ok": True, "view": self._store_view(view, view_id, user_id=str(user_id))}

    def _user(self, user_id: str, *, include_locale: bool) -> dict[str, Any]:
        with self._cond:
            conf = dict(self._users.get(user_id, {}))
        is_bot = bool(conf.pop("is_bot", user_id == BOT_USER_ID))
        name = str(conf.pop("name", "samverkan" if is_bot else f"user.{user_id.lower()}"))
        real_name = str(conf.pop("real_name", "Samverkan" if is_bot else f"Test {user_id}"))
        tz = str(conf.pop("tz", DEFAULT_TZ))
        email = conf.pop("email", None if is_bot else f"{user_id.lower()}@example.org")
        locale = conf.pop("locale", DEFAULT_LOCALE)
        profile: dict[str, Any] = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": name,
            "display_name_normalized": name,
            "team": TEAM_ID,
        }
        if email:
            profile["email"] = email
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "deleted": bool(conf.pop("deleted", False)),
            "real_name": real_name,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": _tz_offset(tz),
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
        }
        if is_bot:
            profile["bot_id"] = BOT_ID
        if include_locale or not self.require_include_locale:
            user["locale"] = locale
        user.update(conf)
        return user

    def _users_info(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        user_id = args.get("user")
        if not user_id:
            return self._invalid(
                "invalid_arguments", ["missing required field: user [json-pointer:/user]"]
            )
        if str(user_id)[:1] not in ("U", "W"):
            return self._api_error("user_not_found")
        include_locale = _truthy(args.get("include_locale", False))
        return {"ok": True, "user": self._user(str(user_id), include_locale=include_locale)}

    def _users_list(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        with self._cond:
            ids = sorted(set(self._users) | {BOT_USER_ID})
        include_locale = _truthy(args.get("include_locale", False))
        return {
            "ok": True,
            "members": [self._user(u, include_locale=include_locale) for u in ids],
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_info(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return self._api_error("channel_not_found")
        channel = str(channel)
        with self._cond:
            overrides = dict(self._channels.get(channel, {}))
            members = self._members.get(channel)
        is_im = channel.startswith("D")
        info: dict[str, Any] = {
            "id": channel,
            "created": 1_700_000_000,
            "creator": "U0001",
            "is_archived": False,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "context_team_id": TEAM_ID,
            "is_member": True,
        }
        if is_im:
            info.update({"is_im": True, "user": channel[1:], "is_open": True})
        else:
            info.update(
                {
                    "name": f"kanal-{channel.lower()}",
                    "name_normalized": f"kanal-{channel.lower()}",
                    "is_channel": not channel.startswith("G"),
                    "is_group": False,
                    "is_im": False,
                    "is_mpim": False,
                    "is_private": channel.startswith("G"),
                    "topic": {"value": "", "creator": "", "last_set": 0},
                    "purpose": {"value": "", "creator": "", "last_set": 0},
                }
            )
            if members is not None:
                info["num_members"] = len(members)
        info.update(overrides)
        return {"ok": True, "channel": info}

    def _conversations_members(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return self._api_error("channel_not_found")
        with self._cond:
            members = list(self._members.get(str(channel), []))
        try:
            start = int(args.get("cursor") or 0)
            limit = int(args.get("limit") or 100) or 100
        except (TypeError, ValueError):
            return self._api_error("invalid_cursor")
        page = members[start : start + limit]
        next_cursor = str(start + limit) if start + limit < len(members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_open(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        users_arg = args.get("users")
        if isinstance(users_arg, list):
            users = [str(u) for u in users_arg]
        else:
            users = [u.strip() for u in str(users_arg or "").split(",") if u.strip()]
        if args.get("channel"):
            return {"ok": True, "channel": {"id": args["channel"]}}
        if not users:
            return self._invalid(
                "invalid_arguments", ["must provide either users or channel [json-pointer:/users]"]
            )
        channel_id = f"D{users[0]}" if len(users) == 1 else "G" + "".join(sorted(users))
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": channel_id}}

    def _apps_connections_open(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        """Socket Mode: hand out the WebSocket URL a test server listens on."""
        if not (token or "").startswith("xapp-"):
            return self._api_error("invalid_auth")
        if self.socket_mode_url is None:
            return self._api_error("socket_mode_unavailable")
        return {"ok": True, "url": self.socket_mode_url}

    def _team_info(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {
            "ok": True,
            "team": {
                "id": TEAM_ID,
                "name": TEAM_NAME,
                "domain": TEAM_DOMAIN,
                "email_domain": "example.org",
                "url": f"https://{TEAM_DOMAIN}.slack.com/",
                "icon": {"image_default": True},
                "enterprise_id": None,
            },
        }

    def _files_get_upload_url(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not args.get("filename") or args.get("length") in (None, ""):
            return self._invalid("invalid_arguments", ["missing required field: filename, length"])
        file_id = f"F{self._next('file'):04d}"
        with self._cond:
            self._files[file_id] = {
                "filename": str(args["filename"]),
                "length": int(args["length"]),
            }
        return {"ok": True, "upload_url": f"{self.root_url}upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return self._invalid("invalid_arguments", ["missing required field: files"])
        result = []
        for item in files:
            file_id = str(item.get("id")) if isinstance(item, dict) else ""
            with self._cond:
                meta = self._files.get(file_id)
                data = self._uploads.get(file_id)
            if meta is None:
                return self._api_error("file_not_found")
            if data is None:
                return self._api_error("file_upload_not_found")
            result.append(
                {
                    "id": file_id,
                    "name": meta["filename"],
                    "title": item.get("title") or meta["filename"],
                    "size": len(data),
                    "user": BOT_USER_ID,
                    "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{file_id}",
                }
            )
        return {"ok": True, "files": result}

    def _oauth_v2_access(self, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not args.get("client_id") or not (args.get("code") or args.get("refresh_token")):
            return self._api_error("invalid_code")
        return {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": "U0001"},
            "scope": "commands,chat:write,users:read,im:write,channels:read,groups:read",
            "token_type": "bot",
            "access_token": f"xoxb-{TEAM_ID}-stub-{self._next('token'):04d}",
            "bot_user_id": BOT_USER_ID,
            "team": {"id": TEAM_ID, "name": TEAM_NAME},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    # -- non-API endpoints ----------------------------------------------------------------------

    def handle_upload(self, file_id: str, data: bytes, at: float) -> tuple[int, str, Call]:
        call = Call(
            method=UPLOAD_METHOD, args={"file_id": file_id, "size": len(data)}, token=None, at=at
        )
        with self._cond:
            known = file_id in self._files
            if known:
                self._uploads[file_id] = data
        if not known:
            call.status, call.error = 404, "file_not_found"
            return 404, "file_not_found", call
        return 200, f"OK - {len(data)}", call

    def handle_response_url(
        self, path: str, args: dict[str, Any], at: float
    ) -> tuple[int, str, Call]:
        call = Call(method=RESPONSE_URL_METHOD, args={**args, "_path": path}, token=None, at=at)
        has_content = any(args.get(k) for k in ("text", "blocks", "attachments"))
        if not has_content and not args.get("delete_original"):
            call.status, call.error, call.rejected = 400, "no_text", True
            return 400, "no_text", call
        errors = validate_message(args)
        if errors:
            call.status, call.error, call.errors, call.rejected = (
                400,
                "invalid_blocks",
                errors,
                True,
            )
            return 400, "invalid_blocks", call
        return 200, "ok", call


# ---------------------------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------------------------


def _make_handler(stub: SlackWebApiStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "SlackWebApiStub/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            if stub.verbose:
                super().log_message(format, *args)

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _read_body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length > 0 else b""

        def _send(
            self, status: int, body: bytes, content_type: str, headers: Mapping[str, str]
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _handle(self) -> None:
            at = time.time()
            url = urlsplit(self.path)
            body = self._read_body()
            path = url.path
            try:
                if path.startswith("/api/"):
                    self._api(path[len("/api/") :], url.query, body, at)
                elif path.startswith("/upload/"):
                    status, text, call = stub.handle_upload(path[len("/upload/") :], body, at)
                    self._finish_text(status, text, call)
                elif path.startswith("/response/"):
                    args = self._parse_args("", body)
                    status, text, call = stub.handle_response_url(path, args, at)
                    self._finish_text(status, text, call)
                else:
                    self._send(404, b"not found", "text/plain", {})
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _finish_text(self, status: int, text: str, call: Call) -> None:
            # Record before answering: once the client has its response, the call is visible.
            stub._record(call)
            if stub.delay_seconds:
                time.sleep(stub.delay_seconds)
            self._send(status, text.encode(), "text/plain; charset=utf-8", {})

        def _parse_args(self, query: str, body: bytes) -> dict[str, Any]:
            args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
            content_type = self.headers.get("Content-Type") or ""
            mime = content_type.split(";")[0].strip().lower()
            if body:
                if mime == "application/json" or (not mime and body.lstrip()[:1] == b"{"):
                    parsed = json.loads(body.decode("utf-8"))
                    if isinstance(parsed, dict):
                        args.update(parsed)
                elif mime == "multipart/form-data":
                    args.update(_parse_multipart(content_type, body))
                else:
                    form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
                    if set(form) == {"payload"}:
                        payload = json.loads(form["payload"])
                        if isinstance(payload, dict):
                            form = payload
                    args.update(form)
            return _decode_json_fields(args)

        def _api(self, method: str, query: str, body: bytes, at: float) -> None:
            try:
                args = self._parse_args(query, body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                call = Call(method=method, args={}, token=None, at=at)
                payload = {"ok": False, "error": "invalid_json"}
                call.status, call.error, call.rejected, call.response = (
                    200,
                    "invalid_json",
                    True,
                    payload,
                )
                self._finish_json(200, {}, payload, call)
                return
            token = self._token(args)
            status, headers, payload, call = stub.handle_api(method, args, token, at)
            self._finish_json(status, headers, payload, call)

        def _finish_json(
            self, status: int, headers: Mapping[str, str], payload: dict[str, Any], call: Call
        ) -> None:
            stub._record(call)
            if stub.delay_seconds:
                time.sleep(stub.delay_seconds)
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self._send(status, data, "application/json; charset=utf-8", headers)

        def _token(self, args: dict[str, Any]) -> str | None:
            auth = self.headers.get("Authorization") or ""
            scheme, _, value = auth.partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                return value.strip()
            if scheme.lower() == "basic" and value.strip():
                try:
                    decoded = base64.b64decode(value.strip()).decode("utf-8")
                except ValueError:
                    decoded = ""
                client_id, _, client_secret = decoded.partition(":")
                args.setdefault("client_id", client_id)
                args.setdefault("client_secret", client_secret)
            token = args.pop("token", None)
            return str(token) if token else None

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.webapi", description="Local stand-in for Slack's Web API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--delay", type=float, default=0.0, help="artificial latency (seconds)")
    parser.add_argument(
        "--lenient-locale",
        action="store_true",
        help="return users.info locale even without include_locale=true",
    )
    parser.add_argument(
        "--reusable-triggers", action="store_true", help="allow a trigger_id to open many views"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="do not log each call")
    ns = parser.parse_args(argv)
    stub = SlackWebApiStub(
        ns.port,
        host=ns.host,
        delay_seconds=ns.delay,
        require_include_locale=not ns.lenient_locale,
        strict_triggers=not ns.reusable_triggers,
        verbose=not ns.quiet,
    )

    def ready() -> None:
        print(stub.base_url, flush=True)
        print(f"response_url base: {stub.response_url_base}", file=sys.stderr, flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        stub.serve_forever(on_ready=ready)
    return 0


if __name__ == "__main__":
    sys.exit(main())
