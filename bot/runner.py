"""Due work apart from the request workers: one runner per replica.

The runner is the scheduler (:mod:`bot.scheduler`: agendas, reminders, rating rounds and
their charts, the outbox) and the audit sealer (:mod:`bot.sealer`). Under gunicorn with
several workers it runs in a process of its own, forked by the gunicorn master
(:class:`RunnerSupervisor`) and started again when it dies, so the request workers, which
must answer Slack within three seconds, never draw a chart or deliver a batch. With one
process (the test clock, which ``POST /_test/clock`` moves inside the worker; the sandbox)
it runs in that process, as before.

Workers still tell the sealer about their commits: each commit that wrote audit events
writes the chains' names to a pipe the runner reads (:class:`SealerWakePipe`), so events are
sealed within moments of the commit, not only by the sealer's once-a-second full pass.

Observable: one log line ``due-work runner started`` per start, and on ``/metrics``
``samverkan_due_work_runners`` (runners alive in the replica, normally 1) and
``samverkan_due_work_ticks_total`` (the scheduler's passes).
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler
    from prometheus_client import Gauge

    from bot.sealer import Sealer
    from bot.settings import Settings

log = logging.getLogger(__name__)


@cache
def _runners() -> Gauge:
    """Made in the runner, on its start: the gunicorn master, which imports this module for
    :class:`RunnerSupervisor`, then need not import prometheus_client (~2 MB of RSS)."""
    from prometheus_client import Gauge

    return Gauge(
        "samverkan_due_work_runners",
        "Due-work runners (scheduler and audit sealer) alive in this replica; 1 normally",
        multiprocess_mode="livesum",
    )


RESTART_DELAY = 1.0
# The runner's process name (``ps -o comm``, ``top``; at most 15 bytes), so operators and
# bench.memory tell it from the request workers.
RUNNER_COMM = "samverkan-due"
RESTART_DELAY_MAX = 30.0


@dataclass
class DueWork:
    """The scheduler and the sealer running in this process."""

    scheduler: BackgroundScheduler
    sealer: Sealer | None

    def stop(self, *, wait: bool = False) -> None:
        """``wait``: until a pass under way has ended (else the process ends it)."""
        self.scheduler.shutdown(wait=wait)
        if self.sealer is not None:
            self.sealer.stop()
        _runners().set(0)


def start_due_work(runtime: Any, *, after_tick: Callable[[Any], None] | None = None) -> DueWork:
    """Start the scheduler and the sealer in this process (the replica's one runner)."""
    from bot.scheduler import start_scheduler
    from bot.sealer import start_sealer

    interval = runtime.settings.scheduler_interval
    scheduler = start_scheduler(runtime, interval_seconds=interval, after_tick=after_tick)
    sealer = start_sealer(runtime)
    _runners().set(1)
    log.info(
        "due-work runner started (pid %d): due work every %d s, audit sealer %s",
        os.getpid(),
        interval,
        "on" if sealer is not None else "off",
    )
    return DueWork(scheduler, sealer)


# Modules that only some passes need and that stay in the process once imported: matplotlib
# (a rating picture, a report's charts: ~41 MB of RSS), the document writers.
HEAVY_MODULES = ("matplotlib", "openpyxl", "fpdf", "docx")
# A runner that has one loaded and never has a quiet pass still recycles after this long.
RECYCLE_WITHIN = 600.0


class Recycle:
    """When the runner ends itself, between two passes, so that the master starts a fresh
    one and the memory of a heavy module goes back to the host (issue 18: one replica idles
    under 200 MB; a runner that once drew a chart kept matplotlib's ~41 MB for good).

    Due at the end of the first pass that delivered nothing (the burst that needed the
    module is over) once a heavy module is loaded, or of any pass ``RECYCLE_WITHIN`` after
    it was first seen. ``after_tick`` runs in the scheduler's thread at the end of a pass.
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, loaded: Container[str] = ()
    ) -> None:
        """``loaded``: the modules the runner had at its start (a fresh runner would have
        them too: no reason to recycle)."""
        self.due = threading.Event()
        self._clock = clock
        self._heavy_since: float | None = None
        self._at_start = {name for name in HEAVY_MODULES if name in loaded}

    def heavy(self, modules: Container[str]) -> list[str]:
        return [n for n in HEAVY_MODULES if n in modules and n not in self._at_start]

    def after_tick(self, delivered: Any, modules: Container[str] | None = None) -> None:
        if not self.heavy(sys.modules if modules is None else modules):
            return
        now = self._clock()
        if self._heavy_since is None:
            self._heavy_since = now
        quiet = delivered.sent == 0 and delivered.failed == 0
        if quiet or now - self._heavy_since >= RECYCLE_WITHIN:
            self.due.set()


def runs_apart(settings: Settings) -> bool:
    """Whether ``samverkan serve`` runs the due work in a process of its own. Not with the
    test clock: ``POST /_test/clock`` moves the clock of the process that answers it."""
    return not settings.allow_test_clock


# --- the sealer's wake-up across processes ---------------------------------------------------


class SealerWakePipe:
    """Workers write the chains their commits wrote to; the runner's sealer reads them.

    Made in the gunicorn master before it forks, so every worker and every runner inherits
    both ends. Writes never block a request: a full pipe (a runner that is behind or being
    restarted) drops the hint, and the sealer's full pass finds those events within a second.
    """

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.write_fd, False)

    def hint(self, chains: frozenset[str]) -> None:
        data = ("\n".join(sorted(chains)) + "\n").encode()
        if len(data) > select.PIPE_BUF:  # larger writes are not atomic: just wake it
            data = b"\n"
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(self.write_fd, data)

    def forward(self, wake: Callable[[frozenset[str]], None]) -> None:
        """In the runner: pass each hint on to ``wake`` (a thread; returns at end of file)."""
        pending = b""
        while True:
            try:
                chunk = os.read(self.read_fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            pending += chunk
            *lines, pending = pending.split(b"\n")
            wake(frozenset(line.decode() for line in lines if line))


# --- the runner process ----------------------------------------------------------------------


def _die_with_parent() -> None:
    """SIGTERM this process when its parent (the gunicorn master) dies, even by SIGKILL;
    and name it ``RUNNER_COMM``."""
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig, pr_set_name = 1, 15
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
        libc.prctl(pr_set_name, ctypes.c_char_p(RUNNER_COMM.encode()))


def runner_runtime(settings: Settings | None) -> Any:
    """The runner's runtime. ``settings``: None when forked from the small master
    (:mod:`bot.master`): read here. No bolt app: no request comes to the runner, and the
    listener modules only requests need are ~1.3 MB it does not import."""
    from bot.wiring import build_due_work_runtime

    if settings is None:
        from bot.settings import load_settings

        settings = load_settings()
    return build_due_work_runtime(settings)


def run_runner_process(
    settings: Settings | None,
    *,
    wake: SealerWakePipe | None,
    inherited: Iterable[Any],
    parent: int,
    recycled: mmap.mmap | None = None,
) -> NoReturn:
    """The body of the forked runner process; never returns (``os._exit``). ``settings``:
    None when forked from the small master (:mod:`bot.master`): read here. ``recycled``: a
    byte shared with the master, set to 1 when this runner ends itself to be recycled."""
    code = 1
    try:
        # Forked from the gunicorn master: forget its signal handlers and its sockets.
        with contextlib.suppress(ValueError):
            signal.set_wakeup_fd(-1)
        for sig in (
            signal.SIGHUP,
            signal.SIGQUIT,
            signal.SIGINT,
            signal.SIGTERM,
            signal.SIGTTIN,
            signal.SIGTTOU,
            signal.SIGUSR1,
            signal.SIGUSR2,
            signal.SIGWINCH,
            signal.SIGCHLD,
        ):
            signal.signal(sig, signal.SIG_DFL)
        for sock in inherited:
            with contextlib.suppress(OSError):
                sock.close()
        stopping = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            signal.signal(sig, lambda *_: stopping.set())
        _die_with_parent()
        if os.getppid() != parent:
            os._exit(0)

        runtime = runner_runtime(settings)
        recycle = Recycle(loaded=set(sys.modules))
        running = start_due_work(runtime, after_tick=recycle.after_tick)
        if wake is not None:
            os.close(wake.write_fd)
            if running.sealer is not None:
                threading.Thread(
                    target=wake.forward,
                    args=(running.sealer.wake,),
                    name="sealer-wake",
                    daemon=True,
                ).start()
        recycling = False
        while not stopping.wait(1.0):
            if os.getppid() != parent:  # the master is gone
                break
            if recycle.due.is_set() and recycled is not None:
                recycling = True
                break
        running.stop(wait=recycling)
        if recycling and recycled is not None:
            recycled[0] = 1
            log.info(
                "due-work runner recycled (pid %d): it ends to give back the memory of %s; "
                "the master starts another",
                os.getpid(),
                ", ".join(recycle.heavy(sys.modules)),
            )
        else:
            log.info("due-work runner stopped (pid %d)", os.getpid())
        code = 0
    except BaseException:
        log.exception("due-work runner failed")
    finally:
        logging.shutdown()
        os._exit(code)


class RunnerSupervisor:
    """Keeps one runner process alive for the gunicorn master (:mod:`bot.server`).

    ``check()`` runs in the master's loop (at most a second apart): it starts the runner, and
    starts it again after it died (1 s later, doubling up to 30 s while it keeps dying).
    """

    def __init__(self, settings: Settings | None, wake: SealerWakePipe | None) -> None:
        self.settings = settings
        self.wake = wake
        self.pid = 0
        self._started = 0.0
        self._delay = RESTART_DELAY
        self._next_start = 0.0
        # Shared with each runner (an anonymous shared page survives the fork): 1 when the
        # runner ended itself to be recycled (Recycle), so it is started again at once.
        self._recycled = mmap.mmap(-1, 1)

    def check(self, listeners: Iterable[Any]) -> None:
        if self.pid:
            if _alive(self.pid):
                return
            self._forget(self.pid)
            if self._recycled[0]:
                self._recycled[0] = 0
                self.pid = 0
                self._delay = RESTART_DELAY
                self._next_start = 0.0
                self._start(list(listeners))
                return
            log.error("due-work runner (pid %d) exited; starting another", self.pid)
            self.pid = 0
            if time.monotonic() - self._started > 60:
                self._delay = RESTART_DELAY  # it had run a while: not a crash loop
            # 1 s after the first crash, then 2, 4, … while it keeps dying (it was 2 s at once).
            self._next_start = time.monotonic() + self._delay
            self._delay = min(self._delay * 2, RESTART_DELAY_MAX)
        if time.monotonic() < self._next_start:
            return
        self._start(list(listeners))

    def _start(self, listeners: list[Any]) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            run_runner_process(
                self.settings,
                wake=self.wake,
                inherited=listeners,
                parent=parent,
                recycled=self._recycled,
            )
        self.pid = pid
        self._started = time.monotonic()

    def terminate(self) -> None:
        """Ask the runner to stop (SIGTERM): it ends its current pass, then exits."""
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)

    def wait(self, timeout: float) -> None:
        """Wait up to ``timeout`` for the runner to exit, then SIGKILL it."""
        pid, self.pid = self.pid, 0
        if not pid:
            return
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self._forget(pid)

    @staticmethod
    def _forget(pid: int) -> None:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    """Whether our child ``pid`` still runs (reaping it if it ended; the gunicorn master's
    own reaping, which waits for any child, may have taken it already)."""
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == 0
