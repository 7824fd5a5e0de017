"""Listeners for a forum's case criteria: ``/samverkan kriterier`` (coordinators edit them
in a modal, from a template or typed; members see the list and how often each was met) and
the button in the forum settings modal."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain import criteria as criteria_service
from domain import forums as forum_service
from domain import statistics as stats_service
from domain.i18n import Translator
from domain.periods import bounds
from handlers import forms
from handlers.blocks import criteria as ui
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors
from handlers.listener import listener
from handlers.metadata import ViewMeta
from handlers.payload import ack_only
from storage.db import reading, transaction

log = logging.getLogger(__name__)

WORDS = {"kriterier", "kriterium", "criteria", "checklista", "checklist"}
STATS = {"statistik", "statistics", "stats"}


def route(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest
) -> dict[str, Any] | None:
    words = [w.casefold() for w in req.text.split()[1:]]
    with database_errors(), reading(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        )
        forum = access.forum
        if access.is_coordinator and not words:
            current = criteria_service.active_criteria(session, forum.id)
            meta = ViewMeta(locale=t.locale, channel_id=forum.channel_id, forum_id=forum.id)
            view = ui.criteria_modal(
                t,
                lines=criteria_service.as_lines([(c.text, c.help) for c in current]),
                private_metadata=meta.dump(),
            )
        else:
            view = None
            zone = forum_service.forum_schedule(forum).zone
            period = stats_service.parse_period(
                [w for w in words if w not in STATS], deps.clock.now().astimezone(zone).date()
            )
            start, end = bounds(zone, period)
            reply = ui.criteria_message(
                t,
                forum_name=forum.name,
                criteria=criteria_service.active_criteria(session, forum.id),
                stats=criteria_service.statistics(session, forum_id=forum.id, start=start, end=end),
                period=f"{t.day(period.start)} – {t.day(period.end)}",
            )
    if view is not None:
        client.views_open(trigger_id=req.trigger_id, view=view)
        return None
    return reply


@listener("push", needs=("modal",))
def push_from_settings(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    """The "Case criteria" button of the forum settings modal."""
    meta = ViewMeta.load(body["view"].get("private_metadata"))
    t = Translator(meta.locale)
    with database_errors(), reading(deps.sessions) as session:
        forum = forum_service.get_forum(
            session, forum_id=meta.forum_id or 0, team_id=context.team_id or ""
        )
        forum_service.require_coordinator(session, forum=forum, slack_user_id=context.user_id or "")
        current = criteria_service.active_criteria(session, forum.id)
    view = ui.criteria_modal(
        t,
        lines=criteria_service.as_lines([(c.text, c.help) for c in current]),
        private_metadata=meta.dump(),
    )
    client.views_push(trigger_id=body["trigger_id"], view=view)


@listener("log", needs=("modal",))
def choose_template(body: dict[str, Any], client: WebClient) -> None:
    view = body["view"]
    meta = ViewMeta.load(view.get("private_metadata"))
    key = (body["actions"][0].get("selected_option") or {}).get("value")
    template = criteria_service.TEMPLATES.get(key or "")
    if template is None:
        return
    meta.version += 1
    try:
        client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=ui.criteria_modal(
                Translator(meta.locale),
                lines=criteria_service.as_lines(template[1]),
                private_metadata=meta.dump(),
                version=meta.version,
            ),
        )
    except SlackApiError as exc:  # hash_conflict: a newer choice already updated it
        log.info("criteria template not applied: %s", exc.response.get("error"))


@listener("modal")
def submit(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = ViewMeta.load(view.get("private_metadata"))
    with database_errors(), transaction(deps.sessions) as session:
        forum = forum_service.get_forum(
            session, forum_id=meta.forum_id or 0, team_id=context.team_id or ""
        )
        access = forum_service.require_member(
            session, forum=forum, slack_user_id=context.user_id or ""
        )
        criteria_service.set_criteria(
            session,
            deps.clock,
            access=access,
            raw=forms.text(view["state"]["values"], "criteria"),
        )
    ack()


def register(app: App) -> None:
    app.action(ui.ACTION_OPEN)(ack=ack_only, lazy=[push_from_settings])
    app.action(ui.ACTION_TEMPLATE)(ack=ack_only, lazy=[choose_template])
    app.view(ui.CB_CRITERIA)(submit)
