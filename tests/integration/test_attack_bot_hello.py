"""Attack review of the bot's hello in a channel it is invited to (handlers/events.py
introduce), through the real app: it is said only in a channel with no forum. A channel
shared between two workspaces (Slack Connect) that one of them already holds a forum in is
not told by the other's event that "there is no forum in this channel yet"."""

from __future__ import annotations

from typing import Any

from tests.integration.test_first_setup import channel_posts
from tests.integration.test_forum_flow import create_forum
from tests.integration.test_oauth_install import two_workspaces  # noqa: F401 (a fixture)

CHANNEL = "C0001"


def test_another_workspaces_invitation_into_a_forums_shared_channel_says_no_hello(
    two_workspaces: Any,  # noqa: F811 (the fixture)
) -> None:
    bot = two_workspaces
    create_forum(bot)  # T0001's forum in C0001
    bot.settle()
    bot.run_due_work()
    before = len(channel_posts(bot, CHANNEL))
    # T0002's bot is invited to the same (shared) channel: Slack signs the event for T0002.
    bot.driver.team_id = "T0002"
    event = {"type": "member_joined_channel", "user": "UBOT", "channel": CHANNEL}
    assert bot.driver.event({**event, "inviter": "U7"}).status == 200
    bot.settle()
    bot.run_due_work()
    posts = channel_posts(bot, CHANNEL)[before:]
    assert not [p for p in posts if "Hej! Jag är Samverkan" in p], posts
    # A channel with no forum in either workspace still gets it.
    assert bot.driver.event({**event, "channel": "C0009", "inviter": "U7"}).status == 200
    bot.settle()
    bot.run_due_work()
    assert any("Hej! Jag är Samverkan" in p for p in channel_posts(bot, "C0009"))
