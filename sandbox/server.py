"""Run the sandbox: the Web API stand-in, the bot (a child process) and the page.

``samverkan sandbox`` (bot/sandbox_runner.py) says how to start the bot; this module starts
the rest, sets up the demo forums through the bot once it answers, and serves the page on
``http://127.0.0.1:<port>`` until interrupted.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass

import uvicorn

from sandbox.demo import CHANNELS, PEOPLE, SeedError, configure_stub, seed
from sandbox.page import build_page
from sandbox.surface import BotLink, Surface
from sandbox.webapi import SlackWebApiStub
from sandbox.workspace import Workspace

__all__ = ["BotSpec", "Sandbox", "free_port"]

START_SECONDS = 180.0
"""How long the bot may take to answer /healthz. Its start (an interpreter, the app's
imports, gunicorn, the migrations of a fresh database) took over 60 s on a busy two-core
machine, and the sandbox then stopped with nothing said in the terminal."""


@dataclass(frozen=True)
class BotSpec:
    """What the bot must be told to run against the sandbox."""

    api_url: str
    """``SAMVERKAN_SLACK_API_URL``: the Web API stand-in."""
    host: str
    port: int
    signing_secret: str


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


class Sandbox:
    def __init__(self, *, port: int, host: str = "127.0.0.1", timezone: str) -> None:
        self.host = host
        self.port = port
        self.stub = SlackWebApiStub(0, max_calls=5000)
        configure_stub(self.stub)
        self.workspace = Workspace(PEOPLE, CHANNELS)
        self.bot_port = free_port(host)
        self.signing_secret = secrets.token_hex(16)
        link = BotLink(f"http://{host}:{self.bot_port}", self.signing_secret)
        self.surface = Surface(self.workspace, link, timezone=timezone)
        self.workspace.clock = self.surface.now
        self.server: uvicorn.Server | None = None
        self.exit_code = 0
        # Set once the sandbox itself is stopping (Ctrl-C, SIGTERM): the bot ending after
        # that is its doing, not a failure to report in the exit code.
        self._stopping = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _prepare(self, bot: subprocess.Popen[bytes]) -> None:
        """Wait for the bot, set up the demo forums, then watch the bot."""
        ws = self.workspace
        deadline = time.monotonic() + START_SECONDS
        while not self.surface.link.healthy():
            if bot.poll() is not None or time.monotonic() > deadline:
                ws.set_status("Boten startade inte: se terminalen.")
                why = (
                    f"the bot ended (exit code {bot.returncode})"
                    if bot.poll() is not None
                    else f"the bot did not answer within {START_SECONDS:.0f} s"
                )
                print(f"samverkan sandbox: {why}; stopping", file=sys.stderr, flush=True)
                self._stop(1)
                return
            time.sleep(0.2)
        ws.set_status("seeding")
        try:
            seed(self.surface)
        except SeedError as exc:
            ws.set_status(f"Demoforumen kunde inte skapas: {exc}")
            print(f"samverkan sandbox: demo forums not set up: {exc}", file=sys.stderr, flush=True)
        else:
            ws.set_status("ready")
            print(f"Samverkan sandbox is ready: open {self.url}", flush=True)
            open_browser(self.url)
        code = bot.wait()
        ws.set_status(f"Boten har stannat (kod {code}).")
        self._stop(code or 1)

    def _stop(self, code: int) -> None:
        if self._stopping:
            return
        self.exit_code = code
        if self.server is not None:
            self.server.should_exit = True

    def run(self, start_bot: Callable[[BotSpec], subprocess.Popen[bytes]]) -> int:
        if port_in_use(self.host, self.port):
            print(
                f"samverkan: port {self.port} is in use; set SAMVERKAN_PORT to another port",
                file=sys.stderr,
            )
            return 2
        self.stub.start()
        self.workspace.response_url_base = self.stub.response_url_base
        self.stub.add_listener(self.workspace.observe)
        self.workspace.file_source = lambda file_id: self.stub.uploads.get(file_id)
        bot = start_bot(
            BotSpec(
                api_url=self.stub.base_url,
                host=self.host,
                port=self.bot_port,
                signing_secret=self.signing_secret,
            )
        )
        print(
            f"Samverkan sandbox: page on {self.url} (the bot on {self.surface.link.base_url}, "
            f"Slack's Web API stand-in on {self.stub.base_url}); Ctrl-C stops it.",
            flush=True,
        )
        config = uvicorn.Config(
            build_page(self.surface),
            host=self.host,
            port=self.port,
            log_level="warning",
            # Open long-polls from the page must not hold up Ctrl-C or SIGTERM.
            timeout_graceful_shutdown=1,
            # The page has no startup or shutdown work. With the lifespan on, a second Ctrl-C
            # while stopping (uvicorn then skips the lifespan's shutdown) left its task to be
            # cancelled, and uvicorn printed that as an error with a traceback.
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        threading.Thread(target=self._prepare, args=(bot,), daemon=True).start()
        try:
            self.server.run()
        finally:
            self._stopping = True
            # Another Ctrl-C while stopping: stop the bot at once instead of waiting for it
            # (never a KeyboardInterrupt halfway through the stop, nor a traceback).
            hurried = self._on_interrupt(lambda: bot.kill() if bot.poll() is None else None)
            try:
                self.workspace.set_status("Sandlådan stängs.")  # wakes the long-polls
                if bot.poll() is None:
                    bot.terminate()
                    try:
                        bot.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        bot.kill()
                        bot.wait(timeout=5)
                self.stub.stop()
            finally:
                hurried()
        return self.exit_code

    @staticmethod
    def _on_interrupt(action: Callable[[], object]) -> Callable[[], None]:
        """Run ``action`` on Ctrl-C (SIGINT) until the returned function is called; then
        Ctrl-C is ignored (what is left of the stop is short). Signals reach the main thread
        only: elsewhere (tests) nothing changes."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        signal.signal(signal.SIGINT, lambda _signum, _frame: action())

        def done() -> None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

        return done


def open_browser(url: str) -> bool:
    """Open the page in the visitor's browser where there is one to open (a desktop session,
    not CI or a server); SAMVERKAN_SANDBOX_BROWSER=0 turns it off."""
    if os.environ.get("SAMVERKAN_SANDBOX_BROWSER", "1") == "0" or os.environ.get("CI"):
        return False
    desktop = sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if not desktop:
        return False
    try:
        return webbrowser.open(url, new=2)
    except webbrowser.Error:
        return False
