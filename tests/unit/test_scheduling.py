"""Claim rows and the outbox: each scheduled effect happens once, on both databases."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from typing import Any, NamedTuple

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from domain import scheduling
from domain.clock import AdjustableClock
from domain.forums import create_forum
from storage.db import transaction
from storage.models import EffectStatus, OutboxMessage, OutboxStatus, ScheduledEffect
from tests.support.concurrency import lock_waits
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


class _Due(NamedTuple):
    forum_id: int
    occurrence: dt.datetime
    due_at: dt.datetime


def test_each_claimed_acts_once_per_item_and_marks_it_done_or_skipped(
    sessions: sessionmaker[Session], clock: AdjustableClock
) -> None:
    forum_id = a_forum(sessions, clock)
    later = OCCURRENCE + dt.timedelta(days=7)
    due = [_Due(forum_id, OCCURRENCE, OCCURRENCE), _Due(forum_id, later, later)]
    acted: list[dt.datetime] = []

    def act(session: Session, item: _Due) -> bool:
        acted.append(item.occurrence)
        return item.occurrence == OCCURRENCE  # the later one's subject is gone

    run = scheduling.each_claimed
    assert run(sessions, clock, due, kind="agenda", replica="a", act=act) == 1
    assert acted == [OCCURRENCE, later]
    with sessions() as s:
        effects = s.scalars(select(ScheduledEffect).order_by(ScheduledEffect.occurrence)).all()
        assert [e.status for e in effects] == [EffectStatus.DONE, EffectStatus.SKIPPED]
        assert effects[0].done_at is not None and effects[1].done_at is None
    clock.advance(scheduling.LEASE + dt.timedelta(seconds=1))
    assert run(sessions, clock, due, kind="agenda", replica="b", act=act) == 0  # settled
    assert acted == [OCCURRENCE, later]


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


def queue_update(sessions: sessionmaker[Session], clock: AdjustableClock) -> bool:
    with transaction(sessions) as s:
        return scheduling.enqueue_update(
            s, clock, team_id="T", key="post", render="r", args={"forum_id": 1}
        )


def outbox(sessions: sessionmaker[Session]) -> dict[str, OutboxMessage]:
    with sessions() as s:
        return {m.dedupe_key: m for m in s.scalars(select(OutboxMessage))}


def test_an_update_is_coalesced_only_while_no_deliverer_has_taken_it(
    sessions: sessionmaker[Session], clock: AdjustableClock
) -> None:
    """``enqueue_update`` (one statement on PostgreSQL, two elsewhere): a queued update that
    no deliverer has taken is touched (locked, its send time kept), not repeated; one taken,
    sent, or after a failed post is not."""
    assert queue_update(sessions, clock) is False  # nothing posted under the key
    with transaction(sessions) as s:
        scheduling.enqueue(
            s, clock, team_id="T", method="chat.postMessage", payload={}, dedupe_key="post"
        )
    assert queue_update(sessions, clock) is True
    first = outbox(sessions)["post:u1"]
    clock.advance(dt.timedelta(minutes=1))
    assert queue_update(sessions, clock) is True  # coalesced: touched, no second update
    rows = outbox(sessions)
    assert set(rows) == {"post", "post:u1"}
    # Touched, not hurried: its send time stays (a Retry-After wait Slack asked for holds).
    assert rows["post:u1"].not_before == first.not_before
    # A deliverer has taken it (its lease): the next change needs an update after it.
    with transaction(sessions) as s:
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key == "post:u1")
            .values(lease_until=clock.now() + dt.timedelta(minutes=1))
        )
    taken = outbox(sessions)["post:u1"].not_before
    assert queue_update(sessions, clock) is True
    rows = outbox(sessions)
    assert set(rows) == {"post", "post:u1", "post:u2"}
    assert rows["post:u1"].not_before == taken  # the taken one was not touched
    assert rows["post:u2"].payload[scheduling.AFTER] == "post:u1"
    # Sent: a new one again.
    with transaction(sessions) as s:
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key == "post:u2")
            .values(status=OutboxStatus.SENT)
        )
    assert queue_update(sessions, clock) is True
    assert "post:u3" in outbox(sessions)
    # The post failed: nothing is queued or touched.
    with transaction(sessions) as s:
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key == "post")
            .values(status=OutboxStatus.FAILED)
        )
    pending = outbox(sessions)["post:u3"].not_before
    clock.advance(dt.timedelta(minutes=1))
    assert queue_update(sessions, clock) is False
    rows = outbox(sessions)
    assert set(rows) == {"post", "post:u1", "post:u2", "post:u3"}
    assert rows["post:u3"].not_before == pending


def queue_dm_update(sessions: sessionmaker[Session], clock: AdjustableClock, text: str) -> None:
    with transaction(sessions) as s:
        scheduling.enqueue_dm_update(
            s, clock, team_id="T", key="reminder:1:U1", message={"text": text}
        )


def test_a_dm_update_follows_the_latest_update_and_never_one_given_up(
    sessions: sessionmaker[Session], clock: AdjustableClock
) -> None:
    """DM updates are numbered from the latest update's key (a count would repeat a key
    once retention removed an older row, and the repeated key's update would be dropped),
    and go after the latest update unless it was given up (then every later one would be
    given up too)."""
    with transaction(sessions) as s:
        scheduling.enqueue(
            s,
            clock,
            team_id="T",
            method="chat.postMessage",
            payload={"channel": "U1", "text": "Påminnelse"},
            dedupe_key="reminder:1:U1",
        )
    queue_dm_update(sessions, clock, "först")
    queue_dm_update(sessions, clock, "sedan")
    rows = outbox(sessions)
    assert rows["reminder:1:U1:u1"].payload[scheduling.AFTER] == "reminder:1:U1"
    assert rows["reminder:1:U1:u2"].payload[scheduling.AFTER] == "reminder:1:U1:u1"
    # Retention removed the first update: the next is u3, not a second u2.
    with transaction(sessions) as s:
        s.execute(delete(OutboxMessage).where(OutboxMessage.dedupe_key == "reminder:1:U1:u1"))
    queue_dm_update(sessions, clock, "tredje")
    rows = outbox(sessions)
    assert rows["reminder:1:U1:u3"].payload["text"] == "tredje"
    assert rows["reminder:1:U1:u3"].payload[scheduling.AFTER] == "reminder:1:U1:u2"
    # The latest was given up: the next goes after the DM itself, not after it.
    with transaction(sessions) as s:
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key == "reminder:1:U1:u3")
            .values(status=OutboxStatus.FAILED)
        )
    queue_dm_update(sessions, clock, "fjärde")
    rows = outbox(sessions)
    assert rows["reminder:1:U1:u4"].payload[scheduling.AFTER] == "reminder:1:U1"


def test_two_changes_at_once_share_one_update_that_waits_for_both(
    sessions: sessionmaker[Session], clock: AdjustableClock
) -> None:
    """Two changes of one posted message at the same time: the second's insert of
    ``post:u1`` waits on the first's uncommitted one, then finds it taken. Dropping the
    second (as ON CONFLICT alone did) let a deliverer take and render ``post:u1`` before the
    second change committed, so the message never showed it. The second change now looks
    again and touches the first's update, which holds it until that change commits."""
    with transaction(sessions) as s:
        scheduling.enqueue(
            s, clock, team_id="T", method="chat.postMessage", payload={}, dedupe_key="post"
        )
    engine = sessions.kw["bind"]
    queued, release = threading.Event(), threading.Event()
    results: list[bool] = []

    def second_change() -> None:
        with transaction(sessions) as s:
            results.append(
                scheduling.enqueue_update(
                    s, clock, team_id="T", key="post", render="r", args={"forum_id": 1}
                )
            )
            queued.set()
            release.wait(10)

    first = sessions()
    first.begin()
    assert scheduling.enqueue_update(
        first, clock, team_id="T", key="post", render="r", args={"forum_id": 1}
    )
    thread = threading.Thread(target=second_change)
    with lock_waits(engine) as waits:
        thread.start()
        waits.wait_for(thread)  # the second change waits for the first
    first.commit()
    first.close()
    try:
        assert queued.wait(10)
        if engine.dialect.name == "postgresql":
            # A deliverer taking the update now would render without the second change:
            # the update's row is locked until the second change commits.
            with engine.connect() as conn, conn.begin():
                conn.execute(text("SET LOCAL lock_timeout = '200ms'"))
                with pytest.raises(OperationalError):
                    conn.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.dedupe_key == "post:u1")
                        .values(lease_until=clock.now() + dt.timedelta(minutes=1))
                    )
        # (SQLite: the second change holds the database's one write lock until it commits.)
    finally:
        release.set()
        thread.join(10)
    assert results == [True]
    assert set(outbox(sessions)) == {"post", "post:u1"}  # one update for both changes


def test_two_dm_updates_at_once_both_go_out_in_order(
    sessions: sessionmaker[Session], clock: AdjustableClock
) -> None:
    """A DM's updates carry their text: a second update queued at the same time as the
    first must not be dropped (its text is newer); it goes after the first."""
    with transaction(sessions) as s:
        scheduling.enqueue(
            s,
            clock,
            team_id="T",
            method="chat.postMessage",
            payload={"channel": "U1"},
            dedupe_key="reminder:1:U1",
        )
    engine = sessions.kw["bind"]
    first = sessions()
    first.begin()
    scheduling.enqueue_dm_update(
        first, clock, team_id="T", key="reminder:1:U1", message={"text": "first"}
    )
    thread = threading.Thread(target=queue_dm_update, args=(sessions, clock, "second"))
    with lock_waits(engine) as waits:
        thread.start()
        waits.wait_for(thread)
    first.commit()
    first.close()
    thread.join(10)
    rows = outbox(sessions)
    assert rows["reminder:1:U1:u1"].payload["text"] == "first"
    assert rows["reminder:1:U1:u2"].payload["text"] == "second"
    assert rows["reminder:1:U1:u2"].payload[scheduling.AFTER] == "reminder:1:U1:u1"


class _SlowSlack:
    """Slack answering the post while another request queues its update and delivers: that
    delivery finds the post being sent (claimed, not yet settled)."""

    def __init__(self, sessions: sessionmaker[Session], clock: AdjustableClock) -> None:
        self.sessions, self.clock = sessions, clock
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, team_id: str | None, method: str, payload: Mapping[str, Any]) -> str | None:
        self.calls.append((method, dict(payload)))
        if method == "chat.postMessage":
            with transaction(self.sessions) as s:
                scheduling.enqueue(
                    s,
                    self.clock,
                    team_id="T",
                    method="chat.update",
                    payload={
                        "channel": "C1",
                        "text": "changed",
                        scheduling.FILL: {"ts": "post"},
                        scheduling.AFTER: "post",
                    },
                    dedupe_key="post:u1",
                )
            other = threading.Thread(
                target=scheduling.deliver,
                args=(self.sessions, self.clock, self),
                kwargs={"replica": "b"},
            )
            other.start()
            other.join()
        return "1.0"


def test_an_update_queued_while_its_post_is_being_sent_goes_right_after_it(
    sessions: sessionmaker[Session], clock: AdjustableClock
) -> None:
    """A posted agenda's update queued by one request while another request's delivery is
    sending the message it updates (claimed, Slack not yet answered) goes out right after
    it, in that delivery. Before, the second delivery put it off two seconds and nothing
    looked again until the scheduler's next pass: the channel showed the old agenda (and a
    frozen test clock never sent it)."""
    with transaction(sessions) as s:
        scheduling.enqueue(
            s,
            clock,
            team_id="T",
            method="chat.postMessage",
            payload={"channel": "C1", "text": "agenda"},
            dedupe_key="post",
        )
    slack = _SlowSlack(sessions, clock)
    scheduling.deliver(sessions, clock, slack, replica="a")
    assert [method for method, _ in slack.calls] == ["chat.postMessage", "chat.update"]
    assert slack.calls[1][1]["ts"] == "1.0"
    assert {key: row.status for key, row in outbox(sessions).items()} == {
        "post": OutboxStatus.SENT,
        "post:u1": OutboxStatus.SENT,
    }
