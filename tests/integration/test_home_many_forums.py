"""App Home for a coordinator of very many forums, through the real app: Slack refuses a view
of more than 100 blocks, so App Home is put together within them. What the coordinator is to
do keeps its place (their actions, the deviations waiting for them), each section that had
to leave entries out says how many and where they are, and the forums' summaries (which
each channel also has) give way first."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from domain import forums as fs
from domain.actions import ActionDraft, create_action
from domain.cases import report_deviation
from storage.db import transaction
from tests.conftest import Bot
from tests.support.forums import forum_draft
from tests.support.statements import statements

COORD = "UK"
FORUMS = 30


def _world(bot: Bot, forums: int) -> None:
    """``forums`` forums coordinated by COORD, each with a deviation waiting for its
    follow-up and an open action of COORD's."""
    clock = bot.clock
    with transaction(bot.sessions) as s:
        for n in range(forums):
            forum = fs.create_forum(
                s,
                clock,
                team_id="T0001",
                channel_id=f"C{n + 1:04d}",
                actor=COORD,
                draft=forum_draft(name=f"Forum {n:02d}", code=f"F{n:02d}"),
            )
            access = fs.require_member(s, forum=forum, slack_user_id=COORD)
            agency = forum.agencies[0].id
            report_deviation(
                s,
                clock,
                access=access,
                agency_ids=[agency],
                kind="information",
                text="Kallelsen kom för sent",
                case_reference=None,
            )
            create_action(
                s,
                clock,
                access=access,
                draft=ActionDraft(
                    description="Boka lokal",
                    agency_id=agency,
                    owner=COORD,
                    due_on=clock.now().date() + dt.timedelta(days=10),
                ),
            )


def _home(bot: Bot, user: str) -> dict[str, Any]:
    since = len(bot.slack.calls)
    bot.driver.app_home_opened(user=user)
    bot.wait_idle()
    published = [c.args["view"] for c in bot.slack.calls[since:] if c.method == "views.publish"]
    assert published, bot.slack.calls[since:]
    return dict(published[-1])


def test_a_coordinator_of_thirty_forums_sees_their_deviations_and_what_was_left_out(
    bot: Bot,
) -> None:
    _world(bot, FORUMS)
    view = _home(bot, COORD)
    blocks = view["blocks"]
    shown = json.dumps(view, ensure_ascii=False)
    assert len(blocks) <= 100, len(blocks)
    headers = [b["text"]["text"] for b in blocks if b["type"] == "header"]
    assert headers[0] == "Samverkan" and "Mina insatser" in headers, headers
    assert "Avvikelser att följa upp" in headers, headers
    # The deviations shown have their button; those left out are counted, with where to go.
    follow = shown.count('"action_id": "deviation_open"')
    assert 1 <= follow < FORUMS, follow
    left_out = FORUMS - follow
    assert f"…och avvikelser att följa upp i {left_out} forum till" in shown, shown
    # The actions: eight, and how many more, as ever.
    assert shown.count('"block_id": "home_action.') == 8
    assert f"…och {FORUMS - 8} till" in shown
    # The forums' summaries gave way: how many were left out, and where they are.
    summaries = sum(1 for b in blocks if b["type"] == "divider") - 2  # the actions', deviations'
    assert f"…och {FORUMS - summaries} forum till" in shown, shown
    # The closing hint is still last.
    assert "/samverkan hjälp" in json.dumps(blocks[-1], ensure_ascii=False)


def test_a_coordinator_of_two_forums_sees_everything(bot: Bot) -> None:
    """Room enough: every forum and deviation shown, no line about anything left out."""
    _world(bot, 2)
    view = _home(bot, COORD)
    shown = json.dumps(view, ensure_ascii=False)
    assert shown.count('"action_id": "deviation_open"') == 2
    assert "…och" not in shown, shown


def test_app_home_reads_every_forums_deviations_in_one_query(bot: Bot) -> None:
    """The deviations waiting in all of the coordinator's forums are read in one query (and
    their agencies in one more), not two queries a forum on every publish. Each forum still
    shows its oldest five and counts them all."""
    _world(bot, 3)
    with transaction(bot.sessions) as s:  # six more in the first forum: seven in all
        forum = fs.forum_for_channel(s, team_id="T0001", channel_id="C0001")
        assert forum is not None
        access = fs.require_member(s, forum=forum, slack_user_id=COORD)
        for n in range(6):
            bot.clock.advance(dt.timedelta(minutes=1))
            report_deviation(
                s,
                bot.clock,
                access=access,
                agency_ids=[forum.agencies[0].id],
                kind="information",
                text=f"Protokollet kom sent {n}",
                case_reference=None,
            )
    with statements(bot.sessions) as sent:
        view = _home(bot, COORD)
    shown = json.dumps(view, ensure_ascii=False)
    assert "*Forum 00*: 7 öppna" in shown and "*Forum 01*: 1 öppen" in shown, shown
    assert shown.count('"action_id": "deviation_open"') == 5 + 1 + 1
    waiting = [s for s in sent if "deviations.followed_up_at IS NULL" in s]
    assert len(waiting) == 1, waiting
