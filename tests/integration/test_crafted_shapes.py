"""A block action of a shape Slack never sends its listener: a modal's button sent from a
message (or from App Home), a message's button sent from a modal, a menu without the option
chosen. Signed as Slack signs, but each listener reads what only its own requests carry
(``body["view"]``, the response_url, ``selected_option``): such a request is refused as any
malformed request is (handlers/payload.py's ``needs``, checked before the listener runs):
400, one warning, no traceback, no ERROR, and nothing done or sent to anyone.

Each case below failed before: a KeyError, or a ValueError from answering on a message
there is none of, logged at ERROR with its traceback (by our listener wrapper, or by bolt's
runner for a listener without one); from App Home, the listener updated the Home tab with
its modal (Slack refuses that: a Slack error, logged at ERROR too).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Meeting
from tests.conftest import Bot
from tests.integration.test_agenda_meetings import meeting_ids
from tests.integration.test_case_flow import ADMIN, CHANNEL, meta
from tests.integration.test_case_flow import forum as forum  # the fixture
from tests.support.agenda_flow import setup_forum
from tests.support.slack_driver import Response

MALFORMED = {"error": "malformed request"}  # as tests/integration/test_malformed_requests.py


def _crafted(
    bot: Bot,
    action_id: str,
    *,
    container: str,
    private_metadata: str,
    value: str | None = "1",
    option: str | None = None,
) -> Response:
    """A block action by the forum's coordinator, from ``container`` ("message", "modal" or
    "home"). From a view it names the channel too (Slack's never do), so a listener that
    answers on the message gets as far as answering."""
    driver = bot.driver
    action: dict[str, Any] = {"action_id": action_id, "block_id": "b", "type": "button"}
    if option is not None:
        action.update({"type": "static_select", "selected_option": {"value": option}})
    elif value is not None:
        action["value"] = value
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": ADMIN, "username": "admin", "team_id": driver.team_id},
        "team": {"id": driver.team_id},
        "api_app_id": driver.api_app_id,
        "trigger_id": driver.new_trigger_id(),
        "channel": {"id": CHANNEL, "name": "fossam"},
        "actions": [action],
    }
    if container == "message":
        payload["container"] = {"type": "message", "channel_id": CHANNEL, "message_ts": "1.2"}
        payload["message"] = {"type": "message", "ts": "1.2", "text": "", "blocks": []}
        payload["response_url"] = driver.new_response_url()
    else:
        view = driver.complete_view({"type": container, "private_metadata": private_metadata})
        payload["container"] = {"type": "view", "view_id": view["id"]}
        payload["view"] = view
    return driver.send_payload(payload)


# (action_id, where it is sent from, the option chosen or None: a button)
WRONG_SHAPES: list[tuple[str, str, str | None]] = [
    # A modal's buttons and menus, sent from a message.
    ("forum_template", "message", "standard"),
    ("forum_open_members", "message", None),
    ("member_remove", "message", None),
    ("case_status_closed", "message", None),
    ("case_withdraw_consent", "message", None),
    ("case_delete_mistake", "message", None),
    ("case_record_consent", "message", None),
    ("case_change_agencies", "message", None),
    ("case_change_sip", "message", None),
    ("agenda_item_menu", "message", "up:1"),
    ("privacy_legal_ground_end", "message", None),
    ("case_legal_hold", "message", None),
    ("case_legal_hold_release", "message", None),
    ("case_criteria_open", "message", None),
    ("case_criteria_template", "message", "standard"),
    # ... and from App Home, which is a view but no modal.
    ("agenda_item_menu", "home", "up:1"),
    ("member_remove", "home", None),
    # A message's buttons and menus (they answer on it), sent from a modal.
    ("menu_help", "modal", None),
    ("case_list_filter", "modal", "f:all:open"),
    ("action_list_filter", "modal", "f:forum:all"),
    ("privacy_log_export_csv", "modal", None),
    # A menu with no option chosen (a button of that id).
    ("meeting_menu", "message", None),
    ("agenda_item_menu", "modal", None),
]


@pytest.mark.parametrize(
    ("action_id", "container", "option"),
    WRONG_SHAPES,
    ids=[f"{a}-from-{c}{'-option' if o else ''}" for a, c, o in WRONG_SHAPES],
)
def test_a_block_action_of_a_shape_its_listener_never_gets_is_refused_quietly(
    bot: Bot,
    forum: dict[str, int],
    caplog: pytest.LogCaptureFixture,
    action_id: str,
    container: str,
    option: str | None,
) -> None:
    caplog.set_level(logging.INFO)
    answer = _crafted(
        bot, action_id, container=container, private_metadata=meta(forum), option=option
    )
    bot.wait_idle()
    assert answer.status == 400, answer.body
    assert answer.json() == MALFORMED
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text
    assert [r.getMessage() for r in caplog.records if "malformed" in r.getMessage()]
    # Nothing ran: no modal, no reply, no DM (bolt checks its token once, as for any request).
    assert [c.method for c in bot.slack.calls if c.method != "auth.test"] == []


def test_the_same_listeners_still_answer_their_own_shape(
    bot: Bot, forum: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    """The check refuses only what is missing: the menu from the message, the members
    button from the settings modal, the template menu from the forum modal all run."""
    caplog.set_level(logging.INFO)
    assert _crafted(bot, "menu_help", container="message", private_metadata="").status == 200
    bot.slack.wait_for("response_url")
    opened = _crafted(bot, "forum_open_members", container="modal", private_metadata=meta(forum))
    assert opened.status == 200
    bot.slack.wait_for("views.push")
    chosen = _crafted(
        bot,
        "forum_template",
        container="modal",
        private_metadata=json.dumps({"locale": "sv", "channel_id": CHANNEL}),
        option="standard",
    )
    assert chosen.status == 200
    bot.slack.wait_for("views.update")
    bot.wait_idle()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


# --- crafted submissions: told on the modal, in the user's language --------------------------

NO_CHANNEL = {
    "sv": "Formuläret säger inte vilken kanal forumet gäller",
    "en": "This form does not say which channel the forum is for",
}
BAD_TIME = {"sv": "Välj en tid som tt:mm", "en": "Choose a time as hh:mm"}


def _input(block_id: str) -> dict[str, Any]:
    return {"type": "input", "block_id": block_id, "element": {"type": "plain_text_input"}}


@pytest.mark.parametrize("locale", ["sv", "en"])
def test_a_forum_form_that_names_no_channel_says_so(bot: Bot, locale: str) -> None:
    """The forum modal carries the channel it was opened in; one that does not (crafted)
    is told why the forum cannot be made there, not "something went wrong, try again"."""
    answer = bot.driver.view_submission(
        "forum_create",
        {"name": {"name": {"type": "plain_text_input", "value": "FOSSAM"}}},
        user=ADMIN,
        private_metadata=json.dumps({"locale": locale}),
        blocks=[_input("name")],
    )
    assert answer.json()["response_action"] == "errors"
    assert NO_CHANNEL[locale] in answer.json()["errors"]["name"]


@pytest.mark.parametrize("locale", ["sv", "en"])
def test_a_meeting_moved_to_no_time_of_day_is_told_on_the_time_field(bot: Bot, locale: str) -> None:
    """Slack's time picker sends hh:mm; a crafted 25:99 was read as "no time given" and the
    meeting moved with its old time, silently. Now the time field says what is wrong, in
    the user's language, and the meeting stays where it was."""
    setup_forum(bot)
    bot.driver.command("möten", user="U1")
    bot.slack.wait_for("response_url")
    first = meeting_ids(bot)[0]
    with bot.sessions() as s:
        before = s.scalar(select(Meeting.starts_at).where(Meeting.id == first))
    answer = bot.driver.view_submission(
        "meeting_move",
        {
            "day": {"day": {"type": "datepicker", "selected_date": "2026-11-27"}},
            "start": {"start": {"type": "timepicker", "selected_time": "25:99"}},
        },
        user="U1",
        private_metadata=json.dumps({"locale": locale, "forum_id": 1, "meeting_id": first}),
        blocks=[_input("day"), _input("start")],
    )
    assert answer.json()["response_action"] == "errors"
    assert BAD_TIME[locale] in answer.json()["errors"]["start"]
    bot.wait_idle()
    with bot.sessions() as s:
        assert s.scalar(select(Meeting.starts_at).where(Meeting.id == first)) == before
    assert not bot.slack.calls_to("chat.postMessage")  # no "moved" notice


# --- crafted events: refused like a malformed request, not a 500 with a traceback ------------

CRAFTED_EVENTS = {
    "a member who left no channel": {"type": "member_left_channel", "user": ADMIN},
    "no one left the channel": {"type": "member_left_channel", "channel": CHANNEL},
    "App Home opened by no one": {"type": "app_home_opened", "tab": "home"},
}


@pytest.mark.parametrize("shape", sorted(CRAFTED_EVENTS))
def test_an_event_without_whom_or_where_it_is_about_is_refused_quietly(
    bot: Bot, forum: dict[str, int], caplog: pytest.LogCaptureFixture, shape: str
) -> None:
    """Slack's member and App Home events always name the member (and the channel): one that
    does not failed in its listener (a KeyError: ERROR and a 500, which Slack would retry)."""
    caplog.set_level(logging.INFO)
    answer = bot.driver.event(CRAFTED_EVENTS[shape])
    bot.wait_idle()
    assert answer.status == 400, answer.body
    assert answer.json() == MALFORMED
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert [c.method for c in bot.slack.calls if c.method != "auth.test"] == []


# --- field errors only on inputs the submitted view has ---------------------------------------

REFUSED_FORMS = ["forum_edit", "case_new", "meeting_move", "rating_settings", "action_new"]


@pytest.mark.parametrize("callback_id", REFUSED_FORMS)
def test_a_refused_submission_names_only_inputs_its_view_has(
    bot: Bot, callback_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack refuses an answer with errors on blocks the view does not have (the user sees
    the modal hang). A crafted submission with no input at all got errors on "" or on the
    fields' names: now the refusal replaces the modal as a notice, in the modal's language;
    with inputs, every error is on one of them."""
    caplog.set_level(logging.INFO)
    bare = bot.driver.view_submission(
        callback_id, {}, user=ADMIN, private_metadata=json.dumps({"locale": "en"})
    ).json()
    assert bare["response_action"] == "update", bare
    assert bare["view"]["type"] == "modal"
    told = json.dumps(bare["view"])
    assert "forum" in told or "meeting" in told or "Choose" in told, told
    one = bot.driver.view_submission(
        callback_id,
        {},
        user=ADMIN,
        private_metadata=json.dumps({"locale": "en"}),
        blocks=[_input("x")],
    ).json()
    assert one["response_action"] == "errors", one
    assert set(one["errors"]) == {"x"}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
