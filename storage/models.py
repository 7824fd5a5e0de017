"""SQLAlchemy 2.x models for every core object of Samverkan.

Names follow the product vocabulary (forum, agency, member, case, consent, rating round,
meeting, agenda, action, audit event, deviation). Timestamps are timezone-aware UTC
everywhere; SQLite gives naive values back, so :class:`UTCDateTime` restores the zone.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Constraint names that are stable across SQLite and PostgreSQL, so Alembic can alter them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend; naive input is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime (use the injected clock)")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# JSONB on PostgreSQL (plain json has no equality operator: DISTINCT/GROUP BY fail there).
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
    }


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings with a CHECK constraint: portable and readable in SQL.
    return Enum(
        cls,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        name=cls.__name__.lower(),
    )


class Role(enum.StrEnum):
    MEMBER = "member"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    # Granskare: does the monthly log check and reviews the audit log; sees no case details.
    REVIEWER = "reviewer"


class AreaKind(enum.StrEnum):
    PLACE = "place"
    THEME = "theme"


class CaseStatus(enum.StrEnum):
    NEW = "new"
    SCHEDULED = "scheduled"
    DISCUSSED = "discussed"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"


class ConsentGiver(enum.StrEnum):
    GUARDIANS = "guardians"
    CHILD = "child"
    BOTH = "both"
    NONE = "none"


class LegalGroundKind(enum.StrEnum):
    """Grounds other than consent for sharing a case's details with an agency (a short list
    the coordinator chooses from; the municipality's own secrecy assessment names the law)."""

    NECESSARY = "necessary"  # nödvändigt för att fullgöra verksamheten (10 kap. 2 § OSL)
    PROTECTION = "protection"  # akut skydd för barnets liv eller hälsa
    DUTY_TO_REPORT = "duty_to_report"  # uppgiftsskyldighet enligt lag (10 kap. 28 § OSL)
    DECISION = "decision"  # beslut enligt LVU eller av domstol


class SipStatus(enum.StrEnum):
    NOT_RELEVANT = "not_relevant"
    NEEDED = "needed"
    STARTED = "started"


class MeetingStatus(enum.StrEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"
    HELD = "held"


class AgendaItemKind(enum.StrEnum):
    NEW_CASE = "new_case"
    FOLLOW_UP = "follow_up"
    SITUATION_PICTURE = "situation_picture"
    ACTION = "action"
    OTHER = "other"


class RatingRoundStatus(enum.StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Effect(enum.StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class AuditAction(enum.StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    EXPORT = "export"


class EffectStatus(enum.StrEnum):
    """State of a scheduled effect row (agenda post, round open/remind/close, reminders)."""

    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    SKIPPED = "skipped"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Forum(TimestampMixin, Base):
    """A standing meeting group bound to one Slack channel."""

    __tablename__ = "forums"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id"),
        UniqueConstraint("team_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
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


class Agency(Base):
    """An organisation (verksamhet) taking part in a forum."""

    __tablename__ = "agencies"
    __table_args__ = (UniqueConstraint("forum_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(75))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    forum: Mapped[Forum] = relationship(back_populates="agencies")


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
    __table_args__ = (UniqueConstraint("forum_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(75))
    kind: Mapped[AreaKind] = mapped_column(_enum(AreaKind), default=AreaKind.THEME)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    forum: Mapped[Forum] = relationship(back_populates="areas")


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


case_agencies = Table(
    "case_agencies",
    Base.metadata,
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_case_agencies_agency_id", "agency_id"),
)

consent_agencies = Table(
    "consent_agencies",
    Base.metadata,
    Column("consent_id", ForeignKey("consents.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_consent_agencies_agency_id", "agency_id"),
)


class Case(TimestampMixin, Base):
    """An ärende raised by a member on behalf of their agency. Never holds identities."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("forum_id", "reference"),
        UniqueConstraint("forum_id", "year", "sequence"),
        # One case per submitted modal: a retried or double-clicked submission finds it.
        UniqueConstraint("forum_id", "submission_key"),
        # The case list pages newest first, filtered by status or by who raised it.
        Index("ix_cases_forum_id_id", "forum_id", "id"),
        Index("ix_cases_forum_status_id", "forum_id", "status", "id"),
        Index("ix_cases_forum_raised_by_id", "forum_id", "raised_by", "id"),
        Index("ix_cases_forum_agency_id", "forum_id", "raising_agency_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    reference: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(SmallInteger)
    sequence: Mapped[int] = mapped_column(Integer)
    raised_by: Mapped[str] = mapped_column(String(32))
    raising_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    summary: Mapped[str | None] = mapped_column(Text)
    concerns: Mapped[list[str]] = mapped_column(JSONType, default=list)
    age_band: Mapped[str] = mapped_column(String(8))
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus), default=CaseStatus.NEW)
    sip: Mapped[SipStatus] = mapped_column(_enum(SipStatus), default=SipStatus.NOT_RELEVANT)
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="SET NULL"), index=True
    )
    outcome: Mapped[str | None] = mapped_column(Text)
    effect: Mapped[Effect | None] = mapped_column(_enum(Effect))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    # Legal hold (e.g. a request from IVO or a court): retention skips the case while set.
    legal_hold_reason: Mapped[str | None] = mapped_column(String(300))
    legal_hold_by: Mapped[str | None] = mapped_column(String(32))
    legal_hold_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    submission_key: Mapped[str | None] = mapped_column(String(64))

    raising_agency: Mapped[Agency] = relationship(foreign_keys=[raising_agency_id])
    meeting: Mapped[Meeting | None] = relationship()
    agencies: Mapped[list[Agency]] = relationship(
        secondary=case_agencies, order_by="Agency.position"
    )
    consents: Mapped[list[Consent]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Consent.id"
    )
    legal_grounds: Mapped[list[LegalGround]] = relationship(
        back_populates="case",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="LegalGround.id",
    )


class CaseCounter(Base):
    """The last reference number per forum and year: incremented atomically, so two members
    submitting at the same moment never get the same reference."""

    __tablename__ = "case_counters"

    forum_id: Mapped[int] = mapped_column(
        ForeignKey("forums.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class CaseEvent(Base):
    """The history of a case: status changes and edits, with who and when."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class Consent(Base):
    """Samtycke: who gave it, when, until when, for which agencies, and withdrawal."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    given_by: Mapped[ConsentGiver] = mapped_column(_enum(ConsentGiver))
    given_on: Mapped[dt.date | None] = mapped_column(Date())
    expires_on: Mapped[dt.date | None] = mapped_column(Date())
    recorded_by: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by: Mapped[str | None] = mapped_column(String(32))

    case: Mapped[Case] = relationship(back_populates="consents")
    agencies: Mapped[list[Agency]] = relationship(secondary=consent_agencies)


class LegalGround(Base):
    """A recorded legal ground other than consent (e.g. 10 kap. 2 § OSL, a decision under
    LVU) that lets one agency see a case's details, as an active consent would. Recorded
    by a coordinator, with the day of the assessment and an optional non-identifying note;
    ending it keeps the row (the register shows both)."""

    __tablename__ = "legal_grounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    ground: Mapped[LegalGroundKind] = mapped_column(_enum(LegalGroundKind))
    decided_on: Mapped[dt.date] = mapped_column(Date())
    note: Mapped[str | None] = mapped_column(String(300))
    recorded_by: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ended_by: Mapped[str | None] = mapped_column(String(32))

    case: Mapped[Case] = relationship(back_populates="legal_grounds")
    agency: Mapped[Agency] = relationship()


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


class AuditEvent(Base):
    """Who read or changed what, when. Written in the same transaction as the read/change.

    Append-only: database triggers (migration 0008) refuse an UPDATE except the one-time
    sealing and a DELETE except retention's. An event is inserted *unsealed*; shortly after
    commit the sealer (domain.audit) gives it its place in its workspace's chain (``chain``,
    ``seq``), the hash of the event before it and its own keyed hash (HMAC with ``key_id``),
    so an edited or removed event is found by ``samverkan audit verify``.
    ``forum_id`` and ``actor_agency_id`` are plain numbers, not foreign keys: the log must
    outlive what it describes (a foreign key's SET NULL would be an update).

    On PostgreSQL the table is partitioned by month on ``at`` (the partitions live in the
    schema ``audit_partitions``), so the primary key includes ``at``; SQLite keeps one table
    (there ``id`` alone is the rowid).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_forum_at", "forum_id", "at"),
        Index("ix_audit_events_object", "object_type", "object_ref", "at"),
        Index("ix_audit_events_chain_seq", "chain", "seq"),
        # What the sealer looks for: small, because events are sealed within a second.
        Index(
            "ix_audit_events_unsealed",
            "chain",
            "id",
            postgresql_where=text("hash IS NULL"),
            sqlite_where=text("hash IS NULL"),
        ),
        {"postgresql_partition_by": "RANGE (at)"},
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    forum_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(32), index=True)
    actor_agency_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[AuditAction] = mapped_column(_enum(AuditAction))
    object_type: Mapped[str] = mapped_column(String(32))
    object_ref: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # The chain the event belongs to: its workspace (team id), or "global".
    chain: Mapped[str] = mapped_column(String(32))
    # Set once by the sealer, after commit (see domain.audit). ``key_id`` names the
    # SAMVERKAN_AUDIT_KEYS key that signed it; NULL on version-1 (unkeyed) events.
    seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(16))


class AuditChain(Base):
    """The head of one audit chain (a workspace's, or the global one): locked by its sealer.

    ``start_seq``/``start_hash`` say where the chain begins after retention removed its
    oldest events (a documented cut); ``start_at`` is when the event at ``start_seq`` was
    recorded (so retention finds due chains without scanning events);
    ``kept_below_start`` counts the events before the cut kept under legal hold;
    ``purge_below_seq`` is set only inside the retention transaction, and the DELETE trigger
    allows removing events below it and nothing else. Triggers keep the head moving
    forward only and refuse deleting it.
    """

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(String(32), unique=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    start_seq: Mapped[int] = mapped_column(BigInteger, default=1)
    start_hash: Mapped[str] = mapped_column(String(64))
    start_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    kept_below_start: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    purge_below_seq: Mapped[int | None] = mapped_column(BigInteger)


class ScheduledEffect(Base):
    """One scheduled effect per (forum, kind, subject, occurrence): claimed by one replica only.

    ``subject`` tells effects of one kind apart within a forum (an action's or a round's id);
    it is never NULL (NULLs would not collide in the unique key). A claim whose lease ran out
    (the replica died) may be taken over.
    """

    __tablename__ = "scheduled_effects"
    __table_args__ = (
        UniqueConstraint("forum_id", "kind", "subject", "occurrence"),
        Index("ix_scheduled_effects_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64), default="", server_default="")
    occurrence: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[EffectStatus] = mapped_column(_enum(EffectStatus), default=EffectStatus.PENDING)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)


class OutboxMessage(Base):
    """A Slack Web API call waiting to be delivered (with retries), exactly once per key."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_outbox_pending", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A replica claims a row (conditional UPDATE) before delivering it; an expired lease
    # means the claimer died and another replica may deliver it.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    result_ts: Mapped[str | None] = mapped_column(String(32))


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


# --- Slack OAuth stores -------------------------------------------------------------------
# Same columns as slack_sdk's SQLAlchemy installation and state stores (a test keeps them in
# step), declared here so Alembic manages them and storage imports nothing from Slack. Token
# columns are wider because the gateway stores them Fernet-encrypted.
_TOKEN = String(500)

slack_installations = Table(
    "slack_installations",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("enterprise_url", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", _TOKEN),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", _TOKEN),
    Column("bot_token_expires_at", DateTime),
    Column("user_id", String(32), nullable=False),
    Column("user_token", _TOKEN),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", _TOKEN),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", _TOKEN),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("token_type", String(32)),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index(
        "slack_installations_idx",
        "client_id",
        "enterprise_id",
        "team_id",
        "user_id",
        "installed_at",
    ),
)

slack_bots = Table(
    "slack_bots",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", _TOKEN),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", _TOKEN),
    Column("bot_token_expires_at", DateTime),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)

slack_oauth_states = Table(
    "slack_oauth_states",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
)
