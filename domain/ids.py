"""The one reader for ids and whole numbers that come from a Slack client.

Button values, option values, block ids, private metadata and typed numbers are the client's
to craft. ``str.isdigit`` is no guard: it accepts ``"²"`` (``int`` refuses it) and ``"١٢"``
(``int`` reads 12), and a number past the INTEGER id columns makes PostgreSQL refuse the
query. Everything that reads such a number reads it here; None means "no such thing"."""

from __future__ import annotations

import re
from collections.abc import Iterable

# A row id at most: the ids a button or modal carries (forums, cases, actions, meetings …)
# are INTEGER columns; a larger number names no row (PostgreSQL refuses to compare it).
ID_MAX = 2**31 - 1

_ID_RE = re.compile(r"[0-9]{1,19}")


def id_value(value: str | None) -> int | None:
    """The id (or other whole number) in a button value, option or metadata field; None
    for anything else a crafted payload may carry: no digits, other scripts' digits
    (``"²"`` passes ``str.isdigit`` but not ``int``), a sign, or a number no database id
    can be."""
    if not value or not _ID_RE.fullmatch(value):
        return None
    number = int(value)
    return number if number <= ID_MAX else None


def id_values(values: Iterable[str]) -> list[int]:
    """The ids among chosen options; crafted ones are dropped."""
    return [n for n in map(id_value, values) if n is not None]


def year_value(word: str) -> int | None:
    """A year typed as four ASCII digits; None for anything else."""
    return id_value(word) if len(word) == 4 else None


ASCII_NUMBER = re.compile(r"[0-9]+")
"""Plainly a number (ASCII digits), however large: a value of ours whose id is past any row
is told as no such thing (id 0) rather than ignored as not ours."""
