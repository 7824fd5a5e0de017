"""Attack review of the stand-in's action reminders (domain.actions.reminded), through the
real app: a stand-in named while in the owner's agency and moved to another agency since,
or gone from the forum, or a granskare (who owns no actions), gets none of the owner's
reminders (with the action's details); they wait for the owner, who gets them once back
(as when no stand-in was named)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, update

from storage.db import transaction
from storage.models import Member, Role
from tests.conftest import Bot
from tests.integration.test_action_flow import ELEVHALSA, ELEVHALSA2, make_forum
from tests.integration.test_action_journey import command, digests_to, move
from tests.integration.test_action_reminders import at, create, reminders_to, run_at


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    return make_forum(bot)


@pytest.mark.parametrize("change", ["moved", "removed", "reviewer"])
def test_a_stand_in_no_longer_of_the_agency_gets_no_reminders(
    bot: Bot, forum: dict[str, int], change: str
) -> None:
    action_id = create(bot, forum, dt.date(2026, 11, 25))
    command(bot, f"borta 2026-12-04 <@{ELEVHALSA2}>", ELEVHALSA)
    bot.settle()
    if change == "moved":
        move(bot, forum, ELEVHALSA2, "Socialtjänst/IFO")
    elif change == "reviewer":  # made granskare since (or stored before they were refused)
        with transaction(bot.sessions) as s:
            s.execute(
                update(Member).where(Member.slack_user_id == ELEVHALSA2).values(role=Role.REVIEWER)
            )
    else:
        with transaction(bot.sessions) as s:
            s.execute(update(Member).where(Member.slack_user_id == ELEVHALSA2).values(active=False))
    bot.slack.reset()
    run_at(bot, at(dt.date(2026, 11, 25), 8, 30))
    assert reminders_to(bot, ELEVHALSA2) == []
    assert reminders_to(bot, ELEVHALSA) == []  # held while the owner is away
    run_at(bot, at(dt.date(2026, 12, 2), 8, 30))
    assert digests_to(bot, ELEVHALSA2) == []
    # Back on Monday 7 December (the 5th is a Saturday): the owner is told, the stand-in not.
    run_at(bot, at(dt.date(2026, 12, 7), 8, 30))
    told = reminders_to(bot, ELEVHALSA) + digests_to(bot, ELEVHALSA)
    assert told and all(f"#{action_id}" in json.dumps(m) for m in told)
    assert reminders_to(bot, ELEVHALSA2) == [] and digests_to(bot, ELEVHALSA2) == []


def test_a_granskare_of_the_agency_cannot_be_named_stand_in(
    bot: Bot, forum: dict[str, int]
) -> None:
    """A granskare of the owner's own agency reviews the log and owns no actions: named as
    stand-in, refused with a friendly word (nothing stored, nobody told); someone else of
    the agency can be named after it."""
    with transaction(bot.sessions) as s:
        s.execute(
            update(Member).where(Member.slack_user_id == ELEVHALSA2).values(role=Role.REVIEWER)
        )
    reply = command(bot, f"borta 2026-12-04 <@{ELEVHALSA2}>", ELEVHALSA)
    assert (
        "En granskare äger inga insatser och kan därför inte vara din ersättare. "
        "Ange någon annan från Elevhälsa."
    ) in reply, reply
    bot.settle()
    with bot.sessions() as s:
        owner = s.scalars(select(Member).where(Member.slack_user_id == ELEVHALSA)).one()
        assert (owner.away_until, owner.stand_in_member_id) == (None, None)
    assert reminders_to(bot, ELEVHALSA2) == []
    assert not [
        c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("channel") == ELEVHALSA2
    ]
