"""Changing an action: done and snooze, more time, hand over, follow up, the history, the
row menu, and the list's filter and pages."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from domain import actions as action_service
from domain import disclosure
from domain import forums as forum_service
from domain.access import Access
from domain.errors import DatabaseUnavailable, DomainError, InputErrors
from domain.i18n import Translator
from handlers import forms, outgoing
from handlers.actions.commands import action_list
from handlers.actions.meta import (
    ActionMeta,
    forum_today,
    origin_of,
    publish_home,
    republish_agendas,
)
from handlers.blocks import actions as ui
from handlers.blocks.common import Block
from handlers.deps import Deps
from handlers.errors import database_errors, failure_text
from handlers.listener import listener, quick_translator
from handlers.outgoing import deliver_now
from handlers.screens import member_names
from storage.db import reading, transaction
from storage.models import Action, ActionStatus, Effect

log = logging.getLogger(__name__)

# -- the door ---------------------------------------------------------------------------------


def at_the_door(
    session: Session, deps: Deps, *, team_id: str, user_id: str, action_id: int, surface: str
) -> tuple[Access, Action]:
    """The member's access to the action's forum. A button or modal naming an action the
    user may not reach (another forum's, another workspace's, none) is refused as before, and
    the refusal audited as an attempt at ``surface``: the action's (and its case's) text is
    what every change shows, as the rule audits every other look at it."""
    with disclosure.refusals_audited(
        session,
        deps.clock,
        team_id=team_id,
        slack_user_id=user_id,
        action_id=action_id,
        surface_name=surface,
        not_found=(action_service.ActionNotFound,),
    ):
        return action_service.access_for_action(
            session, team_id=team_id, action_id=action_id, slack_user_id=user_id
        )


# -- quick changes: done and snooze ----------------------------------------------------------


def refresh(
    deps: Deps,
    client: WebClient,
    respond: Respond | None,
    body: dict[str, Any],
    context: BoltContext,
    t: Translator,
    meta: ActionMeta,
    *,
    action_id: int,
    note: str,
) -> None:
    """Show the change where the user made it."""
    team_id, user_id = context.team_id or "", context.user_id or ""
    if meta.origin == "home":
        publish_home(deps, client, t, team_id, user_id)
        return
    # A modal's card (no response_url after a submission) is updated only in the user's own
    # DM with the bot, where their cards are: an origin naming any other conversation
    # (crafted metadata: a forum's channel, another member's DM with the bot) would have
    # this action's card replace a message there, read by someone it was not given to.
    own_card = (
        meta.origin == "card"
        and respond is None
        and bool(meta.message_channel and meta.message_ts)
        and meta.message_channel == deps.dm_channel(client, team_id, user_id)
    )
    with database_errors(), transaction(deps.sessions) as session:
        access, _ = action_service.access_for_action(
            session, team_id=team_id, action_id=action_id, slack_user_id=user_id
        )
        if meta.origin == "modal":
            view = action_service.read_action(
                session, deps.clock, access=access, action_id=action_id
            )
            tz = forum_service.forum_schedule(access.forum).zone
            detail = ui.action_detail_modal(t, view, tz=tz, today=forum_today(access, deps))
        row = action_service.action_row(session, deps.clock, access=access, action_id=action_id)
        today = forum_today(access, deps)
        if own_card and meta.message_channel and meta.message_ts:
            outgoing.update(
                session,
                deps.clock,
                team_id=team_id,
                channel=meta.message_channel,
                ts=meta.message_ts,
                message=ui.card_message(t, row, today, note=note),
            )
    if meta.origin == "modal":
        client.views_update(view_id=(body.get("view") or {}).get("id"), view=detail)
    elif meta.origin == "card" and respond is not None:
        card = ui.card_message(t, row, today, note=note)
        # In a message of several cards (the overdue digest): this card only, the others kept.
        shown = (body.get("message") or {}).get("blocks") or []
        merged = ui.replace_card(shown, action_id, card["blocks"])
        if merged is not None:
            text = str((body.get("message") or {}).get("text") or card["text"])
            card = {**card, "text": text, "blocks": merged}
        respond(replace_original=True, **card)
    elif own_card:
        deliver_now(deps, client)  # the card's update, queued above
    elif meta.origin == "list" and meta.list_state and respond is not None:
        # The list the change was made in is redrawn in place, with what was done on top.
        request = ui.parse_list_value(meta.list_state)
        listing = action_list(
            deps,
            t,
            team_id=team_id,
            channel_id=context.channel_id or "",
            user_id=user_id,
            scope=request.scope,
            flt=request.filter,
            page=request.page,
            after=request.after,
            before=request.before,
            note=note,
        )
        respond(replace_original=True, response_type="ephemeral", **listing)
    elif respond is not None:
        respond(replace_original=False, response_type="ephemeral", text=note)


def quick(
    deps: Deps,
    body: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    respond: Respond,
    t: Translator,
    *,
    verb: str,
    action_id: int,
    meta: ActionMeta,
) -> None:
    """Done or snooze, then the change shown where it was made (errors: the caller's)."""
    team_id, user_id = context.team_id or "", context.user_id or ""
    agendas = False
    with database_errors(), transaction(deps.sessions) as session:
        access, _ = at_the_door(
            session,
            deps,
            team_id=team_id,
            user_id=user_id,
            action_id=action_id,
            surface="action_card",
        )
        tz = forum_service.forum_schedule(access.forum).zone
        if verb == "done":
            action_service.complete_action(session, deps.clock, access=access, action_id=action_id)
            note = t(
                "<@{user}> marked it done. Its effect is followed up at the next meeting.",
                user=user_id,
            )
        elif verb == "reopen":
            action_service.reopen_action(session, deps.clock, access=access, action_id=action_id)
            note = t("<@{user}> opened it again: it is open until marked done.", user=user_id)
        else:
            until = action_service.snooze(
                session,
                deps.clock,
                access=access,
                action_id=action_id,
                until="hour" if verb == "snooze_hour" else "morning",
            )
            note = t("I'll remind you again {when}.", when=t.day_time(until, tz))
        if verb in ("done", "reopen"):
            # A posted agenda that lists it shows it done (or open again), not overdue.
            agendas = republish_agendas(deps, session, access, action_id)
    refresh(deps, client, respond, body, context, t, meta, action_id=action_id, note=note)
    if agendas:
        deliver_now(deps, client)


QUICK_VERBS = {
    ui.ACTION_DONE: "done",
    ui.ACTION_SNOOZE_HOUR: "snooze_hour",
    ui.ACTION_SNOOZE_MORNING: "snooze_morning",
    ui.ACTION_REOPEN: "reopen",
}


@listener("ephemeral")
def button_quick(
    body: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    respond: Respond,
    deps: Deps,
    t: Translator,
) -> None:
    action = body["actions"][0]
    value = str(action.get("value") or "")
    # Any crafted value (empty, ², a sign, an id past any row): no such action (id 0), told.
    verb = QUICK_VERBS[action["action_id"]]
    meta = origin_of(body, card=True)
    quick(
        deps,
        body,
        context,
        client,
        respond,
        t,
        verb=verb,
        action_id=forms.id_value(value) or 0,
        meta=meta,
    )


# -- modals: more time, hand over, follow up, history ----------------------------------------


def open_change(
    deps: Deps,
    body: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    t: Translator,
    *,
    verb: str,
    action_id: int,
    meta: ActionMeta,
) -> None:
    team_id, user_id = context.team_id or "", context.user_id or ""
    # The hand-over's modal, drawn once its owners are named (after the transaction).
    handover: tuple[Any, str, Any, list[action_service.OwnerChoice] | None] | None = None
    view: Block = {}
    try:
        with database_errors(), transaction(deps.sessions) as session:
            access, _ = at_the_door(
                session,
                deps,
                team_id=team_id,
                user_id=user_id,
                action_id=action_id,
                surface="action_detail" if verb == "history" else "action_card",
            )
            # Refused now as the change would be when saved (not the member's, done already).
            if verb in ("more_time", "hand_over", "cancel"):
                changing = action_service.require_changeable(session, access, action_id)
            elif verb == "follow_up":
                action_service.require_follow_up(session, access, action_id)
            row = action_service.action_row(session, deps.clock, access=access, action_id=action_id)
            meta = meta.model_copy(
                update={"locale": t.locale, "forum_id": access.forum.id, "action_id": action_id}
            )
            private = meta.dump()
            if verb == "more_time":
                view = ui.postpone_modal(
                    t, row, today=forum_today(access, deps), private_metadata=private
                )
            elif verb == "hand_over":
                choices = (
                    [(a.id, a.name) for a in forum_service.active_agencies(access.forum)]
                    if access.is_coordinator
                    else None
                )
                # Within the agency (a coordinator chooses the agency in the modal): its
                # members who may own the action, the owner left out.
                owners = (
                    action_service.owner_choices(
                        session,
                        access.forum,
                        forum_today(access, deps),
                        case=changing.case,
                        agency_id=changing.owning_agency_id,
                        leave_out=changing.owner,
                    )
                    if choices is None
                    else None
                )
                handover = (row, private, choices, owners)
            elif verb == "cancel":
                view = ui.cancel_modal(t, row, private_metadata=private)
            elif verb == "follow_up":
                view = ui.follow_up_modal(t, row, private_metadata=private)
            else:
                detail = action_service.read_action(
                    session, deps.clock, access=access, action_id=action_id
                )
                tz = forum_service.forum_schedule(access.forum).zone
                view = ui.action_detail_modal(t, detail, tz=tz, today=forum_today(access, deps))
    except DomainError as exc:  # told in a modal, opened where the others would be
        view, handover = ui.notice_modal(t, failure_text(t, exc)), None
    if handover is not None:
        row, private, choices, owners = handover
        users = [o.slack_user_id for o in owners or ()]
        names = member_names(deps, client, team_id, users) if users else {}
        view = ui.handover_modal(
            t, row, private_metadata=private, agencies=choices, owners=owners, names=names
        )
    if meta.origin == "modal":
        client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)


CHANGE_VERBS = {
    ui.ACTION_MORE_TIME: "more_time",
    ui.ACTION_HAND_OVER: "hand_over",
    ui.ACTION_CANCEL: "cancel",
    ui.ACTION_FOLLOW_UP: "follow_up",
    ui.ACTION_HISTORY: "history",
}


@listener("log")
def button_change(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    action = body["actions"][0]
    value = str(action.get("value") or "")
    # Any crafted value (empty, ², a sign, an id past any row): no such action (id 0), told.
    t = quick_translator(context, deps)
    verb = CHANGE_VERBS[action["action_id"]]
    meta = origin_of(body, card=True)
    open_change(
        deps, body, context, client, t, verb=verb, action_id=forms.id_value(value) or 0, meta=meta
    )


@listener("ephemeral")
def row_menu(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, deps: Deps
) -> None:
    selected = (body["actions"][0].get("selected_option") or {}).get("value", "")
    parsed = ui.parse_row_value(str(selected))
    if parsed is None:
        return
    verb, action_id = parsed
    meta = origin_of(body, card=False)
    if verb in ("done", "reopen"):
        t = deps.translator(client, context.team_id, context.user_id or "")
        quick(deps, body, context, client, respond, t, verb=verb, action_id=action_id, meta=meta)
    else:
        t = quick_translator(context, deps)
        open_change(deps, body, context, client, t, verb=verb, action_id=action_id, meta=meta)


CHANGE_CALLBACKS = {
    ui.CB_ACTION_POSTPONE: "more_time",
    ui.CB_ACTION_HANDOVER: "hand_over",
    ui.CB_ACTION_CANCEL: "cancel",
    ui.CB_ACTION_FOLLOW_UP: "follow_up",
}


@listener("modal")
def submit_change(
    ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    """More time, hand over, cancel or follow up; the owners' DMs and the agendas' updates are
    queued with the change."""
    verb = CHANGE_CALLBACKS[view["callback_id"]]
    meta = ActionMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    values = view["state"]["values"]
    team_id, user_id = context.team_id or "", context.user_id or ""
    if verb == "hand_over":
        _learn_the_owners_languages(deps, client, team_id, user_id, meta.action_id or 0, values)
    try:
        with database_errors(), transaction(deps.sessions) as session:
            access, action = at_the_door(
                session,
                deps,
                team_id=team_id,
                user_id=user_id,
                action_id=meta.action_id or 0,
                surface="action_card",
            )
            previous_owner, previous_agency = action.owner, action.owning_agency_id
            if verb == "more_time":
                action_service.postpone_action(
                    session,
                    deps.clock,
                    access=access,
                    action_id=action.id,
                    due_on=forms.date_value(values, "due_on"),
                    reason=forms.text(values, "reason"),
                )
                republish_agendas(deps, session, access, action.id)  # its new due date
            elif verb == "hand_over":
                action_service.hand_over(
                    session,
                    deps.clock,
                    access=access,
                    action_id=action.id,
                    new_owner=forms.selected(values, "owner"),
                    agency_id=_chosen_agency(values),
                )
                if action.owner and action.owner != previous_owner:
                    _tell_the_owners(
                        deps, client, session, access, action, previous_owner, by=user_id
                    )
                    republish_agendas(deps, session, access, action.id)  # its new owner
                elif action.owning_agency_id != previous_agency:  # the owner kept, moved
                    _tell_the_owner_it_moved(deps, client, session, access, action, by=user_id)
                    republish_agendas(deps, session, access, action.id)  # its new agency
            elif verb == "cancel":
                action_service.cancel_action(
                    session,
                    deps.clock,
                    access=access,
                    action_id=action.id,
                    reason=forms.text(values, "reason"),
                )
                # A posted agenda (or preview) that lists it drops it.
                republish_agendas(deps, session, access, action.id)
            else:
                action_service.record_follow_up(
                    session,
                    deps.clock,
                    access=access,
                    action_id=action.id,
                    effect=forms.choice(forms.selected(values, "effect"), Effect),
                    comment=forms.text(values, "comment"),
                )
                # A posted agenda that asks for this effect now shows it.
                republish_agendas(deps, session, access, action.id)
    except (InputErrors, DatabaseUnavailable):  # on the fields: a retry keeps what they typed
        raise
    except DomainError as exc:
        ack(response_action="update", view=ui.notice_modal(t, failure_text(t, exc)))
        return
    ack()


def _learn_the_owners_languages(
    deps: Deps,
    client: WebClient,
    team_id: str,
    user_id: str,
    action_id: int,
    values: dict[str, Any],
) -> None:
    """Before the hand-over's transaction: the new and the present owner's languages, looked
    up (at most a second in all) and kept for :func:`_tell_the_owners`, which then asks no
    Slack while the transaction holds the action's row (on SQLite the whole database)."""
    with database_errors(), reading(deps.sessions) as session:
        present = action_service.owner_in_workspace(
            session, team_id=team_id, action_id=action_id, asked_by=user_id
        )
    owners = [u for u in (forms.selected(values, "owner"), present) if u]
    outgoing.known_locales(deps, client, team_id, owners)


def _tell_the_owners(
    deps: Deps,
    client: WebClient,
    session: Session,
    access: Access,
    action: Action,
    previous_owner: str | None,
    *,
    by: str,
) -> None:
    """Queue the hand-over's DMs (sent after the ack): the new owner's, and the previous
    owner's that it is no longer theirs, unless they did it themselves
    (:func:`domain.actions.told`: handed it over, or took it over) or the previous owner is
    no longer a member of the forum. Each sees the action as the rule lets them, in their
    own language."""
    owner = action.owner
    assert owner is not None
    former = None
    if (
        previous_owner is not None
        and previous_owner != owner
        and action_service.told(previous_owner, by=by)
    ):
        # None when they are no longer a member of the forum: told nothing.
        former = action_service.former_owner_row(
            session, deps.clock, forum=access.forum, action_id=action.id, user=previous_owner
        )
    new_owner_told = action_service.told(owner, by=by)
    told = [owner] if new_owner_told else []
    if former is not None and previous_owner is not None:
        told.append(previous_owner)
    # Learned before the transaction (_learn_the_owners_languages): no Slack wait here.
    langs = outgoing.translators(deps, client, access.forum, told, seconds=0)
    today = forum_today(access, deps)
    if new_owner_told:
        # The new owner's view of it, not the one who handed it over.
        row = action_service.owner_row(session, deps.clock, forum=access.forum, action_id=action.id)
        action_service.queue_dm(
            session,
            deps.clock,
            access.forum,
            owner,
            ui.handed_over_dm(langs[owner], row, today, by=by),
            action_service.event_key("action_handed_over", session, action.id),
        )
    if former is not None and previous_owner is not None:
        action_service.queue_dm(
            session,
            deps.clock,
            access.forum,
            previous_owner,
            ui.handed_away_dm(langs[previous_owner], former, today, by=by),
            action_service.event_key("action_handed_away", session, action.id),
        )


def _tell_the_owner_it_moved(
    deps: Deps, client: WebClient, session: Session, access: Access, action: Action, *, by: str
) -> None:
    """Queue the DM (sent after the ack) to the owner whose action someone else moved to
    another agency, keeping them as its owner: in their language (learned before the
    transaction, :func:`_learn_the_owners_languages`), the action as they may see it now.
    Nobody is told when the owner moved it themselves."""
    owner = action.owner
    if owner is None or not action_service.told(owner, by=by):
        return
    langs = outgoing.translators(deps, client, access.forum, [owner], seconds=0)
    row = action_service.owner_row(session, deps.clock, forum=access.forum, action_id=action.id)
    action_service.queue_dm(
        session,
        deps.clock,
        access.forum,
        owner,
        ui.moved_dm(langs[owner], row, forum_today(access, deps), by=by),
        action_service.event_key("action_moved", session, action.id),
    )


def _chosen_agency(values: forms.Values) -> int | None:
    """The agency picked in a coordinator's hand-over modal; None without that field (a
    hand-over within the agency). Any crafted value is no agency (0): told on the field."""
    raw = forms.selected(values, "agency")
    if raw is None:
        return None
    return forms.id_value(raw) or 0


def _owner_kept(last: action_service.HistoryEntry | None) -> bool:
    """Whether the hand-over just made moved the action to another agency, its owner kept."""
    return (
        last is not None
        and last.kind == "handed_over"
        and bool(last.detail.get("to_agency"))
        and last.detail.get("from") == last.detail.get("to")
    )


def _change_note(
    t: Translator,
    verb: str,
    row: action_service.ActionRow,
    user_id: str,
    last: action_service.HistoryEntry | None = None,
) -> str:
    if verb == "more_time":
        return t("<@{user}> moved the due date to {date}.", user=user_id, date=t.day(row.due_on))
    if verb == "hand_over" and _owner_kept(last):
        return t(
            "<@{user}> moved it to {agency}. <@{owner}> is still its owner.",
            user=user_id,
            agency=row.agency,
            owner=row.owner or "",
        )
    if verb == "hand_over":
        return t("<@{user}> handed it over to <@{owner}>.", user=user_id, owner=row.owner or "")
    if verb == "cancel":
        return t("<@{user}> cancelled the action.", user=user_id)
    return t("<@{user}> followed up the effect.", user=user_id)


def _change_made(
    verb: str,
    row: action_service.ActionRow,
    values: forms.Values,
    user: str,
    last: action_service.HistoryEntry | None = None,
) -> bool:
    """Whether the submitted change is what the action now shows (a refused one is not)."""
    if verb == "more_time":
        return row.due_on == forms.date_value(values, "due_on")
    if verb == "hand_over":
        # The owner asked for is the owner now, in the agency asked for, and the latest
        # change is this hand-over: a refused one (to its owner already, or an agency its
        # case is hidden from) changed nothing, so it shows nothing.
        owner = forms.selected(values, "owner")
        agency = _chosen_agency(values)
        return (
            row.owner == owner
            and (agency is None or agency == row.agency_id)
            and last is not None
            and last.kind == "handed_over"
            and last.actor == user
            and last.detail.get("to") == owner
        )
    if verb == "cancel":
        return row.status is ActionStatus.CANCELLED
    return row.followed_up_by == user and row.effect == forms.choice(
        forms.selected(values, "effect"), Effect
    )


@listener("log")
def after_change(body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps) -> None:
    """Send what the ack queued, then show the change where it was made (read from the
    database: a refused change shows nothing)."""
    view = body["view"]
    verb = CHANGE_CALLBACKS[view["callback_id"]]
    meta = ActionMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    action_id, user_id = meta.action_id or 0, context.user_id or ""
    deliver_now(deps, client)  # the owners' DMs, the agenda's update
    with database_errors(), transaction(deps.sessions) as session:
        access, _ = action_service.access_for_action(
            session, team_id=context.team_id or "", action_id=action_id, slack_user_id=user_id
        )
        row = action_service.action_row(session, deps.clock, access=access, action_id=action_id)
        last = (
            action_service.latest_change(session, access=access, action_id=action_id)
            if verb == "hand_over"
            else None
        )
    if not _change_made(verb, row, view["state"]["values"], user_id, last):
        return
    note = _change_note(t, verb, row, user_id, last)
    try:
        if meta.origin == "modal" and view.get("previous_view_id"):
            parent = {**body, "view": {"id": view["previous_view_id"], "type": "modal"}}
            refresh(deps, client, None, parent, context, t, meta, action_id=action_id, note=note)
        elif meta.origin in ("home", "card"):
            refresh(deps, client, None, body, context, t, meta, action_id=action_id, note=note)
    except Exception as exc:
        log.warning("could not show the change of action %s: %s", action_id, exc)


# -- the list's filter and pages ------------------------------------------------------------


@listener("replace", needs=("message",))
def change_list(
    body: dict[str, Any], context: BoltContext, respond: Respond, deps: Deps, t: Translator
) -> None:
    action = body["actions"][0]
    if action["action_id"] == ui.ACTION_LIST_FILTER:
        value = (action.get("selected_option") or {}).get("value", "")
    else:
        value = action.get("value", "")
    request = ui.parse_list_value(str(value))
    reply = action_list(
        deps,
        t,
        team_id=context.team_id or "",
        channel_id=context.channel_id or "",
        user_id=context.user_id or "",
        scope=request.scope,
        flt=request.filter,
        page=request.page,
        after=request.after,
        before=request.before,
    )
    respond(replace_original=True, response_type="ephemeral", **reply)
