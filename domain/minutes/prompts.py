"""The minutes prompt to the coordinators after a meeting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from domain import scheduling
from domain.clock import Clock
from domain.forums import coordinators
from domain.i18n import Locale, LocaleOf, recipient_locale
from domain.minutes.base import MINUTES_PROMPT
from domain.minutes.dms import each_claimed_meeting
from storage.models import Forum, Meeting

# --- the minutes prompt -----------------------------------------------------------------------


@dataclass(frozen=True)
class Prompt:
    user: str
    locale: Locale
    forum_name: str
    meeting_id: int
    starts_at: dt.datetime
    timezone: str


def send_minutes_prompts(
    sessions: sessionmaker[Session],
    clock: Clock,
    render: Callable[[Prompt], dict[str, Any]],
    *,
    replica: str,
    locale_of: LocaleOf | None = None,
) -> int:
    """At a meeting's end time (with cases on its agenda): one prompt to each coordinator,
    in their language (``locale_of``; the forum's when unknown)."""

    def queue(session: Session, meeting: Meeting, forum: Forum) -> int:
        users = coordinators(session, forum.id)
        for user in users:
            prompt = Prompt(
                user=user,
                locale=recipient_locale(locale_of, forum, user),
                forum_name=forum.name,
                meeting_id=meeting.id,
                starts_at=meeting.starts_at,
                timezone=forum.timezone,
            )
            scheduling.enqueue(
                session,
                clock,
                team_id=forum.team_id,
                method="chat.postMessage",
                payload={"channel": user, **render(prompt)},
                dedupe_key=f"{MINUTES_PROMPT}:{meeting.id}:{user}",
            )
        return len(users)

    return each_claimed_meeting(
        sessions, clock, MINUTES_PROMPT, Meeting.ends_at, until=None, replica=replica, act=queue
    )
