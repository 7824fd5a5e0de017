"""The audit key setting: ``samverkan serve`` against Slack refuses to start without
SAMVERKAN_AUDIT_KEYS (one line, exit 2); the sandbox and tests, talking to a local stand-in,
sign with the public development key; a malformed key is named by position, never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings
from domain import audit
from tests.unit.test_settings_cli import run_cli

KEY = "a-production-audit-key-of-enough-length"


def test_serve_against_slack_refuses_to_start_without_an_audit_key(tmp_path: Path) -> None:
    env = {
        "SAMVERKAN_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_BOT_TOKEN": "xoxb-1",
    }
    result = run_cli("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("samverkan: SAMVERKAN_AUDIT_KEYS: required to serve Slack")
    assert "samverkan audit new-key" in lines[0]


@pytest.mark.parametrize(
    ("api_url", "required"),
    [
        ("https://slack.com/api/", True),
        ("https://slack-gov.com/api/", True),
        ("http://127.0.0.1:4000/api/", False),
        ("http://localhost:4000/api/", False),
    ],
)
def test_only_a_local_stand_in_may_use_the_development_key(api_url: str, required: bool) -> None:
    settings = load_settings(slack_api_url=api_url)
    assert (settings.missing_audit_key() is not None) is required
    assert settings.audit_keyring().is_development
    keyed = load_settings(slack_api_url=api_url, audit_keys=KEY)
    assert keyed.missing_audit_key() is None
    assert keyed.audit_keyring().signing_id == audit.key_id(KEY.encode())


@pytest.mark.parametrize(
    ("value", "position"), [("short", "#1"), (f"{KEY},also-short", "#2"), (" , ", "no key")]
)
def test_a_malformed_audit_key_names_its_position_not_its_value(value: str, position: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(audit_keys=value)
    message = str(info.value)
    assert message.startswith("SAMVERKAN_AUDIT_KEYS: ") and position in message
    assert "also-short" not in message


def test_rotated_keys_sign_with_the_first_and_verify_with_all() -> None:
    ring = load_settings(audit_keys=f"{KEY}-new,{KEY}").audit_keyring()
    assert ring.signing_id == audit.key_id(f"{KEY}-new".encode())
    assert ring.ids() == (audit.key_id(f"{KEY}-new".encode()), audit.key_id(KEY.encode()))
    assert ring.mac(ring.ids()[1], b"x") is not None and ring.mac("nope", b"x") is None
    # The development key listed explicitly keeps its id, so its old events still verify.
    assert audit.AuditKeys.parse(f"{KEY},{audit.DEV_SECRET}").ids()[1] == audit.DEV_KEY_ID


def test_the_sealer_can_be_turned_off_and_its_delay_set() -> None:
    settings = load_settings(audit_sealer=False, audit_seal_delay_ms=200)
    assert settings.audit_sealer is False and settings.audit_seal_delay_ms == 200
    with pytest.raises(SettingsError, match="SAMVERKAN_AUDIT_SEAL_DELAY_MS"):
        load_settings(audit_seal_delay_ms=-1)
