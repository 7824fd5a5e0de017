"""The due-work scheduler keeps the log for what matters: a pass that outlasts the interval
(a Thursday's agendas) makes APScheduler skip the ticks meanwhile, and say so at WARNING on
every skipped tick; that line is quieted like its per-tick INFO lines (issue 18, item 8)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobEvent

from bot.scheduler import start_scheduler
from tests.conftest import Bot


def test_a_pass_that_outlasts_the_interval_skips_ticks_without_a_line_per_tick(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    skipped = threading.Event()

    def long_pass(_delivered: Any) -> None:  # the pass goes on until a tick was skipped
        skipped.wait(10)

    scheduler = start_scheduler(bot.runtime, interval_seconds=0.1, after_tick=long_pass)

    def on_skip(_event: JobEvent) -> None:
        skipped.set()

    scheduler.add_listener(on_skip, EVENT_JOB_MAX_INSTANCES)
    try:
        assert skipped.wait(10), "APScheduler skipped no tick while the pass ran"
    finally:
        scheduler.shutdown(wait=True)

    # The log shows what bot.logs leaves of a library's line (cut before its first detail:
    # "Execution of job"), so look at every line APScheduler logged, whatever its text.
    lines = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert not [line for line in lines if line[0].startswith("apscheduler.executors")]
    assert not [line for line in lines if line[0].startswith("apscheduler") and line[1] != "INFO"]
