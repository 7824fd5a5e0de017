"""Attack review of the members form's people check (handlers/forum.check_people, before the
ack): a crafted submission naming thousands of people by someone who is no coordinator asks
Slack about nobody (it used to queue a users.info per person, still running after the
refusal, eating the workspace's rate limit for everyone)."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Member
from tests.conftest import Bot
from tests.integration.test_forum_flow import add_members, create_forum


def test_a_non_coordinators_members_form_naming_many_asks_slack_about_no_one(bot: Bot) -> None:
    forum_id = create_forum(bot)
    add_members(bot, forum_id, ["U2"])  # a plain member
    bot.settle()
    before = bot.slack.count("users.info")
    crowd = [f"U9{i:04d}" for i in range(300)]
    for by in ("U2", "U7"):  # a member; someone of the workspace in no forum
        errors = add_members(bot, forum_id, crowd, by=by).json()["errors"]["users"]
        assert "samordnare" in errors, (by, errors)
    bot.settle()
    assert bot.slack.count("users.info") == before
    with bot.sessions() as s:
        assert sorted(s.scalars(select(Member.slack_user_id))) == ["U1", "U2"]
    # The coordinator's same form still adds them (each looked up once, however often named).
    response = add_members(bot, forum_id, ["U3", "U3", "U4"])
    assert "errors" not in (response.json() or {}), response.body
    bot.settle()
    assert bot.slack.count("users.info") == before + 2
