"""Normalising a text before scanning, so disguises (spaces, dashes, look-alike digits, format
characters, letters for digits) do not hide a number, with a map back to the original spans."""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from typing import Final

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
