"""Listeners for steering forums (styrgrupp, 2+2, nämnd).

* ``/samverkan styrning`` — the roll-up of the forums it follows since its last meeting
  (figures only); ``/samverkan styrning inställningar`` — level and linked forums.
* ``/samverkan aktivitetsplan [år]`` — the annual activity plan: strategies, goals and
  sub-goals, activities (actions) and the goals' follow-up.
* ``/samverkan verksamhetsberättelse [år]`` — the annual report for the board (PDF, docx).
* ``/samverkan årsrapport [år]`` — the municipality's lägesbild and åtgärdsplan for crime
  prevention (SFS 2023:196) as docx and PDF, with the sections the municipality writes left
  blank.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import disclosure, yearly_picture
from domain import forums as forum_service
from domain import steering as steering_service
from domain.access import Access
from domain.actions import ActionDraft
from domain.documents import Document, to_docx, to_pdf
from domain.errors import DomainError, InputErrors, InvalidInput, NotCoordinator
from domain.i18n import N_, Locale, Translator
from domain.ids import year_value
from handlers import forms, outgoing
from handlers.blocks import steering as ui
from handlers.blocks.forum import notice_modal, text_message
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors, failure_text
from handlers.listener import listener, quick_translator
from handlers.metadata import Id, Meta
from handlers.outgoing import deliver_now
from handlers.payload import ack_only, channel_of
from handlers.screens import display_names
from storage.db import reading, transaction
from storage.models import PlanItem

log = logging.getLogger(__name__)

STEERING = {"styrning", "steering", "styrgrupp"}
PLAN = {"aktivitetsplan", "aktivitetsplanen", "activity-plan"}
ANNUAL = {"verksamhetsberättelse", "verksamhetsberattelse", "annual-report"}
YEARLY = {"årsrapport", "arsrapport", "yearly-picture"}
WORDS = STEERING | PLAN | ANNUAL | YEARLY
SETTINGS = {"inställningar", "installningar", "settings"}


class SteeringMeta(Meta):
    locale: Locale = "sv"
    forum_id: Id | None = None
    channel_id: str | None = None
    year: Id | None = None  # a plan year (INTEGER column): a crafted one is no metadata
    goal_id: Id | None = None

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)


def _access(session: Session, req: CommandRequest) -> Access:
    return forum_service.require_member_in_channel(
        session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
    )


def _meta_access(session: Session, meta: SteeringMeta, context: BoltContext) -> Access:
    forum = forum_service.get_forum(
        session, forum_id=meta.forum_id or 0, team_id=context.team_id or ""
    )
    return forum_service.require_member(session, forum=forum, slack_user_id=context.user_id or "")


def _year(words: list[str], access: Access, deps: Deps) -> int:
    today = deps.clock.now().astimezone(forum_service.forum_schedule(access.forum).zone).date()
    if not words:
        return today.year
    year = year_value(words[0])
    if year is not None:
        return year
    raise InvalidInput(N_("Give the year as four digits, e.g. {year}."), year=today.year)


def route(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest
) -> dict[str, Any] | None:
    word, *rest = req.text.split()
    word = word.casefold()
    if word in STEERING:
        if rest and rest[0].casefold() in SETTINGS:
            open_settings(
                deps,
                client,
                t,
                req.team_id,
                req.channel_id,
                req.user_id,
                req.trigger_id,
                push=False,
            )
            return None
        return rollup(deps, t, req)
    if word in PLAN:
        return show_plan(deps, t, req, rest)
    if word in ANNUAL:
        return annual_report(deps, client, t, req, rest)
    return yearly(deps, client, t, req, rest)


# --- settings and roll-up -------------------------------------------------------------------


def open_settings(
    deps: Deps,
    client: WebClient,
    t: Translator,
    team_id: str,
    channel_id: str,
    user_id: str,
    trigger_id: str,
    *,
    push: bool,
) -> None:
    with database_errors(), reading(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=team_id, channel_id=channel_id, slack_user_id=user_id
        )
        if not access.is_coordinator:
            raise NotCoordinator()
        forum = access.forum
        meta = SteeringMeta(locale=t.locale, forum_id=forum.id, channel_id=forum.channel_id)
        view = ui.settings_modal(
            t,
            level=steering_service.steering_level(forum),
            forums=[(f.id, f.name) for f in steering_service.candidates(session, forum, access)],
            linked=[f.id for f in steering_service.linked_forums(session, forum)],
            private_metadata=meta.dump(),
        )
    if push:
        client.views_push(trigger_id=trigger_id, view=view)
    else:
        client.views_open(trigger_id=trigger_id, view=view)


@listener("ephemeral")
def settings_button(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    user = context.user_id or ""
    t = quick_translator(context, deps)
    open_settings(
        deps,
        client,
        t,
        context.team_id or "",
        context.channel_id or "",
        user,
        body["trigger_id"],
        push=False,
    )


@listener("modal")
def submit_settings(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = SteeringMeta.load(view.get("private_metadata"))
    values = view["state"]["values"]
    level = forms.selected(values, "steering_level")
    with database_errors(), transaction(deps.sessions) as session:
        access = _meta_access(session, meta, context)
        steering_service.configure(
            session,
            deps.clock,
            access=access,
            level=None if level in (None, ui.NO_LEVEL) else level,
            # A crafted option is no forum (0), refused like any: dropped, the links it
            # replaced would be removed.
            forum_ids=[
                forms.id_value(f) or 0 for f in forms.selected_many(values, "steering_forums")
            ],
            notice=ui.followed_notice,
        )
    ack()


@listener("log")
def tell_linked_forums(client: WebClient, deps: Deps) -> None:
    """Send the notes to newly followed forums now (the scheduler would within a minute)."""
    deliver_now(deps, client)


@listener("ephemeral", needs=("message",))
def stop_sharing(
    body: dict[str, Any],
    client: WebClient,
    respond: Respond,
    context: BoltContext,
    t: Translator,
    deps: Deps,
) -> None:
    """A coordinator of a followed forum ends a steering forum's following of it (the
    button on the note to its channel, or in ``/samverkan styrning`` there). The link is
    named by its id alone: anyone outside the followed forum, and a link of nothing or of
    another workspace, get the same answer, and the attempt is audited in the followed
    forum's log (a member who is no coordinator is told so, audited alike)."""
    team_id, user_id = context.team_id or "", context.user_id or ""
    link_id = forms.id_value(body["actions"][0].get("value")) or 0
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        disclosure.refusals_audited(
            session,
            deps.clock,
            team_id=team_id,
            slack_user_id=user_id,
            surface_name=disclosure.STEERING_LINK,
            link_id=link_id,
            not_found=(steering_service.LinkNotFound, NotCoordinator),
        ),
    ):
        ended = steering_service.end_link(
            session,
            deps.clock,
            team_id=team_id,
            slack_user_id=user_id,
            link_id=link_id,
            channel_id=channel_of(body),
            notice=ui.link_ended_notice,
        )
    respond(
        replace_original=False,
        response_type="ephemeral",
        text=t(
            "{steering} no longer follows {forum}'s figures. Its channel has been told.",
            steering=ended.steering_name,
            forum=ended.forum_name,
        ),
    )
    deliver_now(deps, client)  # both channels are told now (the scheduler would soon)


def rollup(deps: Deps, t: Translator, req: CommandRequest) -> dict[str, Any]:
    with database_errors(), reading(deps.sessions) as session:
        access = _access(session, req)
        forum = access.forum
        if steering_service.steering_level(forum) is None:
            followers = steering_service.followers(session, forum)
            if access.is_coordinator and followers:
                return ui.followers_message(
                    t,
                    forum_name=forum.name,
                    followers=[(link_id, f.name) for link_id, f in followers],
                )
            if access.is_coordinator:
                return text_message(
                    t(
                        "This forum is not a steering forum. Make it one, and choose the forums "
                        "it follows, with /samverkan styrning inställningar."
                    )
                )
            raise InvalidInput(N_("This forum is not a steering forum."))
        period = steering_service.since_last_meeting(session, deps.clock, forum)
        items = steering_service.rollup(session, steering=forum, period=period)
        return ui.rollup_message(
            t,
            forum_name=forum.name,
            period=period,
            items=items,
            coordinator=access.is_coordinator,
        )


# --- the activity plan ----------------------------------------------------------------------


def show_plan(deps: Deps, t: Translator, req: CommandRequest, rest: list[str]) -> dict[str, Any]:
    with database_errors(), reading(deps.sessions) as session:
        access = _access(session, req)
        if steering_service.steering_level(access.forum) is None:
            raise InvalidInput(
                N_(
                    "This forum is not a steering forum. A coordinator sets its level with "
                    "/samverkan styrning inställningar."
                )
            )
        year = _year(rest, access, deps)
        plan = steering_service.plan(session, forum=access.forum, year=year)
        return ui.plan_message(t, plan, coordinator=access.is_coordinator)


def _context_access(session: Session, context: BoltContext) -> Access:
    return forum_service.require_member_in_channel(
        session,
        team_id=context.team_id or "",
        channel_id=context.channel_id or "",
        slack_user_id=context.user_id or "",
    )


@listener("open")
def _plan_button(body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps) -> None:
    t = quick_translator(context, deps)
    action = body["actions"][0]
    with database_errors(), reading(deps.sessions) as session:
        access = _context_access(session, context)
        if not access.is_coordinator:
            raise NotCoordinator()
        forum = access.forum
        if action["action_id"] == ui.ACTION_FOLLOW_UP:
            goal = session.get(PlanItem, forms.id_value(action.get("value")) or 0)
            if goal is None or goal.forum_id != forum.id:
                raise InvalidInput(N_("That goal no longer exists."))
            meta = SteeringMeta(locale=t.locale, forum_id=forum.id, goal_id=goal.id)
            view = ui.goal_modal(t, title=goal.title, private_metadata=meta.dump())
        else:
            year = _year([str(action.get("value") or "")], access, deps)
            meta = SteeringMeta(locale=t.locale, forum_id=forum.id, year=year)
            items = session.scalars(
                select(PlanItem)
                .where(PlanItem.forum_id == forum.id, PlanItem.year == year)
                .order_by(PlanItem.position, PlanItem.id)
            ).all()
            if action["action_id"] == ui.ACTION_ADD_ITEM:
                view = ui.plan_item_modal(
                    t,
                    parents=[(i.id, i.title[:70]) for i in items],
                    private_metadata=meta.dump(),
                )
            else:
                view = ui.activity_modal(
                    t,
                    goals=[(i.id, i.title[:70]) for i in items if i.kind == "goal"],
                    agencies=[(a.id, a.name) for a in forum_service.active_agencies(forum)],
                    today=deps.clock.now()
                    .astimezone(forum_service.forum_schedule(forum).zone)
                    .date(),
                    private_metadata=meta.dump(),
                )
    client.views_open(trigger_id=body["trigger_id"], view=view)


@listener("modal")
def submit_item(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = SteeringMeta.load(view.get("private_metadata"))
    values = view["state"]["values"]
    parent = forms.selected(values, "parent")
    with database_errors(), transaction(deps.sessions) as session:
        steering_service.add_item(
            session,
            deps.clock,
            access=_meta_access(session, meta, context),
            year=meta.year or 0,
            kind=forms.selected(values, "kind"),
            title=forms.text(values, "title"),
            parent_id=forms.id_value(parent),
            follow_up_on=forms.date_value(values, "follow_up_on"),
        )
    ack()


@listener("modal")
def submit_activity(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = SteeringMeta.load(view.get("private_metadata"))
    values = view["state"]["values"]
    goal = forms.selected(values, "goal")
    agency = forms.selected(values, "agency")
    with database_errors(), transaction(deps.sessions) as session:
        steering_service.add_activity(
            session,
            deps.clock,
            access=_meta_access(session, meta, context),
            goal_id=forms.id_value(goal),
            draft=ActionDraft(
                description=forms.text(values, "description"),
                agency_id=forms.id_value(agency),
                owner=forms.selected(values, "owner"),
                due_on=forms.date_value(values, "due_on"),
            ),
            submission_key=view.get("id"),
        )
    ack()


@listener("modal")
def submit_goal(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = SteeringMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    values = view["state"]["values"]
    try:
        with database_errors(), transaction(deps.sessions) as session:
            steering_service.follow_up_goal(
                session,
                deps.clock,
                access=_meta_access(session, meta, context),
                goal_id=meta.goal_id or 0,
                result=forms.selected(values, "result"),
                comment=forms.text(values, "comment"),
            )
    except InputErrors:
        raise  # on the fields
    except DomainError as exc:
        ack(response_action="update", view=notice_modal(t, failure_text(t, exc)))
        return
    ack()


# --- documents ------------------------------------------------------------------------------


def _send(deps: Deps, client: WebClient, req: CommandRequest, stem: str, doc: Document) -> None:
    """The document as PDF and docx, in the user's DM."""
    for suffix, data in (("pdf", to_pdf(doc)), ("docx", to_docx(doc))):
        outgoing.send_file(
            deps,
            client,
            req.team_id,
            req.user_id,
            data=data,
            filename=f"{stem}.{suffix}",
            comment=f"{stem}.{suffix}",
        )


def annual_report(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest, rest: list[str]
) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = _access(session, req)
        if not access.is_coordinator:
            raise NotCoordinator()
        year = _year(rest, access, deps)
        plan, figures = steering_service.annual_report(
            session, deps.clock, access=access, year=year, t=t
        )
        forum_name, code = access.forum.name, access.forum.code
        level = steering_service.steering_level(access.forum) or "styrgrupp"
    owners = {a.owner for s in plan.goals() for a in s.activities if a.owner}
    names = display_names(client, owners)
    doc = steering_service.annual_report_document(
        t,
        forum_name=forum_name,
        level=level,
        year=year,
        plan_=plan,
        figures=figures,
        names=lambda user: names.get(user, user),
    )
    _send(deps, client, req, f"verksamhetsberattelse-{code}-{year}", doc)
    return text_message(
        t("I sent you the annual report {year} (PDF and docx) in a direct message.", year=year)
    )


def yearly(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest, rest: list[str]
) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        access = _access(session, req)
        if not access.is_coordinator:
            raise NotCoordinator()
        year = _year(rest, access, deps)
        pictures = yearly_picture.collect(session, deps.clock, access=access, year=year)
        forum_name, code = access.forum.name, access.forum.code
    names = display_names(client, {a.owner for p in pictures for a in p.actions if a.owner})
    doc = yearly_picture.document(
        t,
        steering_name=forum_name,
        year=year,
        pictures=pictures,
        names=lambda user: names.get(user, user),
    )
    _send(deps, client, req, f"lagesbild-atgardsplan-{code}-{year}", doc)
    return text_message(
        t(
            "I sent you the situation picture and action plan {year} (docx to edit, and PDF) "
            "in a direct message. The analysis and the priorities are left for the "
            "municipality to write.",
            year=year,
        )
    )


def register(app: App) -> None:
    app.action(ui.ACTION_OPEN_SETTINGS)(ack=ack_only, lazy=[settings_button])
    app.action(ui.ACTION_STOP_SHARING)(ack=ack_only, lazy=[stop_sharing])
    for action_id in (ui.ACTION_ADD_ITEM, ui.ACTION_ADD_ACTIVITY, ui.ACTION_FOLLOW_UP):
        app.action(action_id)(ack=ack_only, lazy=[_plan_button])
    app.view(ui.CB_SETTINGS)(ack=submit_settings, lazy=[tell_linked_forums])
    app.view(ui.CB_PLAN_ITEM)(submit_item)
    app.view(ui.CB_ACTIVITY)(submit_activity)
    app.view(ui.CB_GOAL)(submit_goal)
