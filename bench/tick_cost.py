"""The CPU and SQL of each pass of one due-work tick with many forums, in-process.

    python -m bench.tick_cost --forums 1000

Seeds a fresh PostgreSQL database with ``--forums`` realistic forums (as ``bench.agenda_burst``
does), runs one tick at each ``--at`` time to do whatever is due there, then ``--ticks`` more
ticks a minute apart, where nothing new is due: what every replica pays each minute of the
week. Prints, per pass, the median CPU of the tick's thread (``thread_time``), its wall time
and its SQL statements, and the tick's whole process CPU. Each pass is timed by wrapping the
domain function the runner calls (looked up on its module at each tick), so the bench runs
unchanged against an older build (``PYTHONPATH`` on an export): alternate the two.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import event

from bench._agenda_seed import AGENDA_TIME, seed
from bench._common import add_postgres_url, bot_runtime

# (module, function) of every pass the runner calls, in its order; a name an older build
# lacks is skipped.
PASSES = (
    ("domain.meetings", "sync_due_forums"),
    ("domain.ratings", "open_due_rounds"),
    ("domain.ratings", "invite_late_agencies"),
    ("domain.ratings", "invite_reopened"),
    ("domain.ratings", "send_due_reminders"),
    ("domain.ratings", "close_due_rounds"),
    ("domain.agenda", "post_due"),
    ("domain.agenda", "report_failed_posts"),
    ("handlers.minutes", "run_due"),
    ("domain.cases", "remind_expiring_consents"),
    ("domain.cases", "expired_consent_readers"),
    ("domain.retention", "run_daily"),
    ("domain.logreview", "send_monthly_reports"),
    ("domain.actions", "release_orphaned_actions"),
    ("domain.actions", "send_reminders"),
    ("domain.feedback", "send_due"),
    ("domain.steering", "post_due_supplements"),
    ("domain.steering", "send_due_annual_reports"),
    ("domain.review", "send_due"),
    ("bot.scheduler", "deliver_all"),
)

# Tuesday 10:00 in Stockholm, and the Thursday just after the agendas went out.
DEFAULT_AT = ("2026-11-24T09:00:00+00:00", (AGENDA_TIME + dt.timedelta(minutes=2)).isoformat())


class Meter:
    """Per pass: thread CPU, wall and statements (those of the pass's own thread)."""

    def __init__(self) -> None:
        self.statements: dict[int, int] = {}
        self.samples: dict[str, list[tuple[float, float, int]]] = {}

    def on_statement(self, *_args: Any) -> None:
        me = threading.get_ident()
        self.statements[me] = self.statements.get(me, 0) + 1

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            me = threading.get_ident()
            before = self.statements.get(me, 0)
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.samples.setdefault(name, []).append(
                    (
                        time.thread_time() - cpu,
                        time.perf_counter() - wall,
                        self.statements.get(me, 0) - before,
                    )
                )

        return timed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tick_cost")
    parser.add_argument("--forums", type=int, default=1000)
    parser.add_argument("--open-cases", type=int, default=20)
    parser.add_argument("--ticks", type=int, default=5, help="measured ticks after each --at")
    parser.add_argument("--warm", type=int, default=40, help="at most this many ticks first")
    parser.add_argument("--at", nargs="*", default=list(DEFAULT_AT), help="ISO times (UTC)")
    add_postgres_url(parser)
    ns = parser.parse_args(argv)

    import importlib

    from bot.scheduler import run_due_work
    from domain.clock import AdjustableClock

    meter = Meter()
    for module_name, function_name in PASSES:
        module = importlib.import_module(module_name)
        if hasattr(module, function_name):
            name = f"{module_name.rsplit('.', 1)[1]}.{function_name}"
            setattr(module, function_name, meter.wrap(name, getattr(module, function_name)))

    times = [dt.datetime.fromisoformat(at) for at in ns.at]
    clock = AdjustableClock(times[0], frozen=True)
    with bot_runtime(
        ns.postgres_url,
        "samverkan_bench_tick_cost",
        secret="bench-secret",
        clock=clock,
        seed=lambda url: seed(url, ns.forums, 20, ns.open_cases),
    ) as (runtime, _slack, _url):
        event.listen(runtime.engine, "before_cursor_execute", meter.on_statement)
        try:
            for at in times:
                clock.set(at)
                started = time.perf_counter()
                run_due_work(runtime)  # whatever is due at ``at``
                # Then a tick a minute until a tick runs few statements (the daily jobs
                # take their forums a batch per tick), so what is measured is the idle tick.
                warm = 0
                while warm < ns.warm:
                    warm += 1
                    at += dt.timedelta(minutes=1)
                    clock.set(at)
                    before = sum(meter.statements.values())
                    run_due_work(runtime)
                    if sum(meter.statements.values()) - before < 100:
                        break
                print(
                    f"{at:%a %H:%M} UTC: first tick and {warm} more "
                    f"{time.perf_counter() - started:.1f} s"
                )
                meter.samples.clear()
                whole: list[float] = []
                for n in range(ns.ticks):
                    clock.set(at + dt.timedelta(minutes=n + 1))
                    cpu = time.process_time()
                    run_due_work(runtime)
                    whole.append(time.process_time() - cpu)
                _report(meter, whole)
        finally:
            runtime.engine.dispose()
    return 0


def _report(meter: Meter, whole: list[float]) -> None:
    rows = []
    for name, samples in meter.samples.items():
        cpu = statistics.median(s[0] for s in samples) * 1000
        wall = statistics.median(s[1] for s in samples) * 1000
        sql = statistics.median(s[2] for s in samples)
        rows.append((cpu, name, wall, sql))
    rows.sort(reverse=True)
    print(f"  {'pass':<36} {'CPU ms':>8} {'wall ms':>8} {'SQL':>5}")
    for cpu, name, wall, sql in rows:
        print(f"  {name:<36} {cpu:8.2f} {wall:8.2f} {sql:5.0f}")
    print(
        f"  passes' CPU {sum(r[0] for r in rows):.1f} ms; the tick's process CPU median "
        f"{statistics.median(whole) * 1000:.1f} ms ({len(whole)} ticks), statements "
        f"{sum(r[3] for r in rows):.0f}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
