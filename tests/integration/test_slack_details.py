"""Slack details (issue #15, point 10): views.* calls are not retried past the trigger's
3 seconds, while other calls keep their retries; driven through the real app."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.settings import load_settings
from domain import forums as fs
from handlers.app import TRIGGER_SECONDS, TriggerDeadline, retry_handlers
from storage.db import transaction
from tests.conftest import TEST_RETRY_BACKOFF, Bot
from tests.support.forums import forum_draft

ADMIN = "U1"


@pytest.fixture
def forum(bot: Bot) -> int:
    with transaction(bot.sessions) as s:
        created = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id="C0001", actor=ADMIN, draft=forum_draft()
        )
        return created.id


def test_views_open_is_retried_quickly_after_a_server_error(bot: Bot, forum: int) -> None:
    bot.slack.fail_next("views.open", status=500)
    bot.driver.command("ärende", user=ADMIN)
    calls = bot.slack.wait_for("views.open", count=2)
    assert [c.ok for c in calls] == [False, True]
    assert calls[1].at - calls[0].at < TRIGGER_SECONDS


def test_views_open_is_not_retried_when_slack_asks_to_wait_past_the_trigger(
    bot: Bot, forum: int
) -> None:
    bot.slack.fail_next("views.open", status=429, retry_after=5)
    started = time.monotonic()
    bot.driver.command("ärende", user=ADMIN)
    reply = bot.slack.wait_for("response_url")[-1]
    assert time.monotonic() - started < 3  # the user hears at once, not after 5 s
    assert bot.slack.count("views.open") == 1
    assert reply.args.get("text")  # a friendly message instead of a modal


def test_a_short_retry_after_still_fits_the_trigger(bot: Bot, forum: int) -> None:
    bot.slack.fail_next("views.open", status=429, retry_after=1)
    bot.driver.command("ärende", user=ADMIN)
    calls = bot.slack.wait_for("views.open", count=2)
    assert calls[-1].ok
    assert calls[-1].at - calls[0].at < 3


def _state_after_one_attempt() -> RetryState:
    return RetryState(current_attempt=0)


def _request(method: str) -> HttpRequest:
    return HttpRequest(method="POST", url=f"http://127.0.0.1/api/{method}", headers={})


def _ratelimited(seconds: int) -> HttpResponse:
    return HttpResponse(status_code=429, headers={"Retry-After": [str(seconds)]}, data=b"")


def test_other_calls_keep_their_rate_limit_retries_past_the_deadline() -> None:
    # A deadline already passed: views.* are not retried, chat.postMessage still is.
    limited = [h for h in retry_handlers() if h.__class__.__name__ == "RateLimitErrorRetryHandler"]
    handler = TriggerDeadline(limited[0], deadline=time.monotonic() - 1)
    for method, expected in (("chat.postMessage", True), ("views.open", False)):
        allowed = handler.can_retry(
            state=_state_after_one_attempt(), request=_request(method), response=_ratelimited(3)
        )
        assert allowed is expected, method
    fresh = TriggerDeadline(limited[0], deadline=time.monotonic() + TRIGGER_SECONDS)
    for method, seconds, expected in (("views.push", 1, True), ("views.update", 5, False)):
        allowed = fresh.can_retry(
            state=_state_after_one_attempt(),
            request=_request(method),
            response=_ratelimited(seconds),
        )
        assert allowed is expected, (method, seconds)


def test_a_server_error_on_a_view_call_is_retried_while_a_short_pause_still_fits() -> None:
    # slack_sdk's own backoff (0.5–1.5 s) would not fit half a second; the view's pause does,
    # and it is the same pause the check counted with, not a second random draw.
    (server,) = [h for h in retry_handlers() if h.__class__.__name__ == "ServerErrorRetryHandler"]
    failed = HttpResponse(status_code=500, headers={}, data=b"")
    for left, expected in ((0.5, True), (0.1, False)):
        handler = TriggerDeadline(server, deadline=time.monotonic() + left)
        allowed = handler.can_retry(
            state=_state_after_one_attempt(), request=_request("views.open"), response=failed
        )
        assert allowed is expected, left


def _server_pause(handlers: list[Any]) -> float:
    (server,) = [h for h in handlers if h.__class__.__name__ == "ServerErrorRetryHandler"]
    return float(server.interval_calculator.calculate_sleep_duration(0))


def test_the_pause_before_a_retry_after_a_server_error_is_a_setting(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # By default slack_sdk's own: 0.5 s plus up to 1 s at random before the first retry.
    assert all(0.5 <= _server_pause(retry_handlers()) <= 1.5 for _ in range(20))
    # SAMVERKAN_SLACK_RETRY_BACKOFF scales both; the test bot runs with the tests' setting.
    monkeypatch.setenv("SAMVERKAN_SLACK_RETRY_BACKOFF", "0.2")
    assert load_settings().slack_retry_backoff == 0.2
    assert all(0.2 <= _server_pause(retry_handlers(0.2)) <= 0.6 for _ in range(20))
    pause = _server_pause(bot.runtime.app.client.retry_handlers)
    assert TEST_RETRY_BACKOFF <= pause <= 3 * TEST_RETRY_BACKOFF


# --- interactive replies refresh in place ---------------------------------------------------


def test_marking_an_action_done_from_the_list_redraws_that_list_in_place(bot: Bot) -> None:
    from tests.integration.test_action_flow import ELEVHALSA, make_forum, submit_action, the_action

    forum = make_forum(bot)
    submit_action(bot, forum)
    action = the_action(bot)
    before = bot.slack.count("response_url")
    bot.driver.command("insatser", user=ELEVHALSA)
    listing = bot.slack.wait_for("response_url", count=before + 1)[-1].args
    row = next(b for b in listing["blocks"] if str(b.get("block_id", "")).startswith("action."))
    bot.driver.block_action(
        "action_row_menu",
        user=ELEVHALSA,
        block_id=row["block_id"],
        selected_option={
            "text": {"type": "plain_text", "text": "Klar"},
            "value": f"done:{action.id}",
        },
        extra_action={"type": "overflow"},
    )
    reply = bot.slack.wait_for("response_url", count=before + 2)[-1].args
    assert reply["replace_original"] is True
    text = json.dumps(reply, ensure_ascii=False)
    assert "markerade den som klar" in text  # what was done, on top of the list
    assert f"action.{action.id}@" not in text  # no longer among my open actions
    bot.slack.assert_no_violations()


def test_a_menu_button_answers_in_the_menus_place(bot: Bot, forum: int) -> None:
    before = bot.slack.count("response_url")
    bot.driver.command("", user=ADMIN)
    bot.slack.wait_for("response_url", count=before + 1)
    bot.driver.block_action("menu_help", user=ADMIN)
    reply = bot.slack.wait_for("response_url", count=before + 2)[-1].args
    assert reply["replace_original"] is True
