"""The small-number rule, in one place: a count of 1–4 that leaves the forum is shown as
"färre än 5" ("fewer than 5"), so a figure never points at a child or a family.

Everything that leaves a forum — the half-year review (PDF, xlsx, channel summary), a
steering forum's roll-up of its linked forums, the annual report and the municipality's
yearly picture — takes its figures through :func:`count` / :func:`breakdown` /
:func:`total` and prints them with :meth:`Figure.text`; so does a member's own
``/samverkan statistik`` (domain.statistics.masked_statistics): any member may run it for
any period, while a case's details are only for the agencies that may see that case.

* 0 is shown as 0 (nothing to hide) and 5 or more as the number.
* A breakdown (cases per agency, per concern …) printed beside its total must not let a
  reader work out a hidden cell from the total and the shown cells (secondary suppression):
  :func:`breakdown` hides the next smallest shown cell until no hidden cell is determined,
  and when even hiding every cell is not enough (five agencies with one case each beside
  "5 cases") :func:`total` hides the total too. The same total :class:`Figure` is then
  printed wherever that total appears, so no output shows what another hides.
* A figure over a period made up of periods whose figures were printed already (the annual
  report's year, the two half-year reviews) is the sum of those: a cell or total hidden in
  one of them is hidden in the sum too (``hidden=``), or the year minus the other half
  gives it back.
* Shares and averages are only shown when at least 5 are behind them, neither the part nor
  what is left of the whole is 1–4, and no figure they are of is hidden (:func:`share`,
  :func:`mean`); an average leaves to one decimal in every output (an unrounded one tells
  its denominator).

What a reader can work out, and so what is checked (:func:`determined`). A hidden cell
reads "fewer than 5", so a reader takes each hidden cell to be 1–4 (0 is shown as 0). With
``k`` hidden cells whose sum ``H`` is known, a cell is determined when ``k`` is 1, when
``H == k`` (all are 1) or ``H == 4k`` (all are 4); for ``1 < k`` and ``k < H < 4k`` every
hidden cell can take two values or more. What the reader knows of ``H`` depends on the
breakdown:

* *Exclusive* breakdowns (each case in at most one cell: raising agency, age band,
  outcome, an action's effect, deviation kind, the family's answers): the cells and what is
  left over (no age band, no outcome recorded …, never printed) sum to the total. The
  leftover counts as a hidden cell when it is 1–4 (10 closed cases, 5 "yes" and 3 "partly"
  shown would give 2 without an outcome), as known to be 0 when it is 0 (the reader may
  assume every case is classified), and as unknown when it is 5 or more (then ``H`` is
  bounded from above only, which never determines a cell). A part of a whole printed
  beside it (SIP started of the cases raised, actions done on time of those done) is such a
  breakdown of one cell: what is left (no SIP, done late) is not to be worked out either,
  as :func:`share` already held.
* *Multi-select* breakdowns (concerns; criteria met; meetings attended per agency): the
  cells need not sum to the total, but they do when each case has one concern (common),
  and a reader who assumes it, or knows it, derives the hidden cell as total − shown. So:
  when the cells' sum equals the total the breakdown is treated exactly as an exclusive
  one. When it is above the total (some case has two concerns) the total still bounds the
  hidden cells from below (every case has at least one concern: ``H >= total − shown``),
  which determines them only when that bound reaches ``4k``, and that is checked too; a
  reader who knows the exact sum above the total (how many cases had two concerns) knows
  more than the figures tell, and is not guarded against. The complement of a single
  concern (cases *without* it) is no category the outputs report and is not protected.

Not guarded against: a total that is 1–4 itself beside as many listed cells as it counts
(four agencies listed beside "fewer than 5" cases raised: one each). Every cell is hidden
then and nothing more can be; only leaving rows out would help.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

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


def breakdown(
    counts: Mapping[K, int],
    *,
    total: int | None = None,
    multi: bool = False,
    hidden: Collection[K] = (),
) -> dict[K, Figure]:
    """Each count through the rule. With ``total`` (the sum the reader also sees; see the
    module's docstring for ``multi``), the next smallest shown cell is hidden too, and
    again, until no hidden cell (nor the unprinted leftover) can be worked out. Masked as if
    the total were printed as a number even when :func:`total` hides it (a reader then
    knows less). ``hidden``: cells hidden already where they were printed before (a year's
    cell whose half-year cell was hidden), hidden here from the start."""
    result = {key: Figure(None) if key in hidden and n else count(n) for key, n in counts.items()}
    if total is None:
        return result
    while determined(counts, result, total=total, multi=multi):
        shown = [k for k, n in counts.items() if not result[k].hidden and n > 0]
        if not shown:
            break  # only hiding the total helps: total()
        result[min(shown, key=lambda k: counts[k])] = Figure(None)
    return result


def determined(
    counts: Mapping[K, int],
    figures: Mapping[K, Figure],
    *,
    total: int,
    multi: bool = False,
) -> bool:
    """Whether a reader who sees ``figures`` and the total (a number, or "fewer than 5"
    when it is 1–4) can work out a hidden cell, or the unprinted leftover of an exclusive
    breakdown when it is 1–4 (the module's docstring)."""
    # The hidden cells that are 1–4 (the others were hidden beside them, at 5 or more).
    small = [counts[key] for key, f in figures.items() if f.hidden and hides(counts[key])]
    k = sum(1 for f in figures.values() if f.hidden)
    shown_sum = sum(counts[key] for key, f in figures.items() if not f.hidden)
    cells = sum(counts.values())
    top = THRESHOLD - 1
    low_total, high_total = (1, top) if hides(total) else (total, total)
    # What the reader knows of H, the sum of the hidden cells (None: unbounded).
    low: int | None = low_total - shown_sum
    high: int | None = high_total - shown_sum
    if multi:
        if cells != total:
            high = None  # the cells' sum is not the total: it bounds H from below only
    else:
        leftover = total - cells
        if hides(leftover):
            k += 1  # the leftover is a hidden cell of its own
            small.append(leftover)
        elif leftover > 0:
            low = None  # an unknown leftover of 5 or more: H is bounded from above only
    if not small:
        return False
    # Each hidden cell reads 1–4, so H is in [k, 4k] too.
    lo = k if low is None else max(low, k)
    hi = top * k if high is None else min(high, top * k)
    if lo > hi:
        return False  # "fewer than 5" cannot all be true: a cell hidden at 5 or more
    # Any one hidden cell can be from lo - 4(k-1) to hi - (k-1), within 1–4: one value
    # only when all are 1 (hi == k) or all are 4 (lo == 4k), or k is 1. All 4 is then
    # what the reader believes; it gives away a cell that is 4 indeed.
    value = max(1, lo - top * (k - 1))
    return value == min(top, hi - (k - 1)) and value in small


@dataclass(frozen=True)
class Table:
    """A breakdown as masked (:func:`breakdown`): its exact ``counts`` and the ``figures``
    printed, and whether it is multi-select."""

    counts: Mapping[Any, int]
    figures: dict[Any, Figure]
    multi: bool = False


def total(n: int, *tables: Table, hidden: bool = False) -> Figure:
    """A total as it may be printed beside its breakdowns ``tables`` (masked with
    :func:`breakdown` against ``n``): hidden when it is 1–4, when it was hidden where it was
    printed before (``hidden``, :func:`breakdown`), or when a breakdown's hidden cells are
    determined even with all its cells hidden (five agencies with one case each beside
    "5 cases raised"). Print this one Figure wherever the total appears."""
    if (hidden and n) or hides(n):
        return Figure(None)
    if any(determined(t.counts, t.figures, total=n, multi=t.multi) for t in tables):
        return Figure(None)
    return Figure(n)


def share(part: int, whole: int, *shown: Figure) -> float | None:
    """``part / whole`` as a percentage, or None when it would reveal a small number: also
    when one of the figures ``shown`` beside it (the part and the whole as printed) is
    hidden, or 40 % of a shown 10 would give a hidden count back."""
    if whole < THRESHOLD or hides(part) or hides(whole - part):
        return None
    if any(f.hidden for f in shown):
        return None
    return 100.0 * part / whole


def mean(total: float, n: int, *shown: Figure) -> float | None:
    """An average over ``n`` answers to one decimal, as every output prints it, or None
    when fewer than 5 stand behind it or the count ``shown`` beside it is hidden: the
    unrounded 29/7 = 4.142857… names its 7."""
    if n < THRESHOLD or any(f.hidden for f in shown):
        return None
    return round(total / n, 1)


def percent_text(t: Translator, value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} %"


def mean_text(t: Translator, value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}".replace(".", "," if t.locale == "sv" else ".")
