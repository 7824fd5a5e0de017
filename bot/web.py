"""The WSGI application: Slack endpoints via bolt, plus /healthz, /metrics and the test clock.

Served by gunicorn in production (``samverkan serve``), never by bolt's development server.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from slack_bolt import App
from sqlalchemy import Engine

from domain.clock import AdjustableClock
from handlers.http import SlackHandler
from storage.db import ping

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

REQUESTS = Counter("samverkan_http_requests", "HTTP requests served", ["path", "status"])
LATENCY = Histogram(
    "samverkan_http_request_seconds",
    "Time to answer an HTTP request",
    ["path"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
SLACK_PATHS = ("/slack/events", "/slack/install", "/slack/oauth_redirect")
KNOWN_PATHS = (*SLACK_PATHS, "/healthz", "/metrics", "/_test/clock")


def _metrics_body() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


class WebApp:
    """Routes requests; everything Slack sends goes through ``App.dispatch`` (bolt)."""

    def __init__(
        self, app: App, engine: Engine, *, test_clock: AdjustableClock | None = None
    ) -> None:
        self.slack = SlackHandler(app)  # the form body decoded once, fast
        self.engine = engine
        self.test_clock = test_clock

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET")
        began = time.perf_counter()
        status_holder: list[str] = []

        def recording_start(status: str, headers: Any, exc_info: Any = None) -> Any:
            status_holder.append(status)
            return start_response(status, headers, exc_info)

        try:
            if path in SLACK_PATHS:
                return self.slack(environ, recording_start)
            if path == "/healthz" and method == "GET":
                ok = ping(self.engine)
                body = {"status": "ok" if ok else "database unavailable"}
                return _json(recording_start, "200 OK" if ok else "503 Service Unavailable", body)
            if path == "/metrics" and method == "GET":
                recording_start("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
                return [_metrics_body()]
            if path == "/_test/clock" and self.test_clock is not None and method == "POST":
                return self._set_clock(environ, recording_start)
            return _json(recording_start, "404 Not Found", {"error": "not found"})
        finally:
            label = path if path in KNOWN_PATHS else "other"
            code = status_holder[0].split(" ", 1)[0] if status_holder else "500"
            REQUESTS.labels(label, code).inc()
            LATENCY.labels(label).observe(time.perf_counter() - began)

    def _set_clock(self, environ: WSGIEnvironment, start: Callable[..., Any]) -> Iterable[bytes]:
        assert self.test_clock is not None
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            payload = json.loads(environ["wsgi.input"].read(length) or b"{}")
            instant = dt.datetime.fromisoformat(str(payload["now"]).replace("Z", "+00:00"))
            self.test_clock.set(instant)
        except (KeyError, ValueError, TypeError) as exc:
            return _json(start, "400 Bad Request", {"error": f"send {{'now': ISO instant}}: {exc}"})
        return _json(start, "200 OK", {"now": self.test_clock.now().isoformat()})


def _json(start: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
