"""Members: adding (and moving between agencies), log reviewers, removing, leaving the
channel, and always keeping an admin."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Row, select
from sqlalchemy.orm import Session, joinedload

from domain import audit, scheduling
from domain.access import Access
from domain.clock import Clock
from domain.errors import (
    DomainError,
    InvalidInput,
    NotCoordinator,
)
from domain.forums.lookups import (
    active_members,
    find_member,
    forum_for_channel,
    log_reviewers,
    require_coordinator,
)
from domain.forums.saving import _ADDED_MEANWHILE, _flush_or_conflict
from domain.i18n import N_, LocaleOf, recipient_translator
from storage.models import Agency, AuditAction, Forum, Member, Role


@dataclass(frozen=True)
class Move:
    """An active member who would change agency (the agency decides what they may see)."""

    slack_user_id: str
    from_agency: str
    to_agency: str


class MoveNeedsConfirmation(DomainError):
    """Adding would move active members to another agency: the coordinator confirms first."""

    msgid = N_("{user} is already a member for {old}. Move them to {new}?")

    def __init__(self, moves: Sequence[Move]):
        first = moves[0]
        super().__init__(
            user=f"<@{first.slack_user_id}>", old=first.from_agency, new=first.to_agency
        )
        self.moves = tuple(moves)


class OwnAgencyChange(NotCoordinator):
    msgid = N_(
        "You cannot change your own agency: ask another coordinator or an admin of the forum "
        "to do it."
    )


def add_members(
    session: Session,
    clock: Clock,
    *,
    forum: Forum,
    actor: str,
    slack_user_ids: Iterable[str],
    agency_id: int,
    role: Role,
    bot_user_ids: Iterable[str] = (),
    confirm_moves: bool = False,
    locale_of: LocaleOf | None = None,
    joined: Callable[[str, str], None] | None = None,
) -> list[Member]:
    """Add (or re-activate) members for one agency. Coordinators only.

    Nobody changes agency silently: an active member of another agency is moved only with
    ``confirm_moves`` (else :class:`MoveNeedsConfirmation` names them), nobody changes their
    own agency (:class:`OwnAgencyChange`), and every agency change is audited and reported to
    the forum's log reviewers by DM (each in their language, ``locale_of``; the forum's when
    unknown). ``joined(user, agency name)`` is called for each person who was not an active
    member before (never the actor), in this transaction: the caller's welcome."""
    access = require_coordinator(session, forum=forum, slack_user_id=actor)
    agency = _agency_to_join(session, forum, agency_id)
    if agency is None:
        raise InvalidInput(N_("Choose one of the forum's agencies."), field="agency")
    users = list(dict.fromkeys(slack_user_ids))
    if not users:
        raise InvalidInput(N_("Choose at least one person."), field="users")
    bots = set(bot_user_ids)
    if bots & set(users):
        raise InvalidInput(N_("Bots cannot be members of a forum."), field="users")
    if role is Role.ADMIN and access.member.role is not Role.ADMIN:
        raise NotCoordinator(N_("Only an admin of the forum can add admins."))
    existing = {
        m.slack_user_id: m
        for m in session.scalars(
            select(Member)
            .options(joinedload(Member.agency))
            .where(Member.forum_id == forum.id, Member.slack_user_id.in_(users))
        )
    }
    own = existing.get(actor)
    if own is not None and own.agency_id != agency.id:
        raise OwnAgencyChange(field="users")
    moves = [
        Move(user, m.agency.name, agency.name)
        for user, m in existing.items()
        if m.active and m.agency_id != agency.id
    ]
    if moves and not confirm_moves:
        raise MoveNeedsConfirmation(moves)
    now = clock.now()
    result = []
    for user in users:
        member = existing.get(user)
        is_new = member is None
        joins = (member is None or not member.active) and user != actor
        moved_from: str | None = None
        if member is None:
            member = Member(
                forum_id=forum.id,
                slack_user_id=user,
                agency_id=agency.id,
                role=role,
                active=True,
                created_at=now,
                updated_at=now,
            )
            session.add(member)
        else:
            if member.role is Role.ADMIN and member.active and role is not Role.ADMIN:
                # Demoting an admin is an admin's decision, and never leaves the forum without one.
                if access.member.role is not Role.ADMIN:
                    raise NotCoordinator(N_("Only an admin of the forum can remove an admin."))
                _ensure_other_admin(session, forum, member)
            if member.agency_id != agency.id:
                moved_from = member.agency.name
            member.agency_id, member.role, member.active, member.updated_at = (
                agency.id,
                role,
                True,
                now,
            )
        result.append(member)
        detail: dict[str, object] = {"agency": agency.name, "role": role.value}
        if moved_from is not None:
            detail["from_agency"] = moved_from
        event = audit.record(
            session,
            clock,
            actor=actor,
            action=AuditAction.CREATE if is_new else AuditAction.UPDATE,
            object_type="member",
            object_ref=user,
            team_id=forum.team_id,
            forum_id=forum.id,
            actor_agency_id=access.member.agency_id,
            detail=detail,
        )
        if moved_from is not None:
            _report_agency_change(
                session,
                clock,
                forum,
                user=user,
                actor=actor,
                old=moved_from,
                new=agency.name,
                key=f"agency_change:{forum.id}:{event.id}",
                locale_of=locale_of,
            )
        if joins and joined is not None:
            joined(user, agency.name)
    _flush_or_conflict(
        session,
        {
            "uq_members_forum_id_slack_user_id": InvalidInput(_ADDED_MEANWHILE, field="users"),
            "members.slack_user_id": InvalidInput(_ADDED_MEANWHILE, field="users"),
        },
    )
    return result


def _agency_to_join(session: Session, forum: Forum, agency_id: int) -> Row[int, str] | None:
    """The forum's agency ``agency_id`` (its id and name) if the forum offers it, read
    after the forum's row is locked (until this transaction ends).

    A settings save retires only an agency without active members, checked in the
    statement that retires it, and it updates the forum's row first. With the lock, a save
    under way commits before this reads the agency (which is then no longer offered), and a
    save that comes later waits for these members and sees them (and keeps the agency). No
    one joins an agency a save has just retired. ``FOR NO KEY UPDATE``, the save's own lock:
    adds to one forum take turns too, so none waits for another's lock to take a stronger
    one; rows that refer to the forum are still written meanwhile. So a deliverer may wait
    for this transaction: queue the announcement's update with ``skip_locked``. (SQLite:
    writers queue whole anyway.)"""
    locked = select(Forum.id).where(Forum.id == forum.id).with_for_update(key_share=True)
    session.execute(locked)
    return session.execute(
        select(Agency.id, Agency.name).where(
            Agency.id == agency_id, Agency.forum_id == forum.id, Agency.active.is_(True)
        )
    ).first()


def _report_agency_change(
    session: Session,
    clock: Clock,
    forum: Forum,
    *,
    user: str,
    actor: str,
    old: str,
    new: str,
    key: str,
    locale_of: LocaleOf | None,
) -> None:
    """A DM to each log reviewer (queued with the change): the agency decides which case
    details someone sees, so reviewers hear of every change."""
    for reviewer in log_reviewers(session, forum):
        t = recipient_translator(locale_of, forum, reviewer)
        text = t(
            "<@{user}> now represents {new} instead of {old} in {forum} (changed by <@{actor}>).",
            user=user,
            new=_mrkdwn(new),
            old=_mrkdwn(old),
            forum=_mrkdwn(forum.name),
            actor=actor,
        )
        scheduling.enqueue(
            session,
            clock,
            team_id=forum.team_id,
            method="chat.postMessage",
            payload={"channel": reviewer, "text": text},
            dedupe_key=f"{key}:{reviewer}",
        )


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _ensure_other_admin(session: Session, forum: Forum, leaving: Member) -> None:
    admins = [
        m for m in active_members(session, forum) if m.role is Role.ADMIN and m.id != leaving.id
    ]
    if not admins:
        raise InvalidInput(
            N_("A forum needs at least one admin. Make someone else admin first."), field="users"
        )


def _removal_refused(
    access: Access, member: Member, admins: Callable[[], int]
) -> DomainError | None:
    """Why ``access`` may not remove ``member`` (an active member of its forum), or None:
    the one rule of :func:`removable` and :func:`remove_member`. No one but a coordinator
    removes anyone, only an admin removes an admin, and never the last admin (``admins``:
    how many active admins the forum has, asked only when it matters)."""
    if not access.is_coordinator:
        return NotCoordinator()
    if member.role is not Role.ADMIN:
        return None
    if access.member.role is not Role.ADMIN:
        return NotCoordinator(N_("Only an admin of the forum can remove an admin."))
    if admins() < 2:
        return InvalidInput(
            N_("A forum needs at least one admin. Make someone else admin first."), field="users"
        )
    return None


def removable(access: Access, members: Sequence[Member]) -> set[int]:
    """The ids of ``members`` (a forum's active ones) that ``access`` may remove: the
    members list offers Remove on these only, as :func:`remove_member` refuses the rest."""
    admins = sum(1 for m in members if m.role is Role.ADMIN)
    return {m.id for m in members if _removal_refused(access, m, lambda: admins) is None}


def remove_member(
    session: Session, clock: Clock, *, forum: Forum, actor: str, member_id: int
) -> Member:
    access = require_coordinator(session, forum=forum, slack_user_id=actor)
    member = session.get(Member, member_id)
    if member is None or member.forum_id != forum.id or not member.active:
        raise InvalidInput(N_("That person is no longer a member of the forum."))
    refused = _removal_refused(
        access,
        member,
        lambda: sum(1 for m in active_members(session, forum) if m.role is Role.ADMIN),
    )
    if refused is not None:
        raise refused
    member.active = False
    member.updated_at = clock.now()
    audit.record(
        session,
        clock,
        actor=actor,
        action=AuditAction.DELETE,
        object_type="member",
        object_ref=member.slack_user_id,
        team_id=forum.team_id,
        forum_id=forum.id,
        actor_agency_id=access.member.agency_id,
    )
    return member


def member_left_channel(
    session: Session, clock: Clock, *, team_id: str, channel_id: str, slack_user_id: str
) -> bool:
    """A member who leaves the forum's channel loses access. Returns True if one did."""
    forum = forum_for_channel(session, team_id=team_id, channel_id=channel_id)
    if forum is None:
        return False
    member = find_member(session, forum=forum, slack_user_id=slack_user_id)
    if member is None:
        return False
    member.active = False
    member.updated_at = clock.now()
    audit.record(
        session,
        clock,
        actor=slack_user_id,
        action=AuditAction.DELETE,
        object_type="member",
        object_ref=slack_user_id,
        team_id=team_id,
        forum_id=forum.id,
        actor_agency_id=member.agency_id,
        detail={"reason": "left_channel"},
    )
    if member.role is Role.ADMIN:
        _keep_an_admin(session, clock, forum, left=member)
    return True


def _keep_an_admin(session: Session, clock: Clock, forum: Forum, *, left: Member) -> None:
    """When the last admin leaves, the longest-serving coordinator (else member) takes over,
    so the forum can always be managed."""
    remaining = [m for m in active_members(session, forum) if m.id != left.id]
    if not remaining or any(m.role is Role.ADMIN for m in remaining):
        return
    successor = min(remaining, key=lambda m: (m.role is not Role.COORDINATOR, m.id))
    successor.role = Role.ADMIN
    successor.updated_at = clock.now()
    audit.record_by(
        session,
        clock,
        Access(forum=forum, member=left),
        action=AuditAction.UPDATE,
        object_type="member",
        object_ref=successor.slack_user_id,
        detail={"role": Role.ADMIN.value, "reason": "last_admin_left"},
    )
