"""Listeners for correcting and masking free text ("Ändra" / "Maskera" buttons, two modals).

The buttons carry ``<field>:<id>``; the forum comes from the surface the button is on (the
modal's private_metadata, or the channel), and the domain refuses a text of another forum,
so a crafted value reveals nothing. Parse → ack → domain → render.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from domain import corrections
from domain import forums as forum_service
from domain.access import Access
from domain.errors import DomainError, InputErrors
from domain.i18n import Locale, Translator
from handlers import forms, outgoing
from handlers.blocks import corrections as ui
from handlers.blocks.forum import notice_modal
from handlers.deps import Deps
from handlers.errors import database_errors, failure_text
from handlers.listener import listener, quick_translator
from handlers.metadata import Id, Meta
from handlers.outgoing import publish_changes
from handlers.payload import ack_only
from handlers.screens import deviation_view, text_door
from storage.db import transaction

log = logging.getLogger(__name__)


class TextMeta(Meta):
    locale: Locale = "sv"
    forum_id: Id = 0
    field: str = ""
    object_id: Id = 0


def _forum_id_of(body: dict[str, Any]) -> int | None:
    raw = (body.get("view") or {}).get("private_metadata") or ""
    try:
        value = json.loads(raw).get("forum_id") if raw else None
    except (ValueError, AttributeError):
        return None
    # Crafted (past INTEGER or any number, negative, ``true``): no forum, told so.
    return forms.id_value(str(value)) if isinstance(value, int) else None


def _access(session: Session, context: BoltContext, forum_id: int | None) -> Access:
    team, user = context.team_id or "", context.user_id or ""
    if forum_id:
        forum = forum_service.get_forum(session, forum_id=forum_id, team_id=team)
    else:
        forum = forum_service.require_forum(
            session, team_id=team, channel_id=context.channel_id or ""
        )
    return forum_service.require_member(session, forum=forum, slack_user_id=user)


@listener("notice")
def open_modal(body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps) -> None:
    action = body["actions"][0]
    t = quick_translator(context, deps)
    target = ui.parse_target(str(action.get("value") or ""))
    if target is None:
        raise corrections.NOT_FOUND
    field, object_id = target
    with database_errors(), transaction(deps.sessions) as session:
        with text_door(session, deps, context, field, object_id):
            access = _access(session, context, _forum_id_of(body))
            text = corrections.editable(
                session, deps.clock, access=access, field=field, object_id=object_id
            )
        meta = TextMeta(
            locale=t.locale,
            forum_id=access.forum.id,
            field=field.value,
            object_id=object_id,
        ).model_dump_json()
    if ui.ACTION_TEXT_EDIT_RE.match(action["action_id"]) and text.may_edit:
        view = ui.edit_modal(t, text, private_metadata=meta)
    elif ui.ACTION_TEXT_REDACT_RE.match(action["action_id"]) and text.may_redact:
        view = ui.redact_modal(t, text, private_metadata=meta)
    else:
        raise corrections.NOT_ALLOWED
    if body.get("view"):
        client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)


@listener("modal")
def submit(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    """Correct or mask the text; a masked agenda item's posted agenda and previews are
    updated through the outbox, queued in the same transaction."""
    meta = TextMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    redact = view.get("callback_id") == ui.CB_TEXT_REDACT
    try:
        field = corrections.Field(meta.field)
    except ValueError:
        ack(response_action="update", view=notice_modal(t, failure_text(t, corrections.NOT_FOUND)))
        return
    try:
        with database_errors(), transaction(deps.sessions) as session:
            with text_door(session, deps, context, field, meta.object_id):
                access = _access(session, context, meta.forum_id)
                if redact:
                    meeting = corrections.redact(
                        session, deps.clock, access=access, field=field, object_id=meta.object_id
                    )
                else:
                    meeting = None
                    corrections.correct(
                        session,
                        deps.clock,
                        access=access,
                        field=field,
                        object_id=meta.object_id,
                        text=forms.text(view["state"]["values"], "text"),
                    )
            if meeting is not None:
                publish_changes(deps, session, meeting, access.forum)
    except InputErrors:  # the typed text stays in the modal
        raise
    except DomainError as exc:
        ack(response_action="update", view=notice_modal(t, failure_text(t, exc)))
        return
    context[SAVED] = True  # committed (a refusal or error returned above)
    done = (
        t("Masked. The old text is not kept anywhere.")
        if redact
        else t("Saved. The old text is not kept anywhere.")
    )
    ack(response_action="update", view=notice_modal(t, done))


# Set once :func:`submit` has saved (bolt copies the context for the lazy listener after the
# ack function returned), as handlers.cases.CONSENT_RECORDED: no read again to learn whether
# it did.
SAVED = "samverkan_text_saved"


@listener("log")
def deliver(body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps) -> None:
    outgoing.deliver_now(deps, client)
    _show_deviation_anew(body, client, context, deps)


def _show_deviation_anew(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    """A deviation's text or note masked from its view: the view beneath is shown as it is
    now, so its follow-up form no longer holds the old note (a save would write it back)."""
    view = body.get("view") or {}
    parent = view.get("previous_view_id")
    meta = TextMeta.load(view.get("private_metadata"))
    if not parent or view.get("callback_id") != ui.CB_TEXT_REDACT:
        return
    deviation = (corrections.Field.DEVIATION_TEXT.value, corrections.Field.DEVIATION_NOTE.value)
    if meta.field not in deviation or not context.get(SAVED):  # refused: nothing changed
        return
    t = Translator(meta.locale)
    try:
        updated = deviation_view(deps, t, context, meta.object_id)
    except DomainError as exc:
        updated = notice_modal(t, failure_text(t, exc))
    client.views_update(view_id=parent, view=updated)


def register(app: App) -> None:
    app.action(ui.ACTION_TEXT_EDIT_RE)(ack=ack_only, lazy=[open_modal])
    app.action(ui.ACTION_TEXT_REDACT_RE)(ack=ack_only, lazy=[open_modal])
    app.view(ui.CB_TEXT_EDIT)(ack=submit, lazy=[deliver])
    app.view(ui.CB_TEXT_REDACT)(ack=submit, lazy=[deliver])
