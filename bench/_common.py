"""What the database benchmarks share: the ``--postgres-url`` option, a log of the SQL
statements an engine runs, and timed calls."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Engine, event

if TYPE_CHECKING:
    from bot.wiring import Runtime
    from domain.clock import Clock
    from sandbox.webapi import SlackWebApiStub

DEFAULT_POSTGRES_URL = os.environ.get(
    "SAMVERKAN_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def add_postgres_url(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    """``--postgres-url``: the server where the bench creates (and drops) its database."""
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help=help)


@contextmanager
def bot_runtime(
    postgres_url: str,
    name: str,
    *,
    secret: str,
    clock: Clock | None = None,
    seed: Callable[[str], object] | None = None,
) -> Iterator[tuple[Runtime, SlackWebApiStub, str]]:
    """The real bot (``bot.wiring.build_runtime``, as the server builds it) on a new
    database ``name`` of the server at ``postgres_url`` (migrated, then ``seed(url)``),
    against a Web API stand-in: ``(runtime, slack, url)``; the database is dropped after."""
    from bot.settings import load_settings
    from bot.wiring import build_runtime
    from domain.clock import SystemClock
    from sandbox.webapi import SlackWebApiStub
    from storage.db import migrate, temporary_database

    with temporary_database(postgres_url, name) as url, SlackWebApiStub() as slack:
        migrate(url)
        if seed is not None:
            seed(url)
        settings = load_settings(
            database_url=url,
            slack_signing_secret=secret,
            slack_bot_token="xoxb-bench",
            slack_api_url=slack.base_url,
        )
        yield build_runtime(settings, clock=clock or SystemClock()), slack, url


def statement_log(engine: Engine) -> list[str]:
    """A list that gets the SQL of every statement ``engine`` runs from now on (clear it to
    count the statements of one call)."""
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(str(args[2])))
    return statements


def timed_ms(call: Callable[[], object], times: int) -> list[float]:
    """``call()`` ``times`` times; the latencies in milliseconds, sorted."""
    latencies = []
    for _ in range(times):
        began = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - began) * 1000)
    latencies.sort()
    return latencies


def timed_side_by_side(calls: Sequence[Callable[[], object]], times: int) -> list[list[float]]:
    """Each of ``calls`` ``times`` times, request by request in turn (a, b, c, b, c, a, …:
    the order rotates), so a load that comes and goes weighs on every call alike; the
    latencies of each call in milliseconds, sorted."""
    latencies: list[list[float]] = [[] for _ in calls]
    for n in range(times):
        for k in range(len(calls)):
            index = (n + k) % len(calls)
            began = time.perf_counter()
            calls[index]()
            latencies[index].append((time.perf_counter() - began) * 1000)
    for found in latencies:
        found.sort()
    return latencies


def p99_ms(sorted_ms: list[float]) -> float:
    """The 99th percentile of sorted latencies as the database benchmarks report it."""
    return sorted_ms[max(0, int(len(sorted_ms) * 0.99) - 1)]
