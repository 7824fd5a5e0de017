"""Forums, agencies, members and areas, and the access rules that follow membership.

Parts: ``drafts`` (templates and the draft a form fills in), ``lookups`` (finding a forum
and checking membership; the forum's zone and today), ``checking`` (a draft checked and
applied), ``saving`` (create, update, save settings), ``members`` (adding, moving, removing
members; keeping an admin). Every public name is importable from here:
``from domain import forums; forums.X``.
"""

from __future__ import annotations

from domain.forums.checking import (
    draft_calendar,
)
from domain.forums.drafts import (
    AGENCY_MAX,
    AREA_MAX,
    CODE_RE,
    DEFAULT_AGENCIES,
    NAME_MAX,
    TEMPLATES,
    ForumDraft,
    ForumTemplate,
    draft_from_template,
    split_lines,
)
from domain.forums.lookups import (
    active_agencies,
    active_areas,
    active_members,
    channel_has_forum,
    coordinator_locales,
    coordinators,
    find_member,
    forum_for_channel,
    forum_schedule,
    forum_zone,
    forums_of_user,
    get_forum,
    is_away,
    local_now,
    local_today,
    log_reviewers,
    members_with_role,
    require_coordinator,
    require_forum,
    require_member,
    require_member_in_channel,
    setting_text,
    stand_in_for,
)
from domain.forums.members import (
    Move,
    MoveNeedsConfirmation,
    OwnAgencyChange,
    add_members,
    member_left_channel,
    removable,
    remove_member,
)
from domain.forums.saving import (
    create_forum,
    save_forum_settings,
    update_forum,
)

__all__ = [
    "AGENCY_MAX",
    "AREA_MAX",
    "CODE_RE",
    "DEFAULT_AGENCIES",
    "NAME_MAX",
    "TEMPLATES",
    "ForumDraft",
    "ForumTemplate",
    "Move",
    "MoveNeedsConfirmation",
    "OwnAgencyChange",
    "active_agencies",
    "active_areas",
    "active_members",
    "add_members",
    "channel_has_forum",
    "coordinator_locales",
    "coordinators",
    "create_forum",
    "draft_calendar",
    "draft_from_template",
    "find_member",
    "forum_for_channel",
    "forum_schedule",
    "forum_zone",
    "forums_of_user",
    "get_forum",
    "is_away",
    "local_now",
    "local_today",
    "log_reviewers",
    "member_left_channel",
    "members_with_role",
    "removable",
    "remove_member",
    "require_coordinator",
    "require_forum",
    "require_member",
    "require_member_in_channel",
    "save_forum_settings",
    "setting_text",
    "split_lines",
    "stand_in_for",
    "update_forum",
]
