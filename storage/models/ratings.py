"""Rating rounds, ratings and observations (the situation picture)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, _enum
from storage.models.enums import RatingRoundStatus


class RatingRound(Base):
    """For one meeting: every agency rates every area on the five-level scale."""

    __tablename__ = "rating_rounds"
    __table_args__ = (
        UniqueConstraint("meeting_id"),
        # The scheduler finds open rounds whose deadline passed with one indexed query.
        Index("ix_rating_rounds_status_deadline", "status", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    opens_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    deadline_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[RatingRoundStatus] = mapped_column(
        _enum(RatingRoundStatus), default=RatingRoundStatus.PLANNED
    )
    # The deadline the round opened with, when a coordinator extended it.
    original_deadline_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Closed by a coordinator before the deadline (who is in the audit log).
    closed_early: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Rating(Base):
    """One agency's answer for one area. Every answer is kept; the latest one stands."""

    __tablename__ = "ratings"
    __table_args__ = (
        Index("ix_ratings_round_agency_area", "round_id", "agency_id", "area_id"),
        # At most one current answer per agency and area in a round.
        Index(
            "uq_ratings_current",
            "round_id",
            "agency_id",
            "area_id",
            unique=True,
            postgresql_where=text("is_current"),
            sqlite_where=text("is_current"),
        ),
        CheckConstraint("level BETWEEN 1 AND 5", name="level_1_to_5"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rating_rounds.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    # 1 normalt · 2 avvikande · 3 oroande · 4 kritiskt · 5 allvarligt
    level: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_by: Mapped[str] = mapped_column(String(32))
    rated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)


class RatingObservation(Base):
    """What an agency sees right now ("Vad ser ni just nu?"): one optional free text per
    agency and round, written next to its ratings. Changing it replaces it."""

    __tablename__ = "rating_observations"
    __table_args__ = (UniqueConstraint("round_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rating_rounds.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    written_by: Mapped[str] = mapped_column(String(32))
    written_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
