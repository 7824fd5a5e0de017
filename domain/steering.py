"""Steering levels (seed 003: nämnd, 2+2 meetings, styrgrupp) and their annual activity plan.

A forum becomes a steering forum by its level (``settings["steering_level"]``) and follows
operational forums of the same workspace (``forum_links``). It sees their figures only —
counts after the small-number rule, never references, details or counts under 5 — so a
steering member who is not in an operational forum never sees that forum's details.

The annual activity plan (aktivitetsplan) holds strategies, goals and sub-goals; its
activities are ordinary actions of the steering forum (owning agency, owner, due date,
reminders, follow-up of effect) linked to a goal. The steering forum's own agenda gets a
steering part (:func:`post_due_supplements`): the roll-up since the last meeting, the
activities due and the goals to follow up, posted once in the agenda's thread.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from domain import actions as action_service
from domain import audit, privacy, review, scheduling
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
from domain.forums import forum_schedule, forum_zone
from domain.i18n import N_, N_plural, Translator, normalize_locale
from domain.statistics import Period
from storage.models import (
    Action,
    ActionStatus,
    Agency,
    AuditAction,
    EffectStatus,
    Forum,
    ForumLink,
    Meeting,
    MeetingStatus,
    PlanItem,
    ScheduledEffect,
    plan_activities,
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


def linked_forums(session: Session, steering: Forum) -> list[Forum]:
    return list(
        session.scalars(
            select(Forum)
            .join(ForumLink, ForumLink.forum_id == Forum.id)
            .where(ForumLink.steering_forum_id == steering.id, Forum.team_id == steering.team_id)
            .order_by(Forum.name)
        )
    )


def candidates(session: Session, steering: Forum) -> list[Forum]:
    """Forums of the same workspace a steering forum may follow (not itself, not steering)."""
    return [
        f
        for f in session.scalars(
            select(Forum).where(Forum.team_id == steering.team_id).order_by(Forum.name)
        )
        if f.id != steering.id and steering_level(f) is None
    ]


@dataclass(frozen=True)
class SteeringChange:
    added: tuple[Forum, ...]
    removed: int


def configure(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    level: str | None,
    forum_ids: Sequence[int],
) -> SteeringChange:
    """Set the level and the operational forums it follows. Nothing is stored when any
    link is refused (another workspace, itself, another steering forum)."""
    if not access.is_coordinator:
        raise NotCoordinator()
    steering = access.forum
    errors: dict[str, DomainError] = {}
    if level is not None and level not in LEVELS:
        errors["steering_level"] = InvalidInput(N_("Choose a level."), field="steering_level")
    wanted = list(dict.fromkeys(forum_ids))
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
        if other is None or other.team_id != steering.team_id:
            errors["steering_forums"] = InvalidInput(
                N_(
                    "That forum is not in this workspace: a steering forum only follows forums "
                    "of its own workspace."
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
    if errors:
        raise InputErrors(errors)
    settings = dict(steering.settings or {})
    if level is None:
        settings.pop("steering_level", None)
    else:
        settings["steering_level"] = level
    steering.settings = settings
    existing = set(
        session.scalars(
            select(ForumLink.forum_id).where(ForumLink.steering_forum_id == steering.id)
        )
    )
    now = clock.now()
    added = [f for f in wanted if f not in existing]
    removed = [f for f in existing if f not in wanted]
    if removed:
        session.execute(
            delete(ForumLink).where(
                ForumLink.steering_forum_id == steering.id, ForumLink.forum_id.in_(removed)
            )
        )
    for forum_id in added:
        session.add(
            ForumLink(
                steering_forum_id=steering.id,
                forum_id=forum_id,
                created_by=access.member.slack_user_id,
                created_at=now,
            )
        )
    session.flush()
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.UPDATE,
        object_type="steering",
        object_ref=steering.code,
        detail={"level": level, "follows": wanted},
    )
    new = tuple(f for f in (session.get(Forum, i) for i in added) if f is not None)
    for forum in new:  # transparency: the operational forum is told who follows its figures
        t = Translator(normalize_locale(forum.language))
        text = t(
            "{steering} ({level}) now follows this forum's figures: counts per period only, "
            "never case references or details, and counts under 5 as \u201cfewer than 5\u201d.",
            steering=steering.name,
            level=t(LEVELS[level or "styrgrupp"]),
        )
        scheduling.enqueue(
            session,
            clock,
            team_id=forum.team_id,
            method="chat.postMessage",
            payload={"channel": forum.channel_id, "text": text},
            dedupe_key=f"steering_link:{steering.id}:{forum.id}:{now.isoformat()}",
        )
    return SteeringChange(added=new, removed=len(removed))


# --- the roll-up of the linked forums' figures ----------------------------------------------


@dataclass(frozen=True)
class ForumFigures:
    forum_name: str
    figures: review.ReviewFigures


def rollup(session: Session, *, steering: Forum, period: Period) -> list[ForumFigures]:
    """Each linked forum's figures for the period, after the small-number rule."""
    return [
        ForumFigures(f.name, review.masked(review.collect(session, forum=f, period=period)))
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


# --- the steering part of the agenda ---------------------------------------------------------


@dataclass(frozen=True)
class Supplement:
    forum_name: str
    period: Period
    rollup: tuple[ForumFigures, ...]
    activities_due: tuple[Activity, ...]
    goals_to_follow_up: tuple[PlanNode, ...]


def supplement(session: Session, clock: Clock, *, forum: Forum, meeting_day: dt.date) -> Supplement:
    period = since_last_meeting(session, clock, forum)
    current = plan(session, forum=forum, year=meeting_day.year)
    due = [
        a
        for node in current.goals()
        for a in node.activities
        if a.status is ActionStatus.OPEN and a.due_on <= meeting_day
    ]
    goals = [
        g
        for g in current.goals()
        if g.result is None and g.follow_up_on is not None and g.follow_up_on <= meeting_day
    ]
    return Supplement(
        forum_name=forum.name,
        period=period,
        rollup=tuple(rollup(session, steering=forum, period=period)),
        activities_due=tuple(due),
        goals_to_follow_up=tuple(goals),
    )


class SupplementMessages(Protocol):
    def supplement(self, t: Translator, supplement: Supplement) -> dict[str, Any]: ...


def post_due_supplements(
    sessions: Callable[[], Session],
    clock: Clock,
    messages: SupplementMessages,
    *,
    replica: str,
) -> int:
    """After a steering forum's agenda is posted: the steering part in its thread, once."""
    now = clock.now()
    with sessions() as session, session.begin():
        steering_ids = [f.id for f in session.scalars(select(Forum)) if steering_level(f)]
        if not steering_ids:
            return 0
        posted = session.execute(
            select(ScheduledEffect.forum_id, ScheduledEffect.occurrence).where(
                ScheduledEffect.kind == "agenda",
                ScheduledEffect.status == EffectStatus.DONE,
                ScheduledEffect.forum_id.in_(steering_ids),
                ScheduledEffect.done_at > now - CATCH_UP,
            )
        ).all()
        done = set(
            session.execute(
                select(ScheduledEffect.forum_id, ScheduledEffect.occurrence).where(
                    ScheduledEffect.kind == SUPPLEMENT,
                    ScheduledEffect.forum_id.in_(steering_ids),
                )
            ).all()
        )
    count = 0
    for forum_id, occurrence in posted:
        if (forum_id, occurrence) in done:
            continue
        with sessions() as session, session.begin():
            effect = scheduling.claim(
                session,
                clock,
                forum_id=forum_id,
                kind=SUPPLEMENT,
                subject="",
                occurrence=occurrence,
                due_at=occurrence,
                replica=replica,
            )
            if effect is None:
                continue
            forum = session.get(Forum, forum_id)
            meeting = session.scalar(
                select(Meeting).where(
                    Meeting.forum_id == forum_id, Meeting.occurrence == occurrence
                )
            )
            if forum is None or meeting is None:
                effect.status = EffectStatus.SKIPPED
                continue
            zone = forum_zone(forum)
            part = supplement(
                session, clock, forum=forum, meeting_day=meeting.starts_at.astimezone(zone).date()
            )
            t = Translator(normalize_locale(forum.language))
            first = f"agenda:{meeting.id}:p0"
            scheduling.enqueue(
                session,
                clock,
                team_id=forum.team_id,
                method="chat.postMessage",
                payload={
                    "channel": forum.channel_id,
                    **messages.supplement(t, part),
                    scheduling.AFTER: first,
                    scheduling.FILL: {"thread_ts": first},
                },
                dedupe_key=f"{SUPPLEMENT}:{meeting.id}",
            )
            scheduling.complete(session, clock, effect)
            count += 1
    return count


# --- the annual report for the board --------------------------------------------------------


def annual_data(
    session: Session, *, forum: Forum, year: int, today: dt.date
) -> tuple[Plan, list[ForumFigures]]:
    period = Period(dt.date(year, 1, 1), min(dt.date(year, 12, 31), today))
    return plan(session, forum=forum, year=year), rollup(session, steering=forum, period=period)


def annual_report(
    session: Session, clock: Clock, *, access: Access, year: int, t: Translator
) -> tuple[Plan, list[ForumFigures]]:
    """What the report holds (plan and the linked forums' figures for the year), audited."""
    _require_steering(access)
    today = clock.now().astimezone(forum_schedule(access.forum).zone).date()
    if year > today.year or year < 2000:
        raise InvalidInput(N_("Choose a year that has begun, e.g. {year}."), year=today.year)
    found = annual_data(session, forum=access.forum, year=year, today=today)
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.EXPORT,
        object_type="annual_report",
        object_ref=access.forum.code,
        detail={"year": year},
    )
    return found


ANNUAL_KIND = "annual_report"
ANNUAL_AT = dt.time(8, 0)
ANNUAL_CATCH_UP = dt.timedelta(days=30)


def send_due_annual_reports(sessions: Callable[[], Session], clock: Clock, *, replica: str) -> int:
    """At year end, by itself: the annual report for the year just ended (PDF and docx) to
    each steering forum's coordinators, on the first working day of January at 08:00; one
    claim row per forum and year, files through the outbox. People are not named in it
    (no Slack look-ups here): activities show their owning agency."""
    from domain.calendar import calendar_from_settings, first_working_day
    from domain.documents import to_docx, to_pdf

    now = clock.now()
    due: list[tuple[int, int, dt.datetime, dt.datetime]] = []
    with sessions() as session, session.begin():
        for candidate in session.scalars(select(Forum)):
            if steering_level(candidate) is None:
                continue
            zone = zoneinfo.ZoneInfo(candidate.timezone)
            today = now.astimezone(zone).date()
            new_year = dt.date(today.year, 1, 1)
            occurrence = dt.datetime.combine(new_year, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
            day = first_working_day(new_year, calendar_from_settings(candidate.settings))
            due_at = dt.datetime.combine(day, ANNUAL_AT, tzinfo=zone).astimezone(dt.UTC)
            if now < due_at or now - due_at > ANNUAL_CATCH_UP or candidate.created_at > occurrence:
                continue
            due.append((candidate.id, today.year - 1, occurrence, due_at))
    sent = 0
    for forum_id, year, occurrence, due_at in due:
        with sessions() as session, session.begin():
            effect = scheduling.claim(
                session,
                clock,
                forum_id=forum_id,
                kind=ANNUAL_KIND,
                subject="",
                occurrence=occurrence,
                due_at=due_at,
                replica=replica,
            )
            if effect is None:
                continue
            steering_forum = session.get(Forum, forum_id)
            assert steering_forum is not None
            forum = steering_forum
            t = Translator(normalize_locale(forum.language))
            plan_, figures = annual_data(
                session, forum=forum, year=year, today=dt.date(year, 12, 31)
            )
            doc = annual_report_document(
                t,
                forum_name=forum.name,
                level=steering_level(forum) or "styrgrupp",
                year=year,
                plan_=plan_,
                figures=figures,
                names=lambda _user: "",
            )
            audit.record(
                session,
                clock,
                actor="samverkan",
                action=AuditAction.EXPORT,
                object_type="annual_report",
                object_ref=forum.code,
                team_id=forum.team_id,
                forum_id=forum.id,
                detail={"year": year, "automatic": True},
            )
            stem = f"verksamhetsberattelse-{forum.code}-{year}"
            files = (("pdf", to_pdf(doc)), ("docx", to_docx(doc)))
            for user in action_service.coordinators(session, forum.id):
                for suffix, data in files:
                    name = f"{stem}.{suffix}"
                    scheduling.enqueue(
                        session,
                        clock,
                        team_id=forum.team_id,
                        method=scheduling.UPLOAD_METHOD,
                        payload=scheduling.upload_payload(
                            channel=user, filename=name, title=name, data=data
                        ),
                        dedupe_key=f"{ANNUAL_KIND}:{forum.id}:{year}:{user}:{suffix}",
                    )
            scheduling.complete(session, clock, effect)
            sent += 1
    return sent


def _result_label(t: Translator, value: str | None) -> str:
    return {"yes": t("Yes"), "partly": t("Partly"), "no": t("No")}.get(value or "", "–")


def _status_label(t: Translator, status: ActionStatus) -> str:
    return {
        ActionStatus.OPEN: t("Open"),
        ActionStatus.DONE: t("Done"),
        ActionStatus.CANCELLED: t("Cancelled"),
    }[status]


def annual_report_document(
    t: Translator,
    *,
    forum_name: str,
    level: str,
    year: int,
    plan_: Plan,
    figures: Sequence[ForumFigures],
    names: Callable[[str], str],
) -> Any:
    """The board's annual report: the plan and what was done against it, then the linked
    forums' figures (after the small-number rule), and room for the analysis."""
    from domain.documents import Blank, Document, Heading, Paragraph, Table

    doc = Document(
        title=t("Annual report {year}: {forum}", year=year, forum=forum_name),
        subtitle=t(
            "{level} · the activity plan and the figures of the forums it follows · counts "
            "under 5 are shown as \u201cfewer than 5\u201d",
            level=t(LEVELS.get(level, level)),
        ),
        page_label=t("Page {page} of {pages}"),
    )
    doc.add(Heading(t("The activity plan: what was done")))
    if not plan_.strategies:
        doc.add(Paragraph(t("The plan has no strategies for the year."), italic=True))
    rows: list[tuple[str, ...]] = []

    def walk(node: PlanNode, depth: int) -> None:
        indent = "  " * depth
        label = t("Strategy") if node.kind == "strategy" else t("Goal")
        rows.append(
            (
                f"{indent}{label}: {node.title}",
                _result_label(t, node.result) if node.kind == "goal" else "",
                node.result_comment or "",
            )
        )
        for activity in node.activities:
            owner = names(activity.owner) if activity.owner else ""
            rows.append(
                (
                    f"{indent}  • {activity.description[:150]}",
                    _status_label(t, activity.status),
                    f"{activity.agency} {owner} · {activity.due_on.isoformat()}"
                    + (f" · {_result_label(t, activity.effect)}" if activity.effect else ""),
                )
            )
        for child in node.children:
            walk(child, depth + 1)

    for strategy in plan_.strategies:
        walk(strategy, 0)
    if rows:
        doc.add(Table((t("Plan"), t("Result"), t("Follow-up")), tuple(rows), (4, 1, 3)))
    doc.add(Heading(t("The forums' figures")))
    summary = tuple(
        (
            f.forum_name,
            f.figures.cases_total.text(t),
            f.figures.cases_closed.text(t),
            f.figures.sip_started.text(t),
            f.figures.actions_done.text(t),
            f.figures.deviations_total.text(t),
            f.figures.surveys_answered.text(t),
        )
        for f in figures
    )
    doc.add(
        Table(
            (
                t("Forum"),
                t("Cases raised"),
                t("Cases closed"),
                t("SIP started"),
                t("Actions done"),
                t("Deviations reported"),
                t("Surveys answered"),
            ),
            summary or ((t("No linked forums"), "", "", "", "", "", ""),),
            (3, 1, 1, 1, 1, 1, 1),
        )
    )
    for forum_figures in figures:
        doc.add(Heading(forum_figures.forum_name, 2))
        review.add_sections(t, doc, forum_figures.figures, level=2)
    doc.add(
        Blank(
            t("Analysis"),
            t("Written by the steering group: what the figures and the plan show."),
        ),
        Blank(
            t("Priorities for next year"),
            t("Written by the steering group: what the next activity plan should hold."),
        ),
    )
    return doc
