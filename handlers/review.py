"""Listeners for the half-year review: ``/samverkan uppföljning [från] [till]`` (coordinators:
the PDF and xlsx by DM, a short summary in the channel) and ``/samverkan uppföljning
inställningar`` (whether it is sent by itself, and when the periods end)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from domain import forums as forum_service
from domain import periods
from domain import review as review_service
from domain.errors import NotCoordinator
from domain.i18n import Translator
from handlers import forms, outgoing
from handlers.blocks import review as ui
from handlers.blocks.forum import text_message
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors
from handlers.listener import listener
from handlers.metadata import ViewMeta
from storage.db import reading, transaction

log = logging.getLogger(__name__)

WORDS = {"uppföljning", "uppfoljning", "halvår", "halvar", "review", "half-year"}
SETTINGS = {"inställningar", "installningar", "settings"}


def route(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest
) -> dict[str, Any] | None:
    words = req.text.split()[1:]
    if words and words[0].casefold() in SETTINGS:
        open_settings(deps, client, t, req)
        return None
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        )
        if not access.is_coordinator:
            raise NotCoordinator()
        forum = access.forum
        zone = forum_service.forum_schedule(forum).zone
        settings = review_service.review_settings(forum)
        period = periods.parse_review_period(
            words, deps.clock.now().astimezone(zone).date(), end_month=settings.end_month
        )
        figures = review_service.build(
            session, deps.clock, forum=forum, period=period, actor=req.user_id
        )
        channel_t = Translator("sv" if forum.language == "sv" else "en")
        for filename, data in review_service.files(t, figures):
            outgoing.share_file(
                session,
                deps.clock,
                team_id=req.team_id,
                user_id=req.user_id,
                data=data,
                filename=filename,
                comment=filename,
            )
        outgoing.post(
            session,
            deps.clock,
            team_id=req.team_id,
            channel=forum.channel_id,
            message=ui.summary_message(channel_t, figures, automatic=False),
        )
    outgoing.deliver_now(deps, client)
    return text_message(
        t(
            "I sent you the half-year review for {start} – {end} (PDF and xlsx) in a direct "
            "message, and a short summary to the channel.",
            start=t.day(period.start),
            end=t.day(period.end),
        )
    )


def open_settings(deps: Deps, client: WebClient, t: Translator, req: CommandRequest) -> None:
    with database_errors(), reading(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        )
        if not access.is_coordinator:
            raise NotCoordinator()
        meta = ViewMeta(locale=t.locale, channel_id=req.channel_id, forum_id=access.forum.id)
        view = ui.settings_modal(
            t, review_service.review_settings(access.forum), private_metadata=meta.dump()
        )
    client.views_open(trigger_id=req.trigger_id, view=view)


@listener("modal")
def submit_settings(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = ViewMeta.load(view.get("private_metadata"))
    values = view["state"]["values"]
    month = forms.selected(values, "review_end") or ""
    with database_errors(), transaction(deps.sessions) as session:
        forum = forum_service.get_forum(
            session, forum_id=meta.forum_id or 0, team_id=context.team_id or ""
        )
        forum_service.require_coordinator(session, forum=forum, slack_user_id=context.user_id or "")
        review_service.save_settings(
            session,
            forum,
            review_service.ReviewSettings(
                auto="auto" in forms.selected_many(values, "review_auto"),
                end_month=forms.id_value(month) or 0,
            ),
        )
    ack()


def register(app: App) -> None:
    app.view(ui.CB_SETTINGS)(submit_settings)
