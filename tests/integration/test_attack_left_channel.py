"""Attack review of "a member left the forum's channel" (handlers/events.py): the event is
only a hint. A crafted member_left_channel naming someone still in the channel (the forum's
admin, to have another member made admin in their place) ends no one's membership; only a
leave Slack confirms (conversations.members) does."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEvent, Member, Role
from storage.models.enums import AuditAction
from tests.conftest import Bot
from tests.integration.test_forum_flow import add_members, create_forum

CHANNEL = "C0001"


def _members(bot: Bot, forum_id: int) -> dict[str, tuple[bool, Role]]:
    with bot.sessions() as s:
        rows = s.execute(
            select(Member.slack_user_id, Member.active, Member.role).where(
                Member.forum_id == forum_id
            )
        )
        return {user: (active, role) for user, active, role in rows}


def _left(bot: Bot, user: str) -> None:
    event = {"type": "member_left_channel", "user": user, "channel": CHANNEL, "team": "T0001"}
    assert bot.driver.event(event).status == 200
    bot.settle()


def test_a_crafted_leave_of_someone_still_in_the_channel_ends_no_membership(bot: Bot) -> None:
    forum_id = create_forum(bot)  # U1: the forum's admin
    add_members(bot, forum_id, ["U2"], role="coordinator")
    bot.slack.set_channel_members(CHANNEL, ["U1", "U2", "UBOT"])
    # U2 (or anyone) makes the bot receive "U1 left the channel": U1 has not.
    _left(bot, "U1")
    assert _members(bot, forum_id) == {
        "U1": (True, Role.ADMIN),
        "U2": (True, Role.COORDINATOR),  # not made admin in U1's place
    }
    with bot.sessions() as s:
        assert not s.scalars(
            select(AuditEvent).where(
                AuditEvent.object_ref == "U1", AuditEvent.action == AuditAction.DELETE
            )
        ).all()
    # When Slack cannot say (a failure), the member keeps access too.
    bot.slack.set_channel_members(CHANNEL, ["U2", "UBOT"])
    bot.slack.fail_next("conversations.members", status=200, error="internal_error")
    _left(bot, "U1")
    assert _members(bot, forum_id)["U1"] == (True, Role.ADMIN)
    # U1 truly leaves (Slack no longer lists them, on any page): the membership ends.
    bot.slack.set_channel_members(CHANNEL, ["U2", *[f"U9{i:03d}" for i in range(1500)]])
    _left(bot, "U1")
    assert _members(bot, forum_id) == {
        "U1": (False, Role.ADMIN),
        "U2": (True, Role.ADMIN),  # the forum keeps an admin
    }


def test_an_empty_or_malformed_person_in_the_members_form_is_not_found(bot: Bot) -> None:
    forum_id = create_forum(bot)
    for crafted in ("", "x", "U1\n", "<@U2>", "C0001"):
        errors = add_members(bot, forum_id, [crafted]).json()["errors"]["users"]
        assert "är ingen person" in errors, (crafted, errors)
        assert "försök igen" not in errors.lower(), crafted
    with bot.sessions() as s:
        assert s.scalars(select(Member.slack_user_id)).all() == ["U1"]
