"""Events API listeners: channel membership and App Home."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from domain import forums as forum_service
from handlers.deps import Deps
from handlers.errors import database_errors
from handlers.forum import queue_announcement_update
from handlers.payload import ack_only
from handlers.screens import home_view
from storage.db import transaction

log = logging.getLogger(__name__)


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
