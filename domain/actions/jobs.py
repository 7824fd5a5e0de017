"""Scheduled work of actions: reminders on working days (claimed once per instant), the
overdue digest, and actions released when their owner leaves."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import exists, func, not_, or_, select, update
from sqlalchemy.orm import Session, joinedload

from domain import audit, disclosure, scheduling
from domain.actions.base import (
    DIGEST_MAX,
    REMINDER_KIND,
    ActionRow,
    _at_morning,
    may_remind_now,
    plan_reminder,
)
from domain.actions.reading import _row, _with_links, rows_for_user
from domain.actions.rights import _history, _load
from domain.clock import Clock
from domain.forums import (
    coordinators,
    is_away,
    local_today,
    stand_in_for,
)
from domain.i18n import Locale, LocaleOf, recipient_locale
from storage.models import (
    Action,
    ActionEvent,
    ActionStatus,
    AuditAction,
    Forum,
    Member,
    OutboxMessage,
    OutboxStatus,
)

# --- scheduled work -------------------------------------------------------------------------


@dataclass(frozen=True)
class StandIn:
    """A reminder goes to a stand-in: the owner it is for, away until and including ``until``."""

    owner: str
    until: dt.date


def reminded(
    session: Session, forum: Forum, owner: str, agency_id: int, today: dt.date
) -> tuple[str, StandIn | None]:
    """Who gets the reminders of ``owner``'s actions of agency ``agency_id`` today: the
    owner, or, while they are marked away (``/samverkan borta``), the stand-in they named,
    when that stand-in is an active member of the owning agency who is not away too. An
    owner away with no such stand-in gets them once back (:func:`_routed`'s last day away)."""
    to, stand_in, _ = _routed(session, forum, owner, agency_id, today)
    return to, stand_in


def _routed(
    session: Session, forum: Forum, owner: str, agency_id: int, today: dt.date
) -> tuple[str, StandIn | None, dt.date | None]:
    member = session.scalar(
        select(Member).where(
            Member.forum_id == forum.id,
            Member.slack_user_id == owner,
            Member.active.is_(True),
        )
    )
    if member is None or not is_away(member, today):
        return owner, None, None
    assert member.away_until is not None  # is_away
    stand_in = stand_in_for(session, member, today, fits=lambda m: m.agency_id == agency_id)
    if stand_in is None:  # named nobody, or the one named cannot take them: held
        return owner, None, member.away_until
    return stand_in.slack_user_id, StandIn(owner, member.away_until), None


def _hold(action: Action, forum: Forum, until: dt.date) -> None:
    """The action's next reminder on the morning after its owner's last day away: then
    it is sent (an overdue one in that day's digest, once), not while they are away."""
    action.remind_at = _at_morning(until + dt.timedelta(days=1), forum)
    action.snoozed_until = None


def absence_changed(
    session: Session,
    clock: Clock,
    *,
    forum: Forum,
    owner: str,
    was_until: dt.date | None,
    until: dt.date | None,
) -> int:
    """``owner`` changed when they are back (or came back early): the reminders held for
    the old back day (:func:`_hold`) are due now, and the next pass sends them or holds
    them for the new day. Returns how many."""
    if was_until is None or was_until == until:
        return 0
    held_for = _at_morning(was_until + dt.timedelta(days=1), forum)
    moved = session.execute(
        update(Action)
        .where(
            Action.forum_id == forum.id,
            Action.owner == owner,
            Action.status == ActionStatus.OPEN,
            Action.remind_at >= held_for - dt.timedelta(seconds=1),
            Action.remind_at <= held_for + dt.timedelta(seconds=1),
        )
        .values(remind_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(moved, "rowcount", 0) or 0)


@dataclass(frozen=True)
class FormerOwner:
    """The owner an action was released from: ``moved_to`` the agency they now represent in
    the forum (moved there), ``unreachable`` when Slack refuses their DMs (their account
    deactivated or gone), else they left the forum."""

    user: str
    moved_to: str | None = None
    unreachable: bool = False


# Slack's answers to a DM whose recipient is gone for good (a deactivated or deleted
# account). ``account_inactive`` is also what every call gets once the bot's own token is
# dead: it counts only when another DM of the workspace went through after it.
USER_GONE = frozenset({"user_not_found", "account_inactive"})
# Reminders refused this long ago or less tell that the owner is gone (older rows: the
# owner may have been given the action again since).
UNREACHABLE_WITHIN = dt.timedelta(days=8)


class ActionMessages(Protocol):
    """Renders the scheduled DMs (Block Kit lives in handlers; bot wires it in)."""

    def reminder(
        self,
        locale: Locale,
        row: ActionRow,
        today: dt.date,
        stand_in_for: StandIn | None = None,
    ) -> dict[str, Any]: ...

    def digest(
        self,
        locale: Locale,
        rows: Sequence[ActionRow],
        total: int,
        today: dt.date,
        stand_in_for: StandIn | None = None,
    ) -> dict[str, Any]: ...

    def released(
        self,
        locale: Locale,
        forum_name: str,
        rows: Sequence[ActionRow],
        former: Mapping[int, FormerOwner],
        today: dt.date,
    ) -> dict[str, Any]:
        """``former``: by action id, the owner it lost and why."""
        ...

    def left_behind(
        self, locale: Locale, rows: Sequence[ActionRow], moved_to: str, today: dt.date
    ) -> dict[str, Any]:
        """To a member moved to agency ``moved_to``: their actions of the old agency stay
        there without them."""
        ...

    def stand_in_gone(
        self, locale: Locale, forum_name: str, owner: str, stand_in: str, until: dt.date
    ) -> dict[str, Any]:
        """To the coordinators: Slack refuses the DMs of ``stand_in``, who stood in for
        ``owner`` (away until and including ``until``): the owner's reminders wait for them."""
        ...

    def stand_in_unreachable(
        self, locale: Locale, forum_name: str, stand_in: str, until: dt.date
    ) -> dict[str, Any]:
        """To the away owner (read when back): ``stand_in``, whom they named, cannot be
        reached in Slack, so their reminders wait for them (away until and including
        ``until``)."""
        ...


def _dm(
    session: Session, clock: Clock, forum: Forum, user: str, payload: dict[str, Any], key: str
) -> None:
    scheduling.enqueue(
        session,
        clock,
        team_id=forum.team_id,
        method="chat.postMessage",
        payload={"channel": user, **payload},
        dedupe_key=key,
    )


def queue_dm(
    session: Session, clock: Clock, forum: Forum, user: str, payload: dict[str, Any], key: str
) -> None:
    """Queue a DM in the outbox inside the caller's transaction, so it is sent (with retries)
    exactly when the change it tells about is stored; ``key`` is its dedupe key."""
    _dm(session, clock, forum, user, payload, key)


def event_key(prefix: str, session: Session, action_id: int) -> str:
    """A dedupe key for the action's latest history event (one message per event)."""
    session.flush()
    latest = session.scalar(
        select(func.max(ActionEvent.id)).where(ActionEvent.action_id == action_id)
    )
    return f"{prefix}:{action_id}:{latest or 0}"


def release_orphaned_actions(
    session: Session,
    clock: Clock,
    messages: ActionMessages,
    *,
    limit: int = 500,
    locale_of: LocaleOf | None = None,
) -> int:
    """Open actions whose owner is no longer an active member of the owning agency (left the
    channel, removed from the forum, moved to another agency) stay with the agency without
    an owner, and the forum's coordinators are told once, each in their language
    (``locale_of``; the forum's when unknown), which owner left and which moved to another
    agency (a coordinator then hands the action over within its agency, or moves it to the
    owner's new one). An away owner's stand-in whose Slack account is gone stands in no
    more: the owner's reminders are held until they are back, and the coordinators told
    once (:func:`_stand_ins_gone`). Returns how many were released."""
    still_member = exists().where(
        Member.forum_id == Action.forum_id,
        Member.slack_user_id == Action.owner,
        Member.agency_id == Action.owning_agency_id,
        Member.active.is_(True),
    )
    candidates = session.execute(
        select(Action.id, Action.owner)
        .where(Action.status == ActionStatus.OPEN, Action.owner.is_not(None), not_(still_member))
        .order_by(Action.id)
        .limit(limit)
    ).all()
    released: dict[int, list[tuple[Action, ActionEvent]]] = defaultdict(list)
    former: dict[int, FormerOwner] = {}
    refused = _refused_recipients(session, clock)
    # An away owner's stand-in who is gone: the owner's reminders wait for the owner.
    _stand_ins_gone(session, clock, messages, refused, locale_of)
    gone = _unreachable_owners(session, refused, limit=limit)
    listed = {action_id for action_id, _ in candidates}
    every = [(i, str(o), False) for i, o in candidates] + [
        (i, o, True) for i, o in gone if i not in listed
    ]
    for action_id, owner, unreachable in every:
        # Conditional: another replica may have released it a moment ago.
        taken = session.scalar(
            update(Action)
            .where(
                Action.id == action_id, Action.owner == owner, Action.status == ActionStatus.OPEN
            )
            .values(owner=None, remind_at=None, snoozed_until=None, updated_at=clock.now())
            .returning(Action.id)
        )
        if taken is None:
            continue
        action = _load(session, action_id)
        session.refresh(action)
        # Still in the forum, for another agency: moved, not gone (what they are told).
        now_in = session.scalar(
            select(Member)
            .options(joinedload(Member.agency))
            .where(
                Member.forum_id == action.forum_id,
                Member.slack_user_id == owner,
                Member.active.is_(True),
            )
        )
        detail: dict[str, Any] = {"from": owner}
        if unreachable:
            former[action.id] = FormerOwner(owner, unreachable=True)
            kind = "owner_unreachable"
        elif now_in is not None and now_in.agency_id != action.owning_agency_id:
            former[action.id] = FormerOwner(owner, moved_to=now_in.agency.name)
            kind, detail["to_agency"] = "owner_moved", now_in.agency.name
        else:
            former[action.id] = FormerOwner(owner)
            kind = "owner_left"
        event = _history(session, clock, action, actor=owner, kind=kind, detail=detail)
        released[action.forum_id].append((action, event))
    for forum_id, items in released.items():
        forum = session.get(Forum, forum_id)
        assert forum is not None
        session.flush()
        first = min(e.id for _, e in items)
        told = coordinators(session, forum_id)
        # A member moved to another agency is told which of their actions stayed behind
        # (else they just vanish from their App Home); the coordinators among them know.
        moved: dict[str, list[Action]] = defaultdict(list)
        for action, _ in items:
            was = former[action.id]
            if was.moved_to and was.user not in told:
                moved[was.user].append(action)
        for user, theirs in moved.items():
            _dm(
                session,
                clock,
                forum,
                user,
                messages.left_behind(
                    recipient_locale(locale_of, forum, user),
                    rows_for_user(session, clock, forum, user, theirs),
                    former[theirs[0].id].moved_to or "",
                    local_today(forum, clock),
                ),
                f"action_left_behind:{forum_id}:{first}:{user}",
            )
        for coordinator in told:
            rows = rows_for_user(session, clock, forum, coordinator, [a for a, _ in items])
            _dm(
                session,
                clock,
                forum,
                coordinator,
                messages.released(
                    recipient_locale(locale_of, forum, coordinator),
                    forum.name,
                    rows,
                    {a.id: former[a.id] for a, _ in items},
                    local_today(forum, clock),
                ),
                f"action_released:{forum_id}:{first}:{coordinator}",
            )
        for action, _ in items:
            audit.record(
                session,
                clock,
                actor="system",
                action=AuditAction.UPDATE,
                object_type="action",
                object_ref=str(action.id),
                team_id=forum.team_id,
                forum_id=forum.id,
                detail={
                    "owner": None,
                    "reason": _reason(former[action.id]),
                },
            )
    return sum(len(v) for v in released.values())


def _reason(former: FormerOwner) -> str:
    if former.unreachable:
        return "owner_unreachable"
    return "owner_moved" if former.moved_to else "owner_left"


@dataclass(frozen=True)
class _Refused:
    """A reminder or overdue digest Slack refused because its recipient's account is gone
    (:data:`USER_GONE`): to ``user``, in forum ``forum_id``, at ``at``; ``action_id`` the
    reminder's action (None for a digest)."""

    forum_id: int
    user: str
    at: dt.datetime
    action_id: int | None


def _refused_recipients(session: Session, clock: Clock) -> list[_Refused]:
    """The reminders and overdue digests Slack refused lately because the account is gone,
    read from the outbox's settled rows, which keep where a DM went and Slack's refusal
    (``account_inactive`` only when another DM of the workspace went through after it: else
    the bot's own token may be dead, and nobody is gone for it)."""
    since = clock.now() - UNREACHABLE_WITHIN
    refused = session.execute(
        select(
            OutboxMessage.team_id,
            OutboxMessage.dedupe_key,
            OutboxMessage.payload,
            OutboxMessage.not_before,
            OutboxMessage.last_error,
        ).where(
            OutboxMessage.status == OutboxStatus.FAILED,
            OutboxMessage.not_before >= since,
            OutboxMessage.method == "chat.postMessage",
            OutboxMessage.last_error.in_(USER_GONE),
            or_(
                OutboxMessage.dedupe_key.like(f"{REMINDER_KIND}:%"),
                OutboxMessage.dedupe_key.like("action_digest:%"),
            ),
        )
    ).all()
    found: list[_Refused] = []
    for team_id, key, payload, at, error in refused:
        user = (payload or {}).get("channel")
        parts = str(key).split(":")
        if not isinstance(user, str) or not user or len(parts) < 3 or not parts[1].isdigit():
            continue
        if error == "account_inactive" and not session.scalar(
            select(
                exists().where(
                    OutboxMessage.team_id == team_id,
                    OutboxMessage.status == OutboxStatus.SENT,
                    OutboxMessage.sent_at >= at,
                )
            )
        ):
            continue  # the bot's own token may be dead: nobody is released for it
        action_id: int | None = None
        if parts[0] == REMINDER_KIND:
            action_id = int(parts[1])
            forum_id = session.scalar(select(Action.forum_id).where(Action.id == action_id))
        else:  # action_digest:{forum}:{owner}:{day}
            forum_id = int(parts[1])
        if forum_id is None:
            continue
        found.append(_Refused(forum_id, user, at, action_id))
    return found


def _unreachable_owners(
    session: Session, refused: Sequence[_Refused], *, limit: int
) -> list[tuple[int, str]]:
    """Open actions (id, owner) whose owner's reminder or overdue digest Slack refused
    lately because the account is gone (:func:`_refused_recipients`), unless someone changed
    the action since (given back, snoozed: then it is theirs to keep)."""
    found: dict[int, str] = {}
    for r in refused:
        for action_id in session.scalars(
            select(Action.id)
            .where(
                Action.forum_id == r.forum_id,
                Action.owner == r.user,
                Action.status == ActionStatus.OPEN,
                Action.updated_at <= r.at,
            )
            .order_by(Action.id)
            .limit(limit)
        ):
            found[action_id] = r.user
    return sorted(found.items())


def _stand_ins_gone(
    session: Session,
    clock: Clock,
    messages: ActionMessages,
    refused: Sequence[_Refused],
    locale_of: LocaleOf | None,
) -> int:
    """An away owner's stand-in whose account is gone (a reminder or digest to them refused,
    :func:`_refused_recipients`) gets none of the owner's reminders any more: the owner
    stands in for by nobody, so their reminders are held until they are back, as when they
    named no usable stand-in (:func:`_routed`); those the refused DMs carried are held too.
    The forum's coordinators are told once (the stand-in cleared by one conditional update,
    whichever replica takes it), and the log says why. Not when the owner named them again
    after the refusal (then it is theirs to try). Returns how many owners."""
    cleared = 0
    for r in refused:
        forum = session.get(Forum, r.forum_id)
        if forum is None:
            continue
        today = local_today(forum, clock)
        stand_in = session.scalar(
            select(Member).where(Member.forum_id == forum.id, Member.slack_user_id == r.user)
        )
        if stand_in is None:
            continue
        owners = session.scalars(
            select(Member)
            .where(
                Member.forum_id == forum.id,
                Member.stand_in_member_id == stand_in.id,
                Member.active.is_(True),
                Member.away_until >= today,
                Member.updated_at <= r.at,
            )
            .order_by(Member.id)
        ).all()
        for owner in owners:
            # Conditional: another replica may have cleared it a moment ago.
            taken = session.scalar(
                update(Member)
                .where(Member.id == owner.id, Member.stand_in_member_id == stand_in.id)
                .values(stand_in_member_id=None, updated_at=clock.now())
                .returning(Member.id)
            )
            if taken is None:
                continue
            session.refresh(owner)
            until = owner.away_until
            assert until is not None  # away (above)
            carried = {x.action_id for x in refused if x.user == r.user and x.action_id}
            for action in session.scalars(
                select(Action).where(
                    Action.forum_id == forum.id,
                    Action.owner == owner.slack_user_id,
                    Action.status == ActionStatus.OPEN,
                    Action.remind_at.is_not(None),
                )
            ):
                held_at = _at_morning(until + dt.timedelta(days=1), forum)
                overdue = action.due_on is not None and action.due_on < today
                assert action.remind_at is not None
                if action.id in carried or overdue or action.remind_at < held_at:
                    _hold(action, forum, until)
            audit.record(
                session,
                clock,
                actor="system",
                action=AuditAction.UPDATE,
                object_type="absence",
                object_ref=owner.slack_user_id,
                team_id=forum.team_id,
                forum_id=forum.id,
                detail={
                    "away_until": until.isoformat(),
                    "stand_in": None,
                    "reason": "stand_in_unreachable",
                },
            )
            # The owner is told once too (read when back, in their language): nobody got
            # their reminders after this, and they come to them when they are back.
            _dm(
                session,
                clock,
                forum,
                owner.slack_user_id,
                messages.stand_in_unreachable(
                    recipient_locale(locale_of, forum, owner.slack_user_id),
                    forum.name,
                    stand_in.slack_user_id,
                    until,
                ),
                f"stand_in_unreachable:{owner.id}:{stand_in.id}:{r.at.isoformat()}:owner",
            )
            for coordinator in coordinators(session, forum.id):
                if coordinator == owner.slack_user_id:
                    continue  # told above, as the owner
                _dm(
                    session,
                    clock,
                    forum,
                    coordinator,
                    messages.stand_in_gone(
                        recipient_locale(locale_of, forum, coordinator),
                        forum.name,
                        owner.slack_user_id,
                        stand_in.slack_user_id,
                        until,
                    ),
                    f"stand_in_unreachable:{owner.id}:{stand_in.id}:{r.at.isoformat()}"
                    f":{coordinator}",
                )
            cleared += 1
    return cleared


def send_reminders(
    session: Session,
    clock: Clock,
    messages: ActionMessages,
    *,
    replica: str,
    limit: int = 500,
    locale_of: LocaleOf | None = None,
) -> int:
    """Claim and queue the reminders that are due (and the overdue digests), each in its
    owner's language (``locale_of``; the forum's when unknown). Returns how many were
    claimed."""
    now = clock.now()
    due = (
        session.scalars(
            select(Action)
            .options(*_with_links())
            .where(
                Action.status == ActionStatus.OPEN,
                Action.owner.is_not(None),
                Action.remind_at <= now,
            )
            .order_by(Action.remind_at, Action.id)
            .limit(limit)
        )
        .unique()
        .all()
    )
    forums: dict[int, Forum] = {}
    overdue_owners: dict[tuple[int, str], bool] = {}
    routes: dict[tuple[int, str, int], tuple[str, StandIn | None, dt.date | None]] = {}
    claimed = 0
    for action in due:
        forum = forums.get(action.forum_id) or session.get(Forum, action.forum_id)
        assert forum is not None and action.owner is not None and action.remind_at is not None
        forums[forum.id] = forum
        if not may_remind_now(forum, clock):
            continue  # weekend, holiday or night: it waits for the next working morning
        snoozed = action.snoozed_until is not None and action.snoozed_until == action.remind_at
        effect = scheduling.claim(
            session,
            clock,
            forum_id=forum.id,
            kind=REMINDER_KIND,
            subject=str(action.id),
            occurrence=action.remind_at,
            due_at=action.remind_at,
            replica=replica,
        )
        today = local_today(forum, clock)
        key = (forum.id, action.owner, action.owning_agency_id)
        if key not in routes:  # one read per owner and pass, however many actions are due
            routes[key] = _routed(session, forum, action.owner, action.owning_agency_id, today)
        to, stand_in, held = routes[key]
        if effect is not None:
            claimed += 1
            row = _row(action, forum, today, disclosure.REFUSED)
            late = now - action.remind_at > dt.timedelta(hours=12)
            if held is not None:
                pass  # away without a stand-in: it waits until they are back (below)
            elif row.overdue and not snoozed:
                overdue_owners[(forum.id, action.owner)] = True
            else:
                row = rows_for_user(session, clock, forum, to, [action])[0]
                _dm(
                    session,
                    clock,
                    forum,
                    to,
                    messages.reminder(recipient_locale(locale_of, forum, to), row, today, stand_in),
                    f"{REMINDER_KIND}:{action.id}:{action.remind_at.isoformat()}",
                )
            scheduling.complete(session, clock, effect, late=late)
        # Done here or by the replica that claimed it (the same either way).
        if held is not None:
            _hold(action, forum, held)
        else:
            plan_reminder(action, forum, clock)
    for forum_id, owner in overdue_owners:
        _send_digest(session, clock, messages, forums[forum_id], owner, locale_of)
    return claimed


def _send_digest(
    session: Session,
    clock: Clock,
    messages: ActionMessages,
    forum: Forum,
    owner: str,
    locale_of: LocaleOf | None,
) -> None:
    """One DM a day per owner with all their overdue actions in the forum (to their
    stand-in while they are away, :func:`reminded`)."""
    today = local_today(forum, clock)
    where = (
        Action.forum_id == forum.id,
        Action.owner == owner,
        Action.status == ActionStatus.OPEN,
        Action.due_on < today,
    )
    found = (
        session.scalars(
            select(Action)
            .options(*_with_links())
            .where(*where)
            .order_by(Action.due_on, Action.id)
            .limit(DIGEST_MAX)
        )
        .unique()
        .all()
    )
    total = int(session.scalar(select(func.count()).select_from(Action).where(*where)) or 0)
    if not found:
        return
    # While the owner is away: their stand-in in the agency of the actions (of the first,
    # the most overdue; an owner's actions are of the agency they represent).
    to, stand_in = reminded(session, forum, owner, found[0].owning_agency_id, today)
    rows = rows_for_user(session, clock, forum, to, found)
    _dm(
        session,
        clock,
        forum,
        to,
        messages.digest(recipient_locale(locale_of, forum, to), rows, total, today, stand_in),
        f"action_digest:{forum.id}:{owner}:{today.isoformat()}",
    )
