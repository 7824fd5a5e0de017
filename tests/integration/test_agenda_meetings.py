"""Meetings and their agenda through the real app and the real scheduler pass: moving and
cancelling a meeting (a posted agenda follows), recording it (undiscussed items roll
over), actions due on the agenda, reordering from the preview, and two replicas posting
each agenda once.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from sqlalchemy import select

from domain import forums as fs
from storage.db import transaction
from storage.models import (
    AgendaItem,
    Case,
    CaseStatus,
    Meeting,
    MeetingStatus,
)
from tests.conftest import Bot
from tests.support.agenda_flow import (
    CHANNEL,
    channel_posts,
    dms_to,
    local,
    raise_a_case,
    setup_forum,
    text_of,
    tick,
)
from tests.support.slack_driver import input_blocks, plain_value
from tests.support.wait import eventually


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
    moved = {"day": {"day": {"type": "datepicker", "selected_date": "2026-11-27"}}}
    response = bot.driver.view_submission(
        "meeting_move", moved, user="U2", private_metadata=meta, blocks=input_blocks(moved)
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


def test_a_meeting_with_every_item_discussed_is_not_said_to_carry_items_over(bot: Bot) -> None:
    # The note said "Punkter som inte behandlades står på dagordningen för …" even when
    # every item was ticked: the coordinator went looking for items that were not there.
    setup_forum(bot)
    reference = raise_a_case(bot)
    tick(bot, local(2026, 11, 26, 8, 0))
    first = meeting_ids(bot)[0]
    with bot.sessions() as s:
        item_ids = [
            i.id for i in s.scalars(select(AgendaItem).where(AgendaItem.meeting_id == first))
        ]
    bot.clock.set(local(2026, 11, 26, 15, 30))
    bot.driver.block_action("meeting_record_open", user="U1", value=str(first))
    modal = bot.slack.wait_for("views.open")[0].args["view"]
    assert reference in text_of_view(modal)
    bot.driver.view_submission(
        "meeting_record",
        {
            "discussed:0": {
                "discussed": {
                    "type": "checkboxes",
                    "selected_options": [{"value": str(i)} for i in item_ids],
                }
            },
        },
        user="U1",
        private_metadata=modal["private_metadata"],
    )
    told = eventually(
        lambda: [c for c in dms_to(bot, "U1") if "Dagens möte" not in c.args["text"]]
    )[-1]
    assert "Alla punkter på dagordningen behandlades" in told.args["text"]
    assert "inte behandlades" not in told.args["text"]


def text_of_view(view: dict[str, Any]) -> str:
    return json.dumps(view, ensure_ascii=False)


def test_two_replicas_ticking_at_once_post_each_agenda_once(bot: Bot) -> None:
    setup_forum(bot)
    bot.clock.set(local(2026, 11, 26, 8, 0))
    barrier = threading.Barrier(3)

    def replica() -> None:
        barrier.wait()
        bot.run_due_work()

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
    # The agenda posted on the 26th, which listed it overdue, now shows it done.
    shown = bot.slack.wait_for("chat.update")[-1]
    assert "försenad" not in text_of(shown.args)
    tick(bot, local(2026, 12, 3, 8, 0))
    agenda = channel_posts(bot)[-1]
    assert "klar – fick den önskad effekt?" in text_of(agenda)
    (row,) = [b for b in agenda.args["blocks"] if b.get("block_id") == f"agenda:action:{action_id}"]
    assert row["accessory"]["action_id"] == "action_follow_up_open"
    # The owner answers from the agenda: a modal opens, the agenda message stays as it is.
    updates = bot.slack.count("chat.update")
    bot.driver.block_action(
        "action_follow_up_open",
        user="U2",
        value=str(action_id),
        block_id=f"agenda:action:{action_id}",
        message={"ts": agenda.response["ts"], "blocks": agenda.args["blocks"]},
    )
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert "effekt" in text_of_view(view).lower()
    assert bot.slack.count("chat.update") == updates


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


BROKEN_METADATA = {
    "none": "",
    "not JSON": "{not json",
    "no meeting": json.dumps({"locale": "sv", "forum_id": 1}),
    "no forum": json.dumps({"locale": "sv", "meeting_id": 1}),
}


@pytest.mark.parametrize("typed", ["Ny fråga", ""], ids=["typed", "blank"])
@pytest.mark.parametrize("metadata", list(BROKEN_METADATA))
def test_the_agenda_editor_without_its_metadata_says_so_and_changes_nothing(
    bot: Bot, metadata: str, typed: str
) -> None:
    """The agenda editor's modal saved without the metadata it was opened with (none, not
    JSON, no meeting or no forum: a crafted or damaged view): the modal stays open with a
    note that says what to do, on the field (what was typed stays), and nothing is added.
    Before, a blank one closed without a word, one with text was told the channel has no
    forum, and one without its meeting added the item to the next meeting (not
    necessarily the agenda the modal showed)."""
    setup_forum(bot)
    values = {"text": {"text": plain_value(typed) if typed else {"type": "plain_text_input"}}}
    response = bot.driver.view_submission(
        "agenda_edit",
        values,
        user="U1",
        private_metadata=BROKEN_METADATA[metadata],
        blocks=input_blocks(values),
    )
    answer = response.json()
    assert answer["response_action"] == "errors", answer
    assert "öppna dagordningen igen" in answer["errors"]["text"]
    bot.wait_idle()
    with bot.sessions() as s:
        assert s.scalars(select(AgendaItem)).all() == []


def test_a_cancelled_action_leaves_the_posted_agenda_and_the_next(bot: Bot) -> None:
    """An action cancelled after the agenda listing it overdue was posted: the posted agenda
    drops it (as done or reopened ones are updated), and the next agenda leaves it out."""
    setup_forum(bot)
    action_id = create_action(bot, due=dt.date(2026, 11, 25))
    tick(bot, local(2026, 11, 26, 8, 0))
    assert f"Insats #{action_id}" in text_of(channel_posts(bot)[-1])
    bot.clock.set(local(2026, 11, 30, 10, 0))
    bot.driver.block_action("action_cancel_open", user="U2", value=str(action_id), channel="D1")
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert view["callback_id"] == "action_cancel"
    values = {"reason": {"value": {"type": "plain_text_input", "value": "Inte längre aktuell"}}}
    reply = bot.driver.view_submission(
        "action_cancel",
        values,
        user="U2",
        private_metadata=view["private_metadata"],
        blocks=input_blocks(values),
    )
    assert reply.json() is None
    shown = bot.slack.wait_for("chat.update")[-1]
    assert f"Insats #{action_id}" not in text_of(shown.args)
    tick(bot, local(2026, 12, 3, 8, 0))
    assert f"Insats #{action_id}" not in text_of(channel_posts(bot)[-1])


def test_a_move_onto_a_holiday_or_a_weekend_is_done_and_says_so(bot: Bot) -> None:
    setup_forum(bot)
    first = meeting_ids(bot)[0]
    meta = json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": first})

    def move(day: str) -> dict[str, Any]:
        values = {
            "day": {"day": {"type": "datepicker", "selected_date": day}},
            "start": {"start": {"type": "timepicker", "selected_time": "10:00"}},
        }
        response = bot.driver.view_submission(
            "meeting_move", values, user="U1", private_metadata=meta, blocks=input_blocks(values)
        )
        assert response.status == 200
        return response.json() or {}

    told = move("2026-12-25")  # Christmas Day, a Friday
    assert told["response_action"] == "update"
    text = json.dumps(told["view"], ensure_ascii=False)
    assert "fredag 25 december" in text and "Juldagen" in text and "ledig dag" in text
    told = move("2026-11-28")  # a Saturday
    text = json.dumps(told["view"], ensure_ascii=False)
    assert "lördag 28 november" in text and "helg" in text
    assert move("2026-11-27") == {}  # a working day: the modal just closes
    with bot.sessions() as s:
        moved = s.get(Meeting, first)
        assert moved is not None and moved.starts_at == local(2026, 11, 27, 10, 0)
    bot.slack.assert_no_violations()


def test_the_coordinators_preview_is_updated_when_the_meeting_is_cancelled(bot: Bot) -> None:
    setup_forum(bot)
    raise_a_case(bot)
    tick(bot, local(2026, 11, 25, 8, 0))
    (preview,) = dms_to(bot, "U1")
    first = meeting_ids(bot)[0]
    meta = json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": first})
    bot.driver.view_submission(
        "meeting_cancel",
        {"reason": {"reason": {"type": "plain_text_input", "value": None}}},
        user="U1",
        private_metadata=meta,
    )
    bot.wait_idle()
    tick(bot, bot.clock.now() + dt.timedelta(seconds=5))
    updates = [
        c
        for c in bot.slack.calls_to("chat.update", ok=True)
        if c.args.get("ts") == preview.response["ts"]
    ]
    assert len(updates) == 1
    text = text_of(updates[0])
    assert "är inställt" in text and "agenda_edit_open" not in text  # no buttons to change it
    bot.slack.assert_no_violations()
