"""Scheduled effects: claimed by one replica before they act, done once.

A row keyed by (forum, kind, subject, occurrence); see :mod:`domain.scheduling`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnExpressionArgument, Exists, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain.clock import Clock
from storage.models import EffectStatus, ScheduledEffect

LEASE = dt.timedelta(minutes=5)


def settled_near(
    forum_id: ColumnExpressionArgument[int], kind: str, midnight: dt.datetime
) -> Exists:
    """A correlated EXISTS for a query over forums: the forum's ``kind`` effect (subject "")
    whose occurrence is a local midnight within a day of UTC ``midnight`` (whatever the
    forum's zone) is done or skipped. For a per-pass job picking its forums in SQL."""
    return (
        select(ScheduledEffect.id)
        .where(
            ScheduledEffect.forum_id == forum_id,
            ScheduledEffect.kind == kind,
            ScheduledEffect.subject == "",
            ScheduledEffect.occurrence.between(
                midnight - dt.timedelta(days=1), midnight + dt.timedelta(days=1)
            ),
            ScheduledEffect.status.in_((EffectStatus.DONE, EffectStatus.SKIPPED)),
        )
        .exists()
    )


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
            open_to_claim(now),
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


def open_to_claim(now: dt.datetime) -> ColumnExpressionArgument[bool]:
    """An effect a pass may claim at ``now``: pending, or claimed by a replica whose lease
    ran out (it died or hung mid-way)."""
    return or_(
        ScheduledEffect.status == EffectStatus.PENDING,
        and_(ScheduledEffect.status == EffectStatus.CLAIMED, ScheduledEffect.lease_until < now),
    )


def release(effect: ScheduledEffect) -> None:
    """Hand a claimed effect back, due as before: a later pass (or replica) claims it."""
    effect.status = EffectStatus.PENDING
    effect.claimed_by = effect.claimed_at = effect.lease_until = None


def complete(
    session: Session, clock: Clock, effect: ScheduledEffect, *, late: bool = False
) -> None:
    effect.status = EffectStatus.DONE
    effect.done_at = clock.now()
    effect.late = late


class Claimable(Protocol):
    """What :func:`each_claimed` claims an effect for: the forum, the occurrence, when due."""

    @property
    def forum_id(self) -> int: ...

    @property
    def occurrence(self) -> dt.datetime: ...

    @property
    def due_at(self) -> dt.datetime: ...


Item = TypeVar("Item", bound=Claimable)


def each_claimed(
    sessions: Callable[[], Session],
    clock: Clock,
    due: Iterable[Item],
    *,
    kind: str,
    replica: str,
    act: Callable[[Session, Item], bool],
) -> int:
    """For each due item: claim its ``kind`` effect (subject "") for this replica and ``act``
    on it (queue its messages) in one transaction of its own, which marks the effect done,
    or skipped where ``act`` returns False (what it was for is gone). An item claimed
    already (done, or by a live replica) is passed over. Returns how many were done."""
    done = 0
    for item in due:
        with sessions() as session, session.begin():
            effect = claim(
                session,
                clock,
                forum_id=item.forum_id,
                kind=kind,
                subject="",
                occurrence=item.occurrence,
                due_at=item.due_at,
                replica=replica,
            )
            if effect is None:
                continue
            if not act(session, item):
                effect.status = EffectStatus.SKIPPED
                continue
            complete(session, clock, effect)
            done += 1
    return done
