"""What the action listeners share: the modals' metadata (where the user came from), the
forum's today, the owner's language, and showing a change on App Home, in a case's modal
and on the posted agendas."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Literal

from slack_bolt import BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from domain import agenda as agenda_service
from domain import forums as forum_service
from domain.access import Access
from domain.actions import Filter, Scope
from domain.i18n import Locale, Translator
from handlers.blocks import actions as ui
from handlers.deps import Deps
from handlers.metadata import Id, Meta, ViewMeta
from handlers.outgoing import publish_changes
from handlers.payload import channel_of
from handlers.screens import detail_view, home_view

log = logging.getLogger(__name__)

ACTION = {"insats", "action", "åtgärd", "atgard"}
ACTIONS = {"insatser", "actions", "åtgärder", "atgarder"}
PLAN = {"åtgärdsplan", "atgardsplan", "action-plan", "actionplan", "plan"}
STATISTICS = {"statistik", "statistics", "stats"}
WORDS = ACTION | ACTIONS | PLAN | STATISTICS

SCOPE_WORDS: dict[str, Scope] = {
    "mina": "mine",
    "mine": "mine",
    "my": "mine",
    "verksamhet": "agency",
    "verksamhetens": "agency",
    "agency": "agency",
    "forum": "forum",
    "forumets": "forum",
}
FILTER_WORDS: dict[str, Filter] = {
    "öppna": "open",
    "oppna": "open",
    "open": "open",
    "försenade": "overdue",
    "forsenade": "overdue",
    "sena": "overdue",
    "overdue": "overdue",
    "klara": "done",
    "done": "done",
    "uppföljning": "follow_up",
    "uppfoljning": "follow_up",
    "follow-up": "follow_up",
    "followup": "follow_up",
    "alla": "all",
    "all": "all",
}

Origin = Literal["card", "home", "list", "modal", "none"]


class ActionMeta(Meta):
    """``private_metadata`` of the action modals: where the user came from, so the message,
    App Home or modal they came from is refreshed afterwards."""

    locale: Locale = "sv"
    forum_id: Id | None = None
    channel_id: str | None = None
    action_id: Id | None = None
    origin: Origin = "none"
    message_channel: str | None = None
    message_ts: str | None = None
    # The list (page:scope:filter) a row menu was used in, to redraw it in place.
    list_state: str | None = None
    # The case whose modal the action modal was pushed from, refreshed once it is saved.
    case_id: Id | None = None

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)


def forum_today(access: Access, deps: Deps) -> dt.date:
    return forum_service.local_today(access.forum, deps.clock)


# --- App Home and the case view -------------------------------------------------------------


def publish_home(deps: Deps, client: WebClient, t: Translator, team_id: str, user_id: str) -> None:
    """Re-publish App Home after a change made there."""
    client.views_publish(user_id=user_id, view=home_view(deps, t, team_id, user_id))


def refresh_case_modal(
    deps: Deps, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """After an action made from a case's modal: back there, it is listed at once."""
    view = body["view"]
    meta = ActionMeta.load(view.get("private_metadata"))
    parent = view.get("previous_view_id")
    if not parent or meta.case_id is None:
        return
    case_meta = ViewMeta(locale=meta.locale, channel_id=meta.channel_id, forum_id=meta.forum_id)
    t = Translator(meta.locale)
    try:
        updated = detail_view(
            deps, t, case_meta, context.team_id or "", context.user_id or "", meta.case_id
        )
        client.views_update(view_id=parent, view=updated)
    except Exception as exc:
        log.warning("could not refresh the case modal after a new action: %s", exc)


def republish_agendas(deps: Deps, session: Session, access: Access, action_id: int) -> bool:
    """Queue the update of the posted agendas (and previews) that list this action."""
    changed = False
    for meeting in agenda_service.meetings_listing_action(session, deps.clock, action_id):
        changed = publish_changes(deps, session, meeting, access.forum) or changed
    return changed


# --- listeners ------------------------------------------------------------------------------


def origin_of(body: dict[str, Any], *, card: bool) -> ActionMeta:
    container = body.get("container") or {}
    view = body.get("view") or {}
    if container.get("type") == "view":
        return ActionMeta(origin="home" if view.get("type") == "home" else "modal")
    block_id = str(((body.get("actions") or [{}])[0]).get("block_id", ""))
    # A button on the posted agenda: answer the user, never replace the agenda message.
    if card and not block_id.startswith("agenda:"):
        # A message of several actions' cards (the overdue digest) is not replaced by the
        # one card a change from a modal shows (the others would vanish from it): no ts.
        several = len(ui.cards_in((body.get("message") or {}).get("blocks") or [])) > 1
        return ActionMeta(
            origin="card",
            message_channel=container.get("channel_id") or channel_of(body) or None,
            message_ts=None if several else container.get("message_ts"),
        )
    listed = ui.parse_row_block_id(block_id)
    state = ui.list_value(listed.scope, listed.filter, listed.page) if listed else None
    return ActionMeta(origin="list", list_state=state)
