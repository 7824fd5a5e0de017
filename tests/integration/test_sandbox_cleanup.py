"""`samverkan sandbox` keeps its database in a temporary directory and removes it on exit:
nothing typed in the sandbox outlives the session."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest

from sandbox.demo import PEOPLE
from tests.support.processes import free_port, start_samverkan, stop, wait_healthy

pytestmark = pytest.mark.slow


def test_the_temporary_database_is_removed_when_the_sandbox_stops(tmp_path: Path) -> None:
    port = free_port()
    proc = start_samverkan(
        "sandbox", {"SAMVERKAN_PORT": str(port), "SAMVERKAN_SANDBOX_BROWSER": "0"}, tmp_path
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        found = re.search(r"database in (\S+)", first)
        assert found, first
        workdir = Path(found.group(1))
        assert wait_healthy(f"http://127.0.0.1:{port}", timeout=90)
        assert (workdir / "sandbox.db").exists()
    finally:
        stop(proc)
    rest = proc.stdout.read() if proc.stdout else ""
    assert not workdir.exists(), rest[-2000:]
    assert f"removed {workdir}" in rest


@pytest.mark.parametrize("to", ["sandbox", "terminal"])
def test_ctrl_c_stops_the_sandbox_cleanly(tmp_path: Path, to: str) -> None:
    """Ctrl-C is how a visitor stops the sandbox: a short line, no traceback, nothing left,
    exit code 0. A terminal sends it to the whole foreground process group; the bot the
    sandbox started must not end on it by itself (its exit raced the sandbox's stop)."""
    port = free_port()
    proc = start_samverkan(
        "sandbox",
        {"SAMVERKAN_PORT": str(port), "SAMVERKAN_SANDBOX_BROWSER": "0"},
        tmp_path,
        own_group=True,
    )
    try:
        assert proc.stdout is not None
        found = re.search(r"database in (\S+)", proc.stdout.readline())
        assert found
        workdir = Path(found.group(1))
        assert wait_healthy(f"http://127.0.0.1:{port}", timeout=90)
        if to == "terminal":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        stop(proc)
    rest = proc.stdout.read() if proc.stdout else ""
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest, rest[-2000:]
    assert "stopped" in rest
    assert not workdir.exists()


@pytest.mark.parametrize("again_after", [0.05, 0.5])
def test_a_second_ctrl_c_while_stopping_stops_it_quietly(
    tmp_path: Path, again_after: float
) -> None:
    """An impatient visitor presses Ctrl-C again while the sandbox stops (as the page's server
    shuts down, or while the bot is being stopped): it still ends with the short line, no
    traceback, and nothing left behind. Before, uvicorn printed the traceback of its
    cancelled lifespan task."""
    port = free_port()
    proc = start_samverkan(
        "sandbox",
        {"SAMVERKAN_PORT": str(port), "SAMVERKAN_SANDBOX_BROWSER": "0"},
        tmp_path,
        own_group=True,
    )
    try:
        assert proc.stdout is not None
        found = re.search(r"database in (\S+)", proc.stdout.readline())
        assert found
        workdir = Path(found.group(1))
        assert wait_healthy(f"http://127.0.0.1:{port}", timeout=90)
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(again_after)
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.3)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # and a third time
        assert proc.wait(timeout=30) in (0, 130)
    finally:
        stop(proc)
    rest = proc.stdout.read() if proc.stdout else ""
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest, rest[-2000:]
    assert "stopped" in rest
    assert not workdir.exists()


def test_one_demo_person_has_slack_in_english() -> None:
    english = [p for p in PEOPLE if p.locale.startswith("en")]
    assert len(english) == 1 and all(p.locale.startswith("sv") for p in PEOPLE if p not in english)
