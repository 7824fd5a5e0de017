"""Typed ``private_metadata`` for modals (Slack allows 3000 characters)."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from domain.i18n import Locale


class ViewMeta(BaseModel):
    locale: Locale = "sv"
    channel_id: str | None = None
    forum_id: int | None = None
    case_id: int | None = None
    meeting_id: int | None = None
    version: int = 0

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def load(cls, raw: str | None) -> ViewMeta:
        try:
            return cls.model_validate_json(raw or "{}")
        except ValidationError:
            return cls()
