"""Who may see and change an action (owner, the owning agency, a coordinator)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from domain import audit, disclosure, privacy
from domain.access import Access
from domain.actions.base import ActionNotFound, NotInActionsForum
from domain.clock import Clock
from domain.errors import (
    DomainError,
    IdentifyingDataRefused,
    InvalidInput,
    NotAMember,
)
from domain.forums import (
    active_agencies,
    active_members,
    require_member,
)
from domain.i18n import N_
from storage.models import (
    Action,
    ActionEvent,
    Agency,
    AuditAction,
    Case,
    Forum,
    Member,
    Role,
)

# --- access ---------------------------------------------------------------------------------


def may_change(action: Action, access: Access) -> bool:
    return (
        access.is_coordinator
        or (action.owner is not None and action.owner == access.member.slack_user_id)
        or access.member.agency_id == action.owning_agency_id
    )


def may_edit(action: Action, access: Access) -> bool:
    """Who corrects an action's text: whoever wrote it, or a coordinator."""
    return access.is_coordinator or action.created_by == access.member.slack_user_id


def may_follow_up(action: Action, access: Access) -> bool:
    """The owner or a coordinator records the effect (the agency, when no one owns it)."""
    if access.is_coordinator or action.owner == access.member.slack_user_id:
        return True
    return action.owner is None and access.member.agency_id == action.owning_agency_id


def told(user: str | None, *, by: str) -> bool:
    """Whether ``user`` (an action's owner, new or former) gets a DM about what ``by`` did
    to the action: not when they did it themselves (an action they gave themselves, handed
    over from or to themselves, moved themselves), nor when there is nobody."""
    return bool(user) and user != by


def owner_may_read(
    session: Session,
    clock: Clock,
    access: Access,
    case: Case | None,
    agency: Agency,
    today: dt.date,
    *,
    field: str,
) -> InvalidInput | None:
    """None when the owner of an action of ``case`` in ``agency`` could read it; else the
    refusal for whoever assigns it (on ``field``). The action's details are the case's
    (domain.disclosure): an agency the case rule does not let see the case would get an
    action it can only see as "details hidden", so it may not own it. Access is never
    widened for it. Why the agency is left out, and which agencies may own it instead, are
    what the case's consent register says (who may see the case: its consent, its legal
    grounds): told to a reader of the register (a coordinator, the raising agency), audited
    as a read of it (kept when the refusal rolls the caller's transaction back); anyone
    else, a reader of the case's details too, is told only that no consent covers the
    agency they chose (disclosure.told_reason)."""
    if case is None:
        return None
    decision = disclosure.agency_decision(case, agency.id, today)
    if decision.allowed:
        return None
    why = disclosure.told_reason(
        access, case, today, decision.hidden or disclosure.Hidden.NOT_COVERED
    )
    register = why is not disclosure.Hidden.UNSAID
    if register:
        # Each refusal below tells a reader of the consent register what it says (why the
        # agency is left out; which agencies may see the case): a read of the register.
        disclosure.disclose(
            session, clock, access, case, surface_name="consent_register", keep=True
        )
    if field == "owner":  # a hand-over within the agency: only a coordinator moves it
        return InvalidInput(_OWNER_REFUSED[why], field=field, agency=agency.name)
    if register:
        allowed = [
            a.name
            for a in active_agencies(access.forum)
            if disclosure.agency_decision(case, a.id, today).allowed
        ]
        if allowed:
            return InvalidInput(
                _CHOOSE_FROM[why],
                field=field,
                agency=agency.name,
                reference=case.reference,
                agencies=", ".join(allowed),
            )
    return InvalidInput(_CHOOSE_ANOTHER[why], field=field, agency=agency.name)


# Why the owner could not read the action (disclosure.Hidden), in each refusal: the case's
# consent leaves the agency out, the case has no valid consent, or the agency's legal ground
# ended.
_OWNER_REFUSED = {
    disclosure.Hidden.NOT_COVERED: N_(
        "The case's consent does not cover {agency}, so its owner could not read this "
        "action. Ask a coordinator to move it to an agency that may see the case."
    ),
    disclosure.Hidden.NO_CONSENT: N_(
        "The case has no valid consent, so an owner in {agency} could not read this "
        "action. Ask a coordinator to move it to an agency that may see the case."
    ),
    disclosure.Hidden.GROUND_ENDED: N_(
        "The legal ground for {agency} has ended, so its owner could not read this "
        "action. Ask a coordinator to move it to an agency that may see the case."
    ),
    disclosure.Hidden.UNSAID: N_(
        "No consent covers {agency}, so its owner could not read this action. Ask a "
        "coordinator to move it to an agency that may see the case."
    ),
}
_CHOOSE_FROM = {
    disclosure.Hidden.NOT_COVERED: N_(
        "The case's consent does not cover {agency}, so its owner could not read "
        "this action. Choose an agency that may see case {reference}: {agencies}."
    ),
    disclosure.Hidden.NO_CONSENT: N_(
        "The case has no valid consent, so an owner in {agency} could not read this "
        "action. Choose an agency that may see case {reference}: {agencies}."
    ),
    disclosure.Hidden.GROUND_ENDED: N_(
        "The legal ground for {agency} has ended, so its owner could not read this "
        "action. Choose an agency that may see case {reference}: {agencies}."
    ),
    disclosure.Hidden.UNSAID: N_(
        "No consent covers {agency}, so its owner could not read this action. Choose an "
        "agency that may see case {reference}: {agencies}."
    ),
}
_CHOOSE_ANOTHER = {
    disclosure.Hidden.NOT_COVERED: N_(
        "The case's consent does not cover {agency}, so its owner could not read this "
        "action. Choose another agency, or ask a coordinator."
    ),
    disclosure.Hidden.NO_CONSENT: N_(
        "The case has no valid consent, so an owner in {agency} could not read this "
        "action. Choose another agency, or ask a coordinator."
    ),
    disclosure.Hidden.GROUND_ENDED: N_(
        "The legal ground for {agency} has ended, so its owner could not read this "
        "action. Choose another agency, or ask a coordinator."
    ),
    disclosure.Hidden.UNSAID: N_(
        "No consent covers {agency}, so its owner could not read this action. Choose "
        "another agency, or ask a coordinator."
    ),
}


def _load(session: Session, action_id: int, *, forum_id: int | None = None) -> Action:
    action = session.scalar(
        select(Action)
        .options(joinedload(Action.owning_agency), joinedload(Action.case), joinedload(Action.area))
        .where(Action.id == action_id)
    )
    if action is None or (forum_id is not None and action.forum_id != forum_id):
        raise ActionNotFound()
    return action


def access_for_action(
    session: Session, *, team_id: str, action_id: int, slack_user_id: str
) -> tuple[Access, Action]:
    """The action and the member's access to its forum (from a DM, App Home or a list)."""
    action = _load(session, action_id)
    forum = session.get(Forum, action.forum_id)
    if forum is None or forum.team_id != team_id:
        raise ActionNotFound()
    try:
        return require_member(session, forum=forum, slack_user_id=slack_user_id), action
    except NotAMember:
        raise NotInActionsForum() from None


def _audit(
    session: Session,
    clock: Clock,
    access: Access,
    action: AuditAction,
    action_id: int,
    detail: dict[str, Any] | None = None,
) -> None:
    audit.record_by(
        session,
        clock,
        access,
        action=action,
        object_type="action",
        object_ref=str(action_id),
        detail=detail,
    )


def _history(
    session: Session,
    clock: Clock,
    action: Action,
    *,
    actor: str,
    kind: str,
    detail: dict[str, Any] | None = None,
    note: str | None = None,
) -> ActionEvent:
    event = ActionEvent(
        action_id=action.id,
        at=clock.now(),
        actor=actor,
        kind=kind,
        detail=detail or {},
        note=note,
    )
    session.add(event)
    action.updated_at = clock.now()
    return event


def _agency_member(session: Session, forum: Forum, agency_id: int, user: str) -> Member | None:
    return session.scalar(
        select(Member).where(
            Member.forum_id == forum.id,
            Member.slack_user_id == user,
            Member.agency_id == agency_id,
            Member.active.is_(True),
        )
    )


# The most owners a picker offers (a Slack select holds 100 options); more: the people picker.
OWNER_CHOICES_MAX = 100


@dataclass(frozen=True)
class OwnerChoice:
    """Someone who may own an action: their Slack user id and their agency's name."""

    slack_user_id: str
    agency: str


def may_own(member: Member) -> bool:
    """The member side of :func:`owner_refused`: an active member who does the work (not
    the granskare)."""
    return member.active and member.role is not Role.REVIEWER


def owner_choices(
    session: Session,
    forum: Forum,
    today: dt.date,
    *,
    case: Case | None = None,
    agency_id: int | None = None,
    leave_out: str | None = None,
    members: Sequence[Member] | None = None,
) -> list[OwnerChoice] | None:
    """Who may own an action of ``case`` (None: an action without a case) in ``agency_id``
    (None: any active agency of the forum): the members :func:`owner_refused` lets own
    it, of the agencies :func:`owner_may_read` lets own it (disclosure.agency_decision,
    the case rule), ``leave_out`` not among them (the owner already). What a picker
    offers; the save still refuses anyone else on its own. None when more than
    :data:`OWNER_CHOICES_MAX` may (the picker is then the workspace's people).
    ``members``: the forum's active members, read once for many cases
    (domain.forums.active_members)."""
    agencies = {
        a.id: a
        for a in active_agencies(forum)
        if (agency_id is None or a.id == agency_id)
        and (case is None or disclosure.agency_decision(case, a.id, today).allowed)
    }
    if not agencies:
        return []
    if members is None:
        members = active_members(session, forum)
    choices = [
        OwnerChoice(m.slack_user_id, agencies[m.agency_id].name)
        for m in members
        if m.agency_id in agencies and may_own(m) and m.slack_user_id != leave_out
    ]
    return choices if len(choices) <= OWNER_CHOICES_MAX else None


def owner_refused(session: Session, forum: Forum, agency: Agency, user: str) -> InvalidInput | None:
    """Why ``user`` may not own an action of ``agency`` (None: they may).

    An owner is an active member of the owning agency who does the work: not the
    *granskare*, who reads the logs and owns nothing (the owner picker leaves them out; this
    is the wall for a crafted submission, on every path that sets an owner)."""
    member = _agency_member(session, forum, agency.id, user)
    if member is None:
        return InvalidInput(
            N_(
                "The owner must be a member of {agency} in this forum. Choose another person, "
                "or ask the coordinator to add them."
            ),
            field="owner",
            agency=agency.name,
        )
    if not may_own(member):  # active (found so): the granskare
        return InvalidInput(
            N_(
                "The log reviewer (granskare) checks the logs and cannot own actions. "
                "Choose another person."
            ),
            field="owner",
        )
    return None


def _privacy(errors: dict[str, DomainError], texts: dict[str, str | None], today: dt.date) -> None:
    for fld, msgid in privacy.check_fields(texts, today=today).items():
        errors.setdefault(fld, IdentifyingDataRefused(msgid, field=fld))
