"""The due-work runner's ticker (bot.scheduler.Ticker, in place of APScheduler): a pass every
interval, one at a time, a late pass followed by the next at once; stopped, no more."""

from __future__ import annotations

import threading

from bot.scheduler import Ticker
from tests.support.wait import eventually


def test_passes_run_one_at_a_time_and_stop_with_the_ticker() -> None:
    running = threading.Semaphore(1)
    overlapped: list[bool] = []
    passes: list[int] = []
    slow = threading.Event()

    def tick() -> None:
        overlapped.append(not running.acquire(blocking=False))
        try:
            passes.append(len(passes))
            if len(passes) == 2:
                slow.wait(1.0)  # a pass that outlasts several intervals
        finally:
            running.release()

    ticker = Ticker(tick, 0.02)
    ticker.start()
    eventually(lambda: len(passes) >= 2, timeout=10)
    slow.set()
    eventually(lambda: len(passes) >= 4, timeout=10)
    ticker.shutdown(wait=True)
    done = len(passes)
    assert not any(overlapped)
    threading.Event().wait(0.1)
    assert len(passes) == done  # stopped: no pass after shutdown


def test_a_pass_that_fails_does_not_stop_the_ticker() -> None:
    passes: list[int] = []

    def tick() -> None:
        passes.append(1)
        if len(passes) == 1:
            raise RuntimeError("a failing pass")

    ticker = Ticker(tick, 0.01)
    ticker.start()
    try:
        eventually(lambda: len(passes) >= 3, timeout=10)
    finally:
        ticker.shutdown(wait=True)
