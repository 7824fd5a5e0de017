"""Creating forums, who may see them, leaving the channel, a user's forums: the domain level (no
Slack), on SQLite and PostgreSQL.

Every unit of work goes through ``storage.db.transaction`` exactly as the handlers do, and
every check reads the database back in a fresh session, so what is asserted is what was
committed (or not). Shared set-up: ``tests/support/forum_domain.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

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
from domain.schedule import DEFAULT_RRULE, DEFAULT_START
from storage.db import transaction
from storage.models import AuditAction, Forum, Member, Role
from tests.support.forum_domain import (
    ADMIN,
    AGENCIES,
    CHANNEL,
    COORD,
    MEMBER,
    OTHER_CHANNEL,
    OTHER_TEAM,
    PNR,
    STRANGER,
    TEAM,
    Sessions,
    Setup,
    agencies_of,
    areas_of,
    assert_nothing_stored,
    count,
    create,
    events,
    forum_with_members,
    load_forum,
    make_draft,
    member_of,
)


@pytest.fixture
def setup(sessions: Sessions, clock: AdjustableClock) -> Setup:
    return forum_with_members(sessions, clock)


def test_personnummer_helper_is_valid() -> None:
    assert PNR == "811218-9876"


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


def test_a_line_of_agencies_or_areas_that_shows_nothing_is_no_entry() -> None:
    # A zero-width space, a Hangul filler, a Braille blank: no area named by nothing shown.
    typed = "Gråbo\n\u200b\n\u3164, Hemse;\u2800\u200d"
    assert fs.split_lines(typed) == ["Gråbo", "Hemse"]


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
