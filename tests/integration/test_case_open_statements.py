"""Opening a case from the channel's case list (``case_open``) through the real app: the SQL
statements of one open are pinned (the cost issue 18 measures with ``bench.read_cost``), and
they do not grow with the case's agencies, consents and legal grounds, for every kind of
reader; each open is still one audited read with the rule's answer, and the refusals at the
door are still audited (tests/integration/test_refused_access.py covers them in full)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from storage.db import transaction
from storage.models import (
    Agency,
    AuditAction,
    AuditEvent,
    Case,
    Consent,
    ConsentGiver,
    LegalGround,
    LegalGroundKind,
    Meeting,
    case_agencies,
    consent_agencies,
)
from tests.conftest import Bot
from tests.integration.test_disclosure_table import (
    COORD,
    COVERED,
    NON_MEMBER,
    NOT_COVERED,
    OTHER_FORUM,
    OTHER_WS,
    RAISER,
    SUMMARY,
    World,
    build_world,
    reader_for,
)

# The whole open, ack to modal, on PostgreSQL: the reader and their forum (one statement),
# the case with its raising agency, meeting, agencies and legal grounds, its consents with
# their agencies, the audit event, the case's history, its actions (the rule answers for them
# from the case already loaded). SQLite adds its BEGIN IMMEDIATE; an action whose case
# details are shown adds its own audit event.
OPEN_STATEMENTS = 6


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []
    lock = threading.Lock()

    def listener(*args: Any) -> None:
        with lock:  # the open runs in a lazy listener's thread
            seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def open_counted(bot: Bot, world: World, user: str) -> tuple[list[str], list[AuditEvent], str]:
    """``user`` presses "open" on the world's case in their channel: the statements the bot
    ran for it, the audit events it wrote and what Slack showed them (the modal, or the
    refusal on ``response_url``)."""
    r = reader_for(bot, world, user)
    with bot.sessions() as s:
        last = s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    opened, answered = bot.slack.count("views.open"), bot.slack.count("response_url")
    with statements(bot.runtime.engine) as seen:
        response = r.driver.block_action(
            "case_open", user=r.user, value=str(world.case), channel=r.channel
        )
        assert response.status == 200, response.body
        bot.wait_idle()
    if bot.slack.count("views.open") > opened:
        shown = json.dumps(bot.slack.calls_to("views.open")[-1].args["view"], ensure_ascii=False)
    else:
        assert bot.slack.count("response_url") > answered
        shown = json.dumps(bot.slack.calls_to("response_url")[-1].args, ensure_ascii=False)
    with bot.sessions() as s:
        written = list(s.scalars(select(AuditEvent).where(AuditEvent.id > last)))
    return seen, written, shown


def enlarge_case(bot: Bot, world: World) -> None:
    """Every agency of the forum on the case, a second consent (the current one) covering
    three agencies, two more legal grounds and a meeting: what each of the case's relations
    can hold, so a loader per row or per relation shows in the count."""
    with transaction(bot.sessions) as s:
        case = s.get(Case, world.case)
        assert case is not None
        agencies = {
            a.name: a.id for a in s.scalars(select(Agency).where(Agency.forum_id == world.forum))
        }
        on_case = set(
            s.scalars(select(case_agencies.c.agency_id).where(case_agencies.c.case_id == case.id))
        )
        for agency_id in sorted(set(agencies.values()) - on_case):
            s.execute(case_agencies.insert().values(case_id=case.id, agency_id=agency_id))
        now = bot.clock.now()
        consent = Consent(
            case_id=case.id,
            given_by=ConsentGiver.GUARDIANS,
            given_on=now.date(),
            expires_on=now.date() + dt.timedelta(days=30),
            recorded_by=RAISER,
            recorded_at=now,
        )
        s.add(consent)
        s.flush()
        for name in ("Elevhälsa", "Socialtjänst/IFO", "Grundskola"):
            s.execute(
                consent_agencies.insert().values(consent_id=consent.id, agency_id=agencies[name])
            )
        for name in ("Grundskola", "Socialtjänst/IFO"):
            s.add(
                LegalGround(
                    case_id=case.id,
                    agency_id=agencies[name],
                    ground=LegalGroundKind.NECESSARY,
                    decided_on=now.date(),
                    note=None,
                    recorded_by=COORD,
                    recorded_at=now,
                )
            )
        case.meeting_id = s.scalar(
            select(Meeting.id)
            .where(Meeting.forum_id == world.forum, Meeting.starts_at > now)
            .order_by(Meeting.starts_at)
            .limit(1)
        )


MEMBERS = (RAISER, COVERED, NOT_COVERED, COORD)


@pytest.mark.parametrize("grown", [False, True], ids=["as_raised", "grown"])
def test_a_case_open_runs_the_pinned_statements_for_every_member(bot: Bot, grown: bool) -> None:
    """Raising agency, consent, no consent, coordinator: the same statements, however many
    agencies, consents and grounds the case has; each open one audited read whose details
    flag is what the modal showed."""
    world = build_world(bot)
    if grown:
        enlarge_case(bot, world)
    sqlite = bot.runtime.engine.dialect.name == "sqlite"
    shown_to: dict[str, bool] = {}
    for user in MEMBERS:
        for _ in range(2):  # the first and a later open alike (nothing cached between)
            seen, written, shown = open_counted(bot, world, user)
            (read,) = [e for e in written if e.object_type == "case"]
            # The case's action, when the rule shows its details, is audited too (one INSERT).
            actions_read = [e for e in written if e.object_type == "action"]
            # A coordinator told why the case is hidden from their agency reads its consent
            # register (one INSERT): once, although its action's card tells it too.
            register_read = [e for e in written if e.object_type == "consent"]
            assert len(written) == 1 + len(actions_read) + len(register_read)
            expected = (
                OPEN_STATEMENTS + len(actions_read) + len(register_read) + (1 if sqlite else 0)
            )
            if len(seen) != expected:
                pytest.fail(f"{user}: {len(seen)} statements\n" + "\n".join(seen), pytrace=False)
            assert (read.action, read.object_ref, read.actor) == (
                AuditAction.READ,
                world.reference,
                user,
            )
            assert read.detail is not None and read.detail["surface"] == "case_modal"
            assert read.detail["details"] == (SUMMARY in shown)
            assert len(actions_read) == (1 if read.detail["details"] else 0)
            told = user == COORD and not read.detail["details"]
            assert [(e.object_ref, e.detail) for e in register_read] == (
                [
                    (
                        world.reference,
                        {"surface": "consent_register", "details": True, "basis": "coordinator"},
                    )
                ]
                if told
                else []
            )
            shown_to[user] = SUMMARY in shown
    # The rule's answers, unchanged: the raiser and the consent's agency see the details, the
    # agency whose ground ended does not.
    assert shown_to[RAISER] and shown_to[COVERED] and not shown_to[NOT_COVERED]


@pytest.mark.parametrize(
    ("user", "reason"),
    [(OTHER_FORUM, "other_forum"), (NON_MEMBER, "not_a_member"), (OTHER_WS, "other_forum")],
)
def test_a_case_open_from_outside_is_refused_and_audited_without_the_details(
    bot: Bot, user: str, reason: str
) -> None:
    """Another forum's member (from their own channel), a non-member, another workspace's
    user (from their own forum's channel): refused at the door, one refusal audited in the
    case's forum, no modal."""
    world = build_world(bot)
    enlarge_case(bot, world)
    opened = bot.slack.count("views.open")
    _seen, written, shown = open_counted(bot, world, user)
    assert bot.slack.count("views.open") == opened
    assert SUMMARY not in shown
    assert [(e.action, e.actor, e.detail) for e in written] == [
        (
            AuditAction.READ,
            user,
            {"surface": "case_modal", "details": False, "refused": reason},
        )
    ]


def test_a_case_open_in_a_channel_without_a_forum_is_refused_and_audited(bot: Bot) -> None:
    """A member of the case's forum presses "open" in a channel of no forum (a crafted or
    stale button): no forum here, audited in the case's forum, no modal."""
    world = build_world(bot)
    with bot.sessions() as s:
        last = s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    response = bot.driver.block_action(
        "case_open", user=RAISER, value=str(world.case), channel="C0077"
    )
    assert response.status == 200, response.body
    bot.wait_idle()
    assert bot.slack.count("views.open") == 0
    with bot.sessions() as s:
        written = list(s.scalars(select(AuditEvent).where(AuditEvent.id > last)))
    assert [(e.actor, e.forum_id, e.object_ref, e.detail) for e in written] == [
        (
            RAISER,
            world.forum,
            world.reference,
            {"surface": "case_modal", "details": False, "refused": "no_forum_here"},
        )
    ]
