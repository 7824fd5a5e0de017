"""The list of meetings, moving, cancelling and recording a meeting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

from domain.i18n import Translator
from domain.meetings import CANCEL_REASON_MAX
from handlers.blocks.agenda.ids import (
    ACTION_MEETING_EXTRA,
    ACTION_MEETING_MENU,
    ACTION_MEETING_RECORD,
    CB_MEETING_CANCEL,
    CB_MEETING_EXTRA,
    CB_MEETING_MOVE,
    CB_MEETING_RECORD,
    CHECKBOXES_MAX,
)
from handlers.blocks.agenda.modals import _meeting_label
from handlers.blocks.common import (
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
from storage.models import MeetingStatus


def meetings_message(
    t: Translator,
    *,
    forum_name: str,
    upcoming: Sequence[tuple[int, dt.datetime, MeetingStatus, str | None, bool]],
    recent: Sequence[tuple[int, dt.datetime, MeetingStatus]],
    tz: dt.tzinfo,
    is_coordinator: bool,
    forum_id: int = 0,
    extra: Collection[int] = (),
) -> dict[str, Any]:
    """``/samverkan möten``: the next meetings (with move/cancel for coordinators, and a
    button to add an extra meeting) and recent ones (to record attendance). ``upcoming``
    rows are (id, start, status, holiday name, changed by hand); ``extra``: the ids of
    extra meetings among them."""
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
        if mid in extra:
            notes.append(t("extra meeting"))
        elif changed and status == MeetingStatus.PLANNED:
            notes.append(t("moved by a coordinator"))
        if notes:
            text += "\n" + " · ".join(notes)
        accessory = None
        if is_coordinator and status == MeetingStatus.CANCELLED:
            # A cancelled meeting can still be held on another day (a holiday's meeting the
            # forum meets anyway, e.g. the Wednesday before); only a coordinator's cancel
            # has a reason to mask (a holiday's has none).
            cancelled = [option(t("Move this meeting"), f"move:{mid}")]
            if changed:
                cancelled.append(option(t("Mask the cancel reason"), f"redact_note:{mid}"))
            accessory = {"type": "overflow", "action_id": ACTION_MEETING_MENU, "options": cancelled}
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
    if is_coordinator:
        blocks.append(
            actions(button(t("Add an extra meeting"), ACTION_MEETING_EXTRA, value=str(forum_id)))
        )
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
                    accessory=button(
                        t("Attendance and items"), ACTION_MEETING_RECORD, value=str(mid)
                    ),
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


def extra_modal(t: Translator, *, day: dt.date, start: dt.time, private_metadata: str) -> Block:
    """A one-off meeting between the scheduled ones (an urgent situation)."""
    return modal(
        callback_id=CB_MEETING_EXTRA,
        title=t("Extra meeting"),
        blocks=[
            section(
                t(
                    "An extra meeting between the scheduled ones, for example for an urgent "
                    "situation. It gets an agenda like any other meeting, and the channel is "
                    "told."
                )
            ),
            input_block(
                "day",
                t("Day"),
                {"type": "datepicker", "action_id": "day", "initial_date": day.isoformat()},
            ),
            input_block(
                "start",
                t("Start time"),
                {
                    "type": "timepicker",
                    "action_id": "start",
                    "initial_time": start.strftime("%H:%M"),
                },
            ),
        ],
        submit=t("Add"),
        close=t("Cancel"),
        private_metadata=private_metadata,
    )


def extra_meeting_message(
    t: Translator, *, forum_name: str, start: dt.datetime, tz: dt.tzinfo
) -> dict[str, Any]:
    """The channel's notice of an extra meeting."""
    text = t(
        ":calendar: {forum} has an extra meeting {when}. Add items to its agenda with "
        "`/samverkan item`.",
        forum=escape(forum_name),
        when=t.day_time(start, tz),
    )
    return message(text, [section(text)])


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
    ticked: Collection[int] = (),
) -> Block:
    """Attendance (agencies) and discussed items; what is left unticked rolls over.
    ``ticked``: the items shown ticked (discussed already, by the record or the minutes)."""
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
        boxes: Block = {
            "type": "checkboxes",
            "action_id": "discussed",
            "options": [
                {
                    "text": {"type": "mrkdwn", "text": escape(clip(label, 150))},
                    "value": str(iid),
                }
                for iid, label in chunk
            ],
        }
        pre = [o for o, (iid, _label) in zip(boxes["options"], chunk, strict=True) if iid in ticked]
        if pre:
            boxes["initial_options"] = pre
        blocks.append(
            input_block(
                f"discussed:{n // CHECKBOXES_MAX}",
                t("Discussed") if n == 0 else t("Discussed (continued)"),
                boxes,
                optional=True,
            )
        )
    if not items:
        blocks.append(context(t("The agenda had no items.")))
    else:
        blocks.append(context(t("Items left unticked are carried over to the next meeting.")))
        blocks.append(
            context(
                t(
                    "Decisions, actions and follow-ups per case go in the minutes: the "
                    "*Write the minutes* button in the message after the meeting."
                )
            )
        )
    return modal(
        callback_id=CB_MEETING_RECORD,
        title=t("Attendance and items"),
        blocks=blocks,
        submit=t("Save"),
        close=t("Cancel"),
        private_metadata=private_metadata,
    )


def recorded_text(
    t: Translator, next_start: dt.datetime | None, tz: dt.tzinfo, *, not_discussed: int
) -> str:
    """The coordinator's note after recording a meeting: where the undiscussed items went
    (nothing about carrying items over when every item was discussed)."""
    if not_discussed == 0:
        return ":white_check_mark: " + t("Saved. Every item on the agenda was discussed.")
    if next_start is None:
        return ":white_check_mark: " + t(
            "Saved. There is no next meeting planned to carry items to."
        )
    return ":white_check_mark: " + t(
        "Saved. Items not discussed are on the agenda for {when}.", when=t.day_time(next_start, tz)
    )
