"""Listeners for actions (insatser): the action modal, the owner's buttons (Klar, Behöver mer
tid, Lämna över, snooze), the follow-up of effect, lists, App Home, the åtgärdsplan export
and statistics. Parse → ack → domain → render; Slack calls in lazy listeners.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import actions as action_service
from domain import agenda as agenda_service
from domain import forums as forum_service
from domain import statistics as stats_service
from domain.access import Access
from domain.actions import ActionDraft, Filter, Scope
from domain.errors import DatabaseUnavailable, DomainError, InputErrors, InvalidInput
from domain.export import csv_bytes, xlsx_bytes
from domain.i18n import N_, Locale, Translator, normalize_locale
from handlers import forms, outgoing
from handlers.blocks import actions as ui
from handlers.blocks import statistics as stats_ui
from handlers.blocks.cases import effect_label
from handlers.blocks.forum import text_message
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors, failure_text
from handlers.listener import listener, quick_translator
from handlers.metadata import ViewMeta
from handlers.outgoing import deliver_now, publish_changes
from handlers.payload import ack_only, channel_of, team_of
from handlers.screens import detail_view, display_names, home_view
from storage.db import transaction
from storage.models import Action, Effect, Forum

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


class ActionMeta(BaseModel):
    """``private_metadata`` of the action modals: where the user came from, so the message,
    App Home or modal they came from is refreshed afterwards."""

    locale: Locale = "sv"
    forum_id: int | None = None
    channel_id: str | None = None
    action_id: int | None = None
    origin: Origin = "none"
    message_channel: str | None = None
    message_ts: str | None = None
    # The list (page:scope:filter) a row menu was used in, to redraw it in place.
    list_state: str | None = None
    # The case whose modal the action modal was pushed from, refreshed once it is saved.
    case_id: int | None = None

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def load(cls, raw: str | None) -> ActionMeta:
        try:
            return cls.model_validate_json(raw or "{}")
        except ValidationError:
            return cls()


def _today(access: Access, deps: Deps) -> dt.date:
    return forum_service.local_today(access.forum, deps.clock)


def _owner_translator(deps: Deps, team_id: str | None, user_id: str, forum: Forum) -> Translator:
    """The language of a DM queued inside a request: the user's Slack locale when known
    (no Slack call before the ack), otherwise the forum's language."""
    return Translator(deps.cached_locale(team_id, user_id) or normalize_locale(forum.language))


# --- entry points used by the command router ------------------------------------------------


def _modal_for(
    session: Session,
    deps: Deps,
    t: Translator,
    access: Access,
    *,
    case_reference: str | None,
    area_id: int | None = None,
    case_id: int | None = None,
) -> dict[str, Any]:
    forum = access.forum
    meta = ActionMeta(
        locale=t.locale, forum_id=forum.id, channel_id=forum.channel_id, case_id=case_id
    )
    return ui.action_modal(
        t,
        agencies=[(a.id, a.name) for a in forum_service.active_agencies(forum)],
        own_agency_id=access.member.agency_id,
        areas=[(a.id, a.name) for a in forum_service.active_areas(forum)],
        meetings=[
            (m.id, m.starts_at)
            for m in action_service.upcoming_meetings(session, deps.clock, forum)
        ],
        tz=forum_service.forum_schedule(forum).zone,
        today=_today(access, deps),
        owner=access.member.slack_user_id,
        case_reference=case_reference,
        private_metadata=meta.dump(),
        area_id=area_id,
    )


def open_action_modal(
    deps: Deps,
    client: WebClient,
    t: Translator,
    req: CommandRequest,
    *,
    case_reference: str | None = None,
) -> None:
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        )
        view = _modal_for(session, deps, t, access, case_reference=case_reference)
    client.views_open(trigger_id=req.trigger_id, view=view)


def action_list(
    deps: Deps,
    t: Translator,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    scope: Scope = "mine",
    flt: Filter = "open",
    page: int = 0,
    note: str | None = None,
    after: tuple[str, int] | None = None,
    before: tuple[str, int] | None = None,
) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=team_id, channel_id=channel_id, slack_user_id=user_id
        )
        result = action_service.list_actions(
            session,
            deps.clock,
            access=access,
            scope=scope,
            flt=flt,
            page=page,
            after=after,
            before=before,
        )
        today = _today(access, deps)
    return ui.action_list_message(t, result, today, note=note)


def _list_words(rest: list[str]) -> tuple[Scope, Filter]:
    scope: Scope = "mine"
    flt: Filter = "open"
    for word in rest:
        if word in SCOPE_WORDS:
            scope = SCOPE_WORDS[word]
        elif word in FILTER_WORDS:
            flt = FILTER_WORDS[word]
        else:
            raise InvalidInput(
                N_(
                    "I don't know the filter {word}. Try: mina, verksamhet, forum and öppna, "
                    "försenade, klara, uppföljning."
                ),
                word=word[:30],
            )
    return scope, flt


def route(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest, word: str, rest: list[str]
) -> dict[str, Any] | None:
    """``/samverkan insats|insatser|åtgärdsplan|statistik …`` (in the forum's channel)."""
    if word in ACTION:
        open_action_modal(
            deps, client, t, req, case_reference=rest[0].upper()[:32] if rest else None
        )
        return None
    if word in ACTIONS:
        scope, flt = _list_words(rest)
        return action_list(
            deps,
            t,
            team_id=req.team_id,
            channel_id=req.channel_id,
            user_id=req.user_id,
            scope=scope,
            flt=flt,
        )
    fmt = next((w for w in rest if w in ("csv", "xlsx")), None)
    words = [w for w in rest if w not in ("csv", "xlsx")]
    if word in PLAN:
        return export_plan(deps, client, t, req, words, fmt)
    return statistics(deps, client, t, req, words)


# --- åtgärdsplan and statistics ----------------------------------------------------------------


def export_plan(
    deps: Deps,
    client: WebClient,
    t: Translator,
    req: CommandRequest,
    words: list[str],
    fmt: str | None,
) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        )
        today = _today(access, deps)
        # Without a period: what is open, and what was due or done in the last twelve months.
        rolling = not words
        period = (
            stats_service.last_twelve_months(today)
            if rolling
            else stats_service.parse_period(words, today)
        )
        rows = stats_service.action_plan(
            session, deps.clock, access=access, period=period, include_open=rolling
        )
        code = access.forum.code
    names = display_names(client, {r.owner for r in rows if r.owner})
    headers = [
        t("Action"),
        t("Description"),
        t("Owning agency"),
        t("Owner"),
        t("Due date"),
        t("Status"),
        t("Effect"),
        t("Follow-up comment"),
        t("Case"),
        t("Area"),
        t("Hoped-for effect"),
        t("Done on"),
    ]
    table = [
        [
            r.id,
            r.description if r.description is not None else t("details hidden"),
            r.agency,
            names.get(r.owner, r.owner) if r.owner else t("no owner (with the agency)"),
            r.due_on.isoformat(),
            ui.status_label(t, r.status),
            effect_label(t, Effect(r.effect)) if r.effect else "",
            r.follow_up_comment or "",
            r.case_reference or "",
            r.area or "",
            r.hoped_effect or "",
            r.completed_on.isoformat() if r.completed_on else "",
        ]
        for r in rows
    ]
    stem = f"atgardsplan-{code}-{period.start.isoformat()}-{period.end.isoformat()}"
    if rolling:
        comment = t.ngettext(
            "The action plan: open actions and those due or done since {start} ({n} action).",
            "The action plan: open actions and those due or done since {start} ({n} actions).",
            len(rows),
            start=t.day(period.start),
        )
    else:
        comment = t.ngettext(
            "The action plan for {start} – {end} ({n} action).",
            "The action plan for {start} – {end} ({n} actions).",
            len(rows),
            start=t.day(period.start),
            end=t.day(period.end),
        )
    for kind in [fmt] if fmt else ["xlsx", "csv"]:
        data = (
            csv_bytes(headers, table)
            if kind == "csv"
            else xlsx_bytes([(t("Action plan"), headers, table)])
        )
        outgoing.send_file(
            deps,
            client,
            req.team_id,
            req.user_id,
            data=data,
            filename=f"{stem}.{kind}",
            comment=comment,
        )
    return text_message(
        t.ngettext(
            "I sent you the action plan ({n} action) in a direct message.",
            "I sent you the action plan ({n} actions) in a direct message.",
            len(rows),
        )
    )


def statistics(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest, words: list[str]
) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        )
        period = stats_service.parse_period(words, _today(access, deps))
        stats = stats_service.forum_statistics(session, deps.clock, access=access, period=period)
        code = access.forum.code
    png = stats_ui.statistics_png(t, stats)
    outgoing.send_file(
        deps,
        client,
        req.team_id,
        req.user_id,
        data=png,
        filename=f"statistik-{code}-{period.start.isoformat()}-{period.end.isoformat()}.png",
        comment=t("Statistics for {forum}", forum=stats.forum_name),
        alt_text=stats_ui.statistics_alt_text(t, stats),
    )
    return stats_ui.statistics_message(t, stats)


# --- App Home and the case view -------------------------------------------------------------


def _publish_home(deps: Deps, client: WebClient, t: Translator, team_id: str, user_id: str) -> None:
    """Re-publish App Home after a change made there."""
    client.views_publish(user_id=user_id, view=home_view(deps, t, team_id, user_id))


def refresh_case_modal(deps: Deps, body: dict[str, Any], client: WebClient) -> None:
    """After an action made from a case's modal: back there, it is listed at once."""
    view = body["view"]
    meta = ActionMeta.load(view.get("private_metadata"))
    parent = view.get("previous_view_id")
    if not parent or meta.case_id is None:
        return
    case_meta = ViewMeta(locale=meta.locale, channel_id=meta.channel_id, forum_id=meta.forum_id)
    t = Translator(meta.locale)
    try:
        updated = detail_view(deps, t, case_meta, team_of(body), body["user"]["id"], meta.case_id)
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


def _origin(body: dict[str, Any], *, card: bool) -> ActionMeta:
    container = body.get("container") or {}
    view = body.get("view") or {}
    if container.get("type") == "view":
        return ActionMeta(origin="home" if view.get("type") == "home" else "modal")
    block_id = str(((body.get("actions") or [{}])[0]).get("block_id", ""))
    # A button on the posted agenda: answer the user, never replace the agenda message.
    if card and not block_id.startswith("agenda:"):
        return ActionMeta(
            origin="card",
            message_channel=container.get("channel_id") or channel_of(body) or None,
            message_ts=container.get("message_ts"),
        )
    listed = ui.parse_row_block_id(block_id)
    state = ui.list_value(listed.scope, listed.filter, listed.page) if listed else None
    return ActionMeta(origin="list", list_state=state)


def _effect(value: str | None) -> Effect | None:
    try:
        return Effect(value) if value else None
    except ValueError:
        return None


# -- creating ------------------------------------------------------------------------------


@listener("modal")
def submit_action(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
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
        agency_id=int(agency) if agency and agency.isdigit() else None,
        owner=forms.selected(values, "owner"),
        due_on=forms.date_value(values, "due_on"),
        case_reference=forms.text(values, "case") or None,
        area_id=int(area) if area and area.isdigit() else None,
        meeting_id=int(meeting) if meeting and meeting.isdigit() else None,
        hoped_effect=forms.text(values, "hoped_effect") or None,
    )
    with database_errors(), transaction(deps.sessions) as session:
        forum = forum_service.get_forum(session, forum_id=meta.forum_id or 0, team_id=team_id)
        access = forum_service.require_member(session, forum=forum, slack_user_id=user_id)
        action, created = action_service.create_action(
            session, deps.clock, access=access, draft=draft, submission_key=view["id"]
        )
        if created and action.owner:
            row = action_service.action_row(session, deps.clock, access=access, action_id=action.id)
            owner_t = _owner_translator(deps, team_id, action.owner, forum)
            action_service.queue_dm(
                session,
                deps.clock,
                forum,
                action.owner,
                ui.created_dm(owner_t, row, _today(access, deps), by=user_id),
                f"action_created:{action.id}",
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
def after_create(body: dict[str, Any], client: WebClient, deps: Deps) -> None:
    """Send what the ack queued; a case's modal beneath lists the new action (read from the
    database: a refused submission created none)."""
    deliver_now(deps, client)
    with database_errors(), transaction(deps.sessions) as session:
        created = session.scalar(
            select(Action.id).where(Action.submission_key == body["view"]["id"])
        )
    if created is not None:
        refresh_case_modal(deps, body, client)


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
            area_id=int(selected) if selected.isdigit() else None,
        )
    client.views_open(trigger_id=body["trigger_id"], view=modal)


# -- quick changes: done and snooze ----------------------------------------------------------


def refresh(
    deps: Deps,
    client: WebClient,
    respond: Respond | None,
    body: dict[str, Any],
    t: Translator,
    meta: ActionMeta,
    *,
    action_id: int,
    note: str,
) -> None:
    """Show the change where the user made it."""
    team_id, user_id = team_of(body), body["user"]["id"]
    if meta.origin == "home":
        _publish_home(deps, client, t, team_id, user_id)
        return
    with database_errors(), transaction(deps.sessions) as session:
        access, _ = action_service.access_for_action(
            session, team_id=team_id, action_id=action_id, slack_user_id=user_id
        )
        if meta.origin == "modal":
            view = action_service.read_action(
                session, deps.clock, access=access, action_id=action_id
            )
            tz = forum_service.forum_schedule(access.forum).zone
            detail = ui.action_detail_modal(t, view, tz=tz, today=_today(access, deps))
        row = action_service.action_row(session, deps.clock, access=access, action_id=action_id)
        today = _today(access, deps)
        card_in_dm = meta.origin == "card" and respond is None
        if card_in_dm and meta.message_channel and meta.message_ts:
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
        respond(replace_original=True, **ui.card_message(t, row, today, note=note))
    elif meta.origin == "card" and meta.message_channel and meta.message_ts:
        deliver_now(deps, client)  # the card's update, queued above
    elif meta.origin == "list" and meta.list_state and respond is not None:
        # The list the change was made in is redrawn in place, with what was done on top.
        request = ui.parse_list_value(meta.list_state)
        listing = action_list(
            deps,
            t,
            team_id=team_id,
            channel_id=channel_of(body),
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
    client: WebClient,
    respond: Respond,
    t: Translator,
    *,
    verb: str,
    action_id: int,
    meta: ActionMeta,
) -> None:
    """Done or snooze, then the change shown where it was made (errors: the caller's)."""
    user_id = body["user"]["id"]
    with database_errors(), transaction(deps.sessions) as session:
        access, _ = action_service.access_for_action(
            session, team_id=team_of(body), action_id=action_id, slack_user_id=user_id
        )
        tz = forum_service.forum_schedule(access.forum).zone
        if verb == "done":
            action_service.complete_action(session, deps.clock, access=access, action_id=action_id)
            note = t(
                "<@{user}> marked it done. Its effect is followed up at the next meeting.",
                user=user_id,
            )
        else:
            until = action_service.snooze(
                session,
                deps.clock,
                access=access,
                action_id=action_id,
                until="hour" if verb == "snooze_hour" else "morning",
            )
            note = t("I'll remind you again {when}.", when=t.day_time(until, tz))
    refresh(deps, client, respond, body, t, meta, action_id=action_id, note=note)


QUICK_VERBS = {
    ui.ACTION_DONE: "done",
    ui.ACTION_SNOOZE_HOUR: "snooze_hour",
    ui.ACTION_SNOOZE_MORNING: "snooze_morning",
}


@listener("ephemeral")
def button_quick(
    body: dict[str, Any], client: WebClient, respond: Respond, deps: Deps, t: Translator
) -> None:
    action = body["actions"][0]
    value = str(action.get("value") or "")
    if not value.isdigit():
        return
    verb = QUICK_VERBS[action["action_id"]]
    meta = _origin(body, card=True)
    quick(deps, body, client, respond, t, verb=verb, action_id=int(value), meta=meta)


# -- modals: more time, hand over, follow up, history ----------------------------------------


def open_change(
    deps: Deps,
    body: dict[str, Any],
    client: WebClient,
    t: Translator,
    *,
    verb: str,
    action_id: int,
    meta: ActionMeta,
) -> None:
    user_id = body["user"]["id"]
    try:
        with database_errors(), transaction(deps.sessions) as session:
            access, _ = action_service.access_for_action(
                session, team_id=team_of(body), action_id=action_id, slack_user_id=user_id
            )
            row = action_service.action_row(session, deps.clock, access=access, action_id=action_id)
            meta = meta.model_copy(
                update={"locale": t.locale, "forum_id": access.forum.id, "action_id": action_id}
            )
            private = meta.dump()
            if verb == "more_time":
                view = ui.postpone_modal(
                    t, row, today=_today(access, deps), private_metadata=private
                )
            elif verb == "hand_over":
                view = ui.handover_modal(t, row, private_metadata=private)
            elif verb == "follow_up":
                view = ui.follow_up_modal(t, row, private_metadata=private)
            else:
                detail = action_service.read_action(
                    session, deps.clock, access=access, action_id=action_id
                )
                tz = forum_service.forum_schedule(access.forum).zone
                view = ui.action_detail_modal(t, detail, tz=tz, today=_today(access, deps))
    except DomainError as exc:  # told in a modal, opened where the others would be
        view = ui.notice_modal(t, failure_text(t, exc))
    if meta.origin == "modal":
        client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)


CHANGE_VERBS = {
    ui.ACTION_MORE_TIME: "more_time",
    ui.ACTION_HAND_OVER: "hand_over",
    ui.ACTION_FOLLOW_UP: "follow_up",
    ui.ACTION_HISTORY: "history",
}


@listener("log")
def button_change(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    action = body["actions"][0]
    value = str(action.get("value") or "")
    if not value.isdigit():
        return
    t = quick_translator(context, deps)
    verb = CHANGE_VERBS[action["action_id"]]
    meta = _origin(body, card=True)
    open_change(deps, body, client, t, verb=verb, action_id=int(value), meta=meta)


@listener("ephemeral")
def row_menu(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, deps: Deps
) -> None:
    selected = (body["actions"][0].get("selected_option") or {}).get("value", "")
    parsed = ui.parse_row_value(str(selected))
    if parsed is None:
        return
    verb, action_id = parsed
    meta = _origin(body, card=False)
    if verb == "done":
        t = deps.translator(client, context.team_id, context.user_id or "")
        quick(deps, body, client, respond, t, verb=verb, action_id=action_id, meta=meta)
    else:
        t = quick_translator(context, deps)
        open_change(deps, body, client, t, verb=verb, action_id=action_id, meta=meta)


CHANGE_CALLBACKS = {
    ui.CB_ACTION_POSTPONE: "more_time",
    ui.CB_ACTION_HANDOVER: "hand_over",
    ui.CB_ACTION_FOLLOW_UP: "follow_up",
}


@listener("modal")
def submit_change(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    """More time, hand over or follow up; the new owner's DM and the agendas' updates are
    queued with the change."""
    verb = CHANGE_CALLBACKS[view["callback_id"]]
    meta = ActionMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    values = view["state"]["values"]
    team_id, user_id = context.team_id or "", context.user_id or ""
    try:
        with database_errors(), transaction(deps.sessions) as session:
            access, action = action_service.access_for_action(
                session, team_id=team_id, action_id=meta.action_id or 0, slack_user_id=user_id
            )
            previous_owner = action.owner
            if verb == "more_time":
                action_service.postpone_action(
                    session,
                    deps.clock,
                    access=access,
                    action_id=action.id,
                    due_on=forms.date_value(values, "due_on"),
                    reason=forms.text(values, "reason"),
                )
            elif verb == "hand_over":
                action_service.hand_over(
                    session,
                    deps.clock,
                    access=access,
                    action_id=action.id,
                    new_owner=forms.selected(values, "owner"),
                )
                if action.owner and action.owner != previous_owner:
                    row = action_service.action_row(
                        session, deps.clock, access=access, action_id=action.id
                    )
                    owner_t = _owner_translator(deps, team_id, action.owner, access.forum)
                    action_service.queue_dm(
                        session,
                        deps.clock,
                        access.forum,
                        action.owner,
                        ui.handed_over_dm(owner_t, row, _today(access, deps), by=user_id),
                        action_service.event_key("action_handed_over", session, action.id),
                    )
            else:
                action_service.record_follow_up(
                    session,
                    deps.clock,
                    access=access,
                    action_id=action.id,
                    effect=_effect(forms.selected(values, "effect")),
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


def _change_note(t: Translator, verb: str, row: action_service.ActionRow, user_id: str) -> str:
    if verb == "more_time":
        return t("<@{user}> moved the due date to {date}.", user=user_id, date=t.day(row.due_on))
    if verb == "hand_over":
        return t("<@{user}> handed it over to <@{owner}>.", user=user_id, owner=row.owner or "")
    return t("<@{user}> followed up the effect.", user=user_id)


def _change_made(verb: str, row: action_service.ActionRow, values: forms.Values, user: str) -> bool:
    """Whether the submitted change is what the action now shows (a refused one is not)."""
    if verb == "more_time":
        return row.due_on == forms.date_value(values, "due_on")
    if verb == "hand_over":
        return row.owner == forms.selected(values, "owner")
    return row.followed_up_by == user and row.effect == _effect(forms.selected(values, "effect"))


@listener("log")
def after_change(body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps) -> None:
    """Send what the ack queued, then show the change where it was made (read from the
    database: a refused change shows nothing)."""
    view = body["view"]
    verb = CHANGE_CALLBACKS[view["callback_id"]]
    meta = ActionMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    action_id, user_id = meta.action_id or 0, context.user_id or ""
    deliver_now(deps, client)  # the new owner's DM, the agenda's update
    with database_errors(), transaction(deps.sessions) as session:
        access, _ = action_service.access_for_action(
            session, team_id=context.team_id or "", action_id=action_id, slack_user_id=user_id
        )
        row = action_service.action_row(session, deps.clock, access=access, action_id=action_id)
    if not _change_made(verb, row, view["state"]["values"], user_id):
        return
    note = _change_note(t, verb, row, user_id)
    try:
        if meta.origin == "modal" and view.get("previous_view_id"):
            parent = {**body, "view": {"id": view["previous_view_id"], "type": "modal"}}
            refresh(deps, client, None, parent, t, meta, action_id=action_id, note=note)
        elif meta.origin in ("home", "card"):
            refresh(deps, client, None, body, t, meta, action_id=action_id, note=note)
    except Exception as exc:
        log.warning("could not show the change of action %s: %s", action_id, exc)


# -- the list's filter and pages ------------------------------------------------------------


@listener("replace")
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


def register(app: App) -> None:
    app.view(ui.CB_ACTION_NEW)(ack=submit_action, lazy=[after_create])
    app.action(ui.ACTION_NEW_FOR_CASE)(ack=ack_only, lazy=[new_for_case])
    app.action(ui.ACTION_NEW_FOR_AREA)(ack=ack_only, lazy=[new_for_area])
    for action_id in QUICK_VERBS:
        app.action(action_id)(ack=ack_only, lazy=[button_quick])
    for action_id in CHANGE_VERBS:
        app.action(action_id)(ack=ack_only, lazy=[button_change])
    app.action(ui.ACTION_ROW_MENU)(ack=ack_only, lazy=[row_menu])
    for callback_id in CHANGE_CALLBACKS:
        app.view(callback_id)(ack=submit_change, lazy=[after_change])
    app.action(ui.ACTION_LIST_FILTER)(ack=ack_only, lazy=[change_list])
    app.action(ui.ACTION_LIST_PAGE_RE)(ack=ack_only, lazy=[change_list])
