"""The HTTP surface around bolt: /healthz, /metrics, the test clock, a database outage."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import make_server

import pytest

from bot.wiring import build_runtime
from domain.clock import AdjustableClock
from sandbox.webapi import SlackWebApiStub
from tests.conftest import SIGNING_SECRET, Bot, _QuietHandler, _ThreadingWSGIServer, make_settings
from tests.support.servers import serve_in_thread
from tests.support.slack_driver import SlackDriver


def get(url: str, *, method: str = "GET", body: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def serve(web: Any) -> tuple[str, Any]:
    server = make_server(
        "127.0.0.1", 0, web, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    serve_in_thread(server)
    return f"http://127.0.0.1:{server.server_port}", server


def test_healthz_answers_200_when_the_database_answers(bot: Bot) -> None:
    status, body = get(bot.url + "/healthz")
    assert status == 200
    assert json.loads(body)["status"] == "ok"


def test_metrics_are_prometheus_text(bot: Bot) -> None:
    get(bot.url + "/healthz")
    status, body = get(bot.url + "/metrics")
    assert status == 200
    assert 'samverkan_http_requests_total{path="/healthz",status="200"}' in body
    assert "samverkan_http_request_seconds_bucket" in body


def test_unknown_paths_are_404(bot: Bot) -> None:
    assert get(bot.url + "/nothing-here")[0] == 404


def test_the_test_clock_route_is_absent_without_the_flag(bot: Bot) -> None:
    status, _ = get(bot.url + "/_test/clock", method="POST", body=b'{"now": "2027-01-01T00:00Z"}')
    assert status == 404


@pytest.fixture
def down(slack: SlackWebApiStub) -> Iterator[tuple[str, SlackDriver]]:
    """A bot whose PostgreSQL does not answer (nothing listens on port 1)."""
    settings = make_settings("postgresql://postgres@127.0.0.1:1/none", slack.base_url)
    runtime = build_runtime(settings)
    url, server = serve(runtime.web)
    yield url, SlackDriver(url, SIGNING_SECRET, response_url_base=slack.response_url_base)
    server.shutdown()
    server.server_close()


def test_a_database_outage_gives_503_and_a_friendly_try_again(
    down: tuple[str, SlackDriver], slack: SlackWebApiStub
) -> None:
    url, driver = down
    assert get(url + "/healthz")[0] == 503
    response = driver.command("", user="U1")
    assert response.status == 200  # still acked at once
    reply = slack.wait_for("response_url")[0]
    text = json.dumps(reply.args, ensure_ascii=False)
    assert "Databasen svarar inte just nu" in text
    assert "Traceback" not in text


def test_the_test_clock_moves_with_the_flag(slack: SlackWebApiStub, database_url: str) -> None:
    settings = make_settings(
        database_url,
        slack.base_url,
        allow_test_clock=True,
        test_clock="2026-12-03T06:59:00Z",
        host="127.0.0.1",
    )
    runtime = build_runtime(settings)
    assert isinstance(runtime.clock, AdjustableClock)
    assert runtime.clock.now() - dt.datetime(2026, 12, 3, 6, 59, tzinfo=dt.UTC) < dt.timedelta(
        minutes=1
    )
    url, server = serve(runtime.web)
    driver = SlackDriver(url, SIGNING_SECRET)
    try:
        answer = driver.set_clock("2027-03-28T00:30:00Z")
        assert answer.status == 200
        assert answer.json()["now"].startswith("2027-03-28T00:30")
        assert runtime.clock.now().date() == dt.date(2027, 3, 28)
        assert driver.set_clock("tomorrow").status == 400
    finally:
        server.shutdown()
        server.server_close()
        runtime.engine.dispose()
