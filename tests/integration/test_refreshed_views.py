"""Accurate previews and refreshed views (issue #15, point 6), through the real app: the
preview says the rating round is still open and is refreshed in place when it closes; the
case modal lists a new action at once; the åtgärdsplan without a period; a posted agenda
shows a recorded effect; the case modal warns about agencies the consent does not cover.
The channel announcement: test_refreshed_announcement.py.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from domain import forums as fs
from domain.cases import CaseDraft, raise_case
from handlers.blocks import forum as forum_ui
from storage.db import transaction
from storage.models import (
    Action,
    ActionStatus,
    Case,
    ConsentGiver,
    Effect,
    LegalGround,
    Member,
    SipStatus,
)
from tests.conftest import Bot
from tests.integration import test_action_flow as actions_flow
from tests.integration import test_disclosure_table as table
from tests.integration.test_action_plan import add, upload_named
from tests.support import rating_flow as ratings_flow
from tests.support.agenda_flow import (
    CHANNEL,
    dms_to,
    local,
    text_of,
    tick,
)
from tests.support.slack_driver import (
    date_value,
    multi_users_values,
    plain_value,
    radio_value,
    select_value,
    state_values,
    users_value,
)
from tests.support.wait import eventually

# --- the preview while the round is open -----------------------------------------------------


def test_a_preview_sent_while_the_round_is_open_says_so_and_is_refreshed_when_it_closes(
    bot: Bot,
) -> None:
    forum = ratings_flow.make_forum(bot)
    bot.run_due_work()  # Monday: the round for Thursday opens
    ratings_flow.polis_rates(bot, forum, {"Gråbo": 4, "Hemse": 1, "Droger": 2})
    # The preview goes the day before the agenda (Wednesday 08:00); the round closes at 12:00.
    tick(bot, local(2026, 11, 25, 8, 1))
    previews = [c for c in dms_to(bot, ratings_flow.ADMIN) if "Förhandsvisning" in c.args["text"]]
    assert len(previews) == 1
    preview = text_of(previews[0].args)
    assert "Bedömningsomgången pågår fortfarande" in preview
    assert "onsdag 25 november 2026 12:00" in preview
    assert "Förhandsvisningen uppdateras då" in preview
    assert '"type": "table"' not in preview
    tick(bot, local(2026, 11, 25, 12, 1))
    updates = [u for u in bot.slack.calls_to("chat.update", ok=True) if u.args["channel"] == "DU1"]
    assert len(updates) == 1
    assert updates[0].args["ts"] == previews[0].response["ts"]
    refreshed = text_of(updates[0].args)
    assert "pågår fortfarande" not in refreshed
    assert '"type": "table"' in refreshed and "🟥 kritiskt" in refreshed
    tick(bot, local(2026, 11, 25, 12, 30))
    assert len(bot.slack.calls_to("chat.update")) == 1  # refreshed once, not again
    bot.slack.assert_no_violations()


def test_an_agenda_change_from_the_preview_updates_the_preview_in_place(bot: Bot) -> None:
    forum = ratings_flow.make_forum(bot)
    tick(bot, local(2026, 11, 25, 8, 1))
    (preview,) = [c for c in dms_to(bot, ratings_flow.ADMIN) if "Förhandsvisning" in c.args["text"]]
    meeting_id = next(
        e["value"]
        for b in preview.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "agenda_item_add_open"
    )
    meta = json.dumps({"locale": "sv", "forum_id": forum["forum"]})
    bot.driver.view_submission(
        "agenda_item_add",
        {
            "text": {"text": plain_value("Sommarlovets aktiviteter")},
            "meeting": {"meeting": select_value(meeting_id)},
        },
        user=ratings_flow.ADMIN,
        private_metadata=meta,
    )
    update = bot.slack.wait_for("chat.update")[-1]
    assert update.args["channel"] == "DU1" and update.args["ts"] == preview.response["ts"]
    assert "Sommarlovets aktiviteter" in text_of(update.args)


# --- the case modal ----------------------------------------------------------------------------


def _case(bot: Bot, forum: dict[str, int], *, consent_for: list[str], attend: list[str]) -> int:
    with transaction(bot.sessions) as s:
        row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        access = fs.require_member(s, forum=row, slack_user_id=actions_flow.ADMIN)
        case, _ = raise_case(
            s,
            bot.clock,
            access=access,
            draft=CaseDraft(
                summary="Oro för frånvaro",
                concerns=["school_absence"],
                age_band="13-15",
                agency_ids=[forum[a] for a in attend],
                consent_giver=ConsentGiver.GUARDIANS,
                consent_agency_ids=[forum[a] for a in consent_for],
                consent_given_on=dt.date(2026, 11, 23),
                consent_expires_on=None,
                sip=SipStatus.NOT_RELEVANT,
                meeting=None,
            ),
        )
        return case.id


def _open_case(bot: Bot, case_id: int, user: str) -> dict[str, Any]:
    before = bot.slack.count("views.open")
    bot.driver.block_action("case_open", user=user, value=str(case_id), channel=CHANNEL)
    return bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"]  # type: ignore[no-any-return]


def test_the_case_modal_shows_a_new_action_as_soon_as_it_is_saved(bot: Bot) -> None:
    forum = actions_flow.make_forum(bot)
    case_id = _case(bot, forum, consent_for=["Elevhälsa"], attend=["Elevhälsa"])
    view = _open_case(bot, case_id, actions_flow.ELEVHALSA)
    reference = view["title"]["text"]
    bot.driver.block_action(
        "action_new_for_case",
        user=actions_flow.ELEVHALSA,
        value=reference,
        view={**view, "id": "VCASE"},
    )
    pushed = bot.slack.wait_for("views.push")[-1].args["view"]
    values = actions_flow.action_values(forum, case=reference)
    response = bot.driver.view_submission(
        "action_new",
        values,
        user=actions_flow.ELEVHALSA,
        private_metadata=pushed["private_metadata"],
        view_id="VACTION",
        view={"previous_view_id": "VCASE", "root_view_id": "VCASE"},
    )
    assert response.json() is None  # back to the case modal …
    updated = bot.slack.wait_for("views.update")[-1]
    assert updated.args["view_id"] == "VCASE"  # … which lists the action at once
    assert actions_flow.DESCRIPTION in text_of(updated.args["view"])
    bot.slack.assert_no_violations()


def test_the_case_modal_warns_about_an_agency_the_consent_does_not_cover(bot: Bot) -> None:
    forum = actions_flow.make_forum(bot)
    case_id = _case(bot, forum, consent_for=["Elevhälsa"], attend=["Elevhälsa", "Socialtjänst/IFO"])
    view = _open_case(bot, case_id, actions_flow.ADMIN)
    (warning,) = [b for b in view["blocks"] if b.get("block_id") == "consent_warning"]
    text = warning["text"]["text"]
    assert "Samtycket omfattar inte Socialtjänst/IFO" in text
    assert "anonym konsultation" in text
    covered = _case(bot, forum, consent_for=["Elevhälsa"], attend=["Elevhälsa"])
    view = _open_case(bot, covered, actions_flow.ADMIN)
    assert not [b for b in view["blocks"] if b.get("block_id") == "consent_warning"]
    # An agency that sees the case as an anonymous consultation gets no consent details.
    view = _open_case(bot, case_id, actions_flow.SOCIAL)
    assert not [b for b in view["blocks"] if b.get("block_id") == "consent_warning"]


# --- the åtgärdsplan without a period ----------------------------------------------------------


def test_the_action_plan_without_a_period_is_what_is_open_and_the_last_twelve_months(
    bot: Bot,
) -> None:
    forum = actions_flow.make_forum(bot)
    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    add(bot, forum, "Öppen, långt fram", dt.date(2028, 1, 10))
    add(bot, forum, "Öppen, försenad sedan länge", dt.date(2024, 3, 1))
    add(
        bot,
        forum,
        "Klar i våras",
        dt.date(2025, 12, 1),
        status=ActionStatus.DONE,
        completed=dt.datetime(2026, 5, 4, 10, tzinfo=dt.UTC),
    )
    add(bot, forum, "Förföll i december", dt.date(2025, 12, 15), status=ActionStatus.DONE)
    add(
        bot,
        forum,
        "Klar för länge sedan",
        dt.date(2025, 9, 1),
        status=ActionStatus.DONE,
        completed=now - dt.timedelta(days=400),
    )
    add(bot, forum, "Inställd", dt.date(2026, 12, 1), status=ActionStatus.CANCELLED)
    bot.driver.command("åtgärdsplan xlsx", user=actions_flow.SOCIAL)
    workbook = load_workbook(io.BytesIO(upload_named(bot, ".xlsx", 1)))
    sheet = workbook.active
    assert sheet is not None
    descriptions = {row[1] for row in list(sheet.iter_rows(values_only=True))[1:]}
    assert descriptions == {
        "Öppen, långt fram",
        "Öppen, försenad sedan länge",
        "Klar i våras",
        "Förföll i december",
    }
    reply = bot.slack.wait_for("response_url")[-1]
    assert "4 insatser" in text_of(reply.args)
    names = [c.args["filename"] for c in bot.slack.calls_to("files.getUploadURLExternal")]
    assert names == ["atgardsplan-FOS-2025-11-23-2026-11-23.xlsx"]


# --- the posted agenda and a recorded effect -----------------------------------------------


def test_a_posted_agenda_shows_the_effect_once_it_is_recorded(bot: Bot) -> None:
    forum = actions_flow.make_forum(bot)
    action_id = add(
        bot,
        forum,
        "Samtal med klassen",
        dt.date(2026, 11, 20),
        status=ActionStatus.DONE,
        completed=dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC),
    )
    bot.run_due_work()
    tick(bot, local(2026, 11, 26, 8, 0))
    (agenda,) = [
        c for c in bot.slack.calls_to("chat.postMessage", ok=True) if c.args["channel"] == CHANNEL
    ]
    assert "fick den önskad effekt?" in text_of(agenda.args)
    assert "action_follow_up_open" in text_of(agenda.args)
    values = {
        "effect": {"value": radio_value("yes")},
        "comment": {"value": plain_value("Närvaron ökade")},
    }
    meta = json.dumps({"locale": "sv", "forum_id": forum["forum"], "action_id": action_id})
    response = bot.driver.view_submission(
        "action_follow_up",
        values,
        user=actions_flow.ADMIN,
        private_metadata=meta,
        blocks=actions_flow.blocks_of(values),
    )
    assert response.json() is None
    updated = bot.slack.wait_for("chat.update")[-1]
    assert updated.args["ts"] == agenda.response["ts"]
    body = text_of(updated.args)
    assert "klar · effekt: ja" in body
    assert "action_follow_up_open" not in body
    with bot.sessions() as s:
        assert s.get(Action, action_id).effect is Effect.YES  # type: ignore[union-attr]


def test_a_posted_agenda_follows_an_action_marked_done_opened_again_or_moved(bot: Bot) -> None:
    """The posted agenda lists an action by its owner, due date and state: marking it done
    (or opening it again), a new due date and a new owner are shown in place, as a recorded
    effect is, not left 'overdue' in the channel for the meeting to read."""
    forum = actions_flow.make_forum(bot)
    action_id = add(bot, forum, "Samtal med klassen", dt.date(2026, 11, 20))
    bot.run_due_work()
    tick(bot, local(2026, 11, 26, 8, 0))
    (agenda,) = [
        c for c in bot.slack.calls_to("chat.postMessage", ok=True) if c.args["channel"] == CHANNEL
    ]
    assert "försenad sedan fredag 20 november" in text_of(agenda.args)

    def agenda_update(count: int) -> str:
        updated = bot.slack.wait_for("chat.update", count=count)[-1]
        assert updated.args["ts"] == agenda.response["ts"]
        return text_of(updated.args)

    actions_flow.press(bot, "action_done", actions_flow.ELEVHALSA, str(action_id))
    done = agenda_update(1)
    assert "klar – fick den önskad effekt?" in done and "försenad" not in done
    actions_flow.press(bot, "action_reopen", actions_flow.ELEVHALSA, str(action_id))
    assert "försenad sedan fredag 20 november" in agenda_update(2)
    meta = json.dumps({"locale": "sv", "forum_id": forum["forum"], "action_id": action_id})
    values = {
        "due_on": {"value": date_value(dt.date(2026, 12, 10))},
        "reason": {"value": plain_value("Väntar på skolans schema")},
    }
    response = bot.driver.view_submission(
        "action_postpone",
        values,
        user=actions_flow.ELEVHALSA,
        private_metadata=meta,
        blocks=actions_flow.blocks_of(values),
    )
    assert response.json() is None
    moved = agenda_update(3)
    assert "10 december" in moved and "försenad" not in moved
    values = {"owner": {"value": users_value(actions_flow.ELEVHALSA2)}}
    response = bot.driver.view_submission(
        "action_handover",
        values,
        user=actions_flow.ELEVHALSA,
        private_metadata=meta,
        blocks=actions_flow.blocks_of(values),
    )
    assert response.json() is None
    assert f"<@{actions_flow.ELEVHALSA2}>" in agenda_update(4)


def test_app_home_is_published_anew_when_what_a_member_may_see_shrinks(bot: Bot) -> None:
    """Slack keeps the App Home tab as it was last published: RAISER's shows the forum's case
    (what was agreed, Inför mötet) and action. Leaving the channel ends the membership, and
    the Home is published anew without them; so for COVERED, removed by the coordinator.
    They used to stay on the tab until it was next opened (or for good, the bot down)."""
    world = table.build_world(bot)
    raiser = table.reader_for(bot, world, table.RAISER)
    shown = table.output_of(bot, lambda: table.home(bot, world, raiser))
    assert table.MINUTE in shown and table.ACTION_TEXT in shown

    def published_after(send: Any, user: str) -> str:
        before = len(bot.slack.calls_to("views.publish"))
        send()
        call = bot.slack.wait_for("views.publish", count=before + 1)[-1]
        assert call.args["user_id"] == user
        return json.dumps(call.args["view"], ensure_ascii=False)

    left = published_after(
        lambda: bot.driver.event(
            {"type": "member_left_channel", "user": table.RAISER, "channel": "C0001"}
        ),
        table.RAISER,
    )
    assert table.MINUTE not in left and table.ACTION_TEXT not in left
    with bot.sessions() as s:
        covered = s.scalar(
            select(Member.id).where(
                Member.forum_id == world.forum, Member.slack_user_id == table.COVERED
            )
        )
    meta = json.dumps({"locale": "sv", "forum_id": world.forum})
    removed = published_after(
        lambda: bot.driver.block_action(
            forum_ui.ACTION_REMOVE_MEMBER,
            user=table.COORD,
            value=str(covered),
            view={"id": "V9", "private_metadata": meta},
        ),
        table.COVERED,
    )
    assert "FOSSAM" not in removed and table.ACTION_TEXT not in removed


def _case_modal(world: table.World) -> dict[str, Any]:
    """The case modal (and the legal ground modal) a button is pressed in."""
    meta = json.dumps({"locale": "sv", "forum_id": world.forum, "case_id": world.case})
    return {"id": "V77", "private_metadata": meta}


def _withdrawn(bot: Bot, world: table.World) -> None:
    """RAISER (the raising agency) records that the consent was withdrawn."""
    bot.driver.block_action(
        "case_withdraw_consent", user=table.RAISER, value=str(world.case), view=_case_modal(world)
    )


def _ground_ended(bot: Bot, world: table.World) -> None:
    """COORD ends the Polis agency's legal ground for the case."""
    with bot.sessions() as s:
        ground = s.scalar(select(LegalGround.id).where(LegalGround.case_id == world.case))
    bot.driver.block_action(
        "privacy_legal_ground_end", user=table.COORD, value=str(ground), view=_case_modal(world)
    )


NARROWED = {
    # what narrows → (it, the member whose agency loses the case)
    "consent withdrawn": (_withdrawn, table.COVERED),
    "legal ground ended": (_ground_ended, table.NOT_COVERED),
}


@pytest.mark.parametrize("change", list(NARROWED))
def test_app_home_is_published_anew_when_a_case_may_no_longer_be_seen(
    bot: Bot, change: str
) -> None:
    """COVERED's agency sees the case through its consent, NOT_COVERED's (Polis) through a
    legal ground: their App Home shows what was agreed about it (Inför mötet). The raising
    agency records that the consent was withdrawn / a coordinator ends the ground: the
    member's Home is published anew without the case's details. Slack kept the tab as last
    published, with them, until it was next opened."""
    world = table.build_world(bot)
    narrow, user = NARROWED[change]
    with transaction(bot.sessions) as s:
        # The case needs their agency at the meeting: Inför mötet shows them its details.
        case = s.get(Case, world.case)
        member = s.scalars(
            select(Member).where(Member.forum_id == world.forum, Member.slack_user_id == user)
        ).one()
        assert case is not None
        case.agencies.append(member.agency)
        if user == table.NOT_COVERED:  # the world's Polis ground ended: it holds again
            ground = s.scalars(select(LegalGround).where(LegalGround.case_id == world.case)).one()
            ground.ended_at, ground.ended_by = None, None
    reader = table.reader_for(bot, world, user)
    shown = table.output_of(bot, lambda: table.home(bot, world, reader))
    assert table.MINUTE in shown and "13–15" in shown, shown
    before = [c for c in bot.slack.calls_to("views.publish") if c.args["user_id"] == user]
    narrow(bot, world)
    published = eventually(
        lambda: [c for c in bot.slack.calls_to("views.publish") if c.args["user_id"] == user][
            len(before) :
        ]
    )
    home = json.dumps(published[-1].args["view"], ensure_ascii=False)
    assert table.MINUTE not in home and "13–15" not in home
    assert world.reference in home or "FOSSAM" in home  # the forum and its case by reference


def test_app_home_is_published_anew_when_a_consent_expires(bot: Bot) -> None:
    """The consent that lets COVERED's agency see the case holds through today (the
    forum's day): their Home shows what was agreed about it. The due work on the day after
    publishes their Home anew, once, without the case's details; Slack kept it with them
    until the tab was next opened."""
    world = table.build_world(bot)
    with transaction(bot.sessions) as s:
        case = s.get(Case, world.case)
        assert case is not None
        member = s.scalars(
            select(Member).where(
                Member.forum_id == world.forum, Member.slack_user_id == table.COVERED
            )
        ).one()
        case.agencies.append(member.agency)  # needed at the meeting: Inför mötet has details
        forum = fs.get_forum(s, forum_id=world.forum, team_id="T0001")
        case.consents[-1].expires_on = fs.local_today(forum, bot.clock)
    covered = table.reader_for(bot, world, table.COVERED)
    shown = table.output_of(bot, lambda: table.home(bot, world, covered))
    assert table.MINUTE in shown and "13–15" in shown, shown

    def published() -> list[str]:
        return [
            json.dumps(c.args["view"], ensure_ascii=False)
            for c in bot.slack.calls_to("views.publish")
            if c.args["user_id"] == table.COVERED
        ]

    before = len(published())
    bot.run_due_work()  # still its last day: nothing
    assert len(published()) == before
    bot.clock.advance(dt.timedelta(days=1))
    bot.run_due_work()
    bot.run_due_work()  # once
    home = published()[before:]
    assert len(home) == 1
    assert "Inför mötet" in home[0] and world.reference in home[0]
    assert table.MINUTE not in home[0] and "13–15" not in home[0]


def test_app_home_is_published_anew_when_a_member_moves_to_another_agency(bot: Bot) -> None:
    """COVERED's agency (Socialtjänst) sees the case through its consent, and their Home
    shows what was agreed about it. The coordinator moves them to Polis (not covered, its
    ground ended), confirming the move: their Home is published anew as Polis may see it,
    the case by reference only (Polis is needed at the meeting too). The move path of
    7309d3c, which had no test."""
    world = table.build_world(bot)
    with transaction(bot.sessions) as s:
        case = s.get(Case, world.case)
        assert case is not None
        forum = fs.get_forum(s, forum_id=world.forum, team_id="T0001")
        agencies = {a.name: a for a in forum.agencies}
        case.agencies.extend([agencies["Socialtjänst/IFO"], agencies["Polis"]])
        police = agencies["Polis"].id
    covered = table.reader_for(bot, world, table.COVERED)
    shown = table.output_of(bot, lambda: table.home(bot, world, covered))
    assert table.MINUTE in shown and "13–15" in shown, shown
    before = [c for c in bot.slack.calls_to("views.publish") if c.args["user_id"] == table.COVERED]
    values = state_values(
        {
            ("users.0", "value"): multi_users_values([table.COVERED]),
            ("agency.0", "value"): select_value(str(police)),
            ("role.0", "value"): radio_value("member"),
        }
    )
    meta = json.dumps({"locale": "sv", "forum_id": world.forum, "version": 0})
    asked = bot.driver.view_submission(
        "forum_members", values, user=table.COORD, private_metadata=meta
    ).json()
    assert asked["response_action"] == "push"  # a move is confirmed first
    bot.driver.view_submission(
        "forum_members_move",
        {},
        user=table.COORD,
        private_metadata=asked["view"]["private_metadata"],
    )
    published = eventually(
        lambda: [
            c for c in bot.slack.calls_to("views.publish") if c.args["user_id"] == table.COVERED
        ][len(before) :]
    )
    home = json.dumps(published[-1].args["view"], ensure_ascii=False)
    assert "Polis" in home and world.reference in home
    assert table.MINUTE not in home and "13–15" not in home


def test_leaving_the_channel_is_answered_before_the_home_is_published(bot: Bot) -> None:
    """Slack waits 3 seconds for an event's answer, then retries it, and turns off the
    events of an app that misses many. RAISER leaves the channel while views.publish is
    rate limited (Retry-After 2 s, twice): the event is answered at once and the Home is
    published after, without the forum's case and action. The publish ran before the
    answer (the event listener is no lazy one), which came only after the retries: ~4 s."""
    world = table.build_world(bot)
    raiser = table.reader_for(bot, world, table.RAISER)
    assert table.MINUTE in table.output_of(bot, lambda: table.home(bot, world, raiser))
    published = len(bot.slack.calls_to("views.publish", ok=True))
    bot.slack.fail_next("views.publish", 429, retry_after=2, times=2)
    began = time.monotonic()
    answer = bot.driver.event(
        {"type": "member_left_channel", "user": table.RAISER, "channel": "C0001"}
    )
    took = time.monotonic() - began
    assert answer.status == 200 and took < 1.5, took
    call = bot.slack.wait_for("views.publish", count=published + 1, timeout=30, ok=True)[-1]
    assert call.args["user_id"] == table.RAISER
    home = json.dumps(call.args["view"], ensure_ascii=False)
    assert table.MINUTE not in home and table.ACTION_TEXT not in home


def test_an_action_is_dmed_to_each_owner_as_they_may_see_it(
    bot: Bot,
) -> None:
    """The case's consent covers Socialtjänst only (Grundskola raised it): Elevhälsa may
    not see its details, its actions' text among them, so the admin (Grundskola, who sees
    them) cannot give ELEVHALSA an action in it (she could not read it): refused on the
    agency, nobody told. Given to SOCIAL, SOCIAL's DM has its text. Consent for Elevhälsa
    too, it goes to ELEVHALSA, and back to SOCIAL once the consent covers Socialtjänst only
    again: ELEVHALSA's DM that it is no longer hers names it by its number and case,
    without its text, and says why. Each DM is built with its recipient's view of it,
    never the admin's."""
    forum = actions_flow.make_forum(bot)
    case_id = _case(bot, forum, consent_for=["Socialtjänst/IFO"], attend=["Elevhälsa"])
    with bot.sessions() as s:
        case = s.get(Case, case_id)
        assert case is not None
        reference = case.reference
    refused = actions_flow.submit_action(bot, forum, case=reference, agency="Elevhälsa").json()
    assert list(refused["errors"]) == ["agency"]
    assert "Grundskola, Socialtjänst/IFO" in refused["errors"]["agency"]
    body = actions_flow.submit_action(
        bot, forum, case=reference, agency="Socialtjänst/IFO", owner=actions_flow.SOCIAL
    )
    assert body.json() is None
    action = actions_flow.the_action(bot)
    created = eventually(lambda: dms_to(bot, actions_flow.SOCIAL))[-1]
    assert f"#{action.id}" in text_of(created) and actions_flow.DESCRIPTION in text_of(created)
    assert dms_to(bot, actions_flow.ELEVHALSA) == []
    _add_consent(bot, case_id, forum, ["Elevhälsa", "Socialtjänst/IFO"])
    _hand_over(bot, action.id, actions_flow.ELEVHALSA, forum["Elevhälsa"], views=1)
    eventually(lambda: dms_to(bot, actions_flow.ELEVHALSA))
    _add_consent(bot, case_id, forum, ["Socialtjänst/IFO"])
    _hand_over(bot, action.id, actions_flow.SOCIAL, forum["Socialtjänst/IFO"], views=2)
    handed = eventually(
        lambda: [c for c in dms_to(bot, actions_flow.ELEVHALSA) if "inte längre din" in text_of(c)]
    )[-1]
    assert f"#{action.id}" in text_of(handed) and reference in text_of(handed)
    assert actions_flow.DESCRIPTION not in text_of(handed), text_of(handed)
    # Why, as far as a reader of neither the consent register nor the case may know it.
    assert "inget samtycke omfattar din verksamhet" in text_of(handed)
    back = eventually(
        lambda: [c for c in dms_to(bot, actions_flow.SOCIAL) if "lämnade över" in text_of(c)]
    )[-1]
    assert actions_flow.DESCRIPTION in text_of(back)
    bot.slack.assert_no_violations()


def _add_consent(bot: Bot, case_id: int, forum: dict[str, int], agencies: list[str]) -> None:
    """The admin records a new consent for the case, covering ``agencies``."""
    from domain.cases import record_consent

    with transaction(bot.sessions) as s:
        row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        record_consent(
            s,
            bot.clock,
            access=fs.require_member(s, forum=row, slack_user_id=actions_flow.ADMIN),
            case_id=case_id,
            giver=ConsentGiver.GUARDIANS,
            agency_ids=[forum[a] for a in agencies],
            given_on=dt.date(2026, 11, 23),
            expires_on=None,
        )


def _hand_over(bot: Bot, action_id: int, owner: str, agency: int, *, views: int) -> None:
    """The admin moves the action to ``agency``, ``owner`` its owner (accepted)."""
    answer = actions_flow.hand_over_as(
        bot, actions_flow.ADMIN, action_id, owner, agency, views=views
    )
    assert answer.json() is None
