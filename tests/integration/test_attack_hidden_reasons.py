"""Attack review of the hidden-reason texts: the reason a case's details are hidden from an
agency (a consent that leaves it out, no valid consent, its legal ground ended) is the
consent register's to tell (coordinators, the raising agency). A member who reads neither
the register nor the case is told only that no consent covers their agency, the same text
whichever it is: no oracle of whether a consent exists and leaves them out or was
withdrawn, nor that a legal ground existed. An ended ground is named to no such member, not
even in the refusal of a hand-over within their agency."""

from __future__ import annotations

import re

import pytest

from domain import forums as fs
from domain.cases import withdraw_consent
from storage.db import transaction
from tests.conftest import Bot
from tests.integration.test_action_flow import (
    ADMIN,
    CHANNEL,
    DESCRIPTION,
    SOCIAL,
    _elevhalsa_case,
    hand_over_as,
    make_forum,
    submit_action,
    text_of,
    the_action,
)
from tests.integration.test_case_hidden_reasons import _ground_ended, _ground_recorded

NEUTRAL = "detaljer dolda: inget samtycke omfattar din verksamhet"
MODAL_NEUTRAL = "Det finns inget samtycke som omfattar er verksamhet"
TOLD = ("saknar gällande samtycke", "rättsliga grunden", "ärendets samtycke omfattar inte")
MODAL_TOLD = ("saknar gällande samtycke", "rättsliga grunden", "Ärendets samtycke omfattar")


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    return make_forum(bot)


def _seen_by_social(bot: Bot, case_id: int) -> tuple[str, str]:
    """Socialtjänst's member (not a coordinator): their actions list, and the case modal."""
    before = bot.slack.count("response_url")
    bot.driver.command("insatser", user=SOCIAL)
    listed = text_of(bot.slack.wait_for("response_url", count=before + 1)[-1].args)
    before = bot.slack.count("views.open")
    bot.driver.block_action("case_open", user=SOCIAL, value=str(case_id), channel=CHANNEL)
    modal = text_of(bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"])
    return listed, modal


def _withdrawn(bot: Bot, forum: dict[str, int], case_id: int) -> None:
    with transaction(bot.sessions) as s:
        forum_row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        access = fs.require_member(s, forum=forum_row, slack_user_id=ADMIN)
        withdraw_consent(s, bot.clock, access=access, case_id=case_id)


@pytest.mark.parametrize("how", ["withdrawn", "ground_ended"])
def test_a_member_is_not_told_the_consent_registers_reason(
    bot: Bot, forum: dict[str, int], how: str
) -> None:
    """Socialtjänst's member owns an action of a case they could read (covered by the
    consent, or under a legal ground); then the consent is withdrawn, or the ground ends."""
    covered = ("Elevhälsa", "Socialtjänst/IFO") if how == "withdrawn" else ("Elevhälsa",)
    reference, case_id = _elevhalsa_case(bot, forum, consent=covered)
    ground = _ground_recorded(bot, forum, case_id) if how == "ground_ended" else None
    body = submit_action(bot, forum, case=reference, agency="Socialtjänst/IFO", owner=SOCIAL)
    assert body.json() is None
    action_id = the_action(bot).id
    if ground is None:
        _withdrawn(bot, forum, case_id)
    else:
        _ground_ended(bot, forum, ground)
    listed, modal = _seen_by_social(bot, case_id)
    assert f"#{action_id}" in listed and DESCRIPTION not in listed
    assert NEUTRAL in listed and not any(told in listed for told in TOLD)
    assert MODAL_NEUTRAL in modal and not any(told in modal for told in MODAL_TOLD)
    # Nor when they try to hand it over within their agency (no colleague: refused first).
    refused = str(hand_over_as(bot, SOCIAL, action_id, ADMIN, views=2).json()["errors"])
    assert "rättsliga" not in refused and "saknar gällande samtycke" not in refused
    assert "Inget samtycke omfattar Socialtjänst/IFO" in refused
    bot.slack.assert_no_violations()


def test_a_consent_that_leaves_a_member_out_reads_as_no_consent_at_all(
    bot: Bot, forum: dict[str, int]
) -> None:
    """A case whose consent leaves Socialtjänst out, and one with no valid consent: its
    member (not a coordinator) reads the very same words in both case modals."""
    _, left_out = _elevhalsa_case(bot, forum)
    _, none_valid = _elevhalsa_case(bot, forum)
    _withdrawn(bot, forum, none_valid)
    shown = []
    for case_id in (left_out, none_valid):
        before = bot.slack.count("views.open")
        bot.driver.block_action("case_open", user=SOCIAL, value=str(case_id), channel=CHANNEL)
        modal = text_of(bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"])
        found = re.search(r"\*Anonym konsultation\.\*[^\"]*", modal)
        assert found is not None
        shown.append(found.group(0))
    assert shown[0] == shown[1] and MODAL_NEUTRAL in shown[0]
    bot.slack.assert_no_violations()
