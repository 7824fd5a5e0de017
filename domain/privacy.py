"""Privacy guard: refuse free text that contains what looks like personal data.

Every free-text field a user types passes through here before anything is stored or sent
(and the storage edge checks again, see :mod:`domain.privacy_wall`). The guard looks for:

* Swedish personal identity numbers (personnummer) and coordination numbers
  (samordningsnummer, day + 60), 10 or 12 digits, validated (a real date, not after
  ``today``, and the Luhn check digit); a 12-digit form starts with 19 or 20;
* Swedish (and international, written with ``+`` or ``00``) phone numbers, validated with
  ``phonenumbers``;
* e-mail addresses, also disguised (``namn(at)skola.se``, ``namn @ skola.se``,
  ``namn [at] skola [dot] se``, ``namn snabel-a skola punkt se``, ``namn@skola``);
* a street address (a street name with a common Swedish suffix, also abbreviated, like
  ``Storg.`` or ``Kvarnv.``, and a house number) together with a Swedish postcode in the same
  text. A street alone or a postcode alone is allowed.

Before scanning, the text is normalised, so disguises do not hide a number:

1. Unicode NFKC (full-width digits and dashes, no-break and thin spaces …), every Unicode
   decimal digit (Arabic-Indic, Devanagari, …) to 0–9, invisible format characters removed
   (zero-width space and joiners, soft hyphen, bidi controls …);
2. a right-to-left override (U+202E) shows its text reversed: such text is scanned in the
   order it is shown as well as the order it was typed; in right-to-left text (Hebrew,
   Arabic, RLE/RLI) the groups of a number are read in both orders;
3. letters that stand for digits inside a run of digits (``O``/``o`` for 0, ``l``/``I`` for
   1), when the run is not part of a word;
4. digits separated by any short run of separators (spaces, ``- – — / _ , : . ' | ( )``) are
   one *chain* of digit groups. A personnummer is a window of whole groups of the chain with
   10 or 12 digits: the date in one group or split at its parts (``12 03 15``, ``2012-03-15``,
   ``19 81 12 18``) or digit by digit, the last four in any groups; a window glued (no space)
   to more numbers of the same chain is a reference or a serial number, not a personnummer
   (``12-1981-12-18-9876``, ``1981-12-18-9876-2``). Phone numbers are read from the same
   chains, also across one or two short words (``070 ring 123 45 67``).

What passes (false positives stay rare): dates and times (``2026-12-03 13:00``: a date then a
time of day is never a personnummer), date and time ranges, case references (FOS-2026-017),
amounts (``12 500 kr``, ``811218,9876 kr``), week numbers, school classes, article and
organisation numbers, a birth date after ``today``, a sum (``811218 + 9876``: a ``+`` with
spaces around it is not the 100-year separator).

Every step is linear in the length of the text (a 100 kB text takes a few milliseconds, see
``bench/privacy_guard.py``), and every ``Finding`` points into the text as typed.

Only the standard library, ``phonenumbers`` and the domain errors are used: this module must
never depend on Slack or storage.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import accumulate, pairwise
from typing import Final

import phonenumbers

from domain.errors import IdentifyingDataRefused
from domain.i18n import N_

__all__ = [
    "MSGIDS",
    "Finding",
    "check_fields",
    "check_text",
    "find_identifying",
]

MSGIDS: Final[Mapping[str, str]] = {
    "personnummer": N_(
        "This looks like a personal identity number (personnummer): please remove it and use "
        "the case reference and non-identifying text instead."
    ),
    "samordningsnummer": N_(
        "This looks like a coordination number (samordningsnummer): please remove it and use "
        "the case reference and non-identifying text instead."
    ),
    "phone": N_(
        "This looks like a phone number: please remove it and use the case reference and "
        "non-identifying text instead."
    ),
    "email": N_(
        "This looks like an e-mail address: please remove it and use the case reference and "
        "non-identifying text instead."
    ),
    "address": N_(
        "This looks like a street address with a postcode: please remove it and use the case "
        "reference and non-identifying text instead."
    ),
}


@dataclass(frozen=True)
class Finding:
    """One piece of identifying data found in a text."""

    kind: str  # "personnummer" | "samordningsnummer" | "phone" | "email" | "address"
    start: int  # span in the text: text[start:end]
    end: int
    msgid: str  # English sentence, N_()-marked, translated by the caller


# --- normalisation --------------------------------------------------------------------------

# Characters removed before scanning: format characters (Unicode category Cf: soft hyphen,
# zero-width space and joiners, direction marks and overrides, word joiner, byte order mark …,
# as of Unicode 15.1) and the other invisible default-ignorable marks (combining grapheme
# joiner, Hangul fillers, Mongolian and other variation selectors).
_IGNORABLE_RE: Final = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]"
)
# Characters normalisation might change or remove: all but ASCII, the Latin-1 letters (À–ÿ)
# and the common typographic dashes, quotes, bullets, euro and minus signs, which are all
# normalised already. Text without any is scanned as it is.
_SAFE: Final = r"\x00-\x7f\u00c0-\u00ff\u2010\u2012-\u2016\u2018-\u2023\u20ac\u2212"
_SPECIAL_RE: Final = re.compile(rf"[^{_SAFE}]")
_SPECIALS_RE: Final = re.compile(rf"[^{_SAFE}]+")
_LATIN1_SPECIALS: Final = bytes(range(0x80, 0xC0))  # the same for Latin-1 text, as bytes


class _OneForOne(dict[int, int | str]):
    """``str.translate`` table for characters replaced by exactly one other character, so every
    offset is kept: the common characters NFKC replaces one for one (no-break and thin
    spaces, the non-breaking hyphen, superscript digits, full-width ASCII …), built at import,
    and every Unicode decimal digit (Arabic-Indic, Devanagari, Thai …) to its ASCII digit,
    looked up the first time a character is seen and remembered (so the table never has to
    hold all of Unicode)."""

    def __missing__(self, code: int) -> int | str:
        value = unicodedata.decimal(chr(code), None)
        result: int | str = str(value) if value is not None and code > 0x7F else code
        self[code] = result
        return result


def _one_for_one() -> _OneForOne:
    table = _OneForOne()
    for code in (*range(0xA0, 0xC0), *range(0x2000, 0x2070), 0x3000, *range(0xFF01, 0xFF5F)):
        char = chr(code)
        normalised = unicodedata.normalize("NFKC", char)
        if (
            len(normalised) == 1
            and normalised != char
            and not unicodedata.combining(normalised)
            and not _IGNORABLE_RE.match(normalised)
        ):
            table[code] = normalised
    return table


_ONE_FOR_ONE: Final = _one_for_one()
_PASTED: Final = tuple(
    (chr(code), str(_ONE_FOR_ONE[code])) for code in (0xA0, 0x2009, 0x202F, 0x2011)
)


def _has_specials(text: str) -> bool:
    """``_SPECIAL_RE.search(text) is not None``, quicker for the usual ASCII or Latin-1 text."""
    if text.isascii():
        return False
    try:
        encoded = text.encode("latin-1")
    except UnicodeEncodeError:
        return _SPECIAL_RE.search(text) is not None
    return len(encoded.translate(None, _LATIN1_SPECIALS)) != len(encoded)


class _View:
    """A normalised text and where each of its characters came from in the text as typed:
    the same position (no map), a list of segments (stretches copied as they were, and
    normalised clusters whose every character stands for the whole cluster), or a start and
    an end per character (text shown reversed)."""

    __slots__ = ("_ends", "_segments", "_starts", "_text_starts", "text")

    def __init__(
        self,
        text: str,
        *,
        segments: tuple[list[int], list[tuple[int, int, bool]]] | None = None,
        starts: Sequence[int] | None = None,
        ends: Sequence[int] | None = None,
    ) -> None:
        self.text = text
        self._text_starts, self._segments = segments or ([], [])
        self._starts, self._ends = starts, ends

    def origin(self, pos: int) -> tuple[int, int]:
        """The original characters the character at ``pos`` was made from."""
        if self._starts is not None and self._ends is not None:
            return self._starts[pos], self._ends[pos]
        if not self._segments:
            return pos, pos + 1
        i = bisect_right(self._text_starts, pos) - 1
        orig_start, orig_end, copied = self._segments[i]
        if copied:
            at = orig_start + pos - self._text_starts[i]
            return at, at + 1
        return orig_start, orig_end

    def back(self, start: int, end: int) -> tuple[int, int]:
        """The span ``[start, end)`` in the text as typed: every original character it was made
        from, including invisible characters inside it."""
        if self._starts is not None and self._ends is not None:
            return min(self._starts[start:end]), max(self._ends[start:end])
        if not self._segments:
            return start, end
        return self.origin(start)[0], self.origin(end - 1)[1]


def _normalise(text: str) -> _View:
    """``text`` in NFKC with ASCII digits and the invisible characters removed."""
    if not _has_specials(text):
        return _View(text)
    # One character for another keeps every offset. str.replace is quickest for the usual
    # ones in text pasted from a word processor, str.translate does the rest.
    for char, replacement in _PASTED:
        text = text.replace(char, replacement)
    if _SPECIAL_RE.search(text) is None:
        return _View(text)
    text = text.translate(_ONE_FOR_ONE)
    if _SPECIAL_RE.search(text) is None:
        return _View(text)
    parts: list[str] = []
    text_starts: list[int] = []
    segments: list[tuple[int, int, bool]] = []
    length = 0  # of the normalised text so far

    def add(part: str, start: int, end: int, *, copied: bool) -> None:
        nonlocal length
        if part:
            text_starts.append(length)
            segments.append((start, end, copied))
            parts.append(part)
            length += len(part)

    def cluster(start: int, end: int) -> None:
        part = _IGNORABLE_RE.sub("", text[start:end])
        add(_IGNORABLE_RE.sub("", unicodedata.normalize("NFKC", part)), start, end, copied=False)

    done = 0  # text[:done] is in parts
    for run in _SPECIALS_RE.finditer(text):
        first, last = run.start(), run.end()
        if first > 0 and unicodedata.combining(text[first]):
            first -= 1  # the letter a combining mark belongs to ("a" + "\u0308")
        if _IGNORABLE_RE.search(text, first, last) is None and unicodedata.is_normalized(
            "NFKC", text[first:last]
        ):
            continue  # "é", "–", "”", "😀" …: nothing to change, copied with what surrounds it
        add(text[done:first], done, first, copied=True)
        # One cluster (a character and the combining marks after it) at a time, so every
        # character of the result maps back to the characters it came from.
        head = end = -1  # the current cluster: text[head:end]
        for i in range(first, last):
            if _IGNORABLE_RE.match(text, i):
                continue
            if head >= 0 and not unicodedata.combining(text[i]):
                cluster(head, end)
                head = -1
            if head < 0:
                head = i
            end = i + 1
        if head >= 0:
            cluster(head, end)
        done = last
    if done == 0:
        return _View(text)
    add(text[done:], done, len(text), copied=True)
    return _View("".join(parts), segments=(text_starts, segments))


# A right-to-left override shows its text reversed, up to the pop (PDF) or the paragraph's end.
_RLO_RE: Final = re.compile("\u202e([^\u202c\n]*)")
# Text in which digit groups may be shown in the other order: right-to-left letters (Hebrew,
# Arabic …), Arabic-Indic digits, right-to-left marks, embeddings and isolates.
_RTL_RE: Final = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe\u200f\u202b\u202e\u2067"
    "\U00010800-\U00010fff\U0001e800-\U0001efff]"
)


def _shown(text: str) -> _View | None:
    """``text`` as it is shown when it holds a right-to-left override (each overridden run
    reversed), normalised, mapped back to the text as typed; ``None`` without an override."""
    if "\u202e" not in text:
        return None
    chars = list(text)
    order = list(range(len(text)))
    for run in _RLO_RE.finditer(text):
        start, end = run.span(1)
        chars[start:end] = chars[start:end][::-1]
        order[start:end] = order[start:end][::-1]
    view = _normalise("".join(chars))
    starts = array("l")
    ends = array("l")
    for pos in range(len(view.text)):
        start, end = view.origin(pos)
        first, last = order[start], order[end - 1]
        starts.append(min(first, last))
        ends.append(max(first, last) + 1)
    return _View(view.text, starts=starts, ends=ends)


# Letters typed for digits inside a run of digits: O/o for 0, l/I for 1 (same length, so the
# offsets stay). Only where the run is not glued to other letters ("Olle", "Ola12" stay).
_LOOKALIKES: Final = str.maketrans("OolI", "0011")
_LOOKALIKE_RUN_RE: Final = re.compile(r"[0-9]+[OolI][0-9OolI]*|[OolI]+[0-9][0-9OolI]*")
_LOOKALIKE_HINT_RE: Final = re.compile(r"[0-9](?:(?<=[OolI][0-9])|(?=[OolI]))")


def _digits_for_lookalikes(text: str) -> str:
    if _LOOKALIKE_HINT_RE.search(text) is None:
        return text
    out: list[str] | None = None
    n = len(text)
    for run in _LOOKALIKE_RUN_RE.finditer(text):
        start, end = run.span()
        if (start > 0 and text[start - 1].isalpha()) or (end < n and text[end].isalpha()):
            continue  # part of a word
        if out is None:
            out = list(text)
        out[start:end] = run.group().translate(_LOOKALIKES)
    return text if out is None else "".join(out)


# --- chains of digit groups -----------------------------------------------------------------

# What may stand between two groups of digits of one number: spaces, dashes, slashes,
# underscores, commas, colons, dots, apostrophes, bars, brackets, "+" (at most 6 in a row).
_SEP_CHARS: Final = r"\s\-\u2010-\u2015\u2212/\\_,:.'\u2019\u00b4`\u00b7|()+*~"
_TIGHT_SEP_CHARS: Final = r"\-\u2010-\u2015\u2212/\\_,:."
_CHAIN_RE: Final = re.compile(rf"[0-9]+(?:[{_SEP_CHARS}]{{1,6}}[0-9]+)*")
_SPACE_RE: Final = re.compile(r"\s")
_WORD_RE: Final = re.compile(r"[^\W\d_]+")
_UNIT_RE: Final = re.compile(r"\s?(?:kr\b|kronor|sek\b|:-|%|st\b|procent|mnkr|tkr)", re.IGNORECASE)


class _Chain:
    """Groups of digits (spans in the scanned text), what stands between them, their digits,
    and where each group's digits start (``offsets[k]``; the last entry is the digit count)."""

    __slots__ = ("digits", "end_at", "groups", "offsets", "seps", "tight")

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

    def reversed(self) -> _Chain:
        chain = _Chain.__new__(_Chain)
        chain.groups = self.groups[::-1]
        chain.seps = self.seps[::-1]
        chain.tight = self.tight[::-1]
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
        return None  # a group runs across the date and the last four
    plus = boundary is not None and j > i and chain.seps[boundary - 1] == "+"
    kind = _pnr_kind(chain.digits[first : first + total], plus, today)
    if kind is None:
        return None
    # The shape: the date whole, split at its parts or digit by digit; "+" only before the
    # last four of a 10-digit number; a date then a time of day is not a personnummer.
    cuts = [chain.offsets[g] - first for g in range(i + 1, j + 1)]
    inside = [c for c in cuts if c < date_len]
    if any(c % 2 for c in inside) and len(inside) != date_len - 1:
        return None
    for g in range(i, j):
        if "+" in chain.seps[g] and not (plus and g + 1 == boundary and total == 10):
            return None  # "811218 + 9876" is a sum
    for g in range(i, j - 2):
        if (
            chain.seps[g + 1].strip() in ("-", "\u2013")
            and _is_time(text, chain.groups[g], chain.groups[g + 1], chain.seps[g].strip())
            and _is_time(text, chain.groups[g + 2], chain.groups[g + 3], chain.seps[g + 2].strip())
        ):
            return None  # a time range: "00:05-02:00 1/1", "8.30–10.00"
    if boundary is not None and j == boundary + 1 and not chain.tight[boundary - 1]:
        (a, b), (c, d) = chain.groups[boundary], chain.groups[j]
        if (
            b - a == 2
            and chain.seps[boundary] in _TIME_SEPS
            and int(text[a:b]) <= 31
            and int(text[c:d]) <= 59
        ):
            return None  # a date, then a time, hours or a day: "2026-12-03 13:00", "… 10-12"
    if _UNIT_RE.match(text, chain.groups[j][1]):
        return None  # an amount: "811218,9876 kr"
    digit_by_digit = len(inside) == date_len - 1  # "0-0-0-1-1-1 1905": no date is written so
    if j - i >= 3 and chain.seps[j - 3] != chain.seps[j - 2] and not digit_by_digit:
        year = int(text[chain.groups[j][0] : chain.groups[j][1]])
        if 1900 <= year <= 2100 and _has_date(text, chain, j - 2, j, year_first=False):
            return None  # a number, then a date: "v. 38 09-06-2015"
    return kind, j


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


# --- public API -----------------------------------------------------------------------------

_PRIORITY: Final[Mapping[str, int]] = {
    "personnummer": 0,
    "samordningsnummer": 0,
    "email": 1,
    "phone": 2,
}


def _scan(view: _View, today: date, *, rtl: bool) -> list[Finding]:
    """Findings in one view of the text, spans in the text as typed."""
    text = view.text
    scanned = _digits_for_lookalikes(text)
    chains = _chains(scanned, 10)
    found = _find_personnummer(scanned, chains, today)
    if rtl:
        found += _find_personnummer(scanned, [c.reversed() for c in chains], today)
    found += _find_phones(scanned)
    found += _find_emails(text)
    found += _find_addresses(scanned, found)
    result: list[Finding] = []
    for f in found:
        start, end = view.back(f.start, f.end)
        result.append(Finding(f.kind, start, end, f.msgid))
    return result


def find_identifying(text: str, *, today: date | None = None) -> list[Finding]:
    """Every piece of identifying data in ``text``, in text order.

    Where two detectors claim the same characters the stronger reading wins
    (personnummer/samordningsnummer, then e-mail, then phone), so for example a personnummer
    is never also reported as a phone number. An address (street to postcode) never overlaps
    the other findings' characters with its street or postcode, but may enclose one.

    ``today`` (default: the system date) decides the century of a 10-digit personnummer and
    which birth dates lie in the future.
    """
    if not text:
        return []
    if today is None:
        today = date.today()
    rtl = _RTL_RE.search(text) is not None
    # What a reader sees first (a right-to-left override reversed), then the text as typed.
    shown = _shown(text)
    views = [_normalise(text)] if shown is None else [shown, _normalise(text)]
    candidates: list[Finding] = []
    for view in views:
        # Groups read in the other order only where the text as typed is scanned.
        candidates += _scan(view, today, rtl=rtl and view is views[-1])
    accepted: list[Finding] = []
    claimed = _Claimed(len(text))
    addresses: dict[tuple[int, int], Finding] = {}
    for finding in sorted(candidates, key=lambda f: (_PRIORITY.get(f.kind, 3), f.start, -f.end)):
        if finding.kind == "address":
            addresses.setdefault((finding.start, finding.end), finding)
        elif claimed.free(finding.start, finding.end):
            claimed.mark(finding.start, finding.end)
            accepted.append(finding)
    accepted.extend(addresses.values())
    accepted.sort(key=lambda f: (f.start, f.end))
    return accepted


def check_text(text: str | None, *, field: str, today: date | None = None) -> None:
    """Raise :class:`IdentifyingDataRefused` for the first finding in ``text``.

    ``None`` and the empty string pass. ``today`` as for :func:`find_identifying`.
    """
    if not text:
        return
    findings = find_identifying(text, today=today)
    if findings:
        raise IdentifyingDataRefused(findings[0].msgid, field=field)


def check_fields(fields: Mapping[str, str | None], *, today: date | None = None) -> dict[str, str]:
    """``{field: msgid}`` for every field with a finding, so a modal can show them all at once.

    An empty dict means every field is clean. ``today`` as for :func:`find_identifying`; the
    system date is read once for all fields.
    """
    if today is None:
        today = date.today()
    errors: dict[str, str] = {}
    for field, text in fields.items():
        if not text:
            continue
        findings = find_identifying(text, today=today)
        if findings:
            errors[field] = findings[0].msgid
    return errors
