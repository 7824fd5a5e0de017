"""Every id or number a Slack client sends is the client's to craft. An id past the INTEGER
columns (2³¹), a digit of another script (² passes ``str.isdigit`` but not ``int``), a sign
or nothing at all is told like any id of nothing, or like any badly typed number: in the
user's language, never as "the database is not answering", a stack trace or silence."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Bot
from tests.integration import test_minutes_flow as minutes
from tests.integration.test_case_flow import SOCIAL, blocks_of, meta
from tests.integration.test_case_flow import forum as forum  # the fixture
from tests.integration.test_disclosure_table import COORD, build_world, reader_for, view
from tests.support.agenda_flow import local, setup_forum, tick
from tests.support.rating_flow import (
    AREAS,
    POLIS,
    button_value,
    current_levels,
    dms,
    make_forum,
    open_modal,
)
from tests.support.slack_driver import (
    multi_select_values,
    plain_value,
    select_value,
    state_values,
)

CRAFTED = [str(2**31), "²"]
OUTAGE = "Databasen"  # "Databasen svarar inte just nu"
FAILED = "Något gick fel"  # what a listener's exception is told as


def _reply(bot: Bot, before: int) -> str:
    return json.dumps(
        bot.slack.wait_for("response_url", count=before + 1)[-1].args, ensure_ascii=False
    )


@pytest.mark.parametrize("crafted", CRAFTED)
@pytest.mark.parametrize(
    ("button", "value", "header"),
    [
        ("case_list_page_next", "1:all::a{}", "Ärenden"),
        ("action_list_page_next", "1:forum:all:a{}~2026-11-20T10:00:00+00:00", "Insatser"),
    ],
)
def test_a_crafted_page_key_gives_the_first_page(
    bot: Bot, button: str, value: str, header: str, crafted: str
) -> None:
    """A list's next-page button carries the last row's id: crafted, it gives the first
    page (as any odd value does), not an outage (2³¹ on PostgreSQL) or no answer (²)."""
    world = build_world(bot)
    r = reader_for(bot, world, COORD)
    before = bot.slack.count("response_url")
    r.driver.block_action(button, user=r.user, value=value.format(crafted), channel=r.channel)
    shown = _reply(bot, before)
    assert OUTAGE not in shown and FAILED not in shown, shown
    assert f'"text": "{header}"' in shown, shown


@pytest.mark.parametrize(
    "value",
    [
        "1:forum:done:a5~2026-11-20T10:00:00",  # an instant without a zone
        "1:forum:done:a5~2026-11-20",  # a day where the instant of completion goes
        "1:forum:follow_up:b5~0001-01-01T00:00:00+14:00",  # before year 1 in UTC
        "1:forum:done:a5~9999-12-31T23:59:59-14:00",  # after year 9999 in UTC
    ],
)
def test_a_crafted_instant_in_the_action_lists_page_key_gives_the_first_page(
    bot: Bot, value: str
) -> None:
    """The done lists page on the instant of completion: a key's instant without a zone,
    or one that leaves the calendar in UTC, is an odd value like any other (the first
    page), not 'something went wrong' from the column refusing it."""
    world = build_world(bot)
    r = reader_for(bot, world, COORD)
    before = bot.slack.count("response_url")
    r.driver.block_action("action_list_page_next", user=r.user, value=value, channel=r.channel)
    shown = _reply(bot, before)
    assert OUTAGE not in shown and FAILED not in shown, shown
    assert '"text": "Insatser"' in shown, shown


@pytest.mark.parametrize("crafted", CRAFTED)
def test_a_crafted_case_in_a_status_button_is_no_such_case(bot: Bot, crafted: str) -> None:
    """The case modal's status buttons carry "<case id>:<status>"."""
    world = build_world(bot)
    r = reader_for(bot, world, COORD)
    since = len(bot.slack.calls)
    r.driver.block_action(
        "case_status_closed",
        user=r.user,
        value=f"{crafted}:closed",
        channel=r.channel,
        view=view(r),
    )
    bot.wait_idle()
    shown = json.dumps([c.args for c in bot.slack.calls[since:]], ensure_ascii=False)
    assert OUTAGE not in shown and FAILED not in shown, shown
    assert "Det ärendet finns inte" in shown, shown


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("statistik ²²²²", "Ange perioden som ett år"),
    ],
)
def test_a_year_typed_in_other_digits_is_told_how_to_type_it(
    bot: Bot, command: str, answer: str
) -> None:
    """'²²²²' is four digits to ``str.isdigit``; ``int`` refused it and the user heard
    nothing. Now it is a badly typed year like any other."""
    world = build_world(bot)
    r = reader_for(bot, world, COORD)
    before = bot.slack.count("response_url")
    r.driver.command(command, user=r.user, channel=r.channel)
    assert answer in _reply(bot, before)


@pytest.mark.parametrize("crafted", CRAFTED)
def test_a_crafted_agency_option_in_a_form_is_no_agency(
    bot: Bot, forum: dict[str, int], crafted: str
) -> None:
    """A multi-select's option values are agency ids: a crafted one is no agency of the
    forum, told on the field like choosing none, not as an outage (2³¹ on PostgreSQL) or no
    answer (²)."""
    values = {
        "agencies": {"value": multi_select_values([crafted])},
        "kind": {"value": select_value("information")},
        "text": {"value": plain_value("Informationen kom inte fram före mötet")},
        "case": {"value": plain_value("")},
    }
    response = bot.driver.view_submission(
        "deviation_new", values, user=SOCIAL, private_metadata=meta(forum), blocks=blocks_of(values)
    )
    assert response.status == 200, response.body
    answer = response.json()
    assert answer and answer.get("response_action") == "errors", answer
    assert answer["errors"] == {"agencies": "Välj de verksamheter som berörs."}, answer


@pytest.mark.parametrize("crafted", CRAFTED)
def test_a_crafted_round_in_a_rating_button_is_no_such_round(bot: Bot, crafted: str) -> None:
    """The rating DM's button carries "<round id>:<agency id>"."""
    forum = make_forum(bot)
    bot.run_due_work()
    agency = button_value(dms(bot, POLIS)[0]).partition(":")[2]
    before = bot.slack.count("response_url")
    bot.driver.block_action("rating_open", user=POLIS, value=f"{crafted}:{agency}", channel="C0001")
    shown = _reply(bot, before)
    assert forum and "Den bedömningsomgången finns inte" in shown, shown


@pytest.mark.parametrize("crafted", CRAFTED)
def test_a_crafted_area_block_in_the_rating_modal_is_left_out(bot: Bot, crafted: str) -> None:
    """The rating modal's blocks are named after the areas ("level_<area id>"): a crafted
    one names no area and is left out; the real answers are saved."""
    forum = make_forum(bot)
    bot.run_due_work()
    view = open_modal(bot, POLIS, button_value(dms(bot, POLIS)[0]))
    values: dict[str, Any] = {f"level_{forum[a]}": {"value": select_value("2")} for a in AREAS}
    values[f"level_{crafted}"] = {"value": select_value("4")}
    blocks = [*view["blocks"], {"type": "input", "block_id": f"level_{crafted}"}]
    private = view["private_metadata"]
    response = bot.driver.view_submission(
        "rating_submit", values, user=POLIS, private_metadata=private, blocks=blocks
    )
    assert "Svaret för Polis är sparat" in json.dumps(response.json(), ensure_ascii=False)
    assert sorted(current_levels(bot).values()) == [2] * len(AREAS)


@pytest.mark.parametrize("crafted", CRAFTED)
@pytest.mark.parametrize(
    ("button", "sent"),
    [
        ("agenda_edit_open", {"value": "{}"}),
        ("meeting_menu", {"selected_option": {"value": "move:{}"}}),
    ],
)
def test_a_crafted_meeting_in_a_button_or_menu_is_no_such_meeting(
    bot: Bot, button: str, sent: dict[str, Any], crafted: str
) -> None:
    """The agenda preview's edit button and a meeting's menu carry the meeting's id."""
    setup_forum(bot)
    since = len(bot.slack.calls)
    if "value" in sent:
        kwargs: dict[str, Any] = {"value": sent["value"].format(crafted)}
    else:
        kwargs = {"selected_option": {"value": sent["selected_option"]["value"].format(crafted)}}
    bot.driver.block_action(button, user="U1", channel="D0001", **kwargs)
    bot.wait_idle()
    shown = json.dumps([c.args for c in bot.slack.calls[since:]], ensure_ascii=False)
    assert OUTAGE not in shown and FAILED not in shown, shown
    assert "Mötet finns inte längre" in shown, shown


@pytest.mark.parametrize("crafted", CRAFTED)
def test_a_crafted_case_block_in_the_minutes_is_left_out(bot: Bot, crafted: str) -> None:
    """The minutes modal's blocks are named after the cases ("decision:<case id>"): a
    crafted one names no case; the real case's decision is saved."""
    minutes.setup_forum(bot)
    reference = minutes.raise_a_case(bot)
    meeting = minutes.first_meeting(bot)
    case = minutes.case_id(bot, reference)
    for hour in (8, 15):  # the agenda goes out; the meeting has ended
        tick(bot, local(2026, 11, 26, hour, 0))
    view = minutes.minutes_modal(bot, meeting)
    view["blocks"] = [*view["blocks"], {"type": "input", "block_id": f"decision:{crafted}"}]
    values = {
        (f"decision:{case}", "value"): plain_value("Skolan kallar till SIP"),
        (f"decision:{crafted}", "value"): plain_value("Något om ett ärende som inte finns"),
    }
    response = bot.driver.view_submission(
        "minutes_save",
        state_values(values),
        user="U1",
        private_metadata=json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": meeting}),
        blocks=view["blocks"],
    )
    answer = json.dumps(response.json(), ensure_ascii=False)
    assert OUTAGE not in answer and FAILED not in answer and "errors" not in answer, answer
    again = minutes.minutes_modal(bot, meeting)  # shows what was recorded
    assert "Skolan kallar till SIP" in json.dumps(again["blocks"], ensure_ascii=False)
