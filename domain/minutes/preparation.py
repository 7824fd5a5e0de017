"""Inför mötet: what each member sees before a meeting."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import agenda as agenda_service
from domain import disclosure, meetings
from domain import slots as slot_service
from domain.access import Access
from domain.clock import Clock
from domain.i18n import Locale, normalize_locale
from domain.minutes.base import PREPARATION_SURFACE
from storage.models import (
    Forum,
    Meeting,
    MeetingStatus,
    Member,
    MinuteEntry,
)

# --- Inför mötet ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrepCase:
    reference: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    agencies: tuple[str, ...]
    needed: bool  # the reader's agency is needed for this case
    details: bool = False  # the rule let the reader see the details below
    concerns: tuple[str, ...] = ()
    age_band: str | None = None
    last_agreed: str | None = None


@dataclass(frozen=True)
class Preparation:
    user: str
    forum_id: int
    forum_name: str
    channel_id: str
    locale: Locale
    timezone: str
    meeting_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    link: str | None
    cases: tuple[PrepCase, ...] = field(default_factory=tuple)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def needed(self) -> list[PrepCase]:
        return [c for c in self.cases if c.needed]


def last_agreed(session: Session, case_id: int, before: dt.datetime) -> str | None:
    """The decision of the case's latest minutes from a meeting before ``before``."""
    return session.scalar(
        select(MinuteEntry.decision)
        .join(Meeting, Meeting.id == MinuteEntry.meeting_id)
        .where(
            MinuteEntry.case_id == case_id,
            MinuteEntry.decision.is_not(None),
            Meeting.starts_at < before,
        )
        .order_by(Meeting.starts_at.desc(), MinuteEntry.id.desc())
        .limit(1)
    )


def prepare(session: Session, clock: Clock, access: Access, meeting: Meeting) -> Preparation:
    """Inför mötet for one member: every case's slot, details where the rule allows."""
    forum = access.forum
    if meeting.status == MeetingStatus.PLANNED and meeting.starts_at > clock.now():
        agenda_service.collect(session, clock, meeting, forum)
    planned = slot_service.slots_for(session, meeting, forum)
    cases = disclosure.load_cases(session, [s.case_id for s in planned])
    rows: list[PrepCase] = []
    for slot in planned:
        needed = access.member.agency_id in slot.agency_ids
        base = PrepCase(
            reference=slot.reference,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            agencies=slot.agencies,
            needed=needed,
        )
        case = cases.get(slot.case_id)
        if not needed or case is None:
            rows.append(base)
            continue
        decision = disclosure.disclose(
            session, clock, access, case, surface_name=PREPARATION_SURFACE
        )
        if not decision.allowed:
            rows.append(base)
            continue
        rows.append(
            PrepCase(
                reference=slot.reference,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                agencies=slot.agencies,
                needed=True,
                details=True,
                concerns=tuple(case.concerns or ()),
                age_band=case.age_band,
                last_agreed=last_agreed(session, case.id, meeting.starts_at),
            )
        )
    return Preparation(
        user=access.member.slack_user_id,
        forum_id=forum.id,
        forum_name=forum.name,
        channel_id=forum.channel_id,
        locale=normalize_locale(forum.language),
        timezone=forum.timezone,
        meeting_id=meeting.id,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        link=slot_service.meeting_link(forum),
        cases=tuple(rows),
    )


def next_preparations(
    session: Session, clock: Clock, *, team_id: str, user_id: str
) -> list[Preparation]:
    """Inför mötet for App Home: the next meeting of each of the user's forums that has
    cases on its agenda."""
    members = session.scalars(
        select(Member)
        .join(Forum, Forum.id == Member.forum_id)
        .where(
            Member.slack_user_id == user_id,
            Member.active.is_(True),
            Forum.team_id == team_id,
        )
        .order_by(Member.forum_id)
    ).all()
    found = []
    for member in members:
        forum = session.get(Forum, member.forum_id)
        if forum is None:
            continue
        upcoming = meetings.upcoming(session, clock, forum, count=1)
        if not upcoming:
            continue
        prep = prepare(session, clock, Access(forum=forum, member=member), upcoming[0])
        if prep.cases:
            found.append(prep)
    return found
