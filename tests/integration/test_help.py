"""`/samverkan hjälp` and friends, driven through the real app over signed HTTP."""

from __future__ import annotations

import datetime as dt
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
    # The extra meeting's day may be typed in words: the help says how.
    assert "(dagen också som 10 december, torsdag eller i morgon)" in text, text
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
    assert "(the day also as 10 December, Thursday or tomorrow)" in text, text


def test_english_refusals_name_the_english_commands(bot: Bot) -> None:
    """The English messages name commands by their English words (the Swedish ones work
    too, but an English user was told to type "forum ny", "lägesbild inställningar" …)."""
    bot.slack.set_user("U2", locale="en-US")
    bot.driver.command("cases", user="U2")  # no forum in this channel
    bot.driver.command("situation close", user="U2")
    replies = [_blocks_text(r.args) for r in bot.slack.wait_for("response_url", count=2)]
    assert any("Create one with /samverkan forum new:" in r for r in replies), replies
    assert any("… situation rate, … situation export [from] [to]" in r for r in replies), replies


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


def test_a_help_answered_from_the_cache_still_needs_a_valid_signature_and_its_workspace(
    bot: Bot,
) -> None:
    """Once U1's locale is known, a help is answered in the ack from a per-locale cache (the
    QuickHelp middleware). That runs after bolt's checks: an unsigned, forged or stale help
    is still refused. The same user id in another workspace, or another command, is not
    answered from this workspace's cache."""
    from tests.conftest import SIGNING_SECRET
    from tests.support.slack_driver import SlackDriver

    bot.driver.command("hjälp", user="U1")
    bot.slack.wait_for("response_url")
    quick = bot.driver.command("hjälp med extra ord", user="U1")
    assert "Samverkan – vad jag kan göra" in _blocks_text(quick.json())  # in the ack itself
    body = "command=%2Fsamverkan&text=hj%C3%A4lp&user_id=U1&team_id=T0001&channel_id=C0001"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    forged = bot.driver.signed_headers(body)
    forged["X-Slack-Signature"] = "v0=" + "0" * 64
    stale = bot.driver.signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    for extra in ({}, forged, stale):
        answer = bot.driver.raw("/slack/events", body.encode(), {**headers, **extra})
        assert answer.status == 401 and "Samverkan" not in answer.body
    other = bot.driver.command("hjälp", user="U1", command="/annat")
    assert "Samverkan" not in other.body
    elsewhere = SlackDriver(
        bot.url, SIGNING_SECRET, team_id="T0002", response_url_base=bot.slack.response_url_base
    )
    assert elsewhere.command("hjälp", user="U1").body == ""  # a bare ack: not from the cache
    bot.wait_idle()
    assert bot.slack.count("users.info") == 2  # looked up again for the other workspace
    assert bot.slack.count("response_url") == 2


def test_the_help_in_a_forums_channel_shows_the_forums_own_case_references(bot: Bot) -> None:
    """The help's example case reference is the forum's own (its code, this year in its
    time zone) where the help is asked in its channel, in the ack once the channel's forum
    was read (kept per forum code, year and language); the general example where there is
    no forum or in a DM. A forum set up in the channel shows at the next help."""
    from tests.integration.test_forum_flow import create_forum

    bot.driver.command("hjälp", user="U1")  # no forum here yet
    assert "/samverkan ärende FOS-2026-017" in _blocks_text(
        bot.slack.wait_for("response_url")[0].args
    )
    create_forum(bot, code="SOL")
    bot.settle()
    bot.driver.command("hjälp", user="U1")
    text = _blocks_text(bot.slack.wait_for("response_url", count=2)[-1].args)
    assert "/samverkan ärende SOL-2026-017" in text and "FOS-2026-017" not in text
    quick = _blocks_text(bot.driver.command("hjälp", user="U1").json())  # in the ack
    assert "/samverkan ärende SOL-2026-017" in quick and "/samverkan grund SOL-2026-017" in quick
    bot.clock.set(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC))  # 00:30 in Stockholm
    quick = _blocks_text(bot.driver.command("hjälp", user="U1").json())
    assert "/samverkan ärende SOL-2027-017" in quick
    in_dm = bot.driver.command("hjälp", user="U1", channel="D0001", channel_name="directmessage")
    assert "/samverkan ärende FOS-2026-017" in _blocks_text(in_dm.json())
    bot.wait_idle()
    assert bot.slack.count("response_url") == 2
