"""The case modal's changes (status, closing, consent withdrawn) and a case's feedback (the
family's view, the agencies' survey), asked for from outside the case's forum with crafted,
correctly signed requests: refused as before, each attempt audited once in the case's forum,
and the answer tells an outsider nothing about the case: not that it exists (the same answer,
byte for byte, as for an id of nothing), not which agency its survey is for."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from domain import forums as fs
from domain.legal_grounds import GroundDraft, record_ground
from storage.db import transaction
from storage.models import (
    Agency,
    Case,
    CaseStatus,
    Consent,
    FamilyView,
    FeedbackSurvey,
    Forum,
    LegalGround,
    Member,
    Role,
    SipStatus,
)
from tests.conftest import Bot
from tests.integration.test_disclosure_table import (
    COORD,
    COVERED,
    NON_MEMBER,
    NOT_COVERED,
    OTHER_FORUM,
    OTHER_WS,
    OUTSIDERS_REFUSED,
    RAISER,
    SUMMARY,
    Reader,
    World,
    build_world,
    reader_for,
)
from tests.support.audit_log import last_id, refusals_in, refusals_since, refused_once_each
from tests.support.slack_driver import (
    date_value,
    multi_select_values,
    plain_value,
    radio_value,
    select_value,
)

REFUSED_SV = "Det ärendet finns inte i det här forumet."
# The family's view is asked for from the survey's DM: no forum there.
REFUSED_DM_SV = "Ärendet finns inte, eller så har du inte tillgång till det."
NOT_A_MEMBER_SV = "Det kan bara forumets medlemmar göra."
NO_SURVEY_SV = "Enkäten finns inte längre"
NO_GROUND_SV = "Den rättsliga grunden finns inte i det här forumet."
NO_CASE = 987_654


def _case_state(bot: Bot, world: World) -> tuple[Any, ...]:
    with bot.sessions() as s:
        case = s.get(Case, world.case)
        assert case is not None
        consents = s.scalars(
            select(Consent).where(Consent.case_id == world.case).order_by(Consent.id)
        ).all()
        agencies = len(case.agencies)
        withdrawn = consents[0].withdrawn_at
        return case.status, case.outcome, withdrawn, len(consents), agencies, case.sip


def _modal(r: Reader, case_id: int) -> dict[str, Any]:
    """The case modal a crafted button comes from: the reader's forum, the case id."""
    meta = json.dumps({"locale": "sv", "forum_id": r.forum_id, "case_id": case_id})
    return {"id": "V77", "private_metadata": meta}


# --- the doors: each sends one request and returns what the reader was shown -------------------


def _views(bot: Bot, since: int) -> str:
    """The modals the bot opened, pushed or updated since call ``since`` (ids aside)."""
    shown = [
        c.args.get("view")
        for c in bot.slack.calls[since:]
        if c.method in ("views.open", "views.push", "views.update")
    ]
    return json.dumps(shown, ensure_ascii=False, sort_keys=True)


def status_discussed(bot: Bot, r: Reader, case_id: int) -> str:
    since = len(bot.slack.calls)
    r.driver.block_action(
        "case_status_discussed",
        user=r.user,
        value=f"{case_id}:discussed",
        view=_modal(r, case_id),
    )
    bot.wait_idle()
    return _views(bot, since)


def status_closed(bot: Bot, r: Reader, case_id: int) -> str:
    """The "close" button: it pushes the close-case modal (with the case's reference)."""
    since = len(bot.slack.calls)
    r.driver.block_action(
        "case_status_closed", user=r.user, value=f"{case_id}:closed", view=_modal(r, case_id)
    )
    bot.wait_idle()
    return _views(bot, since)


def close_submitted(bot: Bot, r: Reader, case_id: int) -> str:
    meta = json.dumps({"locale": "sv", "forum_id": r.forum_id, "case_id": case_id})
    response = r.driver.view_submission(
        "case_close",
        {
            "outcome": {"outcome": plain_value("Avslutat")},
            "effect": {"effect": select_value("yes")},
        },
        user=r.user,
        private_metadata=meta,
    )
    bot.wait_idle()
    return json.dumps(response.json(), ensure_ascii=False, sort_keys=True)


def withdraw(bot: Bot, r: Reader, case_id: int) -> str:
    since = len(bot.slack.calls)
    r.driver.block_action(
        "case_withdraw_consent", user=r.user, value=str(case_id), view=_modal(r, case_id)
    )
    bot.wait_idle()
    return _views(bot, since)


def consent_button(bot: Bot, r: Reader, case_id: int) -> str:
    """ "Record consent": it pushes the consent modal (with the case's reference)."""
    since = len(bot.slack.calls)
    r.driver.block_action(
        "case_record_consent", user=r.user, value=str(case_id), view=_modal(r, case_id)
    )
    bot.wait_idle()
    return _views(bot, since)


def consent_submitted(bot: Bot, r: Reader, case_id: int) -> str:
    """The consent modal submitted, covering an agency of the reader's own forum."""
    with bot.sessions() as s:
        agency = s.scalars(select(Agency.id).where(Agency.forum_id == r.forum_id)).first()
    meta = json.dumps({"locale": "sv", "forum_id": r.forum_id, "case_id": case_id})
    response = r.driver.view_submission(
        "case_consent",
        {
            "consent": {"value": radio_value("guardians")},
            "consent_agencies": {"value": multi_select_values([str(agency)])},
            "consent_given_on": {"value": date_value("2026-11-20")},
        },
        user=r.user,
        private_metadata=meta,
    )
    bot.wait_idle()
    return json.dumps(response.json(), ensure_ascii=False, sort_keys=True)


def agencies_button(bot: Bot, r: Reader, case_id: int) -> str:
    """ "Change agencies": it pushes the agencies modal (with the case's reference)."""
    since = len(bot.slack.calls)
    r.driver.block_action(
        "case_change_agencies", user=r.user, value=str(case_id), view=_modal(r, case_id)
    )
    bot.wait_idle()
    return _views(bot, since)


def agencies_submitted(bot: Bot, r: Reader, case_id: int) -> str:
    """The agencies modal submitted, naming no agency (the raising agency alone)."""
    meta = json.dumps({"locale": "sv", "forum_id": r.forum_id, "case_id": case_id})
    response = r.driver.view_submission(
        "case_agencies",
        {"agencies": {"value": multi_select_values([])}},
        user=r.user,
        private_metadata=meta,
    )
    bot.wait_idle()
    return json.dumps(response.json(), ensure_ascii=False, sort_keys=True)


def sip_button(bot: Bot, r: Reader, case_id: int) -> str:
    """ "Change SIP": it pushes the SIP modal (with the case's reference)."""
    since = len(bot.slack.calls)
    r.driver.block_action(
        "case_change_sip", user=r.user, value=str(case_id), view=_modal(r, case_id)
    )
    bot.wait_idle()
    return _views(bot, since)


def sip_submitted(bot: Bot, r: Reader, case_id: int) -> str:
    """The SIP modal submitted: a SIP is needed."""
    meta = json.dumps({"locale": "sv", "forum_id": r.forum_id, "case_id": case_id})
    response = r.driver.view_submission(
        "case_sip", {"sip": {"value": radio_value("needed")}}, user=r.user, private_metadata=meta
    )
    bot.wait_idle()
    return json.dumps(response.json(), ensure_ascii=False, sort_keys=True)


CASE_DOORS: dict[str, Callable[[Bot, Reader, int], str]] = {
    "status button": status_discussed,
    "close button": status_closed,
    "close submission": close_submitted,
    "withdraw consent": withdraw,
    "record consent button": consent_button,
    "record consent submission": consent_submitted,
    "change agencies button": agencies_button,
    "change agencies submission": agencies_submitted,
    "change SIP button": sip_button,
    "change SIP submission": sip_submitted,
}


@pytest.mark.parametrize("door", list(CASE_DOORS))
def test_the_case_modals_changes_from_outside_the_forum_are_refused_and_audited(
    bot: Bot, door: str
) -> None:
    """A status button, the close button and its modal's submission, and "consent
    withdrawn", naming this forum's case: sent by another forum's admin and by a user of
    another workspace (from their own forum's modal), and by a non-member (naming this
    forum). Refused with the answer as before, nothing changed, no detail shown, and each
    attempt audited once in this forum's log as an attempt at the case's modal. The answer
    is the same, byte for byte, as for an id of no case."""
    world = build_world(bot)
    send = CASE_DOORS[door]
    before = _case_state(bot, world)
    mark = last_id(bot)
    expected = {OTHER_FORUM: REFUSED_SV, OTHER_WS: REFUSED_SV, NON_MEMBER: NOT_A_MEMBER_SV}
    for who, answer in expected.items():
        r = reader_for(bot, world, who)
        shown = send(bot, r, world.case)
        assert answer in shown and SUMMARY not in shown and world.reference not in shown, shown
        assert shown == send(bot, r, NO_CASE), "the answer tells that the case exists"
    assert _case_state(bot, world) == before
    assert refusals_in(bot, mark, world.forum) == refused_once_each(
        OUTSIDERS_REFUSED, object_type="case", object_ref=world.reference, surface="case_modal"
    )
    # The raising agency goes through the same door as before, and nothing is refused.
    mark = last_id(bot)
    shown = send(bot, reader_for(bot, world, RAISER), world.case)
    status, outcome, withdrawn, consents, agencies, sip = _case_state(bot, world)
    assert {
        "status button": status is CaseStatus.DISCUSSED,
        "close button": '"callback_id": "case_close"' in shown and world.reference in shown,
        "close submission": status is CaseStatus.CLOSED and outcome == "Avslutat",
        "withdraw consent": withdrawn is not None,
        "record consent button": '"callback_id": "case_consent"' in shown
        and world.reference in shown,
        "record consent submission": consents == 2,
        "change agencies button": '"callback_id": "case_agencies"' in shown
        and world.reference in shown,
        "change agencies submission": agencies == 1,
        "change SIP button": '"callback_id": "case_sip"' in shown and world.reference in shown,
        "change SIP submission": sip is SipStatus.NEEDED,
    }[door], shown
    assert not refusals_since(bot, mark)


# --- members of the forum the change is not for ----------------------------------------------

# What the audit log calls each change (the refusal's "attempt").
ATTEMPTS = {
    "status button": "status",
    "close button": "close",
    "close submission": "close",
    "withdraw consent": "consent_withdrawn",
    "record consent button": "consent",
    "record consent submission": "consent",
    "change agencies button": "agencies",
    "change agencies submission": "agencies",
    "change SIP button": "sip",
    "change SIP submission": "sip",
}
NOT_THEIRS_SV = "Bara verksamheten som lyfte ärendet eller en samordnare kan"
HIDDEN_SV = "hör till ärendets detaljer, som din verksamhet inte får se."


def _agency_of(bot: Bot, world: World, user: str) -> int:
    with bot.sessions() as s:
        agency = s.scalar(
            select(Member.agency_id).where(
                Member.forum_id == world.forum, Member.slack_user_id == user
            )
        )
        assert agency is not None
        return agency


@pytest.mark.parametrize("door", list(CASE_DOORS))
def test_a_member_who_may_not_change_the_case_is_refused_and_the_attempt_audited(
    bot: Bot, door: str
) -> None:
    """A member of the forum whose agency neither raised the case nor coordinates (a stale
    modal, or a crafted button) presses each of the case modal's changes twice: told who may
    make it, nothing changed, and the attempt written once to the forum's log as refused:
    who, their agency, the case's reference and which change, nothing of the case's text."""
    world = build_world(bot)
    send = CASE_DOORS[door]
    before = _case_state(bot, world)
    mark = last_id(bot)
    r = reader_for(bot, world, COVERED)
    for _ in range(2):  # the second press is not written again
        shown = send(bot, r, world.case)
        assert NOT_THEIRS_SV in shown and SUMMARY not in shown, shown
    assert _case_state(bot, world) == before
    detail = {"surface": "case_modal", "details": False, "refused": "not_theirs"}
    assert refusals_in(bot, mark, world.forum) == [
        (
            COVERED,
            "case",
            world.reference,
            "T0001",
            _agency_of(bot, world, COVERED),
            {**detail, "attempt": ATTEMPTS[door]},
        )
    ]


@pytest.mark.parametrize(
    "door",
    [
        "record consent button",
        "record consent submission",
        "change SIP button",
        "change SIP submission",
    ],
)
def test_a_coordinator_refused_a_detail_their_agency_may_not_see_is_audited(
    bot: Bot, door: str
) -> None:
    """The consent and the SIP are details of the case: a coordinator of an agency the
    consent does not cover is told so, nothing changes, and the attempt is audited as
    refused for the details hidden, naming the change."""
    world = build_world(bot)
    send = CASE_DOORS[door]
    before = _case_state(bot, world)
    mark = last_id(bot)
    shown = send(bot, reader_for(bot, world, COORD), world.case)
    assert HIDDEN_SV in shown and SUMMARY not in shown, shown
    assert _case_state(bot, world) == before
    detail = {"surface": "case_modal", "details": False, "refused": "details_hidden"}
    assert refusals_in(bot, mark, world.forum) == [
        (
            COORD,
            "case",
            world.reference,
            "T0001",
            _agency_of(bot, world, COORD),
            {**detail, "attempt": ATTEMPTS[door]},
        )
    ]


# --- the coordinators' doors: legal hold (in the case modal) and a legal ground ----------------


def hold_button(bot: Bot, r: Reader, case_id: int) -> str:
    """The case modal's legal-hold button: it pushes the reason modal (with the reference)."""
    since = len(bot.slack.calls)
    r.driver.block_action(
        "case_legal_hold", user=r.user, value=str(case_id), view=_modal(r, case_id)
    )
    bot.wait_idle()
    return _views(bot, since)


def hold_submitted(bot: Bot, r: Reader, case_id: int) -> str:
    meta = json.dumps({"locale": "sv", "forum_id": r.forum_id, "case_id": case_id})
    response = r.driver.view_submission(
        "privacy_legal_hold",
        {"reason": {"reason": plain_value("Begäran från IVO")}},
        user=r.user,
        private_metadata=meta,
    )
    bot.wait_idle()
    return json.dumps(response.json(), ensure_ascii=False, sort_keys=True)


def release_button(bot: Bot, r: Reader, case_id: int) -> str:
    since = len(bot.slack.calls)
    r.driver.block_action(
        "case_legal_hold_release", user=r.user, value=str(case_id), view=_modal(r, case_id)
    )
    bot.wait_idle()
    return _views(bot, since)


def ground_submitted(bot: Bot, r: Reader, case_id: int) -> str:
    meta = json.dumps({"locale": "sv", "forum_id": r.forum_id, "case_id": case_id})
    response = r.driver.view_submission(
        "privacy_legal_ground",
        {
            "ground": {"ground": select_value("necessary")},
            "decided_on": {"decided_on": date_value(bot.clock.now().date())},
            "note": {"note": plain_value("Beslut enligt OSL")},
        },
        user=r.user,
        private_metadata=meta,
    )
    bot.wait_idle()
    return json.dumps(response.json(), ensure_ascii=False, sort_keys=True)


def ground_ended(bot: Bot, r: Reader, case_id: int) -> str:
    """The legal ground modal's "end" button, naming the case's ground by its id (an id of
    no ground for a case without one)."""
    from storage.models import LegalGround

    with bot.sessions() as s:
        ground = s.scalar(select(LegalGround.id).where(LegalGround.case_id == case_id))
    since = len(bot.slack.calls)
    r.driver.block_action(
        "privacy_legal_ground_end",
        user=r.user,
        value=str(ground or NO_CASE),
        view=_modal(r, case_id),
    )
    bot.wait_idle()
    return _views(bot, since)


COORDINATOR_DOORS: dict[str, tuple[Callable[[Bot, Reader, int], str], str]] = {
    "legal hold button": (hold_button, "case_modal"),
    "legal hold submission": (hold_submitted, "case_modal"),
    "release the hold": (release_button, "case_modal"),
    "legal ground submission": (ground_submitted, "legal_grounds"),
    "end a legal ground": (ground_ended, "legal_grounds"),
}


@pytest.mark.parametrize("door", list(COORDINATOR_DOORS))
def test_the_coordinators_case_doors_from_outside_the_forum_are_refused_and_audited(
    bot: Bot, door: str
) -> None:
    """The legal hold (set, its reason modal, release) and a legal ground's modal name the
    case by its id (its "end" button, the ground by its id): sent by the admins of another
    forum and of another workspace's forum (from their own forum's modal) and by a
    non-member (naming this forum). Refused as before, the same answer as for an id of no
    case (or ground), nothing changed, and each attempt audited once in this forum's log."""
    world = build_world(bot)
    send, surface = COORDINATOR_DOORS[door]
    before = _hold_and_grounds(bot, world)
    mark = last_id(bot)
    gone = NO_GROUND_SV if send is ground_ended else REFUSED_SV
    expected = {OTHER_FORUM: gone, OTHER_WS: gone, NON_MEMBER: NOT_A_MEMBER_SV}
    for who, answer in expected.items():
        r = reader_for(bot, world, who)
        shown = send(bot, r, world.case)
        assert answer in shown and world.reference not in shown, shown
        assert shown == send(bot, r, NO_CASE), "the answer tells that the case exists"
    assert _hold_and_grounds(bot, world) == before
    kind = {"case_modal": "case", "legal_grounds": "legal_ground"}[surface]
    assert refusals_in(bot, mark, world.forum) == refused_once_each(
        OUTSIDERS_REFUSED, object_type=kind, object_ref=world.reference, surface=surface
    )


# --- ending a legal ground: the button names a ground, not a case ------------------------------

NO_GROUND_SV = "Den rättsliga grunden finns inte i det här forumet."


def _active_ground(bot: Bot, world: World) -> int:
    """A ground of the world's case still in force (the world's own one has ended)."""
    with transaction(bot.sessions) as s:
        forum = fs.get_forum(s, forum_id=world.forum, team_id="T0001")
        coord = fs.require_member(s, forum=forum, slack_user_id=COORD)
        grundskola = next(a.id for a in forum.agencies if a.name == "Grundskola")
        draft = GroundDraft(
            agency_id=grundskola, ground="necessary", decided_on=bot.clock.now().date(), note=""
        )
        return record_ground(s, bot.clock, access=coord, case_id=world.case, draft=draft).id


def _ground_ended(bot: Bot, ground_id: int) -> Any:
    with bot.sessions() as s:
        ground = s.get(LegalGround, ground_id)
        assert ground is not None
        return ground.ended_at


def end_ground(bot: Bot, r: Reader, ground_id: int) -> str:
    """The legal-ground modal's "End" button (its value: the ground's id), from a modal of
    the reader's forum."""
    since = len(bot.slack.calls)
    meta = json.dumps({"locale": "sv", "forum_id": r.forum_id, "case_id": 0})
    r.driver.block_action(
        "privacy_legal_ground_end",
        user=r.user,
        value=str(ground_id),
        view={"id": "VG7", "private_metadata": meta},
    )
    bot.wait_idle()
    return _views(bot, since)


def test_ending_another_forums_legal_ground_is_refused_as_no_ground_and_audited(
    bot: Bot,
) -> None:
    """The admins of another forum and of another workspace's forum (from their own forum's
    modal) and a non-member (naming this forum) press "End" with the id of this forum's
    ground: refused as before, the same answer as for the id of no ground, the ground still
    in force, and each attempt audited once in this forum's log under the ground's case."""
    world = build_world(bot)
    ground = _active_ground(bot, world)
    mark = last_id(bot)
    expected = {OTHER_FORUM: NO_GROUND_SV, OTHER_WS: NO_GROUND_SV, NON_MEMBER: NOT_A_MEMBER_SV}
    for who, answer in expected.items():
        r = reader_for(bot, world, who)
        shown = end_ground(bot, r, ground)
        assert answer in shown and world.reference not in shown, shown
        assert shown == end_ground(bot, r, NO_CASE), "the answer tells that the ground exists"
    assert _ground_ended(bot, ground) is None
    assert refusals_in(bot, mark, world.forum) == refused_once_each(
        OUTSIDERS_REFUSED,
        object_type="legal_ground",
        object_ref=world.reference,
        surface="legal_grounds",
    )
    refusals = refusals_since(bot, mark)
    logged = [e for e in refusals if e.forum_id == world.forum]
    # The ids of no ground name no case: recorded where the requests came from, as "?".
    assert {(e.actor, e.team_id, e.forum_id, e.object_ref) for e in refusals} - set(
        (e.actor, e.team_id, e.forum_id, e.object_ref) for e in logged
    ) == {
        (OTHER_FORUM, "T0001", None, "?"),
        (OTHER_WS, "T0002", None, "?"),
        (NON_MEMBER, "T0001", None, "?"),
    }
    # The forum's own coordinator still ends it (an audited change, no refusal).
    assert NO_GROUND_SV not in end_ground(bot, reader_for(bot, world, COORD), ground)
    assert _ground_ended(bot, ground) is not None
    assert len(refusals_since(bot, mark)) == len(refusals)


def _hold_and_grounds(bot: Bot, world: World) -> tuple[Any, ...]:
    from storage.models import LegalGround

    with bot.sessions() as s:
        case = s.get(Case, world.case)
        assert case is not None
        grounds = s.scalars(select(LegalGround.id).where(LegalGround.case_id == world.case))
        return case.legal_hold, case.legal_hold_reason, sorted(grounds)


# --- the family's view --------------------------------------------------------------------------


def _family_button(bot: Bot, r: Reader, case_id: int) -> str:
    since = len(bot.slack.calls)
    r.driver.block_action(
        "feedback_family_open", user=r.user, value=str(case_id), channel=f"D{r.user}"
    )
    bot.wait_idle()
    return _views(bot, since)


def _family_submitted(bot: Bot, r: Reader, case_id: int) -> str:
    response = r.driver.view_submission(
        "feedback_family",
        {"heard": {"heard": radio_value("yes")}, "helped": {"helped": radio_value("yes")}},
        user=r.user,
        private_metadata=json.dumps({"locale": "sv", "case_id": case_id}),
    )
    bot.wait_idle()
    return json.dumps(response.json(), ensure_ascii=False, sort_keys=True)


@pytest.mark.parametrize("who", [OTHER_FORUM, OTHER_WS, NON_MEMBER])
def test_the_family_view_tells_an_outsider_nothing_about_a_cases_existence(
    bot: Bot, who: str
) -> None:
    """The family-view button (and its modal's submission) with this forum's case id, from
    another forum's admin, another workspace's user and a non-member: the same answer, byte
    for byte, as with an id of no case ("no such case"), so the answer does not tell them
    that a case of that id exists. Nothing is recorded."""
    world = build_world(bot)
    r = reader_for(bot, world, who)
    with bot.sessions() as s:
        views_before = len(s.scalars(select(FamilyView)).all())
    for send in (_family_button, _family_submitted):
        existing, missing = send(bot, r, world.case), send(bot, r, NO_CASE)
        assert REFUSED_DM_SV in existing and world.reference not in existing, existing
        assert "forumet" not in existing, existing
        assert existing == missing
    with bot.sessions() as s:
        assert len(s.scalars(select(FamilyView)).all()) == views_before
    # A member of the case's forum whose agency did not raise it is still told why.
    shown = _family_button(bot, reader_for(bot, world, NOT_COVERED), world.case)
    assert "Bara verksamheten som lyfte ärendet" in shown, shown


# --- the agencies' survey -------------------------------------------------------------------------


def _survey(bot: Bot) -> tuple[int, str]:
    """The forum's survey and the agency it is for."""
    from storage.models import Agency

    with bot.sessions() as s:
        survey = s.scalars(select(FeedbackSurvey)).one()
        agency = s.get(Agency, survey.agency_id)
        assert agency is not None
        return survey.id, agency.name


def _survey_button(bot: Bot, r: Reader, survey_id: int) -> str:
    since = len(bot.slack.calls)
    r.driver.block_action(
        "feedback_survey_open", user=r.user, value=str(survey_id), channel=f"D{r.user}"
    )
    bot.wait_idle()
    return _views(bot, since)


def _survey_submitted(bot: Bot, r: Reader, survey_id: int) -> str:
    response = r.driver.view_submission(
        "feedback_survey",
        {},
        user=r.user,
        private_metadata=json.dumps({"locale": "sv", "survey_id": survey_id}),
    )
    bot.wait_idle()
    return json.dumps(response.json(), ensure_ascii=False, sort_keys=True)


def test_the_survey_does_not_name_its_agency_to_an_outsider(bot: Bot) -> None:
    """The survey's button (and a crafted submission) from someone outside its forum
    (another forum's admin, a non-member, another workspace's user): they are not told which
    agency the survey is for (that would say which agency took part in a case there), only
    what a survey id of nothing tells them, byte for byte. Inside the forum the agency is no
    secret: a member of another agency is still told whose survey it is."""
    world = build_world(bot)
    survey, agency = _survey(bot)
    for who in (OTHER_FORUM, NON_MEMBER, OTHER_WS):
        r = reader_for(bot, world, who)
        for send in (_survey_button, _survey_submitted):
            existing, missing = send(bot, r, survey), send(bot, r, NO_CASE)
            assert agency not in existing and world.reference not in existing, (who, existing)
            assert NO_SURVEY_SV in existing, existing
            assert existing == missing
    shown = _survey_button(bot, reader_for(bot, world, NOT_COVERED), survey)
    assert f"Enkäten gäller {agency}" in shown, shown


def test_a_refused_consent_submission_republishes_no_ones_home(bot: Bot) -> None:
    """After a consent is stored, the members whose agency it leaves out get their App Home
    published anew. A crafted consent submission from outside the forum, naming this
    forum's case (which has had two consents), is refused and publishes nothing here."""
    world = build_world(bot)
    consent_submitted(bot, reader_for(bot, world, RAISER), world.case)  # a narrower one
    assert _case_state(bot, world)[3] == 2
    published = bot.slack.count("views.publish")
    for who in (OTHER_FORUM, OTHER_WS):
        consent_submitted(bot, reader_for(bot, world, who), world.case)
    bot.wait_idle()
    assert bot.slack.count("views.publish") == published
    assert _case_state(bot, world)[3] == 2


@pytest.mark.parametrize(
    ("door", "attempt"),
    [
        ("legal hold button", "legal_hold"),
        ("legal hold submission", "legal_hold"),
        ("release the hold", "legal_hold_release"),
    ],
)
def test_a_member_who_is_no_coordinator_is_refused_the_legal_hold_and_audited(
    bot: Bot, door: str, attempt: str
) -> None:
    """The legal hold is the coordinators': a member of the forum pressing its buttons (a
    crafted button) is told so, nothing changes, and the attempt is audited once in the
    forum's log, naming the change."""
    world = build_world(bot)
    send, _surface = COORDINATOR_DOORS[door]
    before = _hold_and_grounds(bot, world)
    mark = last_id(bot)
    r = reader_for(bot, world, COVERED)
    for _ in range(2):
        shown = send(bot, r, world.case)
        assert "Det kan bara forumets samordnare göra." in shown and SUMMARY not in shown, shown
    assert _hold_and_grounds(bot, world) == before
    detail = {"surface": "case_modal", "details": False, "refused": "not_coordinator"}
    assert refusals_in(bot, mark, world.forum) == [
        (
            COVERED,
            "case",
            world.reference,
            "T0001",
            _agency_of(bot, world, COVERED),
            {**detail, "attempt": attempt},
        )
    ]


@pytest.mark.parametrize("door", ["legal hold button", "legal hold submission", "release the hold"])
def test_a_plain_member_of_another_forum_at_the_legal_hold_is_audited_as_an_outsider(
    bot: Bot, door: str
) -> None:
    """A member (no coordinator) of another forum presses the legal hold of this forum's
    case from their own forum's modal (a crafted button). They are told what any member who
    is no coordinator is told, nothing changes, and this forum's log says an outsider was
    refused (other_forum, no agency), as for another forum's admin: not "not_coordinator",
    which reads as one of this forum's members trying. Before, the hold button wrote that."""
    world = build_world(bot)
    outsider = "UP"
    with transaction(bot.sessions) as s:
        other = s.get(Forum, world.other_forum)
        assert other is not None
        fs.add_members(
            s,
            bot.clock,
            forum=other,
            actor=OTHER_FORUM,
            slack_user_ids=[outsider],
            agency_id=other.agencies[0].id,
            role=Role.MEMBER,
        )
    send, _surface = COORDINATOR_DOORS[door]
    before = _hold_and_grounds(bot, world)
    mark = last_id(bot)
    r = Reader(outsider, bot.driver, "C0002", world.other_forum)
    shown = send(bot, r, world.case)
    assert world.reference not in shown and SUMMARY not in shown, shown
    assert shown == send(bot, r, NO_CASE), "the answer tells that the case exists"
    assert _hold_and_grounds(bot, world) == before
    assert refusals_in(bot, mark, world.forum) == refused_once_each(
        [(outsider, "other_forum")],
        object_type="case",
        object_ref=world.reference,
        surface="case_modal",
    )


def _typed(bot: Bot, r: Reader, text: str) -> str:
    """``/samverkan text`` typed by the reader in their channel; the answer they read."""
    before = bot.slack.count("response_url")
    r.driver.command(text, user=r.user, channel=r.channel)
    reply = bot.slack.wait_for("response_url", count=before + 1)[-1]
    return json.dumps(reply.args, ensure_ascii=False)


@pytest.mark.parametrize(
    ("words", "attempt"),
    [
        ("gallring stopp {ref} Begäran från IVO", "legal_hold"),
        ("gallring släpp {ref}", "legal_hold_release"),
    ],
)
@pytest.mark.parametrize(
    ("locale", "answer"),
    [
        ("sv-SE", "Det kan bara forumets samordnare göra."),
        ("en-US", "Only the forum's coordinators"),
    ],
)
def test_a_member_who_is_no_coordinator_typing_the_legal_hold_is_refused_and_audited(
    bot: Bot, words: str, attempt: str, locale: str, answer: str
) -> None:
    """The legal hold typed as a command (``/samverkan gallring stopp REF reason``, ``…
    släpp REF``) by a member who is no coordinator: told so in their own language, nothing
    changes, and the attempt is audited once in the forum's log as the hold's buttons are."""
    world = build_world(bot)
    if words.startswith("gallring släpp"):
        with transaction(bot.sessions) as s:  # something to release
            case = s.get(Case, world.case)
            assert case is not None
            case.legal_hold, case.legal_hold_reason = True, "Begäran från IVO"
    before = _hold_and_grounds(bot, world)
    mark = last_id(bot)
    r = reader_for(bot, world, COVERED)
    bot.slack.set_user(COVERED, locale=locale)
    for _ in range(2):
        shown = _typed(bot, r, words.format(ref=world.reference))
        assert answer in shown and SUMMARY not in shown, shown
    assert _hold_and_grounds(bot, world) == before
    detail = {"surface": "case_modal", "details": False, "refused": "not_coordinator"}
    assert refusals_in(bot, mark, world.forum) == [
        (
            COVERED,
            "case",
            world.reference,
            "T0001",
            _agency_of(bot, world, COVERED),
            {**detail, "attempt": attempt},
        )
    ]


def test_the_legal_hold_typed_for_another_forums_case_is_refused_and_audited(bot: Bot) -> None:
    """A coordinator of another forum typing this forum's case reference into the hold
    command: the same answer as for a reference of nothing, and audited in this forum's
    log."""
    world = build_world(bot)
    before = _hold_and_grounds(bot, world)
    mark = last_id(bot)
    r = reader_for(bot, world, OTHER_FORUM)
    shown = _typed(bot, r, f"gallring stopp {world.reference} Begäran från IVO")
    assert "Det finns inget ärende" in shown and SUMMARY not in shown, shown
    nothing = _typed(bot, r, "gallring stopp FOS-1999-999 Begäran från IVO")
    strip = "_path"  # the response URL each answer goes to
    assert {k: v for k, v in json.loads(shown).items() if k != strip} == {
        k: v
        for k, v in json.loads(nothing.replace("FOS-1999-999", world.reference)).items()
        if k != strip
    }, "the answer tells that the case exists"
    assert _hold_and_grounds(bot, world) == before
    assert [e[:3] for e in refusals_in(bot, mark, world.forum)] == [
        (OTHER_FORUM, "case", world.reference)
    ]
