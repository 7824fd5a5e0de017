"""test_minutes_flow's world, shared by the minutes' and the slots' tests.

A FOSSAM forum meets every Thursday 13–15 (the first meeting on 26 November 2026): U1
coordinates (Grundskola), U2 is Elevhälsa, U3 is Polis. U2 raises the cases for Grundskola,
covered by the guardians' consent. ``meeting_with_cases`` is the world of the paged modals
(minutes, time slots): more cases on the first meeting than one modal holds.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import select

from domain import forums as fs
from domain.cases import CaseDraft, raise_case
from sandbox.webapi import validate_view
from storage.db import transaction
from storage.models import (
    Case,
    CaseCounter,
    CaseEvent,
    Consent,
    ConsentGiver,
    Meeting,
    Role,
    SipStatus,
)
from tests.conftest import Bot
from tests.support.agenda_flow import CHANNEL, local, tick
from tests.support.forums import forum_draft

CASES = 20  # more than one page of a paged modal holds (12)
OUTAGE = "Databasen"  # "Databasen svarar inte just nu"
FAILED = "Något gick fel"  # what a listener's exception is told as


def setup_forum(bot: Bot) -> int:
    with transaction(bot.sessions) as s:
        forum = fs.create_forum(
            s,
            bot.clock,
            team_id="T0001",
            channel_id=CHANNEL,
            actor="U1",
            draft=forum_draft(agencies=["Grundskola", "Elevhälsa", "Polis"]),
        )
        for user, agency in (("U2", 1), ("U3", 2)):
            fs.add_members(
                s,
                bot.clock,
                forum=forum,
                actor="U1",
                slack_user_ids=[user],
                agency_id=forum.agencies[agency].id,
                role=Role.MEMBER,
            )
        forum_id = forum.id
    bot.run_due_work()
    return forum_id


def raise_a_case(bot: Bot, *, concern: str = "school_absence", age: str = "6-12") -> str:
    (reference,) = raise_cases(bot, 1, concern=concern, age=age)
    return reference


def raise_cases(
    bot: Bot, n: int, *, concern: str = "school_absence", age: str = "6-12"
) -> list[str]:
    """``n`` cases raised by U2 for Grundskola, in one transaction (their references)."""
    with transaction(bot.sessions) as s:
        forum = fs.require_forum(s, team_id="T0001", channel_id=CHANNEL)
        access = fs.require_member(s, forum=forum, slack_user_id="U2")
        school = forum.agencies[0].id
        references = []
        for _ in range(n):
            case, _created = raise_case(
                s,
                bot.clock,
                access=access,
                draft=CaseDraft(
                    summary="Oro för frånvaron under hösten",
                    concerns=[concern],
                    age_band=age,
                    agency_ids=[school],
                    consent_giver=ConsentGiver.GUARDIANS,
                    consent_agency_ids=[school],
                    consent_given_on=bot.clock.now().date(),
                    consent_expires_on=None,
                    sip=SipStatus.NOT_RELEVANT,
                    meeting=None,
                ),
            )
            references.append(case.reference)
        return references


def copied_cases(bot: Bot, n: int) -> list[str]:
    """``n`` cases as :func:`raise_cases` raises them (their references): the first raised,
    the others copies of it (its agencies, consent, status, meeting and history entry, a
    reference of their own, the forum's counter past them), stored in one go. Raising
    hundreds one by one took most of a long-agenda test's time (each takes a number, a
    savepoint and an audit entry), for a world the test does not look at."""
    (first,) = raise_cases(bot, 1)
    with transaction(bot.sessions) as s:
        case = s.scalars(select(Case).where(Case.reference == first)).one()
        (consent,) = case.consents
        (created,) = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))
        prefix = first.rsplit("-", 1)[0]
        copies = [
            Case(
                forum_id=case.forum_id,
                reference=f"{prefix}-{sequence:03d}",
                year=case.year,
                sequence=sequence,
                raised_by=case.raised_by,
                raising_agency_id=case.raising_agency_id,
                summary=case.summary,
                concerns=list(case.concerns),
                age_band=case.age_band,
                status=case.status,
                sip=case.sip,
                meeting_id=case.meeting_id,
                created_at=case.created_at,
                updated_at=case.updated_at,
                agencies=list(case.agencies),
                consents=[
                    Consent(
                        given_by=consent.given_by,
                        given_on=consent.given_on,
                        expires_on=consent.expires_on,
                        recorded_by=consent.recorded_by,
                        recorded_at=consent.recorded_at,
                        agencies=list(consent.agencies),
                    )
                ],
            )
            for sequence in range(case.sequence + 1, case.sequence + n)
        ]
        s.add_all(copies)
        s.flush()
        s.add_all(
            CaseEvent(
                case_id=copy.id,
                at=created.at,
                actor=created.actor,
                kind=created.kind,
                to_status=created.to_status,
            )
            for copy in copies
        )
        counter = s.get_one(CaseCounter, (case.forum_id, case.year))
        counter.last = case.sequence + n - 1
        return [first, *(c.reference for c in copies)]


def first_meeting(bot: Bot) -> int:
    with bot.sessions() as s:
        return int(s.scalars(select(Meeting.id).order_by(Meeting.starts_at)).first() or 0)


def meeting_with_cases(
    bot: Bot, n: int = CASES, *, until: Literal["preview", "ended"]
) -> tuple[int, list[str]]:
    """The forum, ``n`` cases on its first meeting (its id, their references), and the
    clock ``until``: ``"preview"``, the day before at 8:00 (the coordinator's preview sent, with
    *Tidsluckor*); ``"ended"``, 15:00 on the meeting's day (the agenda went out at 8:00,
    the meeting has ended: the minutes may be written)."""
    setup_forum(bot)
    references = [raise_a_case(bot) for _ in range(n)]
    meeting = first_meeting(bot)
    if until == "preview":
        tick(bot, local(2026, 11, 25, 8, 0))
    else:
        for hour in (8, 15):
            tick(bot, local(2026, 11, 26, hour, 0))
    return meeting, references


def assert_fits(view: dict[str, Any]) -> None:
    """One page of a paged modal: within Slack's 100 blocks, and a valid view."""
    assert len(view["blocks"]) <= 100, len(view["blocks"])
    assert validate_view(view) == []
