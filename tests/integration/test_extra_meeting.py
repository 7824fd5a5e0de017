"""An extra meeting between the scheduled ones (an urgent situation: requirements P7),
through the real app and the scheduler pass: a coordinator adds it from the meetings list,
the channel is told, items go on its agenda, the agenda is posted once, and a schedule
change plans no second meeting on its day nor removes it."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from storage.db import transaction
from storage.models import Forum, Meeting, MeetingStatus, RatingRound, ScheduledEffect
from tests.conftest import Bot
from tests.integration.test_schedule_edits import edit_schedule, planned
from tests.support.agenda_flow import (
    channel_posts,
    local,
    setup_forum,
    text_of,
    tick,
)
from tests.support.rating_flow import ADMIN, dms, make_forum
from tests.support.slack_driver import input_blocks

META = json.dumps({"locale": "sv", "forum_id": 1})


def add_extra(bot: Bot, day: str, time: str, *, user: str = "U1") -> dict[str, Any]:
    values = {
        "day": {"day": {"type": "datepicker", "selected_date": day}},
        "start": {"start": {"type": "timepicker", "selected_time": time}},
    }
    response = bot.driver.view_submission(
        "meeting_extra", values, user=user, private_metadata=META, blocks=input_blocks(values)
    )
    assert response.status == 200
    return response.json() or {}


def test_a_coordinator_adds_an_extra_meeting_and_it_gets_its_own_agenda(bot: Bot) -> None:
    setup_forum(bot)  # Monday 23 November; the forum meets on Thursdays 13–15
    bot.driver.command("möten", user="U1")
    listing = bot.slack.wait_for("response_url")[0]
    assert "meeting_extra_open" in text_of(listing)
    assert "Lägg till ett extra möte" in text_of(listing)
    bot.driver.block_action("meeting_extra_open", user="U1", value="1")
    form = bot.slack.wait_for("views.open")[0]
    assert form.args["view"]["callback_id"] == "meeting_extra"

    told = add_extra(bot, "2026-11-25", "09:00")  # Wednesday
    assert told["response_action"] == "update"
    said = json.dumps(told["view"], ensure_ascii=False)
    assert "onsdag 25 november 2026 09:00" in said and "onsdag 25 november 2026 08:00" in said
    notice = bot.slack.wait_for("chat.postMessage")[0]
    assert notice.args["channel"] == "C0001"
    assert "extra möte onsdag 25 november 2026 09:00" in notice.args["text"]

    # Listed as an extra meeting, not as one moved by a coordinator.
    bot.driver.command("möten", user="U1")
    listing = bot.slack.wait_for("response_url", count=2)[1]
    assert "extra möte" in text_of(listing)
    assert "flyttat av" not in text_of(listing)

    # The next meeting now: an item added for it goes on the extra meeting's agenda.
    bot.driver.command("punkt Rutin vid akut oro i området", user="U2")
    reply = bot.slack.wait_for("response_url", count=3)[2]
    assert "onsdag 25 november" in text_of(reply)

    # The schedule changed to Wednesdays: no second meeting that Wednesday, the extra stays.
    edit_schedule(bot, rrule="FREQ=WEEKLY;BYDAY=WE")
    tick(bot, local(2026, 11, 23, 10, 1))
    assert planned(bot, 2) == [local(2026, 11, 25, 9, 0), local(2026, 12, 2, 13, 0)]

    tick(bot, local(2026, 11, 25, 8, 0))
    posts = [p for p in channel_posts(bot) if "Rutin vid akut oro" in text_of(p)]
    assert len(posts) == 1
    assert "onsdag 25 november 09:00" in text_of(posts[0])
    tick(bot, local(2026, 11, 25, 8, 5))
    assert len([p for p in channel_posts(bot) if "Rutin vid akut oro" in text_of(p)]) == 1
    bot.slack.assert_no_violations()


def test_an_extra_meeting_after_its_agenda_time_gets_its_agenda_at_once_not_late(
    bot: Bot,
) -> None:
    setup_forum(bot)
    bot.clock.set(local(2026, 11, 23, 10, 0))
    told = add_extra(bot, "2026-11-23", "15:00")  # today: the agenda time (08:00) has passed
    assert "dagordningen publiceras nu" in json.dumps(told["view"], ensure_ascii=False)
    tick(bot, local(2026, 11, 23, 10, 1))
    with bot.sessions() as s:
        extra = s.scalars(select(Meeting).where(Meeting.extra)).one()
        effect = s.scalars(
            select(ScheduledEffect).where(
                ScheduledEffect.kind == "agenda", ScheduledEffect.occurrence == extra.occurrence
            )
        ).one()
        assert not effect.late
    posts = [text_of(p) for p in channel_posts(bot)]
    assert len(posts) == 2 and "extra möte måndag 23 november 2026 15:00" in posts[0]
    assert "Dagordning: FOSSAM måndag 23 november 15:00" in posts[1]


def test_an_extra_meeting_is_refused_kindly_where_it_cannot_be(bot: Bot) -> None:
    setup_forum(bot)

    def error(day: str, time: str, user: str = "U1") -> str:
        return json.dumps(add_extra(bot, day, time, user=user), ensure_ascii=False)

    assert "redan ett möte den dagen" in error("2026-11-26", "09:00")  # a Thursday: it meets
    assert "framåt i tiden" in error("2026-11-20", "09:00")
    assert "sommartid" in error("2026-11-24", "02:30")
    assert "90 dagar" in error("2027-03-30", "09:00")
    assert "samordnare" in error("2026-11-24", "09:00", user="U2")
    with bot.sessions() as s:
        assert not s.scalars(select(Meeting).where(Meeting.extra)).all()
        first = s.scalars(select(Meeting).order_by(Meeting.starts_at).limit(1)).one()
        assert first.status is MeetingStatus.PLANNED and not first.extra


def test_an_extra_meeting_has_no_rating_round_of_its_own_nor_shifts_every_other(
    bot: Bot,
) -> None:
    """A forum that rates before every meeting: an extra one added for tomorrow is not
    told to its coordinators as a round missed, and gets none; with "every other" the
    regular meetings keep their alternation."""
    forum = make_forum(bot)["forum"]
    bot.run_due_work()  # Monday 23 November: the round for Thursday 26 opens
    add_extra(bot, "2026-11-24", "10:00")
    tick(bot, local(2026, 11, 23, 10, 5))
    tick(bot, local(2026, 11, 24, 8, 0))
    with bot.sessions() as s:
        rounds = s.scalars(select(RatingRound.meeting_id)).all()
        extra = s.scalars(select(Meeting.id).where(Meeting.extra)).one()
    assert len(rounds) == 1 and extra not in rounds
    assert not [c for c in dms(bot, ADMIN) if "rating_missed" in text_of(c)]
    assert not [c for c in dms(bot, ADMIN) if "kunde inte genomföras" in text_of(c)]

    with transaction(bot.sessions) as s:
        found = s.get(Forum, forum)
        assert found is not None
        found.settings = {"situation_picture": "every_other"}
    add_extra(bot, "2026-12-01", "10:00")  # Tuesday between 26 November and 3 December
    opened = []
    for opening in (
        local(2026, 11, 27, 8, 1),  # 3 December: not this one (26 November had one)
        local(2026, 12, 4, 8, 1),  # 10 December
    ):
        tick(bot, opening)
        with bot.sessions() as s:
            opened.append(s.scalar(select(func.count()).select_from(RatingRound)))
    assert opened == [1, 2]


def test_the_coordinators_help_says_where_an_extra_meeting_is_added(bot: Bot) -> None:
    setup_forum(bot)
    response = bot.driver.command("hjälp", user="U1")  # the locale is known: in the ack
    said = response.body or text_of(bot.slack.wait_for("response_url")[0])
    assert "lägger till ett extra möte" in json.dumps(json.loads(said), ensure_ascii=False)
