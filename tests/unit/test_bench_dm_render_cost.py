"""The DM-render benchmark runs end to end on a few forums (PostgreSQL), both ways, and
queues every invitation and reminder (no timing checked: speed is the bench's job)."""

from __future__ import annotations

import pytest

from bench.dm_render_cost import main
from tests.conftest import PG_URL, postgresql_only


@postgresql_only
def test_the_dm_render_bench_queues_every_dm_both_ways(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--forums", "2", "--agencies", "2", "--rounds", "1", "--postgres-url", PG_URL])
    out = capsys.readouterr().out
    assert code == 0, out
    # 2 forums × 2 agencies × 3 members, each DM once; rendered per recipient before.
    assert "open   before (per recipient)   pass CPU" in out
    assert "(12 calls for 12 DMs)" in out
    assert "calls for 12 DMs)" in out.split("after (per language)", 1)[1]
