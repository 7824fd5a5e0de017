"""Listeners for following a deviation (avvikelse) up. Parse → ack → domain → render.

The coordinators' DM about a new deviation and App Home's "Avvikelser att följa upp" carry a
button naming the deviation by its id alone; the view it opens (the text and the follow-up)
follows the disclosure rule for a deviation's text (coordinators and the reporting agency,
every look audited). A coordinator records the follow-up there; the reporter is told by DM
(the outcome; what was done shows behind its button). An id of another forum or workspace
is told as one of nothing, and the attempt is audited in the deviation's forum.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from domain import cases as case_service
from domain import forums as forum_service
from domain.clock import as_utc
from domain.i18n import Translator
from handlers import forms, outgoing
from handlers.blocks import cases as ui
from handlers.blocks.forum import notice_modal
from handlers.deps import Deps
from handlers.errors import database_errors
from handlers.listener import listener
from handlers.metadata import DeviationMeta
from handlers.payload import ack_only
from handlers.screens import deviation_door, deviation_view, refresh_home
from storage.db import transaction
from storage.models import Deviation

log = logging.getLogger(__name__)


@listener("notice")
def open_deviation(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    """The DM's or App Home's button: the deviation and its follow-up, in a modal."""
    value = str(body["actions"][0].get("value") or "")
    deviation_id = forms.id_value(value) or 0
    view = deviation_view(deps, t, context, deviation_id)
    if (body.get("view") or {}).get("type") == "modal":  # over a modal; App Home opens one
        client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)


@listener("modal_or_notice")
def submit_follow_up(
    ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient, deps: Deps
) -> None:
    """Record the follow-up and queue the reporter's DM, in the same transaction."""
    meta = DeviationMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    values = view["state"]["values"]
    team_id = context.team_id or ""
    with database_errors(), transaction(deps.sessions) as session:
        with deviation_door(session, deps, context, meta.deviation_id):
            access = case_service.access_for_deviation(
                session,
                team_id=team_id,
                deviation_id=meta.deviation_id,
                slack_user_id=context.user_id or "",
            )
            deviation: Deviation = case_service.follow_up_deviation(
                session,
                deps.clock,
                access=access,
                deviation_id=meta.deviation_id,
                note=forms.text(values, "note"),
                outcome=forms.selected(values, "outcome"),
            )
        reporter = deviation.reported_by
        # Told while still a member of the forum (one who left hears nothing more of it).
        still_here = reporter and forum_service.find_member(
            session, forum=access.forum, slack_user_id=reporter
        )
        if still_here and reporter != access.member.slack_user_id:
            tz = forum_service.forum_schedule(access.forum).zone
            reported_on = as_utc(deviation.created_at)
            rt = outgoing.recipient_t(deps, client, access.forum, reporter)
            outgoing.post(
                session,
                deps.clock,
                team_id=team_id,
                channel=reporter,
                message=ui.deviation_followed_up_dm(
                    rt,
                    forum_name=access.forum.name,
                    kind=deviation.kind,
                    reported_on=reported_on.astimezone(tz).date(),
                    outcome=deviation.follow_up_outcome or "",
                    deviation_id=deviation.id,
                ),
            )
    context[FOLLOW_UP_SAVED] = True  # committed (a refusal or error returned above)
    ack(response_action="update", view=notice_modal(t, t("The follow-up is saved.")))


# Set once :func:`submit_follow_up` has saved (bolt copies the context for the lazy listener
# after the ack function returned), as handlers.cases.CONSENT_RECORDED: no read again to
# learn whether it did.
FOLLOW_UP_SAVED = "samverkan_follow_up_saved"


def deliver(view: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps) -> None:
    """Send the reporter's DM now, and publish the coordinator's App Home anew when the
    follow-up was saved (the deviation no longer waits there; a refused submission
    changes nothing)."""
    outgoing.deliver_now(deps, client)
    user = context.user_id or ""
    if context.get(FOLLOW_UP_SAVED) and user:
        refresh_home(deps, client, context.team_id or "", [user])


def register(app: App) -> None:
    app.action(ui.ACTION_DEVIATION_OPEN)(ack=ack_only, lazy=[open_deviation])
    app.view(ui.CB_DEVIATION_FOLLOW_UP)(ack=submit_follow_up, lazy=[deliver])
