"""A forum whose channel the bot cannot post in says so where its members look.

When Slack refuses a post to the forum's channel for good (the bot was removed, the channel
archived or deleted), the coordinators get one DM per meeting (test_agenda_flow.py); the
forum's summary, its settings modal, App Home and the menu also say so, with what to do,
to the forum's members only, until a post goes through again or Slack says the bot was
invited back or the channel unarchived.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

from sqlalchemy import select, text

from domain.scheduling import reach
from storage.db import transaction
from storage.models import Forum, Member, OutboxMessage, OutboxStatus
from tests.conftest import SIGNING_SECRET, Bot, postgresql_only
from tests.support.agenda_flow import CHANNEL, channel_posts, local, setup_forum, tick
from tests.support.concurrency import lock_waits
from tests.support.slack_driver import BOT_USER_ID, SlackDriver

REMOVED = "Bjud in mig till kanalen"
ARCHIVED = "är arkiverad: dagordningar och påminnelser postas inte där"


def menu_text(bot: Bot, user: str) -> str:
    before = bot.slack.count("response_url")
    bot.driver.command("", user=user, channel=CHANNEL)
    return json.dumps(
        bot.slack.wait_for("response_url", count=before + 1)[-1].args, ensure_ascii=False
    )


def home_text(bot: Bot, user: str) -> str:
    bot.lazy.wait_idle()  # the Homes a change published first (they are not the answer)
    before = bot.slack.count("views.publish")
    bot.driver.app_home_opened(user=user)
    bot.lazy.wait_idle()
    calls = bot.slack.wait_for("views.publish", count=before + 1)
    return json.dumps([c.args for c in calls if c.args["user_id"] == user][-1], ensure_ascii=False)


def settings_text(bot: Bot, user: str) -> str:
    before = bot.slack.count("views.open")
    bot.driver.command("forum", user=user, channel=CHANNEL)
    return json.dumps(
        bot.slack.wait_for("views.open", count=before + 1)[-1].args, ensure_ascii=False
    )


def summary_text(bot: Bot, user: str) -> str:
    before = bot.slack.count("response_url")
    bot.driver.command("forum", user=user, channel=CHANNEL)
    return json.dumps(
        bot.slack.wait_for("response_url", count=before + 1)[-1].args, ensure_ascii=False
    )


def channel_event(bot: Bot, kind: str, **fields: Any) -> None:
    response = bot.driver.event({"type": kind, "channel": CHANNEL, **fields})
    assert response.status == 200
    bot.lazy.wait_idle()  # what the event does after the answer (the bot invited back)


def test_a_removed_bot_shows_in_the_menu_home_summary_and_settings_until_invited_back(
    bot: Bot,
) -> None:
    setup_forum(bot)
    assert REMOVED not in menu_text(bot, "U1")
    bot.slack.fail_next("chat.postMessage", status=200, error="not_in_channel")
    tick(bot, local(2026, 11, 26, 8, 0))
    assert channel_posts(bot) == []
    for shown in (
        menu_text(bot, "U1"),
        menu_text(bot, "U2"),
        home_text(bot, "U2"),
        summary_text(bot, "U2"),  # a member: the summary
        settings_text(bot, "U1"),  # a coordinator: the settings modal
    ):
        assert REMOVED in shown and "/invite @Samverkan" in shown and "<#C0001>" in shown
    assert REMOVED not in menu_text(bot, "U9")  # not a member: not told
    # Someone else joining the channel changes nothing; a crafted event of another
    # channel neither.
    channel_event(bot, "member_joined_channel", user="U7")
    bot.driver.event({"type": "member_joined_channel", "user": BOT_USER_ID, "channel": "C0999"})
    assert REMOVED in menu_text(bot, "U1")
    channel_event(bot, "member_joined_channel", user=BOT_USER_ID)
    assert REMOVED not in menu_text(bot, "U1")
    assert REMOVED not in home_text(bot, "U2")
    bot.slack.assert_no_violations()


def test_a_post_that_goes_through_again_clears_it(bot: Bot) -> None:
    setup_forum(bot)
    bot.slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
    tick(bot, local(2026, 11, 26, 8, 0))
    assert REMOVED in menu_text(bot, "U2")
    tick(bot, local(2026, 12, 3, 8, 0))  # next week's agenda is posted
    assert len(channel_posts(bot)) == 1
    assert REMOVED not in menu_text(bot, "U2")


def test_an_archived_channel_says_unarchive_it_until_it_is_unarchived(bot: Bot) -> None:
    setup_forum(bot)
    bot.slack.fail_next("chat.postMessage", status=200, error="is_archived")
    tick(bot, local(2026, 11, 26, 8, 0))
    shown = home_text(bot, "U1")
    assert ARCHIVED in shown and "/invite" not in shown
    channel_event(bot, "channel_unarchive", user="U1")
    assert ARCHIVED not in home_text(bot, "U1")
    # Slack's archive event says so before the next agenda is refused.
    channel_event(bot, "channel_archive", user="U1")
    assert ARCHIVED in menu_text(bot, "U2")
    channel_event(bot, "group_unarchive")
    assert ARCHIVED not in menu_text(bot, "U2")


@postgresql_only
def test_a_refusal_noted_while_a_forum_save_commits_keeps_the_saved_settings(bot: Bot) -> None:
    """The refusal is written into the forum's ``settings`` (the whole JSON value). A forum
    save that holds the row when the delivery notes a refusal commits first; the note then
    reads the saved settings and keeps them (before, it wrote back what it had read before
    the save committed: the coordinator's calendar settings were lost)."""
    setup_forum(bot)
    engine = bot.runtime.engine
    with engine.connect() as saving:
        saving.execute(
            text(
                "UPDATE forums SET settings = coalesce(settings, '{}'::jsonb)"
                ' || \'{"holiday_policy": "before"}\'::jsonb WHERE channel_id = :c'
            ),
            {"c": CHANNEL},
        )  # the save's UPDATE holds the row, not committed yet
        with lock_waits(engine) as waits:

            def note() -> None:
                with transaction(bot.sessions) as session:
                    reach.note_delivery(
                        session, bot.clock, team_id="T0001", channel=CHANNEL, error="is_archived"
                    )

            noting = threading.Thread(target=note)
            noting.start()
            waits.wait_for(noting)
        saving.commit()
    noting.join(timeout=10)
    assert not noting.is_alive()
    with bot.sessions() as session:
        forum = session.scalar(select(Forum).where(Forum.channel_id == CHANNEL))
        assert forum is not None
        assert forum.settings.get("holiday_policy") == "before"
        assert reach.channel_refused(forum) == "is_archived"


def test_events_crafted_in_another_workspace_change_nothing_here(bot: Bot) -> None:
    """Events sent from another workspace's installation (signed, so Slack's, but of
    that workspace) with this forum's channel, and an event body claiming this workspace
    (``team``): this forum's state is read and changed by the request's workspace alone.
    The bot 'invited back' there, or the channel unarchived there, clears nothing here;
    archived there, it marks nothing here; a member leaving there is still one here."""
    setup_forum(bot)
    with bot.sessions() as s:
        forum_id = s.scalar(select(Forum.id).where(Forum.channel_id == CHANNEL))
    bot.slack.fail_next("chat.postMessage", status=200, error="not_in_channel")
    tick(bot, local(2026, 11, 26, 8, 0))
    assert REMOVED in menu_text(bot, "U1")
    other = SlackDriver(
        bot.url, SIGNING_SECRET, team_id="T0002", response_url_base=bot.slack.response_url_base
    )
    for kind in ("member_joined_channel", "channel_unarchive", "group_unarchive"):
        for claimed in ({}, {"team": "T0001"}):
            response = other.event(
                {"type": kind, "user": BOT_USER_ID, "channel": CHANNEL, **claimed}
            )
            assert response.status == 200
            assert REMOVED in menu_text(bot, "U1"), (kind, claimed)
    for kind in ("channel_archive", "group_archive"):
        for claimed in ({}, {"team": "T0001"}):
            assert other.event({"type": kind, "channel": CHANNEL, **claimed}).status == 200
            shown = menu_text(bot, "U1")
            assert REMOVED in shown and ARCHIVED not in shown, (kind, claimed)
    # A member 'leaving' there, the event naming this workspace: still a member here.
    for claimed in ({}, {"team": "T0001"}):
        left = other.event(
            {"type": "member_left_channel", "user": "U2", "channel": CHANNEL, **claimed}
        )
        assert left.status == 200
        with bot.sessions() as s:
            assert s.scalar(
                select(Member.active).where(
                    Member.slack_user_id == "U2", Member.forum_id == forum_id
                )
            ), claimed
        assert REMOVED in menu_text(bot, "U2"), claimed


# --- App Home published anew when the state changes -----------------------------------------


def homes_since(bot: Bot, before: int) -> dict[str, str]:
    """The App Homes published since the ``before``-th publish, by member (the last of each)."""
    bot.lazy.wait_idle()
    calls = bot.slack.calls_to("views.publish")[before:]
    return {c.args["user_id"]: json.dumps(c.args, ensure_ascii=False) for c in calls}


def settle(bot: Bot, at: dt.datetime) -> None:
    """Passes until the outbox is empty (what the last pass queued is sent), so that the
    next refusal the stub answers meets the channel's post, not a DM."""
    for minute in (1, 2, 3):
        tick(bot, at + dt.timedelta(minutes=minute))
    with bot.sessions() as s:
        assert not s.scalar(
            select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.PENDING)
        )


def test_a_refused_post_and_one_that_goes_through_again_publish_the_members_homes(
    bot: Bot,
) -> None:
    """Slack keeps a Home as last published: the members' Homes are published anew when a
    post shows the bot was removed, and when one goes through again; not on every post."""
    setup_forum(bot)
    before = bot.slack.count("views.publish")
    tick(bot, local(2026, 11, 26, 8, 0))  # posted: nothing changed
    assert len(channel_posts(bot)) == 1
    assert homes_since(bot, before) == {}
    bot.slack.fail_next("chat.postMessage", status=200, error="not_in_channel")
    tick(bot, local(2026, 12, 3, 8, 0))
    homes = homes_since(bot, before)
    assert set(homes) == {"U1", "U2"}, homes
    assert all(REMOVED in home for home in homes.values())
    settle(bot, local(2026, 12, 3, 8, 0))  # the coordinators' DMs about it
    before = bot.slack.count("views.publish")
    bot.slack.fail_next("chat.postMessage", status=200, error="not_in_channel")
    tick(bot, local(2026, 12, 10, 8, 0))  # refused again: as the Homes already say
    assert homes_since(bot, before) == {}
    settle(bot, local(2026, 12, 10, 8, 0))
    tick(bot, local(2026, 12, 17, 8, 0))  # goes through again
    homes = homes_since(bot, before)
    assert set(homes) == {"U1", "U2"}, homes
    assert all(REMOVED not in home for home in homes.values())


def test_archive_unarchive_and_the_bot_invited_back_publish_the_members_homes_once(
    bot: Bot,
) -> None:
    setup_forum(bot)
    before = bot.slack.count("views.publish")
    channel_event(bot, "channel_archive", user="U1")
    homes = homes_since(bot, before)
    assert set(homes) == {"U1", "U2"} and all(ARCHIVED in h for h in homes.values()), homes
    before = bot.slack.count("views.publish")
    channel_event(bot, "group_archive")  # the same state: the Homes already say so
    channel_event(bot, "member_joined_channel", user="U7")  # not the bot
    # Another channel, and this forum's channel in another workspace's events.
    bot.driver.event({"type": "channel_unarchive", "channel": "C0999"})
    other = SlackDriver(
        bot.url, SIGNING_SECRET, team_id="T0002", response_url_base=bot.slack.response_url_base
    )
    for kind in ("channel_unarchive", "member_joined_channel"):
        for claimed in ({}, {"team": "T0001"}):
            other.event({"type": kind, "user": BOT_USER_ID, "channel": CHANNEL, **claimed})
    assert homes_since(bot, before) == {}
    channel_event(bot, "channel_unarchive", user="U1")
    homes = homes_since(bot, before)
    assert set(homes) == {"U1", "U2"} and all(ARCHIVED not in h for h in homes.values()), homes
    before = bot.slack.count("views.publish")
    channel_event(bot, "member_joined_channel", user=BOT_USER_ID)  # reachable already
    assert homes_since(bot, before) == {}
    settle(bot, local(2026, 11, 26, 7, 0))
    bot.slack.fail_next("chat.postMessage", status=200, error="not_in_channel")
    tick(bot, local(2026, 11, 26, 8, 0))
    assert REMOVED in menu_text(bot, "U1")
    before = bot.slack.count("views.publish")
    channel_event(bot, "member_joined_channel", user=BOT_USER_ID)  # invited back
    homes = homes_since(bot, before)
    assert set(homes) == {"U1", "U2"} and all(REMOVED not in h for h in homes.values()), homes


def test_a_crafted_unarchive_event_is_a_hint_that_slack_must_confirm(bot: Bot) -> None:
    """A signed "channel unarchived" event while Slack still says the channel is archived
    (a crafted event) keeps the forum's "archived" note and publishes no Home; once Slack
    says the channel is open again, the same event clears it."""
    setup_forum(bot)
    bot.slack.fail_next("chat.postMessage", status=200, error="is_archived")
    tick(bot, local(2026, 11, 26, 8, 0))
    assert ARCHIVED in menu_text(bot, "U1")
    bot.slack.set_channel(CHANNEL, is_member=True, is_archived=True)
    before = bot.slack.count("views.publish")
    for kind in ("channel_unarchive", "group_unarchive"):
        channel_event(bot, kind, user="U1")
        assert homes_since(bot, before) == {}
        assert ARCHIVED in menu_text(bot, "U1"), kind
    bot.slack.set_channel(CHANNEL, is_archived=False)
    channel_event(bot, "channel_unarchive", user="U1")
    homes = homes_since(bot, before)
    assert set(homes) == {"U1", "U2"} and all(ARCHIVED not in h for h in homes.values()), homes
    assert ARCHIVED not in menu_text(bot, "U1")


def test_a_crafted_bot_joined_event_is_a_hint_that_slack_must_confirm(bot: Bot) -> None:
    """A signed "the bot joined the channel" event for a forum whose channel refused its
    posts, while Slack says the bot is not in it (a crafted event, or one Slack took back),
    or cannot say (a private channel the bot is not in: ``channel_not_found``), clears
    nothing and publishes no Home. Once Slack confirms the bot is in the channel, the same
    event clears the refusal and publishes the members' Homes."""
    setup_forum(bot)
    bot.slack.fail_next("chat.postMessage", status=200, error="not_in_channel")
    tick(bot, local(2026, 11, 26, 8, 0))
    assert REMOVED in menu_text(bot, "U1")
    bot.slack.set_channel(CHANNEL, is_member=False)
    before = bot.slack.count("views.publish")
    asked = bot.slack.count("conversations.info")
    channel_event(bot, "member_joined_channel", user=BOT_USER_ID)
    assert homes_since(bot, before) == {}
    assert bot.slack.count("conversations.info") == asked + 1  # Slack was asked
    assert REMOVED in menu_text(bot, "U1")
    bot.slack.fail_next("conversations.info", status=200, error="channel_not_found")
    channel_event(bot, "member_joined_channel", user=BOT_USER_ID)
    assert homes_since(bot, before) == {}
    assert REMOVED in menu_text(bot, "U1")
    bot.slack.set_channel(CHANNEL, is_member=True)
    channel_event(bot, "member_joined_channel", user=BOT_USER_ID)
    homes = homes_since(bot, before)
    assert set(homes) == {"U1", "U2"} and all(REMOVED not in h for h in homes.values()), homes
    assert REMOVED not in menu_text(bot, "U1")
    bot.slack.assert_no_violations()
