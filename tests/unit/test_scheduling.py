"""Claim rows and the outbox: each scheduled effect happens once, on both databases."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from domain import scheduling
from domain.clock import AdjustableClock
from domain.forums import create_forum
from storage.db import transaction
from storage.models import EffectStatus, OutboxMessage, ScheduledEffect
from tests.support.forums import forum_draft

OCCURRENCE = dt.datetime(2026, 12, 3, 7, 0, tzinfo=dt.UTC)


def a_forum(sessions: sessionmaker[Session], clock: AdjustableClock) -> int:
    draft = forum_draft(agencies=["Grundskola"])
    with transaction(sessions) as s:
        return create_forum(s, clock, team_id="T", channel_id="C", actor="U1", draft=draft).id


def claim(
    sessions: sessionmaker[Session], clock: AdjustableClock, forum_id: int, replica: str
) -> bool:
    with transaction(sessions) as s:
        effect = scheduling.claim(
            s,
            clock,
            forum_id=forum_id,
            kind="agenda",
            subject="",
            occurrence=OCCURRENCE,
            due_at=OCCURRENCE,
            replica=replica,
        )
        return effect is not None


def test_one_replica_claims_and_a_dead_replicas_claim_is_taken_over(
    sessions: sessionmaker[Session], clock: AdjustableClock
) -> None:
    forum_id = a_forum(sessions, clock)
    assert claim(sessions, clock, forum_id, "a") is True
    assert claim(sessions, clock, forum_id, "b") is False  # a holds the lease
    clock.advance(scheduling.LEASE + dt.timedelta(seconds=1))  # a died
    assert claim(sessions, clock, forum_id, "b") is True
    with transaction(sessions) as s:
        effect = s.scalars(select(ScheduledEffect)).one()
        assert effect.claimed_by == "b"
        scheduling.complete(s, clock, effect)
    clock.advance(dt.timedelta(hours=1))
    assert claim(sessions, clock, forum_id, "c") is False  # done stays done
    with sessions() as s:
        assert s.scalars(select(ScheduledEffect)).one().status is EffectStatus.DONE


def test_replicas_racing_for_one_effect_get_it_once(
    sessions: sessionmaker[Session], clock: AdjustableClock
) -> None:
    forum_id = a_forum(sessions, clock)
    barrier = threading.Barrier(4)
    wins: list[bool] = []

    def replica(n: int) -> None:
        barrier.wait()
        wins.append(claim(sessions, clock, forum_id, f"r{n}"))

    threads = [threading.Thread(target=replica, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(wins) == [False, False, False, True]


def test_a_message_is_queued_once_per_key(
    sessions: sessionmaker[Session], clock: AdjustableClock
) -> None:
    for _ in range(2):
        with transaction(sessions) as s:
            scheduling.enqueue(
                s,
                clock,
                team_id="T",
                method="chat.postMessage",
                payload={"channel": "U1", "text": "hej"},
                dedupe_key="k1",
            )
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1
