"""Run `samverkan` as a real process, with a clean environment, and stop it again.

Tests that start one are marked ``slow`` (``-m "not slow"`` leaves them out locally; CI runs
them). ``serve`` lets the server pick its port (``SAMVERKAN_PORT=0``) and reads it back from
gunicorn's "Listening at" line, so no other process can take the port between a test
choosing it and the server binding it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"Listening at: http://[^:\s]+:(\d+) ")


def free_port() -> int:
    """A port free right now (another process may still take it before it is used: prefer
    ``serve``, which lets the server bind port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Output:
    """What a process wrote (stdout and stderr), read continuously so that a chatty process
    never blocks on a full pipe."""

    lines: list[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def text(self) -> str:
        with self.changed:
            return "".join(self.lines)

    def count(self, needle: str) -> int:
        with self.changed:
            return sum(needle in line for line in self.lines)

    def wait_for(self, pattern: re.Pattern[str], *, timeout: float) -> re.Match[str] | None:
        deadline = time.monotonic() + timeout
        seen = 0
        with self.changed:
            while True:
                for line in self.lines[seen:]:
                    found = pattern.search(line)
                    if found:
                        return found
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)


def drain(proc: subprocess.Popen[str]) -> Output:
    output = Output()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with output.changed:
                output.lines.append(line)
                output.changed.notify_all()
        with output.changed:
            output.lines.append("")
            output.changed.notify_all()

    threading.Thread(target=read, name=f"output-{proc.pid}", daemon=True).start()
    return output


@dataclass
class Served:
    """A running ``samverkan serve``."""

    proc: subprocess.Popen[str]
    port: int
    output: Output

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def serve(settings: dict[str, str], cwd: Path, *, timeout: float = 40.0) -> Served:
    """``samverkan serve`` on a port it picks itself; returns once /healthz answers (the
    process is stopped and the test fails with its output otherwise)."""
    (served,) = serve_together([(settings, cwd)], timeout=timeout)
    return served


def serve_together(
    replicas: list[tuple[dict[str, str], Path]], *, timeout: float = 40.0
) -> list[Served]:
    """Several ``samverkan serve`` processes (``(settings, cwd)`` each), started at once so
    that they start up side by side, not one after the other; returns once every one's
    /healthz answers (all are stopped and the test fails otherwise)."""
    import pytest

    procs = [
        start_samverkan(
            "serve", {"SAMVERKAN_HOST": "127.0.0.1", **settings, "SAMVERKAN_PORT": "0"}, cwd
        )
        for settings, cwd in replicas
    ]
    outputs = [drain(proc) for proc in procs]
    served: list[Served] = []
    for proc, output in zip(procs, outputs, strict=True):
        found = output.wait_for(LISTENING, timeout=timeout)
        if found is None or not wait_healthy(f"http://127.0.0.1:{found.group(1)}", timeout=timeout):
            for each in procs:
                stop(each)
            pytest.fail(f"samverkan serve did not come up:\n{output.text()}")
        served.append(Served(proc, int(found.group(1)), output))
    return served


def start_samverkan(
    command: str, settings: dict[str, str], cwd: Path, *, own_group: bool = False
) -> subprocess.Popen[str]:
    """``samverkan <command>`` with only ``settings`` set of our SLACK_/SAMVERKAN_ variables;
    ``own_group``: in a process group of its own, as a terminal starts a command (so a test
    can send a signal to the group without reaching pytest)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMVERKAN_"))},
        "PYTHONPATH": str(ROOT),
        **settings,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", command],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        process_group=0 if own_group else None,
    )


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def wait_healthy(url: str, *, timeout: float = 60.0) -> bool:
    """Poll ``<url>/healthz`` until it answers 200; False when it did not within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def set_clock(url: str, instant: dt.datetime) -> None:
    """Move the test clock of the replica at ``url`` (``POST /_test/clock``, signed as the
    bot requires)."""
    from tests.conftest import SIGNING_SECRET
    from tests.support.slack_driver import SlackDriver

    response = SlackDriver(url, SIGNING_SECRET).set_clock(instant)
    assert response.status == 200, response


def ticks(url: str) -> float:
    """How many passes the replica's due-work scheduler has made (``/metrics``)."""
    with urllib.request.urlopen(url + "/metrics", timeout=5) as response:
        body = response.read().decode()
    found = re.search(r"^samverkan_due_work_ticks_total ([0-9.e+]+)$", body, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def wait_ticks(urls: list[str], more: int, *, timeout: float = 60.0) -> None:
    """Wait until every replica's scheduler has made ``more`` passes beyond the present ones
    (what a test waits for before saying that something did not happen again)."""
    targets = {url: ticks(url) + more for url in urls}
    deadline = time.monotonic() + timeout
    while any(ticks(url) < target for url, target in targets.items()):
        assert time.monotonic() < deadline, f"fewer than {more} more scheduler passes"
        time.sleep(0.1)
