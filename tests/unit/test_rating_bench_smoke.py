"""bench.rating_picture's pieces work on both databases (speed is checked by the bench)."""

from __future__ import annotations

from sqlalchemy import event

from bench.rating_picture import NOW, latest_round, level_for, measure, seed_forum
from domain.clock import AdjustableClock
from domain.ratings import build_picture, picture_for_meeting
from handlers.deps import Deps
from storage.db import create_db_engine, session_factory
from storage.models import Forum, Meeting, RatingRound


def test_the_levels_spread_over_the_whole_scale() -> None:
    levels = {level_for(r, a, b) for r in range(3) for a in range(5) for b in range(5)}
    assert levels == {1, 2, 3, 4, 5}


def test_the_picture_takes_the_same_few_statements_however_large_the_history(
    database_url: str,
) -> None:
    engine = create_db_engine(database_url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(str(args[2])))
    deps = Deps(sessions=session_factory(engine), clock=AdjustableClock(NOW, frozen=True))
    try:
        big = seed_forum(deps, "CBIG", "BIG", agencies=6, areas=5, rounds=8)
        small = seed_forum(deps, "CSMALL", "SMA", agencies=2, areas=2, rounds=1)
        large = measure(deps, latest_round(deps, big), 2, statements)
        base = measure(deps, latest_round(deps, small), 2, statements)
    finally:
        engine.dispose()
    assert large["statements"] == base["statements"] <= 8


def test_the_agenda_draws_the_same_picture_in_five_statements(database_url: str) -> None:
    """Every agenda of a Thursday carries the picture: with the agenda's meeting and forum
    in the session, one query finds the round and its history (not two), the ratings of
    all rounds come in one, and the forum and meeting are not read again."""
    engine = create_db_engine(database_url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(str(args[2])))
    deps = Deps(sessions=session_factory(engine), clock=AdjustableClock(NOW, frozen=True))
    try:
        big = seed_forum(deps, "CBIG", "BIG", agencies=6, areas=5, rounds=8)
        with deps.sessions() as s:
            rating_round = s.get(RatingRound, latest_round(deps, big))
            assert rating_round is not None
            meeting = s.get(Meeting, rating_round.meeting_id)
            assert meeting is not None
            forum = s.get(Forum, meeting.forum_id)  # held, as the agenda holds it
            assert forum is not None
            expected = build_picture(s, rating_round)
            statements.clear()
            picture = picture_for_meeting(s, meeting)
            count = len(statements)
    finally:
        engine.dispose()
    assert picture == expected
    assert len(expected.history_dates) == 8 and all(a.trend for a in expected.areas)
    assert count == 5, [" ".join(x.split())[:60] for x in statements]
