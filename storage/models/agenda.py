"""Agenda items and minute entries of meetings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, JSONType, UTCDateTime, _enum
from storage.models.enums import AgendaItemKind


class AgendaItem(Base):
    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AgendaItemKind] = mapped_column(_enum(AgendaItemKind))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    added_by: Mapped[str | None] = mapped_column(String(32))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    discussed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Agencies that need to attend this item (other business); None means every agency.
    agency_ids: Mapped[list[int] | None] = mapped_column(JSONType)
    # Carried over from a meeting where it was not discussed.
    rolled_over: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Taken off the agenda by a coordinator (kept so it is not collected again).
    removed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The case's status before this item's record marked it discussed (None: the record
    # changed no status); a correction to "not discussed" puts it back.
    discussed_from: Mapped[str | None] = mapped_column(String(32))
    # A case's time slot: its place in the meeting's order and its length in minutes (None:
    # after the previous case, the forum's default length; see domain/slots.py).
    slot_position: Mapped[int | None] = mapped_column(Integer)
    slot_minutes: Mapped[int | None] = mapped_column(Integer)


class MinuteEntry(Base):
    """The minutes of one case at one meeting: what was decided or agreed as the next step
    (guarded free text, a case detail) and the next follow-up date."""

    __tablename__ = "minute_entries"
    __table_args__ = (UniqueConstraint("meeting_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str | None] = mapped_column(Text)
    follow_up_on: Mapped[dt.date | None] = mapped_column(Date())
    recorded_by: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
