"""Forums, their agencies, members, areas and meetings."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from storage.models.base import Base, JSONType, TimestampMixin, UTCDateTime, _enum
from storage.models.enums import AreaKind, MeetingStatus, Role


class Forum(TimestampMixin, Base):
    """A standing meeting group bound to one Slack channel."""

    __tablename__ = "forums"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id"),
        UniqueConstraint("team_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    # Indexed alone too: the bot's hello asks whether any workspace's forum meets in a
    # channel (domain.forums.channel_has_forum), by channel only (migration 0025).
    channel_id: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(80))
    code: Mapped[str] = mapped_column(String(8))
    template: Mapped[str | None] = mapped_column(String(32))
    # RFC 5545 RRULE without DTSTART, evaluated in ``timezone`` from ``meeting_start``.
    schedule_rrule: Mapped[str] = mapped_column(String(500))
    # The rule's fixed first day (DTSTART date), so INTERVAL/COUNT do not shift over time.
    schedule_anchor: Mapped[dt.date] = mapped_column(Date())
    meeting_start: Mapped[dt.time] = mapped_column(Time())
    meeting_minutes: Mapped[int] = mapped_column(Integer, default=120)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Stockholm")
    language: Mapped[str] = mapped_column(String(8), default="sv")
    # Per-forum choices that later features read (situation picture cadence, holidays …).
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_by: Mapped[str] = mapped_column(String(32))
    # Meetings rows exist up to here; the scheduler extends the horizon as time passes.
    meetings_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)

    # passive_deletes: the database cascades, so deleting a forum with cases works.
    agencies: Mapped[list[Agency]] = relationship(
        back_populates="forum",
        order_by="Agency.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    members: Mapped[list[Member]] = relationship(
        back_populates="forum", cascade="all, delete-orphan", passive_deletes=True
    )
    areas: Mapped[list[Area]] = relationship(
        back_populates="forum",
        order_by="Area.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


def name_key(name: str) -> str:
    """What makes two agency (or area) names of a forum the same name: their text in one
    Unicode form (NFKC: "ä" typed as one character or as "a" and a combining mark, or a
    full-width letter, is the same letter), case-folded ("FOS" and "fos" are one agency).
    Every comparison of names goes through here, and the database keeps it unique."""
    return unicodedata.normalize("NFKC", name).casefold()


def _name_key_default(context: DefaultExecutionContext) -> str:
    parameters = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return name_key(str(parameters["name"]))


def _name_key_column() -> Mapped[str | None]:
    """The name's :func:`name_key`, unique per forum: the database keeps one row per name
    whatever its case (a unique index on ``lower(name)`` would not: SQLite lowers ASCII
    letters only, and PostgreSQL as its locale says). Set from the name when a row is
    inserted, and from a new name given to a loaded row; names are never renamed (a save
    that names "fos" offers "FOS" again), so an UPDATE statement that changes ``name`` must
    set it too. Case-folding can lengthen a name ("ß" is "ss"): four times its length.

    NULL only in a row the release before wrote while this one was rolled out (it knows no
    key); the next release's migration fills those, makes the column NOT NULL and drops the
    unique (forum_id, name), which the release before names in its upsert."""
    return mapped_column(String(300), nullable=True, default=_name_key_default)


class Agency(Base):
    """An organisation (verksamhet) taking part in a forum."""

    __tablename__ = "agencies"
    # One per name whatever its case; (forum_id, name) only until older releases are gone.
    __table_args__ = (
        UniqueConstraint("forum_id", "name"),
        UniqueConstraint("forum_id", "name_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(75))
    name_key: Mapped[str | None] = _name_key_column()
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    forum: Mapped[Forum] = relationship(back_populates="agencies")

    @validates("name")
    def _keyed(self, _key: str, name: str) -> str:
        self.name_key = name_key(name)
        return name


class Member(TimestampMixin, Base):
    """A Slack user representing an agency in a forum."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("forum_id", "slack_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    slack_user_id: Mapped[str] = mapped_column(String(32), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.MEMBER)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    away_until: Mapped[dt.date | None] = mapped_column(Date())
    stand_in_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )

    forum: Mapped[Forum] = relationship(back_populates="members")
    agency: Mapped[Agency] = relationship()


class Area(Base):
    """A place or theme the forum rates in its situation picture."""

    __tablename__ = "areas"
    # One per name whatever its case; (forum_id, name) only until older releases are gone.
    __table_args__ = (
        UniqueConstraint("forum_id", "name"),
        UniqueConstraint("forum_id", "name_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(75))
    name_key: Mapped[str | None] = _name_key_column()
    kind: Mapped[AreaKind] = mapped_column(_enum(AreaKind), default=AreaKind.THEME)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    forum: Mapped[Forum] = relationship(back_populates="areas")

    @validates("name")
    def _keyed(self, _key: str, name: str) -> str:
        self.name_key = name_key(name)
        return name


class Meeting(Base):
    """One occurrence of a forum's schedule; keyed by the schedule occurrence it came from."""

    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("forum_id", "occurrence"),
        Index("ix_meetings_agenda_due", "status", "agenda_due_at"),
        Index("ix_meetings_forum_starts", "forum_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    occurrence: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[MeetingStatus] = mapped_column(
        _enum(MeetingStatus), default=MeetingStatus.PLANNED
    )
    has_situation_picture: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    attendance: Mapped[list[Any] | None] = mapped_column(JSONType)
    minutes: Mapped[str | None] = mapped_column(Text)
    agenda_channel_ts: Mapped[str | None] = mapped_column(String(32))
    # When the agenda is due (the forum's agenda time on the meeting's day), so finding due
    # agendas is one indexed query however many forums there are.
    agenda_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Bumped on every change after posting: each version updates the posted agenda once.
    agenda_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The public holiday that cancelled or moved this meeting, if any.
    holiday: Mapped[dt.date | None] = mapped_column(Date())
    # A coordinator moved or cancelled it by hand: schedule syncs leave it alone.
    changed_by: Mapped[str | None] = mapped_column(String(32))
    # A one-off meeting a coordinator added (not from the schedule; changed_by says who):
    # its occurrence is its own first start, which no schedule occurrence is.
    extra: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
