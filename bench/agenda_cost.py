"""The CPU of one agenda in the Thursday burst, in-process (no Slack, no replicas).

    python -m bench.agenda_cost --forums 200
    python -m bench.agenda_cost --forums 200 --profile /tmp/agenda.prof   # cProfile, CPU time

Seeds a fresh PostgreSQL database with ``--forums`` realistic forums (as ``bench.agenda_burst``
does: 20 open cases, actions, a closed rating round; every 20th agenda two messages), then
runs the due-work runner's agenda job (``agenda.post_due`` with its render and picture) once
at the agenda time, and prints the bot's CPU per agenda (``process_time``), the wall time and
the SQL statements per agenda. To compare two builds, run each from its own tree with
``PYTHONPATH`` and alternate them: on a shared machine one run swings by ±10 %.
"""

from __future__ import annotations

import argparse
import cProfile
import time
from collections.abc import Sequence

from bench._agenda_seed import AGENDA_TIME, seed
from bench._common import add_postgres_url, statement_log
from domain import agenda, ratings
from domain.clock import AdjustableClock
from handlers.outgoing import render_agenda, render_preview
from storage.db import create_db_engine, migrate, session_factory, temporary_database


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.agenda_cost")
    parser.add_argument("--forums", type=int, default=200)
    parser.add_argument("--open-cases", type=int, default=20)
    parser.add_argument("--profile", default="", help="write cProfile stats (CPU time) here")
    add_postgres_url(parser)
    ns = parser.parse_args(argv)
    with temporary_database(ns.postgres_url, "samverkan_bench_agenda_cost") as url:
        migrate(url)
        seed(url, ns.forums, 20, ns.open_cases)
        engine = create_db_engine(url)
        try:
            statements = statement_log(engine)
            sessions = session_factory(engine)
            clock = AdjustableClock(AGENDA_TIME, frozen=True)
            profile = cProfile.Profile(time.process_time) if ns.profile else None
            cpu, wall = time.process_time(), time.perf_counter()
            if profile is not None:
                profile.enable()
            run = agenda.post_due(
                sessions,
                clock,
                replica="bench",
                render=render_agenda,
                render_preview=render_preview,
                picture=ratings.picture_for_meeting,
                budget_seconds=3600,
            )
            if profile is not None:
                profile.disable()
                profile.dump_stats(ns.profile)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        finally:
            engine.dispose()
    if not run.posted:
        print("no agenda posted")
        return 1
    per = 1000 / run.posted
    print(
        f"agendas: {run.posted}; bot CPU {cpu * per:.2f} ms per agenda, wall {wall * per:.2f} ms, "
        f"{len(statements) / run.posted:.1f} statements per agenda"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
