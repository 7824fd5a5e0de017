"""The files under deploy/ keep the bot's contracts and the production rules.

Static checks only: nothing is built or started. The Slack manifest must route everything to
``/slack/events``, compose must run two replicas on one database, and no production file may
turn on the test clock.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
EVENTS_PATH = "/slack/events"
TEST_CLOCK_FLAG = "SAMVERKAN_ALLOW_TEST_CLOCK"
REQUIRED_BOT_EVENTS = frozenset(
    {
        "app_home_opened",
        "member_left_channel",
        "member_joined_channel",
        "app_uninstalled",
        "tokens_revoked",
    }
)
# Scopes the bot must not ask for: it never reads channel history and posts only where invited.
FORBIDDEN_SCOPES = frozenset(
    {"chat:write.public", "channels:history", "groups:history", "im:history", "mpim:history"}
)
SYSTEMD_UNITS = ("systemd/samverkan.service", "systemd/samverkan-migrate.service")


def _load_yaml(name: str) -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"deploy/{name} is not a YAML mapping"
    return data


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A compose service's ``environment`` as a dict, whether written as a map or a list."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (str(item).partition("=") for item in env)
        return {key: value for key, _, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def _code_lines(text: str) -> list[str]:
    """Lines that are not blank and not ``#`` comments (Dockerfile, YAML, systemd, .env)."""
    stripped = (line.strip() for line in text.splitlines())
    return [line for line in stripped if line and not line.startswith(("#", ";"))]


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return _load_yaml("slack-manifest.yaml")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _load_yaml("compose.yaml")


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """Dockerfile instructions, one per item, with ``\\`` continuation lines joined."""
    instructions: list[str] = []
    pending = ""
    for line in _code_lines((DEPLOY / "Dockerfile").read_text(encoding="utf-8")):
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        instructions.append(pending + line)
        pending = ""
    return instructions


# --- Slack manifest -----------------------------------------------------------------------


def test_manifest_has_exactly_one_slash_command_samverkan(manifest: dict[str, Any]) -> None:
    commands = manifest["features"]["slash_commands"]
    assert len(commands) == 1
    (command,) = commands
    assert command["command"] == "/samverkan"
    assert command["url"].endswith(EVENTS_PATH)
    assert command["usage_hint"]


def test_manifest_interactivity_goes_to_events_endpoint(manifest: dict[str, Any]) -> None:
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert interactivity["request_url"].endswith(EVENTS_PATH)


def test_manifest_subscribes_to_required_events(manifest: dict[str, Any]) -> None:
    subscriptions = manifest["settings"]["event_subscriptions"]
    assert subscriptions["request_url"].endswith(EVENTS_PATH)
    missing = REQUIRED_BOT_EVENTS - set(subscriptions["bot_events"])
    assert not missing, f"events not subscribed: {sorted(missing)}"


def test_manifest_settings_and_scopes(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False
    redirect_urls = manifest["oauth_config"]["redirect_urls"]
    assert all(url.endswith("/slack/oauth_redirect") for url in redirect_urls)
    scopes = manifest["oauth_config"]["scopes"]
    assert "user" not in scopes, "the bot needs no user scopes"
    assert {"commands", "chat:write"} <= set(scopes["bot"])
    assert not FORBIDDEN_SCOPES & set(scopes["bot"])


# --- compose ------------------------------------------------------------------------------


def test_compose_runs_two_bot_replicas_on_one_database(compose: dict[str, Any]) -> None:
    services: dict[str, dict[str, Any]] = compose["services"]
    bots = {name: service for name, service in services.items() if name.startswith("bot")}
    assert set(bots) == {"bot-1", "bot-2"}

    urls = {_environment(service).get("SAMVERKAN_DATABASE_URL") for service in bots.values()}
    assert len(urls) == 1, f"replicas use different databases: {urls}"
    (url,) = urls
    assert url is not None
    assert url.startswith("postgresql+psycopg://")
    assert _environment(services["migrate"])["SAMVERKAN_DATABASE_URL"] == url

    for name, service in bots.items():
        depends_on = service["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name


def test_compose_migrate_is_one_shot(compose: dict[str, Any]) -> None:
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["migrate"]
    assert migrate.get("restart", "no") == "no"


def test_compose_never_sets_test_clock(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert TEST_CLOCK_FLAG not in _environment(service), name


def test_compose_database_has_volume_and_healthcheck(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    assert str(db["image"]).startswith("postgres:16")
    assert "healthcheck" in db
    assert any(str(volume).endswith(":/var/lib/postgresql/data") for volume in db["volumes"])


# --- Dockerfile ---------------------------------------------------------------------------


def test_dockerfile_does_not_run_as_root(dockerfile: list[str]) -> None:
    users = [line.split(None, 1)[1] for line in dockerfile if line.upper().startswith("USER ")]
    assert users, "Dockerfile has no USER line"
    user = users[-1].split(":", 1)[0].strip()
    assert user not in {"root", "0"}


def test_dockerfile_entrypoint_and_no_migration_at_build(dockerfile: list[str]) -> None:
    entrypoints = [line for line in dockerfile if line.upper().startswith("ENTRYPOINT ")]
    cmds = [line for line in dockerfile if line.upper().startswith("CMD ")]
    assert json.loads(entrypoints[-1].split(None, 1)[1]) == ["samverkan"]
    assert json.loads(cmds[-1].split(None, 1)[1]) == ["serve"]
    assert "EXPOSE 3000" in dockerfile
    assert any(line.upper().startswith("HEALTHCHECK ") for line in dockerfile)
    migrate_run = re.compile(r"^RUN\b.*\bsamverkan\s+migrate\b", re.IGNORECASE)
    assert not any(migrate_run.search(line) for line in dockerfile)


# --- all production files -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["Dockerfile", "compose.yaml", ".env.example", *SYSTEMD_UNITS])
def test_production_files_never_set_test_clock(name: str) -> None:
    lines = _code_lines((DEPLOY / name).read_text(encoding="utf-8"))
    offending = [line for line in lines if TEST_CLOCK_FLAG in line]
    assert not offending, f"deploy/{name} sets the test clock: {offending}"


@pytest.mark.parametrize("name", SYSTEMD_UNITS)
def test_systemd_units_use_env_file_and_venv(name: str) -> None:
    lines = _code_lines((DEPLOY / name).read_text(encoding="utf-8"))
    assert "EnvironmentFile=/etc/samverkan/samverkan.env" in lines
    assert "User=samverkan" in lines
    assert "NoNewPrivileges=yes" in lines
    assert "ProtectSystem=strict" in lines
    assert any(line.startswith("ExecStart=/opt/samverkan/.venv/bin/samverkan ") for line in lines)
