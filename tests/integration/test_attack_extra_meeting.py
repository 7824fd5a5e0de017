"""Attack review of the extra meeting (P7): its button, its form's submission and
``/samverkan möten extra <dag> <tid>``, sent by someone who is not a coordinator of the forum
they name (another forum's admin with this forum's id, in this forum's channel or in their
own; another workspace's admin; a plain member of the forum). Each is refused: no meeting is
added to the forum, its channel is told nothing, and no form opens; the same payload sent by
the forum's coordinator adds the meeting (so the refusals are not about the day)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from storage.models import Meeting
from tests.conftest import Bot
from tests.integration.test_disclosure_table import (
    COORD,
    OTHER_FORUM,
    OTHER_WS,
    RAISER,
    World,
    build_world,
    reader_for,
)
from tests.support.slack_driver import SlackDriver, input_blocks


def _extras(bot: Bot, forum_id: int) -> list[Meeting]:
    bot.run_due_work()
    with bot.sessions() as s:
        return list(
            s.scalars(select(Meeting).where(Meeting.extra, Meeting.forum_id == forum_id)).all()
        )


def _free_day(bot: Bot, world: World) -> dt.date:
    """A weekday within the week on which the forum has no meeting."""
    with bot.sessions() as s:
        taken = {
            m.starts_at.date()
            for m in s.scalars(select(Meeting).where(Meeting.forum_id == world.forum)).all()
        }
    day = bot.clock.now().date() + dt.timedelta(days=1)
    while day in taken or day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _submit(driver: SlackDriver, user: str, forum_id: int, day: dt.date) -> dict[str, Any]:
    values = {
        "day": {"day": {"type": "datepicker", "selected_date": day.isoformat()}},
        "start": {"start": {"type": "timepicker", "selected_time": "09:30"}},
    }
    response = driver.view_submission(
        "meeting_extra",
        values,
        user=user,
        private_metadata=json.dumps({"locale": "sv", "forum_id": forum_id}),
        blocks=input_blocks(values),
    )
    assert response.status == 200
    return response.json() or {}


def _posts_to(bot: Bot, channel: str) -> int:
    return sum(1 for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == channel)


def test_the_extra_meeting_is_a_coordinator_of_the_named_forum_s_alone(bot: Bot) -> None:
    world = build_world(bot)
    bot.run_due_work()
    day = _free_day(bot, world)
    posted = _posts_to(bot, "C0001")
    other = reader_for(bot, world, OTHER_FORUM)
    elsewhere = reader_for(bot, world, OTHER_WS)
    # The form's submission naming this forum, by another forum's admin, another
    # workspace's admin, and a plain member of this forum.
    for driver, user in ((other.driver, OTHER_FORUM), (elsewhere.driver, OTHER_WS)):
        answer = _submit(driver, user, world.forum, day)
        assert "Tillagt" not in json.dumps(answer, ensure_ascii=False)
    _submit(bot.driver, RAISER, world.forum, day)
    # The button with this forum's id: no form opens.
    opened = bot.slack.count("views.open")
    other.driver.block_action("meeting_extra_open", user=OTHER_FORUM, value=str(world.forum))
    elsewhere.driver.block_action("meeting_extra_open", user=OTHER_WS, value=str(world.forum))
    bot.driver.block_action("meeting_extra_open", user=RAISER, value=str(world.forum))
    # Typed in this forum's channel by another forum's admin and by a plain member.
    typed = f"möten extra {day.isoformat()} 09:30"
    for user in (OTHER_FORUM, RAISER):
        before = bot.slack.count("response_url")
        bot.driver.command(typed, user=user, channel="C0001")
        said = json.dumps(
            bot.slack.wait_for("response_url", count=before + 1)[-1].args, ensure_ascii=False
        )
        assert "Tillagt" not in said
    bot.wait_idle()
    assert bot.slack.count("views.open") == opened
    assert _extras(bot, world.forum) == []
    assert _posts_to(bot, "C0001") == posted
    # The same submission by the forum's coordinator adds it (the day was free).
    answer = _submit(bot.driver, COORD, world.forum, day)
    assert "Tillagt" in json.dumps(answer, ensure_ascii=False)
    assert len(_extras(bot, world.forum)) == 1
