"""Attacks on the paged minutes and time slots modals, through the real app.

The world is test_minutes_flow's (FOSSAM, Thursdays 13–15, U1 coordinates, U2 raises the
cases); the meetings and pages test_minutes_pages' and test_slots_pages'.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from domain import forums as fs
from domain import meetings as meeting_service
from domain import scheduling
from domain import slots as slot_service
from sandbox.webapi import validate_view
from storage.db import transaction
from storage.models import Agency, Case, CaseStatus, Forum, Member, MinuteEntry
from tests.conftest import Bot, postgresql_only
from tests.integration import test_forum_flow as ff
from tests.integration import test_minutes_flow as minutes
from tests.integration import test_minutes_pages as mpages
from tests.support.agenda_flow import channel_posts, local, text_of
from tests.support.forums import forum_draft, settings_saved
from tests.support.minutes_world import meeting_with_cases
from tests.support.slack_driver import (
    StateValues,
    date_value,
    plain_value,
    state_values,
    users_value,
)
from tests.support.wait import eventually

OUTAGE = "Databasen"
FAILED = "Något gick fel"


def _minutes_values(cases: dict[int, dict[str, str | None]]) -> StateValues:
    values: dict[tuple[str, str], dict[str, Any]] = {}
    for case, typed in cases.items():
        values[(f"decision:{case}", "value")] = plain_value(typed.get("decision"))
        values[(f"action:{case}", "value")] = plain_value(typed.get("action"))
        values[(f"owner:{case}", "value")] = users_value(typed.get("owner"))
        values[(f"due:{case}", "value")] = date_value(typed.get("due"))
        values[(f"follow_up:{case}", "value")] = date_value(typed.get("follow_up"))
    return state_values(values)


def test_a_closed_case_injected_into_the_minutes_is_not_reopened_nor_named(bot: Bot) -> None:
    """A case of the meeting closed (its outcome recorded) is not on the minutes form; a
    submission naming it in crafted block ids (or a form opened before it was closed) does
    not put it back on an agenda as a follow-up, with its closing undone and no trace."""
    meeting, _references = meeting_with_cases(bot, 3, until="ended")
    first = minutes.minutes_modal(bot, meeting)
    shown = mpages.page_cases(first)
    with transaction(bot.sessions) as s:
        closed = s.get(Case, shown[0])
        assert closed is not None
        closed.status = CaseStatus.CLOSED
        closed.outcome = "Avslutat efter samtal"
        closed_reference = closed.reference
    answer = bot.driver.view_submission(
        "minutes_save",
        _minutes_values(
            {
                shown[0]: {"decision": "Tas upp igen", "follow_up": "2026-12-03"},
                shown[1]: {"decision": mpages.decision_for(shown[1])},
            }
        ),
        user="U1",
        private_metadata=first["private_metadata"],
        blocks=first["blocks"],
    )
    shown_text = json.dumps(answer.json(), ensure_ascii=False)
    assert OUTAGE not in shown_text and FAILED not in shown_text, shown_text
    assert answer.json()["response_action"] == "errors", shown_text
    assert "stängt" in answer.json()["errors"][f"follow_up:{shown[0]}"], shown_text
    with bot.sessions() as s:
        case = s.get(Case, shown[0])
        assert case is not None
        assert (case.status, case.outcome) == (CaseStatus.CLOSED, "Avslutat efter samtal")
        assert s.scalars(select(MinuteEntry)).all() == []  # nothing of the page kept
    notices = [c for c in channel_posts(bot) if "Protokoll" in text_of(c)]
    assert not any(closed_reference in text_of(n) for n in notices)


def test_a_blank_or_padded_agency_crafted_into_the_forum_settings_is_no_agency(bot: Bot) -> None:
    """The agencies' options are the client's to craft: a blank value, or a known name in
    other case with spaces around it, saved in the forum settings made an agency named ''
    (every member's case modal then failed: Slack refuses an option without text) and a
    second 'Grundskola' beside the first."""
    ff.create_forum(bot)
    bot.driver.command("forum", user="U1")
    view = bot.slack.wait_for("views.open")[0].args["view"]
    values = ff.forum_values(
        own=None, agencies=("Grundskola", "Elevhälsa", "Socialtjänst/IFO", "", " GRUNDSKOLA ")
    )
    response = bot.driver.view_submission(
        "forum_edit",
        values,
        user="U1",
        private_metadata=view["private_metadata"],
        blocks=ff.blocks_of(values),
    )
    assert settings_saved(response), response.body
    with bot.sessions() as s:
        names = sorted(a.name for a in s.scalars(select(Agency)))
    assert names == ["Elevhälsa", "Grundskola", "Socialtjänst/IFO"], names
    bot.driver.command("ärende", user="U1")
    case_modal = bot.slack.wait_for("views.open", 2)[-1].args["view"]
    assert validate_view(case_modal) == []
    bot.slack.assert_no_violations()


def test_a_blank_agency_crafted_into_a_new_forum_is_no_agency(bot: Bot) -> None:
    values = ff.forum_values(agencies=("Grundskola", "", " grundskola", "Polis"), own=" Polis ")
    response = bot.driver.view_submission(
        "forum_create", values, user="U1", private_metadata=ff.meta(), blocks=ff.blocks_of(values)
    )
    assert response.json() is None, response.body
    with bot.sessions() as s:
        names = sorted(a.name for a in s.scalars(select(Agency)))
        admin = s.scalars(select(Member)).one()
        assert admin.agency.name == "Polis"
    assert names == ["Grundskola", "Polis"], names


def test_the_minutes_notice_is_not_posted_again_once_the_outbox_forgot_it(bot: Bot) -> None:
    """'Once a meeting' rested on the outbox's dedupe key, which goes with the row after
    OUTBOX_KEEP (90 days): minutes corrected (or a crafted close) months later posted the
    channel's notice a second time."""
    meeting, _references = meeting_with_cases(bot, 3, until="ended")
    first = minutes.minutes_modal(bot, meeting)
    cases = mpages.page_cases(first)
    assert mpages.submit_page(bot, first, {c: mpages.decision_for(c) for c in cases}).json() is None
    eventually(lambda: [c for c in channel_posts(bot) if "Protokoll" in text_of(c)])
    bot.clock.set(local(2027, 3, 10, 10, 0))  # past OUTBOX_KEEP
    with transaction(bot.sessions) as s:
        assert scheduling.prune_outbox(s, bot.clock) > 0
    again = minutes.minutes_modal(bot, meeting)
    corrected = {c: mpages.decision_for(c) + " (rättat)" for c in cases}
    assert mpages.submit_page(bot, again, corrected).json() is None
    bot.driver.view_closed("minutes_save", user="U1", private_metadata=first["private_metadata"])
    bot.wait_idle()
    assert set(mpages.recorded(bot).values()) == set(corrected.values())  # the save is kept
    assert len([c for c in channel_posts(bot) if "Protokoll" in text_of(c)]) == 1


@postgresql_only  # SQLite's writers queue whole: no save commits between read and write
def test_a_slots_page_saved_across_a_settings_save_keeps_its_calendar(bot: Bot) -> None:
    """The slots save writes the forum's settings (its link and default length) from the
    forum it read when the page arrived; a settings save committed meanwhile (its holiday
    rule and agenda time, in the same JSON) was overwritten with what was read before it.
    PostgreSQL (SQLite's writers queue whole)."""
    meeting, _references = meeting_with_cases(bot, 2, until="preview")
    with transaction(bot.sessions) as slots_save:
        access, found = meeting_service.meeting_access(
            slots_save, team_id="T0001", user_id="U1", meeting_id=meeting
        )
        with transaction(bot.sessions) as settings_save:
            forum = settings_save.get(Forum, access.forum.id)
            assert forum is not None
            fs.save_forum_settings(
                settings_save,
                bot.clock,
                forum_id=forum.id,
                team_id="T0001",
                actor="U1",
                draft=forum_draft(
                    agencies=["Grundskola", "Elevhälsa", "Polis"],
                    holiday_policy="earlier",
                    agenda_time=dt.time(7, 30),
                ),
            )
        slot_service.save_slots(
            slots_save,
            bot.clock,
            access=access,
            meeting_id=found.id,
            drafts=[],
            link=minutes.LINK,
            default=10,
        )
    with bot.sessions() as s:
        settings = (s.get(Forum, access.forum.id) or Forum()).settings or {}
    assert (settings.get("holiday_policy"), settings.get("agenda_time")) == ("earlier", "07:30")
    assert (settings.get("meeting_link"), settings.get("slot_minutes")) == (minutes.LINK, 10)
