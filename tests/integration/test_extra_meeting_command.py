"""The extra meeting typed (requirements P7): ``/samverkan möten extra <day> <time>`` (and
``/samverkan meetings extra`` in English) adds it through the same domain function and checks
as the meetings list's form, through the real app; without a time (or anything) the form
opens, filled in with what was typed; what cannot be read or added is told kindly, in the
user's language, with what they typed."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import Meeting
from tests.conftest import Bot
from tests.integration.test_extra_meeting import add_extra
from tests.support.agenda_flow import channel_posts, setup_forum, text_of


def reply(bot: Bot, text: str, *, user: str = "U1") -> str:
    before = bot.slack.count("response_url")
    response = bot.driver.command(text, user=user)
    assert response.status == 200
    answer = bot.slack.wait_for("response_url", count=before + 1)[-1]
    assert answer.args.get("response_type", "ephemeral") == "ephemeral"
    return json.dumps(answer.args, ensure_ascii=False)


def extras(bot: Bot) -> list[Meeting]:
    bot.run_due_work()
    with bot.sessions() as s:
        return list(s.scalars(select(Meeting).where(Meeting.extra)).all())


def test_a_coordinator_types_an_extra_meeting_and_the_channel_is_told(bot: Bot) -> None:
    setup_forum(bot)  # Monday 23 November; the forum meets on Thursdays 13–15
    said = reply(bot, "möten extra 2026-11-25 09:00")  # Wednesday
    assert "Tillagt: ett extra möte onsdag 25 november 2026 09:00" in said
    assert "onsdag 25 november 2026 08:00" in said  # its agenda
    notice = bot.slack.wait_for("chat.postMessage")[0]
    assert notice.args["channel"] == "C0001"
    assert "extra möte onsdag 25 november 2026 09:00" in notice.args["text"]
    [extra] = extras(bot)
    assert extra.starts_at.hour == 8  # 09:00 in Stockholm (UTC+1)
    # Listed like the form's: an extra meeting.
    assert "extra möte" in reply(bot, "möten")

    # The day as 10/12 (the next such day) and the time as 13.00 read as /samverkan borta's.
    assert "fredag 27 november 2026 13:00" in reply(bot, "möten extra 27/11 13.00")
    assert len(extras(bot)) == 2
    bot.slack.assert_no_violations()


def test_the_english_command_adds_it_and_answers_in_english(bot: Bot) -> None:
    bot.slack.set_user("U1", locale="en-US")  # (before the forum: its members' languages)
    setup_forum(bot)
    said = reply(bot, "meetings extra 2026-11-24 10:00")
    assert "Added: an extra meeting" in said and "24 November" in said
    assert len(extras(bot)) == 1
    refused = reply(bot, "meetings extra 2026-11-26 10:00")  # a Thursday: it meets
    assert "Extra meeting 2026-11-26 10:00" in refused
    assert "already meets that day" in refused
    unread = reply(bot, "meetings extra next week 10:00")
    assert "I could not read “next week” as a day" in unread, unread
    assert "2026-12-10" in unread and "Thursday or tomorrow" in unread
    assert len(extras(bot)) == 1
    # The day in words, in English (Monday 23 November today).
    assert "Wednesday 25 November 2026 10:00" in reply(bot, "meetings extra next wednesday 10")
    assert "Wednesday 9 December 2026 10:00" in reply(bot, "meetings extra December 9 10:00")
    assert len(extras(bot)) == 3


def test_the_typed_extra_meeting_is_refused_as_the_form_refuses_it(bot: Bot) -> None:
    setup_forum(bot)
    cases = {
        "2026-11-26 09:00": "redan ett möte den dagen",  # a Thursday: it meets
        "2026-11-20 09:00": "framåt i tiden",
        "2026-11-24 02:30": "sommartid",
        "2027-03-30 09:00": "90 dagar",
    }
    for typed, reason in cases.items():
        said = reply(bot, f"möten extra {typed}")
        assert f"Extra möte {typed}" in said, said
        assert reason in said, said
    said = reply(bot, "möten extra 2026-11-24 09:00", user="U2")  # a member, no coordinator
    assert "Extra möte 2026-11-24 09:00" in said and "samordnare" in said
    # What cannot be read: told with what was typed, and the format.
    said = reply(bot, "möten extra 31/13 09:00")
    assert "31/13" in said and "2026-12-10" in said
    said = reply(bot, "möten extra 2026-11-24 25:00")
    assert "Jag kunde inte tolka ”25:00” som en tid" in said and "13:00" in said
    said = reply(bot, "möten extra 2026-11-24 09:00 i morgon")
    assert "/samverkan möten extra 2026-12-10 13:00" in said
    assert not extras(bot)
    assert not [p for p in channel_posts(bot) if "extra möte" in text_of(p)]


def test_without_a_time_the_form_opens_filled_in(bot: Bot) -> None:
    setup_forum(bot)
    bot.driver.command("möten extra", user="U1")
    form = bot.slack.wait_for("views.open")[0].args["view"]
    assert form["callback_id"] == "meeting_extra"
    assert "2026-11-24" in json.dumps(form)  # tomorrow
    assert "13:00" in json.dumps(form)  # the forum's usual start
    bot.driver.command("möten extra 2026-12-09", user="U1")
    form = bot.slack.wait_for("views.open", count=2)[1].args["view"]
    assert "2026-12-09" in json.dumps(form)
    # The form it opens adds the meeting as the list's does.
    told = add_extra(bot, "2026-12-09", "10:00")
    assert told["response_action"] == "update"
    assert len(extras(bot)) == 1
    # A member who is no coordinator gets no form.
    assert "samordnare" in reply(bot, "möten extra", user="U2")
    assert bot.slack.count("views.open") == 2


def test_the_day_is_read_as_people_write_it(bot: Bot) -> None:
    """The day in words, as people type it: a weekday (the next one after today, in the
    forum's time zone), "i morgon", a day of a month ("10 dec", "den 9 december"); what is
    still not understood is told with what was typed and the forms that work."""
    setup_forum(bot)  # Monday 23 November 2026
    assert "onsdag 25 november 2026 09:00" in reply(bot, "möten extra nästa onsdag 09:00")
    assert "fredag 27 november 2026 10:00" in reply(bot, "möten extra på fredag 10")
    assert "tisdag 24 november 2026 09:00" in reply(bot, "möten extra i morgon 9")
    assert "onsdag 9 december 2026 13:00" in reply(bot, "möten extra den 9 december 13:00")
    assert "måndag 30 november 2026 13:00" in reply(bot, "möten extra måndag 13:00")
    assert len(extras(bot)) == 5
    # A day of a month without a time: the form opens on it.
    bot.driver.command("möten extra 10 dec", user="U1")
    assert "2026-12-10" in json.dumps(bot.slack.wait_for("views.open")[0].args["view"])
    said = reply(bot, "möten extra nästa vecka 13:00")
    assert "Jag kunde inte tolka ”nästa vecka” som en dag" in said, said
    assert "10 december, torsdag eller i morgon" in said
    said = reply(bot, "möten extra 30 februari 13:00")
    assert "30 februari" in said and "2026-12-10" in said
    assert len(extras(bot)) == 5
