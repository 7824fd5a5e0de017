"""Retention leaves nothing: every kind of free text is created through the real app,
retention runs years ahead, and a full dump of the database (pg_dump on PostgreSQL,
iterdump on SQLite) holds none of it — except the texts of the case under legal hold.

Cases never closed are purged too, after their coordinators were warned (a DM through the
outbox, exactly once) at least a month before; outbox payloads are emptied on delivery.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
import uuid
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from storage.models import OutboxMessage, OutboxStatus
from tests.conftest import DEFAULT_NOW, Bot
from tests.support.surfaces import (
    ADMIN,
    ELEVHALSA,
    World,
    _open_meeting,
    _submit_cancel,
    _submit_cancel_action,
    _submit_close,
    _submit_deviation,
    _submit_follow_up,
    _submit_ground,
    _submit_item,
    _submit_postpone,
    _submit_rating,
    build_world,
    new_action,
    raise_case,
    rating_view,
)

YEARS_LATER = DEFAULT_NOW + dt.timedelta(days=6 * 365)


def full_dump(bot: Bot, database_url: str) -> str:
    """Everything the database holds, as text."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(str(url.database))
        try:
            return "\n".join(connection.iterdump())
        finally:
            connection.close()
    if shutil.which("pg_dump"):
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        dumped = subprocess.run(
            ["pg_dump", "--data-only", "--no-owner", plain],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return dumped.stdout
    # Without pg_dump: every column of every table, as text.
    lines: list[str] = []
    with bot.runtime.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                lines.append(f"{table}: " + json.dumps([str(v) for v in row], ensure_ascii=False))
    return "\n".join(lines)


def warnings_to(bot: Bot, user: str, reference: str) -> list[Any]:
    return [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == user
        and reference in str(c.args.get("text"))
        and "gallras" in str(c.args.get("text"))
    ]


def test_retention_years_ahead_leaves_no_free_text_but_the_held_case(
    bot: Bot, database_url: str
) -> None:
    world = build_world(World(bot.driver, bot.slack, bot.sessions, tick=lambda: bot.run_due_work()))
    typed: dict[str, str] = {}
    held: set[str] = set()

    def mark(name: str, *, keep: bool = False) -> str:
        # ASCII only: SQLite keeps JSON with \\u escapes, the search must find it as typed.
        # Letters only (hex digits moved to a-p): ten random digits can read as a phone number,
        # and the bot would rightly refuse the text.
        marker = uuid.uuid4().hex[:10].translate(str.maketrans("0123456789", "ghijklmnop"))
        typed[name] = f"Fritext {name} {marker}"
        if keep:
            held.add(name)
        return typed[name]

    def ok(answer: Any) -> None:
        body = answer.json()
        assert answer.status == 200, answer.body
        assert body is None or body.get("response_action") != "errors", body

    # Cases: closed with and without consent, never closed with and without consent, held.
    closed = raise_case(world, mark("closed summary"), view_id="V1")
    ok(_submit_close(world, {"case_id": closed.id}, mark("closed outcome")))
    consultation = raise_case(world, mark("consultation summary"), consent=False, view_id="V2")
    ok(_submit_close(world, {"case_id": consultation.id}, mark("consultation outcome")))
    open_case = raise_case(world, mark("open summary"), view_id="V3")
    open_consultation = raise_case(world, mark("open consultation"), consent=False, view_id="V4")
    kept = raise_case(world, mark("held summary", keep=True), view_id="V5")
    # A legal ground other than consent, with a note.
    ground = world.opened(
        lambda: world.driver.command(f"grund {open_consultation.reference}", user=ADMIN)
    )
    ok(_submit_ground(world, ground, mark("ground note")))
    # Actions: changed, done and followed up; one cancelled; one of the held case; one still
    # open (an open action is work to do: it never ages out as if it were finished).
    action = new_action(world, mark("action description"), mark("hoped effect"))
    ok(_submit_postpone(world, {"action_id": action.id}, mark("new date reason")))
    world.reply_after(
        lambda: world.driver.block_action("action_done", user=ELEVHALSA, value=str(action.id))
    )
    ok(_submit_follow_up(world, {"action_id": action.id}, mark("follow-up comment")))
    cancelled = new_action(world, mark("cancelled action"), mark("cancelled hoped effect"))
    ok(_submit_cancel_action(world, {"action_id": cancelled.id}, mark("action cancel reason")))
    new_action(world, mark("open action", keep=True), mark("open hoped effect", keep=True))
    new_action(
        world,
        mark("held action", keep=True),
        mark("held hoped effect", keep=True),
        case=kept.reference,
    )
    # A rating comment, a deviation, an agenda item, a cancelled meeting's reason.
    view = rating_view(world)
    ok(_submit_rating(world, view, mark("rating comment")))
    ok(_submit_deviation(world, {}, mark("deviation")))
    world.reply_after(lambda: _submit_item(world, {}, mark("agenda item")))
    ok(_submit_cancel(world, _open_meeting(world), mark("cancel reason")))
    # The held case: a coordinator stops retention with a reason.
    reply = world.reply_after(
        lambda: world.driver.command(
            f"gallring stopp {kept.reference} {mark('hold reason', keep=True)}", user=ADMIN
        )
    )
    assert kept.reference in reply
    bot.run_due_work()  # everything queued is delivered
    with bot.sessions() as s:
        delivered = s.scalars(
            select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENT)
        ).all()
        assert delivered
        # Emptied on delivery: only where it went is kept.
        assert all(set(m.payload) <= {"channel"} for m in delivered), [
            m.payload for m in delivered
        ][:3]
    stored = full_dump(bot, database_url)  # once: the generator below called pg_dump per text
    assert all(t in stored for t in typed.values())  # all stored
    # The audit log records who did what, never what they typed (its own retention is
    # domain/audit/'s): none of the texts is in it even before anything is removed.
    with bot.runtime.engine.connect() as conn:
        logged = json.dumps(
            [[str(v) for v in row] for row in conn.execute(text("SELECT * FROM audit_events"))]
            + [[str(v) for v in row] for row in conn.execute(text("SELECT * FROM audit_chain"))],
            ensure_ascii=False,
        )
    assert [name for name, value in typed.items() if value in logged] == []

    # Years later: closed cases, ratings, actions, deviations and meetings' texts go; the
    # cases never closed are first announced to the coordinators.
    bot.clock.set(YEARS_LATER)
    bot.run_due_work()
    bot.run_due_work()
    for case in (open_case, open_consultation):
        assert len(warnings_to(bot, ADMIN, case.reference)) == 1
    assert not warnings_to(bot, ADMIN, kept.reference)  # held: nothing to warn about
    dump = full_dump(bot, database_url)
    assert typed["open summary"] in dump  # not before the month is over
    assert typed["closed summary"] not in dump

    bot.clock.set(YEARS_LATER + dt.timedelta(days=31))
    bot.run_due_work()
    bot.clock.set(YEARS_LATER + dt.timedelta(days=122))  # and the outbox's rows age out
    bot.run_due_work()
    for case in (open_case, open_consultation):
        assert len(warnings_to(bot, ADMIN, case.reference)) == 1  # exactly once

    dump = full_dump(bot, database_url)
    left = sorted(name for name, value in typed.items() if value in dump and name not in held)
    assert left == [], f"free text left after retention: {left}"
    missing = sorted(name for name in held if typed[name] not in dump)
    assert missing == [], f"the held case lost: {missing}"
