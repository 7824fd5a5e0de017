"""When the database refuses a write, on every surface where a user types text, the user gets
a friendly "try again" (a modal keeps everything typed: the error is on a field) and nothing
they typed reaches any log line or the server's output — logging captured at DEBUG in the
process, and the whole stdout/stderr of a real `samverkan serve` at SAMVERKAN_LOG_LEVEL=DEBUG.

The database refuses with a CHECK constraint on PostgreSQL, whose error repeats the whole
row ("Failing row contains (…)"), and with triggers on SQLite.
"""

from __future__ import annotations

import json
import logging
import os
import random
import string
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sandbox.webapi import SlackWebApiStub
from tests.conftest import BOT_TOKEN, DEFAULT_NOW, SIGNING_SECRET, Bot
from tests.support.processes import LISTENING, ROOT, stop, wait_healthy
from tests.support.slack_driver import Response, SlackDriver
from tests.support.surfaces import (
    SURFACES,
    Surface,
    World,
    allow_writes,
    build_world,
    refuse_writes,
)
from tests.support.wait import eventually

TRY_AGAIN = "försök igen"


def typed_text(surface: Surface) -> str:
    # A marker no code or message contains, so any occurrence in the output is a leak. Letters
    # only: ten hex digits can all be digits and read as a personnummer, which the form
    # refuses before the write this test is about.
    marker = "".join(random.choices(string.ascii_lowercase, k=12))
    return f"Hemligt om {surface.name.split()[0]} {marker}"


def assert_friendly(world: World, surface: Surface, answer: Response, before: int) -> None:
    assert answer.status == 200, (surface.name, answer.status, answer.body)
    if surface.modal:
        body = answer.json()
        assert body is not None and body.get("response_action") == "errors", (surface.name, body)
        assert any(TRY_AGAIN in message.lower() for message in body["errors"].values()), body
    else:
        reply = world.slack.wait_for("response_url", count=before + 1, timeout=15)[-1]
        assert TRY_AGAIN in json.dumps(reply.args, ensure_ascii=False).lower(), surface.name


def drive_every_surface(
    world: World, sessions: sessionmaker[Session], settle: Callable[[], None]
) -> list[str]:
    """Submit every write surface while the database refuses writes; ``settle`` returns once
    the lazy listeners after the acks have finished their (failing) work."""
    opened = {surface.name: surface.open(world) for surface in SURFACES}
    typed: list[str] = []
    refuse_writes(sessions)
    try:
        for surface in SURFACES:
            text = typed_text(surface)
            typed.append(text)
            before = world.slack.count("response_url")
            answer = surface.submit(world, opened[surface.name], text)
            assert_friendly(world, surface, answer, before)
        settle()
    finally:
        allow_writes(sessions)
    return typed


def test_database_errors_on_every_write_surface_log_nothing_typed(
    bot: Bot, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    world = build_world(World(bot.driver, bot.slack, bot.sessions, tick=lambda: bot.run_due_work()))
    typed = drive_every_surface(world, bot.sessions, bot.wait_idle)
    out, err = capfd.readouterr()
    output = caplog.text + out + err
    # The refusals were logged (so the scan had something to look at), without content.
    assert "database refused a write" in caplog.text
    leaked = [text for text in typed if text in output]
    assert leaked == [], output[-3000:]
    assert "Failing row" not in output and "writes refused" not in output


@pytest.mark.slow
def test_a_real_server_at_debug_prints_nothing_typed_when_the_database_refuses(
    database_url: str,
    sessions: sessionmaker[Session],
    slack: SlackWebApiStub,
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "serve.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMVERKAN_"))},
        "PYTHONPATH": str(ROOT),
        "SAMVERKAN_DATABASE_URL": database_url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SAMVERKAN_SLACK_API_URL": slack.base_url,
        "SAMVERKAN_HOST": "127.0.0.1",
        "SAMVERKAN_PORT": "0",  # gunicorn picks a free one and logs it
        "SAMVERKAN_WEB_CONCURRENCY": "1",
        "SAMVERKAN_SCHEDULER_INTERVAL": "1",
        "SAMVERKAN_LOG_LEVEL": "DEBUG",
        "SAMVERKAN_ALLOW_TEST_CLOCK": "1",
        "SAMVERKAN_TEST_CLOCK": DEFAULT_NOW.isoformat(),
    }
    with log_path.open("w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve"],
            env=env,
            cwd=tmp_path,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            listening = eventually(lambda: LISTENING.search(log_path.read_text()), timeout=60)
            assert listening is not None
            url = f"http://127.0.0.1:{listening.group(1)}"
            assert wait_healthy(url, timeout=60), log_path.read_text()[-2000:]
            driver = SlackDriver(url, SIGNING_SECRET, response_url_base=slack.response_url_base)
            world = build_world(World(driver, slack, sessions, tick=lambda: time.sleep(1)))
            # Another process: its listeners cannot be counted, so give them a second.
            typed = drive_every_surface(world, sessions, lambda: time.sleep(1))
        finally:
            stop(proc)
    output = log_path.read_text()
    assert "DEBUG" in output  # the server really logged at DEBUG
    assert "database refused a write" in output
    leaked = [text for text in typed if text in output]
    assert leaked == [], output[-3000:]
    assert "Failing row" not in output and "writes refused" not in output
