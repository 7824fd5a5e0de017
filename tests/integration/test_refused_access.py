"""Attempts at a case's details refused at the door (not a member of the case's forum,
another forum's member, another workspace's user) are audited like reads, in the case's
forum, once per user and case a minute, and the log reviewer sees them."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import threading
from typing import Any

import pytest
from sqlalchemy import select

from domain import audit, disclosure
from domain.disclosure import (
    REFUSAL_DAY,
    REFUSAL_WINDOW,
    REFUSALS_PER_DAY,
    REFUSALS_PER_WINDOW,
)
from domain.errors import CaseNotFound
from storage.db import transaction
from storage.models import AuditAction, AuditEvent
from tests.conftest import SIGNING_SECRET, Bot, postgresql_only
from tests.integration.test_disclosure_table import (
    ACTION_TEXT,
    COORD,
    NON_MEMBER,
    OTHER_FORUM,
    OTHER_WS,
    RAISER,
    SUMMARY,
    Reader,
    World,
    build_world,
    reader_for,
)
from tests.support.audit_log import events_since, last_id, refusals
from tests.support.concurrency import lock_waits
from tests.support.personnummer import pnr
from tests.support.slack_driver import SlackDriver
from tests.support.wait import eventually

CHILD_PNR = pnr("170110", "238")
REFUSED_SV = "Det ärendet finns inte i det här forumet."
# The family's view is asked for from the survey's DM: no forum there.
REFUSED_DM_SV = "Ärendet finns inte, eller så har du inte tillgång till det."
NOT_A_MEMBER_SV = "Det kan bara forumets medlemmar göra."


def open_case(bot: Bot, r: Reader, case_id: int) -> str:
    """The reader presses "open" on a case (a crafted button value); what Slack showed them."""
    before, opened = bot.slack.count("response_url"), bot.slack.count("views.open")
    response = r.driver.block_action(
        "case_open", user=r.user, value=str(case_id), channel=r.channel
    )
    assert response.status == 200, response.body
    bot.wait_idle()
    assert bot.slack.count("views.open") == opened, "the case modal opened"
    replies = bot.slack.calls_to("response_url")[before:]
    return json.dumps([c.args for c in replies], ensure_ascii=False)


def test_another_forums_case_id_is_refused_kindly_and_audited_once(bot: Bot) -> None:
    """The admin of another forum sends "open" with this forum's case id from their own
    channel: the friendly refusal, no details, and exactly one event in this forum's log
    (the same attempt again within the minute adds none)."""
    world = build_world(bot)
    r = reader_for(bot, world, OTHER_FORUM)
    mark = last_id(bot)
    shown = open_case(bot, r, world.case)
    assert REFUSED_SV in shown and SUMMARY not in shown
    open_case(bot, r, world.case)  # again, at once
    (event,) = refusals(events_since(bot, mark))
    assert event.actor == OTHER_FORUM
    assert event.object_type == "case" and event.object_ref == world.reference
    assert event.forum_id == world.forum and event.team_id == "T0001"
    assert event.actor_agency_id is None
    assert event.detail == {"surface": "case_modal", "details": False, "refused": "other_forum"}
    bot.clock.set(bot.clock.now() + REFUSAL_WINDOW + dt.timedelta(seconds=1))
    open_case(bot, r, world.case)
    assert len(refusals(events_since(bot, mark))) == 2, "a minute later it is a new attempt"
    bot.slack.assert_no_violations()


def _from_other_workspace(bot: Bot, world: World, enterprise_id: str | None = None) -> Reader:
    """The raiser's own user id, sent from another workspace (of an Enterprise Grid
    organisation, with ``enterprise_id``) naming this forum's channel."""
    other = SlackDriver(
        bot.url,
        SIGNING_SECRET,
        team_id="T0002",
        enterprise_id=enterprise_id,
        response_url_base=bot.slack.response_url_base,
    )
    return Reader(RAISER, other, "C0001", world.forum)


@pytest.mark.parametrize(
    ("who", "reason", "answer"),
    [
        (NON_MEMBER, "not_a_member", NOT_A_MEMBER_SV),
        (OTHER_WS, "other_forum", REFUSED_SV),
        ("raiser elsewhere", "no_forum_here", "Det finns inget forum i den här kanalen"),
        ("raiser in an organisation", "no_forum_here", "Det finns inget forum i den här"),
    ],
)
def test_a_non_member_or_another_workspace_is_refused_and_audited(
    bot: Bot, who: str, reason: str, answer: str
) -> None:
    world = build_world(bot)
    if who == "raiser elsewhere":
        r = _from_other_workspace(bot, world)
    elif who == "raiser in an organisation":
        r = _from_other_workspace(bot, world, enterprise_id="E0009")
    else:
        r = reader_for(bot, world, who)
        if who == NON_MEMBER:
            r = Reader(NON_MEMBER, bot.driver, "C0001", world.forum)
    mark = last_id(bot)
    shown = open_case(bot, r, world.case)
    assert answer in shown and SUMMARY not in shown
    (event,) = refusals(events_since(bot, mark))
    assert (event.actor, event.object_ref, event.forum_id) == (r.user, world.reference, world.forum)
    assert event.detail == {"surface": "case_modal", "details": False, "refused": reason}


def test_a_members_read_is_audited_as_before(bot: Bot) -> None:
    world = build_world(bot)
    r = reader_for(bot, world, RAISER)
    mark = last_id(bot)
    before = bot.slack.count("views.open")
    r.driver.block_action("case_open", user=r.user, value=str(world.case), channel=r.channel)
    view = bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"]
    assert SUMMARY in json.dumps(view, ensure_ascii=False)
    bot.wait_idle()
    logged = events_since(bot, mark)
    assert not refusals(logged)
    (read,) = [e for e in logged if e.object_type == "case"]
    assert read.actor == RAISER and read.object_ref == world.reference
    assert read.detail == {"surface": "case_modal", "details": True, "basis": "raising_agency"}


def test_a_flood_of_refusals_stays_bounded(bot: Bot) -> None:
    """Trying one case id after another: at most REFUSALS_PER_WINDOW events a minute; ids
    of no case are logged as ``#<id>`` in the workspace (no forum to show them in)."""
    world = build_world(bot)
    r = reader_for(bot, world, OTHER_FORUM)
    mark = last_id(bot)
    for case_id in range(10_000, 10_000 + REFUSALS_PER_WINDOW + 5):
        open_case(bot, r, case_id)
    logged = refusals(events_since(bot, mark))
    assert len(logged) == REFUSALS_PER_WINDOW
    assert logged[0].object_ref == "#10000" and logged[0].forum_id is None


def test_the_log_reviewer_sees_the_refusals(bot: Bot) -> None:
    world = build_world(bot)
    open_case(bot, reader_for(bot, world, OTHER_FORUM), world.case)
    before = bot.slack.count("response_url")
    bot.driver.command("logg", user=COORD)
    reply = bot.slack.wait_for("response_url", count=before + 1)[-1].args
    text = json.dumps(reply, ensure_ascii=False)
    assert "nekades åtkomst till" in text and world.reference in text
    assert "1 försök nekades" in text
    blocks: list[dict[str, Any]] = reply["blocks"]
    buttons = next(b for b in blocks if b.get("block_id") == "privacy_log_export")
    csv_button = buttons["elements"][0]
    bot.driver.block_action(
        csv_button["action_id"], user=COORD, value=csv_button["value"], channel="C0001"
    )
    bot.slack.wait_for("files.completeUploadExternal")
    (data,) = bot.slack.uploads.values()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert [OTHER_FORUM, "nekades åtkomst", world.reference] in [[r[2], r[4], r[6]] for r in rows]


def test_correcting_another_forums_case_text_is_refused_and_audited(bot: Bot) -> None:
    """The edit button's value names this forum's case summary, sent by another forum's
    admin from their own channel: refused, and audited once as an attempt at case_edit."""
    world = build_world(bot)
    r = reader_for(bot, world, OTHER_FORUM)
    mark = last_id(bot)
    for _ in range(2):
        r.driver.block_action(
            "text_edit", user=r.user, value=f"case.summary:{world.case}", channel=r.channel
        )
        bot.wait_idle()
    shown = json.dumps([c.args for c in bot.slack.calls_to("views.open")], ensure_ascii=False)
    assert "Den texten finns inte längre i det här forumet" in shown  # a notice, kindly
    assert SUMMARY not in shown
    (event,) = refusals(events_since(bot, mark))
    assert (event.actor, event.object_ref, event.forum_id) == (r.user, world.reference, world.forum)
    assert event.detail == {"surface": "case_edit", "details": False, "refused": "other_forum"}


@pytest.mark.parametrize(
    ("command", "surface"), [("grund", "legal_grounds"), ("samtycke", "consent_register")]
)
def test_a_case_reference_typed_outside_its_forum_is_refused_and_audited(
    bot: Bot, command: str, surface: str
) -> None:
    """Another forum's admin types this forum's case reference in their own channel, and a
    non-member in this forum's channel: refused kindly, each audited once in the case's
    forum. What someone types that is no reference is never recorded."""
    world = build_world(bot)
    mark = last_id(bot)
    attempts = [
        (OTHER_FORUM, "C0002", world.reference, "other_forum"),
        (NON_MEMBER, "C0001", world.reference.lower(), "not_a_member"),
    ]
    for user, channel, typed, _reason in attempts:
        before = bot.slack.count("response_url")
        bot.driver.command(f"{command} {typed}", user=user, channel=channel)
        reply = bot.slack.wait_for("response_url", count=before + 1)[-1]
        assert SUMMARY not in json.dumps(reply.args, ensure_ascii=False)
    bot.wait_idle()
    logged = refusals(events_since(bot, mark))
    assert [(e.actor, e.object_ref, e.forum_id, e.detail) for e in logged] == [
        (user, world.reference, world.forum, {"surface": surface, "details": False, "refused": why})
        for user, _channel, _typed, why in attempts
    ]
    before = bot.slack.count("response_url")
    bot.driver.command(f"{command} {CHILD_PNR}", user=OTHER_FORUM, channel="C0002")
    bot.slack.wait_for("response_url", count=before + 1)
    bot.wait_idle()
    (odd,) = refusals(events_since(bot, mark))[2:]
    assert odd.object_ref == "?" and CHILD_PNR not in json.dumps(odd.detail)


def test_another_forums_action_detail_is_refused_and_audited(bot: Bot) -> None:
    """An action of this forum (linked to its case) opened by another forum's admin, and
    by a user of another workspace: refused kindly, audited once each as an attempt at the
    action's detail, in this forum."""
    world = build_world(bot)
    mark = last_id(bot)
    for who in (OTHER_FORUM, OTHER_WS, OTHER_FORUM):
        r = reader_for(bot, world, who)
        r.driver.block_action(
            "action_history", user=r.user, value=str(world.action), channel=r.channel
        )
        bot.wait_idle()
    shown = json.dumps([c.args for c in bot.slack.calls_to("views.open")], ensure_ascii=False)
    assert ACTION_TEXT not in shown and SUMMARY not in shown
    logged = refusals(events_since(bot, mark))
    assert [(e.actor, e.object_type, e.object_ref, e.forum_id) for e in logged] == [
        (who, "action", str(world.action), world.forum) for who in (OTHER_FORUM, OTHER_WS)
    ]
    assert {e.detail["surface"] for e in logged if e.detail} == {"action_detail"}


@pytest.mark.parametrize("command", ["grund", "samtycke"])
def test_a_personnummer_typed_in_the_shape_of_a_reference_is_never_recorded(
    bot: Bot, command: str
) -> None:
    """A child's personnummer typed where the reference goes, dressed as one (letters, a
    dash, its first four digits, a dash, the rest: ``PN-1701-102384``): the refusal is
    audited, but the audit log (append-only, kept for years) never holds what was typed;
    only a real case's reference is recorded."""
    world = build_world(bot)
    digits = CHILD_PNR.replace("-", "")
    dressed = f"PN-{digits[:4]}-{digits[4:]}"
    mark = last_id(bot)
    before = bot.slack.count("response_url")
    bot.driver.command(f"{command} {dressed}", user=OTHER_FORUM, channel="C0002")
    bot.slack.wait_for("response_url", count=before + 1)
    bot.wait_idle()
    (event,) = refusals(events_since(bot, mark))
    stored = json.dumps([event.object_ref, event.detail], ensure_ascii=False)
    assert digits[4:] not in stored and digits[:4] not in stored
    assert event.object_ref == "?"
    assert event.forum_id is None and world.forum


def _notices(bot: Bot, since: int) -> list[str]:
    """What the user was shown (modal notices and ephemeral replies) since call ``since``."""
    shown = []
    for call in bot.slack.calls[since:]:
        if call.method in ("views.open", "response_url", "chat.postEphemeral"):
            text = json.dumps(call.args, ensure_ascii=False)
            shown += [part.split('"')[0] for part in text.split(":information_source: ")[1:]]
    return shown


@pytest.mark.parametrize("button", ["action_history", "action_done", "action_more_time"])
@pytest.mark.parametrize("who", [OTHER_FORUM, NON_MEMBER])
def test_an_action_of_a_forum_one_is_not_in_is_told_as_no_action(
    bot: Bot, who: str, button: str
) -> None:
    """Someone outside the action's forum (another forum's admin from their channel, a
    non-member in its own channel) presses a button naming its id: they are told exactly
    what an id of no action tells them, so the answer does not reveal that another forum
    has that action; the attempt is still audited as a non-member's."""
    world = build_world(bot)
    r = reader_for(bot, world, who) if who != NON_MEMBER else None
    answers = []
    mark = last_id(bot)
    for action_id in (world.action, 987_654):
        since = len(bot.slack.calls)
        if r is None:
            bot.driver.block_action(button, user=NON_MEMBER, value=str(action_id), channel="C0001")
        else:
            r.driver.block_action(button, user=r.user, value=str(action_id), channel=r.channel)
        bot.wait_idle()
        answers.append(_notices(bot, since))
    existing, missing = answers
    assert existing and existing == missing, answers
    if button == "action_history":
        logged = refusals(events_since(bot, mark))
        reasons = [(e.object_ref, (e.detail or {}).get("refused")) for e in logged]
        assert (str(world.action), "not_a_member") in reasons


@pytest.mark.parametrize("command", ["grund", "samtycke"])
def test_a_personnummer_typed_as_a_reference_is_not_repeated_back(bot: Bot, command: str) -> None:
    """ "No case X in this forum" repeats X only when X is plainly a reference: a
    personnummer typed there (as it is, or dressed as a reference) is not sent back to
    Slack, not even in a reply only the typist sees. A plain reference still is."""
    build_world(bot)
    digits = CHILD_PNR.replace("-", "")
    for typed in (CHILD_PNR, f"PN-{digits[:4]}-{digits[4:]}", "FOS-2026-999"):
        before = bot.slack.count("response_url")
        bot.driver.command(f"{command} {typed}", user=OTHER_FORUM, channel="C0002")
        reply = json.dumps(
            bot.slack.wait_for("response_url", count=before + 1)[-1].args, ensure_ascii=False
        )
        assert "Det finns inget ärende" in reply
        if typed == "FOS-2026-999":
            assert typed in reply
        else:
            assert digits[4:] not in reply and digits[:4] not in reply, reply


@pytest.mark.parametrize(
    ("button", "value", "answer"),
    [
        ("case_open", str(2**31), REFUSED_SV),
        ("text_edit", f"case.summary:{2**31}", "Den texten finns inte längre"),
        ("action_history", str(2**31), "Insatsen finns inte längre"),
        ("action_history", "²", "Insatsen finns inte längre"),
        ("action_more_time", str(2**40), "Insatsen finns inte längre"),
    ],
)
def test_a_crafted_id_past_any_row_is_told_as_no_such_thing_not_as_an_outage(
    bot: Bot, button: str, value: str, answer: str
) -> None:
    """Case and action ids are INTEGER columns: an id past 2³¹−1 in a button's value made
    PostgreSQL refuse the query, and the user read "the database is not answering, try
    again" (or, for a digit like ², nothing at all). It names no row: the same answer as
    any id of nothing."""
    world = build_world(bot)
    r = reader_for(bot, world, OTHER_FORUM)
    since = len(bot.slack.calls)
    r.driver.block_action(button, user=r.user, value=value, channel=r.channel)
    bot.wait_idle()
    shown = _notices(bot, since)
    assert shown and answer in shown[0], shown
    assert not any("Databasen" in s for s in shown)


def test_attempts_at_nothing_do_not_use_up_the_audit_of_a_forums_cases(bot: Bot) -> None:
    """The flood limit is no blindfold: another forum's admin first spends the minute's
    REFUSALS_PER_WINDOW on ids of no case, then tries this forum's case. That attempt is
    still in this forum's log (its reviewers see who tried); the limit counts per forum
    the attempts land in."""
    world = build_world(bot)
    r = reader_for(bot, world, OTHER_FORUM)
    mark = last_id(bot)
    for case_id in range(20_000, 20_000 + REFUSALS_PER_WINDOW):
        open_case(bot, r, case_id)
    open_case(bot, r, world.case)
    logged = refusals(events_since(bot, mark))
    in_forum = [(e.actor, e.object_ref) for e in logged if e.forum_id == world.forum]
    assert in_forum == [(OTHER_FORUM, world.reference)]
    assert len(logged) == REFUSALS_PER_WINDOW + 1


# --- the other doors to a case or an action ---------------------------------------------------


def _shown(bot: Bot, since: int) -> str:
    """Everything Slack showed (modals, replies) since call ``since``."""
    return json.dumps([c.args for c in bot.slack.calls[since:]], ensure_ascii=False)


ACTION_GONE_SV = "Insatsen finns inte längre"


@pytest.mark.parametrize(
    "button",
    [
        "action_done",
        "action_snooze_hour",
        "action_more_time",
        "action_hand_over",
        "action_follow_up_open",
    ],
)
def test_another_forums_action_buttons_are_refused_and_audited(bot: Bot, button: str) -> None:
    """Mark done, snooze, more time, hand over, follow up: a button naming this forum's
    action (linked to its case), pressed by another forum's admin and by a user of another
    workspace, is told "no such action" as before, and each attempt is audited once in this
    forum's log, as the action detail's are."""
    world = build_world(bot)
    mark = last_id(bot)
    since = len(bot.slack.calls)
    for who in (OTHER_FORUM, OTHER_WS, OTHER_FORUM):
        r = reader_for(bot, world, who)
        before = len(bot.slack.calls)
        r.driver.block_action(button, user=r.user, value=str(world.action), channel=r.channel)
        bot.wait_idle()
        assert ACTION_GONE_SV in _shown(bot, before)
    assert ACTION_TEXT not in _shown(bot, since) and SUMMARY not in _shown(bot, since)
    logged = refusals(events_since(bot, mark))
    assert [(e.actor, e.object_type, e.object_ref, e.forum_id, e.detail) for e in logged] == [
        (
            who,
            "action",
            str(world.action),
            world.forum,
            {"surface": "action_card", "details": False, "refused": why},
        )
        for who, why in ((OTHER_FORUM, "not_a_member"), (OTHER_WS, "other_forum"))
    ]
    with bot.sessions() as s:
        from storage.models import Action

        action = s.get(Action, world.action)
        assert action is not None and action.completed_at is None


@pytest.mark.parametrize(
    ("callback", "values"),
    [
        ("action_postpone", {"due_on": {"value": {"type": "datepicker", "selected_date": None}}}),
        ("action_follow_up", {}),
        ("action_handover", {}),
    ],
)
def test_a_crafted_action_modal_naming_another_forums_action_is_refused_and_audited(
    bot: Bot, callback: str, values: dict[str, Any]
) -> None:
    """The modal's private_metadata names this forum's action, submitted by another forum's
    admin: the modal tells them "no such action" and the attempt is audited once."""
    world = build_world(bot)
    mark = last_id(bot)
    meta = json.dumps({"locale": "sv", "forum_id": world.other_forum, "action_id": world.action})
    response = bot.driver.view_submission(callback, values, user=OTHER_FORUM, private_metadata=meta)
    bot.wait_idle()
    answer = json.dumps(response.json(), ensure_ascii=False)
    assert ACTION_GONE_SV in answer and ACTION_TEXT not in answer
    (event,) = refusals(events_since(bot, mark))
    assert (event.actor, event.object_ref, event.forum_id) == (
        OTHER_FORUM,
        str(world.action),
        world.forum,
    )
    assert event.detail == {"surface": "action_card", "details": False, "refused": "not_a_member"}


def test_correcting_another_forums_action_text_is_refused_and_audited(bot: Bot) -> None:
    """The edit button and the edit modal's submission naming this forum's action text,
    from another forum's admin in their own forum: refused kindly, audited as attempts at
    action_edit (the button once a minute; the crafted submission a minute later again)."""
    world = build_world(bot)
    r = reader_for(bot, world, OTHER_FORUM)
    mark = last_id(bot)
    since = len(bot.slack.calls)
    for _ in range(2):
        r.driver.block_action(
            "text_edit",
            user=r.user,
            value=f"action.description:{world.action}",
            channel=r.channel,
        )
        bot.wait_idle()
    shown = _shown(bot, since)
    assert "Den texten finns inte längre i det här forumet" in shown
    assert ACTION_TEXT not in shown
    bot.clock.set(bot.clock.now() + REFUSAL_WINDOW + dt.timedelta(seconds=1))
    meta = json.dumps(
        {
            "locale": "sv",
            "forum_id": world.other_forum,
            "field": "action.description",
            "object_id": world.action,
        }
    )
    response = bot.driver.view_submission(
        "text_edit_submit",
        {"text": {"value": {"type": "plain_text_input", "value": "Skrivet över"}}},
        user=OTHER_FORUM,
        private_metadata=meta,
    )
    bot.wait_idle()
    assert "Den texten finns inte längre" in json.dumps(response.json(), ensure_ascii=False)
    logged = refusals(events_since(bot, mark))
    assert [(e.actor, e.object_type, e.object_ref, e.forum_id, e.detail) for e in logged] == [
        (
            OTHER_FORUM,
            "action",
            str(world.action),
            world.forum,
            {"surface": "action_edit", "details": False, "refused": "other_forum"},
        )
    ] * 2
    with bot.sessions() as s:
        from storage.models import Action

        action = s.get(Action, world.action)
        assert action is not None and action.description == ACTION_TEXT


def _survey_id(bot: Bot) -> int:
    from storage.models import FeedbackSurvey

    with bot.sessions() as s:
        return s.scalars(select(FeedbackSurvey.id)).one()


@pytest.mark.parametrize(
    ("who", "reason"), [(OTHER_FORUM, "not_a_member"), (OTHER_WS, "no_forum_here")]
)
def test_another_forums_family_view_is_refused_and_audited(bot: Bot, who: str, reason: str) -> None:
    """The family's view of this forum's case (a DM button and its modal, both naming the
    case id) asked for by another forum's admin or another workspace's user: refused as an
    id of no case is (test_refused_case_doors), and audited as an attempt at the case's
    feedback, in its forum, as what it is."""
    answer = REFUSED_DM_SV
    world = build_world(bot)
    r = reader_for(bot, world, who)
    mark = last_id(bot)
    since = len(bot.slack.calls)
    r.driver.block_action(
        "feedback_family_open", user=r.user, value=str(world.case), channel=f"D{r.user}"
    )
    bot.wait_idle()
    assert answer in _shown(bot, since)
    bot.clock.set(bot.clock.now() + REFUSAL_WINDOW + dt.timedelta(seconds=1))
    response = r.driver.view_submission(
        "feedback_family",
        {"heard": {"value": {"type": "radio_buttons", "selected_option": {"value": "yes"}}}},
        user=r.user,
        private_metadata=json.dumps({"locale": "sv", "case_id": world.case}),
    )
    bot.wait_idle()
    assert answer in json.dumps(response.json(), ensure_ascii=False)
    logged = refusals(events_since(bot, mark))
    assert [(e.actor, e.object_type, e.object_ref, e.forum_id, e.detail) for e in logged] == [
        (
            who,
            "case",
            world.reference,
            world.forum,
            {"surface": "case_feedback", "details": False, "refused": reason},
        )
    ] * 2


def test_a_family_view_of_no_case_is_told_as_before_and_audited_without_a_forum(
    bot: Bot,
) -> None:
    world = build_world(bot)
    r = reader_for(bot, world, OTHER_FORUM)
    mark = last_id(bot)
    since = len(bot.slack.calls)
    r.driver.block_action("feedback_family_open", user=r.user, value="987654", channel="DUB")
    bot.wait_idle()
    assert REFUSED_DM_SV in _shown(bot, since)
    (event,) = refusals(events_since(bot, mark))
    assert (event.object_ref, event.forum_id) == ("#987654", None)


@pytest.mark.parametrize(
    ("who", "reason"), [(OTHER_FORUM, "not_a_member"), (OTHER_WS, "other_forum")]
)
def test_another_forums_feedback_survey_is_refused_and_audited(
    bot: Bot, who: str, reason: str
) -> None:
    """A survey of this forum's case (its id in a DM button, then in a crafted modal)
    opened by someone outside the forum: no survey modal, and the attempts are audited in
    the case's forum, naming the case."""
    world = build_world(bot)
    survey = _survey_id(bot)
    r = reader_for(bot, world, who)
    mark = last_id(bot)
    opened = bot.slack.count("views.open")
    since = len(bot.slack.calls)
    r.driver.block_action(
        "feedback_survey_open", user=r.user, value=str(survey), channel=f"D{r.user}"
    )
    bot.wait_idle()
    views = [c.args["view"] for c in bot.slack.calls_to("views.open")[opened:]]
    assert all(v.get("callback_id") != "feedback_survey" for v in views), views
    assert _shown(bot, since).count(world.reference) == 0
    bot.clock.set(bot.clock.now() + REFUSAL_WINDOW + dt.timedelta(seconds=1))
    response = r.driver.view_submission(
        "feedback_survey",
        {},
        user=r.user,
        private_metadata=json.dumps({"locale": "sv", "survey_id": survey}),
    )
    assert response.json().get("response_action") == "update"
    bot.wait_idle()
    logged = refusals(events_since(bot, mark))
    assert [(e.actor, e.object_type, e.object_ref, e.forum_id, e.detail) for e in logged] == [
        (
            who,
            "case",
            world.reference,
            world.forum,
            {"surface": "case_feedback", "details": False, "refused": reason},
        )
    ] * 2


# --- a day's refusals -------------------------------------------------------------------------


def _export_rows(bot: Bot) -> list[list[str]]:
    """The log review's CSV export, as a coordinator gets it."""
    before = bot.slack.count("response_url")
    bot.driver.command("logg", user=COORD)
    reply = bot.slack.wait_for("response_url", count=before + 1)[-1].args
    blocks: list[dict[str, Any]] = reply["blocks"]
    buttons = next(b for b in blocks if b.get("block_id") == "privacy_log_export")
    csv_button = buttons["elements"][0]
    uploads = set(bot.slack.uploads)
    bot.driver.block_action(
        csv_button["action_id"], user=COORD, value=csv_button["value"], channel="C0001"
    )
    bot.slack.wait_for("files.completeUploadExternal", count=len(uploads) + 1)
    (data,) = [v for k, v in bot.slack.uploads.items() if k not in uploads]
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_a_days_refusals_are_capped_and_the_review_shows_the_limit(bot: Bot) -> None:
    """Another forum's admin tries this forum's case once a minute, all day: the per-minute
    limit lets each through, so the day's cap bounds them. The REFUSALS_PER_DAY-th is the
    last one written and is marked; later attempts are refused all the same (the same
    answer) but not written, until a day has passed. The log review and its export show
    the mark on that row, so the reviewers see that the attempts went on."""
    world = build_world(bot)
    r = reader_for(bot, world, OTHER_FORUM)
    mark = last_id(bot)
    step = REFUSAL_WINDOW + dt.timedelta(seconds=1)
    # All but the last two of the day, written as the app writes them, a minute apart.
    for _ in range(REFUSALS_PER_DAY - 2):
        bot.clock.advance(step)
        with transaction(bot.sessions) as s:
            disclosure.record_refused(
                s,
                bot.clock,
                team_id="T0001",
                slack_user_id=OTHER_FORUM,
                case_id=world.case,
                surface_name="case_modal",
                reason="other_forum",
            )
    for _ in range(3):  # the last two of the day, and one more
        bot.clock.advance(step)
        assert REFUSED_SV in open_case(bot, r, world.case)
    logged = refusals(events_since(bot, mark))
    assert len(logged) == REFUSALS_PER_DAY
    assert [e.detail for e in logged[-2:]] == [
        {"surface": "case_modal", "details": False, "refused": "other_forum"},
        {"surface": "case_modal", "details": False, "refused": "other_forum", "limit": "day"},
    ]
    assert not any((e.detail or {}).get("limit") for e in logged[:-1])
    # The review shows the mark on the last written row, and the count of the refusals.
    before = bot.slack.count("response_url")
    bot.driver.command("logg", user=COORD)
    review = json.dumps(
        bot.slack.wait_for("response_url", count=before + 1)[-1].args, ensure_ascii=False
    )
    assert "dygnets gräns för loggade nekanden" in review
    assert f"{REFUSALS_PER_DAY} försök nekades" in review
    rows = _export_rows(bot)
    limited = [row for row in rows if row[4] == "nekades åtkomst" and "dygnets gräns" in row[7]]
    assert [(row[2], row[6]) for row in limited] == [(OTHER_FORUM, world.reference)]
    # A day later the attempts are written again.
    bot.clock.advance(REFUSAL_DAY)
    assert REFUSED_SV in open_case(bot, r, world.case)
    again = refusals(events_since(bot, mark))[REFUSALS_PER_DAY:]
    assert [(e.actor, e.object_ref, e.detail) for e in again] == [
        (
            OTHER_FORUM,
            world.reference,
            {"surface": "case_modal", "details": False, "refused": "other_forum"},
        )
    ]


def test_a_day_whose_cap_was_passed_by_racing_attempts_still_shows_the_limit(bot: Bot) -> None:
    """Attempts sent at once at the cap's edge: each request reads the day's count before
    the others commit (nothing orders them), so several read REFUSALS_PER_DAY - 2 and
    none writes the marked last row; the day is then over its cap with no mark. The next
    attempt must still be written, marked, so the reviewers see that the attempts went on
    (it was refused and written nowhere, the later attempts hidden from the review)."""
    world = build_world(bot)
    r = reader_for(bot, world, OTHER_FORUM)
    mark = last_id(bot)
    step = REFUSAL_WINDOW + dt.timedelta(seconds=1)
    # What the racing requests leave: a day's worth of refusals, none of them marked.
    with transaction(bot.sessions) as s:
        for _ in range(REFUSALS_PER_DAY):
            bot.clock.advance(dt.timedelta(seconds=1))
            audit.record(
                s,
                bot.clock,
                actor=OTHER_FORUM,
                action=AuditAction.READ,
                object_type="case",
                object_ref=world.reference,
                team_id="T0001",
                forum_id=world.forum,
                detail={"surface": "case_modal", "details": False, "refused": "other_forum"},
            )
    for _ in range(3):
        bot.clock.advance(step)
        assert REFUSED_SV in open_case(bot, r, world.case)
    logged = refusals(events_since(bot, mark))
    assert [e.detail for e in logged[REFUSALS_PER_DAY:]] == [
        {"surface": "case_modal", "details": False, "refused": "other_forum", "limit": "day"}
    ], "the day's cap was passed and no row says so"
    before = bot.slack.count("response_url")
    bot.driver.command("logg", user=COORD)
    review = json.dumps(
        bot.slack.wait_for("response_url", count=before + 1)[-1].args, ensure_ascii=False
    )
    assert "dygnets gräns för loggade nekanden" in review


@postgresql_only  # SQLite's writers queue whole: no refusal commits between count and write
def test_refusals_at_once_across_the_days_cap_write_exactly_the_cap(bot: Bot) -> None:
    """Requests at once at the edge of a day's cap (attempts at ids of nothing, one user, one
    log): each counted the day's refusals before the others committed, so all of them were
    written (past the cap, and none marked: the mark went to a later attempt at best). Now
    each waits for the one before it to end: exactly REFUSALS_PER_DAY are written, the last
    of them marked, whichever order they ran in. One attempt holds its transaction open
    after counting while the others are sent; each is refused as the doors refuse (the
    caller's transaction rolled back, the refusal written in one of its own)."""
    build_world(bot)
    nothing = 987_000
    with transaction(bot.sessions) as s:  # the day so far, more than a minute ago
        for i in range(REFUSALS_PER_DAY - 3):
            audit.record(
                s,
                bot.clock,
                actor=OTHER_FORUM,
                action=AuditAction.READ,
                object_type="case",
                object_ref=f"#{i}",
                team_id="T0001",
                forum_id=None,
                detail={"surface": "case_modal", "details": False, "refused": "other_forum"},
            )
    bot.clock.advance(REFUSAL_WINDOW + dt.timedelta(seconds=1))
    mark = last_id(bot)
    counted, go_on = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def attempt(case_id: int, *, hold: bool = False) -> None:
        try:
            with contextlib.suppress(CaseNotFound), transaction(bot.sessions) as s:
                disclosure.record_refused(
                    s,
                    bot.clock,
                    team_id="T0001",
                    slack_user_id=OTHER_FORUM,
                    case_id=case_id,
                    surface_name="case_modal",
                    reason="other_forum",
                )
                if hold:
                    counted.set()
                    assert go_on.wait(timeout=30)
                raise CaseNotFound()
        except BaseException as exc:  # told to the test's thread
            failures.append(exc)

    first = threading.Thread(target=attempt, args=(nothing,), kwargs={"hold": True})
    first.start()
    assert counted.wait(timeout=30)
    engine = bot.sessions.kw["bind"]
    others = [threading.Thread(target=attempt, args=(nothing + i,)) for i in range(1, 6)]
    with lock_waits(engine) as waits:
        for thread in others:
            thread.start()
        # Each of the others has either written its refusal already or waits for its turn.
        eventually(lambda: waits.waiting() or not any(t.is_alive() for t in others))
    go_on.set()
    for thread in (first, *others):
        thread.join(timeout=30)
    assert not failures, failures
    day = [e for e in refusals(events_since(bot, 0)) if e.actor == OTHER_FORUM]
    written = [e for e in day if e.id > mark]
    assert len(day) == REFUSALS_PER_DAY, f"{len(written)} written at once, past the cap"
    assert [e.detail.get("limit") for e in day if e.detail] == [None] * (REFUSALS_PER_DAY - 1) + [
        "day"
    ]
    # The later attempts of the day are refused all the same, and not written.
    bot.clock.advance(REFUSAL_WINDOW + dt.timedelta(seconds=1))
    attempt(nothing + 10)
    assert not failures, failures
    assert last_id(bot) == max(e.id for e in written)


def _review_events(bot: Bot, mark: int) -> str:
    with bot.sessions() as s:
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.id > mark, AuditEvent.object_type == "audit_log")
        ).all()
        return json.dumps([(e.object_ref, e.detail) for e in events], ensure_ascii=False)


def test_a_personnummer_typed_or_crafted_into_the_log_reviews_filter_is_never_recorded(
    bot: Bot,
) -> None:
    """Looking at the log is audited with its filter. A coordinator types a child's
    personnummer dressed as a reference (``/samverkan logg PN-1701-102384``), or sends the
    export button with a crafted filter (a personnummer and a name as the person and the
    case): the append-only log never holds what was typed. A real reference and a real
    user of the forum's log are still recorded."""
    world = build_world(bot)
    digits = CHILD_PNR.replace("-", "")
    dressed = f"PN-{digits[:4]}-{digits[4:]}"
    mark = last_id(bot)
    before = bot.slack.count("response_url")
    bot.driver.command(f"logg {dressed}", user=COORD)
    bot.slack.wait_for("response_url", count=before + 1)
    uploads = len(bot.slack.uploads)
    crafted = f"U{digits}|| {CHILD_PNR} Anna Andersson||"
    bot.driver.block_action("privacy_log_export_csv", user=COORD, value=crafted, channel="C0001")
    bot.slack.wait_for("files.completeUploadExternal", count=uploads + 1)
    bot.wait_idle()
    stored = _review_events(bot, mark)
    assert stored.count('"case"') == 2 and stored.count('"user"') == 1, stored
    assert digits[4:] not in stored and digits[-4:] not in stored, stored
    assert "Anna" not in stored, stored
    # What the forum's log names is recorded as before.
    mark = last_id(bot)
    before = bot.slack.count("response_url")
    bot.driver.command(f"logg {world.reference} <@{RAISER}>", user=COORD)
    bot.slack.wait_for("response_url", count=before + 1)
    bot.wait_idle()
    assert json.loads(_review_events(bot, mark)) == [
        ["FOS", {"user": RAISER, "case": world.reference}]
    ]
