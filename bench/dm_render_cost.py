"""The CPU of a rating round's DMs, rendered once per recipient or once per language.

    python -m bench.dm_render_cost --forums 200 --agencies 8 --members 3

Seeds a fresh PostgreSQL database per run with ``--forums`` forums of ``--agencies``
agencies of ``--members`` members each (a situation picture at every meeting, three
areas), about one member in ``--english`` reading English (their Slack locale: those whose
id number it divides), the rest the forum's Swedish. Then, as the due-work runner does,
opens the rounds of Thursday's meetings (Monday 10:00 in Stockholm:
``ratings.open_due_rounds``) and sends Wednesday's reminder to every agency (none
answered: ``ratings.send_due_reminders``), with the runner's renderers. Each round runs
both ways, on databases of their own, alternated: without the per-language renderings
(``Renders(cached=False)``: one rendering per recipient, as before) and with them, so
"before" and "after" are measured in the same run. Prints per pass and mode the process
CPU (``process_time``), the CPU spent in the renderer and its calls, and the DMs queued.
To compare with an older build, run this file from an export of it with ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select

from bench._agenda_seed import forum_row
from bench._common import add_postgres_url
from domain import meetings, ratings
from domain.calendar import ForumCalendar
from domain.clock import AdjustableClock
from domain.i18n import Locale, Renders, Translator
from handlers.blocks.ratings import RENDERERS
from storage.db import (
    create_db_engine,
    migrate,
    session_factory,
    temporary_database,
    transaction,
)
from storage.models import Agency, Area, AreaKind, Forum, Member, OutboxMessage, Role, name_key

# Monday 23 November 2026 10:00 in Stockholm: the round of Thursday 26 November opens.
OPENING = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
# Wednesday 25 November 10:05: its last reminder (deadline 12:00) is due.
REMINDER = dt.datetime(2026, 11, 25, 9, 5, tzinfo=dt.UTC)
AREAS = ("Centrum", "Skolan", "Nätet")


class TimedRenderers:
    """The runner's renderers, with the CPU of their invitations summed."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.calls = 0

    def invite(self, t: Translator, invite: ratings.Invite) -> dict[str, Any]:
        started = time.process_time()
        try:
            return RENDERERS.invite(t, invite)
        finally:
            self.cpu += time.process_time() - started
            self.calls += 1

    def picture(self, t: Translator, picture: ratings.Picture) -> dict[str, Any]:
        return RENDERERS.picture(t, picture)

    def missed(self, t: Translator, missed: ratings.Missed) -> dict[str, Any]:
        return RENDERERS.missed(t, missed)

    def escalations(
        self, t: Translator, forum_name: str, escalations: tuple[ratings.Escalation, ...]
    ) -> dict[str, Any]:
        return RENDERERS.escalations(t, forum_name, escalations)

    def images(self, t: Translator, picture: ratings.Picture) -> list[tuple[str, str, str, bytes]]:
        return RENDERERS.images(t, picture)


def seed(url: str, forums: int, agencies: int, members: int) -> None:
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    settings = {"situation_picture": "every", **ForumCalendar().as_settings()}
    with transaction(sessions) as s:
        ids = list(
            s.scalars(
                insert(Forum).returning(Forum.id),
                [
                    forum_row(
                        n, settings, created_by="U0", created_at=OPENING - dt.timedelta(days=30)
                    )
                    for n in range(forums)
                ],
            )
        )
        s.execute(
            insert(Area),
            [
                {
                    "forum_id": fid,
                    "name": name,
                    "name_key": name_key(name),
                    "kind": AreaKind.PLACE,
                    "position": pos,
                    "active": True,
                }
                for fid in ids
                for pos, name in enumerate(AREAS)
            ],
        )
        agency_rows = [
            {"forum_id": fid, "name": f"Verksamhet {a}", "name_key": f"verksamhet {a}"}
            for fid in ids
            for a in range(agencies)
        ]
        agency_ids = list(
            s.scalars(
                insert(Agency).returning(Agency.id, sort_by_parameter_order=True),
                [
                    {**row, "position": n % agencies, "active": True}
                    for n, row in enumerate(agency_rows)
                ],
            )
        )
        s.execute(
            insert(Member),
            [
                {
                    "forum_id": row["forum_id"],
                    "agency_id": agency_id,
                    "slack_user_id": f"U{agency_id:06d}{m}",
                    "role": Role.ADMIN if n % agencies == 0 and m == 0 else Role.MEMBER,
                    "active": True,
                    "created_at": OPENING - dt.timedelta(days=30),
                    "updated_at": OPENING - dt.timedelta(days=30),
                }
                for n, (row, agency_id) in enumerate(zip(agency_rows, agency_ids, strict=True))
                for m in range(members)
            ],
        )
    clock = AdjustableClock(OPENING - dt.timedelta(days=1), frozen=True)
    while True:
        with transaction(sessions) as s:
            if meetings.sync_due_forums(s, clock, limit=500) == 0:
                break
    engine.dispose()


def run(url: str, cached: bool, english: int) -> dict[str, tuple[float, float, int, int]]:
    """Per pass: (process CPU s, renderer CPU s, renderer calls, DMs queued)."""

    def locale_of(_team: str | None, user: str) -> Locale | None:
        return "en" if english and int(user[1:]) % english == 0 else None

    engine = create_db_engine(url)
    sessions = session_factory(engine)
    clock = AdjustableClock(OPENING, frozen=True)
    result = {}
    try:
        for name, at, job in (
            ("open", OPENING, ratings.open_due_rounds),
            ("remind", REMINDER, ratings.send_due_reminders),
        ):
            clock.set(at)
            renderers = TimedRenderers()
            with sessions() as s:
                before = s.scalar(select(func.count()).select_from(OutboxMessage)) or 0
            cpu = time.process_time()
            job(
                sessions,
                clock,
                renderers,
                replica="bench",
                locale_of=locale_of,
                renders=Renders(cached=cached),
            )
            cpu = time.process_time() - cpu
            with sessions() as s:
                after = s.scalar(select(func.count()).select_from(OutboxMessage)) or 0
            result[name] = (cpu, renderers.cpu, renderers.calls, after - before)
    finally:
        engine.dispose()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dm_render_cost")
    parser.add_argument("--forums", type=int, default=200)
    parser.add_argument("--agencies", type=int, default=8)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--english", type=int, default=3, help="every n-th member (0: none)")
    parser.add_argument("--rounds", type=int, default=2, help="before/after pairs")
    add_postgres_url(parser)
    ns = parser.parse_args(argv)
    # Babel's catalogs and formats loaded before the first measured pass, not within it.
    warm = ratings.Invite(0, 0, "Polis", "OSF", OPENING, REMINDER, "Europe/Stockholm")
    for locale in ("sv", "en"):
        RENDERERS.invite(Translator(locale), warm)
    samples: dict[tuple[str, str], list[tuple[float, float, int, int]]] = {}
    for _ in range(ns.rounds):
        for cached in (False, True):
            mode = "after (per language)" if cached else "before (per recipient)"
            with temporary_database(ns.postgres_url, "samverkan_bench_dm_render") as url:
                migrate(url)
                seed(url, ns.forums, ns.agencies, ns.members)
                for name, sample in run(url, cached, ns.english).items():
                    samples.setdefault((name, mode), []).append(sample)
                    cpu, render, calls, dms = sample
                    print(
                        f"{name:6} {mode:24} pass CPU {cpu * 1000:8.1f} ms, render "
                        f"{render * 1000:7.1f} ms in {calls} calls, {dms} DMs",
                        flush=True,
                    )
    print("\nmedians:")
    for (name, mode), rows in samples.items():
        cpu = statistics.median(r[0] for r in rows) * 1000
        render = statistics.median(r[1] for r in rows) * 1000
        calls, dms = rows[0][2], rows[0][3]
        print(
            f"{name:6} {mode:24} pass CPU {cpu:8.1f} ms ({cpu / dms:.3f} ms a DM), render "
            f"{render:7.1f} ms ({calls} calls for {dms} DMs)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
