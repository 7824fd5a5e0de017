"""The slots modal ("Tidsluckor"), page by page: each page fits Slack's 100 blocks, says
which of the meeting's cases it shows, offers every place of the whole agenda, and while
more follow submits as "Spara och visa nästa"."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from domain import slots as slot_service
from domain.agenda import Agenda
from domain.i18n import Translator
from domain.pages import PAGE_CASES
from handlers.blocks.minutes import slots_modal
from sandbox.webapi import validate_view
from storage.models import MeetingStatus
from tests.support.blockkit import all_text

STARTS = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def agenda_of(total: int) -> Agenda:
    slots = tuple(
        slot_service.Slot(
            item_id=100 + n,
            case_id=n,
            reference=f"FOS-2026-{n:03d}",
            starts_at=STARTS + dt.timedelta(minutes=5 * (n - 1)),
            ends_at=STARTS + dt.timedelta(minutes=5 * n),
            minutes=5,
            agency_ids=(1, 2),
            agencies=("Grundskola", "Elevhälsa"),
            place=n,
        )
        for n in range(1, total + 1)
    )
    return Agenda(
        team_id="T1",
        channel_id="C1",
        forum_id=1,
        forum_name="FOSSAM Gråbo",
        locale="sv",
        timezone="Europe/Stockholm",
        meeting_id=7,
        starts_at=STARTS,
        ends_at=STARTS + dt.timedelta(hours=2),
        status=MeetingStatus.PLANNED,
        lines=(),
        slots=slots,
        meeting_link="https://meet.example.se/fossam",
    )


def view_of(t: Translator, agenda: Agenda, page: int, saved: str | None = None) -> Any:
    form = slot_service.slots_page(agenda.slots, page=page)
    return slots_modal(
        t,
        agenda,
        page=form,
        default=5,
        private_metadata=json.dumps({"locale": t.locale, "meeting_id": 7, "page": page}),
        saved=saved,
    )


def places(view: Any) -> dict[int, list[str]]:
    """Per agenda item on the page, the places its select offers."""
    found = {}
    for block in view["blocks"]:
        if str(block.get("block_id", "")).startswith("place:"):
            element = block["element"]
            options = element.get("options") or [
                o for group in element["option_groups"] for o in group["options"]
            ]
            found[int(block["block_id"].split(":")[1])] = [o["value"] for o in options]
    return found


@pytest.mark.parametrize("total", [13, 20, 25, 130])
def test_every_page_fits_a_modal_offers_every_place_and_together_they_show_every_case(
    total: int,
) -> None:
    t = Translator("sv")
    agenda = agenda_of(total)
    pages = -(-total // PAGE_CASES)
    seen: list[int] = []
    for page in range(1, pages + 1):
        view = view_of(t, agenda, page, saved="Sparat.")
        assert len(view["blocks"]) <= 100
        assert validate_view(view) == []
        offered = places(view)
        assert all(o == [str(n) for n in range(1, total + 1)] for o in offered.values())
        seen += offered
        first, last = (page - 1) * PAGE_CASES + 1, min(page * PAGE_CASES, total)
        assert f"Ärende {first}–{last} av {total}" in all_text(view)
        assert view["submit"]["text"] == ("Spara och visa nästa" if page < pages else "Spara")
        # Every page keeps the link and the default length, as stored.
        assert "https://meet.example.se/fossam" in json.dumps(view["blocks"])
    assert seen == [100 + n for n in range(1, total + 1)]


def test_a_single_page_has_no_range_and_english_reads_english() -> None:
    view = view_of(Translator("sv"), agenda_of(12), 1)
    assert "Ärende 1–" not in all_text(view) and view["submit"]["text"] == "Spara"
    assert len(places(view)) == 12
    english = view_of(Translator("en"), agenda_of(20), 2, saved="Saved.")
    assert "Cases 13–20 of 20" in all_text(english) and english["submit"]["text"] == "Save"
    assert "Saved." in all_text(english)
