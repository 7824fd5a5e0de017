"""What a replica's processes import before their first request (issue 18: one replica idles
under 200 MB RSS). Each check runs in a fresh interpreter, importing what that process of
`samverkan serve` imports: what is not imported costs no memory in any replica."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import ROOT

# The gunicorn master of a one-worker replica (bot.master): its plan, then the arbiter's
# application, which makes the due-work runner's supervisor.
MASTER = """
import json, sys
from bot import logs
from bot.server import Plan, Server
plan = Plan(bind="127.0.0.1:0", workers=1, threads=2, log_level="INFO", apart=True,
            sealer=True, socket_mode=False)
Server(plan)
print(json.dumps(sorted(sys.modules)))
"""

# A request worker after Server.load: the settings, the whole runtime (bolt app, engine).
WORKER = """
import json, sys
from bot.settings import load_settings
from bot.wiring import build_runtime
runtime = build_runtime(load_settings())
print(json.dumps(sorted(sys.modules)))
from domain.privacy import find_identifying
found = find_identifying("ring mig på 070-123 45 67")
print(json.dumps({"found": bool(found), "loaded": "phonenumbers" in sys.modules}))
"""


def run(code: str, tmp_path: Path, **env: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMVERKAN_"))},
            "PYTHONPATH": str(ROOT),
            "SAMVERKAN_DATABASE_URL": f"sqlite:///{tmp_path / 'idle.db'}",
            "SLACK_SIGNING_SECRET": "s" * 32,
            "SLACK_BOT_TOKEN": "xoxb-test",
            **env,
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()


def test_the_small_master_does_not_import_prometheus_client(tmp_path: Path) -> None:
    (modules,) = run(MASTER, tmp_path)
    loaded = json.loads(modules)
    assert "gunicorn.arbiter" in loaded or "gunicorn.app.base" in loaded
    # The runner's gauge is made in the runner; the master needs no metrics of its own.
    assert "prometheus_client" not in loaded
    assert "pydantic" not in loaded and "sqlalchemy" not in loaded


def test_an_idle_worker_has_not_imported_phonenumbers_until_a_text_needs_it(
    tmp_path: Path,
) -> None:
    modules, checked = run(WORKER, tmp_path)
    loaded = json.loads(modules)
    assert "slack_bolt" in loaded  # the worker is whole: the app is built
    for heavy in ("phonenumbers", "matplotlib", "openpyxl", "apscheduler"):
        assert heavy not in loaded, f"{heavy} is imported by every idle worker"
    # A text with a phone number still gets caught: phonenumbers comes when needed.
    assert json.loads(checked) == {"found": True, "loaded": True}


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's mallopt")
def test_serve_caps_malloc_arenas_unless_the_operator_set_them(tmp_path: Path) -> None:
    code = "from bot.server import limit_malloc_arenas; print(limit_malloc_arenas())"
    assert run(code, tmp_path) == ["True"]
    assert run(code, tmp_path, MALLOC_ARENA_MAX="4") == ["False"]


def test_serve_runs_a_one_worker_replica_with_OO_unless_the_operator_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.server import Plan, master_argv

    plan = Plan(
        bind="127.0.0.1:0",
        workers=1,
        threads=2,
        log_level="INFO",
        apart=True,
        sealer=True,
        socket_mode=False,
    )
    monkeypatch.delenv("PYTHONOPTIMIZE", raising=False)
    argv = master_argv(plan)
    assert "-OO" in argv
    assert argv[argv.index("no_debug_ranges") - 1] == "-X"  # no column tables either
    monkeypatch.setenv("PYTHONOPTIMIZE", "0")  # docstrings, asserts and columns kept
    argv = master_argv(plan)
    assert "-OO" not in argv and "no_debug_ranges" not in argv


# A request worker as gunicorn makes it: Server.load in the forked process.
LOADED_WORKER = """
import gc, json
from bot.server import Plan, Server
plan = Plan(bind="127.0.0.1:0", workers=1, threads=2, log_level="INFO", apart=True,
            sealer=True, socket_mode=False)
Server(plan).load()
print(json.dumps({"frozen": gc.get_freeze_count(), "collected": len(gc.get_objects()),
                  "young_at": gc.get_threshold()[0]}))
"""


def test_a_request_worker_keeps_its_start_up_objects_out_of_collections(tmp_path: Path) -> None:
    """Python's full collection walks every object it tracks, with the GIL held: a worker
    that left its start-up objects (modules, the app, the engine) in reach walked ~130 000
    of them every few hundred requests under load. They live as long as the worker."""
    (counts,) = run(LOADED_WORKER, tmp_path)
    found = json.loads(counts)
    assert found["frozen"] > 50_000, found
    assert found["collected"] < found["frozen"] / 10, found
    # And its young collections rarer than Python's default (every 700 allocations).
    assert found["young_at"] >= 10_000, found


# Libraries only some passes or requests need (charts, documents, OAuth's cryptography, the
# year's days off, migrations) and libraries no replica needs at all (the tests' own). Each
# would be held by every replica for good if an import at boot brought it in.
HEAVY = (
    "matplotlib",
    "numpy",
    "PIL",
    "openpyxl",
    "fpdf",
    "reportlab",
    "docx",
    "cryptography",
    "holidays",
    "phonenumbers",
    "alembic",
    "mako",
    "hypothesis",
    "pytest",
    "faker",
)

# What each process of a one-worker replica holds once it idles: the request worker as
# gunicorn makes it (Server.load in the forked process), and the due-work runner after its
# first pass (bot.runner.run_runner_process: its runtime, the scheduler and the sealer).
IDLE_WORKER = """
import json, sys
from bot.server import Plan, Server
plan = Plan(bind="127.0.0.1:0", workers=1, threads=2, log_level="INFO", apart=True,
            sealer=True, socket_mode=False)
Server(plan).load()
from babel import localedata
print(json.dumps({"modules": sorted(sys.modules), "locales": sorted(localedata._cache)}))
"""

IDLE_RUNNER = """
import json, sys, threading
from bot.runner import runner_runtime, start_due_work
passed = threading.Event()
running = start_due_work(runner_runtime(None), after_tick=lambda _: passed.set())
assert passed.wait(60), "no pass of the due work within a minute"
running.stop(wait=True)
from babel import localedata
print(json.dumps({"modules": sorted(sys.modules), "locales": sorted(localedata._cache)}))
"""


def heavy_in(modules: list[str]) -> list[str]:
    return sorted({m for m in modules if m.split(".")[0] in HEAVY})


@pytest.mark.parametrize("role", ["worker", "runner"])
def test_no_heavy_module_is_imported_by_an_idle_replica(role: str, tmp_path: Path) -> None:
    """A guard against an import at boot that silently brings a heavy library back into
    every replica (issue 18): each such library is imported where it is used."""
    migrated = subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMVERKAN_"))},
            "PYTHONPATH": str(ROOT),
            "SAMVERKAN_DATABASE_URL": f"sqlite:///{tmp_path / 'idle.db'}",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    code = IDLE_WORKER if role == "worker" else IDLE_RUNNER
    (line,) = run(code, tmp_path, SAMVERKAN_SCHEDULER_INTERVAL="0.2")
    found = json.loads(line)
    assert "sqlalchemy" in found["modules"] and "slack_bolt" in found["modules"]
    if role == "runner":
        assert "apscheduler" in found["modules"]
        # No bolt app in the runner, so none of the listener modules only requests need.
        assert "handlers.app" not in found["modules"]
        assert "handlers.commands" not in found["modules"]
    assert heavy_in(found["modules"]) == []
    if role == "worker":  # the scheduler is the runner's alone
        assert "apscheduler" not in found["modules"]
    # Babel's locale data: Swedish and English only (and their root), never every locale.
    assert {name.split("_")[0] for name in found["locales"]} <= {"root", "sv", "en"}
