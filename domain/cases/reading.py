"""Reading cases: lists, rows and one case."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from domain import disclosure
from domain.access import Access
from domain.cases.base import (
    PAGE_SIZE,
    TRANSITIONS,
    CasePage,
    CaseRow,
    CaseView,
    ConsentView,
    HistoryEntry,
    Scope,
    _consent_active,
    _current_consent,
)
from domain.clock import Clock
from domain.errors import (
    CaseNotFound,
    CaseOfAnotherWorkspace,
    ForumNotFound,
    NotAMember,
    NotInCasesForum,
)
from domain.forums import local_today
from storage.models import (
    Case,
    CaseEvent,
    CaseStatus,
    Consent,
    Forum,
    case_agencies,
)

# --- reading --------------------------------------------------------------------------------


def agencies_without_details(case: Case, today: dt.date) -> tuple[str, ...]:
    """The agencies that must attend but may not see the details: neither the current
    consent (active) nor a recorded legal ground covers them. The raising agency always may
    (the disclosure rule's case decision, for each agency)."""
    return tuple(
        a.name for a in case.agencies if not disclosure.agency_decision(case, a.id, today).allowed
    )


def may_change_status(case: Case, access: Access) -> bool:
    return access.is_coordinator or access.member.agency_id == case.raising_agency_id


def may_delete(case: Case, access: Access) -> bool:
    """Whether this member may delete the case as raised by mistake (if nothing was built
    on it, :mod:`domain.cases.removing`): the member who raised it or a coordinator."""
    return access.is_coordinator or case.raised_by == access.member.slack_user_id


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


def access_for_case(session: Session, *, team_id: str, case_id: int, slack_user_id: str) -> Access:
    """The member's access to the forum of a case named by its id alone (a DM's button, its
    modal: no forum comes with it). Anyone outside that forum is told what an id of no case
    tells them, so the answer does not reveal that another forum or workspace has a case of
    that id (NotInCasesForum, CaseOfAnotherWorkspace: audited as what they are)."""
    case = session.get(Case, case_id) if case_id > 0 else None
    if case is None:
        raise CaseNotFound()
    forum = session.get(Forum, case.forum_id)
    try:
        return disclosure.reader(session, team_id=team_id, forum=forum, slack_user_id=slack_user_id)
    except ForumNotFound:  # another workspace's case: no case here
        raise CaseOfAnotherWorkspace() from None
    except NotAMember:
        raise NotInCasesForum() from None


def _load(session: Session, access: Access, case_id: int) -> Case:
    """The case of the reader's forum with what the rule and the case view read, in two
    statements: the case joined with its raising agency, meeting, agencies and legal grounds
    (one row per agency and ground: a handful), then its consents joined with their
    agencies. Selectin loaders took a statement each (five, and the meeting and the raising
    agency lazily after them: up to seven)."""
    case = (
        session.execute(
            select(Case)
            .options(
                joinedload(Case.raising_agency),
                joinedload(Case.meeting),
                joinedload(Case.agencies),
                joinedload(Case.legal_grounds),
                selectinload(Case.consents).joinedload(Consent.agencies),
            )
            .where(Case.id == case_id, Case.forum_id == access.forum.id)
        )
        .unique()
        .scalar_one_or_none()
    )
    if case is None:
        raise CaseNotFound()
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
            if details or e.kind in ("created", "status", "reopened", "agencies")
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
        may_delete=may_delete(case, access),
        not_covered=agencies_without_details(case, today) if details else (),
        hidden=decision.hidden,
    )


def read_case(session: Session, clock: Clock, *, access: Access, case_id: int) -> CaseView:
    """A member opens a case: the disclosure rule decides and audits it (one event, in the
    same transaction), whether the details were shown or not."""
    case = _load(session, access, case_id)
    decision = disclosure.disclose(session, clock, access, case, surface_name="case_modal")
    # Hidden from a coordinator's agency: the modal tells them why (the register's facts).
    disclosure.audit_told_reason(session, clock, access, case, decision)
    # Held for the rest of the session (the identity map holds objects weakly): the modal's
    # list of the case's actions asks the rule about this case again, and finds what it
    # reads loaded here (disclosure.load_cases), not four statements to load it anew.
    session.info.setdefault(_READ, []).append(case)
    return _view(session, clock, case, access, decision)


_READ = "samverkan_cases_read"
