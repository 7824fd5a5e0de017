"""Feedback after a case through the real app: the survey DM to every agency that took part
when a case is closed, answered once per agency, reminded once; the family's view recorded
by the raising agency; results per period for the forum's members."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from domain import forums as fs
from storage.db import transaction
from storage.models import (
    Case,
    CaseStatus,
    FamilyView,
    FeedbackSurvey,
    Role,
    ScheduledEffect,
    SipStatus,
)
from tests.conftest import Bot
from tests.integration.test_case_flow import (
    ADMIN,
    ELEVHALSA,
    SOCIAL,
    meta,
    submit_case,
)
from tests.support.forums import forum_draft
from tests.support.personnummer import pnr
from tests.support.slack_driver import checkbox_values, plain_value, radio_value
from tests.support.statements import statements
from tests.support.wait import eventually


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    """FOSSAM: admin (Grundskola), members of Elevhälsa and Socialtjänst/IFO."""
    draft = forum_draft(agencies=["Grundskola", "Elevhälsa", "Socialtjänst/IFO", "Polis"])
    with transaction(bot.sessions) as s:
        created = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id="C0001", actor=ADMIN, draft=draft
        )
        agencies = {a.name: a.id for a in created.agencies}
        for user, agency in ((ELEVHALSA, "Elevhälsa"), (SOCIAL, "Socialtjänst/IFO")):
            fs.add_members(
                s,
                bot.clock,
                forum=created,
                actor=ADMIN,
                slack_user_ids=[user],
                agency_id=agencies[agency],
                role=Role.MEMBER,
            )
        return {"forum": created.id, **agencies}


def close_case(bot: Bot, forum: dict[str, int]) -> int:
    submit_case(bot, forum)
    with bot.sessions() as session:
        case_id = session.scalars(select(Case.id).where(Case.forum_id == forum["forum"])).one()
    response = bot.driver.view_submission(
        "case_close",
        {
            "outcome": {"value": plain_value("Stöd via elevhälsan")},
            "effect": {"value": radio_value("yes")},
            "sip_started": {"value": checkbox_values([])},
        },
        user=ADMIN,
        private_metadata=meta(forum, case_id=case_id),
        view={"previous_view_id": "V0001"},
    )
    assert response.status == 200
    return case_id


def dms_to(bot: Bot, user: str, needle: str) -> list[Any]:
    return [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == user and needle in json.dumps(c.args, ensure_ascii=False)
    ]


def surveys(bot: Bot) -> dict[int, FeedbackSurvey]:
    with bot.sessions() as session:
        return {s.agency_id: s for s in session.scalars(select(FeedbackSurvey))}


def survey_values(helped: str = "4", right: str = "5", worth: str = "3", comment: str = "") -> Any:
    return {
        "helped": {"value": radio_value(helped)},
        "right_agencies": {"value": radio_value(right)},
        "worth_raising": {"value": radio_value(worth)},
        "comment": {"value": plain_value(comment)},
    }


def answer(bot: Bot, survey_id: int, user: str, **kw: Any) -> Any:
    values = survey_values(**kw)
    return bot.driver.view_submission(
        "feedback_survey",
        values,
        user=user,
        private_metadata=json.dumps({"locale": "sv", "survey_id": survey_id}),
        blocks=[{"type": "input", "block_id": b} for b in values],
    ).json()


def test_closing_a_case_sends_one_survey_per_agency_answered_once(
    bot: Bot, forum: dict[str, int]
) -> None:
    case_id = close_case(bot, forum)
    # Grundskola raised it; Elevhälsa and Socialtjänst took part: one survey each.
    for user in (ADMIN, ELEVHALSA, SOCIAL):
        eventually(lambda u=user: dms_to(bot, u, "Tre korta frågor"))  # type: ignore[misc]
    rows = surveys(bot)
    assert set(rows) == {forum["Grundskola"], forum["Elevhälsa"], forum["Socialtjänst/IFO"]}
    (invite,) = dms_to(bot, ELEVHALSA, "Tre korta frågor")
    text = json.dumps(invite.args, ensure_ascii=False)
    assert "FOS-2026-001" in text and "Hemlig" not in text  # the reference, never the summary
    assert "Familjens syn" not in text  # only the raising agency records the family's view
    assert "Familjens syn" in json.dumps(
        dms_to(bot, ADMIN, "Tre korta")[0].args, ensure_ascii=False
    )

    elevhalsa = rows[forum["Elevhälsa"]].id
    # The button opens the modal with the three questions.
    bot.driver.block_action(
        "feedback_survey_open", user=ELEVHALSA, value=str(elevhalsa), channel=f"D{ELEVHALSA}"
    )
    opened = bot.slack.wait_for("views.open")[-1].args["view"]
    assert opened["callback_id"] == "feedback_survey"
    assert "Var det rätt verksamheter" in json.dumps(opened, ensure_ascii=False)

    # Identifying data in the comment: refused on the field, nothing stored.
    refused = answer(bot, elevhalsa, ELEVHALSA, comment=f"Elev {pnr('120315', '123')}")
    assert refused["response_action"] == "errors" and "comment" in refused["errors"]
    assert surveys(bot)[forum["Elevhälsa"]].answered_at is None
    # A member of another agency cannot answer Elevhälsa's survey.
    other = answer(bot, elevhalsa, SOCIAL)
    assert "Elevhälsa" in json.dumps(other, ensure_ascii=False)
    assert surveys(bot)[forum["Elevhälsa"]].answered_at is None

    done = answer(bot, elevhalsa, ELEVHALSA, comment="Bra samordning mellan skola och soc")
    assert "Tack" in json.dumps(done, ensure_ascii=False)
    stored = surveys(bot)[forum["Elevhälsa"]]
    assert (stored.helped, stored.right_agencies, stored.worth_raising) == (4, 5, 3)
    # Answered twice: a clear message, the first answer stands.
    again = answer(bot, elevhalsa, ELEVHALSA, helped="1", right="1", worth="1")
    assert "redan svarat" in json.dumps(again, ensure_ascii=False)
    assert surveys(bot)[forum["Elevhälsa"]].helped == 4

    # Five days later (a working day, 09:00) the agencies that have not answered are reminded
    # once; Elevhälsa is not.
    bot.clock.set(dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC))
    bot.run_due_work()
    bot.run_due_work()
    assert len(dms_to(bot, SOCIAL, "Påminnelse")) == 1
    assert dms_to(bot, ELEVHALSA, "Påminnelse") == []
    bot.clock.set(dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC))
    bot.run_due_work()
    assert len(dms_to(bot, SOCIAL, "Påminnelse")) == 1
    assert case_id


def test_the_family_view_is_recorded_once_by_the_raising_agency(
    bot: Bot, forum: dict[str, int]
) -> None:
    case_id = close_case(bot, forum)
    bot.driver.block_action(
        "feedback_family_open", user=ELEVHALSA, value=str(case_id), channel=f"D{ELEVHALSA}"
    )
    refused = bot.slack.wait_for("views.open")[-1].args["view"]
    assert "Bara verksamheten som lyfte" in json.dumps(refused, ensure_ascii=False)

    def submit(comment: str) -> Any:
        values = {
            "heard": {"value": radio_value("yes")},
            "helped": {"value": radio_value("partly")},
            "comment": {"value": plain_value(comment)},
        }
        return bot.driver.view_submission(
            "feedback_family",
            values,
            user=ADMIN,
            private_metadata=json.dumps({"locale": "sv", "case_id": case_id}),
            blocks=[{"type": "input", "block_id": b} for b in values],
        ).json()

    assert submit(f"Ring {pnr('120315', '123')}")["response_action"] == "errors"
    assert "Tack" in json.dumps(submit("Kände sig lyssnade på"), ensure_ascii=False)
    again = submit("En gång till")
    assert "redan" in json.dumps(again, ensure_ascii=False)
    with bot.sessions() as session:
        (view,) = session.scalars(select(FamilyView)).all()
        assert (view.heard, view.helped, view.comment) == ("yes", "partly", "Kände sig lyssnade på")


def test_results_per_period_for_members_and_comments_for_coordinators(
    bot: Bot, forum: dict[str, int]
) -> None:
    close_case(bot, forum)
    eventually(lambda: dms_to(bot, SOCIAL, "Tre korta frågor"))
    rows = surveys(bot)
    answer(bot, rows[forum["Elevhälsa"]].id, ELEVHALSA, comment="Tydlig ansvarsfördelning")
    bot.driver.command("återkoppling 2026", user=SOCIAL)
    reply = json.dumps(bot.slack.wait_for("response_url")[-1].args, ensure_ascii=False)
    assert "1 av 3 enkäter besvarade" in reply
    assert "Visa kommentarer" not in reply  # members see figures, not comments
    assert "Tydlig" not in reply
    bot.driver.command("återkoppling 2026", user=ADMIN)
    mine = bot.slack.wait_for("response_url", count=2)[-1].args
    assert "Visa kommentarer" in json.dumps(mine, ensure_ascii=False)
    bot.driver.block_action("feedback_comments", user=ADMIN, value="2026-01-01 2026-12-31")
    comments = json.dumps(bot.slack.wait_for("response_url", count=3)[-1].args, ensure_ascii=False)
    assert "Tydlig ansvarsfördelning" in comments and "FOS-" not in comments
    bot.driver.command("återkoppling förra", user=ADMIN)
    bad = json.dumps(bot.slack.wait_for("response_url", count=4)[-1].args, ensure_ascii=False)
    assert "2026-01-01" in bad  # a clear example of a period


def test_a_reopened_case_sends_no_reminder_until_it_is_closed_again(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Closed, then reopened (follow-up) before the reminder: while the case is open again no
    survey nor reminder goes out (the case is not finished). Closed again, what is left
    follows the new close as it followed the first: the reminder five days after it, once;
    an agency never gets the survey itself twice."""
    case_id = close_case(bot, forum)
    eventually(lambda: dms_to(bot, SOCIAL, "Tre korta frågor"))
    view = {"id": "V0001", "private_metadata": meta(forum, case_id=case_id)}
    bot.driver.block_action(
        "case_status_follow_up", user=ADMIN, value=f"{case_id}:follow_up", view=view
    )
    bot.wait_idle()
    with bot.sessions() as session:
        assert session.get(Case, case_id).status.value == "follow_up"  # type: ignore[union-attr]
    bot.clock.set(dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC))
    bot.run_due_work()
    bot.run_due_work()
    assert dms_to(bot, SOCIAL, "Påminnelse") == []
    # Closed again on 1 December: no new survey DM; the reminder on Monday the 7th (5 days
    # on is a Sunday: the first working day after, 09:00), once.
    bot.clock.set(dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC))
    close_again = bot.driver.view_submission(
        "case_close",
        {
            "outcome": {"value": plain_value("Stöd via elevhälsan")},
            "effect": {"value": radio_value("yes")},
            "sip_started": {"value": checkbox_values([])},
        },
        user=ADMIN,
        private_metadata=meta(forum, case_id=case_id),
        view={"previous_view_id": "V0001"},
    )
    assert close_again.status == 200 and close_again.json() is None
    bot.wait_idle()
    bot.run_due_work()
    assert len(dms_to(bot, SOCIAL, "Tre korta frågor")) == 1
    assert dms_to(bot, SOCIAL, "Påminnelse") == []
    bot.clock.set(dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC))
    bot.run_due_work()
    assert dms_to(bot, SOCIAL, "Påminnelse") == []
    bot.clock.set(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC))
    bot.run_due_work()
    bot.run_due_work()
    assert len(dms_to(bot, SOCIAL, "Påminnelse")) == 1


def test_a_survey_of_a_reopened_case_is_answered_after_the_next_close(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The survey asks about a finished case. Reopened after its DM went out, the survey
    waits: its button and a modal opened before the reopening both say so in the user's
    language, and nothing is stored (before, the answer was stored while the case was open
    again, about a collaboration that had not ended). Closed again, the same button works."""
    case_id = close_case(bot, forum)
    eventually(lambda: dms_to(bot, SOCIAL, "Tre korta frågor"))
    social = surveys(bot)[forum["Socialtjänst/IFO"]].id
    view = {"id": "V0001", "private_metadata": meta(forum, case_id=case_id)}
    bot.driver.block_action(
        "case_status_follow_up", user=ADMIN, value=f"{case_id}:follow_up", view=view
    )
    bot.wait_idle()

    # The modal was opened before the reopening, in English: submitted now, it is refused.
    refused = bot.driver.view_submission(
        "feedback_survey",
        survey_values(),
        user=SOCIAL,
        private_metadata=json.dumps({"locale": "en", "survey_id": social}),
        blocks=[{"type": "input", "block_id": b} for b in survey_values()],
    ).json()
    told = json.dumps(refused, ensure_ascii=False)
    assert refused["response_action"] == "update"
    assert "FOS-2026-001 has been reopened" in told and "Thank you" not in told
    assert surveys(bot)[forum["Socialtjänst/IFO"]].answered_at is None

    # A crafted id tells nobody outside the agency that the case was reopened: a member of
    # another agency is told whose survey it is, someone outside the forum (or workspace)
    # that there is no such survey.
    for outsider, expected in ((ELEVHALSA, "Socialtjänst/IFO"), ("U9", "finns inte längre")):
        crafted = json.dumps(answer(bot, social, outsider), ensure_ascii=False)
        assert expected in crafted and "öppnats igen" not in crafted
    assert surveys(bot)[forum["Socialtjänst/IFO"]].answered_at is None

    # The DM's button says the same, in Swedish, and opens no survey.
    before = bot.slack.count("views.open")
    bot.driver.block_action(
        "feedback_survey_open", user=SOCIAL, value=str(social), channel=f"D{SOCIAL}"
    )
    notice = bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"]
    assert notice.get("callback_id") != "feedback_survey"
    assert "FOS-2026-001 har öppnats igen" in json.dumps(notice, ensure_ascii=False)

    # Closed again: the same survey is answered with the same button.
    bot.driver.view_submission(
        "case_close",
        {
            "outcome": {"value": plain_value("Stöd via elevhälsan")},
            "effect": {"value": radio_value("yes")},
            "sip_started": {"value": checkbox_values([])},
        },
        user=ADMIN,
        private_metadata=meta(forum, case_id=case_id),
        view={"previous_view_id": "V0001"},
    )
    bot.wait_idle()
    done = answer(bot, social, SOCIAL)
    assert "Tack" in json.dumps(done, ensure_ascii=False)
    assert surveys(bot)[forum["Socialtjänst/IFO"]].helped == 4
    bot.slack.assert_no_violations()


OTHER_WORKSPACE_USERS = ("U81", "U82", "U83")


def due_in_another_workspace(bot: Bot) -> list[int]:
    """A forum of another workspace with a closed case whose three agencies' surveys are
    due now (the scheduler has not sent them yet): their ids."""
    draft = forum_draft(
        name="Annan kommun", code="ANN", agencies=["Grundskola", "Elevhälsa", "Polis"]
    )
    with transaction(bot.sessions) as s:
        other = fs.create_forum(
            s, bot.clock, team_id="T0002", channel_id="C0OTHER", actor="U80", draft=draft
        )
        agencies = [a.id for a in other.agencies]
        for user, agency in zip(OTHER_WORKSPACE_USERS, agencies, strict=True):
            fs.add_members(
                s,
                bot.clock,
                forum=other,
                actor="U80",
                slack_user_ids=[user],
                agency_id=agency,
                role=Role.MEMBER,
            )
        now = bot.clock.now()
        case = Case(
            forum_id=other.id,
            reference="ANN-2026-001",
            year=2026,
            sequence=1,
            raised_by="U81",
            raising_agency_id=agencies[0],
            summary="Sammanfattning som aldrig syns",
            concerns=["school_absence"],
            age_band="13-15",
            status=CaseStatus.CLOSED,
            sip=SipStatus.NOT_RELEVANT,
            closed_at=now,
            created_at=now,
            updated_at=now,
        )
        s.add(case)
        s.flush()
        rows = [
            FeedbackSurvey(forum_id=other.id, case_id=case.id, agency_id=agency, due_at=now)
            for agency in agencies
        ]
        s.add_all(rows)
        s.flush()
        return [row.id for row in rows]


def representatives_read(sent: list[str]) -> int:
    """How many times a survey's recipients (an agency's members in a forum) were read."""
    return sum(
        1
        for sql in sent
        if sql.startswith("SELECT members.")
        and "FROM members WHERE" in sql
        and "members.agency_id" in sql
        and "members.role !=" in sql
    )


def test_a_close_sends_its_own_surveys_and_leaves_other_workspaces_to_the_scheduler(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Closing a case sends that case's surveys at once, after the ack; another workspace's
    surveys due at the same moment are not the close's to send (before, the close read and
    sent up to 500 due surveys of every workspace, one read of recipients per survey, so
    its cost grew with every other forum's backlog): the scheduler sends them, once."""
    others = due_in_another_workspace(bot)
    with statements(bot.sessions) as sent:
        close_case(bot, forum)
        for user in (ADMIN, ELEVHALSA, SOCIAL):
            eventually(lambda u=user: dms_to(bot, u, "Tre korta frågor"))  # type: ignore[misc]
        bot.wait_idle()
    # The recipients of the case's three surveys, read once to learn their languages and
    # once to queue the DMs (one read for the three): none of the other workspace's.
    assert representatives_read(sent) == 2
    for user in OTHER_WORKSPACE_USERS:
        assert dms_to(bot, user, "Tre korta frågor") == []
    with bot.sessions() as session:
        claimed = session.scalars(
            select(ScheduledEffect.subject).where(ScheduledEffect.kind == "feedback_survey")
        ).all()
        assert not set(claimed) & {str(i) for i in others}
        assert all(
            s.sent_at is None
            for s in session.scalars(select(FeedbackSurvey).where(FeedbackSurvey.id.in_(others)))
        )
    bot.run_due_work()
    for user in OTHER_WORKSPACE_USERS:
        assert len(dms_to(bot, user, "Tre korta frågor")) == 1, user
    for user in (ADMIN, ELEVHALSA, SOCIAL):
        assert len(dms_to(bot, user, "Tre korta frågor")) == 1, user


def test_a_pass_reads_the_recipients_of_all_its_due_surveys_at_once(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The scheduler's pass sends up to 500 due surveys: their recipients are read in one
    statement for the batch (before, one read per survey, so the pass's cost grew with
    every forum's backlog), and each survey still goes to its own agency's members."""
    others = due_in_another_workspace(bot)
    bot.settle()  # what the requests started is not counted as the pass's
    with statements(bot.sessions) as sent:
        bot.run_due_work()
        bot.wait_idle()
    assert len(others) == 3
    # Once for the three surveys, not once per survey.
    assert representatives_read(sent) == 1
    for user in OTHER_WORKSPACE_USERS:
        assert len(dms_to(bot, user, "Tre korta frågor")) == 1, user
    for user in (ADMIN, ELEVHALSA, SOCIAL):
        assert dms_to(bot, user, "Tre korta frågor") == []
