"""Frozen copy of the privacy guard as it was on main before issue #14 (commit 858f99f):
the baseline that ``bench/privacy_guard.py`` measures the new guard against. Do not edit."""

# ruff: noqa

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Final

import phonenumbers
from personnummer import personnummer  # type: ignore[import-untyped,unused-ignore]

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


# --- patterns -------------------------------------------------------------------------------
# Patterns start with a plain character class (ASCII digits, spaces) where they can, so the
# regex engine skips quickly through ordinary prose; a clean 3000-character text is checked in
# a few hundred microseconds.

_DASHES: Final = "\u2010-\u2015\u2212"  # typographic dashes word processors put in for "-"
_SPACES: Final = " \u00a0\u2009\u202f"  # space, no-break space, thin spaces

_HYPHENS: Final = f"-{_DASHES}"  # "-" first: a literal inside a character class

# Characters removed before scanning: format characters (Unicode category Cf: soft hyphen,
# zero-width space and joiners, direction marks, word joiner, byte order mark …, as of
# Unicode 15.1) and the other invisible default-ignorable marks (combining grapheme joiner,
# Hangul fillers, Mongolian and other variation selectors).
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


def _one_for_one() -> dict[int, str]:
    """The common characters NFKC replaces by one other character (no-break and thin spaces,
    the non-breaking hyphen, superscript digits, full-width ASCII …): ``str.translate`` does
    these at C speed and keeps every offset."""
    table: dict[int, str] = {}
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
_PASTED: Final = tuple((chr(code), _ONE_FOR_ONE[code]) for code in (0xA0, 0x2009, 0x202F, 0x2011))

# A personnummer is never in the middle of a longer run of digits. Either
# * 6 digits (YYMMDD) or 8 (YYYYMMDD), an optional separator, 4 digits. "+" means 100 years or
#   older. A hyphen or dash may have a space or two either side ("811218 - 9876"); a "+" with
#   spaces around it is a sum, not a separator; or
# * the date written with dashes, YY-MM-DD-NNNN or YYYY-MM-DD-NNNN, the same hyphen or dash
#   inside the date, no spaces; not part of a longer dashed chain of numbers
#   ("12-2019-05-14-…", "…-1234-5"), which is a reference, not a personnummer.
# One pattern for both, so the text is scanned once; its first digit is outside the groups.
_PNR_RE: Final = re.compile(
    r"[0-9](?<![0-9]{2})(?:"
    r"(?P<date>[0-9]{5}(?:[0-9]{2})?)"
    rf"(?P<sep>[{_SPACES}]{{0,2}}[{_HYPHENS}][{_SPACES}]{{0,2}}|\+|[{_SPACES}])?"
    r"(?P<last>[0-9]{4})"
    rf"|(?<![0-9][{_HYPHENS}][0-9])"
    rf"(?P<dashed_date>[0-9](?:[0-9]{{2}})?(?P<dash>[{_HYPHENS}])[0-9]{{2}}(?P=dash)[0-9]{{2}})"
    rf"[{_HYPHENS}](?P<dashed_last>[0-9]{{4}})(?![{_HYPHENS}][0-9])"
    r")(?![0-9])"
)

_EMAIL_RE: Final = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])")

# A run of characters a written phone number is made of (at least 7 long).
_PHONE_RUN_RE: Final = re.compile(rf"[+(0-9][0-9{_SPACES}().\-/{_DASHES}]{{6,}}")
# Where a Swedish-region phone number can start: "+", "(0", "0" or "46" after a non-digit.
# phonenumbers (leniency VALID, region SE) never accepts a number starting otherwise.
_PHONE_START_RE: Final = re.compile(r"(?:^|[^0-9])(?:\+|\(?0|46)")
_PHONE_CONTEXT: Final = 8  # characters either side the matcher sees (time stamps, letters)
_PHONE_MIN_DIGITS: Final = 7

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
# A house number ("12", "3B", "3 b") after a space; the word before it is checked separately.
_HOUSE_NUMBER_RE: Final = re.compile(
    rf"[{_SPACES}]+[0-9]{{1,4}}(?:[{_SPACES}]?[A-Za-z](?!\w))?(?![0-9])"
)
_STREET_WORD_RE: Final = re.compile(r"(?<![\w-])[^\W\d_][\w-]*\Z")

# Swedish postcodes run 100 00 – 984 99, written "NNN NN" or "NNNNN", optionally after "SE-".
# Five-digit amounts ("35000 kr") and percentages are not postcodes.
_POSTCODE_RE: Final = re.compile(
    rf"[1-9][0-9]{{2}}[{_SPACES}]?[0-9]{{2}}(?![0-9])"
    rf"(?![{_SPACES}]?(?:kr\b|kronor|sek\b|:-|%|st\b|procent))",
    re.IGNORECASE,
)
_POSTCODE_PREFIX_RE: Final = re.compile(rf"SE-?[{_SPACES}]?\Z", re.IGNORECASE)

_PRIORITY: Final[Mapping[str, int]] = {
    "personnummer": 0,
    "samordningsnummer": 0,
    "email": 1,
    "phone": 2,
}


# --- detectors ------------------------------------------------------------------------------


def _find_personnummer(text: str, today: date) -> list[Finding]:
    found: list[Finding] = []
    for m in _PNR_RE.finditer(text):
        first = text[m.start()]
        if m.group("date"):
            date_digits, last = first + m.group("date"), m.group("last")
        else:
            date_digits = first + "".join(c for c in m.group("dashed_date") if c.isdigit())
            last = m.group("dashed_last")
        kind = _pnr_kind(date_digits, m.group("sep") == "+", last, today)
        if kind:
            found.append(Finding(kind, m.start(), m.end(), MSGIDS[kind]))
    return found


def _pnr_kind(date_digits: str, plus: bool, last: str, today: date) -> str | None:
    """``"personnummer"``, ``"samordningsnummer"`` or ``None`` for YYMMDD or YYYYMMDD, the
    separator (``plus``: "+", 100 years or older) and the last four digits."""
    if len(date_digits) == 8:
        if date_digits[:2] not in ("19", "20"):
            return None
        full = date_digits
    else:
        # The century the personnummer rules give as of ``today`` (not the wall clock): the
        # latest year ending in YY up to this year, or 100 years before it after a "+".
        base = today.year - 100 if plus else today.year
        full = f"{base - (base - int(date_digits[:2])) % 100:04d}{date_digits[2:]}"
    try:
        number = personnummer.parse(full + last)
        if number.get_date() > today:
            return None  # nobody is born in the future: a date and a time, an order number …
    except (personnummer.PersonnummerException, ValueError):
        return None
    return "samordningsnummer" if number.is_coordination_number() else "personnummer"


def _find_emails(text: str) -> list[Finding]:
    if "@" not in text:
        return []
    return [Finding("email", m.start(), m.end(), MSGIDS["email"]) for m in _EMAIL_RE.finditer(text)]


def _could_be_phone(chars: str) -> bool:
    """Whether a run of digits and punctuation has a possible phone start with enough digits
    after it, so dates, times, amounts and year ranges never reach the (slow) matcher."""
    for start in _PHONE_START_RE.finditer(chars):
        if sum(c.isdigit() for c in chars[start.start() :]) >= _PHONE_MIN_DIGITS:
            return True
    return False


def _find_phones(text: str) -> list[Finding]:
    found: list[Finding] = []
    for run in _PHONE_RUN_RE.finditer(text):
        if not _could_be_phone(run.group()):
            continue
        # Let phonenumbers judge the run with a little context (letters glued to the number,
        # a ":00" after it that makes it a time stamp …); offsets are relative to the window.
        offset = max(0, run.start() - _PHONE_CONTEXT)
        window = text[offset : run.end() + _PHONE_CONTEXT]
        matcher = phonenumbers.PhoneNumberMatcher(
            window, "SE", leniency=phonenumbers.Leniency.VALID
        )
        for match in matcher:
            start, end = match.start + offset, match.end + offset
            if phonenumbers.is_valid_number(match.number) and not any(
                f.start == start for f in found
            ):
                found.append(Finding("phone", start, end, MSGIDS["phone"]))
    return found


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


def _find_streets(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for m in _HOUSE_NUMBER_RE.finditer(text):
        before = text[max(0, m.start() - 40) : m.start()]
        if not before.lower().endswith(_STREET_SUFFIXES):
            continue
        word = _STREET_WORD_RE.search(before)
        if word is None or word.group().lower() in _STREET_SUFFIXES:
            continue  # "vägen 3" is not a street name, "Kvarnvägen 3" is
        spans.append((m.start() - len(before) + word.start(), m.end()))
    return spans


def _find_addresses(text: str, taken: list[Finding]) -> list[Finding]:
    postcodes = [
        p for p in _find_postcodes(text) if not any(_overlaps(*p, f.start, f.end) for f in taken)
    ]
    if not postcodes:
        return []
    found: list[Finding] = []
    for street in _find_streets(text):
        if any(_overlaps(*street, f.start, f.end) for f in taken):
            continue
        others = [p for p in postcodes if not _overlaps(*p, *street)]
        if not others:
            continue
        postcode = min(others, key=lambda p: _distance(p, street))
        start, end = min(street[0], postcode[0]), max(street[1], postcode[1])
        found.append(Finding("address", start, end, MSGIDS["address"]))
    return found


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def _distance(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(a[0] - b[1], b[0] - a[1], 0)


# --- public API -----------------------------------------------------------------------------


class _OffsetMap:
    """Positions in the normalised text back to positions in the original text.

    The normalised text is a sequence of segments: stretches copied as they were (the offset
    inside them is kept) and single normalised characters or clusters (every character of
    the result stands for the whole cluster).
    """

    __slots__ = ("_norm_starts", "_segments")

    def __init__(self) -> None:
        self._norm_starts: list[int] = []
        self._segments: list[tuple[int, int, bool]] = []  # original start, end, copied as is

    def add(self, norm_start: int, orig_start: int, orig_end: int, *, copied: bool) -> None:
        self._norm_starts.append(norm_start)
        self._segments.append((orig_start, orig_end, copied))

    def start(self, pos: int) -> int:
        i = bisect_right(self._norm_starts, pos) - 1
        orig_start, _, copied = self._segments[i]
        return orig_start + pos - self._norm_starts[i] if copied else orig_start

    def end(self, pos: int) -> int:
        """The original end of a span ending (exclusive) at ``pos`` > 0."""
        i = bisect_right(self._norm_starts, pos - 1) - 1
        orig_start, orig_end, copied = self._segments[i]
        return orig_start + pos - self._norm_starts[i] if copied else orig_end


def _has_specials(text: str) -> bool:
    """``_SPECIAL_RE.search(text) is not None``, quicker for the usual ASCII or Latin-1 text."""
    if text.isascii():
        return False
    try:
        encoded = text.encode("latin-1")
    except UnicodeEncodeError:
        return _SPECIAL_RE.search(text) is not None
    return len(encoded.translate(None, _LATIN1_SPECIALS)) != len(encoded)


def _normalise(text: str) -> tuple[str, _OffsetMap | None]:
    """``text`` in NFKC with the invisible characters removed, and the map from positions in
    the result back to ``text`` (``None`` when every character stayed where it was)."""
    if not _has_specials(text):
        return text, None
    # One character for another keeps every offset. str.replace is quickest for the usual
    # ones in text pasted from a word processor, str.translate does the rest.
    for char, replacement in _PASTED:
        text = text.replace(char, replacement)
    if _SPECIAL_RE.search(text) is None:
        return text, None
    text = text.translate(_ONE_FOR_ONE)
    if _SPECIAL_RE.search(text) is None:
        return text, None
    parts: list[str] = []
    offsets = _OffsetMap()
    length = 0  # of the normalised text so far

    def add(start: int, end: int, *, copied: bool) -> None:
        nonlocal length
        if copied:
            part = text[start:end]
        else:
            part = _IGNORABLE_RE.sub("", text[start:end])
            part = _IGNORABLE_RE.sub("", unicodedata.normalize("NFKC", part))
        if part:
            offsets.add(length, start, end, copied=copied)
            parts.append(part)
            length += len(part)

    done = 0  # text[:done] is in parts
    for run in _SPECIALS_RE.finditer(text):
        first, last = run.start(), run.end()
        if first > 0 and unicodedata.combining(text[first]):
            first -= 1  # the letter a combining mark belongs to ("a" + "\u0308")
        if _IGNORABLE_RE.search(text, first, last) is None and unicodedata.is_normalized(
            "NFKC", text[first:last]
        ):
            continue  # "é", "–", "”" …: nothing to change, copied with what surrounds it
        add(done, first, copied=True)
        # One cluster (a character and the combining marks after it) at a time, so every
        # character of the result maps back to the characters it came from.
        cluster = end = -1  # the current cluster: text[cluster:end]
        for i in range(first, last):
            if _IGNORABLE_RE.match(text, i):
                continue
            if cluster >= 0 and not unicodedata.combining(text[i]):
                add(cluster, end, copied=False)
                cluster = -1
            if cluster < 0:
                cluster = i
            end = i + 1
        if cluster >= 0:
            add(cluster, end, copied=False)
        done = last
    if done == 0:
        return text, None
    add(done, len(text), copied=True)
    return "".join(parts), offsets


def find_identifying(text: str, *, today: date | None = None) -> list[Finding]:
    """Every piece of identifying data in ``text``, in text order.

    Where two detectors claim the same characters the stronger reading wins
    (personnummer/samordningsnummer, then e-mail, then phone), so for example a personnummer
    is never also reported as a phone number. The street and the postcode of an address never
    overlap another finding, but the address span (street to postcode) may enclose one.

    ``today`` (default: the system date) decides the century of a 10-digit personnummer and
    which birth dates lie in the future.
    """
    if not text:
        return []
    if today is None:
        today = date.today()
    scanned, offsets = _normalise(text)
    accepted: list[Finding] = []
    candidates = _find_personnummer(scanned, today) + _find_emails(scanned) + _find_phones(scanned)
    for finding in sorted(candidates, key=lambda f: (_PRIORITY[f.kind], f.start)):
        if not any(_overlaps(finding.start, finding.end, a.start, a.end) for a in accepted):
            accepted.append(finding)
    # An address span runs from the street to its postcode and may enclose other findings.
    accepted.extend(_find_addresses(scanned, accepted))
    accepted.sort(key=lambda f: (f.start, f.end))
    if offsets is None:
        return accepted
    # Back to the text as typed: a span covers every original character it was made from,
    # including invisible characters inside it.
    return [replace(f, start=offsets.start(f.start), end=offsets.end(f.end)) for f in accepted]


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
