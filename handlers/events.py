"""Events API listeners: channel membership and App Home."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from domain import forums as forum_service
from domain.errors import DomainError
from domain.i18n import Translator
from handlers import actions as action_handlers
from handlers import minutes
from handlers.blocks import actions as action_ui
from handlers.blocks import forum as ui
from handlers.deps import Deps
from handlers.errors import database_errors, failure_text
from handlers.forum import queue_announcement_update, summarize
from handlers.payload import ack_only
from storage.db import transaction

log = logging.getLogger(__name__)


def home_view(deps: Deps, t: Translator, team_id: str, user_id: str) -> dict[str, Any]:
    """The App Home tab: the user's forums and "mina insatser" (their open actions)."""
    try:
        with database_errors(), transaction(deps.sessions) as session:
            forums = forum_service.forums_of_user(session, team_id=team_id, slack_user_id=user_id)
            summaries = [summarize(session, deps, f, user_id=user_id) for f in forums]
            mine = (
                action_handlers.home_blocks(session, deps, t, team_id=team_id, user_id=user_id)
                if forums
                else []
            )
            if forums:  # "Inför mötet" (handlers/minutes.py)
                mine += minutes.home_blocks(session, deps, t, team_id=team_id, user_id=user_id)
        return action_ui.add_to_home(ui.home_view(t, summaries), mine)
    except Exception as exc:  # the user opened the tab: show why it is empty
        if not isinstance(exc, DomainError):
            log.exception("App Home failed")
        return ui.home_error_view(t, failure_text(t, exc))


def register(app: App, deps: Deps) -> None:
    @app.event("member_left_channel")
    def member_left(event: dict[str, Any], context: Any) -> None:
        # Idempotent: a retried event finds the member already inactive.
        team_id = event.get("team") or context.get("team_id") or ""
        with database_errors(), transaction(deps.sessions) as session:
            left = forum_service.member_left_channel(
                session,
                deps.clock,
                team_id=team_id,
                channel_id=event["channel"],
                slack_user_id=event["user"],
            )
            forum = (
                forum_service.forum_for_channel(
                    session, team_id=team_id, channel_id=event["channel"]
                )
                if left
                else None
            )
            if forum is not None:
                # The announcement's member count; the scheduler sends it with the outbox.
                queue_announcement_update(session, deps, forum)

    @app.event("member_joined_channel")
    def member_joined(ack: Any) -> None:
        # Joining the channel gives no access by itself: a coordinator adds members.
        return None

    def home_opened(event: dict[str, Any], client: WebClient, context: Any) -> None:
        if event.get("tab") not in (None, "home"):
            return
        user_id = event["user"]
        team_id = context.get("team_id") or ""
        t = deps.translator(client, team_id, user_id)
        client.views_publish(user_id=user_id, view=home_view(deps, t, team_id, user_id))

    app.event("app_home_opened")(ack=ack_only, lazy=[home_opened])
