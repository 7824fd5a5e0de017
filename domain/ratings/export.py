"""Rating rounds exported for the coordinators (xlsx rows: answers and the summary)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import audit
from domain.access import Access
from domain.clock import Clock
from domain.errors import (
    InvalidInput,
    NotCoordinator,
)
from domain.i18n import N_, Translator
from domain.ratings.picture import build_picture
from domain.ratings.settings import EXPORT_MAX_ROUNDS, _forum_t, _zone, level_label
from storage.models import (
    AuditAction,
    Meeting,
    MeetingStatus,
    RatingRound,
    RatingRoundStatus,
)

# --- exports ----------------------------------------------------------------------------------

EXPORT_HEADERS = (
    N_("Meeting"),
    N_("Area"),
    N_("Agency"),
    N_("Level"),
    N_("Level name"),
    N_("Highest"),
    N_("Median"),
    N_("Agencies rated"),
    N_("Disagreement"),
    N_("Trend (highest level)"),
    N_("Trend (median)"),
)
SUMMARY_HEADERS = EXPORT_HEADERS[:2] + EXPORT_HEADERS[5:]
TREND_LABELS: dict[str, str] = {
    "up": N_("↑ worse"),
    "down": N_("↓ better"),
    "same": N_("→ same"),
}


@dataclass(frozen=True)
class ExportData:
    forum_code: str
    rounds: int
    headers: tuple[str, ...]
    rows: list[list[Any]]
    summary_headers: tuple[str, ...]
    summary: list[list[Any]]


def export_rounds(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    start: dt.date | None = None,
    end: dt.date | None = None,
    t: Translator | None = None,
) -> ExportData:
    """Every agency × every area of the closed rounds in a period (or the latest round), for
    the municipality's lägesbild. Levels only: comments stay in Slack. Coordinators only;
    the export is an audited event. Headers and values in ``t``'s language (the forum's,
    Swedish by default, when not given)."""
    if not access.is_coordinator:
        raise NotCoordinator()
    forum = access.forum
    zone = _zone(forum)
    query = (
        select(RatingRound)
        .join(Meeting, RatingRound.meeting_id == Meeting.id)
        .where(RatingRound.forum_id == forum.id, RatingRound.status == RatingRoundStatus.CLOSED)
    )
    if start is not None or end is not None:
        if start and end and end < start:
            raise InvalidInput(N_("The period ends before it starts."))
        if start:
            query = query.where(
                Meeting.starts_at >= dt.datetime.combine(start, dt.time(0), tzinfo=zone)
            )
        if end:
            query = query.where(
                Meeting.starts_at
                < dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
            )
        rounds = session.scalars(query.order_by(Meeting.starts_at).limit(EXPORT_MAX_ROUNDS)).all()
    else:
        latest = query.where(Meeting.status != MeetingStatus.CANCELLED)  # the status's latest
        rounds = session.scalars(latest.order_by(Meeting.starts_at.desc()).limit(1)).all()
    if not rounds:
        raise InvalidInput(N_("There is no closed rating round to export yet."))
    t = t or _forum_t(forum)
    rows: list[list[Any]] = []
    summary: list[list[Any]] = []
    for rating_round in rounds:
        picture = build_picture(session, rating_round)
        day = picture.meeting_start.astimezone(zone).date().isoformat()
        for area in picture.areas:
            aggregate = [
                area.highest,
                area.median,
                area.count,
                t("Yes") if area.disagreement else t("No"),
                t(TREND_LABELS[area.trend]) if area.trend else "",
                t(TREND_LABELS[area.median_trend]) if area.median_trend else "",
            ]
            summary.append([day, area.name, *aggregate])
            for agency, level in zip(picture.agencies, area.levels, strict=True):
                rows.append(
                    [
                        day,
                        area.name,
                        agency,
                        level,
                        level_label(t, level) if level else "",
                        *aggregate,
                    ]
                )
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.EXPORT,
        object_type="rating_round",
        object_ref=",".join(str(r.id) for r in rounds)[:64],
        detail={"rounds": len(rounds)},
    )
    return ExportData(
        forum_code=forum.code,
        rounds=len(rounds),
        headers=tuple(t(h) for h in EXPORT_HEADERS),
        rows=rows,
        summary_headers=tuple(t(h) for h in SUMMARY_HEADERS),
        summary=summary,
    )
