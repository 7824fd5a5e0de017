"""`/samverkan lägesbild` for coordinators: each agency's state in the open round."""

from __future__ import annotations

from typing import Any

from domain.i18n import Translator
from domain.ratings import (
    AgencyStatus,
    Cadence,
    Overview,
    RoundStatus,
)
from handlers.blocks.common import (
    Block,
    actions,
    button,
    context,
    divider,
    escape,
    header,
    message,
    option,
    plain,
    section,
)
from handlers.blocks.ratings.base import (
    ACTION_CLOSE,
    ACTION_COMMENTS,
    ACTION_EXPORT_CSV,
    ACTION_EXPORT_XLSX,
    ACTION_EXTEND,
    ACTION_RATE,
    ACTION_SETTINGS,
    PICTURE_BLOCKS_MAX,
    STATE_EMOJI,
    _day,
    _when,
    invite_value,
)
from handlers.blocks.ratings.picture import picture_blocks

# --- /samverkan lägesbild -------------------------------------------------------------------


def _state_line(t: Translator, status: AgencyStatus, tz: str) -> str:
    name = escape(status.name)
    if status.state == "answered":
        at = _when(t, status.answered_at, tz) if status.answered_at else ""
        return f"{STATE_EMOJI['answered']} {name} – " + t("answered {at}", at=at).strip()
    if status.state == "partial":
        return f"{STATE_EMOJI['partial']} {name} – " + t.ngettext(
            "partly ({n} area)", "partly ({n} areas)", status.rated
        )
    if status.state == "away":
        return f"{STATE_EMOJI['away']} {name} – " + t("away")
    if status.unrepresented:  # no one was asked: add a member for it
        return f"{STATE_EMOJI['missing']} {name} – " + t(
            "no one represents it in the forum, so no one was asked: add a member for it "
            "with `/samverkan forum members`"
        )
    return f"{STATE_EMOJI['missing']} {name} – " + t("not answered")


def status_blocks(t: Translator, current: RoundStatus) -> list[Block]:
    tz = current.timezone
    lines = [
        t(
            "*Rating round before {day}*: answers by {deadline}.",
            day=_day(t, current.meeting_start, tz),
            deadline=_when(t, current.deadline_at, tz),
        )
    ]
    if current.original_deadline_at:
        lines.append(
            t("(extended from {deadline})", deadline=_when(t, current.original_deadline_at, tz))
        )
    blocks: list[Block] = [section(" ".join(lines))]
    states = [_state_line(t, s, tz) for s in current.agencies]
    for start in range(0, len(states), 25):
        blocks.append(section("\n".join(states[start : start + 25])))
    counts = {k: sum(1 for s in current.agencies if s.state == k) for k in STATE_EMOJI}
    blocks.append(
        context(
            t(
                "{answered} answered, {partial} partly, {missing} not answered, {away} away.",
                **counts,
            )
        )
    )
    buttons: list[Block] = []
    mine = next((s for s in current.agencies if s.agency_id == current.your_agency_id), None)
    if mine is not None:
        buttons.append(
            button(
                t("Rate the situation"),
                ACTION_RATE,
                value=invite_value(current.round_id, current.your_agency_id),
                style="primary",
            )
        )
    if current.is_coordinator:
        close = button(t("Close now"), ACTION_CLOSE, value=str(current.round_id), style="danger")
        close["confirm"] = {
            "title": plain(t("Close the round?"), 100),
            "text": plain(t("The picture is posted in the channel with the answers so far."), 300),
            "confirm": plain(t("Close now"), 30),
            "deny": plain(t("Cancel"), 30),
        }
        buttons.append(close)
        if current.can_extend:
            buttons.append(
                {
                    "type": "static_select",
                    "action_id": ACTION_EXTEND,
                    "placeholder": plain(t("Extend the deadline"), 150),
                    "options": [
                        option(
                            t.ngettext("by {n} day", "by {n} days", n), f"{current.round_id}:{n}"
                        )
                        for n in (1, 2, 3)
                    ],
                }
            )
    if buttons:
        blocks.append(actions(*buttons))
    return blocks


def overview_message(
    t: Translator, view: Overview, *, forum_name: str, coordinator: bool
) -> dict[str, Any]:
    blocks: list[Block] = [header(t("Situation picture – {forum}", forum=forum_name))]
    if view.cadence is Cadence.NONE:
        blocks.append(
            context(
                t(
                    "This forum has no situation picture. Coordinators turn it on with "
                    "/samverkan lägesbild inställningar."
                )
            )
        )
    if view.current is not None:
        blocks.extend(status_blocks(t, view.current))
    elif view.cadence is not Cadence.NONE:
        blocks.append(section(t("No rating round is open right now.")))
    if view.latest is not None:
        blocks.append(divider())
        blocks.extend(picture_blocks(t, view.latest)[:PICTURE_BLOCKS_MAX])
    extra: list[Block] = []
    if coordinator:
        rounds = [r for r in (view.current, view.latest) if r is not None]
        if rounds:
            extra.append(
                button(t("What agencies see"), ACTION_COMMENTS, value=str(rounds[0].round_id))
            )
        if view.latest is not None:
            extra.append(button(t("Export xlsx"), ACTION_EXPORT_XLSX, value="latest"))
            extra.append(button(t("Export CSV"), ACTION_EXPORT_CSV, value="latest"))
        extra.append(button(t("Settings"), ACTION_SETTINGS))
    if extra:
        blocks.append(actions(*extra))
    return message(t("Situation picture – {forum}", forum=forum_name), blocks)
