"""Rating rounds and the situation picture through the real app: the round opens with DMs,
the rating modal, reminders, escalation, away/stand-in, the coordinator's status, close
early/extend, the posted aggregate with its images, exports, refusals, and exactly-once with
two replicas and after downtime. Time is the injected clock; scheduled effects run through
run_due_work, as every replica's tick does.

Here: opening and answering, reminders, escalation and away. Status, closing and exactly
once: test_rating_close.py; settings, cadence and catch-up: test_rating_cadence.py.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from domain import forums as fs
from storage.db import transaction
from storage.models import AuditEvent, Forum, Member, Rating, RatingRoundStatus, Role
from tests.conftest import Bot
from tests.support.blockkit import all_text
from tests.support.forums import forum_draft
from tests.support.rating_flow import (
    ADMIN,
    AREAS,
    DEADLINE,
    FRITID,
    OUTSIDER,
    POLIS,
    POLIS2,
    STOCKHOLM_NOON_MONDAY,
    button_value,
    command_reply,
    current_levels,
    dms,
    make_forum,
    open_modal,
    polis_rates,
    rate,
    rating_messages,
    save_forum,
    the_round,
)


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    return make_forum(bot)


# --- opening and answering --------------------------------------------------------------------


def test_the_round_opens_once_with_a_dm_per_representative_and_a_button(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()
    rating_round = the_round(bot)
    assert rating_round.status is RatingRoundStatus.OPEN
    assert rating_round.deadline_at == DEADLINE
    invited = {c.args["channel"] for c in bot.slack.calls_to("chat.postMessage")}
    assert invited == {ADMIN, POLIS, POLIS2, FRITID}
    text = dms(bot, POLIS)[0].args["text"]
    assert "Lägesbild inför OSF torsdag 26 november" in text
    assert "bedöm läget för er verksamhet senast onsdag 25 november 2026 12:00" in text
    assert button_value(dms(bot, POLIS)[0]) == f"{rating_round.id}:{forum['Polis']}"
    bot.run_due_work()
    assert bot.slack.count("chat.postMessage") == 4  # opened once, however often it runs
    bot.slack.assert_no_violations()


def test_an_agency_added_while_the_round_is_open_gets_the_invitation_once(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Skola joins the forum (and gets a member) after the round opened, in a forum without
    reminders: its member gets the round's invitation, once (before, nothing: only the
    reminders went to it, and here there are none)."""
    with transaction(bot.sessions) as s:
        created = s.get(Forum, forum["forum"])
        assert created is not None
        created.settings = {**created.settings, "rating_reminder_hours": []}
    bot.run_due_work()
    rating_round = the_round(bot)
    assert bot.slack.count("chat.postMessage") == 4
    bot.clock.advance(dt.timedelta(hours=1))
    with transaction(bot.sessions) as s:
        created = s.get(Forum, forum["forum"])
        assert created is not None
        draft = forum_draft(
            name="OSF",
            code="OSF",
            agencies=["Socialtjänst/IFO", "Polis", "Fritidsgård", "Skola"],
            own_agency="Socialtjänst/IFO",
            areas=AREAS,
        )
        fs.update_forum(s, bot.clock, forum=created, actor=ADMIN, draft=draft)
    bot.run_due_work()  # no members yet: nobody to invite
    assert bot.slack.count("chat.postMessage") == 4
    bot.clock.advance(dt.timedelta(minutes=5))
    with transaction(bot.sessions) as s:
        created = s.get(Forum, forum["forum"])
        assert created is not None
        skola = next(a.id for a in created.agencies if a.name == "Skola")
        fs.add_members(
            s,
            bot.clock,
            forum=created,
            actor=ADMIN,
            slack_user_ids=[OUTSIDER],
            agency_id=skola,
            role=Role.MEMBER,
        )
    bot.run_due_work()
    bot.run_due_work()
    (invite,) = dms(bot, OUTSIDER)
    assert "Lägesbild inför OSF torsdag 26 november" in invite.args["text"]
    assert button_value(invite) == f"{rating_round.id}:{skola}"
    assert bot.slack.count("chat.postMessage") == 5  # the others are not invited again
    bot.slack.assert_no_violations()


def test_an_agency_offered_again_while_the_round_is_open_gets_the_invitation_once(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Fritidsgård was taken off the forum's agencies (its member first) when the round
    opened, so no invitation, and is offered again, its member back, while the round is
    open: the member gets the invitation, once."""

    def agencies(names: list[str]) -> None:
        with transaction(bot.sessions) as s:
            created = s.get(Forum, forum["forum"])
            assert created is not None
            draft = forum_draft(
                name="OSF", code="OSF", agencies=names, own_agency=names[0], areas=AREAS
            )
            fs.update_forum(s, bot.clock, forum=created, actor=ADMIN, draft=draft)

    with transaction(bot.sessions) as s:  # an agency with members cannot be taken off
        member = s.scalars(select(Member).where(Member.slack_user_id == FRITID)).one()
        member.active = False
    agencies(["Socialtjänst/IFO", "Polis"])
    bot.run_due_work()
    assert dms(bot, FRITID) == [] and bot.slack.count("chat.postMessage") == 3
    bot.clock.advance(dt.timedelta(hours=1))
    agencies(["Socialtjänst/IFO", "Polis", "Fritidsgård"])
    with transaction(bot.sessions) as s:
        created = s.get(Forum, forum["forum"])
        assert created is not None
        fs.add_members(
            s,
            bot.clock,
            forum=created,
            actor=ADMIN,
            slack_user_ids=[FRITID],
            agency_id=forum["Fritidsgård"],
            role=Role.MEMBER,
        )
    bot.run_due_work()
    bot.run_due_work()
    (invite,) = dms(bot, FRITID)
    assert button_value(invite) == f"{the_round(bot).id}:{forum['Fritidsgård']}"
    assert bot.slack.count("chat.postMessage") == 4


def test_an_agency_taken_off_and_back_with_a_new_member_gets_the_invitation_once(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Fritidsgård was invited when the round opened; its member leaves, the agency is
    taken off and offered again while the round is open, with a new member: the new member
    gets the invitation, once (before, nobody at Fritidsgård had it: the agency counted as
    invited). A newcomer to Polis, whose colleagues have it, is not invited."""
    with transaction(bot.sessions) as s:
        created = s.get(Forum, forum["forum"])
        assert created is not None
        created.settings = {**created.settings, "rating_reminder_hours": []}
    bot.run_due_work()
    assert len(dms(bot, FRITID)) == 1

    def agencies(names: list[str]) -> None:
        with transaction(bot.sessions) as s:
            created = s.get(Forum, forum["forum"])
            assert created is not None
            draft = forum_draft(
                name="OSF", code="OSF", agencies=names, own_agency=names[0], areas=AREAS
            )
            fs.update_forum(s, bot.clock, forum=created, actor=ADMIN, draft=draft)

    def add(user: str, agency: str) -> None:
        with transaction(bot.sessions) as s:
            created = s.get(Forum, forum["forum"])
            assert created is not None
            fs.add_members(
                s,
                bot.clock,
                forum=created,
                actor=ADMIN,
                slack_user_ids=[user],
                agency_id=forum[agency],
                role=Role.MEMBER,
            )

    bot.clock.advance(dt.timedelta(hours=1))
    with transaction(bot.sessions) as s:
        created = s.get(Forum, forum["forum"])
        assert created is not None
        member = s.scalars(select(Member).where(Member.slack_user_id == FRITID)).one()
        fs.remove_member(s, bot.clock, forum=created, actor=ADMIN, member_id=member.id)
    agencies(["Socialtjänst/IFO", "Polis"])
    bot.clock.advance(dt.timedelta(minutes=5))
    agencies(["Socialtjänst/IFO", "Polis", "Fritidsgård"])
    add(OUTSIDER, "Fritidsgård")
    add("U5", "Polis")
    bot.run_due_work()
    bot.run_due_work()
    (invite,) = dms(bot, OUTSIDER)
    assert button_value(invite) == f"{the_round(bot).id}:{forum['Fritidsgård']}"
    assert dms(bot, "U5") == [] and len(dms(bot, FRITID)) == 1
    bot.slack.assert_no_violations()


def test_one_answer_per_agency_the_latest_stands_and_the_history_is_kept(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()
    view = open_modal(bot, POLIS, button_value(dms(bot, POLIS)[0]))
    ids = [b.get("block_id") for b in view["blocks"]]
    assert {f"level_{forum[a]}" for a in AREAS} <= set(ids)
    assert {f"comment_{forum[a]}" for a in AREAS} <= set(ids)
    # The agency's first round: no "last time" (there was none), not "Förra gången: inte
    # bedömt".
    assert "Förra gången" not in all_text(view) and "inte bedömt" not in all_text(view)
    response = rate(bot, view, POLIS, {forum["Gråbo"]: 2, forum["Hemse"]: 1, forum["Droger"]: 3})
    assert response.json()["response_action"] == "update"
    assert "sparat" in all_text(response.json()["view"])

    # The other Polis representative changes one area: their answer stands for the agency.
    view = open_modal(bot, POLIS2, button_value(dms(bot, POLIS2)[0]))
    assert all_text(view).count("oroande") >= 1  # the current answer is preselected
    rate(bot, view, POLIS2, {forum["Gråbo"]: 3, forum["Hemse"]: 1, forum["Droger"]: 3})
    levels = current_levels(bot)
    assert levels[(forum["Polis"], forum["Gråbo"])] == 3
    with bot.sessions() as s:
        history = s.scalars(
            select(Rating).where(Rating.area_id == forum["Gråbo"]).order_by(Rating.id)
        ).all()
    assert [(r.level, r.is_current, r.rated_by) for r in history] == [
        (2, False, POLIS),
        (3, True, POLIS2),
    ]
    bot.slack.assert_no_violations()


def test_a_level_must_be_chosen_and_an_identifying_comment_is_refused_keeping_the_input(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()
    view = open_modal(bot, POLIS, button_value(dms(bot, POLIS)[0]))
    response = rate(
        bot,
        view,
        POLIS,
        {forum["Gråbo"]: 2, forum["Hemse"]: 1},
        {forum["Gråbo"]: "Ring Anna på 070-123 45 67"},
    )
    errors = response.json()["errors"]
    assert response.json()["response_action"] == "errors"
    assert f"level_{forum['Droger']}" in errors
    assert f"comment_{forum['Gråbo']}" in errors
    assert current_levels(bot) == {}


def test_a_street_address_in_a_comment_is_refused_in_the_user_s_language_keeping_the_input(
    bot: Bot, forum: dict[str, int]
) -> None:
    """ "Oro kring Storgatan 12" was accepted: a street and house number, no postcode. Now the
    comment's field says what it found (the kind, not the text) in the rater's language; the
    modal stays open with what was typed (an "errors" answer), nothing is stored. The street's
    name alone passes."""
    bot.slack.set_user(POLIS2, locale="en-US")  # before the invitation looks the language up
    bot.run_due_work()
    levels = {forum[a]: 2 for a in AREAS}
    comment_field = f"comment_{forum['Gråbo']}"
    view = open_modal(bot, POLIS, button_value(dms(bot, POLIS)[0]))
    refused = rate(bot, view, POLIS, levels, {forum["Gråbo"]: "Oro kring Storgatan 12"})
    assert refused.json()["response_action"] == "errors"
    assert refused.json()["errors"] == {
        comment_field: "Det här ser ut som en gatuadress: ta bort den och använd "
        "ärendereferensen och avidentifierad text i stället."
    }
    english_view = open_modal(bot, POLIS2, button_value(dms(bot, POLIS2)[0]))
    in_english = rate(bot, english_view, POLIS2, levels, {forum["Gråbo"]: "bor på Kvarnvägen 3B"})
    assert in_english.json()["errors"] == {
        comment_field: "This looks like a street address: please remove it and use the case "
        "reference and non-identifying text instead."
    }
    assert current_levels(bot) == {}
    accepted = rate(bot, view, POLIS, levels, {forum["Gråbo"]: "Oro kring Storgatan"})
    assert accepted.json()["response_action"] == "update"
    assert len(current_levels(bot)) == len(AREAS)
    assert "Storgatan 12" not in json.dumps([c.args for c in bot.slack.calls], ensure_ascii=False)


def test_refusals_closed_round_non_member_and_other_agency(bot: Bot, forum: dict[str, int]) -> None:
    bot.run_due_work()
    value = button_value(dms(bot, POLIS)[0])

    bot.driver.block_action("rating_open", user=FRITID, value=value, channel="DU3")
    reply = bot.slack.wait_for("response_url")[-1]
    assert "Du representerar inte Polis" in json.dumps(reply.args, ensure_ascii=False)

    # Someone outside the round's forum is told what a round of nothing tells them ("only
    # members" would tell them that the round exists; test_refused_rating_doors), in words
    # for the DM the button is in ("… in this forum" read oddly there).
    bot.driver.block_action("rating_open", user=OUTSIDER, value=value, channel="DU9")
    reply = bot.slack.wait_for("response_url", count=2)[-1]
    told = reply.args["text"]
    assert "Bedömningsomgången finns inte, eller så har du inte tillgång till den." in told
    assert "forumet" not in told
    nothing = "987654:" + value.partition(":")[2]
    bot.driver.block_action("rating_open", user=OUTSIDER, value=nothing, channel="DU9")
    reply = bot.slack.wait_for("response_url", count=3)[-1]
    assert reply.args["text"] == told  # as a round of nothing: nothing tells it exists

    # A modal opened before the deadline and sent after it gets a polite note.
    view = open_modal(bot, POLIS, value)
    bot.clock.set(DEADLINE + dt.timedelta(minutes=5))
    bot.run_due_work()
    response = rate(bot, view, POLIS, {forum[a]: 1 for a in AREAS})
    note = all_text(response.json()["view"])
    assert "Tack" in note and "stängdes" in note
    assert current_levels(bot) == {}
    bot.driver.block_action("rating_open", user=POLIS, value=value, channel="DU2")
    reply = bot.slack.wait_for("response_url", count=4)[-1]
    assert "stängdes" in json.dumps(reply.args, ensure_ascii=False)
    assert bot.slack.count("views.open") == 1


def test_a_late_answer_in_english_is_told_the_closing_time_in_english(
    bot: Bot, forum: dict[str, int]
) -> None:
    """An English-speaking member who answers after the deadline (the modal opened before
    it, or the invitation's button after it) reads when the round closed in English, not
    "closed on onsdag 25 november" (the forum's Swedish date inside an English sentence)."""
    bot.slack.set_user(FRITID, locale="en-US")
    bot.run_due_work()
    value = button_value(dms(bot, FRITID)[0])
    view = open_modal(bot, FRITID, value)
    bot.clock.set(DEADLINE + dt.timedelta(minutes=5))
    bot.run_due_work()
    response = rate(bot, view, FRITID, {forum[a]: 1 for a in AREAS})
    note = all_text(response.json()["view"])
    assert "closed on Wednesday 25 November 2026 12:05" in note, note
    bot.driver.block_action("rating_open", user=FRITID, value=value, channel="DU3")
    reply = bot.slack.wait_for("response_url")[-1]
    told = json.dumps(reply.args, ensure_ascii=False)
    assert "closed on Wednesday 25 November 2026 12:05" in told, told
    assert "onsdag" not in told
    assert current_levels(bot) == {}


def test_an_old_invitation_pressed_after_the_meeting_does_not_say_raise_it_at_the_meeting(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The invitation's button pressed after the meeting was held: the member is not told
    "Ta gärna upp det på mötet" (the meeting is over) but that the meeting was held and the
    next round comes with its own invitation."""
    bot.run_due_work()
    value = button_value(dms(bot, POLIS)[0])
    bot.clock.set(DEADLINE + dt.timedelta(minutes=5))
    bot.run_due_work()
    bot.clock.set(dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC))  # Friday, after Thursday's
    bot.driver.block_action("rating_open", user=POLIS, value=value, channel="DU2")
    reply = bot.slack.wait_for("response_url")[-1]
    told = json.dumps(reply.args, ensure_ascii=False)
    assert "Ta gärna upp det på mötet" not in told
    assert (
        "Bedömningsomgången stängdes onsdag 25 november 2026 12:05, och mötet den gällde har "
        "redan hållits (torsdag 26 november 2026 13:00). Nästa omgång kommer med en egen "
        "inbjudan."
    ) in told
    assert bot.slack.count("views.open") == 0


def test_forty_areas_fit_the_modal_in_pages(bot: Bot, forum: dict[str, int]) -> None:
    with transaction(bot.sessions) as s:
        created = s.get(Forum, forum["forum"])
        assert created is not None
        draft = forum_draft(
            name="OSF",
            code="OSF",
            agencies=["Socialtjänst/IFO", "Polis", "Fritidsgård"],
            areas=[f"Område {n}" for n in range(1, 41)],
        )
        fs.update_forum(s, bot.clock, forum=created, actor=ADMIN, draft=draft)
    bot.run_due_work()
    value = button_value(dms(bot, POLIS)[0])
    view = open_modal(bot, POLIS, value)
    assert len(view["blocks"]) <= 100
    pages = 0
    while True:
        pages += 1
        levels = {
            int(b["block_id"].removeprefix("level_")): 2
            for b in view["blocks"]
            if b.get("block_id", "").startswith("level_")
        }
        response = rate(bot, view, POLIS, levels).json()
        assert response["response_action"] == "update"
        view = response["view"]
        if view["callback_id"] != "rating_submit":
            break
        assert len(view["blocks"]) <= 100
    assert pages == 3
    assert "sparat" in all_text(view)
    assert (
        sum(1 for (agency, _), _ in current_levels(bot).items() if agency == forum["Polis"]) == 40
    )
    bot.slack.assert_no_violations()


# --- reminders, escalation, away ---------------------------------------------------------------


def test_reminders_go_only_to_agencies_that_have_not_answered(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()
    polis_rates(bot, forum, {"Gråbo": 1, "Hemse": 1, "Droger": 1})
    bot.slack.reset()
    bot.clock.set(STOCKHOLM_NOON_MONDAY + dt.timedelta(minutes=1))
    bot.run_due_work()
    reminded = {c.args["channel"] for c in rating_messages(bot)}
    assert reminded == {ADMIN, FRITID}
    assert "Påminnelse" in dms(bot, FRITID)[0].args["text"]
    bot.run_due_work()
    assert len(rating_messages(bot)) == 2
    # The second reminder (two hours before the deadline), again only to those missing.
    bot.clock.set(DEADLINE - dt.timedelta(hours=2) + dt.timedelta(minutes=1))
    bot.run_due_work()
    assert {c.args["channel"] for c in rating_messages(bot)} == {ADMIN, FRITID}
    assert len(rating_messages(bot)) == 4


def test_a_reminder_to_an_agency_that_rated_some_areas_says_how_many(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Polis rated the three areas; then the coordinator adds a fourth. The reminder asks
    Polis for the rest and says so ("har bedömt 3 av 4 områden"), not "Polis har inte svarat
    än", which its members know to be wrong; an agency that rated nothing is still told it
    has not answered (in English to an English-speaking member)."""
    bot.slack.set_user(FRITID, locale="en-US")
    bot.run_due_work()
    polis_rates(bot, forum, {"Gråbo": 1, "Hemse": 1, "Droger": 1})
    bot.settle()
    save_forum(bot, forum, areas=[*AREAS, "Centrum"])
    bot.slack.reset()
    bot.clock.set(STOCKHOLM_NOON_MONDAY + dt.timedelta(minutes=1))
    bot.run_due_work()
    assert {c.args["channel"] for c in rating_messages(bot)} == {ADMIN, POLIS, POLIS2, FRITID}
    (polis,) = dms(bot, POLIS)
    assert polis.args["text"] == (
        "Påminnelse: lägesbild inför OSF torsdag 26 november. Polis har bedömt 3 av 4 "
        "områden: bedöm resten för er verksamhet senast onsdag 25 november 2026 12:00."
    )
    (admin,) = dms(bot, ADMIN)
    assert "Socialtjänst/IFO har inte svarat än" in admin.args["text"]
    (english,) = dms(bot, FRITID)
    assert "Fritidsgård has not answered yet" in english.args["text"]


def test_the_picture_tells_an_agency_that_rated_some_areas_from_one_that_rated_none(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Polis rated the three areas before a fourth was added; the picture shows Polis's
    levels, so it does not say "saknas Polis" (which its own table contradicts) but that
    Polis answered 3 of 4 areas; Fritidsgård, which rated nothing, is missing."""
    bot.run_due_work()
    polis_rates(bot, forum, {"Gråbo": 2, "Hemse": 1, "Droger": 1})
    bot.settle()
    with transaction(bot.sessions) as s:
        created = s.get(Forum, forum["forum"])
        assert created is not None
        draft = forum_draft(
            name="OSF",
            code="OSF",
            agencies=["Socialtjänst/IFO", "Polis", "Fritidsgård"],
            own_agency="Socialtjänst/IFO",
            areas=[*AREAS, "Centrum"],
        )
        fs.update_forum(s, bot.clock, forum=created, actor=ADMIN, draft=draft)
        centrum = next(a.id for a in created.areas if a.name == "Centrum")
    view = open_modal(bot, ADMIN, button_value(dms(bot, ADMIN)[0]))
    rate(bot, view, ADMIN, {forum["Gråbo"]: 1, forum["Hemse"]: 1, forum["Droger"]: 1, centrum: 1})
    bot.settle()
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    bot.run_due_work()
    (picture,) = [c for c in rating_messages(bot) if c.args["channel"] == "C0001"]
    summary = picture.args["blocks"][1]["text"]["text"]
    assert summary == (
        "1 av 3 verksamheter svarade. *Ofullständig:* saknas Fritidsgård. "
        "Svarade delvis: Polis (3 av 4 områden)."
    )


def test_a_reminder_due_at_night_waits_for_the_morning(bot: Bot, forum: dict[str, int]) -> None:
    bot.run_due_work()
    bot.slack.reset()
    # The bot was down from before Monday noon until 23:00: no reminder at night …
    bot.clock.set(dt.datetime(2026, 11, 23, 22, 0, tzinfo=dt.UTC))
    bot.run_due_work()
    assert bot.slack.count("chat.postMessage") == 0
    # … it goes out at 07:00.
    bot.clock.set(dt.datetime(2026, 11, 24, 6, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    assert {c.args["channel"] for c in bot.slack.calls_to("chat.postMessage")} == {
        ADMIN,
        POLIS,
        POLIS2,
        FRITID,
    }


def test_a_critical_rating_or_a_two_level_jump_alerts_the_coordinators_at_once(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()
    bot.slack.reset()
    value = button_value(dms_after_open(bot, forum))
    view = open_modal(bot, POLIS, value)
    comment = "Oroande samlingar vid skolan på kvällarna"
    rate(
        bot,
        view,
        POLIS,
        {forum["Gråbo"]: 4, forum["Hemse"]: 1, forum["Droger"]: 2},
        {forum["Gråbo"]: comment},
    )
    alert = bot.slack.wait_for("chat.postMessage")[0]
    assert alert.args["channel"] == ADMIN
    assert "Polis" in alert.args["text"] and "Gråbo" in alert.args["text"]
    assert "kritiskt" in alert.args["text"]
    assert comment not in json.dumps([c.args for c in bot.slack.calls], ensure_ascii=False)
    assert len(dms(bot, ADMIN)) == 1  # Hemse and Droger are not escalations


def test_one_submission_escalating_several_areas_sends_each_coordinator_one_dm(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Three areas rated kritiskt/allvarligt in one submission: one DM to the coordinator
    listing the three with their levels (before, one DM per area)."""
    bot.run_due_work()
    bot.slack.reset()
    view = open_modal(bot, POLIS, button_value(dms_after_open(bot, forum)))
    rate(bot, view, POLIS, {forum["Gråbo"]: 4, forum["Hemse"]: 5, forum["Droger"]: 4})
    bot.slack.wait_for("chat.postMessage")
    bot.wait_idle()
    (alert,) = dms(bot, ADMIN)
    assert alert.args["text"] == (
        "Lägesbild OSF: Polis bedömer 3 områden så här:\n"
        "• *Gråbo*: kritiskt\n"
        "• *Hemse*: allvarligt\n"
        "• *Droger*: kritiskt"
    )


def twenty_areas(bot: Bot, forum: dict[str, int]) -> dict[str, Any]:
    """The forum rates 20 areas (two pages of the form); the round opens; Polis's form."""
    with transaction(bot.sessions) as s:
        created = s.get(Forum, forum["forum"])
        assert created is not None
        draft = forum_draft(
            name="OSF",
            code="OSF",
            agencies=["Socialtjänst/IFO", "Polis", "Fritidsgård"],
            areas=[f"Område {n}" for n in range(1, 21)],
        )
        fs.update_forum(s, bot.clock, forum=created, actor=ADMIN, draft=draft)
    bot.run_due_work()
    bot.slack.reset()
    return open_modal(bot, POLIS, f"{the_round(bot).id}:{forum['Polis']}")


def rate_page(bot: Bot, view: dict[str, Any], critical: int) -> dict[str, Any]:
    """Polis answers the page: normalt everywhere, kritiskt for its ``critical``-th area."""
    areas = [
        int(b["block_id"].removeprefix("level_"))
        for b in view["blocks"]
        if b.get("block_id", "").startswith("level_")
    ]
    levels = {area: 4 if n == critical else 1 for n, area in enumerate(areas)}
    response = rate(bot, view, POLIS, levels).json()
    assert response["response_action"] == "update"
    return response["view"]  # type: ignore[no-any-return]


def test_a_form_of_two_pages_escalating_on_each_sends_each_coordinator_one_dm(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Polis rates an area kritiskt on each page of a two-page form: the coordinator gets
    one DM when the form is saved, listing both (before, one DM a page)."""
    page = rate_page(bot, twenty_areas(bot, forum), critical=0)
    assert page["callback_id"] == "rating_submit" and page.get("notify_on_close") is True
    bot.wait_idle()
    assert dms(bot, ADMIN) == []  # told with the rest of the form
    saved = rate_page(bot, page, critical=1)
    assert saved["callback_id"] != "rating_submit" and not saved.get("notify_on_close")
    bot.slack.wait_for("chat.postMessage")
    bot.wait_idle()
    (alert,) = dms(bot, ADMIN)
    assert alert.args["text"] == (
        "Lägesbild OSF: Polis bedömer 2 områden så här:\n"
        "• *Område 1*: kritiskt\n"
        "• *Område 17*: kritiskt"
    )
    # The last page saved again (Slack gave up on the answer): nobody is told twice.
    rate_page(bot, page, critical=1)
    bot.run_due_work()
    assert len(dms(bot, ADMIN)) == 1
    bot.slack.assert_no_violations()


def test_a_form_closed_before_its_last_page_tells_what_its_saved_pages_escalated(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Polis rates an area kritiskt on the first page and closes the form on the second:
    the coordinator is told then, once."""
    page = rate_page(bot, twenty_areas(bot, forum), critical=2)
    bot.driver.view_closed("rating_submit", user=POLIS, private_metadata=page["private_metadata"])
    bot.slack.wait_for("chat.postMessage")
    bot.wait_idle()
    (alert,) = dms(bot, ADMIN)
    assert "Område 3" in alert.args["text"] and "kritiskt" in alert.args["text"]
    bot.driver.view_closed("rating_submit", user=POLIS, private_metadata=page["private_metadata"])
    bot.run_due_work()
    assert len(dms(bot, ADMIN)) == 1
    bot.slack.assert_no_violations()


def test_a_form_whose_close_never_came_tells_its_saved_pages_escalations_at_the_deadline(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Polis rates an area kritiskt on the first page of a two-page form; Slack never sends
    the form's close and the last page is never saved: the coordinator is told when the
    round closes at its deadline, once (a late close of the form tells nothing more).
    Before, never."""
    page = rate_page(bot, twenty_areas(bot, forum), critical=2)
    bot.wait_idle()
    assert dms(bot, ADMIN) == []
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    bot.run_due_work()
    (alert,) = [c for c in dms(bot, ADMIN) if "Område 3" in c.args["text"]]
    assert alert.args["text"] == "Lägesbild OSF: Polis bedömer Område 3 som kritiskt."
    bot.driver.view_closed("rating_submit", user=POLIS, private_metadata=page["private_metadata"])
    bot.settle()
    bot.run_due_work()
    assert len([c for c in dms(bot, ADMIN) if "Område 3" in c.args["text"]]) == 1
    bot.slack.assert_no_violations()


def test_an_agency_lowering_its_answer_does_not_alert_the_coordinators_again(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Polis rates Gråbo allvarligt (one alert), then corrects it to kritiskt, then to
    oroande: the coordinators are alerted once, not told "Polis bedömer Gråbo som kritiskt"
    as news when the situation got better. Raised again to allvarligt, it does not alert
    again: one alert per area, agency and level in a round."""
    bot.run_due_work()
    bot.slack.reset()
    value = button_value(dms_after_open(bot, forum))
    for n, gråbo in enumerate((5, 4, 3, 5)):
        view = open_modal(bot, POLIS, value)
        levels = {forum["Gråbo"]: gråbo, forum["Hemse"]: 1, forum["Droger"]: 1}
        rate(bot, view, POLIS, levels, view_id=f"V{n}")  # a modal of its own each time
        bot.settle()
        bot.run_due_work()
    alerts = [c.args["text"] for c in dms(bot, ADMIN)]
    assert alerts == ["Lägesbild OSF: Polis bedömer Gråbo som allvarligt."]
    assert current_levels(bot)[(forum["Polis"], forum["Gråbo"])] == 5


def dms_after_open(bot: Bot, forum: dict[str, int]) -> Any:
    rating_round = the_round(bot)
    return _Call(f"{rating_round.id}:{forum['Polis']}")


class _Call:
    def __init__(self, value: str) -> None:
        self.args = {
            "blocks": [{"elements": [{"action_id": "rating_open", "value": value}]}],
        }


def test_an_agency_whose_representatives_are_away_is_shown_as_away_and_not_reminded(
    bot: Bot, forum: dict[str, int]
) -> None:
    reply = command_reply(bot, "borta 2026-12-31", FRITID)
    assert "borta till" in reply and "torsdag 31 december 2026" in reply
    reply = command_reply(bot, "borta 2026-12-31 <@U4>", POLIS)
    assert "<@U4>" in reply
    stand_in_dm = dms(bot, POLIS2)[0].args["text"]
    assert "ersättare" in stand_in_dm and "Polis" in stand_in_dm
    bot.slack.reset()
    bot.run_due_work()
    assert {c.args["channel"] for c in bot.slack.calls_to("chat.postMessage")} == {ADMIN, POLIS2}
    status = command_reply(bot, "lägesbild", ADMIN)
    assert "🏖 Fritidsgård – borta" in status
    assert "❌ Polis – inte svarat" in status
    with bot.sessions() as s:
        logged = s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.object_type == "absence")
        )
    assert logged == 2
    assert "tillbaka" in command_reply(bot, "tillbaka", FRITID).lower()


def test_away_refusals_are_clear(bot: Bot, forum: dict[str, int]) -> None:
    usage = command_reply(bot, "borta", POLIS)
    assert "/samverkan borta 2026-12-10 @namn (dagen också som 10/12, 10 december" in usage
    assert "Jag kunde inte tolka ”nästa vecka” som en dag" in command_reply(
        bot, "borta nästa vecka", POLIS
    )
    assert "Socialtjänst" not in command_reply(bot, "borta 2026-12-10 <@U3>", POLIS)
    assert "från din verksamhet (Polis)" in command_reply(bot, "borta 2026-12-10 <@U3>", POLIS)
    assert "från och med i dag" in command_reply(bot, "borta 2026-01-10", POLIS)


def test_the_stand_in_is_told_when_no_longer_needed_and_back_when_not_away_says_so(
    bot: Bot, forum: dict[str, int]
) -> None:
    """A stand-in heard they stood in, and never that it ended (the member came back early
    or named someone else); 'tillbaka' from one who was not away welcomed them back."""
    command_reply(bot, "borta 2026-12-31 <@U4>", POLIS)
    assert len(dms(bot, POLIS2)) == 1
    command_reply(bot, "borta 2026-12-20", POLIS)  # no stand-in now
    told = dms(bot, POLIS2)
    assert len(told) == 2, told
    assert "behöver dig inte längre som ersättare för Polis" in told[-1].args["text"]
    command_reply(bot, "borta 2026-12-31 <@U4>", POLIS)
    assert "Välkommen tillbaka" in command_reply(bot, "tillbaka", POLIS)
    told = dms(bot, POLIS2)
    assert len(told) == 4 and "inte längre som ersättare" in told[-1].args["text"], told
    again = command_reply(bot, "tillbaka", POLIS)
    assert "inte markerad som borta" in again and "Välkommen" not in again
    assert len(dms(bot, POLIS2)) == 4


def test_the_forum_summary_says_you_are_marked_away(bot: Bot, forum: dict[str, int]) -> None:
    """`/samverkan forum` did not show that you are away: it says so, with the day, in your
    language, and no longer once you are back."""
    assert "borta till och med" not in command_reply(bot, "forum", FRITID)
    command_reply(bot, "borta 2026-12-31", FRITID)
    reply = command_reply(bot, "forum", FRITID)
    assert "Du är markerad som borta till och med torsdag 31 december." in reply, reply
    bot.slack.set_user(POLIS, locale="en-GB")
    command_reply(bot, "borta 2026-12-10", POLIS)
    reply = command_reply(bot, "forum", POLIS)
    assert "You are marked as away until and including Thursday 10 December." in reply, reply
    command_reply(bot, "tillbaka", FRITID)
    assert "borta till och med" not in command_reply(bot, "forum", FRITID)


def test_an_alert_skips_its_rater_and_coordinators_away_unless_nobody_else_is_told(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The coordinator who rated is not alerted about their own rating; a coordinator marked
    away is not alerted (their stand-in is, when the stand-in leads the forum too: a plain
    member is not), unless nobody else would be: then those away are told all the same."""
    coordinator, helper = "U5", "U6"
    with transaction(bot.sessions) as s:
        created = s.get(Forum, forum["forum"])
        assert created is not None
        for user, role in ((coordinator, Role.COORDINATOR), (helper, Role.MEMBER)):
            fs.add_members(
                s,
                bot.clock,
                forum=created,
                actor=ADMIN,
                slack_user_ids=[user],
                agency_id=forum["Socialtjänst/IFO"],
                role=role,
            )
    bot.run_due_work()
    round_id = the_round(bot).id

    def rates(user: str, agency: str, level: int, view_id: str) -> None:
        view = open_modal(bot, user, f"{round_id}:{forum[agency]}")
        levels = {forum["Gråbo"]: level, forum["Hemse"]: 1, forum["Droger"]: 1}
        rate(bot, view, user, levels, view_id=view_id)
        bot.run_due_work()

    def alerted() -> dict[str, int]:
        calls = bot.slack.calls_to("chat.postMessage")
        return {
            user: sum(
                1 for c in calls if c.args.get("channel") == user and "bedömer" in c.args["text"]
            )
            for user in (ADMIN, coordinator, helper)
        }

    rates(ADMIN, "Socialtjänst/IFO", 4, "V1")  # the admin's own rating: the other is told
    assert alerted() == {ADMIN: 0, coordinator: 1, helper: 0}
    command_reply(bot, f"borta 2026-12-31 <@{helper}>", coordinator)
    rates(POLIS, "Polis", 4, "V2")  # the coordinator away, their stand-in no coordinator
    assert alerted() == {ADMIN: 1, coordinator: 1, helper: 0}
    command_reply(bot, "borta 2026-12-31", ADMIN)
    rates(FRITID, "Fritidsgård", 5, "V3")  # everyone away: told all the same
    assert alerted() == {ADMIN: 2, coordinator: 2, helper: 0}
    bot.slack.assert_no_violations()
