"""Valid Swedish identity numbers for tests, with computed check digits (never guessed)."""

from __future__ import annotations


def luhn_digit(nine: str) -> str:
    """The Swedish check digit for YYMMDDNNN (Luhn, weights 2,1,2,1,…)."""
    total = 0
    for i, ch in enumerate(nine):
        v = int(ch) * (2 if i % 2 == 0 else 1)
        total += v - 9 if v > 9 else v
    return str((10 - total % 10) % 10)


def pnr(yymmdd: str, nnn: str, sep: str = "-", century: str = "") -> str:
    """A personnummer with a computed (valid) check digit."""
    return f"{century}{yymmdd}{sep}{nnn}{luhn_digit(yymmdd + nnn)}"
