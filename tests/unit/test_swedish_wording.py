"""Swedish wording found in a walk through the sandbox: one verb for raising a case, and
grammatical Swedish in the channel's minutes notice."""

from __future__ import annotations

import datetime as dt

from domain.agenda import Agenda, AgendaLine
from domain.i18n import Translator
from handlers.blocks.agenda import agenda_messages
from storage.models import AgendaItemKind, MeetingStatus

SV = Translator("sv")


def test_the_agenda_says_a_case_was_lifted_as_the_case_view_and_the_announcement_do() -> None:
    agenda = Agenda(
        team_id="T1",
        channel_id="C1",
        forum_id=1,
        forum_name="FOSSAM",
        locale="sv",
        timezone="Europe/Stockholm",
        meeting_id=1,
        starts_at=dt.datetime(2026, 12, 10, 12, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 12, 10, 14, tzinfo=dt.UTC),
        status=MeetingStatus.PLANNED,
        lines=(
            AgendaLine(
                item_id=1,
                kind=AgendaItemKind.NEW_CASE,
                position=0,
                agencies=("Grundskola", "Elevhälsa"),
                reference="FOS-2026-001",
                raising_agency="Grundskola",
            ),
        ),
    )
    (message,) = agenda_messages(SV, agenda)
    text = str(message["blocks"])
    # The case view says "Lyft av", the channel's announcement "Nytt ärende … Lyft av".
    assert "lyft av Grundskola" in text
    assert "väckt" not in text
    assert SV("Raising agency") == "Lyft av"


def test_the_minutes_notice_says_what_was_agreed_in_grammatical_swedish() -> None:
    # The same call as domain.minutes.record._queue_notice.
    for n in (1, 2):
        text = SV.ngettext(
            ":memo: Minutes of the meeting {when} are recorded for {n} case: {references}. "
            "The agencies concerned see what was agreed in the app's Home tab, under Before the "
            "meeting.",
            ":memo: Minutes of the meeting {when} are recorded for {n} cases: {references}. "
            "The agencies concerned see what was agreed in the app's Home tab, under Before the "
            "meeting.",
            n,
            when="torsdag 10 december 2026 13:00",
            references="FOS-2026-001",
        )
        assert "ser vad man kom överens om i appens Hem-flik" in text
        assert "vad som kom överens" not in text
