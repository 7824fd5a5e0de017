"""Answering a rating round: the form an agency's representative fills in, saving the
answers (escalating high levels at once), and being away with a stand-in."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, object_session

from domain import audit, privacy, scheduling
from domain.access import Access
from domain.clock import Clock
from domain.errors import (
    DomainError,
    ForumNotFound,
    IdentifyingDataRefused,
    InputErrors,
    InvalidInput,
    NotAMember,
)
from domain.forums import is_away, stand_in_for
from domain.i18n import N_, N_plural, When
from domain.ratings.settings import (
    COMMENT_MAX,
    ESCALATE_AT,
    JUMP,
    LEVELS,
    OBSERVATION_MAX,
    _away,
    _zone,
    local_today,
)
from storage.models import (
    Agency,
    Area,
    AuditAction,
    Forum,
    Meeting,
    MeetingStatus,
    Member,
    OutboxMessage,
    Rating,
    RatingObservation,
    RatingRound,
    RatingRoundStatus,
    Role,
)

# --- answering --------------------------------------------------------------------------------


class RoundClosed(DomainError):
    msgid = N_(
        "Thank you! This rating round closed on {closed}, so your answer could not be "
        "included in the situation picture. You are welcome to raise it at the meeting."
    )


class RoundNotFound(DomainError):
    msgid = N_("That rating round does not exist in this forum.")


# What the rating invitation's button, pressed in a DM (no forum's channel), tells anyone it
# does not open a round for: removed, another forum's or workspace's, none. One answer for
# all, so it says nothing of which.
ROUND_NOT_FOUND_FROM_DM = N_("That rating round does not exist, or you do not have access to it.")


class NotInRoundsForum(RoundNotFound, NotAMember):
    """A round, named by its id alone (the DM's rating button, the rating modal, the
    comments button), of a forum the user is not in: told as :class:`RoundNotFound` (a
    different answer would tell them that a round of that id exists), and audited as the
    non-member's attempt it is (a :class:`NotAMember`)."""


class RoundOfAnotherWorkspace(RoundNotFound, ForumNotFound):
    """A round, named by its id alone, of another workspace's forum: told as
    :class:`RoundNotFound`, and audited as a request with no forum here (a
    :class:`ForumNotFound`)."""


class NotRepresented(DomainError):
    msgid = N_(
        "You do not represent {agency} in this forum, so you cannot rate for it. "
        "Ask the forum's coordinator if this is wrong."
    )


@dataclass(frozen=True)
class FormRow:
    area_id: int
    name: str
    level: int | None  # this round's current answer
    comment: str | None
    previous: int | None  # the agency's latest rating in an earlier round


@dataclass(frozen=True)
class RatingForm:
    round_id: int
    agency_id: int
    agency_name: str
    forum_name: str
    meeting_start: dt.datetime
    deadline_at: dt.datetime
    timezone: str
    rows: tuple[FormRow, ...]
    answered_by: str | None  # who gave the current answer (their own agency sees it)
    observation: str | None = None  # what the agency sees right now (its current answer)


def _load_round(
    session: Session, forum: Forum, round_id: int, *, lock: bool = False
) -> RatingRound:
    query = select(RatingRound).where(RatingRound.id == round_id, RatingRound.forum_id == forum.id)
    if lock:
        query = query.with_for_update()
    rating_round = session.scalar(query.execution_options(populate_existing=True))
    if rating_round is None:
        raise RoundNotFound()
    return rating_round


class MeetingCancelled(RoundClosed):
    msgid = N_(
        "Thank you! The meeting this rating round was for is cancelled, so the round is "
        "closed and there is no situation picture for it."
    )


class MeetingHeld(RoundClosed):
    msgid = N_(
        "This rating round closed on {closed}, and the meeting it was for has been held "
        "({day}). The next round comes with an invitation of its own."
    )


def _require_open(rating_round: RatingRound, forum: Forum, clock: Clock) -> None:
    if rating_round.status is RatingRoundStatus.OPEN and rating_round.deadline_at > clock.now():
        return
    session = object_session(rating_round)
    meeting = session.get(Meeting, rating_round.meeting_id) if session is not None else None
    if (
        meeting is not None
        and rating_round.status is RatingRoundStatus.CLOSED
        and meeting.status is MeetingStatus.CANCELLED
    ):
        raise MeetingCancelled()  # its round closed with it (closing.follow_meeting)
    closed = rating_round.closed_at or rating_round.deadline_at
    if meeting is not None and meeting.starts_at <= clock.now():
        # Not "raise it at the meeting": the meeting is over (an old invitation's button).
        raise MeetingHeld(
            closed=When(closed, _zone(forum)), day=When(meeting.starts_at, _zone(forum))
        )
    raise RoundClosed(closed=When(closed, _zone(forum)))  # in the reader's language


def _require_agency(access: Access, agency_id: int | None) -> Agency:
    agency = access.member.agency
    if agency_id is not None and agency_id != access.member.agency_id:
        other = next((a for a in access.forum.agencies if a.id == agency_id), None)
        raise NotRepresented(agency=other.name if other else "?")
    if not agency.active:
        raise NotRepresented(agency=agency.name)
    return agency


def _previous_levels(session: Session, rating_round: RatingRound, agency_id: int) -> dict[int, int]:
    """The agency's latest current rating per area from any earlier closed round of the
    forum (an agency that skipped the last round still has its rating from before), in one
    query."""
    ranked = (
        select(
            Rating.area_id.label("area_id"),
            Rating.level.label("level"),
            func.row_number()
            .over(
                partition_by=Rating.area_id,
                order_by=(Meeting.starts_at.desc(), RatingRound.id.desc()),
            )
            .label("rank"),
        )
        .join(RatingRound, Rating.round_id == RatingRound.id)
        .join(Meeting, RatingRound.meeting_id == Meeting.id)
        .where(
            Rating.agency_id == agency_id,
            Rating.is_current.is_(True),
            RatingRound.forum_id == rating_round.forum_id,
            RatingRound.id != rating_round.id,
            RatingRound.status == RatingRoundStatus.CLOSED,
            Meeting.starts_at
            < select(Meeting.starts_at)
            .where(Meeting.id == rating_round.meeting_id)
            .scalar_subquery(),
        )
        .subquery()
    )
    return {
        area_id: level
        for area_id, level in session.execute(
            select(ranked.c.area_id, ranked.c.level).where(ranked.c.rank == 1)
        )
    }


def _current(session: Session, round_id: int, agency_id: int) -> dict[int, Rating]:
    return {
        r.area_id: r
        for r in session.scalars(
            select(Rating).where(
                Rating.round_id == round_id,
                Rating.agency_id == agency_id,
                Rating.is_current.is_(True),
            )
        )
    }


def rating_form(
    session: Session, clock: Clock, *, access: Access, round_id: int, agency_id: int | None
) -> RatingForm:
    """The rating modal's content for the member's agency (refused when closed, or when the
    member does not represent the agency the DM was for)."""
    forum = access.forum
    rating_round = _load_round(session, forum, round_id)
    agency = _require_agency(access, agency_id)
    _require_open(rating_round, forum, clock)
    meeting = session.get(Meeting, rating_round.meeting_id)
    assert meeting is not None
    current = _current(session, rating_round.id, agency.id)
    previous = _previous_levels(session, rating_round, agency.id)
    areas = session.scalars(
        select(Area).where(Area.forum_id == forum.id, Area.active.is_(True)).order_by(Area.position)
    ).all()
    latest = max(current.values(), key=lambda r: r.rated_at, default=None)
    observation = _observation(session, rating_round.id, agency.id)
    return RatingForm(
        round_id=rating_round.id,
        agency_id=agency.id,
        agency_name=agency.name,
        forum_name=forum.name,
        meeting_start=meeting.starts_at,
        deadline_at=rating_round.deadline_at,
        timezone=forum.timezone,
        rows=tuple(
            FormRow(
                area_id=a.id,
                name=a.name,
                level=current[a.id].level if a.id in current else None,
                comment=current[a.id].comment if a.id in current else None,
                previous=previous.get(a.id),
            )
            for a in areas
        ),
        answered_by=latest.rated_by if latest else None,
        observation=observation.text if observation else None,
    )


def _observation(session: Session, round_id: int, agency_id: int) -> RatingObservation | None:
    return session.scalar(
        select(RatingObservation).where(
            RatingObservation.round_id == round_id, RatingObservation.agency_id == agency_id
        )
    )


@dataclass(frozen=True)
class Answer:
    area_id: int
    level: int | None
    comment: str | None


@dataclass(frozen=True)
class Escalation:
    area: str
    agency: str
    level: int
    previous: int | None
    area_id: int = 0


@dataclass(frozen=True)
class Saved:
    forum_name: str
    agency_name: str
    changed: int
    complete: bool  # every area of the forum has this agency's answer
    escalations: tuple[Escalation, ...]
    coordinators: tuple[str, ...]


def submit_ratings(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    round_id: int,
    agency_id: int | None,
    answers: Sequence[Answer],
    observation: str | None = None,
) -> Saved:
    """Save the agency's answer for some areas (one page of the modal) and, when the page
    asks it (``observation`` not None; empty clears it), what the agency sees right now.
    The round row is locked, so two representatives saving at once, or the deadline closing
    the round at that moment, happen one after the other."""
    forum = access.forum
    rating_round = _load_round(session, forum, round_id, lock=True)
    agency = _require_agency(access, agency_id)
    _require_open(rating_round, forum, clock)
    areas = {
        a.id: a
        for a in session.scalars(
            select(Area).where(Area.forum_id == forum.id, Area.active.is_(True))
        )
    }
    errors: dict[str, DomainError] = {}
    today = local_today(forum, clock)
    texts = {f"comment_{a.area_id}": a.comment for a in answers}
    seen = " ".join((observation or "").split()) if observation is not None else None
    if seen:
        texts[OBSERVATION_FIELD] = seen
    for fld, msgid in privacy.check_fields(texts, today=today).items():
        errors[fld] = IdentifyingDataRefused(msgid, field=fld)
    if seen and len(seen) > OBSERVATION_MAX:
        errors.setdefault(
            OBSERVATION_FIELD,
            InvalidInput(
                N_plural("Keep it under {n} character.", "Keep it under {n} characters."),
                field=OBSERVATION_FIELD,
                n=OBSERVATION_MAX,
            ),
        )
    for answer in answers:
        if answer.area_id not in areas:
            errors[f"level_{answer.area_id}"] = InvalidInput(
                N_("This area is no longer rated. Close the form and open it again."),
                field=f"level_{answer.area_id}",
            )
        elif answer.level not in LEVELS:
            errors[f"level_{answer.area_id}"] = InvalidInput(
                N_("Choose a level for {area}."),
                field=f"level_{answer.area_id}",
                area=areas[answer.area_id].name,
            )
        if answer.comment and len(answer.comment) > COMMENT_MAX:
            errors.setdefault(
                f"comment_{answer.area_id}",
                InvalidInput(
                    N_plural(
                        "A comment can be at most {n} character.",
                        "A comment can be at most {n} characters.",
                    ),
                    field=f"comment_{answer.area_id}",
                    n=COMMENT_MAX,
                ),
            )
    if errors:
        raise InputErrors(errors)
    now = clock.now()
    current = _current(session, rating_round.id, agency.id)
    previous = _previous_levels(session, rating_round, agency.id)
    changed: list[Answer] = []
    for answer in answers:
        comment = (answer.comment or "").strip() or None
        old = current.get(answer.area_id)
        if old is not None and old.level == answer.level and old.comment == comment:
            continue
        changed.append(Answer(answer.area_id, answer.level, comment))
    if changed:
        session.execute(
            update(Rating)
            .where(
                Rating.round_id == rating_round.id,
                Rating.agency_id == agency.id,
                Rating.area_id.in_([a.area_id for a in changed]),
                Rating.is_current.is_(True),
            )
            .values(is_current=False)
            .execution_options(synchronize_session=False)
        )
    observed = (
        _save_observation(session, rating_round.id, agency.id, seen, access, now)
        if seen is not None
        else False
    )
    escalations = []
    for answer in changed:
        assert answer.level is not None
        session.add(
            Rating(
                round_id=rating_round.id,
                agency_id=agency.id,
                area_id=answer.area_id,
                level=answer.level,
                comment=answer.comment,
                rated_by=access.member.slack_user_id,
                rated_at=now,
                is_current=True,
            )
        )
        old = current.get(answer.area_id)
        if old is not None and answer.level <= old.level:
            # Only the comment changed, or the agency lowered its answer (allvarligt to
            # kritiskt): nothing new to alert about. An alert is for a worse situation;
            # before, lowering a level still at kritiskt alerted the coordinators again.
            continue
        before = previous.get(answer.area_id)
        jumped = before is not None and answer.level - before >= JUMP
        if answer.level >= ESCALATE_AT or jumped:
            escalations.append(
                Escalation(
                    area=areas[answer.area_id].name,
                    agency=agency.name,
                    level=answer.level,
                    previous=before,
                    area_id=answer.area_id,
                )
            )
    session.flush()
    answered = session.scalar(
        select(func.count())
        .select_from(Rating)
        .where(
            Rating.round_id == rating_round.id,
            Rating.agency_id == agency.id,
            Rating.is_current.is_(True),
            Rating.area_id.in_(list(areas)),
        )
    )
    if changed or observed:
        audit.record_by(
            session,
            clock,
            access,
            action=AuditAction.UPDATE if current else AuditAction.CREATE,
            object_type="rating",
            object_ref=str(rating_round.id),
            detail={"areas": len(changed), "observation": observed},
        )
    return Saved(
        forum_name=forum.name,
        agency_name=agency.name,
        changed=len(changed),
        complete=(answered or 0) >= len(areas),
        escalations=tuple(escalations),
        coordinators=(
            _alerted(session, forum, rater=access.member.slack_user_id, today=today)
            if escalations
            else ()
        ),
    )


def _alerted(session: Session, forum: Forum, *, rater: str, today: dt.date) -> tuple[str, ...]:
    """Who an alert (the escalation DM) goes to: the forum's coordinators and admins but the
    one who gave the rating (a DM about their own rating told them nothing). One marked away
    (``/samverkan borta``) gets it through the stand-in they named when that stand-in leads
    the forum too (the same lookup as an action's reminders: domain.forums.stand_in_for),
    else not; unless nobody would be told then: those away are told all the same."""
    leads = session.scalars(
        select(Member)
        .where(
            Member.forum_id == forum.id,
            Member.active.is_(True),
            Member.role.in_((Role.COORDINATOR, Role.ADMIN)),
        )
        .order_by(Member.id)
    ).all()
    lead_ids = {m.id for m in leads}
    told: list[str] = []
    away: list[str] = []
    for lead in leads:
        if lead.slack_user_id == rater:
            continue
        if not is_away(lead, today):
            told.append(lead.slack_user_id)
            continue
        stand_in = stand_in_for(session, lead, today, fits=lambda m: m.id in lead_ids)
        if stand_in is not None and stand_in.slack_user_id != rater:
            told.append(stand_in.slack_user_id)
        else:
            away.append(lead.slack_user_id)
    return tuple(dict.fromkeys(told or away))


# The outbox key of the coordinators' DMs about an agency's escalations in a round:
# ``rating_escalations:<round>:<agency>:<told>:<coordinator>``, ``told`` the agency's last
# rating in the round when they were queued: a rating after it was not told yet.
ESCALATION_KEY = "rating_escalations"


@dataclass(frozen=True)
class Escalated:
    """The escalations of one agency in one round not told yet (the pages of one form, or
    another representative's answer since), named, the coordinators to tell, and the outbox
    key to queue each DM under (``key:<coordinator>``): one DM each for them all."""

    forum_name: str
    escalations: tuple[Escalation, ...]
    coordinators: tuple[str, ...]
    key: str = ""


def escalated(
    session: Session, clock: Clock, *, access: Access, round_id: int, agency_id: int | None
) -> Escalated:
    """The member's agency's escalations in the round that the coordinators have not been
    told, as its stored ratings say them: an area whose current answer is one the agency
    raised (its first, or higher than the one before it in the round) to kritiskt or
    allvarligt, or two levels above its last round's, and not lowered since. Nothing of a
    modal's metadata is taken on trust (a crafted close or page claims levels the agency
    never gave); each escalation is told once, however many forms are closed or saved.
    Nothing once the meeting has started (or is cancelled): it took the picture up."""
    forum = access.forum
    rating_round = _load_round(session, forum, round_id, lock=True)  # one teller at a time
    agency = _require_agency(access, agency_id)
    return untold_escalations(
        session, clock, forum, rating_round, agency, rater=access.member.slack_user_id
    )


def untold_escalations(
    session: Session,
    clock: Clock,
    forum: Forum,
    rating_round: RatingRound,
    agency: Agency,
    *,
    rater: str,
) -> Escalated:
    """The agency's escalations in the (locked) round not told yet (see escalated), the
    coordinators to tell but ``rater`` and the outbox key: for a closed form, and for the
    round closing at its deadline (a form whose close Slack never sent)."""
    nothing = Escalated(forum_name=forum.name, escalations=(), coordinators=())
    meeting = session.get(Meeting, rating_round.meeting_id)
    if (
        meeting is None
        or meeting.status is MeetingStatus.CANCELLED
        or meeting.starts_at <= clock.now()
    ):
        return nothing
    prefix = f"{ESCALATION_KEY}:{rating_round.id}:{agency.id}:"
    markers = sorted(
        {
            int(marker)
            for key in session.scalars(
                select(OutboxMessage.dedupe_key).where(scheduling.key_starts(session, prefix))
            )
            if (marker := key[len(prefix) :].partition(":")[0]).isdigit()
        }
    )
    told = markers[-1] if markers else 0
    areas = session.scalars(
        select(Area).where(Area.forum_id == forum.id, Area.active.is_(True)).order_by(Area.position)
    ).all()
    history: dict[int, list[Rating]] = {}
    for rating in session.scalars(
        select(Rating)
        .where(Rating.round_id == rating_round.id, Rating.agency_id == agency.id)
        .order_by(Rating.id)
    ):
        history.setdefault(rating.area_id, []).append(rating)
    last = max((r.id for rows in history.values() for r in rows), default=0)
    if last <= told:
        return nothing
    previous = _previous_levels(session, rating_round, agency.id)
    # One alert per area and level in the round: what each earlier DM told, replayed from
    # the ratings up to its key's marker (raised, lowered and raised again is told once).
    already: set[tuple[int, int]] = set()
    before_it = 0
    for told_at in markers:
        already |= _news(areas, history, previous, upto=told_at, told=before_it, already=already)
        before_it = told_at
    news = _news(areas, history, previous, upto=last, told=told, already=already)
    escalations = [
        Escalation(
            area=area.name,
            agency=agency.name,
            level=level,
            previous=previous.get(area.id),
            area_id=area.id,
        )
        for area in areas
        for area_id, level in sorted(news)
        if area_id == area.id
    ]
    if not escalations:
        return nothing
    return Escalated(
        forum_name=forum.name,
        escalations=tuple(escalations),
        coordinators=_alerted(session, forum, rater=rater, today=local_today(forum, clock)),
        key=f"{prefix}{last}",
    )


def _news(
    areas: Sequence[Area],
    history: Mapping[int, list[Rating]],
    previous: Mapping[int, int],
    *,
    upto: int,
    told: int,
    already: set[tuple[int, int]],
) -> set[tuple[int, int]]:
    """The (area, level) escalations the agency's ratings up to id ``upto`` hold that were
    not told at ``told`` (the last rating then told) nor in ``already``: an area whose
    answer then was one the agency raised (its first, or higher than the one before it)
    to kritiskt or allvarligt, or two levels above its last round's, and not lowered since."""
    news: set[tuple[int, int]] = set()
    for area in areas:
        rows = [r for r in history.get(area.id, []) if r.id <= upto]
        if not rows or (rows[-1] is history[area.id][-1] and not rows[-1].is_current):
            continue
        raised = rows[0]
        for before_it, rating in itertools.pairwise(rows):
            if rating.level > before_it.level:
                raised = rating
        current = rows[-1]
        if raised.id <= told or current.level != raised.level:
            continue  # told already, or lowered since (no news)
        if (area.id, current.level) in already:
            continue  # this level of this area was told in the round already
        before = previous.get(area.id)
        jumped = before is not None and current.level - before >= JUMP
        if current.level >= ESCALATE_AT or jumped:
            news.add((area.id, current.level))
    return news


OBSERVATION_FIELD = "observation"


def _save_observation(
    session: Session,
    round_id: int,
    agency_id: int,
    text: str,
    access: Access,
    now: dt.datetime,
) -> bool:
    """Store (or clear, when empty) what the agency sees; True when it changed."""
    row = _observation(session, round_id, agency_id)
    if not text:
        if row is None:
            return False
        session.delete(row)
        return True
    if row is not None and row.text == text:
        return False
    if row is None:
        row = RatingObservation(round_id=round_id, agency_id=agency_id)
        session.add(row)
    row.text = text
    row.written_by = access.member.slack_user_id
    row.written_at = now
    return True


# --- away and stand-in ------------------------------------------------------------------------


@dataclass(frozen=True)
class Absence:
    until: dt.date | None
    stand_in: str | None
    agency_name: str
    # Before this change: whether they were away, and the stand-in then (told when that
    # stand-in no longer stands in; they would go on thinking they did).
    was_away: bool = False
    stand_in_before: str | None = None


def set_away(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    until: dt.date | None,
    stand_in: str | None,
) -> Absence:
    """Mark the member away until a day (inclusive), naming a stand-in from their agency;
    ``until=None`` means back. Every change is in the audit log."""
    forum, member = access.forum, access.member
    today = local_today(forum, clock)
    if until is not None and until < today:
        raise InvalidInput(N_("Choose a day from today on."))
    if until is not None and until > today + dt.timedelta(days=366):
        raise InvalidInput(N_("Choose a day within a year."))
    stand_in_member: Member | None = None
    if stand_in:
        if until is None:
            raise InvalidInput(N_("A stand-in is named together with the day you are back."))
        stand_in_member = session.scalar(
            select(Member).where(
                Member.forum_id == forum.id,
                Member.slack_user_id == stand_in,
                Member.active.is_(True),
            )
        )
        if stand_in_member is None or stand_in_member.agency_id != member.agency_id:
            raise InvalidInput(
                N_("The stand-in must be a member of the forum from your agency ({agency})."),
                agency=member.agency.name,
            )
        if stand_in_member.id == member.id:
            raise InvalidInput(N_("Name someone else as your stand-in."))
        if stand_in_member.role is Role.REVIEWER:
            # A granskare reviews the log: they own no actions, so they cannot take an
            # owner's reminders (domain.forums.stand_in_for skips one stored before).
            raise InvalidInput(
                N_(
                    "A log reviewer does not own actions, so they cannot stand in for you. "
                    "Name someone else from {agency}."
                ),
                field="stand_in",
                agency=member.agency.name,
            )
        if _away(stand_in_member, today):
            raise InvalidInput(N_("Your stand-in is away too. Name someone else."))
    was_away = _away(member, today)
    before = (
        session.get(Member, member.stand_in_member_id)
        if was_away and member.stand_in_member_id is not None
        else None
    )
    member.away_until = until
    member.stand_in_member_id = stand_in_member.id if stand_in_member else None
    member.updated_at = clock.now()
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.UPDATE,
        object_type="absence",
        object_ref=member.slack_user_id,
        detail={
            "away_until": until.isoformat() if until else None,
            "stand_in": stand_in_member.slack_user_id if stand_in_member else None,
        },
    )
    return Absence(
        until,
        stand_in_member.slack_user_id if stand_in_member else None,
        member.agency.name,
        was_away=was_away,
        stand_in_before=before.slack_user_id if before is not None and before.active else None,
    )
