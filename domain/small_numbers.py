"""The small-number rule, in one place: a count of 1–4 that leaves the forum is shown as
"färre än 5" ("fewer than 5"), so a figure never points at a child or a family.

Everything that leaves a forum — the half-year review (PDF, xlsx, channel summary), a
steering forum's roll-up of its linked forums, the annual report and the municipality's
yearly picture — takes its figures through :func:`count` / :func:`breakdown` and prints them
with :meth:`Figure.text`. Inside the forum (a member's own ``/samverkan statistik``) exact
counts stay.

* 0 is shown as 0 (nothing to hide) and 5 or more as the number.
* A breakdown (cases per agency, per concern …) whose hidden cells could be worked out from
  the total and the other cells also hides the next smallest cell (secondary suppression).
* Shares and averages are only shown when at least 5 are behind them and the part itself is
  not hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from domain.i18n import N_, Translator

THRESHOLD = 5
FEWER_THAN = N_("fewer than 5")

K = TypeVar("K")


@dataclass(frozen=True, order=True)
class Figure:
    """A count as it may leave the forum: ``value`` is None when it is hidden (1–4)."""

    value: int | None

    @property
    def hidden(self) -> bool:
        return self.value is None

    def text(self, t: Translator) -> str:
        return t(FEWER_THAN) if self.value is None else str(self.value)

    @property
    def plural_count(self) -> int:
        """The count that picks the plural form of the words around :meth:`text`: a hidden
        figure reads "fewer than 5", which takes the plural."""
        return THRESHOLD if self.value is None else self.value

    def cell(self, t: Translator) -> int | str:
        """For a spreadsheet cell: the number, or the words."""
        return t(FEWER_THAN) if self.value is None else self.value


def hides(n: int) -> bool:
    return 0 < n < THRESHOLD


def count(n: int) -> Figure:
    return Figure(None if hides(n) else n)


def breakdown(counts: Mapping[K, int], *, total: int | None = None) -> dict[K, Figure]:
    """Each count through the rule. When exactly one cell is hidden and ``total`` (the sum the
    reader also sees) would reveal it, the next smallest shown cell is hidden too."""
    result = {key: count(n) for key, n in counts.items()}
    hidden = [k for k, f in result.items() if f.hidden]
    if total is not None and len(hidden) == 1 and sum(counts.values()) == total:
        shown = [k for k, n in counts.items() if not result[k].hidden and n > 0]
        if shown:
            result[min(shown, key=lambda k: counts[k])] = Figure(None)
    return result


def share(part: int, whole: int) -> float | None:
    """``part / whole`` as a percentage, or None when it would reveal a small number."""
    if whole < THRESHOLD or hides(part) or hides(whole - part):
        return None
    return 100.0 * part / whole


def mean(total: float, n: int) -> float | None:
    """An average over ``n`` answers, or None when fewer than 5 stand behind it."""
    if n < THRESHOLD:
        return None
    return total / n


def percent_text(t: Translator, value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} %"


def mean_text(t: Translator, value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}".replace(".", "," if t.locale == "sv" else ".")
