"""`samverkan sandbox` keeps its database in a temporary directory and removes it on exit:
nothing typed in the sandbox outlives the session."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from sandbox.demo import PEOPLE
from tests.support.processes import start_sandbox, stop

pytestmark = pytest.mark.slow


def test_the_temporary_database_is_removed_when_the_sandbox_stops(tmp_path: Path) -> None:
    sandbox = start_sandbox(tmp_path)
    workdir = sandbox.workdir
    try:
        assert (workdir / "sandbox.db").exists()
    finally:
        stop(sandbox.proc)
    rest = sandbox.rest()
    assert not workdir.exists(), rest[-2000:]
    assert f"removed {workdir}" in rest


@pytest.mark.parametrize("to", ["sandbox", "terminal"])
def test_ctrl_c_stops_the_sandbox_cleanly(tmp_path: Path, to: str) -> None:
    """Ctrl-C is how a visitor stops the sandbox: a short line, no traceback, nothing left,
    exit code 0. A terminal sends it to the whole foreground process group; the bot the
    sandbox started must not end on it by itself (its exit raced the sandbox's stop)."""
    sandbox = start_sandbox(tmp_path, own_group=True)
    proc, workdir = sandbox.proc, sandbox.workdir
    try:
        if to == "terminal":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        stop(proc)
    rest = sandbox.rest()
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
    sandbox = start_sandbox(tmp_path, own_group=True)
    proc, workdir = sandbox.proc, sandbox.workdir
    try:
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(again_after)
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.3)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # and a third time
        assert proc.wait(timeout=30) in (0, 130)
    finally:
        stop(proc)
    rest = sandbox.rest()
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest, rest[-2000:]
    assert "stopped" in rest
    assert not workdir.exists()


def test_one_demo_person_has_slack_in_english() -> None:
    english = [p for p in PEOPLE if p.locale.startswith("en")]
    assert len(english) == 1 and all(p.locale.startswith("sv") for p in PEOPLE if p not in english)


def test_a_sandbox_that_stops_before_it_is_ready_fails_the_test_at_once_saying_why(
    tmp_path: Path,
) -> None:
    """A sandbox that ends before it answers /healthz (here: its port is taken, as by another
    test's process) fails the test as soon as it ends, with its exit code and its output.
    Before, the test polled /healthz for 90 s and said only that it did not answer."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(pytest.fail.Exception) as failed:
            start_sandbox(tmp_path, {"SAMVERKAN_PORT": str(port)})
    assert time.monotonic() - started < 45
    message = str(failed.value)
    assert "exit code 2" in message, message
    assert f"port {port} is in use" in message, message
