"""Where the machine's CPU goes during a phase of ``bench.ack_latency``.

Reads ``utime + stime`` of each process in ``/proc/<pid>/stat`` (Linux only; elsewhere the
meter reports nothing) before and after a phase: the bot's gunicorn master, its request
workers and its due-work runner (scheduler, outbox delivery and the audit sealer), the bare
app, the Slack stand-in, the PostgreSQL backends connected to the bench's database, and the
load generator (this process). What is left of the machine's CPU (``/proc/stat``) went to
other processes: other helpers' test suites on a shared machine, PostgreSQL's own
background processes. Divided by the phase's requests, it says what one request costs
where, and that the load generator's share is the same for the bare app and the bot.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench._load import PhaseResult

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
RUNNER_STARTED = re.compile(rb"due-work runner started \(pid (\d+)\)")

# A group's name, and how it is shown.
GROUPS = ("load", "bare", "bot-master", "bot-workers", "bot-runner", "stub", "postgres", "other")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a process, None when it is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after the last ')'.
    fields = raw[raw.rindex(b")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _machine_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores), from ``/proc/stat``."""
    try:
        first = (PROC / "stat").read_text().splitlines()[0].split()
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + irq + softirq + steal) / TICKS


def _processes() -> dict[int, tuple[int, float]]:
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                found[int(entry.name)] = stat
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""


@dataclass
class Snapshot:
    seconds: dict[str, float] = field(default_factory=dict)
    machine: float = 0.0
    per_pid: dict[int, float] = field(default_factory=dict)


class CpuMeter:
    """Snapshots of the CPU seconds of each group; ``roots`` maps a group to the pid of a
    process whose descendants belong to it too (``bot`` is split into master, workers and
    runner; the runner is found by its log line)."""

    def __init__(
        self,
        roots: Mapping[str, int],
        *,
        database: str | None,
        runner_pid: Callable[[], int | None],
    ) -> None:
        self.roots = dict(roots)
        self.database = database.encode() if database else None
        self.runner_pid = runner_pid
        self.enabled = (PROC / "self" / "stat").exists()

    def _group_of(self, pid: int, procs: dict[int, tuple[int, float]]) -> str | None:
        if pid == os.getpid():
            return "load"
        bot = self.roots.get("bot")
        runner = self.runner_pid()
        chain = pid
        seen = 0
        while chain > 1 and seen < 64:
            if chain == bot:
                if pid == bot:
                    return "bot-master"
                return "bot-runner" if runner is not None and pid == runner else "bot-workers"
            for name, root in self.roots.items():
                if name != "bot" and chain == root:
                    return name
            parent = procs.get(chain)
            if parent is None:
                break
            chain = parent[0]
            seen += 1
        if self.database is not None:
            cmd = _cmdline(pid)
            # A backend's title: "postgres: <user> <database> <client> <state>".
            if cmd.startswith(b"postgres: ") and f" {self.database.decode()} ".encode() in cmd:
                return "postgres"
        return None

    def snapshot(self) -> Snapshot:
        snap = Snapshot(machine=_machine_seconds())
        if not self.enabled:
            return snap
        procs = _processes()
        for pid, (_parent, seconds) in procs.items():
            group = self._group_of(pid, procs)
            if group is None:
                continue
            snap.seconds[group] = snap.seconds.get(group, 0.0) + seconds
            snap.per_pid[pid] = seconds
        return snap

    @staticmethod
    def difference(before: Snapshot, after: Snapshot) -> dict[str, float]:
        """CPU seconds per group between two snapshots; a process that started in between
        counts from 0, one that ended in between is lost (the bench's are long-lived)."""
        spent: dict[str, float] = {}
        for group in GROUPS:
            if group == "other":
                continue
            spent[group] = max(0.0, after.seconds.get(group, 0.0) - before.seconds.get(group, 0.0))
        known = sum(spent.values())
        spent["other"] = max(0.0, (after.machine - before.machine) - known)
        return spent


def runner_pid_from_log(log_path: Path) -> Callable[[], int | None]:
    """The due-work runner's pid, read from the bot's log (the latest start)."""

    def find() -> int | None:
        try:
            found = RUNNER_STARTED.findall(log_path.read_bytes())
        except OSError:
            return None
        return int(found[-1]) if found else None

    return find


def format_row(spent: Mapping[str, float], requests: int) -> str:
    """CPU milliseconds per request for each group with any, and the total."""
    if requests <= 0:
        return ""
    parts = [
        f"{group} {spent[group] * 1000 / requests:.2f}"
        for group in GROUPS
        if spent.get(group, 0.0) > 0
    ]
    total = sum(spent.values()) * 1000 / requests
    return f"CPU ms/request: {', '.join(parts)} (machine {total:.2f})"


BOT_GROUPS = ("bot-master", "bot-workers", "bot-runner", "postgres", "stub")


def wait_until_idle(meter: CpuMeter, *, timeout: float = 60.0, step: float = 0.5) -> float:
    """Wait until the bot (and its database and stand-in) use under 10 % of a core, at most
    ``timeout`` seconds; return the seconds waited."""
    import time

    if not meter.enabled:
        return 0.0
    began = time.monotonic()
    last = meter.snapshot()
    while time.monotonic() - began < timeout:
        time.sleep(step)
        now = meter.snapshot()
        spent = CpuMeter.difference(last, now)
        last = now
        if sum(spent[g] for g in BOT_GROUPS) < 0.1 * step:
            break
    return time.monotonic() - began


def cpu_table(results: Sequence[PhaseResult]) -> None:
    """Median CPU milliseconds per request of each group, per scenario and target."""
    import statistics

    rows: dict[tuple[str, str], list[PhaseResult]] = {}
    for r in results:
        if r.cpu_seconds and r.completed:
            rows.setdefault((r.scenario, r.target), []).append(r)
    if not rows:
        return
    header = f"{'CPU ms per request':<15}" + "".join(f"{g:>12}" for g in GROUPS) + f"{'total':>9}"
    print(header)
    print("-" * len(header))
    for (scenario, target), phases in rows.items():
        cells = []
        for group in GROUPS:
            cells.append(
                statistics.median(
                    p.cpu_seconds.get(group, 0.0) * 1000 / p.completed for p in phases
                )
            )
        total = statistics.median(sum(p.cpu_seconds.values()) * 1000 / p.completed for p in phases)
        print(
            f"{scenario + ' ' + target:<15}"
            + "".join(f"{c:>12.2f}" for c in cells)
            + f"{total:>9.2f}"
        )
    print(
        "(median over the phases; 'other' is the rest of the machine: other processes, "
        "PostgreSQL's background work)"
    )
    print()
