"""Listeners for rating rounds and the situation picture. Parse → ack → domain → render.

``/samverkan lägesbild`` (status for everyone; coordinators close early, extend, export and
change the settings), ``/samverkan lägesbild bedöm`` (the rating modal),
``/samverkan lägesbild export [from] [to]`` (xlsx and CSV by DM), ``/samverkan borta
<day> [@stand-in]`` / ``/samverkan tillbaka``. The rating modal is reached from the DM the
round sends, so its forum comes from the round, not from a channel.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zoneinfo
from typing import Any

from pydantic import BaseModel, ValidationError
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from domain import forums as forum_service
from domain import ratings as rating_service
from domain.access import Access
from domain.errors import (
    DatabaseUnavailable,
    DomainError,
    InputErrors,
    InvalidInput,
    NotCoordinator,
)
from domain.export import csv_bytes, xlsx_bytes
from domain.i18n import N_, Locale, Translator
from handlers import forms, outgoing, slack_text
from handlers.blocks import actions as action_ui
from handlers.blocks import ratings as ui
from handlers.blocks.common import section
from handlers.blocks.forum import notice_modal, text_message
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors, failure_text
from handlers.listener import listener, quick_translator
from handlers.metadata import Id
from handlers.outgoing import picture_ready
from handlers.payload import ack_only
from storage.db import transaction
from storage.models import RatingRound

log = logging.getLogger(__name__)

PICTURE = {"lägesbild", "lagesbild", "lägesbilden", "situation", "picture", "ratings"}
AWAY = {"borta", "away", "frånvaro", "franvaro"}
BACK = {"tillbaka", "back"}
WORDS = PICTURE | AWAY | BACK
RATE = {"bedöm", "bedom", "bedömning", "rate", "svara", "answer"}
EXPORT = {"export", "exportera"}
SETTINGS = {"inställningar", "installningar", "settings"}
DMY_RE = re.compile(r"^(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))?$")


class RatingMeta(BaseModel):
    """``private_metadata`` of the rating modal."""

    locale: Locale = "sv"
    forum_id: Id = 0
    round_id: Id = 0
    agency_id: Id = 0
    page: int = 0

    def dump(self) -> str:
        return self.model_dump_json()

    @classmethod
    def load(cls, raw: str | None) -> RatingMeta:
        try:
            return cls.model_validate_json(raw or "{}")
        except ValidationError:
            return cls()


def parse_day(text: str, today: dt.date) -> dt.date | None:
    """``2026-12-10``, ``10/12`` or ``10.12.2026`` (day first); a day-month without a year
    is the next such day from today."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    match = DMY_RE.match(text)
    if match is None:
        return None
    day, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
    try:
        if year:
            full = int(year) + (2000 if len(year) == 2 else 0)
            return dt.date(full, month, day)
        candidate = dt.date(today.year, month, day)
        return candidate if candidate >= today else dt.date(today.year + 1, month, day)
    except ValueError:
        return None


def _access_in_channel(session: Session, req: CommandRequest) -> Access:
    return forum_service.require_member_in_channel(
        session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
    )


def _access_for_round(session: Session, team_id: str, user_id: str, round_id: int) -> Access:
    rating_round = session.get(RatingRound, round_id)
    if rating_round is None:
        raise rating_service.RoundNotFound()
    forum = forum_service.get_forum(session, forum_id=rating_round.forum_id, team_id=team_id)
    return forum_service.require_member(session, forum=forum, slack_user_id=user_id)


# --- the command ----------------------------------------------------------------------------


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
        access = _access_in_channel(session, req)
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
                "/samverkan borta 2026-12-10 @name. Back earlier: /samverkan tillbaka."
            )
        )
    if words and words[0].casefold() in {"slut", "klar", "nej", "off", "none"}:
        back, words = True, []
    with database_errors(), transaction(deps.sessions) as session:
        access = _access_in_channel(session, req)
        until: dt.date | None = None
        stand_in: str | None = None
        if not back:
            today = rating_service.local_today(access.forum, deps.clock)
            until = parse_day(words[0], today)
            if until is None:
                raise InvalidInput(
                    N_("I could not read {text} as a day. Write it like 2026-12-10."),
                    text=words[0][:20],
                )
            if len(words) > 1:
                stand_in = slack_text.user_id(words[1])
                if stand_in is None:
                    raise InvalidInput(N_("Name your stand-in as @name."))
        absence = rating_service.set_away(
            session, deps.clock, access=access, until=until, stand_in=stand_in
        )
        forum_name = access.forum.name
    if absence.until is None:
        return text_message(t("Welcome back: you get the situation picture's messages again."))
    if absence.stand_in:
        stand_in_t = deps.translator(client, req.team_id, absence.stand_in)
        outgoing.tell_now(
            deps,
            client,
            req.team_id,
            absence.stand_in,
            stand_in_t(
                N_(
                    "{user} is away until {day} and has named you stand-in for {agency} in {forum}."
                ),
                user=f"<@{req.user_id}>",
                day=stand_in_t.day(absence.until),
                agency=absence.agency_name,
                forum=forum_name,
            ),
        )
        return text_message(
            t(
                "You are away until {day}; {user} stands in for {agency}.",
                day=t.day(absence.until),
                user=f"<@{absence.stand_in}>",
                agency=absence.agency_name,
            )
        )
    return text_message(
        t(
            "You are away until {day}. If no one else from {agency} is here, your agency is "
            "shown as away, not as missing.",
            day=t.day(absence.until),
            agency=absence.agency_name,
        )
    )


def export(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest, rest: list[str]
) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = _access_in_channel(session, req)
        if not access.is_coordinator:
            raise NotCoordinator()
        today = rating_service.local_today(access.forum, deps.clock)
        days = [parse_day(w, today) for w in rest[:2]]
        if any(d is None for d in days):
            raise InvalidInput(N_("Write the period as two days, e.g. 2026-01-01 2026-06-30."))
        start = days[0] if days else None
        end = days[1] if len(days) > 1 else (today if start else None)
        data = rating_service.export_rounds(
            session, deps.clock, access=access, start=start, end=end, t=t
        )
    _send_export(deps, client, t, req, data, "both")
    return text_message(t("The export is in your direct messages."))


def _send_export(
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


# --- the rating modal -----------------------------------------------------------------------


def _rating_view(
    deps: Deps,
    t: Translator,
    team_id: str,
    user_id: str,
    round_id: int,
    agency_id: int | None,
    page: int = 0,
) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = _access_for_round(session, team_id, user_id, round_id)
        form = rating_service.rating_form(
            session, deps.clock, access=access, round_id=round_id, agency_id=agency_id
        )
        forum_id = access.forum.id
    meta = RatingMeta(
        locale=t.locale,
        forum_id=forum_id,
        round_id=form.round_id,
        agency_id=form.agency_id,
        page=page,
    )
    return ui.rating_modal(t, form, page=page, private_metadata=meta.dump())


def open_rating_from_channel(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest
) -> None:
    with database_errors(), transaction(deps.sessions) as session:
        access = _access_in_channel(session, req)
        rating_round = rating_service.find_open_round(session, access.forum)
        if rating_round is None:
            raise InvalidInput(N_("No rating round is open right now."))
        round_id = rating_round.id
    view = _rating_view(deps, t, req.team_id, req.user_id, round_id, None)
    client.views_open(trigger_id=req.trigger_id, view=view)


def open_settings(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest, *, trigger_id: str
) -> None:
    with database_errors(), transaction(deps.sessions) as session:
        access = _access_in_channel(session, req)
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


def _answers(values: forms.Values, meta: RatingMeta) -> list[rating_service.Answer]:
    answers = []
    for block_id in values:
        if not block_id.startswith("level_"):
            continue
        area = block_id.removeprefix("level_")
        if not area.isdigit():
            continue
        level = forms.selected(values, block_id)
        answers.append(
            rating_service.Answer(
                area_id=int(area),
                level=forms.id_value(level),
                comment=forms.text(values, f"comment_{area}") or None,
            )
        )
    return answers


@listener("log")
def open_rating(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, deps: Deps
) -> None:
    team_id, user_id = context.team_id or "", context.user_id or ""
    t = quick_translator(context, deps)
    pair = ui.parse_pair(body["actions"][0].get("value", ""))
    try:
        if pair is None:
            raise rating_service.RoundNotFound()
        view = _rating_view(deps, t, team_id, user_id, pair[0], pair[1])
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except Exception as exc:  # from a message: an ephemeral reply; from a DM: a DM
        if not isinstance(exc, DomainError):
            log.exception("opening the rating modal failed")
        text = failure_text(t, exc)
        if body.get("response_url"):
            respond(replace_original=False, response_type="ephemeral", text=text)
        else:
            outgoing.tell_now(deps, client, team_id, user_id, text)


@listener("modal")
def submit_rating(
    ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient, deps: Deps
) -> None:
    """Save the answers; escalations go to the coordinators as DMs queued in the same
    transaction."""
    meta = RatingMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    team_id, user_id = context.team_id or "", context.user_id or ""
    values = view["state"]["values"]
    try:
        with database_errors(), transaction(deps.sessions) as session:
            access = _access_for_round(session, team_id, user_id, meta.round_id)
            saved = rating_service.submit_ratings(
                session,
                deps.clock,
                access=access,
                round_id=meta.round_id,
                agency_id=meta.agency_id or None,
                answers=_answers(values, meta),
                # Asked on the form's last page only: elsewhere it stays as it is.
                observation=(
                    forms.text(values, rating_service.OBSERVATION_FIELD)
                    if rating_service.OBSERVATION_FIELD in values
                    else None
                ),
            )
            form = rating_service.rating_form(
                session,
                deps.clock,
                access=access,
                round_id=meta.round_id,
                agency_id=meta.agency_id or None,
            )
            if saved.escalations:
                _queue_escalations(session, deps, client, team_id, saved)
    except (InputErrors, DatabaseUnavailable):  # on the fields: a retry keeps what they typed
        raise
    except DomainError as exc:
        ack(response_action="update", view=notice_modal(t, failure_text(t, exc)))
        return
    next_page = meta.page + 1
    if next_page < ui.page_count(form):
        page_meta = meta.model_copy(update={"page": next_page})
        ack(
            response_action="update",
            view=ui.rating_modal(t, form, page=next_page, private_metadata=page_meta.dump()),
        )
        return
    deadline = t.day_time(form.deadline_at, zoneinfo.ZoneInfo(form.timezone))
    ack(
        response_action="update",
        view=ui.saved_modal(
            t, agency=saved.agency_name, complete=saved.complete, deadline=deadline
        ),
    )


def _queue_escalations(
    session: Session, deps: Deps, client: WebClient, team_id: str, saved: rating_service.Saved
) -> None:
    for coordinator, t in outgoing.translators(deps, client, team_id, saved.coordinators).items():
        for escalation in saved.escalations:
            outgoing.tell(
                session,
                deps.clock,
                team_id=team_id,
                user_id=coordinator,
                text=ui.escalation_text(t, saved.forum_name, escalation),
            )


@listener("log")
def deliver(client: WebClient, deps: Deps) -> None:
    outgoing.deliver_now(deps, client)  # the escalations, queued with the answers


def _req(body: dict[str, Any], context: BoltContext) -> CommandRequest:
    return CommandRequest(
        team_id=context.team_id or "",
        channel_id=context.channel_id or "",
        user_id=context.user_id or "",
        trigger_id=body.get("trigger_id", ""),
        text="",
    )


@listener("replace")
def close_now(
    body: dict[str, Any], context: BoltContext, respond: Respond, deps: Deps, t: Translator
) -> None:
    req = _req(body, context)
    value = body["actions"][0].get("value", "")
    with database_errors(), transaction(deps.sessions) as session:
        access = _access_in_channel(session, req)
        rating_service.close_early(
            session,
            deps.clock,
            ui.RENDERERS,
            access=access,
            round_id=(forms.id_value(value) or 0),
            on_closed=lambda s, meeting_id: picture_ready(s, deps.clock, meeting_id),
        )
    reply = overview(deps, t, req)
    reply["text"] = t("The round is closed: the picture is posted in the channel shortly.")
    reply["blocks"].insert(1, section(reply["text"]))
    respond(replace_original=True, response_type="ephemeral", **reply)


@listener("replace")
def extend(
    body: dict[str, Any], context: BoltContext, respond: Respond, deps: Deps, t: Translator
) -> None:
    req = _req(body, context)
    selected = (body["actions"][0].get("selected_option") or {}).get("value", "")
    pair = ui.parse_pair(selected)
    if pair is None:
        raise InvalidInput(N_("Choose how long to extend."))
    with database_errors(), transaction(deps.sessions) as session:
        access = _access_in_channel(session, req)
        rating_service.extend(session, deps.clock, access=access, round_id=pair[0], days=pair[1])
    respond(replace_original=True, response_type="ephemeral", **overview(deps, t, req))


@listener("ephemeral")
def export_latest(
    body: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    respond: Respond,
    deps: Deps,
    t: Translator,
) -> None:
    req = _req(body, context)
    fmt = "csv" if body["actions"][0]["action_id"] == ui.ACTION_EXPORT_CSV else "xlsx"
    with database_errors(), transaction(deps.sessions) as session:
        access = _access_in_channel(session, req)
        data = rating_service.export_rounds(session, deps.clock, access=access, t=t)
    _send_export(deps, client, t, req, data, fmt)
    text = t("The export is in your direct messages.")
    respond(replace_original=False, response_type="ephemeral", text=text)


@listener("ephemeral")
def settings_button(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    req = _req(body, context)
    t = quick_translator(context, deps)
    open_settings(deps, client, t, req, trigger_id=req.trigger_id)


@listener("open")
def open_comments(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    t = quick_translator(context, deps)
    value = str(body["actions"][0].get("value") or "")
    with database_errors(), transaction(deps.sessions) as session:
        access = _access_for_round(
            session,
            context.team_id or "",
            context.user_id or "",
            (forms.id_value(value) or 0),
        )
        comments = rating_service.round_comments(
            session, deps.clock, access=access, round_id=int(value)
        )
    view = ui.comments_modal(t, comments, forum_id=access.forum.id)
    client.views_open(trigger_id=body["trigger_id"], view=view)


@listener("modal")
def submit_settings(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = RatingMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    values = view["state"]["values"]
    try:
        settings = rating_service.check_settings(
            cadence=forms.selected(values, "cadence"),
            days_before=forms.selected(values, "days_before"),
            deadline_days_before=forms.selected(values, "deadline_days"),
            deadline_time=forms.time_value(values, "deadline_time"),
            reminder_hours=forms.selected_many(values, "reminders"),
        )
        chosen = [int(v) for v in forms.selected_many(values, "chosen") if v.isdigit()]
        with database_errors(), transaction(deps.sessions) as session:
            forum = forum_service.get_forum(
                session, forum_id=meta.forum_id, team_id=context.team_id or ""
            )
            access = forum_service.require_member(
                session, forum=forum, slack_user_id=context.user_id or ""
            )
            rating_service.save_settings(
                session,
                deps.clock,
                access=access,
                settings=settings,
                chosen_meeting_ids=chosen,
            )
    except (InputErrors, DatabaseUnavailable):  # on the fields: a retry keeps what they typed
        raise
    except DomainError as exc:
        ack(response_action="update", view=notice_modal(t, failure_text(t, exc)))
        return
    ack()


def register(app: App) -> None:
    app.action(ui.ACTION_RATE)(ack=ack_only, lazy=[open_rating])
    app.view(ui.CB_RATE)(ack=submit_rating, lazy=[deliver])
    app.action(ui.ACTION_CLOSE)(ack=ack_only, lazy=[close_now])
    app.action(ui.ACTION_EXTEND)(ack=ack_only, lazy=[extend])
    for action_id in (ui.ACTION_EXPORT_XLSX, ui.ACTION_EXPORT_CSV):
        app.action(action_id)(ack=ack_only, lazy=[export_latest])
    app.action(ui.ACTION_SETTINGS)(ack=ack_only, lazy=[settings_button])
    app.action(ui.ACTION_COMMENTS)(ack=ack_only, lazy=[open_comments])
    app.view(ui.CB_SETTINGS)(ack=submit_settings, lazy=[])
