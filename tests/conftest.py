"""Shared fixtures: a database per backend, the Slack stand-in, and the real bot over HTTP.

Every test that takes ``database_url`` (directly or through ``bot``) runs on SQLite and on
PostgreSQL; one about what only PostgreSQL has is marked ``@postgresql_only`` (so nothing is
collected just to be skipped). PostgreSQL comes from ``SAMVERKAN_TEST_POSTGRES_URL``; when
``SAMVERKAN_REQUIRE_POSTGRES=1`` (CI) a missing PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socketserver
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot import scheduler
from bot.settings import Settings, load_settings
from bot.wiring import Runtime, build_runtime
from domain import privacy_wall, scheduling
from domain.clock import AdjustableClock
from handlers.deps import settle_stores
from sandbox.webapi import SlackWebApiStub
from sandbox.webapi.stub import shutdown_promptly
from storage.db import create_db_engine, migrate, normalize_url, temporary_database
from storage.models import Base
from tests.support.lazy import LazyWork
from tests.support.servers import serve_in_thread
from tests.support.slack_driver import SlackDriver

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
# Monday 23 November 2026, 10:00 Stockholm: a normal working day before a Thursday meeting.
DEFAULT_NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)

# Property tests (hypothesis): CI runs a fixed set of examples (HYPOTHESIS_PROFILE=ci), so a
# run is repeatable; locally each run explores new ones.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

PG_URL = os.environ.get("SAMVERKAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("SAMVERKAN_REQUIRE_POSTGRES") == "1"


# --- databases ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (much faster than migrating)."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("SAMVERKAN_TEST_POSTGRES_URL is not set but PostgreSQL is required")
        pytest.skip("PostgreSQL tests need SAMVERKAN_TEST_POSTGRES_URL")
    database = temporary_database(PG_URL, "samverkan_test")
    try:
        url = database.__enter__()
    except SQLAlchemyError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required but not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    try:
        _commit_without_flush(url)
        migrate(url)
        yield url
    finally:
        _close_postgres_engines()
        database.__exit__(None, None, None)


def _commit_without_flush(url: str) -> None:
    """Every session on the tests' own database (the bot's, the tests', real processes')
    commits without waiting for the server to flush its write-ahead log to disk: a commit
    then costs no fsync (a few ms each on a busy disk, and the suite commits tens of
    thousands of times). What a commit makes visible, and when, is the same; only a crash of
    the PostgreSQL server could lose the last commits, and no test crashes it."""
    name = make_url(normalize_url(url)).database
    admin = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        admin.dispose()


_postgres_engines: dict[str, Engine] = {}
_postgres_sequences: dict[str, str] = {}


def _empty_postgres(url: str) -> None:
    """Delete every row and restart the tables' sequences, as ``TRUNCATE … RESTART IDENTITY``
    would, but in a fraction of the time: TRUNCATE makes new files for every table and index
    and waits for an exclusive lock on each (about 0.5–1.5 s per test; DELETE of a test's few
    rows takes milliseconds). ``ALTER SEQUENCE … RESTART`` makes a new file for each
    sequence too (30 ms for the 29); ``setval(…, start, false)`` puts each at its start
    value in place, so the next ``nextval`` gives the start value as after a restart. One
    pooled connection per worker does it (connecting anew took 20 ms a test), and the
    sequences are looked up once: the schema does not change between tests."""
    engine = _postgres_engines.get(url)
    if engine is None:
        engine = _postgres_engines[url] = create_engine(normalize_url(url), pool_size=1)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        # The audit tables refuse deletes (a trigger), and foreign keys are triggers too: the
        # test superuser goes around them for this transaction only.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("SET LOCAL synchronous_commit = off"))  # a test database: no fsync
        if url not in _postgres_sequences:
            sequences = conn.execute(
                text(
                    "SELECT DISTINCT s.oid::regclass::text, q.seqstart FROM pg_class s"
                    " JOIN pg_sequence q ON q.seqrelid = s.oid"
                    " JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')"
                    " JOIN pg_class t ON t.oid = d.refobjid"
                    " WHERE s.relkind = 'S' AND t.relname = ANY(:tables)"
                ),
                {"tables": tables},
            ).all()
            restarts = ", ".join(f"setval('{name}', {start}, false)" for name, start in sequences)
            _postgres_sequences[url] = f"SELECT {restarts}" if restarts else ""
        statements = [f'DELETE FROM "{name}"' for name in tables]
        if _postgres_sequences[url]:
            statements.append(_postgres_sequences[url])
        conn.exec_driver_sql(";\n".join(statements))


def _close_postgres_engines() -> None:
    for engine in _postgres_engines.values():
        engine.dispose()
    _postgres_engines.clear()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "samverkan.db"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (no migration run), on SQLite and PostgreSQL: for the
    tests of a migration, which migrate it to the revision before and put rows in."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    try:
        with temporary_database(PG_URL, "samverkan_migration") as url:
            yield url
    except Exception as exc:  # pragma: no cover - no PostgreSQL here
        if REQUIRE_PG:
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")


# A test of what only PostgreSQL has (partitions, roles, TRUNCATE, writers that commit out of
# order, row locks that leave the rest of the database free) runs there only, with ``bot``,
# ``sessions`` and ``database_url`` as usual, instead of being collected for SQLite and
# skipped: ``@postgresql_only`` narrows the parametrised ``database_url`` to PostgreSQL.
postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def sessions(database_url: str, clock: AdjustableClock) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(database_url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    privacy_wall.install()  # installed when the domain is imported; explicit for the tests
    privacy_wall.bind_clock(factory, clock)
    yield factory
    engine.dispose()


@pytest.fixture
def clock() -> AdjustableClock:
    return AdjustableClock(DEFAULT_NOW, frozen=True)


# --- Slack stand-in and the real bot ---------------------------------------------------------


@pytest.fixture
def slack() -> Iterator[SlackWebApiStub]:
    with SlackWebApiStub() as stub:
        yield stub


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


@dataclass
class Bot:
    """The real bolt app behind a real HTTP server, talking to the Slack stand-in."""

    url: str
    slack: SlackWebApiStub
    driver: SlackDriver
    runtime: Runtime
    clock: AdjustableClock
    lazy: LazyWork

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.runtime.deps.sessions

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until every lazy listener the requests so far started has finished."""
        self.lazy.wait_idle(timeout)

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until what the requests so far started has finished: their lazy listeners
        (replies, DMs, the outbox's delivery after the ack) and the languages they learned,
        stored."""
        self.lazy.wait_idle(timeout)
        settle_stores(timeout)

    def run_due_work(self, runtime: Runtime | None = None) -> scheduling.Delivery:
        """The scheduler's pass (``bot.scheduler.run_due_work``, unchanged) on this bot's
        runtime or on ``runtime`` (another replica), once the requests' work has settled,
        as it has when the real clock moves on to the next minute. A request's lazy
        delivery (``outgoing.deliver_now`` looks again while it finds something due) still
        at work claimed, at the moved test clock, what the pass queued and sent it after the
        pass had returned: the test looked before it was sent. Tests run the pass through
        this (ruff's TID251 bans the product function in tests/); a test of a pass that
        runs concurrently with other work on purpose calls it directly, with a noqa."""
        self.settle()
        return scheduler.run_due_work(runtime or self.runtime)  # noqa: TID251


# A Slack call the stand-in answers with a server error is retried after ~10 ms, not
# slack_sdk's 0.5–1.5 s and 1–2 s: outage tests wait for what the bot does, not for its pauses.
TEST_RETRY_BACKOFF = 0.01


def make_settings(database_url: str, api_url: str, **extra: Any) -> Settings:
    """The bot's settings for a test. Reading them (pydantic-settings looks every field up in
    the environment and in ``.env``) took ~10 ms, for every test that runs the bot; the same
    inputs give the same settings, so a worker reads them once per distinct input (the
    arguments, the environment, the working directory and its ``.env``) and each test gets a
    copy of its own (a test may change its settings). The database URL and the stand-in's
    URL differ from test to test (a file and a port of its own): each goes through its
    field's validator and is set on the copy; the settings read for other URLs of the same
    kind are otherwise the same."""
    overrides = {
        "slack_signing_secret": SIGNING_SECRET,
        "slack_bot_token": BOT_TOKEN,
        "slack_retry_backoff": TEST_RETRY_BACKOFF,
        **extra,
    }
    try:
        dotenv: bytes | None = Path(".env").read_bytes()
    except OSError:
        dotenv = None
    key = (
        database_url.split(":", 1)[0],
        api_url.split(":", 1)[0],
        repr(sorted(overrides.items())),
        # Everything but pytest's own note of the running test (no setting reads it).
        tuple(sorted(kv for kv in os.environ.items() if kv[0] != "PYTEST_CURRENT_TEST")),
        os.getcwd(),
        dotenv,
    )
    read = _settings_read.get(key)
    if read is None:
        settings = load_settings(database_url=database_url, slack_api_url=api_url, **overrides)
        _settings_read[key] = settings.model_copy(deep=True)
        return settings
    try:
        urls = {
            "database_url": Settings._database_url(database_url),
            "slack_api_url": Settings._api_url(api_url),
        }
    except ValueError:  # load_settings says why, as it would have
        return load_settings(database_url=database_url, slack_api_url=api_url, **overrides)
    return read.model_copy(update=urls, deep=True)


_settings_read: dict[tuple[Any, ...], Settings] = {}


@pytest.fixture
def bot(database_url: str, slack: SlackWebApiStub, clock: AdjustableClock) -> Iterator[Bot]:
    settings = make_settings(database_url, slack.base_url)
    runtime = build_runtime(settings, clock=clock)
    lazy = LazyWork(runtime.app.listener_runner.listener_executor)
    server = make_server(
        "127.0.0.1", 0, runtime.web, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    serve_in_thread(server)
    url = f"http://127.0.0.1:{server.server_port}"
    driver = SlackDriver(url, SIGNING_SECRET, response_url_base=slack.response_url_base)
    try:
        yield Bot(url=url, slack=slack, driver=driver, runtime=runtime, clock=clock, lazy=lazy)
    finally:
        shutdown_promptly(server)
        server.server_close()
        # Lazy listeners still at work (what follows an ack) finish against this test's
        # database and stand-in, not the next test's (teardown no longer idles for them).
        runtime.app.listener_runner.listener_executor.shutdown(wait=True)
        settle_stores()  # the languages they learned, stored before the database goes
        runtime.engine.dispose()


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """A CLI run in a test configures the root logger (bot.logs.configure: a stderr handler
    and a level); put it back afterwards, or a later test in the same worker logs into the
    first test's closed captured stream, and its output depends on the order tests run in."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


# --- the situation picture's images, drawn once per picture ----------------------------------


@pytest.fixture(autouse=True, scope="session")
def _each_picture_drawn_once(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The bot draws the situation picture's two PNGs when a round closes (~0.3 s of matplotlib
    each time); many tests close the same round of the same forum, on both databases. The run
    draws each distinct picture (its data and language) once and hands the same images to the
    next test that asks, in whichever worker: what is posted, and how, is the same. The images
    are kept in memory and in a directory the workers of the run share (the SQLite and the
    PostgreSQL variant of a test often run in different workers). The drawing itself is tested
    in tests/unit/test_ratings_domain.py, which calls it directly."""
    import hashlib
    import pickle

    from handlers.blocks.ratings.messages import SlackRenderers

    draw = SlackRenderers.images
    drawn: dict[str, list[tuple[str, str, str, bytes]]] = {}
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "pictures"
    shared.mkdir(exist_ok=True)

    def images(self: SlackRenderers, t: Any, picture: Any) -> list[tuple[str, str, str, bytes]]:
        key = f"{t.locale}:{picture!r}"
        if key in drawn:
            return drawn[key]
        path = shared / hashlib.sha256(key.encode()).hexdigest()
        result: list[tuple[str, str, str, bytes]] | None = None
        try:
            stored_key, stored = pickle.loads(path.read_bytes())
            if stored_key == key:
                result = stored
        except (OSError, EOFError, pickle.UnpicklingError):
            pass
        if result is None:
            result = draw(self, t, picture)
            partial = path.with_suffix(f".{os.getpid()}")
            partial.write_bytes(pickle.dumps((key, result)))
            partial.replace(path)  # whole or not at all, for the other worker
        drawn[key] = result
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SlackRenderers, "images", images)
        yield


# --- SQL compiled once per worker, not once per test -----------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _statements_compiled_once() -> Iterator[None]:
    """SQLAlchemy compiles each statement once per engine and keeps the result in that engine's
    cache, keyed by the engine's dialect object. Every test builds its own engines (a new
    database, a new runtime), so every test compiled the same few hundred statements again:
    about a fifth of a test's CPU. Here the engines of a worker share one cache, and two
    dialects of the same kind and settings (same class, server version, parameter style,
    identifier limits) count as the same key: the SQL they compile is the same text. Nothing
    else is shared: each test still has its own engine, pool, connections and data."""
    from sqlalchemy.engine import default
    from sqlalchemy.util import LRUCache

    def same_kind(dialect: Any) -> tuple[Any, ...]:
        return (
            type(dialect),
            dialect.server_version_info,
            dialect.paramstyle,
            dialect.label_length,
            dialect.max_identifier_length,
            dialect.insert_returning,
            dialect.insertmanyvalues_page_size,
            dialect.use_insertmanyvalues,
            dialect.supports_native_boolean,
            getattr(dialect, "_json_serializer", None),
            getattr(dialect, "_json_deserializer", None),
        )

    def eq(self: Any, other: object) -> Any:  # bool, or NotImplemented
        if self is other:
            return True
        if not isinstance(other, default.DefaultDialect):
            return NotImplemented
        return bool(same_kind(self) == same_kind(other))

    def hash_(self: Any) -> int:
        return hash(type(self))  # what eq compares may change on first connect; the type never

    shared: LRUCache[Any, Any] = LRUCache(5000)

    def get_cache(self: Engine) -> Any:
        return None if self.__dict__.get("_no_compiled_cache") else shared

    def set_cache(self: Engine, cache: Any) -> None:  # Engine.__init__ sets its own
        self.__dict__["_no_compiled_cache"] = cache is None

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(default.DefaultDialect, "__eq__", eq)
        patch.setattr(default.DefaultDialect, "__hash__", hash_)
        patch.setattr(Engine, "_compiled_cache", property(get_cache, set_cache), raising=False)
        yield


# --- real processes: Python compiled once per run, not once per process ----------------------


@pytest.fixture(autouse=True, scope="session")
def _processes_share_compiled_code(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The processes the tests start (``samverkan serve`` and its workers and runner, the
    sandbox, the CLI) are new Python interpreters. Where PYTHONDONTWRITEBYTECODE is set, each
    compiled our modules from source again, and a replica runs with ``-OO``, for which the
    virtualenv has no compiled files at all: every worker and runner compiled the app and its
    libraries (~2.5 s of CPU each). Here they keep what they compile in a directory of the run
    (``PYTHONPYCACHEPREFIX``, shared by the pytest workers; nothing is written into the
    checkout or the virtualenv), and the next process reads it from there. What they run is
    the same code, with the same optimisation flags."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "pycache"
    with pytest.MonkeyPatch.context() as patch:
        if not os.environ.get("PYTHONPYCACHEPREFIX"):
            patch.setenv("PYTHONPYCACHEPREFIX", str(shared))
        patch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
        yield


# --- suite-wide privacy check (issue #10) ----------------------------------------------------


@pytest.fixture(autouse=True)
def _no_case_details_in_channels(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that runs the real bot: no summary, outcome, comment or consent
    detail it stored reached a channel (see tests/support/privacy_scan.py)."""
    from tests.support.privacy_scan import assert_no_details_in_channels

    if "bot" in request.fixturenames:
        from tests.support.text_scan import broadcasts

        running: Bot = request.getfixturevalue("bot")
        yield
        assert_no_details_in_channels(running.sessions, running.slack.calls)
        assert broadcasts(running.slack.calls) == [], "user text reached Slack unescaped"
    elif {"slack", "sessions"} <= set(request.fixturenames):
        # Real `samverkan serve` processes (replica tests): the same database and stand-in.
        stub: SlackWebApiStub = request.getfixturevalue("slack")
        database: sessionmaker[Session] = request.getfixturevalue("sessions")
        yield
        assert_no_details_in_channels(database, stub.calls)
    else:
        yield


@pytest.fixture(autouse=True)
def _labels_tell_the_truth(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that runs the real bot: no modal input says "(optional)" itself
    (Slack adds it) and no required one says it is optional (tests/support/labels.py)."""
    from tests.support.labels import views_with_label_problems

    if "bot" not in request.fixturenames:
        yield
        return
    running: Bot = request.getfixturevalue("bot")
    yield
    problems = views_with_label_problems(running.slack.calls)
    assert not problems, "\n".join(problems)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests that start real processes (``slow``: 10–30 s each) run first, the rest after
    them in their usual order. With ``-n 2`` a worker takes the next test when it finishes
    one, so a long test started near the end would leave the other worker idle meanwhile."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    _groups_in_node_ids(config, items)


def _groups_in_node_ids(config: pytest.Config, items: list[pytest.Item]) -> None:
    """What ``--dist loadgroup`` does in each worker, where pytest-xdist (3.8) no longer can:
    it marks a test of an ``xdist_group`` by adding ``@<group>`` to its node id, and the
    scheduler hands every test whose id ends so to one worker. It writes ``item._nodeid``,
    which pytest 9.2 no longer reads (ids are ``item._id`` now; pytest-xdist issue 1386), so
    the groups were silently ignored: both workers seeded test_query_plans' big database and
    started a sandbox for test_sandbox_browser. Here the suffix is put where this pytest
    reads it, unless xdist already did."""
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        if not names:
            continue
        suffix = "@" + "_".join(sorted(names))
        if item.nodeid.endswith(suffix):
            continue
        from _pytest.nodeid import NodeId

        item._id = NodeId.parse(item.nodeid + suffix)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.support.privacy_scan import scanned

    if scanned["tests"]:
        terminalreporter.write_line(
            f"privacy scan: {scanned['calls']} channel-directed Slack calls in "
            f"{scanned['tests']} tests carried no case details"
        )
