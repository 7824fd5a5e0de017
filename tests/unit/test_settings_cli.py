"""Settings and the CLI: a bad setting stops start-up with one clear line (exit code 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMVERKAN_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow  # a real process
@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SAMVERKAN_PORT": "abc"}, "SAMVERKAN_PORT"),
        ({"SAMVERKAN_PORT": "70000"}, "SAMVERKAN_PORT"),
        ({"SAMVERKAN_TIMEZONE": "Mars/Olympus"}, "SAMVERKAN_TIMEZONE"),
        ({"SAMVERKAN_LANGUAGE": "de"}, "SAMVERKAN_LANGUAGE"),
        ({"SAMVERKAN_DATABASE_URL": "mysql://x"}, "SAMVERKAN_DATABASE_URL"),
        ({"SAMVERKAN_SLACK_API_URL": "slack.com"}, "SAMVERKAN_SLACK_API_URL"),
        ({"SAMVERKAN_TOKEN_ENCRYPTION_KEY": "not-a-key"}, "SAMVERKAN_TOKEN_ENCRYPTION_KEY"),
        ({"SAMVERKAN_TEST_CLOCK": "2026-12-03T07:00:00+00:00"}, "SAMVERKAN_TEST_CLOCK"),
        ({"SAMVERKAN_TEST_CRASH_AFTER_POST": "/tmp/x"}, "SAMVERKAN_TEST_CRASH_AFTER_POST"),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s"},
            "SAMVERKAN_TOKEN_ENCRYPTION_KEY",
        ),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line(
    env: dict[str, str], named: str, tmp_path: Path
) -> None:
    result = run_cli("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"samverkan: {named}:")
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # a real process
def test_serve_without_slack_settings_says_what_it_needs(tmp_path: Path) -> None:
    result = run_cli("serve", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET" in result.stderr
    assert "SLACK_BOT_TOKEN" in result.stderr
    assert "samverkan sandbox" in result.stderr


@pytest.mark.slow  # a real process
def test_migrate_creates_the_sqlite_schema(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    result = run_cli("migrate", env={"SAMVERKAN_DATABASE_URL": f"sqlite:///{db}"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert db.exists()


@pytest.mark.slow  # a real process
def test_serve_refuses_an_unmigrated_postgres_with_a_clear_line(tmp_path: Path) -> None:
    env = {
        "SAMVERKAN_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_BOT_TOKEN": "xoxb-1",
    }
    result = run_cli("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("samverkan: SAMVERKAN_DATABASE_URL: cannot reach")
    assert "Traceback" not in result.stderr


def test_settings_have_the_documented_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "SAMVERKAN_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(ROOT / "tests")  # no .env here
    settings = load_settings()
    assert settings.port == 3000
    assert settings.timezone == "Europe/Stockholm"
    assert settings.language == "sv"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.allow_test_clock is False
    assert settings.slack_retry_backoff == 0.5  # slack_sdk's own


def test_test_clock_needs_the_flag() -> None:
    # Serving refuses it; the other commands ignore it (tests/integration/test_test_clock.py).
    refused = load_settings(test_clock="2026-12-03T07:00:00+00:00").test_clock_problem()
    assert refused is not None and "SAMVERKAN_ALLOW_TEST_CLOCK" in refused
    settings = load_settings(
        test_clock="2026-12-03T07:00:00+00:00",
        allow_test_clock=True,
        host="127.0.0.1",
        slack_api_url="http://127.0.0.1:9/api/",
    )
    assert settings.test_clock is not None and settings.test_clock_problem() is None


@pytest.mark.slow  # a real process
@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////proc/no-such-dir/x.db",  # not writable
        "postgresql://postgres@127.0.0.1:5432/test?port=abc",  # malformed
    ],
)
def test_a_database_that_cannot_be_used_gives_one_line(url: str, tmp_path: Path) -> None:
    env = {"SAMVERKAN_DATABASE_URL": url, "SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1"}
    result = run_cli("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("samverkan: SAMVERKAN_DATABASE_URL:")


@pytest.mark.slow  # a real process
def test_an_unsupported_database_driver_is_refused(tmp_path: Path) -> None:
    env = {"SAMVERKAN_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/test"}
    result = run_cli("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("samverkan: SAMVERKAN_DATABASE_URL:")
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # a real process
def test_a_dotenv_that_is_not_utf8_gives_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"SAMVERKAN_LANGUAGE=sv\nNAME=\xff\xfe\n")
    result = run_cli("serve", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "samverkan: .env: the file is not UTF-8 text"


@pytest.mark.slow  # a real process
def test_a_refused_app_token_stops_socket_mode_with_one_line(tmp_path: Path) -> None:
    from sandbox.webapi import SlackWebApiStub

    with SlackWebApiStub() as slack:
        env = {
            "SAMVERKAN_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
            "SLACK_APP_TOKEN": "not-an-app-token",
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SAMVERKAN_SLACK_API_URL": slack.base_url,
        }
        result = run_cli("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("samverkan: SLACK_APP_TOKEN: Slack refused the app token")
