"""`/samverkan hjälp` and friends, driven through the real app over signed HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.conftest import Bot


def _blocks_text(call_args: dict[str, Any]) -> str:
    return json.dumps(call_args.get("blocks", []), ensure_ascii=False) + str(
        call_args.get("text", "")
    )


def test_help_is_acked_at_once_and_answered_in_swedish(bot: Bot) -> None:
    began = time.monotonic()
    response = bot.driver.command("hjälp", user="U1")
    assert response.status == 200
    assert response.body == ""  # a bare ack: the answer comes through response_url
    assert time.monotonic() - began < 3
    reply = bot.slack.wait_for("response_url")[0]
    text = _blocks_text(reply.args)
    assert "Samverkan – vad jag kan göra" in text
    assert "/samverkan forum ny" in text
    assert reply.args["response_type"] == "ephemeral"
    bot.slack.assert_no_violations()


def test_once_the_locale_is_known_help_comes_in_the_ack_itself(bot: Bot) -> None:
    bot.slack.set_user("U3", locale="en-GB")
    bot.driver.command("hjälp", user="U3")
    bot.slack.wait_for("response_url")
    response = bot.driver.command("help", user="U3")
    assert response.status == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "Samverkan – what I can do" in _blocks_text(body)
    assert bot.slack.count("users.info") == 1  # the locale was looked up once
    assert bot.slack.count("response_url") == 1  # nothing more through response_url


def test_help_in_english_for_an_english_slack_user(bot: Bot) -> None:
    bot.slack.set_user("U2", locale="en-US")
    bot.driver.command("help", user="U2")
    text = _blocks_text(bot.slack.wait_for("response_url")[0].args)
    assert "Samverkan – what I can do" in text
    assert "/samverkan forum new" in text


def test_unknown_subcommand_gets_a_short_swedish_help(bot: Bot) -> None:
    bot.driver.command("blabla", user="U1")
    text = _blocks_text(bot.slack.wait_for("response_url")[0].args)
    assert "blabla" in text
    assert "känner inte till" in text


def test_requests_with_bad_or_old_signatures_are_refused(bot: Bot) -> None:
    body = "command=%2Fsamverkan&text=hj%C3%A4lp&user_id=U1&team_id=T0001&channel_id=C0001"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    unsigned = bot.driver.raw("/slack/events", body.encode(), headers)
    assert unsigned.status == 401
    bad = bot.driver.signed_headers(body)
    bad["X-Slack-Signature"] = "v0=" + "0" * 64
    assert bot.driver.raw("/slack/events", body.encode(), {**headers, **bad}).status == 401
    old = bot.driver.signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    assert bot.driver.raw("/slack/events", body.encode(), {**headers, **old}).status == 401
    bot.wait_idle()  # nothing was started that could still answer
    assert bot.slack.count("response_url") == 0
