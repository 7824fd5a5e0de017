"""The enumerations stored in columns (plain strings with a CHECK constraint)."""

from __future__ import annotations

import enum


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
