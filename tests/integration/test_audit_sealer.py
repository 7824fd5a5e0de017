"""Sealing after commit, as the running bot does it: a background sealer per process seals
what users' requests wrote within moments and reports its lag on /metrics; a replica
killed with SIGKILL between commit and seal loses nothing (the next sealer signs it); the
monthly log check DMs each reviewer the signed head, which verify then accepts."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.cli import main
from bot.sealer import ROUND_SPACING, Sealer, start_sealer
from domain import audit
from sandbox.webapi import SlackWebApiStub
from storage.db import transaction
from storage.models import AuditAction, AuditEvent
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, Bot, postgresql_only
from tests.integration.test_privacy_surfaces import REVIEWER, reply_to, setup_forum
from tests.support.processes import serve, stop
from tests.support.slack_driver import SlackDriver


def wait_sealed(sessions: sessionmaker[Session], timeout: float = 20.0) -> int:
    """Poll until nothing is left unsealed; returns what was left at the end."""
    deadline = time.monotonic() + timeout
    while True:
        with sessions() as s:
            left = audit.backlog(s).count
        if left == 0 or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def metric(url: str, name: str) -> float:
    with urllib.request.urlopen(url + "/metrics", timeout=5) as response:
        body = response.read().decode()
    match = re.search(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+-]+)$", body, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


def test_the_background_sealer_signs_a_users_audited_read_within_moments(bot: Bot) -> None:
    setup_forum(bot)
    sealer = start_sealer(bot.runtime)
    assert sealer is not None
    try:
        wait_sealed(bot.sessions)
        reply_to(bot, "logg", REVIEWER)  # an audited read of the log itself
        assert wait_sealed(bot.sessions, timeout=5) == 0
        with bot.sessions() as s:
            looked = s.scalars(
                select(AuditEvent).where(AuditEvent.object_type == "audit_log")
            ).one()
            assert looked.chain == "T0001" and looked.seq and looked.hash
            assert audit.verify(s).ok
        assert metric(bot.url, "samverkan_audit_unsealed_seconds") == 0.0
        assert metric(bot.url, "samverkan_audit_unsealed_events") == 0.0
    finally:
        sealer.stop()


@postgresql_only  # on SQLite a held chain holds the whole database (BEGIN IMMEDIATE)
def test_the_lag_metric_shows_the_oldest_unsealed_event_while_a_chain_is_held(bot: Bot) -> None:
    for ref in ("1", "2"):
        with transaction(bot.sessions) as s:
            audit.record(
                s,
                bot.clock,
                actor="U1",
                action=AuditAction.READ,
                object_type="x",
                object_ref=ref,
                team_id="T0001",
            )
        if ref == "1":
            audit.seal_pending(bot.sessions)  # the chain's head exists
    bot.clock.advance(dt.timedelta(seconds=90))
    sealer = Sealer(bot.sessions, bot.clock, audit.current_keys())
    other = bot.sessions()
    other.begin()
    try:
        # Another sealer holds the chain: this one skips it (SKIP LOCKED) and reports the lag.
        audit.seal_chain(other, "T0001", wait=True, limit=0)
        assert sealer.run_once() == 0
        assert metric(bot.url, "samverkan_audit_unsealed_seconds") == pytest.approx(90, abs=1)
    finally:
        other.rollback()
        other.close()
    assert sealer.run_once() == 1
    assert metric(bot.url, "samverkan_audit_unsealed_seconds") == 0.0


class CountingSealer(Sealer):
    """The real sealer, counting the rounds it runs."""

    rounds = 0

    def run_once(self, *, hinted_only: bool = False) -> int:
        self.rounds += 1
        return super().run_once(hinted_only=hinted_only)


def test_a_steady_stream_of_commits_is_sealed_in_a_few_larger_rounds(bot: Bot) -> None:
    """Every audited commit wakes the sealer; under a steady stream (a busy Thursday) it
    still seals at most four times a second (each round costs a transaction and the head's
    lock), and a commit after a quiet spell is sealed after the short delay alone."""
    sealer = CountingSealer(bot.sessions, bot.clock, audit.current_keys(), idle=30.0)
    sealer.start()

    def commit(ref: str) -> None:
        with transaction(bot.sessions) as s:
            audit.record(
                s,
                bot.clock,
                actor="U1",
                action=AuditAction.READ,
                object_type="x",
                object_ref=ref,
                team_id="T0001",
            )

    try:
        started = time.monotonic()
        written = 0
        while time.monotonic() - started < 1.5:
            commit(str(written))
            written += 1
            time.sleep(0.01)
        assert wait_sealed(bot.sessions) == 0
        # 1.5 s of commits every ~10 ms: a round per 0.25 s, and the first and the last.
        assert written > 50 and sealer.rounds <= 8, (written, sealer.rounds)
        # Quiet now (a wake-up during the last round ran one more): the next commit is
        # sealed after the 50 ms delay, not a full spacing.
        time.sleep(2 * ROUND_SPACING + sealer.delay)
        assert sealer.pause_before_round(time.monotonic()) == sealer.delay
        commit("after")
        assert wait_sealed(bot.sessions, timeout=5) == 0
    finally:
        sealer.stop()


def test_the_monthly_log_check_sends_the_signed_head_that_verify_accepts(
    bot: Bot,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_forum(bot)
    bot.clock.set(dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC))  # Tuesday 1 December
    bot.run_due_work()
    (dm,) = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == REVIEWER]
    assert "Loggens signerade huvud" in dm.args["text"]
    found = re.search(r"`(sva1:[^`]+)`", dm.args["text"])
    assert found
    line = found.group(1)
    assert line.startswith("sva1:T0001:") and not line.startswith("sva1:T0001:0:")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", database_url)
    assert main(["audit", "verify", "--team", "T0001", "--anchor", line]) == 0
    assert "OK" in capsys.readouterr().out
    # The reviewer's own look at the log still works afterwards.
    assert "FOSSAM" in reply_to(bot, "logg", REVIEWER)


# --- a replica killed between commit and seal -----------------------------------------------


def kill_tree(pid: int) -> None:
    """SIGKILL a process and its children at once (gunicorn's master and workers)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry.name))
    for victim in [*children, pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)


@pytest.mark.slow
def test_a_replica_killed_under_load_loses_no_audit_event_and_the_next_sealer_signs_them(
    database_url: str,
    sessions: sessionmaker[Session],
    slack: SlackWebApiStub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    bot: Bot,
) -> None:
    setup_forum(bot)
    procs = []

    def replica(name: str, **extra: str) -> tuple[str, object]:
        workdir = tmp_path / name
        workdir.mkdir()
        settings = {
            "SAMVERKAN_DATABASE_URL": database_url,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SAMVERKAN_SLACK_API_URL": slack.base_url,
            "SAMVERKAN_WEB_CONCURRENCY": "2",
            "SAMVERKAN_WEB_THREADS": "4",
            "SAMVERKAN_SCHEDULER_INTERVAL": "3600",
            "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
            **extra,
        }
        served = serve(settings, workdir)
        procs.append(served.proc)
        return served.url, served.proc

    try:
        # Replica A seals only every few seconds after a commit: a wide window to die in.
        url_a, proc_a = replica("a", SAMVERKAN_AUDIT_SEAL_DELAY_MS="4000")
        driver = SlackDriver(url_a, SIGNING_SECRET, response_url_base=slack.response_url_base)
        stop_load = threading.Event()

        def load() -> None:
            while not stop_load.is_set():
                try:
                    driver.command("logg", user=REVIEWER)  # acked at once, answered after commit
                except OSError:
                    return
                time.sleep(0.02)

        def answered() -> int:
            return len([c for c in slack.calls_to("response_url") if "FOSSAM" in str(c.args)])

        with ThreadPoolExecutor(4) as pool:
            for _ in range(4):
                pool.submit(load)
            deadline = time.monotonic() + 40
            while answered() < 40 and time.monotonic() < deadline:
                time.sleep(0.05)
            kill_tree(proc_a.pid)  # type: ignore[attr-defined]
            replies = answered()
            stop_load.set()
        proc_a.wait(timeout=10)  # type: ignore[attr-defined]
        with sessions() as s:
            logged = s.scalar(
                select(text("count(*)"))
                .select_from(AuditEvent)
                .where(AuditEvent.object_type == "audit_log")
            )
            left = audit.backlog(s).count
        assert replies >= 40
        assert logged >= replies  # every answered request's event was committed
        assert left > 0  # A died with committed events it had not sealed

        # Replica B's sealer signs them; verify (without sealing itself) passes.
        replica("b")
        assert wait_sealed(sessions) == 0
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("SAMVERKAN_DATABASE_URL", database_url)
        assert main(["audit", "verify", "--no-seal"]) == 0
        out = capsys.readouterr().out
        assert "audit log OK" in out and "not sealed yet" not in out
        with sessions() as s:
            assert (
                s.scalar(
                    select(text("count(*)")).select_from(AuditEvent).where(AuditEvent.seq.is_(None))
                )
                == 0
            )
    finally:
        for proc in procs:
            if proc.poll() is None:
                stop(proc)
