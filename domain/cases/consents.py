"""Reminders about consents that are about to expire, and who lost a case when one expired."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, aliased

from domain import disclosure, scheduling
from domain.access import Access
from domain.clock import Clock
from domain.forums import forum_schedule, local_today
from domain.i18n import LocaleOf, Renders, Translator
from storage.models import (
    Case,
    CaseStatus,
    Consent,
    ConsentGiver,
    Forum,
    Member,
    Role,
)

# --- consents with an end date ---------------------------------------------------------------


def _dated_consents(
    session: Session, *bounds: ColumnElement[bool]
) -> Iterator[tuple[Consent, Case, Forum, dt.date]]:
    """The consents in force (given by someone, not withdrawn) whose end date is within
    ``bounds``, each its case's newest (an older one was superseded), with the case, its
    forum and the end date, by id. One statement: "its case's newest" is a condition of it
    (no later consent of the case, by the case's index), not a load of each case's consents
    (one more read per consent found, every pass of every replica)."""
    newer = aliased(Consent)
    rows = session.execute(
        select(Consent, Case, Forum)
        .join(Case, Consent.case_id == Case.id)
        .join(Forum, Case.forum_id == Forum.id)
        .where(
            Consent.expires_on.is_not(None),
            Consent.withdrawn_at.is_(None),
            Consent.given_by != ConsentGiver.NONE,
            ~select(newer.id)
            .where(newer.case_id == Consent.case_id, newer.id > Consent.id)
            .exists(),
            *bounds,
        )
        .order_by(Consent.id)
    ).all()
    for consent, case, forum in rows:
        if consent.expires_on is not None:
            yield consent, case, forum, consent.expires_on


def _forum_midnight(forum: Forum, day: dt.date) -> dt.datetime:
    """The start of ``day`` in the forum's time zone, in UTC."""
    zone = forum_schedule(forum).zone
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


# --- consent expiry reminders ---------------------------------------------------------------

REMIND_DAYS_BEFORE = 7


# The reminder's message from its text and the case's id (the composition root's: a button
# that opens the case, handlers.blocks.cases.case_button_dm); plain text without one.
CaseDM = Callable[[Translator, str, int], dict[str, Any]]


def remind_expiring_consents(
    session: Session,
    clock: Clock,
    *,
    replica: str,
    locale_of: LocaleOf | None = None,
    render: CaseDM | None = None,
) -> int:
    """Once per consent, when it expires within a week (forum-local days): queue a DM to the
    forum's coordinators and the member who raised the case, while that member still
    represents the raising agency (one who moved to another agency may neither renew the
    consent nor see the case's details: the disclosure rule follows the agency). Returns how
    many were claimed. The message names the reference and the date only, in each
    recipient's language (``locale_of(team_id, user)``; the forum's when unknown), rendered
    once per consent and language. Each DM is audited as a read of the case's consent
    register by its recipient, in the transaction that queues it."""
    renders = Renders()
    # Forum-local days are within a day of UTC's: from yesterday's (UTC) end dates, never
    # the consents that expired before (every pass read each one that ever expired on a
    # case still open, of every forum, to skip it).
    today_utc = clock.now().date()
    horizon = today_utc + dt.timedelta(days=REMIND_DAYS_BEFORE + 1)
    claimed = 0
    for consent, case, forum, expires in _dated_consents(
        session,
        Consent.expires_on <= horizon,
        Consent.expires_on >= today_utc - dt.timedelta(days=1),
        Case.status != CaseStatus.CLOSED,
    ):
        today = local_today(forum, clock)
        if not today <= expires <= today + dt.timedelta(REMIND_DAYS_BEFORE):
            continue
        occurrence = _forum_midnight(forum, expires)
        effect = scheduling.claim(
            session,
            clock,
            forum_id=forum.id,
            kind="consent_expiry",
            subject=str(consent.id),
            occurrence=occurrence,
            due_at=occurrence - dt.timedelta(days=REMIND_DAYS_BEFORE),
            replica=replica,
        )
        if effect is None:
            continue
        # The coordinators and the raiser, while they are members (someone who left the
        # forum is told nothing of its cases) of the raising agency.
        told = session.scalars(
            select(Member)
            .where(
                Member.forum_id == forum.id,
                Member.active.is_(True),
                or_(
                    Member.role.in_((Role.COORDINATOR, Role.ADMIN)),
                    and_(
                        Member.slack_user_id == case.raised_by,
                        Member.agency_id == case.raising_agency_id,
                    ),
                ),
            )
            .order_by(Member.id)
        ).all()
        for member in told:
            user = member.slack_user_id
            # The DM tells what the case's consent register says (its reference and its
            # consent's last day): audited as a read of it by each recipient, as the
            # coordinators' list of expiring consents is, with the DM it is queued with.
            reader = Access(forum=forum, member=member)
            disclosure.disclose(session, clock, reader, case, surface_name="consent_register")
            message = renders.to(
                locale_of, forum, user, _expiry_message, case.reference, expires, case.id, render
            )
            scheduling.enqueue(
                session,
                clock,
                team_id=forum.team_id,
                method="chat.postMessage",
                payload={"channel": user, **message},
                dedupe_key=f"consent_expiry:{consent.id}:{user}",
            )
        scheduling.complete(session, clock, effect)
        claimed += 1
    return claimed


def _expiry_message(
    t: Translator, reference: str, expires: dt.date, case_id: int, render: CaseDM | None
) -> dict[str, Any]:
    text = _expiry_text(t, reference, expires)
    return render(t, text, case_id) if render is not None else {"text": text}


def _expiry_text(t: Translator, reference: str, expires: dt.date) -> str:
    return t(
        "The consent for {reference} is valid up to and including {date}. Renew it with the "
        "family, or the case becomes an anonymous consultation.",
        reference=reference,
        date=t.day(expires),
    )


# --- consents that expired: whose App Home showed the case ----------------------------------

EXPIRED_CATCH_UP = dt.timedelta(days=3)


def expired_consent_readers(
    session: Session, clock: Clock, *, replica: str
) -> dict[str, list[str]]:
    """Once per consent, from the first forum-local day after it expired (a consent holds
    through its last day): the members whose agency it covered and who may no longer see the
    case's details (no raising agency, no legal ground), by workspace. Their App Home still
    shows the case (Inför mötet) until it is published anew. Consents that expired more
    than EXPIRED_CATCH_UP ago are left: their Homes have been opened since."""
    today_utc = clock.now().date()
    lost: dict[str, list[str]] = {}
    for consent, case, forum, expires in _dated_consents(
        session,
        Consent.expires_on <= today_utc,
        Consent.expires_on >= today_utc - EXPIRED_CATCH_UP,
    ):
        today = local_today(forum, clock)
        if expires >= today:
            continue  # still holds (the forum's day)
        occurrence = _forum_midnight(forum, expires + dt.timedelta(days=1))
        effect = scheduling.claim(
            session,
            clock,
            forum_id=forum.id,
            kind="consent_expired",
            subject=str(consent.id),
            occurrence=occurrence,
            due_at=occurrence,
            replica=replica,
        )
        if effect is None:
            continue
        covered = {a.id for a in consent.agencies}
        members = session.scalars(
            select(Member).where(
                Member.forum_id == forum.id,
                Member.active.is_(True),
                Member.agency_id.in_(covered),
            )
        )
        lost.setdefault(forum.team_id, []).extend(
            m.slack_user_id
            for m in members
            if not disclosure.case_decision(Access(forum=forum, member=m), case, today).allowed
        )
        scheduling.complete(session, clock, effect)
    return lost
