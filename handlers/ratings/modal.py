"""The rating modal: opened from the round's DM or the channel, answered page by page;
escalations go to the coordinators as DMs queued with the answers."""

from __future__ import annotations

import logging
import zoneinfo
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from domain import ratings as rating_service
from domain.access import Access
from domain.errors import (
    DomainError,
    InvalidInput,
)
from domain.i18n import N_, Translator
from domain.ratings.answering import ROUND_NOT_FOUND_FROM_DM
from handlers import forms, outgoing
from handlers.blocks import ratings as ui
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors, failure_text
from handlers.listener import listener, quick_translator
from handlers.ratings.base import RatingMeta, access_for_round, access_in_channel, round_door
from storage.db import reading, transaction

log = logging.getLogger(__name__)


def rating_view(
    deps: Deps,
    t: Translator,
    team_id: str,
    user_id: str,
    round_id: int,
    agency_id: int | None,
    page: int = 0,
) -> dict[str, Any]:
    with database_errors(), transaction(deps.sessions) as session:
        with round_door(session, deps.clock, team_id, user_id, round_id):
            access = access_for_round(session, team_id, user_id, round_id)
        form = rating_service.rating_form(
            session, deps.clock, access=access, round_id=round_id, agency_id=agency_id
        )
        forum_id = access.forum.id
    meta = RatingMeta(
        locale=t.locale,
        forum_id=forum_id,
        round_id=form.round_id,
        agency_id=form.agency_id,
        page=page,
    )
    return ui.rating_modal(t, form, page=page, private_metadata=meta.dump())


def open_rating_from_channel(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest
) -> None:
    with database_errors(), reading(deps.sessions) as session:
        access = access_in_channel(session, req)
        rating_round = rating_service.find_open_round(session, access.forum)
        if rating_round is None:
            raise InvalidInput(N_("No rating round is open right now."))
        round_id = rating_round.id
    view = rating_view(deps, t, req.team_id, req.user_id, round_id, None)
    client.views_open(trigger_id=req.trigger_id, view=view)


def _answers(values: forms.Values, meta: RatingMeta) -> list[rating_service.Answer]:
    answers = []
    for block_id in values:
        if not block_id.startswith("level_"):
            continue
        area = block_id.removeprefix("level_")
        area_id = forms.id_value(area)
        if area_id is None:
            continue
        level = forms.selected(values, block_id)
        answers.append(
            rating_service.Answer(
                area_id=area_id,
                level=forms.id_value(level),
                comment=forms.text(values, f"comment_{area}") or None,
            )
        )
    return answers


def _in_dm(body: dict[str, Any], context: BoltContext) -> bool:
    channel = context.channel_id or str((body.get("channel") or {}).get("id") or "")
    return channel.startswith("D")


@listener("log")
def open_rating(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, deps: Deps
) -> None:
    team_id, user_id = context.team_id or "", context.user_id or ""
    t = quick_translator(context, deps)
    pair = ui.parse_pair(body["actions"][0].get("value", ""))
    try:
        if pair is None:
            raise rating_service.RoundNotFound()
        view = rating_view(deps, t, team_id, user_id, pair[0], pair[1])
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except Exception as exc:  # from a message: an ephemeral reply; from a DM: a DM
        if not isinstance(exc, DomainError):
            log.exception("opening the rating modal failed")
        if isinstance(exc, rating_service.RoundNotFound) and _in_dm(body, context):
            # The invitation's button in a DM (no forum here): removed, another forum's or
            # workspace's, none, alike; audited at the door as what it is.
            exc = rating_service.RoundNotFound(ROUND_NOT_FOUND_FROM_DM)
        text = failure_text(t, exc)
        if body.get("response_url"):
            respond(replace_original=False, response_type="ephemeral", text=text)
        else:
            outgoing.tell_now(deps, client, team_id, user_id, text)


@listener("modal_or_notice")
def submit_rating(
    ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient, deps: Deps
) -> None:
    """Save the answers; escalations go to the coordinators as DMs queued in the same
    transaction."""
    meta = RatingMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    team_id, user_id = context.team_id or "", context.user_id or ""
    values = view["state"]["values"]
    with database_errors(), transaction(deps.sessions) as session:
        with round_door(session, deps.clock, team_id, user_id, meta.round_id or None):
            access = access_for_round(session, team_id, user_id, meta.round_id)
        saved = rating_service.submit_ratings(
            session,
            deps.clock,
            access=access,
            round_id=meta.round_id,
            agency_id=meta.agency_id or None,
            answers=_answers(values, meta),
            # Asked on the form's last page only: elsewhere it stays as it is.
            observation=(
                forms.text(values, rating_service.OBSERVATION_FIELD)
                if rating_service.OBSERVATION_FIELD in values
                else None
            ),
        )
        form = rating_service.rating_form(
            session,
            deps.clock,
            access=access,
            round_id=meta.round_id,
            agency_id=meta.agency_id or None,
        )
        # One DM for the whole form, however many pages escalate: the pages before the
        # last carry theirs on (told when the last page is saved, or the form is closed).
        pending = _pending(meta.escalated) | {
            e.area_id: (e.level, e.previous) for e in saved.escalations
        }
        next_page = meta.page + 1
        last = next_page >= ui.page_count(form)
        if last and pending:
            _queue_escalations(session, deps, client, access, meta, view, pending)
    if not last:
        page_meta = meta.model_copy(update={"page": next_page, "escalated": _pack(pending)})
        following = ui.rating_modal(t, form, page=next_page, private_metadata=page_meta.dump())
        if pending:  # closed before the last page is saved: told then (close_rating)
            following["notify_on_close"] = True
        ack(response_action="update", view=following)
        return
    deadline = t.day_time(form.deadline_at, zoneinfo.ZoneInfo(form.timezone))
    ack(
        response_action="update",
        view=ui.saved_modal(
            t, agency=saved.agency_name, complete=saved.complete, deadline=deadline
        ),
    )


Pending = dict[int, tuple[int, int | None]]  # area id: (level, level before)


def _pending(packed: str) -> Pending:
    pending: Pending = {}
    for item in filter(None, packed.split(",")):
        area, _, rest = item.partition(":")
        level, _, before = rest.partition(":")
        if area.isdigit() and level.isdigit() and (before == "" or before.isdigit()):
            pending[int(area)] = (int(level), int(before) if before else None)
    return pending


def _pack(pending: Pending) -> str:
    return ",".join(
        f"{area}:{level}:{'' if before is None else before}"
        for area, (level, before) in pending.items()
    )


def _queue_escalations(
    session: Session,
    deps: Deps,
    client: WebClient,
    access: Access,
    meta: RatingMeta,
    view: dict[str, Any],
    pending: Pending,
) -> None:
    forum = access.forum
    found = rating_service.escalated(
        session,
        deps.clock,
        access=access,
        agency_id=meta.agency_id or None,
        pending=[(area, level, before) for area, (level, before) in pending.items()],
    )
    if not found.escalations:
        return
    # Once a form (the modal's id): its last page saved again, or closed after it, tells
    # nobody twice.
    key = f"rating_escalations:{forum.team_id}:{view.get('id') or ''}"
    for coordinator, t in outgoing.translators(deps, client, forum, found.coordinators).items():
        # One DM per coordinator for the whole form, however many areas and pages escalate.
        outgoing.tell(
            session,
            deps.clock,
            team_id=forum.team_id,
            user_id=coordinator,
            text=ui.escalations_text(t, found.forum_name, found.escalations),
            key=f"{key}:{coordinator}" if view.get("id") else None,
        )


@listener("log")
def close_rating(client: WebClient, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    """The form closed before its last page was saved (``notify_on_close``): the
    escalations its saved pages carry are told now rather than never."""
    meta = RatingMeta.load(view.get("private_metadata"))
    pending = _pending(meta.escalated)
    if not pending:
        return
    team_id, user_id = context.team_id or "", context.user_id or ""
    with database_errors(), transaction(deps.sessions) as session:
        with round_door(session, deps.clock, team_id, user_id, meta.round_id or None):
            access = access_for_round(session, team_id, user_id, meta.round_id)
        _queue_escalations(session, deps, client, access, meta, view, pending)
    outgoing.deliver_now(deps, client)


@listener("log")
def deliver(client: WebClient, deps: Deps) -> None:
    outgoing.deliver_now(deps, client)  # the escalations, queued with the answers
