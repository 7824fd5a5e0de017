"""Attack review of naming a stand-in (``/samverkan borta <dag> @stand-in``): the one named
must be an active member of the same forum and agency. Another forum's admin (of this
workspace), a user of another workspace and a member of another agency of the forum are
refused and nothing is stored; a member of the same agency is taken (so the refusals are
not about the day)."""

from __future__ import annotations

import datetime as dt
import json

from domain import forums as fs
from storage.db import transaction
from storage.models import Member, Role
from tests.conftest import Bot
from tests.integration.test_disclosure_table import (
    COORD,
    NOT_COVERED,
    OTHER_FORUM,
    OTHER_WS,
    RAISER,
    build_world,
)

SAME_AGENCY = "UE2"


def _say(bot: Bot, text: str) -> str:
    before = bot.slack.count("response_url")
    bot.driver.command(text, user=RAISER, channel="C0001")
    return json.dumps(
        bot.slack.wait_for("response_url", count=before + 1)[-1].args, ensure_ascii=False
    )


def _stand_in_of(bot: Bot, forum_id: int) -> int | None:
    with bot.sessions() as s:
        member = s.query(Member).filter_by(forum_id=forum_id, slack_user_id=RAISER).one()
        return member.stand_in_member_id


def test_a_stand_in_outside_the_forum_or_agency_is_refused(bot: Bot) -> None:
    world = build_world(bot)
    with transaction(bot.sessions) as s:
        forum = fs.get_forum(s, forum_id=world.forum, team_id="T0001")
        agency = next(a.id for a in forum.agencies if a.name == "Elevhälsa")
        fs.add_members(
            s,
            bot.clock,
            forum=forum,
            actor=COORD,
            slack_user_ids=[SAME_AGENCY],
            agency_id=agency,
            role=Role.MEMBER,
        )
    day = (bot.clock.now().date() + dt.timedelta(days=7)).isoformat()
    for outsider in (OTHER_FORUM, OTHER_WS, NOT_COVERED):
        said = _say(bot, f"borta {day} <@{outsider}>")
        assert "från din verksamhet (Elevhälsa)" in said, said
        assert _stand_in_of(bot, world.forum) is None
    said = _say(bot, f"borta {day} <@{SAME_AGENCY}>")
    assert "från din verksamhet" not in said
    assert _stand_in_of(bot, world.forum) is not None
