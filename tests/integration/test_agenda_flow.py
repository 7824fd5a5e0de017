"""Meetings and the automatic agenda through the real app and the real scheduler pass.

The clock is injected: each test moves it to the minute that matters and runs the same
``run_due_work`` every replica runs each minute. Posts are read back from the Web API
stand-in, which also checks every message against Slack's Block Kit limits.

Here: when the agenda is posted (and when not), its limits, items, and Slack outages; moving,
cancelling, recording and reordering: test_agenda_meetings.py.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.models import (
    AgendaItem,
    Case,
)
from tests.conftest import Bot
from tests.support.agenda_flow import (
    CHANNEL,
    STHLM,
    channel_posts,
    dms_to,
    local,
    raise_a_case,
    setup_forum,
    text_of,
    tick,
)
from tests.support.slack_driver import (
    checkbox_values,
    multi_select_values,
    plain_value,
    radio_value,
)


def test_the_agenda_is_posted_once_at_eight_on_the_meeting_day(bot: Bot) -> None:
    setup_forum(bot)
    reference = raise_a_case(bot)
    tick(bot, local(2026, 11, 26, 7, 59))
    assert channel_posts(bot) == []
    tick(bot, local(2026, 11, 26, 8, 0))
    posts = channel_posts(bot)
    assert len(posts) == 1
    body = text_of(posts[0])
    assert "Dagordning: FOSSAM torsdag 26 november 13:00–15:00" in body
    assert reference in body and "Nya ärenden" in body
    assert "Grundskola" in body and "Elevhälsa" in body  # who needs to attend
    assert "Oro för skolfrånvaro" not in body  # never case details in the channel
    assert "sent" not in posts[0].args["blocks"][1]["elements"][0]["text"]
    for minute in (1, 2, 30, 240):
        tick(bot, local(2026, 11, 26, 8, 0) + dt.timedelta(minutes=minute))
    assert len(channel_posts(bot)) == 1
    bot.slack.assert_no_violations()


def test_the_coordinator_gets_a_preview_the_day_before_with_buttons(bot: Bot) -> None:
    setup_forum(bot)
    raise_a_case(bot)
    tick(bot, local(2026, 11, 25, 8, 0))
    previews = dms_to(bot, "U1")
    assert len(previews) == 1
    assert "Förhandsvisning" in previews[0].args["text"]
    buttons = [
        e["action_id"]
        for b in previews[0].args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert buttons == ["agenda_edit_open", "agenda_item_add_open", "slots_open"]
    assert dms_to(bot, "U2") == []  # members get the posted agenda, not the preview
    tick(bot, local(2026, 11, 25, 12, 0))
    assert len(dms_to(bot, "U1")) == 1


def test_the_preview_is_numbered_as_the_posted_agenda_without_a_situation_picture(
    bot: Bot,
) -> None:
    """A forum that rates nothing has no situation-picture section in its agenda: the preview
    showed one anyway ("3. Lägesbild: Ingen lägesbild till detta möte."), so the preview's
    "4. Insatser att följa upp" was "3." in the agenda posted the next morning."""
    setup_forum(bot)
    raise_a_case(bot)
    tick(bot, local(2026, 11, 25, 8, 0))
    (preview,) = dms_to(bot, "U1")
    tick(bot, local(2026, 11, 26, 8, 0))
    (posted,) = channel_posts(bot)

    def titles(blocks: list[Any]) -> list[str]:
        texts = [str(b["text"]["text"]) for b in blocks if b["type"] == "section"]
        return [text for text in texts if text[:2] in {"*1", "*2", "*3", "*4", "*5"}]

    assert "Lägesbild" not in text_of(preview)
    assert titles(preview.args["blocks"]) == titles(posted.args["blocks"])


def test_no_preview_when_the_bot_comes_back_just_before_the_agenda(bot: Bot) -> None:
    setup_forum(bot)
    tick(bot, local(2026, 11, 26, 7, 0))
    assert dms_to(bot, "U1") == []
    tick(bot, local(2026, 11, 26, 8, 0))
    assert len(channel_posts(bot)) == 1


def test_a_bot_that_was_down_posts_late_before_the_meeting(bot: Bot) -> None:
    setup_forum(bot)
    tick(bot, local(2026, 11, 26, 9, 30))
    posts = channel_posts(bot)
    assert len(posts) == 1
    assert "Postad sent" in text_of(posts[0])


def test_after_the_meeting_started_it_tells_the_coordinator_instead(bot: Bot) -> None:
    setup_forum(bot)
    tick(bot, local(2026, 11, 26, 16, 0))
    assert channel_posts(bot) == []
    told = dms_to(bot, "U1")
    assert len(told) == 1
    assert "postades inte" in told[0].args["text"]
    tick(bot, local(2026, 11, 26, 16, 5))
    assert len(dms_to(bot, "U1")) == 1


def test_agendas_stay_at_eight_local_time_across_daylight_saving_changes(bot: Bot) -> None:
    setup_forum(bot)
    # 25 March 2027 is CET (07:00 UTC); 1 April CEST (06:00 UTC); 28 Oct CEST; 4 Nov CET.
    for day in (
        dt.date(2027, 3, 25),
        dt.date(2027, 4, 1),
        dt.date(2027, 10, 28),
        dt.date(2027, 11, 4),
    ):
        before = len(channel_posts(bot))
        eight = dt.datetime.combine(day, dt.time(8, 0), tzinfo=STHLM)
        tick(bot, eight - dt.timedelta(minutes=1))
        assert len(channel_posts(bot)) == before, day
        tick(bot, eight)
        assert len(channel_posts(bot)) == before + 1, day
    # The repeated hour on 31 October 2027 (02:00–03:00 twice): nothing happens twice.
    count = len(channel_posts(bot))
    start = dt.datetime(2027, 10, 30, 23, 30, tzinfo=dt.UTC)
    for minutes in range(0, 180, 10):
        tick(bot, start + dt.timedelta(minutes=minutes))
    assert len(channel_posts(bot)) == count


def test_no_agenda_for_a_meeting_skipped_for_ascension_day(bot: Bot) -> None:
    setup_forum(bot)  # default: meetings on public holidays are skipped
    tick(bot, local(2027, 5, 6, 8, 0))  # Kristi himmelfärdsdag, a Thursday
    tick(bot, local(2027, 5, 6, 9, 0))
    assert channel_posts(bot) == []
    tick(bot, local(2027, 5, 13, 8, 0))
    assert len(channel_posts(bot)) == 1
    assert "13 maj" in text_of(channel_posts(bot)[0])


def test_a_meeting_moved_for_a_holiday_gets_its_agenda_on_its_new_day(bot: Bot) -> None:
    setup_forum(bot, holiday_policy="earlier")
    tick(bot, local(2027, 5, 5, 8, 0))  # the Wednesday before Ascension Day
    posts = channel_posts(bot)
    assert len(posts) == 1
    assert "onsdag 5 maj 13:00–15:00" in text_of(posts[0])
    tick(bot, local(2027, 5, 6, 8, 0))
    assert len(channel_posts(bot)) == 1


def test_christmas_eve_is_a_day_off_only_when_the_forum_says_so(bot: Bot) -> None:
    setup_forum(bot, extra_days_off=[])  # 24 December 2026 is a Thursday
    tick(bot, local(2026, 12, 24, 8, 0))
    assert len(channel_posts(bot)) == 1


def test_slack_rate_limits_delay_the_agenda_but_never_lose_or_double_it(bot: Bot) -> None:
    setup_forum(bot)
    # slack_sdk's handlers retry within the call; what still fails waits in the outbox.
    # Retry-After 0: the SDK still honours it (it sleeps that plus up to a second of jitter
    # per retry), without three whole seconds of the test's wall time.
    bot.slack.fail_next("chat.postMessage", status=429, retry_after=0, times=5)
    tick(bot, local(2026, 11, 26, 8, 0))
    assert channel_posts(bot) == []
    bot.slack.fail_next("chat.postMessage", status=503, times=5)
    tick(bot, local(2026, 11, 26, 8, 2))
    assert channel_posts(bot) == []
    tick(bot, local(2026, 11, 26, 8, 10))
    tick(bot, local(2026, 11, 26, 8, 20))
    assert len(channel_posts(bot)) == 1


def test_a_long_agenda_splits_into_a_thread_within_block_kit_limits(bot: Bot) -> None:
    setup_forum(bot)
    for n in range(70):
        bot.driver.command(f"punkt Fråga nummer {n} om rutiner", user="U2")
    bot.slack.wait_for("response_url", count=70, timeout=30)
    tick(bot, local(2026, 11, 26, 8, 0))
    posts = channel_posts(bot)
    assert len(posts) == 2
    first, second = posts
    assert all(len(p.args["blocks"]) <= 50 for p in posts)
    assert "thread_ts" not in first.args
    assert second.args["thread_ts"] == first.response["ts"]
    everything = text_of(first) + text_of(second)
    assert all(f"Fråga nummer {n} " in everything for n in range(70))
    bot.slack.assert_no_violations()


def test_adding_an_item_after_posting_updates_the_agenda_in_place(bot: Bot) -> None:
    setup_forum(bot)
    tick(bot, local(2026, 11, 26, 8, 0))
    posted = channel_posts(bot)[0]
    bot.driver.command("punkt Nya rutiner för skolskjuts", user="U2")
    update = bot.slack.wait_for("chat.update")[0]
    assert update.args["ts"] == posted.response["ts"]
    assert "Nya rutiner för skolskjuts" in text_of(update)
    assert len(channel_posts(bot)) == 1  # no second post


def test_identifying_data_in_an_item_is_refused_and_kept_in_the_modal(bot: Bot) -> None:
    setup_forum(bot)
    bot.driver.command("punkt Ring 070-123 45 67 om eleven", user="U2")
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert view["blocks"][0]["element"]["initial_value"] == "Ring 070-123 45 67 om eleven"
    reply = bot.slack.wait_for("response_url")[0]
    assert "telefonnummer" in reply.args["text"].lower()
    with bot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AgendaItem)) == 0


def test_a_person_name_in_an_item_is_refused_and_kept_in_the_modal(bot: Bot) -> None:
    setup_forum(bot)
    bot.driver.command("punkt Eleven heter Ali och mår dåligt", user="U2")
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert view["blocks"][0]["element"]["initial_value"] == "Eleven heter Ali och mår dåligt"
    reply = bot.slack.wait_for("response_url")[0]
    assert "en persons namn" in reply.args["text"], reply.args["text"]
    assert "ärendereferensen" in reply.args["text"]
    with bot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AgendaItem)) == 0


@pytest.mark.parametrize(
    "typed",
    [
        "1701-102384",
        "barnet 1701-102384 går",
        "P1701-102384",
        "170110 2384",
        "17 01 10-2384",
        "19170110 - 2384",
    ],
)
def test_a_personnummer_cut_in_the_wrong_place_in_an_item_is_refused(bot: Bot, typed: str) -> None:
    """170110-2384 (valid) with its separator moved or split by spaces, typed after the
    slash command: the guard's message, the text kept in the modal, nothing stored."""
    setup_forum(bot)
    bot.driver.command(f"punkt Oro för {typed} i skolan", user="U2")
    reply = bot.slack.wait_for("response_url")[0]
    assert "personnummer" in reply.args["text"].lower()
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert view["blocks"][0]["element"]["initial_value"] == f"Oro för {typed} i skolan"
    with bot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AgendaItem)) == 0


def test_an_item_with_dates_references_and_amounts_is_added(bot: Bot) -> None:
    setup_forum(bot)
    text = "Dnr 2026-1234 och SN 2026/123, beslut 2026-11-30 13:00 i rum 214, 12 500 kr"
    bot.driver.command(f"punkt {text}", user="U2")
    bot.wait_idle()
    with bot.sessions() as s:
        assert s.scalars(select(AgendaItem.text)).all() == [text]


def test_a_non_member_cannot_add_items(bot: Bot) -> None:
    setup_forum(bot)
    bot.driver.command("punkt Något", user="U9")
    reply = bot.slack.wait_for("response_url")[0]
    assert "medlemmar" in reply.args["text"]


def test_an_outage_of_many_minutes_delays_the_agenda_but_does_not_drop_it(bot: Bot) -> None:
    setup_forum(bot)
    bot.slack.fail_next("chat.postMessage", status=503, times=1000)
    for minute in range(0, 30, 5):  # Slack answers 503 for half an hour
        tick(bot, local(2026, 11, 26, 8, 0) + dt.timedelta(minutes=minute))
    assert channel_posts(bot) == []
    bot.slack.reset()
    tick(bot, local(2026, 11, 26, 8, 36))
    assert len(channel_posts(bot)) == 1


def test_when_the_bot_was_removed_from_the_channel_the_coordinator_is_told_once(bot: Bot) -> None:
    setup_forum(bot)
    bot.slack.fail_next("chat.postMessage", status=200, error="not_in_channel")
    tick(bot, local(2026, 11, 26, 8, 0))
    assert channel_posts(bot) == []
    tick(bot, local(2026, 11, 26, 8, 1))
    told = dms_to(bot, "U1")
    assert len(told) == 1
    assert "not_in_channel" in told[0].args["text"] and "/invite" in told[0].args["text"]
    tick(bot, local(2026, 11, 26, 8, 2))
    assert len(dms_to(bot, "U1")) == 1


def test_when_the_channel_was_archived_the_coordinator_is_told_to_unarchive_it(bot: Bot) -> None:
    setup_forum(bot)
    bot.slack.fail_next("chat.postMessage", status=200, error="is_archived")
    tick(bot, local(2026, 11, 26, 8, 0))
    for minute in (1, 2, 30):
        tick(bot, local(2026, 11, 26, 8, minute))
    told = dms_to(bot, "U1")
    assert len(told) == 1
    text = told[0].args["text"]
    assert "<#C0001> är arkiverad" in text and "Återställ kanalen" in text
    assert "/invite" not in text  # no one can invite the bot to an archived channel


def test_a_posted_agenda_follows_a_change_of_the_cases_agencies(bot: Bot) -> None:
    """The agenda names who must attend each case. 'Ändra verksamheter' after the agenda is
    posted (and the coordinator's preview sent) updates both in place, as other changes to
    the meeting do, instead of leaving the channel telling Grundskola to come."""
    forum_id = setup_forum(bot)
    raise_a_case(bot)  # by Elevhälsa; Grundskola must attend
    tick(bot, local(2026, 11, 25, 8, 0))
    (preview,) = dms_to(bot, "U1")
    tick(bot, local(2026, 11, 26, 8, 0))
    (agenda,) = channel_posts(bot)
    case_line = next(
        b for b in agenda.args["blocks"] if "FOS-2026-001" in json.dumps(b, ensure_ascii=False)
    )
    assert "Grundskola" in text_of(case_line)
    with bot.sessions() as s:
        case_id = s.scalars(select(Case.id)).one()
    response = bot.driver.view_submission(
        "case_agencies",
        {"agencies": {"value": multi_select_values([])}},  # Elevhälsa alone
        user="U2",
        private_metadata=json.dumps({"locale": "sv", "forum_id": forum_id, "case_id": case_id}),
        blocks=[{"type": "input", "block_id": "agencies"}],
    )
    assert response.json() is None
    bot.wait_idle()
    updates = bot.slack.calls_to("chat.update")
    (posted,) = [u for u in updates if u.args["ts"] == agenda.response["ts"]]
    line = next(
        b for b in posted.args["blocks"] if "FOS-2026-001" in json.dumps(b, ensure_ascii=False)
    )
    assert "Elevhälsa" in text_of(line) and "Grundskola" not in text_of(line)
    assert [u for u in updates if u.args["ts"] == preview.response["ts"]]


def test_the_preview_refreshed_after_posting_no_longer_says_the_agenda_is_still_to_come(
    bot: Bot,
) -> None:
    """The coordinator's preview DM is updated by a change after the agenda went out: it
    said "tomorrow's agenda is posted at the agenda time" on the meeting day, about an
    agenda already in the channel."""
    setup_forum(bot)
    tick(bot, local(2026, 11, 25, 8, 0))
    preview = [c for c in dms_to(bot, "U1") if "Förhandsvisning" in c.args["text"]]
    assert len(preview) == 1 and "Morgondagens dagordning" in text_of(preview[0])
    tick(bot, local(2026, 11, 26, 8, 0))
    bot.driver.command("punkt Nya rutiner för skolskjuts", user="U2")
    tick(bot, local(2026, 11, 26, 8, 5))
    updates = [
        c
        for c in bot.slack.calls_to("chat.update", ok=True)
        if "Förhandsvisning" in c.args["text"] and "Nya rutiner" in text_of(c)
    ]
    assert len(updates) == 1
    said = text_of(updates[0])
    assert "Morgondagens" not in said and "vid dagordningens tid" not in said
    assert "är postad i <#C0001>" in said and "torsdag 26 november 13:00–15:00" in said


def test_a_case_closed_after_the_agenda_is_posted_leaves_the_posted_agenda(bot: Bot) -> None:
    """The raising agency closes its case on the meeting morning (the family moved): the
    posted agenda, the coordinators' preview and the morning DMs no longer list it (they
    did, and the agencies came for a case that was not to be discussed)."""
    setup_forum(bot)
    reference = raise_a_case(bot)
    tick(bot, local(2026, 11, 25, 8, 0))
    tick(bot, local(2026, 11, 26, 8, 0))
    posted = channel_posts(bot)[0]
    assert reference in text_of(posted)
    with bot.sessions() as s:
        case_id = s.scalars(select(Case.id)).one()
    response = bot.driver.view_submission(
        "case_close",
        {
            "outcome": {"value": plain_value("Familjen har flyttat")},
            "effect": {"value": radio_value("no")},
            "sip_started": {"value": checkbox_values([])},
        },
        user="U2",
        private_metadata=json.dumps({"locale": "sv", "forum_id": 1, "case_id": case_id}),
        view={"previous_view_id": "V0001"},
    )
    assert response.status == 200
    tick(bot, local(2026, 11, 26, 8, 5))
    updates = bot.slack.calls_to("chat.update", ok=True)
    agenda = [u for u in updates if u.args["ts"] == posted.response["ts"]]
    assert len(agenda) == 1 and reference not in text_of(agenda[0])
    assert "Inga nya ärenden" in text_of(agenda[0])
    assert not [u for u in updates if u.args["channel"] != CHANNEL and reference in text_of(u)]
    assert len(channel_posts(bot)) == 1
