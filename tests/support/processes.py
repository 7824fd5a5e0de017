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
import urllib.error
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

    def tail(self, chars: int = 4000) -> str:
        return self.text()[-chars:]

    def closed(self, *, timeout: float) -> bool:
        """Wait until the process (and every child that shares its output) closed its
        output; False when it did not within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not (self.lines and self.lines[-1] == ""):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
            return True

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
    """Read ``proc``'s output in a thread from now on: a child whose pipe nobody reads blocks
    on its next write once the pipe's buffer (64 KiB) is full, and a server then stops
    answering (the sandbox's bot writes its log to the same pipe)."""
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
        if found is None or not wait_healthy(
            f"http://127.0.0.1:{found.group(1)}", timeout=timeout, unless_ended=proc
        ):
            for each in procs:
                stop(each)
            pytest.fail(f"samverkan serve did not come up{ended(proc, output)}")
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


def wait_healthy(
    url: str, *, timeout: float = 60.0, unless_ended: subprocess.Popen[str] | None = None
) -> bool:
    """Poll ``<url>/healthz`` until it answers 200; False when it did not within ``timeout``,
    or as soon as the process ``unless_ended`` has ended (it will never answer then)."""
    return health(url, timeout=timeout, unless_ended=unless_ended) is None


def health(
    url: str, *, timeout: float, unless_ended: subprocess.Popen[str] | None = None
) -> str | None:
    """None once ``<url>/healthz`` answers 200; otherwise its last answer (status and body, or
    the connection error), after ``timeout`` or once ``unless_ended`` has ended."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return None
                last = f"{response.status} {response.read()[:200]!r}"
        except urllib.error.HTTPError as err:
            with err:
                last = f"{err.code} {err.read()[:200]!r}"
        except OSError as exc:
            last = repr(exc)
        if unless_ended is not None and unless_ended.poll() is not None:
            return f"{last}; the process ended"
        time.sleep(0.1)
    return f"{last}; still not healthy after {timeout:.0f} s"


def ended(proc: subprocess.Popen[str], output: Output) -> str:
    """What a failure says about a process: its exit code and the end of its output
    (stdout and stderr, with its children's)."""
    code = proc.poll()
    state = "still running" if code is None else f"exit code {code}"
    output.closed(timeout=5)
    return f" ({state}); the end of its output:\n{output.tail()}"


@dataclass
class RunningSandbox:
    """A running ``samverkan sandbox`` whose demo forums are set up."""

    proc: subprocess.Popen[str]
    port: int
    workdir: Path
    """Where it keeps its temporary database."""
    output: Output

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rest(self, *, timeout: float = 20.0) -> str:
        """All it wrote, once it has ended and closed its output."""
        self.output.closed(timeout=timeout)
        return self.output.text()


DATABASE_IN = re.compile(r"database in (\S+)")


def start_sandbox(
    cwd: Path,
    settings: dict[str, str] | None = None,
    *,
    own_group: bool = False,
    timeout: float = 240.0,
) -> RunningSandbox:
    """``samverkan sandbox`` on a free port; returns once its /healthz answers (its demo
    forums are set up; ``timeout`` is longer than the sandbox's own wait for its bot,
    ``sandbox.server.START_SECONDS``, which a busy machine needed more than 60 s of).
    Otherwise it is stopped and the test fails with why: the last
    /healthz answer, its exit code and the end of its output (and its bot's)."""
    import pytest

    settings = {"SAMVERKAN_PORT": str(free_port()), **(settings or {})}
    port = int(settings["SAMVERKAN_PORT"])
    proc = start_samverkan(
        "sandbox",
        {"SAMVERKAN_SANDBOX_BROWSER": "0", **settings},
        cwd,
        own_group=own_group,
    )
    output = drain(proc)
    found = output.wait_for(DATABASE_IN, timeout=timeout)
    problem = (
        "it never said where its database is"
        if found is None
        else health(f"http://127.0.0.1:{port}", timeout=timeout, unless_ended=proc)
    )
    if found is None or problem is not None:
        stop(proc)
        pytest.fail(
            f"samverkan sandbox on port {port} was not ready: {problem}{ended(proc, output)}"
        )
    return RunningSandbox(proc, port, Path(found.group(1)), output)


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
