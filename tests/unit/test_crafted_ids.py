"""Ids in button values, options and private metadata come from the client: a crafted one
that is no id (another script's digits, a number past any database id) is read as no id,
so the domain answers "not found" instead of the database driver failing."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.errors import InputErrors
from domain.ids import year_value
from domain.logreview import LogFilter
from domain.ratings import check_settings
from domain.schedule_words import pick_of
from handlers.forms import id_value
from handlers.metadata import ID_MAX, ViewMeta


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42),
        ("0", 0),
        (str(ID_MAX), ID_MAX),
        (str(ID_MAX + 1), None),  # past INTEGER: PostgreSQL refused the query before
        ("9" * 40, None),
        ("²", None),  # str.isdigit() is true, int() fails
        ("٣", None),  # Arabic-Indic digit
        ("-1", None),
        (" 7", None),
        ("", None),
        (None, None),
        ("12abc", None),
    ],
)
def test_an_id_from_the_client_is_a_plain_number_in_range(
    raw: str | None, expected: int | None
) -> None:
    assert id_value(raw) == expected


def test_metadata_with_an_id_out_of_range_is_read_as_no_metadata() -> None:
    assert ViewMeta.load('{"forum_id": 5, "meeting_id": 7}').meeting_id == 7
    crafted = ViewMeta.load(f'{{"forum_id": {ID_MAX + 1}, "meeting_id": 7}}')
    assert crafted.forum_id is None and crafted.meeting_id is None
    assert ViewMeta.load('{"forum_id": -3}').forum_id is None


def test_a_year_is_four_ascii_digits() -> None:
    assert year_value("2026") == 2026
    assert [year_value(w) for w in ("²²²²", "٢٠٢٦", "026", "20266", "-202")] == [None] * 5


def test_rating_settings_with_crafted_numbers_are_field_errors_not_a_crash() -> None:
    """'²' passed str.isdigit and int() raised: the settings modal answered nothing."""
    with pytest.raises(InputErrors) as caught:
        check_settings(
            cadence="every",
            days_before="²",
            deadline_days_before=str(2**31),
            deadline_time=dt.time(12, 0),
            reminder_hours=["²", "24"],
        )
    assert set(caught.value.errors) == {"days_before", "deadline_days"}


def test_a_schedule_interval_in_other_digits_is_no_rule() -> None:
    assert pick_of("FREQ=WEEKLY;INTERVAL=²;BYDAY=TH") is None
    assert pick_of("FREQ=WEEKLY;INTERVAL=1;BYDAY=TH") is not None


def test_a_crafted_agency_in_a_log_filter_is_no_agency() -> None:
    """The log review's filter travels in a button value: 'user|agency|reference|start|end'."""
    assert LogFilter.decode(f"U1|{2**31}|||").agency_id is None
    assert LogFilter.decode("U1|²|||") == LogFilter(user="U1")
    assert LogFilter.decode("U1|7|||").agency_id == 7
