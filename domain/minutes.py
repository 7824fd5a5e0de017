"""The meeting day for the people in it: "Inför mötet", the morning DM, and the minutes.

* **Inför mötet** (App Home and the morning DM): for each case on the agenda, its slot; for
  the cases the reader's agency attends and may see (the disclosure rule, surface
  ``meeting_preparation``), also the concerns, the age band and what was agreed last time.
  The other cases show their reference and slot only.
* **The morning DM** goes at the agenda time to every active member of a forum whose next
  meeting has cases: "GOT-2026-005 kl. 13:40–13:55 — er verksamhet behövs" with the meeting
  link. Keyed per meeting and member in the outbox (sent once); a change of the slots or of
  the meeting updates the sent DMs in place (chat.update, once per change).
* **The minutes** (*Protokollför*): at the meeting's end time each coordinator gets one DM
  prompt. Per case the minutes hold the decision or agreed next step (guarded free text, a
  case detail: shown per the rule, surface ``minutes``), new actions with owner and due date
  (domain.actions) and the next follow-up date: the case then comes back on the agenda of
  the first meeting on or after that day. The channel gets a short notice, references only.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from domain import actions as action_service
from domain import agenda as agenda_service
from domain import audit, disclosure, meetings, privacy, scheduling
from domain import slots as slot_service
from domain.access import Access
from domain.clock import Clock
from domain.errors import DomainError, InputErrors, InvalidInput, NotCoordinator
from domain.forums import find_member, forum_schedule, local_today
from domain.i18n import N_, Locale, N_plural, Translator, normalize_locale
from storage.models import (
    AgendaItem,
    AuditAction,
    Case,
    CaseStatus,
    EffectStatus,
    Forum,
    Meeting,
    MeetingStatus,
    Member,
    MinuteEntry,
    OutboxMessage,
    Role,
    ScheduledEffect,
)

MEETING_DM = "meeting_dm"
MINUTES_PROMPT = "minutes_prompt"
PREPARATION_SURFACE = "meeting_preparation"
MINUTES_SURFACE = "minutes"
DECISION_MAX = 1000
# A prompt or DM older than this is not caught up any more (a bot down for days).
CATCH_UP = dt.timedelta(days=2)


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


# --- the morning DM ---------------------------------------------------------------------------

RenderPreparation = Callable[[Preparation], dict[str, Any]]


def _dm_key(meeting_id: int, user: str) -> str:
    return f"{MEETING_DM}:{meeting_id}:{user}"


def _members(session: Session, forum_id: int) -> list[Member]:
    return list(
        session.scalars(
            select(Member)
            .where(Member.forum_id == forum_id, Member.active.is_(True))
            .order_by(Member.id)
        )
    )


def _due(session: Session, clock: Clock, kind: str, due_column: Any, *, until: Any) -> list[int]:
    now = clock.now()
    done = exists().where(
        ScheduledEffect.forum_id == Meeting.forum_id,
        ScheduledEffect.kind == kind,
        ScheduledEffect.subject == "",
        ScheduledEffect.occurrence == Meeting.occurrence,
        ScheduledEffect.status.in_((EffectStatus.DONE, EffectStatus.SKIPPED)),
    )
    has_case = exists().where(
        AgendaItem.meeting_id == Meeting.id,
        AgendaItem.case_id.is_not(None),
        AgendaItem.removed.is_(False),
    )
    conditions = [
        due_column <= now,
        due_column > now - CATCH_UP,
        until > now if kind == MEETING_DM else Meeting.status != MeetingStatus.CANCELLED,
        due_column >= Forum.created_at,
        ~done,
    ]
    if kind == MEETING_DM:
        conditions.append(Meeting.status == MeetingStatus.PLANNED)
    # Only meetings with cases on their agenda (collected when the agenda was posted).
    conditions.append(has_case)
    return list(
        session.scalars(
            select(Meeting.id)
            .join(Forum, Forum.id == Meeting.forum_id)
            .where(and_(*conditions))
            .order_by(due_column, Meeting.id)
            .limit(200)
        )
    )


def send_meeting_dms(
    sessions: Callable[[], Session], clock: Clock, render: RenderPreparation, *, replica: str
) -> int:
    """At the agenda time of a meeting with cases: each member's morning DM, once."""
    with sessions() as session, session.begin():
        due = _due(session, clock, MEETING_DM, Meeting.agenda_due_at, until=Meeting.starts_at)
    sent = 0
    for meeting_id in due:
        with sessions() as session, session.begin():
            meeting = session.get(Meeting, meeting_id)
            if meeting is None or meeting.agenda_due_at is None:
                continue
            forum = session.get(Forum, meeting.forum_id)
            assert forum is not None
            effect = scheduling.claim(
                session,
                clock,
                forum_id=forum.id,
                kind=MEETING_DM,
                subject="",
                occurrence=meeting.occurrence,
                due_at=meeting.agenda_due_at,
                replica=replica,
            )
            if effect is None:
                continue
            for member in _members(session, forum.id):
                prep = prepare(session, clock, Access(forum=forum, member=member), meeting)
                if not prep.cases:
                    break  # no cases: no DMs
                scheduling.enqueue(
                    session,
                    clock,
                    team_id=forum.team_id,
                    method="chat.postMessage",
                    payload={"channel": member.slack_user_id, **render(prep)},
                    dedupe_key=_dm_key(meeting.id, member.slack_user_id),
                )
                sent += 1
            scheduling.complete(session, clock, effect)
    return sent


def refresh_meeting_dms(
    session: Session, clock: Clock, meeting: Meeting, forum: Forum, render: RenderPreparation
) -> int:
    """After the slots or the meeting changed: the sent morning DMs, updated in place."""
    if meeting.status != MeetingStatus.PLANNED:
        return 0
    sent = session.scalars(
        select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.like(f"{MEETING_DM}:{meeting.id}:%"),
            OutboxMessage.method == "chat.postMessage",
        )
    ).all()
    refreshed = 0
    for key in sent:
        user = key.rsplit(":", 1)[-1]
        access = disclosure.access_of(session, forum, user)
        if access is None:
            continue
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
                "channel": user,
                **render(prepare(session, clock, access, meeting)),
                scheduling.FILL: {"ts": key},
                scheduling.AFTER: previous,
            },
            dedupe_key=f"{key}:u{updates + 1}",
        )
        refreshed += 1
    return refreshed


# --- the minutes prompt -----------------------------------------------------------------------


@dataclass(frozen=True)
class Prompt:
    user: str
    locale: Locale
    forum_name: str
    meeting_id: int
    starts_at: dt.datetime
    timezone: str


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


def send_minutes_prompts(
    sessions: Callable[[], Session],
    clock: Clock,
    render: Callable[[Prompt], dict[str, Any]],
    *,
    replica: str,
) -> int:
    """At a meeting's end time (with cases on its agenda): one prompt to each coordinator."""
    with sessions() as session, session.begin():
        due = _due(session, clock, MINUTES_PROMPT, Meeting.ends_at, until=None)
    sent = 0
    for meeting_id in due:
        with sessions() as session, session.begin():
            meeting = session.get(Meeting, meeting_id)
            if meeting is None:
                continue
            forum = session.get(Forum, meeting.forum_id)
            assert forum is not None
            effect = scheduling.claim(
                session,
                clock,
                forum_id=forum.id,
                kind=MINUTES_PROMPT,
                subject="",
                occurrence=meeting.occurrence,
                due_at=meeting.ends_at,
                replica=replica,
            )
            if effect is None:
                continue
            for user in _coordinators(session, forum.id):
                prompt = Prompt(
                    user=user,
                    locale=normalize_locale(forum.language),
                    forum_name=forum.name,
                    meeting_id=meeting.id,
                    starts_at=meeting.starts_at,
                    timezone=forum.timezone,
                )
                scheduling.enqueue(
                    session,
                    clock,
                    team_id=forum.team_id,
                    method="chat.postMessage",
                    payload={"channel": user, **render(prompt)},
                    dedupe_key=f"{MINUTES_PROMPT}:{meeting.id}:{user}",
                )
                sent += 1
            scheduling.complete(session, clock, effect)
    return sent


# --- the minutes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MinuteCase:
    case_id: int
    reference: str
    slot: slot_service.Slot | None
    # What was recorded before, when the rule lets this coordinator see it.
    decision: str | None = None
    follow_up_on: dt.date | None = None


@dataclass(frozen=True)
class MinuteDraft:
    case_id: int
    decision: str = ""
    follow_up_on: dt.date | None = None
    action_text: str = ""
    action_owner: str | None = None
    action_due: dt.date | None = None


def decision_field(case_id: int) -> str:
    return f"decision:{case_id}"


def follow_up_field(case_id: int) -> str:
    return f"follow_up:{case_id}"


def action_field(case_id: int) -> str:
    return f"action:{case_id}"


def owner_field(case_id: int) -> str:
    return f"owner:{case_id}"


def due_field(case_id: int) -> str:
    return f"due:{case_id}"


class MeetingNotStarted(DomainError):
    msgid = N_("The meeting has not started yet: write the minutes once it has.")


def _meeting_for_minutes(
    session: Session, clock: Clock, access: Access, meeting_id: int
) -> Meeting:
    if not access.is_coordinator:
        raise NotCoordinator()
    meeting = meetings.get_meeting(session, access.forum, meeting_id)
    if meeting.status == MeetingStatus.CANCELLED:
        raise InvalidInput(N_("This meeting is already cancelled."))
    if meeting.starts_at > clock.now():
        raise MeetingNotStarted()
    return meeting


def _case_ids(session: Session, meeting_id: int) -> list[int]:
    return list(
        dict.fromkeys(
            session.scalars(
                select(AgendaItem.case_id)
                .where(
                    AgendaItem.meeting_id == meeting_id,
                    AgendaItem.case_id.is_not(None),
                    AgendaItem.removed.is_(False),
                )
                .order_by(AgendaItem.position, AgendaItem.id)
            )
        )
    )


def minutes_form(
    session: Session, clock: Clock, *, access: Access, meeting_id: int
) -> tuple[Meeting, list[MinuteCase]]:
    """The cases of the meeting for the minutes modal, in slot order; what was recorded
    before is filled in where the rule lets this coordinator see it (surface ``minutes``)."""
    meeting = _meeting_for_minutes(session, clock, access, meeting_id)
    forum = access.forum
    slots = {s.case_id: s for s in slot_service.slots_for(session, meeting, forum)}
    ids = _case_ids(session, meeting.id)
    cases = disclosure.load_cases(session, ids)
    entries = {
        e.case_id: e
        for e in session.scalars(select(MinuteEntry).where(MinuteEntry.meeting_id == meeting.id))
    }
    rows = []
    for case_id in ids:
        case = cases.get(case_id)
        if case is None or case.status == CaseStatus.CLOSED:
            continue
        entry = entries.get(case_id)
        decision = None
        if entry is not None and entry.decision:
            seen = disclosure.disclose(session, clock, access, case, surface_name=MINUTES_SURFACE)
            decision = entry.decision if seen.allowed else None
        rows.append(
            MinuteCase(
                case_id=case_id,
                reference=case.reference,
                slot=slots.get(case_id),
                decision=decision,
                follow_up_on=entry.follow_up_on if entry else None,
            )
        )
    rows.sort(key=lambda r: (r.slot.place if r.slot else 10_000, r.reference))
    return meeting, rows[: slot_service.SLOTS_MAX]


@dataclass(frozen=True)
class Recorded:
    meeting: Meeting
    references: list[str]
    actions: list[int]
    # (reference, the meeting it comes back on)
    follow_ups: list[tuple[str, Meeting]]
    notice_queued: bool


def _follow_up_meeting(
    session: Session, forum: Forum, meeting: Meeting, day: dt.date
) -> Meeting | None:
    zone = forum_schedule(forum).zone
    start = max(
        dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC), meeting.ends_at
    )
    return session.scalars(
        select(Meeting)
        .where(
            Meeting.forum_id == forum.id,
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.starts_at >= start,
            Meeting.id != meeting.id,
        )
        .order_by(Meeting.starts_at)
        .limit(1)
    ).first()


def record_minutes(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    meeting_id: int,
    drafts: Sequence[MinuteDraft],
) -> Recorded:
    """Store the minutes (one entry per case, replacing an earlier one), create the new
    actions and plan the follow-ups. Nothing is stored when a field is wrong."""
    meeting = _meeting_for_minutes(session, clock, access, meeting_id)
    forum = access.forum
    today = local_today(forum, clock)
    known = set(_case_ids(session, meeting.id))
    cases = disclosure.load_cases(session, known)
    errors: dict[str, DomainError] = {}
    plans: list[tuple[MinuteDraft, Case, str | None, Meeting | None, Member | None]] = []
    for draft in drafts:
        case = cases.get(draft.case_id)
        if case is None or draft.case_id not in known:
            continue
        decision = " ".join((draft.decision or "").split()) or None
        if decision and len(decision) > DECISION_MAX:
            errors[decision_field(case.id)] = InvalidInput(
                N_plural(
                    "Keep it under {n} character.",
                    "Keep it under {n} characters.",
                ),
                field=decision_field(case.id),
                n=DECISION_MAX,
            )
        else:
            try:
                privacy.check_text(decision, field=decision_field(case.id), today=today)
            except DomainError as exc:
                errors[decision_field(case.id)] = exc
        target = None
        if draft.follow_up_on is not None:
            meeting_day = meeting.starts_at.astimezone(forum_schedule(forum).zone).date()
            if draft.follow_up_on <= meeting_day:
                errors[follow_up_field(case.id)] = InvalidInput(
                    N_("Choose a day after this meeting."), field=follow_up_field(case.id)
                )
            else:
                target = _follow_up_meeting(session, forum, meeting, draft.follow_up_on)
                if target is None:
                    errors[follow_up_field(case.id)] = InvalidInput(
                        N_("No meeting is planned on or after that day. Choose an earlier day."),
                        field=follow_up_field(case.id),
                    )
        owner = None
        wants_action = bool(draft.action_text.strip() or draft.action_owner or draft.action_due)
        if wants_action:
            if not draft.action_owner:
                errors[owner_field(case.id)] = InvalidInput(
                    N_("Choose who owns the action."), field=owner_field(case.id)
                )
            else:
                owner = find_member(session, forum=forum, slack_user_id=draft.action_owner)
                if owner is None or not owner.active:
                    errors[owner_field(case.id)] = InvalidInput(
                        N_("The owner must be a member of the forum."), field=owner_field(case.id)
                    )
        plans.append((draft, case, decision, target, owner))
    if errors:
        raise InputErrors(errors)
    now = clock.now()
    entries = {
        e.case_id: e
        for e in session.scalars(select(MinuteEntry).where(MinuteEntry.meeting_id == meeting.id))
    }
    created: list[int] = []
    follow_ups: list[tuple[str, Meeting]] = []
    references: list[str] = []
    for draft, case, decision, target, owner in plans:
        wants_action = bool(draft.action_text.strip() or draft.action_owner or draft.action_due)
        if not (decision or target or wants_action):
            continue
        references.append(case.reference)
        entry = entries.get(case.id)
        if entry is None:
            entry = MinuteEntry(meeting_id=meeting.id, case_id=case.id)
            session.add(entry)
        if decision is not None or entry.decision is None:
            entry.decision = decision
        entry.follow_up_on = draft.follow_up_on or entry.follow_up_on
        entry.recorded_by = access.member.slack_user_id
        entry.recorded_at = now
        if target is not None:
            case.status = CaseStatus.FOLLOW_UP
            case.meeting_id = target.id
            follow_ups.append((case.reference, target))
        if wants_action and owner is not None:
            try:
                with session.begin_nested():
                    action, _ = action_service.create_action(
                        session,
                        clock,
                        access=access,
                        draft=action_service.ActionDraft(
                            description=draft.action_text,
                            agency_id=owner.agency_id,
                            owner=owner.slack_user_id,
                            due_on=draft.action_due,
                            case_reference=case.reference,
                        ),
                    )
                created.append(action.id)
            except InputErrors as exc:
                where = {
                    "owner": owner_field(case.id),
                    "agency": owner_field(case.id),
                    "due_on": due_field(case.id),
                }
                for name, error in exc.errors.items():
                    errors.setdefault(where.get(name, action_field(case.id)), error)
    if errors:
        raise InputErrors(errors)  # the caller's transaction keeps nothing
    session.flush()
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.UPDATE,
        object_type="meeting",
        object_ref=str(meeting.id),
        detail={"minutes": len(references), "actions": len(created)},
    )
    queued = False
    if references:
        queued = _queue_notice(session, clock, forum, meeting, references)
    return Recorded(
        meeting=meeting,
        references=references,
        actions=created,
        follow_ups=follow_ups,
        notice_queued=queued,
    )


def _queue_notice(
    session: Session, clock: Clock, forum: Forum, meeting: Meeting, references: list[str]
) -> bool:
    """The channel's short notice that minutes exist (references only), once a meeting."""
    key = f"minutes:{meeting.id}:notice"
    if session.scalar(select(exists().where(OutboxMessage.dedupe_key == key))):
        return False
    t = Translator(normalize_locale(forum.language))
    zone = forum_schedule(forum).zone
    text = t.ngettext(
        ":memo: Minutes of the meeting {when} are recorded for {n} case: {references}. "
        "The agencies concerned see what was agreed in the app's Home tab, under Before the "
        "meeting.",
        ":memo: Minutes of the meeting {when} are recorded for {n} cases: {references}. "
        "The agencies concerned see what was agreed in the app's Home tab, under Before the "
        "meeting.",
        len(references),
        when=t.day_time(meeting.starts_at, zone),
        references=", ".join(references),
    )
    scheduling.enqueue(
        session,
        clock,
        team_id=forum.team_id,
        method="chat.postMessage",
        payload={
            "channel": forum.channel_id,
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        },
        dedupe_key=key,
    )
    return True
