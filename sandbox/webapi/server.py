"""The HTTP side: one request handler class per stand-in (``/api/<method>``, ``/upload/<id>``,
``/response/<...>``), the form and multipart decoding, and ``python -m sandbox.webapi``."""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import sys
import time
from collections.abc import Mapping
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, urlsplit

from sandbox.webapi.calls import JSON_FIELDS, Call

if TYPE_CHECKING:
    from sandbox.webapi.stub import SlackWebApiStub


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


def make_handler(stub: SlackWebApiStub) -> type[BaseHTTPRequestHandler]:
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
    from sandbox.webapi.stub import SlackWebApiStub

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
