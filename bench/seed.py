"""Bulk data for the scale benchmarks: forums with many cases and actions, fast.

Forums, agencies, members and meetings are made through the domain (as the bot would);
the bulk rows (cases, their agencies and consents, actions) go in with PostgreSQL's COPY,
so a million cases take seconds, not an hour. Only for PostgreSQL benchmarks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from domain import forums as fs
from domain import meetings
from domain.clock import Clock
from storage.db import transaction
from storage.models import Meeting, MeetingStatus, Rating, RatingRound, RatingRoundStatus, Role
from tests.support.forums import forum_draft

SEED_NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
AGENCIES = ("Grundskola", "Elevhälsa", "Socialtjänst/IFO")


@dataclass(frozen=True)
class SeededForum:
    id: int
    channel_id: str
    code: str
    agency_ids: tuple[int, ...]
    next_meeting_id: int
    member: str  # a member (not the admin) of the second agency
    cases: int = 0


# The columns the bulk loaders fill (``_copy``): a case (without ``closed_at``) and an action.
CASE_COLUMNS = (
    "id",
    "forum_id",
    "reference",
    "year",
    "sequence",
    "raised_by",
    "raising_agency_id",
    "summary",
    "concerns",
    "age_band",
    "status",
    "sip",
    "meeting_id",
    "legal_hold",
    "created_at",
    "updated_at",
)
ACTION_COLUMNS = (
    "forum_id",
    "description",
    "owning_agency_id",
    "owner",
    "due_on",
    "status",
    "effect",
    "created_by",
    "completed_at",
    "created_at",
    "updated_at",
)


def make_forum(
    sessions: sessionmaker[Session], clock: Clock, *, team_id: str, channel_id: str, code: str
) -> SeededForum:
    """A forum created as the bot does: admin U1, member U2 of the second agency, meetings."""
    draft = forum_draft(name=f"Forum {code}", code=code, agencies=list(AGENCIES))
    with transaction(sessions) as s:
        forum = fs.create_forum(
            s, clock, team_id=team_id, channel_id=channel_id, actor="U1", draft=draft
        )
        agencies = tuple(a.id for a in forum.agencies)
        fs.add_members(
            s,
            clock,
            forum=forum,
            actor="U1",
            slack_user_ids=["U2"],
            agency_id=agencies[1],
            role=Role.MEMBER,
        )
        meetings.sync_meetings(s, clock, forum)
        upcoming = s.scalar(
            select(Meeting.id)
            .where(Meeting.forum_id == forum.id, Meeting.starts_at > clock.now())
            .order_by(Meeting.starts_at)
            .limit(1)
        )
        assert upcoming is not None
        return SeededForum(forum.id, channel_id, code, agencies, int(upcoming), "U2")


def _copy(engine: Engine, table: str, columns: Sequence[str], rows: Any) -> int:
    """COPY ``rows`` (an iterable of tuples) into ``table``; returns how many."""
    raw = engine.raw_connection()
    count = 0
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        raw.commit()
    finally:
        raw.close()
    return count


def _next_id(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")).scalar_one())


def _fix_sequence(engine: Engine, table: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        )


def case_status(n: int, *, open_share: int = 100) -> str:
    """A long-running forum's mix: most cases closed, one in ``open_share`` of each other
    status."""
    return ("new", "scheduled", "discussed", "follow_up")[n % 4] if n % open_share < 4 else "closed"


def bulk_cases(
    engine: Engine,
    forum: SeededForum,
    count: int,
    *,
    first_sequence: int = 1,
    status: Any = case_status,
    meeting_id: int | None = None,
    raised_by: str = "U1",
    created_at: dt.datetime = SEED_NOW,
) -> int:
    """``count`` cases in ``forum`` (each with two agencies and a guardians' consent), and
    half as many actions (mostly done and followed up). Returns the number of cases."""
    if count <= 0:
        return 0
    first_id = _next_id(engine, "cases")
    ids = range(first_id, first_id + count)
    agencies = forum.agency_ids
    concerns = json.dumps(["school_absence"])
    when = created_at.isoformat()

    def cases() -> Any:
        for offset, case_id in enumerate(ids):
            n = first_sequence + offset
            st = status(n)
            yield (
                case_id,
                forum.id,
                f"{forum.code}-2026-{n:07d}",
                2026,
                n,
                raised_by if n % 3 == 0 else "U9",
                agencies[n % len(agencies)],
                "Sammanfattning utan personuppgifter",
                concerns,
                "13-15",
                st,
                "not_relevant",
                meeting_id if st in ("new", "scheduled") else None,
                False,
                when,
                when,
                when if st == "closed" else None,
            )

    _copy(
        engine,
        "cases",
        (*CASE_COLUMNS, "closed_at"),
        cases(),
    )
    _copy(
        engine,
        "case_agencies",
        ("case_id", "agency_id"),
        (
            (case_id, agencies[(first_sequence + o + k) % len(agencies)])
            for o, case_id in enumerate(ids)
            for k in range(2)
        ),
    )
    first_consent = _next_id(engine, "consents")
    _copy(
        engine,
        "consents",
        ("id", "case_id", "given_by", "recorded_by", "recorded_at"),
        ((first_consent + o, case_id, "guardians", "U1", when) for o, case_id in enumerate(ids)),
    )
    _copy(
        engine,
        "consent_agencies",
        ("consent_id", "agency_id"),
        ((first_consent + o, agencies[0]) for o in range(count)),
    )
    bulk_actions(engine, forum, count // 2, first=first_sequence, created_at=created_at)
    for table in ("cases", "consents"):
        _fix_sequence(engine, table)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO case_counters (forum_id, year, last) VALUES (:f, 2026, :n) "
                "ON CONFLICT (forum_id, year) DO UPDATE SET last = excluded.last"
            ),
            {"f": forum.id, "n": first_sequence + count - 1},
        )
    return count


def bulk_actions(
    engine: Engine,
    forum: SeededForum,
    count: int,
    *,
    first: int = 1,
    created_at: dt.datetime = SEED_NOW,
    open_share: int = 10,
) -> int:
    """``count`` actions: one in ``open_share`` open (due dates spread over a year around
    now), one in twenty done and awaiting follow-up, the rest done and followed up."""
    if count <= 0:
        return 0
    when = created_at.isoformat()
    today = created_at.date()

    def rows() -> Any:
        for n in range(first, first + count):
            if n % open_share == 0:
                st, effect, done = "open", None, None
            elif n % 20 == 1:
                st, effect, done = "done", None, when
            else:
                st, effect, done = "done", "yes", when
            yield (
                forum.id,
                "Samordna insatser mellan skola och socialtjänst",
                forum.agency_ids[n % len(forum.agency_ids)],
                "U1" if n % 2 else "U2",
                (today + dt.timedelta(days=(n % 365) - 180)).isoformat(),
                st,
                effect,
                "U1",
                done,
                when,
                when,
            )

    n = _copy(
        engine,
        "actions",
        ACTION_COLUMNS,
        rows(),
    )
    return n


def analyze(engine: Engine) -> None:
    """What autovacuum would do after a bulk load: fresh statistics for the planner."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


# --- a database that grows: a small forum beside big ones ------------------------------------

SIZES = (1_000, 100_000, 1_000_000)
SMALL_CASES = 500
SMALL_OPEN = 20  # open cases on the small forum's next agenda


def small_status(n: int) -> str:
    """The small forum: 20 cases scheduled for its next meeting, 10 for follow-up, the
    rest closed (a forum that has met for a few years)."""
    if n <= SMALL_OPEN:
        return "scheduled"
    return "follow_up" if n <= SMALL_OPEN + 10 else "closed"


def sizes_up_to(max_cases: int) -> list[int]:
    found = [s for s in SIZES if s <= max_cases]
    if not found or found[-1] != max_cases:
        found.append(max_cases)
    return found


@dataclass
class Scale:
    """The growing database: the small forum and the big ones beside it."""

    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    small: SeededForum
    big: list[SeededForum]
    total: int = 0
    _next_sequence: dict[int, int] | None = None

    def grow_to(self, total: int) -> None:
        """Add cases to the big forums (half each) until the database holds ``total``."""
        sequences = self._next_sequence or {f.id: 1 for f in self.big}
        self._next_sequence = sequences
        missing = total - self.total
        if missing <= 0:
            return
        share = [missing // len(self.big)] * len(self.big)
        share[0] += missing - sum(share)
        for forum, count in zip(self.big, share, strict=True):
            bulk_cases(self.engine, forum, count, first_sequence=sequences[forum.id])
            sequences[forum.id] += count
        self.total = total
        analyze(self.engine)


def start_scale(engine: Engine, sessions: sessionmaker[Session], clock: Clock) -> Scale:
    """The small forum (500 cases, 20 of them on its next agenda, actions due) and two big
    forums, empty; :meth:`Scale.grow_to` fills the big ones."""
    small = make_forum(sessions, clock, team_id="T1", channel_id="CSMALL", code="SMA")
    big = [
        make_forum(sessions, clock, team_id="T1", channel_id=f"CBIG{n}", code=f"BIG{n}")
        for n in (1, 2)
    ]
    bulk_cases(engine, small, SMALL_CASES, status=small_status, meeting_id=small.next_meeting_id)
    scale = Scale(engine, sessions, clock, small, big, total=SMALL_CASES)
    analyze(engine)
    return scale


def closed_rating_round(
    s: Session,
    *,
    forum_id: int,
    at: dt.datetime,
    meeting_status: MeetingStatus,
    agency_ids: Sequence[int],
    area_ids: Sequence[int],
    level: Callable[[int, int], int],
    attendance: Sequence[int] | None = None,
) -> int:
    """A meeting at ``at`` with a rating round closed the day before, in which every agency
    rated every area (``level(agency index, area index)``); the round's id. Plain inserts,
    so it works on both databases (the rating and review benchmarks' history)."""
    meeting: dict[str, Any] = {
        "forum_id": forum_id,
        "occurrence": at,
        "starts_at": at,
        "ends_at": at + dt.timedelta(hours=2),
        "status": meeting_status,
        "has_situation_picture": True,
        "agenda_version": 0,
    }
    if attendance is not None:
        meeting["attendance"] = list(attendance)
    meeting_id = s.scalar(insert(Meeting).values(**meeting).returning(Meeting.id))
    round_id = s.scalar(
        insert(RatingRound)
        .values(
            forum_id=forum_id,
            meeting_id=meeting_id,
            opens_at=at - dt.timedelta(days=5),
            deadline_at=at - dt.timedelta(days=1),
            closed_at=at - dt.timedelta(days=1),
            status=RatingRoundStatus.CLOSED,
            closed_early=False,
        )
        .returning(RatingRound.id)
    )
    s.execute(
        insert(Rating),
        [
            {
                "round_id": round_id,
                "agency_id": agency,
                "area_id": area,
                "level": level(i, j),
                "rated_by": "U1",
                "rated_at": at - dt.timedelta(days=2),
                "is_current": True,
            }
            for i, agency in enumerate(agency_ids)
            for j, area in enumerate(area_ids)
        ],
    )
    assert round_id is not None
    return int(round_id)


@contextlib.contextmanager
def scaled_databases(
    postgres_url: str, sizes: Sequence[int], prefix: str, clock: Clock
) -> Iterator[list[Scale]]:
    """One fresh PostgreSQL database per size, each holding the small forum and the big
    ones grown until it holds that many cases (what :func:`start_scale` and
    :meth:`Scale.grow_to` make). Side by side, so a bench can take the sizes' requests in
    turn (``bench._common.timed_side_by_side``): a load that comes and goes over the
    minutes of a run then weighs on every size alike, which a run that grows one database
    and measures each size once, minutes apart, cannot say."""
    from storage.db import create_db_engine, migrate, session_factory, temporary_database

    with contextlib.ExitStack() as stack:
        scales: list[Scale] = []
        for size in sizes:
            url = stack.enter_context(temporary_database(postgres_url, prefix))
            migrate(url)
            engine = create_db_engine(url)
            stack.callback(engine.dispose)
            began = time.perf_counter()
            scale = start_scale(engine, session_factory(engine), clock)
            scale.grow_to(size)
            took = time.perf_counter() - began
            print(f"{size:>9} cases in a database (seeded in {took:.0f} s)", flush=True)
            scales.append(scale)
        yield scales
