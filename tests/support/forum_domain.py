"""Forums at the domain level, for the tests of tests/unit/test_forums_*.py: a forum with an
admin, a coordinator and a member (:func:`forum_with_members`), and readers of what was
committed (each in a fresh session)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from domain import forums as fs
from domain.clock import AdjustableClock
from domain.schedule import DEFAULT_END, DEFAULT_RRULE, DEFAULT_START
from storage.db import transaction
from storage.models import Agency, Area, AuditEvent, Forum, Member, Role
from tests.support.personnummer import pnr

Sessions = sessionmaker[Session]

TEAM = "T0001"
OTHER_TEAM = "T0002"
CHANNEL = "C0001"
OTHER_CHANNEL = "C0002"

ADMIN = "UADMIN"
COORD = "UCOORD"
MEMBER = "UMEMBER"
STRANGER = "USTRANGER"
BOT = "UBOT"

AGENCIES = ["Grundskola", "Elevhälsa", "Socialtjänst/IFO"]
AREAS = ["Droger", "Alkohol"]


PNR = pnr("811218", "987")


def make_draft(**changes: Any) -> fs.ForumDraft:
    base = fs.ForumDraft(
        name="FOSSAM Norr",
        code="fos",
        agencies=list(AGENCIES),
        own_agency="Grundskola",
        rrule=DEFAULT_RRULE,
        start=DEFAULT_START,
        end=DEFAULT_END,
        areas=list(AREAS),
    )
    return dataclasses.replace(base, **changes)


def create(
    sessions: Sessions,
    clock: AdjustableClock,
    *,
    team: str = TEAM,
    channel: str = CHANNEL,
    actor: str = ADMIN,
    **changes: Any,
) -> int:
    with transaction(sessions) as s:
        forum = fs.create_forum(
            s, clock, team_id=team, channel_id=channel, actor=actor, draft=make_draft(**changes)
        )
        return forum.id


def load_forum(s: Session, forum_id: int) -> Forum:
    return fs.get_forum(s, forum_id=forum_id, team_id=TEAM)


def count(sessions: Sessions, model: Any) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def events(sessions: Sessions, *, after: int = 0) -> list[AuditEvent]:
    with sessions() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.id > after).order_by("id")))


def last_event_id(sessions: Sessions) -> int:
    with sessions() as s:
        return s.scalar(select(func.max(AuditEvent.id))) or 0


def member_of(sessions: Sessions, forum_id: int, user: str) -> Member | None:
    with sessions() as s:
        return s.scalar(
            select(Member).where(Member.forum_id == forum_id, Member.slack_user_id == user)
        )


def agencies_of(sessions: Sessions, forum_id: int) -> list[Agency]:
    with sessions() as s:
        return list(
            s.scalars(select(Agency).where(Agency.forum_id == forum_id).order_by(Agency.position))
        )


def areas_of(sessions: Sessions, forum_id: int) -> list[Area]:
    with sessions() as s:
        return list(
            s.scalars(select(Area).where(Area.forum_id == forum_id).order_by(Area.position))
        )


def active_names(rows: list[Agency] | list[Area]) -> list[str]:
    return [r.name for r in rows if r.active]


@dataclass
class Setup:
    """A forum with an admin (Grundskola), a coordinator and a member (Socialtjänst/IFO).

    Elevhälsa has no members, so it can be removed.
    """

    forum_id: int
    agency: dict[str, int]
    audit_mark: int  # last audit event id after the set-up

    def member_id(self, sessions: Sessions, user: str) -> int:
        member = member_of(sessions, self.forum_id, user)
        assert member is not None
        return member.id


def forum_with_members(sessions: Sessions, clock: AdjustableClock) -> Setup:
    """The forum of :class:`Setup`, committed."""
    forum_id = create(sessions, clock)
    agency = {a.name: a.id for a in agencies_of(sessions, forum_id)}
    with transaction(sessions) as s:
        forum = load_forum(s, forum_id)
        fs.add_members(
            s,
            clock,
            forum=forum,
            actor=ADMIN,
            slack_user_ids=[COORD],
            agency_id=agency["Socialtjänst/IFO"],
            role=Role.COORDINATOR,
        )
        fs.add_members(
            s,
            clock,
            forum=forum,
            actor=ADMIN,
            slack_user_ids=[MEMBER],
            agency_id=agency["Socialtjänst/IFO"],
            role=Role.MEMBER,
        )
    return Setup(forum_id=forum_id, agency=agency, audit_mark=last_event_id(sessions))


def assert_nothing_stored(sessions: Sessions) -> None:
    for model in (Forum, Agency, Area, Member, AuditEvent):
        assert count(sessions, model) == 0, model.__name__


def add_as(
    sessions: Sessions,
    clock: AdjustableClock,
    setup: Setup,
    *,
    actor: str,
    users: list[str],
    role: Role = Role.MEMBER,
    agency_id: int | None = None,
    bots: tuple[str, ...] = (),
    confirm_moves: bool = False,
) -> list[str]:
    with transaction(sessions) as s:
        added = fs.add_members(
            s,
            clock,
            forum=load_forum(s, setup.forum_id),
            actor=actor,
            slack_user_ids=users,
            agency_id=setup.agency["Elevhälsa"] if agency_id is None else agency_id,
            role=role,
            bot_user_ids=bots,
            confirm_moves=confirm_moves,
        )
        return [m.slack_user_id for m in added]


def assert_no_change(sessions: Sessions, setup: Setup, *, members: int = 3) -> None:
    assert count(sessions, Member) == members
    assert events(sessions, after=setup.audit_mark) == []


def remove_as(
    sessions: Sessions, clock: AdjustableClock, setup: Setup, *, actor: str, user: str
) -> Member:
    member_id = setup.member_id(sessions, user)
    with transaction(sessions) as s:
        return fs.remove_member(
            s, clock, forum=load_forum(s, setup.forum_id), actor=actor, member_id=member_id
        )


def update_as(
    sessions: Sessions, clock: AdjustableClock, setup: Setup, *, actor: str = COORD, **changes: Any
) -> None:
    with transaction(sessions) as s:
        fs.update_forum(
            s, clock, forum=load_forum(s, setup.forum_id), actor=actor, draft=make_draft(**changes)
        )
