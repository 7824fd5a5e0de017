"""Crafted members-modal and move-confirmation submissions (signed as Slack would send
them) by someone who is no coordinator of the named forum, or from another workspace, add
nobody and welcome nobody by DM; a coordinator's submission sent twice welcomes once."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import Forum, Member
from tests.conftest import SIGNING_SECRET, Bot
from tests.integration.test_forum_flow import add_members, create_forum, welcomes
from tests.support.slack_driver import (
    SlackDriver,
    multi_users_values,
    radio_value,
    select_value,
)


def _move(
    bot: Bot,
    forum_id: int,
    users: list[str],
    *,
    by: str,
    agency_id: int,
    driver: SlackDriver | None = None,
) -> object:
    driver = driver or bot.driver
    payload = driver.view_submission_payload(
        "forum_members_move",
        {},
        user=by,
        private_metadata=json.dumps(
            {"locale": "sv", "forum_id": forum_id, "users": users, "agency_id": agency_id}
        ),
    )
    return driver.send_payload(payload)


def test_crafted_member_submissions_welcome_nobody(bot: Bot) -> None:
    forum_id = create_forum(bot)  # U1 coordinates
    add_members(bot, forum_id, ["U2"])  # a plain member
    with bot.sessions() as s:
        forum = s.get(Forum, forum_id)
        assert forum is not None
        agency_id = forum.agencies[0].id
    for actor in ("U2", "U9"):
        add_members(bot, forum_id, ["U7", "U8"], by=actor)
        _move(bot, forum_id, ["U7", "U8"], by=actor, agency_id=agency_id)
    # Another workspace naming this forum's id, as its own coordinator would.
    # (U1, coordinator here, signed from workspace T0002: the same user id, a forged one.)
    other = SlackDriver(
        bot.url, SIGNING_SECRET, team_id="T0002", response_url_base=bot.slack.response_url_base
    )
    values = {
        "users": {"value": multi_users_values(["U7", "U8"])},
        "agency": {"value": select_value(str(agency_id))},
        "role": {"value": radio_value("member")},
    }
    other.view_submission(
        "forum_members",
        values,
        user="U1",
        private_metadata=json.dumps({"locale": "sv", "channel_id": "C0001", "forum_id": forum_id}),
        blocks=[{"type": "input", "block_id": b} for b in values],
    )
    _move(bot, forum_id, ["U7", "U8"], by="U1", agency_id=agency_id, driver=other)
    assert welcomes(bot, "U7") == [] and welcomes(bot, "U8") == []
    with bot.sessions() as s:
        assert not set(s.scalars(select(Member.slack_user_id))) & {"U7", "U8"}
    # The coordinator's submission twice, and the move confirmation replayed: one welcome.
    add_members(bot, forum_id, ["U7"])
    add_members(bot, forum_id, ["U7"])
    _move(bot, forum_id, ["U7"], by="U1", agency_id=agency_id)
    assert len(welcomes(bot, "U7")) == 1
