"""The same page of the minutes submitted twice, through the real app: one action.

Slack may deliver a modal's submission again (a retry, a double click), or the very same
signed request may arrive twice; sequentially or at the same time (two replicas, two
threads). The coordinator expects the action they typed once, and one note. The world is
test_minutes_flow's (FOSSAM, Thursdays 13–15, U1 coordinates, U2 is Elevhälsa).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from domain import minutes as minutes_service
from sandbox.webapi import Call
from storage.models import Action, Case, MinuteEntry, OutboxMessage
from tests.conftest import Bot
from tests.integration import test_minutes_flow as minutes
from tests.support.agenda_flow import channel_posts, dms_to, local, text_of, tick
from tests.support.concurrency import lock_waits
from tests.support.slack_driver import Response
from tests.support.wait import eventually

ACTION = "Boka samtal med vårdnadshavarna"


def minuted_meeting(bot: Bot) -> tuple[int, int]:
    """A meeting with one case that has ended (the minutes may be written): its id and the
    case's."""
    minutes.setup_forum(bot)
    case = minutes.case_id(bot, minutes.raise_a_case(bot))
    meeting = minutes.first_meeting(bot)
    for hour in (8, 15):  # the agenda goes out; the meeting has ended
        tick(bot, local(2026, 11, 26, hour, 0))
    return meeting, case


def with_action(bot: Bot, meeting: int, case: int) -> dict[str, Any]:
    view = minutes.minutes_modal(bot, meeting)
    return minutes.minutes_submission(
        bot, meeting, case, view, action=ACTION, owner="U2", due="2026-12-10"
    )


def count(bot: Bot, model: Any) -> int:
    with bot.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def saved_notes(bot: Bot) -> list[str]:
    return [text_of(c) for c in dms_to(bot, "U1") if "Protokollet sparat" in text_of(c)]


def action_dms(bot: Bot, user: str) -> list[Call]:
    """The DMs telling ``user`` of an action created (the action modal's, with its card)."""
    return [c for c in dms_to(bot, user) if "action_done" in text_of(c)]


def test_the_same_submission_twice_creates_one_action(bot: Bot) -> None:
    meeting, case = minuted_meeting(bot)
    payload = with_action(bot, meeting, case)
    first = bot.driver.send_payload(payload)
    again = bot.driver.send_payload(payload)  # the very same body, signed again
    assert (first.status, first.json()) == (200, None)
    assert (again.status, again.json()) == (200, None)
    assert count(bot, Action) == 1
    assert count(bot, MinuteEntry) == 1
    bot.wait_idle()
    notes = eventually(lambda: saved_notes(bot))
    assert len(notes) == 1 and "1 ny insats" in notes[0]
    # A new submission of the form (another hash: the coordinator saved it again on
    # purpose, a new action typed) is a new action.
    another = minutes.submit_minutes(
        bot, meeting, case, action="Ring skolsköterskan", owner="U2", due="2026-12-10"
    )
    assert another.json() is None
    assert count(bot, Action) == 2
    bot.slack.assert_no_violations()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_same_submission_twice_at_once_creates_one_action(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second copy arrives while the first one's transaction is still open (held right
    after it saved the page): it waits for the first, then finds its entry and action and
    answers as the first did, instead of a second action or a database error."""
    meeting, case = minuted_meeting(bot)
    payload = with_action(bot, meeting, case)
    saved, release = threading.Event(), threading.Event()
    record: Callable[..., Any] = minutes_service.record_minutes

    def held(*args: Any, **kwargs: Any) -> Any:
        recorded = record(*args, **kwargs)
        if not saved.is_set():  # the first copy: hold its transaction open
            saved.set()
            release.wait(10)
        return recorded

    monkeypatch.setattr(minutes_service, "record_minutes", held)
    answers: dict[str, Response] = {}

    def send(name: str) -> None:
        answers[name] = bot.driver.send_payload(payload)

    one = threading.Thread(target=send, args=("one",))
    one.start()
    assert saved.wait(10)
    with lock_waits(bot.runtime.engine) as waits:
        two = threading.Thread(target=send, args=("two",))
        two.start()
        waits.wait_for(two)  # the second copy waits for the first's transaction
    release.set()
    one.join(20)
    two.join(20)
    assert {name: (a.status, a.json()) for name, a in answers.items()} == {
        "one": (200, None),
        "two": (200, None),
    }
    assert count(bot, Action) == 1
    assert count(bot, MinuteEntry) == 1
    bot.wait_idle()
    assert len(eventually(lambda: saved_notes(bot))) == 1
    assert len(eventually(lambda: action_dms(bot, "U2"))) == 1  # the owner told once


def test_the_same_page_submitted_again_with_its_action_retyped_keeps_what_was_typed(
    bot: Bot,
) -> None:
    """Slack answered the first submission too late (the modal stays as it was, its hash
    too) and the coordinator corrects the action before saving again: what they typed then
    is an action too, not dropped for the first one's (with a note saying one was
    created)."""
    meeting, case = minuted_meeting(bot)
    payload = with_action(bot, meeting, case)
    assert bot.driver.send_payload(payload).json() is None
    retyped = copy.deepcopy(payload)
    retyped["view"]["state"]["values"][f"action:{case}"]["value"]["value"] = "Ring mentorn"
    assert bot.driver.send_payload(retyped).json() is None
    with bot.sessions() as s:
        described = set(s.scalars(select(Action.description)))
    assert described == {ACTION, "Ring mentorn"}
    # Each save as typed got its note: the retyped one is not taken for a replay.
    eventually(lambda: len(saved_notes(bot)) == 2)
    notes = saved_notes(bot)
    assert len(notes) == 2 and all("1 ny insats" in note for note in notes), notes
    assert bot.driver.send_payload(retyped).json() is None  # that one again: no third
    assert count(bot, Action) == 2
    bot.wait_idle()
    assert len(saved_notes(bot)) == 2
    with bot.sessions() as s:  # and none is queued to come later
        queued = s.scalars(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.contains("saved:"))
        ).all()
    assert len(queued) == 2, queued


def test_an_action_minuted_for_another_owner_is_dmed_to_them_once(bot: Bot) -> None:
    """The action's owner (U2, who reads Slack in English) gets the DM the action modal
    sends: its card with the buttons, in their language, from the outbox. The page
    replayed (a Slack retry, the same body twice) sends no second one. The coordinator's
    note counts the action and says the owner got it; the channel hears references only."""
    bot.slack.set_user("U2", locale="en-US")  # from the start: the morning DM looks it up
    meeting, case = minuted_meeting(bot)
    payload = with_action(bot, meeting, case)
    assert bot.driver.send_payload(payload).json() is None
    dm = eventually(lambda: action_dms(bot, "U2"))[0]
    with bot.sessions() as s:
        action = s.scalars(select(Action)).one()
    buttons = [
        e["action_id"] for b in dm.args["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == ["action_done", "action_more_time", "action_hand_over", "action_cancel_open"]
    assert dm.args["text"] == f"New action #{action.id}: due Thursday 10 December 2026"
    assert "<@U1> gave you an action in FOSSAM." in text_of(dm)
    assert ACTION in text_of(dm)
    # Again, as Slack may deliver it: no second action, no second DM (none queued either).
    assert bot.driver.send_payload(payload).json() is None
    bot.wait_idle()
    assert count(bot, Action) == 1
    assert len(action_dms(bot, "U2")) == 1
    with bot.sessions() as s:
        keys = s.scalars(
            select(OutboxMessage.dedupe_key).where(
                OutboxMessage.dedupe_key.startswith("action_created:")
            )
        ).all()
    assert keys == [f"action_created:{action.id}"]
    # The coordinator: no DM of their own per action; the page's note says it.
    notes = saved_notes(bot)
    assert len(notes) == 1
    assert (
        "1 ny insats finns i insatslistan; ägaren har fått den som direktmeddelande" in (notes[0])
    )
    assert action_dms(bot, "U1") == []
    posted = [text_of(c) for c in channel_posts(bot)]
    assert posted and not any(ACTION in p for p in posted)
    bot.slack.assert_no_violations()


def test_an_action_is_not_minuted_for_an_owner_whose_agency_may_not_see_the_case(
    bot: Bot,
) -> None:
    """U3 (Polis) is a member, but the case's consent covers Grundskola only (Elevhälsa
    raised it) and Polis has no legal ground: its details, the text of its actions among
    them, are not U3's to see, so U3 could not do an action of it. The coordinator (who
    sees the case) minutes an action for U3: refused on the owner field, naming the
    agencies that may see the case (as the action modal refuses it); nothing is stored and
    U3 is told nothing. Given to U2 (Elevhälsa), it is saved."""
    meeting, case = minuted_meeting(bot)
    view = minutes.minutes_modal(bot, meeting)
    payload = minutes.minutes_submission(
        bot, meeting, case, view, action=ACTION, owner="U3", due="2026-12-10"
    )
    body = bot.driver.send_payload(payload).json()
    assert body["response_action"] == "errors" and list(body["errors"]) == [f"owner:{case}"]
    error = body["errors"][f"owner:{case}"]
    assert error.startswith("Ärendets samtycke omfattar inte Polis")
    with bot.sessions() as s:
        reference = s.scalar(select(Case.reference).where(Case.id == case))
    assert f"får se ärende {reference}: Grundskola, Elevhälsa." in error
    bot.wait_idle()
    assert count(bot, Action) == 0 and count(bot, MinuteEntry) == 0
    assert action_dms(bot, "U3") == []
    assert (
        minutes.submit_minutes(
            bot, meeting, case, view, action=ACTION, owner="U2", due="2026-12-10"
        ).json()
        is None
    )
    with bot.sessions() as s:
        assert s.scalars(select(Action.owner)).one() == "U2"
    bot.slack.assert_no_violations()


def test_an_action_the_coordinator_minutes_for_themselves_is_not_dmed_to_them(
    bot: Bot,
) -> None:
    """The coordinator (Grundskola, which the consent covers) minutes an action for
    themselves: created, and nobody is told "<@you> gave you an action" (the action modal's
    rule, and the hand-over's); the page's note counts it."""
    meeting, case = minuted_meeting(bot)
    view = minutes.minutes_modal(bot, meeting)
    assert (
        minutes.submit_minutes(
            bot, meeting, case, view, action=ACTION, owner="U1", due="2026-12-10"
        ).json()
        is None
    )
    notes = eventually(lambda: saved_notes(bot))
    assert "1 ny insats" in notes[-1]
    bot.wait_idle()
    with bot.sessions() as s:
        assert s.scalars(select(Action.owner)).one() == "U1"
    assert action_dms(bot, "U1") == []
    assert not any("gav dig en insats" in text_of(c) for c in dms_to(bot, "U1"))
    bot.slack.assert_no_violations()
