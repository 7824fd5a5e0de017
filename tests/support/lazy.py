"""Know when the bot has finished what a request started, instead of sleeping.

bolt runs lazy listeners (everything after the ack: replies, DMs, the outbox's delivery) on
the app's listener executor. ``LazyWork`` counts what was submitted there and has not ended
yet, so a test can wait until the bot is idle: every answer to what it sent has arrived.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any


class LazyWork:
    def __init__(self, executor: Executor) -> None:
        self._pending = 0
        self._changed = threading.Condition()
        submit = executor.submit

        def counting_submit(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
            with self._changed:
                self._pending += 1
            try:
                future = submit(fn, *args, **kwargs)
            except BaseException:
                self._ended()
                raise
            future.add_done_callback(lambda _future: self._ended())
            return future

        executor.submit = counting_submit  # type: ignore[method-assign]

    def _ended(self) -> None:
        with self._changed:
            self._pending -= 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Return once no lazy listener is queued or running (AssertionError after
        ``timeout``)."""
        with self._changed:
            idle = self._changed.wait_for(lambda: self._pending == 0, timeout)
        assert idle, f"lazy listeners still running after {timeout}s"
