"""Slack text as Slack really sends it (manifest ``should_escape: true``): a person picked
with @ arrives as ``<@U…|name>``, ``& < >`` as entities. Commands read it with one parser
(handlers/slack_text.py); names users typed never ping anyone (``<!channel>`` in a forum
name is escaped in every fallback text and mrkdwn); a DM or group DM gets a clear answer."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from storage.models import AgendaItem, Case, Forum, Meeting, MeetingStatus
from tests.conftest import Bot
from tests.support.blockkit import all_text
from tests.support.slack_driver import (
    as_slack_sends,
)
from tests.support.surfaces import (
    ADMIN,
    CHANNEL,
    ELEVHALSA,
    SOCIAL,
    World,
    add_members,
    build_world,
    forum_values,
    raise_case,
)
from tests.support.text_scan import broadcasts, parsed_texts

FORUM_NAME = "<!channel> & <b>Co</b>"
AGENCY = "<!here> Skola"
AREA = "<!everyone> Torget"


def world_of(bot: Bot) -> World:
    return World(bot.driver, bot.slack, bot.sessions, tick=lambda: bot.run_due_work())


def reply_to(bot: Bot, text: str, user: str = ADMIN, **kw: Any) -> str:
    before = bot.slack.count("response_url")
    bot.driver.command(text, user=user, **kw)
    reply = bot.slack.wait_for("response_url", count=before + 1)[-1]
    return all_text(reply.args) + " " + str(reply.args.get("text", ""))


def test_the_test_driver_sends_what_slack_sends() -> None:
    assert (
        as_slack_sends("Möte & samtal <om> <@U2|kim>") == "Möte &amp; samtal &lt;om&gt; <@U2|kim>"
    )


def test_names_users_typed_never_ping_anyone_in_any_message(bot: Bot) -> None:
    world = world_of(bot)
    values = forum_values(FORUM_NAME, areas=AREA, other=AGENCY)
    answer = bot.driver.view_submission(
        "forum_create",
        values,
        user=ADMIN,
        private_metadata=json.dumps({"locale": "sv", "channel_id": CHANNEL}),
        blocks=[{"type": "input", "block_id": b} for b in values],
    )
    assert answer.json() is None, answer.body
    with bot.sessions() as s:
        forum = s.scalars(select(Forum)).one()
        forum.settings = {**forum.settings, "situation_picture": "every"}
        s.commit()
        assert forum.name == FORUM_NAME
        world.forum_id = forum.id
        world.agencies = {a.name: a.id for a in forum.agencies}
    assert {AGENCY, "Elevhälsa"} <= set(world.agencies)
    add_members(world, [ELEVHALSA], "Elevhälsa")
    add_members(world, [SOCIAL], AGENCY)
    bot.slack.wait_for("chat.postMessage")  # the forum's announcement in the channel

    raise_case(world, "Oro för närvaron", view_id="VT1")  # channel post and DMs
    reply_to(bot, "punkt <!here> Samordning & <b>schema</b>", user=SOCIAL)
    with bot.sessions() as s:
        first = s.scalars(
            select(Meeting).where(Meeting.status == MeetingStatus.PLANNED).order_by(Meeting.id)
        ).first()
        assert first is not None
    bot.driver.view_submission(
        "meeting_cancel",
        {"reason": {"reason": {"type": "plain_text_input", "value": "<!channel> studiedag"}}},
        user=ADMIN,
        private_metadata=json.dumps(
            {"locale": "sv", "forum_id": world.forum_id, "meeting_id": first.id}
        ),
    )
    bot.run_due_work()  # the rating round opens: DMs name the forum and agency
    bot.clock.set(dt.datetime(2026, 12, 3, 7, 0, tzinfo=dt.UTC))  # Thursday 08:00
    bot.run_due_work()  # the agenda, with the item and the area
    for command in ("", "ärenden", "möten", "dagordning", "lägesbild", "gallring"):
        reply_to(bot, command)
    bot.driver.app_home_opened(user=ADMIN)
    bot.slack.wait_for("views.publish")

    texts = [text for call in bot.slack.calls for text in parsed_texts(call.args)]
    assert broadcasts(bot.slack.calls) == []
    for typed in (FORUM_NAME, AGENCY, AREA, "<b>schema</b>"):
        assert not [text for text in texts if typed in text], typed
    # The names did reach the messages, escaped (so the test would see them unescaped).
    escaped = "&lt;!channel&gt; &amp; &lt;b&gt;Co&lt;/b&gt;"
    assert any(escaped in text for text in texts)
    assert any("&lt;!here&gt; Skola" in text for text in texts)
    # Typed in a command, @here arrives as Slack's <!here>: stored as the words "@here".
    assert any("@here Samordning &amp; &lt;b&gt;schema" in text for text in texts)
    agenda = [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == CHANNEL and "Dagordning" in str(c.args.get("text"))
    ]
    assert agenda, "the agenda was posted"


def test_free_text_is_stored_as_the_user_typed_it(bot: Bot) -> None:
    world = build_world(world_of(bot))
    reply_to(bot, "punkt Möte & samtal <om> schemat med <@U3|erik>", user=SOCIAL)
    with bot.sessions() as s:
        texts = list(s.scalars(select(AgendaItem.text).where(AgendaItem.text.is_not(None))))
    assert texts == ["Möte & samtal <om> schemat med @erik"]
    case = raise_case(world, "Oro", view_id="VT2")
    reply_to(bot, f"gallring stopp {case.reference} Begäran från IVO & JO <tillsyn>")
    with bot.sessions() as s:
        held = s.get(Case, case.id)
        assert held is not None and held.legal_hold_reason == "Begäran från IVO & JO <tillsyn>"


def test_a_person_is_read_only_when_picked_with_at(bot: Bot) -> None:
    build_world(world_of(bot))
    # Picked from Slack's list: <@U2|kim> (should_escape true) — the export goes as DMs.
    assert "direktmeddelanden" in reply_to(bot, f"registerutdrag <@{ELEVHALSA}|kim>")
    completed = bot.slack.wait_for("files.completeUploadExternal", count=2)
    assert {c.args["channel_id"] for c in completed} == {f"D{ADMIN}"}
    # Typed as plain text (what should_escape false would send): a clear answer, no export.
    reply = reply_to(bot, "registerutdrag @kim")
    assert "/samverkan registerutdrag @" in reply
    assert bot.slack.count("files.completeUploadExternal") == 2


def test_a_dm_or_group_dm_gets_a_clear_answer_not_invite_me(bot: Bot) -> None:
    build_world(world_of(bot))
    checks_before = bot.slack.count("conversations.info")
    for channel, name in (("G0GROUPDM", "mpdm-anna--erik--kim-1"), ("D0DIRECT", None)):
        for command in ("forum ny", "ärenden", "ärende", "punkt Något"):
            reply = reply_to(bot, command, channel=channel, channel_name=name)
            assert "Kör kommandot i forumets kanal" in reply, (channel, command, reply)
            assert "/invite" not in reply and "Bjud in" not in reply
    assert bot.slack.count("conversations.info") == checks_before
    assert bot.slack.count("views.open") == 0


def test_the_retention_help_names_the_reason_without_a_raw_placeholder(bot: Bot) -> None:
    build_world(world_of(bot))
    reply = reply_to(bot, "gallring")
    assert "följt av skälet" in reply
    assert "<skäl>" not in reply and "&lt;skäl&gt;" not in reply
