"""Listeners for case slots (the preview's *Time slots*), the minutes (*Skriv protokollet*) and
"Inför mötet" in App Home; the scheduler's morning DMs and minutes prompts.

Module-level listeners (handlers/listener.py gives them ``deps``, ``t`` and the one error
path); what they send goes through the outbox (handlers/outgoing.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from domain import agenda as agenda_service
from domain import forums as forum_service
from domain import minutes as minutes_service
from domain import ratings as rating_service
from domain import slots as slot_service
from domain.access import Access
from domain.clock import Clock
from domain.i18n import LocaleOf, Translator
from handlers import forms, outgoing
from handlers.blocks import minutes as ui
from handlers.blocks.common import Block
from handlers.deps import Deps
from handlers.errors import database_errors
from handlers.listener import listener
from handlers.metadata import ViewMeta
from handlers.payload import ack_only
from handlers.screens import meeting_access, member_names
from storage.db import transaction
from storage.models import Meeting

log = logging.getLogger(__name__)


# --- used by the scheduler and other listeners ------------------------------------------------


def run_due(sessions: Any, clock: Clock, *, replica: str, locale_of: LocaleOf | None = None) -> int:
    """The morning DMs at the agenda time and the minutes prompts at the end time, each in
    its recipient's language (``locale_of``; the forum's when unknown)."""
    sent = minutes_service.send_meeting_dms(
        sessions, clock, ui.morning_dm, replica=replica, locale_of=locale_of
    )
    return sent + minutes_service.send_minutes_prompts(
        sessions, clock, ui.minutes_prompt, replica=replica, locale_of=locale_of
    )


def _button_meeting(body: dict[str, Any]) -> int:
    raw = str(body["actions"][0].get("value") or "0")
    return forms.id_value(raw) or 0


# --- slots ------------------------------------------------------------------------------------


def _slots_view(
    session: Session,
    deps: Deps,
    t: Translator,
    access: Access,
    meeting: Meeting,
    *,
    page: int = 1,
    after: Collection[int] = (),
    skip: Collection[int] = (),
    saved: str | None = None,
) -> tuple[Block, slot_service.SlotsPage]:
    """Page ``page`` of the slots modal (domain.pages) and which cases it shows."""
    agenda = agenda_service.build(
        session, deps.clock, meeting, access.forum, picture=rating_service.picture_for_meeting
    )
    form = slot_service.slots_page(agenda.slots, page=page, after=after, skip=skip)
    meta = ViewMeta(locale=t.locale, forum_id=access.forum.id, meeting_id=meeting.id, page=page)
    view = ui.slots_modal(
        t,
        agenda,
        page=form,
        default=slot_service.default_minutes(access.forum),
        private_metadata=meta.dump(),
        saved=saved,
    )
    return view, form


@listener("dm")
def open_slots(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    with database_errors(), transaction(deps.sessions) as session:
        access, meeting = meeting_access(
            session,
            deps,
            context,
            _button_meeting(body),
        )
        view, _form = _slots_view(session, deps, t, access, meeting)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return forms.id_value(raw)


@listener("modal")
def submit_slots(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    """Save the page's slots. A page with more after it answers with the next page (the
    modal updated in place); the last page closes and the coordinator gets the note. The
    agenda, the previews and the morning DMs are refreshed after every page."""
    meta = ViewMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    page = meta.page_number()
    if page is None:
        raise slot_service.SlotsPageGone()
    values = view["state"]["values"]
    drafts = []
    for block_id in values:
        kind, _, raw = block_id.partition(":")
        item_id = forms.id_value(raw)
        if kind == "place" and item_id is not None:
            drafts.append(
                slot_service.SlotDraft(
                    item_id=item_id,
                    place=_int(forms.selected(values, block_id)),
                    minutes=_int(forms.text(values, slot_service.minutes_field(item_id))),
                )
            )
    following: Block | None = None
    with database_errors(), transaction(deps.sessions) as session:
        access, meeting = meeting_access(
            session,
            deps,
            context,
            meta.meeting_id or 0,
        )
        saved = slot_service.save_slots(
            session,
            deps.clock,
            access=access,
            meeting_id=meeting.id,
            drafts=drafts,
            link=forms.text(values, "meeting_link"),
            default=_int(forms.text(values, "slot_default")),
        )
        # The posted agenda, the previews and the morning DMs, updated in place; the
        # coordinator's note (or the next page) in the same transaction.
        outgoing.refresh_agenda(
            session, deps.clock, meeting, access.forum, locale_of=outgoing.dm_locales(deps)
        )
        page_items = [d.item_id for d in drafts]
        kept = [item for item in page_items if item not in saved.moved]
        after = kept or page_items
        # The next page is built (the agenda, its automatic items collected) only when the
        # order just saved has one: the last page closes without building it again.
        if slot_service.slots_page(saved.slots, page=page + 1, after=after, skip=page_items).shown:
            next_view, next_form = _slots_view(
                session,
                deps,
                t,
                access,
                meeting,
                page=page + 1,
                after=after,
                skip=page_items,
                saved=ui.slots_saved_text(t),
            )
            if next_form.shown:
                following = next_view
        if following is None:
            # Cases put on the agenda while the modal was open (collected now, after the
            # order was saved: idempotent) had no page: say so.
            agenda_service.collect(session, deps.clock, meeting, access.forum)
            known = {s.item_id for s in saved.slots}
            added = sum(
                1
                for s in slot_service.slots_for(session, meeting, access.forum)
                if s.item_id not in known
            )
            outgoing.tell(
                session,
                deps.clock,
                team_id=context.team_id,
                user_id=context.user_id or "",
                text=ui.slots_saved_text(t, added=added),
            )
    if following is not None:
        ack(response_action="update", view=following)
    else:
        ack()


@listener("log")
def deliver(client: WebClient, deps: Deps) -> None:
    """After a saved modal: send what its transaction queued (the scheduler would, later)."""
    outgoing.deliver_now(deps, client)


# --- minutes ----------------------------------------------------------------------------------


# Slack keeps at most 3000 characters of a modal's private metadata.
METADATA_MAX = 3000


def _minutes_view(
    t: Translator,
    access: Access,
    form: minutes_service.MinutesPage,
    *,
    zone: dt.tzinfo,
    saved: str | None = None,
    tally: str | None = None,
    names: dict[str, str] | None = None,
) -> Block:
    """One page of the minutes; ``tally``: the pages saved so far, packed
    (:func:`domain.minutes.pack_tally`); ``names``: of the owners offered
    (:func:`owner_names`)."""
    meta = ViewMeta(
        locale=t.locale, forum_id=access.forum.id, meeting_id=form.meeting.id, page=form.page
    )
    if tally is not None:
        counted = meta.model_copy(update={"tally": tally})
        # Packed, a tally of thousands of cases still fits; one that does not (tens of
        # thousands) is left out rather than the page failing: the last page's note then
        # counts the pages from there on.
        if len(counted.dump()) <= METADATA_MAX:
            meta = counted
    return ui.minutes_modal(
        t,
        forum_name=access.forum.name,
        starts_at=form.meeting.starts_at,
        zone=zone,
        page=form,
        private_metadata=meta.dump(),
        saved=saved,
        names=names,
    )


def owner_names(
    deps: Deps, client: WebClient, team_id: str | None, form: minutes_service.MinutesPage
) -> dict[str, str]:
    """What Slack calls the owners the page offers (after the transaction)."""
    users = [o.slack_user_id for c in form.cases for o in c.owners or ()]
    return member_names(deps, client, team_id, users) if users else {}


@listener("dm")
def open_minutes(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    meeting_id = _button_meeting(body)
    with database_errors(), transaction(deps.sessions) as session:
        access, meeting = meeting_access(
            session,
            deps,
            context,
            meeting_id,
            surface_name=minutes_service.MINUTES_SURFACE,
        )
        form = minutes_service.minutes_form(
            session, deps.clock, access=access, meeting_id=meeting.id
        )
        zone = forum_service.forum_schedule(access.forum).zone
    names = owner_names(deps, client, context.team_id, form)
    view = _minutes_view(t, access, form, zone=zone, names=names)
    client.views_open(trigger_id=body["trigger_id"], view=view)


@listener("modal")
def submit_minutes(
    ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    """Save the page's minutes. A page with more after it answers with the next page (the
    modal updated in place); the last page closes and the coordinator gets the note."""
    meta = ViewMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    page = meta.page_number()
    if page is None:
        raise minutes_service.MinutesPageGone()
    values = view["state"]["values"]
    case_ids = sorted(
        {
            item_id
            for block_id in values
            for kind, _, raw in [block_id.partition(":")]
            if kind in ("decision", "follow_up", "action", "owner", "due")
            for item_id in forms.id_values([raw])
        }
    )
    drafts = [
        minutes_service.MinuteDraft(
            case_id=case_id,
            decision=forms.text(values, minutes_service.decision_field(case_id)),
            follow_up_on=forms.date_value(values, minutes_service.follow_up_field(case_id)),
            action_text=forms.text(values, minutes_service.action_field(case_id)),
            action_owner=forms.selected(values, minutes_service.owner_field(case_id)),
            action_due=forms.date_value(values, minutes_service.due_field(case_id)),
        )
        for case_id in case_ids
    ]
    # The page as submitted (the modal's id and hash): the same submission again creates
    # no second action (domain.minutes.action_key).
    submission = f"{view.get('id') or ''}:{view.get('hash') or ''}"
    following: tuple[minutes_service.MinutesPage, dt.tzinfo, str, str] | None = None
    with database_errors(), transaction(deps.sessions) as session:
        access, meeting = meeting_access(
            session,
            deps,
            context,
            meta.meeting_id or 0,
            surface_name=minutes_service.MINUTES_SURFACE,
        )
        # The page first (the meeting's minutes locked: a twin of this submission waits and
        # then finds what this one saved), then the next page as it stands (its decisions
        # disclosed, audited, only when it is shown: a refused save reads nothing more).
        recorded = minutes_service.record_minutes(
            session,
            deps.clock,
            access=access,
            meeting_id=meeting.id,
            drafts=drafts,
            notify=False,
            submission=submission,
        )
        if recorded.next_agenda is not None:
            # Cases minuted here came off the next agenda (carried over before the minutes
            # said they were discussed): its posted agenda and previews follow.
            outgoing.publish_changes(deps, session, recorded.next_agenda, access.forum)
        # Each new action's owner gets the DM the action modal sends (in this transaction:
        # an outage delays it, never loses it); a replayed page created none, so it queues
        # nothing. The recorder's confirmation is the page's note, which counts them.
        for action_id in recorded.new_actions:
            outgoing.action_created(
                session,
                deps,
                client,
                access,
                action_id,
                team_id=context.team_id,
                by=context.user_id or "",
            )
        next_form = minutes_service.minutes_form(
            session,
            deps.clock,
            access=access,
            meeting_id=meeting.id,
            page=page + 1,
            after=case_ids,
        )
        saved = ui.minutes_saved_text(
            t,
            references=recorded.references,
            actions=len(recorded.actions),
            follow_ups=[ref for ref, _m in recorded.follow_ups],
        )
        # Every page of this modal so far: the pages before carried in its metadata.
        earlier = minutes_service.unpack_tally(session, meeting, meta.tally)
        tally = earlier.plus(recorded)
        # The next page's banner and the last page's note count every page so far.
        if earlier != minutes_service.Tally():  # pages before this one saved some
            total = minutes_service.summarize(
                session, access=access, meeting_id=meeting.id, tally=tally
            )
            saved = ui.minutes_saved_text(
                t,
                references=total.references,
                actions=total.actions,
                follow_ups=total.follow_ups,
            )
        if next_form.cases:
            zone = forum_service.forum_schedule(access.forum).zone
            packed = minutes_service.pack_tally(session, meeting, tally)
            following = (next_form, zone, saved, packed)
        else:
            # The last page: the channel's notice (once a meeting, every page's cases) and
            # the coordinator's note of every page (once for this submission as typed,
            # however often it comes; the page saved again with its fields retyped, after
            # Slack gave up on the first answer, gets a note of its own).
            minutes_service.close_minutes(session, deps.clock, access=access, meeting_id=meeting.id)
            typed = f"{submission}\x1f{drafts!r}"
            outgoing.tell(
                session,
                deps.clock,
                team_id=context.team_id,
                user_id=context.user_id or "",
                text=saved,
                key=f"saved:{minutes_service.page_key(meeting.id, typed)}",
            )
    if following is not None:
        # The next page's owners named after the transaction (Slack is never asked in one).
        next_form, next_zone, saved, packed = following
        names = owner_names(deps, client, context.team_id, next_form)
        ack(
            response_action="update",
            view=_minutes_view(
                t, access, next_form, zone=next_zone, saved=saved, tally=packed, names=names
            ),
        )
    else:
        ack()


@listener("log")
def close_minutes(
    client: WebClient, view: dict[str, Any], context: BoltContext, deps: Deps
) -> None:
    """The minutes closed on a later page (``notify_on_close``): the pages before it were
    saved, so the channel gets its notice now rather than never."""
    meta = ViewMeta.load(view.get("private_metadata"))
    with database_errors(), transaction(deps.sessions) as session:
        access, meeting = meeting_access(
            session,
            deps,
            context,
            meta.meeting_id or 0,
            surface_name=minutes_service.MINUTES_SURFACE,
        )
        minutes_service.close_minutes(session, deps.clock, access=access, meeting_id=meeting.id)
    outgoing.deliver_now(deps, client)


def register(app: App) -> None:
    app.action(ui.ACTION_SLOTS_OPEN)(ack=ack_only, lazy=[open_slots])
    app.view(ui.CB_SLOTS)(ack=submit_slots, lazy=[deliver])
    app.action(ui.ACTION_MINUTES_OPEN)(ack=ack_only, lazy=[open_minutes])
    app.view(ui.CB_MINUTES)(ack=submit_minutes, lazy=[deliver])
    app.view_closed(ui.CB_MINUTES)(ack=ack_only, lazy=[close_minutes])
