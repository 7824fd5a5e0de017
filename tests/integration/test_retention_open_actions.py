"""Open actions never age out (an open action is work to do, or to cancel), but a forgotten
one would keep its text for ever: the daily retention job tells a forum's coordinators,
once, of each of its open actions that has been past its end date and unchanged since for
the forum's ``actions`` period (as a case never closed is announced by its class's period).
Nothing is removed. Two forums of one workspace: each forum's coordinators hear of their
own forum's actions only, by number (what an action says may be about a case)."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from domain import forums as fs
from storage.db import transaction
from storage.models import Action, ActionStatus, Forum
from tests.conftest import Bot
from tests.support.agenda_flow import dms_to, text_of
from tests.support.forums import forum_draft

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
PERIOD = dt.timedelta(days=1096)  # the actions' default period
SECRET = "Hemlig insats om Kalle"


def _action(forum: Forum, *, status: ActionStatus, changed: dt.datetime) -> Action:
    return Action(
        forum_id=forum.id,
        description=SECRET,
        owning_agency_id=forum.agencies[0].id,
        owner=None,
        due_on=T0.date(),
        status=status,
        created_by="U1",
        completed_at=changed if status is not ActionStatus.OPEN else None,
        created_at=T0,
        updated_at=changed,
    )


def make_world(bot: Bot) -> dict[str, int]:
    """FOSSAM (U1 coordinates) and Norrsam (U5 coordinates), one workspace: each with an
    open action forgotten since its end date; FOSSAM also with an open action changed a
    year later, and a finished one."""
    bot.clock.set(T0)
    ids: dict[str, int] = {}
    with transaction(bot.sessions) as s:
        fossam = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id="C0001", actor="U1", draft=forum_draft()
        )
        norrsam = fs.create_forum(
            s,
            bot.clock,
            team_id="T0001",
            channel_id="C0002",
            actor="U5",
            draft=forum_draft(name="Norrsam", code="NOR"),
        )
        actions = {
            "forgotten": _action(fossam, status=ActionStatus.OPEN, changed=T0),
            "changed": _action(
                fossam, status=ActionStatus.OPEN, changed=T0 + dt.timedelta(days=365)
            ),
            "done": _action(fossam, status=ActionStatus.DONE, changed=T0),
            "other forum": _action(norrsam, status=ActionStatus.OPEN, changed=T0),
        }
        s.add_all(actions.values())
        s.flush()
        ids = {name: a.id for name, a in actions.items()}
    return ids


def told(bot: Bot, user: str) -> list[str]:
    """The texts of the DMs to ``user`` about open actions long past their end date."""
    return [
        text_of(c)
        for c in dms_to(bot, user)
        if "öppen" in text_of(c) and "slutdatumet" in text_of(c)
    ]


def test_the_coordinators_are_told_of_their_forums_forgotten_open_actions_once(
    bot: Bot,
) -> None:
    ids = make_world(bot)
    # The day before the period is over: nothing yet.
    bot.clock.set(T0 + PERIOD - dt.timedelta(days=1))
    bot.run_due_work()
    assert told(bot, "U1") == [] and told(bot, "U5") == []

    bot.clock.set(T0 + PERIOD + dt.timedelta(days=3))
    bot.run_due_work()
    (fossam,) = told(bot, "U1")
    assert f"Insats #{ids['forgotten']} i FOSSAM" in fossam
    assert "avbryt" in fossam
    # Its own forum's forgotten action only: not the one changed a year later, not the
    # finished one, never the other forum's.
    for other in ("changed", "done", "other forum"):
        assert f"#{ids[other]} " not in fossam
    (norrsam,) = told(bot, "U5")
    assert f"Insats #{ids['other forum']} i Norrsam" in norrsam
    assert f"#{ids['forgotten']} " not in norrsam
    assert SECRET not in fossam + norrsam  # by number: what it says stays in the app

    # The coordinators' retention overview counts them, per forum.
    for user, channel in (("U1", "C0001"), ("U5", "C0002")):
        before = bot.slack.count("response_url")
        bot.driver.command("gallring", user=user, channel=channel)
        reply = bot.slack.wait_for("response_url", count=before + 1)[-1]
        overview = json.dumps(reply.args, ensure_ascii=False)
        assert "öppna långt efter slutdatumet: 1 " in overview, overview

    # Once: the next days' runs tell nothing more; the open actions are all still there.
    for days in (4, 40):
        bot.clock.set(T0 + PERIOD + dt.timedelta(days=days))
        bot.run_due_work()
    assert len(told(bot, "U1")) == 1 and len(told(bot, "U5")) == 1
    with bot.sessions() as s:
        still = set(s.scalars(select(Action.id).where(Action.status == ActionStatus.OPEN)))
    assert still == {ids["forgotten"], ids["changed"], ids["other forum"]}

    # The action changed a year later is told of a year later.
    bot.clock.set(T0 + PERIOD + dt.timedelta(days=366))
    bot.run_due_work()
    texts = told(bot, "U1")
    assert len(texts) == 2 and f"Insats #{ids['changed']} i FOSSAM" in texts[1]
