"""Block Kit for forums: help, the menu, the forum modal, the members modal, messages."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
from handlers.blocks.common import notice_modal as notice_modal  # listeners use ui.notice_modal
from handlers.blocks.criteria import ACTION_OPEN as CRITERIA_OPEN

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
MAX_HOME_FORUMS = 20  # 4 blocks each keeps App Home under 100 blocks


@dataclass(frozen=True)
class MemberRow:
    member_id: int
    slack_user_id: str
    agency: str
    role: str


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


def role_label(t: Translator, role: str) -> str:
    return {
        "member": t("member"),
        "coordinator": t("coordinator"),
        "admin": t("admin"),
        "reviewer": t("reviewer (log check)"),
    }.get(role, role)


HelpLine = tuple[str, str]


def _help_groups(t: Translator) -> list[tuple[str, list[HelpLine]]]:
    """What the bot can do, grouped by who may do it."""
    everyone = [
        ("/samverkan", t("opens a menu of what you may do in this channel")),
        (t("/samverkan help"), t("shows this help")),
        (
            t("/samverkan forum new"),
            t("creates a forum in this channel (name, code, agencies, schedule, areas)"),
        ),
    ]
    members = [
        ("/samverkan forum", t("shows the forum's agencies, schedule and members")),
        (t("/samverkan case"), t("raises a case for your agency (pseudonymised, with consent)")),
        (t("/samverkan cases"), t("lists the forum's cases; open one to see its details")),
        (t("/samverkan deviation"), t("reports that collaboration failed (for the coordinator)")),
        (t("/samverkan action"), t("creates an action with an owner and a due date")),
        (
            t("/samverkan actions"),
            t("lists actions: mine, my agency's or the forum's (open, overdue, done, follow-up)"),
        ),
        (
            t("/samverkan review"),
            t("coordinators: the half-year review (PDF, xlsx) for a period; … settings"),
        ),
        (t("/samverkan feedback"), t("results of the feedback after closed cases, per period")),
        (t("/samverkan criteria"), t("the forum's case criteria and how often they were met")),
        (
            t("/samverkan steering"),
            t("in a steering forum: the figures of the forums it follows; … settings"),
        ),
        (t("/samverkan activity-plan"), t("the steering forum's annual activity plan")),
        (
            t("/samverkan annual-report"),
            t("the steering forum's annual report for the board (PDF, docx)"),
        ),
        (
            t("/samverkan yearly-picture"),
            t("the municipality's lägesbild and åtgärdsplan (SFS 2023:196) as docx and PDF"),
        ),
        (
            t("/samverkan situation"),
            t("the situation picture: who has rated, rate for your agency, the latest picture"),
        ),
        (
            t("/samverkan away 2026-12-10 @stand-in"),
            t("you are away until that day (a stand-in from your agency is optional)"),
        ),
        (t("/samverkan meetings"), t("the next meetings")),
        (t("/samverkan agenda"), t("the next meeting's agenda as it stands")),
        (t("/samverkan item …"), t("adds other business to the next meeting's agenda")),
    ]
    coordinators = [
        ("/samverkan forum", t("changes the forum's settings")),
        (t("/samverkan forum members"), t("adds and removes members")),
        (
            t("/samverkan situation settings"),
            t("when the situation picture is made, the deadline and reminders"),
        ),
        (
            t("/samverkan situation export"),
            t("the situation picture's rounds as xlsx and CSV, for the municipality"),
        ),
        (t("/samverkan meetings"), t("moves, cancels and records meetings")),
        (t("/samverkan action-plan"), t("sends the action plan for a period (xlsx and CSV)")),
        (t("/samverkan statistics"), t("statistics for steering groups, with a chart")),
        (
            t("/samverkan ground FOS-2026-017"),
            t("records a legal ground other than consent for an agency"),
        ),
    ]
    admins = [
        (t("/samverkan forum members"), t("also appoints and removes admins")),
    ]
    privacy = [
        (
            t("/samverkan log"),
            t("audit log: who read or changed what (coordinators and reviewers; filters, CSV)"),
        ),
        (
            t("/samverkan consent FOS-2026-017"),
            t("a case's consent register; without a reference: consents about to expire"),
        ),
        (
            t("/samverkan retention"),
            t("retention periods and legal holds (… stop REF reason, … release REF)"),
        ),
        (
            t("/samverkan access-export @person"),
            t("coordinators get everything stored about a member (GDPR art. 15) by DM"),
        ),
    ]
    return [
        (t("For everyone"), everyone),
        (t("For members of the forum"), members),
        (t("For coordinators"), coordinators),
        (t("For admins"), admins),
        (t("Data protection"), privacy),
    ]


def help_blocks(t: Translator) -> list[Block]:
    """The help, grouped by role: everyone, members, coordinators, admins, data protection."""
    blocks: list[Block] = [header(t("Samverkan – what I can do"))]
    for title, lines in _help_groups(t):
        body = "\n".join(f"• `{cmd}` – {desc}" for cmd, desc in lines)
        blocks.append(section(f"*{title}*\n{body}"))
    blocks.append(
        context(
            t(
                "Never write names, personal identity numbers, phone numbers or addresses: "
                "use case references and non-identifying text."
            )
        )
    )
    return blocks


def help_message(t: Translator) -> dict[str, object]:
    return message(t("Samverkan – what I can do"), help_blocks(t))


# Commands a user may mean: the first words (Swedish and English) and common two-word ones.
KNOWN_COMMANDS: tuple[str, ...] = (
    "hjälp",
    "help",
    "forum",
    "forum ny",
    "forum new",
    "forum medlemmar",
    "forum members",
    "ärende",
    "case",
    "nytt ärende",
    "ärenden",
    "cases",
    "avvikelse",
    "deviation",
    "insats",
    "action",
    "insatser",
    "actions",
    "åtgärdsplan",
    "action-plan",
    "statistik",
    "statistics",
    "lägesbild",
    "situation",
    "lägesbild bedöm",
    "lägesbild export",
    "lägesbild inställningar",
    "borta",
    "away",
    "tillbaka",
    "back",
    "möten",
    "meetings",
    "dagordning",
    "agenda",
    "punkt",
    "item",
    "logg",
    "log",
    "samtycke",
    "consent",
    "grund",
    "ground",
    "gallring",
    "retention",
    "registerutdrag",
    "access-export",
)


def nearest_command(typed: str) -> str | None:
    """The known command closest to what was typed (one or two words), if any is close."""
    words = typed.casefold().split()
    if not words:
        return None
    for size in (2, 1):
        attempt = " ".join(words[:size])
        pool = [c for c in KNOWN_COMMANDS if len(c.split()) == size]
        found = difflib.get_close_matches(attempt, pool, n=1, cutoff=0.7)
        if found:
            return found[0]
    return None


def unknown_command_message(t: Translator, word: str) -> dict[str, object]:
    blocks: list[Block] = [section(t("I don't know the command *{word}*.", word=escape(word[:40])))]
    guess = nearest_command(word)
    if guess:
        blocks.append(
            section(
                t("Did you mean `{command}`?", command=guess),
                accessory=button(
                    t("Run /samverkan {command}", command=guess), ACTION_MENU_RUN, value=guess
                ),
            )
        )
    blocks.extend(help_blocks(t)[1:])
    return message(t("Unknown command"), blocks)


@dataclass(frozen=True)
class MenuItem:
    key: str
    label: str  # msgid
    command: str  # what the button runs, as if typed after /samverkan
    group: str  # msgid of the menu section it is in
    roles: frozenset[str]  # who sees it

    @property
    def action_id(self) -> str:
        return f"menu_{self.key}"


MEMBERS = frozenset({"member", "coordinator", "admin"})
COORDINATORS = frozenset({"coordinator", "admin"})
CASES_GROUP, ACTIONS_GROUP = N_("Cases"), N_("Actions")
MEETINGS_GROUP, COORDINATE_GROUP = N_("Meetings and the situation picture"), N_("Coordinate")
MENU: tuple[MenuItem, ...] = (
    MenuItem("case", N_("Raise a case"), "ärende", CASES_GROUP, MEMBERS),
    MenuItem("cases", N_("Cases"), "ärenden", CASES_GROUP, MEMBERS),
    MenuItem("deviation", N_("Report a deviation"), "avvikelse", CASES_GROUP, MEMBERS),
    MenuItem("action", N_("New action"), "insats", ACTIONS_GROUP, MEMBERS),
    MenuItem("actions", N_("My actions"), "insatser", ACTIONS_GROUP, MEMBERS),
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
    MenuItem("plan", N_("Action plan"), "åtgärdsplan", COORDINATE_GROUP, COORDINATORS),
    MenuItem("statistics", N_("Statistics"), "statistik", COORDINATE_GROUP, COORDINATORS),
    MenuItem(
        "log",
        N_("Audit log"),
        "logg",
        COORDINATE_GROUP,
        frozenset({"coordinator", "admin", "reviewer"}),
    ),
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
) -> dict[str, object]:
    """What this person may do here: ``role`` is their role in the channel's forum (member,
    coordinator, admin, reviewer), None when they are not a member; no ``forum_name`` when
    the channel has no forum; ``in_dm`` in a direct message, which is never a forum."""
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
            role=role_label(t, role),
        )
        place = role
    blocks: list[Block] = [header(t("Samverkan")), section(intro)]
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
    (1, N_("The day before")),
    (2, N_("Two days before")),
    (3, N_("Three days before")),
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
        shown += " " + time_range(start, end, t.locale)
    return shown


def forum_modal(
    t: Translator,
    draft: ForumDraft,
    *,
    private_metadata: str,
    editing: bool,
    version: int = 0,
) -> Block:
    """The forum set-up modal. ``version`` renews block ids so a template re-fills the fields."""

    def bid(name: str) -> str:
        return f"{name}.{version}"

    blocks: list[Block] = []
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
            if can_edit
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
                "Coordinators run the meetings and change the forum; admins also manage admins."
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


def forum_summary_blocks(t: Translator, summary: ForumSummary) -> list[Block]:
    meetings = ", ".join(t.day_time(m, summary.timezone) for m in summary.next_meetings) or "–"
    labels = {
        "code": t("Code"),
        "next": t("Next meetings"),
        "schedule": t("Schedule"),
        "agencies": t("Agencies"),
        "areas": t("Areas"),
        "members": t("Members"),
    }
    lines = [
        f"*{labels['code']}:* {escape(summary.code)}",
        f"*{labels['next']}:* {meetings}",
        f"*{labels['schedule']}:* {schedule_text(t, summary.rrule, summary.start, summary.end)}",
        f"*{labels['agencies']}:* {escape(', '.join(summary.agencies)) or '–'}",
        f"*{labels['areas']}:* {escape(', '.join(summary.areas)) or '–'}",
        f"*{labels['members']}:* {summary.member_count}",
    ]
    blocks = [header(summary.name), section("\n".join(lines))]
    if summary.your_role and summary.your_agency:
        blocks.append(
            context(
                t(
                    "You take part as {role} for {agency}.",
                    role=role_label(t, summary.your_role),
                    agency=escape(summary.your_agency),
                )
            )
        )
    return blocks


def forum_created_message(t: Translator, summary: ForumSummary) -> dict[str, object]:
    """The channel post after set-up: names, dates and agencies only, no personal data."""
    text = t("The forum {name} now meets in this channel.", name=escape(summary.name))
    blocks = [section(f"*{text}*"), *forum_summary_blocks(t, summary)[1:]]
    blocks.append(context(t("Type /samverkan help to see what I can do.")))
    return message(text, blocks)


def home_view(t: Translator, forums: Sequence[ForumSummary]) -> Block:
    blocks: list[Block] = [header(t("Samverkan"))]
    if not forums:
        blocks.append(
            section(
                t(
                    "You are not a member of any forum yet. A coordinator adds you, or create a "
                    "forum with /samverkan forum new in the forum's channel."
                )
            )
        )
    for summary in forums[:MAX_HOME_FORUMS]:
        blocks.append(divider())
        blocks.append(section(f"*{escape(summary.name)}* · <#{summary.channel_id}>"))
        blocks.extend(forum_summary_blocks(t, summary)[1:])
    if len(forums) > MAX_HOME_FORUMS:
        blocks.append(context(t("…and {n} more.", n=len(forums) - MAX_HOME_FORUMS)))
    blocks.append(context(t("Type /samverkan help to see what I can do.")))
    return {"type": "home", "blocks": blocks[:100]}


def home_error_view(t: Translator, text: str) -> Block:
    return {"type": "home", "blocks": [header(t("Samverkan")), section(text)]}
