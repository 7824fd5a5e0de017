"""Saving a forum's settings (rename, schedule, agencies and areas), its audit event, and two
coordinators racing for one code: the domain level (no Slack), on SQLite and PostgreSQL.

Every unit of work goes through ``storage.db.transaction`` exactly as the handlers do, and
every check reads the database back in a fresh session, so what is asserted is what was
committed (or not). Shared set-up: ``tests/support/forum_domain.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from domain import audit
from domain import forums as fs
from domain.clock import AdjustableClock
from domain.errors import (
    CodeTaken,
    IdentifyingDataRefused,
    InputErrors,
    InvalidInput,
    NotAMember,
    NotCoordinator,
)
from domain.schedule import next_occurrences
from storage.db import transaction
from storage.models import Agency, Area, AuditAction, AuditEvent, Forum, Role
from tests.conftest import postgresql_only
from tests.support.concurrency import lock_waits
from tests.support.forum_domain import (
    ADMIN,
    AGENCIES,
    AREAS,
    COORD,
    MEMBER,
    OTHER_CHANNEL,
    PNR,
    STRANGER,
    TEAM,
    Sessions,
    Setup,
    active_names,
    add_as,
    agencies_of,
    areas_of,
    count,
    create,
    events,
    forum_with_members,
    last_event_id,
    load_forum,
    make_draft,
    member_of,
    update_as,
)
from tests.support.wait import eventually


@pytest.fixture
def setup(sessions: Sessions, clock: AdjustableClock) -> Setup:
    return forum_with_members(sessions, clock)


# --- update_forum -------------------------------------------------------------------------


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


def saving_outcome(
    sessions: Sessions, clock: AdjustableClock, setup: Setup, *, actor: str, draft: fs.ForumDraft
) -> BaseException | None:
    """``actor`` saves the forum's settings as ``draft`` in a transaction of its own: None,
    or what the save raised."""
    try:
        with transaction(sessions) as s:
            fs.save_forum_settings(
                s, clock, forum_id=setup.forum_id, team_id=TEAM, actor=actor, draft=draft
            )
        return None
    except BaseException as exc:
        return exc


@contextlib.contextmanager
def save_paused_after(
    step: str,
    monkeypatch: pytest.MonkeyPatch,
    sessions: Sessions,
    clock: AdjustableClock,
    setup: Setup,
    *,
    actor: str,
    draft: fs.ForumDraft,
) -> Iterator[dict[str, BaseException | None]]:
    """A forum save in a thread of its own, paused right after ``step`` (a function
    ``domain.forums.saving`` calls) until the block ends; other saves in the block pass
    that step unpaused. Yields the outcome, ``{"save": None or what it raised}`` once the
    save has ended (after the block)."""
    from domain.forums import saving

    done_step = getattr(saving, step)
    checked, go = threading.Event(), threading.Event()
    outcome: dict[str, BaseException | None] = {}

    def then_pause(*args: Any, **kwargs: Any) -> Any:
        result = done_step(*args, **kwargs)
        if not checked.is_set():  # the paused save only
            checked.set()
            assert go.wait(10)
        return result

    monkeypatch.setattr(saving, step, then_pause)

    def save() -> None:
        outcome["save"] = saving_outcome(sessions, clock, setup, actor=actor, draft=draft)

    thread = threading.Thread(target=save)
    thread.start()
    try:
        assert checked.wait(10)
        yield outcome
    finally:
        go.set()
        thread.join(20)


@postgresql_only  # SQLite's writers queue whole (BEGIN IMMEDIATE): no save reads mid-race
def test_a_save_checked_against_a_state_another_save_replaced_writes_no_stale_value(
    sessions: Sessions, clock: AdjustableClock, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save reads and checks the forum without a lock. Coordinator A opened the modal on
    Thursdays and saves it unchanged but renamed; while A's save is between its check and
    its write, coordinator B moves the forum to Mondays (committed), the Monday meetings are
    planned, and a setting outside the modal (the situation picture) is switched on. A's
    save then lands last: the forum is on Thursdays again with A's name, its meetings are
    planned anew on Thursdays (not left on B's Mondays), and the other setting stays on."""
    from domain import meetings

    with save_paused_after(
        "_check_draft",
        monkeypatch,
        sessions,
        clock,
        setup,
        actor=COORD,
        draft=make_draft(name="FOSSAM A"),
    ) as outcome:
        update_as(
            sessions, clock, setup, actor=ADMIN, name="FOSSAM B", rrule="FREQ=WEEKLY;BYDAY=MO"
        )
        with transaction(sessions) as s:
            forum = load_forum(s, setup.forum_id)
            planned = meetings.upcoming(s, clock, forum)
            assert planned and all(
                m.starts_at.astimezone(fs.forum_zone(forum)).weekday() == 0 for m in planned
            )
            forum.settings = {**(forum.settings or {}), "situation_picture": "every"}
    assert outcome["save"] is None, outcome["save"]
    with transaction(sessions) as s:
        forum = load_forum(s, setup.forum_id)
        assert (forum.name, forum.schedule_rrule) == ("FOSSAM A", "FREQ=WEEKLY;BYDAY=TH")
        assert (forum.settings or {}).get("situation_picture") == "every"
        days = {
            m.starts_at.astimezone(fs.forum_zone(forum)).weekday()
            for m in meetings.upcoming(s, clock, forum)
        }
    assert days == {3}, days
    logged = events(sessions, after=setup.audit_mark)
    assert [e.object_ref for e in logged if e.object_type != "meeting"] == ["FOS", "FOS"]
    # The meetings each schedule change removed, each with its tombstone (a press still
    # naming one is told it was removed, not refused: domain.meetings.removed_in).
    removed = [e for e in logged if e.object_type == "meeting"]
    assert removed and all(
        (e.actor, e.action, e.forum_id) == ("samverkan", AuditAction.DELETE, setup.forum_id)
        for e in removed
    )


@postgresql_only  # SQLite's writers queue whole (BEGIN IMMEDIATE): no save reads mid-race
def test_a_coordinator_removed_while_their_save_is_checked_changes_nothing(
    sessions: Sessions, clock: AdjustableClock, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save reads the actor's role without a lock. Coordinator C's save (a new name) is
    between its check and its write when the admin removes C from the forum (committed):
    C is no longer a member when the save writes, so it is refused, and the forum keeps
    its name (no write with a role C no longer has)."""
    with (
        save_paused_after(
            "_check_draft",
            monkeypatch,
            sessions,
            clock,
            setup,
            actor=COORD,
            draft=make_draft(name="FOSSAM C"),
        ) as outcome,
        transaction(sessions) as s,
    ):
        forum = load_forum(s, setup.forum_id)
        member = next(m for m in fs.active_members(s, forum) if m.slack_user_id == COORD)
        fs.remove_member(s, clock, forum=forum, actor=ADMIN, member_id=member.id)
    assert isinstance(outcome["save"], (NotAMember, NotCoordinator)), outcome["save"]
    with transaction(sessions) as s:
        assert load_forum(s, setup.forum_id).name != "FOSSAM C"


@postgresql_only  # SQLite's writers queue whole (BEGIN IMMEDIATE): no save reads mid-race
@pytest.mark.parametrize("role", [Role.MEMBER, Role.REVIEWER])
def test_a_coordinator_demoted_while_their_save_is_checked_changes_nothing(
    sessions: Sessions,
    clock: AdjustableClock,
    setup: Setup,
    monkeypatch: pytest.MonkeyPatch,
    role: Role,
) -> None:
    """As above, but C stays an active member with another role (a member, a log reviewer):
    the role itself is checked again at the write (two comparisons, no longer IN), so the
    save is refused and the forum keeps its name."""
    with (
        save_paused_after(
            "_check_draft",
            monkeypatch,
            sessions,
            clock,
            setup,
            actor=COORD,
            draft=make_draft(name="FOSSAM D"),
        ) as outcome,
        transaction(sessions) as s,
    ):
        forum = load_forum(s, setup.forum_id)
        member = next(m for m in fs.active_members(s, forum) if m.slack_user_id == COORD)
        member.role = role
    assert isinstance(outcome["save"], NotCoordinator), outcome["save"]
    with transaction(sessions) as s:
        assert load_forum(s, setup.forum_id).name != "FOSSAM D"


@postgresql_only  # SQLite's writers queue whole (BEGIN IMMEDIATE): no save reads mid-race
def test_an_agency_given_a_member_while_a_save_removing_it_is_checked_stays(
    sessions: Sessions, clock: AdjustableClock, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The save reads "Elevhälsa has no members" without a lock. While the coordinator's
    save (Elevhälsa removed) is between its checks and its write, the admin adds a member
    to Elevhälsa (committed): the save is refused on the agencies field, as it would have
    been a moment later, and Elevhälsa stays offered (no member of an agency that is gone)."""
    kept = [a for a in AGENCIES if a != "Elevhälsa"]
    # Paused after the save's last step before its write (its checks are done).
    with save_paused_after(
        "draft_calendar",
        monkeypatch,
        sessions,
        clock,
        setup,
        actor=COORD,
        draft=make_draft(agencies=kept),
    ) as outcome:
        assert add_as(sessions, clock, setup, actor=ADMIN, users=["UNEW"]) == ["UNEW"]
    refused = outcome["save"]
    assert isinstance(refused, InputErrors) and set(refused.errors) == {"agencies"}, refused
    assert "Elevhälsa" in active_names(agencies_of(sessions, setup.forum_id))


@postgresql_only  # SQLite's writers queue whole (BEGIN IMMEDIATE): no save reads mid-race
def test_two_saves_adding_the_same_agency_at_once_both_land_without_a_code_error(
    sessions: Sessions, clock: AdjustableClock, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The coordinator and the admin both add the agency Polis. The coordinator's save is
    between its checks and its write when the admin's commits. Before the save was
    reworked, the handler first took the row of the announcement's update, so saves of a
    forum with an announcement queued from their start and the second read Polis; now both
    insert it, and the second failed on the unique name (told to the user as "that code is
    taken"). It lands: one Polis, offered where the last save put it."""
    admin: dict[str, BaseException | None] = {}
    with save_paused_after(
        "draft_calendar",
        monkeypatch,
        sessions,
        clock,
        setup,
        actor=COORD,
        draft=make_draft(agencies=["Polis", *AGENCIES]),
    ) as coordinator:
        admin["save"] = saving_outcome(
            sessions, clock, setup, actor=ADMIN, draft=make_draft(agencies=[*AGENCIES, "Polis"])
        )
    outcome = {"admin": admin["save"], "coordinator": coordinator["save"]}
    assert outcome == {"admin": None, "coordinator": None}, outcome
    names = [a.name for a in agencies_of(sessions, setup.forum_id)]
    assert names.count("Polis") == 1
    assert active_names(agencies_of(sessions, setup.forum_id)) == ["Polis", *AGENCIES]


def _in_thread(work: Any) -> tuple[threading.Thread, dict[str, Any]]:
    """``work()`` in a thread of its own, started; its outcome, ``{"result": …}`` or
    ``{"error": …}``, once the thread has ended."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@postgresql_only  # SQLite's writers queue whole (BEGIN IMMEDIATE): no add runs mid-save
def test_a_member_added_while_a_save_retiring_their_agency_commits_is_refused(
    sessions: Sessions, clock: AdjustableClock, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The coordinator's save retires Elevhälsa (it has no members): its statement did so,
    and the save has not committed yet when the admin adds a person to Elevhälsa. The add
    waits for the save, then is told to choose one of the forum's agencies: nobody is left
    an active member of an agency the forum no longer offers."""
    kept = [a for a in AGENCIES if a != "Elevhälsa"]
    with (
        save_paused_after(
            "_sync",  # its first: the agencies (Elevhälsa retired), not yet committed
            monkeypatch,
            sessions,
            clock,
            setup,
            actor=COORD,
            draft=make_draft(agencies=kept),
        ) as outcome,
        lock_waits(sessions.kw["bind"]) as waits,
    ):
        adding, added = _in_thread(
            lambda: add_as(sessions, clock, setup, actor=ADMIN, users=["UNEW"])
        )
        eventually(lambda: waits.waiting() or not adding.is_alive())
    adding.join(20)
    assert outcome["save"] is None, outcome["save"]
    refused = added.get("error")
    assert isinstance(refused, InvalidInput) and refused.field == "agency", added
    assert active_names(agencies_of(sessions, setup.forum_id)) == kept
    assert member_of(sessions, setup.forum_id, "UNEW") is None


@postgresql_only  # SQLite's writers queue whole (BEGIN IMMEDIATE): no save runs mid-add
def test_a_save_retiring_an_agency_while_a_member_is_added_to_it_is_refused(
    sessions: Sessions, clock: AdjustableClock, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other order: the admin's add of a person to Elevhälsa has written the member
    and not committed yet when the coordinator saves the forum without Elevhälsa. The save
    waits for the add, then is refused on the agencies field (Elevhälsa has a member now),
    as it would have been a moment later; Elevhälsa stays offered with its member."""
    from domain.forums.saving import _flush_or_conflict as flush

    flushed, go = threading.Event(), threading.Event()

    def flush_then_pause(*args: Any, **kwargs: Any) -> None:
        flush(*args, **kwargs)
        flushed.set()
        assert go.wait(10)

    # The add has written its members, and pauses before its commit.
    monkeypatch.setattr("domain.forums.members._flush_or_conflict", flush_then_pause)
    adding, added = _in_thread(lambda: add_as(sessions, clock, setup, actor=ADMIN, users=["UNEW"]))
    try:
        assert flushed.wait(10)
        kept = [a for a in AGENCIES if a != "Elevhälsa"]
        with lock_waits(sessions.kw["bind"]) as waits:
            saving, saved = _in_thread(
                lambda: update_as(sessions, clock, setup, actor=COORD, agencies=kept)
            )
            eventually(lambda: waits.waiting() or not saving.is_alive())
    finally:
        go.set()
        adding.join(20)
    saving.join(20)
    assert added == {"result": ["UNEW"]}, added
    refused = saved.get("error")
    assert isinstance(refused, InputErrors) and set(refused.errors) == {"agencies"}, saved
    assert "Elevhälsa" in active_names(agencies_of(sessions, setup.forum_id))
    member = member_of(sessions, setup.forum_id, "UNEW")
    assert member is not None and member.active
    assert member.agency_id == setup.agency["Elevhälsa"]


# --- one name whatever its case -------------------------------------------------------------


@postgresql_only  # SQLite's writers queue whole (BEGIN IMMEDIATE): no save reads mid-race
def test_two_saves_adding_one_agency_in_two_cases_at_once_end_with_one(
    sessions: Sessions, clock: AdjustableClock, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The coordinator adds "Polis" and the admin "POLIS" at the same moment (each save
    compares names whatever their case, but neither sees the other's). Both land, and the
    forum has one Polis (the name the first save gave it), where the last save put it."""
    admin: dict[str, BaseException | None] = {}
    with save_paused_after(
        "draft_calendar",
        monkeypatch,
        sessions,
        clock,
        setup,
        actor=COORD,
        draft=make_draft(agencies=["Polis", *AGENCIES], areas=["Skolan", *AREAS]),
    ) as coordinator:
        admin["save"] = saving_outcome(
            sessions,
            clock,
            setup,
            actor=ADMIN,
            draft=make_draft(agencies=[*AGENCIES, "POLIS"], areas=[*AREAS, "SKOLAN"]),
        )
    outcome = {"admin": admin["save"], "coordinator": coordinator["save"]}
    assert outcome == {"admin": None, "coordinator": None}, outcome
    assert active_names(agencies_of(sessions, setup.forum_id)) == ["POLIS", *AGENCIES]
    assert active_names(areas_of(sessions, setup.forum_id)) == ["SKOLAN", *AREAS]
    assert len(agencies_of(sessions, setup.forum_id)) == len(AGENCIES) + 1
    assert len(areas_of(sessions, setup.forum_id)) == len(AREAS) + 1


def test_the_database_keeps_one_agency_and_area_per_name_whatever_its_case(
    sessions: Sessions, setup: Setup
) -> None:
    """Whatever code writes them, a forum's agency and area names differ in more than
    case, also in letters beyond ASCII ("ELEVHÄLSA" is Elevhälsa, on SQLite too, whose
    lower() leaves Ä as it is). Another forum may use the same names."""

    def names() -> tuple[list[str], list[str]]:
        return (
            [a.name for a in agencies_of(sessions, setup.forum_id)],
            [a.name for a in areas_of(sessions, setup.forum_id)],
        )

    before = names()
    writes: dict[str, Any] = {
        "ELEVHÄLSA": lambda s: s.add(Agency(forum_id=setup.forum_id, name="ELEVHÄLSA")),
        "grundskola": lambda s: s.execute(
            insert(Agency).values(forum_id=setup.forum_id, name="grundskola")
        ),
        "DROGER": lambda s: s.add(Area(forum_id=setup.forum_id, name="DROGER")),
        "alkohol": lambda s: s.execute(
            insert(Area).values(forum_id=setup.forum_id, name="alkohol")
        ),
    }
    for name, write in writes.items():
        with pytest.raises(IntegrityError), transaction(sessions) as s:
            write(s)
            s.flush()
        assert names() == before, name


def test_a_name_typed_in_another_unicode_form_is_the_same_agency(
    sessions: Sessions, clock: AdjustableClock, setup: Setup
) -> None:
    """ "Elevhälsa" with "ä" as one character (NFC, as stored) or as "a" and a combining mark
    (NFD: what some keyboards and pasted text give) is one agency: a save naming it so keeps
    the agency (no second Elevhälsa, no "still has members"), and the database refuses a
    second row in the other form."""
    decomposed = unicodedata.normalize("NFD", "Elevhälsa")
    assert decomposed != "Elevhälsa" and "Elevhälsa" in AGENCIES
    before = agencies_of(sessions, setup.forum_id)
    with transaction(sessions) as s:
        fs.save_forum_settings(
            s,
            clock,
            forum_id=setup.forum_id,
            team_id=TEAM,
            actor=COORD,
            draft=make_draft(
                agencies=[decomposed if a == "Elevhälsa" else a for a in AGENCIES],
                areas=[*AREAS, unicodedata.normalize("NFD", "Skolgården")],
            ),
        )
    after = agencies_of(sessions, setup.forum_id)
    assert [(a.id, a.name, a.active) for a in after] == [(a.id, a.name, a.active) for a in before]
    with pytest.raises(IntegrityError), transaction(sessions) as s:
        s.add(Agency(forum_id=setup.forum_id, name=decomposed))
        s.flush()
    with pytest.raises(IntegrityError), transaction(sessions) as s:
        s.add(Area(forum_id=setup.forum_id, name="Skolgården"))  # the NFD one is stored
        s.flush()


def test_an_edit_to_a_schedule_that_never_meets_is_refused_and_a_later_meeting_suffices(
    sessions: Sessions, clock: AdjustableClock
) -> None:
    """An existing forum moved to meet only on public holidays (1 January and 1 May), which
    it cancels, is refused under the schedule field, as a new one is; a schedule whose first
    months fall on holidays but that meets later (1 September too) is saved: the check looks
    past its first window."""
    forum_id = create(sessions, clock)
    with transaction(sessions) as s:
        forum = load_forum(s, forum_id)
        with pytest.raises(InputErrors) as exc:
            fs.update_forum(
                s,
                clock,
                forum=forum,
                actor=ADMIN,
                draft=make_draft(rrule="FREQ=YEARLY;BYMONTH=1,5;BYMONTHDAY=1"),
            )
    assert set(exc.value.errors) == {"rrule"}
    with transaction(sessions) as s:
        forum = load_forum(s, forum_id)
        fs.update_forum(
            s,
            clock,
            forum=forum,
            actor=ADMIN,
            draft=make_draft(rrule="FREQ=YEARLY;BYMONTH=1,5,9;BYMONTHDAY=1"),
        )
    with sessions() as s:
        assert "BYMONTH=1,5,9" in fs.forum_schedule(load_forum(s, forum_id)).rrule
