"""Numbers that identify a person: chains of digit groups, personnummer and samordningsnummer
(Luhn, century, separators) and phone numbers (phonenumbers)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from itertools import accumulate, pairwise
from typing import Final

from domain.privacy.findings import MSGIDS, Finding

# --- chains of digit groups -----------------------------------------------------------------

# What may stand between two groups of digits of one number: spaces, dashes, slashes,
# underscores, commas, colons, dots, apostrophes, bars, brackets, "+" (at most 6 in a row).
_SEP_CHARS: Final = r"\s\-\u2010-\u2015\u2212/\\_,:.'\u2019\u00b4`\u00b7|()+*~"
_TIGHT_SEP_CHARS: Final = r"\-\u2010-\u2015\u2212/\\_,:."
_CHAIN_RE: Final = re.compile(rf"[0-9]+(?:[{_SEP_CHARS}]{{1,6}}[0-9]+)*")
_SPACE_RE: Final = re.compile(r"\s")
_WORD_RE: Final = re.compile(r"[^\W\d_]+")
# Hyphens and spaces (one or more), or a "+" glued to the digits on both sides.
_LOOSE_SEP_RE: Final = re.compile(r"[\s\-\u2010-\u2015\u2212]+|\+")
_UNIT_RE: Final = re.compile(r"\s?(?:kr\b|kronor|sek\b|:-|%|st\b|procent|mnkr|tkr)", re.IGNORECASE)


class _Chain:
    """Groups of digits (spans in the scanned text), what stands between them, their digits,
    and where each group's digits start (``offsets[k]``; the last entry is the digit count)."""

    __slots__ = ("_loose", "digits", "end_at", "groups", "has_plus", "offsets", "seps", "tight")

    def __init__(self, start: int, parts: Sequence[str]) -> None:
        """``parts``: the chain's text split into groups and separators (``_SPLIT_RE``),
        starting at ``start`` in the scanned text."""
        numbers = parts[0::2]
        self.seps = parts[1::2]
        self.tight = [_SPACE_RE.search(sep) is None for sep in self.seps]
        self.digits = "".join(numbers)
        self.offsets = [0, *accumulate(map(len, numbers))]
        self.end_at = {offset: k for k, offset in enumerate(self.offsets)}
        ends = list(accumulate(map(len, parts), initial=start))
        self.groups = list(zip(ends[0::2], ends[1::2], strict=False))
        self._loose: tuple[list[int], list[int]] | None = None
        self.has_plus = "+" in parts[1::2]  # a separator that is just "+"

    def loose(self, i: int, j: int) -> tuple[bool, int]:
        """Whether only hyphens and spaces (or a "+" glued to the digits) stand between
        groups ``i..j``, and how many of those are a "+". Counted once per chain."""
        if self._loose is None:
            other, pluses = [0], [0]
            for sep in self.seps:
                other.append(other[-1] + (_LOOSE_SEP_RE.fullmatch(sep) is None))
                pluses.append(pluses[-1] + (sep == "+"))
            self._loose = other, pluses
        other, pluses = self._loose
        return other[j] == other[i], pluses[j] - pluses[i]

    def reversed(self) -> _Chain:
        chain = _Chain.__new__(_Chain)
        chain.groups = self.groups[::-1]
        chain.seps = self.seps[::-1]
        chain.tight = self.tight[::-1]
        chain._loose = None
        chain.has_plus = self.has_plus
        numbers = [self.digits[a:b] for a, b in pairwise(self.offsets)][::-1]
        chain.digits = "".join(numbers)
        chain.offsets = [0, *accumulate(map(len, numbers))]
        chain.end_at = {offset: k for k, offset in enumerate(chain.offsets)}
        return chain


_SPLIT_RE: Final = re.compile(r"([^0-9]+)")


def _chains(text: str, min_digits: int) -> list[_Chain]:
    """The chains of ``text`` with at least ``min_digits`` digits."""
    chains: list[_Chain] = []
    for run in _CHAIN_RE.finditer(text):
        if run.end() - run.start() < min_digits:
            continue
        parts = _SPLIT_RE.split(run.group())
        if sum(map(len, parts[0::2])) >= min_digits:
            chains.append(_Chain(run.start(), parts))
    return chains


_TIME_SEPS: Final = (":", ".", "/", "-", "\u2013")


def _is_time(text: str, a: tuple[int, int], b: tuple[int, int], sep: str) -> bool:
    """Two groups that read as a time of day: ``13:00``, ``8.30``."""
    if sep not in (":", ".") or b[1] - b[0] != 2 or not 1 <= a[1] - a[0] <= 2:
        return False
    return int(text[a[0] : a[1]]) < 24 and int(text[b[0] : b[1]]) < 60


# --- personnummer and samordningsnummer ------------------------------------------------------


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(digits):
        v = (ord(ch) - 48) * (2 - i % 2)
        total += v - 9 if v > 9 else v
    return total % 10 == 0


@lru_cache(maxsize=4096)
def _pnr_kind(digits: str, plus: bool, today: date) -> str | None:
    """``"personnummer"``, ``"samordningsnummer"`` or ``None`` for YYMMDDNNNC or
    YYYYMMDDNNNC (``plus``: written with "+", 100 years or older)."""
    if len(digits) == 12:
        if digits[:2] not in ("19", "20"):
            return None
        year = int(digits[:4])
        digits = digits[2:]
    else:
        # The century the personnummer rules give as of ``today`` (not the wall clock): the
        # latest year ending in YY up to this year, or 100 years before it after a "+".
        base = today.year - 100 if plus else today.year
        year = base - (base - int(digits[:2])) % 100
    month, day = int(digits[2:4]), int(digits[4:6])
    coordination = day > 60
    if coordination:
        day -= 60
    try:
        born = date(year, month, day)
    except ValueError:
        return None
    if born > today or not _luhn(digits):
        return None  # nobody is born in the future: a date and a time, an order number …
    return "samordningsnummer" if coordination else "personnummer"


def _pnr_at(text: str, chain: _Chain, i: int, total: int, today: date) -> tuple[str, int] | None:
    """The kind and the last group of a personnummer of ``total`` digits starting at group
    ``i``, if there is one."""
    first = chain.offsets[i]
    k = chain.end_at.get(first + total)
    if k is None:
        return None  # not whole groups: part of a longer number
    month = chain.digits[first + total - 8 : first + total - 6]
    if not "01" <= month <= "12":
        return None  # the quick test that turns most runs of digits away
    j = k - 1
    if j + 1 < len(chain.groups) and chain.tight[j]:
        return None  # more of the same number follows: a serial or reference number
    date_len = total - 4
    boundary = chain.end_at.get(first + date_len)
    if boundary is None and j > i:
        # A group runs across the date and the last four: only with hyphens and spaces.
        return _loose_pnr_at(text, chain, i, j, total, today)
    # The 100-year separator: one "+" between the date and the last four, with or without
    # spaces around it ("170110+2384", "170110 + 2384").
    plus = boundary is not None and j > i and chain.seps[boundary - 1].strip() == "+"
    kind = _pnr_kind(chain.digits[first : first + total], plus, today)
    if kind is None and not chain.has_plus:
        return None  # (a "+" in the wrong place may give another century, see below)
    # The shape: the date whole, split at its parts or digit by digit; "+" only before the
    # last four of a 10-digit number; a date then a time of day is not a personnummer.
    cuts = [chain.offsets[g] - first for g in range(i + 1, j + 1)]
    inside = [c for c in cuts if c < date_len]
    digit_by_digit = len(inside) == date_len - 1  # "0-0-0-1-1-1 1905": no date is written so
    if any(c % 2 for c in inside) and not digit_by_digit:
        return _loose_pnr_at(text, chain, i, j, total, today)
    for g in range(i, j):
        if "+" in chain.seps[g] and not (plus and g + 1 == boundary and total == 10):
            # "17011+02384" is a misplaced "+"; so is any "+" in a 12-digit number
            return _loose_pnr_at(text, chain, i, j, total, today)
    if kind is None:
        return None
    return (kind, j) if _not_a_date_or_amount(text, chain, i, j, boundary, digit_by_digit) else None


def _loose_pnr_at(
    text: str, chain: _Chain, i: int, j: int, total: int, today: date
) -> tuple[str, int] | None:
    """A personnummer cut anywhere, only hyphens and spaces (one or more) between its groups,
    or one "+" glued to the digits of a 10-digit number: "1701-102384", "170 1102 384",
    "1701+102384" (the 100-year separator in the wrong place)."""
    loose, pluses = chain.loose(i, j)
    if not loose or pluses > 1 or (pluses and total != 10):
        return None
    first = chain.offsets[i]
    kind = _pnr_kind(chain.digits[first : first + total], pluses == 1, today)
    if kind is None:
        return None
    boundary = chain.end_at.get(first + total - 4)
    return (kind, j) if _not_a_date_or_amount(text, chain, i, j, boundary, False) else None


def _not_a_date_or_amount(
    text: str, chain: _Chain, i: int, j: int, boundary: int | None, digit_by_digit: bool
) -> bool:
    """Whether groups ``i..j`` (a valid number) are not a time range, a date then a time,
    an amount or a number then a date."""
    for g in range(i, j - 2):
        if (
            chain.seps[g + 1].strip() in ("-", "\u2013")
            and _is_time(text, chain.groups[g], chain.groups[g + 1], chain.seps[g].strip())
            and _is_time(text, chain.groups[g + 2], chain.groups[g + 3], chain.seps[g + 2].strip())
        ):
            return False  # a time range: "00:05-02:00 1/1", "8.30–10.00"
    if boundary is not None and j == boundary + 1 and not chain.tight[boundary - 1]:
        (a, b), (c, d) = chain.groups[boundary], chain.groups[j]
        if (
            b - a == 2
            and chain.seps[boundary] in _TIME_SEPS
            and int(text[a:b]) <= 31
            and int(text[c:d]) <= 59
        ):
            return False  # a date, then a time, hours or a day: "2026-12-03 13:00", "… 10-12"
    if _UNIT_RE.match(text, chain.groups[j][1]):
        return False  # an amount: "811218,9876 kr"
    if j - i >= 3 and chain.seps[j - 3] != chain.seps[j - 2] and not digit_by_digit:
        year = int(text[chain.groups[j][0] : chain.groups[j][1]])
        if 1900 <= year <= 2100 and _has_date(text, chain, j - 2, j, year_first=False):
            return False  # a number, then a date: "v. 38 09-06-2015"
    return True


def _find_personnummer(text: str, chains: Sequence[_Chain], today: date) -> list[Finding]:
    found: list[Finding] = []
    for chain in chains:
        groups, tight, digits, offsets, end_at = (
            chain.groups,
            chain.tight,
            chain.digits,
            chain.offsets,
            chain.end_at,
        )
        for i in range(len(groups)):
            if i and tight[i - 1]:
                continue  # glued to an earlier number: part of a reference or a date
            first = offsets[i]
            for total in (12, 10):
                # The quick tests first: whole groups, and a month 01-12.
                if first + total not in end_at:
                    continue
                if not "01" <= digits[first + total - 8 : first + total - 6] <= "12":
                    continue
                hit = _pnr_at(text, chain, i, total, today)
                if hit is not None:
                    kind, j = hit
                    start = min(groups[i][0], groups[j][0])  # reversed chains too
                    end = max(groups[i][1], groups[j][1])
                    found.append(Finding(kind, start, end, MSGIDS[kind]))
                    break
    return found


# --- phone numbers --------------------------------------------------------------------------

# Where a phone number may start: "+", "(0" or "0", not glued to a word or to an earlier
# number ("FOS-2026-017", "2026-01-05"). The run goes on across separators and short words.
_BARRIER_HINT_RE: Final = re.compile(r"[:.+a-zåäö]")
_UNIT_WORDS: Final = "kr|sek|st|tkr|mnkr|procent|kronor|år|dagar|veckor|timmar|min"
_WORD_GAP: Final = rf"[.,:;]?\s+(?:(?!(?:{_UNIT_WORDS})\b)[a-zåäö]{{1,6}}[.,:;]?\s+){{1,2}}"
_PHONE_RUN_RE: Final = re.compile(
    rf"(?:\+ ?(?=[0-9])|\((?=0)|0(?<![\w+]0)(?<![0-9][{_TIGHT_SEP_CHARS}]0))[0-9]*"
    rf"(?:(?:[{_SEP_CHARS}]{{1,6}}|{_WORD_GAP})[0-9]+)*"
)


@lru_cache(maxsize=4096)
def _valid_phone(number: str) -> bool:
    """``number``: national digits starting with 0, or "+" and the international digits."""
    # Imported here, on the first phone-like number: phonenumbers is ~1.2 MB of RSS and 59
    # modules in every worker and runner, and most texts have no such number (issue 18).
    import phonenumbers

    try:
        parsed = phonenumbers.parse(number, "SE")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed)


def _has_date(text: str, chain: _Chain, i: int, j: int, *, year_first: bool = True) -> bool:
    """Whether groups ``i..j`` hold a date written with dashes, slashes or dots:
    ``05-01-2026``, ``5/1/2026``, and (``year_first``) ``2026-01-05``."""
    groups, seps = chain.groups, chain.seps
    for k in range(i, j - 1):
        if not (chain.tight[k] and seps[k] == seps[k + 1] and seps[k] in "-/."):
            continue
        (a, b), (c, d), (e, f) = groups[k : k + 3]
        if f - e == 4 and 1 <= b - a <= 2 and 1 <= d - c <= 2:  # day, month, year
            day, month = int(text[a:b]), int(text[c:d])
        elif year_first and b - a == 4 and d - c == 2 and f - e == 2:  # year, month, day
            month, day = int(text[c:d]), int(text[e:f])
        else:
            continue
        if 1 <= day <= 31 and 1 <= month <= 12:
            return True
    return False


def _find_phones(text: str) -> list[Finding]:
    found: list[Finding] = []
    for run in _PHONE_RUN_RE.finditer(text):
        parts = _SPLIT_RE.split(run.group().lstrip("+( "))
        if sum(map(len, parts[0::2])) < 7:
            continue
        chain = _Chain(run.end() - sum(map(len, parts)), parts)
        groups = chain.groups
        # No number runs across a time of day ("08:30"), a "+" or more than two words.
        n = len(groups)
        barriers = [0] * n
        words = [0] * n
        if _BARRIER_HINT_RE.search(run.group(), 1):
            for k, sep in enumerate(chain.seps):
                barrier = "+" in sep or (
                    sep in (":", ".") and _is_time(text, groups[k], groups[k + 1], sep)
                )
                barriers[k + 1] = barriers[k] + barrier
                words[k + 1] = words[k] + (len(_WORD_RE.findall(sep)) if len(sep) > 2 else 0)
        digits, offsets, tight, seps = chain.digits, chain.offsets, chain.tight, chain.seps
        i = 0
        while i < n:
            if i and (tight[i - 1] or digits[offsets[i]] != "0") and not seps[i - 1].endswith("+"):
                i += 1  # glued to the number before, or no "0" or "+" to start with
                continue
            start = groups[i][0]
            if digits.startswith("000", offsets[i]):
                i += 1  # no area or country code starts with 0
                continue
            plus = text[max(0, start - 2) : start].rstrip().endswith("+") if start else False
            best = _phone_end(text, chain, i, plus, barriers, words)
            if best < 0:
                i += 1
                continue
            if plus:
                start = text.rindex("+", 0, start)
            elif start > 0 and text[start - 1] == "(":
                start -= 1  # "(08) 123 456 78"
            found.append(Finding("phone", start, groups[best][1], MSGIDS["phone"]))
            i = best + 1
    return found


def _phone_end(
    text: str, chain: _Chain, i: int, plus: bool, barriers: list[int], words: list[int]
) -> int:
    """The last group of the longest phone number starting at group ``i``, or -1."""
    first = chain.offsets[i]
    digits = chain.digits
    international = plus or digits.startswith("00", first)
    # A country code or an area code never starts with 0.
    lead = first if plus else first + 2 if international else first + 1
    if digits[lead : lead + 1] in ("", "0"):
        return -1
    for total in range(15 if international else 10, 6, -1):
        k = chain.end_at.get(first + total)
        if k is None:
            continue
        j = k - 1
        if barriers[j] != barriers[i] or words[j] - words[i] > 2:
            continue
        number = digits[first : first + total]
        if plus:
            number = "+" + number
        elif international:
            number = "+" + number[2:]
        if (
            _valid_phone(number)
            and not _has_date(text, chain, i, j)
            and not _UNIT_RE.match(text, chain.groups[j][1])
        ):
            return j
    return -1
