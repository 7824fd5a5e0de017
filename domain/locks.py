"""Row locks that let writers of a meeting and its cases see each other (PostgreSQL).

Saving a meeting's minutes (:func:`domain.minutes.record_minutes`) and recording a meeting
(:func:`domain.agenda.record_meeting`) read the status of the cases on its agenda and write
for them; closing a case (:func:`domain.cases.change_status`) reads and writes one case. A
writer that read a status without a lock could act on a case closed the moment after (an
action or a follow-up on it, the case reopened as discussed, or rolled over to the next
agenda). So each locks the rows first and reads them as they are then: whichever comes
second waits for the first and sees what it committed.

Recording a meeting also rolls what was not discussed over to the next planned meeting,
and cancelling a meeting hands its items and cases to the next one: a cancel of that next
meeting at the same moment must not be handed nothing while the items land on it (stranded
on a cancelled meeting). So both lock the next meeting's row too
(:func:`domain.meetings.lock_next_meeting`), and a cancel or a move locks its meeting's row.

One order, so that none of them deadlock: a meeting's row first (:func:`lock_meeting`; two
writers of one meeting take turns there), then the row of the next planned meeting after it
(one that starts later: a record's meeting has started, a cancelled or moved one has not),
then the rows of the cases written for, by id (:func:`lock_cases`). Closing a case locks
only that case's row; moving a meeting only its own.

Posting a meeting's agenda (:func:`domain.agenda.posting.post_due`) claims its effect's row,
then locks the meeting's row and reads it again: a schedule edit that removed or cancelled
the meeting, or a cancel, committed first is read there and the agenda is not posted; one
that comes later waits for the post to commit. A re-plan of the forum's meetings
(:func:`domain.meetings.sync_meetings`: the forum's row, then the rows it may move or
remove, soonest first) reads which agendas are out only after those locks, so it keeps the
meeting whose agenda was posted while it waited.

A rating round follows its meeting: cancelling or moving the meeting closes the round or
moves its deadline (:func:`domain.ratings.follow_meeting`), after the meeting's row (and the
next meeting's, for a cancel). Closing a round (at its deadline or early) brings the posted
agenda of its meeting up to date, an update of the meeting's row. So a round's row comes
after its meeting's too: closing locks the meeting first (:func:`lock_round`), and a cancel
or a move at the same moment waits for the close (and finds the round closed) or the close
waits for them (and finds the round closed with its cancelled meeting, or its deadline
moved). Locked the other way round, each held the row the other waited for: a deadlock,
one of the two refused.

FOR NO KEY UPDATE, the lock an UPDATE of these rows takes anyway: rows that only refer to
them (items, entries, actions, history: their foreign keys take FOR KEY SHARE) are not held
up. FOR KEY SHARE would let the close through; FOR SHARE, upgraded by a later update of the
same row, would let two writers deadlock. SQLite's BEGIN IMMEDIATE serialises writers
already: there these locks are no-ops (SQLAlchemy leaves FOR UPDATE out).

A forum's ``settings`` is one JSON value that several writers change a key of (the channel's
reach, the slots' default length and meeting link, the situation picture, the review, the
steering level; the forum's own save merges its calendar keys in SQL). Each reads the value,
changes its key and writes the whole value back: two at once would each write back what
they read, and the one committing last would undo the other's key. So every one of them
goes through :func:`update_forum_settings`, which locks the forum's row and reads the value
again first (:func:`lock_forum_settings`): the second waits for the first and changes its
key in what the first committed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, SessionTransaction

from storage.models import Case, Forum, Meeting, RatingRound


def lock_meeting(session: Session, meeting_id: int) -> Meeting | None:
    """Lock the meeting's row and read it again as it is now (an earlier read in this
    transaction may be stale): a second writer of the meeting waits here for the first,
    then reads what the first committed."""
    return session.scalars(
        select(Meeting)
        .where(Meeting.id == meeting_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).first()


def lock_meetings(session: Session, meeting_ids: Collection[int]) -> None:
    """Lock several meetings' rows, the soonest first (the one order above: a meeting's row
    before a later one's), and read them again (a re-plan of the forum's schedule)."""
    if meeting_ids:
        session.execute(
            select(Meeting)
            .where(Meeting.id.in_(sorted(set(meeting_ids))))
            .order_by(Meeting.starts_at, Meeting.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        ).all()


def lock_cases(session: Session, case_ids: Collection[int]) -> None:
    """Lock the rows of the cases a writer writes for, by id, before their status is read,
    and read them again (populate_existing: a row read earlier in this transaction may be
    stale). A case closed at the same moment either is committed first and read here as
    closed, or its close waits for this writer and closes the case after it."""
    if case_ids:
        session.execute(
            select(Case)
            .where(Case.id.in_(sorted(set(case_ids))))
            .order_by(Case.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        ).all()


def lock_round(session: Session, round_id: int) -> RatingRound | None:
    """Lock a rating round's row, its meeting's row first (the one order above), and read
    both again as they are now."""
    meeting_id = session.scalar(select(RatingRound.meeting_id).where(RatingRound.id == round_id))
    if meeting_id is None:
        return None
    lock_meeting(session, meeting_id)
    return session.scalars(
        select(RatingRound)
        .where(RatingRound.id == round_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


# The forums whose row this transaction has locked (and whose settings it has read since).
_LOCKED_FORUMS = "samverkan_locked_forum_settings"


def lock_forum_settings(session: Session, forum: Forum) -> dict[str, Any]:
    """Lock the forum's row (FOR NO KEY UPDATE, the lock its UPDATE takes anyway) and read
    its ``settings`` again as they stand (a writer that committed since this transaction
    read them); a copy of them. Once per transaction: after that the row is this
    transaction's, and what it holds in memory is what the row will be."""
    locked: set[int] = session.info.setdefault(_LOCKED_FORUMS, set())
    if forum.id not in locked:
        if inspect(forum).attrs.settings.history.has_changes():
            session.flush()  # a change made before the lock is not lost to the read below
        session.refresh(forum, ["settings"], with_for_update={"key_share": True})
        locked.add(forum.id)
    return dict(forum.settings or {})


def update_forum_settings(
    session: Session, forum: Forum, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Change only these keys of the forum's settings (a key given None is removed) in the
    value as the locked row holds it (:func:`lock_forum_settings`): a writer of another key
    at the same moment keeps its key. Returns the settings now."""
    settings = lock_forum_settings(session, forum)
    for key, value in changes.items():
        if value is None:
            settings.pop(key, None)
        else:
            settings[key] = value
    forum.settings = settings  # a new dict: the JSON column sees the change
    return settings


def _forget_locks(session: Session, _transaction: SessionTransaction) -> None:
    # Any end, a savepoint's too: a lock taken inside a savepoint rolled back is released
    # with it. Forgetting too often only costs a read again.
    session.info.pop(_LOCKED_FORUMS, None)


event.listen(Session, "after_transaction_end", _forget_locks)
