"""What opening a case (the audited read of its details) costs the bot, in-process, one at a
time (no contention).

    python -m bench.read_cost                      # 500 opens on a fresh PostgreSQL database
    python -m bench.read_cost --profile out.txt    # and a cProfile (CPU time) of the opens
    python -m bench.read_cost --statements         # and the SQL of the last open

The real bolt app (``bot.wiring.build_runtime``) gets signed ``case_open`` button presses
(``bench._scenarios.read_scenario``, what ``bench.ack_latency``'s ``read`` scenario sends)
straight through its WSGI entry, without HTTP. Its lazy listeners (the audited read, the
modal built and opened through the in-process Slack stand-in) run in the request's thread
here, so the thread's CPU (``time.thread_time``: not the stand-in's server thread) is the
whole open. Prints the median and mean CPU per open and the SQL statements per open, and,
measured in the same run and taken in turn with the opens: the same button press against a
bolt app that only acks (``bench.bare_app``, configured like the bot) and an audited forum
save of the bot (``bench.save_cost``'s request), the baselines.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

from bench._common import add_postgres_url, bot_runtime, statement_log
from bench._load import Signer, saved_notice
from bench._scenarios import (
    BenchForum,
    forum_view_body,
    raise_bench_case,
    read_scenario,
    view_scenario,
)
from bench.save_cost import _post

SECRET = "bench-read-cost-secret"
TEAM = "TREAD01"
CHANNEL = "CR1"


def run_inline(executor: Executor) -> None:
    """Lazy listeners run at once in the submitting (request) thread: the open's CPU is the
    request thread's, and the open is over when its request returns."""

    def submit(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future

    executor.submit = submit  # type: ignore[method-assign]


def link_actions(runtime: Any, case_id: int, count: int) -> None:
    """``count`` actions of the case, created through the domain by the bench's admin."""
    import datetime as dt

    from bench._scenarios import ADMIN
    from domain import actions as action_service
    from domain import forums as forum_service
    from storage.db import transaction
    from storage.models import Case

    clock = runtime.clock
    with transaction(runtime.deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=TEAM, channel_id=CHANNEL, slack_user_id=ADMIN
        )
        case = session.get(Case, case_id)
        assert case is not None
        for n in range(count):
            action_service.create_action(
                session,
                clock,
                access=access,
                draft=action_service.ActionDraft(
                    description=f"Stödsamtal {n + 1} med elevhälsan",
                    agency_id=access.member.agency_id,
                    owner=ADMIN,
                    due_on=clock.now().date() + dt.timedelta(days=10 + n),
                    case_reference=case.reference,
                ),
            )


def _cpu_ms(work: Callable[[], object]) -> float:
    began = time.thread_time()
    work()
    return (time.thread_time() - began) * 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.read_cost", description=__doc__)
    parser.add_argument("--opens", type=int, default=500, help="measured opens (500)")
    parser.add_argument("--warmup", type=int, default=50, help="opens before measuring (50)")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the opens here")
    parser.add_argument("--statements", action="store_true", help="print the last open's SQL")
    parser.add_argument(
        "--actions",
        type=int,
        default=0,
        help="actions linked to the case (0: the ack_latency read scenario's bare case); "
        "the modal lists them, the rule answers for each",
    )
    add_postgres_url(parser)
    ns = parser.parse_args(argv)

    from bench.bare_app import create_app
    from bot.server import keep_out_of_collections

    signer = Signer(SECRET)
    with bot_runtime(ns.postgres_url, "samverkan_readcost", secret=SECRET) as (
        runtime,
        slack,
        url,
    ):
        run_inline(runtime.app.listener_runner.listener_executor)
        statements = statement_log(runtime.engine)
        bare = create_app(SECRET)
        try:
            forum = BenchForum(CHANNEL, "RDR")
            status, answer = _post(runtime.web, forum_view_body(TEAM, forum, creating=True), signer)
            assert status.startswith("200") and not answer.strip(), (status, answer)
            case_id = raise_bench_case(url, TEAM, CHANNEL)
            if ns.actions:
                link_actions(runtime, case_id, ns.actions)
            from sqlalchemy import text

            with runtime.engine.connect() as conn:
                forum_id = conn.execute(text("SELECT id FROM forums")).scalar_one()
            read = read_scenario(TEAM, CHANNEL, case_id)
            save = view_scenario(TEAM, [BenchForum(CHANNEL, "RDR", forum_id)])

            def request(app: Callable[..., Iterable[bytes]], body: bytes) -> Callable[[], None]:
                def post() -> None:
                    status, answer = _post(app, body, signer)
                    # A plain ack, or a save's notice that it saved (handlers.forum).
                    said = answer.strip() and saved_notice(200, answer)
                    if not status.startswith("200") or said:
                        raise SystemExit(f"refused: {status} {answer[:200]!r}")

                return post

            opened = len(slack.calls_to("views.open"))
            for n in range(ns.warmup):
                request(runtime.web, read.body(n))()
                request(bare, read.body(n))()
                request(runtime.web, save.body(n))()
            if len(slack.calls_to("views.open")) - opened != ns.warmup:
                raise SystemExit("the warm-up's opens did not all open the modal")
            keep_out_of_collections()  # as the request worker does after loading the app

            profiler = cProfile.Profile(time.thread_time) if ns.profile else None
            opens: list[float] = []
            bares: list[float] = []
            saves: list[float] = []
            open_statements = 0
            for n in range(ns.warmup, ns.warmup + ns.opens):
                # In turn, so a load that comes and goes weighs on each alike.
                statements.clear()
                if profiler:
                    profiler.enable()
                opens.append(_cpu_ms(request(runtime.web, read.body(n))))
                if profiler:
                    profiler.disable()
                open_statements += len(statements)
                last_open = list(statements)
                bares.append(_cpu_ms(request(bare, read.body(n))))
                saves.append(_cpu_ms(request(runtime.web, save.body(n))))
            gc.unfreeze()
        finally:
            runtime.engine.dispose()

    def row(label: str, cpu: list[float], count: float | None) -> str:
        median, mean = statistics.median(cpu), statistics.fmean(cpu)
        counted = f"{count:>12.2f}" if count is not None else f"{'':>12}"
        return f"{label:<58}{median:>9.2f}{mean:>9.2f}{counted}"

    n = ns.opens
    print(
        f"samverkan read cost: {n} case opens in-process, one at a time, PostgreSQL; "
        f"{ns.actions} action(s) linked to the case"
    )
    print(f"{'CPU ms per request (request thread)':<58}{'median':>9}{'mean':>9}{'statements':>12}")
    print(row("case open (ack, audited read, modal built and opened)", opens, open_statements / n))
    print(row("bare app: the same button press, only acked", bares, 0))
    print(row("bot: an audited forum save (bench.save_cost's request)", saves, None))
    print(
        f"case open / bare ack: {statistics.median(opens) / statistics.median(bares):.1f}x; "
        f"case open / audited save: {statistics.median(opens) / statistics.median(saves):.2f}x"
    )
    if ns.statements:
        for sql in last_open:
            print(" ".join(sql.split())[:200])
    if ns.profile and profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(80)
        stats.sort_stats("tottime").print_stats(40)
        ns.profile.write_text(out.getvalue())
        profiler.dump_stats(f"{ns.profile}.pstats")
        print(f"profile of the opens: {ns.profile} (and {ns.profile}.pstats)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
