"""Audit events: who read, changed, exported or deleted what, and when.

Recorded through the caller's session so the event commits (or rolls back) together with
the read or change it describes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from domain.clock import Clock
from storage.models import AuditAction, AuditEvent


def record(
    session: Session,
    clock: Clock,
    *,
    actor: str,
    action: AuditAction,
    object_type: str,
    object_ref: str,
    team_id: str | None = None,
    forum_id: int | None = None,
    actor_agency_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=clock.now(),
        team_id=team_id,
        forum_id=forum_id,
        actor=actor,
        actor_agency_id=actor_agency_id,
        action=action,
        object_type=object_type,
        object_ref=object_ref,
        detail=detail,
    )
    session.add(event)
    session.flush()  # gives the event its id; it commits or rolls back with the change
    return event
