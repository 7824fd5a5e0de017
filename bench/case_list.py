"""`/samverkan ärenden` for a small forum while the database grows around it.

    python -m bench.case_list                       # 1 000, 100 000 and 1 000 000 cases
    python -m bench.case_list --max-cases 10000     # 1 000 and 10 000 (CI)

Builds the reply exactly as the bot does (``handlers.cases.case_list``: membership check,
the page query, rendering) on a fresh PostgreSQL database holding a small forum (500
cases) beside two big ones, which grow so the database holds 1 000, 100 000 and 1 000 000
cases (COPY, then ANALYZE as autovacuum would): one database per size, side by side. For
every scope (all, mine, my agency, a status) the first page and a deep page (keyed, after
the middle case) of the small forum, and the same of the biggest forum for reference, the
databases' replies taken in turn (1 000, 100 000, 1 000 000, 100 000, …), so a load that
comes and goes weighs on every size alike. Prints p50 per variant, the SQL statements per
reply, and the growth factor from the smallest to the largest database.

Target (issue 18): the small forum's pages at most 1.2x slower at 1 000 000 cases than at
1 000 (other forums' data costs nothing); statements per reply the same at every size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text

from bench import seed
from bench._common import add_postgres_url, statement_log, timed_side_by_side
from domain.cases import Scope
from domain.clock import AdjustableClock
from domain.i18n import Translator
from handlers.cases import case_list
from handlers.deps import Deps
from storage.models import CaseStatus

TARGET = 1.2
VARIANTS: tuple[tuple[str, Scope, CaseStatus | None], ...] = (
    ("all", "all", None),
    ("mine", "mine", None),
    ("agency", "agency", None),
    ("closed", "all", CaseStatus.CLOSED),
)


def middle_id(deps: Deps, forum_id: int, status: CaseStatus | None) -> int:
    """A key in the middle of the forum's cases (newest first): the deep page starts there."""
    with deps.sessions() as s:
        where = "forum_id = :f" + (" AND status = :s" if status else "")
        count = s.execute(
            text(f"SELECT count(*) FROM cases WHERE {where}"),
            {"f": forum_id, "s": status.value if status else None},
        ).scalar_one()
        return int(
            s.execute(
                text(f"SELECT id FROM cases WHERE {where} ORDER BY id DESC OFFSET :o LIMIT 1"),
                {"f": forum_id, "s": status.value if status else None, "o": max(0, count // 2)},
            ).scalar_one()
        )


def measure(
    scales: Sequence[seed.Scale],
    clock: AdjustableClock,
    small: bool,
    requests: int,
    logs: Sequence[list[str]],
) -> list[dict[str, tuple[float, int]]]:
    """Per database: p50 ms and statements per reply, for each variant's first and deep page
    of the small forum (or of the biggest), the databases' replies taken in turn."""
    t = Translator("sv")
    found: list[dict[str, tuple[float, int]]] = [{} for _ in scales]
    for name, scope, status in VARIANTS:
        for page in ("first", "deep"):
            replies = []
            for scale in scales:
                forum = scale.small if small else scale.big[0]
                deps = Deps(sessions=scale.sessions, clock=clock)
                after = middle_id(deps, forum.id, status) if page == "deep" else None

                def reply(
                    deps: Deps = deps,
                    channel: str = forum.channel_id,
                    scope: Scope = scope,
                    status: CaseStatus | None = status,
                    after: int | None = after,
                ) -> Any:
                    return case_list(
                        deps,
                        t,
                        team_id="T1",
                        channel_id=channel,
                        user_id="U1",
                        scope=scope,
                        status=status,
                        page=1 if after else 0,
                        after=after,
                    )

                replies.append(reply)
            counts = []
            for reply, statements in zip(replies, logs, strict=True):
                for _ in range(10):  # warm up: caches, prepared statements (after 5 runs)
                    reply()
                statements.clear()
                assert reply()["blocks"]
                counts.append(len(statements))
            latencies = timed_side_by_side(replies, requests)
            for i, (ms, count) in enumerate(zip(latencies, counts, strict=True)):
                found[i][f"{name} {page}"] = (statistics.median(ms), count)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.case_list", description=__doc__)
    parser.add_argument("--max-cases", type=int, default=seed.SIZES[-1])
    parser.add_argument(
        "--requests", type=int, default=100, help="replies per variant and size (100)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    add_postgres_url(parser)
    ns = parser.parse_args(argv)
    sizes = seed.sizes_up_to(ns.max_cases)
    clock = AdjustableClock(seed.SEED_NOW, frozen=True)
    with seed.scaled_databases(ns.postgres_url, sizes, "samverkan_bench_cases", clock) as scales:
        logs = [statement_log(scale.engine) for scale in scales]
        small = dict(zip(sizes, measure(scales, clock, True, ns.requests, logs), strict=True))
        big = dict(zip(sizes, measure(scales, clock, False, ns.requests, logs), strict=True))
    variants = list(small[sizes[0]])
    print()
    print(
        f"small forum ({seed.SMALL_CASES} cases), p50 ms per reply (statements), the "
        f"databases' replies in turn, {ns.requests} each:"
    )
    header = f"{'variant':<14}" + "".join(f"{s:>16}" for s in sizes) + f"{'growth':>9}"
    print(header)
    growths = []
    for variant in variants:
        cells = "".join(f"{small[s][variant][0]:>11.2f} ({small[s][variant][1]})" for s in sizes)
        growth = small[sizes[-1]][variant][0] / small[sizes[0]][variant][0]
        growths.append(growth)
        print(f"{variant:<14}{cells}{growth:>8.2f}x")
    total_growth = sum(small[sizes[-1]][v][0] for v in variants) / sum(
        small[sizes[0]][v][0] for v in variants
    )
    print()
    print("biggest forum (for reference), p50 ms per reply:")
    for variant in variants:
        print(f"{variant:<14}" + "".join(f"{big[s][variant][0]:>16.2f}" for s in sizes))
    same_statements = all(small[s][v][1] == small[sizes[0]][v][1] for s in sizes for v in variants)
    ok = total_growth <= TARGET
    print()
    print(
        f"{'PASS' if ok else 'FAIL'}  small forum, all variants: {total_growth:.2f}x from "
        f"{sizes[0]:,} to {sizes[-1]:,} cases <= {TARGET}x (worst variant {max(growths):.2f}x)"
    )
    print(f"{'PASS' if same_statements else 'FAIL'}  the same statements per reply at every size")
    return 0 if same_statements and (ok or not ns.strict) else 1


if __name__ == "__main__":
    sys.exit(main())
