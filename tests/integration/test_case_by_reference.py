"""`/samverkan ärende FOS-2026-001` opens that case (the same audited read as the list's
Open button), not a blank new case; a reference of no case is told so."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from storage.models import AuditEvent
from tests.conftest import Bot
from tests.integration.test_case_flow import ELEVHALSA, OUTSIDER, SOCIAL, SUMMARY, submit_case
from tests.integration.test_case_flow import forum as forum  # the fixture


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def reads(bot: Bot, user: str) -> list[Any]:
    with bot.sessions() as s:
        return list(
            s.scalars(
                select(AuditEvent.detail).where(
                    AuditEvent.actor == user, AuditEvent.object_type == "case"
                )
            )
        )


def test_a_reference_after_the_case_command_opens_that_case(
    bot: Bot, forum: dict[str, int]
) -> None:
    assert submit_case(bot, forum).json() is None  # FOS-2026-001, consent for Elevhälsa
    bot.run_due_work()
    for text in ("ärende fos-2026-001", "ärenden FOS-2026-001"):
        before = bot.slack.count("views.open")
        bot.driver.command(text, user=ELEVHALSA)
        view = bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"]
        assert view["callback_id"] == "case_detail" and view["title"]["text"] == "FOS-2026-001"
        assert SUMMARY in dump(view)
    assert [r["surface"] for r in reads(bot, ELEVHALSA)] == ["case_modal"] * 2
    # Another agency (not covered by the consent) sees the anonymous consultation only.
    before = bot.slack.count("views.open")
    bot.driver.command("ärende FOS-2026-001", user=SOCIAL)
    view = bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"]
    assert view["callback_id"] == "case_detail" and SUMMARY not in dump(view)
    assert reads(bot, SOCIAL) == [{"surface": "case_modal", "details": False}]
    bot.slack.assert_no_violations()


def test_a_reference_of_no_case_is_told_and_the_bare_command_still_raises_one(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.driver.command("ärende FOS-2026-099", user=ELEVHALSA)
    reply = dump(bot.slack.wait_for("response_url")[-1].args)
    assert "FOS-2026-099" in reply and "inget ärende" in reply.lower()
    bot.driver.command("ärende", user=ELEVHALSA)
    assert bot.slack.wait_for("views.open")[-1].args["view"]["callback_id"] == "case_new"
    bot.driver.command("ärende FOS-2026-001", user=OUTSIDER)
    refused = dump(bot.slack.wait_for("response_url", count=2)[-1].args)
    assert "medlemmar" in refused.lower()
    bot.run_due_work()
    assert bot.slack.count("views.open") == 1
    bot.slack.assert_no_violations()


def test_the_help_tells_how_to_open_a_case_by_its_reference(bot: Bot) -> None:
    bot.driver.command("hjälp", user=ELEVHALSA)
    assert "/samverkan ärende FOS-2026-017" in dump(bot.slack.wait_for("response_url")[-1].args)
