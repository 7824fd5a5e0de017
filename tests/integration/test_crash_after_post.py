"""A replica killed right after Slack answered a post, before it marked the post sent:
the replica that takes over the expired lease finds the post (by the outbox key in its
message metadata) in the channel's history and does not post it again.

Real `samverkan serve` processes on the test clock; the first replica runs the test fault
hook (SAMVERKAN_TEST_CRASH_AFTER_POST, honoured only with the test flag), which SIGKILLs
its worker the moment Slack answers the agenda post. Both start side by side minutes before
the agenda is due; the first one's clock is then moved to a second before it, the second
one's only past the lease after the crash.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from domain import forums as fs
from domain import meetings
from domain.clock import AdjustableClock
from domain.scheduling import LEASE, METADATA_EVENT
from sandbox.webapi import SlackWebApiStub
from storage.db import transaction
from storage.models import OutboxMessage, OutboxStatus
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.support.forums import forum_draft
from tests.support.processes import serve_together, set_clock, stop, wait_healthy, wait_ticks

# Thursday 26 November 2026, 07:55 in Stockholm: the agenda is due at 08:00.
START = dt.datetime(2026, 11, 26, 6, 55, tzinfo=dt.UTC)
DUE_SOON = dt.datetime(2026, 11, 26, 6, 59, 59, tzinfo=dt.UTC)
CHANNEL = "C0CRASH"


@pytest.mark.slow
def test_a_post_answered_before_a_crash_is_not_posted_again(
    database_url: str,
    sessions: sessionmaker[Session],
    slack: SlackWebApiStub,
    tmp_path: Path,
) -> None:
    setup_clock = AdjustableClock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC), frozen=True)
    with transaction(sessions) as s:
        forum = fs.create_forum(
            s, setup_clock, team_id="T0001", channel_id=CHANNEL, actor="U1", draft=forum_draft()
        )
        meetings.sync_meetings(s, setup_clock, forum)
    marker = tmp_path / "crashed"
    procs = []
    ports = []

    def replica(name: str, crash: bool) -> tuple[dict[str, str], Path]:
        workdir = tmp_path / name
        workdir.mkdir()
        settings = {
            "SAMVERKAN_DATABASE_URL": database_url,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SAMVERKAN_SLACK_API_URL": slack.base_url,
            "SAMVERKAN_WEB_THREADS": "2",
            "SAMVERKAN_SCHEDULER_INTERVAL": "0.25",
            "SAMVERKAN_ALLOW_TEST_CLOCK": "1",
            "SAMVERKAN_TEST_CLOCK": START.isoformat(),
            "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
        }
        if crash:
            settings["SAMVERKAN_TEST_CRASH_AFTER_POST"] = str(marker)
        return settings, workdir

    def posts() -> list[dict[str, object]]:
        return [
            c.args
            for c in slack.calls_to("chat.postMessage", ok=True)
            if c.args["channel"] == CHANNEL
        ]

    try:
        for served in serve_together([replica("first", crash=True), replica("second", False)]):
            procs.append(served.proc)
            ports.append(served.port)
        first, second = ports
        assert posts() == []  # nothing is due before 08:00
        # The first replica reaches the agenda minute; the second's clock stays minutes
        # before it until the lease has run out.
        set_clock(f"http://127.0.0.1:{first}", DUE_SOON)
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marker.exists(), "the agenda was not posted"
        assert len(posts()) == 1
        (posted,) = posts()
        metadata = posted["metadata"]
        assert isinstance(metadata, dict) and metadata["event_type"] == METADATA_EVENT
        key = metadata["event_payload"]["key"]
        # The killed worker is replaced and its scheduler runs again; the row is still
        # claimed by the dead one.
        assert wait_healthy(f"http://127.0.0.1:{first}", timeout=40)
        wait_ticks([f"http://127.0.0.1:{first}"], 2)
        with transaction(sessions) as s:
            row = s.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == key)).one()
            assert row.status is OutboxStatus.PENDING and row.lease_until is not None
        # The lease runs out on every clock (the first replica's new worker started anew).
        later = DUE_SOON + LEASE + dt.timedelta(minutes=1)
        assert wait_healthy(f"http://127.0.0.1:{first}", timeout=40)
        for port in (first, second):
            set_clock(f"http://127.0.0.1:{port}", later)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with transaction(sessions) as s:
                row = s.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == key)).one()
                if row.status is OutboxStatus.SENT:
                    break
            time.sleep(0.3)
        assert row.status is OutboxStatus.SENT, row.last_error
        assert row.result_ts == slack.calls_to("chat.postMessage", ok=True)[0].response["ts"]
        wait_ticks([f"http://127.0.0.1:{port}" for port in (first, second)], 2)
        assert len(posts()) == 1  # once, not again after the takeover
        assert slack.count("conversations.history") >= 1
    finally:
        for proc in procs:
            stop(proc)
