"""Creating an action: the modal's submission, and opening the modal from a case or an area."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from domain import actions as action_service
from domain import forums as forum_service
from domain.actions import ActionDraft
from domain.i18n import Translator
from handlers import forms, outgoing
from handlers.actions.commands import _modal_for
from handlers.actions.meta import ActionMeta, refresh_case_modal
from handlers.deps import Deps
from handlers.errors import database_errors
from handlers.listener import listener, quick_translator
from handlers.metadata import ViewMeta
from handlers.outgoing import deliver_now
from storage.db import reading, transaction

# -- creating ------------------------------------------------------------------------------


@listener("modal")
def submit_action(
    ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    """Create the action; the owner's DM (and, when someone else owns it, the creator's
    confirmation) are queued with it: an outage delays them, never loses them."""
    meta = ActionMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    team_id, user_id = context.team_id or "", context.user_id or ""
    values = view["state"]["values"]
    area, meeting = forms.selected(values, "area"), forms.selected(values, "meeting")
    agency = forms.selected(values, "agency")
    draft = ActionDraft(
        description=forms.text(values, "description"),
        agency_id=forms.id_value(agency),
        owner=forms.selected(values, "owner"),
        due_on=forms.date_value(values, "due_on"),
        case_reference=forms.text(values, "case") or None,
        area_id=forms.id_value(area),
        meeting_id=forms.id_value(meeting),
        hoped_effect=forms.text(values, "hoped_effect") or None,
    )
    with database_errors(), transaction(deps.sessions) as session:
        forum = forum_service.get_forum(session, forum_id=meta.forum_id or 0, team_id=team_id)
        access = forum_service.require_member(session, forum=forum, slack_user_id=user_id)
        action, created = action_service.create_action(
            session, deps.clock, access=access, draft=draft, submission_key=view["id"]
        )
        if created and action.owner:
            outgoing.action_created(
                session, deps, client, access, action.id, team_id=team_id, by=user_id
            )
            if action.owner != user_id:
                outgoing.tell(
                    session,
                    deps.clock,
                    team_id=team_id,
                    user_id=user_id,
                    text=t(
                        "Action #{id} was created; <@{owner}> got it as a direct message.",
                        id=action.id,
                        owner=action.owner,
                    ),
                    key=f"action_created:{action.id}:creator",
                )
    ack()


@listener("log")
def after_create(body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps) -> None:
    """Send what the ack queued; a case's modal beneath lists the new action (read from the
    database: a refused submission created none)."""
    deliver_now(deps, client)
    meta = ActionMeta.load(body["view"].get("private_metadata"))
    with database_errors(), reading(deps.sessions) as session:
        created = action_service.submitted(
            session, forum_id=meta.forum_id or 0, submission_key=body["view"]["id"]
        )
    if created is not None:
        refresh_case_modal(deps, body, context, client)


@listener("push")
def new_for_case(body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps) -> None:
    t = quick_translator(context, deps)
    case_meta = ViewMeta.load((body.get("view") or {}).get("private_metadata"))
    reference = body["actions"][0].get("value") or None
    with database_errors(), transaction(deps.sessions) as session:
        forum = forum_service.get_forum(
            session, forum_id=case_meta.forum_id or 0, team_id=context.team_id or ""
        )
        access = forum_service.require_member(
            session, forum=forum, slack_user_id=context.user_id or ""
        )
        modal = _modal_for(
            session, deps, t, access, case_reference=reference, case_id=case_meta.case_id
        )
    client.views_push(trigger_id=body["trigger_id"], view=modal)


@listener("open")
def new_for_area(body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps) -> None:
    """The situation picture's "new action for an area": the modal, that area chosen."""
    t = quick_translator(context, deps)
    selected = str((body["actions"][0].get("selected_option") or {}).get("value", ""))
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session,
            team_id=context.team_id or "",
            channel_id=context.channel_id or "",
            slack_user_id=context.user_id or "",
        )
        modal = _modal_for(
            session,
            deps,
            t,
            access,
            case_reference=None,
            area_id=forms.id_value(selected),
        )
    client.views_open(trigger_id=body["trigger_id"], view=modal)
