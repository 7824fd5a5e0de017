"""``samverkan`` command line: serve, sandbox, migrate."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.settings import Settings, SettingsError, load_settings


def _fail(message: str) -> int:
    print(f"samverkan: {message}", file=sys.stderr)
    return 2


def _check_schema(settings: Settings) -> str | None:
    """Bring SQLite up to date automatically; on PostgreSQL ask for ``samverkan migrate``.

    Returns one line saying what is wrong, or None.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from storage.db import alembic_config, create_db_engine, migrate

    try:
        if settings.database_url.startswith("sqlite"):
            migrate(settings.database_url)
            return None
        engine = create_db_engine(settings.database_url)
        try:
            with engine.connect() as conn:
                current = MigrationContext.configure(conn).get_current_revision()
        finally:
            engine.dispose()
    except (SQLAlchemyError, ArgumentError, ImportError, OSError, ValueError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:160]
        return f"SAMVERKAN_DATABASE_URL: cannot reach the database ({reason})"
    head = ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()
    if current != head:
        return "the database schema is not up to date: run `samverkan migrate` first"
    return None


def _check_socket_mode(settings: Settings) -> str | None:
    """Refuse a bad app token at once; a Slack that does not answer is retried later."""
    if settings.slack_app_token is None:
        return None
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(base_url=settings.slack_api_url, timeout=10)
    try:
        client.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error in ("invalid_auth", "not_authed", "account_inactive", "token_revoked"):
            return f"SLACK_APP_TOKEN: Slack refused the app token ({error})"
    except OSError:
        pass  # Slack unreachable right now: the worker keeps trying to connect
    return None


def cmd_serve(settings: Settings) -> int:
    missing = settings.missing_for_serve()
    if missing:
        return _fail(
            "serve needs these settings: "
            + ", ".join(missing)
            + ". To try the bot without Slack, run `samverkan sandbox`."
        )
    problem = _check_schema(settings) or _check_socket_mode(settings)
    if problem:
        return _fail(problem)
    from bot.server import serve

    serve(settings)
    return 0


def cmd_migrate(settings: Settings) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import migrate

    try:
        migrate(settings.database_url)
    except (SQLAlchemyError, ImportError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:160]
        return _fail(f"SAMVERKAN_DATABASE_URL: migration failed ({reason})")
    print("samverkan: database is up to date")
    return 0


def cmd_sandbox(settings: Settings) -> int:
    from bot.sandbox_runner import run_sandbox

    return run_sandbox(settings)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="samverkan", description="Samverkan Slack bot")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the bot (HTTP, or Socket Mode with SLACK_APP_TOKEN)")
    sub.add_parser("sandbox", help="run the bot with a local stand-in for Slack")
    sub.add_parser("migrate", help="upgrade the database schema (Alembic)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _fail(str(exc))
    commands = {"serve": cmd_serve, "migrate": cmd_migrate, "sandbox": cmd_sandbox}
    return commands[args.command](settings)


if __name__ == "__main__":
    sys.exit(main())
