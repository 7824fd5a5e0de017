"""A forum set-up as a coordinator would type it, for tests and benchmarks."""

from __future__ import annotations

from typing import Any

from domain.forums import ForumDraft
from domain.schedule import DEFAULT_END, DEFAULT_RRULE, DEFAULT_START


def forum_draft(**changes: Any) -> ForumDraft:
    """FOSSAM (code FOS), every Thursday 13–15, Grundskola and Elevhälsa; override any field."""
    values: dict[str, Any] = {
        "name": "FOSSAM",
        "code": "FOS",
        "agencies": ["Grundskola", "Elevhälsa"],
        "own_agency": "Grundskola",
        "rrule": DEFAULT_RRULE,
        "start": DEFAULT_START,
        "end": DEFAULT_END,
        "areas": [],
    }
    values.update(changes)
    return ForumDraft(**values)


def settings_saved(response: Any) -> bool:
    """The forum settings modal was saved: it says so, a notice in place of the form."""
    body = response.json()
    return (
        bool(body)
        and body.get("response_action") == "update"
        and (body["view"]["callback_id"] == "notice" and "Sparat" in str(body["view"]["blocks"]))
    )
