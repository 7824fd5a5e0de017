"""The forum's channel announcement, refreshed through the real app (issue #15, point 6): it
keeps its member count and name current, one update covers saves in a row, an update Slack
refused or whose rendering failed does not silence it, a save never deadlocks with a
deliverer, and another workspace's forum is never touched.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from sqlalchemy import select

from handlers.outgoing import announcement_key
from sandbox.webapi import Call
from storage.db import transaction
from storage.models import (
    Forum,
    OutboxMessage,
    OutboxStatus,
)
from tests.conftest import Bot, postgresql_only
from tests.integration import test_action_flow as actions_flow
from tests.support.agenda_flow import (
    CHANNEL,
    text_of,
)
from tests.support.forums import settings_saved
from tests.support.slack_driver import (
    multi_users_values,
    radio_value,
    select_value,
)

# --- the channel announcement ------------------------------------------------------------------


@pytest.fixture
def created(bot: Bot) -> int:
    from tests.integration.test_forum_flow import create_forum

    bot.slack.set_channel(CHANNEL, is_member=True)
    forum_id = create_forum(bot)
    # Slack has the announcement once the stand-in saw it, but the outbox marks it sent a
    # moment later; an update queued before that waits a pass (the test clock stands still).
    _wait_until_sent(bot, announcement_key(forum_id))
    return forum_id


def _members_line(call: Call) -> str:
    text = text_of(call.args)
    return text[text.index("*Medlemmar:*") :][:16]


def _wait_until_sent(bot: Bot, dedupe_key: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with bot.sessions() as s:
            status = s.scalar(
                select(OutboxMessage.status).where(OutboxMessage.dedupe_key == dedupe_key)
            )
        if status is OutboxStatus.SENT:
            return
        time.sleep(0.02)
    raise AssertionError(f"{dedupe_key} was not marked sent within {timeout} s")


def test_the_forum_announcement_keeps_its_member_count_current(bot: Bot, created: int) -> None:
    announcement = bot.slack.wait_for("chat.postMessage")[0]
    assert announcement.args["channel"] == CHANNEL
    assert _members_line(announcement).startswith("*Medlemmar:* 1")
    with bot.sessions() as s:
        forum = s.get(Forum, created)
        assert forum is not None
        agency = str(forum.agencies[1].id)
    meta = json.dumps({"locale": "sv", "channel_id": CHANNEL, "forum_id": created})
    bot.driver.view_submission(
        "forum_members",
        {
            "users": {"value": multi_users_values(["U2", "U3"])},
            "agency": {"value": select_value(agency)},
            "role": {"value": radio_value("member")},
        },
        user="U1",
        private_metadata=meta,
    )
    update = bot.slack.wait_for("chat.update")[-1]
    assert update.args["channel"] == CHANNEL and update.args["ts"] == announcement.response["ts"]
    assert _members_line(update).startswith("*Medlemmar:* 3")
    bot.driver.event(
        {"type": "member_left_channel", "user": "U3", "channel": CHANNEL, "team": "T0001"}
    )
    # The second update goes out after the first is marked sent; the listener's thread may
    # still be committing that when the event is answered, so wait for it, then tick once.
    _wait_until_sent(bot, announcement_key(created) + ":u1")
    bot.run_due_work()
    update = bot.slack.wait_for("chat.update", count=2)[-1]
    assert update.args["ts"] == announcement.response["ts"]
    assert _members_line(update).startswith("*Medlemmar:* 2")
    posts = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    assert len(posts) == 1  # updated, never posted again
    bot.slack.assert_no_violations()


def test_an_older_forum_without_a_kept_announcement_is_left_alone(bot: Bot) -> None:
    forum = actions_flow.make_forum(bot)  # created directly: no announcement in the outbox
    with transaction(bot.sessions) as s:
        row = s.get(Forum, forum["forum"])
        assert row is not None
        from handlers.outgoing import queue_announcement_update

        assert queue_announcement_update(s, bot.runtime.deps, row) is False


def test_the_announcement_follows_each_rename_also_after_old_updates_were_removed(
    bot: Bot, created: int
) -> None:
    from sqlalchemy import delete

    from storage.models import OutboxMessage
    from tests.support.wait import eventually

    announcement = bot.slack.wait_for("chat.postMessage")[0]

    def rename(name: str, updates: int) -> Call:
        _rename(bot, created, name)

        def sent() -> list[Call]:
            bot.run_due_work()  # the update is queued after the ack, sent by a pass
            calls = bot.slack.calls_to("chat.update")
            assert len(calls) >= updates
            return calls

        update = eventually(sent)[-1]
        assert update.args["ts"] == announcement.response["ts"]
        return update

    assert "Forum Ett" in text_of(rename("Forum Ett", 1).args)
    assert "Forum Två" in text_of(rename("Forum Två", 2).args)
    # Retention removes sent outbox rows after a while, the first update among them: the next
    # rename is still shown (its update must not take a number that is still in use).
    with transaction(bot.sessions) as s:
        s.execute(delete(OutboxMessage).where(OutboxMessage.dedupe_key.like("%:u1")))
    assert "Forum Tre" in text_of(rename("Forum Tre", 3).args)
    posts = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    assert len(posts) == 1  # updated in place, never posted again


def test_saves_in_a_row_update_the_announcement_once_with_the_last_state(
    bot: Bot, created: int
) -> None:
    from tests.integration.test_forum_flow import blocks_of, forum_values, meta

    announcement = bot.slack.wait_for("chat.postMessage")[0]
    bot.run_due_work()  # nothing else waiting
    before = len(bot.slack.calls_to("chat.update"))
    for name in ("Forum Ett", "Forum Två", "Forum Tre"):
        _rename(bot, created, name)
    bot.run_due_work()
    updates = bot.slack.calls_to("chat.update")[before:]
    # One update, not three, and it shows the forum as it is when it is sent.
    assert len(updates) == 1
    assert updates[0].args["ts"] == announcement.response["ts"]
    assert "Forum Tre" in text_of(updates[0].args)
    # A later save after it was sent is shown by an update of its own.
    values = forum_values(name="Forum Fyra", own=None)
    bot.driver.view_submission(
        "forum_edit",
        values,
        user="U1",
        private_metadata=meta(forum_id=created),
        blocks=blocks_of(values),
    )
    bot.run_due_work()
    updates = bot.slack.calls_to("chat.update")[before:]
    assert len(updates) == 2 and "Forum Fyra" in text_of(updates[1].args)
    posts = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    assert len(posts) == 1


def _rename(bot: Bot, forum_id: int, name: str) -> None:
    from tests.integration.test_forum_flow import blocks_of, forum_values, meta

    values = forum_values(name=name, own=None)
    response = bot.driver.view_submission(
        "forum_edit",
        values,
        user="U1",
        private_metadata=meta(forum_id=forum_id),
        blocks=blocks_of(values),
    )
    assert settings_saved(response)  # saved: the modal says so


def _updates_shown(bot: Bot, since: int) -> list[str]:
    """The text of each chat.update of the announcement Slack accepted since ``since``."""
    return [text_of(c.args) for c in bot.slack.calls_to("chat.update")[since:] if not c.error]


def test_an_update_slack_refused_does_not_silence_the_announcement_for_good(
    bot: Bot, created: int
) -> None:
    """Slack refuses one update of the announcement (a reason retrying will not fix): the
    next change is still shown. Each update is rendered when it is sent, so it need not
    wait for the refused one (which would make it, and every later one, fail too)."""
    bot.slack.wait_for("chat.postMessage")
    bot.run_due_work()
    before = len(bot.slack.calls_to("chat.update"))
    bot.slack.fail_next("chat.update", 200, error="cant_update_message")
    _rename(bot, created, "Forum Ett")
    bot.run_due_work()
    assert _updates_shown(bot, before) == []  # refused
    _rename(bot, created, "Forum Två")
    bot.run_due_work()
    shown = _updates_shown(bot, before)
    assert len(shown) == 1 and "Forum Två" in shown[0]


def test_an_update_whose_rendering_met_a_database_error_is_sent_at_a_later_pass(
    bot: Bot, created: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rendering the announcement when it is sent meets a passing database error (a deadlock
    victim, a dropped connection): the update waits and goes at a later pass, with the
    forum as it is then; it is not given up (nor, with it, every later update)."""
    from sqlalchemy.exc import OperationalError

    from handlers import outgoing

    bot.slack.wait_for("chat.postMessage")
    bot.run_due_work()
    real = outgoing.announcement
    failures = [OperationalError("SELECT", {}, Exception("deadlock detected"))]

    def once_failing(session: Any, deps: Any, forum: Forum) -> dict[str, Any]:
        if failures:
            raise failures.pop()
        return real(session, deps, forum)

    monkeypatch.setattr(outgoing, "announcement", once_failing)
    before = len(bot.slack.calls_to("chat.update"))
    _rename(bot, created, "Forum Ett")
    bot.run_due_work()
    assert not failures, "the rendering was not tried"
    assert _updates_shown(bot, before) == []
    bot.clock.set(bot.clock.now() + dt.timedelta(minutes=6))
    bot.run_due_work()
    shown = _updates_shown(bot, before)
    assert len(shown) == 1 and "Forum Ett" in shown[0]
    # And the next change still reaches the announcement.
    _rename(bot, created, "Forum Två")
    bot.run_due_work()
    shown = _updates_shown(bot, before)
    assert len(shown) == 2 and "Forum Två" in shown[1]


@postgresql_only  # row locks: SQLite's writers queue whole (BEGIN IMMEDIATE), no deadlock
def test_a_save_while_a_deliverer_renders_the_announcement_does_not_deadlock(
    bot: Bot, created: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deliverer has taken the announcement's update and renders it; the forum's meetings
    need planning (a schedule change), so rendering takes the forum's row. A coordinator
    saves the forum meanwhile. The save must not hold the forum's row while it waits for the
    update's row, or PostgreSQL ends one of them as a deadlock: the save refused, or the
    update's rendering failed. The save waits for no deliverer (the update it holds counts
    as taken, and a new one goes after it); both go through, and the update after the save
    shows it."""
    import threading

    from domain import scheduling
    from handlers import outgoing
    from handlers.outgoing import queue_announcement_update

    bot.slack.wait_for("chat.postMessage")
    bot.run_due_work()
    with transaction(bot.sessions) as s:
        forum = s.get(Forum, created)
        assert forum is not None
        forum.meetings_until = None  # as after a schedule change: planned at the next read
        assert queue_announcement_update(s, bot.runtime.deps, forum)
    real = outgoing.announcement
    rendering, go = threading.Event(), threading.Event()
    met: list[BaseException] = []

    def held(session: Any, deps: Any, forum: Forum) -> dict[str, Any]:
        rendering.set()
        go.wait(10)
        try:
            return real(session, deps, forum)
        except BaseException as exc:
            met.append(exc)
            raise

    monkeypatch.setattr(outgoing, "announcement", held)
    gateway = outgoing.gateway(bot.runtime.deps, bot.runtime.client_for_team)
    delivered: list[scheduling.Delivery] = []
    deliverer = threading.Thread(
        target=lambda: delivered.append(
            scheduling.deliver(bot.sessions, bot.clock, gateway, replica="other")
        )
    )
    deliverer.start()
    assert rendering.wait(10)
    answers: list[Any] = []

    def save() -> None:
        from tests.integration.test_forum_flow import blocks_of, forum_values, meta

        values = forum_values(name="Forum Ett", own=None)
        answers.append(
            bot.driver.view_submission(
                "forum_edit",
                values,
                user="U1",
                private_metadata=meta(forum_id=created),
                blocks=blocks_of(values),
            )
        )

    saver = threading.Thread(target=save)
    saver.start()
    saver.join(10)
    done_first = not saver.is_alive()
    go.set()
    deliverer.join(20)
    saver.join(20)
    assert done_first, "the save waited for the deliverer"
    assert not met, f"the rendering met {met[0].__class__.__name__}"
    # The update taken, then the save's own (queued after it meanwhile) in the same delivery.
    assert delivered and delivered[0].sent == 2
    assert answers and settings_saved(answers[0]), answers[0].body  # saved
    monkeypatch.setattr(outgoing, "announcement", real)
    bot.run_due_work()
    shown = [text_of(c.args) for c in bot.slack.calls_to("chat.update") if not c.error]
    assert "Forum Ett" in shown[-1]


@postgresql_only  # SQLite's writers queue whole, from BEGIN IMMEDIATE
def test_a_save_being_checked_holds_up_no_other_save_of_the_forum(
    bot: Bot, created: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two coordinators save one forum at once. While the first save is still reading and
    checking the form, it holds no lock: the second save goes through meanwhile (before,
    the first save's first statement locked the announcement's update until its commit,
    and every other save of the forum waited behind it). Both are saved, the one that
    committed last is what the forum and its announcement show, in one update."""
    import threading

    from domain.forums.checking import _check_draft as real

    bot.slack.wait_for("chat.postMessage")
    bot.run_due_work()
    before = len(bot.slack.calls_to("chat.update"))
    checking, go = threading.Event(), threading.Event()

    def held(*args: Any, **kwargs: Any) -> Any:
        if not checking.is_set():  # the first save only
            checking.set()
            assert go.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr("domain.forums.saving._check_draft", held)
    first = threading.Thread(target=_rename, args=(bot, created, "Forum Sist"))
    first.start()
    try:
        assert checking.wait(10)
        second = threading.Thread(target=_rename, args=(bot, created, "Forum Först"))
        second.start()
        second.join(10)
        waited = second.is_alive()
    finally:
        go.set()
        first.join(20)
    second.join(20)
    assert not waited, "the second save waited for the first one's check"
    with bot.sessions() as s:
        forum = s.get(Forum, created)
        assert forum is not None and forum.name == "Forum Sist"
    bot.run_due_work()
    shown = _updates_shown(bot, before)
    assert len(shown) == 1 and "Forum Sist" in shown[0]


def test_a_save_naming_another_workspaces_forum_changes_and_queues_nothing(
    bot: Bot, created: int
) -> None:
    """A user of another workspace who names this forum's id is refused, and nothing is left
    queued for it (no update of this forum's announcement, nothing with their workspace)."""
    from tests.conftest import SIGNING_SECRET
    from tests.integration.test_forum_flow import blocks_of, forum_values, meta
    from tests.support.slack_driver import SlackDriver

    bot.slack.wait_for("chat.postMessage")
    bot.run_due_work()
    elsewhere = SlackDriver(
        bot.url, SIGNING_SECRET, team_id="T0002", response_url_base=bot.slack.response_url_base
    )
    values = forum_values(name="Kapat forum", own=None)
    answer = elsewhere.view_submission(
        "forum_edit",
        values,
        user="U1",
        private_metadata=meta(forum_id=created),
        blocks=blocks_of(values),
    )
    assert answer.json() is not None  # refused in the modal
    bot.wait_idle()
    with bot.sessions() as s:
        forum = s.get(Forum, created)
        assert forum is not None and forum.name != "Kapat forum"
        queued = s.scalars(
            select(OutboxMessage.dedupe_key).where(
                (OutboxMessage.team_id == "T0002")
                | OutboxMessage.dedupe_key.like(f"{announcement_key(created)}:u%")
            )
        ).all()
    assert queued == []


def test_a_save_does_not_hurry_an_update_slack_asked_to_wait_for(bot: Bot, created: int) -> None:
    """Slack rate-limits the announcement's update (429, Retry-After): it waits its pause. A
    save meanwhile folds into that update (it shows the state when it goes), but does not
    make the bot call Slack again before the pause is over."""
    bot.slack.wait_for("chat.postMessage")
    bot.run_due_work()
    before = len(bot.slack.calls_to("chat.update"))
    bot.slack.fail_next("chat.update", 429, retry_after=1, times=4)  # slack_sdk retries 3
    _rename(bot, created, "Forum Ett")
    bot.run_due_work()
    tried = len(bot.slack.calls_to("chat.update"))
    assert tried > before and _updates_shown(bot, before) == []  # rate-limited: waits
    _rename(bot, created, "Forum Två")
    bot.run_due_work()  # the test clock has not moved: the pause is not over
    assert len(bot.slack.calls_to("chat.update")) == tried, "called again within the pause"
    bot.clock.set(bot.clock.now() + dt.timedelta(minutes=1))
    bot.run_due_work()
    shown = _updates_shown(bot, before)
    assert len(shown) == 1 and "Forum Två" in shown[0]
