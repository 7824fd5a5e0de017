"""The agenda build of a small forum while the database grows around it.

    python -m bench.agenda_scale                    # 1 000, 100 000 and 1 000 000 cases
    python -m bench.agenda_scale --max-cases 10000  # 1 000 and 10 000 (CI)

On a fresh PostgreSQL database: a small forum (500 cases: 20 on its next agenda, 10 for
follow-up; 250 actions, some due and some awaiting follow-up of effect) beside two big
forums that grow so the database holds 1 000, 100 000 and 1 000 000 cases (with half as
many actions): one database per size, side by side, the builds taken in turn (1 000,
100 000, 1 000 000, 100 000, …, so a load that comes and goes weighs on every size alike):
the small forum's next agenda is built as the scheduler
builds it on Thursday morning (``domain.agenda.build``: collecting the new cases, the
follow-ups and the due actions, then listing them with their details and the situation
picture loader) and rendered, in a transaction rolled back afterwards, so every build
collects afresh. Prints p50/p99 and statements per build, and the growth factor.

Target (issue 18): at most 1.2x from the smallest to the largest database.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable, Sequence

from bench import seed
from bench._common import add_postgres_url, p99_ms, statement_log, timed_side_by_side
from domain import agenda, ratings
from domain import forums as fs
from domain.clock import AdjustableClock
from handlers.outgoing import render_agenda
from storage.models import Meeting

TARGET = 1.2


def measure(
    scales: Sequence[seed.Scale], requests: int, logs: Sequence[list[str]]
) -> list[tuple[float, float, int, int]]:
    """Per database: (p50 ms, p99 ms, statements, agenda lines) of building the small
    forum's agenda, the databases' builds taken in turn."""
    lines: list[int] = [0 for _ in scales]

    def builder(scale: seed.Scale, index: int) -> Callable[[], None]:
        def build() -> None:
            with scale.sessions() as s, s.begin():
                forum = fs.require_forum(s, team_id="T1", channel_id=scale.small.channel_id)
                meeting = s.get(Meeting, scale.small.next_meeting_id)
                assert meeting is not None
                built = agenda.build(
                    s, scale.clock, meeting, forum, picture=ratings.picture_for_meeting
                )
                render_agenda(built)
                s.rollback()  # collect afresh next time
                lines[index] = len(built.lines)

        return build

    builds = [builder(scale, i) for i, scale in enumerate(scales)]
    counts = []
    for build, statements in zip(builds, logs, strict=True):
        for _ in range(10):  # warm up: caches, prepared statements (after 5 runs)
            build()
        statements.clear()
        build()
        counts.append(len(statements))
    latencies = timed_side_by_side(builds, requests)
    return [
        (statistics.median(ms), p99_ms(ms), count, lines[i])
        for i, (ms, count) in enumerate(zip(latencies, counts, strict=True))
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.agenda_scale", description=__doc__)
    parser.add_argument("--max-cases", type=int, default=seed.SIZES[-1])
    parser.add_argument("--requests", type=int, default=100, help="builds per size (100)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    add_postgres_url(parser)
    ns = parser.parse_args(argv)
    sizes = seed.sizes_up_to(ns.max_cases)
    clock = AdjustableClock(seed.SEED_NOW, frozen=True)
    with seed.scaled_databases(ns.postgres_url, sizes, "samverkan_bench_agenda", clock) as scales:
        logs = [statement_log(scale.engine) for scale in scales]
        results = dict(zip(sizes, measure(scales, ns.requests, logs), strict=True))
    print()
    print(f"{'cases in db':>12}{'p50 ms':>9}{'p99 ms':>9}{'statements':>12}{'lines':>7}")
    for size, (p50, p99, count, lines) in results.items():
        print(f"{size:>12,}{p50:>9.2f}{p99:>9.2f}{count:>12}{lines:>7}")
    growth = results[sizes[-1]][0] / results[sizes[0]][0]
    same = len({r[2] for r in results.values()}) == 1
    same_lines = len({r[3] for r in results.values()}) == 1
    ok = growth <= TARGET
    print()
    print(
        f"{'PASS' if ok else 'FAIL'}  agenda build p50 {growth:.2f}x from {sizes[0]:,} to "
        f"{sizes[-1]:,} cases in the database (builds taken in turn) <= {TARGET}x"
    )
    print(f"{'PASS' if same else 'FAIL'}  the same statements per build at every size")
    print(f"{'PASS' if same_lines else 'FAIL'}  the same agenda at every size")
    return 0 if same and same_lines and (ok or not ns.strict) else 1


if __name__ == "__main__":
    sys.exit(main())
