"""Accurate previews and refreshed views (issue #15, point 6), through the real app: the
preview says the rating round is still open and is refreshed in place when it closes; the
case modal lists a new action at once; the åtgärdsplan without a period; a posted agenda
shows a recorded effect; the channel announcement keeps its member count; the case modal
warns about agencies the consent does not cover."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
import zoneinfo
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.scheduler import run_due_work
from domain import forums as fs
from domain.cases import CaseDraft, raise_case
from handlers.outgoing import announcement_key
from sandbox.webapi import Call
from storage.db import transaction
from storage.models import (
    Action,
    ActionStatus,
    ConsentGiver,
    Effect,
    Forum,
    OutboxMessage,
    OutboxStatus,
    SipStatus,
)
from tests.conftest import Bot, postgresql_only
from tests.integration import test_action_flow as actions_flow
from tests.integration.test_action_plan import add, upload_named
from tests.support import rating_flow as ratings_flow
from tests.support.slack_driver import (
    multi_users_values,
    plain_value,
    radio_value,
    select_value,
)

STHLM = zoneinfo.ZoneInfo("Europe/Stockholm")
CHANNEL = "C0001"


def local(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=STHLM)


def tick(bot: Bot, at: dt.datetime) -> None:
    bot.clock.set(at)
    run_due_work(bot.runtime)


def text_of(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)


def dms_to(bot: Bot, user: str) -> list[Call]:
    return [c for c in bot.slack.calls_to("chat.postMessage", ok=True) if c.args["channel"] == user]


# --- the preview while the round is open -----------------------------------------------------


def test_a_preview_sent_while_the_round_is_open_says_so_and_is_refreshed_when_it_closes(
    bot: Bot,
) -> None:
    forum = ratings_flow.make_forum(bot)
    run_due_work(bot.runtime)  # Monday: the round for Thursday opens
    ratings_flow.polis_rates(bot, forum, {"Gråbo": 4, "Hemse": 1, "Droger": 2})
    # The preview goes the day before the agenda (Wednesday 08:00); the round closes at 12:00.
    tick(bot, local(2026, 11, 25, 8, 1))
    previews = [c for c in dms_to(bot, ratings_flow.ADMIN) if "Förhandsvisning" in c.args["text"]]
    assert len(previews) == 1
    preview = text_of(previews[0].args)
    assert "Bedömningsomgången pågår fortfarande" in preview
    assert "onsdag 25 november 2026 12:00" in preview
    assert "Förhandsvisningen uppdateras då" in preview
    assert '"type": "table"' not in preview
    tick(bot, local(2026, 11, 25, 12, 1))
    updates = [u for u in bot.slack.calls_to("chat.update", ok=True) if u.args["channel"] == "DU1"]
    assert len(updates) == 1
    assert updates[0].args["ts"] == previews[0].response["ts"]
    refreshed = text_of(updates[0].args)
    assert "pågår fortfarande" not in refreshed
    assert '"type": "table"' in refreshed and "🟥 kritiskt" in refreshed
    tick(bot, local(2026, 11, 25, 12, 30))
    assert len(bot.slack.calls_to("chat.update")) == 1  # refreshed once, not again
    bot.slack.assert_no_violations()


def test_an_agenda_change_from_the_preview_updates_the_preview_in_place(bot: Bot) -> None:
    forum = ratings_flow.make_forum(bot)
    tick(bot, local(2026, 11, 25, 8, 1))
    (preview,) = [c for c in dms_to(bot, ratings_flow.ADMIN) if "Förhandsvisning" in c.args["text"]]
    meeting_id = next(
        e["value"]
        for b in preview.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "agenda_item_add_open"
    )
    meta = json.dumps({"locale": "sv", "forum_id": forum["forum"]})
    bot.driver.view_submission(
        "agenda_item_add",
        {
            "text": {"text": plain_value("Sommarlovets aktiviteter")},
            "meeting": {"meeting": select_value(meeting_id)},
        },
        user=ratings_flow.ADMIN,
        private_metadata=meta,
    )
    update = bot.slack.wait_for("chat.update")[-1]
    assert update.args["channel"] == "DU1" and update.args["ts"] == preview.response["ts"]
    assert "Sommarlovets aktiviteter" in text_of(update.args)


# --- the case modal ----------------------------------------------------------------------------


def _case(bot: Bot, forum: dict[str, int], *, consent_for: list[str], attend: list[str]) -> int:
    with transaction(bot.sessions) as s:
        row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        access = fs.require_member(s, forum=row, slack_user_id=actions_flow.ADMIN)
        case, _ = raise_case(
            s,
            bot.clock,
            access=access,
            draft=CaseDraft(
                summary="Oro för frånvaro",
                concerns=["school_absence"],
                age_band="13-15",
                agency_ids=[forum[a] for a in attend],
                consent_giver=ConsentGiver.GUARDIANS,
                consent_agency_ids=[forum[a] for a in consent_for],
                consent_given_on=dt.date(2026, 11, 23),
                consent_expires_on=None,
                sip=SipStatus.NOT_RELEVANT,
                meeting=None,
            ),
        )
        return case.id


def _open_case(bot: Bot, case_id: int, user: str) -> dict[str, Any]:
    before = bot.slack.count("views.open")
    bot.driver.block_action("case_open", user=user, value=str(case_id), channel=CHANNEL)
    return bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"]  # type: ignore[no-any-return]


def test_the_case_modal_shows_a_new_action_as_soon_as_it_is_saved(bot: Bot) -> None:
    forum = actions_flow.make_forum(bot)
    case_id = _case(bot, forum, consent_for=["Elevhälsa"], attend=["Elevhälsa"])
    view = _open_case(bot, case_id, actions_flow.ELEVHALSA)
    reference = view["title"]["text"]
    bot.driver.block_action(
        "action_new_for_case",
        user=actions_flow.ELEVHALSA,
        value=reference,
        view={**view, "id": "VCASE"},
    )
    pushed = bot.slack.wait_for("views.push")[-1].args["view"]
    values = actions_flow.action_values(forum, case=reference)
    response = bot.driver.view_submission(
        "action_new",
        values,
        user=actions_flow.ELEVHALSA,
        private_metadata=pushed["private_metadata"],
        view_id="VACTION",
        view={"previous_view_id": "VCASE", "root_view_id": "VCASE"},
    )
    assert response.json() is None  # back to the case modal …
    updated = bot.slack.wait_for("views.update")[-1]
    assert updated.args["view_id"] == "VCASE"  # … which lists the action at once
    assert actions_flow.DESCRIPTION in text_of(updated.args["view"])
    bot.slack.assert_no_violations()


def test_the_case_modal_warns_about_an_agency_the_consent_does_not_cover(bot: Bot) -> None:
    forum = actions_flow.make_forum(bot)
    case_id = _case(bot, forum, consent_for=["Elevhälsa"], attend=["Elevhälsa", "Socialtjänst/IFO"])
    view = _open_case(bot, case_id, actions_flow.ADMIN)
    (warning,) = [b for b in view["blocks"] if b.get("block_id") == "consent_warning"]
    text = warning["text"]["text"]
    assert "Samtycket omfattar inte Socialtjänst/IFO" in text
    assert "anonym konsultation" in text
    covered = _case(bot, forum, consent_for=["Elevhälsa"], attend=["Elevhälsa"])
    view = _open_case(bot, covered, actions_flow.ADMIN)
    assert not [b for b in view["blocks"] if b.get("block_id") == "consent_warning"]
    # An agency that sees the case as an anonymous consultation gets no consent details.
    view = _open_case(bot, case_id, actions_flow.SOCIAL)
    assert not [b for b in view["blocks"] if b.get("block_id") == "consent_warning"]


# --- the åtgärdsplan without a period ----------------------------------------------------------


def test_the_action_plan_without_a_period_is_what_is_open_and_the_last_twelve_months(
    bot: Bot,
) -> None:
    forum = actions_flow.make_forum(bot)
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    add(bot, forum, "Öppen, långt fram", dt.date(2028, 1, 10))
    add(bot, forum, "Öppen, försenad sedan länge", dt.date(2024, 3, 1))
    add(
        bot,
        forum,
        "Klar i våras",
        dt.date(2025, 12, 1),
        status=ActionStatus.DONE,
        completed=dt.datetime(2026, 5, 4, 10, tzinfo=dt.UTC),
    )
    add(bot, forum, "Förföll i december", dt.date(2025, 12, 15), status=ActionStatus.DONE)
    add(
        bot,
        forum,
        "Klar för länge sedan",
        dt.date(2025, 9, 1),
        status=ActionStatus.DONE,
        completed=now - dt.timedelta(days=400),
    )
    add(bot, forum, "Inställd", dt.date(2026, 12, 1), status=ActionStatus.CANCELLED)
    bot.driver.command("åtgärdsplan xlsx", user=actions_flow.SOCIAL)
    workbook = load_workbook(io.BytesIO(upload_named(bot, ".xlsx", 1)))
    sheet = workbook.active
    assert sheet is not None
    descriptions = {row[1] for row in list(sheet.iter_rows(values_only=True))[1:]}
    assert descriptions == {
        "Öppen, långt fram",
        "Öppen, försenad sedan länge",
        "Klar i våras",
        "Förföll i december",
    }
    reply = bot.slack.wait_for("response_url")[-1]
    assert "4 insatser" in text_of(reply.args)
    names = [c.args["filename"] for c in bot.slack.calls_to("files.getUploadURLExternal")]
    assert names == ["atgardsplan-FOS-2025-11-23-2026-11-23.xlsx"]


# --- the posted agenda and a recorded effect -----------------------------------------------


def test_a_posted_agenda_shows_the_effect_once_it_is_recorded(bot: Bot) -> None:
    forum = actions_flow.make_forum(bot)
    action_id = add(
        bot,
        forum,
        "Samtal med klassen",
        dt.date(2026, 11, 20),
        status=ActionStatus.DONE,
        completed=dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC),
    )
    run_due_work(bot.runtime)
    tick(bot, local(2026, 11, 26, 8, 0))
    (agenda,) = [
        c for c in bot.slack.calls_to("chat.postMessage", ok=True) if c.args["channel"] == CHANNEL
    ]
    assert "fick den önskad effekt?" in text_of(agenda.args)
    assert "action_follow_up_open" in text_of(agenda.args)
    values = {
        "effect": {"value": radio_value("yes")},
        "comment": {"value": plain_value("Närvaron ökade")},
    }
    meta = json.dumps({"locale": "sv", "forum_id": forum["forum"], "action_id": action_id})
    response = bot.driver.view_submission(
        "action_follow_up",
        values,
        user=actions_flow.ADMIN,
        private_metadata=meta,
        blocks=actions_flow.blocks_of(values),
    )
    assert response.json() is None
    updated = bot.slack.wait_for("chat.update")[-1]
    assert updated.args["ts"] == agenda.response["ts"]
    body = text_of(updated.args)
    assert "klar · effekt: ja" in body
    assert "action_follow_up_open" not in body
    with bot.sessions() as s:
        assert s.get(Action, action_id).effect is Effect.YES  # type: ignore[union-attr]


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
    run_due_work(bot.runtime)
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
    from tests.integration.test_forum_flow import blocks_of, forum_values, meta
    from tests.support.wait import eventually

    announcement = bot.slack.wait_for("chat.postMessage")[0]

    def rename(name: str, updates: int) -> Call:
        values = forum_values(name=name, own=None)
        response = bot.driver.view_submission(
            "forum_edit",
            values,
            user="U1",
            private_metadata=meta(forum_id=created),
            blocks=blocks_of(values),
        )
        assert response.json() is None  # saved: the modal closes

        def sent() -> list[Call]:
            run_due_work(bot.runtime)  # the update is queued after the ack, sent by a pass
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
    run_due_work(bot.runtime)  # nothing else waiting
    before = len(bot.slack.calls_to("chat.update"))
    for name in ("Forum Ett", "Forum Två", "Forum Tre"):
        values = forum_values(name=name, own=None)
        response = bot.driver.view_submission(
            "forum_edit",
            values,
            user="U1",
            private_metadata=meta(forum_id=created),
            blocks=blocks_of(values),
        )
        assert response.json() is None  # saved: the modal closes
    run_due_work(bot.runtime)
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
    run_due_work(bot.runtime)
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
    assert response.json() is None  # saved: the modal closes


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
    run_due_work(bot.runtime)
    before = len(bot.slack.calls_to("chat.update"))
    bot.slack.fail_next("chat.update", 200, error="cant_update_message")
    _rename(bot, created, "Forum Ett")
    run_due_work(bot.runtime)
    assert _updates_shown(bot, before) == []  # refused
    _rename(bot, created, "Forum Två")
    run_due_work(bot.runtime)
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
    run_due_work(bot.runtime)
    real = outgoing.announcement
    failures = [OperationalError("SELECT", {}, Exception("deadlock detected"))]

    def once_failing(session: Any, deps: Any, forum: Forum) -> dict[str, Any]:
        if failures:
            raise failures.pop()
        return real(session, deps, forum)

    monkeypatch.setattr(outgoing, "announcement", once_failing)
    before = len(bot.slack.calls_to("chat.update"))
    _rename(bot, created, "Forum Ett")
    run_due_work(bot.runtime)
    assert not failures, "the rendering was not tried"
    assert _updates_shown(bot, before) == []
    bot.clock.set(bot.clock.now() + dt.timedelta(minutes=6))
    run_due_work(bot.runtime)
    shown = _updates_shown(bot, before)
    assert len(shown) == 1 and "Forum Ett" in shown[0]
    # And the next change still reaches the announcement.
    _rename(bot, created, "Forum Två")
    run_due_work(bot.runtime)
    shown = _updates_shown(bot, before)
    assert len(shown) == 2 and "Forum Två" in shown[1]


@postgresql_only  # row locks: SQLite's writers queue whole (BEGIN IMMEDIATE), no deadlock
def test_a_save_while_a_deliverer_renders_the_announcement_does_not_deadlock(
    bot: Bot, created: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deliverer has taken the announcement's update and renders it; the forum's meetings
    need planning (a schedule change), so rendering waits for the forum's row. A coordinator
    saves the forum meanwhile. The save must not hold the forum's row while it waits for the
    update's row (the other order), or PostgreSQL ends one of them as a deadlock: the save
    refused, or the update's rendering failed. Both go through, and the update after the
    save shows it."""
    import threading

    from domain import scheduling
    from handlers import outgoing
    from handlers.outgoing import queue_announcement_update
    from tests.support.concurrency import lock_waits

    bot.slack.wait_for("chat.postMessage")
    run_due_work(bot.runtime)
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
    with lock_waits(bot.runtime.engine) as waits:
        saver.start()
        waits.wait_for(saver)  # the save waits for the update's row
    go.set()
    deliverer.join(20)
    saver.join(20)
    assert not met, f"the rendering met {met[0].__class__.__name__}"
    assert delivered and delivered[0].sent == 1
    assert answers and answers[0].json() is None, answers[0].body  # saved
    monkeypatch.setattr(outgoing, "announcement", real)
    run_due_work(bot.runtime)
    shown = [text_of(c.args) for c in bot.slack.calls_to("chat.update") if not c.error]
    assert "Forum Ett" in shown[-1]


def test_a_save_naming_another_workspaces_forum_changes_and_queues_nothing(
    bot: Bot, created: int
) -> None:
    """The save queues the announcement's update before it reads the forum: a user of another
    workspace who names this forum's id is refused, and nothing is left queued for it (no
    update of this forum's announcement, nothing with their workspace)."""
    from tests.conftest import SIGNING_SECRET
    from tests.integration.test_forum_flow import blocks_of, forum_values, meta
    from tests.support.slack_driver import SlackDriver

    bot.slack.wait_for("chat.postMessage")
    run_due_work(bot.runtime)
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
    run_due_work(bot.runtime)
    before = len(bot.slack.calls_to("chat.update"))
    bot.slack.fail_next("chat.update", 429, retry_after=1, times=4)  # slack_sdk retries 3
    _rename(bot, created, "Forum Ett")
    run_due_work(bot.runtime)
    tried = len(bot.slack.calls_to("chat.update"))
    assert tried > before and _updates_shown(bot, before) == []  # rate-limited: waits
    _rename(bot, created, "Forum Två")
    run_due_work(bot.runtime)  # the test clock has not moved: the pause is not over
    assert len(bot.slack.calls_to("chat.update")) == tried, "called again within the pause"
    bot.clock.set(bot.clock.now() + dt.timedelta(minutes=1))
    run_due_work(bot.runtime)
    shown = _updates_shown(bot, before)
    assert len(shown) == 1 and "Forum Två" in shown[0]
