"""The WSGI application: Slack endpoints via bolt, plus /healthz, /metrics and the test clock.

Served by gunicorn in production (``samverkan serve``), never by bolt's development server.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import hmac
import io
import json
import logging
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
from sqlalchemy.orm import Session, sessionmaker

from domain import audit
from domain.clock import AdjustableClock
from handlers.http import CHECKED_BODY, SIGNED, SlackHandler
from handlers.payload import MALFORMED, checked_body
from storage.db import ping, transaction
from storage.models import AuditAction

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
SIGNATURE_MAX_AGE = 300  # seconds, as Slack (and bolt) allow
MAX_BODY = 1_000_000  # Slack's payloads are far smaller; a bigger body is not from Slack
log = logging.getLogger(__name__)


class _SizedFilesCollector(multiprocess.MultiProcessCollector):
    """prometheus_client's multi-process collector, without the files another process has
    created and not yet sized: such a file holds no values, and reading it fails with a
    ``struct.error`` (prometheus/client_python#1199), so a scrape while a worker or the
    due-work runner starts answered 500. A file is sized right after it is created and stays
    so; one that is gone (a dead process's live gauge) is skipped as the collector does."""

    def collect(self) -> Any:
        files = []
        for name in glob.glob(os.path.join(self._path, "*.db")):
            try:
                if os.path.getsize(name) > 0:
                    files.append(name)
            except FileNotFoundError:
                continue
        return self.merge(files, accumulate=True)  # type: ignore[no-untyped-call]


def _metrics_body() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _SizedFilesCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


class WebApp:
    """Routes requests; everything Slack sends goes through ``App.dispatch`` (bolt).

    Requests to ``/slack/events`` that are signed but not shaped like anything Slack sends
    get 400 before bolt reads them; unsigned ones get 401. Nothing a request carried is
    logged, and no failure answers with (or logs) a traceback that holds data.
    """

    def __init__(
        self,
        app: App,
        engine: Engine,
        *,
        signing_secret: str = "",
        test_clock: AdjustableClock | None = None,
        sessions: sessionmaker[Session] | None = None,
    ) -> None:
        self.slack = SlackHandler(app)  # the form body decoded once, fast
        self.engine = engine
        self.signing_secret = signing_secret.encode()
        self.test_clock = test_clock
        self.sessions = sessions

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET")
        began = time.perf_counter()
        status_holder: list[str] = []

        def recording_start(status: str, headers: Any, exc_info: Any = None) -> Any:
            status_holder.append(status)
            return start_response(status, headers, exc_info)

        label = path if path in KNOWN_PATHS else "other"
        try:
            if path == "/slack/events" and method == "POST":
                return self._slack_event(environ, recording_start)
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
        except Exception:
            log.exception("request to %s failed", label)
            if status_holder:
                raise  # the answer has begun; the server closes the connection
            return _json(recording_start, "500 Internal Server Error", {"error": "try again"})
        finally:
            code = status_holder[0].split(" ", 1)[0] if status_holder else "500"
            REQUESTS.labels(label, code).inc()
            LATENCY.labels(label).observe(time.perf_counter() - began)

    def _body(self, environ: WSGIEnvironment) -> bytes | None:
        """The request body (also put back for bolt), or None when it is too big."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            return None
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        return body

    def _signed(self, environ: WSGIEnvironment, body: bytes) -> bool:
        """Slack's scheme: HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing secret,
        the timestamp within five minutes of real time (not the test clock)."""
        timestamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""))
        signature = str(environ.get("HTTP_X_SLACK_SIGNATURE", ""))
        if not self.signing_secret or not timestamp.isdigit():
            return False
        if abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE:
            return False
        digest = hmac.new(
            self.signing_secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(f"v0={digest}", signature)

    def _slack_event(self, environ: WSGIEnvironment, start: Callable[..., Any]) -> Iterable[bytes]:
        body = self._body(environ)
        if body is None:
            return _json(start, "413 Content Too Large", {"error": "too large"})
        # Without a secret (Socket Mode needs none) nothing here can be Slack's: bolt's own
        # check would fail with an error per request, logged with its traceback.
        if not self._signed(environ, body):
            return _json(start, "401 Unauthorized", {"error": "invalid signature"})
        environ[SIGNED] = True  # bolt need not check it again
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        problem, parsed = (
            ("not UTF-8", None) if text is None else checked_body(text, environ.get("CONTENT_TYPE"))
        )
        if parsed is not None and text is not None:
            environ[CHECKED_BODY] = (text, parsed)  # bolt's body: not decoded again
        if problem is not None:
            log.warning("refused a malformed Slack request (%s)", problem)
            return _json(start, "400 Bad Request", MALFORMED)
        return self.slack(environ, start)

    def _set_clock(self, environ: WSGIEnvironment, start: Callable[..., Any]) -> Iterable[bytes]:
        """Move the test clock: only for a request signed with the signing secret (as Slack
        signs its requests), and every move is logged and written to the audit log."""
        assert self.test_clock is not None
        body = self._body(environ)
        if body is None or not self._signed(environ, body):
            log.warning("refused an unsigned request to move the test clock")
            return _json(start, "401 Unauthorized", {"error": "sign the request"})
        try:
            payload = json.loads(body or b"{}")
            instant = dt.datetime.fromisoformat(str(payload["now"]).replace("Z", "+00:00"))
            if instant.tzinfo is None:
                raise ValueError("no UTC offset")
        except (KeyError, ValueError, TypeError):
            return _json(
                start, "400 Bad Request", {"error": "send {'now': ISO instant with an offset}"}
            )
        before = self.test_clock.now()
        if self.sessions is not None:
            # Written before the move, so a move the log cannot record does not happen.
            with transaction(self.sessions) as session:
                audit.record(
                    session,
                    self.test_clock,
                    actor="test_clock",
                    action=AuditAction.UPDATE,
                    object_type="test_clock",
                    object_ref="clock",
                    detail={
                        "from": before.isoformat(),
                        "to": instant.astimezone(dt.UTC).isoformat(),
                    },
                )
        self.test_clock.set(instant)
        after = self.test_clock.now()
        log.warning("test clock moved from %s to %s", before.isoformat(), after.isoformat())
        return _json(start, "200 OK", {"now": after.isoformat()})


def _json(start: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
