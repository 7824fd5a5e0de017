"""The owner picker (handlers.blocks.actions.owner_element): those who may own the action,
"name – agency" in Swedish order, when there are some, a select holds them and Slack named
each; else the workspace's people picker, as before."""

from __future__ import annotations

from domain.actions import OwnerChoice
from domain.i18n import Translator
from handlers.blocks.actions import owner_element

T = Translator("sv")


def test_the_members_who_may_own_it_in_swedish_order_with_the_preset_one_chosen() -> None:
    choices = [OwnerChoice("U1", "Elevhälsa"), OwnerChoice("U2", "Polis"), OwnerChoice("U3", "BUP")]
    names = {"U1": "Örjan Ek", "U2": "Zara Lind", "U3": "Åsa Berg"}
    picker = owner_element(T, choices, names, initial="U3")
    assert picker["type"] == "static_select"
    assert [(o["text"]["text"], o["value"]) for o in picker["options"]] == [
        ("Zara Lind – Polis", "U2"),
        ("Åsa Berg – BUP", "U3"),
        ("Örjan Ek – Elevhälsa", "U1"),
    ]
    assert picker["initial_option"]["value"] == "U3"


def test_the_people_picker_when_too_many_none_or_someone_unnamed() -> None:
    many = [OwnerChoice(f"U{n}", "Elevhälsa") for n in range(101)]
    named = {c.slack_user_id: f"Person {c.slack_user_id}" for c in many}
    assert owner_element(T, many, named)["type"] == "users_select"
    assert owner_element(T, many[:100], named)["type"] == "static_select"
    assert owner_element(T, None, named)["type"] == "users_select"
    assert owner_element(T, [], named)["type"] == "users_select"
    unnamed = owner_element(T, many[:2], {"U0": "Person U0"}, initial="U1")
    assert unnamed["type"] == "users_select" and unnamed["initial_user"] == "U1"
