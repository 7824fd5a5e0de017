"""Deviations (avvikelser) and the agencies they concern."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, TimestampMixin, UTCDateTime
from storage.models.forums import Agency

deviation_agencies = Table(
    "deviation_agencies",
    Base.metadata,
    Column("deviation_id", ForeignKey("deviations.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_deviation_agencies_agency_id", "agency_id"),
)


class Deviation(TimestampMixin, Base):
    """Avvikelse: a report that collaboration failed in a case or routine."""

    __tablename__ = "deviations"

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    reported_by: Mapped[str] = mapped_column(String(32))
    reporting_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    kind: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )

    agencies: Mapped[list[Agency]] = relationship(
        secondary="deviation_agencies", order_by="Agency.position"
    )
    followed_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    follow_up_note: Mapped[str | None] = mapped_column(Text)
    # The follow-up's outcome (a key of domain.cases.FOLLOW_UP_OUTCOMES) and who recorded it.
    follow_up_outcome: Mapped[str | None] = mapped_column(String(32))
    followed_up_by: Mapped[str | None] = mapped_column(String(32))
