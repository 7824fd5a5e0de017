"""Block Kit for forums: help, the menu, the forum modal, the members modal, messages.

Parts: ``ids`` (ids, roles, rows), ``help`` (help and the nearest command), ``menu`` (the menu,
text messages), ``modal`` (the forum modal), ``members`` (the members modal), ``home`` (the
forum summary and App Home). Every public name is importable from here.
"""

from __future__ import annotations

from handlers.blocks.common import notice_modal  # listeners use ui.notice_modal
from handlers.blocks.forum.help import (
    KNOWN_COMMANDS,
    HelpLine,
    MenuItem,
    help_blocks,
    help_message,
    nearest_command,
    unknown_command_message,
)
from handlers.blocks.forum.home import (
    forum_created_message,
    forum_summary_blocks,
    home_error_view,
    home_forums_section,
    home_tab,
)
from handlers.blocks.forum.ids import (
    ACTION_MENU_FORUM,
    ACTION_MENU_FORUM_NEW,
    ACTION_MENU_HELP,
    ACTION_MENU_MEMBERS,
    ACTION_MENU_RUN,
    ACTION_OPEN_MEMBERS,
    ACTION_REMOVE_MEMBER,
    ACTION_TEMPLATE,
    CB_FORUM_CREATE,
    CB_FORUM_EDIT,
    CB_MEMBERS,
    CB_MEMBERS_MOVE,
    MAX_HOME_FORUMS,
    MAX_LISTED_MEMBERS,
    ROLE_VALUES,
    ForumSummary,
    MemberRow,
    channel_refused_text,
    role_label,
)
from handlers.blocks.forum.members import (
    added_notice,
    confirm_move_modal,
    creator_text,
    members_modal,
    welcome_text,
)
from handlers.blocks.forum.menu import (
    COORDINATORS,
    MEMBERS,
    MENU,
    MENU_COMMANDS,
    introduction_message,
    menu_message,
    text_message,
)
from handlers.blocks.forum.modal import (
    AGENDA_DAY_CHOICES,
    HOLIDAY_CHOICES,
    calendar_blocks,
    forum_modal,
    schedule_blocks,
    schedule_text,
)

__all__ = [
    "ACTION_MENU_FORUM",
    "ACTION_MENU_FORUM_NEW",
    "ACTION_MENU_HELP",
    "ACTION_MENU_MEMBERS",
    "ACTION_MENU_RUN",
    "ACTION_OPEN_MEMBERS",
    "ACTION_REMOVE_MEMBER",
    "ACTION_TEMPLATE",
    "AGENDA_DAY_CHOICES",
    "CB_FORUM_CREATE",
    "CB_FORUM_EDIT",
    "CB_MEMBERS",
    "CB_MEMBERS_MOVE",
    "COORDINATORS",
    "HOLIDAY_CHOICES",
    "KNOWN_COMMANDS",
    "MAX_HOME_FORUMS",
    "MAX_LISTED_MEMBERS",
    "MEMBERS",
    "MENU",
    "MENU_COMMANDS",
    "ROLE_VALUES",
    "ForumSummary",
    "HelpLine",
    "MemberRow",
    "MenuItem",
    "added_notice",
    "calendar_blocks",
    "channel_refused_text",
    "confirm_move_modal",
    "creator_text",
    "forum_created_message",
    "forum_modal",
    "forum_summary_blocks",
    "help_blocks",
    "help_message",
    "home_error_view",
    "home_forums_section",
    "home_tab",
    "introduction_message",
    "members_modal",
    "menu_message",
    "nearest_command",
    "notice_modal",
    "role_label",
    "schedule_blocks",
    "schedule_text",
    "text_message",
    "unknown_command_message",
    "welcome_text",
]
