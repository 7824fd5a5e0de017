"""The agenda (dagordning) of a meeting: collected, previewed, posted once, kept up to date.

Items are rows (``AgendaItem``) so a coordinator can reorder or remove them and so what
was not discussed rolls over to the next meeting. Automatic items (new cases, cases for
follow-up, actions due) are collected idempotently whenever the agenda is built; other
business is added by members.

Posting is a scheduled effect keyed by (forum, "agenda", occurrence): exactly one replica
claims it, the messages go through the outbox (retries, never doubled), and a bot that was
down catches up — late but before the meeting starts — or tells the coordinators when the
meeting has already started.
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, joinedload

from domain import actions as action_service
from domain import audit, meetings, privacy, scheduling
from domain import slots as slot_service
from domain.access import Access
from domain.clock import Clock
from domain.errors import DomainError, InvalidInput
from domain.i18n import N_, Locale, N_plural, Translator, normalize_locale
from storage.models import (
    Action,
    ActionStatus,
    AgendaItem,
    AgendaItemKind,
    AuditAction,
    Case,
    CaseStatus,
    EffectStatus,
    Forum,
    Meeting,
    MeetingStatus,
    Member,
    OutboxMessage,
    OutboxStatus,
    RatingRound,
    RatingRoundStatus,
    Role,
    ScheduledEffect,
)

AGENDA = "agenda"
PREVIEW = "agenda_preview"
MISSED = "agenda_missed"
# Later than this after the agenda time, the post says it is late.
GRACE = dt.timedelta(minutes=5)
# Agendas older than this are not caught up any more (a bot down for weeks).
CATCH_UP = dt.timedelta(days=14)
ITEM_TEXT_MAX = 300
# A preview that would reach the coordinator less than this before the agenda is not sent.
PREVIEW_MIN_LEAD = dt.timedelta(hours=2)

SECTION_ORDER: tuple[AgendaItemKind, ...] = (
    AgendaItemKind.NEW_CASE,
    AgendaItemKind.FOLLOW_UP,
    AgendaItemKind.SITUATION_PICTURE,
    AgendaItemKind.ACTION,
    AgendaItemKind.OTHER,
)


class NoUpcomingMeeting(DomainError):
    msgid = N_("The forum has no upcoming meeting. Check its schedule with /samverkan forum.")


class ItemNotFound(DomainError):
    msgid = N_("That agenda item no longer exists.")


@dataclass(frozen=True)
class AgendaLine:
    item_id: int
    kind: AgendaItemKind
    position: int
    # Who needs to attend; empty means every agency.
    agencies: tuple[str, ...]
    reference: str | None = None
    raising_agency: str | None = None
    text: str | None = None
    owner: str | None = None
    due_on: dt.date | None = None
    overdue: bool = False
    action_done: bool = False
    rolled_over: bool = False
    discussed: bool = False
    added_by: str | None = None
    # Actions linked to an area: the area's highest level (the situation picture's measure)
    # in the last round closed before the action was made, and in the latest after it was done.
    area: str | None = None
    rating_before: int | None = None
    rating_after: int | None = None
    action_id: int | None = None
    # A done action's followed-up effect (yes / partly / no); None while it is awaited.
    effect: str | None = None


@dataclass(frozen=True)
class Agenda:
    team_id: str
    channel_id: str
    forum_id: int
    forum_name: str
    locale: Locale
    timezone: str
    meeting_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: MeetingStatus
    lines: tuple[AgendaLine, ...]
    late: bool = False
    version: int = 0
    # The situation picture of a closed rating round for this meeting (domain.ratings).
    picture: Any | None = None
    # The forum rates its situation (so the agenda keeps a place for the picture).
    picture_expected: bool = False
    # The meeting's rating round is still open: the picture comes when it closes (then).
    picture_pending_until: dt.datetime | None = None
    # Actions due beyond the agenda's limit (domain.actions.AGENDA_ACTIONS_MAX).
    more_actions: int = 0
    # The cases' time slots, in order (domain.slots), and the forum's meeting link.
    slots: tuple[slot_service.Slot, ...] = ()
    meeting_link: str | None = None

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def slot_of(self, item_id: int) -> slot_service.Slot | None:
        return next((s for s in self.slots if s.item_id == item_id), None)

    def section(self, kind: AgendaItemKind) -> list[AgendaLine]:
        return [line for line in self.lines if line.kind == kind]

    def agencies_needed(self) -> list[str]:
        """Every agency named by some item ([] when an item concerns everyone)."""
        if any(not line.agencies for line in self.lines):
            return []
        return sorted({a for line in self.lines for a in line.agencies})


# A function turning an agenda into the Slack messages that show it (Block Kit lives in
# handlers; the domain only passes the payloads on). Messages beyond the first go in its thread.
Render = Callable[[Agenda], list[dict[str, Any]]]
PictureLoader = Callable[[Session, Meeting], Any | None]


# --- collecting items -------------------------------------------------------------------------


def _next_position(session: Session, meeting_id: int) -> int:
    top = session.scalar(
        select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting_id)
    )
    return (top or 0) + 1


def collect(
    session: Session, clock: Clock, meeting: Meeting, forum: Forum
) -> action_service.DueActions:
    """Add the automatic items that are not on this meeting's agenda yet (idempotent).
    Returns the agenda's due actions (:func:`build` lists their details from the same)."""
    now = clock.now()
    # What is on the agenda already, and its last position: one statement.
    on_agenda_cases: set[int] = set()
    on_agenda_actions: set[int] = set()
    position = 1
    for case_id, action_id, at in session.execute(
        select(AgendaItem.case_id, AgendaItem.action_id, AgendaItem.position).where(
            AgendaItem.meeting_id == meeting.id
        )
    ):
        if case_id is not None:
            on_agenda_cases.add(case_id)
        if action_id is not None:
            on_agenda_actions.add(action_id)
        position = max(position, at + 1)
    # New cases for this meeting, and new cases raised without a meeting (none was planned);
    # cases marked for follow-up that are not yet on a later meeting's agenda. One statement
    # (bounded by the forum and the status), split by status here.
    fresh = (CaseStatus.NEW, CaseStatus.SCHEDULED)
    found = session.execute(
        select(Case.id, Case.meeting_id, Case.status)
        .where(
            Case.forum_id == forum.id,
            or_(
                and_(
                    Case.status.in_(fresh),
                    or_(Case.meeting_id == meeting.id, Case.meeting_id.is_(None)),
                    Case.created_at <= now,
                ),
                and_(
                    Case.status == CaseStatus.FOLLOW_UP,
                    or_(
                        Case.meeting_id.is_(None),
                        Case.meeting_id == meeting.id,
                        exists().where(
                            Meeting.id == Case.meeting_id,
                            Meeting.forum_id == forum.id,  # this forum's meetings (indexed)
                            Meeting.starts_at < meeting.starts_at,
                        ),
                    ),
                ),
            ),
        )
        .order_by(Case.id)
    ).all()
    new_cases = [(c, m) for c, m, status in found if status in fresh]
    follow_ups = [(c, m) for c, m, status in found if status == CaseStatus.FOLLOW_UP]
    # Rows, not objects: what is collected is inserted in one statement (Thursday builds
    # thousands of agendas; the ORM's unit of work per item was most of a build's CPU).
    items: list[dict[str, Any]] = []
    unplanned: list[int] = []
    for kind, cases in (
        (AgendaItemKind.NEW_CASE, new_cases),
        (AgendaItemKind.FOLLOW_UP, follow_ups),
    ):
        for case_id, case_meeting in cases:
            if case_id in on_agenda_cases:
                continue
            if case_meeting is None:
                unplanned.append(case_id)
            items.append(
                {"kind": kind, "case_id": case_id, "action_id": None, "position": position}
            )
            on_agenda_cases.add(case_id)
            position += 1
    if unplanned:
        session.execute(
            update(Case)
            .where(Case.id.in_(unplanned), Case.meeting_id.is_(None))
            .values(meeting_id=meeting.id)
        )
    day = meeting.starts_at.astimezone(zoneinfo.ZoneInfo(forum.timezone)).date()
    # Open and due by the meeting day, or done without a follow-up of effect: the same
    # capped list the agenda shows details for (the rest is "and N more").
    due = action_service.agenda_due_actions(session, forum.id, day)
    for action_id in due.ids:
        if action_id in on_agenda_actions:
            continue
        items.append(
            {
                "kind": AgendaItemKind.ACTION,
                "case_id": None,
                "action_id": action_id,
                "position": position,
            }
        )
        position += 1
    if items:
        common = {"meeting_id": meeting.id, "added_at": now, "discussed": False}
        # Core on the table: one multi-row INSERT (the ORM splits rows by the keys set).
        session.execute(
            insert(AgendaItem.__table__),  # type: ignore[arg-type]
            [{**common, **item} for item in items],
        )
    return due


def add_item(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    text: str,
    agency_ids: Sequence[int] = (),
    meeting_id: int | None = None,
) -> tuple[AgendaItem, Meeting]:
    """Other business from a member, for the given or the next meeting."""
    forum = access.forum
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InvalidInput(N_("Write what you want to raise."), field="text")
    if len(cleaned) > ITEM_TEXT_MAX:
        raise InvalidInput(
            N_plural("Keep it under {n} character.", "Keep it under {n} characters."),
            field="text",
            n=ITEM_TEXT_MAX,
        )
    privacy.check_text(cleaned, field="text", today=clock.now().date())
    if meeting_id is not None:
        meeting = meetings.get_meeting(session, forum, meeting_id)
    else:
        upcoming = meetings.upcoming(session, clock, forum, count=1)
        if not upcoming:
            raise NoUpcomingMeeting()
        meeting = upcoming[0]
    if meeting.status != MeetingStatus.PLANNED or meeting.starts_at <= clock.now():
        raise InvalidInput(N_("That meeting has already started or is cancelled."))
    known = {a.id for a in forum.agencies if a.active}
    chosen = [a for a in agency_ids if a in known]
    item = AgendaItem(
        meeting_id=meeting.id,
        kind=AgendaItemKind.OTHER,
        text=cleaned,
        position=_next_position(session, meeting.id),
        added_by=access.member.slack_user_id,
        added_at=clock.now(),
        discussed=False,
        agency_ids=chosen or None,
    )
    session.add(item)
    session.flush()
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.CREATE,
        object_type="agenda_item",
        object_ref=str(item.id),
    )
    return item, meeting


def _item(session: Session, forum: Forum, item_id: int) -> tuple[AgendaItem, Meeting]:
    item = session.get(AgendaItem, item_id)
    meeting = session.get(Meeting, item.meeting_id) if item else None
    if item is None or meeting is None or meeting.forum_id != forum.id or item.removed:
        raise ItemNotFound()
    return item, meeting


def move_item(
    session: Session, clock: Clock, *, access: Access, item_id: int, step: int
) -> Meeting:
    """Move an item up (-1) or down (+1) within its section (coordinators)."""
    _require_coordinator(access)
    item, meeting = _item(session, access.forum, item_id)
    siblings = [i for i in _items(session, meeting.id) if i.kind == item.kind and not i.removed]
    index = next(n for n, i in enumerate(siblings) if i.id == item.id)
    other = index + step
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
        positions = sorted(i.position for i in siblings)
        if len(set(positions)) < len(positions):  # ties: renumber the section
            positions = list(range(positions[0], positions[0] + len(positions)))
        for pos, sibling in zip(positions, siblings, strict=True):
            sibling.position = pos
        session.flush()  # the caller publishes it (publish_update) if already posted
    return meeting


def remove_item(session: Session, clock: Clock, *, access: Access, item_id: int) -> Meeting:
    """Take an item off the agenda (coordinators, or the member who added it)."""
    item, meeting = _item(session, access.forum, item_id)
    if not (access.is_coordinator or item.added_by == access.member.slack_user_id):
        raise InvalidInput(N_("Only a coordinator or the member who added it can remove it."))
    item.removed = True
    session.flush()  # the caller publishes it (publish_update) if already posted
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.DELETE,
        object_type="agenda_item",
        object_ref=str(item.id),
    )
    return meeting


def _require_coordinator(access: Access) -> None:
    if not access.is_coordinator:
        from domain.errors import NotCoordinator

        raise NotCoordinator()


def _items(session: Session, meeting_id: int) -> list[AgendaItem]:
    return list(
        session.scalars(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting_id)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
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
) -> Agenda:
    """The agenda as it stands (after collecting automatic items)."""
    due: action_service.DueActions | None = None
    if meeting.status == MeetingStatus.PLANNED and meeting.starts_at > clock.now():
        due = collect(session, clock, meeting, forum)
    items = [i for i in _items(session, meeting.id) if not i.removed]
    agencies = {a.id: a.name for a in forum.agencies}
    case_ids = [i.case_id for i in items if i.case_id is not None]
    action_ids = [i.action_id for i in items if i.action_id is not None]
    # The cases with their agencies in one statement (a join, not a second select).
    cases = (
        {
            c.id: c
            for c in session.scalars(
                select(Case).where(Case.id.in_(case_ids)).options(joinedload(Case.agencies))
            ).unique()
        }
        if case_ids
        else {}
    )
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
    # Area and before/after ratings of the actions (the actions feature computes them).
    action_info = {}
    more_actions = 0
    if action_ids:
        listed = action_service.actions_for_agenda(
            session, forum, meeting, clock.now().astimezone(zone).date(), listed=due, loaded=actions
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
            needed = [case.raising_agency_id, *(a.id for a in case.agencies)]
            names = tuple(dict.fromkeys(agencies[a] for a in needed if a in agencies))
            lines.append(
                AgendaLine(
                    **base,
                    agencies=names,
                    reference=case.reference,
                    raising_agency=agencies.get(case.raising_agency_id),
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
                    overdue=action.status == ActionStatus.OPEN and action.due_on < day,
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
    )


# --- posting ----------------------------------------------------------------------------------


def _post_key(meeting_id: int, part: int) -> str:
    return f"agenda:{meeting_id}:p{part}"


def _update_key(meeting_id: int, version: int, part: int) -> str:
    return f"agenda:{meeting_id}:v{version}:p{part}"


def agenda_posted(session: Session, meeting: Meeting) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    ScheduledEffect.forum_id == meeting.forum_id,
                    ScheduledEffect.kind == AGENDA,
                    ScheduledEffect.subject == "",
                    ScheduledEffect.occurrence == meeting.occurrence,
                    ScheduledEffect.status == EffectStatus.DONE,
                )
            )
        )
    )


def _enqueue_post(
    session: Session, clock: Clock, agenda: Agenda, messages: list[dict[str, Any]]
) -> None:
    first = _post_key(agenda.meeting_id, 0)
    for part, message in enumerate(messages):
        payload: dict[str, Any] = {"channel": agenda.channel_id, **message}
        if part:
            # Continuations go in the first message's thread, after it and in order.
            payload[scheduling.AFTER] = _post_key(agenda.meeting_id, part - 1)
            payload[scheduling.FILL] = {"thread_ts": first}
        scheduling.enqueue(
            session,
            clock,
            team_id=agenda.team_id,
            method="chat.postMessage",
            payload=payload,
            dedupe_key=_post_key(agenda.meeting_id, part),
        )


def _posted_parts(session: Session, meeting_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).where(OutboxMessage.dedupe_key.like(f"agenda:{meeting_id}:p%"))
        )
        or 0
    )


def publish_update(
    session: Session,
    clock: Clock,
    meeting: Meeting,
    forum: Forum,
    render: Render,
    *,
    picture: PictureLoader | None = None,
) -> bool:
    """After a change to a posted agenda: update the posted messages in place (chat.update),
    once per version. Parts the new agenda no longer needs are emptied; extra parts are
    added to the thread. Returns False when nothing was posted yet."""
    if not agenda_posted(session, meeting) or not _posted_parts(session, meeting.id):
        return False  # not posted yet, or so long ago that retention removed its outbox rows
    # Every publication is a new version: each updates the posted messages exactly once.
    meeting.agenda_version = (meeting.agenda_version or 0) + 1
    session.flush()
    agenda = build(session, clock, meeting, forum, picture=picture)
    messages = render(agenda)
    posted = _posted_parts(session, meeting.id)
    version = agenda.version
    previous = _update_key(meeting.id, version - 1, 0) if version > 1 else _post_key(meeting.id, 0)
    for part in range(max(posted, len(messages))):
        if part < len(messages):
            message = messages[part]
        else:
            message = {
                "text": "…",
                "blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "…"}]}],
            }
        if part < posted:
            payload: dict[str, Any] = {
                "channel": forum.channel_id,
                **message,
                scheduling.FILL: {"ts": _post_key(meeting.id, part)},
                scheduling.AFTER: previous,
            }
            method = "chat.update"
            key = _update_key(meeting.id, version, part)
        else:
            payload = {
                "channel": forum.channel_id,
                **message,
                scheduling.AFTER: _post_key(meeting.id, part - 1),
                scheduling.FILL: {"thread_ts": _post_key(meeting.id, 0)},
            }
            method = "chat.postMessage"
            key = _post_key(meeting.id, part)
        scheduling.enqueue(
            session, clock, team_id=forum.team_id, method=method, payload=payload, dedupe_key=key
        )
    return True


def _preview_key(meeting_id: int, user: str) -> str:
    return f"{PREVIEW}:{meeting_id}:{user}"


def refresh_previews(
    session: Session,
    clock: Clock,
    meeting: Meeting,
    forum: Forum,
    render: Callable[[Agenda], dict[str, Any]],
    *,
    picture: PictureLoader | None = None,
) -> int:
    """Bring the coordinators' preview DMs of this meeting up to date in place (chat.update
    through the outbox, after the preview and any earlier update): after a change to the
    agenda, or when the rating round closes and the picture is there. Returns how many."""
    if meeting.status != MeetingStatus.PLANNED:
        return 0
    sent = session.execute(
        select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.like(f"{PREVIEW}:{meeting.id}:%"),
            OutboxMessage.method == "chat.postMessage",
        )
    ).all()
    if not sent:
        return 0
    agenda = build(session, clock, meeting, forum, picture=picture)
    message = render(agenda)
    refreshed = 0
    for (key,) in sent:
        user = key.rsplit(":", 1)[-1]
        updates = int(
            session.scalar(select(func.count()).where(OutboxMessage.dedupe_key.like(f"{key}:u%")))
            or 0
        )
        previous = f"{key}:u{updates}" if updates else key
        scheduling.enqueue(
            session,
            clock,
            team_id=forum.team_id,
            method="chat.update",
            payload={
                "channel": user,  # a DM: the gateway opens it to find its D… id
                **message,
                scheduling.FILL: {"ts": key},
                scheduling.AFTER: previous,
            },
            dedupe_key=f"{key}:u{updates + 1}",
        )
        refreshed += 1
    return refreshed


def meetings_listing_action(session: Session, clock: Clock, action_id: int) -> list[Meeting]:
    """Meetings not yet past by a week whose agenda lists this action (to update them when
    the action changes)."""
    return list(
        session.scalars(
            select(Meeting)
            .join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
            .where(
                AgendaItem.action_id == action_id,
                AgendaItem.removed.is_(False),
                Meeting.status != MeetingStatus.CANCELLED,
                Meeting.starts_at > clock.now() - dt.timedelta(days=7),
            )
            .order_by(Meeting.starts_at)
        )
    )


@dataclass
class AgendaRun:
    posted: int = 0
    late: int = 0
    missed: int = 0
    previews: int = 0


def due_meetings(
    session: Session, clock: Clock, kind: str, *, limit: int = 500
) -> list[tuple[int, int]]:
    """(meeting id, forum id) of meetings whose agenda (or preview) is due and not yet done."""
    now = clock.now()
    due_column = Meeting.agenda_due_at
    if kind == PREVIEW:
        # A preview only helps while there is time to act on it before the agenda goes out.
        window_end = now + dt.timedelta(days=1)
        condition = and_(due_column <= window_end, due_column > now + PREVIEW_MIN_LEAD)
    else:
        condition = and_(due_column <= now, due_column > now - CATCH_UP)
    done = exists().where(
        ScheduledEffect.forum_id == Meeting.forum_id,
        ScheduledEffect.kind == kind,
        ScheduledEffect.subject == "",
        ScheduledEffect.occurrence == Meeting.occurrence,
        ScheduledEffect.status.in_((EffectStatus.DONE, EffectStatus.SKIPPED)),
    )
    rows = session.execute(
        select(Meeting.id, Meeting.forum_id)
        .join(Forum, Forum.id == Meeting.forum_id)
        .where(
            Meeting.status == MeetingStatus.PLANNED,
            condition,
            # A forum created after its agenda time does not get that agenda late.
            due_column >= Forum.created_at,
            ~done,
        )
        .order_by(due_column, Meeting.id)
        .limit(limit)
    ).all()
    return [(r[0], r[1]) for r in rows]


def _coordinators(session: Session, forum_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                Member.forum_id == forum_id,
                Member.active.is_(True),
                Member.role.in_((Role.COORDINATOR, Role.ADMIN)),
            )
            .order_by(Member.id)
        )
    )


def post_due(
    sessions: Callable[[], Session],
    clock: Clock,
    *,
    replica: str,
    render: Render,
    render_preview: Callable[[Agenda], dict[str, Any]],
    picture: PictureLoader | None = None,
    budget_seconds: float = 45.0,
    batch: int = 500,
    workers: int = 1,
) -> AgendaRun:
    """Claim and post every due agenda, and every due preview; one transaction each.

    Works through batches until nothing new is due (a Thursday with thousands of forums) or
    the time budget is spent; the next pass goes on where this one stopped. With ``workers``
    > 1 several meetings are handled at once (each in its own transaction and claim)."""
    run = AgendaRun()
    started = time.monotonic()

    def one(kind: str, meeting_id: int) -> str | None:
        with sessions() as session, session.begin():
            if kind == PREVIEW:
                sent = _preview_one(
                    session,
                    clock,
                    meeting_id,
                    replica=replica,
                    render=render_preview,
                    picture=picture,
                )
                return "preview" if sent else None
            return _post_one(
                session, clock, meeting_id, replica=replica, render=render, picture=picture
            )

    pool = (
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agenda")
        if workers > 1
        else None
    )
    try:
        for kind in (AGENDA, PREVIEW):
            seen: set[int] = set()
            while time.monotonic() - started < budget_seconds:
                with sessions() as session, session.begin():
                    due = [m for m, _f in due_meetings(session, clock, kind, limit=batch)]
                    fresh = [m for m in due if m not in seen]
                    _prepare_effects(session, kind, fresh)
                if not fresh:
                    break  # done, or what is left is claimed by another replica
                seen.update(fresh)
                if pool is not None:
                    outcomes = list(pool.map(lambda m, k=kind: one(k, m), fresh))
                else:
                    outcomes = [one(kind, m) for m in fresh]
                for outcome in outcomes:
                    if outcome in ("posted", "late"):
                        run.posted += 1
                        run.late += outcome == "late"
                    elif outcome == "missed":
                        run.missed += 1
                    elif outcome == "preview":
                        run.previews += 1
    finally:
        if pool is not None:
            pool.shutdown()
    return run


def _prepare_effects(session: Session, kind: str, meeting_ids: Sequence[int]) -> None:
    """The effect rows of a batch of due agendas (or previews), committed before any is
    claimed: a claim then finds its row and skips it while another replica holds it (an
    insert racing another transaction's uncommitted insert would wait for that commit)."""
    if not meeting_ids or session.get_bind().dialect.name != "postgresql":
        return
    shift = dt.timedelta(days=1) if kind == PREVIEW else dt.timedelta()
    rows = [
        {
            "forum_id": forum_id,
            "kind": kind,
            "subject": "",
            "occurrence": occurrence,
            "due_at": due_at - shift,
            "status": EffectStatus.PENDING,
            "late": False,
        }
        for forum_id, occurrence, due_at in session.execute(
            select(Meeting.forum_id, Meeting.occurrence, Meeting.agenda_due_at)
            .where(Meeting.id.in_(meeting_ids))
            .order_by(Meeting.forum_id, Meeting.occurrence)  # one order: no deadlock
        )
        if due_at is not None
    ]
    if rows:
        session.execute(
            postgresql.insert(ScheduledEffect)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["forum_id", "kind", "subject", "occurrence"])
        )


def _claim(
    session: Session, clock: Clock, meeting_id: int, kind: str, *, replica: str
) -> tuple[Meeting, Forum, ScheduledEffect] | None:
    """The meeting's agenda (or preview, due a day earlier) for this replica, or None."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.agenda_due_at is None:
        return None
    key = (
        ScheduledEffect.forum_id == meeting.forum_id,
        ScheduledEffect.kind == kind,
        ScheduledEffect.subject == "",
        ScheduledEffect.occurrence == meeting.occurrence,
    )
    forum = session.get(Forum, meeting.forum_id)
    assert forum is not None
    if session.get_bind().dialect.name == "postgresql":
        # Another replica building this agenda holds its effect's row until it commits:
        # skip it rather than wait for its whole build (replicas walk the same due list).
        # The row is there (post_due prepared it): claimed here as scheduling.claim would.
        effect = session.scalar(
            select(ScheduledEffect).where(*key).with_for_update(skip_locked=True)
        )
        if effect is not None:
            now = clock.now()
            lease_over = effect.lease_until is not None and effect.lease_until < now
            if not (
                effect.status == EffectStatus.PENDING
                or (effect.status == EffectStatus.CLAIMED and lease_over)
            ):
                return None  # done, skipped, or claimed by a live replica
            effect.status = EffectStatus.CLAIMED
            effect.claimed_by = replica
            effect.claimed_at = now
            effect.lease_until = now + scheduling.LEASE
            return meeting, forum, effect
        if session.scalar(select(exists().where(*key))):
            return None  # another replica holds it
    due_at = meeting.agenda_due_at - (dt.timedelta(days=1) if kind == PREVIEW else dt.timedelta())
    claimed = scheduling.claim(
        session,
        clock,
        forum_id=forum.id,
        kind=kind,
        subject="",
        occurrence=meeting.occurrence,
        due_at=due_at,
        replica=replica,
    )
    return None if claimed is None else (meeting, forum, claimed)


def _post_one(
    session: Session,
    clock: Clock,
    meeting_id: int,
    *,
    replica: str,
    render: Render,
    picture: PictureLoader | None,
) -> str | None:
    claimed = _claim(session, clock, meeting_id, AGENDA, replica=replica)
    if claimed is None:
        return None  # gone, another replica has it, or it is done
    meeting, forum, effect = claimed
    now = clock.now()
    if meeting.status != MeetingStatus.PLANNED:
        effect.status = EffectStatus.SKIPPED
        return None
    if now >= meeting.starts_at:
        # Too late to be of use: say so to the coordinators instead of posting.
        effect.status = EffectStatus.SKIPPED
        effect.done_at = now
        effect.note = "missed"
        t = Translator(normalize_locale(forum.language))
        zone = zoneinfo.ZoneInfo(forum.timezone)
        text = t(
            "The agenda for {forum}'s meeting {when} was not posted: the bot was not running "
            "at the agenda time, and the meeting has already started.",
            forum=forum.name,
            when=t.day_time(meeting.starts_at, zone),
        )
        for user in _coordinators(session, forum.id):
            scheduling.enqueue(
                session,
                clock,
                team_id=forum.team_id,
                method="chat.postMessage",
                payload={"channel": user, "text": text},
                dedupe_key=f"{MISSED}:{meeting.id}:{user}",
            )
        return "missed"
    assert meeting.agenda_due_at is not None  # _claim only returns meetings that have one
    late = now > meeting.agenda_due_at + GRACE
    agenda = build(session, clock, meeting, forum, late=late, picture=picture)
    _enqueue_post(session, clock, agenda, render(agenda))
    scheduling.complete(session, clock, effect, late=late)
    return "late" if late else "posted"


def _preview_one(
    session: Session,
    clock: Clock,
    meeting_id: int,
    *,
    replica: str,
    render: Callable[[Agenda], dict[str, Any]],
    picture: PictureLoader | None,
) -> bool:
    claimed = _claim(session, clock, meeting_id, PREVIEW, replica=replica)
    if claimed is None:
        return False
    meeting, forum, effect = claimed
    agenda = build(session, clock, meeting, forum, picture=picture)
    message = render(agenda)
    for user in _coordinators(session, forum.id):
        scheduling.enqueue(
            session,
            clock,
            team_id=forum.team_id,
            method="chat.postMessage",
            payload={"channel": user, **message},
            dedupe_key=_preview_key(meeting.id, user),
        )
    scheduling.complete(session, clock, effect)
    return True


# --- after the meeting ------------------------------------------------------------------------


def record_meeting(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    meeting_id: int,
    attended_agency_ids: Sequence[int],
    discussed_item_ids: Sequence[int],
) -> Meeting | None:
    """Attendance and discussed items; what was not discussed rolls over to the next
    meeting. Returns that next meeting (None if there is none planned)."""
    _require_coordinator(access)
    forum = access.forum
    meeting = meetings.get_meeting(session, forum, meeting_id)
    if meeting.starts_at > clock.now():
        raise InvalidInput(N_("The meeting has not started yet."))
    if meeting.status == MeetingStatus.CANCELLED:
        raise InvalidInput(N_("This meeting is already cancelled."))
    known = {a.id for a in forum.agencies}
    meeting.attendance = [a for a in attended_agency_ids if a in known]
    meeting.status = MeetingStatus.HELD
    discussed = set(discussed_item_ids)
    following = meetings.next_meeting(session, forum, after=max(meeting.starts_at, clock.now()))
    position = _next_position(session, following.id) if following else 0
    for item in _items(session, meeting.id):
        if item.removed:
            continue
        item.discussed = item.id in discussed
        case = session.get(Case, item.case_id) if item.case_id else None
        if item.discussed:
            if case is not None and case.status in (CaseStatus.NEW, CaseStatus.SCHEDULED):
                case.status = CaseStatus.DISCUSSED
            continue
        if following is None:
            continue
        if case is not None:
            if case.status == CaseStatus.CLOSED:
                continue
            case.meeting_id = following.id
        if item.kind == AgendaItemKind.ACTION:
            continue  # collected again for the next meeting while still due
        session.add(
            AgendaItem(
                meeting_id=following.id,
                kind=item.kind,
                case_id=item.case_id,
                text=item.text,
                position=position,
                added_by=item.added_by,
                added_at=clock.now(),
                discussed=False,
                agency_ids=item.agency_ids,
                rolled_over=True,
            )
        )
        position += 1
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.UPDATE,
        object_type="meeting",
        object_ref=str(meeting.id),
        detail={"attended": len(meeting.attendance), "discussed": len(discussed)},
    )
    session.flush()
    return following


def items_for_record(session: Session, meeting: Meeting) -> list[tuple[int, str]]:
    """(item id, short label) for the attendance modal: references, text, no details."""
    rows = []
    for item in _items(session, meeting.id):
        if item.removed:
            continue
        if item.case_id is not None:
            ref = session.scalar(select(Case.reference).where(Case.id == item.case_id))
            rows.append((item.id, ref or "?"))
        elif item.action_id is not None:
            rows.append((item.id, f"#{item.action_id}"))
        else:
            rows.append((item.id, (item.text or "")[:60]))
    return rows


# --- posts Slack refused for good -------------------------------------------------------------


def report_failed_posts(session: Session, clock: Clock, *, limit: int = 100) -> int:
    """Tell the coordinators, once, when an agenda could not be posted for a reason retrying
    will not fix (the bot was removed from the channel, the channel was archived …)."""
    failed = session.execute(
        select(OutboxMessage.dedupe_key, OutboxMessage.last_error)
        .where(
            OutboxMessage.status == OutboxStatus.FAILED,
            OutboxMessage.dedupe_key.like("agenda:%:p0"),
            OutboxMessage.created_at > clock.now() - CATCH_UP,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    told = 0
    for key, error in failed:
        try:
            meeting_id = int(key.split(":")[1])
        except (IndexError, ValueError):
            continue
        meeting = session.get(Meeting, meeting_id)
        forum = session.get(Forum, meeting.forum_id) if meeting else None
        if meeting is None or forum is None:
            continue
        t = Translator(normalize_locale(forum.language))
        reason = str(error or "")[:80]
        text = t(
            "The agenda for {forum}'s meeting {when} could not be posted in <#{channel}> "
            "({reason}). Invite me to the channel (/invite @Samverkan); then "
            "/samverkan dagordning shows the agenda.",
            forum=forum.name,
            when=t.day_time(meeting.starts_at, zoneinfo.ZoneInfo(forum.timezone)),
            channel=forum.channel_id,
            reason=reason or "?",
        )
        for user in _coordinators(session, forum.id):
            scheduling.enqueue(
                session,
                clock,
                team_id=forum.team_id,
                method="chat.postMessage",
                payload={"channel": user, "text": text},
                dedupe_key=f"agenda_failed:{meeting.id}:{user}",
            )
            told += 1
    return told
