"""Rating rounds through the real app: the forum with a situation picture at every meeting,
its members and areas, and the steps of a round (the DM's button, the modal, a rating, the
round's messages), shared by tests/integration/test_rating_*.py and the views that show them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from domain import forums as fs
from storage.db import transaction
from storage.models import Forum, Rating, RatingRound, Role
from tests.conftest import Bot
from tests.support.blockkit import all_text
from tests.support.forums import forum_draft
from tests.support.slack_driver import plain_value, select_value

CHANNEL = "C0001"
ADMIN, POLIS, FRITID, POLIS2, OUTSIDER = "U1", "U2", "U3", "U4", "U9"
AREAS = ["Gråbo", "Hemse", "Droger"]
# Monday 23 November 2026 10:00 in Stockholm (the fixture's clock); meetings on Thursdays
# 13:00: the round for Thursday 26 November opens at once (its opening day has passed), its
# deadline is Wednesday 25 November 12:00, reminders Monday 12:00 and Wednesday 10:00.
DEADLINE = dt.datetime(2026, 11, 25, 11, 0, tzinfo=dt.UTC)
STOCKHOLM_NOON_MONDAY = dt.datetime(2026, 11, 23, 11, 0, tzinfo=dt.UTC)


def make_forum(bot: Bot) -> dict[str, int]:
    """A forum with a situation picture at every meeting: Socialtjänst (the admin), Polis
    (two members) and Fritidsgård (one), and three areas."""
    draft = forum_draft(
        name="OSF",
        code="OSF",
        agencies=["Socialtjänst/IFO", "Polis", "Fritidsgård"],
        own_agency="Socialtjänst/IFO",
        areas=AREAS,
    )
    with transaction(bot.sessions) as s:
        created = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id=CHANNEL, actor=ADMIN, draft=draft
        )
        created.settings = {"situation_picture": "every"}
        agencies = {a.name: a.id for a in created.agencies}
        for users, agency in (([POLIS, POLIS2], "Polis"), ([FRITID], "Fritidsgård")):
            fs.add_members(
                s,
                bot.clock,
                forum=created,
                actor=ADMIN,
                slack_user_ids=users,
                agency_id=agencies[agency],
                role=Role.MEMBER,
            )
        areas = {a.name: a.id for a in created.areas}
        return {"forum": created.id, **agencies, **areas}


def dms(bot: Bot, user: str) -> list[Any]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("channel") == user]


def channel_posts(bot: Bot) -> list[Any]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("channel") == CHANNEL]


def table_rows(message: dict[str, Any]) -> list[list[str]]:
    """The cells of the message's table block (the situation picture), as text."""
    (table,) = [b for b in message["blocks"] if b["type"] == "table"]
    return [[cell["text"] for cell in row] for row in table["rows"]]


def the_round(bot: Bot) -> RatingRound:
    with bot.sessions() as s:
        return s.scalars(select(RatingRound).order_by(RatingRound.id)).first()  # type: ignore[return-value]


def button_value(call: Any) -> str:
    for block in call.args["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == "rating_open":
                return str(element["value"])
    raise AssertionError("no rating button")


def open_modal(bot: Bot, user: str, value: str) -> dict[str, Any]:
    before = bot.slack.count("views.open")
    bot.driver.block_action("rating_open", user=user, value=value, channel=f"D{user}")
    return bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"]  # type: ignore[no-any-return]


def rate(
    bot: Bot,
    view: dict[str, Any],
    user: str,
    levels: dict[int, int],
    comments: dict[int, str] | None = None,
    view_id: str = "V0001",
) -> Any:
    """Submit the rating form ``view`` (``view_id``: Slack gives each opened modal its own)."""
    comments = comments or {}
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        block_id = block.get("block_id", "")
        if block_id.startswith("level_"):
            area = int(block_id.removeprefix("level_"))
            level = levels.get(area)
            values[block_id] = {"value": select_value(str(level) if level else None)}
        elif block_id.startswith("comment_"):
            area = int(block_id.removeprefix("comment_"))
            values[block_id] = {"value": plain_value(comments.get(area))}
    return bot.driver.view_submission(
        "rating_submit",
        values,
        user=user,
        private_metadata=view["private_metadata"],
        blocks=view["blocks"],
        view_id=view_id,
    )


def current_levels(bot: Bot) -> dict[tuple[int, int], int]:
    with bot.sessions() as s:
        return {
            (r.agency_id, r.area_id): r.level
            for r in s.scalars(select(Rating).where(Rating.is_current.is_(True)))
        }


def command_reply(bot: Bot, text: str, user: str) -> str:
    before = bot.slack.count("response_url")
    bot.driver.command(text, user=user)
    reply = bot.slack.wait_for("response_url", count=before + 1)[-1]
    return all_text(reply.args) + " " + str(reply.args.get("text", ""))


def save_forum(bot: Bot, forum: dict[str, int], **changes: Any) -> None:
    """The admin saves the OSF forum's settings as :func:`make_forum` made them, with
    ``changes`` (``areas``, ``agencies``, ``rrule`` …) to the form's fields."""
    fields: dict[str, Any] = {
        "name": "OSF",
        "code": "OSF",
        "agencies": ["Socialtjänst/IFO", "Polis", "Fritidsgård"],
        "own_agency": "Socialtjänst/IFO",
        "areas": AREAS,
        **changes,
    }
    with transaction(bot.sessions) as s:
        created = s.get(Forum, forum["forum"])
        assert created is not None
        fs.update_forum(s, bot.clock, forum=created, actor=ADMIN, draft=forum_draft(**fields))


def polis_rates(bot: Bot, forum: dict[str, int], levels: dict[str, int], user: str = POLIS) -> Any:
    value = button_value(dms(bot, user)[0])
    view = open_modal(bot, user, value)
    return rate(bot, view, user, {forum[a]: lvl for a, lvl in levels.items()})


def rating_messages(bot: Bot) -> list[Any]:
    """Messages about the round (the agenda's preview to coordinators runs on the same ticks)."""
    return [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if not c.args.get("text", "").startswith("Förhandsvisning")
    ]
