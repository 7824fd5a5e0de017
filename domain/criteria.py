"""Case criteria per forum (Samba, seed 004: "checklists that help instead of hinder").

A coordinator keeps a short optional list — at most 8 — of criteria for cases that belong
in the forum, each with an optional help text, from a template (FOSSAM, Samba 0–5 and 6–18,
SSPF) or typed one per line (``criterion | help``). The case modal shows them as optional
checkboxes: never required, skipped by ticking nothing. Statistics count how often each
was met among the cases raised in a period.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from domain import audit, privacy
from domain.access import Access
from domain.clock import Clock
from domain.errors import IdentifyingDataRefused, InputErrors, InvalidInput, NotCoordinator
from domain.forums import forum_schedule
from domain.i18n import N_, N_plural
from storage.models import AuditAction, Case, CaseCriterion, case_criteria_met

MAX_CRITERIA = 8
TEXT_MAX = 75  # Slack's checkbox option text
HELP_MAX = 75  # … and its description
FIELD = "criteria"

Item = tuple[str, str | None]

TEMPLATES: dict[str, tuple[str, tuple[Item, ...]]] = {
    "fossam": (
        N_("FOSSAM (6–16 years)"),
        (
            ("Oro som rör både skola och socialtjänst", "Mer än en verksamhet behöver bidra"),
            ("Barnet är 6–16 år", None),
            ("Hög eller ökande skolfrånvaro", "T.ex. över 10 % den senaste månaden"),
            ("Psykisk ohälsa som påverkar vardagen", None),
            ("Egna insatser har prövats utan tillräcklig effekt", None),
            ("Vårdnadshavare är informerade", "Samtycke behövs för att dela detaljer"),
        ),
    ),
    "samba_0_5": (
        N_("Samba 0–5 years (family centre)"),
        (
            ("Barnet är 0–5 år", None),
            ("Oro för barnets utveckling eller hälsa", "BVC, förskola eller öppen förskola"),
            ("Föräldrar behöver stöd i föräldraskapet", None),
            ("Flera verksamheter behöver samordna sig", None),
            ("Familjen vill ha stöd", "Frivilligt: familjen är med på det"),
        ),
    ),
    "samba_6_18": (
        N_("Samba 6–18 years"),
        (
            ("Barnet eller den unga är 6–18 år", "Främst upp till 16 år"),
            ("Oro i skolan som skolan inte löser själv", None),
            ("Oro i familjen eller på fritiden", None),
            ("Socialtjänst och skola behöver en gemensam bild", None),
            ("Familjen eller den unga vill ha stöd", None),
        ),
    ),
    "sspf": (
        N_("SSPF (school, social services, police, leisure)"),
        (
            ("Ung person 12–18 år i riskzon för kriminalitet", None),
            ("Polisen eller socialtjänsten har en konkret oro", None),
            ("Droger, våld eller kriminella nätverk", None),
            ("Skola eller fritid ser tecken på utanförskap", None),
            ("Vårdnadshavare och den unga har samtyckt", "SSPF kräver samtycke"),
        ),
    ),
}


@dataclass(frozen=True)
class Criterion:
    id: int
    text: str
    help: str | None


@dataclass(frozen=True)
class CriterionCount:
    text: str
    met: int
    active: bool


@dataclass(frozen=True)
class CriteriaStats:
    cases: int  # cases raised in the period
    cases_with_any: int  # … of which someone ticked at least one criterion
    rows: tuple[CriterionCount, ...]


def as_lines(items: Sequence[Item]) -> str:
    """The list as the modal shows it: one per line, ``criterion | help``."""
    return "\n".join(f"{text} | {help}" if help else text for text, help in items)


def parse_lines(raw: str) -> list[Item]:
    items: list[Item] = []
    seen: set[str] = set()
    for line in (raw or "").splitlines():
        text, _, help_text = line.partition("|")
        text, help_text = " ".join(text.split()), " ".join(help_text.split())
        if not text or text.casefold() in seen:
            continue
        seen.add(text.casefold())
        items.append((text, help_text or None))
    return items


def active_criteria(session: Session, forum_id: int) -> list[Criterion]:
    return [
        Criterion(c.id, c.text, c.help)
        for c in session.scalars(
            select(CaseCriterion)
            .where(CaseCriterion.forum_id == forum_id, CaseCriterion.active.is_(True))
            .order_by(CaseCriterion.position, CaseCriterion.id)
        )
    ]


def set_criteria(session: Session, clock: Clock, *, access: Access, raw: str) -> list[Criterion]:
    """Replace the forum's list (coordinators). Nothing changes when anything is wrong."""
    if not access.is_coordinator:
        raise NotCoordinator()
    today = clock.now().astimezone(forum_schedule(access.forum).zone).date()
    for fld, msgid in privacy.check_fields({FIELD: raw}, today=today).items():
        raise InputErrors({fld: IdentifyingDataRefused(msgid, field=fld)})
    items = parse_lines(raw)
    if len(items) > MAX_CRITERIA:
        raise InputErrors(
            {
                FIELD: InvalidInput(
                    N_(
                        "Keep the list short: at most {max} criteria (you wrote {n}). Criteria "
                        "should help, not hinder."
                    ),
                    field=FIELD,
                    max=MAX_CRITERIA,
                    n=len(items),
                )
            }
        )
    for text, help_text in items:
        if len(text) > TEXT_MAX or len(help_text or "") > HELP_MAX:
            raise InputErrors(
                {
                    FIELD: InvalidInput(
                        N_plural(
                            "A criterion and its help text can be at most {n} character "
                            "each: {text}",
                            "A criterion and its help text can be at most {n} characters "
                            "each: {text}",
                        ),
                        field=FIELD,
                        n=TEXT_MAX,
                        text=text[:40],
                    )
                }
            )
    forum_id = access.forum.id
    existing = {
        c.text.casefold(): c
        for c in session.scalars(select(CaseCriterion).where(CaseCriterion.forum_id == forum_id))
    }
    now = clock.now()
    wanted = set()
    for position, (text, help_text) in enumerate(items):
        wanted.add(text.casefold())
        row = existing.get(text.casefold())
        if row is None:
            row = CaseCriterion(forum_id=forum_id, text=text, created_at=now)
            session.add(row)
        row.help, row.position, row.active, row.updated_at = help_text, position, True, now
    for key, row in existing.items():
        if key not in wanted and row.active:
            row.active, row.updated_at = False, now  # kept: earlier cases' ticks still count
    session.flush()
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.UPDATE,
        object_type="case_criteria",
        object_ref=access.forum.code,
        detail={"criteria": len(items)},
    )
    return active_criteria(session, forum_id)


def record_met(session: Session, *, forum_id: int, case_id: int, ids: Sequence[int]) -> None:
    """The criteria the raising member ticked (optional; ids of no criterion of the forum are
    refused). One the coordinator took off the list while the modal was open still counts:
    the member judged the case by it, and an optional checklist never stops a case."""
    if not ids:
        return
    known = set(session.scalars(select(CaseCriterion.id).where(CaseCriterion.forum_id == forum_id)))
    chosen = list(dict.fromkeys(ids))
    if any(i not in known for i in chosen):
        raise InputErrors(
            {FIELD: InvalidInput(N_("Choose criteria from the forum's list."), field=FIELD)}
        )
    session.execute(
        insert(case_criteria_met), [{"case_id": case_id, "criterion_id": i} for i in chosen]
    )


def statistics(
    session: Session, *, forum_id: int, start: dt.datetime, end: dt.datetime
) -> CriteriaStats:
    """How often each criterion was met among the cases raised in [start, end)."""
    cases = int(
        session.scalar(
            select(func.count()).where(
                Case.forum_id == forum_id, Case.created_at >= start, Case.created_at < end
            )
        )
        or 0
    )
    ticks = session.execute(
        select(case_criteria_met.c.case_id, case_criteria_met.c.criterion_id)
        .join(Case, Case.id == case_criteria_met.c.case_id)
        .where(Case.forum_id == forum_id, Case.created_at >= start, Case.created_at < end)
    ).all()
    met = Counter(criterion for _case, criterion in ticks)
    rows = session.scalars(
        select(CaseCriterion)
        .where(CaseCriterion.forum_id == forum_id)
        .order_by(CaseCriterion.active.desc(), CaseCriterion.position, CaseCriterion.id)
    ).all()
    return CriteriaStats(
        cases=cases,
        cases_with_any=len({case for case, _ in ticks}),
        rows=tuple(
            CriterionCount(r.text, met.get(r.id, 0), r.active)
            for r in rows
            if r.active or met.get(r.id)
        ),
    )
