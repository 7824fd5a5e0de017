"""Ids in button values, options and private metadata come from the client: a crafted one
that is no id (another script's digits, a number past any database id) is read as no id,
so the domain answers "not found" instead of the database driver failing."""

from __future__ import annotations

import pytest

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
