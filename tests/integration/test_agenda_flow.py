"""Meetings and the automatic agenda through the real app and the real scheduler pass.

The clock is injected: each test moves it to the minute that matters and runs the same
``run_due_work`` every replica runs each minute. Posts are read back from the Web API
stand-in, which also checks every message against Slack's Block Kit limits.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import zoneinfo
from typing import Any

from sqlalchemy import func, select

from bot.scheduler import run_due_work
from domain import forums as fs
from domain.cases import CaseDraft, raise_case
from sandbox.webapi import Call
from storage.db import transaction
from storage.models import (
    AgendaItem,
    Case,
    CaseStatus,
    ConsentGiver,
    Meeting,
    MeetingStatus,
    Role,
    SipStatus,
)
from tests.conftest import Bot
from tests.support.forums import forum_draft
from tests.support.wait import eventually

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
    run_due_work(bot.runtime)  # the bot is running when the forum is created
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
    bot.clock.set(at)
    run_due_work(bot.runtime)


def channel_posts(bot: Bot) -> list[Call]:
    return [
        c for c in bot.slack.calls_to("chat.postMessage", ok=True) if c.args["channel"] == CHANNEL
    ]


def dms_to(bot: Bot, user: str) -> list[Call]:
    return [c for c in bot.slack.calls_to("chat.postMessage", ok=True) if c.args["channel"] == user]


def text_of(call: Call) -> str:
    return json.dumps(call.args, ensure_ascii=False)


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
    bot.slack.fail_next("chat.postMessage", status=429, retry_after=1, times=5)
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


def test_a_non_member_cannot_add_items(bot: Bot) -> None:
    setup_forum(bot)
    bot.driver.command("punkt Något", user="U9")
    reply = bot.slack.wait_for("response_url")[0]
    assert "medlemmar" in reply.args["text"]


def meeting_ids(bot: Bot) -> list[int]:
    with bot.sessions() as s:
        return list(
            s.scalars(
                select(Meeting.id)
                .where(Meeting.status == MeetingStatus.PLANNED)
                .order_by(Meeting.starts_at)
            )
        )


def test_the_coordinator_moves_a_meeting_and_its_agenda_follows(bot: Bot) -> None:
    setup_forum(bot)
    bot.driver.command("möten", user="U1")
    listing = bot.slack.wait_for("response_url")[0]
    assert "torsdag 26 november" in text_of(listing)
    first = meeting_ids(bot)[0]
    meta = json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": first})
    bot.driver.view_submission(
        "meeting_move",
        {
            "day": {"day": {"type": "datepicker", "selected_date": "2026-11-27"}},
            "start": {"start": {"type": "timepicker", "selected_time": "10:00"}},
        },
        user="U1",
        private_metadata=meta,
    )
    notice = bot.slack.wait_for("chat.postMessage")[0]
    assert "flyttas till fredag 27 november" in notice.args["text"]
    tick(bot, local(2026, 11, 26, 8, 0))
    assert len(channel_posts(bot)) == 1  # only the notice
    tick(bot, local(2026, 11, 27, 8, 0))
    agenda_posts = channel_posts(bot)[1:]
    assert len(agenda_posts) == 1
    assert "fredag 27 november 10:00–12:00" in text_of(agenda_posts[0])


def test_only_coordinators_move_meetings(bot: Bot) -> None:
    setup_forum(bot)
    first = meeting_ids(bot)[0] if meeting_ids(bot) else None
    if first is None:
        bot.driver.command("möten", user="U1")
        bot.slack.wait_for("response_url")
        first = meeting_ids(bot)[0]
    meta = json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": first})
    response = bot.driver.view_submission(
        "meeting_move",
        {"day": {"day": {"type": "datepicker", "selected_date": "2026-11-27"}}},
        user="U2",
        private_metadata=meta,
    )
    assert response.json()["response_action"] == "errors"
    assert "samordnare" in json.dumps(response.json(), ensure_ascii=False)


def test_a_cancelled_meeting_gets_no_agenda_and_its_cases_move_on(bot: Bot) -> None:
    setup_forum(bot)
    reference = raise_a_case(bot)
    first = meeting_ids(bot)[0]
    meta = json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": first})
    bot.driver.view_submission(
        "meeting_cancel",
        {"reason": {"reason": {"type": "plain_text_input", "value": "Studiedag"}}},
        user="U1",
        private_metadata=meta,
    )
    notice = bot.slack.wait_for("chat.postMessage")[0]
    assert "ställs in" in notice.args["text"] and "Studiedag" in notice.args["text"]
    tick(bot, local(2026, 11, 26, 8, 0))
    assert len(channel_posts(bot)) == 1
    tick(bot, local(2026, 12, 3, 8, 0))
    assert reference in text_of(channel_posts(bot)[-1])


def test_recording_a_meeting_rolls_undiscussed_items_over(bot: Bot) -> None:
    setup_forum(bot)
    discussed_ref = raise_a_case(bot)
    waiting_ref = raise_a_case(bot, summary="Oro för konflikter")
    tick(bot, local(2026, 11, 26, 8, 0))
    first = meeting_ids(bot)[0]
    with bot.sessions() as s:
        items = {
            s.get(Case, i.case_id).reference: i.id  # type: ignore[union-attr]
            for i in s.scalars(select(AgendaItem).where(AgendaItem.meeting_id == first))
        }
    bot.clock.set(local(2026, 11, 26, 15, 30))
    bot.driver.block_action("meeting_record_open", user="U1", value=str(first))
    modal = bot.slack.wait_for("views.open")[0].args["view"]
    assert discussed_ref in text_of_view(modal) and waiting_ref in text_of_view(modal)
    meta = modal["private_metadata"]
    bot.driver.view_submission(
        "meeting_record",
        {
            "attended": {
                "attended": {
                    "type": "multi_static_select",
                    "selected_options": [{"value": "1"}, {"value": "2"}],
                }
            },
            "discussed:0": {
                "discussed": {
                    "type": "checkboxes",
                    "selected_options": [{"value": str(items[discussed_ref])}],
                }
            },
        },
        user="U1",
        private_metadata=meta,
    )
    # (The morning DM of the meeting day came first: the reply is the one after it.)
    told = eventually(
        lambda: [c for c in dms_to(bot, "U1") if "Dagens möte" not in c.args["text"]]
    )[-1]
    assert "torsdag 3 december" in told.args["text"]
    with bot.sessions() as s:
        held = s.get(Meeting, first)
        assert held is not None and held.status == MeetingStatus.HELD
        assert held.attendance == [1, 2]
        statuses = {c.reference: c.status for c in s.scalars(select(Case))}
    assert statuses[discussed_ref] == CaseStatus.DISCUSSED
    tick(bot, local(2026, 12, 3, 8, 0))
    next_agenda = text_of(channel_posts(bot)[-1])
    assert waiting_ref in next_agenda and "flyttad" in next_agenda
    assert discussed_ref not in next_agenda


def text_of_view(view: dict[str, Any]) -> str:
    return json.dumps(view, ensure_ascii=False)


def test_two_replicas_ticking_at_once_post_each_agenda_once(bot: Bot) -> None:
    setup_forum(bot)
    bot.clock.set(local(2026, 11, 26, 8, 0))
    barrier = threading.Barrier(3)

    def replica() -> None:
        barrier.wait()
        run_due_work(bot.runtime)

    threads = [threading.Thread(target=replica) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(channel_posts(bot)) == 1


def create_action(bot: Bot, *, due: dt.date, owner: str = "U2") -> int:
    from domain.actions import ActionDraft
    from domain.actions import create_action as create

    with transaction(bot.sessions) as s:
        forum = fs.require_forum(s, team_id="T0001", channel_id=CHANNEL)
        access = fs.require_member(s, forum=forum, slack_user_id="U1")
        owner_agency = fs.require_member(s, forum=forum, slack_user_id=owner).member.agency_id
        action, _ = create(
            s,
            bot.clock,
            access=access,
            draft=ActionDraft(
                description="Kartlägga frånvaron på skolan",
                agency_id=owner_agency,
                owner=owner,
                due_on=due,
            ),
        )
        return action.id


def test_actions_due_are_on_the_agenda_and_done_ones_come_back_for_follow_up(bot: Bot) -> None:
    setup_forum(bot)
    action_id = create_action(bot, due=dt.date(2026, 11, 25))
    tick(bot, local(2026, 11, 26, 8, 0))
    first = text_of(channel_posts(bot)[-1])
    assert f"Insats #{action_id}" in first
    assert "Kartlägga frånvaron på skolan" not in first  # what it is about stays off the channel
    assert "försenad sedan onsdag 25 november" in first and "<@U2>" in first
    # Done before the next meeting: listed for the follow-up of effect, with its button.
    bot.clock.set(local(2026, 11, 30, 10, 0))
    bot.driver.block_action("action_done", user="U2", value=str(action_id), channel="D1")
    bot.slack.wait_for("response_url")
    tick(bot, local(2026, 12, 3, 8, 0))
    agenda = channel_posts(bot)[-1]
    assert "klar – fick den önskad effekt?" in text_of(agenda)
    (row,) = [b for b in agenda.args["blocks"] if b.get("block_id") == f"agenda:action:{action_id}"]
    assert row["accessory"]["action_id"] == "action_follow_up_open"
    # The owner answers from the agenda: a modal opens, the agenda message stays as it is.
    bot.driver.block_action(
        "action_follow_up_open",
        user="U2",
        value=str(action_id),
        block_id=f"agenda:action:{action_id}",
        message={"ts": agenda.response["ts"], "blocks": agenda.args["blocks"]},
    )
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert "effekt" in text_of_view(view).lower()
    assert bot.slack.count("chat.update") == 0


def test_the_coordinator_reorders_and_removes_items_from_the_preview(bot: Bot) -> None:
    setup_forum(bot)
    for n, text in enumerate(("Första frågan", "Andra frågan", "Tredje frågan"), start=1):
        bot.driver.command(f"punkt {text}", user="U2")
        bot.slack.wait_for("response_url", count=n)  # in this order
    tick(bot, local(2026, 11, 25, 8, 0))
    preview = dms_to(bot, "U1")[0]
    meeting_id = next(
        e["value"]
        for b in preview.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "agenda_edit_open"
    )
    bot.driver.block_action("agenda_edit_open", user="U1", value=meeting_id, channel="D0001")
    view = bot.slack.wait_for("views.open")[0].args["view"]
    items = [b for b in view["blocks"] if str(b.get("block_id", "")).startswith("item:")]
    assert [b["text"]["text"] for b in items] == ["Första frågan", "Andra frågan", "Tredje frågan"]
    first_id = items[0]["block_id"].split(":")[1]

    def menu(choice: str, current: dict[str, Any]) -> dict[str, Any]:
        before = bot.slack.count("views.update")
        bot.driver.block_action(
            "agenda_item_menu",
            user="U1",
            view={**current, "id": "V0001"},
            selected_option={"value": choice},
        )
        updated: dict[str, Any] = bot.slack.wait_for("views.update", count=before + 1)[-1].args[
            "view"
        ]
        return updated

    view = menu(f"down:{first_id}", view)
    order = [
        b["text"]["text"] for b in view["blocks"] if str(b.get("block_id", "")).startswith("item:")
    ]
    assert order == ["Andra frågan", "Första frågan", "Tredje frågan"]
    view = menu(f"remove:{first_id}", view)
    order = [
        b["text"]["text"] for b in view["blocks"] if str(b.get("block_id", "")).startswith("item:")
    ]
    assert order == ["Andra frågan", "Tredje frågan"]
    tick(bot, local(2026, 11, 26, 8, 0))
    posted = text_of(channel_posts(bot)[0])
    assert posted.index("Andra frågan") < posted.index("Tredje frågan")
    assert "Första frågan" not in posted


def test_members_cannot_reorder_the_agenda(bot: Bot) -> None:
    setup_forum(bot)
    bot.driver.command("punkt En fråga", user="U2")
    bot.slack.wait_for("response_url")
    with bot.sessions() as s:
        item_id = s.scalars(select(AgendaItem.id)).one()
    meta = json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": meeting_ids(bot)[0]})
    bot.driver.block_action(
        "agenda_item_menu",
        user="U2",
        view={"id": "V0001", "private_metadata": meta},
        selected_option={"value": f"down:{item_id}"},
    )
    told = eventually(lambda: dms_to(bot, "U2"))[-1]
    assert "samordnare" in told.args["text"]


def test_a_posted_agenda_is_updated_when_its_meeting_moves_and_again_when_cancelled(
    bot: Bot,
) -> None:
    setup_forum(bot)
    tick(bot, local(2026, 11, 26, 8, 0))
    posted = channel_posts(bot)[0]
    first = meeting_ids(bot)[0]
    meta = json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": first})
    bot.driver.view_submission(
        "meeting_move",
        {
            "day": {"day": {"type": "datepicker", "selected_date": "2026-11-26"}},
            "start": {"start": {"type": "timepicker", "selected_time": "14:00"}},
        },
        user="U1",
        private_metadata=meta,
    )
    moved = bot.slack.wait_for("chat.update")[0]
    assert moved.args["ts"] == posted.response["ts"]
    assert "torsdag 26 november 14:00–16:00" in text_of(moved)
    bot.driver.view_submission(
        "meeting_cancel",
        {"reason": {"reason": {"type": "plain_text_input", "value": None}}},
        user="U1",
        private_metadata=meta,
    )
    bot.slack.wait_for("chat.postMessage", count=3)  # agenda, move notice, cancel notice
    # The second update waits for the first to be sent; a later pass sends it if the first
    # was still on its way when the cancel was saved (after the listeners' own attempts).
    bot.wait_idle()
    tick(bot, bot.clock.now() + dt.timedelta(seconds=5))
    cancelled = bot.slack.wait_for("chat.update", count=2)[1]
    assert cancelled.args["ts"] == posted.response["ts"]
    assert "Mötet är inställt" in text_of(cancelled)
    agenda_posts = [p for p in channel_posts(bot) if p.args["text"].startswith("Dagordning")]
    assert len(agenda_posts) == 1


def test_the_forum_summary_lists_planned_meetings_not_holidays(bot: Bot) -> None:
    setup_forum(bot)
    bot.clock.set(local(2026, 12, 20, 10, 0))
    bot.driver.command("forum", user="U2")
    summary = text_of(bot.slack.wait_for("response_url")[0])
    # Julafton and nyårsafton are days off by default: the next meeting is 7 January.
    assert "torsdag 7 januari" in summary
    assert "24 december" not in summary and "31 december" not in summary


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
