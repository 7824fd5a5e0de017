"""A forum on the meeting clock, through the real app: its channel at Stockholm time, the
scheduler's own pass (``tick``), the messages it sent, a forum and a case to put on its
agenda. Shared by the agenda, minutes and refreshed-view flows in tests/integration.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

from domain import forums as fs
from domain.cases import CaseDraft, raise_case
from sandbox.webapi import Call
from storage.db import transaction
from storage.models import (
    ConsentGiver,
    Role,
    SipStatus,
)
from tests.conftest import Bot
from tests.support.forums import forum_draft

STHLM = zoneinfo.ZoneInfo("Europe/Stockholm")
CHANNEL = "C0001"


def local(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=STHLM)


def setup_forum(bot: Bot, **settings: Any) -> int:
    """FOSSAM every Thursday 13–15; U1 coordinator (Grundskola), U2 member (Elevhälsa)."""
    with transaction(bot.sessions) as s:
        forum = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id=CHANNEL, actor="U1", draft=forum_draft()
        )
        forum.settings = {**forum.settings, **settings}
        fs.add_members(
            s,
            bot.clock,
            forum=forum,
            actor="U1",
            slack_user_ids=["U2"],
            agency_id=forum.agencies[1].id,
            role=Role.MEMBER,
        )
        forum_id = forum.id
    bot.run_due_work()  # the bot is running when the forum is created
    return forum_id


def raise_a_case(bot: Bot, *, user: str = "U2", summary: str = "Oro för skolfrånvaro") -> str:
    with transaction(bot.sessions) as s:
        forum = fs.require_forum(s, team_id="T0001", channel_id=CHANNEL)
        access = fs.require_member(s, forum=forum, slack_user_id=user)
        other = next(a.id for a in forum.agencies if a.id != access.member.agency_id)
        case, _ = raise_case(
            s,
            bot.clock,
            access=access,
            draft=CaseDraft(
                summary=summary,
                concerns=["school_absence"],
                age_band="6-12",
                agency_ids=[other],
                consent_giver=ConsentGiver.GUARDIANS,
                consent_agency_ids=[other],
                consent_given_on=bot.clock.now().date(),
                consent_expires_on=None,
                sip=SipStatus.NOT_RELEVANT,
                meeting=None,
            ),
        )
        return case.reference


def tick(bot: Bot, at: dt.datetime) -> None:
    """The scheduler's pass at ``at``, once what the requests so far started has finished
    (their lazy listeners, the languages they learned stored), as it has when the clock
    really moves on to the next minute or day. A request's lazy listener still at work
    delivers everything due (``outgoing.deliver_now``): at the moved clock it claimed what
    the pass queued (an agenda, a morning DM) and sent it after the pass had returned, so a
    message was missing where the test looked for it."""
    bot.settle()
    bot.clock.set(at)
    bot.run_due_work()


def channel_posts(bot: Bot) -> list[Call]:
    return [
        c for c in bot.slack.calls_to("chat.postMessage", ok=True) if c.args["channel"] == CHANNEL
    ]


def dms_to(bot: Bot, user: str) -> list[Call]:
    return [c for c in bot.slack.calls_to("chat.postMessage", ok=True) if c.args["channel"] == user]


def text_of(message: Call | dict[str, Any]) -> str:
    """A call's arguments (or a message or view itself) as JSON text, to search in."""
    return json.dumps(message.args if isinstance(message, Call) else message, ensure_ascii=False)
