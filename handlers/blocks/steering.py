"""Block Kit for steering forums: settings, the roll-up of the linked forums (figures only,
after the small-number rule), the annual activity plan and its modals, and the steering part
of the agenda."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from domain.i18n import Translator
from domain.ratings.settings import LEVELS as RATING_LEVELS
from domain.ratings.settings import level_label
from domain.small_numbers import percent_text
from domain.statistics import Period
from domain.steering import LEVELS, RESULTS, ForumFigures, Plan, PlanNode, Supplement
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

CB_SETTINGS = "steering_settings"
CB_PLAN_ITEM = "plan_item"
CB_ACTIVITY = "plan_activity"
CB_GOAL = "plan_goal_follow_up"
ACTION_OPEN_SETTINGS = "steering_settings_open"
ACTION_ADD_ITEM = "plan_add_item"
ACTION_ADD_ACTIVITY = "plan_add_activity"
ACTION_FOLLOW_UP = "plan_goal_follow_up"
ACTION_STOP_SHARING = "steering_stop_sharing"
NO_LEVEL = "none"


def _result(t: Translator, value: str | None) -> str:
    return {"yes": t("Yes"), "partly": t("Partly"), "no": t("No")}.get(value or "", "–")


def settings_modal(
    t: Translator,
    *,
    level: str | None,
    forums: Sequence[tuple[int, str]],
    linked: Sequence[int],
    private_metadata: str,
) -> Block:
    levels = [option(t("Not a steering forum"), NO_LEVEL)] + [
        option(t(label), key) for key, label in LEVELS.items()
    ]
    level_el: Block = {
        "type": "static_select",
        "action_id": "value",
        "options": levels,
        "initial_option": next(o for o in levels if o["value"] == (level or NO_LEVEL)),
    }
    forum_options = [option(name, str(fid)) for fid, name in forums][:100]
    forums_el: Block = {
        "type": "multi_static_select",
        "action_id": "value",
        "placeholder": {"type": "plain_text", "text": t("Choose forums")},
        "options": forum_options or [option("–", "0")],
    }
    chosen = [o for o in forum_options if int(o["value"]) in set(linked)]
    if chosen:
        forums_el["initial_options"] = chosen
    return modal(
        callback_id=CB_SETTINGS,
        title=t("Steering"),
        submit=t("Save"),
        close=t("Cancel"),
        private_metadata=private_metadata,
        blocks=[
            section(
                t(
                    "A steering forum (styrgrupp, 2+2, nämnd) follows operational forums of this "
                    "workspace: their figures, never case references or details, and counts "
                    "under 5 as “fewer than 5”; the yearly situation picture also lists their "
                    "actions about areas. You can add the forums where you are a coordinator; "
                    "they are told in their channel."
                )
            ),
            input_block("steering_level", t("Level"), level_el),
            input_block("steering_forums", t("Forums it follows"), forums_el, optional=True),
        ],
    )


def _figures_line(t: Translator, item: ForumFigures) -> str:
    f = item.figures
    shown = {
        "cases": f.cases_total.text(t),
        "discussed": f.cases_discussed.text(t),
        "closed": f.cases_closed.text(t),
        "sip": f.sip_started.text(t),
        "done": f.actions_done.text(t),
        "pct": percent_text(t, f.on_time_share),
        # Of those done, late for the first agreed due date but by a new one (the review's).
        "later": f.actions_after_new_date.text(t),
        "overdue": f.actions_overdue.text(t),
        "dev": f.deviations_total.text(t),
        "fb": f.surveys_answered.text(t),
    }
    return t.ngettext(
        "*{forum}*: {cases} case raised, {closed} closed, SIP started {sip}, {discussed} "
        "discussed at the meetings · actions: {done} done ({pct} on time, {later} after a "
        "new due date), {overdue} overdue "
        "· deviations {dev} · feedback answered {fb}",
        "*{forum}*: {cases} cases raised, {closed} closed, SIP started {sip}, {discussed} "
        "discussed at the meetings · actions: {done} done ({pct} on time, {later} after a "
        "new due date), {overdue} overdue "
        "· deviations {dev} · feedback answered {fb}",
        f.cases_total.plural_count,
        forum=escape(item.forum_name),
        **shown,
    )


def _areas_line(t: Translator, item: ForumFigures) -> str | None:
    worst = []
    for area in item.figures.trends:
        values = [v for _, v in area.points if v is not None]
        if values:
            worst.append((values[-1], area.name))
    if not worst:
        return None
    worst.sort(reverse=True)
    # The level's name where it is one ("Hemse (avvikande)"): a bare "Hemse 2" left the
    # steering group to guess the scale.
    shown = ", ".join(
        f"{escape(name)} ({level_label(t, int(value))})"
        if float(value).is_integer() and int(value) in RATING_LEVELS
        else f"{escape(name)} {t.number(value)}"
        for value, name in worst[:4]
    )
    return t("Highest rated areas at the latest meeting: {areas}", areas=shown)


def rollup_blocks(t: Translator, period: Period, items: Sequence[ForumFigures]) -> list[Block]:
    blocks: list[Block] = [
        section(
            t(
                "*Since the last meeting* ({start} – {end})",
                start=t.day(period.start),
                end=t.day(period.end),
            )
        )
    ]
    if not items:
        blocks.append(
            section(
                t(
                    "The forum follows no operational forums yet (settings: /samverkan "
                    "styrning inställningar)."
                )
            )
        )
    for item in items[:20]:
        text = _figures_line(t, item)
        areas = _areas_line(t, item)
        blocks.append(section(text + (f"\n{areas}" if areas else "")))
    blocks.append(context(t("Counts under 5 are shown as “fewer than 5”.")))
    return blocks


def rollup_message(
    t: Translator,
    *,
    forum_name: str,
    period: Period,
    items: Sequence[ForumFigures],
    coordinator: bool,
) -> dict[str, Any]:
    title = t("{forum}: the forums it follows", forum=forum_name)
    blocks = [header(title), *rollup_blocks(t, period, items)]
    if coordinator:
        blocks.append(actions(button(t("Settings"), ACTION_OPEN_SETTINGS)))
    return message(title, blocks)


def stop_sharing_button(t: Translator, link_id: int) -> Block:
    return button(
        t("Stop sharing with the steering group"), ACTION_STOP_SHARING, value=str(link_id)
    )


def followed_notice(t: Translator, text: str, link_id: int) -> dict[str, Any]:
    """The note to a newly followed forum's channel (``domain.steering.Notice``), with the
    button its coordinators end the following with."""
    return message(
        text,
        [
            section(escape(text)),
            actions(stop_sharing_button(t, link_id)),
            context(
                t("A coordinator of this forum can end it here, or later with /samverkan styrning.")
            ),
        ],
    )


def link_ended_notice(t: Translator, text: str, to_steering: bool) -> dict[str, Any]:
    """The note to both channels that a followed forum ended a steering forum's following
    of it (``domain.steering.EndedNotice``): the text (forum names escaped in the blocks,
    kept as the notification's fallback) and where to look now."""
    where = (
        t("This steering forum's roll-up and the forums it follows: /samverkan styrning.")
        if to_steering
        else t("The steering forums that still follow this forum: /samverkan styrning.")
    )
    return message(text, [section(escape(text)), context(where)])


def followers_message(
    t: Translator, *, forum_name: str, followers: Sequence[tuple[int, str]]
) -> dict[str, Any]:
    """``/samverkan styrning`` in a forum that is no steering forum, for its coordinators:
    the steering forums that follow its figures, each with the button that ends it."""
    title = t(
        "{forum} is not a steering forum. These steering forums follow its figures (counts "
        "only) and its actions about areas:",
        forum=forum_name,
    )
    blocks: list[Block] = [section(escape(title))]
    for link_id, name in followers[:40]:
        blocks.append(section(f"*{escape(name)}*", accessory=stop_sharing_button(t, link_id)))
    blocks.append(
        context(t("Make this forum a steering forum with /samverkan styrning inställningar."))
    )
    return message(title, blocks)


class SupplementPosts:
    """The steering part of the agenda (``domain.steering.SupplementMessages``)."""

    def supplement(self, t: Translator, supplement: Supplement) -> dict[str, Any]:
        title = t("Steering: roll-up, activities due and goals to follow up")
        blocks: list[Block] = [section(f"*{title}*")]
        blocks += rollup_blocks(t, supplement.period, supplement.rollup)[:-1]
        if supplement.activities_due:
            # A thread of the channel: like the agenda, the action's number, agency and date,
            # not what it is about (an action's text is for the forum's members; they open
            # it with /samverkan insatser or read it in /samverkan aktivitetsplan).
            lines = [
                "• "
                + t("Action #{id}", id=a.action_id)
                + f" · {escape(a.agency)} · {a.due_on.isoformat()}"
                for a in supplement.activities_due[:15]
            ]
            heading = t("Activities due")
            blocks.append(section(f"*{heading}*\n" + "\n".join(lines)))
        if supplement.goals_to_follow_up:
            lines = [f"• {escape(g.title[:100])}" for g in supplement.goals_to_follow_up[:15]]
            heading = t("Goals to follow up")
            blocks.append(section(f"*{heading}*\n" + "\n".join(lines)))
        blocks.append(context(t("Counts under 5 are shown as “fewer than 5”.")))
        return message(title, blocks)


def _node_lines(t: Translator, node: PlanNode, depth: int) -> list[str]:
    indent = "    " * depth
    if node.kind == "strategy":
        head = f"{indent}*{escape(node.title)}*"
    else:
        follow = (
            t("follow-up {date}", date=node.follow_up_on.isoformat()) if node.follow_up_on else ""
        )
        head = f"{indent}◦ {escape(node.title)} {follow} · {_result(t, node.result)}"
    lines = [head]
    for a in node.activities:
        owner = f" <@{a.owner}>" if a.owner else ""
        lines.append(
            f"{indent}    – {escape(a.description[:80])} · {escape(a.agency)}{owner} · "
            f"{a.due_on.isoformat()} · {a.status.value}"
        )
    for child in node.children:
        lines.extend(_node_lines(t, child, depth + 1))
    return lines


def plan_message(t: Translator, plan: Plan, *, coordinator: bool) -> dict[str, Any]:
    title = t("Activity plan {year}: {forum}", year=plan.year, forum=plan.forum_name)
    blocks: list[Block] = [header(title)]
    if not plan.strategies:
        blocks.append(section(t("The plan is empty. Start with a strategy.")))
    for strategy in plan.strategies[:10]:
        blocks.append(section("\n".join(_node_lines(t, strategy, 0))[:2900]))
    if coordinator:
        blocks.append(divider())
        blocks.append(
            actions(
                button(t("Add strategy or goal"), ACTION_ADD_ITEM, value=str(plan.year)),
                button(t("Add activity"), ACTION_ADD_ACTIVITY, value=str(plan.year)),
            )
        )
        goals = [g for g in plan.goals() if g.result is None][:5]
        for goal in goals:
            blocks.append(
                section(
                    f"◦ {escape(goal.title[:100])}",
                    accessory=button(t("Follow up"), ACTION_FOLLOW_UP, value=str(goal.id)),
                )
            )
    blocks.append(context(t("Activities are actions: their owners get reminders as usual.")))
    return message(title, blocks)


def plan_item_modal(
    t: Translator, *, parents: Sequence[tuple[int, str]], private_metadata: str
) -> Block:
    kinds = [option(t("Strategy"), "strategy"), option(t("Goal or sub-goal"), "goal")]
    blocks: list[Block] = [
        input_block(
            "kind",
            t("What"),
            {
                "type": "radio_buttons",
                "action_id": "value",
                "options": kinds,
                "initial_option": kinds[0],
            },
        ),
        input_block(
            "title",
            t("Title"),
            text_input("value", max_length=200),
            hint=t("No names or other identifying data."),
        ),
    ]
    if parents:
        blocks.append(
            input_block(
                "parent",
                t("Belongs to"),
                {
                    "type": "static_select",
                    "action_id": "value",
                    "options": [option(name, str(pid)) for pid, name in parents][:100],
                },
                optional=True,
                hint=t("A goal belongs to a strategy; a sub-goal to a goal."),
            )
        )
    blocks.append(
        input_block(
            "follow_up_on",
            t("Follow up on (goals)"),
            {"type": "datepicker", "action_id": "value"},
            optional=True,
        )
    )
    return modal(
        callback_id=CB_PLAN_ITEM,
        title=t("Activity plan"),
        submit=t("Add"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def activity_modal(
    t: Translator,
    *,
    goals: Sequence[tuple[int, str]],
    agencies: Sequence[tuple[int, str]],
    today: dt.date,
    private_metadata: str,
) -> Block:
    def select(options: Sequence[tuple[int, str]]) -> Block:
        return {
            "type": "static_select",
            "action_id": "value",
            "options": [option(name, str(i)) for i, name in options][:100] or [option("–", "0")],
        }

    return modal(
        callback_id=CB_ACTIVITY,
        title=t("New activity"),
        submit=t("Add"),
        close=t("Cancel"),
        private_metadata=private_metadata,
        blocks=[
            input_block("goal", t("Goal"), select(goals)),
            input_block(
                "description",
                t("Activity"),
                text_input("value", multiline=True, max_length=1000),
                hint=t("No names or other identifying data."),
            ),
            input_block("agency", t("Owning agency"), select(agencies)),
            input_block("owner", t("Owner"), {"type": "users_select", "action_id": "value"}),
            input_block(
                "due_on",
                t("Due date"),
                {"type": "datepicker", "action_id": "value", "initial_date": today.isoformat()},
            ),
        ],
    )


def goal_modal(t: Translator, *, title: str, private_metadata: str) -> Block:
    results = [option(_result(t, r), r) for r in RESULTS]
    return modal(
        callback_id=CB_GOAL,
        title=t("Follow up goal"),
        submit=t("Save"),
        close=t("Cancel"),
        private_metadata=private_metadata,
        blocks=[
            section(f"*{escape(title)}*"),
            input_block(
                "result",
                t("Was the goal reached?"),
                {"type": "radio_buttons", "action_id": "value", "options": results},
            ),
            input_block(
                "comment",
                t("Comment"),
                text_input("value", multiline=True, max_length=500),
                optional=True,
            ),
        ],
    )
