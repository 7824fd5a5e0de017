"""The minutes: the form, recording decisions and actions, and the notice."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from domain import actions as action_service
from domain import agenda as agenda_service
from domain import audit, disclosure, locks, meetings, pages, privacy, scheduling
from domain import slots as slot_service
from domain.access import Access
from domain.clock import Clock
from domain.errors import DomainError, InputErrors, InvalidInput, NotCoordinator
from domain.forums import active_members, find_member, forum_schedule, local_today
from domain.i18n import N_, N_plural, Translator, normalize_locale
from domain.minutes.base import DECISION_MAX, MINUTES_SURFACE, PAGE_CASES
from storage.models import (
    Action,
    AgendaItem,
    AuditAction,
    Case,
    CaseStatus,
    Forum,
    Meeting,
    MeetingStatus,
    Member,
    MinuteEntry,
    OutboxMessage,
)

# --- the minutes ------------------------------------------------------------------------------

# The channel's notice goes out only this long after the meeting (:func:`_queue_notice`).
NOTICE_WITHIN = scheduling.OUTBOX_KEEP / 2


@dataclass(frozen=True)
class MinuteCase:
    case_id: int
    reference: str
    slot: slot_service.Slot | None
    # What was recorded before, when the rule lets this coordinator see it.
    decision: str | None = None
    follow_up_on: dt.date | None = None
    # Who may own a new action of the case (domain.actions.owner_choices); None: more than
    # a picker offers.
    owners: list[action_service.OwnerChoice] | None = None


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


class CaseClosed(InvalidInput):
    """A case closed since the page of the minutes was shown: nothing more is minuted for
    it (told on the field typed in)."""

    msgid = N_(
        "This case has been closed: empty its fields to save the rest of the page, or open "
        "the case again first."
    )


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


@dataclass(frozen=True)
class MinutesPage(pages.CasesPage):
    """One page of the minutes form (domain.pages): ``cases`` are the meeting's cases
    ``first``–``last`` (counted from 1, in slot order) of ``total``."""

    meeting: Meeting
    cases: list[MinuteCase]
    page: int
    # How many of the meeting's cases come before this page's first.
    start: int
    total: int

    @property
    def shown(self) -> int:
        return len(self.cases)


class MinutesPageGone(DomainError):
    msgid = N_(
        "This page of the minutes does not exist. Close it and open the minutes again from "
        "the message."
    )


def minutes_form(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    meeting_id: int,
    page: int = 1,
    after: Collection[int] = (),
) -> MinutesPage:
    """One page of the meeting's cases for the minutes modal, in slot order (``PAGE_CASES``
    a page, the first page is 1); what was recorded before is filled in where the rule lets
    this coordinator see it (surface ``minutes``, for the cases on this page only).

    ``after``: the cases of the page before (just saved); this page starts after the last
    of them as the agenda stands now, so a case closed or removed meanwhile moves no case
    past the pages. A page past the last has no cases; a page before the first is
    :class:`MinutesPageGone`."""
    if page < 1:
        raise MinutesPageGone()
    meeting = _meeting_for_minutes(session, clock, access, meeting_id)
    forum = access.forum
    # The agenda's items and its cases' facts read once, for the slots and for the order:
    # the whole agenda's order from the cases' references and status only; the cases with
    # what the rule reads are loaded for this page's (a page per save, so loading every
    # case each time made a long agenda's minutes quadratic).
    items = slot_service.case_items(session, meeting.id)
    facts = slot_service.case_facts(session, [i.case_id for i in items if i.case_id is not None])
    slots = {s.case_id: s for s in slot_service.compute(meeting, forum, items, facts)}
    shown = [(c.id, c.reference) for c in facts.values() if c.status != CaseStatus.CLOSED]
    shown.sort(key=lambda c: (s.place if (s := slots.get(c[0])) else 10_000, c[1]))
    total = len(shown)
    start = pages.page_start(page, [case_id for case_id, _ in shown], after)
    cases = disclosure.load_cases(
        session, [case_id for case_id, _ in shown[start : start + PAGE_CASES]]
    )
    on_page = [cases[c] for c, _ in shown[start : start + PAGE_CASES] if c in cases]
    entries = {
        e.case_id: e
        for e in session.scalars(
            select(MinuteEntry).where(
                MinuteEntry.meeting_id == meeting.id,
                MinuteEntry.case_id.in_([c.id for c in on_page]),
            )
        )
    }
    rows = []
    today = local_today(forum, clock)
    members = active_members(session, forum) if on_page else []
    for case in on_page:
        # The owners offered follow the case rule, so they tell which agencies may see the
        # case (its consent register): a read of it, audited, as owner_may_read's telling is.
        disclosure.disclose(session, clock, access, case, surface_name="consent_register")
        owners = action_service.owner_choices(session, forum, today, case=case, members=members)
        entry = entries.get(case.id)
        decision = None
        if entry is not None and entry.decision:
            seen = disclosure.disclose(session, clock, access, case, surface_name=MINUTES_SURFACE)
            decision = entry.decision if seen.allowed else None
        rows.append(
            MinuteCase(
                case_id=case.id,
                reference=case.reference,
                slot=slots.get(case.id),
                decision=decision,
                follow_up_on=entry.follow_up_on if entry else None,
                owners=owners,
            )
        )
    return MinutesPage(meeting=meeting, cases=rows, page=page, start=start, total=total)


@dataclass(frozen=True)
class Recorded:
    meeting: Meeting
    references: list[str]
    actions: list[int]
    # (reference, the meeting it comes back on)
    follow_ups: list[tuple[str, Meeting]]
    notice_queued: bool
    # The ids of the cases minuted and of those planned for a follow-up.
    cases: list[int] = field(default_factory=list)
    follow_up_cases: list[int] = field(default_factory=list)
    # The actions of ``actions`` this save created (not found from an earlier save of the
    # same page): their owners are told, once.
    new_actions: list[int] = field(default_factory=list)
    # The next meeting, when this save took cases it minuted off its agenda (carried over
    # there before the minutes said they were discussed): its posted agenda follows.
    next_agenda: Meeting | None = None


@dataclass(frozen=True)
class Tally:
    """What the pages of one minutes form saved so far (ids, carried from page to page in
    the modal's metadata, packed: :mod:`domain.minutes.tally`): the cases minuted, the
    actions created and the cases planned for a follow-up. :func:`summarize` reads them
    back for the last page's note."""

    cases: tuple[int, ...] = ()
    actions: tuple[int, ...] = ()
    follow_ups: tuple[int, ...] = ()

    def plus(self, recorded: Recorded) -> Tally:
        return Tally(
            cases=tuple(dict.fromkeys((*self.cases, *recorded.cases))),
            actions=tuple(dict.fromkeys((*self.actions, *recorded.actions))),
            follow_ups=tuple(dict.fromkeys((*self.follow_ups, *recorded.follow_up_cases))),
        )


@dataclass(frozen=True)
class Summary:
    """Every page of one minutes form: the references minuted, how many actions were
    created, the references back for follow-up (in the order the cases came onto the
    agenda: the tally's, as it is packed)."""

    references: list[str]
    actions: int
    follow_ups: list[str]


def summarize(session: Session, *, access: Access, meeting_id: int, tally: Tally) -> Summary:
    """The pages' :class:`Tally` as it stands in the database: only this meeting's minuted
    cases and the actions its minutes created count (a tally is read from the modal's
    metadata, so an id it names that is not one of those counts for nothing)."""
    meeting = meetings.get_meeting(session, access.forum, meeting_id)
    # This meeting's minutes, read whole and matched against the tally here: the tally's
    # ids never go into the query (crafted metadata may name any number of them).
    rows = session.execute(
        select(Case.id, Case.reference, MinuteEntry.follow_up_on)
        .join(MinuteEntry, MinuteEntry.case_id == Case.id)
        .where(MinuteEntry.meeting_id == meeting.id)
    ).all()
    reference = {row.id: row.reference for row in rows}
    planned = {row.id for row in rows if row.follow_up_on is not None}
    created = (
        set(
            session.scalars(
                select(Action.id).where(
                    Action.forum_id == access.forum.id,
                    # Created by this meeting's minutes (action_key).
                    Action.submission_key.startswith(_key_prefix(meeting.id), autoescape=True),
                )
            )
        )
        if tally.actions
        else set()
    )
    actions = len(created.intersection(tally.actions))
    return Summary(
        references=[reference[c] for c in tally.cases if c in reference],
        actions=actions,
        follow_ups=[reference[c] for c in tally.follow_ups if c in planned],
    )


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


def page_key(meeting_id: int, submission: str) -> str:
    """A page of the minutes as it was submitted: ``submission`` names it (the modal's id
    and hash; a later page of the same modal, or the page shown again, is another
    submission). The same submission again (a retry, a double click, the same request
    twice) has the same key."""
    digest = hashlib.sha256(submission.encode("utf-8")).hexdigest()[:24]
    return f"{_key_prefix(meeting_id)}{digest}"


def _key_prefix(meeting_id: int) -> str:
    return f"minutes:{meeting_id}:"


def action_key(meeting_id: int, case_id: int, submission: str, draft: MinuteDraft) -> str:
    """The submission key of the action a page of the minutes creates for a case: the same
    page submitted again finds the action the first one created instead of creating
    another. The action as typed is part of it: the page saved again with its action
    retyped (Slack's answer to the first save came too late: the modal, its id and hash
    stay as they were) creates what was typed then rather than dropping it. Fits
    ``Action.submission_key`` (64 characters)."""
    typed = "\x1f".join(
        (
            submission,
            draft.action_text.strip(),
            draft.action_owner or "",
            draft.action_due.isoformat() if draft.action_due else "",
        )
    )
    return f"{page_key(meeting_id, typed)}:{case_id}"


def _writes(draft: MinuteDraft) -> bool:
    """Whether the page has anything for the case (a decision, a follow-up, an action)."""
    return bool(
        draft.decision.strip()
        or draft.follow_up_on
        or draft.action_text.strip()
        or draft.action_owner
        or draft.action_due
    )


def record_minutes(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    meeting_id: int,
    drafts: Sequence[MinuteDraft],
    notify: bool = True,
    submission: str | None = None,
) -> Recorded:
    """Store the minutes (one entry per case, replacing an earlier one), create the new
    actions and plan the follow-ups. Nothing is stored when a field is wrong.

    With ``notify`` (the form's last page) the channel's notice is queued, once a meeting,
    with the references of every case minuted so far (earlier pages' too); the pages before
    the last save without it, so the notice names the cases of all pages.

    ``submission`` (the page as submitted, see :func:`action_key`): the same page saved
    twice creates its actions once (an action retyped before saving again is a new one);
    the second save finds them and counts them as its own. Saves of one meeting's minutes
    take turns (the meeting's row is locked first), so two copies of a submission arriving
    at once find each other's entries and actions. The cases it writes for are locked next
    (:mod:`domain.locks`): a case closed meanwhile is refused, never written for."""
    meeting = _meeting_for_minutes(session, clock, access, meeting_id)
    # One save of this meeting's minutes at a time (PostgreSQL; SQLite's BEGIN IMMEDIATE
    # serialises anyway): a twin waits here, then reads what the first one committed. FOR
    # NO KEY UPDATE: rows that only refer to the meeting (entries, items) are not held up.
    locks.lock_meeting(session, meeting.id)
    forum = access.forum
    today = local_today(forum, clock)
    known = set(_case_ids(session, meeting.id))
    locks.lock_cases(session, {d.case_id for d in drafts if d.case_id in known and _writes(d)})
    # Only the page's cases (of this meeting's agenda), not the whole agenda's each page.
    on_page = known.intersection(d.case_id for d in drafts)
    cases = disclosure.load_cases(session, on_page)
    entries = {
        e.case_id: e
        for e in session.scalars(
            select(MinuteEntry)
            .where(MinuteEntry.meeting_id == meeting.id, MinuteEntry.case_id.in_(on_page))
            .execution_options(populate_existing=True)
        )
    }
    errors: dict[str, DomainError] = {}
    plans: list[tuple[MinuteDraft, Case, str | None, Meeting | None, Member | None]] = []
    targets: dict[dt.date, Meeting | None] = {}
    for draft in drafts:
        case = cases.get(draft.case_id)
        if case is None or draft.case_id not in known:
            continue
        decision = " ".join((draft.decision or "").split()) or None
        closed = case.status == CaseStatus.CLOSED
        if closed and decision is not None:
            # Closed since the page was shown (the form leaves closed cases out), or a
            # crafted block id: its minutes stay as they are. The decision shown again
            # unchanged is no change; a new one is told on its field (the page stays open
            # with everything typed). Only for a reader the form shows the decision to:
            # for anyone else (shown it blank) the answer would confirm a guess at it.
            entry = entries.get(case.id)
            if (
                entry is not None
                and entry.decision == decision
                and disclosure.decide(access, case, today).allowed
            ):
                decision = None
            else:
                errors[decision_field(case.id)] = CaseClosed(field=decision_field(case.id))
        if decision_field(case.id) in errors:
            pass  # closed: what it says is not kept, so not read either
        elif decision and len(decision) > DECISION_MAX:
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
        entry = entries.get(case.id)
        if closed and entry is not None and entry.follow_up_on == draft.follow_up_on:
            # The date shown again unchanged (the form shows it to every coordinator): no
            # change, as for the decision above.
            draft = dataclasses.replace(draft, follow_up_on=None)
        if draft.follow_up_on is not None and closed:
            # Not on the form (closed meanwhile, or a crafted block id): a follow-up would
            # reopen it without its reopening (outcome, history, audit).
            errors[follow_up_field(case.id)] = InvalidInput(
                N_("This case is closed. Reopen it before planning a follow-up."),
                field=follow_up_field(case.id),
            )
        elif draft.follow_up_on is not None:
            meeting_day = meeting.starts_at.astimezone(forum_schedule(forum).zone).date()
            if draft.follow_up_on <= meeting_day:
                errors[follow_up_field(case.id)] = InvalidInput(
                    N_("Choose a day after this meeting."), field=follow_up_field(case.id)
                )
            else:
                # One query a day chosen, not one a case (a page mostly plans one day).
                if draft.follow_up_on not in targets:
                    targets[draft.follow_up_on] = _follow_up_meeting(
                        session, forum, meeting, draft.follow_up_on
                    )
                target = targets[draft.follow_up_on]
                if target is None:
                    errors[follow_up_field(case.id)] = InvalidInput(
                        N_("No meeting is planned on or after that day. Choose an earlier day."),
                        field=follow_up_field(case.id),
                    )
        owner = None
        wants_action = bool(draft.action_text.strip() or draft.action_owner or draft.action_due)
        if wants_action and closed:
            errors[action_field(case.id)] = CaseClosed(field=action_field(case.id))
        elif wants_action:
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
    created: list[int] = []
    new_actions: list[int] = []
    follow_ups: list[tuple[str, Meeting]] = []
    references: list[str] = []
    minuted_cases: list[int] = []
    follow_up_cases: list[int] = []
    dealt_with: list[Case] = []
    for draft, case, decision, target, owner in plans:
        wants_action = bool(draft.action_text.strip() or draft.action_owner or draft.action_due)
        if not (decision or target or wants_action):
            continue
        references.append(case.reference)
        minuted_cases.append(case.id)
        dealt_with.append(case)
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
            if case.status is not CaseStatus.FOLLOW_UP:
                agenda_service.status_changed(
                    session,
                    case,
                    CaseStatus.FOLLOW_UP,
                    actor=access.member.slack_user_id,
                    now=now,
                )
            case.status = CaseStatus.FOLLOW_UP
            case.meeting_id = target.id
            follow_ups.append((case.reference, target))
            follow_up_cases.append(case.id)
        if wants_action and owner is not None:
            try:
                with session.begin_nested():
                    action, made = action_service.create_action(
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
                        submission_key=(
                            action_key(meeting.id, case.id, submission, draft)
                            if submission
                            else None
                        ),
                    )
                created.append(action.id)
                if made:
                    new_actions.append(action.id)
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
    # Minuted: discussed at this meeting, as its record would say (the case's status and
    # history, its item ticked); not carried over to the next meeting.
    next_agenda = agenda_service.mark_minuted(
        session, clock, meeting=meeting, cases=dealt_with, actor=access.member.slack_user_id
    )
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
    if notify:
        minuted = _minuted_references(session, meeting)
        if minuted:
            queued = _queue_notice(session, clock, forum, meeting, minuted)
    return Recorded(
        meeting=meeting,
        references=references,
        actions=created,
        follow_ups=follow_ups,
        notice_queued=queued,
        cases=minuted_cases,
        follow_up_cases=follow_up_cases,
        new_actions=new_actions,
        next_agenda=next_agenda,
    )


def close_minutes(session: Session, clock: Clock, *, access: Access, meeting_id: int) -> bool:
    """The form closed on a page after the first, before its last page was saved: the
    channel's notice (once a meeting, references only) for the cases minuted so far."""
    meeting = _meeting_for_minutes(session, clock, access, meeting_id)
    minuted = _minuted_references(session, meeting)
    return bool(minuted) and _queue_notice(session, clock, access.forum, meeting, minuted)


def _minuted_references(session: Session, meeting: Meeting) -> list[str]:
    return list(
        session.scalars(
            select(Case.reference)
            .join(MinuteEntry, MinuteEntry.case_id == Case.id)
            .where(MinuteEntry.meeting_id == meeting.id)
            .order_by(Case.reference)
        )
    )


def _queue_notice(
    session: Session, clock: Clock, forum: Forum, meeting: Meeting, references: list[str]
) -> bool:
    """The channel's short notice that minutes exist (references only), once a meeting.

    "Once" is the outbox's dedupe key, which goes with its row after ``OUTBOX_KEEP``: a
    meeting that ended more than half of that ago gets no notice (any notice it had is still
    remembered then), so minutes corrected months later do not tell the channel again."""
    if meeting.ends_at < clock.now() - NOTICE_WITHIN:
        return False
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
