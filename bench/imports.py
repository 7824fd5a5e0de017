"""What each process of a replica holds from its imports, by package, beside a bare bolt app.

    python -m bench.imports              # every role, the 25 biggest packages
    python -m bench.imports --top 60     # more rows
    python -m bench.imports --modules    # also list the modules a worker has and bare has not

Each role is a fresh interpreter that imports what that process of ``samverkan serve``
imports before it idles (the gunicorn master's preload; a worker: that and the PostgreSQL
driver its engine loads on the first connection; the due-work runner: that and the scheduler
and the sealer) or, for the baseline, ``bench.bare_app``. Two figures per role:

- RSS after the imports, in a run without tracing (what ``bench.memory`` sums per process,
  less what the running server adds: its engine, bolt's App, threads, requests);
- the Python heap each package's modules made while they were imported (``tracemalloc``,
  each module counted without the modules it imported in turn), in a second run: code
  objects, classes, module dicts, tables built at import. Where the ~60 MB of heap per
  process comes from, and what importing something lazily could give back.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib._bootstrap as bootstrap
import json
import subprocess
import sys
import tracemalloc
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

OURS = ("bot", "handlers", "domain", "storage", "sandbox", "bench")
_MASTER = [
    "bot.cli",
    "bot.settings",
    "gunicorn.app.base",
    "gunicorn.workers.gthread",
    "bot.server",
    "bot.runner",
    "bot.wiring",
]
_WORKER = [*_MASTER, "psycopg", "sqlalchemy.dialects.postgresql.psycopg"]
ROLES: dict[str, list[str]] = {
    "bare": ["gunicorn.app.base", "gunicorn.workers.gthread", "bench.bare_app"],
    "master": _MASTER,
    "worker": _WORKER,
    "runner": [*_WORKER, "bot.scheduler", "bot.sealer"],
}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def package(name: str) -> str:
    """Ours by two levels (``domain.steering``), the rest by their top-level package."""
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] in OURS else parts[0]


def traced(modules: Sequence[str]) -> dict[str, Any]:
    """Import ``modules`` with each module's own heap traced (not its imports')."""
    tracemalloc.start()
    stack: list[list[int]] = []
    own: dict[str, int] = {}
    load = bootstrap._load_unlocked  # type: ignore[attr-defined]

    def measured(spec: Any) -> Any:
        stack.append([tracemalloc.get_traced_memory()[0], 0])
        try:
            return load(spec)
        finally:
            began, nested = stack.pop()
            total = tracemalloc.get_traced_memory()[0] - began
            own[spec.name] = total - nested
            if stack:
                stack[-1][1] += total

    bootstrap._load_unlocked = measured  # type: ignore[attr-defined]
    try:
        for name in modules:
            importlib.import_module(name)
    finally:
        bootstrap._load_unlocked = load  # type: ignore[attr-defined]
    gc.collect()
    by_package: Counter[str] = Counter()
    for name, size in own.items():
        by_package[package(name)] += size
    heap = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return {
        "heap_mb": heap / 2**20,
        "packages": {k: v / 2**20 for k, v in by_package.items()},
    }


def plain(modules: Sequence[str]) -> dict[str, Any]:
    before = rss_mb()
    for name in modules:
        importlib.import_module(name)
    gc.collect()
    return {
        "interpreter_mb": before,
        "rss_mb": rss_mb(),
        "modules": sorted(sys.modules),
    }


def child(role: str, mode: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.imports", "--child", role, "--mode", mode],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--modules", action="store_true")
    parser.add_argument("--child", choices=list(ROLES), help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=["plain", "traced"], help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)
    if ns.child:
        measure = traced if ns.mode == "traced" else plain
        print(json.dumps(measure(ROLES[ns.child])))
        return 0
    runs = {role: {**child(role, "plain"), **child(role, "traced")} for role in ROLES}
    roles = list(ROLES)

    def row(label: str, values: list[float], fmt: str = ".1f") -> None:
        print(f"{label:<28}" + "".join(f"{v:>9{fmt}}" for v in values))

    print(f"{'':<28}" + "".join(f"{r:>9}" for r in roles))
    row("RSS after imports, MB", [runs[r]["rss_mb"] for r in roles])
    row("  (interpreter alone)", [runs[r]["interpreter_mb"] for r in roles])
    row("modules", [len(runs[r]["modules"]) for r in roles], "d")
    row("heap of the imports, MB", [runs[r]["heap_mb"] for r in roles])
    packages = {r: dict(runs[r]["packages"]) for r in roles}
    row(
        "  of it our packages",
        [sum(v for k, v in packages[r].items() if k.split(".")[0] in OURS) for r in roles],
    )
    print(f"\nheap by package (MB), biggest in the runner first; the {ns.top} biggest (--top)")
    for name, _ in sorted(packages["runner"].items(), key=lambda kv: -kv[1])[: ns.top]:
        row(name, [packages[r].get(name, 0.0) for r in roles], ".2f")
    if ns.modules:
        extra = sorted(set(runs["worker"]["modules"]) - set(runs["bare"]["modules"]))
        print(f"\n{len(extra)} modules in a worker that the bare app has not:")
        print(" ".join(extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
