"""Block Kit for meetings and agendas. Pure functions returning dicts.

The posted agenda is a channel message: references, agencies, owners and dates only,
never case details. Long agendas are split into messages of at most 50 blocks; the
first is the post, the rest go in its thread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from domain.agenda import SECTION_ORDER, Agenda, AgendaLine
from domain.i18n import N_, Translator
from domain.meetings import CANCEL_REASON_MAX
from domain.ratings import level_label
from domain.slots import Slot
from handlers.blocks.common import (
    MESSAGE_BLOCKS_MAX,
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    escape,
    header,
    input_block,
    message,
    modal,
    option,
    plain,
    section,
    text_input,
)
from storage.models import AgendaItemKind, MeetingStatus

CB_ITEM_ADD = "agenda_item_add"
CB_AGENDA_EDIT = "agenda_edit"
CB_MEETING_MOVE = "meeting_move"
CB_MEETING_CANCEL = "meeting_cancel"
CB_MEETING_RECORD = "meeting_record"
ACTION_AGENDA_EDIT = "agenda_edit_open"
ACTION_ITEM_ADD = "agenda_item_add_open"
ACTION_ITEM_MENU = "agenda_item_menu"
ACTION_MEETING_MENU = "meeting_menu"
ACTION_MEETING_RECORD = "meeting_record_open"
ACTION_SLOTS_OPEN = "slots_open"  # the time slots modal (handlers/minutes.py)
ITEM_TEXT_MAX = 300
CHECKBOXES_MAX = 10

SECTION_TITLES: dict[AgendaItemKind, str] = {
    AgendaItemKind.NEW_CASE: N_("New cases"),
    AgendaItemKind.FOLLOW_UP: N_("Cases for follow-up"),
    AgendaItemKind.SITUATION_PICTURE: N_("Situation picture"),
    AgendaItemKind.ACTION: N_("Actions due"),
    AgendaItemKind.OTHER: N_("Any other business"),
}
EMPTY: dict[AgendaItemKind, str] = {
    AgendaItemKind.NEW_CASE: N_("No new cases."),
    AgendaItemKind.FOLLOW_UP: N_("No cases for follow-up."),
    AgendaItemKind.SITUATION_PICTURE: N_("No situation picture for this meeting."),
    AgendaItemKind.ACTION: N_("No actions due."),
    AgendaItemKind.OTHER: N_("No other business yet."),
}

PictureBlocks = Callable[[Translator, Any], list[Block]]
# A button for a done action whose effect is to be followed up (the actions feature's own).
ActionButton = Callable[[Translator, int], Block]


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
    """The coordinator's DM the day before: the agenda so far, and buttons to change it."""
    lead = t(
        "Tomorrow's agenda for *{forum}* is posted in <#{channel}> at the agenda time. "
        "You can still add or reorder items.",
        forum=escape(agenda.forum_name),
        channel=agenda.channel_id,
    )
    pending = _pending(t, agenda)
    if pending:
        lead += "\n" + pending + " " + t("This preview is updated then.")
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
    body = agenda_blocks(t, agenda, picture_blocks=picture_blocks)
    room = MESSAGE_BLOCKS_MAX - len(intro)
    if len(body) > room:
        body = [*body[: room - 1], context(t("… and more: open “Edit the agenda” to see all."))]
    return message(
        t("Preview: agenda for {forum} {when}", forum=agenda.forum_name, when=_when(t, agenda)),
        intro + body,
    )


def _item_label(t: Translator, line: AgendaLine) -> str:
    if line.reference:
        return f"*{escape(line.reference)}*"
    if line.kind == AgendaItemKind.ACTION and line.action_id:
        return "*" + t("Action #{id}", id=line.action_id) + "*"
    return escape(clip(line.text or "", 200))


def edit_modal(t: Translator, agenda: Agenda, *, private_metadata: str, can_reorder: bool) -> Block:
    """Items with a menu each (up, down, remove) and a field to add other business."""
    blocks: list[Block] = [
        context(t("{forum} {when}", forum=escape(agenda.forum_name), when=_when(t, agenda)))
    ]
    for kind, title in SECTION_TITLES.items():
        lines = agenda.section(kind)
        if not lines:
            continue
        blocks.append(section("*" + t(title) + "*"))
        for line in lines:
            options = []
            if can_reorder:
                options += [
                    option(t("Move up"), f"up:{line.item_id}"),
                    option(t("Move down"), f"down:{line.item_id}"),
                ]
            options.append(option(t("Remove from the agenda"), f"remove:{line.item_id}"))
            if can_reorder and line.kind == AgendaItemKind.OTHER and line.text:
                # Coordinators mask text that identifies someone (kept nowhere after).
                options.append(option(t("Mask the text"), f"redact:{line.item_id}"))
            blocks.append(
                section(
                    _item_label(t, line),
                    block_id=f"item:{line.item_id}",
                    accessory={
                        "type": "overflow",
                        "action_id": ACTION_ITEM_MENU,
                        "options": options,
                    },
                )
            )
    room = 100 - 3
    if len(blocks) > room:
        blocks = [
            *blocks[: room - 1],
            context(t("The agenda is long: only the first items are shown.")),
        ]
    blocks.append(divider())
    blocks.append(
        input_block(
            "text",
            t("Add other business"),
            text_input("text", max_length=ITEM_TEXT_MAX, multiline=True),
            optional=True,
            hint=t("No names or other identifying details: this is posted in the channel."),
        )
    )
    return modal(
        callback_id=CB_AGENDA_EDIT,
        title=t("Agenda"),
        blocks=blocks,
        submit=t("Save"),
        close=t("Close"),
        private_metadata=private_metadata,
    )


def add_item_modal(
    t: Translator,
    *,
    agencies: Sequence[tuple[int, str]],
    meetings: Sequence[tuple[int, dt.datetime]],
    tz: dt.tzinfo,
    private_metadata: str,
    text: str | None = None,
) -> Block:
    meeting_options = [option(t.day_time(start, tz), str(mid)) for mid, start in meetings[:100]]
    blocks: list[Block] = [
        input_block(
            "text",
            t("What do you want to raise?"),
            text_input("text", initial=text, max_length=ITEM_TEXT_MAX, multiline=True),
            hint=t("No names or other identifying details: this is posted in the channel."),
        ),
        input_block(
            "agencies",
            t("Agencies that need to attend"),
            {
                "type": "multi_static_select",
                "action_id": "agencies",
                "placeholder": plain(t("Every agency"), 150),
                "options": [option(name, str(aid)) for aid, name in agencies[:100]],
            },
            optional=True,
        ),
    ]
    if meeting_options:
        blocks.append(
            input_block(
                "meeting",
                t("Meeting"),
                {
                    "type": "static_select",
                    "action_id": "meeting",
                    "options": meeting_options,
                    "initial_option": meeting_options[0],
                },
            )
        )
    return modal(
        callback_id=CB_ITEM_ADD,
        title=t("Other business"),
        blocks=blocks,
        submit=t("Add"),
        close=t("Cancel"),
        private_metadata=private_metadata,
    )


def item_added_text(t: Translator, start: dt.datetime, tz: dt.tzinfo) -> str:
    return ":white_check_mark: " + t("Added to the agenda for {when}.", when=t.day_time(start, tz))


def _meeting_label(t: Translator, start: dt.datetime, tz: dt.tzinfo) -> str:
    return t.day_time(start, tz)


def meetings_message(
    t: Translator,
    *,
    forum_name: str,
    upcoming: Sequence[tuple[int, dt.datetime, MeetingStatus, str | None, bool]],
    recent: Sequence[tuple[int, dt.datetime, MeetingStatus]],
    tz: dt.tzinfo,
    is_coordinator: bool,
) -> dict[str, Any]:
    """``/samverkan möten``: the next meetings (with move/cancel for coordinators) and
    recent ones (to record attendance). ``upcoming`` rows are (id, start, status,
    holiday name, changed by hand)."""
    blocks: list[Block] = [header(t("Meetings: {forum}", forum=forum_name))]
    if not upcoming:
        blocks.append(context(t("No meetings are planned. Check the forum's schedule.")))
    for mid, start, status, holiday, changed in upcoming:
        text = f"*{_meeting_label(t, start, tz)}*"
        if status == MeetingStatus.CANCELLED:
            text = f"~{_meeting_label(t, start, tz)}~ " + t("cancelled")
        notes = []
        if holiday:
            notes.append(
                t("moved for {holiday}", holiday=holiday)
                if status == MeetingStatus.PLANNED
                else holiday
            )
        if changed and status == MeetingStatus.PLANNED:
            notes.append(t("moved by a coordinator"))
        if notes:
            text += "\n" + " · ".join(notes)
        accessory = None
        if is_coordinator and status == MeetingStatus.CANCELLED:
            accessory = {
                "type": "overflow",
                "action_id": ACTION_MEETING_MENU,
                "options": [option(t("Mask the cancel reason"), f"redact_note:{mid}")],
            }
        if is_coordinator and status == MeetingStatus.PLANNED:
            accessory = {
                "type": "overflow",
                "action_id": ACTION_MEETING_MENU,
                "options": [
                    option(t("Edit the agenda"), f"agenda:{mid}"),
                    option(t("Move this meeting"), f"move:{mid}"),
                    option(t("Cancel this meeting"), f"cancel:{mid}"),
                ],
            }
        blocks.append(section(text, block_id=f"meeting:{mid}", accessory=accessory))
    if recent and is_coordinator:
        blocks.append(divider())
        blocks.append(section("*" + t("Recent meetings") + "*"))
        for mid, start, status in recent:
            label = _meeting_label(t, start, tz)
            if status == MeetingStatus.HELD:
                label += " · " + t("recorded")
            blocks.append(
                section(
                    label,
                    accessory=button(t("Record attendance"), ACTION_MEETING_RECORD, value=str(mid)),
                )
            )
    return message(t("Meetings: {forum}", forum=forum_name), blocks)


def move_modal(t: Translator, *, start: dt.datetime, tz: dt.tzinfo, private_metadata: str) -> Block:
    local = start.astimezone(tz)
    return modal(
        callback_id=CB_MEETING_MOVE,
        title=t("Move meeting"),
        blocks=[
            context(t("Now: {when}", when=t.day_time(start, tz))),
            input_block(
                "day",
                t("New day"),
                {
                    "type": "datepicker",
                    "action_id": "day",
                    "initial_date": local.date().isoformat(),
                },
            ),
            input_block(
                "start",
                t("Start time"),
                {
                    "type": "timepicker",
                    "action_id": "start",
                    "initial_time": local.strftime("%H:%M"),
                },
            ),
        ],
        submit=t("Move"),
        close=t("Cancel"),
        private_metadata=private_metadata,
    )


def cancel_modal(
    t: Translator, *, start: dt.datetime, tz: dt.tzinfo, private_metadata: str
) -> Block:
    return modal(
        callback_id=CB_MEETING_CANCEL,
        title=t("Cancel meeting"),
        blocks=[
            section(
                t(
                    "Cancel the meeting {when}? Its agenda items and cases move to the next "
                    "meeting.",
                    when=t.day_time(start, tz),
                )
            ),
            input_block(
                "reason",
                t("Reason (shown in the channel)"),
                text_input("reason", max_length=CANCEL_REASON_MAX),
                optional=True,
            ),
        ],
        submit=t("Cancel meeting"),
        close=t("Keep it"),
        private_metadata=private_metadata,
    )


def meeting_changed_message(
    t: Translator,
    *,
    forum_name: str,
    old_start: dt.datetime,
    new_start: dt.datetime | None,
    tz: dt.tzinfo,
    reason: str | None,
) -> dict[str, Any]:
    if new_start is None:
        text = t(
            ":no_entry: {forum}'s meeting {when} is cancelled.",
            forum=escape(forum_name),
            when=t.day_time(old_start, tz),
        )
        if reason:
            text += " " + escape(reason)
    else:
        text = t(
            ":calendar: {forum}'s meeting {old} is moved to {new}.",
            forum=escape(forum_name),
            old=t.day_time(old_start, tz),
            new=t.day_time(new_start, tz),
        )
    return message(text, [section(text)])


def record_modal(
    t: Translator,
    *,
    start: dt.datetime,
    tz: dt.tzinfo,
    agencies: Sequence[tuple[int, str]],
    attended: Sequence[int] | None,
    items: Sequence[tuple[int, str]],
    private_metadata: str,
) -> Block:
    """Attendance (agencies) and discussed items; what is left unticked rolls over."""
    blocks: list[Block] = [context(t.day_time(start, tz))]
    agency_options = [option(name, str(aid)) for aid, name in agencies[:100]]
    element: Block = {
        "type": "multi_static_select",
        "action_id": "attended",
        "options": agency_options,
        "placeholder": plain(t("Choose agencies"), 150),
    }
    chosen = [o for o in agency_options if int(o["value"]) in set(attended or [])]
    if chosen:
        element["initial_options"] = chosen
    blocks.append(input_block("attended", t("Agencies present"), element, optional=True))
    for n in range(0, min(len(items), 90 * CHECKBOXES_MAX), CHECKBOXES_MAX):
        chunk = items[n : n + CHECKBOXES_MAX]
        blocks.append(
            input_block(
                f"discussed:{n // CHECKBOXES_MAX}",
                t("Discussed") if n == 0 else t("Discussed (continued)"),
                {
                    "type": "checkboxes",
                    "action_id": "discussed",
                    "options": [
                        {
                            "text": {"type": "mrkdwn", "text": escape(clip(label, 150))},
                            "value": str(iid),
                        }
                        for iid, label in chunk
                    ],
                },
                optional=True,
            )
        )
    if not items:
        blocks.append(context(t("The agenda had no items.")))
    else:
        blocks.append(context(t("Items left unticked are carried over to the next meeting.")))
    return modal(
        callback_id=CB_MEETING_RECORD,
        title=t("Record meeting"),
        blocks=blocks,
        submit=t("Save"),
        close=t("Cancel"),
        private_metadata=private_metadata,
    )


def recorded_text(t: Translator, next_start: dt.datetime | None, tz: dt.tzinfo) -> str:
    if next_start is None:
        return ":white_check_mark: " + t(
            "Saved. There is no next meeting planned to carry items to."
        )
    return ":white_check_mark: " + t(
        "Saved. Items not discussed are on the agenda for {when}.", when=t.day_time(next_start, tz)
    )
