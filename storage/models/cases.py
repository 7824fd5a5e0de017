"""Cases, their consent and legal grounds, events and reference counters."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, JSONType, TimestampMixin, UTCDateTime, _enum
from storage.models.enums import CaseStatus, ConsentGiver, Effect, LegalGroundKind, SipStatus
from storage.models.forums import Agency, Meeting

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
    # Indexed: the consent jobs of every pass find the consents ending in a few days
    # (migration 0022).
    expires_on: Mapped[dt.date | None] = mapped_column(Date(), index=True)
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
