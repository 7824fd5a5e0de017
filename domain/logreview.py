"""Audit review (loggkontroll): the forum's audit log, filtered, with flags for unusual
reads, for coordinators and the *granskare*; and the monthly log-check report.

Flags (per read of a case):

* ``outside_agency`` — the reader's agency neither raised the case nor takes part in it,
  and the reader made at least :data:`OUTSIDE_THRESHOLD` such reads in the period;
* ``closed_case``    — the case was closed when it was read;
* ``night``          — read between 22:00 and 06:00 forum-local time.

Looking at the log is itself audited. Nothing here returns case details: references,
people, agencies, actions and times only.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field

from babel.dates import format_date
from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from domain import audit, scheduling
from domain.access import Access
from domain.clock import Clock
from domain.errors import InvalidInput, NotCoordinator, check_date
from domain.forums import forum_schedule, log_reviewers
from domain.i18n import N_, LocaleOf, Renders, Translator
from domain.ids import id_value
from domain.references import REFERENCE_SHAPE
from storage.models import (
    SYSTEM_ACTOR,
    Agency,
    AuditAction,
    AuditEvent,
    Case,
    EffectStatus,
    Forum,
    Member,
    Role,
    ScheduledEffect,
    case_agencies,
)

OUTSIDE_THRESHOLD = 5
NIGHT_START, NIGHT_END = 22, 6
SHOWN = 25
EXPORT_MAX = 50_000
FLAGS = ("outside_agency", "closed_case", "night")
JOB_KIND = "log_check"
USER_RE = re.compile(r"^<@([UW][A-Z0-9]+)(\|[^>]*)?>$|^@?([UW][A-Z0-9]{2,})$")
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def may_review(access: Access) -> bool:
    return access.member.role in (Role.COORDINATOR, Role.ADMIN, Role.REVIEWER)


def require_reviewer(access: Access) -> None:
    if not may_review(access):
        raise NotCoordinator(N_("Only the forum's coordinators and reviewers can do that."))


@dataclass(frozen=True)
class LogFilter:
    user: str | None = None
    agency_id: int | None = None
    reference: str | None = None
    start: dt.date | None = None  # forum-local, inclusive
    end: dt.date | None = None  # forum-local, inclusive

    def describe(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.user:
            out["user"] = self.user
        if self.agency_id:
            out["agency"] = str(self.agency_id)
        if self.reference:
            out["case"] = self.reference
        if self.start:
            out["from"] = self.start.isoformat()
        if self.end:
            out["to"] = self.end.isoformat()
        return out

    def encode(self) -> str:
        """A compact button value (well below Slack's 2000 characters)."""
        return "|".join(
            [
                self.user or "",
                str(self.agency_id or ""),
                self.reference or "",
                self.start.isoformat() if self.start else "",
                self.end.isoformat() if self.end else "",
            ]
        )

    @classmethod
    def decode(cls, value: str) -> LogFilter:
        parts = (value.split("|") + [""] * 5)[:5]
        try:
            return cls(
                user=parts[0] or None,
                agency_id=id_value(parts[1]),
                reference=parts[2] or None,
                start=dt.date.fromisoformat(parts[3]) if parts[3] else None,
                end=dt.date.fromisoformat(parts[4]) if parts[4] else None,
            )
        except ValueError:
            return cls()


def parse_filter(
    words: list[str],
    agencies: list[Agency],
    *,
    reference_example: str,
    period_example: str,
) -> LogFilter:
    """``@user``/``U123``, a case reference, ``2026-11`` (a month), ``2026-11-01``,
    ``2026-11-01..2026-11-30``, and the rest as an agency name (e.g. ``Polis``). A word it
    does not understand is asked about with examples as the forum's own would look
    (``reference_example``: its code, this year; ``period_example``: this month).

    A reference is read in the shape the forms make it (:data:`REFERENCE_SHAPE`, digits 0-9,
    any case): one with other digits names no case in the log, so it is asked about again
    rather than shown as an empty log."""
    user = reference = None
    start = end = None
    rest: list[str] = []
    for word in words:
        match = USER_RE.match(word)
        if match:
            user = match.group(1) or match.group(3)
            continue
        upper = word.upper()
        if REFERENCE_SHAPE.match(upper):
            reference = upper
            continue
        period = _period(word)
        if period is not None:
            start, end = period
            continue
        rest.append(word)
    agency_id = None
    if rest:
        name = " ".join(rest).casefold()
        found = [a for a in agencies if a.name.casefold() == name] or [
            a for a in agencies if a.name.casefold().startswith(name)
        ]
        if len(found) != 1:
            raise InvalidInput(
                N_(
                    "I did not understand {text}. Filter with a person (@name), an agency, "
                    "a case reference ({reference}) or a period ({period} or "
                    "{first}..{last})."
                ),
                text=" ".join(rest)[:60],
                reference=reference_example,
                period=period_example,
                first=f"{period_example}-01",
                last=f"{period_example}-{_last_day(period_example):02d}",
            )
        agency_id = found[0].id
    if start and end and end < start:
        raise InvalidInput(N_("The period ends before it starts."))
    return LogFilter(user=user, agency_id=agency_id, reference=reference, start=start, end=end)


def _last_day(month: str) -> int:
    """The last day of ``month`` ("2026-11" → 30); 30 for a month it cannot read."""
    found = MONTH_RE.match(month)
    if found is None or not 1 <= int(found.group(2)) <= 12:
        return 30
    return calendar.monthrange(int(found.group(1)), int(found.group(2)))[1]


def _check_day(day: dt.date) -> dt.date:
    """A typed day within the years any date here may have (year 1 or 9999 overflowed
    the period's bounds in the forum's zone): :class:`DateOutOfRange` otherwise."""
    check_date(day)
    return day


def _period(word: str) -> tuple[dt.date, dt.date] | None:
    try:
        if ".." in word:
            first, _, last = word.partition("..")
            a, b = _period(first), _period(last)
            if a is None or b is None:
                raise InvalidInput(N_("Write a period as 2026-11-01..2026-11-30."))
            return a[0], b[1]
        month = MONTH_RE.match(word)
        if month:
            year, number = int(month.group(1)), int(month.group(2))
            last_day = calendar.monthrange(year, number)[1]
            return _check_day(dt.date(year, number, 1)), _check_day(dt.date(year, number, last_day))
        if DAY_RE.match(word):
            day = _check_day(dt.date.fromisoformat(word))
            return day, day
    except ValueError:
        raise InvalidInput(N_("{text} is not a date."), text=word[:20]) from None
    return None


@dataclass(frozen=True)
class LogRow:
    at: dt.datetime
    actor: str
    agency: str
    action: AuditAction
    object_type: str
    object_ref: str
    flags: tuple[str, ...]
    # An attempt at a case refused at the door: not a member of its forum, another forum's
    # member, another workspace's user (domain.disclosure.record_refused).
    refused: bool = False


@dataclass(frozen=True)
class FlagSummary:
    actor: str
    kind: str
    count: int


@dataclass
class LogReport:
    forum_name: str
    rows: list[LogRow]
    total: int
    counts: dict[str, int] = field(default_factory=dict)  # by action
    flags: list[FlagSummary] = field(default_factory=list)
    refused: int = 0  # of the events, attempts refused at the door


def _local_bounds(forum: Forum, filt: LogFilter) -> tuple[dt.datetime | None, dt.datetime | None]:
    zone = forum_schedule(forum).zone
    start = (
        dt.datetime.combine(filt.start, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
        if filt.start
        else None
    )
    end = (
        dt.datetime.combine(filt.end + dt.timedelta(days=1), dt.time(0), tzinfo=zone).astimezone(
            dt.UTC
        )
        if filt.end
        else None
    )
    return start, end


def build_report(
    session: Session, forum: Forum, filt: LogFilter, *, limit: int | None = SHOWN
) -> LogReport:
    """The forum's events matching the filter, newest first, with flags."""
    query = select(AuditEvent).where(AuditEvent.forum_id == forum.id)
    if filt.user:
        query = query.where(AuditEvent.actor == filt.user)
    if filt.agency_id:
        query = query.where(AuditEvent.actor_agency_id == filt.agency_id)
    if filt.reference:
        query = query.where(AuditEvent.object_ref == filt.reference)
    start, end = _local_bounds(forum, filt)
    if start:
        query = query.where(AuditEvent.at >= start)
    if end:
        query = query.where(AuditEvent.at < end)
    events = session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())).all()

    agencies = {a.id: a.name for a in session.scalars(select(Agency))}
    refs = {e.object_ref for e in events if e.object_type == "case"}
    cases = {
        c.reference: c
        for c in session.scalars(
            select(Case).where(Case.forum_id == forum.id, Case.reference.in_(refs))
        )
    }
    taking_part: dict[int, set[int]] = {}
    if cases:
        for case_id, agency_id in session.execute(
            select(case_agencies.c.case_id, case_agencies.c.agency_id).where(
                case_agencies.c.case_id.in_([c.id for c in cases.values()])
            )
        ):
            taking_part.setdefault(case_id, set()).add(agency_id)
    zone = forum_schedule(forum).zone

    def outside(event: AuditEvent) -> bool:
        case = cases.get(event.object_ref)
        if case is None or event.actor_agency_id is None:
            return False
        own = event.actor_agency_id
        return own != case.raising_agency_id and own not in taking_part.get(case.id, set())

    reads = [
        e
        for e in events
        if e.action is AuditAction.READ
        and e.object_type == "case"
        and not (e.detail or {}).get("refused")
    ]
    outside_counts = Counter(e.actor for e in reads if outside(e))
    flags_by_event: dict[int, list[str]] = {}
    for e in reads:
        flags: list[str] = []
        if outside(e) and outside_counts[e.actor] >= OUTSIDE_THRESHOLD:
            flags.append("outside_agency")
        case = cases.get(e.object_ref)
        if case is not None and case.closed_at is not None and case.closed_at <= e.at:
            flags.append("closed_case")
        hour = e.at.astimezone(zone).hour
        if hour >= NIGHT_START or hour < NIGHT_END:
            flags.append("night")
        if flags:
            flags_by_event[e.id] = flags
    summary = Counter((e.actor, kind) for e in reads for kind in flags_by_event.get(e.id, []))
    shown = events if limit is None else events[:limit]
    return LogReport(
        forum_name=forum.name,
        rows=[
            LogRow(
                at=e.at,
                actor=e.actor,
                agency=agencies.get(e.actor_agency_id or 0, ""),
                action=e.action,
                object_type=e.object_type,
                object_ref=e.object_ref,
                flags=tuple(flags_by_event.get(e.id, [])) + _refusal_flags(e),
                refused=bool((e.detail or {}).get("refused")),
            )
            for e in shown
        ],
        total=len(events),
        counts=dict(Counter(e.action.value for e in events)),
        refused=sum(1 for e in events if (e.detail or {}).get("refused")),
        flags=[
            FlagSummary(actor, kind, n)
            for (actor, kind), n in sorted(summary.items(), key=lambda x: (-x[1], x[0]))
        ],
    )


def _refusal_flags(event: AuditEvent) -> tuple[str, ...]:
    """``refusal_limit`` on the last refusal of a user written in a day (the attempts after
    it are not written: domain.disclosure.REFUSALS_PER_DAY)."""
    detail = event.detail or {}
    return ("refusal_limit",) if detail.get("refused") and detail.get("limit") else ()


def review(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    filt: LogFilter,
    limit: int | None = SHOWN,
    exported: str | None = None,
) -> LogReport:
    """A coordinator or reviewer looks at (or exports) the log: itself an audited event."""
    require_reviewer(access)
    report = build_report(session, access.forum, filt, limit=limit)
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.EXPORT if exported else AuditAction.READ,
        object_type="audit_log",
        object_ref=access.forum.code,
        detail={
            **_recorded(session, access.forum, filt),
            **({"format": exported} if exported else {}),
        },
    )
    return report


def _recorded(session: Session, forum: Forum, filt: LogFilter) -> dict[str, str]:
    """The filter as the review's event records it: a person and a case reference only as
    the forum's log names them, else "?". What was typed or sent (a personnummer dressed as
    a reference, a name in a crafted export button) never enters the append-only log."""
    described = filt.describe()
    for key, column, value in (
        ("user", AuditEvent.actor, filt.user),
        ("case", AuditEvent.object_ref, filt.reference),
    ):
        named = select(AuditEvent.id).where(AuditEvent.forum_id == forum.id, column == value)
        if value and session.scalar(named.limit(1)) is None:
            described[key] = "?"
    return described


# --- monthly log check ----------------------------------------------------------------------


def first_working_day(year: int, month: int) -> dt.date:
    """The first weekday of the month that is not a Swedish public holiday (nor a de facto
    one such as midsommarafton)."""
    import holidays  # here: only the monthly check needs it, not every process that imports us

    days = holidays.country_holidays("SE", years=year, categories=("public", "de_facto"))
    day = dt.date(year, month, 1)
    while day.weekday() >= 5 or day in days:
        day += dt.timedelta(days=1)
    return day


def previous_month(day: dt.date) -> tuple[dt.date, dt.date]:
    last = day.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last


def monthly_text(
    t: Translator, report: LogReport, *, month: dt.date, anchor: str, channel_id: str
) -> str:
    """The DM to a reviewer: counts and flags (people and kinds), never case details. It
    names the forum's channel: the command it suggests answers only there (typed in this
    DM it would be refused)."""
    month_name = format_date(month, "LLLL y", locale=t.locale)
    lines = [
        t(
            "Monthly log check for {forum}, {month}. Events: {total} (reads: {reads}, "
            "changes: {changes}, exports: {exports}, deletions: {deletes}).",
            forum=report.forum_name,
            month=month_name,
            total=report.total,
            reads=report.counts.get("read", 0),
            changes=report.counts.get("create", 0) + report.counts.get("update", 0),
            exports=report.counts.get("export", 0),
            deletes=report.counts.get("delete", 0),
        )
    ]
    if report.flags:
        lines.append(t("Flags to look at:"))
        for flag in report.flags[:20]:
            lines.append(f"• <@{flag.actor}>: {flag_label(t, flag.kind)} ×{flag.count}")
    else:
        lines.append(t("No unusual reads were flagged."))
    lines.append(
        t(
            "Review the details with {command} in {channel}.",
            command=f"/samverkan logg {month:%Y-%m}",
            channel=f"<#{channel_id}>",
        )
    )
    lines.append(
        t(
            "The audit log's signed head (keep this line: it shows later that nothing before"
            " it was changed or removed): {anchor}",
            anchor=f"`{anchor}`",
        )
    )
    return "\n".join(lines)


def flag_label(t: Translator, kind: str) -> str:
    return {
        "outside_agency": t("many reads of other agencies' cases"),
        "closed_case": t("read a closed case"),
        "night": t("read at night"),
        "refusal_limit": t(
            "the day's limit of logged refusals: later attempts are refused, not logged"
        ),
    }.get(kind, kind)


def chain_anchor(session: Session, clock: Clock, team_id: str) -> str:
    """The workspace chain's signed head as one line (``samverkan audit verify --anchor``
    checks it), after sealing what is committed (unless a sealer is at it right now)."""
    chain = audit.chain_of(team_id)
    audit.seal_chain(session, chain, wait=False, limit=None)
    return audit.anchor(session, clock, chain=chain).line


def send_monthly_reports(
    session: Session, clock: Clock, *, replica: str, locale_of: LocaleOf | None = None
) -> int:
    """On the first working day of each month (forum-local; later if the bot was down):
    one DM per reviewer with last month's summary, exactly once, in the reviewer's language
    (``locale_of``; the forum's when unknown), rendered once per forum and language.
    Returns forums reported."""
    renders = Renders()
    sent = 0
    # Forums whose report for this (forum-local) month is done are skipped in the query, so
    # a pass costs nothing per forum once the month's reports have gone out.
    now = clock.now()
    zones = session.scalars(select(Forum.timezone).distinct()).all()
    done_this_month = (
        select(ScheduledEffect.id)
        .where(
            ScheduledEffect.forum_id == Forum.id,
            ScheduledEffect.kind == JOB_KIND,
            or_(
                *(
                    and_(
                        Forum.timezone == zone,
                        ScheduledEffect.subject
                        == f"{now.astimezone(zoneinfo.ZoneInfo(zone)):%Y-%m}",
                    )
                    for zone in zones
                ),
                false(),
            ),
            ScheduledEffect.status.in_((EffectStatus.DONE, EffectStatus.SKIPPED)),
        )
        .exists()
    )
    forums = session.scalars(
        select(Forum)
        .where(
            select(Member.id)
            .where(
                Member.forum_id == Forum.id,
                Member.active.is_(True),
                Member.role == Role.REVIEWER,
            )
            .exists(),
            ~done_this_month,
        )
        .order_by(Forum.id)
        .limit(50)
    ).all()
    for forum in forums:
        zone = forum_schedule(forum).zone
        today = clock.now().astimezone(zone).date()
        due_day = first_working_day(today.year, today.month)
        if today < due_day:
            continue
        occurrence = dt.datetime.combine(due_day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
        effect = scheduling.claim(
            session,
            clock,
            forum_id=forum.id,
            kind=JOB_KIND,
            subject=f"{today:%Y-%m}",
            occurrence=occurrence,
            due_at=occurrence,
            replica=replica,
        )
        if effect is None:
            continue
        first, last = previous_month(today)
        report = build_report(session, forum, LogFilter(start=first, end=last), limit=0)
        anchor = chain_anchor(session, clock, forum.team_id)
        reviewers = log_reviewers(session, forum)

        # This forum's report, rendered once per language its reviewers read (the
        # template is made per forum: no other forum's report shares its renderings).
        text_of = functools.partial(
            monthly_text,
            report=report,
            month=first,
            anchor=anchor,
            channel_id=forum.channel_id,
        )
        for user in reviewers:
            text = renders.to(locale_of, forum, user, text_of)
            scheduling.enqueue(
                session,
                clock,
                team_id=forum.team_id,
                method="chat.postMessage",
                payload={"channel": user, "text": text},
                dedupe_key=f"log_check:{forum.id}:{today:%Y-%m}:{user}",
            )
        audit.record(
            session,
            clock,
            actor=SYSTEM_ACTOR,
            action=AuditAction.EXPORT,
            object_type="audit_log",
            object_ref=forum.code,
            team_id=forum.team_id,
            forum_id=forum.id,
            detail={"kind": "monthly_log_check", "month": f"{first:%Y-%m}", "to": len(reviewers)},
        )
        scheduling.complete(session, clock, effect, late=today > due_day)
        sent += 1
    return sent
