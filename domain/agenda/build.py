"""The agenda as shown: items in sections, with actions and ratings."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from domain import actions as action_service
from domain import slots as slot_service
from domain.agenda.base import SECTION_ORDER, Agenda, AgendaLine, PictureLoader
from domain.agenda.items import _items, collect
from domain.clock import Clock
from domain.i18n import normalize_locale
from storage.models import (
    Action,
    ActionStatus,
    Agency,
    AgendaItemKind,
    CaseStatus,
    Forum,
    Meeting,
    MeetingStatus,
    Member,
    RatingRound,
    RatingRoundStatus,
    Role,
)

# --- building ---------------------------------------------------------------------------------


def build(
    session: Session,
    clock: Clock,
    meeting: Meeting,
    forum: Forum,
    *,
    late: bool = False,
    picture: PictureLoader | None = None,
    cover: bool = False,
) -> Agenda:
    """The agenda as it stands (after collecting automatic items). ``cover``: also the
    agencies a case needs that no one can attend for (the coordinators' preview)."""
    due: action_service.DueActions | None = None
    if meeting.status == MeetingStatus.PLANNED and meeting.starts_at > clock.now():
        due = collect(session, clock, meeting, forum)
    items = [i for i in _items(session, meeting.id) if not i.removed]
    agencies = {a.id: a.name for a in forum.agencies}
    case_ids = [i.case_id for i in items if i.case_id is not None]
    action_ids = [i.action_id for i in items if i.action_id is not None]
    # The columns the lines and slots read, not the cases loaded whole with their agencies.
    cases = slot_service.case_facts(session, case_ids)
    # Loaded with what actions_for_agenda lists about them: it takes these, not loads again.
    actions = (
        {
            a.id: a
            for a in session.scalars(
                select(Action)
                .where(Action.id.in_(action_ids))
                .options(*action_service.agenda_action_links())
            ).unique()
        }
        if action_ids
        else {}
    )
    zone = zoneinfo.ZoneInfo(forum.timezone)
    day = meeting.starts_at.astimezone(zone).date()
    today = clock.now().astimezone(zone).date()
    # Area and before/after ratings of the actions (the actions feature computes them).
    action_info = {}
    more_actions = 0
    if action_ids:
        listed = action_service.actions_for_agenda(
            session, forum, meeting, today, listed=due, loaded=actions
        )
        action_info = {a.id: a for a in (*listed.due, *listed.follow_up)}
        more_actions = listed.more
    lines: list[AgendaLine] = []
    for item in items:
        base: dict[str, Any] = {
            "item_id": item.id,
            "kind": item.kind,
            "position": item.position,
            "rolled_over": item.rolled_over,
            "discussed": item.discussed,
            "added_by": item.added_by,
        }
        if item.case_id is not None:
            case = cases.get(item.case_id)
            if case is None or case.status == CaseStatus.CLOSED:
                continue
            # The raising agency first (see CaseFacts), then the case's.
            needed = case.agency_ids
            names = tuple(dict.fromkeys(agencies[a] for a in needed if a in agencies))
            lines.append(
                AgendaLine(
                    **base,
                    agencies=names,
                    reference=case.reference,
                    raising_agency=agencies.get(needed[0]),
                )
            )
        elif item.action_id is not None:
            action = actions.get(item.action_id)
            if action is None or action.status == ActionStatus.CANCELLED:
                continue
            info = action_info.get(action.id)
            lines.append(
                AgendaLine(
                    **base,
                    agencies=(agencies.get(action.owning_agency_id, ""),),
                    text=None,  # never in the channel: see handlers/blocks/agenda.py
                    owner=action.owner,
                    due_on=action.due_on,
                    # Against today, as every other surface says it (the agenda is
                    # built again when an action changes): an action due before the
                    # meeting but not yet is "due …", not "overdue since" a day to come.
                    overdue=action.status == ActionStatus.OPEN and action.due_on < today,
                    action_done=action.status == ActionStatus.DONE,
                    reference=info.case_reference if info else None,
                    area=info.area if info else None,
                    rating_before=(
                        info.rating_before.highest if info and info.rating_before else None
                    ),
                    rating_after=info.rating_after.highest if info and info.rating_after else None,
                    action_id=action.id,
                    effect=action.effect.value if action.effect else None,
                )
            )
        else:
            names = tuple(agencies[a] for a in (item.agency_ids or []) if a in agencies)
            lines.append(AgendaLine(**base, agencies=names, text=item.text))
    order = {kind: n for n, kind in enumerate(SECTION_ORDER)}
    lines.sort(key=lambda line: (order[line.kind], line.position, line.item_id))
    shown = picture(session, meeting) if picture else None
    pending = (
        session.scalar(
            select(RatingRound.deadline_at).where(
                RatingRound.meeting_id == meeting.id,
                RatingRound.status == RatingRoundStatus.OPEN,
            )
        )
        if shown is None
        else None
    )
    return Agenda(
        team_id=forum.team_id,
        channel_id=forum.channel_id,
        forum_id=forum.id,
        forum_name=forum.name,
        locale=normalize_locale(forum.language),
        timezone=forum.timezone,
        meeting_id=meeting.id,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        status=meeting.status,
        lines=tuple(lines),
        late=late,
        version=meeting.agenda_version or 0,
        picture=shown,
        picture_expected=(forum.settings or {}).get("situation_picture", "none") != "none",
        picture_pending_until=pending,
        more_actions=more_actions,
        slots=tuple(slot_service.compute(meeting, forum, items, cases)),
        meeting_link=slot_service.meeting_link(forum),
        uncovered=_uncovered(session, forum, day, lines) if cover else (),
    )


def _uncovered(
    session: Session, forum: Forum, day: dt.date, lines: list[AgendaLine]
) -> tuple[str, ...]:
    """The agencies the agenda's cases need (in the agenda's order) that have no active
    member who is not marked away on the meeting day (away_until is the last day away)."""
    needed = dict.fromkeys(
        agency
        for line in lines
        if line.kind in (AgendaItemKind.NEW_CASE, AgendaItemKind.FOLLOW_UP)
        for agency in line.agencies
    )
    if not needed:
        return ()
    present = set(
        session.scalars(
            select(Agency.name)
            .join(Member, Member.agency_id == Agency.id)
            .where(
                Member.forum_id == forum.id,
                Member.active.is_(True),
                Member.role != Role.REVIEWER,
                or_(Member.away_until.is_(None), Member.away_until < day),
            )
        )
    )
    return tuple(a for a in needed if a not in present)
