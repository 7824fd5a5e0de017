"""The agenda (dagordning) of a meeting: collected, previewed, posted once, kept up to date.

Items are rows (``AgendaItem``) so a coordinator can reorder or remove them and so what
was not discussed rolls over to the next meeting. Automatic items (new cases, cases for
follow-up, actions due) are collected idempotently whenever the agenda is built; other
business is added by members.

Posting is a scheduled effect keyed by (forum, "agenda", occurrence): exactly one replica
claims it, the messages go through the outbox (retries, never doubled), and a bot that was
down catches up — late but before the meeting starts — or tells the coordinators when the
meeting has already started.

Parts: ``base`` (limits, errors, shapes), ``items`` (collecting and changing items), ``build``
(the agenda as shown), ``publish`` (posting, updates, previews), ``posting`` (the due-work
job: claiming, posting, catching up, failures), ``record`` (the meeting's record). Every
public name is importable from here: ``from domain import agenda; agenda.X``.
"""

from __future__ import annotations

from domain.agenda.base import (
    AGENDA,
    CATCH_UP,
    GRACE,
    ITEM_TEXT_MAX,
    MISSED,
    PREVIEW,
    PREVIEW_MIN_LEAD,
    SECTION_ORDER,
    Agenda,
    AgendaFormBroken,
    AgendaLine,
    ItemNotFound,
    ItemRemoved,
    NoUpcomingMeeting,
    PictureLoader,
    Render,
)
from domain.agenda.build import build
from domain.agenda.items import add_item, collect, move_item, remove_item
from domain.agenda.posting import AgendaRun, due_meetings, post_due, report_failed_posts
from domain.agenda.publish import (
    agenda_posted,
    meetings_listing_action,
    meetings_listing_case,
    publish_update,
    refresh_previews,
)
from domain.agenda.record import (
    discussed_for_record,
    items_for_record,
    mark_minuted,
    record_meeting,
    status_changed,
)

__all__ = [
    "AGENDA",
    "CATCH_UP",
    "GRACE",
    "ITEM_TEXT_MAX",
    "MISSED",
    "PREVIEW",
    "PREVIEW_MIN_LEAD",
    "SECTION_ORDER",
    "Agenda",
    "AgendaFormBroken",
    "AgendaLine",
    "AgendaRun",
    "ItemNotFound",
    "ItemRemoved",
    "NoUpcomingMeeting",
    "PictureLoader",
    "Render",
    "add_item",
    "agenda_posted",
    "build",
    "collect",
    "discussed_for_record",
    "due_meetings",
    "items_for_record",
    "mark_minuted",
    "meetings_listing_action",
    "meetings_listing_case",
    "move_item",
    "post_due",
    "publish_update",
    "record_meeting",
    "refresh_previews",
    "remove_item",
    "report_failed_posts",
    "status_changed",
]
