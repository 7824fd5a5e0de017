"""Why a case's details are hidden from a reader: the disclosure rule decides (one rule, no
wider access); what the reader is told names the true reason: a consent in force that leaves
their agency out, no consent in force (an anonymous consultation: none, withdrawn, expired),
or a legal ground of their agency's that has ended."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from domain import forums as fs
from domain.cases import withdraw_consent
from domain.legal_grounds import GroundDraft, end_ground, record_ground
from storage.db import transaction
from storage.models import AuditAction, AuditEvent, Member, Role
from tests.conftest import Bot
from tests.integration.test_action_flow import (
    ADMIN,
    CHANNEL,
    DESCRIPTION,
    ELEVHALSA,
    SOCIAL,
    TODAY,
    _elevhalsa_case,
    make_forum,
    submit_action,
    text_of,
    the_action,
)

NOT_COVERED = "detaljer dolda: ärendets samtycke omfattar inte din verksamhet"
NO_CONSENT = "detaljer dolda: ärendet saknar gällande samtycke (anonym konsultation)"
GROUND_ENDED = "detaljer dolda: den rättsliga grunden för din verksamhet har upphört"
# What the case's own modal says, for the same three reasons.
MODAL_NOT_COVERED = "Ärendets samtycke omfattar inte er verksamhet"
MODAL_NO_CONSENT = "Ärendet saknar gällande samtycke"
MODAL_GROUND_ENDED = "Den rättsliga grunden för er verksamhet har upphört"


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    return make_forum(bot)


def _social_coordinator(bot: Bot) -> None:
    """Socialtjänst's member leads the forum: a reader of the consent register, told the
    true reason (one who is not is told only that no consent covers their agency:
    tests/integration/test_attack_hidden_reasons.py)."""
    with transaction(bot.sessions) as s:
        member = s.scalars(select(Member).where(Member.slack_user_id == SOCIAL)).one()
        member.role = Role.COORDINATOR


def _socials_modal(bot: Bot, case_id: int) -> str:
    before = bot.slack.count("views.open")
    bot.driver.block_action("case_open", user=SOCIAL, value=str(case_id), channel=CHANNEL)
    modal = text_of(bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"])
    assert "Anonym konsultation" in modal and "Oro för frånvaro" not in modal
    return modal


def _socials_list(bot: Bot, count: int = 1) -> str:
    bot.driver.command("insatser", user=SOCIAL)
    return text_of(bot.slack.wait_for("response_url", count=count)[-1].args)


def _social_action(bot: Bot, forum: dict[str, int], reference: str) -> int:
    body = submit_action(bot, forum, case=reference, agency="Socialtjänst/IFO", owner=SOCIAL)
    assert body.json() is None
    return the_action(bot).id


def test_an_owner_is_told_the_consent_was_withdrawn_not_that_it_leaves_them_out(
    bot: Bot, forum: dict[str, int]
) -> None:
    _social_coordinator(bot)
    reference, case_id = _elevhalsa_case(bot, forum, consent=("Elevhälsa", "Socialtjänst/IFO"))
    action_id = _social_action(bot, forum, reference)
    with transaction(bot.sessions) as s:
        forum_row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        access = fs.require_member(s, forum=forum_row, slack_user_id=ADMIN)
        withdraw_consent(s, bot.clock, access=access, case_id=case_id)
    listed = _socials_list(bot)
    assert f"#{action_id}" in listed and DESCRIPTION not in listed
    assert NO_CONSENT in listed and NOT_COVERED not in listed
    bot.driver.app_home_opened(user=SOCIAL)
    home = text_of(bot.slack.wait_for("views.publish")[-1].args["view"])
    assert NO_CONSENT in home and NOT_COVERED not in home and DESCRIPTION not in home
    modal = _socials_modal(bot, case_id)
    assert MODAL_NO_CONSENT in modal and MODAL_NOT_COVERED not in modal
    bot.slack.assert_no_violations()


def test_an_owner_is_told_the_consent_expired(bot: Bot, forum: dict[str, int]) -> None:
    _social_coordinator(bot)
    reference, case_id = _elevhalsa_case(bot, forum, consent=("Elevhälsa", "Socialtjänst/IFO"))
    action_id = _social_action(bot, forum, reference)
    from storage.models import Case

    with transaction(bot.sessions) as s:  # the consent's last day was yesterday
        case = s.get(Case, case_id)
        assert case is not None
        case.consents[-1].expires_on = TODAY - dt.timedelta(days=1)
    listed = _socials_list(bot)
    assert f"#{action_id}" in listed and DESCRIPTION not in listed
    assert NO_CONSENT in listed and NOT_COVERED not in listed
    bot.slack.assert_no_violations()


def test_an_owner_is_told_their_agencys_legal_ground_ended(bot: Bot, forum: dict[str, int]) -> None:
    """The consent covers Elevhälsa only; Socialtjänst saw the case under a legal ground,
    owned an action of it, and the ground ended: it is told so, not that the consent leaves
    it out (the consent never covered it; the ground was why it read the case)."""
    _social_coordinator(bot)
    reference, case_id = _elevhalsa_case(bot, forum)
    with transaction(bot.sessions) as s:
        forum_row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        access = fs.require_member(s, forum=forum_row, slack_user_id=ADMIN)
        ground = record_ground(
            s,
            bot.clock,
            access=access,
            case_id=case_id,
            draft=GroundDraft(
                agency_id=forum["Socialtjänst/IFO"],
                ground="necessary",
                decided_on=TODAY,
                note="",
            ),
        )
        ground_id = ground.id
    action_id = _social_action(bot, forum, reference)
    assert DESCRIPTION in _socials_list(bot)
    with transaction(bot.sessions) as s:
        forum_row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        access = fs.require_member(s, forum=forum_row, slack_user_id=ADMIN)
        end_ground(s, bot.clock, access=access, ground_id=ground_id)
    listed = _socials_list(bot, count=2)
    assert f"#{action_id}" in listed and DESCRIPTION not in listed
    assert GROUND_ENDED in listed and NOT_COVERED not in listed
    modal = _socials_modal(bot, case_id)
    assert MODAL_GROUND_ENDED in modal and MODAL_NOT_COVERED not in modal
    bot.slack.assert_no_violations()


def test_a_consent_in_force_that_leaves_the_agency_out_is_still_named(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Another agency's member lists the forum's actions: an action of a case whose consent
    covers Elevhälsa only is hidden from Socialtjänst because of that consent."""
    _social_coordinator(bot)
    reference, case_id = _elevhalsa_case(bot, forum)
    body = submit_action(bot, forum, case=reference)
    assert body.json() is None
    bot.driver.command("insatser forum", user=SOCIAL)
    listed = text_of(bot.slack.wait_for("response_url")[-1].args)
    assert NOT_COVERED in listed and DESCRIPTION not in listed
    assert MODAL_NOT_COVERED in _socials_modal(bot, case_id)
    bot.slack.assert_no_violations()


def _ground_recorded(bot: Bot, forum: dict[str, int], case_id: int) -> int:
    with transaction(bot.sessions) as s:
        forum_row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        access = fs.require_member(s, forum=forum_row, slack_user_id=ADMIN)
        draft = GroundDraft(
            agency_id=forum["Socialtjänst/IFO"], ground="necessary", decided_on=TODAY, note=""
        )
        return record_ground(s, bot.clock, access=access, case_id=case_id, draft=draft).id


def _ground_ended(bot: Bot, forum: dict[str, int], ground_id: int) -> None:
    with transaction(bot.sessions) as s:
        forum_row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        access = fs.require_member(s, forum=forum_row, slack_user_id=ADMIN)
        end_ground(s, bot.clock, access=access, ground_id=ground_id)


def _agency_error(bot: Bot, forum: dict[str, int], reference: str, user: str = ADMIN) -> str:
    body = submit_action(
        bot, forum, user=user, case=reference, agency="Socialtjänst/IFO", owner=SOCIAL
    )
    errors = body.json()["errors"]
    assert list(errors) == ["agency"]
    return str(errors["agency"])


def test_giving_an_action_of_a_case_without_consent_says_there_is_none(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The consent was withdrawn: the coordinator is told the case has no valid consent,
    not that its consent leaves Socialtjänst out."""
    reference, case_id = _elevhalsa_case(bot, forum)
    with transaction(bot.sessions) as s:
        forum_row = fs.get_forum(s, forum_id=forum["forum"], team_id="T0001")
        access = fs.require_member(s, forum=forum_row, slack_user_id=ADMIN)
        withdraw_consent(s, bot.clock, access=access, case_id=case_id)
    assert _agency_error(bot, forum, reference) == (
        "Ärendet saknar gällande samtycke, så en ägare i Socialtjänst/IFO skulle inte kunna "
        f"läsa insatsen. Välj en verksamhet som får se ärende {reference}: Grundskola."
    )


def test_giving_an_action_to_an_agency_whose_ground_ended_says_so_to_the_coordinator_only(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Socialtjänst's legal ground ended: the coordinator (who reads the consent register,
    grounds and all) is told so; a member of Elevhälsa, who reads the case under its
    consent but not its consent register, is told only that no consent covers it (no word
    of a ground)."""
    reference, case_id = _elevhalsa_case(bot, forum)
    _ground_ended(bot, forum, _ground_recorded(bot, forum, case_id))
    assert _agency_error(bot, forum, reference) == (
        "Den rättsliga grunden för Socialtjänst/IFO har upphört, så ägaren skulle inte kunna "
        f"läsa insatsen. Välj en verksamhet som får se ärende {reference}: Grundskola, "
        "Elevhälsa."
    )
    told = _agency_error(bot, forum, reference, user=ELEVHALSA)
    assert told == UNSAID_CHOOSE_ANOTHER
    bot.slack.assert_no_violations()


UNSAID_CHOOSE_ANOTHER = (
    "Inget samtycke omfattar Socialtjänst/IFO, så ägaren skulle inte kunna läsa insatsen. "
    "Välj en annan verksamhet, eller fråga en samordnare."
)


@pytest.mark.parametrize("ground", ["none", "ended"])
def test_a_reader_of_the_case_but_not_its_register_is_not_told_who_may_see_it(
    bot: Bot, forum: dict[str, int], ground: str
) -> None:
    """A member of Elevhälsa reads the case under its consent, but not its consent
    register (coordinators, the raising agency). Giving its action to Socialtjänst, they
    were told which agencies may see the case (the consent's, and those with a legal
    ground: the register's alone) and why Socialtjänst may not, and no read of the register
    was logged. Now they are told only that no consent covers Socialtjänst, the same
    whatever the register holds (a legal ground of Socialtjänst's that ended, or none), and
    nothing is logged as read; the coordinator is still told it all, audited as a read of
    the register. (Another forum's member, whose crafted submission names this case, is
    told the case is not theirs to see: test_action_flow.)"""
    reference, case_id = _elevhalsa_case(bot, forum)
    if ground == "ended":
        _ground_ended(bot, forum, _ground_recorded(bot, forum, case_id))
    before = _register_reads(bot, ELEVHALSA)
    told = _agency_error(bot, forum, reference, user=ELEVHALSA)
    assert told == UNSAID_CHOOSE_ANOTHER
    assert "Grundskola" not in told and reference not in told
    bot.wait_idle()
    assert _register_reads(bot, ELEVHALSA) == before
    coordinators = len(_register_reads(bot, ADMIN))
    assert f"ärende {reference}: Grundskola, Elevhälsa." in _agency_error(bot, forum, reference)
    bot.wait_idle()
    assert len(_register_reads(bot, ADMIN)) == coordinators + 1
    bot.slack.assert_no_violations()


def _register_reads(bot: Bot, user: str) -> list[dict[str, object]]:
    with bot.sessions() as s:
        return [
            {"ref": e.object_ref, "forum": e.forum_id, **(e.detail or {})}
            for e in s.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.actor == user,
                    AuditEvent.object_type == "consent",
                    AuditEvent.action == AuditAction.READ,
                )
                .order_by(AuditEvent.id)
            )
        ]


def test_a_coordinator_told_why_a_case_is_hidden_from_their_agency_reads_its_consent_register(
    bot: Bot, forum: dict[str, int]
) -> None:
    """A coordinator of Socialtjänst, which the case's consent leaves out, is told so in the
    case's modal and on its action in a list: that is what the case's consent register
    says, so each look is audited as a read of the register (one per look, although the
    modal and its list of actions both tell it), in the forum, with the coordinator's
    basis; a member who is told only that no consent covers their agency reads nothing of
    it."""
    _social_coordinator(bot)
    reference, case_id = _elevhalsa_case(bot, forum)
    assert submit_action(bot, forum, case=reference).json() is None
    bot.run_due_work()
    assert _register_reads(bot, SOCIAL) == []
    assert MODAL_NOT_COVERED in _socials_modal(bot, case_id)
    bot.run_due_work()
    read = {
        "ref": reference,
        "forum": forum["forum"],
        "surface": "consent_register",
        "details": True,
        "basis": "coordinator",
    }
    assert _register_reads(bot, SOCIAL) == [read]
    bot.driver.command("insatser forum", user=SOCIAL)
    assert NOT_COVERED in text_of(bot.slack.wait_for("response_url")[-1].args)
    bot.run_due_work()
    assert _register_reads(bot, SOCIAL) == [read, read]
    with transaction(bot.sessions) as s:  # a member, told only that no consent covers them
        member = s.scalars(select(Member).where(Member.slack_user_id == SOCIAL)).one()
        member.role = Role.MEMBER
    assert "Anonym konsultation" in _socials_modal(bot, case_id)
    bot.run_due_work()
    assert _register_reads(bot, SOCIAL) == [read, read]
    bot.slack.assert_no_violations()
