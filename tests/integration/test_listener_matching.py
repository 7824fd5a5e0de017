"""The bot's listeners answer a request as bolt's own matchers would (handlers/app.py gives
them cheaper ones, :func:`handlers.app.matching_by_body`): for every kind of request Slack
sends, the same listeners match."""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import urlencode

from slack_bolt.listener.custom_listener import CustomListener
from slack_bolt.listener_matcher.builtins import BuiltinListenerMatcher
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from handlers.app import BodyMatcher
from tests.conftest import Bot

FORM: dict[str, str | Sequence[str]] = {"content-type": ["application/x-www-form-urlencoded"]}
JSON: dict[str, str | Sequence[str]] = {"content-type": ["application/json"]}
USER = {"id": "U1", "team_id": "T0001"}


def _payload(payload: dict[str, object]) -> BoltRequest:
    return BoltRequest(body=urlencode({"payload": json.dumps(payload)}), headers=FORM)


def _requests() -> list[BoltRequest]:
    team = {"id": "T0001"}
    view = {"id": "V1", "type": "modal", "callback_id": "forum_edit", "state": {"values": {}}}
    return [
        _payload({"type": "view_submission", "team": team, "user": USER, "view": view}),
        _payload({"type": "view_closed", "team": team, "user": USER, "view": view}),
        *(
            _payload(
                {
                    "type": "block_actions",
                    "team": team,
                    "user": USER,
                    "actions": [{"action_id": action_id, "block_id": "b", "type": "button"}],
                }
            )
            for action_id in ("forum_menu", "case_open", "no_such_action")
        ),
        _payload({"type": "block_suggestion", "team": team, "user": USER, "action_id": "x"}),
        _payload({"type": "message_action", "team": team, "user": USER, "callback_id": "x"}),
        BoltRequest(
            body=urlencode(
                {"command": "/samverkan", "text": "hjälp", "team_id": "T0001", "user_id": "U1"}
            ),
            headers=FORM,
        ),
        *(
            BoltRequest(
                body=json.dumps(
                    {"type": "event_callback", "team_id": "T0001", "event": {"type": kind}}
                ),
                headers=JSON,
            )
            for kind in ("app_home_opened", "member_joined_channel", "app_uninstalled", "message")
        ),
    ]


def test_every_listener_matches_what_bolts_own_matchers_match(bot: Bot) -> None:
    listeners = [li for li in bot.runtime.app._listeners if isinstance(li, CustomListener)]
    replaced = [m for li in listeners for m in li.matchers if isinstance(m, BodyMatcher)]
    assert len(replaced) >= len(listeners)  # each listener's built-in matcher is replaced
    resp = BoltResponse(status=200)
    matched = 0
    for req in _requests():
        for listener in listeners:
            ours = listener.matches(req=req, resp=resp)
            bolts = all(
                BuiltinListenerMatcher(func=m.func).matches(req, resp)
                if isinstance(m, BodyMatcher)
                else m.matches(req, resp)
                for m in listener.matchers
            )
            assert ours == bolts, (req.body, listener.ack_function)
            matched += ours
    assert matched >= 5  # the requests do reach listeners (not a test of nothing)
