"""``samverkan rotate-keys``: every stored Slack secret is re-encrypted with the first
SAMVERKAN_TOKEN_ENCRYPTION_KEY, so the old key can be removed and the bot still reads the
workspace's installation; a secret no key opens stops the rotation with nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import make_server

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from bot.cli import main
from bot.settings import load_settings
from bot.wiring import build_runtime
from handlers.oauth_store import EncryptedInstallationStore, TokenDecryptionError
from sandbox.webapi import SlackWebApiStub
from storage.db import create_db_engine
from storage.models import AuditEvent, slack_bots, slack_installations
from tests.conftest import SIGNING_SECRET, _QuietHandler, _ThreadingWSGIServer
from tests.support.servers import serve_in_thread
from tests.support.slack_driver import SlackDriver

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
CLIENT_ID = "1111.2222"
TOKEN = "xoxb-T0001-rotated-0001"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url, pool_size=2)
    yield engine
    engine.dispose()


def install(engine: Engine, key: str, team: str = "T0001") -> None:
    EncryptedInstallationStore(client_id=CLIENT_ID, engine=engine, encryption_key=key).save(
        Installation(
            app_id="A1",
            team_id=team,
            bot_token=TOKEN,
            bot_id="B1",
            bot_user_id="UB1",
            bot_scopes="chat:write,commands",
            bot_refresh_token="xoxe-refresh",
            user_id="U1",
            user_token="xoxp-user",
            incoming_webhook_url="https://hooks.slack.com/services/T/B/secret",
        )
    )


def secrets_at_rest(engine: Engine) -> list[str]:
    columns = [
        slack_installations.c.bot_token,
        slack_installations.c.bot_refresh_token,
        slack_installations.c.user_token,
        slack_installations.c.incoming_webhook_url,
        slack_bots.c.bot_token,
        slack_bots.c.bot_refresh_token,
    ]
    values: list[str] = []
    with engine.connect() as conn:
        for column in columns:
            values.extend(v for v in conn.scalars(select(column).order_by(column)) if v)
    return values


def rotate(
    database_url: str,
    keys: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("SAMVERKAN_TOKEN_ENCRYPTION_KEY", keys)
    code = main(["rotate-keys"])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_rotate_then_drop_the_old_key_and_the_bot_still_reads_the_installation(
    engine: Engine,
    database_url: str,
    slack: SlackWebApiStub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    install(engine, OLD)
    before = secrets_at_rest(engine)
    assert len(before) == 6
    code, out = rotate(database_url, f"{NEW},{OLD}", monkeypatch, tmp_path, capsys)
    assert code == 0, out
    assert "6 secret(s) in 2 row(s) re-encrypted" in out
    after = secrets_at_rest(engine)
    assert len(after) == 6 and not set(after) & set(before)
    new_only = Fernet(NEW.encode())
    assert all(new_only.decrypt(value.encode()) for value in after)
    with pytest.raises(TokenDecryptionError):
        EncryptedInstallationStore(
            client_id=CLIENT_ID, engine=engine, encryption_key=OLD
        ).find_installation(enterprise_id=None, team_id="T0001")

    # The bot, configured with the new key alone, answers the workspace with its token.
    settings = load_settings(
        database_url=database_url,
        slack_signing_secret=SIGNING_SECRET,
        slack_client_id=CLIENT_ID,
        slack_client_secret="client-secret",
        token_encryption_key=NEW,
        slack_api_url=slack.base_url,
    )
    runtime = build_runtime(settings)
    server = make_server(
        "127.0.0.1", 0, runtime.web, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    serve_in_thread(server)
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        driver = SlackDriver(url, SIGNING_SECRET, response_url_base=slack.response_url_base)
        assert driver.command("hjälp", user="U1").status == 200
        slack.wait_for("response_url")
        assert {c.token for c in slack.calls_to("users.info")} == {TOKEN}
    finally:
        server.shutdown()
        server.server_close()
        runtime.engine.dispose()
    with engine.connect() as conn:
        logged = conn.execute(
            select(AuditEvent.actor, AuditEvent.detail).where(
                AuditEvent.object_type == "token_keys"
            )
        ).all()
    assert [tuple(r) for r in logged] == [("cli", {"rows": 2, "secrets": 6})]


def test_a_secret_no_key_opens_stops_the_rotation_and_changes_nothing(
    engine: Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    install(engine, OLD, team="T0001")
    install(engine, OLD, team="T0002")
    with engine.begin() as conn:
        conn.execute(
            update(slack_bots).where(slack_bots.c.team_id == "T0002").values(bot_token="plain")
        )
    before = secrets_at_rest(engine)
    code, out = rotate(database_url, f"{NEW},{OLD}", monkeypatch, tmp_path, capsys)
    assert code == 2
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("samverkan: nothing was changed:")
    assert "slack_bots.bot_token" in lines[0] and "T0002" in lines[0]
    assert "plain" not in out
    assert secrets_at_rest(engine) == before


def test_without_an_encryption_key_there_is_nothing_to_rotate(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", database_url)
    monkeypatch.delenv("SAMVERKAN_TOKEN_ENCRYPTION_KEY", raising=False)
    assert main(["rotate-keys"]) == 2
    assert "nothing to rotate" in capsys.readouterr().err
