"""The agenda-cost benchmark runs end to end on a few realistic forums (PostgreSQL: its
seeding uses COPY) and posts every agenda (no timing checked: speed is the bench's job)."""

from __future__ import annotations

import pytest

from bench.agenda_cost import main
from tests.conftest import PG_URL, postgresql_only


@postgresql_only
def test_the_agenda_cost_bench_posts_every_agenda(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--forums", "3", "--postgres-url", PG_URL])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "agendas: 3;" in out and "ms per agenda" in out
