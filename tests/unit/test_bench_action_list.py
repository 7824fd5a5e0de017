"""The action-list benchmark runs end to end on a small SQLite database (no timing checked:
speed is the bench's own job) and counts the same statements for a big and a small forum."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.action_list import main


def test_the_action_list_bench_runs_and_keeps_a_fixed_query_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    code = main(["--actions", "300", "--baseline", "10", "--requests", "12", "--database-url", url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "p99" in out and "< 100 ms" in out
    assert "PASS  statements per reply" in out
