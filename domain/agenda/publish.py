"""Posting the agenda once, updating it and refreshing coordinators' previews."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from domain import scheduling
from domain.agenda.base import AGENDA, PREVIEW, Agenda, PictureLoader, Render
from domain.agenda.build import build
from domain.clock import Clock
from domain.forums import coordinators
from domain.i18n import LocaleOf, Renders, Translator
from storage.models import (
    AgendaItem,
    EffectStatus,
    Forum,
    Meeting,
    MeetingStatus,
    OutboxMessage,
    ScheduledEffect,
)

# --- posting ----------------------------------------------------------------------------------


def _post_key(meeting_id: int, part: int) -> str:
    return f"agenda:{meeting_id}:p{part}"


def _update_key(meeting_id: int, version: int, part: int) -> str:
    return f"agenda:{meeting_id}:v{version}:p{part}"


def agenda_posted(session: Session, meeting: Meeting) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    ScheduledEffect.forum_id == meeting.forum_id,
                    ScheduledEffect.kind == AGENDA,
                    ScheduledEffect.subject == "",
                    ScheduledEffect.occurrence == meeting.occurrence,
                    ScheduledEffect.status == EffectStatus.DONE,
                )
            )
        )
    )


def _enqueue_post(
    session: Session, clock: Clock, agenda: Agenda, messages: list[dict[str, Any]]
) -> None:
    first = _post_key(agenda.meeting_id, 0)
    for part, message in enumerate(messages):
        payload: dict[str, Any] = {"channel": agenda.channel_id, **message}
        if part:
            # Continuations go in the first message's thread, after it and in order.
            payload[scheduling.AFTER] = _post_key(agenda.meeting_id, part - 1)
            payload[scheduling.FILL] = {"thread_ts": first}
        scheduling.enqueue(
            session,
            clock,
            team_id=agenda.team_id,
            method="chat.postMessage",
            payload=payload,
            dedupe_key=_post_key(agenda.meeting_id, part),
        )


def _posted_parts(session: Session, meeting_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).where(scheduling.key_starts(session, f"agenda:{meeting_id}:p"))
        )
        or 0
    )


def publish_update(
    session: Session,
    clock: Clock,
    meeting: Meeting,
    forum: Forum,
    render: Render,
    *,
    picture: PictureLoader | None = None,
) -> bool:
    """After a change to a posted agenda: update the posted messages in place (chat.update),
    once per version. Parts the new agenda no longer needs are emptied; extra parts are
    added to the thread. Returns False when nothing was posted yet."""
    if not agenda_posted(session, meeting) or not _posted_parts(session, meeting.id):
        return False  # not posted yet, or so long ago that retention removed its outbox rows
    # Every publication is a new version: each updates the posted messages exactly once.
    meeting.agenda_version = (meeting.agenda_version or 0) + 1
    session.flush()
    agenda = build(session, clock, meeting, forum, picture=picture)
    messages = render(agenda)
    posted = _posted_parts(session, meeting.id)
    version = agenda.version
    previous = _update_key(meeting.id, version - 1, 0) if version > 1 else _post_key(meeting.id, 0)
    for part in range(max(posted, len(messages))):
        if part < len(messages):
            message = messages[part]
        else:
            message = {
                "text": "…",
                "blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "…"}]}],
            }
        if part < posted:
            payload: dict[str, Any] = {
                "channel": forum.channel_id,
                **message,
                scheduling.FILL: {"ts": _post_key(meeting.id, part)},
                scheduling.AFTER: previous,
            }
            method = "chat.update"
            key = _update_key(meeting.id, version, part)
        else:
            payload = {
                "channel": forum.channel_id,
                **message,
                scheduling.AFTER: _post_key(meeting.id, part - 1),
                scheduling.FILL: {"thread_ts": _post_key(meeting.id, 0)},
            }
            method = "chat.postMessage"
            key = _post_key(meeting.id, part)
        scheduling.enqueue(
            session, clock, team_id=forum.team_id, method=method, payload=payload, dedupe_key=key
        )
    return True


def _preview_key(meeting_id: int, user: str) -> str:
    return f"{PREVIEW}:{meeting_id}:{user}"


class PreviewMessages:
    """A coordinator's preview of the agenda is their DM: in their language (the forum's
    when unknown), rendered once per language."""

    def __init__(
        self,
        agenda: Agenda,
        forum: Forum,
        render: Callable[[Agenda], dict[str, Any]],
        locale_of: LocaleOf | None,
    ) -> None:
        self._forum, self._locale_of = forum, locale_of
        self._renders = Renders()

        # This meeting's agenda only: the template is this preview's own (Renders keeps it
        # alive with its renderings, so no other agenda's preview shares them).
        def preview(t: Translator) -> dict[str, Any]:
            return render(dataclasses.replace(agenda, locale=t.locale))

        self._preview = preview

    def __call__(self, user: str) -> dict[str, Any]:
        return self._renders.to(self._locale_of, self._forum, user, self._preview)


def refresh_previews(
    session: Session,
    clock: Clock,
    meeting: Meeting,
    forum: Forum,
    render: Callable[[Agenda], dict[str, Any]],
    *,
    picture: PictureLoader | None = None,
    locale_of: LocaleOf | None = None,
) -> int:
    """Bring the coordinators' preview DMs of this meeting up to date in place (each in its
    coordinator's language, ``locale_of``) (chat.update
    through the outbox, after the preview and any earlier update): after a change to the
    agenda, or when the rating round closes and the picture is there; a cancelled meeting's
    preview says so (as its posted agenda does), without the buttons to change it. Only the
    forum's coordinators' now. Returns how many."""
    if meeting.status not in (MeetingStatus.PLANNED, MeetingStatus.CANCELLED):
        return 0
    sent = session.execute(
        select(OutboxMessage.dedupe_key).where(
            scheduling.key_starts(session, f"{PREVIEW}:{meeting.id}:"),
            OutboxMessage.method == "chat.postMessage",
        )
    ).all()
    if not sent:
        return 0
    # Only a coordinator's still: one removed from the forum, or a member only now, keeps
    # the preview as it was and hears no more of the agenda from it.
    current = set(coordinators(session, forum.id))
    keys = [key for (key,) in sent if key.rsplit(":", 1)[-1] in current]
    if not keys:
        return 0
    agenda = build(session, clock, meeting, forum, picture=picture, cover=True)
    if agenda_posted(session, meeting):
        agenda = dataclasses.replace(agenda, posted=True)
    message_for = PreviewMessages(agenda, forum, render, locale_of)
    refreshed = 0
    for key in keys:
        scheduling.enqueue_dm_update(
            session,
            clock,
            team_id=forum.team_id,
            key=key,
            message=message_for(key.rsplit(":", 1)[-1]),
        )
        refreshed += 1
    return refreshed


def meetings_listing_action(session: Session, clock: Clock, action_id: int) -> list[Meeting]:
    """Meetings not yet past by a week whose agenda lists this action (to update them when
    the action changes)."""
    return _meetings_listing(session, clock, AgendaItem.action_id == action_id)


def meetings_listing_case(session: Session, clock: Clock, case_id: int) -> list[Meeting]:
    """Meetings not yet past by a week whose agenda lists this case (to update them when
    the case's agencies change)."""
    return _meetings_listing(session, clock, AgendaItem.case_id == case_id)


def _meetings_listing(session: Session, clock: Clock, listed: ColumnElement[bool]) -> list[Meeting]:
    return list(
        session.scalars(
            select(Meeting)
            .join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
            .where(
                listed,
                AgendaItem.removed.is_(False),
                Meeting.status != MeetingStatus.CANCELLED,
                Meeting.starts_at > clock.now() - dt.timedelta(days=7),
            )
            .order_by(Meeting.starts_at)
            .distinct()
        )
    )
