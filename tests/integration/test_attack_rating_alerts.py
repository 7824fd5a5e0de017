"""Attack review of the coordinators' alert about a rating form's escalations, through the
real app. The pages of a form carry their escalations on in the modal's private_metadata,
and a closed form (view_closed) tells them: both are the member's to craft. The alert says
only what the agency's stored ratings in that round say, once per escalation: a member
cannot make the coordinators read that their agency rated an area kritiskt or allvarligt
when it did not, nor repeat a true alert by closing forms under new view ids."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from tests.conftest import Bot
from tests.integration.test_rating_flow import rate_page, twenty_areas
from tests.support.rating_flow import (
    ADMIN,
    DEADLINE,
    FRITID,
    OUTSIDER,
    POLIS,
    POLIS2,
    dms,
    make_forum,
    open_modal,
    rate,
    the_round,
)


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    made = make_forum(bot)
    bot.run_due_work()  # the round opens
    bot.slack.reset()
    return made


def crafted(forum: dict[str, int], escalated: str, *, agency: str = "Polis") -> str:
    return json.dumps(
        {
            "locale": "sv",
            "forum_id": forum["forum"],
            "round_id": 0,
            "agency_id": forum[agency],
            "page": 1,
            "escalated": escalated,
        }
    )


def close(bot: Bot, forum: dict[str, int], escalated: str, **kw: Any) -> None:
    user = kw.pop("user", POLIS)
    view_id = kw.pop("view_id", "VCRAFT")
    meta = json.loads(crafted(forum, escalated, **kw))
    meta["round_id"] = the_round(bot).id
    bot.driver.view_closed(
        "rating_submit", user=user, private_metadata=json.dumps(meta), view_id=view_id
    )
    bot.settle()
    bot.run_due_work()


def alerts(bot: Bot) -> list[str]:
    return [c.args["text"] for c in dms(bot, ADMIN) if "Lägesbild OSF" in c.args["text"]]


def polis_form(bot: Bot, forum: dict[str, int], user: str = POLIS) -> dict[str, Any]:
    return open_modal(bot, user, f"{the_round(bot).id}:{forum['Polis']}")


def levels(forum: dict[str, int], gråbo: int) -> dict[int, int]:
    return {forum["Gråbo"]: gråbo, forum["Hemse"]: 1, forum["Droger"]: 1}


def test_a_closed_form_claiming_levels_polis_never_gave_alerts_no_one(
    bot: Bot, forum: dict[str, int]
) -> None:
    # Nothing rated at all: a crafted close claims Gråbo allvarligt.
    close(bot, forum, f"{forum['Gråbo']}:5:")
    # Rated normalt: a crafted close claims it kritiskt, and Hemse up two levels.
    rate(bot, polis_form(bot, forum), POLIS, levels(forum, 1))
    bot.settle()
    bot.run_due_work()
    close(bot, forum, f"{forum['Gråbo']}:4:,{forum['Hemse']}:3:1", view_id="VCRAFT2")
    # A level no scale has (the DM would name it).
    close(bot, forum, f"{forum['Droger']}:9:", view_id="VCRAFT3")
    assert alerts(bot) == []


def test_a_submitted_page_cannot_carry_a_claimed_escalation_into_the_alert(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The last page's submission tells what the earlier pages carried: a crafted carry
    (Hemse allvarligt, never rated so) is not told beside the true one (Gråbo kritiskt)."""
    view = polis_form(bot, forum)
    meta = json.loads(view["private_metadata"])
    meta["escalated"] = f"{forum['Hemse']}:5:"
    view = {**view, "private_metadata": json.dumps(meta)}
    rate(bot, view, POLIS, {forum["Gråbo"]: 4, forum["Hemse"]: 1, forum["Droger"]: 1})
    bot.settle()
    bot.run_due_work()
    assert alerts(bot) == ["Lägesbild OSF: Polis bedömer Gråbo som kritiskt."]


def test_a_lowered_answer_cannot_be_alerted_as_news_by_a_crafted_close(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Polis rates Gråbo allvarligt (alerted), then lowers it to kritiskt (not alerted, as
    f868a57 wants): a crafted close claiming 'kritiskt' does not alert it as news."""
    rate(bot, polis_form(bot, forum), POLIS, levels(forum, 5), view_id="V1")
    bot.settle()
    bot.run_due_work()
    rate(bot, polis_form(bot, forum), POLIS, levels(forum, 4), view_id="V2")
    bot.settle()
    bot.run_due_work()
    close(bot, forum, f"{forum['Gråbo']}:4:")
    assert alerts(bot) == ["Lägesbild OSF: Polis bedömer Gråbo som allvarligt."]


def test_a_true_alert_is_not_repeated_by_closes_under_new_view_ids(
    bot: Bot, forum: dict[str, int]
) -> None:
    rate(bot, polis_form(bot, forum), POLIS, {**levels(forum, 5), forum["Hemse"]: 4})
    bot.settle()
    bot.run_due_work()
    assert len(alerts(bot)) == 1
    both = f"{forum['Gråbo']}:5:,{forum['Hemse']}:4:"
    for n, claim in enumerate((both, both, f"{forum['Gråbo']}:5:", f"{forum['Hemse']}:4:")):
        close(bot, forum, claim, view_id=f"VREPLAY{n}")
        close(bot, forum, claim, user=POLIS2, view_id=f"VOTHER{n}")  # the other rep
    assert len(alerts(bot)) == 1


def test_another_agencys_or_forums_escalation_cannot_be_told(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Fritidsgård's member names Polis (its agency id) or an area id of no area of the
    forum; someone outside the forum closes a form of its round: nothing is told."""
    rate(bot, polis_form(bot, forum), POLIS, levels(forum, 5))
    bot.settle()
    bot.run_due_work()
    before = len(alerts(bot))
    close(bot, forum, f"{forum['Gråbo']}:5:", user=FRITID, view_id="VF1")
    close(bot, forum, "999999:5:", agency="Fritidsgård", user=FRITID, view_id="VF2")
    close(bot, forum, f"{forum['Gråbo']}:5:", user=OUTSIDER, view_id="VF3")
    assert len(alerts(bot)) == before


def test_an_escalation_is_not_told_after_the_meeting_it_was_for(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Page one of a two-page form escalates; the form is closed only after the meeting
    started (or a close is replayed months later, when the outbox no longer holds the key
    that says it was told): the meeting took the picture up, nobody is told."""
    page = rate_page(bot, twenty_areas(bot, forum), critical=0)
    bot.settle()
    bot.clock.set(dt.datetime(2026, 11, 26, 12, 5, tzinfo=dt.UTC))  # Thursday 13:05
    bot.driver.view_closed("rating_submit", user=POLIS, private_metadata=page["private_metadata"])
    bot.settle()
    bot.run_due_work()
    assert alerts(bot) == []


def test_raising_lowering_and_raising_again_alerts_each_level_of_an_area_once(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Polis rates Gråbo kritiskt (alerted), allvarligt (alerted), kritiskt (lowered: not)
    and allvarligt again, each in a form of its own: the coordinators read of allvarligt
    once. Before, every raise back to allvarligt alerted them anew."""
    for n, level in enumerate((4, 5, 4, 5, 4, 5)):
        rate(bot, polis_form(bot, forum), POLIS, levels(forum, level), view_id=f"VUPDOWN{n}")
        bot.settle()
        bot.run_due_work()
    assert alerts(bot) == [
        "Lägesbild OSF: Polis bedömer Gråbo som kritiskt.",
        "Lägesbild OSF: Polis bedömer Gråbo som allvarligt.",
    ]


def test_the_deadlines_untold_escalations_reach_the_forums_coordinators_only(
    bot: Bot,
) -> None:
    """A two-page form whose close never came: Polis's saved first page holds a kritiskt.
    Fritidsgård closing Polis's page (its private_metadata, crafted) tells no one. At the
    deadline the escalation is told to the forum's coordinator only: not to the rater, the
    agency's other member, another agency's member or someone in no forum; once."""
    made = make_forum(bot)
    page = rate_page(bot, twenty_areas(bot, made), critical=2)
    bot.settle()
    bot.driver.view_closed("rating_submit", user=FRITID, private_metadata=page["private_metadata"])
    bot.settle()
    bot.run_due_work()
    assert [c for c in dms(bot, ADMIN) if "Område 3" in c.args["text"]] == []
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    bot.run_due_work()
    bot.run_due_work()
    told = {
        user: [c.args["text"] for c in dms(bot, user) if "Område 3" in c.args.get("text", "")]
        for user in (ADMIN, POLIS, POLIS2, FRITID, OUTSIDER)
    }
    assert told == {
        ADMIN: ["Lägesbild OSF: Polis bedömer Område 3 som kritiskt."],
        POLIS: [],
        POLIS2: [],
        FRITID: [],
        OUTSIDER: [],
    }
