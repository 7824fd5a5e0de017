"""The small-number rule (domain.small_numbers): no hidden cell can be worked out from the
cells and the total printed beside it.

The property tests play the reader: from what is printed (the shown cells, "fewer than 5"
for the hidden ones, the total or "fewer than 5") and what the reader may assume (a hidden
cell is 1–4 as it reads, or at least 1 for one who knows cells are hidden beside others;
every case has a concern; the leftover of an exclusive breakdown is 0 when it is), they
narrow each unknown down by interval reasoning, which is exact for a sum of integer ranges.
A count of 1–4 the reader narrows down to its true value is a disclosure."""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import given
from hypothesis import strategies as st

from domain import small_numbers as sn

BIG = 10**6  # "no upper bound"


def disclosed(
    counts: Mapping[str, int],
    figures: Mapping[str, sn.Figure],
    total_figure: sn.Figure,
    *,
    total: int,
    multi: bool,
    label: bool,
) -> list[str]:
    """The unknowns of 1–4 the reader pins to their true value. ``label``: the reader takes
    every hidden figure to be 1–4; otherwise only at least 1."""
    top = 4 if label else BIG
    shown = sum(counts[k] for k, f in figures.items() if not f.hidden)
    # (name, true value, lowest, highest) of each unknown.
    unknowns = [(k, counts[k], 1, top) for k, f in figures.items() if f.hidden]
    if total_figure.hidden:
        t_low, t_high = 1, top
    else:
        t_low = t_high = total
    if multi:
        s_low = t_low - shown  # every case has a concern: the cells' sum is the total or more
        s_high = t_high - shown if sum(counts.values()) == total else BIG
    else:
        s_low, s_high = t_low - shown, t_high - shown
        leftover = total - sum(counts.values())  # never printed
        if leftover:
            low, high = (1, top) if sn.hides(leftover) else (0, BIG)
            unknowns.append(("(leftover)", leftover, low, high))
    if not unknowns:
        return []
    lows = sum(u[2] for u in unknowns)
    highs = sum(u[3] for u in unknowns)
    if lows > s_high or highs < s_low:
        return []  # what the reader assumes cannot be: they learn nothing exact
    found = []
    for name, value, low, high in unknowns:
        others_low, others_high = lows - low, highs - high
        least = max(low, s_low - others_high)
        most = min(high, s_high - others_low)
        if sn.hides(value) and least == most == value:
            found.append(name)
    return found


def _check(counts: dict[str, int], total: int, *, multi: bool) -> None:
    figures = sn.breakdown(counts, total=total, multi=multi)
    total_figure = sn.total(total, sn.Table(counts, figures, multi))
    for key, n in counts.items():  # the primary rule: every 1–4 hidden, 0 and 5+ as they are
        assert figures[key].hidden or figures[key].value == n
        assert not sn.hides(n) or figures[key].hidden
    assert total_figure.hidden or total_figure.value == total
    for label in (True, False):
        found = disclosed(counts, figures, total_figure, total=total, multi=multi, label=label)
        # Not guarded against (sn's docstring): a total of 1–4 beside as many cells as cases,
        # every one hidden already (four agencies, one case each, beside "fewer than 5").
        residual = sn.hides(total) and all(f.hidden for k, f in figures.items() if counts[k])
        assert not found or residual, (counts, total, figures, total_figure, label, found)


cells = st.lists(st.integers(0, 14), min_size=1, max_size=5)


@given(cells, st.integers(0, 9))
def test_no_hidden_cell_of_an_exclusive_breakdown_is_determined(
    values: list[int], leftover: int
) -> None:
    """Cases per raising agency, age band, outcome …: the cells and an unprinted leftover
    sum to the total."""
    counts = {f"c{i}": n for i, n in enumerate(values)}
    _check(counts, sum(values) + leftover, multi=False)


@given(cells, st.data())
def test_no_hidden_cell_of_a_multi_select_breakdown_is_determined(
    values: list[int], data: st.DataObject
) -> None:
    """Concerns: each case has one or more, so the cells sum to the total or more."""
    if sum(values) == 0:
        return
    # Often one concern each (the cells sum to the total), else some with two.
    total = data.draw(st.one_of(st.just(sum(values)), st.integers(max(values), sum(values))))
    counts = {f"c{i}": n for i, n in enumerate(values)}
    _check(counts, total, multi=True)


def test_a_concern_is_not_worked_out_from_the_cases_raised() -> None:
    """7 cases, each with one concern: 5 school absence (shown) and 2 mental health
    (hidden) gave 7 − 5 = 2."""
    figures = sn.breakdown({"school": 5, "mental": 2}, total=7, multi=True)
    assert figures["school"].hidden and figures["mental"].hidden
    # A case with two concerns: 8 ticks for 7 cases, 7 − 5 is no cell; nothing more hidden.
    figures = sn.breakdown({"school": 5, "mental": 2, "drugs": 1}, total=7, multi=True)
    assert figures["school"].value == 5


def test_two_hidden_cells_that_can_only_be_one_each_hide_a_third() -> None:
    """12 cases: 10, 1 and 1 per agency. Hiding the two ones is not enough: 12 − 10 = 2
    over two cells that are at least 1 each."""
    figures = sn.breakdown({"a": 10, "b": 1, "c": 1}, total=12)
    assert figures["a"].hidden
    assert sn.total(12, sn.Table({"a": 10, "b": 1, "c": 1}, figures)).value == 12


def test_the_total_is_hidden_when_hiding_every_cell_is_not_enough() -> None:
    """Five agencies with one case each beside "5 cases raised": each is 1."""
    counts = {name: 1 for name in "abcde"}
    figures = sn.breakdown(counts, total=5)
    assert all(f.hidden for f in figures.values())
    assert sn.total(5, sn.Table(counts, figures)).hidden


def test_what_is_left_of_a_whole_is_not_worked_out() -> None:
    """10 actions done, 8 on time: 2 done late. share() already refused 80 %; the count
    8 beside 10 gave the 2 all the same. An exclusive breakdown's unprinted leftover is a
    cell too (12 closed, 5 'yes' and 5 'partly': 2 without an outcome)."""
    assert sn.breakdown({"on_time": 8}, total=10)["on_time"].hidden
    assert sn.breakdown({"on_time": 10}, total=10)["on_time"].value == 10
    outcomes = sn.breakdown({"yes": 5, "partly": 5, "no": 0}, total=12)
    assert outcomes["yes"].hidden and outcomes["partly"].value == 5


def test_a_share_is_not_shown_beside_a_hidden_figure() -> None:
    """A count hidden beside others (at 5 or more) is given back by its share of a shown
    whole: 50 % of 10."""
    assert sn.share(5, 10) == 50.0
    assert sn.share(5, 10, sn.Figure(None), sn.Figure(10)) is None
    assert sn.share(5, 10, sn.Figure(5), sn.Figure(None)) is None
