"""Slack OAuth stores (installations, bots, OAuth states)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    func,
)

from storage.models.base import Base

# --- Slack OAuth stores -------------------------------------------------------------------
# Same columns as slack_sdk's SQLAlchemy installation and state stores (a test keeps them in
# step), declared here so Alembic manages them and storage imports nothing from Slack. Token
# columns are wider because the gateway stores them Fernet-encrypted.
_TOKEN = String(500)

slack_installations = Table(
    "slack_installations",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("enterprise_url", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", _TOKEN),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", _TOKEN),
    Column("bot_token_expires_at", DateTime),
    Column("user_id", String(32), nullable=False),
    Column("user_token", _TOKEN),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", _TOKEN),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", _TOKEN),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("token_type", String(32)),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index(
        "slack_installations_idx",
        "client_id",
        "enterprise_id",
        "team_id",
        "user_id",
        "installed_at",
    ),
)

slack_bots = Table(
    "slack_bots",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", _TOKEN),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", _TOKEN),
    Column("bot_token_expires_at", DateTime),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)

# The workspaces of an Enterprise Grid organisation where the bot is installed org-wide: one
# bot token (stored with the organisation's id and no workspace) serves them all, so work that
# no request started (the outbox, scheduled jobs), which knows only the workspace, finds the
# token through this row. Written when a request of such a workspace first arrives.
slack_org_workspaces = Table(
    "slack_org_workspaces",
    Base.metadata,
    Column("client_id", String(32), primary_key=True),
    Column("team_id", String(32), primary_key=True),
    Column("enterprise_id", String(32), nullable=False),
    Column("seen_at", DateTime, nullable=False, default=func.now()),
)

slack_oauth_states = Table(
    "slack_oauth_states",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
)
