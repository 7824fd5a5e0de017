"""Cases' Block Kit in unit tests: the views' fixtures (a case, a row, the new-case modal) and
how to pick a view apart, shared by tests/unit/test_case_blocks.py and
test_case_detail_blocks.py.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

from domain.cases import (
    TRANSITIONS,
    CaseRow,
    CaseView,
    ConsentView,
    HistoryEntry,
)
from domain.i18n import Locale, Translator
from handlers.blocks.cases import (
    case_modal,
)
from storage.models import CaseStatus, ConsentGiver, SipStatus

LOCALES: tuple[Locale, ...] = ("sv", "en")
STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
# Thursday 3 December 2026, 13:00 in Stockholm.
MEETING = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
SECRET = "hemlig sammanfattning"
HOSTILE = "Pojke <@U1> <!channel> & <https://evil.example|klicka>"
AGENCIES = [(1, "Grundskola"), (2, "Elevhälsa"), (3, "Socialtjänst/IFO"), (4, "Polis")]


def elements(view: dict[str, Any]) -> list[dict[str, Any]]:
    """Interactive elements: those of actions blocks and section accessories."""
    found: list[dict[str, Any]] = []
    for block in view["blocks"]:
        if block["type"] == "actions":
            found.extend(block["elements"])
        elif "accessory" in block:
            found.append(block["accessory"])
    return found


def input_ids(view: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b["type"] == "input"]


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def history(n: int) -> tuple[HistoryEntry, ...]:
    entries = [HistoryEntry(MEETING - dt.timedelta(days=30), "U0RAISER", "created", None, "new")]
    for i in range(1, n):
        old, new = ("discussed", "follow_up") if i % 2 else ("follow_up", "discussed")
        entries.append(
            HistoryEntry(MEETING + dt.timedelta(hours=i), f"U{i:07d}", "status", old, new)
        )
    return tuple(entries)


def case_view(**changes: Any) -> CaseView:
    fields: dict[str, Any] = {
        "id": 42,
        "reference": "FOS-2026-017",
        "status": CaseStatus.SCHEDULED,
        "concerns": ("school_absence", "mental_health"),
        "age_band": "13-15",
        "raising_agency": "Grundskola",
        "agencies": ("Grundskola", "Elevhälsa", "Socialtjänst/IFO"),
        "meeting_start": MEETING,
        "sip": SipStatus.NEEDED,
        "details": True,
        "summary": SECRET,
        "consent": ConsentView(
            given_by=ConsentGiver.GUARDIANS,
            agencies=("Elevhälsa", "Socialtjänst/IFO"),
            given_on=dt.date(2026, 11, 20),
            expires_on=dt.date(2027, 6, 30),
            withdrawn_at=None,
            active=True,
        ),
        "history": history(3),
        "may_change_status": True,
        "next_statuses": TRANSITIONS[CaseStatus.SCHEDULED],
        "outcome": None,
        "effect": None,
    }
    fields.update(changes)
    return CaseView(**fields)


def row_of(view: CaseView, **changes: Any) -> CaseRow:
    """The list row for a case view: what the list builder gets (no summary field at all)."""
    fields: dict[str, Any] = {
        "id": view.id,
        "reference": view.reference,
        "status": view.status,
        "meeting_start": view.meeting_start,
        "raising_agency": view.raising_agency,
        "agencies": view.agencies,
        "consultation": not view.details,
    }
    fields.update(changes)
    return CaseRow(**fields)


def new_case_modal(t: Translator, **changes: Any) -> dict[str, Any]:
    kw: dict[str, Any] = {
        "agencies": AGENCIES,
        "own_agency_id": 2,
        "meetings": [MEETING + dt.timedelta(days=7 * i) for i in range(6)],
        "tz": STOCKHOLM,
        "private_metadata": json.dumps({"forum": 1}),
    }
    kw.update(changes)
    return case_modal(t, **kw)
