"""Steering levels: which operational forums a steering forum follows, and their figures
rolled up per period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from domain import audit, review, scheduling
from domain.access import Access
from domain.clock import Clock
from domain.errors import (
    DomainError,
    ForumNotFound,
    InputErrors,
    InvalidInput,
    NotAMember,
    NotCoordinator,
)
from domain.forums import find_member, forum_schedule, setting_text
from domain.i18n import N_, Translator, normalize_locale
from domain.locks import update_forum_settings
from domain.statistics import Period
from storage.models import (
    AuditAction,
    AuditEvent,
    Forum,
    ForumLink,
    Meeting,
    MeetingStatus,
    Role,
)

LEVELS: dict[str, str] = {
    "styrgrupp": N_("Steering group (styrgrupp)"),
    "2+2": N_("2+2 meeting"),
    "namnd": N_("Board (nämnd)"),
}
TITLE_MAX = 200
COMMENT_MAX = 500
RESULTS = ("yes", "partly", "no")
SUPPLEMENT = "steering_agenda"
CATCH_UP = dt.timedelta(days=14)


def steering_level(forum: Forum) -> str | None:
    level = (forum.settings or {}).get("steering_level")
    return level if level in LEVELS else None


def is_steering() -> ColumnElement[bool]:
    """:func:`steering_level` in SQL: the scheduled jobs select steering forums only."""
    return setting_text("steering_level").in_(tuple(LEVELS))


def linked_forums(session: Session, steering: Forum) -> list[Forum]:
    return list(
        session.scalars(
            select(Forum)
            .join(ForumLink, ForumLink.forum_id == Forum.id)
            .where(ForumLink.steering_forum_id == steering.id, Forum.team_id == steering.team_id)
            .order_by(Forum.name)
        )
    )


def candidates(session: Session, steering: Forum, access: Access) -> list[Forum]:
    """The forums of the same workspace (not itself, not steering) the person setting up a
    steering forum may choose: those they may add (:func:`decides_for`) and those it
    follows already. The names of the workspace's other forums (private channels too) are
    not shown to them."""
    linked = {f.id for f in linked_forums(session, steering)}
    return [
        f
        for f in session.scalars(
            select(Forum).where(Forum.team_id == steering.team_id).order_by(Forum.name)
        )
        if f.id != steering.id
        and steering_level(f) is None
        and (f.id in linked or decides_for(session, f, access))
    ]


def decides_for(session: Session, forum: Forum, access: Access) -> bool:
    """Whether the person setting up the steering forum (``access``) may let it follow
    ``forum``: an active coordinator or admin of that forum, in the same workspace."""
    if forum.team_id != access.forum.team_id:
        return False
    member = find_member(session, forum=forum, slack_user_id=access.member.slack_user_id)
    return member is not None and member.role in (Role.COORDINATOR, Role.ADMIN)


@dataclass(frozen=True)
class SteeringChange:
    added: tuple[Forum, ...]
    removed: int


Notice = Callable[[Translator, str, int], dict[str, Any]]
"""The note to a newly followed forum's channel: (its translator, the text, the link's id)
→ the message (``text``, and blocks with the button that ends the link)."""


def _plain_notice(t: Translator, text: str, link_id: int) -> dict[str, Any]:
    return {"text": text}


EndedNotice = Callable[[Translator, str, bool], dict[str, Any]]
"""The note to both channels that a followed forum ended a steering forum's following of
it: (the channel's translator, the text, whether it is the steering forum's channel) →
the message (``text`` and blocks: ``handlers.blocks.steering.link_ended_notice``)."""


def _plain_ended(t: Translator, text: str, to_steering: bool) -> dict[str, Any]:
    return {"text": text}


def configure(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    level: str | None,
    forum_ids: Sequence[int],
    notice: Notice = _plain_notice,
) -> SteeringChange:
    """Set the level and the operational forums it follows. Nothing is stored when any
    link is refused (another workspace, itself, another steering forum). Each newly
    followed forum is told in its channel (``notice``: the message, with the way to end
    it)."""
    if not access.is_coordinator:
        raise NotCoordinator()
    steering = access.forum
    errors: dict[str, DomainError] = {}
    if level is not None and level not in LEVELS:
        errors["steering_level"] = InvalidInput(N_("Choose a level."), field="steering_level")
    wanted = list(dict.fromkeys(forum_ids))
    existing = set(
        session.scalars(
            select(ForumLink.forum_id).where(ForumLink.steering_forum_id == steering.id)
        )
    )
    if wanted and level is None:
        errors["steering_level"] = InvalidInput(
            N_("Only a steering forum follows other forums: choose its level first."),
            field="steering_level",
        )
    for forum_id in wanted:
        if forum_id == steering.id:
            errors["steering_forums"] = InvalidInput(
                N_("A steering forum cannot follow itself."), field="steering_forums"
            )
            break
        other = session.get(Forum, forum_id)
        # A forum the person is not in (and not followed already) is told as a forum of
        # nothing, another workspace's alike: neither its name nor that it exists (nor that
        # it is a steering forum) reaches whoever sets up a steering forum of their own with
        # a crafted option (the modal offers only the forums they may add).
        member = (
            find_member(session, forum=other, slack_user_id=access.member.slack_user_id)
            if other is not None and other.team_id == steering.team_id
            else None
        )
        if (
            other is None
            or other.team_id != steering.team_id
            or (member is None and forum_id not in existing)
        ):
            errors["steering_forums"] = InvalidInput(
                N_(
                    "That forum cannot be chosen here: a steering forum follows only forums "
                    "of its own workspace where you are a coordinator."
                ),
                field="steering_forums",
            )
            break
        if steering_level(other) is not None:
            errors["steering_forums"] = InvalidInput(
                N_("{forum} is itself a steering forum: follow operational forums."),
                field="steering_forums",
                forum=other.name,
            )
            break
        if forum_id not in existing and not decides_for(session, other, access):
            # What a followed forum's figures and its actions about areas (the yearly
            # picture) show leaves the forum: its own coordinators decide that, not anyone
            # who sets up a forum of their own and makes it a steering forum.
            errors["steering_forums"] = InvalidInput(
                N_(
                    "Only a coordinator of {forum} can let a steering forum follow it: "
                    "its figures and its actions about areas leave the forum."
                ),
                field="steering_forums",
                forum=other.name,
            )
            break
    if errors:
        raise InputErrors(errors)
    update_forum_settings(session, steering, {"steering_level": level})  # None: removed
    now = clock.now()
    added = [f for f in wanted if f not in existing]
    removed = [f for f in existing if f not in wanted]
    ended: list[list[int]] = []
    if removed:
        mine = (ForumLink.steering_forum_id == steering.id, ForumLink.forum_id.in_(removed))
        # Each ended link and its forum, in the log (:func:`link_ended_in`).
        rows = session.execute(select(ForumLink.id, ForumLink.forum_id).where(*mine))
        ended = [[link_id, forum_id] for link_id, forum_id in rows]
        session.execute(delete(ForumLink).where(*mine))
    links = {
        forum_id: ForumLink(
            steering_forum_id=steering.id,
            forum_id=forum_id,
            created_by=access.member.slack_user_id,
            created_at=now,
        )
        for forum_id in added
    }
    session.add_all(links.values())
    session.flush()
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.UPDATE,
        object_type="steering",
        object_ref=steering.code,
        detail={"level": level, "follows": wanted, **({"ended": ended} if ended else {})},
    )
    for link_id, forum_id in ended:
        _tombstone(
            session,
            clock,
            actor=access.member.slack_user_id,
            team_id=steering.team_id,
            steering_id=steering.id,
            link_id=link_id,
            forum_id=forum_id,
        )
    new = tuple(f for f in (session.get(Forum, i) for i in added) if f is not None)
    for forum in new:  # transparency: the operational forum is told who follows its figures
        t = Translator(normalize_locale(forum.language))
        text = t(
            "{steering} ({level}) now follows this forum's figures: counts per period, never "
            "case references or details, and counts under 5 as \u201cfewer than 5\u201d. Its "
            "yearly situation picture and action plan also lists this forum's actions about "
            "areas and themes (text, owner, due date; never actions in a case).",
            steering=steering.name,
            level=t(LEVELS[level or "styrgrupp"]),
        )
        scheduling.enqueue(
            session,
            clock,
            team_id=forum.team_id,
            method="chat.postMessage",
            payload={"channel": forum.channel_id, **notice(t, text, links[forum.id].id)},
            dedupe_key=f"steering_link:{steering.id}:{forum.id}:{now.isoformat()}",
        )
    return SteeringChange(added=new, removed=len(removed))


# --- a followed forum ends the following ----------------------------------------------------


class LinkNotFound(DomainError):
    msgid = N_("That steering forum no longer follows this forum.")


class NotInLinksForum(LinkNotFound, NotAMember):
    """A link, named by its id alone (the button on the note to the followed forum), of a
    forum the user is not in: told as :class:`LinkNotFound` (a different answer would tell
    them that a link of that id exists), and audited as the non-member's attempt it is."""


class LinkOfAnotherWorkspace(LinkNotFound, ForumNotFound):
    """A link of another workspace's forum: told as :class:`LinkNotFound`, and audited as a
    request with no forum here (a :class:`ForumNotFound`)."""


class LinkEnded(DomainError):
    """A link of the followed forum that has ended, pressed again by one of its members in
    its channel (the button stays on the note there): told as :class:`LinkNotFound`, and
    no refusal is audited (the door audits LinkNotFound: a link of another forum, or of
    none)."""

    msgid = LinkNotFound.msgid


# The audit event that an ended link leaves (its tombstone), in the followed forum's log:
# a press of its button is answered by one indexed read of it (ix_audit_events_object),
# as a meeting a schedule change removed is (``domain.meetings.removed_in``). Refusals at
# the link's door are events of the same type and reference, read events.
LINK_OBJECT = "forum_link"


def _tombstone(
    session: Session,
    clock: Clock,
    *,
    actor: str,
    team_id: str,
    steering_id: int,
    link_id: int,
    forum_id: int,
    actor_agency_id: int | None = None,
) -> None:
    audit.record(
        session,
        clock,
        actor=actor,
        action=AuditAction.DELETE,
        object_type=LINK_OBJECT,
        object_ref=str(link_id),
        team_id=team_id,
        forum_id=forum_id,
        actor_agency_id=actor_agency_id,
        detail={"steering_forum": steering_id},
    )


def link_ended_in(session: Session, team_id: str, link_id: int) -> int | None:
    """The forum (of ``team_id``) whose following by a steering forum was the link of this
    id, now ended (its tombstone in the log: :func:`end_link`, and the steering forum's
    settings dropping the forum, :func:`configure`); None for an id of no ended link. One
    indexed read, whatever the size of the workspace's log (before, every steering event
    of the workspace was read)."""
    if link_id <= 0:
        return None
    # Every tombstone of the id (one; on SQLite, which reuses ids, one per link that had
    # it), the latest wins: no ORDER BY … LIMIT, which PostgreSQL's generic plan answered
    # by walking the log's primary key backwards.
    tombstones = session.execute(
        select(AuditEvent.id, AuditEvent.forum_id).where(
            AuditEvent.object_type == LINK_OBJECT,
            AuditEvent.object_ref == str(link_id),
            AuditEvent.action == AuditAction.DELETE,
            AuditEvent.team_id == team_id,
        )
    ).all()
    return max(tombstones)[1] if tombstones else None


def _stale_press(
    session: Session, *, team_id: str, slack_user_id: str, link_id: int, channel_id: str
) -> bool:
    """The press names a link that ended of the forum whose channel it came from, by a
    member of that forum: the note's old button, not a crafted id."""
    followed = link_ended_in(session, team_id, link_id)
    forum = session.get(Forum, followed) if followed is not None else None
    return (
        forum is not None
        and forum.team_id == team_id
        and forum.channel_id == channel_id
        and find_member(session, forum=forum, slack_user_id=slack_user_id) is not None
    )


def followers(session: Session, forum: Forum) -> list[tuple[int, Forum]]:
    """The steering forums (of its workspace) that follow ``forum``: (the link's id, the
    steering forum), by name."""
    rows = session.execute(
        select(ForumLink.id, Forum)
        .join(Forum, Forum.id == ForumLink.steering_forum_id)
        .where(ForumLink.forum_id == forum.id, Forum.team_id == forum.team_id)
        .order_by(Forum.name)
    ).all()
    return [(link_id, steering) for link_id, steering in rows]


@dataclass(frozen=True)
class EndedLink:
    forum_name: str
    steering_name: str


def end_link(
    session: Session,
    clock: Clock,
    *,
    team_id: str,
    slack_user_id: str,
    link_id: int,
    channel_id: str,
    notice: EndedNotice = _plain_ended,
) -> EndedLink:
    """A coordinator (or admin) of the followed forum ends a steering forum's following
    of it: the link is removed (as when the steering forum drops the forum), audited in
    both forums' logs as the link's creation is, and both channels are told (the forums'
    names only). Anyone else is refused: a member who is no coordinator as such; someone
    outside the followed forum, another workspace's user and a link of nothing alike
    (:class:`LinkNotFound`); so is a press in another channel than the followed forum's
    (``channel_id``), where no button of this link is. ``notice`` renders the channels'
    note."""
    # Locked (PostgreSQL): a second coordinator ending it at once waits, then finds no link.
    link = (
        session.scalar(select(ForumLink).where(ForumLink.id == link_id).with_for_update())
        if link_id > 0
        else None
    )
    forum = session.get(Forum, link.forum_id) if link is not None else None
    if (forum is None or forum.channel_id != channel_id) and _stale_press(
        session,
        team_id=team_id,
        slack_user_id=slack_user_id,
        link_id=link_id,
        channel_id=channel_id,
    ):
        # The note's button pressed again after the link ended (on SQLite a new link,
        # another forum's, may have taken its id): told so, not refused.
        raise LinkEnded()
    if link is None:
        raise LinkNotFound()
    steering = session.get(Forum, link.steering_forum_id)
    if forum is None or steering is None:
        raise LinkNotFound()
    if forum.team_id != team_id or steering.team_id != team_id:
        raise LinkOfAnotherWorkspace()
    member = find_member(session, forum=forum, slack_user_id=slack_user_id)
    if member is None:
        raise NotInLinksForum()
    if member.role not in (Role.COORDINATOR, Role.ADMIN):
        raise NotCoordinator()
    if channel_id != forum.channel_id:
        # The button is only ever in the followed forum's channel (the note, /samverkan
        # styrning there). One elsewhere names a link that has ended: on SQLite a new
        # link, another forum's, may have taken its id.
        raise LinkNotFound()
    session.delete(link)
    session.flush()
    follows = [f.id for f in linked_forums(session, steering)]
    level = steering_level(steering)
    # As its creation: in the steering forum's log (what it follows now), and in the
    # followed forum's, whose coordinator decided it (with their agency there).
    audit.record(
        session,
        clock,
        actor=slack_user_id,
        action=AuditAction.UPDATE,
        object_type="steering",
        object_ref=steering.code,
        team_id=team_id,
        forum_id=steering.id,
        detail={"level": level, "follows": follows, "ended_by": forum.id},
    )
    audit.record(
        session,
        clock,
        actor=slack_user_id,
        action=AuditAction.UPDATE,
        object_type="steering",
        object_ref=steering.code,
        team_id=team_id,
        forum_id=forum.id,
        actor_agency_id=member.agency_id,
        detail={"level": level, "unfollowed": forum.id, "link": link_id},
    )
    _tombstone(
        session,
        clock,
        actor=slack_user_id,
        team_id=team_id,
        steering_id=steering.id,
        link_id=link_id,
        forum_id=forum.id,
        actor_agency_id=member.agency_id,
    )
    now = clock.now()
    for channel_forum in (steering, forum):
        t = Translator(normalize_locale(channel_forum.language))
        text = t(
            "{forum} no longer shares its figures with {steering}: a coordinator of {forum} "
            "ended it. {steering}'s roll-up and reports no longer include {forum}.",
            forum=forum.name,
            steering=steering.name,
        )
        scheduling.enqueue(
            session,
            clock,
            team_id=team_id,
            method="chat.postMessage",
            payload={
                "channel": channel_forum.channel_id,
                **notice(t, text, channel_forum.id == steering.id),
            },
            dedupe_key=(
                f"steering_unlink:{steering.id}:{forum.id}:{channel_forum.id}:{now.isoformat()}"
            ),
        )
    return EndedLink(forum_name=forum.name, steering_name=steering.name)


# --- the roll-up of the linked forums' figures ----------------------------------------------


@dataclass(frozen=True)
class ForumFigures:
    forum_name: str
    figures: review.ReviewFigures


def rollup(session: Session, *, steering: Forum, period: Period) -> list[ForumFigures]:
    """Each linked forum's figures for the period, after the small-number rule. A period
    made up of the forum's half-year review periods (the annual report's year) keeps hidden
    what those reviews hid (``review.masked_period``)."""
    return [
        ForumFigures(f.name, review.masked_period(session, forum=f, period=period))
        for f in linked_forums(session, steering)
    ]


def last_meeting_day(session: Session, clock: Clock, forum: Forum) -> dt.date | None:
    """The day of the steering forum's latest meeting that has started."""
    zone = forum_schedule(forum).zone
    start = session.scalar(
        select(Meeting.starts_at)
        .where(
            Meeting.forum_id == forum.id,
            Meeting.status != MeetingStatus.CANCELLED,
            Meeting.starts_at <= clock.now(),
        )
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    )
    return start.astimezone(zone).date() if start else None


def since_last_meeting(session: Session, clock: Clock, forum: Forum) -> Period:
    today = clock.now().astimezone(forum_schedule(forum).zone).date()
    last = last_meeting_day(session, clock, forum)
    # No earlier meeting (a new steering forum): the year so far.
    start = last if last is not None and last < today else dt.date(today.year, 1, 1)
    return Period(start, today)
