"""What one audited forum save costs the bot, in-process and one at a time (no contention).

    python -m bench.save_cost                   # 500 saves on a fresh PostgreSQL database
    python -m bench.save_cost --profile out.txt # and a cProfile of the ack path

The real bolt app (``bot.wiring.build_runtime``) gets signed ``forum_edit`` submissions of
the forum settings modal (the bench's ~10 kB body) straight through its WSGI entry, without
HTTP; then the audit sealer seals their events and the outbox delivers what they queued
(the channel announcement's update) to the in-process Slack stand-in. Prints, per save: the
bot's CPU (``time.process_time``) and SQL statements of the ack path, of sealing and of the
delivery, and the same for a bolt app that only acks (``bench.bare_app``), the baseline.
The target (issue 18): an audited save under 2 ms of bot CPU.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from bench._common import add_postgres_url, bot_runtime, statement_log
from bench._load import FORM, Signer, saved_notice
from bench._scenarios import BenchForum, forum_view_body, view_scenario

SECRET = "bench-save-cost-secret"
TEAM = "TSAVE01"


def _environ(body: bytes, signer: Signer) -> dict[str, Any]:
    headers = signer.headers(body, FORM)
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "3000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": FORM,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": headers["X-Slack-Request-Timestamp"],
        "HTTP_X_SLACK_SIGNATURE": headers["X-Slack-Signature"],
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }


def _post(app: Callable[..., Iterable[bytes]], body: bytes, signer: Signer) -> tuple[str, bytes]:
    status: list[str] = []

    def start_response(code: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
        status.append(code)

    answer = b"".join(app(_environ(body, signer), start_response))
    return status[0], answer


def _timed(work: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds) of ``work()``."""
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    return time.process_time() - cpu, time.perf_counter() - wall


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.save_cost", description=__doc__)
    parser.add_argument("--saves", type=int, default=500, help="measured saves (500)")
    parser.add_argument("--warmup", type=int, default=50, help="saves before measuring (50)")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the ack path here")
    parser.add_argument(
        "--statements", action="store_true", help="print the SQL of the last save's ack path"
    )
    add_postgres_url(parser)
    ns = parser.parse_args(argv)

    from bench.bare_app import create_app
    from domain import audit
    from handlers import outgoing

    signer = Signer(SECRET)
    with bot_runtime(ns.postgres_url, "samverkan_savecost", secret=SECRET) as (
        runtime,
        slack,
        _url,
    ):
        statements = statement_log(runtime.engine)
        bare = create_app(SECRET)
        try:
            forum = BenchForum("C1", "BNK")
            status, answer = _post(runtime.web, forum_view_body(TEAM, forum, creating=True), signer)
            assert status.startswith("200") and not answer.strip(), (status, answer)
            runtime.app.listener_runner.listener_executor.shutdown(wait=True)  # its lazy post
            from sqlalchemy import text

            with runtime.engine.connect() as conn:
                forum_id = conn.execute(text("SELECT id FROM forums")).scalar_one()
            forum = BenchForum("C1", "BNK", forum_id)
            scenario = view_scenario(TEAM, [forum])
            keys = runtime.settings.audit_keyring()

            def seal() -> None:
                audit.seal_pending(runtime.deps.sessions, keys=keys, wait=False, limit=100_000)

            def deliver() -> None:
                from bot.scheduler import deliver_all

                if hasattr(outgoing, "gateway"):
                    gateway = outgoing.gateway(runtime.deps, runtime.client_for_team)
                else:  # an older build (A/B with PYTHONPATH): nothing rendered at delivery
                    from handlers.gateway import WebApiGateway

                    gateway = WebApiGateway(runtime.client_for_team)
                deliver_all(runtime.deps.sessions, runtime.clock, gateway, replica="bench")

            def saves(app: Callable[..., Iterable[bytes]], first: int, count: int) -> None:
                for n in range(first, first + count):
                    status, answer = _post(app, scenario.body(n), signer)
                    # The app says it saved (the bare app's plain ack says nothing).
                    said = answer.strip() and saved_notice(200, answer)
                    if not status.startswith("200") or said:
                        raise SystemExit(f"save {n} refused: {status} {answer[:200]!r}")

            saves(runtime.web, 0, ns.warmup)
            seal()
            deliver()
            saves(bare, 0, ns.warmup)

            statements.clear()
            # CPU time, not wall: the round trips' waits are not the bot's cost.
            profiler = cProfile.Profile(time.process_time) if ns.profile else None
            if profiler:
                profiler.enable()
            ack_cpu, ack_wall = _timed(lambda: saves(runtime.web, ns.warmup, ns.saves))
            if profiler:
                profiler.disable()
            ack_statements = len(statements)
            if ns.statements:
                for sql in statements[-(ack_statements // ns.saves) :]:
                    print(" ".join(sql.split())[:160])
            statements.clear()
            seal_cpu, _ = _timed(seal)
            seal_statements = len(statements)
            statements.clear()
            deliver_cpu, _ = _timed(deliver)
            deliver_statements = len(statements)
            updates = slack.calls_to("chat.update")
            bare_cpu, bare_wall = _timed(lambda: saves(bare, ns.warmup, ns.saves))
        finally:
            runtime.engine.dispose()

    n = ns.saves
    rows = [
        ("ack path (parse, check, save, audit event, queue the update)", ack_cpu, ack_statements),
        ("sealing the audit events (the sealer)", seal_cpu, seal_statements),
        (
            f"delivering the announcement's updates ({len(updates)} sent)",
            deliver_cpu,
            deliver_statements,
        ),
    ]
    print(f"samverkan save cost: {n} forum saves in-process, one at a time, PostgreSQL")
    print(f"{'':<62}{'CPU ms/save':>12}{'statements/save':>17}")
    for label, cpu, count in rows:
        print(f"{label:<62}{cpu * 1000 / n:>12.2f}{count / n:>17.2f}")
    total = sum(r[1] for r in rows)
    print(f"{'bot, all of it':<62}{total * 1000 / n:>12.2f}{sum(r[2] for r in rows) / n:>17.2f}")
    print(f"{'bare app (only acks), the baseline':<62}{bare_cpu * 1000 / n:>12.2f}{0:>17.2f}")
    print(
        f"ack wall time per save: bot {ack_wall * 1000 / n:.2f} ms, bare {bare_wall * 1000 / n:.2f}"
    )
    verdict = "met" if total * 1000 / n < 2 else "not met"
    print(f"target: an audited save under 2 ms of bot CPU: {verdict}")
    if ns.profile and profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
        ns.profile.write_text(out.getvalue())
        profiler.dump_stats(f"{ns.profile}.pstats")  # for pstats: callers, callees
        print(f"profile of the ack path: {ns.profile} (and {ns.profile}.pstats)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
