"""``samverkan`` command line: serve, sandbox, migrate; and for the data-protection officer
``audit verify``, ``gallra [--dry-run]`` and ``export --slack-user U…``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

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
    clock_problem = settings.test_clock_problem()
    if clock_problem:
        return _fail(clock_problem)
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
    from bot import logs
    from bot.server import serve

    logs.configure(settings.log_level)
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


def _open(settings: Settings) -> tuple[Any, Any, Any] | str:
    """(engine, sessions, clock) for a privacy command, or one line saying what is wrong."""
    problem = _check_schema(settings)
    if problem:
        return problem
    from bot.wiring import build_clock
    from storage.db import create_db_engine, session_factory

    engine = create_db_engine(settings.database_url)
    clock = build_clock(settings)
    if settings.test_clock is not None and not settings.allow_test_clock:
        print(
            "samverkan: SAMVERKAN_TEST_CLOCK ignored (SAMVERKAN_ALLOW_TEST_CLOCK is not set)",
            file=sys.stderr,
        )
    elif settings.allow_test_clock:
        print(f"samverkan: using the test clock: {clock.now():%Y-%m-%d %H:%M} UTC", file=sys.stderr)
    return engine, session_factory(engine), clock


def cmd_audit_verify(settings: Settings) -> int:
    from domain import audit

    opened = _open(settings)
    if isinstance(opened, str):
        return _fail(opened)
    engine, sessions, _clock = opened
    try:
        with sessions() as session:
            result = audit.verify(session)
    finally:
        engine.dispose()
    if result.ok:
        print(
            f"samverkan: audit log OK: {result.checked} events, "
            f"seq {result.start_seq}–{result.last_seq}"
        )
        return 0
    print("samverkan: audit log FAILED verification:", file=sys.stderr)
    for line in result.problems:
        print(f"  - {line}", file=sys.stderr)
    return 1


def cmd_gallra(settings: Settings, *, dry_run: bool) -> int:
    from domain import retention
    from storage.db import transaction

    opened = _open(settings)
    if isinstance(opened, str):
        return _fail(opened)
    engine, sessions, clock = opened
    policy = settings.retention_policy()
    try:
        if dry_run:
            with sessions() as session:
                plan = retention.plan(session, clock, policy)
            for due in plan:
                line = f"{due.forum_code} {due.data_class.value}: {len(due.ids)} would go"
                if due.references:
                    line += " (" + ", ".join(due.references) + ")"
                if due.held:
                    line += f"; kept under legal hold: {', '.join(due.held)}"
                if due.to_warn:
                    told = ", ".join(n.reference for n in due.to_warn)
                    line += f"; never closed, coordinators are told a month before: {told}"
                print(line)
            print("samverkan: dry run, nothing was removed")
            return 0
        with transaction(sessions) as session:
            outcome = retention.run_all(session, clock, policy)
        for code, result in outcome.items():
            for data_class, removed in result.removed.items():
                held = result.held.get(data_class, 0)
                print(
                    f"{code} {data_class}: {removed} removed" + (f", {held} held" if held else "")
                )
        print("samverkan: retention done; the counts are in the audit log")
        return 0
    finally:
        engine.dispose()


def cmd_export(settings: Settings, *, slack_user: str, out: str) -> int:
    import re
    from pathlib import Path

    from domain import export
    from storage.db import transaction

    user = slack_user.strip()
    if not re.fullmatch(r"[UW][A-Z0-9]{1,31}", user):
        return _fail(f"--slack-user: {user!r} is not a Slack user id (like U01ABCDEF)")
    target = Path(out)
    if not target.is_dir():
        return _fail(f"--out: {out} is not a directory")
    opened = _open(settings)
    if isinstance(opened, str):
        return _fail(opened)
    engine, sessions, clock = opened
    try:
        with transaction(sessions) as session:
            result = export.subject_access(session, clock, slack_user_id=user, actor="cli")
    finally:
        engine.dispose()
    stem = f"samverkan-registerutdrag-{user}-{result.generated_at:%Y%m%d}"
    json_path, xlsx_path = target / f"{stem}.json", target / f"{stem}.xlsx"
    json_path.write_bytes(export.to_json(result))
    xlsx_path.write_bytes(export.to_xlsx(result))
    print(f"samverkan: {result.row_count} rows about {user} → {json_path}, {xlsx_path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="samverkan", description="Samverkan Slack bot")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the bot (HTTP, or Socket Mode with SLACK_APP_TOKEN)")
    sub.add_parser("sandbox", help="run the bot with a local stand-in for Slack")
    sub.add_parser("migrate", help="upgrade the database schema (Alembic)")
    audit_parser = sub.add_parser("audit", help="the audit log")
    audit_sub = audit_parser.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check the hash chain: exit 1 if a record was altered")
    gallra = sub.add_parser("gallra", help="retention: remove what is due (--dry-run lists it)")
    gallra.add_argument("--dry-run", action="store_true", help="only list what would go")
    export_parser = sub.add_parser(
        "export", help="access request (GDPR art. 15): everything about one member"
    )
    export_parser.add_argument("--slack-user", required=True, help="the member's Slack id")
    export_parser.add_argument("--out", default=".", help="directory for the JSON and xlsx")
    args = parser.parse_args(argv)
    from bot import logs

    logs.install()  # whatever fails below, no log line or traceback repeats data
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _fail(str(exc))
    if args.command == "audit":
        return cmd_audit_verify(settings)
    if args.command == "gallra":
        return cmd_gallra(settings, dry_run=args.dry_run)
    if args.command == "export":
        return cmd_export(settings, slack_user=args.slack_user, out=args.out)
    commands = {"serve": cmd_serve, "migrate": cmd_migrate, "sandbox": cmd_sandbox}
    return commands[args.command](settings)


if __name__ == "__main__":
    sys.exit(main())
