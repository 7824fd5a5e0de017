"""Rating rounds and the situation picture through the real app: the round opens with DMs,
the rating modal, reminders, escalation, away/stand-in, the coordinator's status, close
early/extend, the posted aggregate with its images, exports, refusals, and exactly-once with
two replicas and after downtime. Time is the injected clock; scheduled effects run through
run_due_work, as every replica's tick does."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from bot.scheduler import run_due_work
from domain import forums as fs
from domain import ratings
from handlers.blocks.ratings import RENDERERS as RATING_RENDERERS
from storage.db import transaction
from storage.models import AuditEvent, Forum, Rating, RatingRound, RatingRoundStatus, Role
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


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    return make_forum(bot)


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
) -> Any:
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


def polis_rates(bot: Bot, forum: dict[str, int], levels: dict[str, int], user: str = POLIS) -> Any:
    value = button_value(dms(bot, user)[0])
    view = open_modal(bot, user, value)
    return rate(bot, view, user, {forum[a]: lvl for a, lvl in levels.items()})


# --- opening and answering --------------------------------------------------------------------


def test_the_round_opens_once_with_a_dm_per_representative_and_a_button(
    bot: Bot, forum: dict[str, int]
) -> None:
    run_due_work(bot.runtime)
    rating_round = the_round(bot)
    assert rating_round.status is RatingRoundStatus.OPEN
    assert rating_round.deadline_at == DEADLINE
    invited = {c.args["channel"] for c in bot.slack.calls_to("chat.postMessage")}
    assert invited == {ADMIN, POLIS, POLIS2, FRITID}
    text = dms(bot, POLIS)[0].args["text"]
    assert "Lägesbild inför OSF torsdag 26 november" in text
    assert "bedöm läget för er verksamhet senast onsdag 25 november 2026 12:00" in text
    assert button_value(dms(bot, POLIS)[0]) == f"{rating_round.id}:{forum['Polis']}"
    run_due_work(bot.runtime)
    assert bot.slack.count("chat.postMessage") == 4  # opened once, however often it runs
    bot.slack.assert_no_violations()


def test_one_answer_per_agency_the_latest_stands_and_the_history_is_kept(
    bot: Bot, forum: dict[str, int]
) -> None:
    run_due_work(bot.runtime)
    view = open_modal(bot, POLIS, button_value(dms(bot, POLIS)[0]))
    ids = [b.get("block_id") for b in view["blocks"]]
    assert {f"level_{forum[a]}" for a in AREAS} <= set(ids)
    assert {f"comment_{forum[a]}" for a in AREAS} <= set(ids)
    assert "Förra gången: inte bedömt" in all_text(view)
    response = rate(bot, view, POLIS, {forum["Gråbo"]: 2, forum["Hemse"]: 1, forum["Droger"]: 3})
    assert response.json()["response_action"] == "update"
    assert "sparat" in all_text(response.json()["view"])

    # The other Polis representative changes one area: their answer stands for the agency.
    view = open_modal(bot, POLIS2, button_value(dms(bot, POLIS2)[0]))
    assert all_text(view).count("oroande") >= 1  # the current answer is preselected
    rate(bot, view, POLIS2, {forum["Gråbo"]: 3, forum["Hemse"]: 1, forum["Droger"]: 3})
    levels = current_levels(bot)
    assert levels[(forum["Polis"], forum["Gråbo"])] == 3
    with bot.sessions() as s:
        history = s.scalars(
            select(Rating).where(Rating.area_id == forum["Gråbo"]).order_by(Rating.id)
        ).all()
    assert [(r.level, r.is_current, r.rated_by) for r in history] == [
        (2, False, POLIS),
        (3, True, POLIS2),
    ]
    bot.slack.assert_no_violations()


def test_a_level_must_be_chosen_and_an_identifying_comment_is_refused_keeping_the_input(
    bot: Bot, forum: dict[str, int]
) -> None:
    run_due_work(bot.runtime)
    view = open_modal(bot, POLIS, button_value(dms(bot, POLIS)[0]))
    response = rate(
        bot,
        view,
        POLIS,
        {forum["Gråbo"]: 2, forum["Hemse"]: 1},
        {forum["Gråbo"]: "Ring Anna på 070-123 45 67"},
    )
    errors = response.json()["errors"]
    assert response.json()["response_action"] == "errors"
    assert f"level_{forum['Droger']}" in errors
    assert f"comment_{forum['Gråbo']}" in errors
    assert current_levels(bot) == {}


def test_refusals_closed_round_non_member_and_other_agency(bot: Bot, forum: dict[str, int]) -> None:
    run_due_work(bot.runtime)
    value = button_value(dms(bot, POLIS)[0])

    bot.driver.block_action("rating_open", user=FRITID, value=value, channel="DU3")
    reply = bot.slack.wait_for("response_url")[-1]
    assert "Du representerar inte Polis" in json.dumps(reply.args, ensure_ascii=False)

    bot.driver.block_action("rating_open", user=OUTSIDER, value=value, channel="DU9")
    reply = bot.slack.wait_for("response_url", count=2)[-1]
    assert "medlemmar" in json.dumps(reply.args, ensure_ascii=False)

    # A modal opened before the deadline and sent after it gets a polite note.
    view = open_modal(bot, POLIS, value)
    bot.clock.set(DEADLINE + dt.timedelta(minutes=5))
    run_due_work(bot.runtime)
    response = rate(bot, view, POLIS, {forum[a]: 1 for a in AREAS})
    note = all_text(response.json()["view"])
    assert "Tack" in note and "stängdes" in note
    assert current_levels(bot) == {}
    bot.driver.block_action("rating_open", user=POLIS, value=value, channel="DU2")
    reply = bot.slack.wait_for("response_url", count=3)[-1]
    assert "stängdes" in json.dumps(reply.args, ensure_ascii=False)
    assert bot.slack.count("views.open") == 1


def test_forty_areas_fit_the_modal_in_pages(bot: Bot, forum: dict[str, int]) -> None:
    with transaction(bot.sessions) as s:
        created = s.get(Forum, forum["forum"])
        assert created is not None
        draft = forum_draft(
            name="OSF",
            code="OSF",
            agencies=["Socialtjänst/IFO", "Polis", "Fritidsgård"],
            areas=[f"Område {n}" for n in range(1, 41)],
        )
        fs.update_forum(s, bot.clock, forum=created, actor=ADMIN, draft=draft)
    run_due_work(bot.runtime)
    value = button_value(dms(bot, POLIS)[0])
    view = open_modal(bot, POLIS, value)
    assert len(view["blocks"]) <= 100
    pages = 0
    while True:
        pages += 1
        levels = {
            int(b["block_id"].removeprefix("level_")): 2
            for b in view["blocks"]
            if b.get("block_id", "").startswith("level_")
        }
        response = rate(bot, view, POLIS, levels).json()
        assert response["response_action"] == "update"
        view = response["view"]
        if view["callback_id"] != "rating_submit":
            break
        assert len(view["blocks"]) <= 100
    assert pages == 3
    assert "sparat" in all_text(view)
    assert (
        sum(1 for (agency, _), _ in current_levels(bot).items() if agency == forum["Polis"]) == 40
    )
    bot.slack.assert_no_violations()


def rating_messages(bot: Bot) -> list[Any]:
    """Messages about the round (the agenda's preview to coordinators runs on the same ticks)."""
    return [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if not c.args.get("text", "").startswith("Förhandsvisning")
    ]


# --- reminders, escalation, away ---------------------------------------------------------------


def test_reminders_go_only_to_agencies_that_have_not_answered(
    bot: Bot, forum: dict[str, int]
) -> None:
    run_due_work(bot.runtime)
    polis_rates(bot, forum, {"Gråbo": 1, "Hemse": 1, "Droger": 1})
    bot.slack.reset()
    bot.clock.set(STOCKHOLM_NOON_MONDAY + dt.timedelta(minutes=1))
    run_due_work(bot.runtime)
    reminded = {c.args["channel"] for c in rating_messages(bot)}
    assert reminded == {ADMIN, FRITID}
    assert "Påminnelse" in dms(bot, FRITID)[0].args["text"]
    run_due_work(bot.runtime)
    assert len(rating_messages(bot)) == 2
    # The second reminder (two hours before the deadline), again only to those missing.
    bot.clock.set(DEADLINE - dt.timedelta(hours=2) + dt.timedelta(minutes=1))
    run_due_work(bot.runtime)
    assert {c.args["channel"] for c in rating_messages(bot)} == {ADMIN, FRITID}
    assert len(rating_messages(bot)) == 4


def test_a_reminder_due_at_night_waits_for_the_morning(bot: Bot, forum: dict[str, int]) -> None:
    run_due_work(bot.runtime)
    bot.slack.reset()
    # The bot was down from before Monday noon until 23:00: no reminder at night …
    bot.clock.set(dt.datetime(2026, 11, 23, 22, 0, tzinfo=dt.UTC))
    run_due_work(bot.runtime)
    assert bot.slack.count("chat.postMessage") == 0
    # … it goes out at 07:00.
    bot.clock.set(dt.datetime(2026, 11, 24, 6, 1, tzinfo=dt.UTC))
    run_due_work(bot.runtime)
    assert {c.args["channel"] for c in bot.slack.calls_to("chat.postMessage")} == {
        ADMIN,
        POLIS,
        POLIS2,
        FRITID,
    }


def test_a_critical_rating_or_a_two_level_jump_alerts_the_coordinators_at_once(
    bot: Bot, forum: dict[str, int]
) -> None:
    run_due_work(bot.runtime)
    bot.slack.reset()
    value = button_value(dms_after_open(bot, forum))
    view = open_modal(bot, POLIS, value)
    comment = "Oroande samlingar vid skolan på kvällarna"
    rate(
        bot,
        view,
        POLIS,
        {forum["Gråbo"]: 4, forum["Hemse"]: 1, forum["Droger"]: 2},
        {forum["Gråbo"]: comment},
    )
    alert = bot.slack.wait_for("chat.postMessage")[0]
    assert alert.args["channel"] == ADMIN
    assert "Polis" in alert.args["text"] and "Gråbo" in alert.args["text"]
    assert "kritiskt" in alert.args["text"]
    assert comment not in json.dumps([c.args for c in bot.slack.calls], ensure_ascii=False)
    assert len(dms(bot, ADMIN)) == 1  # Hemse and Droger are not escalations


def dms_after_open(bot: Bot, forum: dict[str, int]) -> Any:
    rating_round = the_round(bot)
    return _Call(f"{rating_round.id}:{forum['Polis']}")


class _Call:
    def __init__(self, value: str) -> None:
        self.args = {
            "blocks": [{"elements": [{"action_id": "rating_open", "value": value}]}],
        }


def test_an_agency_whose_representatives_are_away_is_shown_as_away_and_not_reminded(
    bot: Bot, forum: dict[str, int]
) -> None:
    reply = command_reply(bot, "borta 2026-12-31", FRITID)
    assert "borta till" in reply and "torsdag 31 december 2026" in reply
    reply = command_reply(bot, "borta 2026-12-31 <@U4>", POLIS)
    assert "<@U4>" in reply
    stand_in_dm = dms(bot, POLIS2)[0].args["text"]
    assert "ersättare" in stand_in_dm and "Polis" in stand_in_dm
    bot.slack.reset()
    run_due_work(bot.runtime)
    assert {c.args["channel"] for c in bot.slack.calls_to("chat.postMessage")} == {ADMIN, POLIS2}
    status = command_reply(bot, "lägesbild", ADMIN)
    assert "🏖 Fritidsgård – borta" in status
    assert "❌ Polis – inte svarat" in status
    with bot.sessions() as s:
        logged = s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.object_type == "absence")
        )
    assert logged == 2
    assert "tillbaka" in command_reply(bot, "tillbaka", FRITID).lower()


def test_away_refusals_are_clear(bot: Bot, forum: dict[str, int]) -> None:
    assert "2026-12-10" in command_reply(bot, "borta", POLIS)
    assert "kunde inte läsa" in command_reply(bot, "borta imorgon", POLIS)
    assert "Socialtjänst" not in command_reply(bot, "borta 2026-12-10 <@U3>", POLIS)
    assert "från din verksamhet (Polis)" in command_reply(bot, "borta 2026-12-10 <@U3>", POLIS)
    assert "från och med i dag" in command_reply(bot, "borta 2026-01-10", POLIS)


# --- status, close, extend, picture ------------------------------------------------------------


def test_the_coordinator_sees_who_answered_and_can_extend_and_close_early(
    bot: Bot, forum: dict[str, int]
) -> None:
    run_due_work(bot.runtime)
    polis_rates(bot, forum, {"Gråbo": 1, "Hemse": 1, "Droger": 1})
    status = command_reply(bot, "lägesbild", ADMIN)
    assert "✅ Polis – svarade" in status
    assert "❌ Fritidsgård – inte svarat" in status
    assert "❌ Socialtjänst/IFO – inte svarat" in status

    rating_round = the_round(bot)
    member_view = command_reply(bot, "lägesbild", FRITID)
    assert "Stäng nu" not in member_view and "Bedöm läget" in member_view

    bot.driver.block_action(
        "rating_extend",
        user=ADMIN,
        selected_option={
            "value": f"{rating_round.id}:1",
            "text": {"type": "plain_text", "text": "1"},
        },
    )
    reply = bot.slack.wait_for("response_url", count=3)[-1]
    assert "förlängd från onsdag 25 november 2026 12:00" in all_text(reply.args)
    assert the_round(bot).deadline_at == DEADLINE + dt.timedelta(days=1)

    # A member cannot close; the coordinator can.
    bot.driver.block_action("rating_close_early", user=POLIS, value=str(rating_round.id))
    reply = bot.slack.wait_for("response_url", count=4)[-1]
    assert "samordnare" in all_text(reply.args)
    bot.driver.block_action("rating_close_early", user=ADMIN, value=str(rating_round.id))
    bot.slack.wait_for("response_url", count=5)
    closed = the_round(bot)
    assert closed.status is RatingRoundStatus.CLOSED and closed.closed_early
    run_due_work(bot.runtime)
    assert len(channel_posts(bot)) == 1
    bot.slack.assert_no_violations()


def test_at_the_deadline_the_picture_is_posted_once_with_every_agency_and_area(
    bot: Bot, forum: dict[str, int]
) -> None:
    run_due_work(bot.runtime)
    polis_rates(bot, forum, {"Gråbo": 4, "Hemse": 1, "Droger": 2})
    view = open_modal(bot, ADMIN, button_value(dms(bot, ADMIN)[0]))
    rate(bot, view, ADMIN, {forum["Gråbo"]: 2, forum["Hemse"]: 1, forum["Droger"]: 2})
    bot.slack.reset()
    bot.clock.set(DEADLINE + dt.timedelta(seconds=1))
    run_due_work(bot.runtime)
    run_due_work(bot.runtime)
    posts = channel_posts(bot)
    assert len(posts) == 1
    text = all_text(posts[0].args)
    assert "Lägesbild OSF torsdag 26 november" in text
    assert "Ofullständig" in text and "saknas Fritidsgård" in text
    assert "2 av 3 verksamheter svarade" in text
    # A table, areas × agencies. Gråbo: highest kritiskt, median 3, two agencies two levels
    # apart (⚠), listed first.
    rows = table_rows(posts[0].args)
    assert rows[0] == ["Område", "Socialtjänst/IFO", "Polis", "Fritidsgård", "Median"]
    assert [row[0] for row in rows[1:]] == ["Gråbo ⚠", "Droger", "Hemse"]
    assert rows[1] == ["Gråbo ⚠", "🟨 avvikande", "🟥 kritiskt", "–", "3"]
    assert "⚠ verksamheterna skiljer sig två nivåer eller mer" in text
    # The heatmap and the trend chart as PNGs in the channel.
    completes = bot.slack.calls_to("files.completeUploadExternal")
    assert len(completes) == 2
    assert all(c.args.get("channel_id") == CHANNEL for c in completes)
    uploads = bot.slack.uploads
    assert len(uploads) == 2 and all(data.startswith(b"\x89PNG") for data in uploads.values())
    names = [c.args["filename"] for c in bot.slack.calls_to("files.getUploadURLExternal")]
    assert any("heatmap" in n for n in names) and any("trend" in n for n in names)
    assert the_round(bot).status is RatingRoundStatus.CLOSED
    bot.slack.assert_no_violations()


def test_the_next_round_shows_the_trend_and_the_previous_rating(
    bot: Bot, forum: dict[str, int]
) -> None:
    run_due_work(bot.runtime)
    polis_rates(bot, forum, {"Gråbo": 2, "Hemse": 3, "Droger": 2})
    bot.clock.set(DEADLINE + dt.timedelta(seconds=1))
    run_due_work(bot.runtime)
    # The round for Thursday 3 December opens on Friday 27 November 08:00.
    bot.clock.set(dt.datetime(2026, 11, 27, 7, 1, tzinfo=dt.UTC))
    bot.slack.reset()
    run_due_work(bot.runtime)
    second = dms(bot, POLIS)[0]
    assert "torsdag 3 december" in second.args["text"]
    view = open_modal(bot, POLIS, button_value(second))
    assert "Förra gången: 🟨 avvikande" in all_text(view)
    rate(bot, view, POLIS, {forum["Gråbo"]: 3, forum["Hemse"]: 1, forum["Droger"]: 2})
    bot.clock.set(dt.datetime(2026, 12, 2, 11, 1, tzinfo=dt.UTC))
    run_due_work(bot.runtime)
    areas = [row[0] for row in table_rows(channel_posts(bot)[-1].args)[1:]]
    assert {"Gråbo ↑", "Hemse ↓", "Droger →"} <= set(areas)


def test_a_coordinator_exports_a_round_and_a_period_by_dm(bot: Bot, forum: dict[str, int]) -> None:
    assert "ingen stängd" in command_reply(bot, "lägesbild export", ADMIN)
    run_due_work(bot.runtime)
    polis_rates(bot, forum, {"Gråbo": 2, "Hemse": 3, "Droger": 2})
    bot.clock.set(DEADLINE + dt.timedelta(seconds=1))
    run_due_work(bot.runtime)
    bot.slack.reset()
    assert "samordnare" in command_reply(bot, "lägesbild export", POLIS)
    reply = command_reply(bot, "lägesbild export 2026-11-01 2026-11-30", ADMIN)
    assert "direktmeddelanden" in reply
    names = [c.args["filename"] for c in bot.slack.calls_to("files.getUploadURLExternal")]
    assert names == ["lagesbild-OSF.xlsx", "lagesbild-OSF.csv"]
    completes = bot.slack.calls_to("files.completeUploadExternal")
    assert all(str(c.args.get("channel_id", "")).startswith("D") for c in completes)
    data = list(bot.slack.uploads.values())
    workbook = openpyxl.load_workbook(io.BytesIO(data[0]))
    rows = list(workbook["lagesbild"].iter_rows(values_only=True))
    assert len(rows) == 1 + 3 * 3  # every agency × every area, answered or not
    # The municipality's lägesbild is in Swedish: headers and values.
    assert rows[0] == (
        "Möte",
        "Område",
        "Verksamhet",
        "Nivå",
        "Nivåns namn",
        "Högst",
        "Median",
        "Verksamheter som bedömt",
        "Oenighet",
        "Trend (högsta nivå)",
        "Trend (median)",
    )
    hemse_polis = next(r for r in rows if r[1] == "Hemse" and r[2] == "Polis")
    assert hemse_polis == (
        "2026-11-26",
        "Hemse",
        "Polis",
        3,
        "oroande",
        3,
        3,
        1,
        "Nej",
        None,
        None,
    )
    summary = list(workbook["sammanstallning"].iter_rows(values_only=True))
    assert summary[0] == (
        "Möte",
        "Område",
        "Högst",
        "Median",
        "Verksamheter som bedömt",
        "Oenighet",
        "Trend (högsta nivå)",
        "Trend (median)",
    )
    english = {"meeting", "area", "agency", "level", "yes", "no", "up", "down", "same"}
    cells = {str(c).lower() for row in rows + summary for c in row if c is not None}
    assert not cells & english
    csv_text = data[1].decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("Möte;Område;Verksamhet;Nivå;Nivåns namn;Högst")
    assert "Fritidsgård" in csv_text and "avvikande" in csv_text and ";Nej;" in csv_text


# --- exactly once ------------------------------------------------------------------------------


def test_two_replicas_open_remind_and_close_each_round_once(
    bot: Bot, forum: dict[str, int]
) -> None:
    def both_at_once() -> None:
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def replica() -> None:
            try:
                barrier.wait()
                run_due_work(bot.runtime)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=replica) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []

    both_at_once()
    assert bot.slack.count("chat.postMessage") == 4
    bot.clock.set(STOCKHOLM_NOON_MONDAY + dt.timedelta(minutes=1))
    both_at_once()
    assert bot.slack.count("chat.postMessage") == 8
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    both_at_once()
    assert len(channel_posts(bot)) == 1
    assert bot.slack.count("files.completeUploadExternal") == 2
    with bot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(RatingRound)) == 1


def test_after_downtime_the_round_catches_up_with_one_reminder_and_closes(
    bot: Bot, forum: dict[str, int]
) -> None:
    run_due_work(bot.runtime)
    bot.slack.reset()
    # Down from Monday morning until Wednesday 10:30: both reminders were due; one goes out.
    bot.clock.set(DEADLINE - dt.timedelta(minutes=90))
    run_due_work(bot.runtime)
    assert len(rating_messages(bot)) == 4
    # Down again over the deadline: the round closes when the bot is back.
    bot.clock.set(DEADLINE + dt.timedelta(hours=5))
    run_due_work(bot.runtime)
    assert the_round(bot).status is RatingRoundStatus.CLOSED
    assert len(channel_posts(bot)) == 1


# --- settings and cadence ----------------------------------------------------------------------


def meeting_ids(bot: Bot) -> dict[dt.date, int]:
    from storage.models import Meeting

    with bot.sessions() as s:
        return {
            m.starts_at.date(): m.id for m in s.scalars(select(Meeting).order_by(Meeting.starts_at))
        }


def test_a_coordinator_chooses_the_meetings_with_a_situation_picture(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.driver.command("lägesbild inställningar", user=POLIS)
    refusal = bot.slack.wait_for("response_url")[0]
    assert "samordnare" in all_text(refusal.args) + str(refusal.args.get("text"))

    bot.driver.command("lägesbild inställningar", user=ADMIN)
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == "rating_settings"
    bot.slack.assert_no_violations()
    third = meeting_ids(bot)[dt.date(2026, 12, 3)]
    values = {
        "cadence": {"value": {"type": "radio_buttons", "selected_option": {"value": "chosen"}}},
        "days_before": {"value": select_value("5")},
        "deadline_days": {"value": select_value("1")},
        "deadline_time": {"value": {"type": "timepicker", "selected_time": "12:00"}},
        "reminders": {"value": {"type": "multi_static_select", "selected_options": []}},
        "chosen": {
            "value": {"type": "multi_static_select", "selected_options": [{"value": str(third)}]}
        },
    }
    response = bot.driver.view_submission(
        "rating_settings",
        values,
        user=ADMIN,
        private_metadata=view["private_metadata"],
        blocks=view["blocks"],
    )
    assert response.status == 200 and response.json() is None
    run_due_work(bot.runtime)
    assert the_round(bot) is None  # 26 November was not chosen
    bot.clock.set(dt.datetime(2026, 11, 27, 7, 1, tzinfo=dt.UTC))
    run_due_work(bot.runtime)
    assert the_round(bot).meeting_id == third
    # No reminders were chosen: none go out.
    bot.slack.reset()
    bot.clock.set(dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC))
    run_due_work(bot.runtime)
    assert rating_messages(bot) == []


def test_every_other_meeting_has_a_situation_picture(bot: Bot, forum: dict[str, int]) -> None:
    with transaction(bot.sessions) as s:
        created = s.get(Forum, forum["forum"])
        assert created is not None
        created.settings = {"situation_picture": "every_other"}
    opened = []
    for opening in (
        dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC),  # for 26 November (at once)
        dt.datetime(2026, 11, 27, 7, 1, tzinfo=dt.UTC),  # 3 December: not this one
        dt.datetime(2026, 12, 4, 7, 1, tzinfo=dt.UTC),  # 10 December
        dt.datetime(2026, 12, 11, 7, 1, tzinfo=dt.UTC),  # 17 December: not this one
    ):
        bot.clock.set(opening)
        run_due_work(bot.runtime)
        with bot.sessions() as s:
            opened.append(s.scalar(select(func.count()).select_from(RatingRound)))
    assert opened == [1, 1, 2, 2]


def test_a_jump_of_two_levels_since_last_time_alerts_the_coordinators(
    bot: Bot, forum: dict[str, int]
) -> None:
    run_due_work(bot.runtime)
    polis_rates(bot, forum, {"Gråbo": 1, "Hemse": 1, "Droger": 1})
    bot.clock.set(DEADLINE + dt.timedelta(seconds=1))
    run_due_work(bot.runtime)
    bot.clock.set(dt.datetime(2026, 11, 27, 7, 1, tzinfo=dt.UTC))
    run_due_work(bot.runtime)
    bot.slack.reset()
    value = f"{the_round_latest(bot)}:{forum['Polis']}"
    view = open_modal(bot, POLIS, value)
    rate(bot, view, POLIS, {forum["Gråbo"]: 3, forum["Hemse"]: 2, forum["Droger"]: 1})
    alert = bot.slack.wait_for("chat.postMessage")[0]
    assert alert.args["channel"] == ADMIN
    assert alert.args["text"] == (
        "Lägesbild OSF: Polis bedömer Gråbo som oroande (upp från normalt)."
    )
    assert len(dms(bot, ADMIN)) == 1


def the_round_latest(bot: Bot) -> int:
    with bot.sessions() as s:
        return int(s.scalar(select(func.max(RatingRound.id))) or 0)


def test_the_agenda_shows_the_situation_picture_of_the_closed_round(
    bot: Bot, forum: dict[str, int]
) -> None:
    run_due_work(bot.runtime)  # the round for Thursday 26 November opens
    polis_rates(bot, forum, {"Gråbo": 4, "Hemse": 1, "Droger": 2})
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    run_due_work(bot.runtime)  # closes; the picture is posted in the channel
    bot.clock.set(dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC))  # 08:00 in Stockholm
    run_due_work(bot.runtime)
    (agenda,) = [p for p in channel_posts(bot) if p.args["text"].startswith("Dagordning")]
    text = json.dumps(agenda.args["blocks"], ensure_ascii=False)
    assert "3. Lägesbild" in text
    assert "Gråbo" in text and "Hemse" in text and "Droger" in text
    assert "Ingen lägesbild" not in text
    bot.slack.assert_no_violations()


# --- previous rating, per-round work, extension race, catch-up --------------------------------


def test_the_previous_rating_is_the_agencys_latest_even_when_it_skipped_a_round(
    bot: Bot, forum: dict[str, int]
) -> None:
    run_due_work(bot.runtime)  # round 1, for Thursday 26 November
    polis_rates(bot, forum, {"Gråbo": 1, "Hemse": 2, "Droger": 1})
    bot.clock.set(DEADLINE + dt.timedelta(seconds=1))
    run_due_work(bot.runtime)
    # Round 2 (3 December) opens and closes without an answer from Polis.
    bot.clock.set(dt.datetime(2026, 11, 27, 7, 1, tzinfo=dt.UTC))
    run_due_work(bot.runtime)
    bot.clock.set(dt.datetime(2026, 12, 2, 11, 1, tzinfo=dt.UTC))
    run_due_work(bot.runtime)
    # Round 3 (10 December): the modal shows Polis's round-1 levels as "last time".
    bot.clock.set(dt.datetime(2026, 12, 4, 7, 1, tzinfo=dt.UTC))
    run_due_work(bot.runtime)
    with bot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(RatingRound)) == 3
    bot.slack.reset()
    view = open_modal(bot, POLIS, f"{the_round_latest(bot)}:{forum['Polis']}")
    text = all_text(view)
    assert text.count("Förra gången: 🟩 normalt") == 2
    assert text.count("Förra gången: 🟨 avvikande") == 1
    assert "inte bedömt" not in text
    # Two levels worse than round 1 (normalt → oroande) alerts the coordinators.
    rate(bot, view, POLIS, {forum["Gråbo"]: 3, forum["Hemse"]: 2, forum["Droger"]: 1})
    alert = bot.slack.wait_for("chat.postMessage")[0]
    assert alert.args["channel"] == ADMIN
    assert alert.args["text"] == (
        "Lägesbild OSF: Polis bedömer Gråbo som oroande (upp från normalt)."
    )


def second_forum(bot: Bot) -> int:
    draft = forum_draft(
        name="BSF",
        code="BSF",
        agencies=["Socialtjänst/IFO", "Polis"],
        own_agency="Socialtjänst/IFO",
        areas=["Centrum"],
    )
    with transaction(bot.sessions) as s:
        created = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id="C0002", actor=ADMIN, draft=draft
        )
        created.settings = {"situation_picture": "every"}
        return created.id


def test_a_forum_whose_close_fails_does_not_stop_another_forums_round_from_closing(
    bot: Bot, forum: dict[str, int]
) -> None:
    other = second_forum(bot)
    run_due_work(bot.runtime)
    with bot.sessions() as s:
        rounds = {r.forum_id: r.id for r in s.scalars(select(RatingRound))}
    assert set(rounds) == {forum["forum"], other}
    # The first forum's data breaks its close (a time zone that does not exist).
    with transaction(bot.sessions) as s:
        broken = s.get(Forum, forum["forum"])
        assert broken is not None
        broken.timezone = "Europe/Atlantis"
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    run_due_work(bot.runtime)
    with bot.sessions() as s:
        status = {r.forum_id: r.status for r in s.scalars(select(RatingRound))}
    assert status == {forum["forum"]: RatingRoundStatus.OPEN, other: RatingRoundStatus.CLOSED}
    posted = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == "C0002"]
    assert len(posted) == 1 and posted[0].args["text"].startswith("Lägesbild BSF")
    assert channel_posts(bot) == []
    # Once the data is fixed, the first forum's round closes at the next pass.
    with transaction(bot.sessions) as s:
        broken = s.get(Forum, forum["forum"])
        assert broken is not None
        broken.timezone = "Europe/Stockholm"
    run_due_work(bot.runtime)
    assert the_round(bot).status is RatingRoundStatus.CLOSED
    assert len(channel_posts(bot)) == 1
    assert bot.slack.count("files.completeUploadExternal") == 4


def test_an_extension_keeps_the_round_open_even_if_a_closer_saw_the_old_deadline(
    bot: Bot, forum: dict[str, int]
) -> None:
    run_due_work(bot.runtime)
    rating_round = the_round(bot)
    bot.driver.block_action(
        "rating_extend",
        user=ADMIN,
        selected_option={
            "value": f"{rating_round.id}:1",
            "text": {"type": "plain_text", "text": "1"},
        },
    )
    reply = bot.slack.wait_for("response_url")[-1]
    assert "förlängd" in all_text(reply.args)
    # A replica that listed the round as due under the old deadline, before the extension
    # was committed, closes it now: it stays open.
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    closed = ratings.close_due_round(
        bot.sessions, bot.clock, RATING_RENDERERS, rating_round.id, replica="stale"
    )
    assert closed is False
    run_due_work(bot.runtime)
    assert the_round(bot).status is RatingRoundStatus.OPEN
    assert picture_posts(bot) == []
    # At the new deadline it closes (the agenda, posted on the meeting day, is not counted).
    bot.clock.set(DEADLINE + dt.timedelta(days=1, minutes=1))
    run_due_work(bot.runtime)
    assert the_round(bot).status is RatingRoundStatus.CLOSED
    assert len(picture_posts(bot)) == 1


def picture_posts(bot: Bot) -> list[Any]:
    return [c for c in channel_posts(bot) if c.args["text"].startswith("Lägesbild OSF")]


def test_a_round_due_while_the_bot_was_down_opens_on_the_next_working_morning(
    bot: Bot, forum: dict[str, int]
) -> None:
    # The round for Thursday 3 December was due on Friday 27 November 08:00; the bot is back
    # on Saturday noon: no invitations on a weekend, nor on Sunday night …
    for moment in (
        dt.datetime(2026, 11, 28, 11, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 29, 22, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 30, 5, 59, tzinfo=dt.UTC),  # Monday 06:59 in Stockholm
    ):
        bot.clock.set(moment)
        run_due_work(bot.runtime)
        assert the_round(bot) is None
        assert rating_messages(bot) == []
    # … they go out on Monday at 07:00.
    bot.clock.set(dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC))
    run_due_work(bot.runtime)
    assert the_round(bot).status is RatingRoundStatus.OPEN
    assert {c.args["channel"] for c in rating_messages(bot)} == {ADMIN, POLIS, POLIS2, FRITID}
    assert "torsdag 3 december" in dms(bot, POLIS)[0].args["text"]


def test_a_round_whose_deadline_passed_while_the_bot_was_down_is_reported_once(
    bot: Bot, forum: dict[str, int]
) -> None:
    # Down from Monday morning until Wednesday afternoon, after the 12:00 deadline.
    bot.clock.set(DEADLINE + dt.timedelta(hours=2))
    run_due_work(bot.runtime)
    assert the_round(bot) is None
    notes = missed_notes(bot)
    assert [c.args["channel"] for c in notes] == [ADMIN]  # the coordinators only
    text = notes[0].args["text"]
    assert "OSF torsdag 26 november" in text and "kunde inte genomföras" in text
    assert "onsdag 25 november 2026 12:00" in text
    assert invitations(bot) == []
    # Exactly once, however often it runs (and with two replicas: the claim row).
    run_due_work(bot.runtime)
    bot.clock.set(DEADLINE + dt.timedelta(hours=20))
    run_due_work(bot.runtime)
    assert len(missed_notes(bot)) == 1
    # The next round opens as usual.
    bot.clock.set(dt.datetime(2026, 11, 27, 7, 1, tzinfo=dt.UTC))
    run_due_work(bot.runtime)
    assert the_round(bot).status is RatingRoundStatus.OPEN
    assert len(missed_notes(bot)) == 1
    assert {c.args["channel"] for c in invitations(bot)} == {ADMIN, POLIS, POLIS2, FRITID}


def missed_notes(bot: Bot) -> list[Any]:
    return [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if "kunde inte genomföras" in c.args.get("text", "")
    ]


def invitations(bot: Bot) -> list[Any]:
    return [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("text", "").startswith("Lägesbild inför")
    ]


def test_coordinators_read_the_comments_of_a_round_and_each_look_is_logged(
    bot: Bot, forum: dict[str, int]
) -> None:
    from storage.models import AuditEvent

    run_due_work(bot.runtime)
    value = button_value(dms(bot, POLIS)[0])
    view = open_modal(bot, POLIS, value)
    rate(
        bot,
        view,
        POLIS,
        {forum["Gråbo"]: 3, forum["Hemse"]: 1, forum["Droger"]: 2},
        {forum["Gråbo"]: "Fler anmälningar om skadegörelse vid stationen"},
    )
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    run_due_work(bot.runtime)
    bot.driver.command("lägesbild", user=ADMIN)
    overview = bot.slack.wait_for("response_url")[-1]
    (button,) = [
        e
        for b in overview.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("action_id") == "rating_comments_open"
    ]
    bot.driver.block_action("rating_comments_open", user=ADMIN, value=button["value"])
    modal = bot.slack.wait_for("views.open", count=2)[-1].args["view"]
    text = json.dumps(modal, ensure_ascii=False)
    assert "Fler anmälningar om skadegörelse vid stationen" in text and "Gråbo" in text
    assert "Polis · oroande" in text
    with bot.sessions() as s:
        reads = s.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "rating_comments")
        ).all()
    assert [(r.actor, r.object_ref) for r in reads] == [(ADMIN, button["value"])]
    # A member who is not a coordinator is refused, and nothing is shown.
    bot.driver.block_action("rating_comments_open", user=POLIS, value=button["value"])
    refused = bot.slack.wait_for("views.open", count=3)[-1].args["view"]
    assert "skadegörelse" not in json.dumps(refused, ensure_ascii=False)
    assert "samordnare" in json.dumps(refused, ensure_ascii=False)
