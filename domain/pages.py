"""A meeting's cases shown a page at a time in a modal (the minutes, the time slots).

Slack's modal holds 100 blocks, so a form with several inputs per case shows ``PAGE_CASES``
cases a page: the page says which of the meeting's cases it shows, saves on its own and
answers with the next page. The page number travels in the modal's private metadata and is
read as any crafted number is (handlers.metadata.ViewMeta.page_number)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

# Cases on one page: a modal holds 100 blocks, a case takes up to seven (the minutes) and a
# page's heading three or four (87 in all).
PAGE_CASES = 12


class CasesPage:
    """Which of a meeting's cases one page shows: cases ``first``–``last`` (counted from 1,
    in slot order) of ``total``; ``page`` counts the pages shown (from 1). A subclass (a
    frozen dataclass) gives ``page``, ``start`` (how many cases come before this page's
    first), ``total`` and ``shown`` (how many this page shows)."""

    page: int
    start: int
    total: int

    @property
    def shown(self) -> int:
        raise NotImplementedError

    @property
    def first(self) -> int:
        return self.start + 1 if self.shown else 0

    @property
    def last(self) -> int:
        return self.start + self.shown if self.shown else 0

    @property
    def paged(self) -> bool:
        """More cases than one page holds: the pages say which cases they show."""
        return self.total > PAGE_CASES

    @property
    def has_next(self) -> bool:
        return self.start + self.shown < self.total


def page_start(page: int, order: Sequence[int], after: Collection[int] = ()) -> int:
    """Where page ``page`` starts in ``order`` (the meeting's cases as they stand now):
    after the last of ``after`` (the page just saved) found there, so a case closed, removed
    or moved meanwhile moves no case past the pages; else by the page's number. A page past
    the last starts at the end (no cases)."""
    before = [n for n, key in enumerate(order) if key in after]
    return before[-1] + 1 if before else min((page - 1) * PAGE_CASES, len(order))
