"""The ids the forum listeners are wired to, the roles and the rows the forum views show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from domain.i18n import Translator

CB_FORUM_CREATE = "forum_create"
CB_FORUM_EDIT = "forum_edit"
CB_MEMBERS = "forum_members"
CB_MEMBERS_MOVE = "forum_members_move"  # the confirm step before moving members
ACTION_TEMPLATE = "forum_template"
ACTION_MENU_HELP = "menu_help"
ACTION_MENU_FORUM_NEW = "menu_forum_new"
ACTION_MENU_FORUM = "menu_forum"
ACTION_MENU_MEMBERS = "menu_members"
ACTION_MENU_RUN = "menu_run"  # the suggested command after a typo (value: the command)
ACTION_OPEN_MEMBERS = "forum_open_members"
ACTION_REMOVE_MEMBER = "member_remove"
ROLE_VALUES = ("member", "coordinator", "admin", "reviewer")
MAX_LISTED_MEMBERS = 60  # keeps the members modal under 100 blocks
MAX_HOME_FORUMS = 20  # summaries at most; App Home shares its 100 blocks (handlers.blocks.home)


@dataclass(frozen=True)
class MemberRow:
    member_id: int
    slack_user_id: str
    agency: str
    role: str
    removable: bool = True  # offer Remove (only where the removal would not be refused)


@dataclass(frozen=True)
class ForumSummary:
    name: str
    code: str
    channel_id: str
    agencies: Sequence[str]
    areas: Sequence[str]
    next_meetings: Sequence[dt.datetime]
    timezone: dt.tzinfo
    rrule: str
    member_count: int
    your_role: str | None = None
    your_agency: str | None = None
    start: dt.time | None = None
    end: dt.time | None = None
    # Slack's refusal of the last post to the forum's channel (not_in_channel, is_archived,
    # channel_not_found), shown to the forum's members only; None when it is reachable.
    channel_refused: str | None = None
    # The asking member's last day away (/samverkan borta), while it is today or later.
    your_away_until: dt.date | None = None
    # Who represents each active agency (Slack user ids), for the members' own summary only
    # (/samverkan forum): OSF's "snabb kontakt aktörer emellan", FOSSAM's "alla vet vad alla
    # gör". Empty in the channel post and App Home.
    representatives: Sequence[tuple[str, Sequence[str]]] = ()


def channel_refused_text(t: Translator, code: str, channel_id: str) -> str:
    """What a refused post to the forum's channel means, and what to do about it."""
    if code == "is_archived":
        return t(
            ":warning: <#{channel}> is archived: agendas and reminders are not posted there. "
            "Unarchive the channel; /samverkan dagordning shows the agenda meanwhile.",
            channel=channel_id,
        )
    return t(
        ":warning: I cannot post in <#{channel}> (I was removed from it, or it was "
        "deleted): agendas and reminders do not reach it. Invite me to the channel "
        "(/invite @Samverkan); /samverkan dagordning shows the agenda meanwhile.",
        channel=channel_id,
    )


def role_label(t: Translator, role: str) -> str:
    return {
        "member": t("member"),
        "coordinator": t("coordinator"),
        "admin": t("admin"),
        "reviewer": t("reviewer (log check)"),
    }.get(role, role)


def role_as(t: Translator, role: str) -> str:
    """The role after "You take part as …": English needs the article ("as a member"),
    Swedish has none ("som medlem")."""
    return {
        "member": t("a member"),
        "coordinator": t("a coordinator"),
        "admin": t("an admin"),
        "reviewer": t("a reviewer (log check)"),
    }.get(role, role)
