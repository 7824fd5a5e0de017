"""Feedback after a case (FOSSAM's evaluation): a short survey to each agency that took part,
reminded once, and the family's view recorded by the raising agency.

When a case is closed (:func:`case_closed`, called from ``domain.cases.change_status``) one
survey row per agency that took part is created, due at once. The scheduler
(:func:`send_due`) claims each due survey (``scheduling.claim``: kind ``feedback_survey``,
then ``feedback_reminder``) and queues the DMs in the outbox, so every DM is sent exactly
once whatever the number of replicas. An agency answers once: the first answer of any of
its members counts, a second is refused.

Results are counts and averages per forum and period (:func:`results`), never per person;
what leaves the forum goes through ``domain.small_numbers``. The free-text comments are only
shown through :func:`disclosed_comments` (the one place that decides who reads them).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Select, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain import audit, disclosure, privacy, scheduling
from domain.access import Access
from domain.calendar import calendar_from_settings, first_working_day
from domain.clock import Clock
from domain.errors import (
    CASE_NOT_FOUND_FROM_DM,
    CaseNotFound,
    DomainError,
    IdentifyingDataRefused,
    InputErrors,
    InvalidInput,
    NotAMember,
    comment_too_long,
)
from domain.forums import forum_schedule, local_today
from domain.i18n import N_, LocaleOf, Renders, Translator
from storage.models import (
    Agency,
    AuditAction,
    Case,
    CaseStatus,
    FamilyView,
    FeedbackSurvey,
    Forum,
    Member,
    Role,
)

QUESTIONS: dict[str, str] = {
    "helped": N_("Did the collaboration help the child or the family?"),
    "right_agencies": N_("Were the right agencies there?"),
    "worth_raising": N_("Was it worth raising the case in the forum?"),
}
SCALE_LABELS: dict[int, str] = {
    1: N_("1 – not at all"),
    2: N_("2"),
    3: N_("3 – partly"),
    4: N_("4"),
    5: N_("5 – fully"),
}
FAMILY_QUESTIONS: dict[str, str] = {
    "heard": N_("Did the family feel heard?"),
    "helped": N_("Did the family get the help they needed?"),
}
ANSWERS = ("yes", "partly", "no")
COMMENT_MAX = 500
REMIND_AFTER_DAYS = 5
SEND_AT = dt.time(9, 0)
SURVEY_KIND = "feedback_survey"
REMINDER_KIND = "feedback_reminder"


class AlreadyAnswered(DomainError):
    msgid = N_("Your agency has already answered this survey. Thank you!")


class SurveyNotFound(DomainError):
    msgid = N_("That survey no longer exists (the case may have been removed).")


class NotYourSurvey(DomainError):
    msgid = N_("This survey is for {agency}. Only its members in the forum can answer it.")


class NotInSurveysForum(SurveyNotFound, NotAMember):
    """The user is no member of the survey's forum: told as :class:`SurveyNotFound`, what a
    survey of no case or of another workspace tells them (naming the agency it is for, or
    answering otherwise, would tell an outsider which agency took part in a case of that
    forum, or that the survey exists), and audited as the non-member's attempt it is (a
    :class:`NotAMember`)."""


class CaseReopened(DomainError):
    """The survey asks about a closed case; one reopened since is not finished, and the
    answer waits for its next close (as the survey's reminder does: :func:`send_due`)."""

    msgid = N_(
        "{reference} has been reopened, so the survey waits until the case is closed again. "
        "Nothing is saved now: answer with the same button once the case is closed."
    )


class FamilyViewRecorded(DomainError):
    msgid = N_("The family's view of this case is already recorded.")


# --- opening and sending ----------------------------------------------------------------------


def case_closed(session: Session, clock: Clock, case: Case) -> int:
    """One survey per agency that took part (raising agency included), due now. Returns how
    many were added.

    A case that is reopened and closed again keeps the surveys it already has (an agency
    answers once per case). While it was open nothing went out (:func:`send_due` sends only
    for closed cases); the new close plans what is left as the first close did: a survey not
    sent yet goes out now, one sent but not answered nor reminded gets its reminder
    :data:`REMIND_AFTER_DAYS` after this close (not at once: the agency saw the survey
    before the reopening, and the reminder's days count from the close it asks about)."""
    agency_ids = list(dict.fromkeys([case.raising_agency_id, *(a.id for a in case.agencies)]))
    now = clock.now()
    pending = session.scalars(
        select(FeedbackSurvey).where(
            FeedbackSurvey.case_id == case.id, FeedbackSurvey.answered_at.is_(None)
        )
    ).all()
    forum = session.get(Forum, case.forum_id)
    for survey in pending:
        if survey.sent_at is None:
            survey.due_at = now
        elif survey.reminded_at is None and forum is not None:
            survey.due_at = _reminder_at(forum, now)
    existing = set(
        session.scalars(select(FeedbackSurvey.agency_id).where(FeedbackSurvey.case_id == case.id))
    )
    added = 0
    for agency_id in agency_ids:
        if agency_id in existing:
            continue
        session.add(
            FeedbackSurvey(forum_id=case.forum_id, case_id=case.id, agency_id=agency_id, due_at=now)
        )
        added += 1
    session.flush()
    return added


@dataclass(frozen=True)
class SurveyInvite:
    """What a survey DM says: the case's reference and the agency, never its details."""

    survey_id: int
    case_id: int
    forum_name: str
    reference: str
    agency: str
    raising_agency: bool
    reminder: bool


class SurveyMessages(Protocol):
    """Block Kit for the DMs (built in handlers; the domain only queues them)."""

    def invite(self, t: Translator, invite: SurveyInvite) -> dict[str, object]: ...


def _representatives(
    session: Session, pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], list[str]]:
    """The active non-reviewer members of each (forum, agency) in ``pairs``, in one read
    (a pass with many due surveys reads them once, not once per survey)."""
    wanted = set(pairs)
    found: dict[tuple[int, int], list[str]] = {pair: [] for pair in wanted}
    if not wanted:
        return found
    rows = session.execute(
        select(Member.forum_id, Member.agency_id, Member.slack_user_id)
        .where(
            Member.forum_id.in_({forum for forum, _agency in wanted}),
            Member.agency_id.in_({agency for _forum, agency in wanted}),
            Member.active.is_(True),
            Member.role != Role.REVIEWER,
        )
        .order_by(Member.id)
    )
    for forum_id, agency_id, user in rows:
        if (forum_id, agency_id) in found:  # not another forum's pair of the two lists
            found[forum_id, agency_id].append(user)
    return found


def _reminder_at(forum: Forum, sent: dt.datetime) -> dt.datetime:
    zone = forum_schedule(forum).zone
    day = sent.astimezone(zone).date() + dt.timedelta(days=REMIND_AFTER_DAYS)
    day = first_working_day(day, calendar_from_settings(forum.settings))
    return dt.datetime.combine(day, SEND_AT, tzinfo=zone).astimezone(dt.UTC)


def _due(
    now: dt.datetime, limit: int, case_id: int | None = None
) -> Select[FeedbackSurvey, Case, Forum, Agency]:
    """The surveys and reminders due at ``now``, oldest first; only the case's with
    ``case_id`` (its surveys are found by the (case_id, agency_id) key's index)."""
    bound = () if case_id is None else (FeedbackSurvey.case_id == case_id,)
    return (
        select(FeedbackSurvey, Case, Forum, Agency)
        .join(Case, Case.id == FeedbackSurvey.case_id)
        .join(Forum, Forum.id == FeedbackSurvey.forum_id)
        .join(Agency, Agency.id == FeedbackSurvey.agency_id)
        .where(
            *bound,
            FeedbackSurvey.due_at.is_not(None),
            FeedbackSurvey.due_at <= now,
            FeedbackSurvey.answered_at.is_(None),
            # A reopened case is not finished: its survey and reminder wait for the next
            # close (:func:`case_closed` plans them again).
            Case.status == CaseStatus.CLOSED,
        )
        .order_by(FeedbackSurvey.due_at, FeedbackSurvey.id)
        .limit(limit)
    )


def due_recipients(
    session: Session, clock: Clock, *, limit: int = 500, case_id: int | None = None
) -> dict[str, list[str]]:
    """The people :func:`send_due` would DM now, by workspace (only reads): a request
    learns their languages before the transaction that queues the DMs. ``case_id``: only
    that case's surveys (:func:`send_due`)."""
    found: dict[str, list[str]] = {}
    rows = session.execute(_due(clock.now(), limit, case_id)).all()
    recipients = _representatives(session, ((f.id, a.id) for _s, _c, f, a in rows))
    for _survey, _case, forum, agency in rows:
        found.setdefault(forum.team_id, []).extend(recipients[forum.id, agency.id])
    return {team: list(dict.fromkeys(users)) for team, users in found.items()}


def send_due(
    session: Session,
    clock: Clock,
    messages: SurveyMessages,
    *,
    replica: str,
    limit: int = 500,
    locale_of: LocaleOf | None = None,
    renders: Renders | None = None,
    case_id: int | None = None,
) -> int:
    """Queue every due survey DM and reminder, each claimed once, each in its recipient's
    language (``locale_of``; the forum's when unknown), rendered once per survey and
    language (``renders``: it names the case's reference and the agency, not the person).
    ``case_id``: only that case's (a request that just closed it sends what the close made
    due, at a cost that does not grow with other forums' due surveys; the scheduler sends
    the rest). Returns how many."""
    renders = renders or Renders()
    now = clock.now()
    rows = session.execute(_due(now, limit, case_id)).all()
    recipients = _representatives(session, ((f.id, a.id) for _s, _c, f, a in rows))
    queued = 0
    for survey, case, forum, agency in rows:
        reminder = survey.sent_at is not None
        due_at = survey.due_at
        assert due_at is not None
        effect = scheduling.claim(
            session,
            clock,
            forum_id=forum.id,
            kind=REMINDER_KIND if reminder else SURVEY_KIND,
            subject=str(survey.id),
            occurrence=due_at,
            due_at=due_at,
            replica=replica,
        )
        if effect is None:
            continue
        invite = SurveyInvite(
            survey_id=survey.id,
            case_id=case.id,
            forum_name=forum.name,
            reference=case.reference,
            agency=agency.name,
            raising_agency=agency.id == case.raising_agency_id,
            reminder=reminder,
        )
        kind = "reminder" if reminder else "survey"
        calls = []
        for user in recipients[forum.id, agency.id]:
            message = renders.to(locale_of, forum, user, messages.invite, invite)
            calls.append((f"feedback_{kind}:{survey.id}:{user}", {"channel": user, **message}))
        scheduling.enqueue_all(
            session, clock, team_id=forum.team_id, method="chat.postMessage", calls=calls
        )
        if reminder:
            survey.reminded_at, survey.due_at = now, None
        else:
            survey.sent_at, survey.due_at = now, _reminder_at(forum, now)
        scheduling.complete(session, clock, effect)
        queued += 1
    return queued


# --- answering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyContext:
    survey_id: int
    forum_id: int
    case_id: int
    reference: str
    agency: str
    answered: bool


def survey_for(session: Session, *, team_id: str, survey_id: int, user: str) -> SurveyContext:
    """The survey a member of its agency is about to answer (else a clear refusal)."""
    row = session.execute(
        select(FeedbackSurvey, Case.reference, Agency.name, Forum.team_id, Case.status)
        .join(Case, Case.id == FeedbackSurvey.case_id)
        .join(Agency, Agency.id == FeedbackSurvey.agency_id)
        .join(Forum, Forum.id == FeedbackSurvey.forum_id)
        .where(FeedbackSurvey.id == survey_id)
    ).first()
    if row is None or row[3] != team_id:
        raise SurveyNotFound()
    survey, reference, agency, _team, status = row
    member = session.scalar(
        select(Member).where(
            Member.forum_id == survey.forum_id,
            Member.slack_user_id == user,
            Member.active.is_(True),
        )
    )
    if member is None:
        raise NotInSurveysForum()
    if member.agency_id != survey.agency_id:
        raise NotYourSurvey(agency=agency)
    if survey.answered_at is None and status is not CaseStatus.CLOSED:
        raise CaseReopened(reference=reference)
    return SurveyContext(
        survey_id=survey.id,
        forum_id=survey.forum_id,
        case_id=survey.case_id,
        reference=reference,
        agency=agency,
        answered=survey.answered_at is not None,
    )


def survey_case(session: Session, survey_id: int) -> int | None:
    """The case a survey asks about (to audit a refused attempt at it); None for no survey."""
    if survey_id <= 0:
        return None
    return session.scalar(select(FeedbackSurvey.case_id).where(FeedbackSurvey.id == survey_id))


def _comment_errors(
    errors: dict[str, DomainError], comment: str | None, today: dt.date
) -> str | None:
    for fld, msgid in privacy.check_fields({"comment": comment}, today=today).items():
        errors[fld] = IdentifyingDataRefused(msgid, field=fld)
    text = " ".join((comment or "").split())
    if len(text) > COMMENT_MAX:
        errors.setdefault("comment", comment_too_long(COMMENT_MAX))
    return text or None


def answer_survey(
    session: Session,
    clock: Clock,
    *,
    team_id: str,
    survey_id: int,
    user: str,
    scores: Mapping[str, int | None],
    comment: str | None,
) -> SurveyContext:
    """Store the agency's answer, once. Nothing is stored when a field is wrong, the
    agency has already answered, or the case was reopened (:class:`CaseReopened`: the
    survey asks about a finished case; the same button works again after the next close)."""
    context = survey_for(session, team_id=team_id, survey_id=survey_id, user=user)
    forum = session.get(Forum, context.forum_id)
    assert forum is not None
    errors: dict[str, DomainError] = {}
    today = clock.now().astimezone(forum_schedule(forum).zone).date()
    text = _comment_errors(errors, comment, today)
    for key in QUESTIONS:
        value = scores.get(key)
        if value is None or not 1 <= value <= 5:
            errors[key] = InvalidInput(N_("Choose a value from 1 to 5."), field=key)
    if context.answered:
        raise AlreadyAnswered()
    if errors:
        raise InputErrors(errors)
    now = clock.now()
    stored = session.scalar(
        update(FeedbackSurvey)
        .where(
            FeedbackSurvey.id == survey_id,
            FeedbackSurvey.answered_at.is_(None),
            # Still closed as the answer is stored (a reopening may commit meanwhile).
            exists().where(Case.id == FeedbackSurvey.case_id, Case.status == CaseStatus.CLOSED),
        )
        .values(
            answered_at=now,
            due_at=None,
            helped=scores["helped"],
            right_agencies=scores["right_agencies"],
            worth_raising=scores["worth_raising"],
            comment=text,
        )
        .returning(FeedbackSurvey.id)
    )
    if stored is None:  # another member answered, or the case was reopened, a moment ago
        if session.scalar(select(Case.status).where(Case.id == context.case_id)) is not (
            CaseStatus.CLOSED
        ):
            raise CaseReopened(reference=context.reference)
        raise AlreadyAnswered()
    member = session.scalar(
        select(Member).where(Member.forum_id == forum.id, Member.slack_user_id == user)
    )
    audit.record(
        session,
        clock,
        actor=user,
        action=AuditAction.CREATE,
        object_type="feedback",
        object_ref=context.reference,
        team_id=forum.team_id,
        forum_id=forum.id,
        actor_agency_id=member.agency_id if member else None,
    )
    return context


def family_view_case(session: Session, *, access: Access, case_id: int) -> Case:
    """The closed case whose family's view a member of the raising agency records."""
    case = session.get(Case, case_id)
    if case is None or case.forum_id != access.forum.id:
        raise CaseNotFound(CASE_NOT_FOUND_FROM_DM)  # asked from the survey's DM
    if case.raising_agency_id != access.member.agency_id:
        raise InvalidInput(N_("Only the agency that raised the case records the family's view."))
    if case.status is not CaseStatus.CLOSED:
        raise InvalidInput(N_("The family's view is recorded once the case is closed."))
    if session.scalar(select(FamilyView.id).where(FamilyView.case_id == case.id)) is not None:
        raise FamilyViewRecorded()
    return case


def record_family_view(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    case_id: int,
    heard: str | None,
    helped: str | None,
    comment: str | None,
) -> FamilyView:
    case = family_view_case(session, access=access, case_id=case_id)
    errors: dict[str, DomainError] = {}
    today = clock.now().astimezone(forum_schedule(access.forum).zone).date()
    text = _comment_errors(errors, comment, today)
    for key, value in (("heard", heard), ("helped", helped)):
        if value not in ANSWERS:
            errors[key] = InvalidInput(N_("Choose yes, partly or no."), field=key)
    if errors:
        raise InputErrors(errors)
    assert heard is not None and helped is not None
    view = FamilyView(
        forum_id=case.forum_id,
        case_id=case.id,
        recorded_by=access.member.slack_user_id,
        recorded_at=clock.now(),
        heard=heard,
        helped=helped,
        comment=text,
    )
    try:
        with session.begin_nested():
            session.add(view)
            session.flush()
    except IntegrityError:
        raise FamilyViewRecorded() from None
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.CREATE,
        object_type="family_view",
        object_ref=case.reference,
    )
    return view


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackResults:
    """Exact figures for one forum and period (mask them before they leave the forum)."""

    surveys_sent: int
    surveys_answered: int
    sums: dict[str, int]
    distributions: dict[str, dict[int, int]]
    family_views: int
    family: dict[str, dict[str, int]] = field(default_factory=dict)

    def mean(self, key: str) -> float | None:
        return self.sums[key] / self.surveys_answered if self.surveys_answered else None


def results(
    session: Session, *, forum_ids: Sequence[int], start: dt.datetime, end: dt.datetime
) -> FeedbackResults:
    """Surveys sent in [start, end) and the answers to them; family views recorded then."""
    rows = session.execute(
        select(
            FeedbackSurvey.answered_at,
            FeedbackSurvey.helped,
            FeedbackSurvey.right_agencies,
            FeedbackSurvey.worth_raising,
        ).where(
            FeedbackSurvey.forum_id.in_(forum_ids),
            FeedbackSurvey.sent_at >= start,
            FeedbackSurvey.sent_at < end,
        )
    ).all()
    sums = dict.fromkeys(QUESTIONS, 0)
    dists: dict[str, Counter[int]] = {k: Counter() for k in QUESTIONS}
    answered = 0
    for answered_at, *scores in rows:
        if answered_at is None:
            continue
        answered += 1
        for key, value in zip(QUESTIONS, scores, strict=True):
            sums[key] += int(value or 0)
            dists[key][int(value or 0)] += 1
    views = session.execute(
        select(FamilyView.heard, FamilyView.helped).where(
            FamilyView.forum_id.in_(forum_ids),
            FamilyView.recorded_at >= start,
            FamilyView.recorded_at < end,
        )
    ).all()
    family = {k: dict.fromkeys(ANSWERS, 0) for k in FAMILY_QUESTIONS}
    for heard, helped in views:
        family["heard"][heard] = family["heard"].get(heard, 0) + 1
        family["helped"][helped] = family["helped"].get(helped, 0) + 1
    return FeedbackResults(
        surveys_sent=len(rows),
        surveys_answered=answered,
        sums=sums,
        distributions={k: {n: dists[k].get(n, 0) for n in range(1, 6)} for k in QUESTIONS},
        family_views=len(views),
        family=family,
    )


@dataclass(frozen=True)
class Comment:
    kind: str  # "agency" or "family"
    text: str


def disclosed_comments(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    start: dt.datetime,
    end: dt.datetime,
) -> list[Comment]:
    """The free-text comments of the period, without references, as the disclosure rule
    allows (surface ``feedback_comments``, audited there): agencies' comments for the forum's
    coordinators, and the family's comments only on cases whose details the reader may see."""
    decision = disclosure.disclose(
        session, clock, access, access.forum, surface_name="feedback_comments"
    )
    if not decision.allowed:
        return []
    forum_id = access.forum.id
    today = local_today(access.forum, clock)
    agency = [
        Comment("agency", c)
        for c in session.scalars(
            select(FeedbackSurvey.comment)
            .where(
                FeedbackSurvey.forum_id == forum_id,
                FeedbackSurvey.answered_at >= start,
                FeedbackSurvey.answered_at < end,
                FeedbackSurvey.comment.is_not(None),
            )
            .order_by(FeedbackSurvey.answered_at)
        )
        if c
    ]
    family = [
        Comment("family", view.comment)
        for view, case in session.execute(
            select(FamilyView, Case)
            .join(Case, Case.id == FamilyView.case_id)
            .where(
                FamilyView.forum_id == forum_id,
                FamilyView.recorded_at >= start,
                FamilyView.recorded_at < end,
                FamilyView.comment.is_not(None),
            )
            .order_by(FamilyView.recorded_at)
        ).all()
        if view.comment and disclosure.case_decision(access, case, today).allowed
    ]
    return agency + family
