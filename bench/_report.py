"""The report of ``bench.ack_latency``: the table of phases, bot/bare ratios per round and the
verdicts against the targets.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from bench._load import PhaseResult

P99_TARGET_MS = 100.0
RATIO_TARGET = 1.5
# An audited save (issue 18): throughput at least half the bare app's, p99 at most 3x.
SAVE_RATE_TARGET = 0.5
SAVE_P99_TARGET = 3.0


def fmt(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def print_table(results: list[PhaseResult]) -> None:
    header = (
        f"{'scenario':<9}{'target':<7}{'requests':>9}{'errors':>8}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'max ms':>9}{'req/s':>9}{'p99 bot/bare':>14}"
    )
    print(header)
    print("-" * len(header))
    ratios = {s: iter(round_ratios(results, s)) for s in {r.scenario for r in results}}
    for r in results:
        ratio = ""
        if r.target == "bot":
            found = next(ratios[r.scenario], None)
            ratio = f"{found[0]:.2f}x" if found else ""
        print(
            f"{r.scenario:<9}{r.target:<7}{r.completed:>9}{r.errors:>8}{fmt(r.p50):>9}"
            f"{fmt(r.p99):>9}{fmt(r.max):>9}{fmt(r.throughput, 0):>9}{ratio:>14}"
        )


@dataclass
class Verdict:
    ok: bool
    line: str
    target: bool = True
    """True for a speed target (fatal only with --strict); False for a correctness check."""


def round_ratios(results: list[PhaseResult], scenario: str) -> list[tuple[float, float]]:
    """Per bot round: (p99 ratio, throughput ratio) against the mean of the bare phases
    run right before and right after it (the phases alternate: bare, bot, bare, …)."""
    phases = [r for r in results if r.scenario == scenario]
    found = []
    for n, r in enumerate(phases):
        if r.target != "bot":
            continue
        around = [p for p in (phases[n - 1 : n] + phases[n + 1 : n + 2]) if p.target == "bare"]
        if not around:
            continue
        p99 = statistics.fmean(p.p99 for p in around)
        rate = statistics.fmean(p.throughput for p in around)
        found.append((r.p99 / p99, r.throughput / rate))
    return found


def verdicts(results: list[PhaseResult]) -> list[Verdict]:
    found: list[Verdict] = []
    for r in results:
        if r.errors or r.timed_out:
            what = f"{r.errors} error(s)" + (", timed out" if r.timed_out else "")
            samples = "; ".join(r.error_samples[:3])
            found.append(Verdict(False, f"{r.scenario}/{r.target}: {what}: {samples}", False))
    for scenario in dict.fromkeys(r.scenario for r in results):
        ratios = round_ratios(results, scenario)
        if not ratios:
            continue
        p99_ratio = statistics.median(r[0] for r in ratios)
        rate_ratio = statistics.median(r[1] for r in ratios)
        rounds = ", ".join(f"{a:.2f}x" for a, _ in ratios)
        if scenario == "help":
            found.append(
                Verdict(
                    p99_ratio <= RATIO_TARGET,
                    f"help: median p99 bot/bare {p99_ratio:.2f}x <= {RATIO_TARGET}x "
                    f"(rounds: {rounds})",
                )
            )
        else:
            found.append(
                Verdict(
                    rate_ratio >= SAVE_RATE_TARGET,
                    f"{scenario}: median throughput bot/bare {rate_ratio:.2f}x >= "
                    f"{SAVE_RATE_TARGET}x",
                )
            )
            found.append(
                Verdict(
                    p99_ratio <= SAVE_P99_TARGET,
                    f"{scenario}: median p99 bot/bare {p99_ratio:.2f}x <= {SAVE_P99_TARGET}x "
                    f"(rounds: {rounds})",
                )
            )
    return found
