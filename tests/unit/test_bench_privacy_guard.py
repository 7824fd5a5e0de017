"""The guard benchmark's own pieces (no timing: the bench prints the figures, never a test)."""

from __future__ import annotations

from bench import _guard_before
from bench.privacy_guard import TODAY, inputs, report, run


def test_inputs_have_the_sizes_the_bench_reports() -> None:
    named = dict(inputs(2000))
    assert len(named["clean 3 000 chars"]) == 3000
    assert len(named["prose 100 kB"]) == 100_000
    assert all(
        len(text) == 2000
        for name, text in named.items()
        if "kB" not in name and "3 000" not in name
    )


def test_the_baseline_is_main_s_guard_and_the_report_compares_both() -> None:
    # The frozen baseline still finds what it found, and misses what issue #14 fixes.
    assert [f.kind for f in _guard_before.find_identifying("811218-9876", today=TODAY)] == [
        "personnummer"
    ]
    assert _guard_before.find_identifying("811218/9876", today=TODAY) == []
    figures = run(200, repeat=1, budget_s=0.0)
    lines, _ok = report(figures)
    assert lines[0].split()[:3] == ["input", "chars", "before"]
    assert any(line.startswith(("PASS", "FAIL")) and "prose 100 kB" in line for line in lines)
    by_name = {f.name: f for f in figures}
    assert by_name["personnummer"].after_found == by_name["personnummer"].before_found > 0
    assert by_name["right-to-left"].after_found > by_name["right-to-left"].before_found == 0
