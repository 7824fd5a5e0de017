"""Cases (ärenden): raising, consent, attendance, the status lifecycle, reads that are
audited, and deviation reports. Every agency raises cases on equal terms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from domain import audit, criteria, disclosure, feedback, meetings, privacy, scheduling
from domain.access import Access
from domain.clock import Clock
from domain.errors import (
    DomainError,
    IdentifyingDataRefused,
    InputErrors,
    InvalidInput,
    NotCoordinator,
)
from domain.forums import active_agencies, forum_schedule, local_today
from domain.i18n import N_, N_plural, Translator, normalize_locale
from storage.models import (
    AuditAction,
    Case,
    CaseCounter,
    CaseEvent,
    CaseStatus,
    Consent,
    ConsentGiver,
    Deviation,
    Effect,
    Forum,
    LegalGroundKind,
    Meeting,
    MeetingStatus,
    Member,
    Role,
    SipStatus,
    case_agencies,
)

# Concerns and age bands are fixed vocabularies: keys are stored, labels are translated.
CONCERNS: dict[str, str] = {
    "school_absence": N_("School absence"),
    "mental_health": N_("Mental ill-health"),
    "drugs_alcohol": N_("Drugs/alcohol"),
    "domestic_violence": N_("Violence in close relationships"),
    "online_exposure": N_("Exposure online"),
    "crime_networks": N_("Crime/networks"),
    "disability": N_("Disability"),
    "other": N_("Other"),
}
AGE_BANDS: tuple[str, ...] = ("0-5", "6-12", "13-15", "16-18")
SUMMARY_MAX = 1000
OUTCOME_MAX = 500  # the same limits as the data inventory's (domain/inventory.py)
DEVIATION_TEXT_MAX = 1000
MEETING_CHOICES = 6
PAGE_SIZE = 20

# Who may move a case where. Closing needs an outcome; a closed case can be reopened.
TRANSITIONS: dict[CaseStatus, tuple[CaseStatus, ...]] = {
    CaseStatus.NEW: (CaseStatus.SCHEDULED, CaseStatus.DISCUSSED, CaseStatus.CLOSED),
    CaseStatus.SCHEDULED: (CaseStatus.DISCUSSED, CaseStatus.CLOSED),
    CaseStatus.DISCUSSED: (CaseStatus.FOLLOW_UP, CaseStatus.CLOSED),
    CaseStatus.FOLLOW_UP: (CaseStatus.DISCUSSED, CaseStatus.CLOSED),
    CaseStatus.CLOSED: (CaseStatus.FOLLOW_UP,),
}

Scope = Literal["all", "mine", "agency"]


@dataclass
class CaseDraft:
    """What a member typed in the case modal, before it is checked."""

    summary: str
    concerns: list[str]
    age_band: str | None
    agency_ids: list[int]
    consent_giver: ConsentGiver | None
    consent_agency_ids: list[int]
    consent_given_on: dt.date | None
    consent_expires_on: dt.date | None
    sip: SipStatus
    meeting: dt.datetime | None
    # The forum's case criteria the member ticked (optional, domain.criteria).
    criterion_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class CaseRow:
    """One line of the case list: logistics only, never the summary."""

    id: int
    reference: str
    status: CaseStatus
    meeting_start: dt.datetime | None
    raising_agency: str
    agencies: tuple[str, ...]
    consultation: bool


@dataclass(frozen=True)
class CasePage:
    """One page, newest first. Pages are keyed (keyset, not OFFSET): the next page starts
    after the last row's id, the previous one before the first row's, so a case raised
    while someone pages never shifts or repeats a row, and a deep page costs what the first
    does. ``page`` only numbers the page for people."""

    rows: tuple[CaseRow, ...]
    page: int
    has_more: bool

    @property
    def first_id(self) -> int | None:
        return self.rows[0].id if self.rows else None

    @property
    def last_id(self) -> int | None:
        return self.rows[-1].id if self.rows else None


@dataclass(frozen=True)
class ConsentView:
    given_by: ConsentGiver
    agencies: tuple[str, ...]
    given_on: dt.date | None
    expires_on: dt.date | None
    withdrawn_at: dt.datetime | None
    active: bool  # neither withdrawn nor expired (forum-local day)


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None


@dataclass(frozen=True)
class CaseView:
    """A case as one member may see it. ``details`` is False for an anonymous consultation
    (no consent covering the reader's agency): then only concerns and age band are shown."""

    id: int
    reference: str
    status: CaseStatus
    concerns: tuple[str, ...]
    age_band: str
    raising_agency: str
    agencies: tuple[str, ...]
    meeting_start: dt.datetime | None
    sip: SipStatus
    details: bool
    summary: str | None
    consent: ConsentView | None
    history: tuple[HistoryEntry, ...]
    may_change_status: bool
    next_statuses: tuple[CaseStatus, ...]
    outcome: str | None
    effect: Effect | None
    # The details are shown under a recorded legal ground (not consent) for this agency.
    legal_ground: LegalGroundKind | None = None
    # Coordinators stop retention for a case (legal hold) from the case modal.
    may_hold: bool = False
    legal_hold: bool = False
    legal_hold_reason: str | None = None
    # The raising agency or a coordinator corrects the summary/outcome (with the details).
    may_edit: bool = False
    may_redact: bool = False
    # Agencies that must attend but are covered neither by the consent nor by a legal ground
    # (shown only to those who see the details, as a warning).
    not_covered: tuple[str, ...] = ()


def _audit(
    session: Session,
    clock: Clock,
    access: Access,
    action: AuditAction,
    object_type: str,
    object_ref: str,
    detail: dict[str, object] | None = None,
) -> None:
    """An audit event by this member, in this forum, in the caller's transaction."""
    audit.record_by(
        session,
        clock,
        access,
        action=action,
        object_type=object_type,
        object_ref=object_ref,
        detail=detail,
    )


# --- meetings a case can go to ------------------------------------------------------------


def upcoming_meetings(
    session: Session, forum: Forum, clock: Clock, count: int = MEETING_CHOICES
) -> list[dt.datetime]:
    """Starts of the forum's next planned meetings (holidays and moves applied)."""
    return [m.starts_at for m in meetings.upcoming(session, clock, forum, count=count)]


def meeting_for(session: Session, forum: Forum, start: dt.datetime) -> Meeting:
    """The planned meeting starting at ``start``."""
    meeting = session.scalar(
        select(Meeting).where(
            Meeting.forum_id == forum.id,
            Meeting.starts_at == start.astimezone(dt.UTC),
            Meeting.status == MeetingStatus.PLANNED,
        )
    )
    if meeting is None:
        raise InvalidInput(
            N_("That meeting is no longer available. Choose another."), field="meeting"
        )
    return meeting


# --- raising a case -------------------------------------------------------------------------


_consent_active = disclosure.consent_active
_current_consent = disclosure.current_consent


def _check(forum: Forum, draft: CaseDraft, clock: Clock, meetings: Sequence[dt.datetime]) -> None:
    errors: dict[str, DomainError] = {}
    today = local_today(forum, clock)
    for fld, msgid in privacy.check_fields({"summary": draft.summary}, today=today).items():
        errors[fld] = IdentifyingDataRefused(msgid, field=fld)
    if not draft.summary.strip():
        errors.setdefault(
            "summary", InvalidInput(N_("Write a short, non-identifying summary."), field="summary")
        )
    elif len(draft.summary) > SUMMARY_MAX:
        errors.setdefault(
            "summary",
            InvalidInput(
                N_plural(
                    "The summary can be at most {n} character.",
                    "The summary can be at most {n} characters.",
                ),
                field="summary",
                n=SUMMARY_MAX,
            ),
        )
    if not draft.concerns:
        errors["concerns"] = InvalidInput(N_("Choose at least one concern."), field="concerns")
    elif any(c not in CONCERNS for c in draft.concerns):
        errors["concerns"] = InvalidInput(N_("Choose concerns from the list."), field="concerns")
    if draft.age_band not in AGE_BANDS:
        errors["age_band"] = InvalidInput(N_("Choose the age band."), field="age_band")
    known = {a.id for a in active_agencies(forum)}
    if any(a not in known for a in draft.agency_ids + draft.consent_agency_ids):
        errors["agencies"] = InvalidInput(N_("Choose agencies of this forum."), field="agencies")
    if draft.consent_giver is None:
        errors["consent"] = InvalidInput(
            N_("Say whether consent was given (or that it was not)."), field="consent"
        )
    elif draft.consent_giver is not ConsentGiver.NONE:
        if not draft.consent_agency_ids:
            errors["consent_agencies"] = InvalidInput(
                N_("Choose the agencies the consent covers."), field="consent_agencies"
            )
        if draft.consent_given_on and draft.consent_given_on > today:
            errors["consent_given_on"] = InvalidInput(
                N_("The consent cannot be given in the future."), field="consent_given_on"
            )
        if draft.consent_expires_on and draft.consent_expires_on < today:
            errors["consent_expires_on"] = InvalidInput(
                N_("This consent has already expired."), field="consent_expires_on"
            )
    if draft.sip is not SipStatus.NOT_RELEVANT and draft.consent_giver in (
        None,
        ConsentGiver.NONE,
    ):
        errors["sip"] = InvalidInput(
            N_("A SIP needs consent. Record the consent, or choose 'not relevant'."), field="sip"
        )
    if draft.meeting is not None and draft.meeting not in meetings:
        errors["meeting"] = InvalidInput(
            N_("That meeting is no longer available. Choose another."), field="meeting"
        )
    if errors:
        raise InputErrors(errors)


def _next_reference(session: Session, forum: Forum, year: int) -> tuple[int, str]:
    """Atomically take the next number for this forum and year (upsert + RETURNING)."""
    dialect = session.get_bind().dialect.name
    counter = CaseCounter.__table__.c
    values = {"forum_id": forum.id, "year": year, "last": 1}
    upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CaseCounter)
    stmt = (
        upsert.values(values)
        .on_conflict_do_update(index_elements=["forum_id", "year"], set_={"last": counter.last + 1})
        .returning(counter.last)
    )
    number = int(session.execute(stmt).scalar_one())
    return number, f"{forum.code}-{year}-{number:03d}"


def raise_case(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    draft: CaseDraft,
    submission_key: str | None = None,
) -> tuple[Case, bool]:
    """Raise a case for the member's agency. Returns (case, created); a submission already
    seen (same ``submission_key``) returns the existing case and ``created=False``."""
    forum, member = access.forum, access.member
    if submission_key:
        existing = session.scalar(
            select(Case).where(Case.forum_id == forum.id, Case.submission_key == submission_key)
        )
        if existing is not None:
            return existing, False
    upcoming = upcoming_meetings(session, forum, clock)
    _check(forum, draft, clock, upcoming)
    now = clock.now()
    local_year = now.astimezone(forum_schedule(forum).zone).year
    by_id = {a.id: a for a in active_agencies(forum)}
    needed = [member.agency_id, *draft.agency_ids]
    meeting_start = draft.meeting or (upcoming[0] if upcoming else None)
    meeting_id = meeting_for(session, forum, meeting_start).id if meeting_start else None
    try:
        # Number and case in one savepoint: if a twin submission (same key) won the race,
        # the rollback also returns the number, so no reference is skipped.
        with session.begin_nested():
            sequence, reference = _next_reference(session, forum, local_year)
            case = Case(
                forum_id=forum.id,
                reference=reference,
                year=local_year,
                sequence=sequence,
                raised_by=member.slack_user_id,
                raising_agency_id=member.agency_id,
                summary=draft.summary.strip(),
                concerns=list(dict.fromkeys(draft.concerns)),
                age_band=draft.age_band or "",
                status=CaseStatus.SCHEDULED if meeting_start else CaseStatus.NEW,
                sip=draft.sip,
                meeting_id=meeting_id,
                submission_key=submission_key,
                created_at=now,
                updated_at=now,
                agencies=[by_id[a] for a in dict.fromkeys(needed) if a in by_id],
                consents=[],
            )
            if draft.consent_giver is not None:
                case.consents.append(
                    Consent(
                        given_by=draft.consent_giver,
                        given_on=draft.consent_given_on,
                        expires_on=draft.consent_expires_on,
                        recorded_by=member.slack_user_id,
                        recorded_at=now,
                        agencies=[by_id[a] for a in draft.consent_agency_ids if a in by_id],
                    )
                )
            session.add(case)
    except IntegrityError:
        if submission_key:  # the same modal submitted twice at once: the other one won
            existing = session.scalar(
                select(Case).where(Case.forum_id == forum.id, Case.submission_key == submission_key)
            )
            if existing is not None:
                return existing, False
        raise
    criteria.record_met(session, forum_id=forum.id, case_id=case.id, ids=draft.criterion_ids)
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=member.slack_user_id,
            kind="created",
            to_status=case.status.value,
        )
    )
    _audit(session, clock, access, AuditAction.CREATE, "case", reference)
    return case, True


# --- reading --------------------------------------------------------------------------------


def agencies_without_details(case: Case, today: dt.date) -> tuple[str, ...]:
    """The agencies that must attend but may not see the details: neither the current
    consent (active) nor a recorded legal ground covers them. The raising agency always may
    (the disclosure rule's case decision, for each agency)."""
    return tuple(
        a.name
        for a in case.agencies
        if a.id != case.raising_agency_id
        and not disclosure.consent_covers(case, a.id, today)
        and disclosure.ground_for(case, a.id) is None
    )


def may_change_status(case: Case, access: Access) -> bool:
    return access.is_coordinator or access.member.agency_id == case.raising_agency_id


def list_cases(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    status: CaseStatus | None = None,
    scope: Scope = "all",
    page: int = 0,
    after: int | None = None,
    before: int | None = None,
    page_size: int = PAGE_SIZE,
) -> CasePage:
    """A page of the forum's cases, newest first: logistics only, so it is not audited as a
    read of details. The same queries whatever the number of cases and however deep the
    page: the cases older than ``after`` (the next page) or newer than ``before`` (the
    previous page), else the newest. Every query is bounded by the forum (indexes on
    ``(forum_id, id)``, ``(forum_id, status, id)``, ``(forum_id, raised_by, id)``)."""
    # ``forum_id BETWEEN f AND f`` ordered by (forum_id, id), not ``forum_id = f`` by id:
    # PostgreSQL drops a column equated to a constant from the order, and may then walk the
    # primary key backwards with a filter. That looks cheap with LIMIT, and is: unless the
    # forum's cases are old and other forums' are newer (a forum beside a busier one: 313 ms
    # past 400 000 rows, measured). A range keeps forum_id in the order, which only the
    # (forum_id, …, id) indexes give: 0.09 ms.
    forum_id = access.forum.id
    query = select(Case).where(Case.forum_id.between(forum_id, forum_id))
    if status is not None:
        query = query.where(Case.status == status)
    if scope == "mine":
        query = query.where(Case.raised_by == access.member.slack_user_id)
    elif scope == "agency":
        agency = access.member.agency_id
        query = query.where(
            or_(
                Case.raising_agency_id == agency,
                exists().where(
                    case_agencies.c.case_id == Case.id, case_agencies.c.agency_id == agency
                ),
            )
        )
    page = max(page, 0)
    newest_first = (Case.forum_id.desc(), Case.id.desc())
    if after is not None:
        query = query.where(Case.id < after).order_by(*newest_first)
    elif before is not None:
        query = query.where(Case.id > before).order_by(Case.forum_id.asc(), Case.id.asc())
    else:
        page = 0
        query = query.order_by(*newest_first)
    found = list(
        session.scalars(
            query.options(
                selectinload(Case.agencies),
                joinedload(Case.raising_agency),  # many-to-one: in the same statement
                joinedload(Case.meeting),
                selectinload(Case.consents).selectinload(Consent.agencies),
                selectinload(Case.legal_grounds),
            ).limit(page_size + 1)
        ).all()
    )
    has_more = len(found) > page_size
    found = found[:page_size]
    if before is not None:
        if not has_more:
            # Back at the newest cases: show the first page as it is now (full, page 1).
            return list_cases(
                session, clock, access=access, status=status, scope=scope, page_size=page_size
            )
        found.reverse()
        has_more = True  # the page we came back from
    today = local_today(access.forum, clock)
    # The list shows no details; whether a row is an anonymous consultation for this reader
    # is the disclosure rule's answer (raising agency, consent or legal ground).
    rows = tuple(
        _row(c, consultation=not disclosure.case_decision(access, c, today).allowed) for c in found
    )
    return CasePage(rows=rows, page=page, has_more=has_more)


def _row(case: Case, *, consultation: bool) -> CaseRow:
    return CaseRow(
        id=case.id,
        reference=case.reference,
        status=case.status,
        meeting_start=case.meeting.starts_at if case.meeting else None,
        raising_agency=case.raising_agency.name,
        agencies=tuple(a.name for a in case.agencies),
        consultation=consultation,
    )


def case_row(session: Session, clock: Clock, *, access: Access, case_id: int) -> CaseRow:
    """One case's logistics (what a channel message may say): not a read of details."""
    case = _load(session, access, case_id)
    today = local_today(access.forum, clock)
    return _row(case, consultation=not disclosure.case_decision(access, case, today).allowed)


def _load(session: Session, access: Access, case_id: int) -> Case:
    case = session.scalar(
        select(Case)
        .options(
            selectinload(Case.agencies),
            selectinload(Case.consents).selectinload(Consent.agencies),
            selectinload(Case.legal_grounds),
        )
        .where(Case.id == case_id, Case.forum_id == access.forum.id)
    )
    if case is None:
        raise InvalidInput(N_("That case does not exist in this forum."))
    return case


def _view(
    session: Session, clock: Clock, case: Case, access: Access, decision: disclosure.Decision
) -> CaseView:
    today = local_today(access.forum, clock)
    details = decision.allowed
    consent = _current_consent(case)
    history = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()
    allowed = may_change_status(case, access)
    return CaseView(
        id=case.id,
        reference=case.reference,
        status=case.status,
        concerns=tuple(case.concerns),
        age_band=case.age_band,
        raising_agency=case.raising_agency.name,
        agencies=tuple(a.name for a in case.agencies),
        meeting_start=case.meeting.starts_at if case.meeting else None,
        sip=case.sip,
        details=details,
        summary=case.summary if details else None,
        consent=(
            ConsentView(
                given_by=consent.given_by,
                agencies=tuple(a.name for a in consent.agencies),
                given_on=consent.given_on,
                expires_on=consent.expires_on,
                withdrawn_at=consent.withdrawn_at,
                active=_consent_active(consent, today),
            )
            if consent and details
            else None
        ),
        history=tuple(
            HistoryEntry(e.at, e.actor, e.kind, e.from_status, e.to_status)
            for e in history
            # Consent events would tell an agency without consent that there was one.
            if details or e.kind in ("created", "status", "reopened")
        ),
        may_change_status=allowed,
        next_statuses=TRANSITIONS[case.status] if allowed else (),
        outcome=case.outcome if details else None,
        effect=case.effect,
        legal_ground=decision.legal_ground,
        may_hold=access.is_coordinator,
        legal_hold=case.legal_hold,
        legal_hold_reason=case.legal_hold_reason if access.is_coordinator else None,
        may_edit=details and may_change_status(case, access),
        may_redact=details and access.is_coordinator,
        not_covered=agencies_without_details(case, today) if details else (),
    )


def read_case(session: Session, clock: Clock, *, access: Access, case_id: int) -> CaseView:
    """A member opens a case: the disclosure rule decides and audits it (one event, in the
    same transaction), whether the details were shown or not."""
    case = _load(session, access, case_id)
    decision = disclosure.disclose(session, clock, access, case, surface_name="case_modal")
    return _view(session, clock, case, access, decision)


# --- changing -------------------------------------------------------------------------------


def change_status(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    case_id: int,
    to: CaseStatus,
    outcome: str | None = None,
    effect: Effect | None = None,
    sip_started: bool | None = None,
) -> Case:
    """Move a case along its lifecycle (raising agency or coordinator); closing records a
    short outcome for the statistics."""
    case = _load(session, access, case_id)
    if not may_change_status(case, access):
        raise NotCoordinator(
            N_("Only the raising agency or a coordinator can change the case's status.")
        )
    if to not in TRANSITIONS[case.status]:
        raise InvalidInput(N_("The case cannot go from its current status to that one."))
    now = clock.now()
    if to is CaseStatus.CLOSED:
        errors: dict[str, DomainError] = {}
        today = local_today(access.forum, clock)
        if outcome and len(outcome.strip()) > OUTCOME_MAX:  # before the guard reads it
            errors["outcome"] = InvalidInput(
                N_plural(
                    "The outcome can be at most {n} character.",
                    "The outcome can be at most {n} characters.",
                ),
                field="outcome",
                n=OUTCOME_MAX,
            )
        else:
            for fld, msgid in privacy.check_fields({"outcome": outcome}, today=today).items():
                errors[fld] = IdentifyingDataRefused(msgid, field=fld)
        if effect is None:
            errors["effect"] = InvalidInput(
                N_("Say whether the actions had the desired effect."), field="effect"
            )
        if errors:
            raise InputErrors(errors)
        if sip_started and not _consent_active(
            _current_consent(case), local_today(access.forum, clock)
        ):
            raise InputErrors(
                {
                    "sip_started": InvalidInput(
                        N_("A SIP needs consent: this case has no active consent."),
                        field="sip_started",
                    )
                }
            )
        case.outcome = (outcome or "").strip() or None
        case.effect = effect
        if sip_started:
            case.sip = SipStatus.STARTED
        case.closed_at = now
    elif case.status is CaseStatus.CLOSED:
        # Reopened: the outcome belonged to the closing; the next closing records a new one.
        case.closed_at, case.outcome, case.effect = None, None, None
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=access.member.slack_user_id,
            kind="reopened" if case.status is CaseStatus.CLOSED else "status",
            from_status=case.status.value,
            to_status=to.value,
        )
    )
    case.status = to
    case.updated_at = now
    if to is CaseStatus.CLOSED:
        feedback.case_closed(session, clock, case)  # the agencies' survey, sent by the scheduler
    _audit(session, clock, access, AuditAction.UPDATE, "case", case.reference, {"status": to.value})
    return case


def withdraw_consent(session: Session, clock: Clock, *, access: Access, case_id: int) -> Case:
    """From now on the case is an anonymous consultation for every other agency."""
    case = _load(session, access, case_id)
    if not may_change_status(case, access):
        raise NotCoordinator(
            N_("Only the raising agency or a coordinator can record that consent was withdrawn.")
        )
    consent = _current_consent(case)
    if consent is None or not _consent_active(consent, local_today(access.forum, clock)):
        raise InvalidInput(N_("This case has no consent to withdraw."))
    now = clock.now()
    consent.withdrawn_at = now
    consent.withdrawn_by = access.member.slack_user_id
    session.add(
        CaseEvent(
            case_id=case.id, at=now, actor=access.member.slack_user_id, kind="consent_withdrawn"
        )
    )
    _audit(
        session, clock, access, AuditAction.UPDATE, "consent", case.reference, {"withdrawn": True}
    )
    return case


def members_to_notify(session: Session, case_id: int) -> list[str]:
    """Slack users of the agencies that must attend (not the one who raised it)."""
    case = session.get(Case, case_id, options=[selectinload(Case.agencies)])
    if case is None:
        return []
    agency_ids = [a.id for a in case.agencies]
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                Member.forum_id == case.forum_id,
                Member.active.is_(True),
                Member.agency_id.in_(agency_ids),
                Member.slack_user_id != case.raised_by,
            )
            .order_by(Member.id)
        )
    )


# --- deviations -----------------------------------------------------------------------------

DEVIATION_KINDS: dict[str, str] = {
    "information": N_("Information was not shared"),
    "attendance": N_("An agency did not take part"),
    "routine": N_("A routine was not followed"),
    "delay": N_("Support was delayed"),
    "other": N_("Other"),
}


def find_case_by_reference(session: Session, forum: Forum, reference: str) -> Case | None:
    return session.scalar(
        select(Case).where(
            Case.forum_id == forum.id, func.upper(Case.reference) == reference.strip().upper()
        )
    )


def report_deviation(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    agency_ids: Sequence[int],
    kind: str | None,
    text: str,
    case_reference: str | None,
) -> Deviation:
    forum, member = access.forum, access.member
    errors: dict[str, DomainError] = {}
    texts = {"text": text, "case": case_reference}
    if len(text.strip()) > DEVIATION_TEXT_MAX:  # before the guard reads it
        errors["text"] = InvalidInput(
            N_plural(
                "The description can be at most {n} character.",
                "The description can be at most {n} characters.",
            ),
            field="text",
            n=DEVIATION_TEXT_MAX,
        )
        texts = {"case": case_reference}
    if case_reference and len(case_reference) > 32:
        texts.pop("case", None)  # no reference is that long: "There is no case …" below
    for fld, msgid in privacy.check_fields(texts, today=local_today(forum, clock)).items():
        errors[fld] = IdentifyingDataRefused(msgid, field=fld)
    if not text.strip():
        errors.setdefault(
            "text", InvalidInput(N_("Describe what happened, without names."), field="text")
        )
    if kind not in DEVIATION_KINDS:
        errors["kind"] = InvalidInput(N_("Choose what kind of deviation it is."), field="kind")
    by_id = {a.id: a for a in active_agencies(forum)}
    if not agency_ids or any(a not in by_id for a in agency_ids):
        errors["agencies"] = InvalidInput(N_("Choose the agencies it concerns."), field="agencies")
    case = None
    if case_reference and case_reference.strip() and "case" not in errors:
        case = find_case_by_reference(session, forum, case_reference)
        if case is None:
            errors["case"] = InvalidInput(
                N_("There is no case {reference} in this forum."),
                field="case",
                reference=case_reference.strip()[:32],
            )
    if errors:
        raise InputErrors(errors)
    now = clock.now()
    deviation = Deviation(
        forum_id=forum.id,
        reported_by=member.slack_user_id,
        reporting_agency_id=member.agency_id,
        kind=kind or "other",
        text=text.strip(),
        case_id=case.id if case else None,
        created_at=now,
        updated_at=now,
        agencies=[by_id[a] for a in dict.fromkeys(agency_ids)],
    )
    session.add(deviation)
    session.flush()
    _audit(session, clock, access, AuditAction.CREATE, "deviation", str(deviation.id))
    return deviation


# --- consent expiry reminders ---------------------------------------------------------------

REMIND_DAYS_BEFORE = 7


def remind_expiring_consents(session: Session, clock: Clock, *, replica: str) -> int:
    """Once per consent, when it expires within a week (forum-local days): queue a DM to the
    forum's coordinators and the member who raised the case. Returns how many were claimed.
    The message names the reference and the date only."""
    horizon = clock.now().date() + dt.timedelta(days=REMIND_DAYS_BEFORE + 1)
    rows = session.execute(
        select(Consent, Case, Forum)
        .join(Case, Consent.case_id == Case.id)
        .join(Forum, Case.forum_id == Forum.id)
        .where(
            Consent.expires_on.is_not(None),
            Consent.expires_on <= horizon,
            Consent.withdrawn_at.is_(None),
            Consent.given_by != ConsentGiver.NONE,
            Case.status != CaseStatus.CLOSED,
        )
        .order_by(Consent.id)
    ).all()
    claimed = 0
    for consent, case, forum in rows:
        today = local_today(forum, clock)
        expires = consent.expires_on
        if expires is None or not today <= expires <= today + dt.timedelta(REMIND_DAYS_BEFORE):
            continue
        if case.consents[-1].id != consent.id:
            continue  # superseded by a newer consent
        zone = forum_schedule(forum).zone
        occurrence = dt.datetime.combine(expires, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
        effect = scheduling.claim(
            session,
            clock,
            forum_id=forum.id,
            kind="consent_expiry",
            subject=str(consent.id),
            occurrence=occurrence,
            due_at=occurrence - dt.timedelta(days=REMIND_DAYS_BEFORE),
            replica=replica,
        )
        if effect is None:
            continue
        t = Translator(normalize_locale(forum.language))
        text = t(
            "The consent for {reference} expires on {date}. Renew it with the family, or the "
            "case becomes an anonymous consultation.",
            reference=case.reference,
            date=t.day(expires),
        )
        coordinators = session.scalars(
            select(Member.slack_user_id).where(
                Member.forum_id == forum.id,
                Member.active.is_(True),
                Member.role.in_((Role.COORDINATOR, Role.ADMIN)),
            )
        ).all()
        for user in dict.fromkeys([*coordinators, case.raised_by]):
            scheduling.enqueue(
                session,
                clock,
                team_id=forum.team_id,
                method="chat.postMessage",
                payload={"channel": user, "text": text},
                dedupe_key=f"consent_expiry:{consent.id}:{user}",
            )
        scheduling.complete(session, clock, effect)
        claimed += 1
    return claimed
