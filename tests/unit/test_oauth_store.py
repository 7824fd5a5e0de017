"""The Slack OAuth stores: tokens encrypted at rest, key rotation, one-shot OAuth states.

Runs on both databases through the shared ``database_url`` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, MetaData, Table, select, text

from handlers.oauth_store import EncryptedInstallationStore, TokenDecryptionError, build_state_store
from storage.db import create_db_engine
from storage.models import slack_bots, slack_installations, slack_oauth_states
from tests.conftest import postgresql_only

CLIENT_ID = "111.222"
BOT_TOKEN = "xoxb-123-abc"
USER_TOKEN = "xoxp-456-def"
BOT_REFRESH = "xoxe-1-bot-refresh"
USER_REFRESH = "xoxe-1-user-refresh"
WEBHOOK = "https://hooks.slack.com/services/T1/B1/secretpart"
SECRETS = (BOT_TOKEN, USER_TOKEN, BOT_REFRESH, USER_REFRESH, WEBHOOK)
INSTALLED_AT = 1_767_225_600.25  # 2026-01-01T00:00:00.25Z

KEY = Fernet.generate_key().decode()
OTHER_KEY = Fernet.generate_key().decode()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A fresh migrated database per test, on SQLite and on PostgreSQL (tests/conftest.py)."""
    engine = create_db_engine(database_url, pool_size=2)
    yield engine
    engine.dispose()


def store(engine: Engine, key: str = KEY) -> EncryptedInstallationStore:
    return EncryptedInstallationStore(client_id=CLIENT_ID, engine=engine, encryption_key=key)


def installation(**overrides: Any) -> Installation:
    values: dict[str, Any] = {
        "app_id": "A1",
        "team_id": "T1",
        "team_name": "Kommunen",
        "bot_token": BOT_TOKEN,
        "bot_id": "B1",
        "bot_user_id": "UB1",
        "bot_scopes": "chat:write,commands",
        "bot_refresh_token": BOT_REFRESH,
        "bot_token_expires_in": 43_200,
        "user_id": "U1",
        "user_token": USER_TOKEN,
        "user_scopes": "identify",
        "user_refresh_token": USER_REFRESH,
        "incoming_webhook_url": WEBHOOK,
        "incoming_webhook_channel": "#samverkan",
        "incoming_webhook_channel_id": "C1",
        "installed_at": INSTALLED_AT,
    }
    values.update(overrides)
    return Installation(**values)


def raw_rows(engine: Engine, table: Table) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(table)).mappings()]


# --- encryption at rest ------------------------------------------------------------------
def test_tokens_are_encrypted_at_rest_and_decrypted_on_read(engine: Engine) -> None:
    original = installation()
    store(engine).save(original)

    # The caller's object is left alone.
    assert original.bot_token == BOT_TOKEN
    assert original.user_token == USER_TOKEN
    assert original.incoming_webhook_url == WEBHOOK

    [inst_row] = raw_rows(engine, slack_installations)
    [bot_row] = raw_rows(engine, slack_bots)
    for row in (inst_row, bot_row):
        dumped = repr(row)
        for secret in SECRETS:
            assert secret not in dumped
        assert row["client_id"] == CLIENT_ID
        assert row["team_id"] == "T1"
    fernet = Fernet(KEY.encode())
    assert fernet.decrypt(inst_row["bot_token"].encode()).decode() == BOT_TOKEN
    assert fernet.decrypt(inst_row["user_token"].encode()).decode() == USER_TOKEN
    assert fernet.decrypt(inst_row["incoming_webhook_url"].encode()).decode() == WEBHOOK
    assert fernet.decrypt(bot_row["bot_refresh_token"].encode()).decode() == BOT_REFRESH
    assert inst_row["incoming_webhook_channel_id"] == "C1"  # non-secrets stay readable

    found = store(engine).find_installation(enterprise_id=None, team_id="T1")
    assert found is not None
    assert found.bot_token == BOT_TOKEN
    assert found.bot_refresh_token == BOT_REFRESH
    assert found.user_token == USER_TOKEN
    assert found.user_refresh_token == USER_REFRESH
    assert found.incoming_webhook_url == WEBHOOK
    assert found.bot_scopes == ["chat:write", "commands"]
    assert found.bot_token_expires_at == original.bot_token_expires_at
    assert found.installed_at == pytest.approx(INSTALLED_AT, abs=1e-3)

    bot = store(engine).find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None
    assert bot.bot_token == BOT_TOKEN
    assert bot.bot_refresh_token == BOT_REFRESH
    assert bot.bot_user_id == "UB1"

    assert store(engine).find_installation(enterprise_id=None, team_id="T2") is None
    assert store(engine).find_bot(enterprise_id=None, team_id="T2") is None


def test_saving_the_same_installation_twice_updates_the_rows(engine: Engine) -> None:
    s = store(engine)
    s.save(installation())
    s.save(installation(bot_token="xoxb-123-new"))
    assert len(raw_rows(engine, slack_installations)) == 1
    assert len(raw_rows(engine, slack_bots)) == 1
    found = s.find_installation(enterprise_id=None, team_id="T1")
    assert found is not None
    assert found.bot_token == "xoxb-123-new"


def test_user_lookup_takes_the_latest_bot_token(engine: Engine) -> None:
    s = store(engine)
    s.save(installation())
    newer = Bot(
        app_id="A1",
        team_id="T1",
        bot_token="xoxb-123-rotated",
        bot_id="B1",
        bot_user_id="UB1",
        bot_scopes="chat:write",
        installed_at=INSTALLED_AT + 60,
    )
    s.save_bot(newer)
    assert newer.bot_token == "xoxb-123-rotated"
    assert "xoxb-123-rotated" not in repr(raw_rows(engine, slack_bots))

    found = s.find_installation(enterprise_id=None, team_id="T1", user_id="U1")
    assert found is not None
    assert found.bot_token == "xoxb-123-rotated"
    assert found.user_token == USER_TOKEN
    bot = s.find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None
    assert bot.bot_token == "xoxb-123-rotated"


def test_deletion_is_inherited(engine: Engine) -> None:
    s = store(engine)
    s.save(installation())
    s.delete_installation(enterprise_id=None, team_id="T1")
    s.delete_bot(enterprise_id=None, team_id="T1")
    assert s.find_installation(enterprise_id=None, team_id="T1") is None
    assert s.find_bot(enterprise_id=None, team_id="T1") is None


# --- keys ----------------------------------------------------------------------------------
def test_a_store_with_another_key_refuses_to_read(engine: Engine) -> None:
    store(engine).save(installation())
    wrong = store(engine, OTHER_KEY)
    with pytest.raises(TokenDecryptionError, match=r"slack_installations\.bot_token"):
        wrong.find_installation(enterprise_id=None, team_id="T1")
    with pytest.raises(TokenDecryptionError, match=r"slack_bots\.bot_token"):
        wrong.find_bot(enterprise_id=None, team_id="T1")


def test_plaintext_rows_are_not_handed_out_as_tokens(engine: Engine) -> None:
    # A row written by slack_sdk's own (unencrypted) store must not come back as a token.
    plain = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=engine)
    plain.installations = slack_installations
    plain.bots = slack_bots
    plain.save(installation())
    with pytest.raises(TokenDecryptionError):
        store(engine).find_installation(enterprise_id=None, team_id="T1")


def test_key_rotation_reads_old_rows_and_writes_with_the_new_key(engine: Engine) -> None:
    store(engine, OTHER_KEY).save(installation())  # OTHER_KEY plays the old key here
    rotated = store(engine, f"{KEY}, {OTHER_KEY}")

    found = rotated.find_installation(enterprise_id=None, team_id="T1")
    assert found is not None
    assert found.bot_token == BOT_TOKEN
    assert found.user_token == USER_TOKEN
    bot = rotated.find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None
    assert bot.bot_token == BOT_TOKEN

    rotated.save(installation(installed_at=INSTALLED_AT + 60))
    rows = sorted(raw_rows(engine, slack_installations), key=lambda row: row["installed_at"])
    assert Fernet(KEY.encode()).decrypt(rows[-1]["bot_token"].encode()).decode() == BOT_TOKEN
    found = store(engine, KEY).find_installation(enterprise_id=None, team_id="T1")
    assert found is not None
    assert found.bot_token == BOT_TOKEN


VALID_KEY_LITERAL = "A" * 43 + "="  # 32 zero bytes; a literal keeps test ids stable for xdist


@pytest.mark.parametrize("bad", ["", " , ", "not-a-key", f"{VALID_KEY_LITERAL},nope"])
def test_malformed_keys_are_refused_without_echoing_them(bad: str) -> None:
    with pytest.raises(ValueError, match="SAMVERKAN_TOKEN_ENCRYPTION_KEY") as info:
        EncryptedInstallationStore(client_id=CLIENT_ID, engine=None, encryption_key=bad)  # type: ignore[arg-type]
    assert "nope" not in str(info.value)
    assert "not-a-key" not in str(info.value)


def test_create_tables_creates_nothing() -> None:
    empty = create_db_engine("sqlite://")
    try:
        store(empty).create_tables()
        build_state_store(empty).create_tables()  # type: ignore[no-untyped-call]
        with empty.connect() as conn:
            tables = conn.execute(text("SELECT name FROM sqlite_master")).all()
        assert tables == []
    finally:
        empty.dispose()


# --- OAuth state ---------------------------------------------------------------------------
def test_state_is_issued_and_consumed_exactly_once(engine: Engine) -> None:
    states = build_state_store(engine)
    assert states.oauth_states is slack_oauth_states
    state = states.issue()
    assert [row["state"] for row in raw_rows(engine, slack_oauth_states)] == [state]
    assert states.consume(state) is True
    assert states.consume(state) is False
    assert states.consume("never-issued") is False


def test_expired_state_is_refused(engine: Engine) -> None:
    states = build_state_store(engine, expiration_seconds=-1)
    assert states.consume(states.issue()) is False


# --- schema stays in step with slack_sdk ----------------------------------------------------
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (
            slack_installations,
            SQLAlchemyInstallationStore.build_installations_table(
                MetaData(), "slack_installations"
            ),
        ),
        (slack_bots, SQLAlchemyInstallationStore.build_bots_table(MetaData(), "slack_bots")),
        (
            slack_oauth_states,
            SQLAlchemyOAuthStateStore.build_oauth_states_table(MetaData(), "slack_oauth_states"),
        ),
    ],
    ids=lambda table: table.name,
)
def test_our_tables_match_slack_sdk(ours: Table, theirs: Table) -> None:
    assert ours.name == theirs.name
    assert set(ours.c.keys()) == set(theirs.c.keys())
    for column in theirs.c:
        assert ours.c[column.name].nullable == column.nullable, column.name
        assert ours.c[column.name].primary_key == column.primary_key, column.name
    assert {ix.name for ix in ours.indexes} == {ix.name for ix in theirs.indexes}


# --- Enterprise Grid: a workspace's organisation ---------------------------------------------


@postgresql_only  # SQLite serialises writers: the second does not read before the first ends
def test_two_processes_noting_one_workspace_at_once_both_go_on(
    engine: Engine, database_url: str
) -> None:
    """Each process notes a workspace of an org-wide install on its first request from it
    (handlers.app.remember_org_workspaces); two workers' first requests at once both found
    no row and both inserted: the second insert waited on the first's uncommitted row, then
    failed on the primary key, and that request failed with it."""
    import threading
    import time

    from storage.models import slack_org_workspaces

    first = engine.connect()
    transaction = first.begin()
    first.execute(
        slack_org_workspaces.insert().values(client_id=CLIENT_ID, team_id="T9", enterprise_id="E1")
    )
    failed: list[BaseException] = []

    def second() -> None:
        try:
            store(engine).remember_org_workspace(team_id="T9", enterprise_id="E1")
        except BaseException as exc:  # reported below
            failed.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.5)  # the second's insert now waits on the first's row
    transaction.commit()
    first.close()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert failed == [], f"the second request failed: {failed[0].__class__.__name__}"
    rows = raw_rows(engine, slack_org_workspaces)
    assert [(r["team_id"], r["enterprise_id"]) for r in rows] == [("T9", "E1")]
    assert store(engine).find_workspace_bot("T9") is None  # no org install stored here


def test_a_grid_workspaces_own_install_is_found_by_its_workspace(engine: Engine) -> None:
    """Work no request started (the outbox, scheduled jobs) knows only the workspace. A
    workspace of an Enterprise Grid organisation installed on its own (not org-wide) is
    stored under both ids; looked up with no organisation it was not found, and its
    messages went without a token. An org-wide install of another organisation stays out."""
    grid = store(engine)
    grid.save(
        installation(
            enterprise_id="E1",
            team_id="T3",
            bot_token="xoxb-T3-own",
            bot_refresh_token=None,
            bot_token_expires_in=None,
            installed_at=INSTALLED_AT,
        )
    )
    grid.save(
        installation(
            enterprise_id="E2",
            team_id=None,
            is_enterprise_install=True,
            bot_token="xoxb-E2-org",
            bot_refresh_token=None,
            bot_token_expires_in=None,
            installed_at=INSTALLED_AT + 1,
        )
    )
    found = grid.find_workspace_bot("T3")
    assert found is not None and found.bot_token == "xoxb-T3-own"
    assert grid.find_workspace_bot("T4") is None  # neither its own nor a noted organisation
