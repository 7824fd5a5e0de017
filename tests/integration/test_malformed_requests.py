"""Signed requests that are not shaped like anything Slack sends get 400, with no traceback
in the answer or anywhere in the server's output; unsigned ones get 401 as before.

Kinds (see handlers/payload.py): slash commands and interactivity that Slack never sends in
that shape are refused with 400; Events API envelopes are checked only as far as the
envelope, because Slack retries refused events and turns off an app that refuses many.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from tests.conftest import SIGNING_SECRET, Bot
from tests.support.slack_driver import Response, plain_value, state_values


def _payload(bot: Bot, payload: Any) -> Response:
    return _form(bot, urlencode({"payload": json.dumps(payload)}))


def _signed(bot: Bot, body: str, content_type: str) -> Response:
    driver = bot.driver
    headers = {"Content-Type": content_type, **driver.signed_headers(body)}
    return driver.raw(driver.path, body.encode(), headers)


def _form(bot: Bot, body: str) -> Response:
    return _signed(bot, body, "application/x-www-form-urlencoded")


def _json(bot: Bot, body: str) -> Response:
    return _signed(bot, body, "application/json")


def _signed_bytes(bot: Bot, body: bytes) -> Response:
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
    }
    return bot.driver.raw(bot.driver.path, body, headers)


def _action(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U1", "team_id": "T0001"},
        "team": {"id": "T0001"},
        "trigger_id": "1.2.3",
        "container": {"type": "message", "channel_id": "C0001"},
        "channel": {"id": "C0001"},
        "actions": [{"action_id": "menu_help", "block_id": "b", "type": "button"}],
    }
    payload.update(overrides)
    return payload


def _submission(values: Any, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "view_submission",
        "user": {"id": "U1"},
        "team": {"id": "T0001"},
        "view": {
            "id": "V1",
            "callback_id": "case_new",
            "private_metadata": "{}",
            "state": {"values": values},
        },
    }
    payload.update(overrides)
    return payload


SHAPES: dict[str, Any] = {
    "interactivity payload is not JSON": lambda b: _form(b, "payload=%7Bnot+json"),
    "events body is not JSON": lambda b: _json(b, '{"type": "event_callback", "event": '),
    "events body is a JSON list": lambda b: _json(b, "[1, 2, 3]"),
    "event without an event": lambda b: _json(b, '{"type": "event_callback"}'),
    "actions is empty": lambda b: _payload(b, _action(actions=[])),
    "actions is not a list": lambda b: _payload(b, _action(actions="help")),
    "a number as the action's value": lambda b: _payload(
        b, _action(actions=[{"action_id": "menu_help", "value": 17}])
    ),
    "a number as the user id": lambda b: _payload(b, _action(user={"id": 42})),
    "a number as typed text": lambda b: _payload(
        b, _submission({"summary": {"input": {"type": "plain_text_input", "value": 123}}})
    ),
    "a number as private metadata": lambda b: _payload(
        b,
        _submission(
            state_values({("summary", "input"): plain_value("x")}),
            view={
                "id": "V1",
                "callback_id": "case_new",
                "private_metadata": 5,
                "state": {"values": {}},
            },
        ),
    ),
    "no user in an action": lambda b: _payload(
        b, {k: v for k, v in _action().items() if k != "user"}
    ),
    "no user in a submission": lambda b: _payload(
        b, {k: v for k, v in _submission({}).items() if k != "user"}
    ),
    "no view in a submission": lambda b: _payload(
        b, {k: v for k, v in _submission({}).items() if k != "view"}
    ),
    "an action without a trigger_id": lambda b: _payload(
        b, {k: v for k, v in _action().items() if k != "trigger_id"}
    ),
    "a submitted view without its state": lambda b: _payload(
        b, _submission({}, view={"id": "V1", "callback_id": "case_new", "private_metadata": "{}"})
    ),
    "a submitted view without its id": lambda b: _payload(
        b,
        _submission(
            {}, view={"callback_id": "case_new", "private_metadata": "{}", "state": {"values": {}}}
        ),
    ),
    "slash command without a user": lambda b: _form(
        b, urlencode({"command": "/samverkan", "text": "hjälp", "team_id": "T0001"})
    ),
    "not UTF-8": lambda b: _signed_bytes(b, b"payload=\xff\xfe"),
    # No JSON holds a control character as it is: the check stripped it first and passed
    # the action on, while the lazy listener's copy, parsed again, failed on it.
    "a control character as it is in the payload's JSON": lambda b: _form(
        b, "payload=" + quote(json.dumps(_action()).replace("menu_help", "menu_help\x0b"))
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_malformed_request_gets_400_and_no_traceback(
    bot: Bot,
    shape: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = SHAPES[shape](bot)
    assert answer.status == 400, answer.body
    assert answer.json() == {"error": "malformed request"}
    output = caplog.text + "".join(capfd.readouterr())
    assert "Traceback" not in answer.body
    assert "Traceback" not in output, output
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not bot.slack.calls_to("views.open")  # nothing ran


def test_an_unsigned_malformed_request_gets_401(bot: Bot) -> None:
    body = "payload=%7Bnot+json"
    answer = bot.driver.raw(
        bot.driver.path, body.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status == 401


def test_a_well_formed_request_still_works(bot: Bot) -> None:
    assert bot.driver.block_action("menu_help", user="U1").status == 200
    bot.slack.wait_for("response_url")


@pytest.mark.parametrize("depth", [600, 900, 980])
def test_a_payload_nested_hundreds_of_levels_deep_leaves_no_traceback(
    bot: Bot,
    depth: int,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Slack's payloads nest a dozen levels. A crafted button press carrying a list nested
    600 to 980 levels deep (still within what Python's JSON parser reads) was answered, then
    bolt's copy of the request for the lazy listener (or its parse further down the stack)
    ended in a RecursionError, a traceback of thousands of lines logged per request. Now it
    is either refused at the door with 400 or handled as any button press, with no error."""
    caplog.set_level(logging.DEBUG)
    action = _action(response_url=bot.driver.new_response_url(), message={"ts": "1.1"})
    deep = "[" * depth + '"a\\u0001b"' + "]" * depth  # an escape: the strip walks it too
    answer = _form(bot, "payload=" + quote(json.dumps(action)[:-1] + f', "x": {deep}}}'))
    bot.wait_idle()
    output = caplog.text + "".join(capfd.readouterr())
    assert answer.status in (200, 400), answer.body
    assert "Traceback" not in output and "RecursionError" not in output, output[-2000:]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
