"""The members modal and the confirm step before moving members."""

from __future__ import annotations

from collections.abc import Sequence

from domain.i18n import Translator
from handlers.blocks.common import (
    Block,
    button,
    context,
    divider,
    escape,
    input_block,
    modal,
    option,
    section,
)
from handlers.blocks.forum.ids import (
    ACTION_REMOVE_MEMBER,
    CB_MEMBERS,
    CB_MEMBERS_MOVE,
    MAX_LISTED_MEMBERS,
    ROLE_VALUES,
    MemberRow,
    role_label,
)

# The people named in the notice as not in the channel (the rest are counted).
MAX_NAMED_OUTSIDE = 20


def added_notice(
    t: Translator, *, added: int, channel_id: str, outside: Sequence[str] | None
) -> str:
    """The line above the members after an add. ``outside``: who of those added Slack says
    is not in the forum's channel (they would not see the agenda there), named so the
    coordinator knows whom to invite; None when Slack could not tell in time (the notice
    then only counts)."""
    text = t.ngettext("Added {n} member.", "Added {n} members.", added)
    if not outside:
        return text
    names = ", ".join(f"<@{escape(u)}>" for u in outside[:MAX_NAMED_OUTSIDE])
    if len(outside) > MAX_NAMED_OUTSIDE:
        names += " " + t("…and {n} more.", n=len(outside) - MAX_NAMED_OUTSIDE)
    return " ".join(
        (
            text,
            t(
                "Not in <#{channel}>: {names}. Invite them to the channel, or they will not "
                "see the agenda.",
                channel=escape(channel_id),
                names=names,
            ),
        )
    )


def members_modal(
    t: Translator,
    *,
    forum_name: str,
    agencies: Sequence[tuple[int, str]],
    members: Sequence[MemberRow],
    private_metadata: str,
    can_edit: bool,
    notice: str | None = None,
    version: int = 0,
) -> Block:
    """``version`` renews the inputs' block ids after each add, so the people picker starts
    empty (Slack keeps what a block with the same id held)."""
    blocks: list[Block] = [section(t("Members of *{name}*", name=escape(forum_name)))]
    if notice:
        blocks.append(context(notice))
    for row in members[:MAX_LISTED_MEMBERS]:
        text = f"<@{row.slack_user_id}> · {escape(row.agency)} · {role_label(t, row.role)}"
        accessory = (
            button(t("Remove"), ACTION_REMOVE_MEMBER, value=str(row.member_id), style="danger")
            if can_edit and row.removable
            else None
        )
        blocks.append(section(text, block_id=f"member.{row.member_id}", accessory=accessory))
    if len(members) > MAX_LISTED_MEMBERS:
        blocks.append(context(t("…and {n} more.", n=len(members) - MAX_LISTED_MEMBERS)))
    if not can_edit:
        return modal(
            callback_id=CB_MEMBERS,
            title=t("Members"),
            close=t("Close"),
            blocks=blocks,
            private_metadata=private_metadata,
        )
    blocks.append(divider())
    blocks.append(section(t("*Add members*")))
    blocks.append(
        input_block(
            f"users.{version}",
            t("People"),
            {"type": "multi_users_select", "action_id": "value"},
        )
    )
    blocks.append(
        input_block(
            f"agency.{version}",
            t("Agency they represent"),
            {
                "type": "static_select",
                "action_id": "value",
                "options": [option(name, str(agency_id)) for agency_id, name in agencies][:100],
            },
        )
    )
    role_options = [option(role_label(t, r), r) for r in ROLE_VALUES]
    blocks.append(
        input_block(
            f"role.{version}",
            t("Role"),
            {
                "type": "radio_buttons",
                "action_id": "value",
                "options": role_options,
                "initial_option": role_options[0],
            },
            hint=t(
                "Coordinators run the meetings and change the forum; admins also manage "
                "admins; reviewers check the audit log each month and see no case details."
            ),
        )
    )
    return modal(
        callback_id=CB_MEMBERS,
        title=t("Members"),
        submit=t("Add"),
        close=t("Close"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def confirm_move_modal(
    t: Translator, moves: Sequence[tuple[str, str, str]], *, private_metadata: str
) -> Block:
    """Moving members to another agency changes what they may see: say so and ask first.
    ``moves`` are (Slack user id, from agency, to agency)."""
    lines = [
        t(
            "{user} is already a member for {old}. Move them to {new}?",
            user=f"<@{escape(user)}>",
            old=escape(old),
            new=escape(new),
        )
        for user, old, new in moves[:20]
    ]
    blocks = [
        section("\n".join(lines)),
        context(
            t(
                "The agency decides which case details a member may see. The change is logged "
                "and the forum's log reviewers are told."
            )
        ),
    ]
    return modal(
        callback_id=CB_MEMBERS_MOVE,
        title=t("Move members?"),
        submit=t("Move"),
        close=t("Back"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def welcome_text(
    t: Translator,
    *,
    forum: str,
    agency: str,
    channel_id: str,
    added_by: str,
    rates: bool,
) -> str:
    """The DM to someone just added to a forum: which forum and agency, what they will be
    asked to do there, and where to get help. ``rates``: the forum has a situation picture."""
    lines = [
        t(
            "Welcome to *{forum}*! <@{user}> added you as a member for *{agency}*.",
            forum=escape(forum),
            user=escape(added_by),
            agency=escape(agency),
        ),
        t("What you will do here:"),
    ]
    if rates:
        lines.append(
            "• "
            + t(
                "Rate the situation for {agency} before meetings, in a short form sent to "
                "you here.",
                agency=escape(agency),
            )
        )
    lines.append(
        "• "
        + t(
            "See the agenda, which I post in <#{channel}> before each meeting.",
            channel=escape(channel_id),
        )
    )
    lines.append(
        "• "
        + t(
            "Follow up the actions you or your agency take on: they come to you here, with "
            "buttons to update them."
        )
    )
    # No Slack call tells us before the answer whether they are in the channel (or whether
    # it is private): the DM says what to do in either case.
    lines.append(
        t(
            "Not in <#{channel}> yet? Join it, or you will not see the agenda. If it is a "
            "private channel, ask <@{user}> or a coordinator to invite you.",
            channel=escape(channel_id),
            user=escape(added_by),
        )
    )
    lines.append(t("Questions? Type `/samverkan help`."))
    return "\n".join(lines)


def creator_text(
    t: Translator, *, forum: str, agency: str, channel_id: str, has_areas: bool, rates: bool
) -> str:
    """The DM to whoever just set up a forum: what they are now, and the next steps they
    would otherwise not be told (the channel's people are not members until added; areas
    are rated only once the situation picture is switched on)."""
    lines = [
        t(
            "*{forum}* is set up in <#{channel}>, and you are its admin for *{agency}*.",
            forum=escape(forum),
            channel=escape(channel_id),
            agency=escape(agency),
        ),
        t("Next steps:"),
        "• "
        + t(
            "Add the forum's members with `/samverkan forum members`: being in the channel "
            "does not make anyone a member, and only members see cases and take part."
        ),
    ]
    if has_areas and not rates:
        lines.append(
            "• "
            + t(
                "The agencies rate the areas you listed only once the situation picture is "
                "switched on: `/samverkan situation settings`."
            )
        )
    lines.append("• " + t("Change the forum's settings with `/samverkan forum`."))
    lines.append(t("Questions? Type `/samverkan help`."))
    return "\n".join(lines)
