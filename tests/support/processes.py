"""Run `samverkan` as a real process, with a clean environment, and stop it again."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_samverkan(command: str, settings: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """``samverkan <command>`` with only ``settings`` set of our SLACK_/SAMVERKAN_ variables."""
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
            time.sleep(0.2)
    return False
