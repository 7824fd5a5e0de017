"""Memory of one idle replica: `samverkan serve` under gunicorn vs a bare bolt app.

    python -m bench.memory                 # 2 workers, 20 s idle after start-up
    python -m bench.memory --idle 5        # quicker (CI)

Starts the real bot (fresh migrated PostgreSQL database, scheduler running, the Slack
stand-in) and, as the baseline in the same run, ``bench.bare_app`` with the same gunicorn
workers and threads; sends each a few requests, lets it idle, then sums over the process
tree (gunicorn master + workers): RSS (what ``ps`` shows, shared pages counted in every
process) and PSS (shared pages divided among the processes that share them: what the
replica really costs). Target: the bot's replica under 200 MB RSS.
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
from bench._load import LOOPBACK
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
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--idle", type=float, default=20.0, help="seconds idle before measuring")
    add_postgres_url(parser)
    ns = parser.parse_args(argv)
    secret = secrets.token_hex(8)
    results: dict[str, list[Usage]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="samverkan-mem-") as tmp,
        temporary_database(ns.postgres_url, "samverkan_bench_mem") as url,
    ):
        workdir = Path(tmp)
        (workdir / "metrics").mkdir()
        env = base_env(workdir)
        bot_port, bare_port = free_port(), free_port()
        bot_env = {
            **env,
            "SAMVERKAN_DATABASE_URL": url,
            "SLACK_SIGNING_SECRET": secret,
            "SLACK_BOT_TOKEN": "xoxb-bench-token",
            "SAMVERKAN_SLACK_API_URL": "http://127.0.0.1:9/api/",
            "SAMVERKAN_HOST": LOOPBACK,
            "SAMVERKAN_PORT": str(bot_port),
            "SAMVERKAN_WEB_CONCURRENCY": str(ns.workers),
            "SAMVERKAN_WEB_THREADS": str(ns.threads),
            "SAMVERKAN_LOG_LEVEL": "WARNING",
        }
        run_cli([sys.executable, "-m", "bot.cli", "migrate"], bot_env, workdir)
        servers = {
            "bot": Process(
                "bot",
                [sys.executable, "-m", "bot.cli", "serve"],
                bot_env,
                workdir,
                port=bot_port,
            ),
            "bare": start_bare_app(
                workdir,
                env,
                port=bare_port,
                signing_secret=secret,
                workers=ns.workers,
                threads=ns.threads,
            ),
        }
        try:
            for server in servers.values():
                server.wait_healthy()
                assert server.port is not None
                poke(server.port)
            time.sleep(ns.idle)
            for name, server in servers.items():
                results[name] = memory(server.proc.pid)
        finally:
            for server in servers.values():
                server.stop()
    print(
        f"one replica, gunicorn gthread {ns.workers} worker(s) x {ns.threads} threads, "
        f"idle {ns.idle:g} s after start-up"
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
