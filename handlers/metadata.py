"""Typed ``private_metadata`` for modals (Slack allows 3000 characters)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, Field, ValidationError

from domain.i18n import Locale
from domain.ids import ID_MAX as ID_MAX
from domain.ids import id_value

Id = Annotated[int, Field(ge=0, le=ID_MAX)]
"""An id in private metadata: a crafted one out of range fails validation like any other
malformed metadata, instead of reaching the database driver."""


class Meta(BaseModel):
    """A modal's private metadata: :meth:`load` reads it back, and metadata that is not ours
    (malformed, crafted, out of range) reads as the defaults."""

    @classmethod
    def load(cls, raw: str | None) -> Self:
        try:
            return cls.model_validate_json(raw or "{}")
        except ValidationError:
            return cls()


class DeviationMeta(Meta):
    """A deviation's view: its forum too, which the correct/mask buttons on it name their
    forum by (handlers.corrections)."""

    locale: Locale = "sv"
    deviation_id: Id = 0
    forum_id: Id = 0


class ViewMeta(Meta):
    locale: Locale = "sv"
    channel_id: str | None = None
    forum_id: Id | None = None
    case_id: Id | None = None
    meeting_id: Id | None = None
    version: int = 0
    # The page of a modal shown page by page (the minutes), from 1. Kept as sent and read
    # by :meth:`page_number`, so a crafted page is told as such and the rest stays usable.
    page: int | str | None = None
    # The pages of the minutes saved so far in this modal (domain.minutes.Tally: the cases
    # minuted, the actions created, the cases planned for a follow-up), packed by
    # domain.minutes.pack_tally: a few hundred cases' ids written out did not fit.
    tally: str | None = None

    def page_number(self) -> int | None:
        """The page (1 when none is given); None for a page no modal of ours carries: not
        ASCII digits, a sign, 0, or past any id."""
        if self.page is None:
            return 1
        number = id_value(str(self.page))
        return number if number else None

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)
