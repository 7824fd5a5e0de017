"""Steering levels (seed 003: nämnd, 2+2 meetings, styrgrupp) and their annual activity plan.

A forum becomes a steering forum by its level (``settings["steering_level"]``) and follows
operational forums of the same workspace (``forum_links``). It sees their figures only —
counts after the small-number rule, never references, details or counts under 5 — so a
steering member who is not in an operational forum never sees that forum's details.

The annual activity plan (aktivitetsplan) holds strategies, goals and sub-goals; its
activities are ordinary actions of the steering forum (owning agency, owner, due date,
reminders, follow-up of effect) linked to a goal. The steering forum's own agenda gets a
steering part (:func:`post_due_supplements`): the roll-up since the last meeting, the
activities due and the goals to follow up, posted once in the agenda's thread.

Parts: ``levels`` (which forums a steering level follows, and their figures rolled up),
``activity_plan`` (the annual activity plan), ``supplement`` (the steering part of the agenda),
``report`` (the annual report for the board). Every public name is importable from here.
"""

from __future__ import annotations

from domain.steering.activity_plan import (
    Activity,
    Plan,
    PlanNode,
    add_activity,
    add_item,
    follow_up_goal,
    plan,
)
from domain.steering.levels import (
    CATCH_UP,
    COMMENT_MAX,
    LEVELS,
    RESULTS,
    SUPPLEMENT,
    TITLE_MAX,
    EndedLink,
    EndedNotice,
    ForumFigures,
    LinkNotFound,
    Notice,
    SteeringChange,
    candidates,
    configure,
    end_link,
    followers,
    last_meeting_day,
    linked_forums,
    rollup,
    since_last_meeting,
    steering_level,
)
from domain.steering.report import (
    ANNUAL_AT,
    ANNUAL_CATCH_UP,
    ANNUAL_KIND,
    annual_data,
    annual_report,
    annual_report_document,
    send_due_annual_reports,
)
from domain.steering.supplement import (
    Supplement,
    SupplementMessages,
    post_due_supplements,
    supplement,
)

__all__ = [
    "ANNUAL_AT",
    "ANNUAL_CATCH_UP",
    "ANNUAL_KIND",
    "CATCH_UP",
    "COMMENT_MAX",
    "LEVELS",
    "RESULTS",
    "SUPPLEMENT",
    "TITLE_MAX",
    "Activity",
    "EndedLink",
    "EndedNotice",
    "ForumFigures",
    "LinkNotFound",
    "Notice",
    "Plan",
    "PlanNode",
    "SteeringChange",
    "Supplement",
    "SupplementMessages",
    "add_activity",
    "add_item",
    "annual_data",
    "annual_report",
    "annual_report_document",
    "candidates",
    "configure",
    "end_link",
    "follow_up_goal",
    "followers",
    "last_meeting_day",
    "linked_forums",
    "plan",
    "post_due_supplements",
    "rollup",
    "send_due_annual_reports",
    "since_last_meeting",
    "steering_level",
    "supplement",
]
