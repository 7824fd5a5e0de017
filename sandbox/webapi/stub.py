"""The stand-in as tests use it: :class:`SlackWebApiStub` serves the emulated Web API over
HTTP on 127.0.0.1, records every call, injects faults and lets tests wait for calls."""

from __future__ import annotations

import contextlib
import math
import socket
import socketserver
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from sandbox.webapi.calls import Call, Violation, _Fault
from sandbox.webapi.emulation import SlackEmulation
from sandbox.webapi.server import make_handler

POLL_INTERVAL = 0.05
"""Seconds between the server loop's looks for a shutdown request when nothing wakes it
(the standard library's 0.5 s; ``shutdown_promptly`` wakes it at once)."""


def shutdown_promptly(server: socketserver.BaseServer) -> None:
    """``server.shutdown()`` without waiting for the loop's next look: the loop sees the
    request only when its ``select()`` returns, so connections to the server wake it until it
    has stopped (each is accepted and closed unread). Every test's teardown stops two
    servers, which waited half a poll interval on average each."""
    stopper = threading.Thread(target=server.shutdown, name="shutdown", daemon=True)
    stopper.start()
    address: Any = server.server_address
    host, port = str(address[0]), int(address[1])
    while stopper.is_alive():
        with contextlib.suppress(OSError):
            socket.create_connection((host, port), timeout=1).close()
        stopper.join(0.01)


class SlackWebApiStub(SlackEmulation):
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
        super().__init__(
            require_include_locale=require_include_locale, strict_triggers=strict_triggers
        )
        self.host = host
        # Slack allows about one chat.postMessage per second per channel; with this set the
        # stand-in answers faster posts to the same channel with 429 and Retry-After.
        self.channel_post_interval = channel_post_interval
        self._last_post: dict[str, float] = {}
        self.delay_seconds = delay_seconds
        self.verbose = verbose
        self._requested_port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._calls: list[Call] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self.max_calls = max_calls
        self._listeners: list[Callable[[Call], None]] = []

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
            shutdown_promptly(server)
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def _bind(self) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer((self.host, self._requested_port), make_handler(self))
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

    def refuse_user(self, user_id: str, error: str) -> None:
        """Answer ``users.info`` about ``user_id`` with ``error`` from now on (an ordinary API
        error such as ``user_not_visible``; the other users are answered as before)."""
        with self._cond:
            self._refused_users[user_id] = error

    def refuse_dm(self, user_id: str, error: str = "user_not_found") -> None:
        """Answer ``chat.postMessage`` to ``user_id`` (or their DM) with ``error`` from now
        on, as Slack answers a DM to a deactivated or deleted account."""
        with self._cond:
            self._refused_dms[user_id] = error

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
            self._forget()

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
        self, method: str, count: int = 1, timeout: float = 30.0, *, ok: bool | None = None
    ) -> list[Call]:
        """Block until at least ``count`` calls to ``method`` arrived; return all of them.

        It returns as soon as the calls arrive (a condition, no polling), so ``timeout`` only
        bounds how long a failing test hangs: generous, since on a loaded machine (two cores
        at load ~19 under a full run beside other work) what follows an ack took over 5 s."""
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
