"""The hot queries read indexes, not whole tables, as the app runs them on PostgreSQL.

A small forum sits beside a big one (many cases and actions). For the case list (every
scope, with and without a status, first and deep page), the action list, the agenda build
(collecting and listing) and the action reminders, every statement the domain sends is
prepared, executed six times (psycopg prepares after five, and PostgreSQL may then switch
to a generic plan) and explained: every scan of a table that grows with other forums' data
is an index scan bounded by an index condition (no ``Seq Scan``, and no index walked whole
with only a filter). PostgreSQL only: SQLite has no generic plans and its planner is another story.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from bench import seed
from domain import actions as action_service
from domain import agenda, audit, meetings, ratings, scheduling, steering
from domain import cases as case_service
from domain import forums as fs
from domain.clock import AdjustableClock
from domain.steering import levels
from storage.db import create_db_engine, migrate, session_factory, temporary_database, transaction
from storage.models import (
    SYSTEM_ACTOR,
    AuditAction,
    CaseStatus,
    EffectStatus,
    ForumLink,
    Meeting,
    ScheduledEffect,
)
from tests.conftest import PG_URL
from tests.support.plans import (
    analyzed_rows,
    capture,
    leading_columns,
    plans_of,
    prepared_plan,
    seq_scans,
    unbounded_scans,
)

# Tables that grow with every forum's data; the small ones (forums, agencies, members …)
# may be read whole while they are tiny, as the planner rightly prefers then.
BIG = {"cases", "case_agencies", "consents", "consent_agencies", "actions", "audit_events"}
BIG_FORUM_CASES = 30_000
# Outbox rows of other forums' agendas, previews and DMs (every forum's messages, 90 days).
OTHER_OUTBOX_ROWS = 30_000
# One worker runs the whole module (`--dist loadgroup`), so the big database is seeded once.
pytestmark = pytest.mark.xdist_group("query_plans")


@pytest.fixture(scope="module")
def seeded(postgres_database: str) -> Iterator[tuple[str, seed.SeededForum, seed.SeededForum]]:
    """A database of this module's own (other tests empty the shared one between tests)."""
    with temporary_database(PG_URL, "samverkan_plans") as url:
        migrate(url)
        yield _seed(url)


def _seed(url: str) -> tuple[str, seed.SeededForum, seed.SeededForum]:
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    clock = AdjustableClock(seed.SEED_NOW, frozen=True)
    small = seed.make_forum(sessions, clock, team_id="T1", channel_id="CSMALL", code="SMA")
    big = seed.make_forum(sessions, clock, team_id="T1", channel_id="CBIG", code="BIG")
    newer = seed.make_forum(sessions, clock, team_id="T1", channel_id="CNEW", code="NEW")
    # The big forum's cases are the oldest, a busier forum's come after them, the small
    # forum's last: the order in which walking the primary key looks cheap and is not.
    seed.bulk_cases(engine, big, BIG_FORUM_CASES)
    seed.bulk_cases(engine, newer, BIG_FORUM_CASES // 2)
    seed.bulk_cases(engine, small, 300, meeting_id=small.next_meeting_id)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO outbox (team_id, method, payload, dedupe_key, status, created_at, "
                "not_before, attempts) SELECT 'T1', 'chat.postMessage', '{}', k, 'sent', "
                "now(), now(), 0 FROM generate_series(1, :n) g, LATERAL (VALUES "
                "(:agenda || (900000 + g) || :post), (:preview || (900000 + g) || :dm), "
                "(:preview || (900000 + g) || :dm || :update)) AS keys(k)"
            ),
            {
                "n": OTHER_OUTBOX_ROWS // 3,
                "agenda": "agenda:",
                "preview": "agenda_preview:",
                "post": ":p0",
                "dm": ":U1",
                "update": ":u1",
            },
        )
    seed.analyze(engine)
    engine.dispose()
    return url, small, big


def selects(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("SELECT", "WITH"))


def assert_indexed(
    url: str,
    engine: Engine,
    call: object,
    label: str,
    *,
    small: bool = True,
    big: set[str] = BIG,
    generic: bool = False,
) -> int:
    """No statement of ``call`` reads a big table whole. For the small forum (``small``)
    every scan of a big table must also be bounded by an index condition; the big forum
    holds nearly all rows here, so walking the primary key with a filter is a fair plan
    for it (it finds its rows at once) and only a ``Seq Scan`` counts against it.
    ``generic``: the generic plans (``force_generic_plan``), whatever PostgreSQL chooses."""
    if "audit_events" in big:  # a plan names the log's partitions, not the table
        big = big | set(_partitions(engine))
    found = plans_of(url, engine, call, keep=selects, generic=generic)  # type: ignore[arg-type]
    assert found, f"{label}: no statements captured"
    leading = leading_columns(url)
    for sql, plan in found:
        seq = [t for t in seq_scans(plan) if t in big]
        whole = unbounded_scans(plan, big, leading) if small else seq
        assert not whole, f"{label}: {whole} unbounded:\n{' '.join(sql.split())}\n{plan}"
    return len(found)


@pytest.fixture
def runtime(
    seeded: tuple[str, seed.SeededForum, seed.SeededForum],
) -> tuple[str, Engine, sessionmaker[Session], AdjustableClock]:
    url = seeded[0]
    engine = create_db_engine(url)
    return url, engine, session_factory(engine), AdjustableClock(seed.SEED_NOW, frozen=True)


@pytest.mark.parametrize("channel", ["CSMALL", "CBIG"])
@pytest.mark.parametrize("scope", ["all", "mine", "agency"])
@pytest.mark.parametrize("status", [None, CaseStatus.NEW, CaseStatus.CLOSED])
def test_case_list_pages_read_indexes(
    runtime: tuple[str, Engine, sessionmaker[Session], AdjustableClock],
    channel: str,
    scope: case_service.Scope,
    status: CaseStatus | None,
) -> None:
    url, engine, sessions, clock = runtime

    def page(**keys: int) -> object:
        with transaction(sessions) as s:
            access = fs.require_member_in_channel(
                s, team_id="T1", channel_id=channel, slack_user_id="U1"
            )
            return case_service.list_cases(
                s, clock, access=access, scope=scope, status=status, **keys
            )

    first = page()
    # Strict for the big forum too: its cases are the older ones here, so walking the
    # primary key backwards with a filter would read past every newer forum's case.
    assert_indexed(url, engine, page, f"{channel} {scope} {status} first page")
    last = getattr(first, "last_id", None) or 10**9
    assert_indexed(url, engine, lambda: page(after=last), f"{channel} {scope} {status} deep")
    engine.dispose()


@pytest.mark.parametrize("flt", ["open", "overdue", "done", "follow_up", "all"])
def test_action_list_pages_read_indexes(
    runtime: tuple[str, Engine, sessionmaker[Session], AdjustableClock], flt: str
) -> None:
    url, engine, sessions, clock = runtime
    for scope in ("mine", "agency", "forum"):

        def page(scope: str = scope) -> object:
            with transaction(sessions) as s:
                access = fs.require_member_in_channel(
                    s, team_id="T1", channel_id="CBIG", slack_user_id="U1"
                )
                found = action_service.list_actions(
                    s,
                    clock,
                    access=access,
                    scope=scope,  # type: ignore[arg-type]
                    flt=flt,  # type: ignore[arg-type]
                )
                if found.last_key is not None:
                    action_service.list_actions(
                        s,
                        clock,
                        access=access,
                        scope=scope,  # type: ignore[arg-type]
                        flt=flt,  # type: ignore[arg-type]
                        page=1,
                        after=found.last_key,
                    )
                return found

        assert_indexed(url, engine, page, f"actions {scope} {flt}", small=False)
    engine.dispose()


@pytest.mark.parametrize("channel", ["CSMALL", "CBIG"])
def test_agenda_build_reads_indexes(
    runtime: tuple[str, Engine, sessionmaker[Session], AdjustableClock],
    seeded: tuple[str, seed.SeededForum, seed.SeededForum],
    channel: str,
) -> None:
    url, engine, sessions, clock = runtime
    forum = seeded[1] if channel == "CSMALL" else seeded[2]

    def build() -> object:
        with sessions() as s, s.begin():
            forum_row = fs.require_forum(s, team_id="T1", channel_id=channel)
            meeting = s.get(Meeting, forum.next_meeting_id)
            assert meeting is not None
            built = agenda.build(s, clock, meeting, forum_row, picture=ratings.picture_for_meeting)
            s.rollback()  # the same collection every run
            return built

    assert_indexed(url, engine, build, f"agenda {channel}", small=channel == "CSMALL")
    engine.dispose()


def test_due_work_queries_read_indexes(
    runtime: tuple[str, Engine, sessionmaker[Session], AdjustableClock],
) -> None:
    url, engine, sessions, clock = runtime

    from domain import feedback
    from handlers.blocks.actions import ScheduledMessages
    from handlers.blocks.feedback import SurveyDMs

    with engine.begin() as conn:  # the surveys of the forums' closed cases, answered
        conn.execute(
            text(
                "INSERT INTO feedback_surveys (forum_id, case_id, agency_id, sent_at, "
                "answered_at) SELECT forum_id, id, raising_agency_id, now(), now() FROM cases "
                "ON CONFLICT DO NOTHING"
            )
        )
        conn.execute(text("ANALYZE feedback_surveys"))

    def due_work() -> object:
        with sessions() as s, s.begin():
            agenda.due_meetings(s, clock, agenda.AGENDA)
            agenda.due_meetings(s, clock, agenda.PREVIEW)
            action_service.send_reminders(s, clock, ScheduledMessages(), replica="plans")
            action_service.release_orphaned_actions(s, clock, ScheduledMessages())
            feedback.send_due(s, clock, SurveyDMs(), replica="plans")
            agenda.report_failed_posts(s, clock)
            s.rollback()
        return None

    label = "due agendas, action reminders, surveys, failed posts"
    assert_indexed(
        url, engine, due_work, label, small=False, big=BIG | {"outbox", "feedback_surveys"}
    )
    engine.dispose()


# Agenda posts Slack refused for good, weeks ago (the outbox keeps every forum's 90 days).
OLD_FAILED_POSTS = 3_000


def test_the_failed_posts_pass_reads_only_recent_failures(
    runtime: tuple[str, Engine, sessionmaker[Session], AdjustableClock],
) -> None:
    """Every pass looks for agenda posts that failed in the last two weeks: the failures
    are found by the range of the (status, not_before) index, not by reading every failure
    the outbox keeps of every forum (before, only ``status`` bounded the scan, and each
    older failure was read and filtered on every pass of every replica)."""
    url, engine, sessions, clock = runtime
    weeks_ago = clock.now() - dt.timedelta(days=30)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO outbox (team_id, method, payload, dedupe_key, status, created_at, "
                "not_before, attempts, last_error) SELECT 'T1', 'chat.postMessage', '{}', "
                "'agenda:' || (800000 + g) || :post, 'failed', :at, :at, 1, 'not_in_channel' "
                "FROM generate_series(1, :n) g ON CONFLICT DO NOTHING"
            ),
            {"n": OLD_FAILED_POSTS, "at": weeks_ago, "post": ":p0"},
        )
        conn.execute(text("ANALYZE outbox"))

    def report() -> object:
        with sessions() as s, s.begin():
            told = agenda.report_failed_posts(s, clock)
            s.rollback()
            return told

    assert report() == 0  # those failures are past the catch-up
    assert_indexed(url, engine, report, "failed posts", big=BIG | {"outbox"})
    with capture(engine) as found:
        report()
    (read,) = [c for c in found if "outbox" in c.sql and "LIKE" in c.sql.upper()]
    assert analyzed_rows(url, read, "outbox") <= 10, read.sql
    engine.dispose()


# Other messages Slack refused for good within the catch-up window (DMs to people who left
# the workspace, updates of deleted messages …): every forum's, far more than agenda posts.
RECENT_OTHER_FAILURES = 10_000


def test_the_failed_posts_pass_reads_only_failed_agenda_posts(
    runtime: tuple[str, Engine, sessionmaker[Session], AdjustableClock],
) -> None:
    """The failures of the last two weeks are read from an index of failed agenda posts
    only (ix_outbox_failed_agenda_posts), not from every message of every forum that failed
    within them (before, the (status, not_before) range held them all and the key's LIKE
    filtered them out on every pass of every replica), also under a generic plan."""
    url, engine, sessions, clock = runtime
    days_ago = clock.now() - dt.timedelta(days=2)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO outbox (team_id, method, payload, dedupe_key, status, created_at, "
                "not_before, attempts, last_error) SELECT 'T1', 'chat.postMessage', '{}', "
                "'dm:' || (700000 + g) || :dm, 'failed', :at, :at, 1, 'user_not_found' "
                "FROM generate_series(1, :n) g ON CONFLICT DO NOTHING"
            ),
            {"n": RECENT_OTHER_FAILURES, "at": days_ago, "dm": ":U1"},
        )
        conn.execute(text("ANALYZE outbox"))

    def report() -> object:
        with sessions() as s, s.begin():
            told = agenda.report_failed_posts(s, clock)
            s.rollback()
            return told

    assert report() == 0  # none of them is an agenda post
    assert_indexed(url, engine, report, "failed posts", big=BIG | {"outbox"})
    with capture(engine) as found:
        report()
    (read,) = [c for c in found if "outbox" in c.sql and "LIKE" in c.sql.upper()]
    assert analyzed_rows(url, read, "outbox") <= 10, read.sql
    assert analyzed_rows(url, read, "outbox", generic=True) <= 10, read.sql
    engine.dispose()


@pytest.mark.parametrize("channel", ["CSMALL", "CBIG"])
def test_the_action_a_submission_created_is_found_by_index(
    runtime: tuple[str, Engine, sessionmaker[Session], AdjustableClock], channel: str
) -> None:
    """After the ack of a new action, the case modal beneath is refreshed when the
    submission created one: found by the forum and the submission's key (the index of the
    pair), not by the key alone, which read every forum's actions."""
    url, engine, sessions, _clock = runtime

    def lookup() -> object:
        with sessions() as s:
            forum = fs.require_forum(s, team_id="T1", channel_id=channel)
            return action_service.submitted(s, forum_id=forum.id, submission_key="V0NEW")

    assert lookup() is None
    assert_indexed(url, engine, lookup, f"submitted action {channel}")
    engine.dispose()


OTHER_ANNOUNCEMENTS = 3_000


def test_the_announcement_update_finds_its_message_by_index(
    runtime: tuple[str, Engine, sessionmaker[Session], AdjustableClock],
    seeded: tuple[str, seed.SeededForum, seed.SeededForum],
) -> None:
    """Every save of a forum's settings (and every member added) queues the update of its
    channel announcement: the posted message and its latest update are looked up by key,
    whatever the outbox holds of other forums' messages: before, ``_`` in the key
    (``forum_created:7``) was a LIKE wildcard, so the lookup of its updates read every
    forum's announcements and their updates."""
    url, engine, sessions, clock = runtime
    small = seeded[1]
    key = f"forum_created:{small.id}"
    with engine.begin() as conn:  # posted before every other forum's message in the outbox
        conn.execute(
            text(
                "INSERT INTO outbox (id, team_id, method, payload, dedupe_key, status, "
                "created_at, not_before, attempts) VALUES (0, 'T1', 'chat.postMessage', "
                "'{}', :key, 'sent', now(), now(), 0) ON CONFLICT DO NOTHING"
            ),
            {"key": key},
        )
        # Other forums' announcements, each updated once.
        conn.execute(
            text(
                "INSERT INTO outbox (team_id, method, payload, dedupe_key, status, created_at, "
                "not_before, attempts) SELECT 'T1', 'chat.postMessage', '{}', k, 'sent', "
                "now(), now(), 0 FROM generate_series(1, :n) g, LATERAL (VALUES "
                "('forum_created:' || (900000 + g)), ('forum_created:' || (900000 + g) || :u1))"
                " AS keys(k) ON CONFLICT DO NOTHING"
            ),
            {"n": OTHER_ANNOUNCEMENTS, "u1": ":u1"},
        )
        conn.execute(text("ANALYZE outbox"))

    def save() -> object:
        with sessions() as s, s.begin():
            queued = scheduling.enqueue_update(
                s, clock, team_id="T1", key=key, render="forum_created", args={"forum_id": 1}
            )
            s.rollback()
            return queued

    assert save()
    assert_indexed(url, engine, save, "announcement update", big=BIG | {"outbox"})
    with capture(engine) as found:
        save()
    (lookup,) = [c for c in found if "prefix" in c.params]
    # The posted message (twice: the lookup and the touch's check) and nothing of the other
    # forums' announcements; also under the generic plan a statement prepared after five
    # runs may get, which does not know the key: before, ``LIKE $1`` bounded no index scan
    # there, and the walk back from the newest row read every message queued after this one.
    assert analyzed_rows(url, lookup, "outbox") <= 3, lookup.sql
    assert analyzed_rows(url, lookup, "outbox", generic=True) <= 3, lookup.sql
    engine.dispose()


def test_the_consent_passes_read_an_index(
    runtime: tuple[str, Engine, sessionmaker[Session], AdjustableClock],
) -> None:
    """The consent jobs run on every pass of every replica: the consents about to expire
    (and those that just expired) are found by their end date, not by reading every
    forum's consents."""
    url, engine, sessions, clock = runtime

    def passes() -> object:
        with sessions() as s, s.begin():
            case_service.remind_expiring_consents(s, clock, replica="plans")
            case_service.expired_consent_readers(s, clock, replica="plans")
            s.rollback()
        return None

    assert_indexed(url, engine, passes, "consent passes", small=False)
    engine.dispose()


def test_agenda_updates_find_their_earlier_messages_by_index(
    runtime: tuple[str, Engine, sessionmaker[Session], AdjustableClock],
    seeded: tuple[str, seed.SeededForum, seed.SeededForum],
) -> None:
    """Updating a posted agenda and refreshing the coordinators' previews look up earlier
    outbox rows by the beginning of their key; the outbox holds every forum's messages, so
    that lookup must be a range of an index (ix_outbox_dedupe_key_pattern), not a scan."""
    url, engine, sessions, clock = runtime
    small = seeded[1]
    with transaction(sessions) as s:
        meeting = s.get(Meeting, small.next_meeting_id)
        assert meeting is not None
        s.add(
            ScheduledEffect(
                forum_id=small.id,
                kind=agenda.AGENDA,
                subject="",
                occurrence=meeting.occurrence,
                due_at=clock.now(),
                status=EffectStatus.DONE,
                late=False,
            )
        )
        for key in (f"agenda:{meeting.id}:p0", f"agenda_preview:{meeting.id}:U1"):
            scheduling.enqueue(
                s,
                clock,
                team_id="T1",
                method="chat.postMessage",
                payload={"channel": "CSMALL"},
                dedupe_key=key,
            )

    def update() -> object:
        with sessions() as s, s.begin():
            forum_row = fs.require_forum(s, team_id="T1", channel_id="CSMALL")
            meeting = s.get(Meeting, small.next_meeting_id)
            assert meeting is not None
            updated = agenda.publish_update(
                s, clock, meeting, forum_row, lambda _a: [{"text": "dagordning"}]
            )
            refreshed = agenda.refresh_previews(
                s, clock, meeting, forum_row, lambda _a: {"text": "förhandsvisning"}
            )
            assert updated and refreshed == 1
            s.rollback()  # the same lookups every run
        return None

    assert_indexed(url, engine, update, "agenda update, previews", big=BIG | {"outbox"})
    engine.dispose()


# Steering events of one workspace's log before a link of it ends (every save of a steering
# forum's settings writes one): reading them all for each press grew with the log.
STEERING_EVENTS = 3_000


def test_a_press_on_an_ended_link_reads_its_tombstone_by_index(
    runtime: tuple[str, Engine, sessionmaker[Session], AdjustableClock],
) -> None:
    """A press of an ended link's button (``levels.link_ended_in``) is answered by one
    indexed read of the link's tombstone, whatever the size of the workspace's log: before,
    every steering event of the workspace was read (and sorted) on each press, a crafted
    id's too."""
    url, engine, sessions, clock = runtime
    board = seed.make_forum(sessions, clock, team_id="T9", channel_id="C9BOARD", code="BRD")
    followed = seed.make_forum(sessions, clock, team_id="T9", channel_id="C9FOS", code="FOS")
    with transaction(sessions) as s:
        for _n in range(STEERING_EVENTS):
            audit.record(
                s,
                clock,
                actor="U1",
                action=AuditAction.UPDATE,
                object_type="steering",
                object_ref="BRD",
                team_id="T9",
                forum_id=board.id,
                detail={"level": "styrgrupp", "follows": []},
            )
    for follows in ([followed.id], []):  # the board follows the forum, then drops it
        with transaction(sessions) as s:
            access = fs.require_member_in_channel(
                s, team_id="T9", channel_id="C9BOARD", slack_user_id="U1"
            )
            steering.configure(s, clock, access=access, level="styrgrupp", forum_ids=follows)
            if follows:
                link = s.scalar(select(ForumLink.id).where(ForumLink.forum_id == followed.id))
    assert link is not None
    with engine.begin() as conn:
        conn.execute(text("ANALYZE audit_events"))

    def lookup(link_id: int) -> object:
        with sessions() as s:
            return levels.link_ended_in(s, "T9", link_id)

    assert lookup(link) == followed.id  # the answer: the forum whose link it was
    assert lookup(link + 10_000) is None  # a crafted id: no ended link
    for link_id in (link, link + 10_000):
        assert_indexed(url, engine, lambda i=link_id: lookup(i), f"link {link_id}")
        with capture(engine) as found:
            lookup(link_id)
        reads = [c for c in found if "audit_events" in c.sql]
        assert len(reads) == 1, [c.sql for c in found]
        assert analyzed_rows(url, reads[0], "audit_events") <= 1, reads[0].sql
    engine.dispose()


def test_a_press_on_a_meeting_a_schedule_change_removed_reads_its_tombstone_by_index(
    runtime: tuple[str, Engine, sessionmaker[Session], AdjustableClock],
) -> None:
    """The meeting a schedule change removed is found by its tombstone
    (``meetings.removed_in``) in one indexed read, whatever the size of the log: before,
    ``ORDER BY id DESC LIMIT 1`` had PostgreSQL's generic plan walk every partition's
    primary key backwards, filtering each event of the log it met."""
    url, engine, sessions, clock = runtime
    forum = seed.make_forum(sessions, clock, team_id="T8", channel_id="C8FOS", code="MTG")
    removed = forum.next_meeting_id + 100_000  # an id no meeting has now
    with transaction(sessions) as s:
        for n in range(STEERING_EVENTS):
            audit.record(
                s,
                clock,
                actor="U1",
                action=AuditAction.READ,
                object_type="meeting",
                object_ref=str(forum.next_meeting_id + n % 3),
                team_id="T8",
                forum_id=forum.id,
            )
        audit.record(  # as meetings._retire writes it
            s,
            clock,
            actor=SYSTEM_ACTOR,
            action=AuditAction.DELETE,
            object_type="meeting",
            object_ref=str(removed),
            team_id="T8",
            forum_id=forum.id,
            detail={"removed": meetings.REMOVED_BY_SCHEDULE},
        )
    with engine.begin() as conn:
        conn.execute(text("ANALYZE audit_events"))

    def lookup(meeting_id: int) -> object:
        with sessions() as s:
            return meetings.removed_in(s, "T8", meeting_id)

    assert lookup(removed) == forum.id
    assert lookup(removed + 1) is None
    for meeting_id in (removed, removed + 1):
        label = f"meeting {meeting_id}"
        assert_indexed(url, engine, lambda i=meeting_id: lookup(i), label)
        with capture(engine) as found:
            lookup(meeting_id)
        (read,) = [c for c in found if "audit_events" in c.sql]
        assert analyzed_rows(url, read, "audit_events") <= 1, read.sql
    engine.dispose()


def _partitions(engine: Engine) -> list[str]:
    """The audit log's monthly partitions that hold events (an empty one is rightly read
    whole: there is nothing in it; so is the DEFAULT one, for the odd event out of every
    month's range, a few rows)."""
    with engine.connect() as conn:
        names = conn.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'audit_partitions'")
        ).all()
        return [
            name
            for name in names
            if name != "audit_events_default"
            and conn.scalar(text(f"SELECT EXISTS (SELECT FROM audit_partitions.{name})"))
        ]


def test_the_hello_check_finds_a_channels_forum_by_index(
    runtime: tuple[str, Engine, sessionmaker[Session], AdjustableClock],
) -> None:
    """The bot invited to a channel says hello only where no workspace's forum meets: the
    forums are asked for by channel alone, which the (team_id, channel_id) key does not
    serve. With the planner kept off whole-table reads (the forums here are few, so it would
    rightly read them whole), the check is one probe of ``ix_forums_channel_id`` (migration
    0025); before, only a Seq Scan or a walk of the whole (team_id, channel_id) index was
    left."""
    url, engine, sessions, _clock = runtime

    def check() -> bool:
        with sessions() as s:
            return fs.channel_has_forum(s, channel_id="CSMALL")

    with capture(engine) as found:
        assert check()
    (read,) = [c for c in found if selects(c.sql)]
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = prepared_plan(conn, read)
    assert not unbounded_scans(plan, {"forums"}, leading_columns(url)), plan
    assert "ix_forums_channel_id" in plan, plan
    engine.dispose()
