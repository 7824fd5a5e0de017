"""Finding one's way (issue #15, point 9) through the real app: `/samverkan` alone opens a
menu of what this person may do in this channel, by role; its buttons do it; an unknown
subcommand suggests the nearest; the help is grouped by role."""

from __future__ import annotations

import json
from typing import Any

from domain import forums as fs
from storage.db import transaction
from storage.models import Role
from tests.conftest import Bot
from tests.support.forums import forum_draft

COORDINATOR, MEMBER, OUTSIDER = "U1", "U2", "U9"


def setup(bot: Bot) -> None:
    with transaction(bot.sessions) as s:
        forum = fs.create_forum(
            s,
            bot.clock,
            team_id="T0001",
            channel_id="C0001",
            actor=COORDINATOR,
            draft=forum_draft(),
        )
        fs.add_members(
            s,
            bot.clock,
            forum=forum,
            actor=COORDINATOR,
            slack_user_ids=[MEMBER],
            agency_id=forum.agencies[1].id,
            role=Role.MEMBER,
        )


def menu(bot: Bot, user: str, channel: str = "C0001") -> dict[str, Any]:
    before = bot.slack.count("response_url")
    bot.driver.command("", user=user, channel=channel)
    return bot.slack.wait_for("response_url", count=before + 1)[-1].args


def buttons(message: dict[str, Any]) -> list[str]:
    return [
        e["text"]["text"]
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def test_the_menu_shows_what_each_person_may_do_here(bot: Bot) -> None:
    assert buttons(menu(bot, COORDINATOR)) == ["Skapa forum", "Hjälp"]  # no forum yet
    setup(bot)
    member = buttons(menu(bot, MEMBER))
    assert member[:3] == ["Lyft ett ärende", "Ärenden", "Rapportera avvikelse"]
    assert "Mina insatser" in member and "Lägesbild" in member
    assert "Medlemmar" not in member and "Loggen" not in member
    # The action plan shows a member what the forum's action list does (the same rule).
    assert "Åtgärdsplan" in member
    coordinator = buttons(menu(bot, COORDINATOR))
    assert {"Foruminställningar", "Medlemmar", "Åtgärdsplan", "Loggen"} <= set(coordinator)
    assert "Lyft ett ärende" in coordinator
    outsider = menu(bot, OUTSIDER)
    assert buttons(outsider) == ["Hjälp"]
    assert "Du är inte medlem" in json.dumps(outsider, ensure_ascii=False)
    assert buttons(menu(bot, MEMBER, channel="DU2")) == ["Hjälp"]  # never a forum
    bot.slack.assert_no_violations()


def test_a_menu_button_does_what_it_says(bot: Bot) -> None:
    setup(bot)
    message = menu(bot, MEMBER)
    (raise_case,) = [
        e
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "menu_case"
    ]
    bot.driver.block_action("menu_case", user=MEMBER, value=raise_case["value"])
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert view["callback_id"] == "case_new"


def test_an_unknown_subcommand_suggests_the_nearest_and_offers_to_run_it(bot: Bot) -> None:
    setup(bot)
    before = bot.slack.count("response_url")
    bot.driver.command("ärnden", user=MEMBER)
    reply = bot.slack.wait_for("response_url", count=before + 1)[-1].args
    text = json.dumps(reply, ensure_ascii=False)
    assert "Menade du `ärenden`?" in text
    bot.driver.block_action("menu_run", user=MEMBER, value="ärenden")
    listing = bot.slack.wait_for("response_url", count=before + 2)[-1].args
    assert listing["replace_original"] is True
    assert "case_list_filter" in json.dumps(listing)


def test_the_help_is_grouped_by_role(bot: Bot) -> None:
    bot.driver.command("hjälp", user=MEMBER)
    reply = bot.slack.wait_for("response_url")[-1].args
    titles = [
        b["text"]["text"].split("\n", 1)[0] for b in reply["blocks"] if b["type"] == "section"
    ]
    assert titles == [
        "*För alla*",
        "*För forumets medlemmar*",
        "*För samordnare*",
        "*För administratörer*",
        "*Dataskydd*",
    ]
    # Listed where members can run it: it shows them what `/samverkan insatser forum` does.
    sections = {
        b["text"]["text"].split("\n", 1)[0]: b["text"]["text"]
        for b in reply["blocks"]
        if b["type"] == "section"
    }
    assert "/samverkan åtgärdsplan" in sections["*För forumets medlemmar*"]
    assert "/samverkan åtgärdsplan" not in sections["*För samordnare*"]


def test_an_english_member_is_told_their_role_in_english_with_its_article(bot: Bot) -> None:
    """The menu and App Home say "You take part as a member" ("as member" read wrong), and
    Swedish keeps "Du deltar som medlem"."""
    setup(bot)
    bot.slack.set_user(MEMBER, locale="en-GB")
    text = json.dumps(menu(bot, MEMBER)["blocks"], ensure_ascii=False)
    assert "You take part as a member." in text, text
    bot.driver.app_home_opened(user=MEMBER)
    bot.wait_idle()
    home = json.dumps(bot.slack.home_view(MEMBER), ensure_ascii=False)
    assert "You take part as a member for Elevhälsa." in home, home
    coordinator = json.dumps(menu(bot, COORDINATOR)["blocks"], ensure_ascii=False)
    assert "Du deltar som administratör." in coordinator, coordinator


def test_the_help_tells_a_reviewer_what_they_may_do_and_an_absent_member_how_to_return(
    bot: Bot,
) -> None:
    """A granskare may take a register extract (the bot lets them) and gets the monthly
    log check; the help said the extract was for coordinators only, and never said how to
    end an absence early."""
    bot.driver.command("hjälp", user=MEMBER)
    text = json.dumps(bot.slack.wait_for("response_url")[-1].args["blocks"], ensure_ascii=False)
    assert "samordnare och granskare får allt som lagras om en medlem" in text, text
    assert "granskare får också en sammanfattning varje månad" in text, text
    assert "/samverkan tillbaka om du kommer tillbaka tidigare" in text, text


def test_the_members_modal_says_what_a_reviewer_is(bot: Bot) -> None:
    """An admin choosing a role is told what each one does, the granskare too (it said
    nothing about them)."""
    setup(bot)
    bot.driver.command("forum medlemmar", user=COORDINATOR)
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    text = json.dumps(view, ensure_ascii=False)
    assert "granskare går igenom loggen varje månad och ser inga ärendedetaljer" in text, text


def test_a_reviewers_menu_puts_the_log_under_a_reviewers_heading(bot: Bot) -> None:
    """A granskare's "Loggen" sat under *Samordna*; it is under *Granska*, and a
    coordinator's stays under *Samordna*."""
    setup(bot)
    reviewer = "U4"
    with transaction(bot.sessions) as s:
        forum = fs.forum_for_channel(s, team_id="T0001", channel_id="C0001")
        assert forum is not None
        fs.add_members(
            s,
            bot.clock,
            forum=forum,
            actor=COORDINATOR,
            slack_user_ids=[reviewer],
            agency_id=forum.agencies[0].id,
            role=Role.REVIEWER,
        )

    def headings(message: dict[str, Any]) -> list[str]:
        return [
            b["elements"][0]["text"]
            for b in message["blocks"]
            if b["type"] == "context" and b["elements"][0]["text"].startswith("*")
        ]

    shown = menu(bot, reviewer)
    assert "Loggen" in buttons(shown)
    assert headings(shown) == ["*Granska*"], headings(shown)
    assert "*Samordna*" in headings(menu(bot, COORDINATOR))
