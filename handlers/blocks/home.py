"""App Home, put together within Slack's limit of 100 blocks.

App Home has sections (the user's forums, their actions, "Inför mötet", a coordinator's
deviations to follow up), each a list of entries: a forum's summary, an action, a meeting's
cases, a forum's deviations. A member of many forums has more than 100 blocks' worth, and
Slack refuses a view past 100 (the tab would not be published at all). So the sections share
the room: an entry is shown whole or not at all, every section keeps its first entry where
the room allows, the rest is handed out one entry per section in turn, in order of
importance, and each section whose entries were left out ends with a line saying how many
and where to find them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from handlers.blocks.common import MODAL_BLOCKS_MAX, Block

HOME_BLOCKS_MAX = MODAL_BLOCKS_MAX  # Slack's limit for a view, App Home's too


@dataclass(frozen=True)
class HomeSection:
    """One section of App Home: its heading, its entries (each a few blocks shown together)
    and the line telling how many entries were left out (``more``, given that number).
    ``left_out``: entries the section left out already (past its own cap)."""

    head: Sequence[Block] = ()
    entries: Sequence[Sequence[Block]] = ()
    more: Callable[[int], Block] | None = None
    left_out: int = 0

    def cost(self, shown: int) -> int:
        """Blocks of the section with its first ``shown`` entries."""
        hidden = len(self.entries) - shown + self.left_out
        more = 1 if hidden > 0 and self.more is not None else 0
        return len(self.head) + sum(len(e) for e in self.entries[:shown]) + more

    def blocks(self, shown: int) -> list[Block]:
        hidden = len(self.entries) - shown + self.left_out
        out = [*self.head, *(b for e in self.entries[:shown] for b in e)]
        if hidden > 0 and self.more is not None:
            out.append(self.more(hidden))
        return out


def fit_sections(
    sections: Sequence[HomeSection], *, importance: Sequence[int], room: int
) -> list[Block]:
    """The sections' blocks, in their order, within ``room`` blocks. ``importance``: the
    sections' indexes, most important first; it decides who gets the room first, and which
    sections go (the least important) should even their headings not fit."""
    kept = list(importance)
    while kept and sum(sections[i].cost(0) for i in kept) > room:
        kept.pop()  # headings and "more" lines alone do not fit: the least important goes
    shown = dict.fromkeys(kept, 0)
    used = sum(sections[i].cost(0) for i in kept)
    grew = True
    while grew:  # one more entry per section, in turn, while any fits
        grew = False
        for i in kept:
            s, k = sections[i], shown[i]
            if k < len(s.entries) and used - s.cost(k) + s.cost(k + 1) <= room:
                used += s.cost(k + 1) - s.cost(k)
                shown[i] = k + 1
                grew = True
    return [b for i, s in enumerate(sections) if i in shown for b in s.blocks(shown[i])]


@dataclass(frozen=True)
class HomeParts:
    """App Home's sections, each (possibly empty)."""

    forums: HomeSection
    actions: HomeSection = field(default_factory=HomeSection)
    preparations: HomeSection = field(default_factory=HomeSection)
    deviations: HomeSection = field(default_factory=HomeSection)

    def fit(self, room: int) -> list[Block]:
        """Shown in this order: the forums, the actions, "Inför mötet", the deviations.
        What the user is to do comes first for the room (their actions, their next
        meetings' cases, the deviations they follow up); the forums' summaries, which each
        forum's channel also has, give way first."""
        order = [self.forums, self.actions, self.preparations, self.deviations]
        return fit_sections(order, importance=[1, 2, 3, 0], room=room)
