"""E-mail addresses and street addresses with a postcode."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from typing import Final

from domain.privacy.findings import MSGIDS, Finding

# --- e-mail addresses -----------------------------------------------------------------------

# One pass: the name (possessive, so a long run of letters is read once), the "@" or what
# stands for it ("(at)", "[at]", "snabel-a", " at "), the domain. A name glued to "@" may have
# a domain without a top-level domain ("namn@skola"); any other form needs one ("skola.se",
# "skola dot se", "skola (punkt) se").
_DOT: Final = r"(?:\.|\s*[\(\[\{<]\s*(?:dot|punkt)\s*[\)\]\}>]\s*|\s+(?:dot|punkt)\s+)"
_LABEL: Final = r"[^\W_](?:[\w-]{0,62}[^\W_])?"
_EMAIL_RE: Final = re.compile(
    r"(?<![\w.%+-])(?P<local>[\w.%+-]{1,64}+)"
    r"(?:(?P<glued>@)|\s*@\s*|\s*[\(\[\{<]\s*(?:at|a|snabel-?a)\s*[\)\]\}>]\s*"
    r"|\s+(?:at|snabel-?a)\s+)"
    rf"(?P<domain>{_LABEL}(?:{_DOT}{_LABEL})*)(?![\w@-])",
    re.IGNORECASE,
)
_DOTTED_RE: Final = re.compile(rf"{_DOT}[^\W\d_]{{2,24}}\Z", re.IGNORECASE)


_AT_WORD_RE: Final = re.compile(r"\s(?:at|snabel-?a)(?!\w)", re.IGNORECASE)
_AT_BRACKET_RE: Final = re.compile(r"[\(\[\{<]\s*[aA]")


def _find_emails(text: str) -> list[Finding]:
    if "@" not in text and _AT_WORD_RE.search(text) is None and not _AT_BRACKET_RE.search(text):
        return []  # nothing that stands for "@"
    found: list[Finding] = []
    for m in _EMAIL_RE.finditer(text):
        if not any(c.isalnum() for c in m.group("local")):
            continue
        if not m.group("glued") and _DOTTED_RE.search(m.group("domain")) is None:
            continue  # "Fråga @Kim", "punkt (a) och": no domain
        found.append(Finding("email", m.start(), m.end(), MSGIDS["email"]))
    return found


# --- street addresses -----------------------------------------------------------------------

_STREET_SUFFIXES: Final = (
    "gatan",
    "gata",
    "vägen",
    "väg",
    "gränden",
    "gränd",
    "stigen",
    "stig",
    "backen",
    "backe",
    "torget",
    "torg",
    "allén",
    "allé",
    "platsen",
    "leden",
    "stråket",
    "gången",
    "kajen",
    "slingan",
)
# Abbreviated street words, written with a dot: "Storg.", "Storgat.", "Kvarnv.", "Kvarnvg.".
_STREET_ABBREVIATIONS: Final = ("g.", "gt.", "gat.", "v.", "vg.", "vä.", "gr.", "pl.", "all.")
# A house number ("12", "3B", "3 b") after a space (or a dot); the word before is checked.
_HOUSE_NUMBER_RE: Final = re.compile(
    r"(?:[ .] *[0-9]{1,4}|[0-9](?<=[a-zåäé][0-9])[0-9]{0,3})(?:[ ]?[A-Za-z](?!\w))?(?![0-9])"
)
_STREET_WORD_RE: Final = re.compile(r"(?<![\w-])[^\W\d_][\w-]*\.?\Z")

# Swedish postcodes run 100 00 – 984 99, written "NNN NN" or "NNNNN", optionally after "SE-".
# Five-digit amounts ("35000 kr") and percentages are not postcodes.
_POSTCODE_RE: Final = re.compile(
    r"[1-9][0-9]{2} ?[0-9]{2}(?![0-9])(?! ?(?:kr\b|kronor|sek\b|:-|%|st\b|procent))",
    re.IGNORECASE,
)
_POSTCODE_PREFIX_RE: Final = re.compile(r"SE-? ?\Z", re.IGNORECASE)


def _find_postcodes(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for m in _POSTCODE_RE.finditer(text):
        start = m.start()
        prefix = _POSTCODE_PREFIX_RE.search(text, max(0, start - 4), start)
        if prefix:
            start = prefix.start()
            if start > 0 and (text[start - 1].isalnum() or text[start - 1] == "-"):
                continue
        elif start > 0 and (text[start - 1].isalnum() or text[start - 1] in "-+"):
            continue  # part of a longer number or code
        spans.append((start, m.end()))
    return spans


def _street_word(word: str) -> bool:
    lower = word.lower()
    if lower.endswith(_STREET_SUFFIXES):
        return lower.rstrip(".") not in _STREET_SUFFIXES  # "vägen 3" is no street name
    if not word[:1].isupper() or lower.endswith("dag."):
        return False  # abbreviated street names are proper nouns; "Tisdag." is a day
    return any(
        lower.endswith(abbreviation) and len(lower) - len(abbreviation) >= 3
        for abbreviation in _STREET_ABBREVIATIONS
    )


def _find_streets(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for m in _HOUSE_NUMBER_RE.finditer(text):
        anchor = m.start() + (1 if text[m.start()] == "." else 0)
        before = text[max(0, anchor - 40) : anchor]
        word = _STREET_WORD_RE.search(before)
        if word is None or not _street_word(word.group()):
            continue
        if not word.group().endswith(".") and text[m.start()] == ".":
            continue
        spans.append((anchor - len(before) + word.start(), m.end()))
    return spans


def _find_addresses(text: str, taken: Sequence[Finding]) -> list[Finding]:
    """Streets with a postcode in the same text; neither may lie on a ``taken`` finding."""
    postcodes = _find_postcodes(text)
    if not postcodes:
        return []
    claimed = _Claimed(len(text))
    for f in taken:
        claimed.mark(f.start, f.end)
    postcodes = [p for p in postcodes if claimed.free(*p)]
    starts = [p[0] for p in postcodes]
    found: list[Finding] = []
    for street in _find_streets(text) if postcodes else []:
        if not claimed.free(*street):
            continue
        # The nearest postcode that is not part of the street (its house number).
        k = bisect_left(starts, street[0])
        near = [p for p in postcodes[max(0, k - 2) : k + 3] if not _overlaps(*p, *street)]
        if not near:
            continue
        postcode = min(near, key=lambda p: _distance(p, street))
        start, end = min(street[0], postcode[0]), max(street[1], postcode[1])
        found.append(Finding("address", start, end, MSGIDS["address"]))
    return found


class _Claimed:
    """Which characters of a text findings already cover (linear in the covered length)."""

    __slots__ = ("_marks",)

    def __init__(self, length: int) -> None:
        self._marks = bytearray(length + 1)

    def mark(self, start: int, end: int) -> None:
        self._marks[start:end] = b"\x01" * (end - start)

    def free(self, start: int, end: int) -> bool:
        return self._marks.find(1, start, end) < 0


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def _distance(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(a[0] - b[1], b[0] - a[1], 0)
