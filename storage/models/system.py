"""The audit log and its chains, scheduled effects and the outbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, JSONType, UTCDateTime, _enum
from storage.models.enums import AuditAction, EffectStatus, OutboxStatus

# The actor of what the bot does by itself (a schedule change removing a meeting, retention,
# the automatic reports): one name, which the audit log is searched by.
SYSTEM_ACTOR = "samverkan"


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


# Which outbox rows are failed agenda posts (ix_outbox_failed_agenda_posts): the status
# and the key of an agenda's first post (``agenda:<meeting>:p0``).
FAILED_AGENDA_STATUS = OutboxStatus.FAILED.value
FAILED_AGENDA_KEYS = "agenda:%:p0"
# (The colon escaped: ``:p0`` in a text() clause would be a bind parameter.)
FAILED_AGENDA_POSTS = (
    f"status = '{FAILED_AGENDA_STATUS}' AND dedupe_key LIKE '{FAILED_AGENDA_KEYS}'"
).replace(":", "\\:")


class OutboxMessage(Base):
    """A Slack Web API call waiting to be delivered (with retries), exactly once per key."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_outbox_pending", "status", "not_before"),
        # Keys looked up by their beginning, in byte order: PostgreSQL's collation is not
        # C (domain.scheduling.key_starts; a plain, redundant index on SQLite).
        Index(
            "ix_outbox_dedupe_key_pattern",
            "dedupe_key",
            postgresql_ops={"dedupe_key": "varchar_pattern_ops"},
        ),
        # The failed agenda posts, for the pass that tells coordinators (migration 0023;
        # domain.agenda.posting.report_failed_posts names the predicate in literal values).
        Index(
            "ix_outbox_failed_agenda_posts",
            "not_before",
            "id",
            postgresql_where=text(FAILED_AGENDA_POSTS),
            sqlite_where=text(FAILED_AGENDA_POSTS),
        ),
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
