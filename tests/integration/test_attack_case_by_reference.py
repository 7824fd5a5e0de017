"""Attack review of `/samverkan ärende <REF>` (open a case by its reference): typed by
someone outside the case's forum (another forum's admin in their own channel, a user of
another workspace, a non-member in the case's channel), or for a reference of no case. Each
is refused with no data, the answer for another forum's case is the answer for no case, and
each refused attempt is audited once, as ``grund``/``samtycke`` typed so are."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial

from tests.conftest import Bot
from tests.integration.test_disclosure_table import (
    NON_MEMBER,
    OTHER_FORUM,
    OTHER_WS,
    SUMMARY,
    build_world,
    reader_for,
)
from tests.support.audit_log import events_since, last_id, refusals


def _reply(bot: Bot, send: Callable[[], object]) -> str:
    before = bot.slack.count("response_url")
    send()
    reply = bot.slack.wait_for("response_url", count=before + 1)[-1]
    shown = {k: v for k, v in reply.args.items() if k in ("text", "blocks")}
    return json.dumps(shown, ensure_ascii=False)


def test_a_case_reference_typed_outside_its_forum_is_refused_and_audited(bot: Bot) -> None:
    world = build_world(bot)
    mark = last_id(bot)
    other = reader_for(bot, world, OTHER_FORUM)
    elsewhere = reader_for(bot, world, OTHER_WS)
    answers = {}
    for name, driver, user, channel, typed in (
        ("other_forum", other.driver, OTHER_FORUM, other.channel, world.reference),
        ("other_forum_none", other.driver, OTHER_FORUM, other.channel, "FOS-2026-998"),
        ("other_ws", elsewhere.driver, OTHER_WS, elsewhere.channel, world.reference),
        ("non_member", bot.driver, NON_MEMBER, "C0001", world.reference.lower()),
    ):
        answers[name] = _reply(
            bot, partial(driver.command, f"ärende {typed}", user=user, channel=channel)
        )
        assert SUMMARY not in answers[name]
    bot.wait_idle()
    assert bot.slack.count("views.open") == 0
    # No oracle: another forum's case answers as a reference of no case does.
    assert answers["other_forum"].replace(world.reference, "X") == answers[
        "other_forum_none"
    ].replace("FOS-2026-998", "X")
    logged = refusals(events_since(bot, mark))
    in_case_forum = [(e.actor, e.object_ref, e.detail) for e in logged if e.forum_id == world.forum]
    assert (
        OTHER_FORUM,
        world.reference,
        {"surface": "case_modal", "details": False, "refused": "other_forum"},
    ) in in_case_forum
    assert (
        NON_MEMBER,
        world.reference,
        {"surface": "case_modal", "details": False, "refused": "not_a_member"},
    ) in in_case_forum
    # The reference of no case is audited too (as "?": nothing typed is kept).
    assert len(logged) >= 3
