"""The forum modal's schedule as choices, through the real app (issue #15, point 8): weekday
(s), every / every other week / certain weeks of the month, start and end; the RRULE under
*Avancerat*. Wherever the schedule is shown it reads in words."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

import pytest
from sqlalchemy import select

from domain import meetings
from storage.db import transaction
from storage.models import Forum, Meeting, MeetingStatus
from tests.conftest import Bot
from tests.integration.test_forum_flow import CHANNEL, blocks_of, forum_values, meta
from tests.support.forums import settings_saved
from tests.support.slack_driver import (
    date_value,
    multi_select_values,
    plain_value,
    select_value,
)

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")


def schedule_values(
    days: list[str], repeat: str = "every", weeks: list[str] | None = None, rrule: str = ""
) -> dict[str, Any]:
    values = forum_values(rrule=rrule)
    values["rrule.0"] = {"value": plain_value(rrule or None)}
    values["sched_days.0"] = {"value": multi_select_values(days)}
    values["sched_repeat.0"] = {"value": select_value(repeat)}
    values["sched_weeks.0"] = {"value": multi_select_values(weeks or [])}
    return values


def submit(bot: Bot, values: dict[str, Any]) -> Any:
    return bot.driver.view_submission(
        "forum_create", values, user="U1", private_metadata=meta(), blocks=blocks_of(values)
    )


def the_forum(bot: Bot) -> Forum:
    with bot.sessions() as session:
        forum = session.scalar(select(Forum).where(Forum.channel_id == CHANNEL))
        assert forum is not None
        return forum


def test_the_modal_offers_choices_with_the_rrule_under_advanced(bot: Bot) -> None:
    bot.driver.command("forum ny", user="U1")
    view = bot.slack.wait_for("views.open")[0].args["view"]
    ids = [b.get("block_id") for b in view["blocks"]]
    order = ["sched_days.0", "sched_repeat.0", "sched_weeks.0", "start.0", "end.0", "rrule.0"]
    assert [i for i in ids if i in order] == order
    advanced = view["blocks"][ids.index("rrule.0") - 1]
    assert advanced["text"]["text"].startswith("*Avancerat*")
    days = view["blocks"][ids.index("sched_days.0")]["element"]["options"]
    assert [o["text"]["text"] for o in days][:2] == ["Måndag", "Tisdag"]
    bot.slack.assert_no_violations()


def test_choices_become_the_schedule_and_it_reads_in_words(bot: Bot) -> None:
    bot.slack.set_channel(CHANNEL, is_member=True)
    response = submit(bot, schedule_values(["TH"], "every_other"))
    assert response.json() is None, response.body
    assert the_forum(bot).schedule_rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"
    announcement = bot.slack.wait_for("chat.postMessage")[0]
    assert "*Schema:* varannan torsdag 13:00–15:00" in json.dumps(
        announcement.args, ensure_ascii=False
    )
    # An English-speaking member reads it in English.
    bot.slack.set_user("U1", locale="en-US")
    bot.driver.command("forum", user="U1")
    opened = bot.slack.wait_for("views.open")[-1].args["view"]  # the coordinator's modal …
    by_id = {b.get("block_id"): b for b in opened["blocks"]}
    chosen = by_id["sched_repeat.0"]["element"]["initial_option"]["value"]
    assert chosen == "every_other"  # … shows the choices again
    bot.driver.app_home_opened(user="U1")
    home = bot.slack.wait_for("views.publish")[-1].args["view"]
    shown = json.dumps(home, ensure_ascii=False)
    # One clock in English: the schedule as the next meetings, 24-hour (no "1–3 pm").
    assert "every other Thursday 13:00–15:00" in shown and " pm" not in shown
    assert "Thursday" in shown and " 13:00, " in shown


def test_certain_weeks_of_the_month(bot: Bot) -> None:
    response = submit(bot, schedule_values(["TH"], "monthly", ["1", "3"]))
    assert response.json() is None, response.body
    assert the_forum(bot).schedule_rrule == "FREQ=MONTHLY;BYDAY=1TH,3TH"


def test_missing_choices_are_asked_for_on_their_own_fields(bot: Bot) -> None:
    body = submit(bot, schedule_values([])).json()
    assert body["response_action"] == "errors"
    assert "veckodag" in body["errors"]["sched_days.0"]
    body = submit(bot, schedule_values(["TH"], "monthly")).json()
    assert "veckor i månaden" in body["errors"]["sched_weeks.0"]
    with bot.sessions() as session:
        assert session.scalar(select(Forum)) is None


def test_an_rrule_under_advanced_wins_and_without_words_it_is_shown_as_it_is(
    bot: Bot,
) -> None:
    bot.slack.set_channel(CHANNEL, is_member=True)
    values = schedule_values(["TH"], "every", rrule="FREQ=MONTHLY;BYMONTHDAY=15")
    assert submit(bot, values).json() is None
    assert the_forum(bot).schedule_rrule == "FREQ=MONTHLY;BYMONTHDAY=15"
    announcement = json.dumps(bot.slack.wait_for("chat.postMessage")[0].args, ensure_ascii=False)
    assert "*Schema:* `FREQ=MONTHLY;BYMONTHDAY=15` 13:00–15:00" in announcement
    bot.driver.command("forum", user="U1")
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert by_id["rrule.0"]["element"]["initial_value"] == "FREQ=MONTHLY;BYMONTHDAY=15"
    assert "initial_options" not in by_id["sched_days.0"]["element"]
    bot.slack.assert_no_violations()


@pytest.mark.parametrize(
    ("locale", "typed", "expected"),
    [
        ("sv", "varannan torsdag", "Här går bara en regel i RRULE-form"),
        ("sv", "torsdagar 13-15", "välj veckodagar och hur ofta ovanför"),
        ("en", "every other thursday", "choose the weekdays and how often above"),
        ("sv", "FREQ=WEEKLY;BYDAY=TO", "ingen giltig schemaregel"),  # a typo in a rule
    ],
)
def test_words_typed_where_the_rule_goes_point_to_the_choices(
    bot: Bot, locale: str, typed: str, expected: str
) -> None:
    values = schedule_values(["TH"], "every_other", rrule=typed)
    response = bot.driver.view_submission(
        "forum_create",
        values,
        user="U1",
        private_metadata=json.dumps({"locale": locale, "channel_id": CHANNEL}),
        blocks=blocks_of(values),
    )
    errors = response.json()["errors"]
    assert expected in errors["rrule.0"], errors
    with bot.sessions() as session:
        assert session.scalar(select(Forum)) is None


@pytest.mark.parametrize(
    ("locale", "typed", "expected"),
    [
        # dateutil read a bare year as a day of it (today's day and month of 2027).
        ("sv", "FREQ=WEEKLY;BYDAY=TH;UNTIL=2027", "Skriv UNTIL som ett datum, ÅÅÅÅMMDD"),
        ("en", "FREQ=WEEKLY;BYDAY=TH;UNTIL=2027-06-30", "Write UNTIL as a date, YYYYMMDD"),
        ("sv", "FREQ=WEEKLY;BYDAY=TH;UNTIL=20271332", "Skriv UNTIL som ett datum"),
        # RFC 5545 forbids COUNT with UNTIL; dateutil took both.
        ("sv", "FREQ=WEEKLY;BYDAY=TH;COUNT=10;UNTIL=20271231", "COUNT eller UNTIL, inte båda"),
        ("en", "FREQ=WEEKLY;UNTIL=20271231;COUNT=10;BYDAY=TH", "COUNT or UNTIL, not both"),
    ],
)
def test_a_malformed_until_or_until_with_count_gets_a_field_error(
    bot: Bot, locale: str, typed: str, expected: str
) -> None:
    values = schedule_values(["TH"], rrule=typed)
    response = bot.driver.view_submission(
        "forum_create",
        values,
        user="U1",
        private_metadata=json.dumps({"locale": locale, "channel_id": CHANNEL}),
        blocks=blocks_of(values),
    )
    errors = response.json()["errors"]
    assert list(errors) == ["rrule.0"] and expected in errors["rrule.0"], errors
    with bot.sessions() as session:
        assert session.scalar(select(Forum)) is None


def test_until_as_a_date_is_taken(bot: Bot) -> None:
    bot.slack.set_channel(CHANNEL, is_member=True)
    values = schedule_values(["TH"], rrule="FREQ=WEEKLY;BYDAY=TH;UNTIL=20270630T120000Z")
    assert submit(bot, values).json() is None
    assert the_forum(bot).schedule_rrule == "FREQ=WEEKLY;BYDAY=TH;UNTIL=20270630T120000Z"


# --- the first meeting: which weeks "every other week" takes ---------------------------------


def _planned_days(bot: Bot) -> list[dt.date]:
    """The forum's planned meetings' days (Stockholm), after the planner's pass."""
    with transaction(bot.sessions) as session:
        meetings.sync_due_forums(session, bot.clock)
    with bot.sessions() as session:
        forum = the_forum(bot)
        starts = session.scalars(
            select(Meeting.starts_at)
            .where(Meeting.forum_id == forum.id, Meeting.status == MeetingStatus.PLANNED)
            .order_by(Meeting.starts_at)
        ).all()
    return [s.astimezone(STOCKHOLM).date() for s in starts]


def _thursdays_from_now(bot: Bot) -> list[dt.date]:
    # Weeks without a public holiday (the default calendar cancels julafton's meeting).
    bot.clock.set(dt.datetime(2027, 2, 1, 9, 0, tzinfo=dt.UTC))
    today = bot.clock.now().astimezone(STOCKHOLM).date()
    coming = today + dt.timedelta(days=(3 - today.weekday()) % 7 or 7)
    return [coming + dt.timedelta(weeks=n) for n in range(6)]


def with_first(values: dict[str, Any], first: dt.date | str | None) -> dict[str, Any]:
    values["first_meeting.0"] = {"value": date_value(first)}
    return values


def test_the_first_meeting_sets_the_weeks_of_an_every_other_week_forum(bot: Bot) -> None:
    thursdays = _thursdays_from_now(bot)
    # Without a first meeting the rule counts from the coming Thursday …
    assert submit(bot, with_first(schedule_values(["TH"], "every_other"), None)).json() is None
    assert _planned_days(bot)[:3] == thursdays[0:6:2][:3]
    # … and the coordinator moves the forum to its own weeks by the date of its first meeting.
    bot.driver.command("forum", user="U1")
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert any(b.get("block_id") == "first_meeting.0" for b in view["blocks"])
    values = with_first(schedule_values(["TH"], "every_other"), thursdays[1])
    response = bot.driver.view_submission(
        "forum_edit",
        values,
        user="U1",
        private_metadata=view["private_metadata"],
        blocks=blocks_of(values),
    )
    assert settings_saved(response), response.body
    assert the_forum(bot).schedule_anchor == thursdays[1]
    # Every planned meeting is in the chosen weeks: the other weeks' meetings are gone.
    assert _planned_days(bot)[:3] == [thursdays[1], thursdays[3], thursdays[5]]


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (dt.timedelta(days=-1), "inte på den dagen"),  # a Wednesday for a Thursday forum
        (dt.timedelta(weeks=60), "inom ett år"),
    ],
)
def test_a_first_meeting_off_the_schedule_gets_a_field_error(
    bot: Bot, offset: dt.timedelta, expected: str
) -> None:
    first = _thursdays_from_now(bot)[1] + offset
    body = submit(bot, with_first(schedule_values(["TH"], "every_other"), first)).json()
    assert body["response_action"] == "errors"
    assert expected in body["errors"]["first_meeting.0"]
    with bot.sessions() as session:
        assert session.scalar(select(Forum)) is None
