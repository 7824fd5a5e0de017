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
from pathlib import Path

from bench._common import add_postgres_url
from bench._load import LOOPBACK
from bench._servers import Process, base_env, run_cli, start_bare_app
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


def memory_mb(pid: int) -> tuple[float, float, int]:
    """(RSS, PSS) in MB summed over the tree, and how many processes."""
    rss = pss = 0
    pids = tree(pid)
    for p in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
    return rss / 1024, pss / 1024, len(pids)


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
    results: dict[str, tuple[float, float, int]] = {}
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
                results[name] = memory_mb(server.proc.pid)
        finally:
            for server in servers.values():
                server.stop()
    print(
        f"one replica, gunicorn gthread {ns.workers} worker(s) x {ns.threads} threads, "
        f"idle {ns.idle:g} s after start-up (master + workers)"
    )
    print(f"{'server':<8}{'processes':>10}{'RSS MB':>9}{'PSS MB':>9}")
    for name, (rss, pss, count) in results.items():
        print(f"{name:<8}{count:>10}{rss:>9.0f}{pss:>9.0f}")
    bot_rss, bot_pss, _ = results["bot"]
    bare_rss = results["bare"][0]
    ok = bot_rss < TARGET_MB
    print()
    print(
        f"{'PASS' if ok else 'FAIL'}  bot replica RSS {bot_rss:.0f} MB < {TARGET_MB:.0f} MB "
        f"(PSS {bot_pss:.0f} MB; bare bolt app {bare_rss:.0f} MB RSS, "
        f"ratio {bot_rss / bare_rss:.2f}x)"
    )
    print(
        json.dumps({k: {"rss_mb": round(v[0]), "pss_mb": round(v[1])} for k, v in results.items()})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
