"""Case slots, the morning DMs, "Inför mötet" and the minutes, through the real app.

A FOSSAM forum meets every Thursday 13–15: U1 coordinates (Grundskola), U2 is Elevhälsa,
U3 is Polis. U2 raises the cases for Grundskola, covered by the guardians' consent; Polis
is needed for none of them. The clock is moved to the minute that matters and the
scheduler's own pass runs, as in test_agenda_flow.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from domain import forums as fs
from storage.db import transaction
from storage.models import (
    Action,
    AgendaItem,
    Case,
    CaseEvent,
    CaseStatus,
    Forum,
    Meeting,
    MinuteEntry,
)
from tests.conftest import Bot
from tests.support.agenda_flow import (
    channel_posts,
    dms_to,
    local,
    text_of,
    tick,
)
from tests.support.forums import forum_draft
from tests.support.minutes_world import first_meeting as first_meeting
from tests.support.minutes_world import raise_a_case as raise_a_case
from tests.support.minutes_world import setup_forum as setup_forum
from tests.support.slack_driver import (
    date_value,
    input_blocks,
    number_value,
    plain_value,
    select_value,
    state_values,
    users_value,
)
from tests.support.wait import eventually

LINK = "https://meet.example.se/fossam-torsdag"
DECISION = "Skolan bjuder in till ett gemensamt samtal om närvaron"


def another_forums_meeting(bot: Bot) -> tuple[int, int]:
    """A forum U1 is not in (same workspace, its own channel) and its first meeting."""
    with transaction(bot.sessions) as s:
        other = fs.create_forum(
            s,
            bot.clock,
            team_id="T0001",
            channel_id="C0OTHER",
            actor="U9",
            draft=forum_draft(
                name="Annat forum", code="ANN", agencies=["Socialtjänst"], own_agency="Socialtjänst"
            ),
        )
        other_id = other.id
    bot.run_due_work()
    with bot.sessions() as s:
        theirs = s.scalars(
            select(Meeting.id).where(Meeting.forum_id == other_id).order_by(Meeting.starts_at)
        ).first()
    assert theirs is not None
    return other_id, int(theirs)


def open_slots(bot: Bot, meeting_id: int) -> dict[str, Any]:
    before = len(bot.slack.calls_to("views.open"))
    bot.driver.block_action("slots_open", user="U1", value=str(meeting_id), channel="U1")
    view: dict[str, Any] = bot.slack.wait_for("views.open", before + 1)[-1].args["view"]
    return view


def item_of(view: dict[str, Any], reference: str) -> int:
    """The agenda item id of ``reference`` in the slots modal (the input after its section)."""
    blocks = view["blocks"]
    for n, block in enumerate(blocks):
        if block["type"] == "section" and f"*{reference}*" in block["text"]["text"]:
            return int(blocks[n + 1]["block_id"].split(":")[1])
    raise AssertionError(f"{reference} is not in the slots modal")


def submit_slots(
    bot: Bot,
    view: dict[str, Any],
    slots: dict[int, tuple[int, int]],
    *,
    link: str = LINK,
    default: int = 15,
) -> Any:
    entries: dict[tuple[str, str], dict[str, Any]] = {
        ("meeting_link", "value"): {"type": "url_text_input", "value": link},
        ("slot_default", "value"): number_value(default),
    }
    for item, (place, minutes) in slots.items():
        entries[(f"place:{item}", "value")] = select_value(str(place))
        entries[(f"minutes:{item}", "value")] = number_value(minutes)
    return bot.driver.view_submission(
        "slots_save",
        state_values(entries),
        user="U1",
        private_metadata=view["private_metadata"],
        blocks=view["blocks"],
    )


def agenda_post(bot: Bot) -> str:
    posts = [c for c in channel_posts(bot) if "Dagordning" in text_of(c)]
    assert len(posts) == 1
    return text_of(posts[0])


def test_slots_follow_the_order_and_reach_the_agenda_and_the_morning_dms(bot: Bot) -> None:
    setup_forum(bot)
    first, second = raise_a_case(bot), raise_a_case(bot, concern="mental_health", age="13-15")
    tick(bot, local(2026, 11, 25, 8, 0))  # the coordinator's preview, with *Time slots*
    preview = dms_to(bot, "U1")[0]
    assert "slots_open" in text_of(preview)
    view = open_slots(bot, first_meeting(bot))
    assert view["title"]["text"] == "Tidsluckor"
    response = submit_slots(
        bot, view, {item_of(view, second): (1, 15), item_of(view, first): (2, 20)}
    )
    assert response.status == 200 and not response.json()  # a plain ack: saved
    tick(bot, local(2026, 11, 26, 8, 0))
    posted = agenda_post(bot)
    assert f"13:00–13:15 · *{second}*" in posted
    assert f"13:15–13:35 · *{first}*" in posted
    assert LINK in posted
    dm = text_of(dms_to(bot, "U2")[0])
    assert f"{first} kl. 13:15–13:35 — er verksamhet behövs" in dm
    assert f"{second} kl. 13:00–13:15 — er verksamhet behövs" in dm
    assert LINK in dm
    police = text_of(dms_to(bot, "U3")[0])
    assert "Er verksamhet behövs inte för något ärende i dag" in police
    assert "Skolfrånvaro" not in police  # Polis is not needed: references and slots only
    for minute in (1, 5, 60):
        tick(bot, local(2026, 11, 26, 8, 0) + dt.timedelta(minutes=minute))
    assert len(dms_to(bot, "U2")) == 1 and len(dms_to(bot, "U3")) == 1

    # Moving a case: the posted agenda and the DMs change in place, nothing is sent twice.
    channel_count = len(channel_posts(bot))
    view = open_slots(bot, first_meeting(bot))
    submit_slots(bot, view, {item_of(view, first): (1, 20), item_of(view, second): (2, 15)})

    def updated() -> bool:
        updates = [text_of(c) for c in bot.slack.calls_to("chat.update", ok=True)]
        return any(f"13:00–13:20 · *{first}*" in u for u in updates) and any(
            f"{first} kl. 13:00–13:20 — er verksamhet behövs" in u for u in updates
        )

    eventually(updated)
    tick(bot, local(2026, 11, 26, 9, 0))
    assert len(channel_posts(bot)) == channel_count
    assert len(dms_to(bot, "U2")) == 1
    bot.slack.assert_no_violations()


def test_the_morning_dm_says_each_line_once(bot: Bot) -> None:
    """The member reads each needed case once, under "Inför mötet" with its details; one
    whose agency is needed for none reads that once. The summary stays the notification."""
    setup_forum(bot)
    reference = raise_a_case(bot)
    tick(bot, local(2026, 11, 26, 8, 0))
    (needed,) = dms_to(bot, "U2")
    shown = json.dumps(needed.args["blocks"], ensure_ascii=False)
    assert shown.count(reference) == 1
    assert shown.count("er verksamhet behövs") == 1
    assert f"{reference} kl. 13:00–13:15 — er verksamhet behövs" in needed.args["text"]
    (police,) = dms_to(bot, "U3")
    shown = json.dumps(police.args["blocks"], ensure_ascii=False)
    assert shown.count("Er verksamhet behövs inte för något ärende i dag") == 1
    assert shown.index("Inför mötet") < shown.index("behövs inte")
    assert shown.count(reference) == 1


def test_moving_the_meeting_moves_the_slots_in_the_agenda_and_the_dms(bot: Bot) -> None:
    setup_forum(bot)
    reference = raise_a_case(bot)
    tick(bot, local(2026, 11, 26, 8, 0))
    assert f"{reference} kl. 13:00–13:15" in text_of(dms_to(bot, "U2")[0])
    bot.clock.set(local(2026, 11, 26, 9, 0))
    meta = json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": first_meeting(bot)})
    bot.driver.view_submission(
        "meeting_move",
        {
            "day": {"day": {"type": "datepicker", "selected_date": "2026-11-26"}},
            "start": {"start": {"type": "timepicker", "selected_time": "14:00"}},
        },
        user="U1",
        private_metadata=meta,
    )

    def moved() -> bool:
        updates = [text_of(c) for c in bot.slack.calls_to("chat.update", ok=True)]
        return any(f"14:00–14:15 · *{reference}*" in u for u in updates) and any(
            f"{reference} kl. 14:00–14:15 — er verksamhet behövs" in u for u in updates
        )

    eventually(moved)
    tick(bot, local(2026, 11, 26, 9, 1))
    assert len(dms_to(bot, "U2")) == 1  # updated in place, not sent again
    assert len([c for c in channel_posts(bot) if "Dagordning" in text_of(c)]) == 1


def test_slots_that_overlap_or_overflow_and_a_link_that_is_not_https_are_refused(
    bot: Bot,
) -> None:
    setup_forum(bot)
    first, second = raise_a_case(bot), raise_a_case(bot)
    tick(bot, local(2026, 11, 25, 8, 0))
    view = open_slots(bot, first_meeting(bot))
    a, b = item_of(view, first), item_of(view, second)

    def errors(**kwargs: Any) -> dict[str, str]:
        response = submit_slots(bot, view, **kwargs)
        body = response.json()
        assert body["response_action"] == "errors"
        return dict(body["errors"])

    found = errors(slots={a: (1, 15), b: (2, 15)}, link="http://meet.example.se/x")
    assert "https://" in found["meeting_link"]
    found = errors(slots={a: (1, 15), b: (1, 15)})
    assert "överlappa" in found[f"place:{b}"]
    found = errors(slots={a: (1, 100), b: (2, 30)})
    assert "15:10" in found[f"minutes:{b}"] and "15:00" in found[f"minutes:{b}"]
    with bot.sessions() as s:
        forum = s.scalars(select(Forum)).one()
        assert "meeting_link" not in (forum.settings or {})
        assert "slot_minutes" not in (forum.settings or {})
        items = s.scalars(select(AgendaItem)).all()
        assert all(i.slot_minutes is None and i.slot_position is None for i in items)


def minutes_modal(bot: Bot, meeting_id: int) -> dict[str, Any]:
    before = len(bot.slack.calls_to("views.open"))
    bot.driver.block_action("minutes_open", user="U1", value=str(meeting_id), channel="U1")
    view: dict[str, Any] = bot.slack.wait_for("views.open", before + 1)[-1].args["view"]
    return view


def case_id(bot: Bot, reference: str) -> int:
    with bot.sessions() as s:
        return int(s.scalar(select(Case.id).where(Case.reference == reference)) or 0)


def submit_minutes(
    bot: Bot, meeting_id: int, case: int, view: dict[str, Any] | None = None, **fields: Any
) -> Any:
    return bot.driver.send_payload(minutes_submission(bot, meeting_id, case, view, **fields))


def minutes_submission(
    bot: Bot, meeting_id: int, case: int, view: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    """The minutes of one case as Slack submits them (see submit_minutes): the payload, to
    send once or more."""
    values = {
        (f"decision:{case}", "value"): plain_value(fields.get("decision", DECISION)),
        (f"action:{case}", "value"): plain_value(fields.get("action")),
        (f"owner:{case}", "value"): users_value(fields.get("owner")),
        (f"due:{case}", "value"): date_value(fields.get("due")),
        (f"follow_up:{case}", "value"): date_value(fields.get("follow_up")),
    }
    meta = json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": meeting_id})
    state = state_values(values)
    return bot.driver.view_submission_payload(
        "minutes_save",
        state,
        user="U1",
        private_metadata=meta,
        blocks=(view or {}).get("blocks") or input_blocks(state),
    )


def home_text(bot: Bot, user: str) -> str:
    before = len(bot.slack.calls_to("views.publish"))
    bot.driver.app_home_opened(user=user)
    return text_of(bot.slack.wait_for("views.publish", before + 1)[-1])


def test_minutes_carry_decisions_actions_and_follow_ups(bot: Bot) -> None:
    setup_forum(bot)
    reference = raise_a_case(bot)
    meeting = first_meeting(bot)
    case = case_id(bot, reference)
    tick(bot, local(2026, 11, 26, 8, 0))

    # Before the meeting has started: a field error, nothing stored.
    response = submit_minutes(bot, meeting, case)
    assert response.json()["response_action"] == "errors"
    assert "inte börjat" in json.dumps(response.json(), ensure_ascii=False)
    with bot.sessions() as s:
        assert s.scalars(select(MinuteEntry)).all() == []

    # At the end time the coordinator gets one prompt, once.
    tick(bot, local(2026, 11, 26, 14, 59))
    assert not any("minutes_open" in text_of(c) for c in dms_to(bot, "U1"))
    for minute in (0, 1, 30):
        tick(bot, local(2026, 11, 26, 15, minute))
    prompts = [c for c in dms_to(bot, "U1") if "minutes_open" in text_of(c)]
    assert len(prompts) == 1
    assert "Skriv protokollet" in text_of(prompts[0])
    assert not any("minutes_open" in text_of(c) for c in dms_to(bot, "U2"))

    view = minutes_modal(bot, meeting)
    assert f"decision:{case}" in {b.get("block_id") for b in view["blocks"]}
    # An identifying detail in the decision: a field error, nothing stored.
    refused = submit_minutes(bot, meeting, case, view, decision="Ring 070-123 45 67")
    assert "telefonnummer" in refused.json()["errors"][f"decision:{case}"].lower()
    # A typo in the year of the action's due date (2062 for 2026): on the due field.
    far = submit_minutes(
        bot, meeting, case, view, action="Boka samtal", owner="U2", due="2062-12-10"
    )
    assert "mer än två år fram" in far.json()["errors"][f"due:{case}"]
    with bot.sessions() as s:
        assert s.scalars(select(Action)).all() == []
    saved = submit_minutes(
        bot,
        meeting,
        case,
        view,
        action="Boka samtal med vårdnadshavarna",
        owner="U2",
        due="2026-12-10",
        follow_up="2026-12-03",
    )
    assert saved.status == 200 and not saved.json()
    notice = eventually(lambda: [c for c in channel_posts(bot) if "Protokoll" in text_of(c)])
    assert reference in text_of(notice[0]) and DECISION not in text_of(notice[0])
    with bot.sessions() as s:
        action = s.scalars(select(Action)).one()
        assert (action.owner, action.due_on, action.case_id) == ("U2", dt.date(2026, 12, 10), case)
        follow = s.get(Case, case)
        assert follow is not None and follow.status == CaseStatus.FOLLOW_UP
    # Reopened, the minutes show what was recorded (U1's agency is covered by the consent).
    again = minutes_modal(bot, meeting)
    assert DECISION in json.dumps(again["blocks"], ensure_ascii=False)
    # Saved again: no second notice in the channel.
    submit_minutes(bot, meeting, case, view)
    # The case's history says who planned the follow-up, once however often it is saved.
    with bot.sessions() as s:
        moves = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case, CaseEvent.kind == "status")
        ).all()
        assert [(e.actor, e.from_status, e.to_status) for e in moves] == [
            ("U1", "scheduled", "follow_up")
        ]
    tick(bot, local(2026, 11, 26, 16, 0))
    assert len([c for c in channel_posts(bot) if "Protokoll" in text_of(c)]) == 1

    # Inför mötet: Grundskola (needed, covered by the consent) sees what was agreed;
    # Polis sees the reference and the slot only.
    coordinator = home_text(bot, "U1")
    assert "Inför mötet" in coordinator and DECISION in coordinator
    assert "Skolfrånvaro" in coordinator and "6–12 år" in coordinator
    police = home_text(bot, "U3")
    assert reference in police and DECISION not in police and "Skolfrånvaro" not in police

    # The case comes back on the agenda of the meeting on the follow-up day.
    tick(bot, local(2026, 12, 3, 8, 0))
    posted = [c for c in channel_posts(bot) if "3 december" in text_of(c)]
    assert len(posted) == 1
    assert "Ärenden för uppföljning" in text_of(posted[0]) and reference in text_of(posted[0])
    bot.slack.assert_no_violations()
