"""Memory of one idle replica: `samverkan serve` under gunicorn vs a bare bolt app.

    python -m bench.memory                 # 1 worker (the default), 20 s idle after start-up
    python -m bench.memory --workers 2     # a replica with 2 request workers
    python -m bench.memory --idle 5        # quicker (CI)
    python -m bench.memory --traffic 60    # settled: a minute of /samverkan hjälp first

Starts the real bot (fresh migrated PostgreSQL database, scheduler running, the Slack
stand-in) and, as the baseline in the same run, ``bench.bare_app`` with the same gunicorn
workers and threads; sends each a few requests (or, with ``--traffic``, signed
``/samverkan hjälp`` commands for that long), lets it idle, then prints each process of the
tree (gunicorn master, workers, the bot's due-work runner) and the sums:

- RSS: resident pages, a page shared after fork counted in every process that maps it (what
  ``ps`` and ``top`` show; the sum over-counts what the replica holds);
- PSS: each shared page divided among the processes sharing it (the sum is what the replica
  really holds, what a container's memory limit sees, roughly);
- USS: private pages only (what ending that process would give back).

Target (issue 18): the bot's replica under 200 MB RSS, summed over its processes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench._common import add_postgres_url
from bench._load import LOOPBACK, Commands, Signer
from bench._scenarios import help_scenario
from bench._servers import Process, base_env, run_cli, start_bare_app
from bot.runner import RUNNER_COMM
from storage.db import temporary_database
from tests.support.processes import free_port

TARGET_MB = 200.0


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


@dataclass(frozen=True)
class Usage:
    """One process's memory in MB (from ``/proc/PID/smaps_rollup``)."""

    pid: int
    role: str
    rss: float  # resident pages, shared ones included: what ps and top show
    pss: float  # shared pages divided among the processes sharing them
    uss: float  # private pages only: what ending this process would give back


def role_of(pid: int, root: int) -> str:
    if pid == root:
        return "master"
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/comm").read_text().strip() == RUNNER_COMM:
            return "runner"
    return "worker"


def usage(pid: int, root: int) -> Usage | None:
    fields: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    for line in text.splitlines()[1:]:
        name, _, rest = line.partition(":")
        with contextlib.suppress(ValueError, IndexError):
            fields[name] = int(rest.split()[0])
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return Usage(
        pid,
        role_of(pid, root),
        fields.get("Rss", 0) / 1024,
        fields.get("Pss", 0) / 1024,
        uss / 1024,
    )


def memory(pid: int) -> list[Usage]:
    """Each process of the tree under ``pid`` (the gunicorn master)."""
    return [u for p in tree(pid) if (u := usage(p, pid)) is not None]


def poke(port: int, count: int = 5) -> None:
    for _ in range(count):
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://{LOOPBACK}:{port}/healthz", timeout=5).read()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="request workers (1, SAMVERKAN_WEB_CONCURRENCY's default)",
    )
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--idle", type=float, default=20.0, help="seconds idle before measuring")
    parser.add_argument(
        "--traffic",
        type=float,
        default=0.0,
        help="seconds of /samverkan hjälp to both servers before the idle time (settled figure)",
    )
    parser.add_argument("--rate", type=float, default=50.0, help="requests/s with --traffic")
    add_postgres_url(parser)
    ns = parser.parse_args(argv)
    secret = secrets.token_hex(8)
    results: dict[str, list[Usage]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="samverkan-mem-") as tmp,
        temporary_database(ns.postgres_url, "samverkan_bench_mem") as url,
        contextlib.ExitStack() as stack,
    ):
        workdir = Path(tmp)
        (workdir / "metrics").mkdir()
        env = base_env(workdir)
        bot_port, bare_port = free_port(), free_port()
        # The Web API stand-in (outside the measured trees), so that --traffic's replies and
        # bolt's auth.test get answers, for the bot and the bare app alike.
        stub = Process(
            "slack-stub", [sys.executable, "-m", "bench.slack_stub"], env, workdir, stdio=True
        )
        stack.callback(stub.stop)
        urls = json.loads(stub.read_line(timeout=30))
        bot_env = {
            **env,
            "SAMVERKAN_DATABASE_URL": url,
            "SLACK_SIGNING_SECRET": secret,
            "SLACK_BOT_TOKEN": "xoxb-bench-token",
            "SAMVERKAN_SLACK_API_URL": urls["base_url"],
            "SAMVERKAN_HOST": LOOPBACK,
            "SAMVERKAN_PORT": str(bot_port),
            "SAMVERKAN_WEB_CONCURRENCY": str(ns.workers),
            "SAMVERKAN_WEB_THREADS": str(ns.threads),
            "SAMVERKAN_LOG_LEVEL": "WARNING",
        }
        run_cli([sys.executable, "-m", "bot.cli", "migrate"], bot_env, workdir)
        servers: dict[str, Process] = {}
        servers["bot"] = Process(
            "bot", [sys.executable, "-m", "bot.cli", "serve"], bot_env, workdir, port=bot_port
        )
        stack.callback(servers["bot"].stop)
        servers["bare"] = start_bare_app(
            workdir,
            env,
            port=bare_port,
            signing_secret=secret,
            workers=ns.workers,
            threads=ns.threads,
            slack_api_url=urls["base_url"],
        )
        stack.callback(servers["bare"].stop)
        for server in servers.values():
            server.wait_healthy()
            assert server.port is not None
            poke(server.port)
        if ns.traffic > 0:
            scenario = help_scenario("T1", urls["response_url_base"])
            senders = [
                Commands([s.port], scenario.body, Signer(secret), ns.rate)
                for s in servers.values()
                if s.port is not None
            ]
            for sender in senders:
                sender.start()
            time.sleep(ns.traffic)
            for sender in senders:
                sender.stop()
            sent = ", ".join(
                f"{name} {len(c.latencies)} answered, {c.errors} errors"
                for name, c in zip(servers, senders, strict=True)
            )
            print(f"traffic: {ns.traffic:g} s of /samverkan hjälp at {ns.rate:g}/s ({sent})")
        time.sleep(ns.idle)
        for name, server in servers.items():
            results[name] = memory(server.proc.pid)
    print(
        f"one replica, gunicorn gthread {ns.workers} worker(s) x {ns.threads} threads, "
        f"idle {ns.idle:g} s after start-up{' and the traffic' if ns.traffic else ''}"
    )
    print(f"{'server':<8}{'process':<9}{'pid':>8}{'RSS MB':>9}{'PSS MB':>9}{'USS MB':>9}")
    for name, procs in results.items():
        for u in procs:
            print(f"{name:<8}{u.role:<9}{u.pid:>8}{u.rss:>9.1f}{u.pss:>9.1f}{u.uss:>9.1f}")
        rss, pss, uss = (sum(getattr(u, f) for u in procs) for f in ("rss", "pss", "uss"))
        print(f"{name:<8}{'sum':<9}{len(procs):>8}{rss:>9.0f}{pss:>9.0f}{uss:>9.0f}")
    bot_rss = sum(u.rss for u in results["bot"])
    bot_pss = sum(u.pss for u in results["bot"])
    bare_rss = sum(u.rss for u in results["bare"])
    ok = bot_rss < TARGET_MB
    print()
    print(
        f"{'PASS' if ok else 'FAIL'}  bot replica RSS {bot_rss:.0f} MB < {TARGET_MB:.0f} MB "
        f"(PSS {bot_pss:.0f} MB; bare bolt app {bare_rss:.0f} MB RSS, "
        f"ratio {bot_rss / bare_rss:.2f}x)"
    )
    print(
        json.dumps(
            {
                name: {
                    "rss_mb": round(sum(u.rss for u in procs)),
                    "pss_mb": round(sum(u.pss for u in procs)),
                    "uss_mb": round(sum(u.uss for u in procs)),
                    "processes": [
                        {"role": u.role, "rss_mb": round(u.rss, 1), "pss_mb": round(u.pss, 1)}
                        for u in procs
                    ],
                }
                for name, procs in results.items()
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
