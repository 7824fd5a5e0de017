"""The DMs the bot sends on a schedule or on someone else's action are in the recipient's
language (their Slack locale), not the forum's: an English-speaking member of a Swedish
forum reads them in English, dates too, while a Swedish member reads Swedish. When Slack
does not say, the forum's language."""

from __future__ import annotations

import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from domain import forums as fs
from storage.db import transaction
from storage.models import Action, Agency, Case, Forum, Member, Role
from tests.conftest import Bot
from tests.integration import test_action_flow as actions
from tests.integration import test_case_flow as case_flow
from tests.integration import test_feedback as feedback
from tests.integration import test_scheduled_work as scheduled_work
from tests.support import agenda_flow, rating_flow
from tests.support.forums import forum_draft
from tests.support.slack_driver import multi_select_values, users_value
from tests.support.wait import eventually

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def dms_to(bot: Bot, user: str) -> list[str]:
    return [
        json.dumps(c.args, ensure_ascii=False)
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == user
    ]


def run_at(bot: Bot, moment: dt.datetime) -> None:
    """The scheduler's pass at ``moment``, once the requests' work has finished
    (agenda_flow.tick)."""
    agenda_flow.tick(bot, moment)


# --- feedback surveys: at once when a case closes, and the scheduled reminder ------------------


@pytest.fixture
def survey_forum(bot: Bot) -> dict[str, int]:
    """FOSSAM (Swedish): admin (Grundskola), members of Elevhälsa and Socialtjänst/IFO."""
    draft = forum_draft(agencies=["Grundskola", "Elevhälsa", "Socialtjänst/IFO", "Polis"])
    with transaction(bot.sessions) as s:
        created = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id="C0001", actor=case_flow.ADMIN, draft=draft
        )
        agencies = {a.name: a.id for a in created.agencies}
        for user, agency in (
            (case_flow.ELEVHALSA, "Elevhälsa"),
            (case_flow.SOCIAL, "Socialtjänst/IFO"),
        ):
            fs.add_members(
                s,
                bot.clock,
                forum=created,
                actor=case_flow.ADMIN,
                slack_user_ids=[user],
                agency_id=agencies[agency],
                role=Role.MEMBER,
            )
        return {"forum": created.id, **agencies}


def test_the_survey_dms_and_their_reminder_are_in_each_recipients_language(
    bot: Bot, survey_forum: dict[str, int]
) -> None:
    bot.slack.set_user(case_flow.ELEVHALSA, locale="en-US")
    feedback.close_case(bot, survey_forum)
    english = "Three short questions"
    eventually(lambda: feedback.dms_to(bot, case_flow.ELEVHALSA, english))
    eventually(lambda: feedback.dms_to(bot, case_flow.SOCIAL, "Tre korta frågor"))
    assert not feedback.dms_to(bot, case_flow.ELEVHALSA, "Tre korta frågor")
    assert not feedback.dms_to(bot, case_flow.SOCIAL, english)
    # Unanswered: the reminder goes on a later working day, from the scheduler.
    run_at(bot, bot.clock.now() + dt.timedelta(days=10))
    assert feedback.dms_to(bot, case_flow.ELEVHALSA, "Reminder: Elevhälsa has not yet answered")
    assert feedback.dms_to(bot, case_flow.SOCIAL, "Påminnelse")
    assert not feedback.dms_to(bot, case_flow.SOCIAL, "Reminder:")


# --- actions: the new owner's DM, the reminder (dates too), the overdue digest ----------------


@pytest.fixture
def action_forum(bot: Bot) -> dict[str, int]:
    return actions.make_forum(bot)


def create_action(bot: Bot, forum: dict[str, int], owner: str, due: dt.date, n: int) -> int:
    before = bot.slack.count("chat.postMessage")
    response = actions.submit_action(bot, forum, owner=owner, due=due, view_id=f"VL{n}")
    assert response.json() is None, response.body
    bot.slack.wait_for("chat.postMessage", count=before + 2)  # the owner's and the creator's
    # The delivery after the ack looks again after what it sent: done before a test resets
    # the stand-in or moves the clock (it would send what the next pass queues, and late).
    bot.wait_idle()
    with bot.sessions() as session:
        return int(session.scalars(select(Action.id).order_by(Action.id.desc())).first() or 0)


DUE = dt.date(2026, 12, 28)  # a Monday; reminded Monday 21 December


def english_and_swedish_actions(bot: Bot, forum: dict[str, int]) -> tuple[int, int]:
    """An action owned by an English-speaking member, one by a Swedish one (the admin, in
    Swedish, creates both)."""
    bot.slack.set_user(actions.ELEVHALSA, locale="en-US")
    english = create_action(bot, forum, actions.ELEVHALSA, DUE, 1)
    swedish = create_action(bot, forum, actions.ELEVHALSA2, DUE, 2)
    return english, swedish


def test_a_new_actions_dm_is_in_its_owners_language_with_the_date_in_it(
    bot: Bot, action_forum: dict[str, int]
) -> None:
    english, swedish = english_and_swedish_actions(bot, action_forum)
    (created_en,) = dms_to(bot, actions.ELEVHALSA)
    assert f"New action #{english}" in created_en and "Monday 28 December" in created_en
    (created_sv,) = dms_to(bot, actions.ELEVHALSA2)
    assert f"#{swedish}" in created_sv and "måndag 28 december" in created_sv
    assert "New action" not in created_sv


def test_an_action_reminder_is_in_its_owners_language_with_the_date_in_it(
    bot: Bot, action_forum: dict[str, int]
) -> None:
    english_and_swedish_actions(bot, action_forum)
    bot.slack.reset()
    # (a reset forgets it; the stored language is a month old by then and asked again)
    bot.slack.set_user(actions.ELEVHALSA, locale="en-US")
    run_at(bot, dt.datetime(2026, 12, 21, 8, 5, tzinfo=STOCKHOLM))
    (reminder_en,) = dms_to(bot, actions.ELEVHALSA)
    assert "Monday 28 December" in reminder_en and "måndag" not in reminder_en
    (reminder_sv,) = dms_to(bot, actions.ELEVHALSA2)
    assert "måndag 28 december" in reminder_sv and "Monday" not in reminder_sv


def test_the_overdue_digest_is_in_its_owners_language(
    bot: Bot, action_forum: dict[str, int]
) -> None:
    english_and_swedish_actions(bot, action_forum)
    with transaction(bot.sessions) as s:  # no earlier reminder: the digest is the first DM
        s.execute(update(Action).values(remind_at=bot.clock.now()))
    bot.slack.reset()
    bot.slack.set_user(actions.ELEVHALSA, locale="en-US")  # (a reset forgets it)
    run_at(bot, dt.datetime(2026, 12, 30, 9, 0, tzinfo=STOCKHOLM))
    (digest_en,) = dms_to(bot, actions.ELEVHALSA)
    (digest_sv,) = dms_to(bot, actions.ELEVHALSA2)
    assert "You have 1 overdue action." in digest_en and "Monday 28 December" in digest_en
    assert "overdue" not in digest_sv and "måndag 28 december" in digest_sv


def add_people(bot: Bot, forum_id: int, agency_id: int, role: Role, users: list[str]) -> None:
    with transaction(bot.sessions) as s:
        forum = s.get(Forum, forum_id)
        assert forum is not None
        fs.add_members(
            s,
            bot.clock,
            forum=forum,
            actor=actions.ADMIN,
            slack_user_ids=users,
            agency_id=agency_id,
            role=role,
        )


def test_the_coordinators_hear_of_a_released_action_in_their_language(
    bot: Bot, action_forum: dict[str, int]
) -> None:
    """The owner left the forum: the action stays with the agency, and each coordinator
    is told in their own language."""
    add_people(bot, action_forum["forum"], action_forum["Grundskola"], Role.COORDINATOR, ["U5"])
    create_action(bot, action_forum, actions.ELEVHALSA, DUE, 1)
    with transaction(bot.sessions) as s:
        s.execute(
            update(Member).where(Member.slack_user_id == actions.ELEVHALSA).values(active=False)
        )
    bot.slack.reset()
    bot.slack.set_user(actions.ADMIN, locale="en-US")  # (a reset forgets it)
    bot.run_due_work()
    (english,) = dms_to(bot, actions.ADMIN)
    (swedish,) = dms_to(bot, "U5")
    assert "no longer has an owner" in english
    assert "no longer has an owner" not in swedish and "FOSSAM" in swedish


def test_a_hand_over_dm_is_in_the_new_owners_language(
    bot: Bot, action_forum: dict[str, int]
) -> None:
    bot.slack.set_user(actions.ELEVHALSA2, locale="en-GB")
    action_id = create_action(bot, action_forum, actions.ELEVHALSA, DUE, 1)
    actions.press(bot, "action_hand_over", actions.ELEVHALSA, str(action_id))
    view = bot.slack.wait_for("views.open")[-1].args["view"]
    values = {"owner": {"value": users_value(actions.ELEVHALSA2)}}
    response = bot.driver.view_submission(
        "action_handover",
        values,
        user=actions.ELEVHALSA,  # a Swedish member hands it over
        private_metadata=view["private_metadata"],
        blocks=actions.blocks_of(values),
    )
    assert response.json() is None
    eventually(lambda: dms_to(bot, actions.ELEVHALSA2))
    (handed,) = dms_to(bot, actions.ELEVHALSA2)
    assert f"Action #{action_id} is now yours" in handed
    assert "Monday 28 December" in handed


# --- the agency-change notice to the log reviewers ---------------------------------------------


def test_a_moved_members_notice_reaches_each_reviewer_in_their_language(
    bot: Bot, action_forum: dict[str, int]
) -> None:
    """A coordinator moves a member to another agency: the log reviewers are told, each in
    their own language."""
    reviewers = {"U7": "en-US", "U8": "sv-SE"}
    add_people(bot, action_forum["forum"], action_forum["Grundskola"], Role.REVIEWER, [*reviewers])
    for user, locale in reviewers.items():
        bot.slack.set_user(user, locale=locale)
    moved = json.dumps(
        {
            "locale": "sv",
            "forum_id": action_forum["forum"],
            "users": [actions.SOCIAL],
            "agency_id": action_forum["Elevhälsa"],
            "role": "member",
            "version": 0,
        }
    )
    response = bot.driver.view_submission(
        "forum_members_move", {}, user=actions.ADMIN, private_metadata=moved
    )
    assert response.status == 200
    eventually(lambda: dms_to(bot, "U7") and dms_to(bot, "U8"))
    (english,) = dms_to(bot, "U7")
    (swedish,) = dms_to(bot, "U8")
    assert "now represents Elevhälsa instead of Socialtjänst/IFO" in english
    assert "now represents" not in swedish and "Elevhälsa" in swedish


# --- meetings: the morning DM and the minutes prompt ------------------------------------------


def test_the_morning_dm_is_in_each_members_language(bot: Bot) -> None:
    agenda_flow.setup_forum(bot)
    agenda_flow.raise_a_case(bot)
    bot.slack.set_user("U2", locale="en-US")
    agenda_flow.tick(bot, agenda_flow.local(2026, 11, 26, 8, 0))
    english = [m for m in dms_to(bot, "U2") if "Today's meeting in FOSSAM" in m]
    swedish = [m for m in dms_to(bot, "U1") if "Dagens möte i FOSSAM" in m]
    assert len(english) == 1 and len(swedish) == 1
    assert not [m for m in dms_to(bot, "U2") if "Dagens möte" in m]


def test_the_minutes_prompt_is_in_the_coordinators_language(bot: Bot) -> None:
    agenda_flow.setup_forum(bot)
    agenda_flow.raise_a_case(bot)
    bot.slack.set_user("U1", locale="en-US")
    agenda_flow.tick(bot, agenda_flow.local(2026, 11, 26, 8, 0))
    agenda_flow.tick(bot, agenda_flow.local(2026, 11, 26, 15, 5))
    (prompt,) = [m for m in dms_to(bot, "U1") if "minutes_open" in m]
    assert "has ended. Write the minutes" in prompt and "Thursday 26 November" in prompt


# --- rating rounds: the invitation and the reminder -------------------------------------------


def test_rating_invitations_and_reminders_are_in_each_recipients_language(bot: Bot) -> None:
    rating_flow.make_forum(bot)
    bot.slack.set_user(rating_flow.POLIS, locale="en-US")
    bot.run_due_work()
    (english,) = dms_to(bot, rating_flow.POLIS)
    (swedish,) = dms_to(bot, rating_flow.POLIS2)
    assert "Situation picture before OSF Thursday 26 November" in english
    assert "Situation picture" not in swedish and "torsdag 26 november" in swedish
    bot.slack.reset()
    bot.slack.set_user(rating_flow.POLIS, locale="en-US")  # (a reset forgets it)
    bot.clock.set(rating_flow.DEADLINE - dt.timedelta(minutes=90))
    bot.run_due_work()
    (reminder_en,) = dms_to(bot, rating_flow.POLIS)
    (reminder_sv,) = dms_to(bot, rating_flow.POLIS2)
    assert reminder_en.count("Reminder: situation picture") == 2  # text and block
    assert "Reminder" not in reminder_sv


# --- a language Slack does not name: the forum's, not Swedish ---------------------------------


def test_a_language_slack_does_not_name_falls_back_to_the_forums(bot: Bot) -> None:
    """An English forum, a member whose Slack is German (no catalog): the consent reminder
    is in the forum's English, not in Swedish; a Swedish member still gets Swedish."""
    reference = scheduled_work.forum_with_case(bot, expires_in_days=5)
    with transaction(bot.sessions) as s:
        s.execute(update(Forum).values(language="en"))
    bot.slack.set_user("U2", locale="de-DE")
    bot.slack.set_user("U1", locale="sv-SE")
    bot.run_due_work()
    (german,) = dms_to(bot, "U2")
    (swedish,) = dms_to(bot, "U1")
    assert f"The consent for {reference} is valid up to and including" in german
    assert reference in swedish and "Samtycket" in swedish


# --- the coordinators' agenda preview, sent and updated in place ------------------------------


def test_the_agenda_preview_and_its_update_are_in_each_coordinators_language(bot: Bot) -> None:
    forum_id = agenda_flow.setup_forum(bot)
    with bot.sessions() as s:
        school = s.scalars(
            select(Agency.id).where(Agency.forum_id == forum_id, Agency.name == "Grundskola")
        ).one()
    add_people(bot, forum_id, school, Role.COORDINATOR, ["U5"])
    agenda_flow.raise_a_case(bot)  # by Elevhälsa; Grundskola must attend
    bot.slack.set_user("U1", locale="en-US")
    agenda_flow.tick(bot, agenda_flow.local(2026, 11, 25, 8, 0))
    (english,) = agenda_flow.dms_to(bot, "U1")
    (swedish,) = agenda_flow.dms_to(bot, "U5")
    assert "Preview: agenda for FOSSAM Thursday 26 November" in english.args["text"]
    assert "Förhandsvisning" in swedish.args["text"]
    with bot.sessions() as s:
        case_id = s.scalars(select(Case.id)).one()
    response = bot.driver.view_submission(
        "case_agencies",
        {"agencies": {"value": multi_select_values([])}},  # Elevhälsa alone
        user="U2",
        private_metadata=json.dumps({"locale": "sv", "forum_id": forum_id, "case_id": case_id}),
        blocks=[{"type": "input", "block_id": "agencies"}],
    )
    assert response.json() is None
    bot.wait_idle()
    updates = {u.args["ts"]: u.args["text"] for u in bot.slack.calls_to("chat.update")}
    assert "Preview: agenda for FOSSAM" in updates[english.response["ts"]]
    assert "Förhandsvisning" in updates[swedish.response["ts"]]


# --- the half-year review sent by itself: the documents in each coordinator's language ---------


def test_the_automatic_review_comes_in_each_coordinators_language(
    bot: Bot, action_forum: dict[str, int]
) -> None:
    add_people(bot, action_forum["forum"], action_forum["Grundskola"], Role.COORDINATOR, ["U5"])
    with transaction(bot.sessions) as s:
        s.execute(update(Forum).values(created_at=dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)))
    bot.slack.set_user(actions.ADMIN, locale="en-US")
    bot.clock.set(dt.datetime(2026, 7, 1, 6, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    sheets = []
    for call in bot.slack.calls_to("files.completeUploadExternal"):
        for item in call.args["files"]:
            if str(item.get("title", "")).endswith(".xlsx"):
                book = load_workbook(io.BytesIO(bot.slack.uploads[item["id"]]))
                sheets.append({row[0].value for row in book.worksheets[0].iter_rows()})
    assert len(sheets) == 2
    assert sum("Cases raised" in sheet for sheet in sheets) == 1
    assert sum("Ärenden som lyfts" in sheet for sheet in sheets) == 1


# --- the monthly log check and an agenda Slack refused ----------------------------------------


def test_the_monthly_log_check_is_in_each_reviewers_language(
    bot: Bot, action_forum: dict[str, int]
) -> None:
    add_people(bot, action_forum["forum"], action_forum["Grundskola"], Role.REVIEWER, ["U7", "U8"])
    bot.slack.set_user("U7", locale="en-GB")
    bot.clock.set(dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC))  # Tuesday 1 December
    bot.run_due_work()
    (english,) = dms_to(bot, "U7")
    (swedish,) = dms_to(bot, "U8")
    assert "Monthly log check for FOSSAM, November 2026" in english
    assert "Monthly log check" not in swedish and "november 2026" in swedish


def test_an_agenda_slack_refused_is_told_to_each_coordinator_in_their_language(bot: Bot) -> None:
    forum_id = agenda_flow.setup_forum(bot)
    with bot.sessions() as s:
        school = s.scalars(
            select(Agency.id).where(Agency.forum_id == forum_id, Agency.name == "Grundskola")
        ).one()
    add_people(bot, forum_id, school, Role.COORDINATOR, ["U5"])
    bot.slack.set_user("U1", locale="en-US")
    bot.slack.fail_next("chat.postMessage", status=200, error="not_in_channel")
    agenda_flow.tick(bot, agenda_flow.local(2026, 11, 26, 8, 0))
    agenda_flow.tick(bot, agenda_flow.local(2026, 11, 26, 8, 1))
    (english,) = dms_to(bot, "U1")
    (swedish,) = dms_to(bot, "U5")
    assert "Thursday 26 November 2026 13:00 could not be posted" in english
    assert "torsdag 26 november 2026 13:00" in swedish and "could not" not in swedish


# --- a DM a listener sends on someone else's action, when Slack names no language we have -----


def test_a_case_dm_falls_back_to_the_forums_language_not_swedish(
    bot: Bot, survey_forum: dict[str, int]
) -> None:
    """An English forum: a member whose Slack is German is told of the new case in the
    forum's English; one whose Slack is Swedish in Swedish."""
    with transaction(bot.sessions) as s:
        s.execute(update(Forum).values(language="en"))
    bot.slack.set_user(case_flow.ELEVHALSA, locale="de-DE")
    bot.slack.set_user(case_flow.SOCIAL, locale="sv-SE")
    response = case_flow.submit_case(bot, survey_forum)
    assert response.json() is None, response.body
    eventually(lambda: dms_to(bot, case_flow.ELEVHALSA) and dms_to(bot, case_flow.SOCIAL))
    (german,) = dms_to(bot, case_flow.ELEVHALSA)
    (swedish,) = dms_to(bot, case_flow.SOCIAL)
    assert "your agency needs to take part" in german
    assert "your agency needs to take part" not in swedish and "FOS-2026-001" in swedish


def test_a_stand_ins_dm_falls_back_to_the_forums_language_not_swedish(bot: Bot) -> None:
    """An English forum: a member names a stand-in whose Slack is German (no catalog); the
    stand-in is told in the forum's English, not in Swedish."""
    rating_flow.make_forum(bot)
    with transaction(bot.sessions) as s:
        s.execute(update(Forum).values(language="en"))
    bot.slack.set_user(rating_flow.POLIS2, locale="de-DE")
    rating_flow.command_reply(bot, f"borta 2026-12-31 <@{rating_flow.POLIS2}>", rating_flow.POLIS)
    (told,) = eventually(lambda: dms_to(bot, rating_flow.POLIS2))
    assert "has named you as stand-in for Polis" in told, told
    assert "Thursday 31 December 2026" in told, told
