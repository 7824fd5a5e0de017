"""Ack latency of the real bot under concurrent load, against a bolt app that only acks.

    python -m bench.ack_latency                      # 50 clients, 2000 requests per scenario
    python -m bench.ack_latency --requests 200       # a quick smoke (CI)
    python -m bench.ack_latency --strict             # exit 1 when a target is missed

Starts, on loopback only and on free ports: the Slack Web API stand-in (``bench.slack_stub``,
its own process), the real bot (``samverkan serve``, gunicorn) on a fresh, migrated PostgreSQL
database, and the bare app (``bench.bare_app``) with the same gunicorn workers and threads.
Then, for each scenario and each server: a warm-up, then ``--requests`` signed requests from
``--clients`` concurrent clients (one keep-alive connection each). Prints p50/p99/max latency,
throughput and the bot/bare p99 ratio, and checks the targets from the issue:
p99 < 100 ms and p99(bot) <= 1.5 x p99(bare).

Scenarios: ``help`` (``/samverkan hjälp``: ack, then a lazy listener answers through
``response_url``) and ``view`` (the ``forum_edit`` submission of the forum settings modal,
which validates, writes the forum and an audit event, then acks). Every response must be
HTTP 200 with an empty body (a plain ack); anything else counts as an error. The bench also
checks that every ``hjälp`` got its reply on ``response_url`` and that every acked submission
wrote its audit event.

Exit codes: 0 done (targets missed are reported, not fatal, unless ``--strict``); 1 errors in
the responses or side effects, or a target missed with ``--strict``; 2 the set-up failed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import secrets
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from bench._common import add_postgres_url
from bench._cpu import CpuMeter, cpu_table, format_row, runner_pid_from_log, wait_until_idle
from bench._load import LOOPBACK, HelpAnswers, PhaseResult, Scenario, Signer, run_phase
from bench._report import P99_TARGET_MS, RATIO_TARGET, Verdict, fmt, print_table, verdicts
from bench._scenarios import (
    ADMIN,
    BenchForum,
    bench_forums,
    create_forum,
    help_scenario,
    raise_bench_case,
    read_scenario,
    spread_forums,
    view_scenario,
)
from bench._servers import (
    Process,
    SetupError,
    base_env,
    bench_database,
    db_scalar,
    run_cli,
    start_bare_app,
)
from tests.support.processes import free_port

# The audit events of forum saves only (the scheduler's own jobs audit too, e.g. retention).
READS_AUDITED = "SELECT count(*) FROM audit_events WHERE object_type = 'case' AND action = 'read'"
SAVES_AUDITED = (
    "SELECT count(*) FROM audit_events WHERE object_type = 'forum' AND action = 'update'"
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ack_latency",
        description="Ack latency of the bot vs a bolt app that only acks (same gunicorn set-up).",
    )
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument(
        "--requests", type=int, default=2000, help="measured requests per scenario and server"
    )
    parser.add_argument("--warmup", type=int, default=100, help="warm-up requests (100)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="bot phases per scenario, interleaved with bare ones: bare, bot, …, bare (3)",
    )
    parser.add_argument(
        "--forums",
        type=int,
        default=1,
        help="view: spread the submissions over this many forums (1: all edit the same one)",
    )
    parser.add_argument(
        "--slack-latency-ms",
        type=float,
        default=0.0,
        help="delay every answer of the Slack stand-in (real Slack is not 0 ms away)",
    )
    parser.add_argument(
        "--scenarios",
        default="help,view,view20,read",
        help="comma-separated: help, view (audited save on --forums forums), view20 (on 20), "
        "read (open a case: ack, then an audited read)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("SAMVERKAN_WEB_CONCURRENCY", "1")),
        help="gunicorn workers for both servers (SAMVERKAN_WEB_CONCURRENCY, 1: the default)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("SAMVERKAN_WEB_THREADS", "8")),
        help="threads per worker for both servers (SAMVERKAN_WEB_THREADS, 8)",
    )
    db = parser.add_mutually_exclusive_group()
    db.add_argument("--sqlite", action="store_true", help="use a temporary SQLite file")
    db.add_argument(
        "--database-url", help="use this (existing) database as is; it is migrated, not dropped"
    )
    add_postgres_url(
        parser,
        help="server where a fresh samverkan_bench_* database is created and dropped "
        "(SAMVERKAN_BENCH_POSTGRES_URL, %(default)s)",
    )
    parser.add_argument("--log-level", default="INFO", help="the bot's SAMVERKAN_LOG_LEVEL")
    parser.add_argument(
        "--bot-command",
        help="for A/B experiments: the command that runs the bot's CLI (default "
        "'python -m bot.cli'); the bench appends 'serve' and sets the usual environment",
    )
    parser.add_argument(
        "--phase-timeout", type=float, default=300.0, help="seconds allowed per phase (300)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    ns = parser.parse_args(argv)
    scenarios = [s.strip() for s in ns.scenarios.split(",") if s.strip()]
    unknown = set(scenarios) - {"help", "view", "view20", "read"}
    if unknown or not scenarios:
        parser.error(f"--scenarios: choose from help,view,view20,read (got {ns.scenarios!r})")
    ns.scenario_list = scenarios
    if not 1 <= ns.forums <= 999:
        parser.error("--forums: 1 to 999")
    if ns.clients < 1 or ns.requests < 1 or ns.warmup < 0:
        parser.error("--clients and --requests must be positive, --warmup not negative")
    return ns


def wait_for_replies(stub: Process, expected: int, timeout: float = 30.0) -> tuple[int, float]:
    """Wait until ``expected`` replies reached ``response_url``; return (count, seconds)."""
    began = time.monotonic()
    count = 0
    while True:
        counts = stub.ask("counts")
        count = int(counts.get("response_url", {}).get("ok", 0))
        if count >= expected or time.monotonic() - began > timeout:
            return count, time.monotonic() - began
        time.sleep(0.1)


def run(ns: argparse.Namespace) -> int:
    signing_secret = secrets.token_hex(16)
    team_id = f"TB{secrets.token_hex(4).upper()}"  # reruns on a kept database do not collide
    signer = Signer(signing_secret)
    results: list[PhaseResult] = []
    checks: list[Verdict] = []
    started_at = dt.datetime.now().astimezone()

    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="samverkan-bench-")))
        (workdir / "metrics").mkdir()
        database_url, database_label = stack.enter_context(bench_database(ns, workdir))
        env = base_env(workdir)
        python = sys.executable

        print("samverkan ack-latency benchmark")
        print(f"  when      {started_at:%Y-%m-%d %H:%M %Z}")
        print(
            f"  machine   {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}"
        )
        print(f"  load      /proc/loadavg {_loadavg()}")
        print(f"  database  {database_label}")
        print(
            f"  servers   gunicorn gthread, {ns.workers} worker(s) x {ns.threads} threads, "
            "bot and bare alike"
        )
        print(
            f"  load      {ns.clients} concurrent clients (keep-alive), {ns.warmup} warm-up + "
            f"{ns.requests} measured requests per scenario and server"
        )
        extras = []
        if "view" in ns.scenario_list:
            extras.append(f"view edits {ns.forums} forum(s)")
        extras.append(f"Slack stand-in answers after {ns.slack_latency_ms:g} ms")
        if ns.bot_command:
            extras.append(f"bot command: {ns.bot_command} serve")
        print(f"  options   {'; '.join(extras)}")
        print(f"  targets   bot p99 < {P99_TARGET_MS:.0f} ms and <= {RATIO_TARGET}x bare p99")
        print(flush=True)

        bot_env = {
            **env,
            "SAMVERKAN_DATABASE_URL": database_url,
            "SLACK_SIGNING_SECRET": signing_secret,
            "SLACK_BOT_TOKEN": "xoxb-bench-token",
            "SAMVERKAN_HOST": LOOPBACK,
            "SAMVERKAN_WEB_CONCURRENCY": str(ns.workers),
            "SAMVERKAN_WEB_THREADS": str(ns.threads),
            "SAMVERKAN_LOG_LEVEL": ns.log_level.upper(),
        }
        print("setting up: migrating the database ...", flush=True)
        run_cli([python, "-m", "bot.cli", "migrate"], bot_env, workdir)

        stub_argv = [python, "-m", "bench.slack_stub", "--delay-ms", str(ns.slack_latency_ms)]
        stub = Process("slack-stub", stub_argv, env, workdir, stdio=True)
        stack.callback(stub.stop)
        urls = json.loads(stub.read_line(timeout=30))

        bot_port, bare_port = free_port(), free_port()
        bot_env["SAMVERKAN_SLACK_API_URL"] = urls["base_url"]
        bot_env["SAMVERKAN_PORT"] = str(bot_port)
        bot_argv = shlex.split(ns.bot_command) if ns.bot_command else [python, "-m", "bot.cli"]
        bot = Process("bot", [*bot_argv, "serve"], bot_env, workdir, port=bot_port)
        stack.callback(bot.stop)
        bare = start_bare_app(
            workdir,
            env,
            port=bare_port,
            signing_secret=signing_secret,
            workers=ns.workers,
            threads=ns.threads,
            slack_api_url=urls["base_url"],
        )
        stack.callback(bare.stop)
        bot.wait_healthy()
        bare.wait_healthy()
        meter = CpuMeter(
            {"bot": bot.proc.pid, "bare": bare.proc.pid, "stub": stub.proc.pid},
            database=None if ns.sqlite else database_url.rsplit("/", 1)[-1],
            runner_pid=runner_pid_from_log(bot.log_path),
        )
        print(f"  bot  (samverkan serve) on {LOOPBACK}:{bot_port}")
        print(f"  bare (bench.bare_app)  on {LOOPBACK}:{bare_port}")

        scenarios: list[Scenario] = []
        for name in ns.scenario_list:
            if name == "help":
                scenarios.append(help_scenario(team_id, urls["response_url_base"]))
            elif name == "read":
                reader = BenchForum("CR1", "RDR")
                create_forum(bot_port, signer, team_id, database_url, reader)
                case_id = raise_bench_case(database_url, team_id, reader.channel_id)
                print(f"  case {case_id} raised in forum {reader.code} for the read scenario")
                scenarios.append(read_scenario(team_id, reader.channel_id, case_id))
            else:
                wanted = bench_forums(ns.forums) if name == "view" else spread_forums(20)
                forums = [
                    create_forum(bot_port, signer, team_id, database_url, forum) for forum in wanted
                ]
                print(f"  {len(forums)} forum(s) created by {ADMIN} through the bot (forum_create)")
                scenarios.append(view_scenario(team_id, forums, name=name))
        print(flush=True)

        # Interleaved: bare, bot, bare, bot, …, bare (--rounds bot phases), so a slow
        # spell of the machine hits both; each bot round is compared with the bare phases
        # right before and after it.
        targets = [*((("bare", bare), ("bot", bot)) * ns.rounds), ("bare", bare)]
        index = 0
        for scenario in scenarios:
            sent_to_bot = 0
            bot_plain = 0  # the bot's plain acks (help), over every bot phase
            audit_before = 0
            if scenario.name.startswith("view"):
                audit_before = int(db_scalar(database_url, SAVES_AUDITED))
            elif scenario.name == "read":
                audit_before = int(db_scalar(database_url, READS_AUDITED))
            warmed: set[str] = set()
            for target, process in targets:
                assert process.port is not None
                if isinstance(scenario.check, HelpAnswers):
                    scenario.check.plain = 0  # counted per phase; the bot's are summed below
                print(f"{scenario.name}/{target}: {scenario.description}", flush=True)
                warmup = 0 if target in warmed else ns.warmup
                warmed.add(target)
                for phase, count in (("warm-up", warmup), ("measured", ns.requests)):
                    if count == 0:
                        continue
                    before = meter.snapshot()
                    result = run_phase(
                        scenario,
                        target,
                        process.port,
                        signer,
                        clients=min(ns.clients, count),
                        requests=count,
                        first_index=index,
                        timeout=ns.phase_timeout,
                    )
                    index += count
                    # The bot's work after the ack (lazy listeners, outbox, sealing) is part
                    # of what a request costs: wait for it, so it is counted here and does
                    # not run into the next (bare) phase.
                    settled = wait_until_idle(meter) if target == "bot" else 0.0
                    result.cpu_seconds = CpuMeter.difference(before, meter.snapshot())
                    print(
                        f"  {phase:<8} {result.completed} requests in {result.seconds:.2f}s, "
                        f"{result.errors} error(s), p99 {fmt(result.p99)} ms",
                        flush=True,
                    )
                    if result.cpu_seconds:
                        print(
                            f"           {format_row(result.cpu_seconds, result.completed)}"
                            + (f"; idle {settled:.1f} s after the phase" if settled else ""),
                            flush=True,
                        )
                    if target == "bot":
                        sent_to_bot += result.ok
                        if isinstance(scenario.check, HelpAnswers):
                            bot_plain += scenario.check.plain
                            scenario.check.plain = 0
                    if phase == "warm-up" and (result.errors or result.timed_out):
                        checks.append(
                            Verdict(
                                False,
                                f"{scenario.name}/{target} warm-up: {result.errors} error(s): "
                                + "; ".join(result.error_samples[:3]),
                                False,
                            )
                        )
                    if phase == "measured":
                        results.append(result)
            if isinstance(scenario.check, HelpAnswers):
                expected = bot_plain
                count, waited = wait_for_replies(stub, expected)
                checks.append(
                    Verdict(
                        count >= expected,
                        f"help: {sent_to_bot - expected} answered in the ack, {count}/{expected} "
                        f"plain acks got their reply on response_url ({waited:.1f}s after)",
                        False,
                    )
                )
            elif scenario.name == "read":
                # The reads run in lazy listeners after the ack and queue there (each
                # commits under the audit chain's head lock): wait while they progress.
                drain_began = time.monotonic()
                written, last_progress = 0, time.monotonic()
                while written < sent_to_bot and time.monotonic() - last_progress < 20:
                    time.sleep(1.0)
                    now_written = int(db_scalar(database_url, READS_AUDITED)) - audit_before
                    if now_written > written:
                        written, last_progress = now_written, time.monotonic()
                drained = time.monotonic() - drain_began
                checks.append(
                    Verdict(
                        written == sent_to_bot,
                        f"read: {written}/{sent_to_bot} acked opens were audited reads "
                        f"({drained:.0f} s after the last phase for the queued ones)",
                        False,
                    )
                )
            else:
                audit_after = int(db_scalar(database_url, SAVES_AUDITED))
                written = audit_after - audit_before
                checks.append(
                    Verdict(
                        written == sent_to_bot,
                        f"{scenario.name}: {written}/{sent_to_bot} acked submissions wrote "
                        "an audit event",
                        False,
                    )
                )
            print(flush=True)

    # All processes are stopped and the database is dropped here.
    print_table(results)
    print()
    cpu_table(results)
    print(f"load average at the end: {_loadavg()}")
    print()
    all_checks = verdicts(results) + checks
    for verdict in all_checks:
        label = "PASS" if verdict.ok else ("FAIL" if verdict.target else "ERROR")
        print(f"{label:<6}{verdict.line}")
    broken = [v for v in all_checks if not v.ok and not v.target]
    missed = [v for v in all_checks if not v.ok and v.target]
    print()
    if broken:
        print(f"RESULT: {len(broken)} correctness problem(s): see ERROR lines above.")
    elif missed:
        note = "" if ns.strict else " (reported only; pass --strict to fail the run)"
        print(f"RESULT: {len(missed)} target(s) missed{note}.")
    else:
        print("RESULT: all targets met.")

    if ns.json:
        ns.json.write_text(
            json.dumps(
                {
                    "started_at": started_at.isoformat(),
                    "cpu_count": os.cpu_count(),
                    "python": platform.python_version(),
                    "workers": ns.workers,
                    "threads": ns.threads,
                    "clients": ns.clients,
                    "database": "sqlite" if ns.sqlite else "postgresql",
                    "forums": ns.forums,
                    "slack_latency_ms": ns.slack_latency_ms,
                    "bot_command": ns.bot_command,
                    "results": [r.summary() for r in results],
                    "checks": [asdict(v) for v in all_checks],
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
    if broken:
        return 1
    return 1 if (missed and ns.strict) else 0


def _loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "-"


def main(argv: Sequence[str] | None = None) -> int:
    ns = parse_args(argv)
    try:
        return run(ns)
    except SetupError as exc:
        print(f"\nbench set-up failed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
