"""Block Kit for case slots, "Inför mötet", the morning DM and the minutes. Pure functions.

The channel never sees more than references, times and agency names; the details of
"Inför mötet" reach only the member it is built for (DM, App Home), per the disclosure rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from domain import slots as slot_service
from domain.agenda import Agenda
from domain.cases import CONCERNS
from domain.i18n import Translator
from domain.minutes import (
    DECISION_MAX,
    MinuteCase,
    MinutesPage,
    Preparation,
    PrepCase,
    Prompt,
    action_field,
    decision_field,
    due_field,
    follow_up_field,
    owner_field,
)
from domain.pages import CasesPage
from handlers.blocks.actions import owner_element
from handlers.blocks.agenda import ACTION_SLOTS_OPEN, meeting_link_text, slot_time
from handlers.blocks.cases import age_band_label
from handlers.blocks.common import (
    Block,
    actions,
    button,
    context,
    divider,
    escape,
    header,
    input_block,
    message,
    modal,
    option,
    section,
    text_input,
)
from handlers.blocks.home import HomeSection

CB_SLOTS = "slots_save"
CB_MINUTES = "minutes_save"
ACTION_MINUTES_OPEN = "minutes_open"


def _time(t: Translator, start: dt.datetime, end: dt.datetime, zone: dt.tzinfo) -> str:
    return t(
        "{start}–{end}",
        start=start.astimezone(zone).strftime("%H:%M"),
        end=end.astimezone(zone).strftime("%H:%M"),
    )


def _concerns(t: Translator, keys: Sequence[str]) -> str:
    return ", ".join(t(CONCERNS[k]) if k in CONCERNS else escape(k) for k in keys)


# --- a modal shown page by page (domain.pages) ------------------------------------------------


def _page_heading(t: Translator, page: CasesPage, saved: str | None) -> list[Block]:
    """Which of the meeting's cases the page shows (when there are pages), and what the
    page before saved."""
    blocks: list[Block] = []
    if page.paged and page.shown:
        blocks.append(
            section(
                "*"
                + t(
                    "Cases {first}–{last} of {total}",
                    first=page.first,
                    last=page.last,
                    total=page.total,
                )
                + "*"
            )
        )
    if saved:
        blocks.append(context(":white_check_mark: " + saved))
    return blocks


def _page_submit(t: Translator, page: CasesPage) -> str:
    return t("Save and show next") if page.has_next else t("Save")


# --- the slots modal --------------------------------------------------------------------------


def slots_button(t: Translator, meeting_id: int) -> Block:
    return button(t("Time slots"), ACTION_SLOTS_OPEN, value=str(meeting_id))


def slots_modal(
    t: Translator,
    agenda: Agenda,
    *,
    page: slot_service.SlotsPage,
    default: int,
    private_metadata: str,
    saved: str | None = None,
) -> Block:
    """One page of the slots: per case its place in the whole agenda's order and its length;
    the forum's default length and its meeting link. A page with more after it submits as
    "Save and show next"; ``saved`` says what the page before saved."""
    zone = agenda.zone
    count = len(agenda.slots)
    blocks: list[Block] = [
        *_page_heading(t, page, saved),
        section(
            t(
                "The cases get their slots in this order from the meeting's start "
                "({start}–{end}). Each agency joins for its cases.",
                start=agenda.starts_at.astimezone(zone).strftime("%H:%M"),
                end=agenda.ends_at.astimezone(zone).strftime("%H:%M"),
            )
        ),
        input_block(
            "meeting_link",
            t("Meeting link (Teams, Zoom, Meet …)"),
            {
                "type": "url_text_input",
                "action_id": "value",
                **({"initial_value": agenda.meeting_link} if agenda.meeting_link else {}),
            },
            optional=True,
            hint=t("Shown in the agenda and in the morning messages. An https address."),
        ),
        input_block(
            "slot_default",
            t("Default slot length (minutes)"),
            {
                "type": "number_input",
                "action_id": "value",
                "is_decimal_allowed": False,
                "initial_value": str(default),
                "min_value": str(slot_service.SLOT_MINUTES_MIN),
                "max_value": str(slot_service.SLOT_MINUTES_MAX),
            },
        ),
    ]
    if not agenda.slots:
        blocks.append(context(t("No cases on this agenda yet.")))
    # Every place of the whole agenda, on every page (a select holds 100 options).
    places = [option(str(n), str(n)) for n in range(1, count + 1)]
    choices: Block = (
        {"options": places}
        if count <= 100
        else {
            "option_groups": [
                {
                    "label": {"type": "plain_text", "text": f"{n + 1}–{min(n + 100, count)}"},
                    "options": places[n : n + 100],
                }
                for n in range(0, count, 100)
            ]
        }
    )
    if page.paged:
        blocks.append(
            context(t("A case given another place moves there; the others keep their order."))
        )
    for slot in page.slots:
        blocks.append(divider())
        blocks.append(
            section(
                f"*{escape(slot.reference)}* · {_time(t, slot.starts_at, slot.ends_at, zone)}\n"
                + t("Attend: {agencies}", agencies=", ".join(escape(a) for a in slot.agencies))
            )
        )
        blocks.append(
            input_block(
                slot_service.place_field(slot.item_id),
                t("Place in the order"),
                {
                    "type": "static_select",
                    "action_id": "value",
                    **choices,
                    "initial_option": option(str(slot.place), str(slot.place)),
                },
            )
        )
        blocks.append(
            input_block(
                slot_service.minutes_field(slot.item_id),
                t("Length (minutes)"),
                {
                    "type": "number_input",
                    "action_id": "value",
                    "is_decimal_allowed": False,
                    "initial_value": str(slot.minutes),
                    "min_value": str(slot_service.SLOT_MINUTES_MIN),
                    "max_value": str(slot_service.SLOT_MINUTES_MAX),
                },
            )
        )
    return modal(
        callback_id=CB_SLOTS,
        title=t("Time slots"),
        blocks=blocks,
        submit=_page_submit(t, page),
        close=t("Cancel"),
        private_metadata=private_metadata,
    )


def slots_saved_text(t: Translator, *, added: int = 0) -> str:
    """The note after the slots are saved; ``added``: cases put on the agenda while the
    modal was open, which no page showed."""
    text = t("Saved. The agenda and the morning messages show the new slots.")
    if added:
        text += " " + t.ngettext(
            "{n} case was added while you were planning; open Time slots again to give it a time.",
            "{n} cases were added while you were planning; open Time slots again to give "
            "them times.",
            added,
        )
    return text


# --- Inför mötet ------------------------------------------------------------------------------


def _prep_line(t: Translator, case: PrepCase, zone: dt.tzinfo) -> str:
    when = _time(t, case.starts_at, case.ends_at, zone)
    line = f"*{escape(case.reference)}* " + t("at {time}", time=when)
    if case.needed:
        line += " — " + t("your agency is needed")
    if not case.details:
        return line
    line += "\n" + t(
        "Concerns: {concerns} · {age}",
        concerns=_concerns(t, case.concerns) or "–",
        age=age_band_label(t, case.age_band or ""),
    )
    if case.last_agreed:
        line += "\n" + t("Agreed last time: {text}", text=escape(case.last_agreed))
    return line


def preparation_blocks(t: Translator, prep: Preparation, *, note: str | None = None) -> list[Block]:
    """ "Inför mötet": the member's own cases with details where allowed, then the rest;
    ``note`` (a line of the morning DM) right under the heading."""
    zone = prep.zone
    start = prep.starts_at.astimezone(zone)
    blocks: list[Block] = [
        section(
            "*"
            + t(
                "Before the meeting: {forum} {day} {time}",
                forum=escape(prep.forum_name),
                day=t.day(start.date(), year=False),
                time=_time(t, prep.starts_at, prep.ends_at, zone),
            )
            + "*"
        )
    ]
    if prep.link:
        blocks.append(context(meeting_link_text(t, prep.link)))
    if note:
        blocks.append(section(note))
    mine = prep.needed
    others = [c for c in prep.cases if not c.needed]
    for case in mine[:20]:
        blocks.append(section(_prep_line(t, case, zone)))
    if others:
        lines = [_prep_line(t, c, zone) for c in others[:30]]
        blocks.append(context(t("Other cases: {cases}", cases="; ".join(lines))[:3000]))
    return blocks


def morning_dm(prep: Preparation) -> dict[str, Any]:
    t = Translator(prep.locale)
    zone = prep.zone
    needed = prep.needed
    if needed:
        summary = "\n".join(
            t(
                "{reference} at {time} — your agency is needed",
                reference=escape(c.reference),
                time=_time(t, c.starts_at, c.ends_at, zone),
            )
            for c in needed
        )
    else:
        summary = t("Your agency is not needed for any case today.")
    fallback = t("Today's meeting in {forum}", forum=prep.forum_name)
    # The summary is the notification; the blocks name each needed case once, with its
    # details (a summary block above them said each a second time).
    note = None if needed else summary
    return message(fallback + "\n" + summary, preparation_blocks(t, prep, note=note)[:50])


HOME_PREPARATIONS = 3  # "Inför mötet" on App Home: the next meetings of this many forums


def home_section(t: Translator, preps: Sequence[Preparation]) -> HomeSection:
    """App Home's "Inför mötet": one entry per forum's next meeting with cases."""

    def more(n: int) -> Block:
        return context(
            t.ngettext(
                "…and the next meeting of {n} more forum: its agenda is in its channel.",
                "…and the next meetings of {n} more forums: each agenda is in its channel.",
                n,
            )
        )

    return HomeSection(
        entries=[[divider(), *preparation_blocks(t, p)] for p in preps[:HOME_PREPARATIONS]],
        more=more,
        left_out=max(0, len(preps) - HOME_PREPARATIONS),
    )


# --- the minutes ------------------------------------------------------------------------------


def minutes_prompt(prompt: Prompt) -> dict[str, Any]:
    t = Translator(prompt.locale)
    text = t(
        "The meeting of {forum} {when} has ended. Write the minutes: what was decided per "
        "case, new actions and the next follow-up.",
        forum=escape(prompt.forum_name),
        when=t.day_time(prompt.starts_at, _zone(prompt.timezone)),
    )
    return message(
        text,
        [
            section(text),
            actions(
                button(
                    t("Write the minutes"),
                    ACTION_MINUTES_OPEN,
                    value=str(prompt.meeting_id),
                    style="primary",
                )
            ),
        ],
    )


def _zone(name: str) -> dt.tzinfo:
    import zoneinfo

    return zoneinfo.ZoneInfo(name)


def minutes_modal(
    t: Translator,
    *,
    forum_name: str,
    starts_at: dt.datetime,
    zone: dt.tzinfo,
    page: MinutesPage,
    private_metadata: str,
    saved: str | None = None,
    names: Mapping[str, str] | None = None,
) -> Block:
    """One page of the minutes: its cases, which of the meeting's they are, and (``saved``)
    what the page before saved. A page with more after it submits as "Save and show next".
    Each case's owner picker offers who may own its action (``names``: what Slack calls
    them; :func:`handlers.blocks.actions.owner_element`)."""
    names = names or {}
    cases: Sequence[MinuteCase] = page.cases
    blocks: list[Block] = [
        header(t("Minutes: {forum} {when}", forum=forum_name, when=t.day_time(starts_at, zone))),
    ]
    blocks += _page_heading(t, page, saved)
    blocks.append(
        context(
            t(
                "Write decisions without names or other identifying details. The channel is "
                "told that minutes exist, with the references only."
            )
        )
    )
    if not cases:
        blocks.append(section(t("No cases were on this meeting's agenda.")))
    for case in cases:
        when = " · " + _time(t, case.slot.starts_at, case.slot.ends_at, zone) if case.slot else ""
        blocks.append(divider())
        blocks.append(section(f"*{escape(case.reference)}*{when}"))
        blocks.append(
            input_block(
                decision_field(case.case_id),
                t("Decision or agreed next step"),
                text_input("value", initial=case.decision, multiline=True, max_length=DECISION_MAX),
                optional=True,
            )
        )
        blocks.append(
            input_block(
                action_field(case.case_id),
                t("New action"),
                text_input("value", max_length=1000),
                optional=True,
                hint=t("With an owner and a due date it is added to the action list."),
            )
        )
        blocks.append(
            input_block(
                owner_field(case.case_id),
                t("Owner of the action"),
                owner_element(t, case.owners, names),
                optional=True,
            )
        )
        blocks.append(
            input_block(
                due_field(case.case_id),
                t("Due date of the action"),
                {"type": "datepicker", "action_id": "value"},
                optional=True,
            )
        )
        picker: Block = {"type": "datepicker", "action_id": "value"}
        if case.follow_up_on:
            picker["initial_date"] = case.follow_up_on.isoformat()
        blocks.append(
            input_block(
                follow_up_field(case.case_id),
                t("Next follow-up"),
                picker,
                optional=True,
                hint=t("The case comes back on the agenda of the first meeting from that day."),
            )
        )
    view = modal(
        callback_id=CB_MINUTES,
        title=t("Minutes per case"),
        blocks=blocks,
        submit=_page_submit(t, page) if cases else None,
        close=t("Cancel"),
        private_metadata=private_metadata,
    )
    if page.page > 1:  # closed here, the pages before are saved: the channel is told
        view["notify_on_close"] = True
    return view


def minutes_saved_text(
    t: Translator, *, references: Sequence[str], actions: int, follow_ups: Sequence[str]
) -> str:
    if not references:
        return t("Nothing to record: every field was empty.")
    text = t.ngettext(
        "Minutes saved for {n} case.", "Minutes saved for {n} cases.", len(references)
    )
    if actions:
        text += " " + t.ngettext(
            "{n} new action is in the action list; its owner got it as a direct message.",
            "{n} new actions are in the action list; their owners got them as direct messages.",
            actions,
        )
    if follow_ups:
        text += " " + t(
            "Back on the agenda for follow-up: {references}.",
            references=", ".join(escape(r) for r in follow_ups),
        )
    return text


__all__ = ["ACTION_SLOTS_OPEN", "slot_time"]
