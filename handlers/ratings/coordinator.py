"""The buttons under the status: close early, extend, export, settings, the round's
comments (coordinators), and saving the settings modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from domain import forums as forum_service
from domain import ratings as rating_service
from domain.errors import InvalidInput
from domain.i18n import N_, Translator
from handlers import forms
from handlers.blocks import ratings as ui
from handlers.blocks.common import section
from handlers.deps import Deps
from handlers.errors import database_errors
from handlers.listener import listener, quick_translator
from handlers.outgoing import dm_locales, picture_ready
from handlers.ratings.base import (
    RatingMeta,
    access_for_round,
    access_in_channel,
    request_of,
    round_door,
)
from handlers.ratings.command import open_settings, overview, send_export
from storage.db import transaction


@listener("replace", needs=("message",))
def close_now(
    body: dict[str, Any], context: BoltContext, respond: Respond, deps: Deps, t: Translator
) -> None:
    req = request_of(body, context)
    round_id = forms.id_value(body["actions"][0].get("value", ""))
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        round_door(session, deps.clock, req.team_id, req.user_id, round_id),
    ):
        access = access_in_channel(session, req)
        rating_service.close_early(
            session,
            deps.clock,
            ui.RENDERERS,
            access=access,
            round_id=round_id or 0,
            on_closed=lambda s, meeting_id: picture_ready(
                s, deps.clock, meeting_id, locale_of=dm_locales(deps)
            ),
        )
    reply = overview(deps, t, req)
    reply["text"] = t("The round is closed: the picture is posted in the channel shortly.")
    reply["blocks"].insert(1, section(reply["text"]))
    respond(replace_original=True, response_type="ephemeral", **reply)


@listener("replace", needs=("message",))
def extend(
    body: dict[str, Any], context: BoltContext, respond: Respond, deps: Deps, t: Translator
) -> None:
    req = request_of(body, context)
    selected = (body["actions"][0].get("selected_option") or {}).get("value", "")
    pair = ui.parse_pair(selected)
    if pair is None:
        raise InvalidInput(N_("Choose how long to extend."))
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        round_door(session, deps.clock, req.team_id, req.user_id, pair[0]),
    ):
        access = access_in_channel(session, req)
        rating_service.extend(session, deps.clock, access=access, round_id=pair[0], days=pair[1])
    respond(replace_original=True, response_type="ephemeral", **overview(deps, t, req))


@listener("ephemeral", needs=("message",))
def export_latest(
    body: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    respond: Respond,
    deps: Deps,
    t: Translator,
) -> None:
    req = request_of(body, context)
    fmt = "csv" if body["actions"][0]["action_id"] == ui.ACTION_EXPORT_CSV else "xlsx"
    with database_errors(), transaction(deps.sessions) as session:
        access = access_in_channel(session, req)
        data = rating_service.export_rounds(session, deps.clock, access=access, t=t)
    send_export(deps, client, t, req, data, fmt)
    text = t("The export is in your direct messages.")
    respond(replace_original=False, response_type="ephemeral", text=text)


@listener("ephemeral")
def settings_button(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    req = request_of(body, context)
    t = quick_translator(context, deps)
    open_settings(deps, client, t, req, trigger_id=req.trigger_id)


@listener("open")
def open_comments(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    t = quick_translator(context, deps)
    team_id, user_id = context.team_id or "", context.user_id or ""
    round_id = forms.id_value(str(body["actions"][0].get("value") or ""))
    with database_errors(), transaction(deps.sessions) as session:
        with round_door(session, deps.clock, team_id, user_id, round_id):
            access = access_for_round(session, team_id, user_id, round_id or 0)
        comments = rating_service.round_comments(
            session, deps.clock, access=access, round_id=round_id or 0
        )
    view = ui.comments_modal(t, comments, forum_id=access.forum.id)
    client.views_open(trigger_id=body["trigger_id"], view=view)


@listener("modal_or_notice")
def submit_settings(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = RatingMeta.load(view.get("private_metadata"))
    values = view["state"]["values"]
    settings = rating_service.check_settings(
        cadence=forms.selected(values, "cadence"),
        days_before=forms.selected(values, "days_before"),
        deadline_days_before=forms.selected(values, "deadline_days"),
        deadline_time=forms.time_value(values, "deadline_time"),
        reminder_hours=forms.selected_many(values, "reminders"),
    )
    chosen = forms.id_values(forms.selected_many(values, "chosen"))
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
    ack()
