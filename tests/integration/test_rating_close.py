"""Rating rounds through the real app: the coordinator's status, closing early and extending,
the posted situation picture, exports, and each round opened, reminded and closed exactly
once with two replicas and after downtime.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading

import openpyxl
import pytest
from sqlalchemy import func, select

from bot.scheduler import run_due_work  # noqa: TID251 (concurrent passes, on purpose)
from storage.models import RatingRound, RatingRoundStatus
from tests.conftest import Bot
from tests.support.blockkit import all_text
from tests.support.rating_flow import (
    ADMIN,
    CHANNEL,
    DEADLINE,
    FRITID,
    POLIS,
    STOCKHOLM_NOON_MONDAY,
    button_value,
    channel_posts,
    command_reply,
    dms,
    make_forum,
    open_modal,
    polis_rates,
    rate,
    rating_messages,
    table_rows,
    the_round,
)
from tests.support.statements import statements


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    return make_forum(bot)


# --- status, close, extend, picture ------------------------------------------------------------


def test_the_coordinator_sees_who_answered_and_can_extend_and_close_early(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()
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
    bot.run_due_work()
    assert len(channel_posts(bot)) == 1
    bot.slack.assert_no_violations()


def test_at_the_deadline_the_picture_is_posted_once_with_every_agency_and_area(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()
    polis_rates(bot, forum, {"Gråbo": 4, "Hemse": 1, "Droger": 2})
    view = open_modal(bot, ADMIN, button_value(dms(bot, ADMIN)[0]))
    rate(bot, view, ADMIN, {forum["Gråbo"]: 2, forum["Hemse"]: 1, forum["Droger"]: 2})
    bot.slack.reset()
    bot.clock.set(DEADLINE + dt.timedelta(seconds=1))
    bot.run_due_work()
    bot.run_due_work()
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
    # The heatmap's title says the day as the messages do; its file name stays ASCII.
    titles = json.dumps([c.args for c in completes], ensure_ascii=False)
    assert "Lägesbild OSF torsdag 26 november 2026" in titles and "2026-11-26" not in titles
    assert all(n.isascii() and "2026-11-26" in n for n in names)
    assert the_round(bot).status is RatingRoundStatus.CLOSED
    bot.slack.assert_no_violations()


def test_the_next_round_shows_the_trend_and_the_previous_rating(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()
    polis_rates(bot, forum, {"Gråbo": 2, "Hemse": 3, "Droger": 2})
    bot.clock.set(DEADLINE + dt.timedelta(seconds=1))
    bot.run_due_work()
    # The round for Thursday 3 December opens on Friday 27 November 08:00.
    bot.clock.set(dt.datetime(2026, 11, 27, 7, 1, tzinfo=dt.UTC))
    bot.slack.reset()
    bot.run_due_work()
    second = dms(bot, POLIS)[0]
    assert "torsdag 3 december" in second.args["text"]
    view = open_modal(bot, POLIS, button_value(second))
    assert "Förra gången: 🟨 avvikande" in all_text(view)
    rate(bot, view, POLIS, {forum["Gråbo"]: 3, forum["Hemse"]: 1, forum["Droger"]: 2})
    bot.clock.set(dt.datetime(2026, 12, 2, 11, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    areas = [row[0] for row in table_rows(channel_posts(bot)[-1].args)[1:]]
    assert {"Gråbo ↑", "Hemse ↓", "Droger →"} <= set(areas)


def test_a_coordinator_exports_a_round_and_a_period_by_dm(bot: Bot, forum: dict[str, int]) -> None:
    assert "ingen stängd" in command_reply(bot, "lägesbild export", ADMIN)
    bot.run_due_work()
    polis_rates(bot, forum, {"Gråbo": 2, "Hemse": 3, "Droger": 2})
    bot.clock.set(DEADLINE + dt.timedelta(seconds=1))
    bot.run_due_work()
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


def test_the_csv_export_writes_medians_with_a_decimal_comma_for_swedish_excel(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Fields separated by ";" and medians such as 2.5 written "2,5": Swedish Excel reads
    "2.5" as text and "1.5" as a date (1 May). Whole numbers stay as they are."""
    bot.run_due_work()
    polis_rates(bot, forum, {"Gråbo": 2, "Hemse": 3, "Droger": 1})
    polis_rates(bot, forum, {"Gråbo": 3, "Hemse": 3, "Droger": 2}, user=FRITID)
    bot.clock.set(DEADLINE + dt.timedelta(seconds=1))
    bot.run_due_work()
    bot.slack.reset()
    command_reply(bot, "lägesbild export", ADMIN)
    data = list(bot.slack.uploads.values())
    rows = list(csv.reader(io.StringIO(data[1].decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    cells = {(r[1], r[2]): dict(zip(header, r, strict=True)) for r in rows[1:]}
    grabo = cells[("Gråbo", "Polis")]
    assert (grabo["Nivå"], grabo["Högst"], grabo["Median"]) == ("2", "3", "2,5")
    assert cells[("Droger", "Fritidsgård")]["Median"] == "1,5"
    assert cells[("Hemse", "Polis")]["Median"] in ("3", "3,0")
    assert grabo["Möte"] == "2026-11-26"
    # The workbook keeps real numbers.
    sheet = openpyxl.load_workbook(io.BytesIO(data[0]))["lagesbild"]
    medians = {(r[1], r[2]): r[6] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert medians[("Gråbo", "Polis")] == 2.5


# --- exactly once ------------------------------------------------------------------------------


def test_two_replicas_open_remind_and_close_each_round_once(
    bot: Bot, forum: dict[str, int]
) -> None:
    def both_at_once() -> None:
        bot.settle()  # the two passes run at once, on purpose: each calls run_due_work itself
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def replica() -> None:
            try:
                barrier.wait()
                run_due_work(bot.runtime)  # two passes at once, on purpose
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
    bot.run_due_work()
    bot.slack.reset()
    # Down from Monday morning until Wednesday 10:30: both reminders were due; one goes out.
    bot.clock.set(DEADLINE - dt.timedelta(minutes=90))
    bot.run_due_work()
    assert len(rating_messages(bot)) == 4
    # Down again over the deadline: the round closes when the bot is back.
    bot.clock.set(DEADLINE + dt.timedelta(hours=5))
    bot.run_due_work()
    assert the_round(bot).status is RatingRoundStatus.CLOSED
    assert len(channel_posts(bot)) == 1


def test_a_second_click_on_close_or_a_stale_extend_tells_the_coordinator_it_is_closed(
    bot: Bot, forum: dict[str, int]
) -> None:
    """A double click on "Stäng nu" (or "Förläng" under an old status) is not told that
    "your answer could not be included", which is what a late rating is told."""
    bot.run_due_work()
    rating_round = the_round(bot)
    for count in (1, 2):
        bot.driver.block_action("rating_close_early", user=ADMIN, value=str(rating_round.id))
        bot.slack.wait_for("response_url", count=count)
    bot.driver.block_action(
        "rating_extend",
        user=ADMIN,
        selected_option={
            "value": f"{rating_round.id}:1",
            "text": {"type": "plain_text", "text": "1"},
        },
    )
    replies = bot.slack.wait_for("response_url", count=3)
    for reply in replies[1:]:
        text = all_text(reply.args) + str(reply.args.get("text"))
        assert "ditt svar" not in text
        assert "Bedömningsomgången är redan stängd" in text
    assert the_round(bot).deadline_at == DEADLINE
    bot.run_due_work()
    assert len(channel_posts(bot)) == 1


def test_closing_early_locks_the_round_once(bot: Bot, forum: dict[str, int]) -> None:
    """The coordinator's close locks the round (its meeting's row first, then the round's)
    once, before it checks the round is open, and closes it under that lock (before, the
    close took both locks again: three statements more)."""
    bot.run_due_work()
    rating_round = the_round(bot)
    with statements(bot.sessions) as sent:
        bot.driver.block_action("rating_close_early", user=ADMIN, value=str(rating_round.id))
        bot.slack.wait_for("response_url", count=1)
    closed = the_round(bot)
    assert closed.status is RatingRoundStatus.CLOSED and closed.closed_early
    # lock_round's first read: the round's meeting.
    locking = [s for s in sent if s.startswith("SELECT rating_rounds.meeting_id FROM")]
    assert len(locking) == 1, locking
