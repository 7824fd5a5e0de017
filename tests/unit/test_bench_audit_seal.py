"""The audit-sealing benchmark runs end to end on a small SQLite database (no timing checked:
speed is the bench's own job): both modes write, the sealer drains, the log verifies."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.audit_seal import main


def test_the_audit_seal_bench_runs_both_modes_and_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    code = main(["--writers", "3", "--seconds", "0.5", "--rounds", "1", "--database-url", url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1       commit" in out and "1       after" in out
    assert "ratio    throughput after/commit" in out
    assert "verify   OK" in out
