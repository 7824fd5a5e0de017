"""Forums, members and access at the domain level (no Slack), on SQLite and PostgreSQL.

Every unit of work goes through ``storage.db.transaction`` exactly as the handlers do, and
every check reads the database back in a fresh session, so what is asserted is what was
committed (or not).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from domain import audit
from domain import forums as fs
from domain.clock import AdjustableClock
from domain.errors import (
    CodeTaken,
    ForumExists,
    IdentifyingDataRefused,
    InputErrors,
    InvalidInput,
    NotAMember,
    NotCoordinator,
)
from domain.schedule import DEFAULT_END, DEFAULT_RRULE, DEFAULT_START, next_occurrences
from storage.db import transaction
from storage.models import Agency, Area, AuditAction, AuditEvent, Forum, Member, Role
from tests.support.concurrency import lock_waits
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


def test_personnummer_helper_is_valid() -> None:
    assert PNR == "811218-9876"


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


@pytest.fixture
def setup(sessions: Sessions, clock: AdjustableClock) -> Setup:
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


# --- create_forum -------------------------------------------------------------------------


def test_create_forum_makes_creator_admin_and_keeps_order(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    forum_id = create(sessions, clock, areas=["Hemse", "Gråbo", "Droger"])

    with sessions() as s:
        forum = s.get(Forum, forum_id)
        assert forum is not None
        assert (forum.team_id, forum.channel_id, forum.name) == (TEAM, CHANNEL, "FOSSAM Norr")
        assert forum.code == "FOS"
        assert forum.created_by == ADMIN
        assert forum.created_at == clock.now()
        assert forum.schedule_rrule == DEFAULT_RRULE
        assert forum.meeting_start == DEFAULT_START
        assert forum.meeting_minutes == 120
        members = list(s.scalars(select(Member).where(Member.forum_id == forum_id)))
        assert len(members) == 1
        (admin,) = members
        assert admin.slack_user_id == ADMIN
        assert admin.role is Role.ADMIN
        assert admin.active
        assert admin.agency.name == "Grundskola"
        assert fs.require_coordinator(s, forum=forum, slack_user_id=ADMIN).member.id == admin.id
    assert [a.name for a in agencies_of(sessions, forum_id)] == AGENCIES
    assert [a.name for a in areas_of(sessions, forum_id)] == ["Hemse", "Gråbo", "Droger"]

    (event,) = events(sessions)
    assert event.actor == ADMIN
    assert event.action is AuditAction.CREATE
    assert (event.object_type, event.object_ref) == ("forum", "FOS")
    assert (event.forum_id, event.team_id) == (forum_id, TEAM)
    assert event.actor_agency_id == admin.agency_id
    assert event.at == clock.now()


def test_create_forum_refusals_store_nothing(sessions: Sessions, clock: AdjustableClock) -> None:
    # Every field error at once.
    with pytest.raises(InputErrors) as exc:
        create(sessions, clock, name="   ", code="1X", agencies=[], own_agency="Grundskola")
    assert set(exc.value.errors) == {"name", "code", "agencies", "own_agency"}
    for fld, error in exc.value.errors.items():
        assert isinstance(error, InvalidInput)
        assert error.field == fld

    # The creator's own agency must be one of the forum's agencies (the handler adds it).
    for own in ("Polis", None):
        with pytest.raises(InputErrors) as exc:
            create(sessions, clock, own_agency=own)
        assert set(exc.value.errors) == {"own_agency"}, own

    # A personnummer anywhere in the free text is refused on its field.
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": f"Forum {PNR}"}, "name"),
        ({"areas": ["Droger", f"Elev {PNR}"]}, "areas"),
        ({"agencies": [*AGENCIES, f"Polis {PNR}"]}, "agencies_other"),
    ]
    for changes, field in cases:
        with pytest.raises(InputErrors) as exc:
            create(sessions, clock, **changes)
        assert set(exc.value.errors) == {field}
        error = exc.value.errors[field]
        assert isinstance(error, IdentifyingDataRefused)
        assert error.field == field
        assert "personnummer" in error.msgid

    assert_nothing_stored(sessions)


def test_one_forum_per_channel_and_one_code_per_team(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    create(sessions, clock, code="FOS")

    with pytest.raises(ForumExists) as exists, transaction(sessions) as s:
        fs.create_forum(
            s,
            clock,
            team_id=TEAM,
            channel_id=CHANNEL,
            actor=COORD,
            draft=make_draft(name="Annat", code="ANN"),
        )
    assert exists.value.params == {"name": "FOSSAM Norr"}

    with pytest.raises(InputErrors) as exc:
        create(sessions, clock, channel=OTHER_CHANNEL, name="Annat", code="fos")
    assert set(exc.value.errors) == {"code"}
    error = exc.value.errors["code"]
    assert isinstance(error, CodeTaken)
    assert error.field == "code"
    assert error.params == {"code": "FOS"}
    assert count(sessions, Forum) == 1
    assert len(events(sessions)) == 1

    # The same code (and channel id) in another workspace is fine.
    other = create(sessions, clock, team=OTHER_TEAM, channel=CHANNEL, code="fos")
    with sessions() as s:
        forum = s.get(Forum, other)
        assert forum is not None
        assert (forum.team_id, forum.code) == (OTHER_TEAM, "FOS")
    assert count(sessions, Forum) == 2


def test_agencies_differing_only_in_case_are_one_agency(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    try:
        forum_id = create(sessions, clock, agencies=[*AGENCIES, "Polis", "polis"])
    except InputErrors:
        return  # refusing the draft would be fine too
    names = [a.name.casefold() for a in agencies_of(sessions, forum_id)]
    assert len(names) == len(set(names)), names


# --- access and leaving the channel -------------------------------------------------------


def test_access_follows_active_membership(
    sessions: Sessions, clock: AdjustableClock, setup: Setup
) -> None:
    with sessions() as s:
        forum = load_forum(s, setup.forum_id)
        with pytest.raises(NotAMember):
            fs.require_member(s, forum=forum, slack_user_id=STRANGER)
        with pytest.raises(NotAMember):
            fs.require_coordinator(s, forum=forum, slack_user_id=STRANGER)
        with pytest.raises(NotCoordinator):
            fs.require_coordinator(s, forum=forum, slack_user_id=MEMBER)
        access = fs.require_member(s, forum=forum, slack_user_id=MEMBER)
        assert access.member.slack_user_id == MEMBER
        assert not access.is_coordinator
        for user, role in ((COORD, Role.COORDINATOR), (ADMIN, Role.ADMIN)):
            access = fs.require_coordinator(s, forum=forum, slack_user_id=user)
            assert access.forum.id == setup.forum_id
            assert access.member.role is role
            assert access.is_coordinator

    # A removed coordinator loses access.
    coordinator_id = setup.member_id(sessions, COORD)
    with transaction(sessions) as s:
        fs.remove_member(
            s,
            clock,
            forum=load_forum(s, setup.forum_id),
            actor=ADMIN,
            member_id=coordinator_id,
        )
    with sessions() as s:
        forum = load_forum(s, setup.forum_id)
        with pytest.raises(NotAMember):
            fs.require_member(s, forum=forum, slack_user_id=COORD)
        with pytest.raises(NotAMember):
            fs.require_coordinator(s, forum=forum, slack_user_id=COORD)
        assert [m.slack_user_id for m in fs.active_members(s, forum)] == [ADMIN, MEMBER]


def test_member_left_channel_deactivates_once(
    sessions: Sessions, clock: AdjustableClock, setup: Setup
) -> None:
    def left(user: str, *, channel: str = CHANNEL, team: str = TEAM) -> bool:
        with transaction(sessions) as s:
            return fs.member_left_channel(
                s, clock, team_id=team, channel_id=channel, slack_user_id=user
            )

    assert left(MEMBER) is True
    member = member_of(sessions, setup.forum_id, MEMBER)
    assert member is not None
    assert not member.active
    (event,) = events(sessions, after=setup.audit_mark)
    assert event.actor == MEMBER
    assert event.action is AuditAction.DELETE
    assert (event.object_type, event.object_ref) == ("member", MEMBER)
    assert (event.forum_id, event.team_id) == (setup.forum_id, TEAM)
    assert event.actor_agency_id == member.agency_id
    assert event.detail == {"reason": "left_channel"}
    with sessions() as s, pytest.raises(NotAMember):
        fs.require_member(s, forum=load_forum(s, setup.forum_id), slack_user_id=MEMBER)

    assert left(MEMBER) is False  # a retried event changes nothing
    assert left(STRANGER) is False
    assert left(COORD, channel=OTHER_CHANNEL) is False  # no forum in that channel
    assert left(COORD, team=OTHER_TEAM) is False
    assert len(events(sessions, after=setup.audit_mark)) == 1
    coord = member_of(sessions, setup.forum_id, COORD)
    assert coord is not None
    assert coord.active

    # The only admin leaves: the coordinator takes over, so the forum can still be managed.
    assert left(ADMIN) is True
    coord = member_of(sessions, setup.forum_id, COORD)
    assert coord is not None and coord.role is Role.ADMIN
    promoted = events(sessions, after=setup.audit_mark)[-1]
    assert promoted.detail == {"role": "admin", "reason": "last_admin_left"}


# --- add_members --------------------------------------------------------------------------


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


def test_add_members_adds_moves_and_reactivates(
    sessions: Sessions, clock: AdjustableClock, setup: Setup
) -> None:
    coord = member_of(sessions, setup.forum_id, COORD)
    assert coord is not None

    # A coordinator adds two people (a repeat in the list counts once).
    added = add_as(sessions, clock, setup, actor=COORD, users=["U10", "U11", "U10"])
    assert added == ["U10", "U11"]
    for user in ("U10", "U11"):
        member = member_of(sessions, setup.forum_id, user)
        assert member is not None
        assert (member.active, member.role) == (True, Role.MEMBER)
        assert member.agency_id == setup.agency["Elevhälsa"]
    new = events(sessions, after=setup.audit_mark)
    assert [e.object_ref for e in new] == ["U10", "U11"]
    for event in new:
        assert event.actor == COORD
        assert event.action is AuditAction.CREATE  # new members are created
        assert event.object_type == "member"
        assert (event.forum_id, event.team_id) == (setup.forum_id, TEAM)
        assert event.actor_agency_id == coord.agency_id
        assert event.detail == {"agency": "Elevhälsa", "role": "member"}
    mark = new[-1].id

    # Removed, then re-added: the same row comes back, moved and with the new role.
    member_id = setup.member_id(sessions, MEMBER)
    remove_as(sessions, clock, setup, actor=COORD, user=MEMBER)
    removed = member_of(sessions, setup.forum_id, MEMBER)
    assert removed is not None
    assert not removed.active
    add_as(sessions, clock, setup, actor=COORD, users=[MEMBER], role=Role.COORDINATOR)
    back = member_of(sessions, setup.forum_id, MEMBER)
    assert back is not None
    assert back.id == member_id
    assert (back.active, back.role) == (True, Role.COORDINATOR)
    assert back.agency_id == setup.agency["Elevhälsa"]
    with sessions() as s:
        forum = load_forum(s, setup.forum_id)
        assert fs.require_coordinator(s, forum=forum, slack_user_id=MEMBER).member.id == member_id
    remove_event, add_event = events(sessions, after=mark)
    assert (remove_event.action, remove_event.object_ref) == (AuditAction.DELETE, MEMBER)
    assert (add_event.action, add_event.object_ref) == (AuditAction.UPDATE, MEMBER)
    assert add_event.detail == {
        "agency": "Elevhälsa",
        "role": "coordinator",
        "from_agency": "Socialtjänst/IFO",
    }

    # An admin makes a coordinator admin and moves them to another agency.
    add_as(
        sessions,
        clock,
        setup,
        actor=ADMIN,
        users=[COORD],
        role=Role.ADMIN,
        agency_id=setup.agency["Grundskola"],
        confirm_moves=True,
    )
    moved = member_of(sessions, setup.forum_id, COORD)
    assert moved is not None
    assert (moved.role, moved.agency_id) == (Role.ADMIN, setup.agency["Grundskola"])
    assert count(sessions, Member) == 5
    assert len(events(sessions, after=mark)) == 3


def test_add_members_refusals(sessions: Sessions, clock: AdjustableClock, setup: Setup) -> None:
    with pytest.raises(NotCoordinator):
        add_as(sessions, clock, setup, actor=MEMBER, users=["U10"])
    with pytest.raises(NotAMember):
        add_as(sessions, clock, setup, actor=STRANGER, users=["U10"])

    # Only an admin adds admins (nor can a coordinator promote themselves).
    for users in (["U10"], [COORD]):
        with pytest.raises(NotCoordinator) as denied:
            add_as(sessions, clock, setup, actor=COORD, users=users, role=Role.ADMIN)
        assert "admin" in denied.value.msgid

    with pytest.raises(InvalidInput) as exc:
        add_as(sessions, clock, setup, actor=COORD, users=["U10", BOT], bots=(BOT,))
    assert exc.value.field == "users"
    with pytest.raises(InvalidInput) as exc:
        add_as(sessions, clock, setup, actor=COORD, users=[])
    assert exc.value.field == "users"
    assert_no_change(sessions, setup)

    # An agency of another forum (or none at all) is refused.
    other_id = create(sessions, clock, channel=OTHER_CHANNEL, code="OSF", actor=COORD)
    mark = last_event_id(sessions)
    foreign = agencies_of(sessions, other_id)[0].id
    for agency_id in (foreign, 0):
        with pytest.raises(InvalidInput) as exc:
            add_as(sessions, clock, setup, actor=COORD, users=["U10"], agency_id=agency_id)
        assert exc.value.field == "agency"
    assert member_of(sessions, setup.forum_id, "U10") is None
    assert member_of(sessions, other_id, "U10") is None
    assert events(sessions, after=mark) == []

    coord = member_of(sessions, setup.forum_id, COORD)
    assert coord is not None
    assert coord.role is Role.COORDINATOR
    add_as(sessions, clock, setup, actor=ADMIN, users=["U10"], role=Role.ADMIN)
    admin = member_of(sessions, setup.forum_id, "U10")
    assert admin is not None
    assert admin.role is Role.ADMIN


# --- remove_member and the last admin -----------------------------------------------------


def remove_as(
    sessions: Sessions, clock: AdjustableClock, setup: Setup, *, actor: str, user: str
) -> Member:
    member_id = setup.member_id(sessions, user)
    with transaction(sessions) as s:
        return fs.remove_member(
            s, clock, forum=load_forum(s, setup.forum_id), actor=actor, member_id=member_id
        )


def test_coordinator_removes_a_member(
    sessions: Sessions, clock: AdjustableClock, setup: Setup
) -> None:
    # Refused first: a plain member cannot remove, a coordinator cannot remove an admin.
    with pytest.raises(NotCoordinator):
        remove_as(sessions, clock, setup, actor=MEMBER, user=COORD)
    with pytest.raises(NotCoordinator) as denied:
        remove_as(sessions, clock, setup, actor=COORD, user=ADMIN)
    assert "admin" in denied.value.msgid
    assert_no_change(sessions, setup)

    clock.advance(dt.timedelta(hours=1))
    removed = remove_as(sessions, clock, setup, actor=COORD, user=MEMBER)
    assert removed.slack_user_id == MEMBER
    member = member_of(sessions, setup.forum_id, MEMBER)
    assert member is not None  # kept, not deleted
    assert not member.active
    assert member.updated_at == clock.now()

    (event,) = events(sessions, after=setup.audit_mark)
    coord = member_of(sessions, setup.forum_id, COORD)
    assert coord is not None
    assert event.actor == COORD
    assert event.action is AuditAction.DELETE
    assert (event.object_type, event.object_ref) == ("member", MEMBER)
    assert (event.forum_id, event.team_id) == (setup.forum_id, TEAM)
    assert event.actor_agency_id == coord.agency_id
    assert event.at == clock.now()

    # No longer a member: removing again is refused, as is a member of another forum.
    other_id = create(sessions, clock, channel=OTHER_CHANNEL, code="OSF", actor=STRANGER)
    stranger = member_of(sessions, other_id, STRANGER)
    assert stranger is not None
    mark = last_event_id(sessions)
    for member_id in (member.id, stranger.id):
        with pytest.raises(InvalidInput), transaction(sessions) as s:
            fs.remove_member(
                s, clock, forum=load_forum(s, setup.forum_id), actor=ADMIN, member_id=member_id
            )
    still = member_of(sessions, other_id, STRANGER)
    assert still is not None
    assert still.active
    assert events(sessions, after=mark) == []


def test_a_forum_always_keeps_an_admin(
    sessions: Sessions, clock: AdjustableClock, setup: Setup
) -> None:
    # The only admin can neither remove themselves nor re-add themselves with a lower role.
    with pytest.raises(InvalidInput):
        remove_as(sessions, clock, setup, actor=ADMIN, user=ADMIN)
    for role in (Role.COORDINATOR, Role.MEMBER):
        with pytest.raises(InvalidInput) as exc:
            add_as(
                sessions,
                clock,
                setup,
                actor=ADMIN,
                users=[ADMIN],
                role=role,
                agency_id=setup.agency["Grundskola"],
            )
        assert exc.value.field == "users"
    admin = member_of(sessions, setup.forum_id, ADMIN)
    assert admin is not None
    assert (admin.active, admin.role) == (True, Role.ADMIN)
    assert_no_change(sessions, setup)

    # With a second admin they can step down …
    soc, school = setup.agency["Socialtjänst/IFO"], setup.agency["Grundskola"]
    add_as(sessions, clock, setup, actor=ADMIN, users=[COORD], role=Role.ADMIN, agency_id=soc)
    add_as(
        sessions, clock, setup, actor=ADMIN, users=[ADMIN], role=Role.COORDINATOR, agency_id=school
    )
    stepped_down = member_of(sessions, setup.forum_id, ADMIN)
    assert stepped_down is not None
    assert stepped_down.role is Role.COORDINATOR
    # … and then may not remove the admin, who in turn cannot remove themselves.
    with pytest.raises(NotCoordinator):
        remove_as(sessions, clock, setup, actor=ADMIN, user=COORD)
    with pytest.raises(InvalidInput):
        remove_as(sessions, clock, setup, actor=COORD, user=COORD)
    # An admin removes another admin when one remains.
    add_as(sessions, clock, setup, actor=COORD, users=[ADMIN], role=Role.ADMIN, agency_id=school)
    remove_as(sessions, clock, setup, actor=COORD, user=ADMIN)
    gone = member_of(sessions, setup.forum_id, ADMIN)
    assert gone is not None
    assert not gone.active
    assert len(events(sessions, after=setup.audit_mark)) == 4


def test_coordinator_cannot_demote_the_last_admin(
    sessions: Sessions, clock: AdjustableClock, setup: Setup
) -> None:
    with pytest.raises((NotCoordinator, InvalidInput)):
        add_as(
            sessions,
            clock,
            setup,
            actor=COORD,
            users=[ADMIN],
            role=Role.MEMBER,
            agency_id=setup.agency["Grundskola"],
        )
    admin = member_of(sessions, setup.forum_id, ADMIN)
    assert admin is not None
    assert admin.role is Role.ADMIN


# --- update_forum -------------------------------------------------------------------------


def update_as(
    sessions: Sessions, clock: AdjustableClock, setup: Setup, *, actor: str = COORD, **changes: Any
) -> None:
    with transaction(sessions) as s:
        fs.update_forum(
            s, clock, forum=load_forum(s, setup.forum_id), actor=actor, draft=make_draft(**changes)
        )


def test_update_forum_renames_reschedules_and_syncs(
    sessions: Sessions, clock: AdjustableClock, setup: Setup
) -> None:
    area_ids = {a.name: a.id for a in areas_of(sessions, setup.forum_id)}
    clock.advance(dt.timedelta(days=1))
    update_as(
        sessions,
        clock,
        setup,
        name="FOSSAM Söder",
        code="fss",
        rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
        start=dt.time(9, 0),
        end=dt.time(10, 30),
        agencies=["Socialtjänst/IFO", "Polis", "Grundskola"],
        areas=["Hot/utpressning", "Droger"],
    )
    with sessions() as s:
        forum = s.get(Forum, setup.forum_id)
        assert forum is not None
        assert (forum.name, forum.code) == ("FOSSAM Söder", "FSS")
        assert forum.schedule_rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"
        assert (forum.meeting_start, forum.meeting_minutes) == (dt.time(9, 0), 90)
        assert forum.updated_at == clock.now()

    # Removed agencies and areas are kept, inactive.
    agencies = agencies_of(sessions, setup.forum_id)
    assert active_names(agencies) == ["Socialtjänst/IFO", "Polis", "Grundskola"]
    assert [(a.name, a.id) for a in agencies if not a.active] == [
        ("Elevhälsa", setup.agency["Elevhälsa"])
    ]
    areas = areas_of(sessions, setup.forum_id)
    assert active_names(areas) == ["Hot/utpressning", "Droger"]
    assert [(a.name, a.id) for a in areas if not a.active] == [("Alkohol", area_ids["Alkohol"])]
    assert {a.name: a.id for a in areas}["Droger"] == area_ids["Droger"]

    (event,) = events(sessions, after=setup.audit_mark)
    coord = member_of(sessions, setup.forum_id, COORD)
    assert coord is not None
    assert event.actor == COORD
    assert event.action is AuditAction.UPDATE
    assert (event.object_type, event.object_ref) == ("forum", "FSS")
    assert (event.forum_id, event.team_id) == (setup.forum_id, TEAM)
    assert event.actor_agency_id == coord.agency_id

    # A removed agency is no longer offered for new members.
    with pytest.raises(InvalidInput) as exc:
        add_as(sessions, clock, setup, actor=COORD, users=["U10"])  # Elevhälsa
    assert exc.value.field == "agency"

    # Re-adding (in any case) reactivates the same rows instead of creating new ones.
    update_as(sessions, clock, setup, agencies=["elevhälsa", *AGENCIES[::2]], areas=AREAS[::-1])
    agencies = agencies_of(sessions, setup.forum_id)
    assert active_names(agencies) == ["Elevhälsa", "Grundskola", "Socialtjänst/IFO"]
    assert {a.name: a.id for a in agencies if a.active} == setup.agency
    areas = areas_of(sessions, setup.forum_id)
    assert active_names(areas) == ["Alkohol", "Droger"]
    assert {a.name: a.id for a in areas if a.active} == area_ids
    assert len(events(sessions, after=setup.audit_mark)) == 2
    assert add_as(sessions, clock, setup, actor=COORD, users=["U10"]) == ["U10"]


def test_saving_settings_reads_what_it_checks_and_writes_only_what_changed(
    sessions: Sessions, clock: AdjustableClock, setup: Setup
) -> None:
    """The settings modal is saved before the ack: a rename is one read (the forum with the
    saver's membership, its agencies and areas), the audit event and one UPDATE of the forum
    (one statement on PostgreSQL) — no agency or area is rewritten, no member or case is
    read."""
    from sqlalchemy import event

    engine = sessions.kw["bind"]
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split()))

    with transaction(sessions) as s:
        event.listen(engine, "before_cursor_execute", listener)
        try:
            fs.save_forum_settings(
                s,
                clock,
                forum_id=setup.forum_id,
                team_id=TEAM,
                actor=COORD,
                draft=make_draft(name="FOSSAM Norr"),
            )
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    work = [q for q in seen if not q.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
    assert work[0].startswith("SELECT forums") and "agencies" in work[0] and "areas" in work[0]
    # The audit event with (PostgreSQL) or before the forum's UPDATE: saves of one forum queue
    # on the row lock the UPDATE takes, so as little as possible runs between it and the commit.
    if engine.dialect.name == "postgresql":
        assert [q.split()[0] for q in work] == ["SELECT", "WITH"], work
        assert "INSERT INTO audit_events" in work[1] and "UPDATE forums" in work[1]
    else:
        assert [q.split()[0] for q in work] == ["SELECT", "INSERT", "UPDATE"], work
        assert "INSERT INTO audit_events" in work[1] and "UPDATE forums" in work[2]
    assert not any("members" in q and q.startswith("SELECT members") for q in work)
    with sessions() as s:
        forum = s.get(Forum, setup.forum_id)
        assert forum is not None and forum.name == "FOSSAM Norr"
    assert [e.object_ref for e in events(sessions, after=setup.audit_mark)] == ["FOS"]


def test_update_forum_refusals(sessions: Sessions, clock: AdjustableClock, setup: Setup) -> None:
    # Only coordinators.
    with pytest.raises(NotCoordinator):
        update_as(sessions, clock, setup, actor=MEMBER, name="Medlemmens forum")
    with pytest.raises(NotAMember):
        update_as(sessions, clock, setup, actor=STRANGER, name="Främlingens forum")

    # An agency that still has active members cannot be removed; its name is in the error.
    with pytest.raises(InputErrors) as exc:
        update_as(sessions, clock, setup, name="Nytt namn", agencies=["Grundskola", "Elevhälsa"])
    assert set(exc.value.errors) == {"agencies"}
    error = exc.value.errors["agencies"]
    assert error.field == "agencies"
    assert error.params == {"name": "Socialtjänst/IFO"}
    assert events(sessions, after=setup.audit_mark) == []

    # The draft is checked as on create; the forum's own code is not "taken".
    other_id = create(sessions, clock, channel=OTHER_CHANNEL, code="OSF", actor=COORD)
    mark = last_event_id(sessions)
    with pytest.raises(InputErrors) as exc:
        update_as(sessions, clock, setup, name=f"FOSSAM {PNR}", code="osf", own_agency=None)
    assert set(exc.value.errors) == {"name", "code"}
    assert isinstance(exc.value.errors["name"], IdentifyingDataRefused)
    assert isinstance(exc.value.errors["code"], CodeTaken)

    with sessions() as s:
        forum = s.get(Forum, setup.forum_id)
        assert forum is not None
        assert (forum.name, forum.code) == ("FOSSAM Norr", "FOS")
    assert active_names(agencies_of(sessions, setup.forum_id)) == AGENCIES
    assert events(sessions, after=mark) == []

    update_as(sessions, clock, setup, code="FOS", name="FOSSAM Väst")
    with sessions() as s:
        forum = s.get(Forum, setup.forum_id)
        other = s.get(Forum, other_id)
        assert forum is not None and other is not None
        assert (forum.name, forum.code, other.code) == ("FOSSAM Väst", "FOS", "OSF")
    assert len(events(sessions, after=mark)) == 1


# --- audit commits or rolls back with the change ------------------------------------------


class Boom(Exception):
    pass


def test_audit_event_commits_or_rolls_back_with_the_change(
    sessions: Sessions, clock: AdjustableClock, setup: Setup
) -> None:
    member_id = setup.member_id(sessions, MEMBER)
    with pytest.raises(Boom), transaction(sessions) as s:
        forum = load_forum(s, setup.forum_id)
        fs.add_members(
            s,
            clock,
            forum=forum,
            actor=COORD,
            slack_user_ids=["U10"],
            agency_id=setup.agency["Elevhälsa"],
            role=Role.MEMBER,
        )
        fs.remove_member(s, clock, forum=forum, actor=COORD, member_id=member_id)
        audit.record(
            s,
            clock,
            actor=COORD,
            action=AuditAction.READ,
            object_type="forum",
            object_ref="FOS",
            team_id=TEAM,
            forum_id=forum.id,
        )
        # Flushed, so visible inside the transaction …
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == setup.audit_mark + 3
        raise Boom()
    # … and gone together with the change after the rollback.
    assert events(sessions, after=setup.audit_mark) == []
    assert member_of(sessions, setup.forum_id, "U10") is None
    member = member_of(sessions, setup.forum_id, MEMBER)
    assert member is not None
    assert member.active

    with pytest.raises(Boom), transaction(sessions) as s:
        fs.create_forum(
            s,
            clock,
            team_id=TEAM,
            channel_id=OTHER_CHANNEL,
            actor=COORD,
            draft=make_draft(code="OSF"),
        )
        raise Boom()
    assert count(sessions, Forum) == 1
    assert events(sessions, after=setup.audit_mark) == []

    with transaction(sessions) as s:
        event_id = audit.record(
            s,
            clock,
            actor=ADMIN,
            action=AuditAction.EXPORT,
            object_type="forum",
            object_ref="FOS",
            team_id=TEAM,
            detail={"format": "csv"},
        ).id
    (stored,) = events(sessions, after=setup.audit_mark)
    assert stored.id == event_id
    assert (stored.actor, stored.action, stored.object_ref) == (ADMIN, AuditAction.EXPORT, "FOS")
    assert (stored.team_id, stored.forum_id, stored.detail) == (TEAM, None, {"format": "csv"})
    assert stored.at == clock.now()


# --- forums_of_user -----------------------------------------------------------------------


def test_forums_of_user_lists_active_memberships_by_name(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    ids = {
        "SSPF": create(sessions, clock, channel="C1", name="SSPF", code="SSPF", actor=ADMIN),
        "FOSSAM": create(sessions, clock, channel="C2", name="FOSSAM", code="FOS", actor=ADMIN),
        "OSF": create(sessions, clock, channel="C3", name="OSF", code="OSF", actor=COORD),
        "Barnforum": create(
            sessions, clock, channel="C4", name="Barnforum", code="BF", actor=COORD
        ),
        "Annat team": create(
            sessions, clock, team=OTHER_TEAM, channel="C1", name="Annat team", actor=ADMIN
        ),
    }
    with transaction(sessions) as s:
        for name in ("OSF", "Barnforum"):
            forum = load_forum(s, ids[name])
            fs.add_members(
                s,
                clock,
                forum=forum,
                actor=COORD,
                slack_user_ids=[ADMIN],
                agency_id=fs.active_agencies(forum)[0].id,
                role=Role.MEMBER,
            )
    with transaction(sessions) as s:
        assert fs.member_left_channel(s, clock, team_id=TEAM, channel_id="C4", slack_user_id=ADMIN)

    with sessions() as s:
        mine = fs.forums_of_user(s, team_id=TEAM, slack_user_id=ADMIN)
        assert [f.name for f in mine] == ["FOSSAM", "OSF", "SSPF"]
        theirs = fs.forums_of_user(s, team_id=TEAM, slack_user_id=COORD)
        assert [f.name for f in theirs] == ["Barnforum", "OSF"]
        assert fs.forums_of_user(s, team_id=TEAM, slack_user_id=STRANGER) == []
        other = fs.forums_of_user(s, team_id=OTHER_TEAM, slack_user_id=ADMIN)
        assert [f.id for f in other] == [ids["Annat team"]]


def test_changing_only_the_time_keeps_an_every_other_week_forum_on_its_weeks(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    biweekly = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"
    forum_id = create(sessions, clock, rrule=biweekly)
    with sessions() as s:
        before = fs.forum_schedule(load_forum(s, forum_id))
    clock.advance(dt.timedelta(days=11))  # a Friday two weeks later
    with transaction(sessions) as s:
        forum = load_forum(s, forum_id)
        fs.update_forum(
            s,
            clock,
            forum=forum,
            actor=ADMIN,
            draft=make_draft(rrule=biweekly, start=dt.time(14, 0), end=dt.time(16, 0)),
        )
    with sessions() as s:
        after = fs.forum_schedule(load_forum(s, forum_id))
    assert after.anchor == before.anchor
    assert after.start == dt.time(14, 0)
    meetings = next_occurrences(after, clock.now(), 4)
    assert all((m.date() - before.anchor).days % 14 == 0 for m in meetings)


def test_two_coordinators_racing_for_one_code_get_a_field_error_not_an_outage(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    """The loser's pre-check sees nothing; the database refuses its insert afterwards."""
    first_flushed, release_first = threading.Event(), threading.Event()
    outcome: dict[str, BaseException | None] = {}

    def first() -> None:
        try:
            with transaction(sessions) as s:
                fs.create_forum(
                    s, clock, team_id=TEAM, channel_id="C-A", actor=ADMIN, draft=make_draft()
                )
                first_flushed.set()
                release_first.wait(10)
            outcome["first"] = None
        except BaseException as exc:
            outcome["first"] = exc

    def second() -> None:
        try:
            with transaction(sessions) as s:
                fs.create_forum(
                    s, clock, team_id=TEAM, channel_id="C-B", actor=ADMIN, draft=make_draft()
                )
            outcome["second"] = None
        except BaseException as exc:
            outcome["second"] = exc

    a = threading.Thread(target=first)
    a.start()
    assert first_flushed.wait(10)
    with lock_waits(sessions.kw["bind"]) as waits:
        b = threading.Thread(target=second)
        b.start()
        waits.wait_for(b)  # the second one passed its check and waits on the first's insert
    release_first.set()
    a.join(20)
    b.join(20)
    assert outcome["first"] is None
    # PostgreSQL: the insert is refused (CodeTaken); SQLite serialises the writers, so the
    # second one's check finds the code. Either way: the code field, not an outage.
    refused: BaseException | None = outcome["second"]
    if isinstance(refused, InputErrors):
        refused = refused.errors.get("code")
    assert isinstance(refused, CodeTaken), outcome["second"]
    assert refused.field == "code"
