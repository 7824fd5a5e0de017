"""Rating rounds without Slack: when rounds open, close and remind (working days, daytime),
the settings, and the compact picture Block Kit (also used by the agenda)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from domain.errors import InputErrors
from domain.i18n import Locale, Translator
from domain.ratings import (
    AreaPicture,
    Cadence,
    FormRow,
    Picture,
    RatingForm,
    RatingSettings,
    check_settings,
    median_of,
    rating_settings,
    reminder_times,
    round_times,
)
from handlers.blocks.charts import heatmap_png, trend_png
from handlers.blocks.ratings import picture_blocks, picture_message, rating_modal
from sandbox.webapi import validate_message, validate_view
from storage.models import Forum, Meeting, RatingRound

STHLM = zoneinfo.ZoneInfo("Europe/Stockholm")


def forum(**settings: object) -> Forum:
    return Forum(timezone="Europe/Stockholm", settings=dict(settings), name="OSF", code="OSF")


def local(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=STHLM).astimezone(dt.UTC)


def round_with(deadline: dt.datetime, opens: dt.datetime | None = None) -> RatingRound:
    return RatingRound(deadline_at=deadline, opens_at=opens or deadline - dt.timedelta(days=6))


@pytest.fixture(params=["sv", "en"])
def t(request: pytest.FixtureRequest) -> Translator:
    locale: Locale = request.param
    return Translator(locale)


def test_a_round_opens_five_days_ahead_moved_to_a_working_day_and_closes_the_day_before() -> None:
    meeting = Meeting(starts_at=local(2026, 12, 3, 13, 0))
    opens, deadline = round_times(forum(), meeting, rating_settings(forum()))
    # Saturday 28 November is no working day: the round opens on Friday morning.
    assert opens == local(2026, 11, 27, 8, 0)
    assert deadline == local(2026, 12, 2, 12, 0)


def test_a_deadline_on_a_public_holiday_moves_to_the_working_day_before() -> None:
    # Wednesday 6 January 2027 is trettondedag jul.
    meeting = Meeting(starts_at=local(2027, 1, 7, 13, 0))
    _, deadline = round_times(forum(), meeting, rating_settings(forum()))
    assert deadline == local(2027, 1, 5, 12, 0)


def test_reminders_never_fall_on_a_weekend_a_holiday_or_at_night() -> None:
    # 48 hours before Tuesday noon is Sunday: Monday 07:00 instead.
    assert reminder_times(forum(), round_with(local(2026, 12, 1, 12, 0)))[0] == local(
        2026, 11, 30, 7, 0
    )
    # 24 hours before Thursday 7 January 2027 is trettondedag jul: Thursday 07:00 instead.
    f = forum(rating_reminder_hours=[24])
    assert reminder_times(f, round_with(local(2027, 1, 7, 12, 0))) == [local(2027, 1, 7, 7, 0)]
    # Two hours before a 07:00 deadline is night; the next morning would be too late, so the
    # reminder goes the evening before (Friday, as Monday's night follows a weekend).
    f = forum(rating_reminder_hours=[2])
    assert reminder_times(f, round_with(local(2026, 11, 30, 7, 0))) == [local(2026, 11, 27, 20, 0)]
    # A reminder that would come before the round opened is dropped.
    assert reminder_times(
        forum(), round_with(local(2026, 12, 2, 12, 0), local(2026, 12, 1, 9, 0))
    ) == [local(2026, 12, 2, 10, 0)]
    for moment in reminder_times(forum(), round_with(local(2026, 12, 24, 12, 0))):
        day = moment.astimezone(STHLM)
        assert day.weekday() < 5 and 7 <= day.hour < 21 and day.date() != dt.date(2026, 12, 24)


def test_settings_default_to_the_brief_and_refuse_bad_choices() -> None:
    assert rating_settings(forum()) == RatingSettings(Cadence.NONE, 5, 1, dt.time(12), (48, 2))
    odd = forum(situation_picture="sometimes", rating_days_before=99, rating_reminder_hours="x")
    assert rating_settings(odd) == RatingSettings()
    with pytest.raises(InputErrors) as caught:
        check_settings(
            cadence="every",
            days_before="2",
            deadline_days_before="3",
            deadline_time=dt.time(23, 0),
            reminder_hours=["5"],
        )
    assert set(caught.value.errors) == {"deadline_days", "deadline_time", "reminders"}
    ok = check_settings(
        cadence="chosen",
        days_before="7",
        deadline_days_before="1",
        deadline_time=dt.time(9, 0),
        reminder_hours=["2", "24"],
    )
    assert ok == RatingSettings(Cadence.CHOSEN, 7, 1, dt.time(9, 0), (24, 2))


def test_the_median_comes_from_level_counts() -> None:
    assert median_of({}) is None
    assert median_of({1: 1, 3: 1}) == 2.0
    assert median_of({2: 3, 5: 1}) == 2.0


def big_picture(areas: int = 40, agencies: int = 12) -> Picture:
    names = tuple(f"Verksamhet {n}" for n in range(agencies))
    rows = tuple(
        AreaPicture(
            area_id=n,
            name=f"Område {n}",
            levels=tuple(((n + a) % 5) + 1 if a % 4 else None for a in range(agencies)),
            highest=(n % 5) + 1,
            median=2.5,
            count=agencies - 3,
            disagreement=n % 2 == 0,
            trend=("up", "down", "same", None)[n % 4],
            history=(1.0, 2.0, None, 3.0),
        )
        for n in range(areas)
    )
    return Picture(
        round_id=1,
        forum_id=1,
        forum_name="OSF",
        forum_code="OSF",
        meeting_id=1,
        meeting_start=local(2026, 11, 26, 13, 0),
        deadline_at=local(2026, 11, 25, 12, 0),
        closed_at=local(2026, 11, 25, 12, 0),
        timezone="Europe/Stockholm",
        agencies=names,
        areas=rows,
        missing=names[:2],
        away=names[2:3],
    )


def test_the_picture_stays_compact_for_forty_areas(t: Translator) -> None:
    blocks = picture_blocks(t, big_picture())
    assert len(blocks) <= 20
    assert validate_message({"channel": "C1", "blocks": blocks, "text": "x"}) == []
    text = str(blocks)
    assert "Verksamhet 0" in text  # missing agencies are named
    assert validate_message({"channel": "C1", **picture_message(t, big_picture(50, 50))}) == []
    assert len(picture_blocks(t, big_picture(50, 50))) <= 20


def test_the_rating_modal_pages_forty_areas_within_the_limits(t: Translator) -> None:
    form = RatingForm(
        round_id=1,
        agency_id=1,
        agency_name="Polis",
        forum_name="OSF",
        meeting_start=local(2026, 11, 26, 13, 0),
        deadline_at=local(2026, 11, 25, 12, 0),
        timezone="Europe/Stockholm",
        rows=tuple(FormRow(n, f"Område {n}", None, None, (n % 5) + 1) for n in range(40)),
        answered_by=None,
    )
    for page in range(3):
        view = rating_modal(t, form, page=page, private_metadata="{}")
        assert len(view["blocks"]) <= 100
        assert validate_view(view) == []


def test_the_images_are_pngs_for_a_large_forum(t: Translator) -> None:
    picture = big_picture(50, 50)
    assert heatmap_png(t, picture).startswith(b"\x89PNG")
    assert trend_png(t, picture).startswith(b"\x89PNG")
