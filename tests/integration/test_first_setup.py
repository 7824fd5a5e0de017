"""A new municipality's first hour, through the real app: the bot invited to a channel, the
first `/samverkan` in a channel with no forum, the forum set up, and what its creator is
told to do next."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Bot
from tests.integration.test_forum_flow import create_forum
from tests.support.blockkit import all_text
from tests.support.slack_driver import BOT_USER_ID

CHANNEL = "C0001"


def channel_posts(bot: Bot, channel: str = CHANNEL) -> list[str]:
    return [
        all_text(c.args) + "\n" + str(c.args.get("text", ""))
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == channel
    ]


def dms(bot: Bot, user: str) -> list[str]:
    return [
        str(c.args.get("text", "")) + all_text(c.args)
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == user
    ]


def reply_text(bot: Bot, text: str, user: str) -> str:
    before = bot.slack.count("response_url")
    bot.driver.command(text, user=user)
    args: dict[str, Any] = bot.slack.wait_for("response_url", count=before + 1)[-1].args
    return json.dumps(args, ensure_ascii=False)


def invite_the_bot(bot: Bot, channel: str = CHANNEL, **extra: Any) -> None:
    event = {"type": "member_joined_channel", "user": BOT_USER_ID, "channel": channel}
    assert bot.driver.event({**event, "inviter": "U1", **extra}).status == 200
    bot.settle()


def test_the_bot_invited_to_a_channel_without_a_forum_says_how_to_set_one_up(bot: Bot) -> None:
    invite_the_bot(bot, event_ts="1700000000.000100")
    # Slack retries the event (the answer came late): no second hello.
    bot.driver.event(
        {
            "type": "member_joined_channel",
            "user": BOT_USER_ID,
            "channel": CHANNEL,
            "inviter": "U1",
            "event_ts": "1700000000.000100",
        },
        event_id=bot.driver.last_event_id,
        retry_num=1,
    )
    bot.run_due_work()
    (hello,) = channel_posts(bot)
    assert "Hej! Jag är Samverkan." in hello
    assert "`/samverkan forum ny`" in hello and "administratör" in hello
    assert "`/samverkan hjälp`" in hello
    # Someone else joining says nothing; nor does the bot invited to a forum's channel.
    bot.driver.event({"type": "member_joined_channel", "user": "U7", "channel": CHANNEL})
    create_forum(bot)
    bot.settle()
    posts = len(channel_posts(bot))
    invite_the_bot(bot, event_ts="1700000500.000100")
    bot.run_due_work()
    assert len(channel_posts(bot)) == posts
    # A channel Slack says the bot is not in (a crafted event) gets nothing either.
    bot.slack.set_channel("C0002", is_member=False)
    invite_the_bot(bot, "C0002")
    bot.run_due_work()
    assert channel_posts(bot, "C0002") == []
    bot.slack.assert_no_violations()


def hellos(bot: Bot, channel: str = CHANNEL) -> list[str]:
    return [p for p in channel_posts(bot, channel) if "Hej! Jag är Samverkan." in p]


def remove_the_bot(bot: Bot, channel: str = CHANNEL) -> None:
    event = {"type": "member_left_channel", "user": BOT_USER_ID, "channel": channel}
    assert bot.driver.event(event).status == 200
    bot.settle()


def test_the_bot_says_hello_once_per_channel_until_it_truly_left(bot: Bot) -> None:
    """The hello is once per channel, not once per event: an event saying the bot joined
    again, with an event_ts of its own (a crafted one, or Slack's second word), says
    nothing more. Only once Slack confirms the bot left the channel may it say hello again
    when it is invited back; a "bot left" event while Slack says it is still there changes
    nothing."""
    invite_the_bot(bot, event_ts="1700000000.000100")
    bot.run_due_work()
    assert len(hellos(bot)) == 1
    invite_the_bot(bot, event_ts="1700000900.000100")  # a new event, not a retry
    bot.run_due_work()  # the work the event started has finished
    assert len(hellos(bot)) == 1
    # "The bot left" while Slack says it is still in the channel: nothing is forgotten.
    remove_the_bot(bot)
    invite_the_bot(bot, event_ts="1700001800.000100")
    bot.run_due_work()
    assert len(hellos(bot)) == 1
    # Truly removed (Slack says so), then invited back: hello again, once.
    bot.slack.set_channel(CHANNEL, is_member=False)
    remove_the_bot(bot)
    bot.slack.set_channel(CHANNEL, is_member=True)
    invite_the_bot(bot, event_ts="1700002700.000100")
    invite_the_bot(bot, event_ts="1700002800.000100")
    bot.run_due_work()
    assert len(hellos(bot)) == 2
    bot.slack.assert_no_violations()


def test_no_forum_yet_tells_anyone_they_may_set_it_up(bot: Bot) -> None:
    """Not "a coordinator can create one": a new channel has no coordinator, and whoever
    sets the forum up becomes its admin."""
    text = reply_text(bot, "ärenden", "U1")
    assert "Skapa ett med /samverkan forum ny: den som skapar det blir forumets administratör." in (
        text
    )
    assert "En samordnare kan skapa" not in text
    bot.slack.set_user("U2", locale="en-US")
    text = reply_text(bot, "meetings", "U2")
    assert "Create one with /samverkan forum new: whoever creates it becomes its admin." in text


def test_the_creator_is_told_to_add_members_and_to_switch_the_picture_on(bot: Bot) -> None:
    create_forum(bot, areas="Gråbo\nHemse")
    bot.settle()
    bot.run_due_work()
    (told,) = dms(bot, "U1")
    assert (
        "*FOSSAM* är skapat i <#C0001>, och du deltar som administratör för *Grundskola*." in told
    )
    assert "`/samverkan forum medlemmar`: att vara med i kanalen gör ingen till medlem" in told
    assert "`/samverkan lägesbild inställningar`" in told  # areas, but no picture yet
    # The channel's announcement still comes first.
    posts = bot.slack.calls_to("chat.postMessage")
    assert posts[0].args["channel"] == CHANNEL


def test_an_english_creator_is_told_in_english_without_the_picture_step_when_no_areas(
    bot: Bot,
) -> None:
    bot.slack.set_user("U1", locale="en-GB")
    bot.driver.command("forum ny", user="U1")  # the modal opens in English
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    locale = json.loads(view["private_metadata"])["locale"]
    assert locale == "en"
    from tests.integration.test_forum_flow import blocks_of, forum_values

    values = forum_values()
    meta = json.dumps({"locale": locale, "channel_id": CHANNEL})
    response = bot.driver.view_submission(
        "forum_create", values, user="U1", private_metadata=meta, blocks=blocks_of(values)
    )
    assert response.json() is None, response.body
    bot.settle()
    bot.run_due_work()
    (told,) = dms(bot, "U1")
    assert "*FOSSAM* is set up in <#C0001>, and you are its admin for *Grundskola*." in told
    assert "`/samverkan forum members`" in told and "situation" not in told
    assert "är" not in told


def test_the_sandboxs_empty_channel_shows_how_to_start(bot: Bot) -> None:
    """The sandbox invites the bot to #prova-själv as Slack would: an evaluator who opens
    the empty channel first reads there how to set up a forum (before, it was empty)."""
    from sandbox.demo import CHANNELS, PEOPLE, configure_stub, invite_to_empty_channels
    from sandbox.surface import BotLink, Surface
    from sandbox.workspace import Workspace
    from tests.conftest import SIGNING_SECRET

    configure_stub(bot.slack)
    workspace = Workspace(PEOPLE, CHANNELS)
    bot.slack.add_listener(workspace.observe)
    surface = Surface(workspace, BotLink(bot.url, SIGNING_SECRET), timezone="Europe/Stockholm")
    invite_to_empty_channels(surface, forums=[])
    bot.settle()
    nora = "U06NORA"
    for channel in CHANNELS:
        said = [m.text + all_text(m.blocks) for m in workspace.messages(nora, channel.id)]
        assert len(said) == 1 and "`/samverkan forum ny`" in said[0], (channel.name, said)


def test_the_first_rounds_status_says_which_agency_no_one_was_asked_for(bot: Bot) -> None:
    """A new forum's first round opens before every agency has a member: the coordinator
    saw "Fritidsgård – inte svarat" and waited for an answer no one had been asked for."""
    from domain import forums as fs
    from storage.db import transaction
    from storage.models import Role
    from tests.support.forums import forum_draft

    draft = forum_draft(
        name="OSF",
        code="OSF",
        agencies=["Socialtjänst/IFO", "Polis", "Fritidsgård"],
        own_agency="Socialtjänst/IFO",
        areas=["Gråbo", "Hemse"],
    )
    with transaction(bot.sessions) as s:
        forum = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id=CHANNEL, actor="U1", draft=draft
        )
        forum.settings = {"situation_picture": "every"}
        polis = next(a.id for a in forum.agencies if a.name == "Polis")
        fs.add_members(
            s,
            bot.clock,
            forum=forum,
            actor="U1",
            slack_user_ids=["U2"],
            agency_id=polis,
            role=Role.MEMBER,
        )
    bot.run_due_work()  # the round for Thursday's meeting opens
    status = reply_text(bot, "lägesbild", "U1")
    assert "Polis – inte svarat" in status
    assert (
        "Fritidsgård – ingen företräder den i forumet, så ingen har fått frågan: lägg till en "
        "medlem för den med `/samverkan forum medlemmar`"
    ) in status
    assert "Socialtjänst/IFO – inte svarat" in status  # the coordinator's own: asked


def test_a_schedule_whose_every_meeting_falls_on_a_holiday_is_refused_under_the_field(
    bot: Bot,
) -> None:
    """Every meeting on a public holiday (here Första maj), which the forum cancels: the
    forum was created with 'Nästa möten: –' and never met, and no one was told why."""
    from storage.models import Forum
    from tests.integration.test_forum_flow import blocks_of, count, forum_values
    from tests.support.slack_driver import select_value

    values = forum_values(rrule="FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=1", areas="Gråbo")
    meta = json.dumps({"locale": "sv", "channel_id": CHANNEL})
    answer = bot.driver.view_submission(
        "forum_create", values, user="U1", private_metadata=meta, blocks=blocks_of(values)
    ).json()
    assert answer["response_action"] == "errors"
    assert (
        "infaller på en helgdag eller ledig dag och ställs därför in" in answer["errors"]["rrule.0"]
    )
    assert count(bot, Forum) == 0
    # Moved to the working day before instead, it meets: saved.
    values["holidays.0"] = {"value": select_value("earlier")}
    response = bot.driver.view_submission(
        "forum_create", values, user="U1", private_metadata=meta, blocks=blocks_of(values)
    )
    assert response.json() is None, response.body
    assert count(bot, Forum) == 1
