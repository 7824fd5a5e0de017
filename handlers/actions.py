"""Listeners for actions (insatser): the action modal, the owner's buttons (Klar, Behöver mer
tid, Lämna över, snooze), the follow-up of effect, lists, App Home, the åtgärdsplan export
and statistics. Parse → ack → domain → render; Slack calls in lazy listeners.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from domain import actions as action_service
from domain import agenda as agenda_service
from domain import forums as forum_service
from domain import statistics as stats_service
from domain.actions import ActionDraft, Filter, Scope
from domain.errors import DatabaseUnavailable, DomainError, InputErrors, InvalidInput
from domain.export import csv_bytes, xlsx_bytes
from domain.forums import Access
from domain.i18n import N_, Locale, Translator, normalize_locale
from handlers import forms, outgoing
from handlers.blocks import actions as ui
from handlers.blocks.cases import effect_label
from handlers.blocks.forum import text_message
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors, failure_text, view_errors
from handlers.metadata import ViewMeta
from handlers.outgoing import deliver_now, publish_changes
from handlers.payload import ack_only, channel_of, team_of
from handlers.screens import detail_view, display_names, home_view
from storage.db import transaction
from storage.models import Effect, Forum

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
    return action_service.local_today(access.forum, deps.clock)


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
    png = stats_service.chart_png(stats, ui.chart_labels(t, stats))
    outgoing.send_file(
        deps,
        client,
        req.team_id,
        req.user_id,
        data=png,
        filename=f"statistik-{code}-{period.start.isoformat()}-{period.end.isoformat()}.png",
        comment=t("Statistics for {forum}", forum=stats.forum_name),
        alt_text=ui.statistics_alt_text(t, stats),
    )
    return ui.statistics_message(t, stats)


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


def register(app: App, deps: Deps) -> None:
    def locale_of(body: dict[str, Any]) -> Translator:
        # No Slack call before views.open (its trigger lasts 3 s).
        user_id = body["user"]["id"]
        return Translator(deps.cached_locale(team_of(body), user_id) or deps.default_locale)

    # -- creating ------------------------------------------------------------------------------

    def submit_action(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any) -> None:
        meta = ActionMeta.load(view.get("private_metadata"))
        t = Translator(meta.locale)
        values = view["state"]["values"]
        ids = forms.block_ids(view)
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
        try:
            with database_errors(), transaction(deps.sessions) as session:
                forum = forum_service.get_forum(
                    session, forum_id=meta.forum_id or 0, team_id=team_of(body)
                )
                access = forum_service.require_member(
                    session, forum=forum, slack_user_id=body["user"]["id"]
                )
                action, created = action_service.create_action(
                    session, deps.clock, access=access, draft=draft, submission_key=view["id"]
                )
                action_id = action.id
                if created and action.owner:
                    # Queued with the action (same transaction): an outage delays it, never
                    # loses it. Sent right after the ack; the scheduler retries what fails.
                    row = action_service.action_row(
                        session, deps.clock, access=access, action_id=action_id
                    )
                    owner_t = _owner_translator(deps, team_of(body), action.owner, forum)
                    action_service.queue_dm(
                        session,
                        deps.clock,
                        forum,
                        action.owner,
                        ui.created_dm(owner_t, row, _today(access, deps), by=body["user"]["id"]),
                        f"action_created:{action_id}",
                    )
        except DomainError as exc:
            ack(response_action="errors", errors=view_errors(t, exc, ids))
            return
        if created:
            context["samverkan_action_id"] = action_id
        ack()

    def tell_owner(body: dict[str, Any], client: WebClient, context: Any) -> None:
        action_id = context.get("samverkan_action_id")
        if action_id is None:
            return
        user_id = body["user"]["id"]
        refresh_case_modal(deps, body, client)
        deliver_now(deps, client)  # the owner's DM, queued with the action
        try:
            with database_errors(), transaction(deps.sessions) as session:
                access, _ = action_service.access_for_action(
                    session, team_id=team_of(body), action_id=action_id, slack_user_id=user_id
                )
                row = action_service.action_row(
                    session, deps.clock, access=access, action_id=action_id
                )
            if row.owner != user_id:
                t = deps.translator(client, team_of(body), user_id)
                outgoing.tell_now(
                    deps,
                    client,
                    team_of(body),
                    user_id,
                    t(
                        "Action #{id} was created; <@{owner}> got it as a direct message.",
                        id=row.id,
                        owner=row.owner or "",
                    ),
                )
        except Exception as exc:
            log.warning("could not confirm action %s to its creator: %s", action_id, exc)
            outgoing.tell_now(
                deps,
                client,
                team_of(body),
                user_id,
                failure_text(deps.translator(client, team_of(body), user_id), exc),
            )

    app.view(ui.CB_ACTION_NEW)(ack=submit_action, lazy=[tell_owner])

    def new_for_case(body: dict[str, Any], client: WebClient) -> None:
        t = locale_of(body)
        view = body.get("view") or {}
        meta_raw = view.get("private_metadata")
        from handlers.metadata import ViewMeta

        case_meta = ViewMeta.load(meta_raw)
        reference = body["actions"][0].get("value") or None
        try:
            with database_errors(), transaction(deps.sessions) as session:
                forum = forum_service.get_forum(
                    session, forum_id=case_meta.forum_id or 0, team_id=team_of(body)
                )
                access = forum_service.require_member(
                    session, forum=forum, slack_user_id=body["user"]["id"]
                )
                modal = _modal_for(
                    session,
                    deps,
                    t,
                    access,
                    case_reference=reference,
                    case_id=case_meta.case_id,
                )
        except Exception as exc:
            if not isinstance(exc, DomainError):
                log.exception("opening the action modal from a case failed")
            modal = ui.notice_modal(t, failure_text(t, exc))
        client.views_push(trigger_id=body["trigger_id"], view=modal)

    app.action(ui.ACTION_NEW_FOR_CASE)(ack=ack_only, lazy=[new_for_case])

    def new_for_area(body: dict[str, Any], client: WebClient) -> None:
        """The situation picture's "new action for an area": the modal, that area chosen."""
        t = locale_of(body)
        selected = str((body["actions"][0].get("selected_option") or {}).get("value", ""))
        try:
            with database_errors(), transaction(deps.sessions) as session:
                access = forum_service.require_member_in_channel(
                    session,
                    team_id=team_of(body),
                    channel_id=channel_of(body),
                    slack_user_id=body["user"]["id"],
                )
                modal = _modal_for(
                    session,
                    deps,
                    t,
                    access,
                    case_reference=None,
                    area_id=int(selected) if selected.isdigit() else None,
                )
        except Exception as exc:
            if not isinstance(exc, DomainError):
                log.exception("opening the action modal from the situation picture failed")
            modal = ui.notice_modal(t, failure_text(t, exc))
        client.views_open(trigger_id=body["trigger_id"], view=modal)

    app.action(ui.ACTION_NEW_FOR_AREA)(ack=ack_only, lazy=[new_for_area])

    # -- quick changes: done and snooze ----------------------------------------------------------

    def refresh(
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
        body: dict[str, Any],
        client: WebClient,
        respond: Respond,
        *,
        verb: str,
        action_id: int,
        meta: ActionMeta,
    ) -> None:
        user_id = body["user"]["id"]
        t = deps.translator(client, team_of(body), user_id)
        try:
            with database_errors(), transaction(deps.sessions) as session:
                access, _ = action_service.access_for_action(
                    session, team_id=team_of(body), action_id=action_id, slack_user_id=user_id
                )
                tz = forum_service.forum_schedule(access.forum).zone
                if verb == "done":
                    action_service.complete_action(
                        session, deps.clock, access=access, action_id=action_id
                    )
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
            refresh(client, respond, body, t, meta, action_id=action_id, note=note)
        except Exception as exc:
            if not isinstance(exc, DomainError):
                log.exception("changing action %s failed", action_id)
            respond(replace_original=False, response_type="ephemeral", text=failure_text(t, exc))

    def button_quick(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        action = body["actions"][0]
        verb = {
            ui.ACTION_DONE: "done",
            ui.ACTION_SNOOZE_HOUR: "snooze_hour",
            ui.ACTION_SNOOZE_MORNING: "snooze_morning",
        }[action["action_id"]]
        value = str(action.get("value") or "")
        if not value.isdigit():
            return
        quick(body, client, respond, verb=verb, action_id=int(value), meta=_origin(body, card=True))

    for action_id in (ui.ACTION_DONE, ui.ACTION_SNOOZE_HOUR, ui.ACTION_SNOOZE_MORNING):
        app.action(action_id)(ack=ack_only, lazy=[button_quick])

    # -- modals: more time, hand over, follow up, history ----------------------------------------

    def open_change(
        body: dict[str, Any],
        client: WebClient,
        respond: Respond,
        *,
        verb: str,
        action_id: int,
        meta: ActionMeta,
    ) -> None:
        t = locale_of(body)
        user_id = body["user"]["id"]
        try:
            with database_errors(), transaction(deps.sessions) as session:
                access, _ = action_service.access_for_action(
                    session, team_id=team_of(body), action_id=action_id, slack_user_id=user_id
                )
                row = action_service.action_row(
                    session, deps.clock, access=access, action_id=action_id
                )
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
        except Exception as exc:
            if not isinstance(exc, DomainError):
                log.exception("opening action %s failed", action_id)
            view = ui.notice_modal(t, failure_text(t, exc))
        if meta.origin == "modal":
            client.views_push(trigger_id=body["trigger_id"], view=view)
        else:
            client.views_open(trigger_id=body["trigger_id"], view=view)

    def button_change(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        action = body["actions"][0]
        verb = {
            ui.ACTION_MORE_TIME: "more_time",
            ui.ACTION_HAND_OVER: "hand_over",
            ui.ACTION_FOLLOW_UP: "follow_up",
            ui.ACTION_HISTORY: "history",
        }[action["action_id"]]
        value = str(action.get("value") or "")
        if not value.isdigit():
            return
        open_change(
            body, client, respond, verb=verb, action_id=int(value), meta=_origin(body, card=True)
        )

    for action_id in (
        ui.ACTION_MORE_TIME,
        ui.ACTION_HAND_OVER,
        ui.ACTION_FOLLOW_UP,
        ui.ACTION_HISTORY,
    ):
        app.action(action_id)(ack=ack_only, lazy=[button_change])

    def row_menu(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        selected = (body["actions"][0].get("selected_option") or {}).get("value", "")
        parsed = ui.parse_row_value(str(selected))
        if parsed is None:
            return
        verb, action_id = parsed
        meta = _origin(body, card=False)
        if verb == "done":
            quick(body, client, respond, verb=verb, action_id=action_id, meta=meta)
        else:
            open_change(body, client, respond, verb=verb, action_id=action_id, meta=meta)

    app.action(ui.ACTION_ROW_MENU)(ack=ack_only, lazy=[row_menu])

    def submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any, *, verb: str
    ) -> None:
        meta = ActionMeta.load(view.get("private_metadata"))
        t = Translator(meta.locale)
        values = view["state"]["values"]
        ids = forms.block_ids(view)
        user_id = body["user"]["id"]
        try:
            with database_errors(), transaction(deps.sessions) as session:
                access, action = action_service.access_for_action(
                    session,
                    team_id=team_of(body),
                    action_id=meta.action_id or 0,
                    slack_user_id=user_id,
                )
                previous_owner = action.owner
                republished = False
                if verb == "more_time":
                    action_service.postpone_action(
                        session,
                        deps.clock,
                        access=access,
                        action_id=action.id,
                        due_on=forms.date_value(values, "due_on"),
                        reason=forms.text(values, "reason"),
                    )
                    note = t(
                        "<@{user}> moved the due date to {date}.",
                        user=user_id,
                        date=t.day(action.due_on),
                    )
                elif verb == "hand_over":
                    action_service.hand_over(
                        session,
                        deps.clock,
                        access=access,
                        action_id=action.id,
                        new_owner=forms.selected(values, "owner"),
                    )
                    note = t(
                        "<@{user}> handed it over to <@{owner}>.",
                        user=user_id,
                        owner=action.owner or "",
                    )
                    if action.owner and action.owner != previous_owner:
                        row = action_service.action_row(
                            session, deps.clock, access=access, action_id=action.id
                        )
                        owner_t = _owner_translator(deps, team_of(body), action.owner, access.forum)
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
                    note = t("<@{user}> followed up the effect.", user=user_id)
                    # A posted agenda that asks for this effect now shows it.
                    republished = republish_agendas(deps, session, access, action.id)
                new_owner = action.owner if action.owner != previous_owner else None
        except (InputErrors, DatabaseUnavailable) as exc:  # a retry keeps what they typed
            ack(response_action="errors", errors=view_errors(t, exc, ids))
            return
        except DomainError as exc:
            ack(response_action="update", view=ui.notice_modal(t, failure_text(t, exc)))
            return
        context["samverkan_action_change"] = {
            "note": note,
            "new_owner": new_owner is not None,
            "republished": verb == "follow_up" and republished,
        }
        ack()

    def after_change(body: dict[str, Any], client: WebClient, context: Any) -> None:
        change = context.get("samverkan_action_change")
        if not change:
            return
        view = body["view"]
        meta = ActionMeta.load(view.get("private_metadata"))
        t = Translator(meta.locale)
        action_id = meta.action_id or 0
        if change.get("new_owner") or change.get("republished"):
            deliver_now(deps, client)  # the new owner's DM, the agenda's update
        try:
            if meta.origin == "modal" and view.get("previous_view_id"):
                parent = {**body, "view": {"id": view["previous_view_id"], "type": "modal"}}
                refresh(client, None, parent, t, meta, action_id=action_id, note=change["note"])
            elif meta.origin in ("home", "card"):
                refresh(client, None, body, t, meta, action_id=action_id, note=change["note"])
        except Exception as exc:
            log.warning("could not show the change of action %s: %s", action_id, exc)

    def acker(verb: str) -> Any:
        def ack_change(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any) -> None:
            submitted(ack, body, view, context, verb=verb)

        return ack_change

    for callback_id, verb in (
        (ui.CB_ACTION_POSTPONE, "more_time"),
        (ui.CB_ACTION_HANDOVER, "hand_over"),
        (ui.CB_ACTION_FOLLOW_UP, "follow_up"),
    ):
        app.view(callback_id)(ack=acker(verb), lazy=[after_change])

    # -- the list's filter and pages ------------------------------------------------------------

    def change_list(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        action = body["actions"][0]
        if action["action_id"] == ui.ACTION_LIST_FILTER:
            value = (action.get("selected_option") or {}).get("value", "")
        else:
            value = action.get("value", "")
        request = ui.parse_list_value(str(value))
        user_id = body["user"]["id"]
        t = deps.translator(client, team_of(body), user_id)
        try:
            reply = action_list(
                deps,
                t,
                team_id=team_of(body),
                channel_id=channel_of(body),
                user_id=user_id,
                scope=request.scope,
                flt=request.filter,
                page=request.page,
                after=request.after,
                before=request.before,
            )
        except Exception as exc:
            if not isinstance(exc, DomainError):
                log.exception("action list failed")
            reply = {"text": failure_text(t, exc)}
        respond(replace_original=True, response_type="ephemeral", **reply)

    app.action(ui.ACTION_LIST_FILTER)(ack=ack_only, lazy=[change_list])
    app.action(ui.ACTION_LIST_PAGE_RE)(ack=ack_only, lazy=[change_list])
