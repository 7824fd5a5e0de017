"""Reading actions: one action with its history, the lists (mine, my agency's, the forum's),
App Home's open actions and a case's actions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, joinedload

from domain import disclosure
from domain.access import Access
from domain.actions.base import (
    _ORDER,
    HOME_MAX,
    PAGE_SIZE,
    ActionPage,
    ActionRow,
    ActionView,
    Filter,
    HistoryEntry,
    Scope,
)
from domain.actions.rights import _load, may_change, may_edit, may_follow_up
from domain.clock import Clock
from domain.forums import (
    local_today,
)
from storage.models import (
    Action,
    ActionEvent,
    ActionStatus,
    Case,
    Forum,
    Member,
)

# --- reading --------------------------------------------------------------------------------


def _row(
    action: Action,
    forum: Forum,
    today: dt.date,
    decision: disclosure.Decision | None = None,
) -> ActionRow:
    """The action for one reader: ``decision`` is the disclosure rule's answer for them
    (None only where nothing is shown to anyone, e.g. the agenda's numbers)."""
    shown = decision is None or decision.allowed
    return ActionRow(
        id=action.id,
        forum_id=forum.id,
        forum_name=forum.name,
        description=action.description if shown else "",
        agency_id=action.owning_agency_id,
        agency=action.owning_agency.name,
        owner=action.owner,
        due_on=action.due_on,
        status=action.status,
        overdue=action.status is ActionStatus.OPEN and action.due_on < today,
        effect=action.effect,
        follow_up_comment=action.follow_up_comment if shown else None,
        followed_up_by=action.followed_up_by,
        case_reference=action.case.reference if action.case else None,
        area=action.area.name if action.area else None,
        hoped_effect=action.hoped_effect if shown else None,
        completed_at=action.completed_at,
        details=shown,
        # Refused by the case rule itself (an active member of the forum), with why:
        # REFUSED, the answer for someone no longer a member, names no case nor reason.
        hidden_why=decision.hidden if not shown and decision is not None else None,
    )


def rows_for(
    session: Session,
    clock: Clock,
    access: Access,
    actions: Sequence[Action],
    *,
    surface: str,
) -> list[ActionRow]:
    """The actions as this reader may see them on ``surface`` (the rule decides and audits)."""
    disclosure.load_cases(session, (a.case_id for a in actions if a.case_id is not None))
    decisions = disclosure.disclose_actions(session, clock, access, actions, surface_name=surface)
    today = local_today(access.forum, clock)
    return [
        dataclasses.replace(
            _row(a, access.forum, today, decisions[a.id]),
            changeable=may_change(a, access),
            followable=may_follow_up(a, access),
        )
        for a in actions
    ]


def rows_for_user(
    session: Session,
    clock: Clock,
    forum: Forum,
    user: str,
    actions: Sequence[Action],
    *,
    surface: str = "action_dm",
) -> list[ActionRow]:
    """Rows for a DM to ``user`` (reminders, digests, hand-over): each action's details only
    where the rule lets that user see them; none when they are no longer a member."""
    access = disclosure.access_of(session, forum, user)
    if access is None:
        today = local_today(forum, clock)
        return [_row(a, forum, today, disclosure.REFUSED) for a in actions]
    return rows_for(session, clock, access, actions, surface=surface)


def _with_links() -> Any:
    return (
        joinedload(Action.owning_agency),
        joinedload(Action.case).load_only(Case.reference),
        joinedload(Action.area),
    )


def _filtered(query: Any, flt: Filter, today: dt.date) -> Any:
    if flt == "open":
        return query.where(Action.status == ActionStatus.OPEN)
    if flt == "overdue":
        return query.where(Action.status == ActionStatus.OPEN, Action.due_on < today)
    if flt == "done":
        return query.where(Action.status == ActionStatus.DONE)
    if flt == "follow_up":
        return query.where(Action.status == ActionStatus.DONE, Action.effect.is_(None))
    return query.where(Action.status != ActionStatus.CANCELLED)


def _key_condition(flt: Filter, key: tuple[str, int], *, forward: bool) -> Any:
    """Rows after ``key`` in the filter's order (``forward``), or before it. Written as
    ``col >= v AND (col > v OR id > i)`` (not a row comparison) so the index range on the
    column is used on both databases."""
    column, descending = _ORDER[flt]
    raw, key_id = key
    value: Any
    if column is Action.completed_at:
        moment = dt.datetime.fromisoformat(raw)
        # Our keys are UTC instants: one without a zone (or out of range once in UTC) is
        # an odd button value, read as none, not left for the column type to refuse.
        if moment.tzinfo is None:
            raise ValueError("a page key's instant has no time zone")
        try:
            value = moment.astimezone(dt.UTC)
        except OverflowError:
            raise ValueError("a page key's instant is out of range") from None
    else:
        value = dt.date.fromisoformat(raw)
    later = forward != descending  # the rows we want sort after the key in ascending terms
    if later:
        return and_(column >= value, or_(column > value, Action.id > key_id))
    return and_(column <= value, or_(column < value, Action.id < key_id))


def list_actions(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    scope: Scope = "mine",
    flt: Filter = "open",
    page: int = 0,
    after: tuple[str, int] | None = None,
    before: tuple[str, int] | None = None,
    page_size: int = PAGE_SIZE,
) -> ActionPage:
    """A page of actions: one query however many actions the forum has and however deep
    the page. Keyed like the case list: the next page starts after the last row's (sort
    value, id), the previous one before the first row's; without a key, the first page."""
    forum = access.forum
    today = local_today(forum, clock)
    query = select(Action).where(Action.forum_id == forum.id)
    if scope == "mine":
        query = query.where(Action.owner == access.member.slack_user_id)
    elif scope == "agency":
        query = query.where(Action.owning_agency_id == access.member.agency_id)
    query = _filtered(query, flt, today)
    column, descending = _ORDER[flt]
    backwards = False
    try:
        if after is not None:
            query = query.where(_key_condition(flt, after, forward=True))
        elif before is not None:
            query = query.where(_key_condition(flt, before, forward=False))
            backwards = True
    except ValueError:  # a key we cannot read (an odd button value): the first page
        after = before = None
    if after is None and before is None:
        page = 0
    page = max(page, 0)
    flip = descending != backwards
    order = (column.desc(), Action.id.desc()) if flip else (column.asc(), Action.id.asc())
    actions = list(
        session.scalars(query.options(*_with_links()).order_by(*order).limit(page_size + 1))
        .unique()
        .all()
    )
    has_more = len(actions) > page_size
    actions = actions[:page_size]
    if backwards:
        if not has_more:  # back at the top: the first page as it is now
            return list_actions(
                session, clock, access=access, scope=scope, flt=flt, page_size=page_size
            )
        actions.reverse()
        has_more = True
    rows = tuple(rows_for(session, clock, access, actions, surface="action_list"))
    return ActionPage(rows=rows, page=page, has_more=has_more, scope=scope, filter=flt)


def read_action(session: Session, clock: Clock, *, access: Access, action_id: int) -> ActionView:
    """The action's details and history (the detail modal): an audited read, decided by the
    disclosure rule; without access to its case's details, history notes are left out."""
    action = _load(session, action_id, forum_id=access.forum.id)
    disclosure.load_cases(session, [action.case_id] if action.case_id else [])
    decision = disclosure.disclose(session, clock, access, action, surface_name="action_detail")
    events = session.scalars(
        select(ActionEvent).where(ActionEvent.action_id == action.id).order_by(ActionEvent.id)
    ).all()
    return ActionView(
        row=_row(action, access.forum, local_today(access.forum, clock), decision),
        history=tuple(
            HistoryEntry(
                e.at, e.actor, e.kind, dict(e.detail or {}), e.note if decision.allowed else None
            )
            for e in events
        ),
        may_change=may_change(action, access),
        may_follow_up=may_follow_up(action, access),
        may_edit=decision.allowed and may_edit(action, access),
        may_redact=decision.allowed and access.is_coordinator,
    )


def action_row(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    action_id: int,
    surface: str = "action_card",
) -> ActionRow:
    """One action for this member (cards, the change modals)."""
    action = _load(session, action_id, forum_id=access.forum.id)
    return rows_for(session, clock, access, [action], surface=surface)[0]


def latest_change(session: Session, *, access: Access, action_id: int) -> HistoryEntry | None:
    """The latest entry of the forum's action's history, without its note (which can carry
    case details): what a card showing a change just made says happened (a hand-over, or a
    move to another agency with its owner kept). None without one."""
    event = session.scalar(
        select(ActionEvent)
        .join(Action, Action.id == ActionEvent.action_id)
        .where(ActionEvent.action_id == action_id, Action.forum_id == access.forum.id)
        .order_by(ActionEvent.id.desc())
        .limit(1)
    )
    if event is None:
        return None
    return HistoryEntry(event.at, event.actor, event.kind, dict(event.detail or {}), None)


def owner_row(session: Session, clock: Clock, *, forum: Forum, action_id: int) -> ActionRow:
    """One action of ``forum`` as a DM to its owner shows it (the note that it is theirs,
    created or handed over): its details only where the rule lets the owner see them
    (:func:`rows_for_user`), whoever made it theirs. An action in a case the owner's
    agency may not see (no consent, no legal ground) is named by its number."""
    action = _load(session, action_id, forum_id=forum.id)
    return rows_for_user(session, clock, forum, action.owner or "", [action])[0]


def owner_in_workspace(
    session: Session, *, team_id: str, action_id: int, asked_by: str
) -> str | None:
    """The owner of the workspace's action ``action_id`` (None: no owner, no such action in
    the workspace, or ``asked_by`` is not an active member of its forum), for the hand-over
    to look the owners' languages up before its transaction. Shown to nobody: the
    hand-over's door decides what happens. Bound to the forum's members, so that the time a
    crafted id of another forum takes (a Slack look-up, or none) tells an outsider nothing
    about whether that action exists and has an owner."""
    return session.scalar(
        select(Action.owner)
        .join(Forum, Forum.id == Action.forum_id)
        .join(
            Member,
            (Member.forum_id == Action.forum_id)
            & (Member.slack_user_id == asked_by)
            & Member.active.is_(True),
        )
        .where(Action.id == action_id, Forum.team_id == team_id)
        .limit(1)
    )


def former_owner_row(
    session: Session, clock: Clock, *, forum: Forum, action_id: int, user: str
) -> ActionRow | None:
    """One action of ``forum`` as a DM to ``user``, who owned it until it was handed over,
    shows it: its details only where the rule lets them see them (:func:`rows_for`, audited
    as the owner's DM is). None when they are no longer an active member of the forum: a
    former member is told nothing about the forum's actions."""
    access = disclosure.access_of(session, forum, user)
    if access is None:
        return None
    action = _load(session, action_id, forum_id=forum.id)
    return rows_for(session, clock, access, [action], surface="action_dm")[0]


def my_open_actions(
    session: Session, clock: Clock, *, team_id: str, slack_user_id: str, limit: int = HOME_MAX
) -> tuple[list[ActionRow], int]:
    """The user's open actions in every forum of the workspace (App Home), soonest first,
    and how many there are in all."""
    where = (
        Action.owner == slack_user_id,
        Action.status == ActionStatus.OPEN,
        Forum.team_id == team_id,
        exists().where(
            Member.forum_id == Action.forum_id,
            Member.slack_user_id == slack_user_id,
            Member.active.is_(True),
        ),
    )
    found = list(
        session.execute(
            select(Action, Forum)
            .join(Forum, Forum.id == Action.forum_id)
            .options(*_with_links())
            .where(*where)
            .order_by(Action.due_on, Action.id)
            .limit(limit)
        ).unique()
    )
    by_forum: dict[int, list[Action]] = defaultdict(list)
    forums: dict[int, Forum] = {}
    for a, f in found:
        by_forum[f.id].append(a)
        forums[f.id] = f
    shown: dict[int, ActionRow] = {}
    for forum_id, listed in by_forum.items():
        for row in rows_for_user(
            session, clock, forums[forum_id], slack_user_id, listed, surface="app_home"
        ):
            shown[row.id] = row
    rows = [shown[a.id] for a, _f in found]
    total = session.scalar(
        select(func.count())
        .select_from(Action)
        .join(Forum, Forum.id == Action.forum_id)
        .where(*where)
    )
    return rows, int(total or 0)


def forum_days(session: Session, clock: Clock, forum_ids: Iterable[int]) -> dict[int, dt.date]:
    """Today in each forum's own time zone."""
    days: dict[int, dt.date] = {}
    for forum_id in sorted(set(forum_ids)):
        forum = session.get(Forum, forum_id)
        if forum is not None:
            days[forum_id] = local_today(forum, clock)
    return days


def actions_for_case(
    session: Session, clock: Clock, *, access: Access, case_id: int
) -> list[ActionRow]:
    """The actions linked to a case (shown in the case view, to members)."""
    found = session.scalars(
        select(Action)
        .options(*_with_links())
        .where(
            Action.forum_id == access.forum.id,
            Action.case_id == case_id,
            Action.status != ActionStatus.CANCELLED,
        )
        .order_by(Action.due_on, Action.id)
        .limit(20)
    ).unique()
    return rows_for(session, clock, access, list(found), surface="case_actions")
