"""The agenda's limits, errors and shapes."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from domain import meetings
from domain import slots as slot_service
from domain.errors import DomainError
from domain.i18n import N_, Locale
from storage.models import (
    AgendaItemKind,
    Meeting,
    MeetingStatus,
)

AGENDA = meetings.AGENDA_EFFECT
PREVIEW = meetings.PREVIEW_EFFECT
MISSED = "agenda_missed"
# Later than this after the agenda time, the post says it is late.
GRACE = dt.timedelta(minutes=5)
# Agendas older than this are not caught up any more (a bot down for weeks).
CATCH_UP = dt.timedelta(days=14)
ITEM_TEXT_MAX = 300
# A preview that would reach the coordinator less than this before the agenda is not sent.
PREVIEW_MIN_LEAD = dt.timedelta(hours=2)

SECTION_ORDER: tuple[AgendaItemKind, ...] = (
    AgendaItemKind.NEW_CASE,
    AgendaItemKind.FOLLOW_UP,
    AgendaItemKind.SITUATION_PICTURE,
    AgendaItemKind.ACTION,
    AgendaItemKind.OTHER,
)


class NoUpcomingMeeting(DomainError):
    msgid = N_("The forum has no upcoming meeting. Check its schedule with /samverkan forum.")


class ItemNotFound(DomainError):
    msgid = N_("That agenda item no longer exists.")


class ItemRemoved(DomainError):
    """An item of the member's own forum taken off the agenda since their view was drawn
    (a stale button of the agenda editor): told as :class:`ItemNotFound`, but no refusal
    is audited (that door audits ItemNotFound: an item of another forum, or of none)."""

    msgid = ItemNotFound.msgid


class AgendaFormBroken(DomainError):
    """The agenda editor's modal came back without the forum and meeting it was opened
    for (its metadata missing or damaged): nothing says which agenda to change."""

    msgid = N_(
        "This form no longer says which meeting's agenda it is. Copy what you wrote, close "
        "it and open the agenda again with /samverkan dagordning."
    )


@dataclass(frozen=True)
class AgendaLine:
    item_id: int
    kind: AgendaItemKind
    position: int
    # Who needs to attend; empty means every agency.
    agencies: tuple[str, ...]
    reference: str | None = None
    raising_agency: str | None = None
    text: str | None = None
    owner: str | None = None
    due_on: dt.date | None = None
    overdue: bool = False
    action_done: bool = False
    rolled_over: bool = False
    discussed: bool = False
    added_by: str | None = None
    # Actions linked to an area: the area's highest level (the situation picture's measure)
    # in the last round closed before the action was made, and in the latest after it was done.
    area: str | None = None
    rating_before: int | None = None
    rating_after: int | None = None
    action_id: int | None = None
    # A done action's followed-up effect (yes / partly / no); None while it is awaited.
    effect: str | None = None


@dataclass(frozen=True)
class Agenda:
    team_id: str
    channel_id: str
    forum_id: int
    forum_name: str
    locale: Locale
    timezone: str
    meeting_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: MeetingStatus
    lines: tuple[AgendaLine, ...]
    late: bool = False
    version: int = 0
    # The situation picture of a closed rating round for this meeting (domain.ratings).
    picture: Any | None = None
    # The forum rates its situation (so the agenda keeps a place for the picture).
    picture_expected: bool = False
    # The meeting's rating round is still open: the picture comes when it closes (then).
    picture_pending_until: dt.datetime | None = None
    # Actions due beyond the agenda's limit (domain.actions.AGENDA_ACTIONS_MAX).
    more_actions: int = 0
    # The cases' time slots, in order (domain.slots), and the forum's meeting link.
    slots: tuple[slot_service.Slot, ...] = ()
    meeting_link: str | None = None
    # Agencies a case on this agenda needs that no one can attend for: no member, or every
    # member marked away on the meeting day (seed 004: a vacant post). Only in the
    # coordinators' preview (build(..., cover=True)); empty otherwise.
    uncovered: tuple[str, ...] = ()
    # The agenda is out in the channel (a preview refreshed after it was posted says so).
    posted: bool = False

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def slot_of(self, item_id: int) -> slot_service.Slot | None:
        return next((s for s in self.slots if s.item_id == item_id), None)

    def section(self, kind: AgendaItemKind) -> list[AgendaLine]:
        return [line for line in self.lines if line.kind == kind]

    def agencies_needed(self) -> list[str]:
        """Every agency named by some item ([] when an item concerns everyone)."""
        if any(not line.agencies for line in self.lines):
            return []
        return sorted({a for line in self.lines for a in line.agencies})


# A function turning an agenda into the Slack messages that show it (Block Kit lives in
# handlers; the domain only passes the payloads on). Messages beyond the first go in its thread.
Render = Callable[[Agenda], list[dict[str, Any]]]
PictureLoader = Callable[[Session, Meeting], Any | None]
