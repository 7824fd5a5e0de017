"""Privacy guard: refuse free text that contains what looks like personal data.

Every free-text field a user types passes through here before anything is stored or sent.
The guard looks for:

* Swedish personal identity numbers (personnummer) and coordination numbers
  (samordningsnummer), 10 or 12 digits with or without a separator before the last four,
  validated (date and Luhn check digit) with the ``personnummer`` library; a birth date in
  the future or a 12-digit form not starting with 19/20 is not one;
* Swedish phone numbers, found and validated with ``phonenumbers`` (region ``SE``) at the
  ``VALID`` leniency, so dates, case references, amounts, times and year ranges pass;
* e-mail addresses;
* a street address (a street name with a common Swedish suffix and a house number) together
  with a Swedish postcode in the same text. A street alone or a postcode alone is allowed.

Only the standard library, ``personnummer``, ``phonenumbers`` and the domain errors are used:
this module must never depend on Slack or storage.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
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

# 6 digits (YYMMDD) or 8 (YYYYMMDD), an optional separator, 4 digits; never in the middle of
# a longer run of digits. "+" means 100 years or older.
_PNR_RE: Final = re.compile(
    r"(?P<date>[0-9](?<![0-9]{2})[0-9]{5}(?:[0-9]{2})?)"
    rf"(?P<sep>[-+{_SPACES}{_DASHES}])?"
    r"(?P<last>[0-9]{4})(?![0-9])"
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


def _find_personnummer(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in _PNR_RE.finditer(text):
        date, sep = m.group("date"), m.group("sep") or ""
        if len(date) == 8 and date[:2] not in ("19", "20"):
            continue
        # The library understands "-" and "+"; spaces and typographic dashes mean "-".
        candidate = f"{date}{'+' if sep == '+' else '-'}{m.group('last')}"
        try:
            number = personnummer.parse(candidate)
            if number.get_date() > dt.date.today():
                continue  # nobody is born in the future: a date and a time, an order number …
        except (personnummer.PersonnummerException, ValueError):
            continue
        kind = "samordningsnummer" if number.is_coordination_number() else "personnummer"
        found.append(Finding(kind, m.start(), m.end(), MSGIDS[kind]))
    return found


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


def find_identifying(text: str) -> list[Finding]:
    """Every piece of identifying data in ``text``, in text order.

    Where two detectors claim the same characters the stronger reading wins
    (personnummer/samordningsnummer, then e-mail, then phone), so for example a personnummer
    is never also reported as a phone number. The street and the postcode of an address never
    overlap another finding, but the address span (street to postcode) may enclose one.
    """
    if not text:
        return []
    accepted: list[Finding] = []
    candidates = _find_personnummer(text) + _find_emails(text) + _find_phones(text)
    for finding in sorted(candidates, key=lambda f: (_PRIORITY[f.kind], f.start)):
        if not any(_overlaps(finding.start, finding.end, a.start, a.end) for a in accepted):
            accepted.append(finding)
    # An address span runs from the street to its postcode and may enclose other findings.
    accepted.extend(_find_addresses(text, accepted))
    accepted.sort(key=lambda f: (f.start, f.end))
    return accepted


def check_text(text: str | None, *, field: str) -> None:
    """Raise :class:`IdentifyingDataRefused` for the first finding in ``text``.

    ``None`` and the empty string pass.
    """
    if not text:
        return
    findings = find_identifying(text)
    if findings:
        raise IdentifyingDataRefused(findings[0].msgid, field=field)


def check_fields(fields: Mapping[str, str | None]) -> dict[str, str]:
    """``{field: msgid}`` for every field with a finding, so a modal can show them all at once.

    An empty dict means every field is clean.
    """
    errors: dict[str, str] = {}
    for field, text in fields.items():
        if not text:
            continue
        findings = find_identifying(text)
        if findings:
            errors[field] = findings[0].msgid
    return errors
