"""Injected time. Domain code never calls ``datetime.now()``; it asks a :class:`Clock`."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Protocol


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A stored instant as an aware one: a naive value (as SQLite may give back) is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class AdjustableClock:
    """Starts at a given instant and runs at normal speed; ``set()`` moves it.

    Used for the test clock (``SAMVERKAN_TEST_CLOCK``) so schedules can be tested in real
    processes, and by unit tests (``frozen=True`` stops it from advancing).
    """

    def __init__(self, start: dt.datetime, *, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._frozen = frozen
        self.set(start)

    def set(self, instant: dt.datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("the clock needs an aware instant (with a UTC offset)")
        with self._lock:
            self._base = instant.astimezone(dt.UTC)
            self._mono = time.monotonic()

    def advance(self, delta: dt.timedelta) -> None:
        self.set(self.now() + delta)

    def now(self) -> dt.datetime:
        with self._lock:
            if self._frozen:
                return self._base
            return self._base + dt.timedelta(seconds=time.monotonic() - self._mono)
