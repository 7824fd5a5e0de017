"""Suite-wide privacy check: no case detail in any Web API call the bot makes to a channel.

``tests/conftest.py`` runs :func:`assert_no_details_in_channels` after every test that
starts the real bot: the secrets are what that test stored (case summaries and outcomes,
consent details, rating comments, deviation texts, legal-hold reasons, notes on legal
grounds other than consent), the calls are
everything the Slack stand-in recorded. Direct messages, ephemeral answers and modals
(which only the member sees) are not channel posts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from domain.i18n import Translator
from handlers.blocks.cases import consent_label
from sandbox.webapi import Call
from storage.models import (
    Case,
    Consent,
    ConsentGiver,
    Deviation,
    FamilyView,
    FeedbackSurvey,
    LegalGround,
    MinuteEntry,
    Rating,
)

CHANNEL_METHODS = frozenset(
    {"chat.postMessage", "chat.update", "chat.scheduleMessage", "chat.meMessage"}
)
MIN_MARKER = 8  # shorter texts ("Ja", "Polis") are too common to mean a leak

# What the whole run scanned, for the summary line (see conftest).
scanned = {"tests": 0, "calls": 0}


def markers_from(sessions: sessionmaker[Session]) -> set[str]:
    markers: set[str] = set()
    with sessions() as s:
        for summary, outcome, reason in s.execute(
            select(Case.summary, Case.outcome, Case.legal_hold_reason)
        ):
            markers.update(m for m in (summary, outcome, reason) if m)
        markers.update(c for c in s.scalars(select(Rating.comment)) if c)
        for text, note in s.execute(select(Deviation.text, Deviation.follow_up_note)):
            markers.update(m for m in (text, note) if m)
        markers.update(n for n in s.scalars(select(LegalGround.note)) if n)
        markers.update(c for c in s.scalars(select(FeedbackSurvey.comment)) if c)
        markers.update(c for c in s.scalars(select(FamilyView.comment)) if c)
        markers.update(d for d in s.scalars(select(MinuteEntry.decision)) if d)
        givers = set(s.scalars(select(Consent.given_by)))
    for giver in givers - {ConsentGiver.NONE}:
        for locale in ("sv", "en"):
            markers.add(consent_label(Translator(locale), giver))
    return {m.strip() for m in markers if len(m.strip()) >= MIN_MARKER}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _to_channel(call: Call) -> bool:
    if call.method in CHANNEL_METHODS:
        return str(call.args.get("channel", "")).startswith(("C", "G"))
    if call.method == "files.completeUploadExternal":
        targets = str(call.args.get("channel_id") or call.args.get("channels") or "")
        return any(t.strip().startswith(("C", "G")) for t in targets.split(","))
    if call.method == "response_url":
        return call.args.get("response_type") == "in_channel"
    return False


def channel_leaks(calls: Iterable[Call], markers: set[str]) -> list[str]:
    found = []
    for call in calls:
        if not _to_channel(call):
            continue
        scanned["calls"] += 1
        for text in _strings(call.args):
            for marker in markers:
                if marker in text:
                    found.append(f"{call.method} to {call.args.get('channel')}: {marker[:60]!r}")
    return found


def assert_no_details_in_channels(sessions: sessionmaker[Session], calls: list[Call]) -> None:
    scanned["tests"] += 1
    leaks = channel_leaks(calls, markers_from(sessions))
    assert not leaks, "case details reached a channel:\n  " + "\n  ".join(leaks)
