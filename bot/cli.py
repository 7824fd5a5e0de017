"""``samverkan`` command line: serve, sandbox, migrate; and for the data-protection officer
``audit verify|seal|anchor|export|new-key``, ``gallra [--dry-run]``,
``export --slack-user U…`` and ``rotate-keys``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
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


def _check_schema_apart(settings: Settings) -> str | None:
    """:func:`_check_schema` in a short-lived child process, so that Alembic and every
    migration script it reads never stay in the serving process, nor in the gunicorn workers
    forked from it (~10 MB in each process of a replica)."""
    if not hasattr(os, "fork"):
        return _check_schema(settings)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: check, say what is wrong (or nothing), leave at once
        os.close(read_end)
        code = 0
        try:
            answer = _check_schema(settings) or ""
        except BaseException as exc:  # an unexpected failure still gets one line
            answer, code = f"the schema check failed ({exc!r})"[:300], 1
        with os.fdopen(write_end, "wb") as out:
            out.write(answer.encode())
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer_in:
        answer = answer_in.read().decode()
    os.waitpid(pid, 0)
    return answer or None


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
    problem = (
        _check_schema_apart(settings)
        or settings.missing_audit_key()
        or _check_socket_mode(settings)
    )
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

    try:
        code = run_sandbox(settings)
    except KeyboardInterrupt:  # Ctrl-C is how the sandbox is stopped: no traceback
        code = 0
    if code == 0:
        # Stopped by Ctrl-C or SIGTERM: uvicorn catches the signal and raises it again after
        # its shutdown, but asyncio's runner may then end cleanly instead of raising.
        print("Samverkan sandbox: stopped.", file=sys.stderr)
    return code


def _open(settings: Settings) -> tuple[Any, Any, Any] | str:
    """(engine, sessions, clock) for a privacy command, or one line saying what is wrong."""
    problem = _check_schema(settings)
    if problem:
        return problem
    from bot.wiring import build_clock
    from domain import audit, privacy_wall
    from storage.db import create_db_engine, session_factory

    audit.use_keys(settings.audit_keyring())

    engine = create_db_engine(settings.database_url)
    clock = build_clock(settings)
    if settings.test_clock is not None and not settings.allow_test_clock:
        print(
            "samverkan: SAMVERKAN_TEST_CLOCK ignored (SAMVERKAN_ALLOW_TEST_CLOCK is not set)",
            file=sys.stderr,
        )
    elif settings.allow_test_clock:
        print(f"samverkan: using the test clock: {clock.now():%Y-%m-%d %H:%M} UTC", file=sys.stderr)
    sessions = session_factory(engine)
    privacy_wall.bind_clock(sessions, clock)
    return engine, sessions, clock


def _seal(sessions: Any) -> str | None:
    """Seal what is committed; one line saying why not, or None."""
    from sqlalchemy.exc import SQLAlchemyError

    from domain import audit

    try:
        audit.seal_pending(sessions, wait=True)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:160]
        return f"cannot seal pending audit events ({reason}); use --no-seal to only check"
    return None


def _open_sealed(settings: Settings, *, seal: bool = True) -> tuple[Any, Any, Any] | str:
    """:func:`_open`, then seal what is committed (unless ``seal`` is false)."""
    opened = _open(settings)
    if isinstance(opened, str) or not seal:
        return opened
    problem = _seal(opened[1])
    if problem:
        opened[0].dispose()
        return problem
    return opened


class _Unusable(Exception):
    """The database cannot serve a privacy command; the message is one line saying why."""


@contextlib.contextmanager
def _database(settings: Settings, *, seal: bool | None = None) -> Iterator[tuple[Any, Any, Any]]:
    """(engine, sessions, clock) of :func:`_open` (with ``seal`` given, of :func:`_open_sealed`),
    the engine disposed afterwards; raises :class:`_Unusable` (``main`` prints it, exit 2)."""
    opened = _open(settings) if seal is None else _open_sealed(settings, seal=seal)
    if isinstance(opened, str):
        raise _Unusable(opened)
    engine, sessions, clock = opened
    try:
        yield engine, sessions, clock
    finally:
        engine.dispose()


def _out_dir(out: str) -> Path:
    """``--out`` as a Path; raises :class:`_Unusable` when it is not a directory."""
    target = Path(out)
    if not target.is_dir():
        raise _Unusable(f"--out: {out} is not a directory")
    return target


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _report(result: Any, clock: Any, *, what: str) -> int:
    from domain import audit

    if audit.current_keys().is_development:
        print(
            "samverkan: SAMVERKAN_AUDIT_KEYS is not set: using the public development key",
            file=sys.stderr,
        )
    for note in result.notes:
        print(f"samverkan: note: {note}")
    if result.development:
        print(
            f"samverkan: warning: {result.development} event(s) are signed with the public"
            " development key: anyone can forge those (set SAMVERKAN_AUDIT_KEYS)",
            file=sys.stderr,
        )
    if result.ok:
        parts = [f"{result.checked} events"]
        if result.chains != 1:
            parts.append(f"{result.chains} chains")
        else:
            parts.append(f"seq {result.start_seq}–{result.last_seq}")
        if result.kept:
            parts.append(f"{result.kept} kept under legal hold before the cut")
        if result.unkeyed:
            parts.append(f"{result.unkeyed} unkeyed from before the keyed chain")
        print(f"samverkan: {what} OK: " + ", ".join(parts))
    if result.unsealed:
        age = audit.Backlog(result.unsealed, result.oldest_unsealed).age(clock.now())
        print(
            f"samverkan: {result.unsealed} event(s) not sealed yet (oldest {_age(age)});"
            " they are checked once sealed"
        )
    if result.ok:
        return 0
    print(f"samverkan: {what} FAILED verification:", file=sys.stderr)
    for line in result.problems:
        print(f"  - {line}", file=sys.stderr)
    return 1


def cmd_audit_verify(
    settings: Settings,
    *,
    team: str | None = None,
    anchors: Sequence[str] = (),
    seal: bool = True,
    file: str | None = None,
) -> int:
    from domain import audit
    from storage.db import reading

    parsed = []
    for line in anchors:
        try:
            parsed.append(audit.Anchor.parse(line))
        except ValueError as exc:
            return _fail(f"--anchor: {exc}")
    if file is not None:
        return _verify_file(settings, file, anchors=parsed)
    with _database(settings, seal=seal) as (_engine, sessions, clock), reading(sessions) as session:
        result = audit.verify(session, chain=team, anchors=parsed)
    return _report(result, clock, what=f"audit log of {team}" if team else "audit log")


def _verify_file(settings: Settings, file: str, *, anchors: Sequence[Any]) -> int:
    from bot.wiring import build_clock
    from domain import audit

    if anchors:
        return _fail("--anchor: checks the database, not a file")
    path = Path(file)
    if not path.is_file():
        return _fail(f"--file: {file} is not a file")
    audit.use_keys(settings.audit_keyring())
    with path.open(encoding="utf-8") as lines:
        result = audit.verify_export(lines)
    return _report(result, build_clock(settings), what=f"exported audit log {path.name}")


def cmd_audit_seal(settings: Settings) -> int:
    from domain import audit
    from storage.db import reading

    with _database(settings) as (_engine, sessions, _clock):
        with reading(sessions) as session:
            waiting = audit.backlog(session).count
        problem = _seal(sessions)
    if problem:
        return _fail(problem)
    print(f"samverkan: {waiting} audit event(s) sealed")
    return 0


def cmd_audit_anchor(settings: Settings, *, team: str | None, seal: bool = True) -> int:
    from domain import audit
    from storage.db import reading

    with _database(settings, seal=seal) as (_engine, sessions, clock), reading(sessions) as session:
        names = [team] if team else audit.chains(session)
        lines = [audit.anchor(session, clock, chain=name).line for name in names]
    for line in lines:
        print(line)
    return 0


def cmd_audit_export(settings: Settings, *, team: str, out: str) -> int:
    import json

    from domain import audit
    from storage.db import reading

    target = _out_dir(out)
    with _database(settings, seal=True) as (_engine, sessions, clock):
        path = target / f"samverkan-audit-{team}-{clock.now():%Y%m%d}.jsonl"
        count = -1
        with reading(sessions) as session, path.open("w", encoding="utf-8") as handle:
            for count, row in enumerate(audit.export_chain(session, team)):  # noqa: B007
                handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            line = audit.anchor(session, clock, chain=team).line
    print(f"samverkan: {count} events of chain {team} → {path}")
    print(f"samverkan: anchor {line}")
    return 0


def cmd_rotate_keys(settings: Settings) -> int:
    from domain import audit
    from handlers.oauth_store import TokenDecryptionError, rotate_secrets
    from storage.db import transaction
    from storage.models import AuditAction

    if settings.token_encryption_key is None:
        return _fail("SAMVERKAN_TOKEN_ENCRYPTION_KEY: not set, so there is nothing to rotate")
    try:
        with _database(settings) as (engine, sessions, clock):
            rotated = rotate_secrets(engine, settings.token_encryption_key.get_secret_value())
            with transaction(sessions) as session:
                audit.record(
                    session,
                    clock,
                    actor="cli",
                    action=AuditAction.UPDATE,
                    object_type="token_keys",
                    object_ref="rotate-keys",
                    detail={"rows": rotated.rows, "secrets": rotated.values},
                )
    except TokenDecryptionError as exc:
        return _fail(f"nothing was changed: {exc}")
    print(
        f"samverkan: {rotated.values} secret(s) in {rotated.rows} row(s) re-encrypted with the"
        " first key of SAMVERKAN_TOKEN_ENCRYPTION_KEY; the other keys can now be removed"
    )
    return 0


def cmd_gallra(settings: Settings, *, dry_run: bool) -> int:
    from domain import audit, retention
    from storage.db import transaction

    policy = settings.retention_policy()
    with _database(settings) as (_engine, sessions, clock):
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
                if due.open_actions:
                    late = ", ".join(f"#{a.action_id}" for a in due.open_actions)
                    line += f"; open long past their end date, coordinators are told: {late}"
                print(line)
            print("samverkan: dry run, nothing was removed")
            return 0
        with transaction(sessions) as session:
            outcome = retention.run_all(session, clock, policy)
        with transaction(sessions) as session:  # months ahead, apart from the removal
            audit.ensure_partitions(session, clock.now())
        for code, result in outcome.items():
            for data_class, removed in result.removed.items():
                held = result.held.get(data_class, 0)
                print(
                    f"{code} {data_class}: {removed} removed" + (f", {held} held" if held else "")
                )
        print("samverkan: retention done; the counts are in the audit log")
        return 0


def cmd_export(settings: Settings, *, slack_user: str, out: str) -> int:
    import re

    from domain import export
    from storage.db import transaction

    user = slack_user.strip()
    if not re.fullmatch(r"[UW][A-Z0-9]{1,31}", user):
        return _fail(f"--slack-user: {user!r} is not a Slack user id (like U01ABCDEF)")
    target = _out_dir(out)
    with _database(settings) as (_engine, sessions, clock), transaction(sessions) as session:
        result = export.subject_access(session, clock, slack_user_id=user, actor="cli")
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
    verify = audit_sub.add_parser(
        "verify", help="check the signed chain(s): exit 1 if a record was altered or removed"
    )
    verify.add_argument("--team", help="only this workspace's chain (team id, or 'global')")
    verify.add_argument(
        "--anchor",
        action="append",
        default=[],
        help="a line from `samverkan audit anchor` (or the monthly log check): fail if the"
        " chain was cut or rewritten after it (repeatable)",
    )
    verify.add_argument(
        "--no-seal", action="store_true", help="do not seal pending events first (read-only)"
    )
    verify.add_argument("--file", help="check a file from `samverkan audit export` instead")
    audit_sub.add_parser("seal", help="seal committed events into their chain now")
    anchor = audit_sub.add_parser("anchor", help="print the signed head of each chain")
    anchor.add_argument("--team", help="only this workspace's chain (team id, or 'global')")
    export_chain = audit_sub.add_parser(
        "export", help="one workspace's chain as JSON lines (checked by verify --file)"
    )
    export_chain.add_argument("--team", required=True, help="team id, or 'global'")
    export_chain.add_argument("--out", default=".", help="directory for the file")
    audit_sub.add_parser("new-key", help="print a new random key for SAMVERKAN_AUDIT_KEYS")
    sub.add_parser(
        "rotate-keys",
        help="re-encrypt every stored Slack token with the first SAMVERKAN_TOKEN_ENCRYPTION_KEY",
    )
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
    if args.command == "audit" and args.audit_command == "new-key":
        from domain.audit import new_key

        print(new_key())
        return 0
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _fail(str(exc))
    try:
        return _command(settings, args)
    except _Unusable as exc:
        return _fail(str(exc))


def _command(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "audit":
        return _audit_command(settings, args)
    if args.command == "rotate-keys":
        return cmd_rotate_keys(settings)
    if args.command == "gallra":
        return cmd_gallra(settings, dry_run=args.dry_run)
    if args.command == "export":
        return cmd_export(settings, slack_user=args.slack_user, out=args.out)
    commands = {"serve": cmd_serve, "migrate": cmd_migrate, "sandbox": cmd_sandbox}
    return commands[args.command](settings)


def _audit_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.audit_command == "verify":
        return cmd_audit_verify(
            settings, team=args.team, anchors=args.anchor, seal=not args.no_seal, file=args.file
        )
    if args.audit_command == "seal":
        return cmd_audit_seal(settings)
    if args.audit_command == "anchor":
        return cmd_audit_anchor(settings, team=args.team)
    return cmd_audit_export(settings, team=args.team, out=args.out)


if __name__ == "__main__":
    sys.exit(main())
