"""Labels, the owner's card with its buttons, DMs, reminders and the overdue digest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from domain.actions import (
    ActionRow,
    Filter,
    FormerOwner,
    Scope,
    StandIn,
)
from domain.disclosure import Hidden
from domain.i18n import Locale, Translator
from handlers.blocks.actions.ids import (
    ACTION_CANCEL,
    ACTION_DONE,
    ACTION_FOLLOW_UP,
    ACTION_HAND_OVER,
    ACTION_MORE_TIME,
    ACTION_REOPEN,
    ACTION_SNOOZE_HOUR,
    ACTION_SNOOZE_MORNING,
)
from handlers.blocks.cases import effect_label
from handlers.blocks.common import (
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    escape,
    header,
    message,
    section,
)
from handlers.blocks.common import notice_modal as notice_modal
from storage.models import ActionStatus

MESSAGE_BLOCKS_MAX = 50

# --- labels ---------------------------------------------------------------------------------


def status_label(t: Translator, status: ActionStatus) -> str:
    return {
        ActionStatus.OPEN: t("Open (not done)"),
        ActionStatus.DONE: t("Done"),
        ActionStatus.CANCELLED: t("Cancelled, not done"),
    }[status]


def scope_label(t: Translator, scope: Scope) -> str:
    return {
        "mine": t("My actions"),
        "agency": t("My agency's actions"),
        "forum": t("The forum's actions"),
    }[scope]


def filter_label(t: Translator, flt: Filter) -> str:
    return {
        "open": t("Open"),
        "overdue": t("Overdue"),
        "done": t("Done"),
        "follow_up": t("Awaiting follow-up"),
        "all": t("All"),
    }[flt]


def _owner(t: Translator, owner: str | None) -> str:
    return f"<@{escape(owner)}>" if owner else t("no owner (with the agency)")


def _due(t: Translator, row: ActionRow, today: dt.date) -> str:
    day = t.day(row.due_on)
    if row.status is not ActionStatus.OPEN:
        return t("due {date}", date=day)
    if row.due_on < today:
        return ":warning: " + t("overdue since {date}", date=day)
    if row.due_on == today:
        return t("due today")
    return t("due {date}", date=day)


def _status(t: Translator, row: ActionRow) -> str:
    if row.status is ActionStatus.DONE:
        if row.effect is None:
            return t("Done · awaiting follow-up of effect")
        text = t("Done · effect: {effect}", effect=effect_label(t, row.effect))
        if row.follow_up_comment:
            text += f" – _{escape(clip(row.follow_up_comment, 300))}_"
        return text
    return status_label(t, row.status)


def hidden_text(t: Translator, why: Hidden | None = None) -> str:
    """What a reader sees instead of the text of an action linked to a case whose details
    the disclosure rule does not let them see; ``why``: when it is their agency the case is
    hidden from, the true reason (what the case's own modal tells them too), so an owner
    given such an action knows why they cannot read it."""
    if why is Hidden.NOT_COVERED:
        return "_" + t("details hidden: the case's consent does not cover your agency") + "_"
    if why is Hidden.NO_CONSENT:
        why_text = t("details hidden: the case has no valid consent (anonymous consultation)")
        return "_" + why_text + "_"
    if why is Hidden.GROUND_ENDED:
        return "_" + t("details hidden: the legal ground for your agency has ended") + "_"
    if why is Hidden.UNSAID:  # the reason is the consent register's, not this reader's
        return "_" + t("details hidden: no consent covers your agency") + "_"
    return "_" + t("details hidden") + "_"


def description_text(t: Translator, row: ActionRow, limit: int | None = 500) -> str:
    if not row.details:
        return hidden_text(t, row.hidden_why)
    return escape(clip(row.description, limit) if limit else row.description)


def row_text(t: Translator, row: ActionRow, today: dt.date, *, forum: bool = False) -> str:
    """Two or three lines about one action (mrkdwn, user text escaped)."""
    title = f"*#{row.id}* {description_text(t, row)}"
    facts = [escape(row.agency), _owner(t, row.owner), _due(t, row, today), _status(t, row)]
    lines = [title, " · ".join(facts)]
    links = []
    if forum:
        links.append(escape(row.forum_name))
    if row.case_reference:
        links.append(t("case {reference}", reference=escape(row.case_reference)))
    if row.area:
        links.append(t("area {area}", area=escape(row.area)))
    if links:
        lines.append(" · ".join(links))
    return "\n".join(lines)


# --- cards, DMs and reminders -----------------------------------------------------------------


def action_buttons(
    t: Translator,
    row: ActionRow,
    *,
    snooze: bool = False,
    change: bool = True,
    follow_up: bool = True,
) -> list[Block]:
    """The buttons of an action's card: ``change`` and ``follow_up`` say whether the reader
    may change it (done, more time, hand over, open again) and record its effect."""
    value = str(row.id)
    if row.status is ActionStatus.OPEN and change:
        buttons = [
            button(t("Done"), ACTION_DONE, value=value, style="primary"),
            button(t("Need more time"), ACTION_MORE_TIME, value=value),
            button(t("Hand over"), ACTION_HAND_OVER, value=value),
            button(t("Cancel the action"), ACTION_CANCEL, value=value),
        ]
        if snooze:
            buttons.append(button(t("Remind me in 1 hour"), ACTION_SNOOZE_HOUR, value=value))
            buttons.append(
                button(t("Remind me tomorrow morning"), ACTION_SNOOZE_MORNING, value=value)
            )
        return buttons
    if row.awaiting_follow_up:
        done = [follow_up_button(t, row.id)] if follow_up else []
        if change:
            done.append(button(t("Open again"), ACTION_REOPEN, value=value))
        return done
    return []


def follow_up_button(t: Translator, action_id: int) -> Block:
    """Record the follow-up of effect (also used by the agenda)."""
    return button(t("Follow up effect"), ACTION_FOLLOW_UP, value=str(action_id))


def action_card(
    t: Translator,
    row: ActionRow,
    today: dt.date,
    *,
    intro: str | None = None,
    note: str | None = None,
    snooze: bool = False,
) -> list[Block]:
    blocks: list[Block] = []
    if intro:
        blocks.append(section(intro))
    text = row_text(t, row, today, forum=True)
    if row.hoped_effect:
        label = t("Hoped-for effect")
        text += f"\n*{label}:* {escape(clip(row.hoped_effect, 500))}"
    blocks.append(section(text, block_id=f"action.{row.id}"))
    elements = action_buttons(
        t, row, snooze=snooze, change=row.changeable, follow_up=row.followable
    )
    if elements:
        blocks.append(actions(*elements, block_id=f"action_buttons.{row.id}"))
    if note:
        blocks.append(context(note))
    return blocks


def _card_id(block: Block) -> int | None:
    """The action whose card starts at ``block`` (its section ``action.<id>``), if any."""
    block_id = str(block.get("block_id") or "")
    head, _, rest = block_id.partition(".")
    return int(rest) if head == "action" and rest.isdigit() else None


def cards_in(blocks: Sequence[Block]) -> set[int]:
    """The actions whose cards a message (a digest, several cards) holds."""
    return {i for i in map(_card_id, blocks) if i is not None}


def replace_card(
    blocks: Sequence[Block], action_id: int, card: Sequence[Block]
) -> list[Block] | None:
    """``blocks`` with the card of ``action_id`` (from its section to the next card or
    divider) replaced by ``card``: a change made in a message holding several actions'
    cards (the overdue digest) redraws that one and keeps the others. None when the message
    holds no other card (the caller replaces the whole message)."""
    if action_id not in cards_in(blocks) or len(cards_in(blocks)) < 2:
        return None
    start = next(i for i, b in enumerate(blocks) if _card_id(b) == action_id)
    end = start + 1
    while (
        end < len(blocks) and blocks[end].get("type") != "divider" and _card_id(blocks[end]) is None
    ):
        end += 1
    merged = [*blocks[:start], *card, *blocks[end:]]
    if len(merged) > MESSAGE_BLOCKS_MAX:  # the note under the card goes first
        merged = [*blocks[:start], *card[:-1], *blocks[end:]]
    return merged if len(merged) <= MESSAGE_BLOCKS_MAX else None


def created_dm(t: Translator, row: ActionRow, today: dt.date, *, by: str) -> dict[str, Any]:
    intro = t(
        "<@{user}> gave you an action in {forum}.", user=escape(by), forum=escape(row.forum_name)
    )
    return message(
        t("New action #{id}: due {date}", id=row.id, date=t.day(row.due_on)),
        action_card(t, row, today, intro=intro),
    )


def handed_over_dm(t: Translator, row: ActionRow, today: dt.date, *, by: str) -> dict[str, Any]:
    intro = t("<@{user}> handed action #{id} over to you.", user=escape(by), id=row.id)
    return message(
        t("Action #{id} is now yours", id=row.id), action_card(t, row, today, intro=intro)
    )


def moved_dm(t: Translator, row: ActionRow, today: dt.date, *, by: str) -> dict[str, Any]:
    """To the owner whose action ``by`` moved to another agency (``row`` as they may see it
    now, its new agency): it is still theirs, with its buttons."""
    intro = t(
        "<@{user}> moved action #{id} to {agency}. You are still its owner.",
        user=escape(by),
        id=row.id,
        agency=escape(row.agency),
    )
    return message(
        t("Action #{id} now belongs to {agency}", id=row.id, agency=escape(row.agency)),
        action_card(t, row, today, intro=intro),
    )


def handed_away_dm(t: Translator, row: ActionRow, today: dt.date, *, by: str) -> dict[str, Any]:
    """To the member who owned the action until ``by`` handed it over (``row`` as they may
    see it, its new agency and owner): told, with no buttons, as it is no longer theirs."""
    intro = t(
        "<@{user}> handed action #{id} over to <@{owner}> ({agency}). You are no longer its owner.",
        user=escape(by),
        id=row.id,
        owner=escape(row.owner or ""),
        agency=escape(row.agency),
    )
    return message(
        t("Action #{id} is no longer yours", id=row.id),
        [section(intro), section(row_text(t, row, today, forum=True), block_id=f"action.{row.id}")],
    )


def card_message(
    t: Translator, row: ActionRow, today: dt.date, *, note: str | None = None
) -> dict[str, Any]:
    return message(t("Action #{id}", id=row.id), action_card(t, row, today, note=note))


def stand_in_text(t: Translator, stand_in_for: StandIn) -> str:
    """To a stand-in: whose reminder this is, and until when they stand in."""
    return t(
        "<@{user}> is away until and including {day} and has named you as stand-in, so "
        "their action reminders come to you.",
        user=escape(stand_in_for.owner),
        day=t.day(stand_in_for.until),
    )


def reminder_message(
    t: Translator, row: ActionRow, today: dt.date, stand_in_for: StandIn | None = None
) -> dict[str, Any]:
    if row.due_on > today:
        intro = t("Reminder: action #{id} is due {date}.", id=row.id, date=t.day(row.due_on))
    elif row.due_on == today:
        intro = t("Reminder: action #{id} is due today.", id=row.id)
    else:
        intro = t("Reminder: action #{id} was due {date}.", id=row.id, date=t.day(row.due_on))
    shown = f"*{intro}*"
    if stand_in_for is not None:
        shown += "\n" + stand_in_text(t, stand_in_for)
    return message(intro, action_card(t, row, today, intro=shown, snooze=True))


def digest_message(
    t: Translator,
    rows: Sequence[ActionRow],
    total: int,
    today: dt.date,
    stand_in_for: StandIn | None = None,
) -> dict[str, Any]:
    """One DM a day with all the owner's overdue actions (buttons on each); to their
    stand-in while they are away (``stand_in_for``)."""
    if stand_in_for is None:
        title = t.ngettext("You have {n} overdue action.", "You have {n} overdue actions.", total)
    else:
        title = t.ngettext(
            "Someone you stand in for has {n} overdue action.",
            "Someone you stand in for has {n} overdue actions.",
            total,
        )
    blocks: list[Block] = [header(title)]
    if stand_in_for is not None:
        blocks.append(section(stand_in_text(t, stand_in_for)))
    for row in rows:
        blocks.append(divider())
        blocks.extend(action_card(t, row, today))
    if total > len(rows):
        blocks.append(
            context(
                t(
                    "…and {n} more: /samverkan actions overdue in the forum's channel.",
                    n=total - len(rows),
                )
            )
        )
    return message(title, blocks)


def released_message(
    t: Translator,
    forum_name: str,
    rows: Sequence[ActionRow],
    former: Mapping[int, FormerOwner] | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """To the coordinators: the owner left the forum, moved to another agency, or cannot be
    reached in Slack (``former``: by action id); the actions stay with their agencies until
    someone takes them over."""
    former = former or {}
    title = t.ngettext(
        "{n} action in {forum} no longer has an owner.",
        "{n} actions in {forum} no longer have an owner.",
        len(rows),
        forum=escape(forum_name),
    )
    day = today or dt.date.min
    blocks: list[Block] = [section(f"*{title}*")]
    for row in rows[:20]:
        gone = former.get(row.id)
        who = f"<@{escape(gone.user)}>" if gone else t("Its owner")
        if gone is not None and gone.unreachable:
            why = t(
                "My reminders do not reach {user}: Slack says the account is deactivated or "
                "gone. Hand it over to someone in {owning}.",
                user=who,
                owning=escape(row.agency),
            )
        elif gone is not None and gone.moved_to:
            why = t(
                "{user} now represents {agency} in the forum. Hand it over to someone in "
                "{owning}, or move it to {agency}.",
                user=who,
                agency=escape(gone.moved_to),
                owning=escape(row.agency),
            )
        else:
            why = t("{user} left the forum.", user=who)
        blocks.append(
            section(
                row_text(t, row, day) + "\n" + why,
                # Its card's id: a hand-over from here does not replace the whole note.
                block_id=f"action.{row.id}",
                accessory=button(t("Hand over"), ACTION_HAND_OVER, value=str(row.id)),
            )
        )
    stay = t.ngettext(
        "It stays with its agency until someone takes it over.",
        "They stay with their agencies until someone takes them over.",
        len(rows),
    )
    blocks.append(context(stay))
    return message(title, blocks)


def left_behind_message(
    t: Translator, rows: Sequence[ActionRow], moved_to: str, today: dt.date
) -> dict[str, Any]:
    """To a member moved to another agency: the actions of their old agency they owned
    stay there, without them (no buttons: no longer theirs)."""
    title = t.ngettext(
        "You now represent {agency}, so {n} action you owned stays with your former agency.",
        "You now represent {agency}, so {n} actions you owned stay with your former agency.",
        len(rows),
        agency=escape(moved_to),
    )
    blocks: list[Block] = [section(f"*{title}*")]
    blocks.extend(section(row_text(t, row, today, forum=True)) for row in rows[:20])
    blocks.append(context(t("The coordinators have been told and decide who takes over.")))
    return message(title, blocks)


def stand_in_gone_message(
    t: Translator, forum_name: str, owner: str, stand_in: str, until: dt.date
) -> dict[str, Any]:
    """To the coordinators: the stand-in an away owner named cannot be reached in Slack, so
    the owner's reminders wait until they are back (nobody else gets them)."""
    title = t(
        "My reminders do not reach {stand_in}, stand-in for {owner} in {forum}: Slack says "
        "the account is deactivated or gone.",
        stand_in=f"<@{escape(stand_in)}>",
        owner=f"<@{escape(owner)}>",
        forum=escape(forum_name),
    )
    held = t(
        "{owner} is away until and including {day}: their action reminders wait until they "
        "are back, and come to them then. Hand an action over if it cannot wait.",
        owner=f"<@{escape(owner)}>",
        day=t.day(until),
    )
    return message(title, [section(title), section(held)])


def stand_in_unreachable_message(
    t: Translator, forum_name: str, stand_in: str, until: dt.date
) -> dict[str, Any]:
    """To the away owner (read when back): the stand-in they named cannot be reached in
    Slack, so nobody got their reminders; they wait for the owner."""
    title = t(
        "My reminders do not reach {stand_in}, your stand-in in {forum}: Slack says the "
        "account is deactivated or gone.",
        stand_in=f"<@{escape(stand_in)}>",
        forum=escape(forum_name),
    )
    held = t(
        "You are away until and including {day}: your action reminders wait until you are "
        "back, and come to you then. The coordinators have been told.",
        day=t.day(until),
    )
    return message(title, [section(title), section(held)])


class ScheduledMessages:
    """The DMs the scheduler sends (domain.actions.ActionMessages)."""

    def reminder(
        self,
        locale: Locale,
        row: ActionRow,
        today: dt.date,
        stand_in_for: StandIn | None = None,
    ) -> dict[str, Any]:
        return reminder_message(Translator(locale), row, today, stand_in_for)

    def digest(
        self,
        locale: Locale,
        rows: Sequence[ActionRow],
        total: int,
        today: dt.date,
        stand_in_for: StandIn | None = None,
    ) -> dict[str, Any]:
        return digest_message(Translator(locale), rows, total, today, stand_in_for)

    def released(
        self,
        locale: Locale,
        forum_name: str,
        rows: Sequence[ActionRow],
        former: Mapping[int, FormerOwner],
        today: dt.date,
    ) -> dict[str, Any]:
        return released_message(Translator(locale), forum_name, rows, former, today)

    def left_behind(
        self, locale: Locale, rows: Sequence[ActionRow], moved_to: str, today: dt.date
    ) -> dict[str, Any]:
        return left_behind_message(Translator(locale), rows, moved_to, today)

    def stand_in_gone(
        self, locale: Locale, forum_name: str, owner: str, stand_in: str, until: dt.date
    ) -> dict[str, Any]:
        return stand_in_gone_message(Translator(locale), forum_name, owner, stand_in, until)

    def stand_in_unreachable(
        self, locale: Locale, forum_name: str, stand_in: str, until: dt.date
    ) -> dict[str, Any]:
        return stand_in_unreachable_message(Translator(locale), forum_name, stand_in, until)
