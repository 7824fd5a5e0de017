"""`/samverkan insatser` for a forum with 50 000 actions: latency and query count.

Builds the reply exactly as the bot does (``handlers.actions.action_list``: membership check,
the page query, rendering) for a forum with many actions and, as the baseline in the same
run, a forum with few. Prints p50/p99 and the number of SQL statements per reply; the targets
are p99 < 100 ms and a statement count that does not grow with the number of actions.

    python -m bench.action_list [--actions 50000] [--baseline 100] [--requests 300]
    python -m bench.action_list --small          # CI: 5 000 actions, 60 replies
    python -m bench.action_list --database-url sqlite:///bench.db
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import insert

from bench._common import add_postgres_url, p99_ms, statement_log
from domain import forums as fs
from domain.actions import Filter, Scope
from domain.clock import AdjustableClock
from domain.i18n import Translator
from handlers.actions import action_list
from handlers.deps import Deps
from storage.db import create_db_engine, migrate, session_factory, temporary_database, transaction
from storage.models import Action, ActionStatus, Effect, Role
from tests.support.forums import forum_draft

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)
OWNERS = ("U1", "U2", "U3", "U4")
# What members ask for, in turn: the forum's open and overdue actions, their agency's,
# their own, and what waits for follow-up.
QUERIES: tuple[tuple[Scope, Filter], ...] = (
    ("forum", "open"),
    ("forum", "overdue"),
    ("agency", "open"),
    ("mine", "open"),
    ("forum", "follow_up"),
    ("forum", "done"),
)


def seed_forum(deps: Deps, channel: str, code: str, actions: int) -> None:
    """A forum with three agencies, four members and ``actions`` actions, inserted in bulk."""
    draft = forum_draft(
        name=f"Forum {code}", code=code, agencies=["Grundskola", "Elevhälsa", "Socialtjänst/IFO"]
    )
    with transaction(deps.sessions) as s:
        forum = fs.create_forum(
            s, deps.clock, team_id="T1", channel_id=channel, actor="U1", draft=draft
        )
        agencies = [a.id for a in forum.agencies]
        for n, user in enumerate(OWNERS[1:], start=1):
            fs.add_members(
                s,
                deps.clock,
                forum=forum,
                actor="U1",
                slack_user_ids=[user],
                agency_id=agencies[n % 3],
                role=Role.MEMBER,
            )
        forum_id = forum.id
    batch = 5000
    for start in range(0, actions, batch):
        rows = []
        for n in range(start, min(actions, start + batch)):
            done = n % 3 == 0
            rows.append(
                {
                    "forum_id": forum_id,
                    "description": f"Insats {n}: kartlägga och följa upp närvaron",
                    "owning_agency_id": agencies[n % 3],
                    "owner": OWNERS[n % 4],
                    "due_on": TODAY + dt.timedelta(days=(n % 400) - 200),
                    "status": ActionStatus.DONE if done else ActionStatus.OPEN,
                    "effect": (Effect.YES if n % 2 else None) if done else None,
                    "completed_at": NOW if done else None,
                    "created_by": "U1",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
        with transaction(deps.sessions) as s:
            s.execute(insert(Action), rows)


def measure(deps: Deps, channel: str, requests: int, statements: list[str]) -> dict[str, Any]:
    t = Translator("sv")
    for n in range(20):  # warm up caches and prepared statements
        scope, flt = QUERIES[n % len(QUERIES)]
        action_list(deps, t, team_id="T1", channel_id=channel, user_id="U2", scope=scope, flt=flt)
    counts = set()
    for scope, flt in QUERIES:
        statements.clear()
        action_list(deps, t, team_id="T1", channel_id=channel, user_id="U2", scope=scope, flt=flt)
        counts.add(len(statements))
    latencies = []
    for n in range(requests):
        scope, flt = QUERIES[n % len(QUERIES)]
        began = time.perf_counter()
        reply = action_list(
            deps, t, team_id="T1", channel_id=channel, user_id="U2", scope=scope, flt=flt
        )
        latencies.append((time.perf_counter() - began) * 1000)
        assert reply["blocks"], "an empty reply"
    latencies.sort()
    return {
        "statements": max(counts),
        "varies": len(counts) > 1,
        "p50": statistics.median(latencies),
        "p99": p99_ms(latencies),
        "max": latencies[-1],
    }


@contextlib.contextmanager
def database(url: str | None, admin_url: str) -> Iterator[str]:
    if url:
        yield url
        return
    with temporary_database(admin_url, "samverkan_bench_actions") as created:
        yield created


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.action_list", description=__doc__)
    parser.add_argument("--actions", type=int, default=50_000)
    parser.add_argument("--baseline", type=int, default=100)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--small", action="store_true", help="5 000 actions, 60 replies (CI)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when p99 misses 100 ms")
    add_postgres_url(parser)
    parser.add_argument("--database-url", help="an existing (empty) database instead")
    ns = parser.parse_args(argv)
    if ns.small:
        ns.actions, ns.requests = min(ns.actions, 5000), min(ns.requests, 60)
    with database(ns.database_url, ns.postgres_url) as url:
        migrate(url)
        engine = create_db_engine(url)
        statements = statement_log(engine)
        deps = Deps(sessions=session_factory(engine), clock=AdjustableClock(NOW, frozen=True))
        began = time.perf_counter()
        seed_forum(deps, "CBIG", "BIG", ns.actions)
        seed_forum(deps, "CSMALL", "SMA", ns.baseline)
        with engine.begin() as conn:  # as autovacuum would after a bulk load
            conn.exec_driver_sql("ANALYZE")
        print(f"seeded {ns.actions} + {ns.baseline} actions in {time.perf_counter() - began:.1f}s")
        big = measure(deps, "CBIG", ns.requests, statements)
        small = measure(deps, "CSMALL", ns.requests, statements)
        engine.dispose()
    print()
    print(f"{'forum':<20}{'statements':>11}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for label, r in ((f"{ns.actions} actions", big), (f"{ns.baseline} actions (base)", small)):
        print(f"{label:<20}{r['statements']:>11}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['max']:>9.2f}")
    ok_latency = big["p99"] < 100
    ok_queries = big["statements"] == small["statements"] and not big["varies"]
    print()
    print(f"{'PASS' if ok_latency else 'FAIL'}  p99 {big['p99']:.1f} ms < 100 ms (target)")
    print(
        f"{'PASS' if ok_queries else 'FAIL'}  statements per reply: {big['statements']} "
        f"with {ns.actions} actions, {small['statements']} with {ns.baseline}"
    )
    # The statement count is deterministic and always enforced; latency only with --strict.
    return 0 if ok_queries and (ok_latency or not ns.strict) else 1


if __name__ == "__main__":
    sys.exit(main())
