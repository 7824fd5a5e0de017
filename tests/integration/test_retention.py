"""Retention (gallring) through the real runtime and CLI: exactly what is due goes, nothing
under legal hold; the dry run lists it; counts land in the audit log, which still verifies;
the daily job runs once per day across replicas; coordinators set legal hold from Slack."""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from domain import audit
from domain import forums as fs
from domain.cases import CaseDraft, change_status, raise_case
from storage.db import transaction
from storage.models import (
    Action,
    ActionStatus,
    Area,
    AuditEvent,
    Case,
    CaseEvent,
    CaseStatus,
    Consent,
    ConsentGiver,
    Deviation,
    Effect,
    Forum,
    Meeting,
    Member,
    Rating,
    RatingRound,
    Role,
    SipStatus,
)
from tests.conftest import Bot
from tests.support.forums import forum_draft
from tests.support.personnummer import pnr

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
FIVE_YEARS_LATER = T0 + dt.timedelta(days=1827)
ADMIN, MEMBER = "U1", "U2"


@dataclass
class World:
    forum_id: int
    refs: dict[str, str]
    actions: dict[str, int]
    rating_id: int
    deviations: dict[str, int]


def _draft(agency: int, consent: bool) -> CaseDraft:
    return CaseDraft(
        summary="Hemlig sammanfattning om oro",
        concerns=["school_absence"],
        age_band="6-12",
        agency_ids=[],
        consent_giver=ConsentGiver.GUARDIANS if consent else ConsentGiver.NONE,
        consent_agency_ids=[agency] if consent else [],
        consent_given_on=T0.date() if consent else None,
        consent_expires_on=None,
        sip=SipStatus.NOT_RELEVANT,
        meeting=None,
    )


@pytest.fixture
def world(bot: Bot) -> World:
    bot.clock.set(T0)
    refs: dict[str, str] = {}
    with transaction(bot.sessions) as s:
        forum = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id="C0001", actor=ADMIN, draft=forum_draft()
        )
        elevhalsa = forum.agencies[1].id
        fs.add_members(
            s,
            bot.clock,
            forum=forum,
            actor=ADMIN,
            slack_user_ids=[MEMBER],
            agency_id=elevhalsa,
            role=Role.MEMBER,
        )
        access = fs.require_member(s, forum=forum, slack_user_id=ADMIN)
        for name, consent, close in (
            ("closed", True, True),
            ("held", True, True),
            ("consultation", False, True),
            ("open", True, False),
        ):
            case, _ = raise_case(s, bot.clock, access=access, draft=_draft(elevhalsa, consent))
            refs[name] = case.reference
            if close:
                change_status(
                    s,
                    bot.clock,
                    access=access,
                    case_id=case.id,
                    to=CaseStatus.CLOSED,
                    effect=Effect.YES,
                )
        s.flush()
        held = s.scalars(select(Case).where(Case.reference == refs["held"])).one()
        area = Area(forum_id=forum.id, name="Droger", position=0, active=True)
        s.add(area)
        meeting = s.scalars(select(Meeting).where(Meeting.forum_id == forum.id)).first()
        assert meeting is not None
        s.flush()
        round_ = RatingRound(forum_id=forum.id, meeting_id=meeting.id, opens_at=T0, deadline_at=T0)
        s.add(round_)
        s.flush()
        rating = Rating(
            round_id=round_.id,
            agency_id=elevhalsa,
            area_id=area.id,
            level=3,
            comment="Hemlig kommentar",
            rated_by=MEMBER,
            rated_at=T0,
        )
        actions = {
            "done": Action(
                forum_id=forum.id,
                description="Hemlig insats",
                owning_agency_id=elevhalsa,
                owner=MEMBER,
                due_on=T0.date(),
                status=ActionStatus.DONE,
                created_by=ADMIN,
                completed_at=T0,
                created_at=T0,
                updated_at=T0,
            ),
            "held": Action(
                forum_id=forum.id,
                description="Insats i spärrat ärende",
                owning_agency_id=elevhalsa,
                owner=MEMBER,
                due_on=T0.date(),
                status=ActionStatus.DONE,
                case_id=held.id,
                created_by=ADMIN,
                completed_at=T0,
                created_at=T0,
                updated_at=T0,
            ),
            "cancelled": Action(
                forum_id=forum.id,
                description="Avbruten insats",
                owning_agency_id=elevhalsa,
                owner=MEMBER,
                due_on=T0.date(),
                status=ActionStatus.CANCELLED,
                created_by=ADMIN,
                completed_at=T0,
                created_at=T0,
                updated_at=T0,
            ),
            "open": Action(
                forum_id=forum.id,
                description="Pågående insats",
                owning_agency_id=elevhalsa,
                owner=MEMBER,
                due_on=T0.date(),
                created_by=ADMIN,
                created_at=T0,
                updated_at=T0,
            ),
        }
        deviations = {
            name: Deviation(
                forum_id=forum.id,
                reported_by=MEMBER,
                reporting_agency_id=elevhalsa,
                kind="information",
                text=f"Hemlig avvikelsetext ({name})",
                case_id=case_id,
                created_at=T0,
                updated_at=T0,
                followed_up_at=followed_up,
            )
            for name, case_id, followed_up in (
                ("old", None, None),
                ("held", held.id, None),
                # Followed up three years later: counted from its last change.
                ("followed_up", None, T0 + dt.timedelta(days=3 * 365)),
            )
        }
        s.add(rating)
        s.add_all(actions.values())
        s.add_all(deviations.values())
        s.flush()
        forum_id, rating_id = forum.id, rating.id
        action_ids = {k: a.id for k, a in actions.items()}
        deviation_ids = {k: d.id for k, d in deviations.items()}
    # A case closed four years later is not due yet five years after T0.
    bot.clock.set(T0 + dt.timedelta(days=4 * 365))
    with transaction(bot.sessions) as s:
        forum = fs.get_forum(s, forum_id=forum_id, team_id="T0001")
        access = fs.require_member(s, forum=forum, slack_user_id=ADMIN)
        case, _ = raise_case(s, bot.clock, access=access, draft=_draft(forum.agencies[1].id, True))
        refs["recent"] = case.reference
        change_status(
            s, bot.clock, access=access, case_id=case.id, to=CaseStatus.CLOSED, effect=Effect.NO
        )
    return World(forum_id, refs, action_ids, rating_id, deviation_ids)


def hold(bot: Bot, text: str, user: str = ADMIN) -> str:
    before = bot.slack.count("response_url")
    bot.driver.command(text, user=user)
    reply = bot.slack.wait_for("response_url", count=before + 1)[-1]
    return json.dumps(reply.args, ensure_ascii=False)


def references(bot: Bot) -> set[str]:
    with bot.sessions() as s:
        return set(s.scalars(select(Case.reference)))


def test_a_coordinator_sets_and_releases_legal_hold_from_slack(bot: Bot, world: World) -> None:
    ref = world.refs["held"]
    reply = hold(bot, f"gallring stopp {ref} Begäran från IVO")
    assert ref in reply
    with bot.sessions() as s:
        case = s.scalars(select(Case).where(Case.reference == ref)).one()
        assert case.legal_hold and case.legal_hold_reason == "Begäran från IVO"
        assert case.legal_hold_by == ADMIN
        logged = s.scalars(
            select(AuditEvent).where(AuditEvent.object_ref == ref).order_by(AuditEvent.id)
        ).all()[-1]
        assert logged.detail == {"legal_hold": True}
    overview = hold(bot, "gallring")
    assert "Begäran från IVO" in overview and ref in overview
    # Members may not; identifying data in the reason is refused and nothing changes.
    assert "samordnare" in hold(bot, f"gallring släpp {ref}", user=MEMBER)
    refused = hold(bot, f"gallring stopp {world.refs['open']} barnet {pnr('120304', '123')}")
    assert "identifiera" in refused.lower() or "personnummer" in refused.lower()
    with bot.sessions() as s:
        open_case = s.scalars(select(Case).where(Case.reference == world.refs["open"])).one()
        assert not open_case.legal_hold
    hold(bot, f"gallring släpp {ref}")
    with bot.sessions() as s:
        assert not s.scalars(select(Case).where(Case.reference == ref)).one().legal_hold
    bot.slack.assert_no_violations()


def test_retention_removes_exactly_what_is_due_and_nothing_under_legal_hold(
    bot: Bot,
    world: World,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hold(bot, f"gallring stopp {world.refs['held']} Tillsynsärende hos IVO")
    everything = references(bot)
    bot.clock.set(FIVE_YEARS_LATER)

    # The dry run lists what would go and removes nothing.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("SAMVERKAN_ALLOW_TEST_CLOCK", "1")
    monkeypatch.setenv("SAMVERKAN_TEST_CLOCK", FIVE_YEARS_LATER.isoformat())
    assert main(["gallra", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"FOS closed_cases: 1 would go ({world.refs['closed']})" in out
    assert f"kept under legal hold: {world.refs['held']}" in out
    assert f"FOS consultations: 1 would go ({world.refs['consultation']})" in out
    # The done and the cancelled action go; the open one, untouched for years, is still
    # work to do (or to cancel), never aged out as if it were finished.
    assert "FOS ratings: 1 would go" in out and "FOS actions: 2 would go" in out
    assert f"open long past their end date, coordinators are told: #{world.actions['open']}" in out
    # The case never closed goes only after its coordinators were told (a month later).
    assert f"never closed, coordinators are told a month before: {world.refs['open']}" in out
    assert "FOS deviations: 1 would go" in out
    assert f"kept under legal hold: deviation:{world.deviations['held']}" in out
    # The deviations' period comes from the settings like every other class.
    monkeypatch.setenv("SAMVERKAN_RETENTION_DEVIATIONS_DAYS", "3650")
    assert main(["gallra", "--dry-run"]) == 0
    assert "FOS deviations: 0 would go" in capsys.readouterr().out
    monkeypatch.delenv("SAMVERKAN_RETENTION_DEVIATIONS_DAYS")
    assert references(bot) == everything

    bot.run_due_work()
    kept = {world.refs[k] for k in ("held", "open", "recent")}
    assert references(bot) == kept
    with bot.sessions() as s:
        assert s.get(Rating, world.rating_id) is None
        assert s.get(Action, world.actions["done"]) is None
        assert s.get(Action, world.actions["held"]) is not None
        assert s.get(Action, world.actions["cancelled"]) is None
        assert s.get(Action, world.actions["open"]) is not None  # open: not finished
        assert s.get(Deviation, world.deviations["old"]) is None
        assert s.get(Deviation, world.deviations["held"]) is not None
        assert s.get(Deviation, world.deviations["followed_up"]) is not None
        case_ids = set(s.scalars(select(Case.id)))
        assert set(s.scalars(select(CaseEvent.case_id))) <= case_ids
        assert set(s.scalars(select(Consent.case_id))) <= case_ids
        counts = s.scalars(select(AuditEvent).where(AuditEvent.object_type == "retention")).one()
        assert counts.detail == {
            "removed": {
                "closed_cases": 1,
                "consultations": 1,
                "ratings": 1,
                "actions": 2,
                "deviations": 1,
                "meetings": 0,
            },
            "held": {
                "closed_cases": 1,
                "consultations": 0,
                "ratings": 0,
                "actions": 1,
                "deviations": 1,
                "meetings": 0,
            },
            "warned": 1,  # the case never closed: its coordinators are told first
            # The open action, past its end date for years: told of, not removed.
            "warned_actions": 1,
        }
        # The log's own events from five years ago went as a prefix; the rest verifies.
        cut = s.scalars(select(AuditEvent).where(AuditEvent.object_type == "audit_events")).one()
        assert cut.detail is not None and cut.detail["removed"] > 0
        result = audit.verify(s)
        assert result.ok, result.problems
        # The held case's own audit events stay with it (kept below the cut); the closed
        # case's went.
        old_events = select(AuditEvent.object_ref).where(AuditEvent.at < T0 + dt.timedelta(days=1))
        kept = set(s.scalars(old_events))
        assert world.refs["held"] in kept and world.refs["closed"] not in kept
        workspace = audit.verify(s, chain="T0001")
        assert workspace.kept == len(
            s.scalars(old_events.where(AuditEvent.seq < workspace.start_seq)).all()
        )
        assert workspace.kept > 0
    assert "Hemlig" not in json.dumps([c.args for c in bot.slack.calls], ensure_ascii=False)

    # Once a day, however many replicas run it.
    barrier = threading.Barrier(2)

    def replica() -> None:
        barrier.wait()
        bot.run_due_work()

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with bot.sessions() as s:
        runs = s.scalars(select(AuditEvent).where(AuditEvent.object_type == "retention")).all()
        assert len(runs) == 1


def test_the_warning_before_a_never_closed_case_goes_is_in_each_coordinators_language(
    bot: Bot, world: World
) -> None:
    """The DM a month before removal is each coordinator's own: English for one whose Slack
    is English, Swedish for a Swedish one (the forum is Swedish)."""
    with transaction(bot.sessions) as s:
        forum = s.get(Forum, world.forum_id)
        assert forum is not None
        admin = s.scalars(
            select(Member).where(Member.forum_id == forum.id, Member.slack_user_id == ADMIN)
        ).one()
        fs.add_members(
            s,
            bot.clock,
            forum=forum,
            actor=ADMIN,
            slack_user_ids=["U5"],
            agency_id=admin.agency_id,
            role=Role.COORDINATOR,
        )
    bot.slack.set_user(ADMIN, locale="en-US")
    bot.clock.set(FIVE_YEARS_LATER)
    bot.run_due_work()
    open_ref = world.refs["open"]

    def warnings_to(user: str) -> list[str]:
        return [
            str(c.args.get("text", ""))
            for c in bot.slack.calls_to("chat.postMessage")
            if c.args.get("channel") == user and open_ref in str(c.args.get("text", ""))
        ]

    (english,) = warnings_to(ADMIN)
    (swedish,) = warnings_to("U5")
    assert "has had no activity since" in english and "November 2026" in english
    assert "has had no activity" not in swedish and "november 2026" in swedish
