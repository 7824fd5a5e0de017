"""Actions (insatser) and their history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, JSONType, TimestampMixin, UTCDateTime, _enum
from storage.models.cases import Case
from storage.models.enums import ActionStatus, Effect
from storage.models.forums import Agency, Area


class Action(TimestampMixin, Base):
    """An insats/åtgärd owned by an agency and a person, with a due date and follow-up.

    ``owner`` is None when the owner left the forum: the action stays with the agency until
    someone takes it over. Every change is kept in :class:`ActionEvent`.
    """

    __tablename__ = "actions"
    __table_args__ = (
        Index("ix_actions_forum_status_due", "forum_id", "status", "due_on"),
        # The action lists page by due date: the forum's, an agency's, an owner's.
        Index("ix_actions_forum_due_id", "forum_id", "due_on", "id"),
        Index("ix_actions_forum_agency_due", "forum_id", "owning_agency_id", "due_on"),
        Index("ix_actions_forum_owner_due", "forum_id", "owner", "due_on"),
        Index("ix_actions_forum_status_completed", "forum_id", "status", "completed_at", "id"),
        # Reminders: the open actions whose next reminder is due, in every forum.
        Index("ix_actions_status_remind_at", "status", "remind_at"),
        # The agenda: open actions due by the meeting day, done ones awaiting follow-up.
        Index("ix_actions_forum_status_effect_due", "forum_id", "status", "effect", "due_on", "id"),
        # One action per submitted modal: a retried submission finds it.
        UniqueConstraint("forum_id", "submission_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(Text)
    owning_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    owner: Mapped[str | None] = mapped_column(String(32), index=True)
    due_on: Mapped[dt.date] = mapped_column(Date())
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    area_id: Mapped[int | None] = mapped_column(
        ForeignKey("areas.id", ondelete="SET NULL"), index=True
    )
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="SET NULL"), index=True
    )
    hoped_effect: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ActionStatus] = mapped_column(_enum(ActionStatus), default=ActionStatus.OPEN)
    effect: Mapped[Effect | None] = mapped_column(_enum(Effect))
    created_by: Mapped[str] = mapped_column(String(32))
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # When the next reminder is due (08:00 local on a working day, or the end of a snooze);
    # None when no reminder is planned (done, cancelled, no owner).
    remind_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The owner put the reminder off until then (1 hour, tomorrow morning).
    snoozed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Follow-up of effect (ja/delvis/nej in ``effect``), with a comment and who recorded it.
    follow_up_comment: Mapped[str | None] = mapped_column(Text)
    followed_up_by: Mapped[str | None] = mapped_column(String(32))
    followed_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    submission_key: Mapped[str | None] = mapped_column(String(64))

    owning_agency: Mapped[Agency] = relationship(foreign_keys=[owning_agency_id])
    case: Mapped[Case | None] = relationship(foreign_keys=[case_id])
    area: Mapped[Area | None] = relationship(foreign_keys=[area_id])


class ActionEvent(Base):
    """The history of an action: who changed what, when (created, done, new date with the
    reason, handed over, owner left, follow-up, snoozed)."""

    __tablename__ = "action_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    # What changed: old and new values (dates, owners, status, effect).
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # The reason or comment the actor gave (privacy-guarded).
    note: Mapped[str | None] = mapped_column(Text)
