"""The owner pickers offer exactly who may own the action, where that is known when the
modal is drawn: the minutes (per case: the forum's members, not the granskare, whose agency
may see the case) and a hand-over within the owning agency (its other members). Each is
"name – agency" in Swedish order, the name as Slack gives it. A crafted submission naming
someone not offered is still refused on save."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from domain import forums as fs
from domain.cases import CaseDraft, raise_case
from storage.db import transaction
from storage.models import Action, ConsentGiver, Role, SipStatus
from tests.conftest import Bot
from tests.integration.test_action_flow import (
    ADMIN,
    CHANNEL,
    ELEVHALSA,
    ELEVHALSA2,
    SOCIAL,
    blocks_of,
    consent_reads,
    press,
    submit_action,
    submit_hand_over,
    the_action,
)
from tests.integration.test_action_flow import forum as forum
from tests.integration.test_minutes_flow import case_id, minutes_modal
from tests.support.agenda_flow import local, tick
from tests.support.minutes_world import first_meeting, setup_forum
from tests.support.slack_driver import (
    date_value,
    input_blocks,
    plain_value,
    select_value,
    state_values,
)

GRANSKARE = "U7"
OUTSIDER = "U9"


def add(bot: Bot, users: list[str], agency: str, role: Role = Role.MEMBER) -> None:
    with transaction(bot.sessions) as s:
        forum_row = fs.require_forum(s, team_id="T0001", channel_id=CHANNEL)
        fs.add_members(
            s,
            bot.clock,
            forum=forum_row,
            actor=ADMIN,
            slack_user_ids=users,
            agency_id=next(a.id for a in forum_row.agencies if a.name == agency),
            role=role,
        )


def elevhalsa_only_case(bot: Bot) -> str:
    """A case Elevhälsa raised, its consent covering Elevhälsa only: no other agency of the
    forum may see it (its reference)."""
    with transaction(bot.sessions) as s:
        forum_row = fs.require_forum(s, team_id="T0001", channel_id=CHANNEL)
        elevhalsa = next(a.id for a in forum_row.agencies if a.name == "Elevhälsa")
        case, _ = raise_case(
            s,
            bot.clock,
            access=fs.require_member(s, forum=forum_row, slack_user_id="U2"),
            draft=CaseDraft(
                summary="Oro för frånvaron under hösten",
                concerns=["school_absence"],
                age_band="13-15",
                agency_ids=[elevhalsa],
                consent_giver=ConsentGiver.GUARDIANS,
                consent_agency_ids=[elevhalsa],
                consent_given_on=bot.clock.now().date(),
                consent_expires_on=None,
                sip=SipStatus.NOT_RELEVANT,
                meeting=None,
            ),
        )
        return case.reference


def owner_element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    element: dict[str, Any] = block["element"]
    return element


def offered(element: dict[str, Any]) -> list[tuple[str, str]]:
    return [(o["text"]["text"], o["value"]) for o in element["options"]]


def submit_minutes_owner(
    bot: Bot, meeting: int, case: int, owner: str, *, view_id: str
) -> dict[str, Any] | None:
    """U1 saves the minutes with an action for ``case`` owned by ``owner``, chosen (or
    crafted) in the static select."""
    values = {
        (f"decision:{case}", "value"): plain_value("Elevhälsan bjuder in till samtal"),
        (f"action:{case}", "value"): plain_value("Boka samtal med vårdnadshavarna"),
        (f"owner:{case}", "value"): select_value(owner),
        (f"due:{case}", "value"): date_value("2026-12-10"),
        (f"follow_up:{case}", "value"): date_value(None),
    }
    state = state_values(values)
    response = bot.driver.view_submission(
        "minutes_save",
        state,
        user="U1",
        private_metadata=json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": meeting}),
        view_id=view_id,
        blocks=input_blocks(state),
    )
    assert response.status == 200
    body: dict[str, Any] | None = response.json()
    return body


def test_the_minutes_offer_only_the_members_whose_agency_may_see_the_case(bot: Bot) -> None:
    """U1 (Grundskola) coordinates, U2 and U4 are Elevhälsa, U7 Elevhälsa's granskare, U3
    Polis. For a case only Elevhälsa may see, the owner picker offers U4 and U2 (Swedish
    order: Å after Z), named as Slack names them; choosing one saves the action to them.
    A crafted owner who was not offered (Polis, the granskare, someone outside the forum) is
    refused on the case's owner field, and nothing is created."""
    setup_forum(bot)
    add(bot, ["U4"], "Elevhälsa")
    add(bot, [GRANSKARE], "Elevhälsa", Role.REVIEWER)
    for user, name in (
        ("U1", "Cecilia Samordnare"),
        ("U2", "Åsa Ek"),
        ("U4", "Zara Lind"),
        ("U3", "Per Polis"),
        (GRANSKARE, "Anna Granskare"),
    ):
        bot.slack.set_user(user, real_name=name)
    reference = elevhalsa_only_case(bot)
    meeting = first_meeting(bot)
    case = case_id(bot, reference)
    for hour in (8, 15):
        tick(bot, local(2026, 11, 26, hour, 0))

    view = minutes_modal(bot, meeting)
    picker = owner_element(view, f"owner:{case}")
    assert picker["type"] == "static_select"
    assert offered(picker) == [("Zara Lind – Elevhälsa", "U4"), ("Åsa Ek – Elevhälsa", "U2")]
    # The picker tells which agencies may see the case: a read of its consent register.
    reads = consent_reads(bot, "U1", reference)
    assert reads and reads[-1]["details"] is True

    for crafted, n in (("U3", 1), (GRANSKARE, 2), (OUTSIDER, 3)):
        body = submit_minutes_owner(bot, meeting, case, crafted, view_id=f"VCRAFT{n}")
        assert body is not None and list(body["errors"]) == [f"owner:{case}"], (crafted, body)
    with bot.sessions() as s:
        assert s.scalars(select(Action)).all() == []

    assert submit_minutes_owner(bot, meeting, case, "U4", view_id="VSAVE") is None
    with bot.sessions() as s:
        action = s.scalars(select(Action)).one()
        assert action.owner == "U4" and action.owning_agency.name == "Elevhälsa"
    bot.slack.assert_no_violations()


def test_the_hand_over_offers_only_the_owning_agencys_other_members(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Elevhälsa's owner hands over: the picker offers Elevhälsa's other members (not the
    owner, not its granskare, no one of another agency); choosing one hands it over. A
    crafted member of another agency is refused as before. A coordinator, who may choose
    another agency in the same modal, gets the workspace's people picker."""
    add(bot, ["U6"], "Elevhälsa")
    add(bot, [GRANSKARE], "Elevhälsa", Role.REVIEWER)
    for user, name in ((ELEVHALSA, "Bo Ek"), (ELEVHALSA2, "Örjan Ahl"), ("U6", "Ada Berg")):
        bot.slack.set_user(user, real_name=name)
    submit_action(bot, forum)
    action = the_action(bot)
    assert action.owner == ELEVHALSA

    press(bot, "action_hand_over", ELEVHALSA, str(action.id))
    view = bot.slack.wait_for("views.open", count=1)[-1].args["view"]
    picker = owner_element(view, "owner")
    assert picker["type"] == "static_select"
    assert offered(picker) == [
        ("Ada Berg – Elevhälsa", "U6"),
        ("Örjan Ahl – Elevhälsa", ELEVHALSA2),
    ]

    def choose(owner: str) -> Any:
        values = {"owner": {"value": select_value(owner)}}
        return bot.driver.view_submission(
            "action_handover",
            values,
            user=ELEVHALSA,
            private_metadata=view["private_metadata"],
            blocks=blocks_of(values),
        ).json()

    body = choose(SOCIAL)
    assert list(body["errors"]) == ["owner"] and "Elevhälsa" in body["errors"]["owner"]
    assert the_action(bot).owner == ELEVHALSA
    assert choose(ELEVHALSA2) is None
    assert the_action(bot).owner == ELEVHALSA2

    press(bot, "action_hand_over", ADMIN, str(action.id))
    coordinators = bot.slack.wait_for("views.open", count=2)[-1].args["view"]
    assert owner_element(coordinators, "owner")["type"] == "users_select"
    assert owner_element(coordinators, "agency")["type"] == "static_select"
    assert submit_hand_over(bot, ADMIN, coordinators, "U6").json() is None
    assert the_action(bot).owner == "U6"
    bot.slack.assert_no_violations()
