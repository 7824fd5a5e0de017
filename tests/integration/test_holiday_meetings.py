"""A meeting the calendar cancels for a holiday, through the real app: the meetings list says
why, and a coordinator can still hold it on another day (no reason to mask: it has none)."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import Meeting, MeetingStatus
from tests.conftest import Bot
from tests.support.agenda_flow import channel_posts, local, setup_forum, text_of, tick


def christmas_eve(bot: Bot) -> Meeting:
    with bot.sessions() as s:
        meeting = s.scalar(select(Meeting).where(Meeting.holiday.is_not(None)))
        assert meeting is not None
        return meeting


def test_a_holiday_meeting_can_be_held_the_day_before(bot: Bot) -> None:
    setup_forum(bot)
    meeting = christmas_eve(bot)  # Thursday 24 December 2026: a day off by default
    assert meeting.status == MeetingStatus.CANCELLED
    bot.driver.command("möten", user="U1")
    listing = bot.slack.wait_for("response_url")[0].args
    block = next(b for b in listing["blocks"] if b.get("block_id") == f"meeting:{meeting.id}")
    assert "~torsdag 24 december" in block["text"]["text"]
    assert "Julafton" in block["text"]["text"]
    assert [o["value"] for o in block["accessory"]["options"]] == [f"move:{meeting.id}"]
    bot.driver.view_submission(
        "meeting_move",
        {
            "day": {"day": {"type": "datepicker", "selected_date": "2026-12-23"}},
            "start": {"start": {"type": "timepicker", "selected_time": "13:00"}},
        },
        user="U1",
        private_metadata=json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": meeting.id}),
    )
    notice = bot.slack.wait_for("chat.postMessage")[0]
    assert "onsdag 23 december" in notice.args["text"]
    tick(bot, local(2026, 12, 23, 8, 0))
    assert "onsdag 23 december 13:00–15:00" in text_of(channel_posts(bot)[-1])


def test_a_coordinators_cancel_can_have_its_reason_masked(bot: Bot) -> None:
    setup_forum(bot)
    with bot.sessions() as s:
        first = s.scalars(select(Meeting.id).order_by(Meeting.starts_at)).first()
    bot.driver.view_submission(
        "meeting_cancel",
        {"reason": {"reason": {"type": "plain_text_input", "value": "Studiedag"}}},
        user="U1",
        private_metadata=json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": first}),
    )
    bot.slack.wait_for("chat.postMessage")
    bot.driver.command("möten", user="U1")
    listing = bot.slack.wait_for("response_url")[0].args
    block = next(b for b in listing["blocks"] if b.get("block_id") == f"meeting:{first}")
    assert [o["value"] for o in block["accessory"]["options"]] == [
        f"move:{first}",
        f"redact_note:{first}",
    ]
