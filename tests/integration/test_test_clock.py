"""The test clock is safe to have in the code: `serve` runs it only on loopback against a
Slack stand-in, only a request signed with the signing secret moves it, every move is logged
and audited, and the CLI ignores SAMVERKAN_TEST_CLOCK unless the flag is on."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import make_server

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.wiring import Runtime, build_runtime
from domain import audit
from domain import forums as fs
from domain.cases import CaseDraft, change_status, raise_case
from domain.clock import AdjustableClock
from sandbox.webapi import SlackWebApiStub
from storage.db import transaction
from storage.models import AuditEvent, CaseStatus, ConsentGiver, Effect, SipStatus
from tests.conftest import SIGNING_SECRET, _QuietHandler, _ThreadingWSGIServer, make_settings
from tests.support.forums import forum_draft
from tests.support.servers import serve_in_thread
from tests.support.slack_driver import SlackDriver
from tests.unit.test_settings_cli import run_cli

START = dt.datetime(2026, 12, 3, 6, 59, tzinfo=dt.UTC)


@dataclass
class ClockBot:
    url: str
    runtime: Runtime
    driver: SlackDriver

    @property
    def clock(self) -> AdjustableClock:
        assert isinstance(self.runtime.clock, AdjustableClock)
        return self.runtime.clock


@pytest.fixture
def clock_bot(database_url: str, slack: SlackWebApiStub) -> Iterator[ClockBot]:
    settings = make_settings(
        database_url,
        slack.base_url,
        allow_test_clock=True,
        test_clock=START.isoformat(),
        host="127.0.0.1",
    )
    runtime = build_runtime(settings)
    server = make_server(
        "127.0.0.1", 0, runtime.web, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    serve_in_thread(server)
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield ClockBot(url, runtime, SlackDriver(url, SIGNING_SECRET))
    finally:
        server.shutdown()
        server.server_close()
        runtime.engine.dispose()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        # The default host listens on every interface.
        ({}, "127.0.0.1"),
        ({"SAMVERKAN_HOST": "10.0.0.5"}, "10.0.0.5"),
        (
            {"SAMVERKAN_HOST": "127.0.0.1", "SAMVERKAN_SLACK_API_URL": "https://slack.com/api/"},
            "stand-in",
        ),
        (
            {"SAMVERKAN_HOST": "::1", "SAMVERKAN_SLACK_API_URL": "https://api.slack-gov.com/api/"},
            "stand-in",
        ),
    ],
)
def test_serve_refuses_the_test_clock_unless_on_loopback_against_a_stand_in(
    env: dict[str, str], named: str, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("SAMVERKAN_ALLOW_TEST_CLOCK=1\n")  # read from .env too
    settings = {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-x",
        "SAMVERKAN_SLACK_API_URL": "http://127.0.0.1:9/api/",
        **env,
    }
    result = run_cli("serve", env=settings, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("samverkan: SAMVERKAN_ALLOW_TEST_CLOCK:")
    assert named in lines[0]


def test_only_a_signed_request_moves_the_clock(clock_bot: ClockBot) -> None:
    before = clock_bot.clock.now()
    target = "2031-01-01T00:00:00Z"
    assert clock_bot.driver.set_clock(target, signed=False).status == 401
    forged = SlackDriver(clock_bot.url, "not-the-secret")
    assert forged.set_clock(target).status == 401
    # A signature older than five minutes (a replayed request) is refused as Slack's are.
    stale = SlackDriver(clock_bot.url, SIGNING_SECRET, clock=lambda: 1_000_000_000.0)
    assert stale.set_clock(target).status == 401
    assert clock_bot.clock.now() - before < dt.timedelta(minutes=1)
    with clock_bot.runtime.deps.sessions() as s:
        assert not s.scalars(select(AuditEvent).where(AuditEvent.object_type == "test_clock")).all()

    assert clock_bot.driver.set_clock(target).status == 200
    assert clock_bot.clock.now().year == 2031


def test_every_clock_move_is_logged_and_audited(
    clock_bot: ClockBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert clock_bot.driver.set_clock("2027-06-01T10:00:00Z").status == 200
    assert clock_bot.driver.set_clock("2030-01-01T00:00:00Z").status == 200
    moves = [r.getMessage() for r in caplog.records if "test clock moved" in r.getMessage()]
    assert len(moves) == 2
    assert "2026-12-03" in moves[0] and "2027-06-01" in moves[0]
    assert "2030-01-01" in moves[1]
    with clock_bot.runtime.deps.sessions() as s:
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "test_clock").order_by(AuditEvent.id)
        ).all()
        assert [e.detail["to"][:10] for e in events if e.detail] == ["2027-06-01", "2030-01-01"]
        assert events[0].detail is not None and events[0].detail["from"].startswith("2026-12-03")
        assert all(e.actor == "test_clock" for e in events)
        assert audit.verify(s).ok


def _closed_case(sessions: Any, clock: AdjustableClock) -> str:
    with transaction(sessions) as s:
        forum = fs.create_forum(
            s, clock, team_id="T0001", channel_id="C0001", actor="U1", draft=forum_draft()
        )
        access = fs.require_member(s, forum=forum, slack_user_id="U1")
        draft = CaseDraft(
            summary="Oro för frånvaro",
            concerns=["school_absence"],
            age_band="6-12",
            agency_ids=[],
            consent_giver=ConsentGiver.NONE,
            consent_agency_ids=[],
            consent_given_on=None,
            consent_expires_on=None,
            sip=SipStatus.NOT_RELEVANT,
            meeting=None,
        )
        case, _ = raise_case(s, clock, access=access, draft=draft)
        change_status(
            s, clock, access=access, case_id=case.id, to=CaseStatus.CLOSED, effect=Effect.YES
        )
        return case.reference


def test_the_cli_ignores_the_test_clock_without_the_flag(
    database_url: str,
    sessions: Any,
    clock: AdjustableClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A consultation closed on 23 November 2026 is due a year later: in 2040 it would go.
    reference = _closed_case(sessions, clock)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("SAMVERKAN_TEST_CLOCK", "2040-01-01T00:00:00Z")
    monkeypatch.delenv("SAMVERKAN_ALLOW_TEST_CLOCK", raising=False)
    assert main(["gallra", "--dry-run"]) == 0
    out = capsys.readouterr()
    assert reference not in out.out  # today, not 2040
    assert "SAMVERKAN_TEST_CLOCK ignored" in out.err

    monkeypatch.setenv("SAMVERKAN_ALLOW_TEST_CLOCK", "1")
    assert main(["gallra", "--dry-run"]) == 0
    out = capsys.readouterr()
    assert f"consultations: 1 would go ({reference})" in out.out
    assert "using the test clock: 2040-01-01" in out.err
