"""What the rating listeners share: the command's words, the rating modal's metadata, days
as members write them, and who may act (from the channel, or from a round)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from slack_bolt import BoltContext
from sqlalchemy.orm import Session

from domain import disclosure
from domain import forums as forum_service
from domain import ratings as rating_service
from domain.access import Access
from domain.clock import Clock
from domain.errors import ForumNotFound, NotAMember, NotCoordinator
from domain.i18n import Locale
from handlers.deps import CommandRequest
from handlers.forms import parse_day as parse_day
from handlers.metadata import Id, Meta
from storage.models import RatingRound

PICTURE = {"lägesbild", "lagesbild", "lägesbilden", "situation", "picture", "ratings"}
AWAY = {"borta", "away", "frånvaro", "franvaro"}
BACK = {"tillbaka", "back"}
WORDS = PICTURE | AWAY | BACK
RATE = {"bedöm", "bedom", "bedömning", "rate", "svara", "answer"}
EXPORT = {"export", "exportera"}
SETTINGS = {"inställningar", "installningar", "settings"}


class RatingMeta(Meta):
    """``private_metadata`` of the rating modal."""

    locale: Locale = "sv"
    forum_id: Id = 0
    round_id: Id = 0
    agency_id: Id = 0
    page: int = 0
    # The escalations the pages before saved, not told yet (one DM for the whole form):
    # "area:level:before" each ("before" empty when none), comma separated.
    escalated: str = ""

    def dump(self) -> str:
        return self.model_dump_json()


def access_in_channel(session: Session, req: CommandRequest) -> Access:
    return forum_service.require_member_in_channel(
        session, team_id=req.team_id, channel_id=req.channel_id, slack_user_id=req.user_id
    )


def access_for_round(session: Session, team_id: str, user_id: str, round_id: int) -> Access:
    """The member's access to the forum of a round named by its id alone (the DM's rating
    button, the rating modal, the comments button). Anyone outside that forum is told what
    an id of no round tells them, so the answer does not reveal that another forum or
    workspace has a round of that id; :func:`round_door` audits the attempt as what it is."""
    rating_round = session.get(RatingRound, round_id) if round_id > 0 else None
    if rating_round is None:
        raise rating_service.RoundNotFound()
    try:
        forum = forum_service.get_forum(session, forum_id=rating_round.forum_id, team_id=team_id)
    except ForumNotFound:  # another workspace's round: no round here
        raise rating_service.RoundOfAnotherWorkspace() from None
    try:
        return forum_service.require_member(session, forum=forum, slack_user_id=user_id)
    except NotAMember:
        raise rating_service.NotInRoundsForum() from None


def round_door(
    session: Session, clock: Clock, team_id: str, user_id: str, round_id: int | None
) -> AbstractContextManager[None]:
    """Around a door naming a round by its id (its comments: the coordinators' modal, the
    agency's own in the rating modal; closing it early, extending it): a refusal of someone
    outside the round's forum (or of a round of nothing), or of a member who is no
    coordinator where the door is the coordinators' (closing, extending), is audited in the
    round's forum as an attempt at its comments (the round's one surface, the
    coordinators')."""
    return disclosure.refusals_audited(
        session,
        clock,
        team_id=team_id,
        slack_user_id=user_id,
        round_id=round_id,
        surface_name="rating_comments",
        not_found=(rating_service.RoundNotFound, NotCoordinator),
    )


def request_of(body: dict[str, Any], context: BoltContext) -> CommandRequest:
    return CommandRequest(
        team_id=context.team_id or "",
        channel_id=context.channel_id or "",
        user_id=context.user_id or "",
        trigger_id=body.get("trigger_id", ""),
        text="",
    )
