"""Refreshed views through the real app: the forum's channel, Stockholm time, a scheduler
tick, and the text of a message (tests/integration/test_refreshed_*.py).
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

from bot.scheduler import run_due_work
from sandbox.webapi import Call
from tests.conftest import Bot

STHLM = zoneinfo.ZoneInfo("Europe/Stockholm")
CHANNEL = "C0001"


def local(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=STHLM)


def tick(bot: Bot, at: dt.datetime) -> None:
    bot.clock.set(at)
    run_due_work(bot.runtime)


def text_of(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)


def dms_to(bot: Bot, user: str) -> list[Call]:
    return [c for c in bot.slack.calls_to("chat.postMessage", ok=True) if c.args["channel"] == user]
