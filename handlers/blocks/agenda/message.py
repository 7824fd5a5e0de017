"""The agenda message: its lines, sections, splitting into messages and the preview."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from domain.agenda import SECTION_ORDER, Agenda, AgendaLine
from domain.i18n import Translator
from domain.ratings import level_label
from domain.slots import Slot
from handlers.blocks.agenda.ids import (
    ACTION_AGENDA_EDIT,
    ACTION_ITEM_ADD,
    ACTION_SLOTS_OPEN,
    EMPTY,
    SECTION_TITLES,
    ActionButton,
    PictureBlocks,
)
from handlers.blocks.common import (
    MESSAGE_BLOCKS_MAX,
    Block,
    actions,
    button,
    context,
    divider,
    escape,
    header,
    message,
    section,
)
from storage.models import AgendaItemKind, MeetingStatus


def _when(t: Translator, agenda: Agenda) -> str:
    start = agenda.starts_at.astimezone(agenda.zone)
    end = agenda.ends_at.astimezone(agenda.zone)
    return t(
        "{day} {start}–{end}",
        day=t.day(start.date(), year=False),
        start=start.strftime("%H:%M"),
        end=end.strftime("%H:%M"),
    )


def slot_time(t: Translator, slot: Slot, zone: dt.tzinfo) -> str:
    """ "kl. 13:40–13:55" (sv) / "13:40–13:55" (en)."""
    return t(
        "{start}–{end}",
        start=slot.starts_at.astimezone(zone).strftime("%H:%M"),
        end=slot.ends_at.astimezone(zone).strftime("%H:%M"),
    )


def meeting_link_text(t: Translator, link: str) -> str:
    # The address as text (Slack links it): our mrkdwn never keeps a <link|…> (slack_safe).
    return t(":link: Join the meeting: {link}", link=link)


def _who(t: Translator, line: AgendaLine) -> str:
    if not line.agencies:
        return t("All agencies")
    return ", ".join(escape(a) for a in line.agencies)


def _level(t: Translator, level: int | None) -> str:
    return "–" if level is None else level_label(t, level)


def _effect_word(t: Translator, effect: str) -> str:
    return {"yes": t("yes"), "partly": t("partly"), "no": t("no")}.get(effect, effect)


def _pending(t: Translator, agenda: Agenda) -> str | None:
    """The rating round is still open: say so, and when the picture comes."""
    if agenda.picture is not None or agenda.picture_pending_until is None:
        return None
    return t(
        ":hourglass_flowing_sand: The rating round is still open: the situation picture comes "
        "when it closes, {when}.",
        when=t.day_time(agenda.picture_pending_until, agenda.zone),
    )


def _line_text(t: Translator, line: AgendaLine, agenda: Agenda) -> str:
    marks = ""
    if line.rolled_over:
        marks += " " + t("_(carried over)_")
    if line.discussed:
        marks += " ✓"
    if line.kind in (AgendaItemKind.NEW_CASE, AgendaItemKind.FOLLOW_UP):
        text = f"*{escape(line.reference or '')}*"
        slot = agenda.slot_of(line.item_id)
        if slot is not None:
            text = slot_time(t, slot, agenda.zone) + " · " + text
        if line.raising_agency:
            text += " · " + t("raised by {agency}", agency=escape(line.raising_agency))
        return f"{text}{marks}\n" + t("Attend: {agencies}", agencies=_who(t, line))
    if line.kind == AgendaItemKind.ACTION:
        due = t.day(line.due_on, year=False) if line.due_on else ""
        if line.action_done and line.effect:
            state = t("done · effect: {effect}", effect=_effect_word(t, line.effect))
        elif line.action_done:
            state = t("done — did it have the desired effect?")
        elif line.overdue:
            state = t(":warning: overdue since {date}", date=due)
        else:
            state = t("due {date}", date=due)
        owner = f"<@{line.owner}>" if line.owner else ""
        # The channel sees the action's number, owner and date, not what it is about (its
        # description may touch a case): members open it with /samverkan insatser.
        title = t("Action #{id}", id=line.action_id) if line.action_id else ""
        text = f"*{title}*{marks}\n" + t(
            "{agency} · {owner} · {state}", agency=_who(t, line), owner=owner, state=state
        )
        links = []
        if line.reference:
            links.append(escape(line.reference))
        if line.area:
            links.append(escape(line.area))
            if line.rating_before is not None or line.rating_after is not None:
                links.append(
                    t(
                        "highest level before {before}, after {after}",
                        before=_level(t, line.rating_before),
                        after=_level(t, line.rating_after),
                    )
                )
        return text + ("\n" + " · ".join(links) if links else "")
    added = t(" (added by <@{user}>)", user=line.added_by) if line.added_by else ""
    return f"{escape(line.text or '')}{added}{marks}\n" + t(
        "Attend: {agencies}", agencies=_who(t, line)
    )


def agenda_blocks(
    t: Translator,
    agenda: Agenda,
    *,
    picture_blocks: PictureBlocks | None = None,
    show_picture_section: bool = True,
    action_button: ActionButton | None = None,
) -> list[Block]:
    """Every block of the agenda, in order (split into messages by :func:`agenda_messages`)."""
    blocks: list[Block] = [
        header(t("Agenda: {forum} {when}", forum=agenda.forum_name, when=_when(t, agenda)))
    ]
    if agenda.late:
        blocks.append(
            context(
                t(
                    ":hourglass: Posted late: the bot was not running at the agenda time. "
                    "Nothing is missing."
                )
            )
        )
    if agenda.status == MeetingStatus.CANCELLED:
        blocks.append(section(t(":no_entry: *This meeting is cancelled.*")))
    if agenda.meeting_link:
        blocks.append(context(meeting_link_text(t, agenda.meeting_link)))
    needed = agenda.agencies_needed()
    if needed and agenda.picture is None:
        blocks.append(
            context(t("Attending: {agencies}", agencies=", ".join(escape(a) for a in needed)))
        )
    elif agenda.lines or agenda.picture is not None:
        # Items for everyone, or the situation picture, which every agency rated.
        blocks.append(context(t("Every agency is needed for at least one item.")))
    else:
        blocks.append(context(t("No items yet.")))
    number = 0
    for kind in SECTION_ORDER:
        if kind == AgendaItemKind.SITUATION_PICTURE and not (
            show_picture_section or agenda.picture is not None
        ):
            continue
        number += 1  # numbered as shown: a forum without a situation picture has four
        blocks.append(section(f"*{number}. " + t(SECTION_TITLES[kind]) + "*"))
        if kind == AgendaItemKind.SITUATION_PICTURE:
            pending = _pending(t, agenda)
            if agenda.picture is not None and picture_blocks is not None:
                # The agenda's own section title names it: no second header.
                blocks.extend(
                    b for b in picture_blocks(t, agenda.picture) if b.get("type") != "header"
                )
            elif pending:
                blocks.append(context(pending))
            else:
                blocks.append(context(t(EMPTY[kind])))
            continue
        lines = agenda.section(kind)
        if not lines:
            blocks.append(context(t(EMPTY[kind])))
        for line in lines:
            awaited = line.action_done and not line.effect
            if awaited and line.action_id is not None and action_button is not None:
                blocks.append(
                    section(
                        _line_text(t, line, agenda),
                        block_id=f"agenda:action:{line.action_id}",
                        accessory=action_button(t, line.action_id),
                    )
                )
            else:
                blocks.append(section(_line_text(t, line, agenda)))
        if kind == AgendaItemKind.ACTION and agenda.more_actions:
            more = t.ngettext(
                "… and {n} more action: {command} lists them all.",
                "… and {n} more actions: {command} lists them all.",
                agenda.more_actions,
                command=t("/samverkan actions"),
            )
            blocks.append(context(more))
    blocks.append(
        context(
            t(
                "Add other business with `/samverkan punkt …`. Case details are in "
                "`/samverkan ärenden`, for members only."
            )
        )
    )
    return blocks


def split(blocks: Sequence[Block], limit: int = MESSAGE_BLOCKS_MAX) -> list[list[Block]]:
    """Chunks of at most ``limit`` blocks, never leaving a section title last in a chunk."""
    chunks: list[list[Block]] = []
    current: list[Block] = []
    for block in blocks:
        if len(current) == limit:
            carry: list[Block] = []
            # A bold section title (a section with only "*…*") belongs with what follows.
            last = current[-1]
            title = str(last.get("text", {}).get("text", ""))
            if last.get("type") == "section" and title.startswith("*") and "\n" not in title:
                carry = [current.pop()]
            chunks.append(current)
            current = carry
        current.append(block)
    if current:
        chunks.append(current)
    return chunks


def agenda_messages(
    t: Translator,
    agenda: Agenda,
    *,
    picture_blocks: PictureBlocks | None = None,
    show_picture_section: bool = True,
    action_button: ActionButton | None = None,
) -> list[dict[str, Any]]:
    """The agenda as messages of at most 50 blocks each (the first is the channel post)."""
    blocks = agenda_blocks(
        t,
        agenda,
        picture_blocks=picture_blocks,
        show_picture_section=show_picture_section,
        action_button=action_button,
    )
    fallback = t("Agenda: {forum} {when}", forum=agenda.forum_name, when=_when(t, agenda))
    chunks = split(blocks)
    messages = []
    for n, chunk in enumerate(chunks):
        text = (
            fallback
            if n == 0
            else t("{title} (continued {n}/{total})", title=fallback, n=n + 1, total=len(chunks))
        )
        messages.append(message(text, chunk))
    return messages


def agenda_preview(
    t: Translator, agenda: Agenda, *, picture_blocks: PictureBlocks | None = None
) -> dict[str, Any]:
    """The coordinator's DM the day before: the agenda so far, and buttons to change it; a
    cancelled meeting's (the preview refreshed after the cancel) says so, without them."""
    if agenda.status == MeetingStatus.CANCELLED:
        text = t(
            ":no_entry: *{forum}*'s meeting {when} is cancelled: no agenda is posted in "
            "<#{channel}>.",
            forum=escape(agenda.forum_name),
            when=_when(t, agenda),
            channel=agenda.channel_id,
        )
        return message(
            t("Preview: agenda for {forum} {when}", forum=agenda.forum_name, when=_when(t, agenda)),
            [section(text)],
        )
    if agenda.posted:
        # Refreshed after the agenda went out: not "tomorrow's", and not still to come.
        lead = t(
            "The agenda for *{forum}* {when} is posted in <#{channel}>. You can still add "
            "or reorder items: the posted agenda is updated.",
            forum=escape(agenda.forum_name),
            when=_when(t, agenda),
            channel=agenda.channel_id,
        )
    else:
        lead = t(
            "Tomorrow's agenda for *{forum}* is posted in <#{channel}> at the agenda time. "
            "You can still add or reorder items.",
            forum=escape(agenda.forum_name),
            channel=agenda.channel_id,
        )
    pending = _pending(t, agenda)
    if pending:
        lead += "\n" + pending + " " + t("This preview is updated then.")
    if agenda.uncovered:
        lead += "\n" + t(
            ":warning: No one can attend for {agencies} (no member in the forum, or all "
            "marked away that day), though a case on the agenda needs them.",
            agencies=", ".join(escape(a) for a in agenda.uncovered),
        )
    intro = [
        section(lead),
        actions(
            button(
                t("Edit the agenda"),
                ACTION_AGENDA_EDIT,
                value=str(agenda.meeting_id),
                style="primary",
            ),
            button(t("Add an item"), ACTION_ITEM_ADD, value=str(agenda.meeting_id)),
            button(t("Time slots"), ACTION_SLOTS_OPEN, value=str(agenda.meeting_id)),
        ),
        divider(),
    ]
    # Numbered as the posted agenda will be: no situation-picture section in a forum that
    # rates nothing.
    body = agenda_blocks(
        t, agenda, picture_blocks=picture_blocks, show_picture_section=agenda.picture_expected
    )
    room = MESSAGE_BLOCKS_MAX - len(intro)
    if len(body) > room:
        body = [*body[: room - 1], context(t("… and more: open “Edit the agenda” to see all."))]
    return message(
        t("Preview: agenda for {forum} {when}", forum=agenda.forum_name, when=_when(t, agenda)),
        intro + body,
    )
