"""E-mail addresses and street addresses (a street and house number, with or without a postcode).

A street with a house number is an address on its own ("Oro kring Storgatan 12"). So that
ordinary forum text still passes, a street without a postcode is read strictly:

* the street word ends in a street suffix written out (``-gatan``, ``-vägen``, ``-gränd``,
  ``-stigen``, ``-backen``, ``-torget``, ``-allén``, ``-kajen``, ``-slingan``, ``-stråket``,
  ``-esplanaden`` …) and is more than the suffix (``på gatan 3 gånger``, ``vägen 2`` are no
  streets), or it is the bare suffix after a name (``Gamla vägen 3``, ``Stora torget 2``);
  abbreviations (``Storg. 12``) count only with a postcode;
* a word that is also a common noun (``skolvägen``, ``genvägen``, ``gågatan``,
  ``pulkabacken``, ``arbetsplatsen``, ``omgången``, ``handleden``, the ``-plan`` words …) or
  ends in a suffix that mostly makes nouns (``-plan``, ``-platsen``, ``-gången``, ``-leden``,
  ``-promenaden``, and the short ``-väg``, ``-gata``, ``-torg``, ``-stig``, ``-backe``)
  counts only as a name: capitalised, not first in its sentence (``bor på Skolvägen 5``, but
  not ``skolvägen 5 gånger`` or ``Handlingsplan 2 beslutades``); road numbers (``riksväg 40``,
  ``länsväg 158``) are never streets;
* the house number has one to three digits (``Storgatan 2026`` is a year), maybe a letter
  (``12B``, ``12 b``) and a flat (``lgh 1102``), and is not a count, measure, date or time:
  no unit or month after it (``3 gånger``, ``5 min``, ``2 km``, ``40 kr``, ``3 december``,
  ``12 %``), no ``:``, ``/``, ``,`` or ``.`` then a digit (``13:00``, ``12/3``, ``3,5``).

With a postcode in the same text the older, looser reading applies (abbreviations, any
suffix word): street and postcode together are an address whatever the words.
"""

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
# A run of spaces is read from its first space only (the word before must end where the run
# starts): started at each of its spaces, a long run after a postcode took quadratic time.
_HOUSE_NUMBER_RE: Final = re.compile(
    r"(?:(?<! )[ .] *[0-9]{1,4}|[0-9](?<=[a-zåäé][0-9])[0-9]{0,3})(?:[ ]?[A-Za-z](?!\w))?(?![0-9])"
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
    """Streets with a house number, with the postcode in the same text if there is one;
    neither may lie on a ``taken`` finding."""
    postcodes = _find_postcodes(text)
    if not postcodes:
        return _find_streets_alone(text, taken)
    claimed = _Claimed(len(text))
    for f in taken:
        claimed.mark(f.start, f.end)
    postcodes = [p for p in postcodes if claimed.free(*p)]
    starts = [p[0] for p in postcodes]
    found: list[Finding] = []
    paired: set[int] = set()  # where the streets paired with a postcode start
    for street in _find_streets(text) if postcodes else []:
        if not claimed.free(*street):
            continue
        # The nearest postcode that is not part of the street (its house number).
        k = bisect_left(starts, street[0])
        near = [p for p in postcodes[max(0, k - 2) : k + 3] if not _overlaps(*p, *street)]
        if not near:
            continue  # (a street alone is looked for below)
        postcode = min(near, key=lambda p: _distance(p, street))
        start, end = min(street[0], postcode[0]), max(street[1], postcode[1])
        found.append(Finding("address", start, end, MSGIDS["address"]))
        paired.add(street[0])
    # A street without a postcode next to it is an address too (read strictly, see above).
    found += [f for f in _find_streets_alone(text, taken) if f.start not in paired]
    return found


# --- a street alone (no postcode) -------------------------------------------------------------


def _words(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


# Suffixes that make street names, rarely anything else: any case.
_NAME_SUFFIXES: Final = (
    "gatan",
    "vägen",
    "gränden",
    "gränd",
    "stigen",
    "backen",
    "torget",
    "allén",
    "kajen",
    "slingan",
    "stråket",
    "esplanaden",
)
# Suffixes that mostly make common nouns (or short forms): only a name counts (capitalised, not
# first in its sentence).
_NOUN_SUFFIXES: Final = (
    "plan",
    "platsen",
    "gången",
    "leden",
    "promenaden",
    "väg",
    "gata",
    "torg",
    "stig",
    "backe",
    "allé",
)
# Common nouns with a street suffix: only a name counts, as above ("bor på Skolvägen 5").
_COMMON_NOUNS: Final = _words(
    # -vägen
    "skolvägen hemvägen medelvägen genvägen omvägen halvvägen mellanvägen utvägen",
    "återvägen landsvägen motorvägen riksvägen länsvägen cykelvägen gångvägen",
    "tjänstevägen huvudvägen färdvägen resvägen grusvägen bilvägen infartsvägen",
    "tillfartsvägen livsvägen",
    # -gatan
    "gågatan sidogatan huvudgatan bygatan bakgatan tvärgatan bostadsgatan villagatan",
    "lokalgatan affärsgatan shoppinggatan genomfartsgatan stadsgatan bilgatan",
    # -backen, -stigen, -torget, -kajen, -stråket, -slingan
    "skidbacken pulkabacken slalombacken kälkbacken uppförsbacken nedförsbacken",
    "gångstigen cykelstigen skogsstigen vandringsstigen motionsstigen naturstigen",
    "karriärstigen marknadstorget busstorget lastkajen båtkajen gångstråket",
    "cykelstråket grönstråket motionsslingan promenadslingan joggingslingan",
    "löparslingan cykelslingan",
    # the -plan words of forum talk (-gränd and -allén nouns are rare)
    "handlingsplan åtgärdsplan samverkansplan tidsplan aktivitetsplan verksamhetsplan",
    "vårdplan genomförandeplan studieplan elevplan behandlingsplan",
)
# Never a street, whatever the case: road numbers ("riksväg 40").
_ROADS: Final = _words(
    "riksväg länsväg europaväg motorväg landsväg riksvägen länsvägen europavägen"
)
# A bare suffix ("Gamla vägen 3") needs a name before it; these words, even capitalised, are
# no name ("På vägen 2 …", "Den vägen 3 …").
_NO_NAMES: Final = _words(
    "den denna det detta denne dessa samma hela halva vilken vilket vår er min din sin hans",
    "hennes deras nästa varje ingen någon en ett på i vid till från mot längs över under om",
    "genom efter för med ur utmed bortom av hos åt bakom framför och men eller så då nu där",
    "här ut in upp ner fel rätt rakt just",
)
# First in a sentence, only these are read as the name before a bare suffix ("Gamla vägen 3").
_STREET_ADJECTIVES: Final = _words(
    "gamla nya stora lilla norra södra östra västra övre nedre yttre inre långa sankt"
)
_BARE_SUFFIXES: Final = frozenset((*_NAME_SUFFIXES, "torg", "allé"))
_SUFFIXES: Final = frozenset((*_NAME_SUFFIXES, *_NOUN_SUFFIXES))

# Units, counts and months: a number before one of these is no house number.
_UNITS: Final = (
    "gång|gånger|ggr|dag|dagar|dygn|vecka|veckor|v|vardagar|helger|månad|månader|mån|år|"
    "timme|timmar|tim|t|h|minut|minuter|min|sekund|sekunder|sek|km|kilometer|mil|meter|m|"
    "cm|kvm|m2|kr|kronor|sek|tkr|mkr|st|stycken|procent|pers|personer|elever|barn|"
    "ärenden|familjer|deltagare|platser|steg|"
    "januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|"
    "december|jan|feb|mar|apr|jun|jul|aug|sep|sept|okt|nov|dec"
)
_STREET_ALONE_RE: Final = re.compile(
    # The street word (letters, maybe hyphenated), maybe "nr", the house number (1-3 digits)
    # that is no count, measure, date or time, maybe a letter ("12B", "12 b"), maybe a flat
    # ("lgh 1102").
    r"(?<![\w-])(?P<word>[^\W\d_]+(?:-[^\W\d_]+)*)[ \t]{0,3}(?:nr\.?[ ]?)?"
    r"(?<![0-9])[0-9]{1,3}(?![0-9])"
    rf"(?!\s*(?:%|(?:{_UNITS})(?![^\W_]))|[:/,.][0-9])"
    r"(?:[A-Za-z]|[ ][A-HJ-Za-hj-z])?(?![^\W_])"
    r"(?:,?[ ]?(?:lgh\.?|lägenhet)[ ]?[0-9]{4}(?![0-9]))?",
    re.IGNORECASE,
)
_WORD_BEFORE_RE: Final = re.compile(r"(?<![\w-])([^\W\d_][\w-]*)[ ]+\Z")
_SENTENCE_START_RE: Final = re.compile(r"(?:\A|[.!?\n])[\s\-*•–>\"'”(]*\Z")


def _sentence_start(text: str, at: int) -> bool:
    return _SENTENCE_START_RE.search(text, max(0, at - 8), at) is not None


def _is_name(word: str, text: str, start: int) -> bool:
    """Capitalised and not first in its sentence: a proper noun."""
    return word[:1].isupper() and not _sentence_start(text, start)


def _street_alone(text: str, word: str, start: int) -> int | None:
    """Where the street starting with ``word`` at ``start`` starts, or ``None``."""
    lower = word.lower()
    if lower in _ROADS:
        return None
    if lower in _BARE_SUFFIXES:
        # "Gamla vägen 3", "Gustav Adolfs torg 3": a name before the bare suffix.
        before = _WORD_BEFORE_RE.search(text, max(0, start - 40), start)
        if before is None or not before.group(1)[:1].isupper():
            return None
        name = before.group(1).lower()
        if name in _NO_NAMES:
            return None
        if _sentence_start(text, before.start(1)) and name not in _STREET_ADJECTIVES:
            return None  # "Enligt vägen 2 …": first in its sentence, maybe no name
        return before.start(1)
    if lower in _SUFFIXES:
        return None  # "på Plan 3", "Gången 2": a bare suffix with no name before it
    if lower.endswith(_NAME_SUFFIXES) and lower not in _COMMON_NOUNS:
        return start
    if lower.endswith(_NAME_SUFFIXES + _NOUN_SUFFIXES) and _is_name(word, text, start):
        return start
    return None


def _find_streets_alone(text: str, taken: Sequence[Finding]) -> list[Finding]:
    """A street and house number with no postcode; not on a ``taken`` finding."""
    found: list[Finding] = []
    claimed: _Claimed | None = None
    for m in _STREET_ALONE_RE.finditer(text):
        start = _street_alone(text, m.group("word"), m.start())
        if start is None:
            continue
        if taken:
            if claimed is None:
                claimed = _Claimed(len(text))
                for f in taken:
                    claimed.mark(f.start, f.end)
            if not claimed.free(start, m.end()):
                continue
        found.append(Finding("address", start, m.end(), MSGIDS["address"]))
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
