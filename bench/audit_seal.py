"""Audited writes: sealing the audit chain at commit (the old way) against sealing after
commit in batches (the background sealer), with concurrent writers on PostgreSQL.

Each writer repeats what an audited save does in miniature — load its forum, change it,
write an audit event — in one transaction, as fast as it can, in one process (as the
threads of a gunicorn worker do). All forums are in one workspace, so every event goes to
one chain: the worst case for the chain's head.

* **commit**: every transaction locks the chain's head (``SELECT … FOR UPDATE``) at commit
  and seals its own events there (``info={audit.SEAL_AT_COMMIT: True}``): writers queue on
  that lock while Python runs.
* **after**: transactions only insert their events; one background sealer
  (:class:`bot.sealer.Sealer`, as each bot process runs it) seals them in batches shortly
  after commit. The run also samples the sealing lag (age of the oldest unsealed event).

The modes alternate (commit, after, commit, after, …) so drift on the machine hits both;
each round prints throughput and p50/p99, then the medians and the ratio after/commit. At
the end everything is sealed and the whole log is verified (``audit verify``).

    python -m bench.audit_seal [--writers 20] [--seconds 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bench._common import add_postgres_url
from bot.sealer import Sealer
from domain import audit
from domain import forums as fs
from domain.clock import SystemClock
from storage.db import create_db_engine, migrate, temporary_database, transaction
from storage.models import AuditAction, Forum
from tests.support.forums import forum_draft

TEAM = "TBENCH"


@dataclass
class Round:
    mode: str
    transactions: int
    seconds: float
    latencies: list[float]
    max_lag: float = 0.0
    drain: float = 0.0

    @property
    def throughput(self) -> float:
        return self.transactions / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000


def seed(sessions: sessionmaker[Session], writers: int) -> list[int]:
    clock = SystemClock()
    ids = []
    with transaction(sessions) as s:
        for n in range(writers):
            forum = fs.create_forum(
                s,
                clock,
                team_id=TEAM,
                channel_id=f"CB{n:04d}",
                actor="U1",
                draft=forum_draft(name=f"Bänkforum {n}", code=f"B{n}"),
            )
            ids.append(forum.id)
    return ids


def run_round(
    sessions: sessionmaker[Session], forum_ids: list[int], mode: str, seconds: float
) -> Round:
    clock = SystemClock()
    writer_sessions = sessions
    sealer = None
    if mode == "commit":
        writer_sessions = sessionmaker(
            bind=sessions.kw["bind"], expire_on_commit=False, info={audit.SEAL_AT_COMMIT: True}
        )
    else:
        sealer = Sealer(sessions, clock, audit.current_keys()).start()
    stop = threading.Event()
    latencies: list[list[float]] = [[] for _ in forum_ids]
    errors: list[BaseException] = []
    lag = [0.0]

    def writer(index: int, forum_id: int) -> None:
        n = 0
        try:
            while not stop.is_set():
                n += 1
                began = time.perf_counter()
                with transaction(writer_sessions) as s:
                    forum = s.get(Forum, forum_id)
                    assert forum is not None
                    forum.updated_at = clock.now()
                    audit.record(
                        s,
                        clock,
                        actor="U1",
                        action=AuditAction.UPDATE,
                        object_type="forum",
                        object_ref=forum.code,
                        team_id=forum.team_id,
                        forum_id=forum.id,
                        detail={"n": n},
                    )
                latencies[index].append(time.perf_counter() - began)
        except BaseException as exc:  # reported after the round
            errors.append(exc)

    def monitor() -> None:
        while not stop.is_set():
            with sessions() as s:
                lag[0] = max(lag[0], audit.backlog(s).age(clock.now()))
            stop.wait(0.1)

    threads = [threading.Thread(target=writer, args=item) for item in enumerate(forum_ids)]
    if sealer is not None:
        threads.append(threading.Thread(target=monitor))
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(60)
    elapsed = time.perf_counter() - began
    drain = 0.0
    if sealer is not None:
        drained = time.perf_counter()
        while True:
            with sessions() as s:
                if audit.backlog(s).count == 0:
                    break
            time.sleep(0.01)
        drain = time.perf_counter() - drained
        sealer.stop()
    if errors:
        raise errors[0]
    flat = [value for values in latencies for value in values]
    return Round(mode, len(flat), elapsed, flat, lag[0], drain)


def bench(url: str, writers: int, seconds: float, rounds: int) -> int:
    engine = create_db_engine(url, pool_size=writers + 5)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    try:
        forum_ids = seed(sessions, writers)
        audit.seal_pending(sessions)
        print(
            f"audited writes: {writers} writers, one workspace chain, {seconds:g} s per round, "
            f"{engine.dialect.name}"
        )
        print(f"{'round':<8}{'mode':<8}{'tx':>8}{'tx/s':>10}{'p50 ms':>10}{'p99 ms':>10}  lag")
        results: list[Round] = []
        for n in range(rounds):
            for mode in ("commit", "after"):
                result = run_round(sessions, forum_ids, mode, seconds)
                results.append(result)
                extra = (
                    f"  max {result.max_lag * 1000:.0f} ms, drained in {result.drain * 1000:.0f} ms"
                    if mode == "after"
                    else ""
                )
                print(
                    f"{n + 1:<8}{mode:<8}{result.transactions:>8}{result.throughput:>10.1f}"
                    f"{result.percentile(0.5):>10.2f}{result.percentile(0.99):>10.2f}{extra}"
                )

        def median(mode: str, measure: str) -> float:
            values = [
                r.throughput if measure == "tps" else r.percentile(0.99)
                for r in results
                if r.mode == mode
            ]
            return statistics.median(values)

        commit_tps, after_tps = median("commit", "tps"), median("after", "tps")
        commit_p99, after_p99 = median("commit", "p99"), median("after", "p99")
        print(
            f"median   commit {commit_tps:.1f} tx/s, p99 {commit_p99:.2f} ms  (baseline: sealing"
            " at commit)"
        )
        print(f"median   after  {after_tps:.1f} tx/s, p99 {after_p99:.2f} ms")
        print(
            f"ratio    throughput after/commit {after_tps / commit_tps:.2f}×, "
            f"p99 after/commit {after_p99 / commit_p99:.2f}×"
        )
        audit.seal_pending(sessions)
        with sessions() as s:
            verification = audit.verify(s)
        if not verification.ok:
            print("ERROR    audit verify failed: " + "; ".join(verification.problems[:3]))
            return 1
        print(f"verify   OK: {verification.checked} events in {verification.chains} chain(s)")
        return 0
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_seal", description=__doc__)
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    add_postgres_url(parser)
    parser.add_argument("--database-url", help="an existing database (migrated, not dropped)")
    ns = parser.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    if ns.database_url:
        migrate(ns.database_url)
        code = bench(ns.database_url, ns.writers, ns.seconds, ns.rounds)
    else:
        with temporary_database(ns.postgres_url, "samverkan_bench_audit") as url:
            migrate(url)
            code = bench(url, ns.writers, ns.seconds, ns.rounds)
    print(f"(run {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs)")
    return code


if __name__ == "__main__":
    sys.exit(main())
