"""Adding, moving and removing a forum's members, and the last admin: the domain level (no
Slack), on SQLite and PostgreSQL.

Every unit of work goes through ``storage.db.transaction`` exactly as the handlers do, and
every check reads the database back in a fresh session, so what is asserted is what was
committed (or not). Shared set-up: ``tests/support/forum_domain.py``.
"""

from __future__ import annotations

import datetime as dt

import pytest

from domain import forums as fs
from domain.clock import AdjustableClock
from domain.errors import InvalidInput, NotAMember, NotCoordinator
from storage.db import transaction
from storage.models import AuditAction, Member, Role
from tests.support.forum_domain import (
    ADMIN,
    BOT,
    COORD,
    MEMBER,
    OTHER_CHANNEL,
    STRANGER,
    TEAM,
    Sessions,
    Setup,
    add_as,
    agencies_of,
    assert_no_change,
    count,
    create,
    events,
    forum_with_members,
    last_event_id,
    load_forum,
    member_of,
    remove_as,
)


@pytest.fixture
def setup(sessions: Sessions, clock: AdjustableClock) -> Setup:
    return forum_with_members(sessions, clock)


# --- add_members --------------------------------------------------------------------------


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


@pytest.mark.parametrize("admins", [1, 2])
def test_the_members_list_offers_remove_where_remove_member_removes(
    sessions: Sessions, clock: AdjustableClock, setup: Setup, admins: int
) -> None:
    """``removable`` (the members list's Remove buttons) and ``remove_member`` follow one
    rule: for every actor and member, the button is offered exactly where removing works
    (with one admin and with two)."""
    if admins == 2:
        soc = setup.agency["Socialtjänst/IFO"]
        add_as(sessions, clock, setup, actor=ADMIN, users=["U20"], role=Role.ADMIN, agency_id=soc)
    actors = [ADMIN, COORD, MEMBER]
    for actor in actors:
        with sessions() as s:
            forum = load_forum(s, setup.forum_id)
            members = fs.active_members(s, forum)
            offered = fs.removable(fs.require_member(s, forum=forum, slack_user_id=actor), members)
            for target in members:
                try:
                    fs.remove_member(s, clock, forum=forum, actor=actor, member_id=target.id)
                    removed = True
                except (NotCoordinator, InvalidInput):
                    removed = False
                finally:
                    s.rollback()
                    forum = load_forum(s, setup.forum_id)
                assert (target.id in offered) == removed, (actor, target.slack_user_id)


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
