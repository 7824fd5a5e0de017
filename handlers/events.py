"""Events API listeners: channel membership and App Home."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from domain import forums as forum_service
from domain import scheduling
from domain.i18n import Translator
from handlers import outgoing
from handlers.blocks import forum as ui
from handlers.deps import Deps
from handlers.errors import database_errors
from handlers.listener import listener, needing
from handlers.outgoing import queue_announcement_update
from handlers.payload import ack_only
from handlers.screens import home_view, refresh_forum_homes, refresh_home
from storage.db import reading, transaction
from storage.models import Forum

log = logging.getLogger(__name__)


def _workspace(event: dict[str, Any], context: BoltContext) -> str:
    """The workspace whose forum an event may change: the request's own (the installation
    Slack signed it for). The event body's ``team`` (the joining or leaving user's team,
    which another workspace's event can name) only where the request names none."""
    return context.team_id or str(event.get("team") or "")


@needing("event_user", "event_channel")
def member_left(event: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    # A read only: the event alone (which a crafted one can say as well, naming anyone) is a
    # hint. :func:`confirm_left`, after the answer, ends the membership once Slack confirms
    # the user is no longer in the channel. No Slack call here, before the answer: Slack
    # waits 3 seconds for it (then retries the event).
    team_id = _workspace(event, context)
    if context.bot_user_id and event["user"] == context.bot_user_id:
        # The bot itself removed: :func:`forget_introduction` checks with Slack after the
        # answer, so a hello may be said again when it is invited back.
        context[BOT_LEFT] = event["channel"]
        return
    with database_errors(), reading(deps.sessions) as session:
        forum = forum_service.forum_for_channel(
            session, team_id=team_id, channel_id=event["channel"]
        )
        member = (
            forum_service.find_member(session, forum=forum, slack_user_id=event["user"])
            if forum is not None
            else None
        )
    if member is not None:
        context[MEMBER_LEFT] = (event["channel"], event["user"])


# The channel and user a "member left" event names, when the user is an active member of
# the channel's forum: for :func:`confirm_left` to ask Slack about.
MEMBER_LEFT = "samverkan_member_left"


@listener("log")
def confirm_left(
    event: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    """After :func:`member_left` has answered: a member Slack confirms is no longer in the
    forum's channel loses access (the announcement's member count follows), and their App
    Home is published anew without the forum's cases and actions. A crafted event naming
    someone still in the channel changes nothing. Not before the answer: Slack waits 3
    seconds for it, and a rate-limited views.publish waits its Retry-After."""
    hint = context.get(MEMBER_LEFT)
    if not isinstance(hint, tuple) or len(hint) != 2:
        return
    channel, user_id = hint
    if not _user_out_of_channel(client, channel, user_id):
        return
    team_id = _workspace(event, context)
    with database_errors(), transaction(deps.sessions) as session:
        left = forum_service.member_left_channel(
            session, deps.clock, team_id=team_id, channel_id=channel, slack_user_id=user_id
        )
        forum = (
            forum_service.forum_for_channel(session, team_id=team_id, channel_id=channel)
            if left
            else None
        )
        if forum is not None:
            # The announcement's member count; the scheduler sends it with the outbox.
            queue_announcement_update(session, deps, forum)
    if left:  # their App Home no longer shows the forum's cases and actions
        refresh_home(deps, client, team_id, [user_id])


def _user_out_of_channel(client: WebClient, channel_id: str, user_id: str) -> bool:
    """Slack's own word (``conversations.members``, every page) that ``user_id`` is not in
    the channel; False when Slack cannot say (an outage, a rate limit: the member keeps
    access until a leave Slack confirms)."""
    cursor = ""
    try:
        while True:
            page = client.conversations_members(channel=channel_id, limit=1000, cursor=cursor)
            if user_id in (page.get("members") or []):
                return False
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return True
    except SlackApiError as exc:
        log.info("left the channel? not confirmed: %s", exc.response.get("error"))
        return False


# The channel the bot was removed from, for :func:`forget_introduction` to ask Slack about.
BOT_LEFT = "samverkan_bot_left"


def _introduction_key(team_id: str, channel: str) -> str:
    """The outbox key of the bot's hello in a channel: one per channel (not per event: a
    repeated or crafted "bot joined" event with a new ``event_ts`` says nothing again),
    freed by :func:`forget_introduction` when the bot has truly left the channel."""
    return f"introduction:{team_id}:{channel}"


@listener("log")
def forget_introduction(
    event: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    """After :func:`member_left` has answered: the bot removed from a channel (Slack
    confirms it is no longer in it) may say hello there again when it is invited back."""
    channel = context.get(BOT_LEFT)
    if not isinstance(channel, str) or not _bot_out_of_channel(client, channel):
        return
    key = outgoing.post_key(_introduction_key(_workspace(event, context), channel))
    with database_errors(), transaction(deps.sessions) as session:
        scheduling.retire(session, key)


# The channel a "bot joined" event names, when its forum has a refusal recorded: for
# :func:`confirm_invited_back` to ask Slack about (the event alone is a hint).
INVITED_BACK = "samverkan_invited_back"


@needing("event_user", "event_channel")
def member_joined(event: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    # Joining the channel gives no access by itself: a coordinator adds members. The bot
    # itself invited back to a forum's channel that refused its posts: a hint, which
    # :func:`confirm_invited_back` checks with Slack after the answer (no Slack call here).
    if not context.bot_user_id or event["user"] != context.bot_user_id:
        return
    _introduce_in_new_channel(event, context, deps)
    _note_refused_channel(event, context, deps)


# The channel the bot was invited to when it has no forum: :func:`introduce` says hello
# there after the answer, once Slack confirms the bot is in it.
NEW_CHANNEL = "samverkan_new_channel"


def _introduce_in_new_channel(event: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    """The bot invited to a channel with no forum yet (a read only; no Slack call before
    the answer): noted for :func:`introduce`. Not where another workspace's forum meets (a
    channel shared with it): "no forum in this channel yet" would be wrong there."""
    with database_errors(), reading(deps.sessions) as session:
        has_forum = forum_service.channel_has_forum(session, channel_id=event["channel"])
    if not has_forum:
        context[NEW_CHANNEL] = event["channel"]


@listener("log")
def introduce(event: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps) -> None:
    """After :func:`member_joined` has answered: in a channel it was just invited to that
    has no forum, the bot says what it is and how to set up a forum there (the admin who
    installed it was otherwise told nothing). Once per event (a retried event queues
    nothing more), in the workspace's language, and only where Slack confirms the bot is.
    Once per channel: again only after the bot truly left it (:func:`forget_introduction`)."""
    channel = context.get(NEW_CHANNEL)
    if not isinstance(channel, str) or not _bot_in_channel(client, channel):
        return
    team_id = _workspace(event, context)
    key = _introduction_key(team_id, channel)
    with database_errors(), transaction(deps.sessions) as session:
        if forum_service.channel_has_forum(session, channel_id=channel):
            return  # set up meanwhile: its announcement says it all
        outgoing.post(
            session,
            deps.clock,
            team_id=team_id,
            channel=channel,
            message=ui.introduction_message(Translator(deps.default_locale)),
            key=key,
        )
    outgoing.deliver_now(deps, client)


def _note_refused_channel(event: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    """The event's channel, for :func:`confirm_invited_back`, when its forum has a refusal
    recorded (a read only: the event alone, which a crafted one can say as well, is a hint)."""
    team_id = _workspace(event, context)
    with database_errors(), reading(deps.sessions) as session:
        forum = forum_service.forum_for_channel(
            session, team_id=team_id, channel_id=event["channel"]
        )
        refused = forum is not None and scheduling.channel_refused(forum) is not None
    if refused:
        context[INVITED_BACK] = event["channel"]


def _bot_in_channel(client: WebClient, channel_id: str) -> bool:
    """Slack's own word (``conversations.info``) that the bot is in the channel and it is
    not archived; False when Slack cannot say (a private channel the bot is not in is
    ``channel_not_found``; an outage or a rate limit: the next post that goes through
    clears the refusal anyway)."""
    try:
        channel = client.conversations_info(channel=channel_id).get("channel") or {}
    except SlackApiError as exc:
        log.info("invited back? not confirmed: %s", exc.response.get("error"))
        return False
    return bool(channel.get("is_member")) and not channel.get("is_archived")


def _bot_out_of_channel(client: WebClient, channel_id: str) -> bool:
    """Slack's own word that the bot is not in the channel (``conversations.info`` says it
    is no member, or a private channel is ``channel_not_found`` to it); False when Slack
    cannot say."""
    try:
        channel = client.conversations_info(channel=channel_id).get("channel") or {}
    except SlackApiError as exc:
        return bool(exc.response.get("error") == "channel_not_found")
    return not channel.get("is_member")


@listener("log")
def confirm_invited_back(
    event: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps
) -> None:
    """After :func:`member_joined` has answered: a signed event saying the bot joined the
    forum's channel (which a crafted one can say as well) clears the refusal recorded, and
    publishes the members' App Homes anew, only once Slack confirms the bot is in it."""
    channel = context.get(INVITED_BACK)
    if not isinstance(channel, str) or not _bot_in_channel(client, channel):
        return
    team_id = _workspace(event, context)
    with database_errors(), transaction(deps.sessions) as session:
        forum = scheduling.mark_reachable(session, team_id=team_id, channel_id=channel)
        forum_id = forum.id if forum is not None else None
    if forum_id is not None:
        refresh_forum_homes(deps, client, context.team_id or "", forum_id)


@needing("event_channel")
def channel_unarchived(event: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    """``channel_unarchive`` / ``group_unarchive``: posts may reach the forum's channel
    again, once Slack confirms it (:func:`confirm_invited_back`, after the answer)."""
    _note_refused_channel(event, context, deps)


@needing("event_channel")
def channel_archived(event: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    """``channel_archive`` / ``group_archive``: the forum's summary, settings, App Home and
    menu say so before the next agenda is refused."""
    with database_errors(), transaction(deps.sessions) as session:
        forum = scheduling.mark_archived(
            session, deps.clock, team_id=_workspace(event, context), channel_id=event["channel"]
        )
        _reach_changed(context, forum)


# The forum whose channel's reach the event changed, for :func:`refresh_reach_homes` (bolt
# copies the context for a lazy listener after the ack function has returned).
REACH_CHANGED = "samverkan_reach_changed"


def _reach_changed(context: BoltContext, forum: Forum | None) -> None:
    if forum is not None:
        context[REACH_CHANGED] = forum.id


@listener("log")
def refresh_reach_homes(client: WebClient, context: BoltContext, deps: Deps) -> None:
    """After the answer, and only when the event changed whether the bot can post in the
    forum's channel: its members' App Home, which says so, published anew (Slack keeps a
    Home as last published). Not before the answer, as :func:`confirm_left`."""
    forum_id = context.get(REACH_CHANGED)
    if isinstance(forum_id, int):
        refresh_forum_homes(deps, client, context.team_id or "", forum_id)


@listener("log", needs=("event_user",))
def home_opened(
    event: dict[str, Any], client: WebClient, context: BoltContext, deps: Deps, t: Translator
) -> None:
    if event.get("tab") not in (None, "home"):
        return
    user_id = event["user"]
    client.views_publish(user_id=user_id, view=home_view(deps, t, context.team_id or "", user_id))


def register(app: App) -> None:
    app.event("member_left_channel")(ack=member_left, lazy=[confirm_left, forget_introduction])
    app.event("member_joined_channel")(ack=member_joined, lazy=[confirm_invited_back, introduce])
    for unarchived in ("channel_unarchive", "group_unarchive"):
        app.event(unarchived)(ack=channel_unarchived, lazy=[confirm_invited_back])
    for archived in ("channel_archive", "group_archive"):
        app.event(archived)(ack=channel_archived, lazy=[refresh_reach_homes])
    app.event("app_home_opened")(ack=ack_only, lazy=[home_opened])
