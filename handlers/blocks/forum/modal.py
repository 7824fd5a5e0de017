"""The forum modal (create and edit): agencies, the meeting schedule and the calendar."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from domain.calendar import DEFAULT_AGENDA_TIME, EXTRA_DAY_LABELS, EXTRA_DAYS_OFF
from domain.forums import DEFAULT_AGENCIES, TEMPLATES, ForumDraft
from domain.i18n import N_, Translator
from domain.schedule_words import (
    ORDINALS,
    REPEAT_LABELS,
    REPEATS,
    WEEKDAYS,
    WEEKS_OF_MONTH,
    pick_of,
    schedule_words,
    time_range,
)
from handlers.blocks.common import (
    Block,
    actions,
    button,
    escape,
    input_block,
    modal,
    option,
    section,
    text_input,
)
from handlers.blocks.criteria import ACTION_OPEN as CRITERIA_OPEN
from handlers.blocks.forum.ids import (
    ACTION_OPEN_MEMBERS,
    ACTION_TEMPLATE,
    CB_FORUM_CREATE,
    CB_FORUM_EDIT,
)


def _agency_options(names: Sequence[str]) -> list[Block]:
    merged = list(dict.fromkeys([*DEFAULT_AGENCIES, *names]))[:100]
    return [option(n, n) for n in merged]


HOLIDAY_CHOICES = (
    ("skip", N_("No meeting (cancelled)")),
    ("earlier", N_("Moved to the working day before")),
    ("later", N_("Moved to the working day after")),
)
AGENDA_DAY_CHOICES = (
    (0, N_("On the meeting day")),
    # Working days, as action reminders count: a weekend or a day off is skipped.
    (1, N_("The working day before")),
    (2, N_("Two working days before")),
    (3, N_("Three working days before")),
)


def calendar_blocks(t: Translator, draft: ForumDraft, bid: Callable[[str], str]) -> list[Block]:
    """Holidays, the de facto days off and when the agenda is posted."""
    policy_options = [option(t(label), value) for value, label in HOLIDAY_CHOICES]
    policy: Block = {"type": "static_select", "action_id": "value", "options": policy_options}
    chosen = draft.holiday_policy or "skip"
    policy["initial_option"] = next(o for o in policy_options if o["value"] == chosen)
    day_options = [option(t(EXTRA_DAY_LABELS[key]), key) for key in EXTRA_DAYS_OFF]
    days: Block = {"type": "checkboxes", "action_id": "value", "options": day_options}
    off = set(EXTRA_DAYS_OFF if draft.extra_days_off is None else draft.extra_days_off)
    if off:
        days["initial_options"] = [o for o in day_options if o["value"] in off]
    when_options = [option(t(label), str(n)) for n, label in AGENDA_DAY_CHOICES]
    when: Block = {
        "type": "static_select",
        "action_id": "value",
        "options": when_options,
        "initial_option": when_options[min(draft.agenda_days_before or 0, 3)],
    }
    at: Block = {
        "type": "timepicker",
        "action_id": "value",
        "initial_time": (draft.agenda_time or DEFAULT_AGENDA_TIME).strftime("%H:%M"),
    }
    return [
        input_block(bid("holidays"), t("Meetings on public holidays"), policy),
        input_block(
            bid("days_off"),
            t("Also days off"),
            days,
            optional=True,
            hint=t("Not public holidays, but many workplaces are closed."),
        ),
        input_block(bid("agenda_days"), t("The agenda is posted"), when),
        input_block(bid("agenda_time"), t("at"), at),
    ]


def _weekday_options(t: Translator) -> list[Block]:
    names = {
        "MO": t("Monday"),
        "TU": t("Tuesday"),
        "WE": t("Wednesday"),
        "TH": t("Thursday"),
        "FR": t("Friday"),
        "SA": t("Saturday"),
        "SU": t("Sunday"),
    }
    return [option(names[code].capitalize(), code) for code in WEEKDAYS]


def schedule_blocks(t: Translator, draft: ForumDraft, bid: Callable[[str], str]) -> list[Block]:
    """The meeting schedule as choices: weekday(s), how often (every / every other week /
    certain weeks of the month, and which), start and end; the RRULE itself under
    *Advanced*, filled in only when the choices cannot express the forum's schedule."""
    pick = pick_of(draft.rrule) if draft.rrule else None
    day_options = _weekday_options(t)
    days: Block = {
        "type": "multi_static_select",
        "action_id": "value",
        "placeholder": {"type": "plain_text", "text": t("Choose weekdays")},
        "options": day_options,
    }
    if pick:
        days["initial_options"] = [o for o in day_options if o["value"] in pick.days]
    repeat_options = [option(t(REPEAT_LABELS[r]), r) for r in REPEATS]
    repeat: Block = {
        "type": "static_select",
        "action_id": "value",
        "options": repeat_options,
        "initial_option": next(
            o for o in repeat_options if o["value"] == (pick.repeat if pick else "every")
        ),
    }
    week_options = [option(t(ORDINALS[w]).capitalize(), str(w)) for w in WEEKS_OF_MONTH]
    weeks: Block = {
        "type": "multi_static_select",
        "action_id": "value",
        "placeholder": {"type": "plain_text", "text": t("Choose weeks")},
        "options": week_options,
    }
    if pick and pick.weeks:
        weeks["initial_options"] = [o for o in week_options if int(o["value"]) in pick.weeks]
    blocks: list[Block] = [
        input_block(
            bid("sched_days"),
            t("Meets on"),
            days,
            optional=True,
            hint=t("One or more weekdays."),
        ),
        input_block(bid("sched_repeat"), t("How often"), repeat),
        input_block(
            bid("sched_weeks"),
            t("Which weeks of the month"),
            weeks,
            optional=True,
            hint=t("Only for “Certain weeks of the month”, e.g. the first and the third."),
        ),
        input_block(
            bid("first_meeting"),
            t("First meeting"),
            {"type": "datepicker", "action_id": "value"},
            optional=True,
            hint=t(
                "Meetings are planned from this date on; for every other week it decides "
                "which weeks. Empty: from the next meeting day."
            ),
        ),
    ]
    for name, label, value in (
        ("start", t("Meeting starts"), draft.start),
        ("end", t("Meeting ends"), draft.end),
    ):
        picker: Block = {"type": "timepicker", "action_id": "value"}
        if value is not None:
            picker["initial_time"] = value.strftime("%H:%M")
        blocks.append(input_block(bid(name), label, picker))
    advanced = t("Advanced")
    blocks.append(
        section(
            f"*{advanced}*\n"
            + t("A schedule the choices above cannot express can be written as an RRULE."),
            block_id=bid("sched_advanced"),
        )
    )
    blocks.append(
        input_block(
            bid("rrule"),
            t("Schedule as an RRULE"),
            text_input(
                "value",
                initial=None if pick else draft.rrule,
                max_length=500,
                placeholder="FREQ=MONTHLY;BYDAY=-1FR",
            ),
            optional=True,
            hint=t(
                "Leave it empty to use the choices above. When filled in, it is used instead "
                "of them."
            ),
        )
    )
    return blocks


def schedule_text(t: Translator, rrule: str, start: dt.time | None, end: dt.time | None) -> str:
    """A schedule for mrkdwn: in words when it has a simple wording, else the rule itself."""
    words = schedule_words(rrule, t)
    shown = escape(words) if words else f"`{escape(rrule)}`"
    if start is not None and end is not None:
        shown += " " + time_range(start, end)
    return shown


def forum_modal(
    t: Translator,
    draft: ForumDraft,
    *,
    private_metadata: str,
    editing: bool,
    version: int = 0,
    notice: str | None = None,
) -> Block:
    """The forum set-up modal. ``version`` renews block ids so a template re-fills the fields;
    ``notice``: a line above the fields (the bot cannot post in the forum's channel)."""

    def bid(name: str) -> str:
        return f"{name}.{version}"

    blocks: list[Block] = [section(notice)] if notice else []
    if not editing:
        template_options = [option(t(tpl.label), key) for key, tpl in TEMPLATES.items()]
        template_select: Block = {
            "type": "static_select",
            "action_id": ACTION_TEMPLATE,
            "placeholder": {"type": "plain_text", "text": t("Choose a template")},
            "options": template_options,
        }
        if draft.template in TEMPLATES:
            template_select["initial_option"] = next(
                o for o in template_options if o["value"] == draft.template
            )
        blocks.append(
            input_block(
                "template",
                t("Template"),
                template_select,
                optional=True,
                hint=t("A template fills in the form for a common kind of forum."),
                dispatch_action=True,
            )
        )
    blocks.append(
        input_block(
            bid("name"),
            t("Name"),
            text_input("value", initial=draft.name, max_length=80, placeholder="FOSSAM"),
        )
    )
    blocks.append(
        input_block(
            bid("code"),
            t("Code for case references"),
            text_input("value", initial=draft.code, max_length=6, placeholder="FOS"),
            hint=t("2–6 letters, used in references like FOS-2026-017."),
        )
    )
    known = [a for a in draft.agencies if a in DEFAULT_AGENCIES]
    extra = [a for a in draft.agencies if a not in DEFAULT_AGENCIES]
    agency_options = _agency_options([])
    agencies_el: Block = {
        "type": "multi_static_select",
        "action_id": "value",
        "placeholder": {"type": "plain_text", "text": t("Choose agencies")},
        "options": agency_options,
    }
    if known:
        agencies_el["initial_options"] = [o for o in agency_options if o["value"] in known]
    blocks.append(input_block(bid("agencies"), t("Agencies that take part"), agencies_el))
    blocks.append(
        input_block(
            bid("agencies_other"),
            t("Other agencies"),
            text_input("value", initial="\n".join(extra), multiline=True),
            optional=True,
            hint=t("One per line, e.g. Ungdomsmottagning."),
        )
    )
    if not editing:
        own_el: Block = {
            "type": "static_select",
            "action_id": "value",
            "placeholder": {"type": "plain_text", "text": t("Choose your agency")},
            "options": _agency_options(draft.agencies),
        }
        blocks.append(
            input_block(
                bid("own_agency"),
                t("Your agency"),
                own_el,
                optional=True,
                hint=t("You become the forum's admin for this agency."),
            )
        )
        blocks.append(
            input_block(
                bid("own_agency_other"),
                t("Your agency, if it is not in the list"),
                text_input("value", max_length=75),
                optional=True,
            )
        )
    blocks.extend(schedule_blocks(t, draft, bid))
    blocks.extend(calendar_blocks(t, draft, bid))
    blocks.append(
        input_block(
            bid("areas"),
            t("Areas the forum rates (places and themes)"),
            text_input("value", initial="\n".join(draft.areas), multiline=True),
            optional=True,
            hint=t("One per line, e.g. Gråbo, Droger, Psykisk ohälsa."),
        )
    )
    if editing:
        blocks.append(
            actions(
                button(t("Manage members"), ACTION_OPEN_MEMBERS),
                button(t("Case criteria"), CRITERIA_OPEN),
            )
        )
    return modal(
        callback_id=CB_FORUM_EDIT if editing else CB_FORUM_CREATE,
        title=t("Forum settings") if editing else t("New forum"),
        submit=t("Save") if editing else t("Create"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )
