"""Case criteria through the real app: coordinators keep at most 8 (from a template or
typed), the case modal offers them as optional checkboxes, statistics count how often
each was met."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from storage.models import CaseCriterion, case_criteria_met
from tests.conftest import Bot
from tests.integration.test_case_flow import ADMIN, ELEVHALSA, case_values, meta
from tests.integration.test_feedback import forum  # noqa: F401  (fixture)
from tests.support.personnummer import pnr
from tests.support.slack_driver import checkbox_values, plain_value


def submit_criteria(bot: Bot, ids: dict[str, int], lines: str, version: int = 0) -> Any:
    values = {f"criteria.{version}": {"value": plain_value(lines)}}
    return bot.driver.view_submission(
        "case_criteria",
        values,
        user=ADMIN,
        private_metadata=meta(ids, version=version),
        blocks=[{"type": "input", "block_id": "template"}]
        + [{"type": "input", "block_id": b} for b in values],
    ).json()


def active(bot: Bot) -> list[str]:
    with bot.sessions() as session:
        return list(
            session.scalars(
                select(CaseCriterion.text)
                .where(CaseCriterion.active.is_(True))
                .order_by(CaseCriterion.position)
            )
        )


def test_coordinators_keep_a_short_list_from_a_template(
    bot: Bot,
    forum: dict[str, int],  # noqa: F811
) -> None:
    bot.driver.command("kriterier", user=ADMIN)
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    assert view["callback_id"] == "case_criteria"
    # The FOSSAM template fills the field.
    bot.driver.block_action(
        "case_criteria_template",
        user=ADMIN,
        selected_option={"value": "fossam"},
        view={**view, "id": "V0001", "hash": "h1"},
    )
    filled = bot.slack.wait_for("views.update")[-1].args["view"]
    text = json.dumps(filled, ensure_ascii=False)
    assert "Hög eller ökande skolfrånvaro | T.ex. över 10 %" in text

    nine = "\n".join(f"Kriterium {n}" for n in range(1, 10))
    too_many = submit_criteria(bot, forum, nine)
    assert too_many["response_action"] == "errors"
    assert "högst 8" in json.dumps(too_many, ensure_ascii=False)
    assert active(bot) == []
    refused = submit_criteria(bot, forum, f"Barn {pnr('120315', '123')}")
    assert refused["response_action"] == "errors" and active(bot) == []

    lines = "Hög skolfrånvaro | Över 10 %\nOro i familjen\nSkola och soc behövs"
    assert submit_criteria(bot, forum, lines, version=1) is None
    assert active(bot) == ["Hög skolfrånvaro", "Oro i familjen", "Skola och soc behövs"]


def test_the_case_modal_offers_them_and_statistics_count_them(
    bot: Bot,
    forum: dict[str, int],  # noqa: F811
) -> None:
    submit_criteria(bot, forum, "Hög skolfrånvaro | Över 10 %\nOro i familjen")
    bot.driver.command("ärende", user=ELEVHALSA)
    modal = bot.slack.wait_for("views.open")[-1].args["view"]
    block = next(b for b in modal["blocks"] if b.get("block_id") == "criteria")
    assert block["optional"] is True and block["element"]["type"] == "checkboxes"
    ids = {o["text"]["text"]: o["value"] for o in block["element"]["options"]}
    assert block["element"]["options"][0]["description"]["text"] == "Över 10 %"

    def raise_case(view_id: str, ticked: list[str]) -> Any:
        values = case_values(forum)
        values["criteria"] = {"value": checkbox_values(ticked)}
        return bot.driver.view_submission(
            "case_new",
            values,
            user=ADMIN,
            private_metadata=meta(forum),
            view_id=view_id,
            blocks=[{"type": "input", "block_id": b} for b in values],
        ).json()

    assert raise_case("V1", [ids["Hög skolfrånvaro"]]) is None
    assert raise_case("V2", []) is None  # skipping is fine
    assert raise_case("V3", ["999"])["response_action"] == "errors"
    with bot.sessions() as session:
        assert session.scalar(select(func.count()).select_from(case_criteria_met)) == 1

    bot.driver.command("kriterier statistik 2026", user=ELEVHALSA)
    reply = json.dumps(bot.slack.wait_for("response_url")[-1].args, ensure_ascii=False)
    assert "2 ärenden" in reply and "Hög skolfrånvaro: *1*" in reply
