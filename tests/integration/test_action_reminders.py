"""Action reminders through the real runtime (run_due_work): working days only, never at
night, exactly once (also with two runtimes at once), snooze, the overdue digest, and an
owner who leaves the forum."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.scheduler import run_due_work  # noqa: TID251 (concurrent passes, on purpose)
from bot.wiring import build_runtime
from domain import actions as action_service
from domain import forums as fs
from storage.db import transaction
from storage.models import Action, ActionEvent, ActionStatus
from tests.conftest import Bot, make_settings
from tests.integration.test_action_flow import (
    ADMIN,
    CHANNEL,
    ELEVHALSA,
    ELEVHALSA2,
    SOCIAL,
    make_forum,
    submit_action,
)
from tests.support.slack_driver import users_value

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    return make_forum(bot)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=STOCKHOLM)


def create(
    bot: Bot, forum: dict[str, int], due: dt.date, *, owner: str = ELEVHALSA, n: int = 0
) -> int:
    before = bot.slack.count("chat.postMessage")
    response = submit_action(bot, forum, owner=owner, due=due, view_id=f"VR{n}-{due}")
    assert response.json() is None, response.body
    bot.slack.wait_for("chat.postMessage", count=before + 2)  # the owner's and the creator's
    # The delivery after the ack looks again after what it sent: done before a test resets
    # the stand-in or moves the clock (as test_dm_language's create_action).
    bot.wait_idle()
    with bot.sessions() as session:
        return int(session.scalars(select(Action.id).order_by(Action.id.desc())).first() or 0)


def action_messages(bot: Bot) -> list[Any]:
    """Messages about actions (agendas and their previews run on the same ticks)."""
    return [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if not c.args.get("text", "").startswith(("Förhandsvisning", "Dagordning"))
    ]


def reminders_to(bot: Bot, user: str) -> list[dict[str, Any]]:
    return [
        c.args
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == user and "action_snooze_hour" in json.dumps(c.args)
    ]


def digests_to(bot: Bot, user: str) -> list[dict[str, Any]]:
    return [
        c.args
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == user and c.args["blocks"][0]["type"] == "header"
    ]


def run_at(bot: Bot, moment: dt.datetime) -> None:
    """The scheduler's pass at ``moment``, once the requests' work has settled (before the
    clock moves: a lazy delivery still looking would send, at ``moment``, what is due)."""
    bot.settle()
    bot.clock.set(moment)
    bot.run_due_work()


def test_reminders_skip_weekends_holidays_and_nights(bot: Bot, forum: dict[str, int]) -> None:
    # Due Monday 28 December: three working days before is Monday 21 December (24 and 25
    # December are days off, 26–27 a weekend).
    action_id = create(bot, forum, dt.date(2026, 12, 28))
    bot.slack.wait_for("chat.postMessage", count=2)
    bot.slack.reset()
    run_at(bot, at(dt.date(2026, 12, 18), 9))
    run_at(bot, at(dt.date(2026, 12, 21), 6))  # the right day, but at night
    assert reminders_to(bot, ELEVHALSA) == []
    run_at(bot, at(dt.date(2026, 12, 21), 8, 5))
    (first,) = reminders_to(bot, ELEVHALSA)
    assert f"#{action_id}" in json.dumps(first, ensure_ascii=False)
    assert "måndag 28 december" in json.dumps(first, ensure_ascii=False)
    run_at(bot, at(dt.date(2026, 12, 21), 15))
    for day in (22, 23, 24, 25, 26, 27):
        run_at(bot, at(dt.date(2026, 12, day), 9))
    assert len(reminders_to(bot, ELEVHALSA)) == 1
    run_at(bot, at(dt.date(2026, 12, 28), 8, 1))
    assert len(reminders_to(bot, ELEVHALSA)) == 2  # on the due date
    for day in (29, 30, 31):
        run_at(bot, at(dt.date(2026, 12, day), 10))
    run_at(bot, at(dt.date(2027, 1, 1), 10))
    assert len(reminders_to(bot, ELEVHALSA)) == 2
    assert digests_to(bot, ELEVHALSA) == []
    run_at(bot, at(dt.date(2027, 1, 4), 8, 30))  # a week overdue: the daily digest
    (digest,) = digests_to(bot, ELEVHALSA)
    assert f"#{action_id}" in json.dumps(digest)
    run_at(bot, at(dt.date(2027, 1, 5), 8, 30))
    run_at(bot, at(dt.date(2027, 1, 11), 8, 30))  # and weekly after that
    assert len(digests_to(bot, ELEVHALSA)) == 2
    bot.slack.assert_no_violations()


def test_one_digest_a_day_for_all_overdue_actions(bot: Bot, forum: dict[str, int]) -> None:
    first = create(bot, forum, dt.date(2026, 11, 25), n=1)
    second = create(bot, forum, dt.date(2026, 11, 25), n=2)
    later = create(bot, forum, dt.date(2026, 12, 7), n=3)
    bot.slack.reset()
    run_at(bot, at(dt.date(2026, 11, 25), 8, 30))  # both due today: one message each
    assert len(reminders_to(bot, ELEVHALSA)) == 2
    # 2 December: both a week overdue (one digest) and the later one three working days
    # before its due date (its own reminder).
    run_at(bot, at(dt.date(2026, 12, 2), 8, 30))
    (digest,) = digests_to(bot, ELEVHALSA)
    text = json.dumps(digest)
    assert f"#{first}" in text and f"#{second}" in text and f"#{later}" not in text
    assert len(reminders_to(bot, ELEVHALSA)) == 3
    assert f"#{later}" in json.dumps(reminders_to(bot, ELEVHALSA)[-1])


def test_snooze_an_hour_or_until_the_next_working_morning(bot: Bot, forum: dict[str, int]) -> None:
    action_id = create(bot, forum, dt.date(2026, 11, 27))  # a Friday
    bot.slack.reset()
    run_at(bot, at(dt.date(2026, 11, 27), 8, 30))
    assert len(reminders_to(bot, ELEVHALSA)) == 1
    bot.driver.block_action(
        "action_snooze_hour", user=ELEVHALSA, value=str(action_id), channel="D0001"
    )
    note = bot.slack.wait_for("response_url")[-1].args
    assert note["replace_original"] is True
    run_at(bot, at(dt.date(2026, 11, 27), 9, 0))
    assert len(reminders_to(bot, ELEVHALSA)) == 1
    run_at(bot, at(dt.date(2026, 11, 27), 9, 31))
    assert len(reminders_to(bot, ELEVHALSA)) == 2
    bot.driver.block_action(
        "action_snooze_morning", user=ELEVHALSA, value=str(action_id), channel="D0001"
    )
    bot.slack.wait_for("response_url", count=2)
    with bot.sessions() as session:
        action = session.get(Action, action_id)
        assert action is not None and action.remind_at == at(dt.date(2026, 11, 30), 8)
    run_at(bot, at(dt.date(2026, 11, 28), 10))  # Saturday
    run_at(bot, at(dt.date(2026, 11, 30), 7))  # Monday, before the morning
    assert len(reminders_to(bot, ELEVHALSA)) == 2
    run_at(bot, at(dt.date(2026, 11, 30), 8, 10))
    assert len(reminders_to(bot, ELEVHALSA)) == 3  # snoozed: its own message, not a digest
    run_at(bot, at(dt.date(2026, 11, 30), 12))
    assert len(reminders_to(bot, ELEVHALSA)) == 3
    with bot.sessions() as session:
        kinds = [e.kind for e in session.scalars(select(ActionEvent).order_by(ActionEvent.id))]
    assert kinds == ["created", "snoozed", "snoozed"]


def test_done_actions_are_not_reminded(bot: Bot, forum: dict[str, int]) -> None:
    action_id = create(bot, forum, dt.date(2026, 11, 25))
    bot.driver.block_action("action_done", user=ELEVHALSA, value=str(action_id), channel="D1")
    bot.slack.wait_for("response_url")
    bot.wait_idle()  # what marking it done sends (a busy machine: after the response_url)
    bot.slack.reset()
    run_at(bot, at(dt.date(2026, 11, 25), 8, 30))
    run_at(bot, at(dt.date(2026, 12, 2), 8, 30))
    assert action_messages(bot) == []


def test_two_runtimes_send_each_reminder_once(
    bot: Bot,
    forum: dict[str, int],
    database_url: str,
) -> None:
    for n in range(4):
        create(bot, forum, dt.date(2026, 11, 25), owner=(ELEVHALSA, ELEVHALSA2)[n % 2], n=n)
    bot.settle()  # the passes below run at once, on purpose: each calls run_due_work itself
    bot.slack.reset()
    other = build_runtime(make_settings(database_url, bot.slack.base_url), clock=bot.clock)
    try:
        bot.clock.set(at(dt.date(2026, 11, 25), 8, 30))
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def replica(runtime: Any) -> None:
            try:
                barrier.wait()
                for _ in range(3):
                    run_due_work(runtime)
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=replica, args=(r,)) for r in (bot.runtime, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert len(reminders_to(bot, ELEVHALSA)) == 2
        assert len(reminders_to(bot, ELEVHALSA2)) == 2
        # A week later: one digest each, whichever replica claims.
        bot.clock.set(at(dt.date(2026, 12, 2), 8, 30))
        threads = [threading.Thread(target=replica, args=(r,)) for r in (bot.runtime, other)]
        barrier.reset()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert len(digests_to(bot, ELEVHALSA)) == 1
        assert len(digests_to(bot, ELEVHALSA2)) == 1
    finally:
        other.engine.dispose()


def test_an_owner_who_leaves_leaves_the_action_with_the_agency(
    bot: Bot,
    forum: dict[str, int],
) -> None:
    action_id = create(bot, forum, dt.date(2026, 11, 25))
    bot.slack.reset()
    bot.driver.event(
        {"type": "member_left_channel", "user": ELEVHALSA, "channel": CHANNEL, "team": "T0001"}
    )
    bot.run_due_work()
    with bot.sessions() as session:
        action = session.get(Action, action_id)
        assert action is not None
        assert action.owner is None and action.status is ActionStatus.OPEN
        assert action.owning_agency_id == forum["Elevhälsa"]
        last = session.scalars(select(ActionEvent).order_by(ActionEvent.id.desc())).first()
        assert last is not None and (last.kind, last.actor) == ("owner_left", ELEVHALSA)
    (told,) = [c for c in action_messages(bot) if c.args["channel"] == ADMIN]
    assert f"#{action_id}" in json.dumps(told.args)
    assert "action_hand_over" in json.dumps(told.args)
    bot.run_due_work()
    run_at(bot, at(dt.date(2026, 11, 25), 8, 30))
    assert len(action_messages(bot)) == 1  # told once; no reminders to anyone
    # The coordinator hands it to another member of the agency.
    bot.driver.block_action("action_hand_over", user=ADMIN, value=str(action_id), channel="D2")
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    values = {"owner": {"value": users_value(ELEVHALSA2)}}
    response = bot.driver.view_submission(
        "action_handover",
        values,
        user=ADMIN,
        private_metadata=view["private_metadata"],
        blocks=[{"type": "input", "block_id": "owner"}],
    )
    assert response.json() is None
    with bot.sessions() as session:
        action = session.get(Action, action_id)
        assert action is not None and action.owner == ELEVHALSA2 and action.remind_at is not None


def test_a_member_removed_by_the_coordinator_is_released_too(
    bot: Bot,
    forum: dict[str, int],
) -> None:
    action_id = create(bot, forum, dt.date(2026, 11, 25), owner=ELEVHALSA2)
    with transaction(bot.sessions) as s:
        forum_row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        member = fs.find_member(s, forum=forum_row, slack_user_id=ELEVHALSA2)
        assert member is not None
        fs.remove_member(s, bot.clock, forum=forum_row, actor=ADMIN, member_id=member.id)
    bot.run_due_work()
    with bot.sessions() as session:
        action = session.get(Action, action_id)
        assert action is not None and action.owner is None
    assert [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == ADMIN]
    assert SOCIAL not in [c.args["channel"] for c in bot.slack.calls_to("chat.postMessage")]


def test_next_reminder_day_rules() -> None:
    from domain.meetings import ForumCalendar

    cal = ForumCalendar()
    due = dt.date(2026, 12, 28)
    days = []
    after = dt.date(2026, 12, 1)
    for _ in range(4):
        after = action_service.next_reminder_day(due, after, days_before=3, cal=cal)
        days.append(after)
    assert days == [
        dt.date(2026, 12, 21),
        dt.date(2026, 12, 28),
        dt.date(2027, 1, 4),
        dt.date(2027, 1, 11),
    ]
    # Due on a Saturday: reminded on the Friday before.
    assert action_service.next_reminder_day(
        dt.date(2026, 12, 5), dt.date(2026, 12, 3), days_before=3, cal=cal
    ) == dt.date(2026, 12, 4)
