"""The granskare reads the logs and owns nothing: a crafted submission naming them as an
action's owner (the owner picker leaves them out) is refused on the owner field, on every
path that sets an owner: a new action, a hand-over, an action in the minutes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from domain import forums as fs
from storage.db import transaction
from storage.models import Action, Role
from tests.conftest import Bot
from tests.integration.test_action_flow import (
    ADMIN,
    CHANNEL,
    ELEVHALSA,
    count,
    hand_over_as,
    submit_action,
    the_action,
)
from tests.integration.test_action_flow import forum as forum
from tests.integration.test_minutes_flow import case_id, minutes_modal, submit_minutes
from tests.support.agenda_flow import local, tick
from tests.support.minutes_world import first_meeting, raise_a_case, setup_forum

REVIEWER = "U7"
REFUSED = "kan inte äga insatser"  # the granskare "cannot own actions"


def add_reviewer(bot: Bot, agency_id: int) -> None:
    with transaction(bot.sessions) as s:
        forum = fs.require_forum(s, team_id="T0001", channel_id=CHANNEL)
        fs.add_members(
            s,
            bot.clock,
            forum=forum,
            actor=ADMIN,
            slack_user_ids=[REVIEWER],
            agency_id=agency_id,
            role=Role.REVIEWER,
        )


def test_a_new_action_or_a_hand_over_is_not_given_to_the_granskare(
    bot: Bot, forum: dict[str, int]
) -> None:
    add_reviewer(bot, forum["Elevhälsa"])
    body = submit_action(bot, forum, owner=REVIEWER, view_id="VR1").json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == ["owner"] and REFUSED in body["errors"]["owner"]
    assert count(bot, Action) == 0

    assert submit_action(bot, forum, owner=ELEVHALSA, view_id="VR2").json() is None
    action = the_action(bot)
    body = hand_over_as(bot, ELEVHALSA, action.id, REVIEWER, views=1).json()
    assert list(body["errors"]) == ["owner"] and REFUSED in body["errors"]["owner"]
    assert the_action(bot).owner == ELEVHALSA
    # A coordinator's move to the granskare's agency is refused as well.
    body = hand_over_as(bot, ADMIN, action.id, REVIEWER, forum["Elevhälsa"], views=2).json()
    assert list(body["errors"]) == ["owner"] and REFUSED in body["errors"]["owner"]
    assert the_action(bot).owner == ELEVHALSA


def test_the_minutes_give_no_action_to_the_granskare(bot: Bot) -> None:
    setup_forum(bot)
    with transaction(bot.sessions) as s:
        forum = fs.require_forum(s, team_id="T0001", channel_id=CHANNEL)
        elevhalsa = forum.agencies[1].id
    add_reviewer(bot, elevhalsa)
    reference = raise_a_case(bot)
    meeting = first_meeting(bot)
    case = case_id(bot, reference)
    tick(bot, local(2026, 11, 26, 8, 0))
    tick(bot, local(2026, 11, 26, 15, 0))
    view = minutes_modal(bot, meeting)
    response = submit_minutes(
        bot, meeting, case, view, action="Boka samtal", owner=REVIEWER, due="2026-12-10"
    )
    refused: Any = response.json()
    assert refused["response_action"] == "errors"
    assert REFUSED in refused["errors"][f"owner:{case}"]
    with bot.sessions() as s:
        assert s.scalars(select(Action)).all() == []
