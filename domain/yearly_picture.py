"""The municipality's yearly lägesbild and åtgärdsplan for crime prevention (SFS 2023:196,
in force 1 July 2023), composed by a steering forum from the situation pictures and actions
of the operational forums it follows (OSF and the like: forums that rate areas).

Under § 4 the lägesbild holds (1) a mapping of crime, its extent and consequences, (2) other
information that matters and (3) an analysis of the mapping; from it the municipality takes
a position on what is needed and decides an åtgärdsplan, and it keeps a samordningsfunktion.
The forums' rated areas, trends and owned actions are raw material for (1) and the
åtgärdsplan; the analysis, the other information, the priorities and the coordination are
written by people, so the document leaves those sections blank (docx to edit, and a PDF).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from domain import audit, review
from domain.access import Access
from domain.clock import Clock
from domain.documents import Blank, Document, Heading, Paragraph, Picture, Table
from domain.errors import InvalidInput
from domain.forums import forum_schedule, forum_zone
from domain.i18n import N_, Translator
from domain.periods import bounds
from domain.ratings import LEVELS, level_label
from domain.statistics import Period
from domain.steering import linked_forums, steering_level
from storage.models import Action, ActionStatus, Agency, Area, AuditAction, Forum


@dataclass(frozen=True)
class PlanAction:
    forum: str
    area: str | None
    description: str
    agency: str
    owner: str | None
    due_on: dt.date
    status: ActionStatus
    effect: str | None


@dataclass(frozen=True)
class ForumPicture:
    forum: str
    trends: tuple[review.AreaTrend, ...]
    actions: tuple[PlanAction, ...]


def describable_action(action: Action) -> str | None:
    """An action's description for a document that leaves the forums, or None.

    Only actions about an area or a theme (not about a case) are described: a case's action
    may touch the case. This is the one place that decides it; route it to the disclosure
    rule."""
    if action.case_id is not None:
        return None
    return action.description


def _rates(forum: Forum) -> bool:
    return bool((forum.settings or {}).get("situation_picture", "none") != "none")


def collect(session: Session, clock: Clock, *, access: Access, year: int) -> list[ForumPicture]:
    if steering_level(access.forum) is None:
        raise InvalidInput(
            N_(
                "The yearly picture is made in a steering forum that follows the "
                "crime-prevention forums. A coordinator sets it up with /samverkan styrning "
                "inställningar."
            )
        )
    today = clock.now().astimezone(forum_schedule(access.forum).zone).date()
    if not 2000 <= year <= today.year:
        raise InvalidInput(N_("Choose a year that has begun, e.g. {year}."), year=today.year)
    period = Period(dt.date(year, 1, 1), min(dt.date(year, 12, 31), today))
    result = []
    included: list[Forum] = []
    for forum in linked_forums(session, access.forum):
        if not _rates(forum):
            continue
        included.append(forum)
        zone = forum_zone(forum)
        start, end = bounds(zone, period)
        rows = session.execute(
            select(Action, Agency.name, Area.name)
            .join(Agency, Agency.id == Action.owning_agency_id)
            .outerjoin(Area, Area.id == Action.area_id)
            .where(
                Action.forum_id == forum.id,
                Action.case_id.is_(None),
                Action.status != ActionStatus.CANCELLED,
                or_(
                    and_(Action.due_on >= period.start, Action.due_on <= period.end),
                    and_(Action.created_at >= start, Action.created_at < end),
                ),
            )
            .order_by(Area.name, Action.due_on, Action.id)
        ).all()
        actions = []
        for action, agency, area in rows:
            text = describable_action(action)
            if text is None:
                continue
            actions.append(
                PlanAction(
                    forum=forum.name,
                    area=area,
                    description=text,
                    agency=agency,
                    owner=action.owner,
                    due_on=action.due_on,
                    status=action.status,
                    effect=action.effect.value if action.effect else None,
                )
            )
        result.append(
            ForumPicture(
                forum=forum.name,
                trends=review.area_trends(session, forum=forum, start=start, end=end),
                actions=tuple(actions),
            )
        )
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.EXPORT,
        object_type="yearly_picture",
        object_ref=access.forum.code,
        detail={"year": year, "forums": len(result)},
    )
    # Each followed forum's actions about areas (text, owner) leave it in the document: its
    # own log says so, for its reviewers (/samverkan logg, the monthly check), naming the
    # steering forum. The reader is no member there: no agency.
    for forum, picture in zip(included, result, strict=True):
        audit.record(
            session,
            clock,
            actor=access.member.slack_user_id,
            action=AuditAction.EXPORT,
            object_type="yearly_picture",
            object_ref=access.forum.code,
            team_id=forum.team_id,
            forum_id=forum.id,
            detail={"year": year, "actions": len(picture.actions)},
        )
    return result


def _level(t: Translator, value: float | None) -> str:
    if value is None:
        return "–"
    return f"{t.number(value)} {level_label(t, round(value))}"


def document(
    t: Translator,
    *,
    steering_name: str,
    year: int,
    pictures: Sequence[ForumPicture],
    names: Callable[[str], str],
) -> Document:
    from domain.report_charts import trend_png

    doc = Document(
        title=t("Situation picture and action plan {year}", year=year),
        subtitle=t(
            "Crime prevention (SFS 2023:196) · compiled by {forum} from the forums' situation "
            "pictures and actions · a draft for the municipality to complete",
            forum=steering_name,
        ),
        page_label=t("Page {page} of {pages}"),
    )
    doc.add(
        Heading(t("About this document")),
        Paragraph(
            t(
                "Under the Act on municipalities' responsibility for crime prevention (SFS "
                "2023:196) the municipality produces a situation picture (lägesbild) of crime "
                "in its area, takes a position on what is needed, decides an action plan "
                "(åtgärdsplan) and keeps a coordinating function. Section 4: the situation "
                "picture holds (1) a mapping of crime, its extent and consequences, (2) other "
                "information that matters and (3) an analysis of the mapping."
            )
        ),
        Paragraph(
            t(
                "The figures below are the forums' own ratings (1 normal – 5 serious) and their "
                "actions about areas and themes. Actions about individual cases are never "
                "included. The blank sections are written by the municipality."
            ),
            italic=True,
        ),
        Heading(t("1. Situation picture: mapping")),
    )
    if not pictures:
        doc.add(Paragraph(t("No linked forum rates a situation picture."), italic=True))
    names_of_levels = [level_label(t, n) for n in sorted(LEVELS)]
    for picture in pictures:
        doc.add(Heading(picture.forum, 2))
        if not picture.trends:
            doc.add(Paragraph(t("No situation picture was rated in the period."), italic=True))
            continue
        series = [(a.name, [(d.strftime("%d/%m"), v) for d, v in a.points]) for a in picture.trends]
        doc.add(
            Picture(
                trend_png(
                    t("Median level per area and meeting"), series, level_names=names_of_levels
                )
            )
        )
        rows = []
        for area in picture.trends:
            values = [v for _, v in area.points if v is not None]
            highest = max(values) if values else None
            last = values[-1] if values else None
            # Like with like (as the half-year review): an agency that stopped answering
            # does not make the area look better.
            trend = review.trend_label(t, area)
            rows.append((area.name, _level(t, last), _level(t, highest), trend))
        rows_t: tuple[tuple[str, ...], ...] = tuple(rows)
        doc.add(
            Table(
                (t("Area"), t("Latest level"), t("Highest in the year"), t("Trend")),
                rows_t,
                (3, 2, 2, 1),
            )
        )
        note = review.trend_note(t, picture.trends)
        if note:
            doc.add(Paragraph(note, italic=True))
    doc.add(
        Blank(
            t("2. Other information that matters"),
            t(
                "Written by the municipality: e.g. police statistics, surveys, the "
                "residents' sense of safety, information from other actors."
            ),
        ),
        Blank(
            t("3. Analysis of the mapping"),
            t("Written by the municipality: causes, risk and protective factors, who is affected."),
            lines=10,
        ),
        Blank(
            t("Position on what is needed (priorities)"),
            t("Written by the municipality: what the situation picture calls for."),
        ),
        Heading(t("Action plan")),
    )
    status = {
        ActionStatus.OPEN: t("Open"),
        ActionStatus.DONE: t("Done"),
        ActionStatus.CANCELLED: t("Cancelled, not done"),
    }
    effect = {"yes": t("Yes"), "partly": t("Partly"), "no": t("No")}
    plan_rows: list[tuple[str, ...]] = [
        (
            f"{a.forum} · {a.area or '–'}",
            a.description[:300],
            f"{a.agency}" + (f" ({names(a.owner)})" if a.owner else ""),
            a.due_on.isoformat(),
            status[a.status] + (f" · {effect[a.effect]}" if a.effect else ""),
        )
        for picture in pictures
        for a in picture.actions
    ]
    doc.add(
        Table(
            (t("Forum · area"), t("Action"), t("Owner"), t("Due date"), t("Status and effect")),
            tuple(plan_rows) or ((t("No actions about areas in the year."), "", "", "", ""),),
            (2, 4, 2, 1.3, 1.5),
        ),
        Blank(
            t("Decided actions and follow-up"),
            t(
                "Written by the municipality: what it decides, who is responsible, how it is "
                "followed up."
            ),
        ),
        Blank(
            t("Coordinating function"),
            t("Written by the municipality: who coordinates local crime prevention, and how."),
            lines=5,
        ),
    )
    return doc
