"""Actions over their whole life, as a user meets them: an owner moved to another agency,
an owner away with a stand-in."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from domain import forums as fs
from storage.db import transaction
from storage.models import Action, ActionEvent, Role
from tests.conftest import Bot
from tests.integration.test_action_flow import (
    ADMIN,
    ELEVHALSA,
    ELEVHALSA2,
    SOCIAL,
    make_forum,
    postpone,
    submit_action,
)
from tests.integration.test_action_reminders import at, create, reminders_to, run_at
from tests.support.slack_driver import select_value, users_value


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    return make_forum(bot)


def dms(bot: Bot, user: str) -> list[str]:
    return [
        json.dumps(c.args, ensure_ascii=False)
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == user
    ]


def move(bot: Bot, forum: dict[str, int], user: str, agency: str) -> None:
    """The coordinator adds ``user`` to ``agency``, confirming the move from their old one."""
    with transaction(bot.sessions) as s:
        forum_row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        fs.add_members(
            s,
            bot.clock,
            forum=forum_row,
            actor=ADMIN,
            slack_user_ids=[user],
            agency_id=forum[agency],
            role=Role.MEMBER,
            confirm_moves=True,
        )


def test_coordinators_are_told_an_owner_moved_to_another_agency_not_that_they_left(
    bot: Bot, forum: dict[str, int]
) -> None:
    """A member moved to another agency keeps no action of their old one (its owner must be
    of the owning agency): it stays with the old agency, and the coordinators are told who
    moved where, so they hand it over or move it along, not that the owner left."""
    moved = create(bot, forum, dt.date(2026, 11, 25))
    stays = create(bot, forum, dt.date(2026, 11, 26), owner=ELEVHALSA2, n=1)
    bot.slack.reset()
    move(bot, forum, ELEVHALSA, "Socialtjänst/IFO")
    bot.driver.event(
        {"type": "member_left_channel", "user": ELEVHALSA2, "channel": "C0001", "team": "T0001"}
    )
    bot.run_due_work()
    bot.settle()
    with bot.sessions() as session:
        action = session.get(Action, moved)
        assert action is not None and action.owner is None
        assert action.owning_agency_id == forum["Elevhälsa"]
        kinds = {
            e.action_id: (e.kind, e.detail)
            for e in session.scalars(select(ActionEvent).order_by(ActionEvent.id))
        }
    assert kinds[moved] == ("owner_moved", {"from": ELEVHALSA, "to_agency": "Socialtjänst/IFO"})
    assert kinds[stays] == ("owner_left", {"from": ELEVHALSA2})
    (told,) = dms(bot, ADMIN)
    assert "lämnat forumet." not in told.split("<@U4>")[0]  # the title names no reason
    assert f"<@{ELEVHALSA}> företräder nu Socialtjänst/IFO i forumet" in told
    assert f"<@{ELEVHALSA2}> har lämnat forumet." in told
    assert "onsdag 25 november" in told
    # The owner moved is told which of their actions stayed behind (not those who left).
    (behind,) = dms(bot, ELEVHALSA)
    assert "Du företräder nu Socialtjänst/IFO" in behind and f"#{moved}" in behind
    assert "action_done" not in behind
    assert dms(bot, ELEVHALSA2) == []
    # The history says where the owner went.
    bot.driver.block_action("action_history", user=ADMIN, value=str(moved), channel="DU1")
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert "bytte verksamhet till Socialtjänst/IFO" in json.dumps(view, ensure_ascii=False)
    # The coordinator moves it along to the owner's new agency, its owner kept, from the
    # note (which lists the other action too: it is not replaced by this one's card).
    note = [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == ADMIN and "saknar nu ägare" in c.args.get("text", "")
    ][-1]
    where = (str(note.response["channel"]), str(note.response["ts"]))
    values = {
        "agency": {"value": select_value(str(forum["Socialtjänst/IFO"]))},
        "owner": {"value": users_value(ELEVHALSA)},
    }
    bot.driver.block_action(
        "action_hand_over",
        user=ADMIN,
        value=str(moved),
        channel=where[0],
        message={"ts": where[1], "blocks": note.args["blocks"], "text": note.args["text"]},
    )
    view = bot.slack.wait_for("views.open", count=2)[-1].args["view"]
    response = bot.driver.view_submission(
        "action_handover",
        values,
        user=ADMIN,
        private_metadata=view["private_metadata"],
        blocks=[{"type": "input", "block_id": b} for b in values],
    )
    assert response.json() is None
    with bot.sessions() as session:
        action = session.get(Action, moved)
        assert action is not None and action.owner == ELEVHALSA
        assert action.owning_agency_id == forum["Socialtjänst/IFO"]
        assert action.remind_at is not None
    bot.settle()
    assert [c for c in bot.slack.calls_to("chat.update") if c.args.get("ts") == where[1]] == []


def digests_to(bot: Bot, user: str) -> list[dict[str, Any]]:
    """The overdue digests ``user`` got (a header first; other DMs may have no blocks)."""
    return [
        c.args
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == user
        and (c.args.get("blocks") or [{}])[0].get("type") == "header"
    ]


def command(bot: Bot, text: str, user: str) -> str:
    before = bot.slack.count("response_url")
    bot.driver.command(text, user=user)
    reply = bot.slack.wait_for("response_url", count=before + 1)[-1]
    return json.dumps(reply.args, ensure_ascii=False)


def test_an_away_owners_reminders_go_to_their_stand_in_until_they_are_back(
    bot: Bot, forum: dict[str, int]
) -> None:
    """An owner marked away with a stand-in from their agency is not reminded on holiday:
    the stand-in is, told whose action it is and until when, with the buttons that work for
    them (a member of the owning agency); once the owner is back, the owner is again."""
    action_id = create(bot, forum, dt.date(2026, 11, 25))
    # Both are told where the reminders go meanwhile.
    reply = command(bot, f"borta 2026-12-04 <@{ELEVHALSA2}>", ELEVHALSA)
    assert "får dina påminnelser om insatser så länge" in reply
    bot.settle()
    (named,) = dms(bot, ELEVHALSA2)
    assert "Påminnelserna om hens insatser kommer till dig så länge" in named
    bot.slack.reset()
    run_at(bot, at(dt.date(2026, 11, 25), 8, 30))  # due today
    assert reminders_to(bot, ELEVHALSA) == []
    (reminder,) = reminders_to(bot, ELEVHALSA2)
    text = json.dumps(reminder, ensure_ascii=False)
    assert f"#{action_id}" in text
    assert f"<@{ELEVHALSA}> är borta till och med fredag 4 december" in text
    run_at(bot, at(dt.date(2026, 12, 2), 8, 30))  # a week overdue: the digest
    assert digests_to(bot, ELEVHALSA) == []
    (digest,) = digests_to(bot, ELEVHALSA2)
    assert f"#{action_id}" in json.dumps(digest)
    assert "ersättare" in json.dumps(digest, ensure_ascii=False)
    assert "Du har" not in json.dumps(digest, ensure_ascii=False)
    # The stand-in's snooze works (the owning agency's member may change it).
    bot.driver.block_action(
        "action_snooze_hour", user=ELEVHALSA2, value=str(action_id), channel=f"D{ELEVHALSA2}"
    )
    assert "action_snooze" not in json.dumps(bot.slack.wait_for("response_url")[-1].args)
    # Back: the owner is reminded again (the snoozed reminder, then the weekly digest).
    command(bot, "tillbaka", ELEVHALSA)
    bot.settle()
    run_at(bot, at(dt.date(2026, 12, 9), 8, 30))
    assert len(reminders_to(bot, ELEVHALSA)) == 1
    run_at(bot, at(dt.date(2026, 12, 16), 8, 30))
    assert len(digests_to(bot, ELEVHALSA)) == 1
    assert len(reminders_to(bot, ELEVHALSA2)) == 1 and len(digests_to(bot, ELEVHALSA2)) == 1
    bot.slack.assert_no_violations()


def test_an_owner_away_without_a_stand_in_gets_the_reminders_once_back(
    bot: Bot, forum: dict[str, int]
) -> None:
    """An owner marked away with no stand-in was reminded on holiday all the same. Now the
    reminders wait: none while they are away (the coordinators' list of overdue actions
    still shows the action), and on their first working morning back one digest with the
    actions that fell overdue meanwhile, once. The /samverkan borta reply says so."""
    first = create(bot, forum, dt.date(2026, 11, 25))
    second = create(bot, forum, dt.date(2026, 12, 3), n=1)
    reply = command(bot, "borta 2026-12-04", ELEVHALSA)  # back Monday 7 December
    assert "Dina påminnelser om insatser väntar tills du är tillbaka" in reply, reply
    bot.slack.reset()
    for day in (dt.date(2026, 11, 25), dt.date(2026, 11, 30), dt.date(2026, 12, 2)):
        run_at(bot, at(day, 8, 30))  # due day, the reminders before the second's, a week
    assert dms(bot, ELEVHALSA) == [] and dms(bot, ELEVHALSA2) == []
    bot.driver.command("insatser forum försenade", user=ADMIN)
    overdue = json.dumps(bot.slack.wait_for("response_url")[-1].args, ensure_ascii=False)
    assert f"#{first}" in overdue, overdue
    run_at(bot, at(dt.date(2026, 12, 5), 8, 30))  # Saturday: the reminders wait on
    assert dms(bot, ELEVHALSA) == []
    run_at(bot, at(dt.date(2026, 12, 7), 8, 30))
    run_at(bot, at(dt.date(2026, 12, 7), 9, 30))
    assert len(dms(bot, ELEVHALSA)) == 1  # one DM, once, on the first working day back
    (digest,) = digests_to(bot, ELEVHALSA)
    assert f"#{first}" in json.dumps(digest) and f"#{second}" in json.dumps(digest)
    bot.slack.assert_no_violations()


def test_an_owner_back_early_gets_the_held_reminders_then(bot: Bot, forum: dict[str, int]) -> None:
    """Back before the day they said (/samverkan tillbaka): the held reminders come at the
    next pass, not on the day they had named."""
    action_id = create(bot, forum, dt.date(2026, 11, 25))
    command(bot, "borta 2026-12-18", ELEVHALSA)
    bot.slack.reset()
    run_at(bot, at(dt.date(2026, 11, 25), 8, 30))
    assert dms(bot, ELEVHALSA) == []
    run_at(bot, at(dt.date(2026, 11, 26), 10, 0))
    command(bot, "tillbaka", ELEVHALSA)
    run_at(bot, at(dt.date(2026, 11, 26), 10, 1))
    (digest,) = digests_to(bot, ELEVHALSA)
    assert f"#{action_id}" in json.dumps(digest)


@pytest.mark.parametrize("error", ["user_not_found", "account_inactive"])
def test_an_owner_whose_slack_account_is_gone_is_released_and_the_coordinators_told(
    bot: Bot, forum: dict[str, int], error: str
) -> None:
    """The owner's account is deactivated (no one left the channel, so no event says so):
    Slack refuses their reminder. Their open actions then stay with the agency without an
    owner and the coordinators are told why, with a button to hand each over, instead of
    reminders going nowhere every week while the action is forgotten."""
    first = create(bot, forum, dt.date(2026, 11, 25))
    second = create(bot, forum, dt.date(2026, 12, 10), n=1)
    other = create(bot, forum, dt.date(2026, 11, 25), owner=ELEVHALSA2, n=2)
    bot.slack.reset()
    bot.slack.refuse_dm(ELEVHALSA, error)
    run_at(bot, at(dt.date(2026, 11, 25), 8, 30))  # the due day's reminders: one refused
    run_at(bot, at(dt.date(2026, 11, 25), 8, 31))
    bot.settle()
    with bot.sessions() as session:
        owners = {a.id: a.owner for a in session.scalars(select(Action))}
        last = {
            e.action_id: e.kind
            for e in session.scalars(select(ActionEvent).order_by(ActionEvent.id))
        }
    assert owners == {first: None, second: None, other: ELEVHALSA2}
    assert last[first] == last[second] == "owner_unreachable"
    (told,) = [m for m in dms(bot, ADMIN) if "saknar nu ägare" in m]
    assert f"#{first}" in told and f"#{second}" in told and f"#{other}" not in told
    assert f"Mina påminnelser når inte <@{ELEVHALSA}>" in told
    assert "action_hand_over" in told
    # Told once; no more reminders are tried for the released actions.
    run_at(bot, at(dt.date(2026, 12, 2), 8, 30))
    assert len([m for m in dms(bot, ADMIN) if "saknar nu ägare" in m]) == 1
    tried = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == ELEVHALSA]
    assert len(tried) == 1  # the refused reminder, not tried again a week later


@pytest.mark.parametrize("error", ["user_not_found", "account_inactive"])
def test_an_away_owners_stand_in_whose_account_is_gone_gets_no_more_reminders(
    bot: Bot, forum: dict[str, int], error: str
) -> None:
    """The owner is away with a stand-in whose Slack account is then deactivated: Slack
    refuses the reminder sent to the stand-in. Before, every later reminder went on to
    them until the owner was back. Now, as when no usable stand-in was named, the owner's
    reminders wait for the owner (who keeps the action), the coordinators are told once,
    and the owner gets them on the first working morning back. The owner is told once too,
    in their language (a DM to read when back), that their stand-in could not be reached."""
    action_id = create(bot, forum, dt.date(2026, 11, 25))
    # Another agency's reminder goes through the same morning (``account_inactive`` counts
    # only then: otherwise it may be the bot's own token that is dead).
    assert (
        submit_action(
            bot,
            forum,
            agency="Socialtjänst/IFO",
            owner=SOCIAL,
            due=dt.date(2026, 11, 25),
            view_id="VS1",
        ).json()
        is None
    )
    command(bot, f"borta 2026-12-04 <@{ELEVHALSA2}>", ELEVHALSA)
    bot.settle()
    bot.slack.reset()
    bot.slack.refuse_dm(ELEVHALSA2, error)
    bot.slack.set_user(ELEVHALSA, locale="en-US")  # (the reset forgot it)
    run_at(bot, at(dt.date(2026, 11, 25), 8, 30))  # the due day's reminder: refused
    run_at(bot, at(dt.date(2026, 11, 25), 8, 31))
    bot.settle()
    with bot.sessions() as session:
        assert session.get(Action, action_id).owner == ELEVHALSA  # type: ignore[union-attr]
    told = [m for m in dms(bot, ADMIN) if "ersättare för" in m]
    assert len(told) == 1, told
    assert f"Mina påminnelser når inte <@{ELEVHALSA2}>, ersättare för <@{ELEVHALSA}>" in told[0]
    assert "väntar tills hen är tillbaka" in told[0]
    run_at(bot, at(dt.date(2026, 11, 26), 8, 30))
    run_at(bot, at(dt.date(2026, 12, 2), 8, 30))  # a week overdue: the digest day
    run_at(bot, at(dt.date(2026, 12, 2), 8, 31))
    tried = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == ELEVHALSA2]
    assert len(tried) == 1  # the refused reminder, nothing after it
    # Held while the owner is away; they are told once, in English, why.
    owner_told = dms(bot, ELEVHALSA)
    assert len(owner_told) == 1, owner_told
    assert f"My reminders do not reach <@{ELEVHALSA2}>, your stand-in" in owner_told[0]
    assert "wait until you are back" in owner_told[0]
    assert "Friday 4 December 2026" in owner_told[0]
    assert not reminders_to(bot, ELEVHALSA) and not digests_to(bot, ELEVHALSA)
    assert len([m for m in dms(bot, ADMIN) if "ersättare för" in m]) == 1  # told once
    run_at(bot, at(dt.date(2026, 12, 7), 8, 30))  # back on Monday
    back = reminders_to(bot, ELEVHALSA) + digests_to(bot, ELEVHALSA)
    assert back and all(f"#{action_id}" in json.dumps(m) for m in back)


def test_a_dead_bot_token_releases_no_one(bot: Bot, forum: dict[str, int]) -> None:
    """``account_inactive`` on every DM is the bot's own token gone (the workspace left):
    nobody's action is released for it."""
    action_id = create(bot, forum, dt.date(2026, 11, 25))
    other = create(bot, forum, dt.date(2026, 11, 25), owner=ELEVHALSA2, n=1)
    bot.slack.reset()
    for user in (ELEVHALSA, ELEVHALSA2, ADMIN):
        bot.slack.refuse_dm(user, "account_inactive")
    run_at(bot, at(dt.date(2026, 11, 25), 8, 30))
    run_at(bot, at(dt.date(2026, 11, 25), 8, 31))
    with bot.sessions() as session:
        assert session.get(Action, action_id).owner == ELEVHALSA  # type: ignore[union-attr]
        assert session.get(Action, other).owner == ELEVHALSA2  # type: ignore[union-attr]


def list_rows(bot: Bot, user: str, words: str) -> dict[int, dict[str, Any]]:
    """The accessory of each row of ``/samverkan insatser {words}`` as ``user`` sees it."""
    before = bot.slack.count("response_url")
    bot.driver.command(f"insatser {words}", user=user)
    reply = bot.slack.wait_for("response_url", count=before + 1)[-1].args
    return {
        int(b["block_id"].split("@")[0].split(".")[1]): b["accessory"]
        for b in reply["blocks"]
        if b.get("block_id", "").startswith("action.") and "@" in b["block_id"]
    }


def test_a_list_offers_each_reader_only_the_changes_they_may_make(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The forum's list shows a member of another agency every action (as the disclosure
    rule lets them), but offers them no Done, More time, Hand over or Cancel they would only
    be refused: the history alone, as a button. The owning agency and a coordinator get the
    menu."""
    action_id = create(bot, forum, dt.date(2026, 12, 3))
    social = list_rows(bot, SOCIAL, "forum")[action_id]
    assert social["type"] == "button" and social["action_id"] == "action_history"
    for user in (ELEVHALSA2, ADMIN):
        menu = list_rows(bot, user, "forum")[action_id]
        assert menu["type"] == "overflow"
        values = [o["value"] for o in menu["options"]]
        assert values[0] == f"done:{action_id}" and values[-1] == f"history:{action_id}"
    # The history button opens the history.
    bot.driver.block_action("action_history", user=SOCIAL, value=str(action_id), channel="C0001")
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert view["title"]["text"] == f"Insats #{action_id}"
    bot.slack.assert_no_violations()


def test_the_agenda_calls_an_action_overdue_only_once_its_due_date_has_passed(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Monday's agenda for Thursday's meeting lists an action due Wednesday as due
    Wednesday, as its owner's card says, not as "overdue since" a day still to come; one due
    last Friday is overdue."""
    create(bot, forum, dt.date(2026, 11, 25))
    bot.slack.reset()
    reply = command(bot, "agenda", ADMIN)
    assert "Insats #1" in reply, reply
    assert "försenad sedan onsdag 25 november" not in reply
    assert "klar senast onsdag 25 november" in reply


def test_done_in_the_overdue_digest_keeps_the_other_actions_in_it(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The digest lists every overdue action with its buttons: marking one done changes that
    one in place; the others stay in the message, with their buttons."""
    first = create(bot, forum, dt.date(2026, 11, 25))
    second = create(bot, forum, dt.date(2026, 11, 25), n=1)
    bot.slack.reset()
    run_at(bot, at(dt.date(2026, 12, 2), 8, 30))
    (digest,) = digests_to(bot, ELEVHALSA)
    bot.driver.block_action(
        "action_done",
        user=ELEVHALSA,
        value=str(first),
        block_id=f"action_buttons.{first}",
        channel=f"D{ELEVHALSA}",
        message={"ts": "1.0", "blocks": digest["blocks"], "text": digest["text"]},
    )
    replaced = bot.slack.wait_for("response_url")[-1].args
    text = json.dumps(replaced, ensure_ascii=False)
    assert replaced["replace_original"] is True
    assert replaced["blocks"][0]["type"] == "header"  # still the digest
    assert f"*#{second}*" in text and f"action_buttons.{second}" in text
    block_ids = [b.get("block_id") for b in replaced["blocks"]]
    assert f"action_buttons.{second}" in block_ids
    first_buttons = next(
        (b for b in replaced["blocks"] if b.get("block_id") == f"action_buttons.{first}"), None
    )
    assert first_buttons is None or "action_done" not in json.dumps(first_buttons)
    assert "markerade den som klar" in text
    # More time from the digest (a modal): the digest is not replaced by the one card.
    posted = [
        c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("channel") == ELEVHALSA
    ][-1]
    where = (str(posted.response["channel"]), str(posted.response["ts"]))
    bot.driver.block_action(
        "action_more_time",
        user=ELEVHALSA,
        value=str(second),
        block_id=f"action_buttons.{second}",
        channel=where[0],
        message={"ts": where[1], "blocks": digest["blocks"], "text": digest["text"]},
    )
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    private = json.loads(view["private_metadata"])
    assert postpone(bot, ELEVHALSA, private, dt.date(2026, 12, 17)).json() is None
    bot.settle()
    with bot.sessions() as session:
        assert session.get(Action, second).due_on == dt.date(2026, 12, 17)  # type: ignore[union-attr]
    assert [c for c in bot.slack.calls_to("chat.update") if c.args.get("ts") == where[1]] == []
    bot.slack.assert_no_violations()
