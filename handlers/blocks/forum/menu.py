"""The menu of the commands a user may run, and the plain text message."""

from __future__ import annotations

from domain.i18n import N_, Translator
from handlers.blocks.common import (
    Block,
    actions,
    button,
    context,
    escape,
    header,
    message,
    section,
)
from handlers.blocks.forum.help import MenuItem
from handlers.blocks.forum.ids import channel_refused_text, role_as

MEMBERS = frozenset({"member", "coordinator", "admin"})
COORDINATORS = frozenset({"coordinator", "admin"})
CASES_GROUP, ACTIONS_GROUP = N_("Cases"), N_("Actions")
MEETINGS_GROUP, COORDINATE_GROUP = N_("Meetings and the situation picture"), N_("Coordinate")
REVIEW_GROUP = N_("Review")  # a granskare's heading: they review, they do not coordinate
MENU: tuple[MenuItem, ...] = (
    MenuItem("case", N_("Raise a case"), "ärende", CASES_GROUP, MEMBERS),
    MenuItem("cases", N_("Cases"), "ärenden", CASES_GROUP, MEMBERS),
    MenuItem("deviation", N_("Report a deviation"), "avvikelse", CASES_GROUP, MEMBERS),
    MenuItem("action", N_("New action"), "insats", ACTIONS_GROUP, MEMBERS),
    MenuItem("actions", N_("My actions"), "insatser", ACTIONS_GROUP, MEMBERS),
    # Any member's: it shows what the forum's action list shows them (the same rule).
    MenuItem("plan", N_("Action plan"), "åtgärdsplan", ACTIONS_GROUP, MEMBERS),
    MenuItem("agenda", N_("Agenda"), "dagordning", MEETINGS_GROUP, MEMBERS),
    MenuItem("meetings", N_("Meetings"), "möten", MEETINGS_GROUP, MEMBERS),
    MenuItem("picture", N_("Situation picture"), "lägesbild", MEETINGS_GROUP, MEMBERS),
    MenuItem("forum", N_("Forum"), "forum", MEETINGS_GROUP, frozenset({"member"})),
    MenuItem("forum_settings", N_("Forum settings"), "forum", COORDINATE_GROUP, COORDINATORS),
    MenuItem("members", N_("Members"), "forum medlemmar", COORDINATE_GROUP, COORDINATORS),
    MenuItem(
        "picture_settings",
        N_("Situation picture settings"),
        "lägesbild inställningar",
        COORDINATE_GROUP,
        COORDINATORS,
    ),
    MenuItem("statistics", N_("Statistics"), "statistik", COORDINATE_GROUP, COORDINATORS),
    # A steering forum's roll-up; in a forum a steering forum follows, who follows it and
    # the button that ends it.
    MenuItem("steering", N_("Steering"), "styrning", COORDINATE_GROUP, COORDINATORS),
    MenuItem("log", N_("Audit log"), "logg", COORDINATE_GROUP, COORDINATORS),
    MenuItem("review_log", N_("Audit log"), "logg", REVIEW_GROUP, frozenset({"reviewer"})),
    MenuItem("forum_new", N_("Create forum"), "forum ny", "", frozenset({"none"})),
    MenuItem("help", N_("Help"), "hjälp", "", frozenset()),
)
MENU_COMMANDS: dict[str, str] = {item.action_id: item.command for item in MENU}


def menu_message(
    t: Translator,
    *,
    forum_name: str | None,
    role: str | None = None,
    in_dm: bool = False,
    channel_refused: str | None = None,
    channel_id: str = "",
) -> dict[str, object]:
    """What this person may do here: ``role`` is their role in the channel's forum (member,
    coordinator, admin, reviewer), None when they are not a member; no ``forum_name`` when
    the channel has no forum; ``in_dm`` in a direct message, which is never a forum;
    ``channel_refused``: Slack refused the last post to the forum's channel (``channel_id``),
    said to the forum's members only."""
    if in_dm:
        intro = t("Run /samverkan in a forum's channel to see what you can do there.")
        place = "dm"
    elif forum_name is None:
        intro = t("There is no forum in this channel yet.")
        place = "none"
    elif role is None:
        intro = t(
            "Forum in this channel: *{name}*. You are not a member: a coordinator of the "
            "forum adds you.",
            name=escape(forum_name),
        )
        place = "outsider"
    else:
        intro = t(
            "Forum in this channel: *{name}*. You take part as {role}.",
            name=escape(forum_name),
            role=role_as(t, role),
        )
        place = role
    blocks: list[Block] = [header(t("Samverkan")), section(intro)]
    if channel_refused and role is not None:
        blocks.append(section(channel_refused_text(t, channel_refused, channel_id)))
    groups: dict[str, list[Block]] = {}
    for item in MENU:
        if item.roles and place not in item.roles:
            continue
        style = "primary" if item.key in ("case", "forum_new") else None
        element = button(t(item.label), item.action_id, value=item.command, style=style)
        groups.setdefault(item.group, []).append(element)
    for group, elements in groups.items():
        if group:
            blocks.append(context("*" + t(group) + "*"))
        blocks.append(actions(*elements))
    if place == "admin":
        blocks.append(context(t("As an admin you also appoint and remove admins in Members.")))
    return message(t("Samverkan"), blocks)


def text_message(text: str) -> dict[str, object]:
    return message(text, [section(text)])


def introduction_message(t: Translator) -> dict[str, object]:
    """What the bot says in a channel it was just invited to that has no forum yet: what it
    is, and how to start (a new workspace's admin invites it and is told nothing else)."""
    text = "\n".join(
        [
            t(
                "Hi! I am Samverkan. I help forums where agencies work together for children "
                "and young people: cases with pseudonymised references, agendas, the "
                "situation picture and actions."
            ),
            t(
                "There is no forum in this channel yet. Type `/samverkan forum new` to set one "
                "up (name, code, agencies, meeting schedule): whoever sets it up becomes its "
                "admin and then adds its members."
            ),
            t("Type `/samverkan help` to see what I can do."),
        ]
    )
    return message(
        t("Samverkan is here. Type /samverkan forum new to set up a forum."), [section(text)]
    )
