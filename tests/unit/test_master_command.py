"""The command line `samverkan serve` exec's as a one-worker replica's master (bot.master)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.server import Plan, master_argv

PLAN = Plan(
    bind="127.0.0.1:0",
    workers=1,
    threads=2,
    log_level="INFO",
    apart=True,
    sealer=False,
    socket_mode=False,
)


def test_the_master_imports_nothing_from_its_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m` puts the working directory first on the import path; `samverkan serve` (a
    console script) never had it there, and the services run in their writable state
    directory (deploy/systemd, deploy/Dockerfile). A `bot/` or `gunicorn.py` left there was
    imported by the master in place of ours. No settings, no secret on the line either."""
    planted = tmp_path / "bot"
    planted.mkdir()
    (planted / "__init__.py").write_text("")
    (planted / "master.py").write_text("print('PLANTED')\n")
    monkeypatch.chdir(tmp_path)
    argv = master_argv(PLAN)
    assert argv[-1] == PLAN.to_json() and Plan.from_json(argv[-1]) == PLAN
    argv[-1] = "{}"  # our master starts and stops at once on an empty plan
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "PLANTED" not in done.stdout, "the master ran bot/master.py from its directory"
    assert done.returncode != 0 and "Plan" in done.stderr  # ours, refusing the empty plan
