"""Each person's Slack language, as the bot last learned it (``users.info``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class MemberLanguage(Base):
    """A person's own language for the DMs the bot sends them, shared by every replica, so
    a scheduled job reads it here instead of asking Slack inside its transaction.

    ``locale`` is a language the bot has a catalog for (``sv``, ``en``: the Slack locale
    normalised), NULL when Slack named another (the forum's language is used then).
    ``looked_up_at`` (UTC) is when Slack last said so; a row older than a day is refreshed
    by the scheduler's "member languages" job."""

    __tablename__ = "member_languages"
    __table_args__ = (CheckConstraint("locale IN ('sv', 'en')", name="locale_supported"),)

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    looked_up_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)


class MemberLanguageAsk(Base):
    """When the scheduler's "member languages" refresh may ask Slack about a person's
    language again (UTC), whichever replica's: the replica asking holds them a moment
    (another replica's refresh at the same time asks about someone else), and a person
    Slack answers with an error about them (not about the workspace) is left for a while.
    A row is written by the refresh's claim; none means the person may be asked."""

    __tablename__ = "member_language_asks"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_ask_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
