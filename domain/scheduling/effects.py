"""Scheduled effects: claimed by one replica before they act, done once.

A row keyed by (forum, kind, subject, occurrence); see :mod:`domain.scheduling`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain.clock import Clock
from storage.models import EffectStatus, ScheduledEffect

LEASE = dt.timedelta(minutes=5)


def _insert(session: Session) -> Callable[..., Any]:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def claim(
    session: Session,
    clock: Clock,
    *,
    forum_id: int,
    kind: str,
    subject: str,
    occurrence: dt.datetime,
    due_at: dt.datetime,
    replica: str,
) -> ScheduledEffect | None:
    """Claim one effect for this replica, or None if it is done or claimed by a live one."""
    now = clock.now()
    session.execute(
        _insert(session)(ScheduledEffect)
        .values(
            forum_id=forum_id,
            kind=kind,
            subject=subject,
            occurrence=occurrence,
            due_at=due_at,
            status=EffectStatus.PENDING,
            late=False,
        )
        .on_conflict_do_nothing(index_elements=["forum_id", "kind", "subject", "occurrence"])
    )
    claimed = session.scalar(
        update(ScheduledEffect)
        .where(
            ScheduledEffect.forum_id == forum_id,
            ScheduledEffect.kind == kind,
            ScheduledEffect.subject == subject,
            ScheduledEffect.occurrence == occurrence,
            or_(
                ScheduledEffect.status == EffectStatus.PENDING,
                and_(
                    ScheduledEffect.status == EffectStatus.CLAIMED,
                    ScheduledEffect.lease_until < now,
                ),
            ),
        )
        .values(
            status=EffectStatus.CLAIMED,
            claimed_by=replica,
            claimed_at=now,
            lease_until=now + LEASE,
        )
        .returning(ScheduledEffect.id)
    )
    return session.get(ScheduledEffect, claimed) if claimed is not None else None


def complete(
    session: Session, clock: Clock, effect: ScheduledEffect, *, late: bool = False
) -> None:
    effect.status = EffectStatus.DONE
    effect.done_at = clock.now()
    effect.late = late
