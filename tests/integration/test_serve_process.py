"""`samverkan serve` as a real process (gunicorn workers) against the Web API stand-in."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.webapi import SlackWebApiStub
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.support.processes import free_port, start_samverkan, stop
from tests.support.slack_driver import SlackDriver


@pytest.fixture
def served(
    database_url: str, slack: SlackWebApiStub, tmp_path: Path
) -> Iterator[tuple[str, SlackDriver]]:
    port = free_port()
    settings = {
        "SAMVERKAN_DATABASE_URL": database_url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SAMVERKAN_SLACK_API_URL": slack.base_url,
        "SAMVERKAN_PORT": str(port),
        "SAMVERKAN_HOST": "127.0.0.1",
        "SAMVERKAN_WEB_CONCURRENCY": "2",
        "SAMVERKAN_WEB_THREADS": "4",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    proc = start_samverkan("serve", settings, tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read() if proc.stdout else ""
                pytest.fail(f"samverkan serve did not come up:\n{out}")
            time.sleep(0.1)
        yield url, SlackDriver(url, SIGNING_SECRET, response_url_base=slack.response_url_base)
    finally:
        stop(proc)


def test_serve_answers_a_signed_help_command_within_slacks_three_seconds(
    served: tuple[str, SlackDriver], slack: SlackWebApiStub
) -> None:
    url, driver = served
    in_ack = 0
    for _ in range(6):  # several requests, spread over the workers
        began = time.monotonic()
        response = driver.command("hjälp", user="U1")
        assert response.status == 200
        assert time.monotonic() - began < 3.0  # Slack's acknowledgement limit
        if response.body:  # once the user's locale is known the help comes in the ack
            assert "Samverkan – vad jag kan göra" in str(response.json())
            in_ack += 1
    assert in_ack >= 1
    replies = slack.wait_for("response_url", count=6 - in_ack)
    assert all("Samverkan – vad jag kan göra" in str(r.args) for r in replies)
    with urllib.request.urlopen(url + "/metrics", timeout=5) as response:
        metrics = response.read().decode()
        server = response.headers.get("Server", "")
    assert "samverkan_http_requests_total" in metrics
    assert "gunicorn" in server  # a production server, not bolt's development server
