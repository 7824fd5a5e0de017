"""The annual activity plan: goals, activities (as actions) and their follow-up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from domain import actions as action_service
from domain import audit, privacy
from domain.access import Access
from domain.actions import ActionDraft
from domain.clock import Clock
from domain.errors import (
    DomainError,
    IdentifyingDataRefused,
    InputErrors,
    InvalidInput,
    NotCoordinator,
    comment_too_long,
)
from domain.forums import forum_schedule
from domain.i18n import N_, N_plural
from domain.steering.levels import COMMENT_MAX, RESULTS, TITLE_MAX, steering_level
from storage.models import (
    Action,
    ActionStatus,
    Agency,
    AuditAction,
    Forum,
    PlanItem,
    plan_activities,
)

# --- the annual activity plan ---------------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    action_id: int
    description: str
    agency: str
    owner: str | None
    due_on: dt.date
    status: ActionStatus
    effect: str | None


@dataclass
class PlanNode:
    id: int
    kind: str
    title: str
    follow_up_on: dt.date | None
    result: str | None
    result_comment: str | None
    children: list[PlanNode] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    forum_name: str
    year: int
    strategies: tuple[PlanNode, ...]

    def goals(self) -> list[PlanNode]:
        found: list[PlanNode] = []

        def walk(node: PlanNode) -> None:
            for child in node.children:
                found.append(child)
                walk(child)

        for strategy in self.strategies:
            walk(strategy)
        return found


def _require_steering(access: Access) -> None:
    if steering_level(access.forum) is None:
        raise InvalidInput(
            N_(
                "This forum is not a steering forum. A coordinator sets its level with "
                "/samverkan styrning inställningar."
            )
        )


def _check_title(errors: dict[str, DomainError], title: str, today: dt.date) -> str:
    for fld, msgid in privacy.check_fields({"title": title}, today=today).items():
        errors[fld] = IdentifyingDataRefused(msgid, field=fld)
    text = " ".join((title or "").split())
    if not text:
        errors.setdefault("title", InvalidInput(N_("Write a short title."), field="title"))
    elif len(text) > TITLE_MAX:
        errors.setdefault(
            "title",
            InvalidInput(
                N_plural("Keep it under {n} character.", "Keep it under {n} characters."),
                field="title",
                n=TITLE_MAX,
            ),
        )
    return text


def add_item(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    year: int,
    kind: str | None,
    title: str,
    parent_id: int | None,
    follow_up_on: dt.date | None,
) -> PlanItem:
    """A strategy, or a goal under a strategy, or a sub-goal under a goal (coordinators)."""
    _require_steering(access)
    if not access.is_coordinator:
        raise NotCoordinator()
    today = clock.now().astimezone(forum_schedule(access.forum).zone).date()
    errors: dict[str, DomainError] = {}
    text = _check_title(errors, title, today)
    if kind not in ("strategy", "goal"):
        errors["kind"] = InvalidInput(N_("Choose strategy or goal."), field="kind")
    parent = session.get(PlanItem, parent_id) if parent_id else None
    if kind == "goal":
        if parent is None or parent.forum_id != access.forum.id or parent.year != year:
            errors["parent"] = InvalidInput(
                N_("Choose the strategy (or the goal) it belongs to."), field="parent"
            )
    elif parent is not None:
        errors["parent"] = InvalidInput(
            N_("A strategy is at the top: it belongs to nothing."), field="parent"
        )
    if errors:
        raise InputErrors(errors)
    now = clock.now()
    item = PlanItem(
        forum_id=access.forum.id,
        year=year,
        kind=kind or "goal",
        parent_id=parent.id if parent else None,
        title=text,
        position=int(now.timestamp()),
        follow_up_on=follow_up_on if kind == "goal" else None,
        created_by=access.member.slack_user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    session.flush()
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.CREATE,
        object_type="plan_item",
        object_ref=str(item.id),
    )
    return item


def add_activity(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    goal_id: int | None,
    draft: ActionDraft,
    submission_key: str | None = None,
) -> Action:
    """An activity under a goal: an action of the steering forum, linked to the goal."""
    _require_steering(access)
    goal = session.get(PlanItem, goal_id) if goal_id else None
    if goal is None or goal.forum_id != access.forum.id or goal.kind != "goal":
        raise InputErrors(
            {"goal": InvalidInput(N_("Choose the goal the activity serves."), field="goal")}
        )
    action, created = action_service.create_action(
        session, clock, access=access, draft=draft, submission_key=submission_key
    )
    if created:
        session.execute(insert(plan_activities).values(action_id=action.id, plan_item_id=goal.id))
    return action


def follow_up_goal(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    goal_id: int,
    result: str | None,
    comment: str | None,
) -> PlanItem:
    _require_steering(access)
    if not access.is_coordinator:
        raise NotCoordinator()
    goal = session.get(PlanItem, goal_id)
    if goal is None or goal.forum_id != access.forum.id or goal.kind != "goal":
        raise InvalidInput(N_("That goal no longer exists."))
    errors: dict[str, DomainError] = {}
    today = clock.now().astimezone(forum_schedule(access.forum).zone).date()
    for fld, msgid in privacy.check_fields({"comment": comment}, today=today).items():
        errors[fld] = IdentifyingDataRefused(msgid, field=fld)
    if result not in RESULTS:
        errors["result"] = InvalidInput(N_("Choose yes, partly or no."), field="result")
    text = " ".join((comment or "").split())
    if len(text) > COMMENT_MAX:
        errors.setdefault("comment", comment_too_long(COMMENT_MAX))
    if errors:
        raise InputErrors(errors)
    goal.result, goal.result_comment = result, text or None
    goal.followed_up_by, goal.followed_up_at = access.member.slack_user_id, clock.now()
    goal.updated_at = clock.now()
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.UPDATE,
        object_type="plan_item",
        object_ref=str(goal.id),
        detail={"result": result},
    )
    return goal


def plan(session: Session, *, forum: Forum, year: int) -> Plan:
    items = session.scalars(
        select(PlanItem)
        .where(PlanItem.forum_id == forum.id, PlanItem.year == year)
        .order_by(PlanItem.position, PlanItem.id)
    ).all()
    nodes = {
        i.id: PlanNode(i.id, i.kind, i.title, i.follow_up_on, i.result, i.result_comment)
        for i in items
    }
    links = session.execute(
        select(plan_activities.c.plan_item_id, Action, Agency.name)
        .join(Action, Action.id == plan_activities.c.action_id)
        .join(Agency, Agency.id == Action.owning_agency_id)
        .where(plan_activities.c.plan_item_id.in_(list(nodes)))
        .order_by(Action.due_on, Action.id)
    ).all()
    for item_id, action, agency in links:
        nodes[item_id].activities.append(
            Activity(
                action.id,
                action.description,
                agency,
                action.owner,
                action.due_on,
                action.status,
                action.effect.value if action.effect else None,
            )
        )
    roots = []
    for item in items:
        node = nodes[item.id]
        if item.parent_id is None:
            roots.append(node)
        elif item.parent_id in nodes:
            nodes[item.parent_id].children.append(node)
    return Plan(forum.name, year, tuple(roots))
