"""Deviations (avvikelser) reported about a case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from domain import disclosure, privacy
from domain.access import Access
from domain.cases.base import DEVIATION_TEXT_MAX, _audit
from domain.clock import Clock, as_utc
from domain.errors import (
    DomainError,
    ForumNotFound,
    IdentifyingDataRefused,
    InputErrors,
    InvalidInput,
    NotAMember,
    NotCoordinator,
)
from domain.forums import active_agencies, forum_schedule, local_today
from domain.i18n import N_, N_plural
from domain.references import no_such_case
from storage.models import (
    Agency,
    AuditAction,
    Case,
    Deviation,
    Forum,
    Member,
    Role,
)

# --- deviations -----------------------------------------------------------------------------

DEVIATION_KINDS: dict[str, str] = {
    "information": N_("Information was not shared"),
    "attendance": N_("An agency did not take part"),
    "routine": N_("A routine was not followed"),
    "delay": N_("Support was delayed"),
    "other": N_("Other"),
}


def find_case_by_reference(session: Session, forum: Forum, reference: str) -> Case | None:
    return session.scalar(
        select(Case).where(
            Case.forum_id == forum.id, func.upper(Case.reference) == reference.strip().upper()
        )
    )


def report_deviation(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    agency_ids: Sequence[int],
    kind: str | None,
    text: str,
    case_reference: str | None,
) -> Deviation:
    forum, member = access.forum, access.member
    errors: dict[str, DomainError] = {}
    texts = {"text": text, "case": case_reference}
    if len(text.strip()) > DEVIATION_TEXT_MAX:  # before the guard reads it
        errors["text"] = InvalidInput(
            N_plural(
                "The description can be at most {n} character.",
                "The description can be at most {n} characters.",
            ),
            field="text",
            n=DEVIATION_TEXT_MAX,
        )
        texts = {"case": case_reference}
    if case_reference and len(case_reference) > 32:
        texts.pop("case", None)  # no reference is that long: "There is no case …" below
    for fld, msgid in privacy.check_fields(texts, today=local_today(forum, clock)).items():
        errors[fld] = IdentifyingDataRefused(msgid, field=fld)
    if not text.strip():
        errors.setdefault(
            "text", InvalidInput(N_("Describe what happened, without names."), field="text")
        )
    if kind not in DEVIATION_KINDS:
        errors["kind"] = InvalidInput(N_("Choose what kind of deviation it is."), field="kind")
    by_id = {a.id: a for a in active_agencies(forum)}
    if not agency_ids or any(a not in by_id for a in agency_ids):
        errors["agencies"] = InvalidInput(N_("Choose the agencies it concerns."), field="agencies")
    case = None
    if case_reference and case_reference.strip() and "case" not in errors:
        case = find_case_by_reference(session, forum, case_reference)
        if case is None:
            errors["case"] = no_such_case(case_reference, field="case")
    if errors:
        raise InputErrors(errors)
    now = clock.now()
    deviation = Deviation(
        forum_id=forum.id,
        reported_by=member.slack_user_id,
        reporting_agency_id=member.agency_id,
        kind=kind or "other",
        text=text.strip(),
        case_id=case.id if case else None,
        created_at=now,
        updated_at=now,
        agencies=[by_id[a] for a in dict.fromkeys(agency_ids)],
    )
    session.add(deviation)
    session.flush()
    _audit(session, clock, access, AuditAction.CREATE, "deviation", str(deviation.id))
    return deviation


# --- following a deviation up -----------------------------------------------------------------
#
# The forum's coordinators follow each deviation up (the BUS agreement: "följa upp
# avvikelserapporter"): what was done or agreed (free text, guarded like every other), an
# outcome, the date. The deviation's view (its text, its follow-up) follows the disclosure
# rule for a deviation's text: coordinators and the reporting agency (surface
# FOLLOW_UP_SURFACE, every look audited). Named by its id alone (a DM's button, App Home), a
# deviation of another forum or workspace is told as one of no id (DeviationNotFound), and
# the attempt is audited as what it is.

FOLLOW_UP_SURFACE = "deviation_follow_up"
FOLLOW_UP_NOTE_MAX = 1000  # the data inventory's limit for deviations.follow_up_note
OPEN_SHOWN = 5  # open deviations listed per forum (the count says how many there are)
FOLLOW_UP_OUTCOMES: dict[str, str] = {
    "agreed": N_("The agencies agreed how to work from now on"),
    "routine": N_("A routine was changed or clarified"),
    "escalated": N_("Raised with the steering group"),
    "no_measure": N_("No further measure needed"),
}


class DeviationNotFound(DomainError):
    """No deviation of that id that this user can reach (none, removed, another forum's,
    another workspace's: the same answer). A deviation is only ever named by its id from a
    DM, App Home or the modal they open, never in a forum's channel, so the words are for a
    DM ("… in this forum" read oddly there)."""

    msgid = N_("That deviation does not exist, or you do not have access to it.")


class NotInDeviationsForum(DeviationNotFound, NotAMember):
    """Told as :class:`DeviationNotFound`, audited as the non-member's attempt it is."""

    msgid = DeviationNotFound.msgid


class DeviationOfAnotherWorkspace(DeviationNotFound, ForumNotFound):
    """Told as :class:`DeviationNotFound`, audited as a request with no forum here."""

    msgid = DeviationNotFound.msgid


class DeviationHidden(DomainError):
    msgid = N_("Only the forum's coordinators and the reporting agency can see this deviation.")


@dataclass(frozen=True)
class DeviationView:
    id: int
    forum_name: str
    kind: str
    agencies: list[str]
    reporting_agency: str | None
    text: str
    case_reference: str | None
    reported_at: dt.datetime
    followed_up_at: dt.datetime | None
    follow_up_note: str | None
    follow_up_outcome: str | None
    followed_up_by: str | None
    may_follow_up: bool
    # Mask the text or the note (domain.corrections.redact's rule: a coordinator who may
    # see it; this view is shown only to who may).
    may_redact: bool = False


@dataclass(frozen=True)
class OpenDeviation:
    """A deviation waiting for its follow-up, as a list shows it: no text."""

    id: int
    kind: str
    agencies: list[str]
    reported_on: dt.date  # the forum's local day


@dataclass(frozen=True)
class OpenDeviations:
    forum_name: str
    total: int
    shown: list[OpenDeviation]


def access_for_deviation(
    session: Session, *, team_id: str, deviation_id: int, slack_user_id: str
) -> Access:
    """The member's access to the forum of a deviation named by its id alone."""
    deviation = session.get(Deviation, deviation_id) if deviation_id > 0 else None
    if deviation is None:
        raise DeviationNotFound()
    forum = session.get(Forum, deviation.forum_id)
    try:
        return disclosure.reader(session, team_id=team_id, forum=forum, slack_user_id=slack_user_id)
    except ForumNotFound:
        raise DeviationOfAnotherWorkspace() from None
    except NotAMember:
        raise NotInDeviationsForum() from None


def _load_deviation(session: Session, access: Access, deviation_id: int) -> Deviation:
    deviation = session.scalar(
        select(Deviation)
        .options(selectinload(Deviation.agencies))
        .where(Deviation.id == deviation_id, Deviation.forum_id == access.forum.id)
    )
    if deviation is None:
        raise DeviationNotFound()
    return deviation


def read_deviation(
    session: Session, clock: Clock, *, access: Access, deviation_id: int
) -> DeviationView:
    """The deviation with its follow-up, for a coordinator or the reporting agency (an
    audited read; anyone else of the forum is refused, audited too)."""
    deviation = _load_deviation(session, access, deviation_id)
    decision = disclosure.disclose(
        session, clock, access, deviation, surface_name=FOLLOW_UP_SURFACE
    )
    if not decision.allowed:
        raise DeviationHidden()
    reporting = (
        session.get(Agency, deviation.reporting_agency_id)
        if deviation.reporting_agency_id is not None
        else None
    )
    case = session.get(Case, deviation.case_id) if deviation.case_id is not None else None
    return DeviationView(
        id=deviation.id,
        forum_name=access.forum.name,
        kind=deviation.kind,
        agencies=[a.name for a in deviation.agencies],
        reporting_agency=reporting.name if reporting is not None else None,
        text=deviation.text,
        case_reference=case.reference if case is not None else None,
        reported_at=deviation.created_at,
        followed_up_at=deviation.followed_up_at,
        follow_up_note=deviation.follow_up_note,
        follow_up_outcome=deviation.follow_up_outcome,
        followed_up_by=deviation.followed_up_by,
        may_follow_up=access.is_coordinator,
        may_redact=access.is_coordinator,
    )


def follow_up_deviation(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    deviation_id: int,
    note: str,
    outcome: str | None,
) -> Deviation:
    """Record (or correct) the follow-up: the forum's coordinators only. Audited."""
    if not access.is_coordinator:
        raise NotCoordinator()
    deviation = _load_deviation(session, access, deviation_id)
    errors: dict[str, DomainError] = {}
    note = note.strip()
    if len(note) > FOLLOW_UP_NOTE_MAX:  # before the guard reads it
        errors["note"] = InvalidInput(
            N_plural(
                "The follow-up can be at most {n} character.",
                "The follow-up can be at most {n} characters.",
            ),
            field="note",
            n=FOLLOW_UP_NOTE_MAX,
        )
    else:
        today = local_today(access.forum, clock)
        for fld, msgid in privacy.check_fields({"note": note}, today=today).items():
            errors[fld] = IdentifyingDataRefused(msgid, field=fld)
    if not note:
        errors["note"] = InvalidInput(
            N_("Write what was done or agreed, without names."), field="note"
        )
    if outcome not in FOLLOW_UP_OUTCOMES:
        errors["outcome"] = InvalidInput(N_("Choose the outcome."), field="outcome")
    if errors:
        raise InputErrors(errors)
    now = clock.now()
    again = deviation.followed_up_at is not None
    deviation.follow_up_note = note
    deviation.follow_up_outcome = outcome
    deviation.followed_up_at = now
    deviation.followed_up_by = access.member.slack_user_id
    deviation.updated_at = now
    _audit(
        session,
        clock,
        access,
        AuditAction.UPDATE,
        "deviation",
        str(deviation.id),
        {"follow_up": "corrected" if again else "recorded", "outcome": outcome},
    )
    return deviation


def open_deviations(session: Session, *, team_id: str, slack_user_id: str) -> list[OpenDeviations]:
    """The deviations waiting for a follow-up in each forum of the workspace where this user
    is a coordinator (App Home): kind, agencies and date only, oldest first."""
    forums = session.scalars(
        select(Forum)
        .join(Member, Member.forum_id == Forum.id)
        .where(
            Forum.team_id == team_id,
            Member.slack_user_id == slack_user_id,
            Member.active.is_(True),
            Member.role.in_((Role.COORDINATOR, Role.ADMIN)),
        )
        .order_by(Forum.name)
    ).all()
    if not forums:
        return []
    # Every forum's waiting deviations in one query: each forum's first OPEN_SHOWN, oldest
    # first, with how many wait there in all (not two queries a forum on every publish).
    waiting = (
        select(
            Deviation.id.label("id"),
            func.row_number()
            .over(
                partition_by=Deviation.forum_id,
                order_by=(Deviation.created_at, Deviation.id),
            )
            .label("n"),
            func.count().over(partition_by=Deviation.forum_id).label("total"),
        )
        .where(
            Deviation.forum_id.in_([f.id for f in forums]),
            Deviation.followed_up_at.is_(None),
        )
        .subquery()
    )
    rows = session.execute(
        select(Deviation, waiting.c.total)
        .join(waiting, waiting.c.id == Deviation.id)
        .where(waiting.c.n <= OPEN_SHOWN)
        .order_by(Deviation.created_at, Deviation.id)
        .options(selectinload(Deviation.agencies))
    ).all()
    by_forum: dict[int, list[Deviation]] = {}
    totals: dict[int, int] = {}
    for deviation, total in rows:
        by_forum.setdefault(deviation.forum_id, []).append(deviation)
        totals[deviation.forum_id] = total
    found: list[OpenDeviations] = []
    for forum in forums:
        if forum.id not in by_forum:
            continue
        zone = forum_schedule(forum).zone
        shown = [
            OpenDeviation(
                d.id,
                d.kind,
                [a.name for a in d.agencies],
                as_utc(d.created_at).astimezone(zone).date(),
            )
            for d in by_forum[forum.id]
        ]
        found.append(OpenDeviations(forum.name, totals[forum.id], shown))
    return found
