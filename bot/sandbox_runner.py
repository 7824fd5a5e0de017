"""``samverkan sandbox``: the bot on SQLite with a local, Slack-like web page.

The page (``sandbox.server``) serves http://127.0.0.1:$SAMVERKAN_PORT, runs the Web API
stand-in and sets up demo forums. The bot runs as ``samverkan serve`` in a child process on
a free local port, told by its environment to call the stand-in instead of Slack; it only
ever hears from the page through signed HTTP, exactly as from Slack.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bot.settings import Settings

SCHEDULER_INTERVAL = 2
"""Seconds between the sandbox bot's scheduler ticks: after a jump of the page's clock, the
agenda or the rating DMs arrive within a few seconds (production: once a minute)."""


def bot_environment(settings: Settings, spec_env: dict[str, str]) -> dict[str, str]:
    """The child's environment: ours without Slack or Samverkan settings, plus ``spec_env``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMVERKAN_"))}
    env.update(
        {
            "SAMVERKAN_TIMEZONE": settings.timezone,
            "SAMVERKAN_LANGUAGE": settings.language,
            "SAMVERKAN_LOG_LEVEL": settings.log_level,
            "SAMVERKAN_WEB_THREADS": str(settings.web_threads),
            # The test clock exists only here, so the page's clock control can move it.
            "SAMVERKAN_ALLOW_TEST_CLOCK": "1",
            # Unless set explicitly, the bot looks for due work every other second.
            "SAMVERKAN_SCHEDULER_INTERVAL": os.environ.get(
                "SAMVERKAN_SCHEDULER_INTERVAL", str(SCHEDULER_INTERVAL)
            ),
        }
    )
    env.update(spec_env)
    return env


def _die_with_parent() -> None:
    """In the child, before exec: the bot gets SIGTERM when the sandbox process dies, even
    when it is killed outright, so no bot is left behind on the port."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def run_sandbox(settings: Settings) -> int:
    from sandbox.server import BotSpec, Sandbox

    workdir = Path(tempfile.mkdtemp(prefix="samverkan-sandbox-"))
    database_url = f"sqlite:///{workdir / 'sandbox.db'}"

    def start_bot(spec: BotSpec) -> subprocess.Popen[bytes]:
        env = bot_environment(
            settings,
            {
                "SAMVERKAN_DATABASE_URL": database_url,
                "SLACK_BOT_TOKEN": "xoxb-sandbox",
                "SLACK_SIGNING_SECRET": spec.signing_secret,
                "SAMVERKAN_SLACK_API_URL": spec.api_url,
                "SAMVERKAN_HOST": spec.host,
                "SAMVERKAN_PORT": str(spec.port),
            },
        )
        # Run in the scratch directory, so a developer's .env (real Slack tokens) is not read.
        # In a process group of its own: a Ctrl-C in the terminal reaches the sandbox only,
        # which stops the bot itself (the bot ending on the same signal raced the sandbox's
        # own stop, and the sandbox then reported it as a bot that stopped: exit code 1).
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve"],
            env=env,
            cwd=workdir,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            process_group=0,
        )

    print(f"Samverkan sandbox: a fresh SQLite database in {workdir}", flush=True)

    def stop(signum: int, _frame: object) -> None:
        # The web server re-raises SIGTERM after its shutdown: end through the finally below.
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    try:
        return Sandbox(port=settings.port, timezone=settings.timezone).run(start_bot)
    finally:
        # Stopping already (Ctrl-C, SIGTERM, or the bot ended): a further Ctrl-C must not cut
        # the removal short, nor print a traceback.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        # The sandbox's database is temporary: nothing typed in it outlives the session.
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"Samverkan sandbox: removed {workdir}", flush=True)
