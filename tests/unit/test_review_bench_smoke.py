"""bench.half_year_review's pieces work on both databases (its speed is the bench's job)."""

from __future__ import annotations

from bench.half_year_review import NOW, build_once, seed_forum
from domain.clock import AdjustableClock
from domain.i18n import Translator
from handlers.deps import Deps
from storage.db import create_db_engine, session_factory


def test_the_bench_builds_a_review_for_a_seeded_forum(database_url: str) -> None:
    engine = create_db_engine(database_url)
    deps = Deps(sessions=session_factory(engine), clock=AdjustableClock(NOW, frozen=True))
    try:
        forum_id = seed_forum(deps, "CBIG", "BIG", cases=30, actions=40, rounds=3)
        seconds, size = build_once(deps, forum_id, Translator("sv"))
    finally:
        engine.dispose()
    assert seconds > 0 and size > 10_000
