"""Listeners for forum set-up, settings and members. Parse → ack → domain → render."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, ValidationError
from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import forums as forum_service
from domain import scheduling
from domain.calendar import calendar_from_settings
from domain.errors import DomainError, ForumExists, InvalidInput
from domain.forums import ForumDraft
from domain.i18n import N_, Locale, Translator
from handlers import forms, outgoing
from handlers.blocks import forum as ui
from handlers.blocks.common import message
from handlers.deps import CommandRequest, Deps
from handlers.errors import database_errors, error_text, failure_text, view_errors
from handlers.metadata import ViewMeta
from handlers.outgoing import (
    announcement,
    announcement_key,
    queue_announcement_update,
)
from handlers.payload import ack_only, team_of
from handlers.screens import summarize
from storage.db import transaction
from storage.models import Forum, OutboxMessage, OutboxStatus, Role

log = logging.getLogger(__name__)

MSG_TAKEN = N_("That forum or code was just taken by someone else. Choose another code.")
MSG_UNKNOWN_USER = N_("{user} is not a person in this workspace (or is a bot).")
MSG_CHECK_FAILED = N_("Slack could not check these people just now. Please try again.")
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


class MoveMeta(BaseModel):
    """``private_metadata`` of the confirm-move modal: what the coordinator asked to add."""

    locale: Locale = "sv"
    forum_id: int = 0
    users: list[str] = []
    agency_id: int = 0
    role: str = "member"
    version: int = 0

    @classmethod
    def load(cls, raw: str | None) -> MoveMeta:
        try:
            return cls.model_validate_json(raw or "{}")
        except ValidationError:
            return cls()


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
    rows = [
        ui.MemberRow(m.id, m.slack_user_id, m.agency.name, m.role.value)
        for m in forum_service.active_members(session, forum)
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


# --- the channel announcement, kept current ------------------------------------------------


def announce_member_count(deps: Deps, client: WebClient, context: Any) -> None:
    """Lazy listener after members were added: send the announcement's update now."""
    if context.get("samverkan_announce"):
        outgoing.deliver_now(deps, client)


# --- entry points used by the command router ---------------------------------------------


def open_create_modal(deps: Deps, client: WebClient, t: Translator, req: CommandRequest) -> None:
    team_id, channel_id, trigger_id = req.team_id, req.channel_id, req.trigger_id
    with database_errors(), transaction(deps.sessions) as session:
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
            summary = summarize(session, deps, forum, user_id=req.user_id)
            return message(forum.name, ui.forum_summary_blocks(t, summary))
        meta = ViewMeta(locale=t.locale, channel_id=req.channel_id, forum_id=forum.id)
        view = ui.forum_modal(t, draft_of(forum), private_metadata=meta.dump(), editing=True)
    client.views_open(trigger_id=req.trigger_id, view=view)
    return None


def open_members(deps: Deps, client: WebClient, t: Translator, req: CommandRequest) -> None:
    with database_errors(), transaction(deps.sessions) as session:
        forum = forum_service.require_forum(session, team_id=req.team_id, channel_id=req.channel_id)
        view = members_view(session, t, forum, actor=req.user_id)
    client.views_open(trigger_id=req.trigger_id, view=view)


# --- listeners ------------------------------------------------------------------------------


def register(app: App, deps: Deps) -> None:
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

    app.action(ui.ACTION_TEMPLATE)(ack=ack_only, lazy=[choose_template])

    def submit_create(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any) -> None:
        meta = ViewMeta.load(view.get("private_metadata"))
        t = Translator(meta.locale)
        draft = forms.forum_draft(view["state"]["values"])
        ids = forms.block_ids(view)
        if not meta.channel_id:
            ack(response_action="errors", errors=view_errors(t, InvalidInput(), ids))
            return
        taken = InvalidInput(MSG_TAKEN, field="code")
        try:
            with database_errors(on_conflict=taken), transaction(deps.sessions) as session:
                forum = forum_service.create_forum(
                    session,
                    deps.clock,
                    team_id=team_of(body),
                    channel_id=meta.channel_id,
                    actor=body["user"]["id"],
                    draft=draft,
                    timezone=deps.timezone,
                    language=deps.default_locale,
                )
        except DomainError as exc:
            exc = forms.schedule_errors(exc, view["state"]["values"])
            ack(response_action="errors", errors=view_errors(t, exc, ids, version=meta.version))
            return
        context["samverkan_forum_id"] = forum.id
        ack()

    def announce_forum(body: dict[str, Any], client: WebClient, context: Any) -> None:
        forum_id = context.get("samverkan_forum_id")
        if forum_id is None:
            return  # the submission was refused; nothing to announce
        user_id = body["user"]["id"]
        t = Translator(ViewMeta.load(body["view"].get("private_metadata")).locale)
        key = announcement_key(forum_id)
        try:
            # Through the outbox, so its ts is kept and the member count can be updated.
            with database_errors(), transaction(deps.sessions) as session:
                forum = forum_service.get_forum(session, forum_id=forum_id, team_id=team_of(body))
                scheduling.enqueue(
                    session,
                    deps.clock,
                    team_id=forum.team_id,
                    method="chat.postMessage",
                    payload=announcement(session, deps, forum),
                    dedupe_key=key,
                )
            outgoing.deliver_now(deps, client)
            with deps.sessions() as session:
                failed = session.scalar(
                    select(OutboxMessage.last_error).where(
                        OutboxMessage.dedupe_key == key,
                        OutboxMessage.status == OutboxStatus.FAILED,
                    )
                )
            if failed:
                raise RuntimeError(failed)
        except Exception as exc:  # the forum exists; tell its creator what did not happen
            log.warning("could not announce forum %s: %s", forum_id, exc)
            outgoing.tell_now(deps, client, team_of(body), user_id, failure_text(t, exc))

    app.view(ui.CB_FORUM_CREATE)(ack=submit_create, lazy=[announce_forum])

    @app.view(ui.CB_FORUM_EDIT)
    def submit_edit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = ViewMeta.load(view.get("private_metadata"))
        t = Translator(meta.locale)
        draft = forms.forum_draft(view["state"]["values"])
        ids = forms.block_ids(view)
        taken = InvalidInput(MSG_TAKEN, field="code")
        try:
            with database_errors(on_conflict=taken), transaction(deps.sessions) as session:
                forum = forum_service.save_forum_settings(
                    session,
                    deps.clock,
                    forum_id=meta.forum_id or 0,
                    team_id=team_of(body),
                    actor=body["user"]["id"],
                    draft=draft,
                )
                queue_announcement_update(session, deps, forum)
        except DomainError as exc:
            exc = forms.schedule_errors(exc, view["state"]["values"])
            ack(response_action="errors", errors=view_errors(t, exc, ids))
            return
        ack()

    def push_members(body: dict[str, Any], client: WebClient) -> None:
        meta = ViewMeta.load(body["view"].get("private_metadata"))
        t = Translator(meta.locale)
        try:
            with database_errors(), transaction(deps.sessions) as session:
                forum = forum_service.get_forum(
                    session, forum_id=meta.forum_id or 0, team_id=team_of(body)
                )
                view = members_view(session, t, forum, actor=body["user"]["id"])
            client.views_push(trigger_id=body["trigger_id"], view=view)
        except Exception as exc:
            log.info("could not open the members modal: %s", exc)
            outgoing.tell_now(deps, client, team_of(body), body["user"]["id"], failure_text(t, exc))

    app.action(ui.ACTION_OPEN_MEMBERS)(ack=ack_only, lazy=[push_members])

    def submit_members(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: Any
    ) -> None:
        meta = ViewMeta.load(view.get("private_metadata"))
        t = Translator(meta.locale)
        user_id = body["user"]["id"]
        values = view["state"]["values"]
        users = forms.selected_many(values, "users")
        ids = forms.block_ids(view)
        agency = forms.selected(values, "agency")
        agency_id = int(agency) if agency and agency.isdigit() else 0
        role_value = forms.selected(values, "role") or "member"
        try:
            role = Role(role_value)
        except ValueError:
            role = Role.MEMBER
        try:
            check_people(client, users)
            with database_errors(), transaction(deps.sessions) as session:
                forum = forum_service.get_forum(
                    session, forum_id=meta.forum_id or 0, team_id=team_of(body)
                )
                forum_service.add_members(
                    session,
                    deps.clock,
                    forum=forum,
                    actor=user_id,
                    slack_user_ids=users,
                    agency_id=agency_id,
                    role=role,
                    bot_user_ids=[context.get("bot_user_id") or ""],
                )
                notice = t.ngettext("Added {n} member.", "Added {n} members.", len(users))
                # A new version: the people picker and the choices start empty again.
                updated = members_view(
                    session, t, forum, actor=user_id, notice=notice, version=meta.version + 1
                )
                context["samverkan_announce"] = queue_announcement_update(session, deps, forum)
        except forum_service.MoveNeedsConfirmation as exc:
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
        except DomainError as exc:
            ack(response_action="errors", errors=view_errors(t, exc, ids, version=meta.version))
            return
        ack(response_action="update", view=updated)

    app.view(ui.CB_MEMBERS)(
        ack=submit_members,
        lazy=[lambda client, context: announce_member_count(deps, client, context)],
    )

    def submit_move(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any) -> None:
        """The coordinator confirmed the move: add with the moves, back to the list."""
        meta = MoveMeta.load(view.get("private_metadata"))
        t = Translator(meta.locale)
        user_id = body["user"]["id"]
        try:
            with database_errors(), transaction(deps.sessions) as session:
                forum = forum_service.get_forum(
                    session, forum_id=meta.forum_id, team_id=team_of(body)
                )
                forum_service.add_members(
                    session,
                    deps.clock,
                    forum=forum,
                    actor=user_id,
                    slack_user_ids=meta.users,
                    agency_id=meta.agency_id,
                    role=Role(meta.role) if meta.role in ui.ROLE_VALUES else Role.MEMBER,
                    bot_user_ids=[context.get("bot_user_id") or ""],
                    confirm_moves=True,
                )
                notice = t.ngettext("Added {n} member.", "Added {n} members.", len(meta.users))
                updated = members_view(
                    session, t, forum, actor=user_id, notice=notice, version=meta.version + 1
                )
                context["samverkan_announce"] = queue_announcement_update(session, deps, forum)
        except DomainError as exc:
            ack(response_action="update", view=ui.notice_modal(t, failure_text(t, exc)))
            return
        context["samverkan_members_view"] = updated
        ack()  # back to the members modal, which the lazy listener refreshes

    def refresh_members(body: dict[str, Any], client: WebClient, context: Any) -> None:
        updated = context.get("samverkan_members_view")
        parent = body["view"].get("previous_view_id")
        if updated is None or not parent:
            return
        try:
            client.views_update(view_id=parent, view=updated)
        except SlackApiError as exc:
            log.info("members modal not refreshed: %s", exc.response.get("error"))

    app.view(ui.CB_MEMBERS_MOVE)(
        ack=submit_move,
        lazy=[
            refresh_members,
            lambda client, context: announce_member_count(deps, client, context),
        ],
    )

    def remove_member(body: dict[str, Any], client: WebClient) -> None:
        view = body["view"]
        meta = ViewMeta.load(view.get("private_metadata"))
        t = Translator(meta.locale)
        user_id = body["user"]["id"]
        member_id = int(body["actions"][0].get("value") or 0)
        announce = False
        try:
            with database_errors(), transaction(deps.sessions) as session:
                forum = forum_service.get_forum(
                    session, forum_id=meta.forum_id or 0, team_id=team_of(body)
                )
                try:
                    removed = forum_service.remove_member(
                        session, deps.clock, forum=forum, actor=user_id, member_id=member_id
                    )
                    notice = t("<@{user}> is no longer a member.", user=removed.slack_user_id)
                    announce = queue_announcement_update(session, deps, forum)
                except DomainError as exc:
                    notice = ":warning: " + error_text(t, exc, mrkdwn=True)
            with database_errors(), transaction(deps.sessions) as session:
                forum = forum_service.get_forum(
                    session, forum_id=meta.forum_id or 0, team_id=team_of(body)
                )
                updated = members_view(
                    session, t, forum, actor=user_id, notice=notice, version=meta.version
                )
        except Exception as exc:  # e.g. they removed themselves: they may no longer look
            if not isinstance(exc, DomainError):
                log.exception("removing a member failed")
            updated = ui.notice_modal(t, failure_text(t, exc))
        try:
            client.views_update(view_id=view["id"], hash=view.get("hash"), view=updated)
        except SlackApiError as exc:  # hash_conflict: someone else changed the modal first
            log.info("members modal not updated: %s", exc.response.get("error"))
        if announce:
            outgoing.deliver_now(deps, client)

    app.action(ui.ACTION_REMOVE_MEMBER)(ack=ack_only, lazy=[remove_member])


USER_CHECK_SECONDS = 1.5
_user_checks = ThreadPoolExecutor(max_workers=8, thread_name_prefix="samverkan-users")


def check_people(client: WebClient, user_ids: list[str]) -> None:
    """Refuse anyone who is not an active human in the workspace; runs before the ack, so
    the lookups run in parallel, without retries, within a fixed time budget."""
    quick = WebClient(token=client.token, base_url=client.base_url, timeout=2)

    def look_up(user_id: str) -> dict[str, Any]:
        return dict(quick.users_info(user=user_id).get("user") or {})

    futures = {u: _user_checks.submit(look_up, u) for u in user_ids}
    deadline = time.monotonic() + USER_CHECK_SECONDS
    for user_id, future in futures.items():
        try:
            user = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except SlackApiError as exc:
            if exc.response.get("error") == "user_not_found":
                raise InvalidInput(MSG_UNKNOWN_USER, field="users", user=user_id) from None
            raise InvalidInput(MSG_CHECK_FAILED, field="users") from None
        except Exception:  # timeout or network: we could not check, the user may retry
            raise InvalidInput(MSG_CHECK_FAILED, field="users") from None
        if user.get("deleted") or user.get("is_bot") or user.get("id") == "USLACKBOT":
            name = user.get("real_name") or user.get("name") or user_id
            raise InvalidInput(MSG_UNKNOWN_USER, field="users", user=name)
