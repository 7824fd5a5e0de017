"""Finding a forum and checking who asks (member, coordinator); a forum's lists, time zone,
today and meeting schedule."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, and_, cast, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.sql.elements import ColumnElement

from domain.access import Access
from domain.clock import Clock
from domain.errors import (
    ForumNotFound,
    NotAMember,
    NotCoordinator,
)
from domain.i18n import Locale, LocaleOf, recipient_locale, swedish_sort_key
from domain.schedule import (
    Schedule,
)
from storage.models import Agency, Area, Forum, Member, Role

# --- lookups and access -------------------------------------------------------------------


def setting_text(*path: str) -> ColumnElement[str]:
    """A forum setting (``settings`` JSON, by its path) as text in SQL, so scheduled jobs
    pick the forums they concern in the database instead of loading every forum. A string
    reads as itself on both databases, an integer as its digits; false is ``false`` on
    PostgreSQL and ``0`` on SQLite; a missing setting is NULL."""
    return cast(Forum.settings[path if len(path) > 1 else path[0]].as_string(), Text)


def forum_for_channel(session: Session, *, team_id: str, channel_id: str) -> Forum | None:
    return session.scalar(
        select(Forum).where(Forum.team_id == team_id, Forum.channel_id == channel_id)
    )


def channel_has_forum(session: Session, *, channel_id: str) -> bool:
    """Whether any workspace's forum meets in the channel. A channel's id is Slack's one
    name for it in every workspace it is shared with (Slack Connect): a forum of one of them
    is the channel's forum for the others too."""
    return (
        session.scalar(select(Forum.id).where(Forum.channel_id == channel_id).limit(1)) is not None
    )


def require_forum(session: Session, *, team_id: str, channel_id: str) -> Forum:
    forum = forum_for_channel(session, team_id=team_id, channel_id=channel_id)
    if forum is None:
        raise ForumNotFound()
    return forum


def get_forum(session: Session, *, forum_id: int, team_id: str, with_lists: bool = True) -> Forum:
    """The forum of this workspace; its agencies and areas loaded with it (two more
    statements), or, with ``with_lists=False``, when first read (in the session)."""
    options = [selectinload(Forum.agencies), selectinload(Forum.areas)] if with_lists else []
    forum = session.get(Forum, forum_id, options=options)
    if forum is None or forum.team_id != team_id:
        raise ForumNotFound()
    return forum


def find_member(session: Session, *, forum: Forum, slack_user_id: str) -> Member | None:
    return session.scalar(
        select(Member)
        .options(joinedload(Member.agency))
        .where(
            Member.forum_id == forum.id,
            Member.slack_user_id == slack_user_id,
            Member.active.is_(True),
        )
    )


def require_member(session: Session, *, forum: Forum, slack_user_id: str) -> Access:
    member = find_member(session, forum=forum, slack_user_id=slack_user_id)
    if member is None:
        raise NotAMember()
    return Access(forum=forum, member=member)


def require_member_in_channel(
    session: Session, *, team_id: str, channel_id: str, slack_user_id: str
) -> Access:
    """The forum of this channel, for one of its active members (else ForumNotFound /
    NotAMember): what :func:`require_forum` then :func:`require_member` find, in one
    statement (the forum, outer-joined with the member and their agency; both unique)."""
    row = session.execute(
        select(Forum, Member)
        .outerjoin(
            Member,
            and_(
                Member.forum_id == Forum.id,
                Member.slack_user_id == slack_user_id,
                Member.active.is_(True),
            ),
        )
        .options(joinedload(Member.agency))
        .where(Forum.team_id == team_id, Forum.channel_id == channel_id)
    ).first()
    if row is None:
        raise ForumNotFound()
    forum, member = row
    if member is None:
        raise NotAMember()
    return Access(forum=forum, member=member)


def require_coordinator(session: Session, *, forum: Forum, slack_user_id: str) -> Access:
    access = require_member(session, forum=forum, slack_user_id=slack_user_id)
    if not access.is_coordinator:
        raise NotCoordinator()
    return access


def forums_of_user(session: Session, *, team_id: str, slack_user_id: str) -> list[Forum]:
    forums = session.scalars(
        select(Forum)
        .join(Member, Member.forum_id == Forum.id)
        .where(
            Forum.team_id == team_id,
            Member.slack_user_id == slack_user_id,
            Member.active.is_(True),
        )
    )
    return sorted(forums, key=lambda f: swedish_sort_key(f.name))


def active_members(session: Session, forum: Forum) -> list[Member]:
    return list(
        session.scalars(
            select(Member)
            .options(selectinload(Member.agency))
            .where(Member.forum_id == forum.id, Member.active.is_(True))
            .order_by(Member.agency_id, Member.id)
        )
    )


def active_agencies(forum: Forum) -> list[Agency]:
    return [a for a in forum.agencies if a.active]


def active_areas(forum: Forum) -> list[Area]:
    return [a for a in forum.areas if a.active]


def forum_zone(forum: Forum) -> zoneinfo.ZoneInfo:
    """The forum's time zone: where its days, meetings, deadlines and consent dates are
    counted (the one place that finds it)."""
    return zoneinfo.ZoneInfo(forum.timezone)


def local_now(forum: Forum, clock: Clock) -> dt.datetime:
    return clock.now().astimezone(forum_zone(forum))


def local_today(forum: Forum, clock: Clock) -> dt.date:
    """Today in the forum's calendar, not UTC's."""
    return local_now(forum, clock).date()


@dataclass(frozen=True, slots=True)
class ForumFields:
    """The forum's fields a settings save checks, read as a plain row (Core), not as a
    mapped object: the save runs before the ack, and loading an ORM object costs more than
    the rest of the read (``domain.forums.saving``)."""

    id: int
    team_id: str
    code: str
    template: str | None
    timezone: str
    settings: dict[str, Any] | None
    schedule_rrule: str
    schedule_anchor: dt.date
    meeting_start: dt.time
    meeting_minutes: int


def forum_schedule(forum: Forum | ForumFields) -> Schedule:
    return Schedule(
        forum.schedule_rrule,
        forum.meeting_start,
        forum.meeting_minutes,
        forum.timezone,
        forum.schedule_anchor,
    )


def members_with_role(session: Session, forum_id: int, roles: Iterable[Role]) -> list[str]:
    """The Slack ids of the forum's active members with one of these roles, oldest first."""
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                Member.forum_id == forum_id,
                Member.active.is_(True),
                Member.role.in_(tuple(roles)),
            )
            .order_by(Member.id)
        )
    )


def coordinators(session: Session, forum_id: int) -> list[str]:
    """The forum's coordinators and admins."""
    return members_with_role(session, forum_id, (Role.COORDINATOR, Role.ADMIN))


def coordinator_locales(
    session: Session, forum: Forum, locale_of: LocaleOf | None
) -> dict[str, Locale]:
    """The forum's coordinators and admins, each with the language of a DM to them (their
    own when ``locale_of`` knows it, else the forum's: domain.i18n.recipient_locale)."""
    return {
        user: recipient_locale(locale_of, forum, user) for user in coordinators(session, forum.id)
    }


def log_reviewers(session: Session, forum: Forum) -> list[str]:
    """The forum's log reviewers (granskare: domain.logreview)."""
    return members_with_role(session, forum.id, (Role.REVIEWER,))


# --- away and stand-in ------------------------------------------------------------------------


def is_away(member: Member, day: dt.date) -> bool:
    """Marked away (``/samverkan borta``) on ``day`` (the day they are back is inclusive)."""
    return member.away_until is not None and member.away_until >= day


def stand_in_for(
    session: Session,
    member: Member,
    day: dt.date,
    *,
    fits: Callable[[Member], bool] = lambda _: True,
) -> Member | None:
    """While ``member`` is away on ``day``: the stand-in they named, when that stand-in is
    still an active member of the same forum, not away too, and ``fits`` (the owning agency
    for an action's reminders, a coordinator for a rating alert). None when ``member`` is
    not away, named nobody, or the one named no longer fits: the caller decides then (the
    action's owner still gets the reminder; an alert skips them)."""
    if not is_away(member, day) or member.stand_in_member_id is None:
        return None
    stand_in = session.get(Member, member.stand_in_member_id)
    if (
        stand_in is None
        or not stand_in.active
        or stand_in.forum_id != member.forum_id
        or is_away(stand_in, day)
        # A granskare owns no actions and leads nothing: never anyone's stand-in (refused
        # when named; one stored before that, or made granskare since, is skipped).
        or stand_in.role is Role.REVIEWER
        or not fits(stand_in)
    ):
        return None
    return stand_in
