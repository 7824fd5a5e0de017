"""The read-cost benchmark runs end to end (PostgreSQL, like the bench): every open opens the
modal and the statements per open are what tests/integration/test_case_open_statements.py
pins (no timing checked: speed is the bench's job)."""

from __future__ import annotations

import pytest

from bench.read_cost import main
from tests.conftest import PG_URL, postgresql_only


@postgresql_only
def test_the_read_cost_bench_opens_the_case_with_its_pinned_statements(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--opens", "5", "--warmup", "2", "--actions", "1", "--postgres-url", PG_URL])
    out = capsys.readouterr().out
    assert code == 0, out
    opens = next(line for line in out.splitlines() if line.startswith("case open"))
    # 6 statements, and the one action's audit event (the bench's admin raised the case).
    assert opens.split()[-1] == "7.00", out
    assert "bare app" in out and "audited forum save" in out
