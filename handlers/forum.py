"""Listeners for forum set-up, settings and members. Parse → ack → domain → render."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, NamedTuple

from pydantic import Field
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import forums as forum_service
from domain import ratings as rating_service
from domain import scheduling
from domain.calendar import calendar_from_settings
from domain.errors import DomainError, ForumExists, InvalidInput
from domain.forums import ForumDraft
from domain.i18n import N_, Locale, LocaleOf, Translator, recipient_translator, supported_locale
from handlers import forms, outgoing
from handlers.blocks import forum as ui
from handlers.blocks.common import escape, message
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors, error_text, failure_text
from handlers.listener import listener
from handlers.metadata import Id, Meta, ViewMeta
from handlers.outgoing import (
    announcement,
    announcement_key,
    announcement_update,
    queue_announcement_update,
)
from handlers.payload import ack_only
from handlers.screens import refresh_home, summarize
from storage.db import reading, transaction
from storage.models import Forum, OutboxMessage, OutboxStatus, Role

log = logging.getLogger(__name__)

MSG_TAKEN = N_("That forum or code was just taken by someone else. Choose another code.")
MSG_UNKNOWN_USER = N_("{user} is not a person in this workspace (or is a bot).")
MSG_CHECK_FAILED = N_("Slack could not check these people just now. Please try again.")
MSG_NO_CHANNEL = N_(
    "This form does not say which channel the forum is for. "
    "Close it and run /samverkan forum ny in the forum's channel."
)
MSG_NOT_A_CHANNEL = N_("A forum needs a channel of its own: run this in the forum's channel.")
MSG_INVITE_ME = N_("Invite me to the channel first (/invite @Samverkan), then try again.")


def draft_of(forum: Forum) -> ForumDraft:
    schedule = forum_service.forum_schedule(forum)
    calendar = calendar_from_settings(forum.settings)
    return ForumDraft(
        name=forum.name,
        code=forum.code,
        agencies=[a.name for a in forum_service.active_agencies(forum)],
        own_agency=None,
        rrule=forum.schedule_rrule,
        start=forum.meeting_start,
        end=schedule.end,
        areas=[a.name for a in forum_service.active_areas(forum)],
        template=forum.template,
        holiday_policy=calendar.holiday_policy.value,
        extra_days_off=sorted(calendar.extra_days_off),
        agenda_time=calendar.agenda_time,
        agenda_days_before=calendar.agenda_days_before,
    )


class MoveMeta(Meta):
    """``private_metadata`` of the confirm-move modal: what the coordinator asked to add."""

    locale: Locale = "sv"
    forum_id: Id = 0
    users: list[str] = Field(default_factory=list)
    agency_id: Id = 0
    role: str = "member"
    version: int = 0


def members_view(
    session: Session,
    t: Translator,
    forum: Forum,
    *,
    actor: str,
    notice: str | None = None,
    version: int = 0,
) -> dict[str, Any]:
    access = forum_service.require_member(session, forum=forum, slack_user_id=actor)
    members = forum_service.active_members(session, forum)
    removable = forum_service.removable(access, members)
    rows = [
        ui.MemberRow(m.id, m.slack_user_id, m.agency.name, m.role.value, m.id in removable)
        for m in members
    ]
    meta = ViewMeta(
        locale=t.locale, channel_id=forum.channel_id, forum_id=forum.id, version=version
    )
    return ui.members_modal(
        t,
        forum_name=forum.name,
        agencies=[(a.id, a.name) for a in forum_service.active_agencies(forum)],
        members=rows,
        private_metadata=meta.dump(),
        can_edit=access.is_coordinator,
        notice=notice,
        version=version,
    )


def welcome(
    session: Session, deps: Deps, forum: Forum, *, actor: str, locale_of: LocaleOf
) -> Callable[[str, str], None]:
    """``add_members``' ``joined``: a welcome DM to each person who joins, in their
    language, queued with the change (sent after the ack, once it is committed)."""
    cadence = rating_service.rating_settings(forum).cadence
    rates = cadence is not rating_service.Cadence.NONE
    return partial(_welcome_one, session, deps, forum, actor, locale_of, rates)


def _welcome_one(
    session: Session,
    deps: Deps,
    forum: Forum,
    actor: str,
    locale_of: LocaleOf,
    rates: bool,
    user: str,
    agency: str,
) -> None:
    t = recipient_translator(locale_of, forum, user)
    text = ui.welcome_text(
        t,
        forum=forum.name,
        agency=agency,
        channel_id=forum.channel_id,
        added_by=actor,
        rates=rates,
    )
    outgoing.tell(session, deps.clock, team_id=forum.team_id, user_id=user, text=text)


# --- the channel announcement, kept current ------------------------------------------------


# --- entry points used by the command router ---------------------------------------------


def open_create_modal(deps: Deps, client: WebClient, t: Translator, req: CommandRequest) -> None:
    team_id, channel_id, trigger_id = req.team_id, req.channel_id, req.trigger_id
    with database_errors(), reading(deps.sessions) as session:
        existing = forum_service.forum_for_channel(session, team_id=team_id, channel_id=channel_id)
        if existing is not None:
            raise ForumExists(name=existing.name)
    require_bot_in_channel(client, channel_id)
    meta = ViewMeta(locale=t.locale, channel_id=channel_id)
    draft = forum_service.draft_from_template(None)
    client.views_open(
        trigger_id=trigger_id,
        view=ui.forum_modal(t, draft, private_metadata=meta.dump(), editing=False),
    )


def require_bot_in_channel(client: WebClient, channel_id: str) -> None:
    """A forum lives in a channel the bot is in: only then does Slack tell it when members
    leave (so they lose access) and can it post there. Group DMs are not forums."""
    try:
        channel = client.conversations_info(channel=channel_id).get("channel") or {}
    except SlackApiError:
        channel = {}
    if channel.get("is_im") or channel.get("is_mpim"):
        raise InvalidInput(MSG_NOT_A_CHANNEL)
    if not channel.get("is_member"):
        raise InvalidInput(MSG_INVITE_ME)


def open_forum(
    deps: Deps, client: WebClient, t: Translator, req: CommandRequest
) -> dict[str, Any] | None:
    """Coordinators get the settings modal; members get the forum summary (returned)."""
    with database_errors(), transaction(deps.sessions) as session:
        access = forum_service.require_member_in_channel(
            session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
        )
        forum = access.forum
        if not access.is_coordinator:
            summary = summarize(
                session, deps, forum, user_id=req.user_id, with_representatives=True
            )
            return message(forum.name, ui.forum_summary_blocks(t, summary))
        meta = ViewMeta(locale=t.locale, channel_id=req.channel_id, forum_id=forum.id)
        refused = scheduling.channel_refused(forum)
        view = ui.forum_modal(
            t,
            draft_of(forum),
            private_metadata=meta.dump(),
            editing=True,
            notice=ui.channel_refused_text(t, refused, forum.channel_id) if refused else None,
        )
    client.views_open(trigger_id=req.trigger_id, view=view)
    return None


def open_members(deps: Deps, client: WebClient, t: Translator, req: CommandRequest) -> None:
    with database_errors(), reading(deps.sessions) as session:
        forum = forum_service.require_forum(session, team_id=req.team_id, channel_id=req.channel_id)
        view = members_view(session, t, forum, actor=req.user_id)
    client.views_open(trigger_id=req.trigger_id, view=view)


# --- listeners ------------------------------------------------------------------------------


@listener("log", needs=("modal",))
def choose_template(body: dict[str, Any], client: WebClient) -> None:
    view = body["view"]
    meta = ViewMeta.load(view.get("private_metadata"))
    key = (body["actions"][0].get("selected_option") or {}).get("value")
    meta.version += 1
    draft = forum_service.draft_from_template(key)
    t = Translator(meta.locale)
    try:
        client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=ui.forum_modal(
                t, draft, private_metadata=meta.dump(), editing=False, version=meta.version
            ),
        )
    except SlackApiError as exc:  # hash_conflict: a newer choice already updated it
        log.info("template not applied: %s", exc.response.get("error"))


@listener("modal")
def submit_create(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    """Create the forum and queue its channel announcement in the same transaction (through
    the outbox, so its ts is kept and the member count can be updated)."""
    meta = ViewMeta.load(view.get("private_metadata"))
    if not meta.channel_id:  # Slack's has the channel it was opened in (a crafted one not)
        raise InvalidInput(MSG_NO_CHANNEL)
    taken = InvalidInput(MSG_TAKEN, field="code")
    try:
        with database_errors(on_conflict=taken), transaction(deps.sessions) as session:
            forum = forum_service.create_forum(
                session,
                deps.clock,
                team_id=context.team_id or "",
                channel_id=meta.channel_id,
                actor=context.user_id or "",
                draft=forms.forum_draft(view["state"]["values"]),
                timezone=deps.timezone,
                language=deps.default_locale,
            )
            scheduling.enqueue(
                session,
                deps.clock,
                team_id=forum.team_id,
                method="chat.postMessage",
                payload=announcement(session, deps, forum),
                dedupe_key=announcement_key(forum.id),
            )
            tell_the_creator(session, deps, forum, actor=context.user_id or "", locale=meta.locale)
    except DomainError as exc:
        raise forms.schedule_errors(exc, view["state"]["values"]) from None
    remember_creators_language(deps, context.team_id, context.user_id or "")
    deps.forget_forum_codes()  # the help's example reference in its channel
    ack()


def tell_the_creator(
    session: Session, deps: Deps, forum: Forum, *, actor: str, locale: Locale
) -> None:
    """A DM to whoever set the forum up, in their language, queued with the forum (after
    its announcement): they are its admin, and what to do next."""
    creator = forum_service.find_member(session, forum=forum, slack_user_id=actor)
    if creator is None:
        return
    text = ui.creator_text(
        Translator(locale),
        forum=forum.name,
        agency=creator.agency.name,
        channel_id=forum.channel_id,
        has_areas=bool(forum.areas),
        rates=rating_service.rating_settings(forum).cadence is not rating_service.Cadence.NONE,
    )
    outgoing.tell(
        session,
        deps.clock,
        team_id=forum.team_id,
        user_id=actor,
        text=text,
        key=f"created:{forum.id}",
    )


def remember_creators_language(deps: Deps, team_id: str | None, user_id: str) -> None:
    """The creator is now a member: the language this request already knows of them (the
    command that opened the modal looked it up) is stored for the jobs and the other
    replicas, in the background, as the members modal stores what its check told; no
    Slack call in the ack. Unknown here (that lookup failed): the next refresh asks."""
    looked_up, locale = deps.remembered(team_id, user_id)
    if looked_up and user_id:
        deps.learned(team_id, {user_id: locale})


@listener("dm")
def announce_forum(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    """Send the announcement now; if Slack refused it, tell the forum's creator (read from
    the database: a refused submission created nothing)."""
    meta = ViewMeta.load(body["view"].get("private_metadata"))
    with database_errors(), reading(deps.sessions) as session:
        forum = forum_service.forum_for_channel(
            session, team_id=context.team_id or "", channel_id=meta.channel_id or ""
        )
        forum_id = forum.id if forum is not None else None
    if forum_id is None:
        return
    outgoing.deliver_now(deps, client)
    with reading(deps.sessions) as session:
        failed = session.scalar(
            select(OutboxMessage.last_error).where(
                OutboxMessage.dedupe_key == announcement_key(forum_id),
                OutboxMessage.status == OutboxStatus.FAILED,
            )
        )
    if failed:
        log.warning("could not announce forum %s: %s", forum_id, failed)
        t = Translator(meta.locale)
        text = failure_text(t, RuntimeError(failed))
        outgoing.tell_now(deps, client, context.team_id, context.user_id or "", text)


@listener("modal")
def submit_edit(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    meta = ViewMeta.load(view.get("private_metadata"))
    taken = InvalidInput(MSG_TAKEN, field="code")
    try:
        # Read from the form before the transaction: saves of one forum queue on the lock
        # the first statement takes (below), so as little as possible runs while it is held.
        draft = forms.forum_draft(view["state"]["values"])
        with database_errors(on_conflict=taken), transaction(deps.sessions) as session:
            # The announcement's update is queued with the forum's write, after the checks
            # (a refused save queues nothing): nothing is locked while the save reads and
            # checks, so saves of one forum queue only on their write.
            forum_service.save_forum_settings(
                session,
                deps.clock,
                forum_id=meta.forum_id or 0,
                team_id=context.team_id or "",
                actor=context.user_id or "",
                draft=draft,
                update=announcement_update(
                    team_id=context.team_id or "", forum_id=meta.forum_id or 0
                ),
            )
    except DomainError as exc:
        raise forms.schedule_errors(exc, view["state"]["values"]) from None
    deps.forget_forum_codes()  # the code may have changed: the help's example reference
    # Saved: the modal says so (a modal that just closed left the coordinator guessing).
    t = Translator(meta.locale)
    saved = t("Saved. The settings of {forum} are updated.", forum=escape(draft.name))
    ack(response_action="update", view=ui.notice_modal(t, saved))


@listener("dm", needs=("modal",))
def push_members(body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps) -> None:
    meta = ViewMeta.load(body["view"].get("private_metadata"))
    t = Translator(meta.locale)
    with database_errors(), reading(deps.sessions) as session:
        forum = forum_service.get_forum(
            session, forum_id=meta.forum_id or 0, team_id=context.team_id or ""
        )
        view = members_view(session, t, forum, actor=context.user_id or "")
    client.views_push(trigger_id=body["trigger_id"], view=view)


@listener("modal")
def submit_members(
    ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    meta = ViewMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    user_id = context.user_id or ""
    values = view["state"]["values"]
    users = forms.selected_many(values, "users")
    agency = forms.selected(values, "agency")
    agency_id = forms.id_value(agency) or 0
    role_value = forms.selected(values, "role") or "member"
    try:
        role = Role(role_value)
    except ValueError:
        role = Role.MEMBER
    try:
        # Their languages, told by the same lookups, for the DMs the scheduler sends them:
        # stored in the background, in a transaction of its own (no lookup later), once
        # the coordinator's door let the change in (a crafted submission by anyone else
        # stores nobody's language). The door is read first: a crafted submission naming
        # thousands of people by someone who is no coordinator asks Slack about nobody.
        with database_errors(), reading(deps.sessions) as session:
            door = forum_service.get_forum(
                session, forum_id=meta.forum_id or 0, team_id=context.team_id or ""
            )
            forum_service.require_coordinator(session, forum=door, slack_user_id=user_id)
            channel_id = door.channel_id
        checked = check_people(client, users, channel_id=channel_id)
        found = checked.languages
        with database_errors(), transaction(deps.sessions) as session:
            forum = forum_service.get_forum(
                session, forum_id=meta.forum_id or 0, team_id=context.team_id or ""
            )
            forum_service.add_members(
                session,
                deps.clock,
                forum=forum,
                actor=user_id,
                slack_user_ids=users,
                agency_id=agency_id,
                role=role,
                bot_user_ids=[context.bot_user_id or ""],
                # In the language the people check told (after the coordinator's door).
                joined=welcome(
                    session, deps, forum, actor=user_id, locale_of=lambda _, u: found.get(u)
                ),
            )
            in_channel = checked.in_channel
            notice = ui.added_notice(
                t,
                added=len(users),
                channel_id=forum.channel_id,
                outside=None
                if in_channel is None
                else [
                    u
                    for u in dict.fromkeys(users)
                    if u not in in_channel and u != context.bot_user_id
                ],
            )
            # A new version: the people picker and the choices start empty again.
            updated = members_view(
                session, t, forum, actor=user_id, notice=notice, version=meta.version + 1
            )
            # add_members holds the forum's row: wait for no deliverer
            queue_announcement_update(session, deps, forum, skip_locked=True)
        deps.learned(context.team_id, found)
    except forum_service.MoveNeedsConfirmation as exc:
        deps.learned(context.team_id, found)  # asked of a coordinator: the door let it in
        confirm = MoveMeta(
            locale=meta.locale,
            forum_id=meta.forum_id or 0,
            users=users,
            agency_id=agency_id,
            role=role.value,
            version=meta.version,
        )
        moves = [(m.slack_user_id, m.from_agency, m.to_agency) for m in exc.moves]
        ack(
            response_action="push",
            view=ui.confirm_move_modal(t, moves, private_metadata=confirm.model_dump_json()),
        )
        return
    ack(response_action="update", view=updated)


@listener("log")
def deliver(client: WebClient, deps: Deps) -> None:
    outgoing.deliver_now(deps, client)  # the announcement's update, queued with the change


@listener("modal")
def submit_move(ack: Ack, view: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    """The coordinator confirmed the move: add with the moves, back to the list."""
    meta = MoveMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    try:
        locale_of = outgoing.dm_locales(deps)
        with database_errors(), transaction(deps.sessions) as session:
            forum = forum_service.get_forum(
                session, forum_id=meta.forum_id, team_id=context.team_id or ""
            )
            actor = context.user_id or ""
            forum_service.add_members(
                session,
                deps.clock,
                forum=forum,
                actor=actor,
                slack_user_ids=meta.users,
                agency_id=meta.agency_id,
                role=Role(meta.role) if meta.role in ui.ROLE_VALUES else Role.MEMBER,
                bot_user_ids=[context.bot_user_id or ""],
                confirm_moves=True,
                locale_of=locale_of,
                joined=welcome(session, deps, forum, actor=actor, locale_of=locale_of),
            )
            # add_members holds the forum's row: wait for no deliverer
            queue_announcement_update(session, deps, forum, skip_locked=True)
    except DomainError as exc:
        ack(response_action="update", view=ui.notice_modal(t, failure_text(t, exc)))
        return
    ack()  # back to the members modal, which the lazy listener refreshes


@listener("log")
def refresh_members(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    """The members modal beneath shows who was added (read from the database: a refused
    move added no one), then the announcement's update goes out."""
    meta = MoveMeta.load(body["view"].get("private_metadata"))
    t = Translator(meta.locale)
    parent = body["view"].get("previous_view_id")
    with database_errors(), reading(deps.sessions) as session:
        forum = forum_service.get_forum(
            session, forum_id=meta.forum_id, team_id=context.team_id or ""
        )
        agency_of = {
            m.slack_user_id: m.agency_id for m in forum_service.active_members(session, forum)
        }
        added = bool(meta.users) and all(agency_of.get(u) == meta.agency_id for u in meta.users)
        notice = t.ngettext("Added {n} member.", "Added {n} members.", len(meta.users))
        updated = members_view(
            session,
            t,
            forum,
            actor=context.user_id or "",
            notice=notice,
            version=meta.version + 1,
        )
    if not added:
        return
    # Another agency sees other cases: their App Home as the new agency may see it.
    refresh_home(deps, client, context.team_id or "", list(meta.users))
    if parent:
        try:
            client.views_update(view_id=parent, view=updated)
        except SlackApiError as exc:
            log.info("members modal not refreshed: %s", exc.response.get("error"))
    outgoing.deliver_now(deps, client)


@listener("update", needs=("modal",))
def remove_member(
    body: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    view = body["view"]
    meta = ViewMeta.load(view.get("private_metadata"))
    t = Translator(meta.locale)
    context["t"] = t
    team_id, user_id = context.team_id or "", context.user_id or ""
    member_id = forms.id_value(body["actions"][0].get("value")) or 0
    announce = False
    gone: list[str] = []
    with database_errors(), transaction(deps.sessions) as session:
        forum = forum_service.get_forum(session, forum_id=meta.forum_id or 0, team_id=team_id)
        try:
            removed = forum_service.remove_member(
                session, deps.clock, forum=forum, actor=user_id, member_id=member_id
            )
            notice = t("<@{user}> is no longer a member.", user=removed.slack_user_id)
            announce = queue_announcement_update(session, deps, forum)
            gone = [removed.slack_user_id]
        except DomainError as exc:
            notice = ":warning: " + error_text(t, exc, mrkdwn=True)
    refresh_home(deps, client, team_id, gone)  # their Home no longer shows the forum
    # e.g. they removed themselves: they may no longer look (then a notice, the error path)
    with database_errors(), reading(deps.sessions) as session:
        forum = forum_service.get_forum(session, forum_id=meta.forum_id or 0, team_id=team_id)
        updated = members_view(
            session, t, forum, actor=user_id, notice=notice, version=meta.version
        )
    try:
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=updated)
    except SlackApiError as exc:  # hash_conflict: someone else changed the modal first
        log.info("members modal not updated: %s", exc.response.get("error"))
    if announce:
        outgoing.deliver_now(deps, client)


def register(app: App) -> None:
    app.action(ui.ACTION_TEMPLATE)(ack=ack_only, lazy=[choose_template])
    app.view(ui.CB_FORUM_CREATE)(ack=submit_create, lazy=[announce_forum])
    app.view(ui.CB_FORUM_EDIT)(submit_edit)
    app.action(ui.ACTION_OPEN_MEMBERS)(ack=ack_only, lazy=[push_members])
    app.view(ui.CB_MEMBERS)(ack=submit_members, lazy=[deliver])
    app.view(ui.CB_MEMBERS_MOVE)(ack=submit_move, lazy=[refresh_members])
    app.action(ui.ACTION_REMOVE_MEMBER)(ack=ack_only, lazy=[remove_member])


USER_CHECK_SECONDS = 1.5
_user_checks = ThreadPoolExecutor(max_workers=8, thread_name_prefix="samverkan-users")


def _look_up(client: WebClient, user_id: str) -> dict[str, Any]:
    # With their locale: the same call tells their language, kept for their DMs.
    return dict(client.users_info(user=user_id, include_locale=True).get("user") or {})


# The shape of a Slack user id (U… or W…, capitals and digits).
_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{1,30}")


class Checked(NamedTuple):
    """What the people check told: each person's language, and who is in the forum's
    channel (None when Slack could not tell within the budget)."""

    languages: dict[str, Locale | None]
    in_channel: frozenset[str] | None


def check_people(client: WebClient, user_ids: list[str], channel_id: str = "") -> Checked:
    """Refuse anyone who is not an active human in the workspace; runs before the ack, so
    the lookups run in parallel, without retries, within a fixed time budget. Returns each
    person's language (their Slack locale, None when it names none we have), which the
    same lookups tell, and who is in ``channel_id`` (one ``conversations.members``, page
    by page, alongside the lookups and within the same budget; None when it failed or ran
    out of time: the notice then names no one)."""
    for user_id in user_ids:
        if not _SLACK_USER_ID.fullmatch(user_id):
            # No one's id (empty, or not the shape of one, as only a crafted form sends):
            # told as not found rather than "Slack could not check", which asks to retry
            # what can never go through.
            raise InvalidInput(MSG_UNKNOWN_USER, field="users", user=user_id[:30] or "–")
    deadline = time.monotonic() + USER_CHECK_SECONDS
    quick = WebClient(token=client.token, base_url=client.base_url, timeout=2)
    stop = threading.Event()
    # Submitted first: it starts at once, not behind the people's lookups.
    channel = _user_checks.submit(_channel_members, quick, channel_id, stop) if channel_id else None
    futures = {u: _user_checks.submit(_look_up, quick, u) for u in dict.fromkeys(user_ids)}
    try:
        languages = _checked(futures, deadline)
        return Checked(languages, _members_by(channel, deadline))
    finally:  # refused or out of time: the lookups not begun are not made
        stop.set()  # nor the channel's next page
        for future in futures.values():
            future.cancel()
        if channel is not None:
            channel.cancel()


def _channel_members(client: WebClient, channel_id: str, stop: threading.Event) -> frozenset[str]:
    members: set[str] = set()
    cursor = ""
    while not stop.is_set():
        page = client.conversations_members(channel=channel_id, limit=1000, cursor=cursor)
        members.update(str(u) for u in page.get("members") or [])
        cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            return frozenset(members)
    raise TimeoutError("out of time before the channel's last page")


def _members_by(future: Future[frozenset[str]] | None, deadline: float) -> frozenset[str] | None:
    if future is None:
        return None
    try:
        return future.result(timeout=max(0.0, deadline - time.monotonic()))
    except Exception as exc:  # failed or out of time: the notice names no one
        log.info("channel members not told in time: %r", exc)
        return None


def _checked(
    futures: dict[str, Future[dict[str, Any]]], deadline: float
) -> dict[str, Locale | None]:
    found: dict[str, Locale | None] = {}
    for user_id, future in futures.items():
        try:
            user = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except SlackApiError as exc:
            if exc.response.get("error") in ("user_not_found", "invalid_arguments"):
                raise InvalidInput(MSG_UNKNOWN_USER, field="users", user=user_id) from None
            raise InvalidInput(MSG_CHECK_FAILED, field="users") from None
        except Exception:  # timeout or network: we could not check, the user may retry
            raise InvalidInput(MSG_CHECK_FAILED, field="users") from None
        if user.get("deleted") or user.get("is_bot") or user.get("id") == "USLACKBOT":
            name = user.get("real_name") or user.get("name") or user_id
            raise InvalidInput(MSG_UNKNOWN_USER, field="users", user=name)
        found[user_id] = supported_locale(user.get("locale"))
    return found
