"""Run the WSGI app under gunicorn (threads per worker, several workers)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from typing import Any

from gunicorn.app.base import BaseApplication

from bot.settings import Settings

log = logging.getLogger(__name__)


def prepare_metrics_dir(workers: int) -> None:
    """Several worker processes share Prometheus metrics through a directory."""
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        path = tempfile.mkdtemp(prefix="samverkan-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    elif os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, exist_ok=True)


def _child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def gunicorn_options(
    *, bind: str, workers: int, threads: int, log_level: str, proc_name: str
) -> dict[str, Any]:
    """How Samverkan runs under gunicorn (the benchmark's bare app uses the same)."""
    return {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": log_level,
        "proc_name": proc_name,
    }


def apply_options(cfg: Any, options: dict[str, Any]) -> None:
    if "control_socket_disable" in cfg.settings:
        # gunicorn ≥ 24 opens a control socket at a fixed path; replicas on one host
        # (and our multi-process tests) would fight over it.
        options = {**options, "control_socket_disable": True}
    for key, value in options.items():
        cfg.set(key, value)


class Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, *, workers: int, socket_mode: bool) -> None:
        self.settings = settings
        self.workers = workers
        self.socket_mode = socket_mode
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        options = gunicorn_options(
            bind=f"{s.host}:{s.port}",
            workers=self.workers,
            threads=s.web_threads,
            log_level=s.log_level.lower(),
            proc_name="samverkan",
        )
        options["child_exit"] = _child_exit
        apply_options(self.cfg, options)

    def load(self) -> Any:
        # Runs in each worker after the fork: engines and thread pools are per process.
        from bot.wiring import build_runtime

        runtime = build_runtime(self.settings)
        from bot.scheduler import start_scheduler

        start_scheduler(
            runtime, interval_seconds=self.settings.scheduler_interval
        )  # every worker: claims make each effect happen once
        from bot.sealer import start_sealer

        start_sealer(runtime)  # every worker too: a chain another sealer holds is skipped
        if self.socket_mode and self.settings.slack_app_token is not None:
            start_socket_mode(runtime.app, self.settings.slack_app_token.get_secret_value())
        return runtime.web


def start_socket_mode(app: Any, app_token: str) -> None:
    """Connect to Slack over a WebSocket in the background, retrying while Slack is away
    (one log line per attempt, never a crashed worker)."""
    import threading
    import time

    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, app_token)

    def connect() -> None:
        delay = 1.0
        while True:
            try:
                handler.connect()  # type: ignore[no-untyped-call]
                log.info("connected to Slack in Socket Mode")
                return
            except Exception as exc:
                log.warning("Socket Mode: cannot connect (%s); retrying in %.0f s", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 60.0)

    threading.Thread(target=connect, name="socket-mode-connect", daemon=True).start()


def serve(settings: Settings) -> None:
    socket_mode = settings.slack_app_token is not None
    workers = settings.web_concurrency
    if socket_mode or settings.allow_test_clock:
        # One process: one Socket Mode connection, and one clock that /_test/clock moves.
        workers = 1
    prepare_metrics_dir(workers)
    if workers > 1:
        # Import the application's modules once, here, before gunicorn forks its workers:
        # their code and data are then shared (copy-on-write) instead of loaded per worker.
        # Engines, pools and threads are still made in each worker (Server.load).
        import bot.scheduler
        import bot.wiring  # noqa: F401
    Server(settings, workers=workers, socket_mode=socket_mode).run()
