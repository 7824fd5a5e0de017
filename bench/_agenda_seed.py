"""The forums of ``bench.agenda_burst``: ``--forums`` forums in bulk with their meetings
planned as the scheduler does, and optionally like real ones on a Thursday (cases, actions,
areas and a closed rating round on each agenda)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy import Engine, insert, select, text

from bench.seed import ACTION_COLUMNS, CASE_COLUMNS, _copy, _fix_sequence, _next_id, analyze
from domain import meetings
from domain.calendar import ForumCalendar
from domain.clock import AdjustableClock
from storage.db import create_db_engine, session_factory, transaction
from storage.models import Agency, AgendaItem, AgendaItemKind, Forum, Meeting, Member, Role

SEEDED_AT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
# Thursday 26 November 2026, 08:00 in Stockholm (CET).
AGENDA_TIME = dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC)
LONG_ITEMS = 60  # an agenda with this many items takes two messages (a thread reply)

AREAS = ("Centrum", "Skolan", "Nätet")


def forum_row(
    n: int, settings: dict[str, Any], *, created_by: str, created_at: dt.datetime
) -> dict[str, Any]:
    """Forum ``n`` of a bench's bulk insert: a Swedish forum meeting Thursdays at 13:00
    in workspace T1, channel ``C{n:06d}``."""
    return {
        "team_id": "T1",
        "channel_id": f"C{n:06d}",
        "name": f"Forum {n}",
        "code": f"F{n}",
        "schedule_rrule": "FREQ=WEEKLY;BYDAY=TH",
        "schedule_anchor": dt.date(2026, 11, 26),
        "meeting_start": dt.time(13, 0),
        "meeting_minutes": 120,
        "timezone": "Europe/Stockholm",
        "language": "sv",
        "settings": settings,
        "created_by": created_by,
        "created_at": created_at,
        "updated_at": created_at,
    }


def seed(url: str, forums: int, long_every: int, open_cases: int = 0) -> float:
    """Insert the forums in bulk, plan their meetings as the scheduler does; seconds taken."""
    started = time.perf_counter()
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    settings = ForumCalendar().as_settings()
    with transaction(sessions) as s:
        for first in range(0, forums, 2000):
            rows = [
                forum_row(
                    n,
                    {"situation_picture": "none", **settings},
                    created_by=f"U{n:06d}",
                    created_at=SEEDED_AT,
                )
                for n in range(first, min(first + 2000, forums))
            ]
            ids = list(s.scalars(insert(Forum).returning(Forum.id), rows))
            agencies = list(
                s.scalars(
                    insert(Agency).returning(Agency.id),
                    [
                        {"forum_id": fid, "name": name, "position": pos, "active": True}
                        for fid in ids
                        for pos, name in enumerate(("Grundskola", "Elevhälsa"))
                    ],
                )
            )
            s.execute(
                insert(Member),
                [
                    {
                        "forum_id": fid,
                        "agency_id": agencies[2 * i],
                        "slack_user_id": f"U{fid:06d}",
                        "role": Role.ADMIN,
                        "active": True,
                        "created_at": SEEDED_AT,
                        "updated_at": SEEDED_AT,
                    }
                    for i, fid in enumerate(ids)
                ],
            )
    clock = AdjustableClock(SEEDED_AT, frozen=True)
    while True:
        with transaction(sessions) as s:
            if meetings.sync_due_forums(s, clock, limit=500) == 0:
                break
    with transaction(sessions) as s:
        thursday = list(
            s.scalars(
                select(Meeting.id).where(Meeting.starts_at < AGENDA_TIME + dt.timedelta(hours=7))
            )
        )
        # Every ``long_every``-th forum has a long agenda: two messages to its channel, the
        # second within a second of the first, so Slack's per-channel limit comes into play.
        s.execute(
            insert(AgendaItem),
            [
                {
                    "meeting_id": mid,
                    "kind": AgendaItemKind.OTHER,
                    "text": f"Rutiner för skolskjuts, del {n + 1}",
                    "position": n + 1,
                    "added_at": SEEDED_AT,
                    "discussed": False,
                    "rolled_over": False,
                    "removed": False,
                }
                for i, mid in enumerate(thursday)
                for n in range(LONG_ITEMS if long_every and i % long_every == 0 else 1)
            ],
        )
    if open_cases:
        seed_realistic(engine, open_cases)
    engine.dispose()
    return time.perf_counter() - started


def seed_realistic(engine: Engine, open_cases: int) -> None:
    """Every forum like a real one on a Thursday: ``open_cases`` cases scheduled for the
    meeting (two agencies each, a consent), ten actions (some due, some awaiting follow-up
    of effect), three areas and a closed rating round for the meeting (every agency rated
    every area), so the agenda carries cases, actions and the situation picture."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE forums SET settings = jsonb_set(settings::jsonb, "
                "'{situation_picture}', '\"every\"')"
            )
        )
        rows = conn.execute(
            text(
                "SELECT m.id, m.forum_id, f.code, m.starts_at FROM meetings m "
                "JOIN forums f ON f.id = m.forum_id WHERE m.starts_at < :end ORDER BY m.forum_id"
            ),
            {"end": AGENDA_TIME + dt.timedelta(hours=7)},
        ).all()
        agencies: dict[int, list[int]] = {}
        for agency_id, forum_id in conn.execute(
            text("SELECT id, forum_id FROM agencies ORDER BY position, id")
        ):
            agencies.setdefault(forum_id, []).append(agency_id)
        # The second agency's member, who owns its actions (an owner outside the owning
        # agency would be released by the orphaned-actions job: not a Thursday's work).
        conn.execute(
            insert(Member),
            [
                {
                    "forum_id": forum_id,
                    "agency_id": agencies[forum_id][1],
                    "slack_user_id": f"U{forum_id:06d}B",
                    "role": Role.MEMBER,
                    "active": True,
                    "created_at": SEEDED_AT,
                    "updated_at": SEEDED_AT,
                }
                for _m, forum_id, _c, _s in rows
            ],
        )
    first_area = _next_id(engine, "areas")
    _copy(
        engine,
        "areas",
        ("id", "forum_id", "name", "kind", "position", "active"),
        (
            (first_area + i * len(AREAS) + k, forum_id, name, "place", k, True)
            for i, (_m, forum_id, _c, _s) in enumerate(rows)
            for k, name in enumerate(AREAS)
        ),
    )
    when = SEEDED_AT.isoformat()
    first_case = _next_id(engine, "cases")
    cases = [
        (first_case + i * open_cases + n, meeting_id, forum_id, code, n + 1)
        for i, (meeting_id, forum_id, code, _s) in enumerate(rows)
        for n in range(open_cases)
    ]
    _copy(
        engine,
        "cases",
        CASE_COLUMNS,
        (
            (
                case_id,
                forum_id,
                f"{code}-2026-{n:03d}",
                2026,
                n,
                f"U{forum_id:06d}",
                agencies[forum_id][n % 2],
                "Frånvaro och oro för måendet",
                '["school_absence"]',
                "13-15",
                "scheduled",
                "not_relevant",
                meeting_id,
                False,
                when,
                when,
            )
            for case_id, meeting_id, forum_id, code, n in cases
        ),
    )
    _copy(
        engine,
        "case_agencies",
        ("case_id", "agency_id"),
        ((case_id, a) for case_id, _m, forum_id, _c, _n in cases for a in agencies[forum_id]),
    )
    first_consent = _next_id(engine, "consents")
    _copy(
        engine,
        "consents",
        ("id", "case_id", "given_by", "recorded_by", "recorded_at"),
        ((first_consent + k, c[0], "guardians", "U1", when) for k, c in enumerate(cases)),
    )
    _copy(
        engine,
        "actions",
        ACTION_COLUMNS,
        (
            (
                forum_id,
                "Samordna stödet",
                agencies[forum_id][n % 2],
                f"U{forum_id:06d}{'B' if n % 2 else ''}",  # a member of the owning agency
                (AGENDA_TIME.date() + dt.timedelta(days=7 * n - 28)).isoformat(),
                "open" if n % 3 else "done",
                None,
                "U1",
                None if n % 3 else when,
                when,
                when,
            )
            for _m, forum_id, _c, _s in rows
            for n in range(10)
        ),
    )
    first_round = _next_id(engine, "rating_rounds")
    _copy(
        engine,
        "rating_rounds",
        (
            "id",
            "forum_id",
            "meeting_id",
            "opens_at",
            "deadline_at",
            "closed_at",
            "status",
            "closed_early",
        ),
        (
            (
                first_round + i,
                forum_id,
                meeting_id,
                (starts - dt.timedelta(days=5)).isoformat(),
                (starts - dt.timedelta(days=1)).isoformat(),
                (starts - dt.timedelta(days=1)).isoformat(),
                "closed",
                False,
            )
            for i, (meeting_id, forum_id, _c, starts) in enumerate(rows)
        ),
    )
    _copy(
        engine,
        "ratings",
        ("round_id", "agency_id", "area_id", "level", "rated_by", "rated_at", "is_current"),
        (
            (first_round + i, a, first_area + i * len(AREAS) + k, 1 + (k + j) % 5, "U1", when, True)
            for i, (_m, forum_id, _c, _s) in enumerate(rows)
            for j, a in enumerate(agencies[forum_id])
            for k in range(len(AREAS))
        ),
    )
    for table in ("areas", "cases", "consents", "rating_rounds"):
        _fix_sequence(engine, table)
    analyze(engine)
