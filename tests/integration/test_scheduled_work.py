"""Scheduled work through the real runtime: consent-expiry reminders and outbox delivery."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from sqlalchemy import event, select

from domain import agenda, scheduling
from domain import forums as fs
from domain.cases import CaseDraft, raise_case, remind_expiring_consents
from storage.db import transaction
from storage.models import (
    AuditAction,
    AuditEvent,
    Consent,
    ConsentGiver,
    Forum,
    OutboxMessage,
    OutboxStatus,
    Role,
    SipStatus,
)
from tests.conftest import Bot
from tests.support.forums import forum_draft
from tests.support.statements import statements


def forum_with_case(bot: Bot, *, expires_in_days: int, cases: int = 1) -> str:
    draft = forum_draft()
    with transaction(bot.sessions) as s:
        forum = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id="C0001", actor="U1", draft=draft
        )
        elevhalsa = forum.agencies[1].id
        fs.add_members(
            s,
            bot.clock,
            forum=forum,
            actor="U1",
            slack_user_ids=["U2"],
            agency_id=elevhalsa,
            role=Role.MEMBER,
        )
        access = fs.require_member(s, forum=forum, slack_user_id="U2")
        today = bot.clock.now().date()
        for _n in range(cases):
            case, _ = raise_case(
                s,
                bot.clock,
                access=access,
                draft=CaseDraft(
                    summary="Oro för frånvaro",
                    concerns=["school_absence"],
                    age_band="6-12",
                    agency_ids=[],
                    consent_giver=ConsentGiver.GUARDIANS,
                    consent_agency_ids=[elevhalsa],
                    consent_given_on=today,
                    consent_expires_on=today + dt.timedelta(days=expires_in_days),
                    sip=SipStatus.NOT_RELEVANT,
                    meeting=None,
                ),
            )
        return case.reference


def consent_dms(bot: Bot) -> int:
    """Reminders about consents (the forum's agendas and previews run on the same ticks)."""
    return sum(
        "Samtycket" in c.args.get("text", "") for c in bot.slack.calls_to("chat.postMessage")
    )


def test_an_expiring_consent_reminds_the_coordinator_and_the_raiser_once(bot: Bot) -> None:
    reference = forum_with_case(bot, expires_in_days=5)
    delivery = bot.run_due_work()
    assert delivery.sent == 2
    dms = bot.slack.calls_to("chat.postMessage")
    assert {d.args["channel"] for d in dms} == {"U1", "U2"}
    assert all(reference in d.args["text"] and "Samtycket" in d.args["text"] for d in dms)
    assert all("Oro för frånvaro" not in d.args["text"] for d in dms)
    bot.run_due_work()
    bot.clock.advance(dt.timedelta(days=1))
    bot.run_due_work()
    assert consent_dms(bot) == 2  # once, however often it runs


def test_each_expiry_reminder_is_audited_as_a_read_of_the_consent_register(bot: Bot) -> None:
    """The reminder names the case and its consent's last day, which is what the case's
    consent register tells: each recipient (the coordinator, the raiser) is audited reading
    it, once per DM, in the forum, as the coordinators' list of expiring consents is; the
    next passes (no DM) add nothing. Before, the DM told it and the log said nothing."""
    reference = forum_with_case(bot, expires_in_days=5)
    assert bot.run_due_work().sent == 2
    bot.run_due_work()
    bot.clock.advance(dt.timedelta(days=1))
    bot.run_due_work()
    assert consent_dms(bot) == 2
    with bot.sessions() as s:
        forum_id = s.scalars(select(Forum.id)).one()
        reads = [
            (e.actor, e.object_ref, e.forum_id, e.detail)
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.object_type == "consent", AuditEvent.action == AuditAction.READ)
                .order_by(AuditEvent.id)
            )
        ]
    assert sorted(reads, key=lambda r: r[0]) == [
        (
            "U1",
            reference,
            forum_id,
            {"surface": "consent_register", "details": True, "basis": "coordinator"},
        ),
        (
            "U2",
            reference,
            forum_id,
            {"surface": "consent_register", "details": True, "basis": "raising_agency"},
        ),
    ]


def test_a_consent_far_from_expiry_is_not_reminded_yet(bot: Bot) -> None:
    forum_with_case(bot, expires_in_days=30)
    bot.run_due_work()
    assert consent_dms(bot) == 0
    bot.clock.advance(dt.timedelta(days=24))
    bot.run_due_work()
    assert consent_dms(bot) == 2


def test_the_pass_reads_no_consent_that_expired_before(bot: Bot) -> None:
    """Every pass of every replica looks for consents about to expire: one that expired
    weeks ago on a case still open (an anonymous consultation now) is not read again (before,
    each one that ever expired was loaded, its case's consents too, on every pass)."""
    forum_with_case(bot, expires_in_days=5)
    bot.run_due_work()
    assert consent_dms(bot) == 2
    bot.clock.advance(dt.timedelta(days=30))
    loaded: list[int] = []

    def on_load(target: Consent, _context: Any) -> None:
        loaded.append(target.id)

    event.listen(Consent, "load", on_load)
    try:
        with transaction(bot.sessions) as s:
            assert remind_expiring_consents(s, bot.clock, replica="r1") == 0
    finally:
        event.remove(Consent, "load", on_load)
    assert loaded == []
    assert consent_dms(bot) == 2


def test_the_pass_reads_the_expiring_consents_in_one_statement(bot: Bot) -> None:
    """The consents about to expire are found, each its case's newest, in one statement
    whatever their number (before, each case's consents were loaded one case at a time,
    on every pass of every replica, also when each reminder had been sent)."""
    forum_with_case(bot, expires_in_days=5, cases=4)
    bot.run_due_work()
    assert consent_dms(bot) == 4 * 2
    with statements(bot.sessions) as sent, transaction(bot.sessions) as s:
        assert remind_expiring_consents(s, bot.clock, replica="r1") == 0  # all sent
    reads = [sql for sql in sent if "FROM consents" in sql]
    assert len(reads) == 1, reads
    assert consent_dms(bot) == 4 * 2


def test_a_slack_outage_delays_a_reminder_but_never_loses_or_doubles_it(bot: Bot) -> None:
    forum_with_case(bot, expires_in_days=3)
    bot.slack.fail_next("chat.postMessage", status=503, times=50)
    first = bot.run_due_work()
    assert first.sent == 0 and first.retrying == 2
    bot.slack.reset()
    bot.run_due_work()  # not yet: it waits before trying again
    assert consent_dms(bot) == 0
    bot.clock.advance(dt.timedelta(minutes=5))
    assert bot.run_due_work().sent == 2
    with bot.sessions() as s:
        assert {m.status for m in s.scalars(select(OutboxMessage))} == {OutboxStatus.SENT}


def test_two_replicas_delivering_at_once_send_each_message_once(bot: Bot) -> None:
    forum_with_case(bot, expires_in_days=2)
    with transaction(bot.sessions) as s:
        remind_expiring_consents(s, bot.clock, replica="setup")
    barrier = threading.Barrier(2)

    def replica() -> None:
        barrier.wait()
        bot.run_due_work()

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert consent_dms(bot) == 2


def test_messages_go_out_while_the_agendas_are_still_being_built(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Thursday's agendas take the tick's whole build budget: what is queued meanwhile
    is posted during the build, not in one wave after it (PostgreSQL). SQLite serialises
    writers, so there the tick delivers once, after the jobs: still once."""
    during = bot.runtime.engine.dialect.name == "postgresql"
    with transaction(bot.sessions) as s:
        scheduling.enqueue(
            s,
            bot.clock,
            team_id="T0001",
            method="chat.postMessage",
            payload={"channel": "C0001", "text": "Dagordning för forum 1"},
            dedupe_key="test:queued-before-the-build",
        )
    seen_during_build: list[bool] = []

    def slow_build(*_args: object, **_kwargs: object) -> agenda.AgendaRun:
        # On SQLite nothing may come during the build: half a second shows it does not.
        deadline = time.monotonic() + (10 if during else 0.5)
        while time.monotonic() < deadline and not posted(bot):
            time.sleep(0.05)
        seen_during_build.append(posted(bot))
        return agenda.AgendaRun()

    monkeypatch.setattr(agenda, "post_due", slow_build)
    delivery = bot.run_due_work()
    assert seen_during_build == [during]
    assert delivery.sent >= 1
    assert sum(is_ours(c.args) for c in bot.slack.calls_to("chat.postMessage")) == 1


def is_ours(args: dict[str, object]) -> bool:
    return args.get("text") == "Dagordning för forum 1"


def posted(bot: Bot) -> bool:
    return any(is_ours(c.args) for c in bot.slack.calls_to("chat.postMessage"))
