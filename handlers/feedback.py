"""Listeners for feedback after a case: the survey (DM button → modal), the family's view
(raising agency), and ``/samverkan återkoppling [period]`` with the results per period.

Module-level listeners; ``deps`` comes from the request context (see handlers/app.py).
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from domain import cases as case_service
from domain import disclosure
from domain import feedback as feedback_service
from domain import forums as forum_service
from domain import statistics as stats_service
from domain.access import Access
from domain.errors import CASE_NOT_FOUND_FROM_DM, CaseNotFound, DomainError, InputErrors
from domain.i18n import Locale, Translator
from domain.periods import bounds
from handlers import forms
from handlers.blocks import feedback as ui
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors, failure_text
from handlers.listener import listener, quick_translator
from handlers.metadata import Id, Meta
from handlers.payload import ack_only
from storage.db import reading, transaction

log = logging.getLogger(__name__)

WORDS = {"återkoppling", "aterkoppling", "feedback", "utvärdering", "utvardering"}


class FeedbackMeta(Meta):
    locale: Locale = "sv"
    survey_id: Id | None = None
    forum_id: Id | None = None
    case_id: Id | None = None

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)


# --- /samverkan återkoppling ----------------------------------------------------------------


def route(deps: Deps, client: WebClient, t: Translator, req: CommandRequest) -> dict[str, Any]:
    words = req.text.split()[1:]
    return results(
        deps, t, team_id=req.team_id, channel_id=req.channel_id, user=req.user_id, words=words
    )


def results(
    deps: Deps, t: Translator, *, team_id: str, channel_id: str, user: str, words: list[str]
) -> dict[str, Any]:
    with database_errors(), reading(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=team_id, channel_id=channel_id, slack_user_id=user
        )
        zone = forum_service.forum_schedule(access.forum).zone
        today = deps.clock.now().astimezone(zone).date()
        period = stats_service.parse_period(words, today)
        start, end = bounds(zone, period)
        found = feedback_service.results(session, forum_ids=[access.forum.id], start=start, end=end)
        name, coordinator = access.forum.name, access.is_coordinator
    return ui.results_message(
        t,
        found,
        forum_name=name,
        start=period.start,
        end=period.end,
        coordinator=coordinator,
        period_value=f"{period.start.isoformat()} {period.end.isoformat()}",
    )


@listener("ephemeral", needs=("message",))
def show_comments(
    body: dict[str, Any], context: BoltContext, respond: Respond, deps: Deps, t: Translator
) -> None:
    words = (body["actions"][0].get("value") or "").split()
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session,
            team_id=context.team_id or "",
            channel_id=context.channel_id or "",
            slack_user_id=context.user_id or "",
        )
        zone = forum_service.forum_schedule(access.forum).zone
        today = deps.clock.now().astimezone(zone).date()
        period = stats_service.parse_period(words, today)
        start, end = bounds(zone, period)
        comments = feedback_service.disclosed_comments(
            session, deps.clock, access=access, start=start, end=end
        )
    respond(replace_original=False, response_type="ephemeral", **ui.comments_message(t, comments))


# --- the survey -----------------------------------------------------------------------------


def _survey_door(
    session: Session, deps: Deps, context: BoltContext, survey_id: int
) -> AbstractContextManager[None]:
    """A survey names its case: a refusal at the door (a survey of a forum the user is not
    in, of another workspace, none) is audited as an attempt at the case's feedback."""
    return disclosure.refusals_audited(
        session,
        deps.clock,
        team_id=context.team_id or "",
        slack_user_id=context.user_id or "",
        case_id=feedback_service.survey_case(session, survey_id),
        surface_name="case_feedback",
        not_found=(feedback_service.SurveyNotFound,),
    )


@listener("open")
def open_survey(body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps) -> None:
    t = quick_translator(context, deps)
    survey_id = forms.id_value(body["actions"][0].get("value")) or 0
    with (
        database_errors(),
        transaction(deps.sessions) as session,
        _survey_door(session, deps, context, survey_id),
    ):
        found = feedback_service.survey_for(
            session, team_id=context.team_id or "", survey_id=survey_id, user=context.user_id or ""
        )
    if found.answered:
        raise feedback_service.AlreadyAnswered()
    meta = FeedbackMeta(locale=t.locale, survey_id=survey_id)
    view = ui.survey_modal(
        t, reference=found.reference, agency=found.agency, private_metadata=meta.dump()
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def _score(values: forms.Values, key: str) -> int | None:
    raw = forms.selected(values, key)
    return forms.id_value(raw)


@listener("modal")
def submit_survey(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = FeedbackMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    values = view["state"]["values"]
    try:
        with (
            database_errors(),
            transaction(deps.sessions) as session,
            _survey_door(session, deps, context, meta.survey_id or 0),
        ):
            found = feedback_service.answer_survey(
                session,
                deps.clock,
                team_id=context.team_id or "",
                survey_id=meta.survey_id or 0,
                user=context.user_id or "",
                scores={key: _score(values, key) for key in feedback_service.QUESTIONS},
                comment=forms.text(values, "comment"),
            )
    except InputErrors:
        raise  # on the fields
    except DomainError as exc:
        ack(response_action="update", view=ui.thanks_modal(t, failure_text(t, exc)))
        return
    text = t(
        "Thank you! The answer for {agency} on {reference} is saved.",
        agency=found.agency,
        reference=found.reference,
    )
    ack(response_action="update", view=ui.thanks_modal(t, text))


# --- the family's view ----------------------------------------------------------------------


def _case_access(session: Session, deps: Deps, context: BoltContext, case_id: int) -> Access:
    """A member's access to the case's forum. Anyone outside it (a case of a forum the user
    is not in, of another workspace, removed, none) is told "no such case" alike, in words
    for the survey's DM (no forum there), and the refusal is audited as an attempt at the
    case's feedback, as what it is."""
    team_id, user = context.team_id or "", context.user_id or ""
    try:
        with disclosure.refusals_audited(
            session,
            deps.clock,
            team_id=team_id,
            slack_user_id=user,
            case_id=case_id,
            surface_name="case_feedback",
        ):
            return case_service.access_for_case(
                session, team_id=team_id, case_id=case_id, slack_user_id=user
            )
    except CaseNotFound:  # audited at the door as what it is; told alike
        raise CaseNotFound(CASE_NOT_FOUND_FROM_DM) from None


@listener("open")
def open_family_view(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    t = quick_translator(context, deps)
    case_id = forms.id_value(body["actions"][0].get("value")) or 0
    with database_errors(), transaction(deps.sessions) as session:
        access = _case_access(session, deps, context, case_id)
        case = feedback_service.family_view_case(session, access=access, case_id=case_id)
        meta = FeedbackMeta(locale=t.locale, case_id=case.id, forum_id=access.forum.id)
        view = ui.family_modal(t, reference=case.reference, private_metadata=meta.dump())
    client.views_open(trigger_id=body["trigger_id"], view=view)


@listener("modal")
def submit_family_view(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = FeedbackMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    values = view["state"]["values"]
    try:
        with database_errors(), transaction(deps.sessions) as session:
            access = _case_access(session, deps, context, meta.case_id or 0)
            feedback_service.record_family_view(
                session,
                deps.clock,
                access=access,
                case_id=meta.case_id or 0,
                heard=forms.selected(values, "heard"),
                helped=forms.selected(values, "helped"),
                comment=forms.text(values, "comment"),
            )
    except InputErrors:
        raise  # on the fields
    except DomainError as exc:
        ack(response_action="update", view=ui.thanks_modal(t, failure_text(t, exc)))
        return
    ack(
        response_action="update",
        view=ui.thanks_modal(t, t("Thank you! The family's view is saved.")),
    )


def register(app: App) -> None:
    app.action(ui.ACTION_SURVEY_OPEN)(ack=ack_only, lazy=[open_survey])
    app.action(ui.ACTION_FAMILY_OPEN)(ack=ack_only, lazy=[open_family_view])
    app.action(ui.ACTION_COMMENTS)(ack=ack_only, lazy=[show_comments])
    app.view(ui.CB_SURVEY)(submit_survey)
    app.view(ui.CB_FAMILY)(submit_family_view)
