"""Actions through the real app: the modal, the owner's DM buttons, permissions and history,
the follow-up of effect, lists, App Home and the link from a case."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from domain import forums as fs
from handlers.deps import settle_stores
from storage.db import transaction
from storage.models import (
    Action,
    ActionEvent,
    ActionStatus,
    AuditEvent,
    Case,
    Effect,
    Member,
    MemberLanguage,
    Role,
)
from tests.conftest import Bot
from tests.support.forums import forum_draft
from tests.support.personnummer import pnr
from tests.support.slack_driver import (
    date_value,
    plain_value,
    radio_value,
    select_value,
    users_value,
)
from tests.support.statements import slack_calls_in_open_writes

CHANNEL = "C0001"
ADMIN, ELEVHALSA, ELEVHALSA2, SOCIAL, OUTSIDER = "U1", "U2", "U4", "U3", "U9"
TODAY = dt.date(2026, 11, 23)  # the bot fixture's Monday
DESCRIPTION = "Kartlägga frånvaron i årskurs 8 och erbjuda samtal"


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    return make_forum(bot)


def make_forum(bot: Bot) -> dict[str, int]:
    """FOSSAM: admin (Grundskola), two Elevhälsa members, one Socialtjänst member."""
    draft = forum_draft(agencies=["Grundskola", "Elevhälsa", "Socialtjänst/IFO"], areas=["Hemse"])
    with transaction(bot.sessions) as s:
        created = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id=CHANNEL, actor=ADMIN, draft=draft
        )
        agencies = {a.name: a.id for a in created.agencies}
        for users, agency in (
            ([ELEVHALSA, ELEVHALSA2], "Elevhälsa"),
            ([SOCIAL], "Socialtjänst/IFO"),
        ):
            fs.add_members(
                s,
                bot.clock,
                forum=created,
                actor=ADMIN,
                slack_user_ids=users,
                agency_id=agencies[agency],
                role=Role.MEMBER,
            )
        return {"forum": created.id, "area": created.areas[0].id, **agencies}


def meta(forum: dict[str, int], **extra: Any) -> str:
    return json.dumps({"locale": "sv", "forum_id": forum["forum"], "channel_id": CHANNEL, **extra})


def action_values(
    forum: dict[str, int],
    *,
    description: str = DESCRIPTION,
    agency: str = "Elevhälsa",
    owner: str | None = ELEVHALSA,
    due: dt.date | None = dt.date(2026, 12, 3),
    case: str = "",
    hoped: str = "Ökad närvaro",
    area: int | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        "description": {"value": plain_value(description)},
        "agency": {"value": select_value(str(forum[agency]))},
        "owner": {"value": users_value(owner)},
        "due_on": {"value": date_value(due)},
        "case": {"value": plain_value(case)},
        "area": {"value": select_value(str(area) if area else None)},
        "hoped_effect": {"value": plain_value(hoped)},
    }


def blocks_of(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "input", "block_id": block_id} for block_id in values]


def submit_action(
    bot: Bot, forum: dict[str, int], *, user: str = ADMIN, view_id: str = "VA1", **kw: Any
) -> Any:
    values = action_values(forum, **kw)
    return bot.driver.view_submission(
        "action_new",
        values,
        user=user,
        private_metadata=meta(forum),
        view_id=view_id,
        blocks=blocks_of(values),
    )


def count(bot: Bot, model: Any, *where: Any) -> int:
    with bot.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def the_action(bot: Bot) -> Action:
    with bot.sessions() as session:
        return session.scalars(select(Action).order_by(Action.id.desc())).first()  # type: ignore[return-value]


def history(bot: Bot, action_id: int) -> list[tuple[str, str, dict[str, Any], str | None]]:
    with bot.sessions() as session:
        return [
            (e.kind, e.actor, dict(e.detail or {}), e.note)
            for e in session.scalars(
                select(ActionEvent)
                .where(ActionEvent.action_id == action_id)
                .order_by(ActionEvent.id)
            )
        ]


def text_of(call_args: Any) -> str:
    return json.dumps(call_args, ensure_ascii=False)


def dms_to(bot: Bot, user: str) -> list[Any]:
    return [c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("channel") == user]


# --- the modal ------------------------------------------------------------------------------


def test_the_command_and_its_alias_open_the_modal_for_members(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.driver.command("insats", user=ELEVHALSA)
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == "action_new"
    ids = {b.get("block_id") for b in view["blocks"]}
    assert {"description", "agency", "owner", "due_on", "case", "area", "meeting"} <= ids
    assert {"hoped_effect"} <= ids
    owner = next(b for b in view["blocks"] if b.get("block_id") == "owner")
    assert owner["element"]["type"] == "users_select"
    due = next(b for b in view["blocks"] if b.get("block_id") == "due_on")
    assert due["element"]["type"] == "datepicker"
    bot.driver.command("action", user=SOCIAL)
    bot.slack.wait_for("views.open", count=2)
    bot.slack.assert_no_violations()

    bot.driver.command("insats", user=OUTSIDER)
    reply = bot.slack.wait_for("response_url")[0]
    assert "medlemmar" in text_of(reply.args).lower()
    assert bot.slack.count("views.open") == 2


def test_creating_an_action_dms_the_owner_with_buttons_and_keeps_history(
    bot: Bot, forum: dict[str, int]
) -> None:
    response = submit_action(bot, forum, user=ADMIN)
    assert response.status == 200 and response.json() is None
    action = the_action(bot)
    assert action.description == DESCRIPTION
    assert action.owner == ELEVHALSA and action.owning_agency_id == forum["Elevhälsa"]
    assert action.due_on == dt.date(2026, 12, 3) and action.status is ActionStatus.OPEN
    assert [h[:2] for h in history(bot, action.id)] == [("created", ADMIN)]
    assert count(bot, AuditEvent, AuditEvent.object_type == "action") == 1
    dm = bot.slack.wait_for("chat.postMessage", count=2)
    owner_dm = next(c for c in dm if c.args["channel"] == ELEVHALSA)
    buttons = [
        e["action_id"]
        for b in owner_dm.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert buttons == ["action_done", "action_more_time", "action_hand_over", "action_cancel_open"]
    assert DESCRIPTION in text_of(owner_dm.args)
    assert "torsdag 3 december 2026" in text_of(owner_dm.args)
    # The creator hears where it went; nothing is posted in the channel.
    assert any(c.args["channel"] == ADMIN for c in dm)
    assert not [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    bot.slack.assert_no_violations()


def test_wrong_input_gives_field_errors_and_stores_nothing(bot: Bot, forum: dict[str, int]) -> None:
    response = submit_action(
        bot,
        forum,
        description="   ",
        owner=SOCIAL,  # not in Elevhälsa
        due=TODAY - dt.timedelta(days=1),
        case="FOS-2026-999",
    )
    body = response.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"description", "owner", "due_on", "case"}
    assert "Elevhälsa" in body["errors"]["owner"]
    for bad in (f"Ring {pnr('090412', '123')}", "mejla anna.svensson@example.se"):
        body = submit_action(bot, forum, description=bad).json()
        assert list(body["errors"]) == ["description"]
    body = submit_action(bot, forum, hoped="ring 070-123 45 67").json()
    assert list(body["errors"]) == ["hoped_effect"]
    body = submit_action(bot, forum, owner=OUTSIDER).json()
    assert list(body["errors"]) == ["owner"]
    assert count(bot, Action) == 0 and count(bot, ActionEvent) == 0
    assert bot.slack.count("chat.postMessage") == 0


def test_a_submission_delivered_twice_creates_one_action(bot: Bot, forum: dict[str, int]) -> None:
    submit_action(bot, forum, view_id="V7")
    submit_action(bot, forum, view_id="V7")
    assert count(bot, Action) == 1


# --- the owner's buttons --------------------------------------------------------------------


def press(bot: Bot, action_id: str, user: str, value: str, channel: str | None = None) -> None:
    """``user`` presses a button on a message; by default in their DM with the bot (the id
    the Web API stand-in gives it), where their action cards are."""
    bot.driver.block_action(action_id, user=user, value=value, channel=channel or f"D{user}")


def test_done_from_the_dm_updates_the_card_and_the_history(bot: Bot, forum: dict[str, int]) -> None:
    submit_action(bot, forum)
    action = the_action(bot)
    bot.slack.wait_for("chat.postMessage", count=2)
    press(bot, "action_done", ELEVHALSA, str(action.id))
    replaced = bot.slack.wait_for("response_url")[-1].args
    assert replaced.get("replace_original") is True
    assert "action_done" not in text_of(replaced)  # the buttons go
    assert "action_follow_up_open" in text_of(replaced)
    done = the_action(bot)
    assert done.status is ActionStatus.DONE and done.completed_at is not None
    assert [h[:2] for h in history(bot, action.id)][-1] == ("done", ELEVHALSA)
    bot.slack.assert_no_violations()


def test_only_the_owner_their_agency_or_a_coordinator_may_change(
    bot: Bot, forum: dict[str, int]
) -> None:
    submit_action(bot, forum)
    action = the_action(bot)
    press(bot, "action_done", SOCIAL, str(action.id))  # another agency
    reply = bot.slack.wait_for("response_url")[-1].args
    assert reply.get("replace_original") is False
    assert the_action(bot).status is ActionStatus.OPEN
    press(bot, "action_done", OUTSIDER, str(action.id))  # not a member
    bot.slack.wait_for("response_url", count=2)
    assert the_action(bot).status is ActionStatus.OPEN
    press(bot, "action_done", ELEVHALSA2, str(action.id))  # same agency
    bot.slack.wait_for("response_url", count=3)
    assert the_action(bot).status is ActionStatus.DONE
    assert [h[:2] for h in history(bot, action.id)][-1] == ("done", ELEVHALSA2)


def test_a_change_one_may_not_make_is_refused_before_its_modal_opens(
    bot: Bot, forum: dict[str, int]
) -> None:
    """More time, hand over and follow-up are refused when the modal would open (as they
    would be when it is saved): the forum's list offers them on every row, the agenda
    offers follow-up to everyone, and a modal opened for nothing had them type a reason
    or a comment only to be told no. The detail view shows the follow-up button only to
    whoever may record it."""
    submit_action(bot, forum)  # owned by ELEVHALSA in Elevhälsa
    action = the_action(bot)
    opened = 0

    def pick(user: str, verb: str) -> dict[str, Any]:
        nonlocal opened
        bot.driver.block_action(
            "action_row_menu",
            user=user,
            block_id=f"action.{action.id}@0:forum:all",
            selected_option={
                "text": {"type": "plain_text", "text": verb},
                "value": f"{verb}:{action.id}",
            },
            extra_action={"type": "overflow"},
        )
        opened += 1
        view: dict[str, Any] = bot.slack.wait_for("views.open", count=opened)[-1].args["view"]
        return view

    for verb in ("more_time", "hand_over"):
        refused = pick(SOCIAL, verb)  # another agency
        assert refused.get("callback_id") not in ("action_postpone", "action_handover")
        assert "Bara ägaren, en medlem i den ägande verksamheten" in text_of(refused)
    assert pick(ELEVHALSA2, "more_time")["callback_id"] == "action_postpone"
    press(bot, "action_done", ELEVHALSA, str(action.id))
    bot.slack.wait_for("response_url")
    done = pick(ELEVHALSA2, "hand_over")
    assert done.get("callback_id") != "action_handover"
    assert "Insatsen är redan klar." in text_of(done)
    refused = pick(ELEVHALSA2, "follow_up")  # the agency, not the owner
    assert refused.get("callback_id") != "action_follow_up"
    assert "Bara ägaren eller en samordnare" in text_of(refused)
    assert pick(ELEVHALSA, "follow_up")["callback_id"] == "action_follow_up"
    assert "action_follow_up_open" not in text_of(pick(ELEVHALSA2, "history"))
    assert "action_follow_up_open" in text_of(pick(ELEVHALSA, "history"))
    bot.slack.assert_no_violations()


def test_more_time_asks_for_a_new_date_and_a_reason(bot: Bot, forum: dict[str, int]) -> None:
    submit_action(bot, forum)
    action = the_action(bot)
    press(bot, "action_more_time", ELEVHALSA, str(action.id))
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert view["callback_id"] == "action_postpone"
    private = view["private_metadata"]

    def submit(due: dt.date, reason: str) -> Any:
        values = {"due_on": {"value": date_value(due)}, "reason": {"value": plain_value(reason)}}
        return bot.driver.view_submission(
            "action_postpone",
            values,
            user=ELEVHALSA,
            private_metadata=private,
            blocks=blocks_of(values),
        )

    body = submit(TODAY - dt.timedelta(days=2), "ring 070-123 45 67").json()
    assert set(body["errors"]) == {"due_on", "reason"}
    assert submit(dt.date(2026, 12, 17), "Väntar på skolans schema").json() is None
    moved = the_action(bot)
    assert moved.due_on == dt.date(2026, 12, 17)
    kind, actor, detail, note = history(bot, action.id)[-1]
    assert (kind, actor, note) == ("postponed", ELEVHALSA, "Väntar på skolans schema")
    assert detail == {"from": "2026-12-03", "to": "2026-12-17"}
    updated = bot.slack.wait_for("chat.update")[-1].args
    assert "17 december" in text_of(updated)


def card_in_dm(bot: Bot, owner: str) -> tuple[str, str]:
    """Where the newest action card the bot sent ``owner`` is: their DM's id and the
    message's ts, as Slack answered the post."""
    posted = [
        c
        for c in bot.slack.calls_to("chat.postMessage", ok=True)
        if c.args["channel"] == owner and "action_more_time" in text_of(c.args)
    ]
    assert posted, f"no action card was sent to {owner}"
    return str(posted[-1].response["channel"]), str(posted[-1].response["ts"])


def more_time_from(bot: Bot, user: str, action_id: int, card: tuple[str, str]) -> dict[str, Any]:
    """``user`` presses "more time" on the card at ``card``; the modal's private_metadata."""
    channel, ts = card
    before = bot.slack.count("views.open")
    bot.driver.block_action(
        "action_more_time", user=user, value=str(action_id), channel=channel, message={"ts": ts}
    )
    view = bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"]
    private: dict[str, Any] = json.loads(view["private_metadata"])
    return private


def postpone(bot: Bot, user: str, private: dict[str, Any], due: dt.date) -> Any:
    values = {
        "due_on": {"value": date_value(due)},
        "reason": {"value": plain_value("Väntar på skolans schema")},
    }
    return bot.driver.view_submission(
        "action_postpone",
        values,
        user=user,
        private_metadata=json.dumps(private),
        blocks=blocks_of(values),
    )


def test_more_time_from_the_owners_card_updates_that_card(bot: Bot, forum: dict[str, int]) -> None:
    """The owner presses "more time" on the action's card in their DM with the bot and
    submits the modal: that card (its DM, its ts) shows the new date."""
    submit_action(bot, forum)
    bot.slack.wait_for("chat.postMessage", count=2)
    action = the_action(bot)
    card = card_in_dm(bot, ELEVHALSA)
    private = more_time_from(bot, ELEVHALSA, action.id, card)
    assert postpone(bot, ELEVHALSA, private, dt.date(2026, 12, 17)).json() is None
    assert the_action(bot).due_on == dt.date(2026, 12, 17)
    updated = bot.slack.wait_for("chat.update")[-1]
    assert updated.ok
    assert (updated.args["channel"], updated.args["ts"]) == card
    assert "17 december" in text_of(updated.args) and DESCRIPTION in text_of(updated.args)
    # Again from the same card: updated again; the user's DM was looked up once (cached).
    private = more_time_from(bot, ELEVHALSA, action.id, card)
    assert postpone(bot, ELEVHALSA, private, dt.date(2026, 12, 18)).json() is None
    again = bot.slack.wait_for("chat.update", count=2)[-1]
    assert (again.args["channel"], again.args["ts"]) == card and "18 december" in text_of(
        again.args
    )
    opened = [c for c in bot.slack.calls_to("conversations.open") if c.args["users"] == ELEVHALSA]
    assert len(opened) == 1
    bot.slack.assert_no_violations()


def test_a_crafted_card_origin_in_another_members_dm_is_never_rewritten(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The owner's "more time" modal remembers the card it was opened from. Submitted with
    that origin crafted to name another member's card in their own DM with the bot (its
    channel and ts), the change is made and the modal closes as always, but the other
    member's message is left alone: the bot would replace it with this action's card, its
    text read by someone it was not given to and their own action's card gone."""
    submit_action(bot, forum)
    bot.slack.wait_for("chat.postMessage", count=2)
    action = the_action(bot)
    theirs = "Samtal med vårdnadshavarna om skolskjutsen"
    submit_action(bot, forum, description=theirs, owner=ELEVHALSA2, view_id="VA2")
    bot.slack.wait_for("chat.postMessage", count=4)
    other = card_in_dm(bot, ELEVHALSA2)
    assert other[0] != card_in_dm(bot, ELEVHALSA)[0]
    private = more_time_from(bot, ELEVHALSA, action.id, card_in_dm(bot, ELEVHALSA))
    crafted = {**private, "message_channel": other[0], "message_ts": other[1]}
    since = len(bot.slack.calls)
    assert postpone(bot, ELEVHALSA, crafted, dt.date(2026, 12, 17)).json() is None
    bot.wait_idle()
    with bot.sessions() as s:
        moved = s.get(Action, action.id)
        assert moved is not None and moved.due_on == dt.date(2026, 12, 17)
    after = bot.slack.calls[since:]
    rewritten = [
        c.args for c in after if c.method == "chat.update" and c.args.get("ts") == other[1]
    ]
    assert rewritten == [], "another member's message was replaced by the action's card"
    assert not [c for c in after if c.args.get("channel") in (other[0], ELEVHALSA2)]
    assert DESCRIPTION not in text_of([c.args for c in after if c.method != "views.open"])


def test_hand_over_goes_only_to_a_member_of_the_agency(bot: Bot, forum: dict[str, int]) -> None:
    submit_action(bot, forum)
    action = the_action(bot)
    press(bot, "action_hand_over", ELEVHALSA, str(action.id))
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert view["callback_id"] == "action_handover"

    def submit(user: str) -> Any:
        values = {"owner": {"value": users_value(user)}}
        return bot.driver.view_submission(
            "action_handover",
            values,
            user=ELEVHALSA,
            private_metadata=view["private_metadata"],
            blocks=blocks_of(values),
        )

    body = submit(SOCIAL).json()
    assert list(body["errors"]) == ["owner"] and "Elevhälsa" in body["errors"]["owner"]
    assert the_action(bot).owner == ELEVHALSA
    assert submit(ELEVHALSA2).json() is None
    assert the_action(bot).owner == ELEVHALSA2
    assert history(bot, action.id)[-1][:3] == (
        "handed_over",
        ELEVHALSA,
        {"from": ELEVHALSA, "to": ELEVHALSA2},
    )
    bot.slack.wait_for("chat.postMessage", count=3)
    new_dm = next(
        c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == ELEVHALSA2
    )
    assert "action_done" in text_of(new_dm.args)
    bot.slack.assert_no_violations()


def test_follow_up_of_effect_by_the_owner_or_a_coordinator(bot: Bot, forum: dict[str, int]) -> None:
    submit_action(bot, forum)
    action = the_action(bot)
    press(bot, "action_done", ELEVHALSA, str(action.id))
    bot.slack.wait_for("response_url")
    press(bot, "action_follow_up_open", ELEVHALSA, str(action.id))
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert view["callback_id"] == "action_follow_up"
    values = {
        "effect": {"value": radio_value("partly")},
        "comment": {"value": plain_value("Närvaron ökade något")},
    }
    # Another member of the agency (not the owner, not a coordinator) may not.
    refused = bot.driver.view_submission(
        "action_follow_up",
        values,
        user=ELEVHALSA2,
        private_metadata=view["private_metadata"],
        blocks=blocks_of(values),
    ).json()
    assert refused["response_action"] == "update"
    assert the_action(bot).effect is None
    no_effect = {**values, "effect": {"value": radio_value(None)}}
    body = bot.driver.view_submission(
        "action_follow_up",
        no_effect,
        user=ELEVHALSA,
        private_metadata=view["private_metadata"],
        blocks=blocks_of(values),
    ).json()
    assert list(body["errors"]) == ["effect"]
    assert (
        bot.driver.view_submission(
            "action_follow_up",
            values,
            user=ADMIN,
            private_metadata=view["private_metadata"],
            blocks=blocks_of(values),
        ).json()
        is None
    )
    followed = the_action(bot)
    assert followed.effect is Effect.PARTLY
    assert followed.follow_up_comment == "Närvaron ökade något"
    assert followed.followed_up_by == ADMIN
    assert history(bot, action.id)[-1][:2] == ("follow_up", ADMIN)
    # The list shows the effect and the comment.
    bot.driver.command("insatser forum klara", user=SOCIAL)
    listed = text_of(bot.slack.wait_for("response_url", count=2)[-1].args)
    assert "Närvaron ökade något" in listed and "#" + str(action.id) in listed


# --- lists and App Home ---------------------------------------------------------------------


def test_lists_filter_and_page(bot: Bot, forum: dict[str, int]) -> None:
    with transaction(bot.sessions) as s:
        for n in range(13):
            s.add(
                Action(
                    forum_id=forum["forum"],
                    description=f"Insats nr {n:02d}",
                    owning_agency_id=forum["Elevhälsa"] if n % 2 else forum["Socialtjänst/IFO"],
                    owner=ELEVHALSA if n % 2 else SOCIAL,
                    due_on=TODAY + dt.timedelta(days=n - 3),
                    status=ActionStatus.OPEN,
                    created_by=ADMIN,
                    created_at=bot.clock.now(),
                    updated_at=bot.clock.now(),
                )
            )
    bot.driver.command("insatser", user=ELEVHALSA)  # default: mine, open
    mine = text_of(bot.slack.wait_for("response_url")[-1].args)
    assert "Insats nr 01" in mine and "Insats nr 02" not in mine
    assert "Sida" not in mine  # one page: no paging text
    bot.driver.command("insatser forum försenade", user=ELEVHALSA)
    overdue = text_of(bot.slack.wait_for("response_url", count=2)[-1].args)
    assert "Insats nr 00" in overdue and "Insats nr 02" in overdue
    assert "Insats nr 03" not in overdue
    bot.driver.command("insatser forum", user=ELEVHALSA)
    first = bot.slack.wait_for("response_url", count=3)[-1].args
    (next_value,) = [
        e["value"]
        for b in first["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == "action_list_page_next"
    ]
    # An action due before all of them is added while the first page is read: the next
    # page goes on after the last row shown (keyed), so nothing repeats or is skipped.
    with transaction(bot.sessions) as s:
        s.add(
            Action(
                forum_id=forum["forum"],
                description="Insats nr 99",
                owning_agency_id=forum["Elevhälsa"],
                owner=ELEVHALSA,
                due_on=TODAY - dt.timedelta(days=30),
                status=ActionStatus.OPEN,
                created_by=ADMIN,
                created_at=bot.clock.now(),
                updated_at=bot.clock.now(),
            )
        )
    bot.driver.block_action("action_list_page_next", user=ELEVHALSA, value=next_value)
    second = text_of(bot.slack.wait_for("response_url", count=4)[-1].args)
    assert [f"Insats nr {n}" in second for n in (10, 11, 12)] == [True] * 3
    assert "Sida 2" in second  # paged: the page is named
    assert "Insats nr 09" not in second and "Insats nr 99" not in second
    bot.driver.command("insatser verksamhet", user=SOCIAL)
    agency = text_of(bot.slack.wait_for("response_url", count=5)[-1].args)
    assert "Insats nr 00" in agency and "Insats nr 01" not in agency
    bot.driver.command("insatser konstigt", user=SOCIAL)
    odd = text_of(bot.slack.wait_for("response_url", count=6)[-1].args)
    assert "konstigt" in odd
    bot.slack.assert_no_violations()


def test_an_unknown_list_word_is_told_with_english_words_to_an_english_user(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.slack.set_user(ELEVHALSA, locale="en-US")
    bot.driver.command("actions page", user=ELEVHALSA)
    reply = text_of(bot.slack.wait_for("response_url")[0].args)
    assert "Try: mine, agency, forum and open, overdue, done, follow-up." in reply


def test_app_home_shows_my_actions_with_the_same_buttons(bot: Bot, forum: dict[str, int]) -> None:
    submit_action(bot, forum)
    action = the_action(bot)
    bot.driver.app_home_opened(user=ELEVHALSA)
    home = bot.slack.wait_for("views.publish")[-1].args["view"]
    text = text_of(home)
    assert DESCRIPTION in text and "action_row_menu" in text
    assert text.index(DESCRIPTION) > text.index("FOSSAM")
    bot.driver.block_action(
        "action_row_menu",
        user=ELEVHALSA,
        view={"id": "VHOME", "type": "home"},
        selected_option={
            "text": {"type": "plain_text", "text": "Klar"},
            "value": f"done:{action.id}",
        },
        extra_action={"type": "overflow"},
    )
    republished = bot.slack.wait_for("views.publish", count=2)[-1].args["view"]
    assert DESCRIPTION not in text_of(republished)
    assert the_action(bot).status is ActionStatus.DONE
    bot.slack.assert_no_violations()


def test_a_refusal_from_an_app_home_row_is_told_in_a_notice(
    bot: Bot, forum: dict[str, int]
) -> None:
    """App Home has no response_url: a refusal there (a colleague marked the action done
    after the tab was drawn) opens a notice modal instead of being lost."""
    submit_action(bot, forum)
    action = the_action(bot)
    bot.driver.app_home_opened(user=ELEVHALSA)
    bot.slack.wait_for("views.publish")
    press(bot, "action_done", ELEVHALSA2, str(action.id))  # the colleague, from their DM
    bot.slack.wait_for("response_url")
    bot.driver.block_action(
        "action_row_menu",
        user=ELEVHALSA,
        view={"id": "VHOME", "type": "home"},
        selected_option={
            "text": {"type": "plain_text", "text": "Klar"},
            "value": f"done:{action.id}",
        },
        extra_action={"type": "overflow"},
    )
    notice = bot.slack.wait_for("views.open")[-1].args["view"]
    assert "Insatsen är redan klar." in text_of(notice)
    assert bot.slack.count("views.push") == 0
    bot.slack.assert_no_violations()


# --- from a case ----------------------------------------------------------------------------


def _elevhalsa_case(
    bot: Bot,
    forum: dict[str, int],
    *,
    closed: bool = False,
    consent: tuple[str, ...] = ("Elevhälsa",),
) -> tuple[str, int]:
    """A case raised by the admin (Grundskola) for Elevhälsa, with consent for it (or for
    the agencies ``consent`` names; closed if asked): (its reference, its id)."""
    from domain.cases import CaseDraft, change_status, raise_case
    from storage.models import CaseStatus, ConsentGiver, SipStatus

    with transaction(bot.sessions) as s:
        forum_row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        access = fs.require_member(s, forum=forum_row, slack_user_id=ADMIN)
        case, _ = raise_case(
            s,
            bot.clock,
            access=access,
            draft=CaseDraft(
                summary="Oro för frånvaro",
                concerns=["school_absence"],
                age_band="13-15",
                agency_ids=[forum["Elevhälsa"]],
                consent_giver=ConsentGiver.GUARDIANS,
                consent_agency_ids=[forum[name] for name in consent],
                consent_given_on=TODAY,
                consent_expires_on=None,
                sip=SipStatus.NOT_RELEVANT,
                meeting=None,
            ),
        )
        if closed:
            change_status(
                s,
                bot.clock,
                access=access,
                case_id=case.id,
                to=CaseStatus.CLOSED,
                outcome="Klart",
                effect=Effect.YES,
            )
        return case.reference, case.id


def _narrow_consent(bot: Bot, case_id: int, agency_id: int) -> None:
    """The admin records a new consent for the case that covers ``agency_id`` only (the
    family narrowed it): an agency it leaves out sees the case as a consultation from now."""
    from domain.cases import record_consent
    from storage.models import ConsentGiver

    with transaction(bot.sessions) as s:
        forum_row = fs.get_forum(s, forum_id=forum_of(bot, case_id), team_id="T0001")
        record_consent(
            s,
            bot.clock,
            access=fs.require_member(s, forum=forum_row, slack_user_id=ADMIN),
            case_id=case_id,
            giver=ConsentGiver.GUARDIANS,
            agency_ids=[agency_id],
            given_on=TODAY,
            expires_on=None,
        )


def forum_of(bot: Bot, case_id: int) -> int:
    with bot.sessions() as s:
        return int(s.scalar(select(Case.forum_id).where(Case.id == case_id)) or 0)


def test_a_case_view_lists_linked_actions_and_adds_one(bot: Bot, forum: dict[str, int]) -> None:
    reference, case_id = _elevhalsa_case(bot, forum)
    submit_action(bot, forum, case=reference.lower())
    assert the_action(bot).case_id == case_id
    bot.driver.block_action("case_open", user=ELEVHALSA, value=str(case_id), channel=CHANNEL)
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert DESCRIPTION in text_of(view)
    assert "action_new_for_case" in text_of(view)
    bot.driver.block_action(
        "action_new_for_case", user=ELEVHALSA, value=reference, view={**view, "id": "VCASE"}
    )
    pushed = bot.slack.wait_for("views.push")[-1].args["view"]
    assert pushed["callback_id"] == "action_new"
    case_block = next(b for b in pushed["blocks"] if b.get("block_id") == "case")
    assert case_block["element"]["initial_value"] == reference
    with bot.sessions() as session:
        assert session.get(Case, case_id) is not None
    bot.slack.assert_no_violations()


def test_a_closed_case_gets_no_new_action(bot: Bot, forum: dict[str, int]) -> None:
    """As the minutes refuse it: an action typed for a closed case is told on its case
    field (nothing stored), and the closed case's modal offers no "Add an action"."""
    reference, case_id = _elevhalsa_case(bot, forum, closed=True)
    body = submit_action(bot, forum, case=reference).json()
    assert body["response_action"] == "errors" and list(body["errors"]) == ["case"]
    assert "Ärendet är avslutat" in body["errors"]["case"]
    assert count(bot, Action) == 0
    bot.driver.block_action("case_open", user=ELEVHALSA, value=str(case_id), channel=CHANNEL)
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert "Kopplade insatser" in text_of(view)
    assert "action_new_for_case" not in text_of(view)
    bot.slack.assert_no_violations()


def test_an_action_marked_done_by_mistake_is_opened_again(bot: Bot, forum: dict[str, int]) -> None:
    """'Klar' pressed by mistake (or too soon) is undone with 'Öppna igen' on the card or
    in the list's row menu, until the effect is followed up: the action is open again with
    its reminders, counted as not done, and the history says who opened it. Someone who may
    not change it, an open action and a followed-up one are refused."""
    submit_action(bot, forum)
    action = the_action(bot)
    assert action.remind_at is not None
    press(bot, "action_done", ELEVHALSA, str(action.id))
    card = bot.slack.wait_for("response_url")[-1].args
    assert "action_reopen" in text_of(card) and "action_follow_up_open" in text_of(card)
    assert the_action(bot).remind_at is None
    press(bot, "action_reopen", SOCIAL, str(action.id))  # another agency
    refused = text_of(bot.slack.wait_for("response_url", count=2)[-1].args)
    assert "Bara ägaren, en medlem i den ägande verksamheten" in refused
    assert the_action(bot).status is ActionStatus.DONE
    press(bot, "action_reopen", ELEVHALSA, str(action.id))
    reopened = bot.slack.wait_for("response_url", count=3)[-1].args
    assert reopened.get("replace_original") is True
    assert "action_done" in text_of(reopened) and "öppnade den igen" in text_of(reopened)
    again = the_action(bot)
    assert again.status is ActionStatus.OPEN and again.completed_at is None
    assert again.remind_at is not None
    assert [h[:2] for h in history(bot, action.id)][-2:] == [
        ("done", ELEVHALSA),
        ("reopened", ELEVHALSA),
    ]
    press(bot, "action_reopen", ELEVHALSA, str(action.id))  # open already
    assert "Insatsen är redan öppen." in text_of(
        bot.slack.wait_for("response_url", count=4)[-1].args
    )
    # From the forum's list: done by a colleague, opened again from the row menu.
    press(bot, "action_done", ELEVHALSA2, str(action.id))
    bot.slack.wait_for("response_url", count=5)
    bot.driver.command("insatser forum klara", user=ELEVHALSA2)
    listed = text_of(bot.slack.wait_for("response_url", count=6)[-1].args)
    assert f"reopen:{action.id}" in listed
    bot.driver.block_action(
        "action_row_menu",
        user=ELEVHALSA2,
        block_id=f"action.{action.id}@0:forum:done",
        selected_option={
            "text": {"type": "plain_text", "text": "Öppna igen"},
            "value": f"reopen:{action.id}",
        },
        extra_action={"type": "overflow"},
    )
    bot.slack.wait_for("response_url", count=7)
    assert the_action(bot).status is ActionStatus.OPEN
    # Once the effect is followed up, it stays done.
    press(bot, "action_done", ELEVHALSA, str(action.id))
    bot.slack.wait_for("response_url", count=8)
    with transaction(bot.sessions) as s:
        forum_row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        access = fs.require_member(s, forum=forum_row, slack_user_id=ELEVHALSA)
        from domain import actions as action_service

        action_service.record_follow_up(
            s, bot.clock, access=access, action_id=action.id, effect=Effect.PARTLY, comment=""
        )
    press(bot, "action_reopen", ELEVHALSA, str(action.id))
    assert "Effekten är redan uppföljd" in text_of(
        bot.slack.wait_for("response_url", count=9)[-1].args
    )
    assert the_action(bot).status is ActionStatus.DONE
    bot.slack.assert_no_violations()


# --- cancelling -----------------------------------------------------------------------------


def other_forums_action(bot: Bot, *, team_id: str, channel: str) -> int:
    """An action in another forum (of this workspace or another one), owned by its admin."""
    from domain import actions as action_service

    draft = forum_draft(name=f"Forum {channel}", code=channel, areas=["Visby"])
    with transaction(bot.sessions) as s:
        other = fs.create_forum(
            s, bot.clock, team_id=team_id, channel_id=channel, actor="U7", draft=draft
        )
        access = fs.require_member(s, forum=other, slack_user_id="U7")
        action, _ = action_service.create_action(
            s,
            bot.clock,
            access=access,
            draft=action_service.ActionDraft(
                description="Annat forums insats",
                agency_id=access.member.agency_id,
                owner="U7",
                due_on=dt.date(2026, 12, 3),
            ),
        )
        return action.id


def cancel_values(reason: str) -> dict[str, Any]:
    return {"reason": {"value": plain_value(reason)}}


def test_an_action_no_longer_relevant_is_cancelled_with_a_reason(
    bot: Bot, forum: dict[str, int]
) -> None:
    """'Avbryt insatsen' (card, detail, list row) ends an open action that is no longer
    relevant without counting it as done: a short non-identifying reason is required, its
    reminders stop, the history and the audit log say who and why, it is left out of the
    open and done lists and can be neither done nor opened again. Another agency's member
    is refused before the modal opens; the owning agency's members may cancel it."""
    submit_action(bot, forum)
    action = the_action(bot)
    assert action.remind_at is not None
    bot.slack.wait_for("chat.postMessage", count=2)
    created = next(c for c in dms_to(bot, ELEVHALSA) if "action_done" in text_of(c.args))
    assert "action_cancel_open" in text_of(created.args) and "Avbryt insatsen" in text_of(
        created.args
    )
    press(bot, "action_cancel_open", SOCIAL, str(action.id))  # another agency
    refused = bot.slack.wait_for("views.open")[-1].args["view"]
    assert refused.get("callback_id") != "action_cancel"
    assert "Bara ägaren, en medlem i den ägande verksamheten" in text_of(refused)
    press(bot, "action_cancel_open", ELEVHALSA2, str(action.id))  # the owning agency
    view = bot.slack.wait_for("views.open", count=2)[-1].args["view"]
    assert view["callback_id"] == "action_cancel"

    def submit(reason: str, user: str = ELEVHALSA2, private: str | None = None) -> Any:
        values = cancel_values(reason)
        return bot.driver.view_submission(
            "action_cancel",
            values,
            user=user,
            private_metadata=private or view["private_metadata"],
            blocks=blocks_of(values),
        )

    assert "Skriv kort varför insatsen avbryts" in submit("  ").json()["errors"]["reason"]
    assert set(submit("ring 070-123 45 67").json()["errors"]) == {"reason"}
    assert the_action(bot).status is ActionStatus.OPEN
    assert submit("Behovet löstes på annat sätt").json() is None
    cancelled = the_action(bot)
    assert cancelled.status is ActionStatus.CANCELLED
    assert cancelled.remind_at is None and cancelled.snoozed_until is None
    assert history(bot, action.id)[-1] == (
        "cancelled",
        ELEVHALSA2,
        {},
        "Behovet löstes på annat sätt",
    )
    with bot.sessions() as s:
        audited = s.scalars(
            select(AuditEvent).where(
                AuditEvent.object_type == "action", AuditEvent.object_ref == str(action.id)
            )
        ).all()
    assert any((e.detail or {}).get("status") == "cancelled" for e in audited)
    # The card in the owner's DM shows it cancelled, without buttons.
    updated = bot.slack.wait_for("chat.update")[-1].args
    assert "Avbruten" in text_of(updated) and "action_done" not in text_of(updated)
    # Not done, not open again, not cancelled twice; gone from the lists.
    press(bot, "action_done", ELEVHALSA, str(action.id))
    assert "Insatsen är avbruten." in text_of(bot.slack.wait_for("response_url")[-1].args)
    press(bot, "action_reopen", ELEVHALSA, str(action.id))
    assert "Insatsen är avbruten." in text_of(bot.slack.wait_for("response_url", count=2)[-1].args)
    press(bot, "action_cancel_open", ELEVHALSA, str(action.id))
    again = bot.slack.wait_for("views.open", count=3)[-1].args["view"]
    assert again.get("callback_id") != "action_cancel"
    assert "Insatsen är avbruten." in text_of(again)
    assert the_action(bot).status is ActionStatus.CANCELLED
    bot.driver.command("insatser forum klara", user=ELEVHALSA)
    assert f"#{action.id}*" not in text_of(bot.slack.wait_for("response_url", count=3)[-1].args)
    bot.slack.assert_no_violations()


def test_cancel_from_the_list_row_and_crafted_ids_of_other_forums(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The list's row menu offers 'Avbryt insatsen' on open actions. A cancel modal or
    button naming another forum's action (this workspace's or another's) is told that the
    action no longer exists, and that action stays open."""
    submit_action(bot, forum)
    action = the_action(bot)
    bot.driver.command("insatser forum", user=ADMIN)
    assert f"cancel:{action.id}" in text_of(bot.slack.wait_for("response_url")[-1].args)
    bot.driver.block_action(
        "action_row_menu",
        user=ADMIN,  # a coordinator, of another agency
        block_id=f"action.{action.id}@0:forum:open",
        selected_option={
            "text": {"type": "plain_text", "text": "Avbryt insatsen"},
            "value": f"cancel:{action.id}",
        },
        extra_action={"type": "overflow"},
    )
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert view["callback_id"] == "action_cancel"
    private = json.loads(view["private_metadata"])
    opened = 1
    for team, channel in (("T0001", "C0002"), ("T0002", "C0003")):
        theirs = other_forums_action(bot, team_id=team, channel=channel)
        press(bot, "action_cancel_open", ADMIN, str(theirs))
        opened += 1
        told = bot.slack.wait_for("views.open", count=opened)[-1].args["view"]
        assert told.get("callback_id") != "action_cancel"
        assert "Insatsen finns inte längre." in text_of(told)
        values = cancel_values("Inte längre aktuell")
        body = bot.driver.view_submission(
            "action_cancel",
            values,
            user=ADMIN,
            private_metadata=json.dumps({**private, "action_id": theirs}),
            blocks=blocks_of(values),
        ).json()
        assert "Insatsen finns inte längre." in text_of(body)
        with bot.sessions() as s:
            assert s.get(Action, theirs).status is ActionStatus.OPEN  # type: ignore[union-attr]
    values = cancel_values("Inte längre aktuell")
    assert (
        bot.driver.view_submission(
            "action_cancel",
            values,
            user=ADMIN,
            private_metadata=view["private_metadata"],
            blocks=blocks_of(values),
        ).json()
        is None
    )
    with bot.sessions() as s:
        assert s.get(Action, action.id).status is ActionStatus.CANCELLED  # type: ignore[union-attr]
    assert history(bot, action.id)[-1][:2] == ("cancelled", ADMIN)


# --- moving to another agency ---------------------------------------------------------------


def test_a_coordinator_moves_an_action_whose_agency_is_gone_to_another_agency(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Its agency removed from the forum (its members gone, the action without an owner), an
    open action is moved by a coordinator to another active agency with one of its members
    as the owner, from the hand-over modal: the new owner gets the usual DM, the history
    and the audit log say so. A member (not a coordinator) cannot move one, even with a
    crafted agency; a removed agency, another forum's agency or a crafted value is no
    agency, told on the field."""
    from storage.models import Agency, Member

    submit_action(bot, forum)
    action = the_action(bot)
    press(bot, "action_hand_over", ELEVHALSA2, str(action.id))
    member_view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert member_view["callback_id"] == "action_handover"
    assert "agency" not in [b.get("block_id") for b in member_view["blocks"]]

    def submit(private: str, user: str, agency: str | None, owner: str) -> Any:
        values: dict[str, Any] = {"owner": {"value": users_value(owner)}}
        if agency is not None:
            values["agency"] = {"value": select_value(agency)}
        return bot.driver.view_submission(
            "action_handover",
            values,
            user=user,
            private_metadata=private,
            blocks=blocks_of(values),
        )

    crafted = submit(
        member_view["private_metadata"], ELEVHALSA2, str(forum["Socialtjänst/IFO"]), SOCIAL
    )
    assert "Bara samordnare kan flytta en insats" in text_of(crafted.json())
    assert the_action(bot).owning_agency_id == forum["Elevhälsa"]
    # Elevhälsa leaves the forum; the action stays without an owner.
    with transaction(bot.sessions) as s:
        s.get(Agency, forum["Elevhälsa"]).active = False  # type: ignore[union-attr]
        for m in s.scalars(select(Member).where(Member.agency_id == forum["Elevhälsa"])):
            m.active = False
        s.get(Action, action.id).owner = None  # type: ignore[union-attr]
    theirs = other_forums_action(bot, team_id="T0001", channel="C0002")
    with bot.sessions() as s:
        other_agency = s.get(Action, theirs).owning_agency_id  # type: ignore[union-attr]
    press(bot, "action_hand_over", ADMIN, str(action.id))
    view = bot.slack.wait_for("views.open", count=2)[-1].args["view"]
    assert view["callback_id"] == "action_handover"
    (agency_block,) = [b for b in view["blocks"] if b.get("block_id") == "agency"]
    offered = [o["value"] for o in agency_block["element"]["options"]]
    assert str(forum["Socialtjänst/IFO"]) in offered and str(forum["Elevhälsa"]) not in offered
    private = view["private_metadata"]
    for agency in (str(forum["Elevhälsa"]), str(other_agency), "abc"):
        body = submit(private, ADMIN, agency, SOCIAL).json()
        assert list(body["errors"]) == ["agency"], agency
    body = submit(private, ADMIN, str(forum["Socialtjänst/IFO"]), ELEVHALSA).json()
    assert list(body["errors"]) == ["owner"] and "Socialtjänst/IFO" in body["errors"]["owner"]
    with bot.sessions() as s:
        moved = s.get(Action, action.id)
        assert moved is not None
        assert moved.owning_agency_id == forum["Elevhälsa"] and moved.owner is None
    assert submit(private, ADMIN, str(forum["Socialtjänst/IFO"]), SOCIAL).json() is None
    with bot.sessions() as s:
        moved = s.get(Action, action.id)
        assert moved is not None
        assert moved.owning_agency_id == forum["Socialtjänst/IFO"] and moved.owner == SOCIAL
        assert moved.remind_at is not None
        audited = s.scalars(
            select(AuditEvent).where(
                AuditEvent.object_type == "action", AuditEvent.object_ref == str(action.id)
            )
        ).all()
    assert any((e.detail or {}).get("agency_id") == forum["Socialtjänst/IFO"] for e in audited)
    assert history(bot, action.id)[-1][:3] == (
        "handed_over",
        ADMIN,
        {"from": None, "to": SOCIAL, "from_agency": "Elevhälsa", "to_agency": "Socialtjänst/IFO"},
    )
    bot.wait_idle()
    dm = dms_to(bot, SOCIAL)[-1]
    assert "action_done" in text_of(dm.args) and DESCRIPTION in text_of(dm.args)
    press(bot, "action_history", SOCIAL, str(action.id))
    detail = bot.slack.wait_for("views.open", count=3)[-1].args["view"]
    assert "flyttade den till Socialtjänst/IFO" in text_of(detail)
    bot.slack.assert_no_violations()


def test_a_hand_over_drops_the_old_owners_snooze(bot: Bot, forum: dict[str, int]) -> None:
    """The owner snoozed the reminder (tomorrow morning, an hour); handed over, the new owner
    gets the planned reminder, not the old owner's snoozed time."""
    submit_action(bot, forum)
    action = the_action(bot)
    planned = action.remind_at
    assert planned is not None
    press(bot, "action_snooze_hour", ELEVHALSA, str(action.id))
    bot.slack.wait_for("response_url")
    snoozed = the_action(bot)
    assert snoozed.snoozed_until is not None and snoozed.remind_at != planned
    press(bot, "action_hand_over", ELEVHALSA, str(action.id))
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    values = {"owner": {"value": users_value(ELEVHALSA2)}}
    body = bot.driver.view_submission(
        "action_handover",
        values,
        user=ELEVHALSA,
        private_metadata=view["private_metadata"],
        blocks=blocks_of(values),
    )
    assert body.json() is None
    handed = the_action(bot)
    assert handed.owner == ELEVHALSA2
    assert handed.snoozed_until is None and handed.remind_at == planned


# --- the previous owner is told ---------------------------------------------------------------

NO_LONGER = ("is no longer yours", "är inte längre din")


def dms_saying(bot: Bot, phrases: tuple[str, ...]) -> list[Any]:
    """Every message that says one of ``phrases`` (one wording per language)."""
    return [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if any(words in text_of(c.args) for words in phrases)
    ]


def handed_away(bot: Bot) -> list[Any]:
    """Every DM telling someone an action is no longer theirs, in either language."""
    return dms_saying(bot, NO_LONGER)


def hand_over_as(
    bot: Bot, user: str, action_id: int, owner: str, agency: int | None = None, *, views: int
) -> Any:
    """``user`` opens the action's hand-over modal (the ``views``-th views.open) and gives
    the action to ``owner`` (in ``agency``: a coordinator's move)."""
    press(bot, "action_hand_over", user, str(action_id))
    view = bot.slack.wait_for("views.open", count=views)[-1].args["view"]
    assert view["callback_id"] == "action_handover"
    return submit_hand_over(bot, user, view, owner, agency)


def submit_hand_over(
    bot: Bot, user: str, view: dict[str, Any], owner: str, agency: int | None = None
) -> Any:
    """``user`` submits the hand-over modal ``view`` (its metadata as opened), giving the
    action to ``owner`` (in ``agency``: a coordinator's move)."""
    values: dict[str, Any] = {"owner": {"value": users_value(owner)}}
    if agency is not None:
        values["agency"] = {"value": select_value(str(agency))}
    return bot.driver.view_submission(
        "action_handover",
        values,
        user=user,
        private_metadata=view["private_metadata"],
        blocks=blocks_of(values),
    )


def test_the_previous_owner_is_told_in_their_language_after_the_ack(
    bot: Bot, forum: dict[str, int]
) -> None:
    """A coordinator moves an action to another agency: the member who owned it is told
    once, in their own language, after the ack (as the new owner is), who moved it and to
    whom, the action as they may see it and no buttons. Moved back, the Swedish-speaking
    owner it was taken from is told in Swedish."""
    bot.slack.set_user(ELEVHALSA, locale="en-GB")
    bot.slack.set_user(SOCIAL, locale="sv-SE")
    submit_action(bot, forum)
    bot.slack.wait_for("chat.postMessage", count=2)
    action = the_action(bot)
    answered = threading.Event()
    seen_after_the_ack: list[bool] = []

    def hold_the_old_owners_dm(call: Any) -> None:
        if call.method == "chat.postMessage" and call.args.get("channel") == ELEVHALSA:
            seen_after_the_ack.append(answered.wait(5))  # (within the driver's 10 s)

    bot.slack.add_listener(hold_the_old_owners_dm)
    response = hand_over_as(bot, ADMIN, action.id, SOCIAL, forum["Socialtjänst/IFO"], views=1)
    assert response.json() is None
    answered.set()
    bot.wait_idle()
    assert len(seen_after_the_ack) == 1, "the previous owner is told once"
    assert seen_after_the_ack == [True], "the previous owner's DM was sent before the ack"
    assert the_action(bot).owner == SOCIAL
    (english,) = handed_away(bot)
    assert english.args["channel"] == ELEVHALSA
    text = text_of(english.args)
    assert f"Action #{action.id} is no longer yours" in text
    assert f"<@{ADMIN}> handed action #{action.id} over to <@{SOCIAL}> (Socialtjänst/IFO)" in text
    assert "no longer its owner" in text and DESCRIPTION in text
    assert "Thursday 3 December" in text  # the due date, in English too
    assert "action_done" not in text and "action_hand_over" not in text  # no longer theirs
    (new_owners,) = dms_to(bot, SOCIAL)
    assert "lämnade över insats" in text_of(new_owners.args)

    assert (
        hand_over_as(bot, ADMIN, action.id, ELEVHALSA2, forum["Elevhälsa"], views=2).json() is None
    )
    bot.wait_idle()
    english_again, swedish = handed_away(bot)
    assert english_again is english and swedish.args["channel"] == SOCIAL
    text = text_of(swedish.args)
    assert f"Insats #{action.id} är inte längre din" in text
    assert f"<@{ADMIN}> lämnade över insats #{action.id} till <@{ELEVHALSA2}> (Elevhälsa)" in text
    assert "Du är inte längre dess ägare" in text and "torsdag 3 december" in text
    assert len(dms_to(bot, ELEVHALSA)) == 2  # its creation, the move: nothing since
    bot.slack.assert_no_violations()


def test_a_hand_over_asks_slack_for_the_owners_languages_before_its_transaction(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Neither owner's language is known any more (this replica's cache has forgotten,
    nothing stored) and Slack is slow: the hand-over looks both up before its transaction,
    never while the transaction that moves the action is open (it would hold the action's
    row, on SQLite the whole database, a second), and each is told in their language."""
    bot.slack.set_user(ELEVHALSA, locale="en-GB")
    bot.slack.set_user(SOCIAL, locale="sv-SE")
    submit_action(bot, forum)
    bot.slack.wait_for("chat.postMessage", count=2)
    action = the_action(bot)
    bot.wait_idle()
    settle_stores()
    with transaction(bot.sessions) as s:
        s.execute(delete(MemberLanguage))
    bot.runtime.deps.monotonic = lambda: time.monotonic() + 7200  # the cache has forgotten
    bot.slack.delay_seconds = 0.3
    asked = bot.slack.count("users.info")
    with slack_calls_in_open_writes(
        bot.sessions, bot.slack, "users.info", "UPDATE actions"
    ) as during_the_move:
        response = hand_over_as(bot, ADMIN, action.id, SOCIAL, forum["Socialtjänst/IFO"], views=1)
        assert response.json() is None
        bot.wait_idle()
    bot.slack.delay_seconds = 0
    assert bot.slack.count("users.info") > asked  # Slack was asked, as the owners were unknown
    assert during_the_move and not any(during_the_move), during_the_move
    (english,) = handed_away(bot)
    assert english.args["channel"] == ELEVHALSA
    assert f"Action #{action.id} is no longer yours" in text_of(english.args)
    (new_owners,) = dms_to(bot, SOCIAL)
    assert "lämnade över insats" in text_of(new_owners.args)


def test_an_outsiders_crafted_hand_over_asks_slack_about_no_owner(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Someone outside the forum submits a hand-over with its action's id (the form's
    metadata copied from a coordinator's): the look-up before the transaction asks Slack
    about no owner (the time it takes would tell an outsider that another forum's action
    exists and whose it is), and the door refuses as before: nothing changes."""
    submit_action(bot, forum)
    bot.slack.wait_for("chat.postMessage", count=2)
    action = the_action(bot)
    assert action.owner == ELEVHALSA
    bot.wait_idle()
    settle_stores()
    with transaction(bot.sessions) as s:
        s.execute(delete(MemberLanguage))
    bot.runtime.deps.monotonic = lambda: time.monotonic() + 7200  # the cache has forgotten
    press(bot, "action_hand_over", ADMIN, str(action.id))
    view = bot.slack.wait_for("views.open", count=1)[-1].args["view"]
    asked = len(bot.slack.calls_to("users.info"))
    submit_hand_over(bot, OUTSIDER, view, OUTSIDER)
    bot.wait_idle()
    looked_up = [c.args.get("user") for c in bot.slack.calls_to("users.info")[asked:]]
    assert ELEVHALSA not in looked_up, looked_up
    assert the_action(bot).owner == ELEVHALSA


def test_no_one_is_told_it_is_no_longer_theirs_who_handed_it_over_or_left(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The owner hands their action over themselves: they are not told it is no longer
    theirs (the new owner is told, as before). The owner left the forum: a coordinator's
    hand-over tells the new owner only, never a former member."""
    submit_action(bot, forum)
    bot.slack.wait_for("chat.postMessage", count=2)
    action = the_action(bot)
    assert hand_over_as(bot, ELEVHALSA, action.id, ELEVHALSA2, views=1).json() is None
    bot.wait_idle()
    assert the_action(bot).owner == ELEVHALSA2 and len(dms_to(bot, ELEVHALSA2)) == 1
    assert handed_away(bot) == []
    with transaction(bot.sessions) as s:  # ELEVHALSA2 leaves the forum, still the owner
        s.execute(update(Member).where(Member.slack_user_id == ELEVHALSA2).values(active=False))
    before = len(dms_to(bot, ELEVHALSA2))
    assert hand_over_as(bot, ADMIN, action.id, ELEVHALSA, views=2).json() is None
    bot.wait_idle()
    assert the_action(bot).owner == ELEVHALSA
    assert len(dms_to(bot, ELEVHALSA2)) == before and handed_away(bot) == []
    assert any("lämnade över insats" in text_of(c.args) for c in dms_to(bot, ELEVHALSA))
    bot.slack.assert_no_violations()


def test_the_previous_owner_sees_no_details_of_a_case_their_agency_may_not_see(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The action is linked to a case whose consent covered Socialtjänst when its
    Socialtjänst owner got it, and covers Elevhälsa only now: moved from that owner to
    Elevhälsa, the previous owner's DM names it by its number (details hidden, and why), as
    the action DMs do, while the new owner reads it."""
    reference, case_id = _elevhalsa_case(bot, forum, consent=("Elevhälsa", "Socialtjänst/IFO"))
    body = submit_action(bot, forum, case=reference, agency="Socialtjänst/IFO", owner=SOCIAL)
    assert body.json() is None
    bot.slack.wait_for("chat.postMessage", count=2)
    action = the_action(bot)
    _narrow_consent(bot, case_id, forum["Elevhälsa"])
    assert (
        hand_over_as(bot, ADMIN, action.id, ELEVHALSA, forum["Elevhälsa"], views=1).json() is None
    )
    bot.wait_idle()
    (told,) = handed_away(bot)
    assert told.args["channel"] == SOCIAL
    text = text_of(told.args)
    # Why, as far as a reader of neither the consent register nor the case may know it.
    assert "detaljer dolda: inget samtycke omfattar din verksamhet" in text
    assert f"#{action.id}" in text
    assert DESCRIPTION not in text and "Ökad närvaro" not in text
    assert DESCRIPTION in text_of(dms_to(bot, ELEVHALSA)[-1].args)
    bot.slack.assert_no_violations()


MOVED = ("now belongs to", "tillhör nu")


def moved_dms(bot: Bot) -> list[Any]:
    """Every DM telling an owner their action moved to another agency, in either language."""
    return dms_saying(bot, MOVED)


def test_an_owner_kept_when_a_coordinator_moves_their_action_is_told_it_moved(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The owner moved to Socialtjänst; a coordinator moves their action there, keeping
    them as its owner. They are told once, after the ack, in their own language (looked up
    before the move's transaction, as a hand-over's are: neither this replica nor the
    database knows it any more), which agency it now belongs to and who moved it, the
    action as they may now see it (its case's consent covers both agencies) with its
    buttons (it is still theirs). Nobody is told it was handed over."""
    bot.slack.set_user(ELEVHALSA, locale="en-GB")
    reference, _ = _elevhalsa_case(bot, forum, consent=("Elevhälsa", "Socialtjänst/IFO"))
    assert submit_action(bot, forum, case=reference).json() is None
    bot.slack.wait_for("chat.postMessage", count=2)
    action = the_action(bot)
    with transaction(bot.sessions) as s:
        forum_row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        fs.add_members(
            s,
            bot.clock,
            forum=forum_row,
            actor=ADMIN,
            slack_user_ids=[ELEVHALSA],
            agency_id=forum["Socialtjänst/IFO"],
            role=Role.MEMBER,
            confirm_moves=True,
        )
    bot.wait_idle()
    settle_stores()
    with transaction(bot.sessions) as s:
        s.execute(delete(MemberLanguage))
    bot.runtime.deps.monotonic = lambda: time.monotonic() + 7200  # the cache has forgotten
    bot.slack.delay_seconds = 0.3
    before = len(dms_to(bot, ELEVHALSA))
    with slack_calls_in_open_writes(
        bot.sessions, bot.slack, "users.info", "UPDATE actions"
    ) as during_the_move:
        response = hand_over_as(
            bot, ADMIN, action.id, ELEVHALSA, forum["Socialtjänst/IFO"], views=1
        )
        assert response.json() is None
        bot.wait_idle()
    bot.slack.delay_seconds = 0
    assert during_the_move and not any(during_the_move), during_the_move
    moved = the_action(bot)
    assert (moved.owner, moved.owning_agency_id) == (ELEVHALSA, forum["Socialtjänst/IFO"])
    (told,) = moved_dms(bot)
    assert told.args["channel"] == ELEVHALSA
    text = text_of(told.args)
    assert f"Action #{action.id} now belongs to Socialtjänst/IFO" in text
    assert f"<@{ADMIN}> moved action #{action.id} to Socialtjänst/IFO" in text
    assert "still its owner" in text and "action_done" in text
    assert DESCRIPTION in text and "details hidden" not in text
    assert len(dms_to(bot, ELEVHALSA)) == before + 1
    assert handed_away(bot) == []
    bot.slack.assert_no_violations()


def test_an_owner_who_moves_their_own_action_to_another_agency_is_not_told(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The owner, a coordinator now of Socialtjänst, moves their own action there, keeping
    it: moved, and nobody is told (they did it themselves)."""
    assert submit_action(bot, forum).json() is None
    bot.slack.wait_for("chat.postMessage", count=2)
    action = the_action(bot)
    with transaction(bot.sessions) as s:
        s.execute(
            update(Member)
            .where(Member.slack_user_id == ELEVHALSA)
            .values(agency_id=forum["Socialtjänst/IFO"], role=Role.COORDINATOR)
        )
    before = len(bot.slack.calls_to("chat.postMessage"))
    response = hand_over_as(
        bot, ELEVHALSA, action.id, ELEVHALSA, forum["Socialtjänst/IFO"], views=1
    )
    assert response.json() is None
    bot.wait_idle()
    moved = the_action(bot)
    assert (moved.owner, moved.owning_agency_id) == (ELEVHALSA, forum["Socialtjänst/IFO"])
    assert history(bot, action.id)[-1][:2] == ("handed_over", ELEVHALSA)
    assert len(bot.slack.calls_to("chat.postMessage")) == before and moved_dms(bot) == []
    bot.slack.assert_no_violations()


# --- an owner must be able to read their action ----------------------------------------------

NOT_COVERED = "Ärendets samtycke omfattar inte Socialtjänst/IFO"
HIDDEN_CASE = (
    "Du får inte se ärende {}, så en insats kan inte kopplas till det. Lämna "
    "ärendereferensen tom, eller be en samordnare."
)


def test_an_action_is_not_given_to_an_agency_its_case_is_hidden_from(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The case's consent covers Elevhälsa (Grundskola raised it). The coordinator gives
    its action to Socialtjänst: refused on the agency, naming the agencies that may see
    the case, since Socialtjänst's owner would get an action it can see only as "details
    hidden". Nothing is stored and nobody is told. A member of Socialtjänst, who may not
    see the case, is told only about the agency they chose: not who may see it. Given to
    Elevhälsa, it is created."""
    reference, _ = _elevhalsa_case(bot, forum)
    body = submit_action(bot, forum, case=reference, agency="Socialtjänst/IFO", owner=SOCIAL)
    errors = body.json()["errors"]
    assert list(errors) == ["agency"]
    assert errors["agency"].startswith(NOT_COVERED)
    assert (
        f"Välj en verksamhet som får se ärende {reference}: Grundskola, Elevhälsa."
        in (errors["agency"])
    )
    body = submit_action(
        bot, forum, user=SOCIAL, case=reference, agency="Socialtjänst/IFO", owner=SOCIAL
    )
    errors = body.json()["errors"]
    assert list(errors) == ["case"] and errors["case"] == HIDDEN_CASE.format(reference)
    bot.wait_idle()
    assert count(bot, Action) == 0 and dms_to(bot, SOCIAL) == []
    assert submit_action(bot, forum, case=reference).json() is None
    assert the_action(bot).owning_agency_id == forum["Elevhälsa"]
    bot.slack.assert_no_violations()


def test_a_member_who_may_not_see_the_case_cannot_learn_whom_its_consent_covers(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The consent covers Elevhälsa, not Socialtjänst. A member of Socialtjänst, who may not
    see the case, submits the form with its reference and each agency in turn (the
    description left out, so nothing is saved): the same answer for both, on the case, and
    each attempt audited as a refused look at the case. The coordinator is still told which
    agencies may see it (tests/integration/test_case_hidden_reasons.py: a member of
    Elevhälsa, who reads the case but not its consent register, is not)."""
    reference, _ = _elevhalsa_case(bot, forum)
    answers = [
        submit_action(
            bot, forum, user=SOCIAL, description="", case=reference, agency=agency, owner=owner
        ).json()["errors"]
        for agency, owner in (("Elevhälsa", ELEVHALSA), ("Socialtjänst/IFO", SOCIAL))
    ]
    assert answers[0] == answers[1]
    assert set(answers[0]) == {"description", "case"}
    assert answers[0]["case"] == HIDDEN_CASE.format(reference)
    errors = submit_action(
        bot, forum, user=ADMIN, case=reference, agency="Socialtjänst/IFO", owner=SOCIAL
    ).json()["errors"]
    assert list(errors) == ["agency"] and errors["agency"].startswith(NOT_COVERED)
    assert f"ärende {reference}: Grundskola, Elevhälsa." in errors["agency"]
    bot.wait_idle()
    assert count(bot, Action) == 0
    with bot.sessions() as s:
        refused = [
            e.detail or {}
            for e in s.scalars(
                select(AuditEvent).where(
                    AuditEvent.actor == SOCIAL, AuditEvent.object_ref == reference
                )
            )
        ]
    assert refused and all(
        d.get("refused") == "details_hidden" and d.get("attempt") == "action" for d in refused
    )
    bot.slack.assert_no_violations()


def consent_reads(bot: Bot, user: str, reference: str) -> list[dict[str, Any]]:
    with bot.sessions() as s:
        return [
            e.detail or {}
            for e in s.scalars(
                select(AuditEvent).where(
                    AuditEvent.actor == user,
                    AuditEvent.object_type == "consent",
                    AuditEvent.object_ref == reference,
                )
            )
        ]


def test_a_coordinator_told_which_agencies_may_see_the_case_reads_its_consent_register(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The coordinator gives the case's action to Socialtjänst, which its consent does not
    cover: the refusal names the agencies that may see the case, which is what the consent
    register tells. That is audited as a read of the register (as opening it is), and the
    event stays although the refusal keeps nothing else of the submission."""
    reference, _ = _elevhalsa_case(bot, forum)
    assert consent_reads(bot, ADMIN, reference) == []
    errors = submit_action(
        bot, forum, case=reference, agency="Socialtjänst/IFO", owner=SOCIAL
    ).json()["errors"]
    assert f"ärende {reference}: Grundskola, Elevhälsa." in errors["agency"]
    bot.wait_idle()
    assert count(bot, Action) == 0
    (read,) = consent_reads(bot, ADMIN, reference)
    assert read["surface"] == "consent_register" and read["details"] is True
    assert read["basis"] == "coordinator"
    bot.slack.assert_no_violations()


def test_an_action_is_not_handed_over_or_moved_to_an_agency_its_case_is_hidden_from(
    bot: Bot, forum: dict[str, int]
) -> None:
    """An Elevhälsa action of a case only Elevhälsa (and Grundskola, which raised it) may
    see: a coordinator moving it to Socialtjänst is refused on the agency, naming who may
    see the case; nothing changes and nobody is told. Once the consent is withdrawn
    (Elevhälsa may no longer see it either), its owner cannot hand it over within
    Elevhälsa: refused on the owner, asking for a coordinator to move it."""
    reference, case_id = _elevhalsa_case(bot, forum)
    assert submit_action(bot, forum, case=reference).json() is None
    bot.slack.wait_for("chat.postMessage", count=2)
    action = the_action(bot)
    posts = bot.slack.count("chat.postMessage")
    body = hand_over_as(bot, ADMIN, action.id, SOCIAL, forum["Socialtjänst/IFO"], views=1)
    errors = body.json()["errors"]
    assert list(errors) == ["agency"] and errors["agency"].startswith(NOT_COVERED)
    assert f"ärende {reference}: Grundskola, Elevhälsa." in errors["agency"]
    from domain.cases import withdraw_consent

    with transaction(bot.sessions) as s:
        forum_row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        withdraw_consent(
            s,
            bot.clock,
            access=fs.require_member(s, forum=forum_row, slack_user_id=ADMIN),
            case_id=case_id,
        )
    body = hand_over_as(bot, ELEVHALSA, action.id, ELEVHALSA2, views=2)
    errors = body.json()["errors"]
    assert list(errors) == ["owner"]
    assert errors["owner"] == (  # no word of the consent: the register is not theirs
        "Inget samtycke omfattar Elevhälsa, så ägaren skulle inte kunna läsa insatsen. "
        "Be en samordnare flytta den till en verksamhet som får se ärendet."
    )
    bot.wait_idle()
    unchanged = the_action(bot)
    assert (unchanged.owner, unchanged.owning_agency_id) == (ELEVHALSA, forum["Elevhälsa"])
    assert [h[0] for h in history(bot, action.id)] == ["created"]
    assert bot.slack.count("chat.postMessage") == posts
    bot.slack.assert_no_violations()


def test_a_coordinator_refused_a_hand_over_for_the_true_reason_reads_the_consent_register(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The consent was withdrawn; Elevhälsa's member, a coordinator now, hands its action
    over within Elevhälsa: refused on the owner with the true reason (the case has no valid
    consent), which is the consent register's. That is audited as a read of the register,
    kept although the refusal rolls the hand-over back (before, only a refusal naming the
    agencies that may see the case was)."""
    reference, case_id = _elevhalsa_case(bot, forum)
    assert submit_action(bot, forum, case=reference).json() is None
    bot.slack.wait_for("chat.postMessage", count=2)
    action = the_action(bot)
    from domain.cases import withdraw_consent

    with transaction(bot.sessions) as s:
        forum_row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        withdraw_consent(
            s,
            bot.clock,
            access=fs.require_member(s, forum=forum_row, slack_user_id=ADMIN),
            case_id=case_id,
        )
        s.execute(
            update(Member).where(Member.slack_user_id == ELEVHALSA).values(role=Role.COORDINATOR)
        )
    press(bot, "action_hand_over", ELEVHALSA, str(action.id))
    view = bot.slack.wait_for("views.open", count=1)[-1].args["view"]
    bot.wait_idle()
    before = len(consent_reads(bot, ELEVHALSA, reference))
    errors = submit_hand_over(bot, ELEVHALSA, view, ELEVHALSA2).json()["errors"]
    assert errors["owner"].startswith("Ärendet saknar gällande samtycke, så en ägare i Elevhälsa")
    bot.wait_idle()
    assert the_action(bot).owner == ELEVHALSA
    reads = consent_reads(bot, ELEVHALSA, reference)
    # The refusal's (kept), and the card's that the check after the change reads (the
    # action as its reader may see it, with the reason its text is hidden).
    assert len(reads) == before + 2, reads
    assert reads[-1]["surface"] == "consent_register" and reads[-1]["basis"] == "coordinator"
    bot.slack.assert_no_violations()


def test_an_owner_whose_agency_the_case_no_longer_covers_is_told_why_details_are_hidden(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Socialtjänst got the action while the consent covered it; the consent now covers
    Elevhälsa only. The owner's list and App Home still name it by number with its text
    hidden, and say why (what the case's own modal tells them), not just "details
    hidden"; a reader who may see the case reads it."""
    reference, case_id = _elevhalsa_case(bot, forum, consent=("Elevhälsa", "Socialtjänst/IFO"))
    body = submit_action(bot, forum, case=reference, agency="Socialtjänst/IFO", owner=SOCIAL)
    assert body.json() is None
    action = the_action(bot)
    _narrow_consent(bot, case_id, forum["Elevhälsa"])
    # Why, as far as a reader of neither the consent register nor the case may know it
    # (tests/integration/test_attack_hidden_reasons.py).
    why = "detaljer dolda: inget samtycke omfattar din verksamhet"
    bot.driver.command("insatser", user=SOCIAL)
    listed = text_of(bot.slack.wait_for("response_url")[-1].args)
    assert f"#{action.id}" in listed and why in listed and DESCRIPTION not in listed
    bot.driver.app_home_opened(user=SOCIAL)
    home = text_of(bot.slack.wait_for("views.publish")[-1].args["view"])
    assert f"#{action.id}" in home and why in home and DESCRIPTION not in home
    bot.driver.command("insatser forum", user=ELEVHALSA)
    shown = text_of(bot.slack.wait_for("response_url", count=2)[-1].args)
    assert DESCRIPTION in shown and "detaljer dolda" not in shown
    bot.slack.assert_no_violations()


# --- who is told of an action ----------------------------------------------------------------

GAVE = ("gave you an action", "gav dig en insats")


def test_an_action_you_give_yourself_is_not_dmed_to_you(bot: Bot, forum: dict[str, int]) -> None:
    """The admin gives themselves an action: nobody is told "<@you> gave you an action"
    (as nobody is told of a hand-over they made themselves). Taking over an action
    (a coordinator handing it to themselves) tells the previous owner, not the taker."""
    body = submit_action(bot, forum, agency="Grundskola", owner=ADMIN)
    assert body.json() is None
    bot.wait_idle()
    mine = the_action(bot)
    assert mine.owner == ADMIN
    assert [c for c in dms_to(bot, ADMIN) if any(g in text_of(c.args) for g in GAVE)] == []
    assert submit_action(bot, forum, view_id="VA2").json() is None  # for Elevhälsa
    bot.wait_idle()
    action = the_action(bot)
    assert any(any(g in text_of(c.args) for g in GAVE) for c in dms_to(bot, ELEVHALSA))
    assert hand_over_as(bot, ADMIN, action.id, ADMIN, forum["Grundskola"], views=1).json() is None
    bot.wait_idle()
    assert the_action(bot).owner == ADMIN
    assert [c for c in dms_to(bot, ADMIN) if "lämnade över insats" in text_of(c.args)] == []
    (told,) = handed_away(bot)
    assert told.args["channel"] == ELEVHALSA
    bot.slack.assert_no_violations()


def test_the_card_of_an_action_moved_with_its_owner_kept_says_it_moved(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The owner, a coordinator now of Socialtjänst, moves their action there from its card
    in their DM, keeping it: the card, updated in place, says it moved to Socialtjänst and
    who still owns it, not that it was "handed over" to its own owner; the history says the
    same."""
    assert submit_action(bot, forum).json() is None
    bot.slack.wait_for("chat.postMessage", count=2)
    action = the_action(bot)
    channel, ts = card_in_dm(bot, ELEVHALSA)
    with transaction(bot.sessions) as s:
        s.execute(
            update(Member)
            .where(Member.slack_user_id == ELEVHALSA)
            .values(agency_id=forum["Socialtjänst/IFO"], role=Role.COORDINATOR)
        )
    bot.driver.block_action(
        "action_hand_over",
        user=ELEVHALSA,
        value=str(action.id),
        channel=channel,
        message={"ts": ts},
    )
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    body = submit_hand_over(bot, ELEVHALSA, view, ELEVHALSA, forum["Socialtjänst/IFO"])
    assert body.json() is None
    updated = bot.slack.wait_for("chat.update")[-1].args
    assert (updated["channel"], updated["ts"]) == (channel, ts)
    text = text_of(updated)
    assert f"<@{ELEVHALSA}> flyttade den till Socialtjänst/IFO." in text
    assert f"<@{ELEVHALSA}> äger den fortfarande." in text
    assert "lämnade över" not in text
    before = bot.slack.count("views.open")
    press(bot, "action_history", ELEVHALSA, str(action.id))
    detail = text_of(bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"])
    assert "flyttade den till Socialtjänst/IFO" in detail and "lämnade över" not in detail
    bot.slack.assert_no_violations()


def test_a_due_date_more_than_two_years_ahead_is_refused_as_a_typo(
    bot: Bot, forum: dict[str, int]
) -> None:
    """A due date in 2062 (for 2026) would keep the action from every reminder and agenda
    for decades: the action modal and the more-time modal refuse a date more than two
    years ahead on the field, and keep what was typed; two years ahead exactly is fine."""
    body = submit_action(bot, forum, due=dt.date(2062, 12, 3)).json()
    assert list(body["errors"]) == ["due_on"]
    assert "mer än två år fram i tiden" in body["errors"]["due_on"]
    assert count(bot, Action) == 0
    body = submit_action(bot, forum, due=TODAY.replace(year=2028) + dt.timedelta(days=1)).json()
    assert list(body["errors"]) == ["due_on"]
    assert submit_action(bot, forum, due=TODAY.replace(year=2028)).json() is None
    action = the_action(bot)
    press(bot, "action_more_time", ELEVHALSA, str(action.id))
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    values = {
        "due_on": {"value": date_value(dt.date(2062, 1, 15))},
        "reason": {"value": plain_value("Väntar på skolans schema")},
    }
    body = bot.driver.view_submission(
        "action_postpone",
        values,
        user=ELEVHALSA,
        private_metadata=view["private_metadata"],
        blocks=blocks_of(values),
    ).json()
    assert list(body["errors"]) == ["due_on"] and "Kontrollera året" in body["errors"]["due_on"]
    assert the_action(bot).due_on == dt.date(2028, 11, 23)
    english = json.dumps({**json.loads(view["private_metadata"]), "locale": "en"})
    body = bot.driver.view_submission(
        "action_postpone",
        values,
        user=ELEVHALSA,
        private_metadata=english,
        blocks=blocks_of(values),
    ).json()
    assert "more than two years ahead" in body["errors"]["due_on"]
