"""Each person's own language, as Slack last said it, stored for every replica.

The composition root learns a person's Slack locale (``users.info``) when a request needs it
or when the scheduler's "member languages" job refreshes it, and writes it here in a short
transaction of its own (:func:`remember`). A scheduled job reads it here and never asks
Slack: a person with no row, or a row older than :data:`STALE_AFTER`, is refreshed by that
job; until then one with no row gets the forum's language, one with a stale row the
stored. Every replica runs that job: each claims the people it is about to ask
(:func:`claim_asks`), so two at once never ask Slack about the same person. The domain only
reads and writes rows; asking Slack is the handlers' part.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from domain.clock import Clock
from domain.i18n import Locale, supported_locale
from storage.db import transaction
from storage.models import Forum, Member, MemberLanguage, MemberLanguageAsk

STALE_AFTER = dt.timedelta(days=1)
"""A stored language older than this is refreshed from Slack (a person may change it)."""

STAMP_AFTER = STALE_AFTER / 2
"""A lookup that confirms the stored language rewrites ``looked_up_at`` only when the row is
this old: a replica that asks Slack every hour writes twice a day, not once a request, and
a person the requests keep confirming never looks stale to the scheduler."""

ASKING = dt.timedelta(minutes=2)
"""How long a refresh holds the people it claimed (:func:`claim_asks`): longer than it asks
Slack in a tick; a replica that died mid-way holds them no longer than this."""

NOT_TOLD_AGAIN_FOR = dt.timedelta(hours=1)
"""A person Slack answered with an error about them (not about the workspace) is not asked
by the refresh again for this long (:func:`hold_asks`): not every tick, not in everyone's
way."""

_CHUNK = 500  # ids per IN (…) list


@dataclass(frozen=True)
class Stored:
    """A stored language: ``locale`` None when Slack named one we have no catalog for."""

    locale: Locale | None
    looked_up_at: dt.datetime

    def fresh(self, now: dt.datetime) -> bool:
        return now - self.looked_up_at < STALE_AFTER


def stored(session: Session, team_id: str, users: Iterable[str]) -> dict[str, Stored]:
    """The stored languages of ``users`` of the workspace (one read per 500 people)."""
    wanted = list(dict.fromkeys(users))
    found: dict[str, Stored] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(MemberLanguage.user_id, MemberLanguage.locale, MemberLanguage.looked_up_at)
            .where(MemberLanguage.team_id == team_id)
            .where(MemberLanguage.user_id.in_(wanted[start : start + _CHUNK]))
        )
        for user, locale, at in rows:
            found[user] = Stored(supported_locale(locale), at)
    return found


def stored_in_workspace(session: Session, team_id: str) -> dict[str, Stored]:
    """Every stored language of the workspace (one read): a job's tick reads them at once
    instead of one person at a time (the table holds the people the bot saw lately)."""
    rows = session.execute(
        select(MemberLanguage.user_id, MemberLanguage.locale, MemberLanguage.looked_up_at).where(
            MemberLanguage.team_id == team_id
        )
    )
    return {user: Stored(supported_locale(locale), at) for user, locale, at in rows}


def remember(
    sessions: sessionmaker[Session],
    clock: Clock,
    team_id: str,
    learned: Mapping[str, Locale | None],
) -> int:
    """Store what Slack just said of each person's language, in a short transaction of its
    own: a new person's row, a changed language, or a row older than :data:`STAMP_AFTER`
    stamped anew; nothing else is written. Returns the rows written. Another replica that
    stored the same person a moment before wins the race (its row is as good)."""
    if not team_id or not learned:
        return 0
    for attempt in (1, 2):
        try:
            return _remember(sessions, clock.now(), team_id, learned)
        except IntegrityError:  # inserted by another replica meanwhile: look again
            if attempt == 2:
                raise
    return 0  # pragma: no cover - the loop returns or raises


def _remember(
    sessions: sessionmaker[Session],
    now: dt.datetime,
    team_id: str,
    learned: Mapping[str, Locale | None],
) -> int:
    written = 0
    with transaction(sessions) as session:
        rows = {
            row.user_id: row
            for start in range(0, len(learned), _CHUNK)
            for row in session.scalars(
                select(MemberLanguage)
                .where(MemberLanguage.team_id == team_id)
                .where(MemberLanguage.user_id.in_(list(learned)[start : start + _CHUNK]))
            )
        }
        for user, locale in learned.items():
            locale = supported_locale(locale)
            row = rows.get(user)
            if row is None:
                session.add(
                    MemberLanguage(team_id=team_id, user_id=user, locale=locale, looked_up_at=now)
                )
            elif row.locale != locale or now - row.looked_up_at >= STAMP_AFTER:
                row.locale, row.looked_up_at = locale, now
            else:
                continue
            written += 1
    return written


def due_for_refresh(session: Session, now: dt.datetime, *, per_team: int) -> dict[str, list[str]]:
    """The active forum members whose language is not stored or older than
    :data:`STALE_AFTER` and whom no refresh holds (:func:`claim_asks`), at most ``per_team``
    of each workspace, the never looked up first, then the oldest."""
    stale_before = now - STALE_AFTER
    held = (
        select(MemberLanguageAsk.user_id)
        .where(MemberLanguageAsk.team_id == Forum.team_id)
        .where(MemberLanguageAsk.user_id == Member.slack_user_id)
        .where(MemberLanguageAsk.next_ask_at > now)
    )
    people = (
        select(
            Forum.team_id.label("team_id"),
            Member.slack_user_id.label("user_id"),
            MemberLanguage.looked_up_at.label("looked_up_at"),
        )
        .join(Forum, Forum.id == Member.forum_id)
        .outerjoin(
            MemberLanguage,
            and_(
                MemberLanguage.team_id == Forum.team_id,
                MemberLanguage.user_id == Member.slack_user_id,
            ),
        )
        .where(Member.active.is_(True))
        .where(MemberLanguage.user_id.is_(None) | (MemberLanguage.looked_up_at < stale_before))
        .where(~exists(held))
        .distinct()
        .subquery()
    )
    # Never looked up (NULL) first, then the oldest; within a workspace, at most per_team.
    at = people.c.looked_up_at
    ranked = select(
        people.c.team_id,
        people.c.user_id,
        func.row_number()
        .over(partition_by=people.c.team_id, order_by=(at.is_not(None), at, people.c.user_id))
        .label("n"),
    ).subquery()
    due: dict[str, list[str]] = {}
    for team_id, user_id in session.execute(
        select(ranked.c.team_id, ranked.c.user_id)
        .where(ranked.c.n <= per_team)
        .order_by(ranked.c.team_id, ranked.c.n)
    ):
        due.setdefault(team_id, []).append(user_id)
    return due


def forget_departed(session: Session, now: dt.datetime) -> int:
    """Delete the languages of people who are no active member of any forum of their
    workspace and were not looked up for :data:`STALE_AFTER` (someone who only uses the bot
    now and then keeps theirs while they do). Returns how many."""
    member = (
        select(Member.id)
        .join(Forum, Forum.id == Member.forum_id)
        .where(Member.active.is_(True))
        .where(Forum.team_id == MemberLanguage.team_id)
        .where(Member.slack_user_id == MemberLanguage.user_id)
    )
    result = session.execute(
        delete(MemberLanguage)
        .where(MemberLanguage.looked_up_at < now - STALE_AFTER)
        .where(~exists(member))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def claim_asks(
    sessions: sessionmaker[Session], clock: Clock, team_id: str, users: Iterable[str]
) -> list[str]:
    """Claim the people of the workspace a refresh is about to ask Slack about, in a short
    transaction of its own: each one no refresh holds (none claimed them, or the hold ran
    out) is held :data:`ASKING` for this one; returns those, in the order given. One
    conditional upsert per 500 people; another replica's claim of the same people at the
    same time waits for this one's commit and gets none of them (PostgreSQL; SQLite runs
    the two one after the other). The people are written in one order, so two claims never
    wait for each other crosswise."""
    wanted = list(dict.fromkeys(users))
    if not team_id or not wanted:
        return []
    now = clock.now()
    claimed: set[str] = set()
    ordered = sorted(wanted)
    with transaction(sessions) as session:
        insert = (
            postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
        for start in range(0, len(ordered), _CHUNK):
            rows = [
                {"team_id": team_id, "user_id": user, "next_ask_at": now + ASKING}
                for user in ordered[start : start + _CHUNK]
            ]
            statement = insert(MemberLanguageAsk).values(rows)
            claimed.update(
                session.scalars(
                    statement.on_conflict_do_update(
                        index_elements=["team_id", "user_id"],
                        set_={"next_ask_at": statement.excluded.next_ask_at},
                        where=MemberLanguageAsk.next_ask_at <= now,
                    ).returning(MemberLanguageAsk.user_id)
                )
            )
    return [user for user in wanted if user in claimed]


def hold_asks(
    sessions: sessionmaker[Session],
    clock: Clock,
    team_id: str,
    *,
    released: Iterable[str] = (),
    not_told: Iterable[str] = (),
) -> None:
    """After a refresh's lookups, in a short transaction of its own: the people it claimed
    but did not ask (out of time, or the workspace's Slack failing) may be asked again at
    once, by any replica; those Slack answered with an error about them not for
    :data:`NOT_TOLD_AGAIN_FOR`."""
    now = clock.now()
    changes = ((list(released), now), (list(not_told), now + NOT_TOLD_AGAIN_FOR))
    if not team_id or not any(users for users, _ in changes):
        return
    with transaction(sessions) as session:
        for users, next_ask_at in changes:
            for start in range(0, len(users), _CHUNK):
                session.execute(
                    update(MemberLanguageAsk)
                    .where(MemberLanguageAsk.team_id == team_id)
                    .where(MemberLanguageAsk.user_id.in_(users[start : start + _CHUNK]))
                    .values(next_ask_at=next_ask_at)
                    .execution_options(synchronize_session=False)
                )


def forget_asks(session: Session, now: dt.datetime) -> int:
    """Delete the claims and holds that ran out a day ago or more (an ask since writes one
    anew). Returns how many."""
    result = session.execute(
        delete(MemberLanguageAsk)
        .where(MemberLanguageAsk.next_ask_at < now - STALE_AFTER)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
