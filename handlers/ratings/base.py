"""What the rating listeners share: the command's words, the rating modal's metadata, days
as members write them, and who may act (from the channel, or from a round)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, ValidationError
from slack_bolt import BoltContext
from sqlalchemy.orm import Session

from domain import forums as forum_service
from domain import ratings as rating_service
from domain.access import Access
from domain.errors import ForumNotFound
from domain.i18n import Locale
from handlers.deps import CommandRequest
from handlers.metadata import Id
from storage.models import RatingRound

PICTURE = {"lägesbild", "lagesbild", "lägesbilden", "situation", "picture", "ratings"}
AWAY = {"borta", "away", "frånvaro", "franvaro"}
BACK = {"tillbaka", "back"}
WORDS = PICTURE | AWAY | BACK
RATE = {"bedöm", "bedom", "bedömning", "rate", "svara", "answer"}
EXPORT = {"export", "exportera"}
SETTINGS = {"inställningar", "installningar", "settings"}
DMY_RE = re.compile(r"^(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))?$")


class RatingMeta(BaseModel):
    """``private_metadata`` of the rating modal."""

    locale: Locale = "sv"
    forum_id: Id = 0
    round_id: Id = 0
    agency_id: Id = 0
    page: int = 0

    def dump(self) -> str:
        return self.model_dump_json()

    @classmethod
    def load(cls, raw: str | None) -> RatingMeta:
        try:
            return cls.model_validate_json(raw or "{}")
        except ValidationError:
            return cls()


def parse_day(text: str, today: dt.date) -> dt.date | None:
    """``2026-12-10``, ``10/12`` or ``10.12.2026`` (day first); a day-month without a year
    is the next such day from today."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    match = DMY_RE.match(text)
    if match is None:
        return None
    day, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
    try:
        if year:
            full = int(year) + (2000 if len(year) == 2 else 0)
            return dt.date(full, month, day)
        candidate = dt.date(today.year, month, day)
        return candidate if candidate >= today else dt.date(today.year + 1, month, day)
    except ValueError:
        return None


def access_in_channel(session: Session, req: CommandRequest) -> Access:
    return forum_service.require_member_in_channel(
        session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
    )


def access_for_round(session: Session, team_id: str, user_id: str, round_id: int) -> Access:
    rating_round = session.get(RatingRound, round_id)
    if rating_round is None:
        raise rating_service.RoundNotFound()
    try:
        forum = forum_service.get_forum(session, forum_id=rating_round.forum_id, team_id=team_id)
    except ForumNotFound:  # another workspace's round: no round here
        raise rating_service.RoundNotFound() from None
    return forum_service.require_member(session, forum=forum, slack_user_id=user_id)


def request_of(body: dict[str, Any], context: BoltContext) -> CommandRequest:
    return CommandRequest(
        team_id=context.team_id or "",
        channel_id=context.channel_id or "",
        user_id=context.user_id or "",
        trigger_id=body.get("trigger_id", ""),
        text="",
    )
