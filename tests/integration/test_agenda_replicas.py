"""Two `samverkan serve` processes (replicas, each with its own scheduler) against one
database: at the agenda minute each forum's agenda is posted once.

The processes run the test clock (SAMVERKAN_ALLOW_TEST_CLOCK) and wake up every second.
Both start minutes before Thursday 08:00 Stockholm time (nothing is due); once both answer,
both clocks are moved to a second before 08:00 at the same moment, so both schedulers reach
the agenda minute together and race for the same claim rows (however long each took to
start).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from domain import forums as fs
from domain import meetings
from domain.clock import AdjustableClock
from sandbox.webapi import SlackWebApiStub
from storage.db import transaction
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.support.forums import forum_draft
from tests.support.processes import serve_together, set_clock, stop, wait_ticks

FORUMS = 3
# Thursday 26 November 2026, 07:55 in Stockholm (CET, UTC+1): the replicas start here …
START = dt.datetime(2026, 11, 26, 6, 55, tzinfo=dt.UTC)
# … and once both are up their clocks move to 07:59:59 together.
RACE = dt.datetime(2026, 11, 26, 6, 59, 59, tzinfo=dt.UTC)


@pytest.mark.slow
def test_two_replicas_post_each_forums_agenda_exactly_once(
    database_url: str,
    sessions: sessionmaker[Session],
    slack: SlackWebApiStub,
    tmp_path: Path,
) -> None:
    setup_clock = AdjustableClock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC), frozen=True)
    channels = [f"C{n:04d}" for n in range(1, FORUMS + 1)]
    with transaction(sessions) as s:
        for n, channel in enumerate(channels):
            forum = fs.create_forum(
                s,
                setup_clock,
                team_id="T0001",
                channel_id=channel,
                actor="U1",
                draft=forum_draft(code=f"F{n}", name=f"Forum {n}"),
            )
            meetings.sync_meetings(s, setup_clock, forum)
    procs = []
    urls: list[str] = []
    try:
        replicas = []
        for replica in range(2):
            workdir = tmp_path / f"replica{replica}"
            workdir.mkdir()
            settings = {
                "SAMVERKAN_DATABASE_URL": database_url,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SAMVERKAN_SLACK_API_URL": slack.base_url,
                "SAMVERKAN_WEB_CONCURRENCY": "2",
                "SAMVERKAN_WEB_THREADS": "2",
                "SAMVERKAN_SCHEDULER_INTERVAL": "0.25",
                "SAMVERKAN_ALLOW_TEST_CLOCK": "1",
                "SAMVERKAN_TEST_CLOCK": START.isoformat(),
                "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
            }
            replicas.append((settings, workdir))
        for served in serve_together(replicas):
            procs.append(served.proc)
            urls.append(served.url)
        assert slack.calls_to("chat.postMessage") == []  # nothing is due before 08:00
        for url in urls:
            set_clock(url, RACE)

        def channel_posts() -> list[str]:
            return [
                c.args["channel"]
                for c in slack.calls_to("chat.postMessage", ok=True)
                if c.args["channel"] in channels
            ]

        deadline = time.monotonic() + 60
        while len(set(channel_posts())) < FORUMS and time.monotonic() < deadline:
            time.sleep(0.2)
        wait_ticks(urls, 3)  # several more passes of both schedulers
        posts = Counter(channel_posts())
        assert posts == {channel: 1 for channel in channels}
        previews = Counter(
            c.args["channel"]
            for c in slack.calls_to("chat.postMessage", ok=True)
            if c.args["channel"] == "U1"
        )
        assert previews == {}  # minutes before the agenda a preview is no use: none is sent
    finally:
        for proc in procs:
            stop(proc)
