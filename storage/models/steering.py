"""Feedback, case criteria and steering levels (issue #16)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, TimestampMixin, UTCDateTime

# --- feedback, case criteria and steering levels (issue #16) -----------------------------


class CaseCriterion(TimestampMixin, Base):
    """One of a forum's (at most 8) criteria for cases that belong there (Samba's checklist).

    A criterion taken out of the list is kept inactive, so earlier cases' ticks still count.
    """

    __tablename__ = "case_criteria"
    __table_args__ = (Index("ix_case_criteria_forum_position", "forum_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(75))
    help: Mapped[str | None] = mapped_column(String(150))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


case_criteria_met = Table(
    "case_criteria_met",
    Base.metadata,
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("criterion_id", ForeignKey("case_criteria.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_case_criteria_met_criterion_id", "criterion_id"),
)


class FeedbackSurvey(Base):
    """The short survey after a closed case, one per agency that took part (answered once).

    Scores 1–5: did the collaboration help the child or family, were the right agencies
    there, was it worth raising. Who answered is not stored (results are never per person).
    """

    __tablename__ = "feedback_surveys"
    __table_args__ = (
        UniqueConstraint("case_id", "agency_id"),
        Index("ix_feedback_surveys_forum_answered", "forum_id", "answered_at"),
        Index("ix_feedback_surveys_due_at", "due_at"),
        CheckConstraint("helped BETWEEN 1 AND 5", name="helped_1_to_5"),
        CheckConstraint("right_agencies BETWEEN 1 AND 5", name="right_agencies_1_to_5"),
        CheckConstraint("worth_raising BETWEEN 1 AND 5", name="worth_raising_1_to_5"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    # When the survey (then its one reminder) is due; None once nothing more is due.
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    helped: Mapped[int | None] = mapped_column(SmallInteger)
    right_agencies: Mapped[int | None] = mapped_column(SmallInteger)
    worth_raising: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)


class FamilyView(Base):
    """The family's view of a closed case, recorded once by the raising agency (no names)."""

    __tablename__ = "family_views"
    __table_args__ = (
        UniqueConstraint("case_id"),
        Index("ix_family_views_forum_recorded", "forum_id", "recorded_at"),
        CheckConstraint("heard IN ('yes', 'partly', 'no')", name="heard_value"),
        CheckConstraint("helped IN ('yes', 'partly', 'no')", name="helped_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    recorded_by: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    heard: Mapped[str] = mapped_column(String(8))
    helped: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text)


class ForumLink(Base):
    """A steering forum (styrgrupp, 2+2, nämnd) follows an operational forum's figures."""

    __tablename__ = "forum_links"
    __table_args__ = (UniqueConstraint("steering_forum_id", "forum_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    steering_forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PlanItem(TimestampMixin, Base):
    """The annual activity plan (aktivitetsplan) of a steering forum: strategies, goals and
    sub-goals (``parent_id``); activities are actions linked through ``plan_activities``."""

    __tablename__ = "plan_items"
    __table_args__ = (
        Index("ix_plan_items_forum_year", "forum_id", "year", "position"),
        CheckConstraint("kind IN ('strategy', 'goal')", name="kind_value"),
        CheckConstraint("result IS NULL OR result IN ('yes', 'partly', 'no')", name="result_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_items.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Goals: when the steering forum follows them up, and what it found.
    follow_up_on: Mapped[dt.date | None] = mapped_column(Date())
    result: Mapped[str | None] = mapped_column(String(8))
    result_comment: Mapped[str | None] = mapped_column(Text)
    followed_up_by: Mapped[str | None] = mapped_column(String(32))
    followed_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(32))


plan_activities = Table(
    "plan_activities",
    Base.metadata,
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column("plan_item_id", ForeignKey("plan_items.id", ondelete="CASCADE"), nullable=False),
    Index("ix_plan_activities_plan_item_id", "plan_item_id"),
)
