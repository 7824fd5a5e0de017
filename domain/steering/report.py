"""The annual report for the board: the plan and the figures, written and sent by itself."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from domain import audit, review, scheduling
from domain.access import Access
from domain.clock import Clock
from domain.errors import (
    InvalidInput,
)
from domain.forums import coordinator_locales, forum_schedule
from domain.i18n import N_, LocaleOf, Translator, per_language
from domain.statistics import Period
from domain.steering.activity_plan import Plan, PlanNode, _require_steering, plan
from domain.steering.levels import LEVELS, ForumFigures, is_steering, rollup, steering_level
from storage.db import reading
from storage.models import (
    SYSTEM_ACTOR,
    ActionStatus,
    AuditAction,
    Forum,
)

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


def _utc_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


def _new_year_due(now: dt.datetime) -> dt.date | None:
    """The 1 January whose annual reports may be due now, or None. Due on the first
    working day on or after it (at most 30 days later, ``first_working_day``) at 08:00 in
    the forum's zone, and caught up for 30 days: so only from that 1 January to early
    March, give or take a day for the zones."""
    for year in (now.year, now.year + 1):
        new_year = dt.date(year, 1, 1)
        if (
            _utc_day(new_year) - dt.timedelta(days=1)
            <= now
            <= _utc_day(new_year) + dt.timedelta(days=63)
        ):
            return new_year
    return None


class _AnnualDue(NamedTuple):
    """A steering forum's annual report that is due (the year it reports on)."""

    forum_id: int
    year: int
    occurrence: dt.datetime
    due_at: dt.datetime


def send_due_annual_reports(
    sessions: sessionmaker[Session],
    clock: Clock,
    *,
    replica: str,
    locale_of: LocaleOf | None = None,
) -> int:
    """At year end, by itself: the annual report for the year just ended (PDF and docx) to
    each steering forum's coordinators, each in their language (``locale_of``; the forum's
    when unknown), on the first working day of January at 08:00; one claim row per forum
    and year, files through the outbox. People are not named in it (no Slack look-ups of
    names here): activities show their owning agency."""
    from domain.calendar import calendar_from_settings, first_working_day
    from domain.documents import to_docx, to_pdf

    now = clock.now()
    january = _new_year_due(now)
    if january is None:
        return 0  # outside the new year's weeks nothing can be due: nothing is read
    # Reported already (this new year's occurrence is local midnight, within a day of it).
    reported = scheduling.settled_near(Forum.id, ANNUAL_KIND, _utc_day(january))
    due: list[_AnnualDue] = []
    with reading(sessions) as session:  # finding what is due only reads
        # Steering forums there at the new year and not yet reported to: the other forums
        # are never loaded.
        for candidate in session.scalars(
            select(Forum)
            .where(
                is_steering(),
                Forum.created_at <= _utc_day(january) + dt.timedelta(days=1),
                ~reported,
            )
            .order_by(Forum.id)
        ):
            zone = zoneinfo.ZoneInfo(candidate.timezone)
            today = now.astimezone(zone).date()
            new_year = dt.date(today.year, 1, 1)
            occurrence = dt.datetime.combine(new_year, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
            day = first_working_day(new_year, calendar_from_settings(candidate.settings))
            due_at = dt.datetime.combine(day, ANNUAL_AT, tzinfo=zone).astimezone(dt.UTC)
            if now < due_at or now - due_at > ANNUAL_CATCH_UP or candidate.created_at > occurrence:
                continue
            due.append(_AnnualDue(candidate.id, today.year - 1, occurrence, due_at))

    def report(session: Session, item: _AnnualDue) -> bool:
        steering_forum = session.get(Forum, item.forum_id)
        assert steering_forum is not None
        forum = steering_forum
        plan_, figures = annual_data(
            session, forum=forum, year=item.year, today=dt.date(item.year, 12, 31)
        )
        languages = coordinator_locales(session, forum, locale_of)
        audit.record(
            session,
            clock,
            actor=SYSTEM_ACTOR,
            action=AuditAction.EXPORT,
            object_type="annual_report",
            object_ref=forum.code,
            team_id=forum.team_id,
            forum_id=forum.id,
            detail={"year": item.year, "automatic": True},
        )
        stem = f"verksamhetsberattelse-{forum.code}-{item.year}"

        def rendered_in(t: Translator) -> tuple[tuple[str, bytes], ...]:
            doc = annual_report_document(
                t,
                forum_name=forum.name,
                level=steering_level(forum) or "styrgrupp",
                year=item.year,
                plan_=plan_,
                figures=figures,
                names=lambda _user: "",
            )
            return (f"{stem}.pdf", to_pdf(doc)), (f"{stem}.docx", to_docx(doc))

        # One document per language the coordinators read.
        rendered = per_language(languages.values(), rendered_in)
        for user, locale in languages.items():
            scheduling.enqueue_files(
                session,
                clock,
                team_id=forum.team_id,
                users=[user],
                files=rendered[locale],
                key=f"{ANNUAL_KIND}:{forum.id}:{item.year}",
            )
        return True

    return scheduling.each_claimed(
        sessions, clock, due, kind=ANNUAL_KIND, replica=replica, act=report
    )


def _result_label(t: Translator, value: str | None) -> str:
    return {"yes": t("Yes"), "partly": t("Partly"), "no": t("No")}.get(value or "", "–")


def _status_label(t: Translator, status: ActionStatus) -> str:
    return {
        ActionStatus.OPEN: t("Open"),
        ActionStatus.DONE: t("Done"),
        ActionStatus.CANCELLED: t("Cancelled, not done"),
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
            f.figures.cases_discussed.text(t),
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
                t("Cases discussed"),
                t("Cases closed"),
                t("SIP started"),
                t("Actions done"),
                t("Deviations reported"),
                t("Surveys answered"),
            ),
            summary or ((t("No linked forums"), "", "", "", "", "", "", ""),),
            (3, 1, 1, 1, 1, 1, 1, 1),
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
