"""OSF (issue #15, point 4) through the real app: each agency also says what it sees right
now ("Vad ser ni just nu?"), guarded like every free text; coordinators read it next to the
levels (an audited read); the trend arrow compares the highest level, the measure the picture
is grouped by, with the median's change beside it; the follow-up of an area action uses the
same measure, from the last round closed before the action was made."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from domain import actions as action_service
from domain import forums as fs
from storage.db import transaction
from storage.models import (
    Action,
    ActionStatus,
    AuditAction,
    AuditEvent,
    Meeting,
    RatingObservation,
)
from tests.conftest import Bot
from tests.support.blockkit import all_text
from tests.support.forums import forum_draft
from tests.support.rating_flow import (
    ADMIN,
    DEADLINE,
    FRITID,
    POLIS,
    button_value,
    dms,
    make_forum,
    open_modal,
)
from tests.support.slack_driver import plain_value, select_value

WEEK = dt.timedelta(days=7)


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    return make_forum(bot)


def rate(
    bot: Bot,
    view: dict[str, Any],
    user: str,
    levels: dict[int, int],
    *,
    seen: str | None = None,
) -> Any:
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        block_id = block.get("block_id", "")
        if block_id.startswith("level_"):
            level = levels.get(int(block_id.removeprefix("level_")))
            values[block_id] = {"value": select_value(str(level) if level else None)}
        elif block_id.startswith("comment_"):
            values[block_id] = {"value": plain_value(None)}
        elif block_id == "observation":
            values[block_id] = {"value": plain_value(seen)}
    return bot.driver.view_submission(
        "rating_submit",
        values,
        user=user,
        private_metadata=view["private_metadata"],
        blocks=view["blocks"],
    )


def agency_rates(bot: Bot, user: str, levels: dict[int, int], *, seen: str | None = None) -> Any:
    """Rate from the latest DM that asks this user's agency to rate."""
    invitations = [c for c in dms(bot, user) if "rating_open" in json.dumps(c.args)]
    view = open_modal(bot, user, button_value(invitations[-1]))
    return rate(bot, view, user, levels, seen=seen)


def overview(bot: Bot, user: str) -> dict[str, Any]:
    before = bot.slack.count("response_url")
    bot.driver.command("lägesbild", user=user)
    return bot.slack.wait_for("response_url", count=before + 1)[-1].args


def test_the_form_asks_what_the_agency_sees_and_refuses_identifying_text(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()
    view = open_modal(bot, POLIS, button_value(dms(bot, POLIS)[0]))
    (block,) = [b for b in view["blocks"] if b.get("block_id") == "observation"]
    assert block["label"]["text"] == "Vad ser ni just nu?"
    assert block["optional"] is True
    levels = {forum[a]: 2 for a in ("Gråbo", "Hemse", "Droger")}
    refused = rate(bot, view, POLIS, levels, seen="Kalle, 070-123 45 67, syns vid stationen")
    assert refused.json()["response_action"] == "errors"
    assert "observation" in refused.json()["errors"]
    with bot.sessions() as s:
        assert s.scalars(select(RatingObservation)).all() == []
    saved = rate(bot, view, POLIS, levels, seen="Fler unga samlas vid stationen på kvällarna")
    assert saved.json()["response_action"] == "update"
    # Opening the form again shows it, and saving it empty takes it away.
    again = open_modal(bot, POLIS, button_value(dms(bot, POLIS)[0]))
    (block,) = [b for b in again["blocks"] if b.get("block_id") == "observation"]
    assert block["element"]["initial_value"] == "Fler unga samlas vid stationen på kvällarna"
    rate(bot, again, POLIS, levels, seen="")
    with bot.sessions() as s:
        assert s.scalars(select(RatingObservation)).all() == []
    bot.slack.assert_no_violations()


def test_coordinators_read_what_agencies_see_beside_their_levels_and_each_look_is_logged(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()
    seen = "Fler unga samlas vid stationen på kvällarna"
    agency_rates(bot, POLIS, {forum["Gråbo"]: 4, forum["Hemse"]: 1, forum["Droger"]: 2}, seen=seen)
    agency_rates(bot, FRITID, {forum["Gråbo"]: 2, forum["Hemse"]: 1, forum["Droger"]: 1})
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    bot.run_due_work()
    # Never in the channel: the picture and its images carry areas and levels only.
    channel = json.dumps(
        [c.args for c in bot.slack.calls if c.args.get("channel") == "C0001"], ensure_ascii=False
    )
    assert seen not in channel
    buttons = [
        e
        for b in overview(bot, ADMIN)["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("action_id") == "rating_comments_open"
    ]
    assert [b["text"]["text"] for b in buttons] == ["Vad verksamheterna ser"]
    opened = bot.slack.count("views.open")
    bot.driver.block_action("rating_comments_open", user=ADMIN, value=buttons[0]["value"])
    modal = bot.slack.wait_for("views.open", count=opened + 1)[-1].args["view"]
    sections = [all_text(b) for b in modal["blocks"] if b["type"] == "section"]
    polis = next(s for s in sections if s.startswith("*Polis*"))
    # Side by side: Polis's level per area (the picture's order) and what Polis sees.
    assert "🟥 Gråbo" in polis and "🟩 Hemse" in polis and "🟨 Droger" in polis
    assert f"Vad vi ser just nu: {seen}" in polis
    fritid = next(s for s in sections if s.startswith("*Fritidsgård*"))
    assert "🟨 Gråbo" in fritid and "Vad vi ser just nu: _–_" in fritid
    with bot.sessions() as s:
        reads = s.scalars(
            select(AuditEvent).where(
                AuditEvent.object_type == "rating_comments", AuditEvent.action == AuditAction.READ
            )
        ).all()
    assert [(r.actor, (r.detail or {}).get("observations")) for r in reads] == [(ADMIN, 1)]
    bot.driver.block_action("rating_comments_open", user=POLIS, value=buttons[0]["value"])
    refused = bot.slack.wait_for("views.open", count=opened + 2)[-1].args["view"]
    assert seen not in json.dumps(refused, ensure_ascii=False)
    bot.slack.assert_no_violations()


def _two_rounds(bot: Bot, forum: dict[str, int]) -> None:
    """Round 1: Gråbo (1, 1, 4) → highest kritiskt, median normalt. Round 2: (3, 3, 3) →
    highest oroande (better), median oroande (worse)."""
    bot.run_due_work()
    agency_rates(bot, ADMIN, {forum["Gråbo"]: 1, forum["Hemse"]: 2, forum["Droger"]: 1})
    agency_rates(bot, POLIS, {forum["Gråbo"]: 4, forum["Hemse"]: 2, forum["Droger"]: 1})
    agency_rates(bot, FRITID, {forum["Gråbo"]: 1, forum["Hemse"]: 2, forum["Droger"]: 1})
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    bot.run_due_work()
    bot.clock.set(DEADLINE + WEEK - dt.timedelta(days=2))
    bot.run_due_work()
    for user in (ADMIN, POLIS, FRITID):
        agency_rates(bot, user, {forum["Gråbo"]: 3, forum["Hemse"]: 2, forum["Droger"]: 1})
    bot.clock.set(DEADLINE + WEEK + dt.timedelta(minutes=1))
    bot.run_due_work()


def posted_pictures(bot: Bot) -> list[dict[str, Any]]:
    """The situation pictures posted in the forum's channel, in order."""
    return [
        c.args
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == "C0001" and "Lägesbild" in str(c.args.get("text"))
    ]


def test_the_trend_arrow_follows_the_highest_level_and_the_median_has_its_own(
    bot: Bot, forum: dict[str, int]
) -> None:
    _two_rounds(bot, forum)
    pictures = posted_pictures(bot)
    (table,) = [b for b in pictures[-1]["blocks"] if b["type"] == "table"]
    rows = {row[0]["text"].split()[0]: [c["text"] for c in row] for row in table["rows"][1:]}
    assert rows["Gråbo"][0] == "Gråbo ↓"  # kritiskt → oroande: better, by the highest level
    assert rows["Gråbo"][-1] == "3 ↑"  # while the median went from 1 to 3
    assert rows["Hemse"][0] == "Hemse →" and rows["Hemse"][-1] == "2 →"
    text = all_text(pictures[-1])
    assert "Pilen efter ett område jämför dess högsta nivå" in text
    assert "pilen efter medianen jämför medianen" in text
    bot.slack.assert_no_violations()


def test_an_area_actions_before_is_the_last_round_closed_before_it_was_made(
    bot: Bot, forum: dict[str, int]
) -> None:
    _two_rounds(bot, forum)
    # Made after round 2 closed (Wednesday) but before its meeting (Thursday): the rating
    # "before" the action is round 2's, although round 2's meeting had not started.
    now = bot.clock.now()
    with transaction(bot.sessions) as s:
        action = Action(
            forum_id=forum["forum"],
            description="Trygghetsvandring i Gråbo",
            owning_agency_id=forum["Polis"],
            owner=POLIS,
            created_by=POLIS,
            due_on=(now + WEEK).date(),
            area_id=forum["Gråbo"],
            status=ActionStatus.DONE,
            completed_at=now + dt.timedelta(hours=1),
            created_at=now,
            updated_at=now,
        )
        s.add(action)
    with bot.sessions() as s:
        forum_row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        meeting = s.scalars(select(Meeting).order_by(Meeting.starts_at.desc())).first()
        assert meeting is not None
        listed = action_service.actions_for_agenda(s, forum_row, meeting, now.date())
    (line,) = listed.follow_up
    assert line.rating_before is not None
    assert (line.rating_before.highest, line.rating_before.median) == (3, 3.0)


def test_the_posted_picture_is_a_native_table_and_chart_and_the_images_have_alt_text(
    bot: Bot, forum: dict[str, int]
) -> None:
    _two_rounds(bot, forum)
    pictures = posted_pictures(bot)
    first, second = pictures
    kinds = [b["type"] for b in second["blocks"]]
    assert "table" in kinds and "data_visualization" in kinds
    assert "data_visualization" not in [b["type"] for b in first["blocks"]]  # one round only
    (table,) = [b for b in second["blocks"] if b["type"] == "table"]
    assert table["rows"][1][0]["text"] == "Gråbo ↓"
    assert "🟧 oroande" in [c["text"] for c in table["rows"][1]]
    # The fallback text says it in words.
    assert "Gråbo: oroande" in second["text"]
    # The PNGs are still shared, each with a description for screen readers.
    uploads = [
        c.args
        for c in bot.slack.calls_to("files.getUploadURLExternal")
        if str(c.args.get("filename", "")).endswith(".png")
    ]
    assert len(uploads) == 4
    assert all(len(str(u.get("alt_txt") or "")) > 20 for u in uploads)
    heatmap = next(u for u in uploads if "heatmap" in u["filename"])
    assert "Värmekarta över lägesbilden" in heatmap["alt_txt"]
    bot.slack.assert_no_violations()


def test_the_arrows_compare_only_the_agencies_that_answered_both_times(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Round 1: Polis says allvarligt in Gråbo, Fritidsgård does not answer. Round 2: Polis
    does not answer, Fritidsgård says kritiskt in Hemse. Socialtjänst says the same both
    times: compared like with like nothing changed (before, Gråbo showed ↓ "better" only
    because Polis was missing, and Hemse ↑ only because Fritidsgård was new)."""
    bot.run_due_work()
    agency_rates(bot, ADMIN, {forum["Gråbo"]: 2, forum["Hemse"]: 2, forum["Droger"]: 1})
    agency_rates(bot, POLIS, {forum["Gråbo"]: 5, forum["Hemse"]: 2, forum["Droger"]: 1})
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    bot.run_due_work()
    bot.clock.set(DEADLINE + WEEK - dt.timedelta(days=2))
    bot.run_due_work()
    agency_rates(bot, ADMIN, {forum["Gråbo"]: 2, forum["Hemse"]: 2, forum["Droger"]: 1})
    agency_rates(bot, FRITID, {forum["Gråbo"]: 2, forum["Hemse"]: 4, forum["Droger"]: 1})
    bot.clock.set(DEADLINE + WEEK + dt.timedelta(minutes=1))
    bot.run_due_work()
    latest = posted_pictures(bot)[-1]
    (table,) = [b for b in latest["blocks"] if b["type"] == "table"]
    rows = {row[0]["text"].split()[0]: [c["text"] for c in row] for row in table["rows"][1:]}
    assert rows["Gråbo"][0] == "Gråbo →" and rows["Gråbo"][-1] == "2 →"
    assert rows["Hemse"][0].startswith("Hemse →") and rows["Hemse"][-1].startswith("3 →")
    text = all_text(latest)
    assert "Pilarna jämför bara verksamheter som svarade båda gångerna." in text
    assert "Svarade inte den här gången: Polis." in text
    assert "Svarade inte förra gången: Fritidsgård." in text
    bot.slack.assert_no_violations()


def test_a_new_area_joins_the_trend_chart_and_the_others_keep_their_history(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Two rounds with three areas, then Skolan is added and two more rounds follow: the
    chart keeps the three areas' four rounds (before, only the two rounds where every area
    was rated were left), and Skolan has a chart of its own from its first round."""
    levels = {forum["Gråbo"]: 2, forum["Hemse"]: 3, forum["Droger"]: 1}
    for week in range(4):
        bot.clock.set(DEADLINE + week * WEEK - dt.timedelta(days=2))
        bot.run_due_work()
        agency_rates(bot, ADMIN, levels)
        bot.clock.set(DEADLINE + week * WEEK + dt.timedelta(minutes=1))
        bot.run_due_work()
        if week == 1:
            with transaction(bot.sessions) as s:
                created = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
                draft = forum_draft(
                    name="OSF",
                    code="OSF",
                    agencies=["Socialtjänst/IFO", "Polis", "Fritidsgård"],
                    own_agency="Socialtjänst/IFO",
                    areas=["Gråbo", "Hemse", "Droger", "Skolan"],
                )
                fs.update_forum(s, bot.clock, forum=created, actor=ADMIN, draft=draft)
                skolan = next(a.id for a in created.areas if a.name == "Skolan")
            levels = {**levels, skolan: 4}
    latest = posted_pictures(bot)[-1]
    charts = [b for b in latest["blocks"] if b["type"] == "data_visualization"]
    assert len(charts) == 2
    older, newer = (c["chart"] for c in charts)
    assert len(older["axis_config"]["categories"]) == 4
    assert sorted(s["name"] for s in older["series"]) == ["Droger", "Gråbo", "Hemse"]
    assert [s["name"] for s in newer["series"]] == ["Skolan"]
    assert [p["value"] for p in newer["series"][0]["data"]] == [4, 4]
    assert newer["axis_config"]["categories"] == older["axis_config"]["categories"][-2:]
    bot.slack.assert_no_violations()
