"""``/samverkan insats|insatser|åtgärdsplan|statistik``: the action modal, the list, the
åtgärdsplan export and the statistics (entry points of the command router)."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from domain import actions as action_service
from domain import forums as forum_service
from domain import statistics as stats_service
from domain.access import Access
from domain.actions import Filter, Scope
from domain.errors import InvalidInput
from domain.export import csv_bytes, xlsx_bytes
from domain.i18n import N_, Translator
from handlers import outgoing, slack_text
from handlers.actions.meta import (
    ACTION,
    ACTIONS,
    FILTER_WORDS,
    PLAN,
    SCOPE_WORDS,
    ActionMeta,
    forum_today,
)
from handlers.blocks import actions as ui
from handlers.blocks import statistics as stats_ui
from handlers.blocks.cases import effect_label
from handlers.blocks.forum import text_message
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors
from handlers.screens import display_names
from storage.db import transaction
from storage.models import Effect

# --- entry points used by the command router ------------------------------------------------


def _modal_for(
    session: Session,
    deps: Deps,
    t: Translator,
    access: Access,
    *,
    case_reference: str | None,
    area_id: int | None = None,
    case_id: int | None = None,
) -> dict[str, Any]:
    forum = access.forum
    meta = ActionMeta(
        locale=t.locale, forum_id=forum.id, channel_id=forum.channel_id, case_id=case_id
    )
    return ui.action_modal(
        t,
        agencies=[(a.id, a.name) for a in forum_service.active_agencies(forum)],
        own_agency_id=access.member.agency_id,
        areas=[(a.id, a.name) for a in forum_service.active_areas(forum)],
        meetings=[
            (m.id, m.starts_at)
            for m in action_service.upcoming_meetings(session, deps.clock, forum)
        ],
        tz=forum_service.forum_schedule(forum).zone,
        today=forum_today(access, deps),
        owner=access.member.slack_user_id,
        case_reference=case_reference,
        private_metadata=meta.dump(),
        area_id=area_id,
        forum_code=forum.code,
    )


def open_action_modal(
    deps: Deps,
    client: WebClient,
    t: Translator,
    req: CommandRequest,
    *,
    case_reference: str | None = None,
) -> None:
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        )
        view = _modal_for(session, deps, t, access, case_reference=case_reference)
    client.views_open(trigger_id=req.trigger_id, view=view)


def action_list(
    deps: Deps,
    t: Translator,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    scope: Scope = "mine",
    flt: Filter = "open",
    page: int = 0,
    note: str | None = None,
    after: tuple[str, int] | None = None,
    before: tuple[str, int] | None = None,
) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=team_id, channel_id=channel_id, slack_user_id=user_id
        )
        result = action_service.list_actions(
            session,
            deps.clock,
            access=access,
            scope=scope,
            flt=flt,
            page=page,
            after=after,
            before=before,
        )
        today = forum_today(access, deps)
    return ui.action_list_message(t, result, today, note=note)


def _list_words(rest: list[str]) -> tuple[Scope, Filter]:
    scope: Scope = "mine"
    flt: Filter = "open"
    for word in rest:
        if word in SCOPE_WORDS:
            scope = SCOPE_WORDS[word]
        elif word in FILTER_WORDS:
            flt = FILTER_WORDS[word]
        else:
            raise InvalidInput(
                N_(
                    "I don't know the filter {word}. Try: mina, verksamhet, forum and öppna, "
                    "försenade, klara, uppföljning."
                ),
                word=slack_text.shown(word)[:30],
            )
    return scope, flt


def route(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest, word: str, rest: list[str]
) -> dict[str, Any] | None:
    """``/samverkan insats|insatser|åtgärdsplan|statistik …`` (in the forum's channel)."""
    if word in ACTION:
        open_action_modal(
            deps, client, t, req, case_reference=rest[0].upper()[:32] if rest else None
        )
        return None
    if word in ACTIONS:
        scope, flt = _list_words(rest)
        return action_list(
            deps,
            t,
            team_id=req.team_id,
            channel_id=req.channel_id,
            user_id=req.user_id,
            scope=scope,
            flt=flt,
        )
    fmt = next((w for w in rest if w in ("csv", "xlsx")), None)
    words = [w for w in rest if w not in ("csv", "xlsx")]
    if word in PLAN:
        return export_plan(deps, client, t, req, words, fmt)
    return statistics(deps, client, t, req, words)


# --- åtgärdsplan and statistics ----------------------------------------------------------------


def export_plan(
    deps: Deps,
    client: WebClient,
    t: Translator,
    req: CommandRequest,
    words: list[str],
    fmt: str | None,
) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        )
        today = forum_today(access, deps)
        # Without a period: what is open, and what was due or done in the last twelve months.
        rolling = not words
        period = (
            stats_service.last_twelve_months(today)
            if rolling
            else stats_service.parse_period(words, today)
        )
        rows = stats_service.action_plan(
            session, deps.clock, access=access, period=period, include_open=rolling
        )
        code = access.forum.code
    names = display_names(client, {r.owner for r in rows if r.owner})
    headers = [
        t("Action"),
        t("Description"),
        t("Owning agency"),
        t("Owner"),
        t("Due date"),
        t("Status"),
        t("Effect"),
        t("Follow-up comment"),
        t("Case"),
        t("Area"),
        t("Hoped-for effect"),
        t("Done on"),
    ]
    table = [
        [
            r.id,
            r.description if r.description is not None else t("details hidden"),
            r.agency,
            names.get(r.owner, r.owner) if r.owner else t("no owner (with the agency)"),
            r.due_on.isoformat(),
            ui.status_label(t, r.status),
            effect_label(t, Effect(r.effect)) if r.effect else "",
            r.follow_up_comment or "",
            r.case_reference or "",
            r.area or "",
            r.hoped_effect or "",
            r.completed_on.isoformat() if r.completed_on else "",
        ]
        for r in rows
    ]
    stem = f"atgardsplan-{code}-{period.start.isoformat()}-{period.end.isoformat()}"
    if rolling:
        comment = t.ngettext(
            "The action plan: open actions and those due or done since {start} ({n} action).",
            "The action plan: open actions and those due or done since {start} ({n} actions).",
            len(rows),
            start=t.day(period.start),
        )
    else:
        comment = t.ngettext(
            "The action plan for {start} – {end} ({n} action).",
            "The action plan for {start} – {end} ({n} actions).",
            len(rows),
            start=t.day(period.start),
            end=t.day(period.end),
        )
    for kind in [fmt] if fmt else ["xlsx", "csv"]:
        data = (
            csv_bytes(headers, table)
            if kind == "csv"
            else xlsx_bytes([(t("Action plan"), headers, table)])
        )
        outgoing.send_file(
            deps,
            client,
            req.team_id,
            req.user_id,
            data=data,
            filename=f"{stem}.{kind}",
            comment=comment,
        )
    return text_message(
        t.ngettext(
            "I sent you the action plan ({n} action) in a direct message.",
            "I sent you the action plan ({n} actions) in a direct message.",
            len(rows),
        )
    )


def statistics(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest, words: list[str]
) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        )
        period = stats_service.parse_period(words, forum_today(access, deps))
        stats = stats_service.masked_statistics(
            stats_service.forum_statistics(session, deps.clock, access=access, period=period)
        )
        code = access.forum.code
    png = stats_ui.statistics_png(t, stats)
    outgoing.send_file(
        deps,
        client,
        req.team_id,
        req.user_id,
        data=png,
        filename=f"statistik-{code}-{period.start.isoformat()}-{period.end.isoformat()}.png",
        comment=t("Statistics for {forum}", forum=stats.forum_name),
        alt_text=stats_ui.statistics_alt_text(t, stats),
    )
    return stats_ui.statistics_message(t, stats)
