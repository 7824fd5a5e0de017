"""The due-work runner recycles itself after a pass that loaded matplotlib (or another heavy
module), so a replica that drew a chart gives its ~41 MB back (issue 18), and the gunicorn
master starts the next runner at once, without the error and back-off of a crash."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import pytest

from bot import runner
from bot.runner import RECYCLE_WITHIN, Recycle, RunnerSupervisor
from domain.scheduling import Delivery

BUSY = Delivery(sent=3, failed=0, retrying=0)
QUIET = Delivery(sent=0, failed=0, retrying=1)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_runner_without_heavy_modules_never_recycles() -> None:
    recycle = Recycle(Clock())
    for delivered in (BUSY, QUIET, QUIET):
        recycle.after_tick(delivered, {"sqlalchemy", "slack_bolt"})
    assert not recycle.due.is_set()


def test_after_drawing_it_recycles_at_the_first_quiet_pass() -> None:
    clock = Clock()
    recycle = Recycle(clock)
    recycle.after_tick(BUSY, {"matplotlib"})  # the pass that drew and posted a picture
    assert not recycle.due.is_set()
    clock.now += 60
    recycle.after_tick(BUSY, {"matplotlib"})  # the burst goes on: it keeps matplotlib
    assert not recycle.due.is_set()
    clock.now += 60
    recycle.after_tick(QUIET, {"matplotlib"})
    assert recycle.due.is_set()


def test_a_runner_that_is_never_quiet_recycles_after_a_while() -> None:
    clock = Clock()
    recycle = Recycle(clock)
    recycle.after_tick(BUSY, {"openpyxl"})
    clock.now += RECYCLE_WITHIN - 1
    recycle.after_tick(BUSY, {"openpyxl"})
    assert not recycle.due.is_set()
    clock.now += 1
    recycle.after_tick(BUSY, {"openpyxl"})
    assert recycle.due.is_set()


def test_a_heavy_module_the_runner_started_with_is_no_reason() -> None:
    recycle = Recycle(Clock(), loaded={"matplotlib"})
    recycle.after_tick(QUIET, {"matplotlib"})
    assert not recycle.due.is_set()


def _child(recycles: bool) -> Any:
    def body(settings: Any, *, wake: Any, inherited: Any, parent: int, recycled: Any) -> None:
        if recycles:
            recycled[0] = 1
        os._exit(0)

    return body


def _wait_until_exited(supervisor: RunnerSupervisor) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(supervisor.pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        time.sleep(0.01)
    pytest.fail("the fake runner did not exit")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the master forks its runner")
def test_a_recycled_runner_is_started_again_at_once_and_a_crashed_one_after_a_pause(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.runner")
    supervisor = RunnerSupervisor(None, None)
    try:
        monkeypatch.setattr(runner, "run_runner_process", _child(recycles=True))
        supervisor.check([])
        first = supervisor.pid
        _wait_until_exited(supervisor)
        supervisor.check([])  # the master's next look: a new runner, no error
        assert supervisor.pid not in (0, first)
        assert "exited" not in caplog.text

        monkeypatch.setattr(runner, "run_runner_process", _child(recycles=False))
        _wait_until_exited(supervisor)  # that runner recycled too
        supervisor.check([])
        crashed = supervisor.pid
        assert crashed != 0
        _wait_until_exited(supervisor)
        supervisor.check([])  # this one ended without saying so: a crash
        assert supervisor.pid == 0
        assert f"due-work runner (pid {crashed}) exited" in caplog.text

        # Started again a second after that crash, then two seconds after the next one.
        real = time.monotonic
        ahead = [0.0]
        monkeypatch.setattr(time, "monotonic", lambda: real() + ahead[0])
        ahead[0] = runner.RESTART_DELAY + 0.05
        supervisor.check([])
        assert supervisor.pid != 0
        _wait_until_exited(supervisor)
        supervisor.check([])  # crashed again at once
        ahead[0] += runner.RESTART_DELAY + 0.05
        supervisor.check([])
        assert supervisor.pid == 0  # not after one second this time
        ahead[0] += runner.RESTART_DELAY
        supervisor.check([])
        assert supervisor.pid != 0
        _wait_until_exited(supervisor)
    finally:
        supervisor.wait(timeout=1)
