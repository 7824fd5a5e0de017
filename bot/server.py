"""Run the WSGI app under gunicorn (threads per worker, several workers)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication

if TYPE_CHECKING:
    # Not at run time: bench.bare_app imports this module for gunicorn's options, and
    # pydantic (the settings) is ~13 MB a process that a bare bolt app does not have.
    from bot.settings import Settings

log = logging.getLogger(__name__)


def prepare_metrics_dir(processes: int) -> None:
    """Several processes (request workers, the due-work runner) share Prometheus metrics
    through a directory, so that a worker's ``/metrics`` shows the runner's too."""
    if processes > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        path = tempfile.mkdtemp(prefix="samverkan-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    elif os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, exist_ok=True)


# glibc's malloc gives each thread that contends for the heap an arena of its own, up to
# 8 per core; the freed memory of a gthread worker's request threads then stays mapped in
# many arenas. Two are plenty for threads that mostly wait on Slack and the database.
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter number


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process and the processes it forks (the gunicorn
    master calls it before forking the workers and the runner). An operator's
    ``MALLOC_ARENA_MAX`` wins (glibc read it at start); elsewhere than glibc, nothing."""
    if sys.platform != "linux" or "MALLOC_ARENA_MAX" in os.environ:
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_ARENA_MAX, arenas))


YOUNG_COLLECTION_AT = 10_000  # net allocations of tracked objects (Python's default: 700)


def keep_out_of_collections() -> None:
    """Move what the worker has built so far (the imported modules, the app, its listeners,
    the engine: ~130 000 objects that live as long as the process) out of the garbage
    collector's reach. Python's full collection walks every tracked object, and a request
    worker under load ran one every few hundred requests (~60 ms of CPU each, the GIL held).
    A replica with one worker never froze them: its master does not import the app.

    And a young collection every :data:`YOUNG_COLLECTION_AT` allocations instead of 700: a
    modal submission's parsed body alone is hundreds of containers, and with eight requests
    in flight each young collection walked (and promoted to older generations) the live
    objects of all of them, about one collection per three requests."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_AT, *gc.get_threshold()[1:])


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


@dataclass(frozen=True)
class Plan:
    """What the replica's gunicorn master needs from the settings (the small master of a
    one-worker replica, :mod:`bot.master`, has this and not the settings)."""

    bind: str
    workers: int
    threads: int
    log_level: str
    apart: bool  # the due work in a runner process of its own (bot.runner)
    sealer: bool
    socket_mode: bool

    @classmethod
    def of(cls, settings: Settings, *, workers: int, socket_mode: bool) -> Plan:
        from bot.runner import runs_apart

        return cls(
            bind=f"{settings.host}:{settings.port}",
            workers=workers,
            threads=settings.web_threads,
            log_level=settings.log_level,
            apart=runs_apart(settings),
            sealer=settings.audit_sealer,
            socket_mode=socket_mode,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Plan:
        return cls(**json.loads(text))


class Server(BaseApplication):  # type: ignore[misc]
    """``settings``: None in the small master; then each worker (and the runner) reads them."""

    def __init__(self, plan: Plan, settings: Settings | None = None) -> None:
        self.plan = plan
        self.settings = settings
        # The due work runs in a process of its own (bot.runner), unless the test clock
        # needs it in the one worker; workers wake its sealer through a pipe.
        from bot.runner import RunnerSupervisor, SealerWakePipe

        self.apart = plan.apart
        self.wake = SealerWakePipe() if plan.apart and plan.sealer else None
        self.runner = RunnerSupervisor(settings, self.wake) if plan.apart else None
        super().__init__()

    def load_config(self) -> None:
        options = gunicorn_options(
            bind=self.plan.bind,
            workers=self.plan.workers,
            threads=self.plan.threads,
            log_level=self.plan.log_level.lower(),
            proc_name="samverkan",
        )
        options["child_exit"] = _child_exit
        apply_options(self.cfg, options)

    def load(self) -> Any:
        # Runs in each worker after the fork: engines and thread pools are per process.
        from bot.settings import load_settings
        from bot.wiring import build_runtime

        settings = self.settings or load_settings()
        runtime = build_runtime(settings)
        if self.apart:
            if self.wake is not None:
                from domain import audit

                os.close(self.wake.read_fd)
                audit.on_commit(self.wake.hint)  # the runner's sealer seals it at once
        else:
            from bot.runner import start_due_work

            start_due_work(runtime)  # the replica's only process: its runner too
        if self.plan.socket_mode and settings.slack_app_token is not None:
            start_socket_mode(runtime.app, settings.slack_app_token.get_secret_value())
        keep_out_of_collections()
        return runtime.web

    def run(self) -> None:
        # BaseApplication.run with an arbiter that also keeps the due-work runner alive.
        limit_malloc_arenas()  # before any fork: the workers and the runner inherit it
        try:
            _arbiter_class()(self).run()
        except RuntimeError as exc:
            print(f"\nError: {exc}\n", file=sys.stderr, flush=True)
            sys.exit(1)


def _arbiter_class() -> type[Any]:
    from gunicorn.arbiter import Arbiter

    class ReplicaArbiter(Arbiter):  # type: ignore[misc]
        """gunicorn's master, which also starts the replica's due-work runner after the
        workers and starts it again when it dies (checked once a second at most)."""

        def manage_workers(self) -> None:
            super().manage_workers()
            runner = self.app.runner
            if runner is not None and self.LISTENERS:
                runner.check(self.LISTENERS)

        def stop(self, graceful: bool = True) -> None:
            runner = self.app.runner
            self.app.runner = None  # no new runner while stopping
            if runner is not None:
                runner.terminate()  # it ends its pass while the workers end their requests
            super().stop(graceful)
            if runner is not None:
                runner.wait(timeout=5.0)

    return ReplicaArbiter


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


def master_argv(plan: Plan) -> list[str]:
    """The command line of a one-worker replica's master (:mod:`bot.master`). ``python -m``
    puts the working directory first on the import path, which ``samverkan serve`` (a
    console script) did not: with the service's writable state directory as its working
    directory (deploy/), any ``gunicorn.py`` or ``bot/`` there would be imported by the
    master. ``-P`` leaves it off, unless this process had it on its path too (run from a
    checkout as ``python -m bot.cli``)."""
    cwd = os.getcwd()
    trusted = any(os.path.abspath(entry or ".") == cwd for entry in sys.path)
    safe = [] if trusted else ["-P"]
    return [sys.executable, *safe, *optimize_flags(), "-m", "bot.master", plan.to_json()]


def optimize_flags() -> list[str]:
    """``-OO`` for the master and so for the worker and the runner it forks: no docstrings
    (~4 MB less in each process that imports the app, issue 18) and no ``assert`` (ours are
    all type narrowing for mypy). The image compiles the ``.opt-2.pyc`` files at build
    (deploy/Dockerfile). And ``-X no_debug_ranges``: no column positions in the code
    objects (~0.8 MB less in each of those processes); a logged traceback still names every
    file, line and source line, without the ``^^^^`` marks under the failing expression. An
    operator's ``PYTHONOPTIMIZE`` (``0``: keep docstrings, asserts and columns) wins."""
    if "PYTHONOPTIMIZE" in os.environ:
        return []
    return ["-OO", "-X", "no_debug_ranges"]


def serve(settings: Settings) -> None:
    socket_mode = settings.slack_app_token is not None
    workers = settings.web_concurrency
    if socket_mode or settings.allow_test_clock:
        # One process: one Socket Mode connection, and one clock that /_test/clock moves.
        workers = 1
    plan = Plan.of(settings, workers=workers, socket_mode=socket_mode)
    prepare_metrics_dir(workers + (1 if plan.apart else 0))
    if workers == 1 and plan.apart and sys.executable:
        # One request worker shares nothing with the master, so the master need not hold
        # the app, nor even the settings (pydantic): this process, which has checked them,
        # becomes a master that imports only gunicorn (27 MB RSS instead of 39; the worker
        # and the runner it forks read the settings themselves). Same pid, same output.
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, master_argv(plan))
    if workers > 1:
        # Import the application's modules once, here, before gunicorn forks its workers:
        # their code and data are then shared (copy-on-write) instead of loaded per worker.
        # Engines, pools and threads are still made in each worker (Server.load). Not the
        # scheduler (APScheduler, its executors): only the due-work runner imports it.
        import gc

        # (bot.web and handlers.app too: bot.wiring imports them only where the app is built.)
        import bot.runner
        import bot.web
        import bot.wiring  # noqa: F401
        import handlers.app  # noqa: F401

        # Move what the imports made out of the collector's reach: a collection in a worker
        # would otherwise write to every object's header and so copy the master's pages.
        gc.collect()
        gc.freeze()
    Server(plan, settings).run()
