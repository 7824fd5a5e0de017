"""Whether the bot can post in a forum's channel, as the last post there showed.

A post Slack refuses because the bot was removed from the channel (``not_in_channel``),
the channel was archived (``is_archived``) or cannot be seen any more
(``channel_not_found``: deleted, or a private channel the bot was removed from) will not go
through on a retry either. The forum keeps that refusal (``settings["channel_refused"]``:
the error and when it was seen) so the forum's summary, its settings, App Home and the menu
can say that agendas and reminders do not reach the channel, and what to do. It is cleared
when a later post there goes through, or when Slack says the bot was invited back or the
channel was unarchived (handlers/events.py). Each change tells its caller which forum
changed, so the App Home of its members is published anew (the Home shows the state and
Slack keeps a Home as last published): only on a change, not on every post.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.clock import Clock
from domain.locks import lock_forum_settings, update_forum_settings
from storage.models import Forum

REFUSED_KEY = "channel_refused"
# Refusals a post to the channel meets until someone acts (invites the bot, unarchives).
UNREACHABLE = frozenset({"not_in_channel", "is_archived", "channel_not_found"})


def _is_channel(channel: str) -> bool:
    """A conversation that can be a forum's channel: not a user's id (a DM's recipient) nor
    a DM (``D…``). Saves the lookup for the many DMs the outbox sends."""
    return bool(channel) and channel[0] not in "UWD"


def channel_refused(forum: Forum) -> str | None:
    """Slack's error for the last post to the forum's channel that was refused for good
    (one of :data:`UNREACHABLE`); None when the channel is reachable as far as we know."""
    return _refused_in(forum.settings)


def _refused_in(settings: dict[str, Any] | None) -> str | None:
    state = (settings or {}).get(REFUSED_KEY)
    code = state.get("code") if isinstance(state, dict) else None
    return code if code in UNREACHABLE else None


def _locked(session: Session, team_id: str, channel_id: str) -> Forum | None:
    """The channel's forum, its row locked and its settings read as they stand (a forum
    save committing in between, with its calendar settings, is waited for and read), so
    what is decided from the refusal recorded is decided on the row :func:`_set` writes."""
    forum = session.scalar(
        select(Forum).where(Forum.team_id == team_id, Forum.channel_id == channel_id)
    )
    if forum is not None:
        lock_forum_settings(session, forum)
    return forum


def _set(session: Session, forum: Forum, state: dict[str, Any] | None) -> None:
    update_forum_settings(session, forum, {REFUSED_KEY: state})  # None: cleared


def note_delivery(
    session: Session,
    clock: Clock,
    *,
    team_id: str | None,
    channel: str,
    error: str | None,
) -> int | None:
    """After a call to ``channel`` was settled: ``error`` is Slack's refusal (None: it went
    through). Records a refusal in :data:`UNREACHABLE` on the channel's forum and clears
    the record when a post went through; anything else leaves it as it is. Returns the
    forum's id when its state changed (its members' App Home shows it), else None."""
    if not team_id or not _is_channel(channel):
        return None
    if error is not None and error not in UNREACHABLE:
        return None
    # Most posts change nothing: a plain read first, the row locked only for a change.
    row = session.execute(
        select(Forum.settings).where(Forum.team_id == team_id, Forum.channel_id == channel)
    ).first()
    if row is None or _refused_in(row.settings) == error:
        return None
    forum = _locked(session, team_id, channel)
    if forum is None or channel_refused(forum) == error:
        return None  # another post noted it meanwhile
    _set(
        session, forum, None if error is None else {"code": error, "since": clock.now().isoformat()}
    )
    return forum.id


def mark_reachable(session: Session, *, team_id: str, channel_id: str) -> Forum | None:
    """The bot was invited back to the channel, or it was unarchived: the refusal recorded
    for its forum is cleared. Returns the forum when there was one to clear."""
    forum = _locked(session, team_id, channel_id)
    if forum is None or channel_refused(forum) is None:
        return None
    _set(session, forum, None)
    return forum


def mark_archived(session: Session, clock: Clock, *, team_id: str, channel_id: str) -> Forum | None:
    """Slack said the forum's channel was archived: posts there will be refused. Returns
    the forum when that is news (it was not recorded as archived already)."""
    forum = _locked(session, team_id, channel_id)
    if forum is None or channel_refused(forum) == "is_archived":
        return None
    _set(session, forum, {"code": "is_archived", "since": clock.now().isoformat()})
    return forum
