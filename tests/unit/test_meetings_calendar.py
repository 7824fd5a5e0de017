"""Meeting planning with Swedish holidays, agenda times across DST, and agenda splitting."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from domain.agenda import Agenda, AgendaLine
from domain.calendar import ForumCalendar, HolidayPolicy, check_calendar, day_off, holiday_name
from domain.errors import InvalidInput
from domain.i18n import Translator
from domain.meetings import agenda_due, plan
from domain.schedule import Schedule
from handlers.blocks.agenda import agenda_messages, split
from storage.models import AgendaItemKind, MeetingStatus

STHLM = zoneinfo.ZoneInfo("Europe/Stockholm")
THURSDAYS = Schedule(
    "FREQ=WEEKLY;BYDAY=TH", dt.time(13), 120, "Europe/Stockholm", dt.date(2026, 1, 1)
)
MONDAYS = Schedule("FREQ=WEEKLY;BYDAY=MO", dt.time(9), 60, "Europe/Stockholm", dt.date(2026, 1, 5))


def days(
    schedule: Schedule, calendar: ForumCalendar, start: dt.date, end: dt.date
) -> list[tuple[dt.date, MeetingStatus]]:
    after = dt.datetime.combine(start, dt.time(0), tzinfo=STHLM)
    until = dt.datetime.combine(end, dt.time(0), tzinfo=STHLM)
    return [(p.starts_at.date(), p.status) for p in plan(schedule, calendar, after, until)]


def test_ascension_day_is_skipped_by_default() -> None:
    planned = days(THURSDAYS, ForumCalendar(), dt.date(2027, 5, 1), dt.date(2027, 5, 20))
    assert planned == [
        (dt.date(2027, 5, 6), MeetingStatus.CANCELLED),
        (dt.date(2027, 5, 13), MeetingStatus.PLANNED),
    ]


@pytest.mark.parametrize(
    ("policy", "moved_to"),
    [(HolidayPolicy.EARLIER, dt.date(2027, 5, 5)), (HolidayPolicy.LATER, dt.date(2027, 5, 7))],
)
def test_a_holiday_meeting_moves_to_the_next_working_day_in_its_direction(
    policy: HolidayPolicy, moved_to: dt.date
) -> None:
    planned = plan(
        THURSDAYS,
        ForumCalendar(holiday_policy=policy),
        dt.datetime(2027, 5, 1, tzinfo=STHLM),
        dt.datetime(2027, 5, 10, tzinfo=STHLM),
    )
    assert [(p.starts_at, p.holiday) for p in planned] == [
        (dt.datetime.combine(moved_to, dt.time(13), tzinfo=STHLM), dt.date(2027, 5, 6))
    ]
    # The occurrence it came from stays its key.
    assert planned[0].occurrence == dt.datetime(2027, 5, 6, 13, tzinfo=STHLM)


def test_easter_monday_moves_past_the_weekend_and_good_friday() -> None:
    calendar = ForumCalendar(holiday_policy=HolidayPolicy.EARLIER)
    planned = days(MONDAYS, calendar, dt.date(2027, 3, 23), dt.date(2027, 3, 30))
    # Easter Monday 29 March 2027; Good Friday 26 March; the working day before is Thursday.
    assert planned == [(dt.date(2027, 3, 25), MeetingStatus.PLANNED)]
    # Planned from the Saturday on, that Thursday has passed: no meeting in the past.
    planned = days(MONDAYS, calendar, dt.date(2027, 3, 27), dt.date(2027, 3, 30))
    assert planned == [(dt.date(2027, 3, 29), MeetingStatus.CANCELLED)]


def test_de_facto_days_off_are_the_forums_choice() -> None:
    christmas_eve = dt.date(2026, 12, 24)
    assert day_off(christmas_eve, ForumCalendar())
    assert not day_off(christmas_eve, ForumCalendar(extra_days_off=frozenset()))
    assert not day_off(dt.date(2026, 12, 23), ForumCalendar())
    # Sundays are not "holidays" for planning (the package counts them unless told not to).
    assert not day_off(dt.date(2026, 11, 29), ForumCalendar())
    assert holiday_name(dt.date(2027, 5, 6), "sv") == "Kristi himmelsfärdsdag"
    assert holiday_name(christmas_eve, "sv") == "Julafton"
    assert holiday_name(christmas_eve, "en") == "Christmas Eve"


def test_a_moved_meeting_never_lands_on_another_meeting_day() -> None:
    daily = Schedule(
        "FREQ=WEEKLY;BYDAY=WE,TH", dt.time(10), 60, "Europe/Stockholm", dt.date(2027, 1, 6)
    )
    planned = days(
        daily,
        ForumCalendar(holiday_policy=HolidayPolicy.EARLIER),
        dt.date(2027, 5, 3),
        dt.date(2027, 5, 8),
    )
    assert planned == [
        (dt.date(2027, 5, 5), MeetingStatus.PLANNED),
        (dt.date(2027, 5, 4), MeetingStatus.PLANNED),  # Thursday the 6th → Tuesday
    ]


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (dt.date(2027, 3, 25), 7),  # CET
        (dt.date(2027, 4, 1), 6),  # CEST, after the last Sunday of March
        (dt.date(2027, 10, 28), 6),  # CEST
        (dt.date(2027, 11, 4), 7),  # CET, after the last Sunday of October
    ],
)
def test_the_agenda_is_due_at_eight_local_whatever_the_offset(day: dt.date, utc_hour: int) -> None:
    start = dt.datetime.combine(day, dt.time(13), tzinfo=STHLM)
    assert agenda_due(start, ForumCalendar(), STHLM) == dt.datetime.combine(
        day, dt.time(utc_hour), tzinfo=dt.UTC
    )


def test_an_agenda_days_before_is_due_that_morning() -> None:
    start = dt.datetime(2027, 4, 1, 13, tzinfo=STHLM)
    due = agenda_due(start, ForumCalendar(agenda_days_before=1), STHLM)
    assert due == dt.datetime(2027, 3, 31, 8, tzinfo=STHLM)


def test_agenda_days_before_count_working_days_skipping_weekends_and_days_off() -> None:
    one, two = ForumCalendar(agenda_days_before=1), ForumCalendar(agenda_days_before=2)
    monday = dt.datetime(2027, 3, 8, 9, tzinfo=STHLM)
    assert agenda_due(monday, one, STHLM) == dt.datetime(2027, 3, 5, 8, tzinfo=STHLM)  # Fri
    assert agenda_due(monday, two, STHLM) == dt.datetime(2027, 3, 4, 8, tzinfo=STHLM)  # Thu
    # Friday 7 May 2027, the day after Ascension Day: Wednesday.
    friday = dt.datetime(2027, 5, 7, 13, tzinfo=STHLM)
    assert agenda_due(friday, one, STHLM) == dt.datetime(2027, 5, 5, 8, tzinfo=STHLM)
    # Monday 27 December 2027: Christmas Eve (Friday) is a day off the forum keeps (the
    # default), so Thursday; a forum that works on Christmas Eve gets it then.
    monday = dt.datetime(2027, 12, 27, 13, tzinfo=STHLM)
    assert agenda_due(monday, one, STHLM) == dt.datetime(2027, 12, 23, 8, tzinfo=STHLM)
    works = ForumCalendar(agenda_days_before=1, extra_days_off=frozenset())
    assert agenda_due(monday, works, STHLM) == dt.datetime(2027, 12, 24, 8, tzinfo=STHLM)


def test_calendar_choices_are_checked_on_their_fields() -> None:
    with pytest.raises(InvalidInput) as exc:
        check_calendar(
            dt.time(13),
            holiday_policy="sometimes",
            extra_days_off=[],
            agenda_time=None,
            agenda_days_before=0,
        )
    assert exc.value.field == "holidays"
    with pytest.raises(InvalidInput) as exc:
        check_calendar(
            dt.time(13),
            holiday_policy="skip",
            extra_days_off=[],
            agenda_time=dt.time(2, 30),
            agenda_days_before=0,
        )
    assert exc.value.field == "agenda_time"
    with pytest.raises(InvalidInput) as exc:
        check_calendar(
            dt.time(7),
            holiday_policy="skip",
            extra_days_off=[],
            agenda_time=dt.time(8),
            agenda_days_before=0,
        )
    assert exc.value.field == "agenda_time"
    ok = check_calendar(
        dt.time(7),
        holiday_policy="later",
        extra_days_off=["julafton?", "christmas_eve"],
        agenda_time=dt.time(8),
        agenda_days_before=1,
    )
    assert ok.extra_days_off == frozenset({"christmas_eve"})


def agenda(lines: int) -> Agenda:
    return Agenda(
        team_id="T1",
        channel_id="C1",
        forum_id=1,
        forum_name="FOSSAM",
        locale="sv",
        timezone="Europe/Stockholm",
        meeting_id=1,
        starts_at=dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 11, 26, 14, tzinfo=dt.UTC),
        status=MeetingStatus.PLANNED,
        lines=tuple(
            AgendaLine(
                item_id=n,
                kind=AgendaItemKind.OTHER if n % 2 else AgendaItemKind.NEW_CASE,
                position=n,
                agencies=("Grundskola",),
                reference=None if n % 2 else f"FOS-2026-{n:03d}",
                text=f"Punkt {n}" if n % 2 else None,
            )
            for n in range(lines)
        ),
    )


def test_a_long_agenda_splits_into_messages_of_at_most_fifty_blocks() -> None:
    messages = agenda_messages(Translator("sv"), agenda(130))
    assert len(messages) == 3
    assert all(len(m["blocks"]) <= 50 for m in messages)
    text = str(messages)
    assert all(f"Punkt {n}" in text for n in range(1, 130, 2))
    assert "forts. 2/3" in messages[1]["text"]


def test_a_section_title_is_never_left_last_in_a_message() -> None:
    title = {"type": "section", "text": {"type": "mrkdwn", "text": "*5. Övriga frågor*"}}
    item = {"type": "section", "text": {"type": "mrkdwn", "text": "x\ny"}}
    chunks = split([item] * 49 + [title, item, item], limit=50)
    assert [len(c) for c in chunks] == [49, 3]
    assert chunks[1][0] is title


def test_a_short_agenda_is_one_message_with_every_section() -> None:
    (message,) = agenda_messages(Translator("sv"), agenda(2))
    text = str(message)
    for title in (
        "1. Nya ärenden",
        "2. Ärenden för uppföljning",
        "4. Insatser",
        "5. Övriga frågor",
    ):
        assert title in text
    assert "3. Lägesbild" in text  # shown by default (show_picture_section)
    (without,) = agenda_messages(Translator("sv"), agenda(2), show_picture_section=False)
    assert "Lägesbild" not in str(without)
    assert "3. Insatser" in str(without)  # numbered as shown
