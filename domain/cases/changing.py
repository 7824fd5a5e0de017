"""Changing a case: status, consent withdrawal and who is told."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from domain import disclosure, feedback, privacy
from domain.access import Access
from domain.cases.base import OUTCOME_MAX, TRANSITIONS, _audit, _consent_active, _current_consent
from domain.cases.reading import _load, may_change_status
from domain.clock import Clock
from domain.errors import (
    CaseChangeRefused,
    DomainError,
    IdentifyingDataRefused,
    InputErrors,
    InvalidInput,
)
from domain.forums import active_agencies, local_today
from domain.i18n import N_, N_plural
from storage.models import (
    AgendaItem,
    AuditAction,
    Case,
    CaseEvent,
    CaseStatus,
    Consent,
    ConsentGiver,
    Effect,
    Member,
    SipStatus,
)

# --- changing -------------------------------------------------------------------------------

_STATUS_NOT_THEIRS = N_("Only the raising agency or a coordinator can change the case's status.")


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
    short outcome for the statistics.

    The case's row is locked first (FOR NO KEY UPDATE, the lock the update takes anyway) and
    read as it is then: a save of minutes or a meeting's record writing for the case at the
    same moment (they lock the same row, :mod:`domain.locks`) either finishes first and is
    seen here (a follow-up planned, the case discussed), or waits for this change and sees
    the case closed."""
    session.execute(
        select(Case)
        .where(Case.id == case_id, Case.forum_id == access.forum.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).all()
    case = _load(session, access, case_id)
    if not may_change_status(case, access):
        raise CaseChangeRefused(
            _STATUS_NOT_THEIRS, attempt="close" if to is CaseStatus.CLOSED else "status"
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
    # The status is someone's own choice from now on: a meeting's record corrected later to
    # "not discussed" no longer sets back what it once marked (domain.agenda.record).
    session.execute(
        update(AgendaItem)
        .where(AgendaItem.case_id == case.id, AgendaItem.discussed_from.is_not(None))
        .values(discussed_from=None)
    )
    if to is CaseStatus.CLOSED:
        feedback.case_closed(session, clock, case)  # the agencies' survey, sent by the scheduler
    _audit(session, clock, access, AuditAction.UPDATE, "case", case.reference, {"status": to.value})
    return case


def close_reference(session: Session, *, access: Access, case_id: int) -> str:
    """Before the close modal opens: refused as :func:`change_status` would refuse the
    closing for who the member is (so no one fills in an outcome for nothing, and the
    attempt is audited at the button as at the save); the case's reference."""
    case = _load(session, access, case_id)
    if not may_change_status(case, access):
        raise CaseChangeRefused(_STATUS_NOT_THEIRS, attempt="close")
    return case.reference


def withdraw_consent(session: Session, clock: Clock, *, access: Access, case_id: int) -> Case:
    """From now on the case is an anonymous consultation for every other agency."""
    case = _load(session, access, case_id)
    if not may_change_status(case, access):
        raise CaseChangeRefused(
            N_("Only the raising agency or a coordinator can record that consent was withdrawn."),
            attempt="consent_withdrawn",
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


def _changeable_case(
    session: Session,
    access: Access,
    case_id: int,
    *,
    attempt: str,
    not_theirs: str,
    closed: str,
    clock: Clock | None = None,
    hidden: str | None = None,
) -> Case:
    """The open case this member may change from its modal (the raising agency or a
    coordinator), or the refusal: ``not_theirs``, ``closed``, and, for a change of one of
    the case's details (given ``clock`` and ``hidden``), ``hidden`` when the member's agency
    may not see them. A refusal for who the member is names ``attempt`` (the audit log's
    word for the change)."""
    case = _load(session, access, case_id)
    if not may_change_status(case, access):
        raise CaseChangeRefused(not_theirs, attempt=attempt)
    if case.status is CaseStatus.CLOSED:
        raise InvalidInput(closed)
    if (
        clock is not None
        and hidden is not None
        and not disclosure.case_decision(access, case, local_today(access.forum, clock)).allowed
    ):
        raise CaseChangeRefused(hidden, attempt=attempt, reason="details_hidden")
    return case


def _consent_case(session: Session, clock: Clock, access: Access, case_id: int) -> Case:
    # The consent is one of the case's details, and it decides who sees them: a
    # coordinator of an agency that may not see them (an anonymous consultation: no
    # family known to ask) neither replaces it unseen nor names their own agency in one.
    return _changeable_case(
        session,
        access,
        case_id,
        attempt="consent",
        not_theirs=N_("Only the raising agency or a coordinator can record consent for the case."),
        closed=N_("The case is closed. Reopen it to record a new consent."),
        clock=clock,
        hidden=N_("The consent is one of the case's details, which your agency may not see."),
    )


def consent_reference(session: Session, clock: Clock, *, access: Access, case_id: int) -> str:
    """Before the consent modal opens: whether this member may record consent for the case
    (as :func:`record_consent`, which asks again); the case's reference."""
    return _consent_case(session, clock, access, case_id).reference


def record_consent(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    case_id: int,
    giver: ConsentGiver | None,
    agency_ids: Sequence[int],
    given_on: dt.date | None,
    expires_on: dt.date | None,
) -> Case:
    """A consent given after the case was raised (a consultation the family now consents
    to) or renewed before it expires: it becomes the case's current consent, for exactly the
    agencies it names (an agency it leaves out sees an anonymous consultation from now on).
    The raising agency or a coordinator records it; every field error at once."""
    case = _consent_case(session, clock, access, case_id)
    today = local_today(access.forum, clock)
    errors: dict[str, DomainError] = {}
    if giver is None or giver is ConsentGiver.NONE:
        errors["consent"] = InvalidInput(N_("Say who gave the consent."), field="consent")
    by_id = {a.id: a for a in active_agencies(access.forum)}
    chosen = list(dict.fromkeys(agency_ids))
    if not chosen:
        errors["consent_agencies"] = InvalidInput(
            N_("Choose the agencies the consent covers."), field="consent_agencies"
        )
    elif any(a not in by_id for a in chosen):
        errors["consent_agencies"] = InvalidInput(
            N_("Choose agencies of this forum."), field="consent_agencies"
        )
    if given_on is None:
        errors["consent_given_on"] = InvalidInput(
            N_("Enter the day the consent was given."), field="consent_given_on"
        )
    elif given_on > today:
        errors["consent_given_on"] = InvalidInput(
            N_("The consent cannot be given in the future."), field="consent_given_on"
        )
    if expires_on and expires_on < today:
        errors["consent_expires_on"] = InvalidInput(
            N_("This consent has already expired."), field="consent_expires_on"
        )
    if errors:
        raise InputErrors(errors)
    assert giver is not None
    now = clock.now()
    case.consents.append(
        Consent(
            given_by=giver,
            given_on=given_on,
            expires_on=expires_on,
            recorded_by=access.member.slack_user_id,
            recorded_at=now,
            agencies=[by_id[a] for a in chosen],
        )
    )
    case.updated_at = now
    session.add(
        CaseEvent(
            case_id=case.id, at=now, actor=access.member.slack_user_id, kind="consent_recorded"
        )
    )
    _audit(
        session,
        clock,
        access,
        AuditAction.UPDATE,
        "consent",
        case.reference,
        {"recorded": True, "agencies": len(chosen)},
    )
    session.flush()
    return case


def _agencies_case(session: Session, access: Access, case_id: int) -> Case:
    return _changeable_case(
        session,
        access,
        case_id,
        attempt="agencies",
        not_theirs=N_(
            "Only the raising agency or a coordinator can change which agencies take part."
        ),
        closed=N_("The case is closed. Reopen it to change which agencies take part."),
    )


def require_agencies_changeable(session: Session, *, access: Access, case_id: int) -> None:
    """Before the agencies modal opens: refused as :func:`change_agencies` would refuse it
    (not the member's to change, the case closed), so no one picks agencies for nothing."""
    _agencies_case(session, access, case_id)


@dataclass(frozen=True)
class AgenciesChanged:
    """What :func:`change_agencies` did: whether the case's agencies changed at all (a
    posted agenda names them), and the agencies added (their members are told)."""

    changed: bool
    added: list[int]


def change_agencies(
    session: Session, clock: Clock, *, access: Access, case_id: int, agency_ids: Sequence[int]
) -> AgenciesChanged:
    """Which agencies must attend, changed after the case was raised (the raising agency
    always does): the raising agency or a coordinator, while the case is open."""
    case = _agencies_case(session, access, case_id)
    by_id = {a.id: a for a in active_agencies(access.forum)}
    chosen = list(dict.fromkeys(agency_ids))
    if any(a not in by_id for a in chosen):
        raise InputErrors(
            {"agencies": InvalidInput(N_("Choose agencies of this forum."), field="agencies")}
        )
    before = [a.id for a in case.agencies]
    wanted = [case.raising_agency_id, *(a for a in chosen if a != case.raising_agency_id)]
    if set(wanted) == set(before):
        return AgenciesChanged(changed=False, added=[])
    case.agencies = [case.raising_agency, *(by_id[a] for a in wanted[1:])]
    now = clock.now()
    case.updated_at = now
    session.add(
        CaseEvent(case_id=case.id, at=now, actor=access.member.slack_user_id, kind="agencies")
    )
    _audit(
        session,
        clock,
        access,
        AuditAction.UPDATE,
        "case",
        case.reference,
        {"agencies": len(wanted)},
    )
    session.flush()
    return AgenciesChanged(changed=True, added=[a for a in wanted if a not in before])


def _sip_case(session: Session, clock: Clock, access: Access, case_id: int) -> Case:
    # The SIP is one of the case's details: a coordinator of an agency that may not see
    # them (an anonymous consultation) neither reads nor sets it.
    return _changeable_case(
        session,
        access,
        case_id,
        attempt="sip",
        not_theirs=N_("Only the raising agency or a coordinator can change the SIP."),
        closed=N_("The case is closed. Reopen it to change the SIP."),
        clock=clock,
        hidden=N_("The SIP is one of the case's details, which your agency may not see."),
    )


def sip_reference(session: Session, clock: Clock, *, access: Access, case_id: int) -> str:
    """Before the SIP modal opens: whether this member may change the case's SIP (as
    :func:`change_sip`, which asks again); the case's reference."""
    return _sip_case(session, clock, access, case_id).reference


def change_sip(
    session: Session, clock: Clock, *, access: Access, case_id: int, sip: SipStatus | None
) -> bool:
    """Whether a SIP is needed or started, changed after raising (the raising agency or a
    coordinator who may see the details, open cases). The raise's rule holds for the
    consent as it stands now: a SIP, needed or started, needs an active consent. The
    statistics and the reviews count the value as it is. Returns whether it changed."""
    case = _sip_case(session, clock, access, case_id)
    if sip is None:
        raise InputErrors({"sip": InvalidInput(N_("Choose whether a SIP is needed."), field="sip")})
    today = local_today(access.forum, clock)
    if sip is not SipStatus.NOT_RELEVANT and not _consent_active(_current_consent(case), today):
        raise InputErrors(
            {
                "sip": InvalidInput(
                    N_("A SIP needs consent: this case has no active consent."), field="sip"
                )
            }
        )
    if sip is case.sip:
        return False
    now = clock.now()
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=access.member.slack_user_id,
            kind="sip",
            from_status=case.sip.value,
            to_status=sip.value,
        )
    )
    case.sip = sip
    case.updated_at = now
    _audit(session, clock, access, AuditAction.UPDATE, "case", case.reference, {"sip": sip.value})
    session.flush()
    return True


def readers_lost_to_new_consent(session: Session, clock: Clock, case_id: int) -> list[str]:
    """After :func:`record_consent`: the members whose agency the previous consent covered
    and who may no longer see the case's details (their App Home still shows them)."""
    case = session.get(Case, case_id)
    if case is None or len(case.consents) < 2:
        return []
    covered = {a.id for a in case.consents[-2].agencies}
    still = disclosure.case_readers(session, clock, case_id)
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                Member.forum_id == case.forum_id,
                Member.active.is_(True),
                Member.agency_id.in_(covered),
                Member.slack_user_id.not_in(still),
            )
            .order_by(Member.id)
        )
    )


def members_to_notify(
    session: Session, case_id: int, agency_ids: Sequence[int] | None = None
) -> list[str]:
    """Slack users of the agencies that must attend (not the one who raised it); of
    ``agency_ids`` only, when given (agencies added later)."""
    case = session.get(Case, case_id, options=[selectinload(Case.agencies)])
    if case is None:
        return []
    if agency_ids is None:
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
