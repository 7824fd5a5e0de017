"""`samverkan serve` as a real process (gunicorn workers) against the Web API stand-in."""

from __future__ import annotations

import os
import re
import signal
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.webapi import SlackWebApiStub
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.support.processes import Served, serve, stop
from tests.support.slack_driver import SlackDriver
from tests.support.wait import eventually

pytestmark = pytest.mark.slow  # real `samverkan serve` processes


@pytest.fixture
def replica(database_url: str, slack: SlackWebApiStub, tmp_path: Path) -> Iterator[Served]:
    settings = {
        "SAMVERKAN_DATABASE_URL": database_url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SAMVERKAN_SLACK_API_URL": slack.base_url,
        "SAMVERKAN_WEB_CONCURRENCY": "2",
        "SAMVERKAN_WEB_THREADS": "4",
        "SAMVERKAN_SCHEDULER_INTERVAL": "0.25",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    served = serve(settings, tmp_path)
    try:
        yield served
    finally:
        stop(served.proc)


@pytest.fixture
def served(replica: Served, slack: SlackWebApiStub) -> tuple[str, SlackDriver]:
    driver = SlackDriver(replica.url, SIGNING_SECRET, response_url_base=slack.response_url_base)
    return replica.url, driver


def metrics(url: str) -> str:
    with urllib.request.urlopen(url + "/metrics", timeout=5) as response:
        return str(response.read().decode())


def metric(url: str, name: str) -> float:
    found = re.search(rf"^{name} ([0-9.e+-]+)$", metrics(url), re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_a_replica_with_two_workers_runs_one_due_work_runner_apart_from_them(
    replica: Served,
) -> None:
    # The scheduler ticks (every second here), in one process that is not a worker.
    eventually(lambda: metric(replica.url, "samverkan_due_work_ticks_total") >= 2, timeout=30)
    assert metric(replica.url, "samverkan_due_work_runners") == 1.0
    assert replica.output.count("Booting worker with pid") == 2
    assert replica.output.count("due-work runner started") == 1
    (runner,) = re.findall(r"due-work runner started \(pid (\d+)\)", replica.output.text())
    workers = re.findall(r"Booting worker with pid: (\d+)", replica.output.text())
    assert runner not in workers
    if sys.platform == "linux":  # operators (ps, top) and bench.memory tell it by its name
        assert Path(f"/proc/{runner}/comm").read_text().strip() == "samverkan-due"
        assert Path(f"/proc/{workers[0]}/comm").read_text().strip() != "samverkan-due"

    # Killed, it is started again (the master notices within a second or two).
    os.kill(int(runner), signal.SIGKILL)
    eventually(lambda: replica.output.count("due-work runner started") == 2, timeout=30)
    eventually(lambda: metric(replica.url, "samverkan_due_work_runners") == 1.0, timeout=10)

    stop(replica.proc)
    assert "due-work runner stopped" in replica.output.text()


def test_a_replica_runs_one_request_worker_by_default_and_shows_its_runners_metrics(
    database_url: str,
    slack: SlackWebApiStub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 18: one request worker per replica unless SAMVERKAN_WEB_CONCURRENCY says more
    # (scale with replicas); its /metrics still show the due-work runner's, without the
    # operator having to set PROMETHEUS_MULTIPROC_DIR.
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    settings = {
        "SAMVERKAN_DATABASE_URL": database_url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SAMVERKAN_SLACK_API_URL": slack.base_url,
        "SAMVERKAN_SCHEDULER_INTERVAL": "0.25",
    }
    replica = serve(settings, tmp_path)
    try:
        eventually(lambda: metric(replica.url, "samverkan_due_work_ticks_total") >= 2, timeout=30)
        assert metric(replica.url, "samverkan_due_work_runners") == 1.0
        assert replica.output.count("Booting worker with pid") == 1
        assert replica.output.count("due-work runner started") == 1
        if sys.platform == "linux":  # the small master of a one-worker replica, with -OO
            (worker,) = re.findall(r"Booting worker with pid: (\d+)", replica.output.text())
            master = Path(f"/proc/{replica.proc.pid}/cmdline").read_text().split("\0")
            assert "bot.master" in master and "-OO" in master and "no_debug_ranges" in master
            # The worker (forked by it) runs without docstrings either.
            assert "-OO" in Path(f"/proc/{worker}/cmdline").read_text().split("\0")
    finally:
        stop(replica.proc)


def test_a_replica_with_one_worker_has_a_master_without_the_app(
    database_url: str, slack: SlackWebApiStub, tmp_path: Path
) -> None:
    # One request worker shares nothing with its master, so `serve` execs a master that
    # imports gunicorn only (same pid); the worker and the runner read the settings.
    settings = {
        "SAMVERKAN_DATABASE_URL": database_url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SAMVERKAN_SLACK_API_URL": slack.base_url,
        "SAMVERKAN_WEB_CONCURRENCY": "1",
        "SAMVERKAN_WEB_THREADS": "4",
        "SAMVERKAN_SCHEDULER_INTERVAL": "0.25",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    replica = serve(settings, tmp_path)
    try:
        eventually(lambda: metric(replica.url, "samverkan_due_work_ticks_total") >= 2, timeout=30)
        assert replica.output.count("Booting worker with pid") == 1
        (runner,) = re.findall(r"due-work runner started \(pid (\d+)\)", replica.output.text())
        (worker,) = re.findall(r"Booting worker with pid: (\d+)", replica.output.text())
        driver = SlackDriver(replica.url, SIGNING_SECRET, response_url_base=slack.response_url_base)
        assert driver.command("hjälp", user="U1").status == 200
        slack.wait_for("response_url", count=1, timeout=10)
        if sys.platform == "linux":
            master = replica.proc.pid
            assert "bot.master" in Path(f"/proc/{master}/cmdline").read_text()

            def maps(pid: int | str) -> str:
                return Path(f"/proc/{pid}/maps").read_text()

            # pydantic's compiled core: loaded by the settings, so by the worker and the
            # runner, never by the master.
            assert "pydantic_core" not in maps(master)
            assert "pydantic_core" in maps(worker)
            assert "pydantic_core" in maps(runner)
            assert Path(f"/proc/{runner}/comm").read_text().strip() == "samverkan-due"
        os.kill(int(runner), signal.SIGKILL)  # started again, by the small master too
        eventually(lambda: replica.output.count("due-work runner started") == 2, timeout=30)
    finally:
        stop(replica.proc)
    assert "due-work runner stopped" in replica.output.text()


def test_serve_answers_a_signed_help_command_within_slacks_three_seconds(
    served: tuple[str, SlackDriver], slack: SlackWebApiStub
) -> None:
    url, driver = served
    in_ack = 0
    for sent in range(1, 7):  # several requests, spread over the workers
        began = time.monotonic()
        response = driver.command("hjälp", user="U1")
        assert response.status == 200
        assert time.monotonic() - began < 3.0  # Slack's acknowledgement limit
        if response.body:  # once the user's locale is known the help comes in the ack
            assert "Samverkan – vad jag kan göra" in str(response.json())
            in_ack += 1
        else:
            # The reply after the ack, which also learnt the user's locale in that worker:
            # waited for, so the next request to the same worker finds it (under load the
            # six could otherwise all arrive before any worker had looked it up).
            slack.wait_for("response_url", count=sent - in_ack, timeout=10)
    assert in_ack >= 4  # two workers: each looks the locale up once at most
    replies = slack.wait_for("response_url", count=6 - in_ack)
    assert all("Samverkan – vad jag kan göra" in str(r.args) for r in replies)
    with urllib.request.urlopen(url + "/metrics", timeout=5) as response:
        metrics = response.read().decode()
        server = response.headers.get("Server", "")
    assert "samverkan_http_requests_total" in metrics
    assert "gunicorn" in server  # a production server, not bolt's development server
