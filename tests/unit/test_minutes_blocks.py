"""The minutes modal, page by page: each page fits Slack's 100 blocks, says which of the
meeting's cases it shows and, while more follow, submits as "Save and show next"."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest

from domain.i18n import Translator
from domain.minutes import PAGE_CASES, MinuteCase, MinutesPage
from handlers.blocks.minutes import minutes_modal
from sandbox.webapi import validate_view
from storage.models import Meeting
from tests.support.blockkit import all_text

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
STARTS = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
LONGEST = "x" * 1000


def page_of(page: int, total: int) -> MinutesPage:
    first = (page - 1) * PAGE_CASES
    cases = [
        MinuteCase(
            case_id=n,
            reference=f"FOS-2026-{n:03d}",
            slot=None,
            decision=LONGEST,
            follow_up_on=dt.date(2026, 12, 3),
        )
        for n in range(first + 1, min(first + PAGE_CASES, total) + 1)
    ]
    meeting = Meeting(id=7, forum_id=1, starts_at=STARTS)
    return MinutesPage(meeting=meeting, cases=cases, page=page, start=first, total=total)


def modal_for(t: Translator, page: MinutesPage, saved: str | None = None) -> dict[str, object]:
    return minutes_modal(
        t,
        forum_name="FOSSAM Gråbo",
        starts_at=STARTS,
        zone=STOCKHOLM,
        page=page,
        private_metadata=json.dumps({"locale": t.locale, "meeting_id": 7, "page": page.page}),
        saved=saved,
    )


def decision_ids(view: dict[str, object]) -> list[str]:
    blocks = view["blocks"]
    assert isinstance(blocks, list)
    return [b["block_id"] for b in blocks if b.get("block_id", "").startswith("decision:")]


@pytest.mark.parametrize("total", [13, 20, 25])
def test_every_page_fits_a_modal_and_together_they_show_every_case(total: int) -> None:
    t = Translator("sv")
    pages = -(-total // PAGE_CASES)
    seen: list[str] = []
    for page in range(1, pages + 1):
        view = modal_for(t, page_of(page, total), saved="Protokollet sparat för 12 ärenden.")
        blocks = view["blocks"]
        assert isinstance(blocks, list) and len(blocks) <= 100
        assert validate_view(view) == []
        seen += decision_ids(view)
        first, last = (page - 1) * PAGE_CASES + 1, min(page * PAGE_CASES, total)
        assert f"Ärende {first}–{last} av {total}" in all_text(view)
        submit = view["submit"]
        assert isinstance(submit, dict)
        assert submit["text"] == ("Spara och visa nästa" if page < pages else "Spara")
        # Closed on a later page (the pages before saved), the app hears of it.
        assert view.get("notify_on_close", False) is (page > 1)
    assert seen == [f"decision:{n}" for n in range(1, total + 1)]


def test_the_pages_in_english_and_a_single_page_without_a_range() -> None:
    t = Translator("en")
    view = modal_for(t, page_of(1, 20))
    assert "Cases 1–12 of 20" in all_text(view)
    assert view["submit"] == {"type": "plain_text", "text": "Save and show next", "emoji": True}
    last = modal_for(t, page_of(2, 20), saved="Minutes saved for 12 cases.")
    assert "Cases 13–20 of 20" in all_text(last) and "Minutes saved for 12 cases." in all_text(last)
    single = modal_for(Translator("sv"), page_of(1, 5))
    assert "Ärende 1–5 av 5" not in all_text(single)  # no range on a single page
    assert single["submit"] == {"type": "plain_text", "text": "Spara", "emoji": True}
    assert len(decision_ids(single)) == 5
