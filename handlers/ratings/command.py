"""``/samverkan lägesbild`` and its subcommands: the status (overview), ``borta`` /
``tillbaka``, ``export [from] [to]`` and the coordinator's settings modal."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from slack_sdk import WebClient

from domain import actions as action_service
from domain import day_words
from domain import forums as forum_service
from domain import ratings as rating_service
from domain.errors import (
    InvalidInput,
    NotCoordinator,
)
from domain.export import csv_bytes, xlsx_bytes
from domain.i18n import N_, Translator
from handlers import outgoing, slack_text
from handlers.blocks import actions as action_ui
from handlers.blocks import ratings as ui
from handlers.blocks.forum import text_message
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors
from handlers.ratings.base import (
    AWAY,
    BACK,
    EXPORT,
    RATE,
    SETTINGS,
    RatingMeta,
    access_in_channel,
)
from handlers.ratings.modal import open_rating_from_channel
from storage.db import transaction


def route(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest
) -> dict[str, Any] | None:
    words = slack_text.args(req.text)
    word, rest = words[0].casefold(), words[1:]
    if word in AWAY or word in BACK:
        return away(deps, client, t, req, [] if word in BACK else rest, back=word in BACK)
    sub = rest[0].casefold() if rest else ""
    if sub in RATE:
        open_rating_from_channel(deps, client, t, req)
        return None
    if sub in EXPORT:
        return export(deps, client, t, req, rest[1:])
    if sub in SETTINGS:
        open_settings(deps, client, t, req, trigger_id=req.trigger_id)
        return None
    if sub:
        raise InvalidInput(
            N_(
                "Use /samverkan lägesbild, … lägesbild bedöm, … lägesbild export [from] [to] "
                "or … lägesbild inställningar."
            )
        )
    return overview(deps, t, req)


def overview(deps: Deps, t: Translator, req: CommandRequest) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = access_in_channel(session, req)
        view = rating_service.overview(session, deps.clock, access=access)
        name = access.forum.name
        coordinator = access.is_coordinator
        areas = [(a.id, a.name) for a in forum_service.active_areas(access.forum)]
    reply = ui.overview_message(t, view, forum_name=name, coordinator=coordinator)
    # Any member may create an action for an area from the picture (issue #8).
    return action_ui.with_new_action_for_area(t, reply, areas)


def away(
    deps: Deps,
    client: WebClient,
    t: Translator,
    req: CommandRequest,
    rest: list[str],
    *,
    back: bool,
) -> dict[str, Any]:
    words = [w for w in rest if w.casefold() not in {"till", "until", "tom", "t.o.m."}]
    if not back and not words:
        raise InvalidInput(
            N_(
                "Write the last day you are away, and your stand-in if you have one: "
                "/samverkan away 2026-12-10 @name (the day also as 10/12, 10 December, "
                "Thursday or tomorrow). Back earlier: /samverkan back."
            )
        )
    if words and words[0].casefold() in {"slut", "klar", "nej", "off", "none"}:
        back, words = True, []
    with database_errors(), transaction(deps.sessions) as session:
        access = access_in_channel(session, req)
        until: dt.date | None = None
        stand_in: str | None = None
        if not back:
            today = rating_service.local_today(access.forum, deps.clock)
            until, used = day_words.take_day(words, today)
            if until is None:
                # What was typed for the day: the words before a named stand-in.
                typed = list(itertools.takewhile(lambda w: slack_text.user_id(w) is None, words))
                raise InvalidInput(
                    day_words.MSG_NOT_A_DAY,
                    text=slack_text.shown(" ".join(typed or words[:1]))[:40],
                )
            if len(words) > used:
                stand_in = slack_text.user_id(words[used])
                if stand_in is None:
                    raise InvalidInput(N_("Name your stand-in as @name."))
        was_until = access.member.away_until
        absence = rating_service.set_away(
            session, deps.clock, access=access, until=until, stand_in=stand_in
        )
        forum = access.forum
        # Reminders held for the day they were to be back follow the change.
        action_service.absence_changed(
            session,
            deps.clock,
            forum=forum,
            owner=access.member.slack_user_id,
            was_until=was_until,
            until=absence.until,
        )
    if absence.stand_in_before and absence.stand_in_before != absence.stand_in:
        # The stand-in named before no longer stands in: told, or they would go on
        # thinking they did.
        before_t = outgoing.recipient_t(deps, client, forum, absence.stand_in_before)
        outgoing.tell_now(
            deps,
            client,
            req.team_id,
            absence.stand_in_before,
            before_t(
                N_("{user} no longer needs you as stand-in for {agency} in {forum}."),
                user=f"<@{req.user_id}>",
                agency=absence.agency_name,
                forum=forum.name,
            ),
        )
    if absence.until is None:
        if not absence.was_away:
            return text_message(t("You were not marked as away: nothing changed."))
        return text_message(t("Welcome back: you get the situation picture's messages again."))
    if absence.stand_in:
        # Theirs when Slack names it in time, else the forum's language (not Swedish).
        stand_in_t = outgoing.recipient_t(deps, client, forum, absence.stand_in)
        outgoing.tell_now(
            deps,
            client,
            req.team_id,
            absence.stand_in,
            stand_in_t(
                N_(
                    "{user} is away until and including {day} and has named you as stand-in "
                    "for {agency} in {forum}. Their action reminders come to you meanwhile."
                ),
                user=f"<@{req.user_id}>",
                day=stand_in_t.day(absence.until),
                agency=absence.agency_name,
                forum=forum.name,
            ),
        )
        return text_message(
            t(
                "You are away until and including {day}; {user} stands in for {agency} and "
                "gets your action reminders meanwhile.",
                day=t.day(absence.until),
                user=f"<@{absence.stand_in}>",
                agency=absence.agency_name,
            )
        )
    return text_message(
        t(
            "You are away until and including {day}. If no one else from {agency} is here, "
            "your agency is shown as away, not as missing.",
            day=t.day(absence.until),
            agency=absence.agency_name,
        )
        + " "
        # No stand-in: the reminders of their actions are held (domain.actions.jobs).
        + t("Your action reminders wait until you are back, and come to you then.")
    )


def export(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest, rest: list[str]
) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = access_in_channel(session, req)
        if not access.is_coordinator:
            raise NotCoordinator()
        today = rating_service.local_today(access.forum, deps.clock)
        days: list[dt.date | None] = []
        words = list(rest)
        while words and len(days) < 2:  # "2026-01-01 2026-06-30", "1 jan 2026 30 jun 2026"
            day, used = day_words.take_day(words, today)
            days.append(day)
            words = words[used:] if day is not None else []
        if any(d is None for d in days):
            raise InvalidInput(N_("Write the period as two days, e.g. 2026-01-01 2026-06-30."))
        start = days[0] if days else None
        end = days[1] if len(days) > 1 else (today if start else None)
        data = rating_service.export_rounds(
            session, deps.clock, access=access, start=start, end=end, t=t
        )
    send_export(deps, client, t, req, data, "both")
    return text_message(t("The export is in your direct messages."))


def send_export(
    deps: Deps,
    client: WebClient,
    t: Translator,
    req: CommandRequest,
    data: rating_service.ExportData,
    fmt: str,
) -> None:
    stem = f"lagesbild-{data.forum_code}"
    comment = t.ngettext(
        "Situation picture export: {n} round.", "Situation picture export: {n} rounds.", data.rounds
    )
    if fmt in ("xlsx", "both"):
        workbook = xlsx_bytes(
            [
                ("lagesbild", data.headers, data.rows),
                ("sammanstallning", data.summary_headers, data.summary),
            ]
        )
        outgoing.send_file(
            deps,
            client,
            req.team_id,
            req.user_id,
            data=workbook,
            filename=f"{stem}.xlsx",
            comment=comment,
        )
    if fmt in ("csv", "both"):
        outgoing.send_file(
            deps,
            client,
            req.team_id,
            req.user_id,
            data=csv_bytes(data.headers, data.rows),
            filename=f"{stem}.csv",
            comment=comment,
        )


def open_settings(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest, *, trigger_id: str
) -> None:
    with database_errors(), transaction(deps.sessions) as session:
        access = access_in_channel(session, req)
        if not access.is_coordinator:
            raise NotCoordinator()
        forum = access.forum
        settings = rating_service.rating_settings(forum)
        choosable = rating_service.choosable_meetings(session, deps.clock, forum)
        meta = RatingMeta(locale=t.locale, forum_id=forum.id)
        view = ui.settings_modal(
            t, settings, meetings=choosable, tz=forum.timezone, private_metadata=meta.dump()
        )
    client.views_open(trigger_id=trigger_id, view=view)
