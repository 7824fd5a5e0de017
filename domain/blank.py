"""Text that shows nothing: only spaces, line breaks and characters that draw nothing on
their own (zero-width spaces and joiners, a byte-order mark, soft hyphens, combining marks
with nothing to combine with, Hangul and Braille fillers). Pasted or typed, such a text is
as empty as no text: a required field refuses it, an optional one stores nothing."""

from __future__ import annotations

import unicodedata
from typing import Final

# Other (control, format), separators, and marks that need a base character to show.
_INVISIBLE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})
# Letters and symbols that render as blank space (used to fake "non-empty" names).
_FILLERS: Final = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def blank(text: str) -> bool:
    """True when no character of ``text`` shows (the empty text too)."""
    return all(ch in _FILLERS or unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in text)


def or_empty(text: str) -> str:
    """``text``, or "" when none of it shows."""
    return "" if blank(text) else text
