"""Raising a case, and the meetings a case can go to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain import criteria, meetings, privacy
from domain.access import Access
from domain.cases.base import AGE_BANDS, CONCERNS, MEETING_CHOICES, SUMMARY_MAX, CaseDraft, _audit
from domain.clock import Clock
from domain.errors import (
    DomainError,
    IdentifyingDataRefused,
    InputErrors,
    InvalidInput,
)
from domain.forums import active_agencies, forum_schedule, local_today
from domain.i18n import N_, N_plural
from storage.models import (
    AuditAction,
    Case,
    CaseCounter,
    CaseEvent,
    CaseStatus,
    Consent,
    ConsentGiver,
    Forum,
    Meeting,
    MeetingStatus,
    SipStatus,
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
        if draft.consent_given_on is None:
            errors["consent_given_on"] = InvalidInput(
                N_("Enter the day the consent was given."), field="consent_given_on"
            )
        elif draft.consent_given_on > today:
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
                # "Not given" keeps none of what was picked before it was chosen (agencies,
                # dates): the register would show them as a consent's.
                given = draft.consent_giver is not ConsentGiver.NONE
                case.consents.append(
                    Consent(
                        given_by=draft.consent_giver,
                        given_on=draft.consent_given_on if given else None,
                        expires_on=draft.consent_expires_on if given else None,
                        recorded_by=member.slack_user_id,
                        recorded_at=now,
                        agencies=[
                            by_id[a] for a in dict.fromkeys(draft.consent_agency_ids) if a in by_id
                        ]
                        if given
                        else [],
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
