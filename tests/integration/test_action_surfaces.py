"""Actions where members meet them, through the real app on both databases: a new action from
an area in the situation picture, the owner's DMs through the outbox (a Slack outage delays
them, never loses them), long texts shown whole within Block Kit's limits, and App Home's
"today" in each forum's own time zone."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from sqlalchemy import select

from domain import actions as action_service
from domain import forums as fs
from storage.db import transaction
from storage.models import OutboxMessage, OutboxStatus, Role
from tests.conftest import Bot
from tests.integration.test_action_flow import (
    ADMIN,
    CHANNEL,
    ELEVHALSA,
    ELEVHALSA2,
    TODAY,
    blocks_of,
    dms_to,
    make_forum,
    press,
    submit_action,
    text_of,
    the_action,
)
from tests.support.forums import forum_draft
from tests.support.slack_driver import users_value

LONG = (
    "Kartlägga frånvaron & erbjuda samtal i årskurs 7–9, "
    "samordna med fritidsgården & kyrkans ungdomsverksamhet. "
)


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    return make_forum(bot)


def section_texts(view: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]


def flat(text: str) -> str:
    return " ".join(text.split())


def escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- a new action from an area in the situation picture -------------------------------------


def test_a_member_creates_an_action_for_an_area_from_the_situation_picture(bot: Bot) -> None:
    draft = forum_draft(
        agencies=["Grundskola", "Elevhälsa"], areas=["Hemse", "Klintehamn", "Slite"]
    )
    with transaction(bot.sessions) as s:
        created = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id=CHANNEL, actor=ADMIN, draft=draft
        )
        fs.add_members(
            s,
            bot.clock,
            forum=created,
            actor=ADMIN,
            slack_user_ids=[ELEVHALSA],
            agency_id=created.agencies[1].id,
            role=Role.MEMBER,
        )
        areas = {a.name: a.id for a in created.areas}
    bot.driver.command("lägesbild", user=ELEVHALSA)
    reply = bot.slack.wait_for("response_url")[0].args
    picker = next(b for b in reply["blocks"] if b.get("block_id") == "action_new_for_area")
    select = picker["elements"][0]
    assert select["type"] == "static_select"
    assert select["placeholder"]["text"] == "Ny insats för ett område…"
    assert [o["text"]["text"] for o in select["options"]] == ["Hemse", "Klintehamn", "Slite"]
    chosen = next(o for o in select["options"] if o["value"] == str(areas["Klintehamn"]))

    bot.driver.block_action(
        "action_new_for_area",
        user=ELEVHALSA,
        channel=CHANNEL,
        block_id="action_new_for_area",
        selected_option=chosen,
    )
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == "action_new"
    area = next(b for b in view["blocks"] if b.get("block_id") == "area")
    assert area["element"]["initial_option"] == chosen
    bot.slack.assert_no_violations()

    # Someone outside the forum gets a friendly notice, not the modal.
    bot.driver.block_action(
        "action_new_for_area",
        user="U9",
        channel=CHANNEL,
        block_id="action_new_for_area",
        selected_option=chosen,
    )
    notice = bot.slack.wait_for("views.open", count=2)[1].args["view"]
    assert notice["callback_id"] == "notice"
    assert "medlem" in text_of(notice).lower()


# --- DMs through the outbox -------------------------------------------------------------------


def wait_until_tried(bot: Bot, key_prefix: str) -> None:
    """Wait until the listener's attempt to send the queued DM is settled in the outbox."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with bot.sessions() as session:
            row = session.scalars(
                select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith(key_prefix))
            ).first()
            if row is not None and row.attempts >= 1 and row.lease_until is None:
                assert row.status is OutboxStatus.PENDING  # waits for a retry, not given up
                return
        time.sleep(0.05)
    raise AssertionError(f"no settled attempt for {key_prefix}")


def test_the_owners_dm_survives_a_slack_outage(bot: Bot, forum: dict[str, int]) -> None:
    # slack_sdk retries twice within the call; all three fail, so the DM waits in the outbox.
    bot.slack.fail_next("chat.postMessage", status=503, times=3)
    assert submit_action(bot, forum, user=ADMIN).json() is None
    # The creator's confirmation comes after the (failed) attempt to DM the owner.
    bot.slack.wait_for("chat.postMessage", count=4)
    assert [c for c in dms_to(bot, ADMIN) if c.ok]
    wait_until_tried(bot, "action_created:")
    assert not [c for c in dms_to(bot, ELEVHALSA) if c.ok]

    bot.clock.advance(dt.timedelta(minutes=2))
    bot.run_due_work()
    bot.run_due_work()
    delivered = [c for c in dms_to(bot, ELEVHALSA) if c.ok]
    assert len(delivered) == 1
    assert "action_done" in text_of(delivered[0].args)
    assert "Kartlägga frånvaron" in text_of(delivered[0].args)
    bot.slack.assert_no_violations()


def test_the_new_owners_dm_after_a_hand_over_survives_a_slack_outage(
    bot: Bot, forum: dict[str, int]
) -> None:
    submit_action(bot, forum)
    bot.slack.wait_for("chat.postMessage", count=2)
    action = the_action(bot)
    press(bot, "action_hand_over", ELEVHALSA, str(action.id))
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    bot.slack.fail_next("chat.postMessage", status=503, times=3)
    values = {"owner": {"value": users_value(ELEVHALSA2)}}
    response = bot.driver.view_submission(
        "action_handover",
        values,
        user=ELEVHALSA,
        private_metadata=view["private_metadata"],
        blocks=blocks_of(values),
    )
    assert response.json() is None
    bot.slack.wait_for("chat.postMessage", count=5)  # 2 + three failed attempts
    assert the_action(bot).owner == ELEVHALSA2
    assert not [c for c in dms_to(bot, ELEVHALSA2) if c.ok]

    wait_until_tried(bot, "action_handed_over:")

    bot.clock.advance(dt.timedelta(minutes=2))
    bot.run_due_work()
    bot.run_due_work()
    delivered = [c for c in dms_to(bot, ELEVHALSA2) if c.ok]
    assert len(delivered) == 1
    assert "lämnade över" in text_of(delivered[0].args)
    bot.slack.assert_no_violations()


# --- long texts, whole and within Block Kit's limits ----------------------------------------


def _detail(bot: Bot, action_id: int, user: str = ELEVHALSA) -> dict[str, Any]:
    count = bot.slack.count("views.open")
    press(bot, "action_history", user, str(action_id))
    return bot.slack.wait_for("views.open", count=count + 1)[-1].args["view"]  # type: ignore[no-any-return]


def test_the_detail_shows_the_whole_description_and_history_newest_first(
    bot: Bot, forum: dict[str, int]
) -> None:
    description = (LONG * 20)[:1000].strip()
    assert submit_action(bot, forum, description=description).json() is None
    action = the_action(bot)
    assert action.description == description
    reasons = []
    with transaction(bot.sessions) as s:
        forum_row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        access = fs.require_member(s, forum=forum_row, slack_user_id=ELEVHALSA)
        for n in range(22):
            reason = (f"Skäl {n:02d}: väntar på svar från skolan & elevhälsan. " * 10)[:300]
            reasons.append(reason.strip())
            action_service.postpone_action(
                s,
                bot.clock,
                access=access,
                action_id=action.id,
                due_on=TODAY + dt.timedelta(days=20 + n),
                reason=reason,
            )
    view = _detail(bot, action.id)
    assert len(view["blocks"]) <= 100
    texts = section_texts(view)
    assert all(len(text) <= 3000 for text in texts)
    everything = flat(" ".join(texts))
    assert flat(escaped(description)) in everything
    # The 20 newest entries, each whole, newest first.
    shown = [flat(escaped(r)) for r in reversed(reasons[-20:])]
    positions = [everything.index(r) for r in shown]
    assert positions == sorted(positions)
    assert flat(escaped(reasons[0])) not in everything
    assert len([t for t in texts if "Skäl" in t]) >= 2  # more than one section holds them
    bot.slack.assert_no_violations()


def test_a_case_lists_each_linked_action_in_its_own_section(
    bot: Bot, forum: dict[str, int]
) -> None:
    from domain.cases import CaseDraft, raise_case
    from storage.models import ConsentGiver, SipStatus

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
                consent_agency_ids=[forum["Elevhälsa"]],
                consent_given_on=TODAY,
                consent_expires_on=None,
                sip=SipStatus.NOT_RELEVANT,
                meeting=None,
            ),
        )
        reference, case_id = case.reference, case.id
    ids = []
    for n in range(10):
        description = (f"Insats {n}: " + LONG * 20)[:1000].strip()
        submit_action(bot, forum, case=reference, view_id=f"VC{n}", description=description)
        ids.append(the_action(bot).id)
    bot.driver.block_action("case_open", user=ELEVHALSA, value=str(case_id), channel=CHANNEL)
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    rows = [b for b in view["blocks"] if str(b.get("block_id", "")).startswith("case_action.")]
    assert [b["block_id"] for b in rows] == [f"case_action.{i}" for i in ids]
    for block, n in zip(rows, range(10), strict=True):
        assert f"Insats {n}:" in block["text"]["text"]
        assert len(block["text"]["text"]) <= 3000
    assert len(view["blocks"]) <= 100
    bot.slack.assert_no_violations()


# --- App Home: today in the forum's own time zone ------------------------------------------------


def test_app_home_says_due_today_in_the_forums_own_time_zone(bot: Bot) -> None:
    draft = forum_draft(agencies=["Grundskola", "Elevhälsa"])
    with transaction(bot.sessions) as s:
        created = fs.create_forum(
            s,
            bot.clock,
            team_id="T0001",
            channel_id=CHANNEL,
            actor=ADMIN,
            draft=draft,
            timezone="America/New_York",
        )
        fs.add_members(
            s,
            bot.clock,
            forum=created,
            actor=ADMIN,
            slack_user_ids=[ELEVHALSA],
            agency_id=created.agencies[1].id,
            role=Role.MEMBER,
        )
        forum = {"forum": created.id, "Elevhälsa": created.agencies[1].id}
    assert submit_action(bot, forum, due=TODAY).json() is None
    # 23:30 UTC: already Tuesday in Stockholm (the bot's zone), still Monday in New York.
    bot.clock.set(dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.UTC))
    bot.driver.app_home_opened(user=ELEVHALSA)
    home = text_of(bot.slack.wait_for("views.publish")[-1].args["view"])
    assert "ska vara klar i dag" in home
    assert "försenad" not in home
