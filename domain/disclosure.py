"""The one disclosure rule: may this reader see the details of this object, on this surface?

Every surface that can show details (modals, lists, App Home, DMs, agenda, exports, the
art. 15 export) asks here, and the disclosure is audited here, once, in the caller's
transaction, so no surface can forget the log. A surface that may not show details shows the
reference or number only ("detaljer dolda").

Who sees what (see docs/privacy/README.md for the table):

* **case** (summary, outcome, consent, history, SIP): the raising agency; an agency covered
  by the case's current consent (neither withdrawn nor expired, forum-local day); an agency
  with a recorded legal ground that has not ended (domain.legal_grounds). Role does not
  widen it: a coordinator of another agency sees an anonymous consultation.
* **action linked to a case** (description, hoped-for effect, follow-up comment, history
  notes): exactly who may see that case's details. An action without a case (an area, a
  theme, the forum itself) is forum text: every active member of the forum.
* **rating comments**, **legal grounds**: the forum's coordinators (and admins).
* **consent register**: coordinators and the raising agency.
* **deviation text**: coordinators and the reporting agency.
* **meeting notes** (cancel reason, minutes) and **agenda items**: members of the forum.

Always, before any of the above: the reader is an active member (still in the channel) of
the object's forum, and that forum belongs to the workspace the request came from
(:func:`reader`). A member of another forum, a non-member and a user of another workspace
get nothing.

Surfaces are named in :data:`SURFACES`; :func:`disclose` refuses an unknown name, and a
test compares the registry with its table of surfaces × readers (tests/integration/
test_disclosure_table.py), so a new surface cannot ship without being listed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, event, inspect, select
from sqlalchemy.orm import Session, SessionTransaction, selectinload
from sqlalchemy.orm.util import identity_key

from domain import audit
from domain.access import Access
from domain.clock import Clock
from domain.errors import (
    CaseChangeRefused,
    CaseNotFound,
    ForumNotFound,
    NotAMember,
    NotCoordinator,
)
from domain.forums import find_member, local_today
from domain.references import REFERENCE_SHAPE
from storage.db import lock_until_transaction_end
from storage.models import (
    Action,
    AgendaItem,
    AuditAction,
    AuditEvent,
    Case,
    Consent,
    ConsentGiver,
    Deviation,
    Forum,
    ForumLink,
    LegalGround,
    LegalGroundKind,
    Meeting,
    Member,
    RatingRound,
)


class Kind(enum.StrEnum):
    """What kind of object a surface shows the details of."""

    CASE = "case"
    ACTION = "action"
    RATING_COMMENTS = "rating_comments"
    CONSENT = "consent"
    LEGAL_GROUND = "legal_ground"
    DEVIATION = "deviation"
    MEETING_NOTE = "meeting_note"
    AGENDA_ITEM = "agenda_item"
    FEEDBACK_COMMENTS = "feedback_comments"


class Audit(enum.StrEnum):
    EVERY = "every"  # every look is audited (granted, and refused with details: false)
    DISCLOSED = "disclosed"  # audited when details of a case were shown
    EXPORT = "export"  # one export event per call, naming the cases whose details went out


@dataclass(frozen=True)
class Surface:
    name: str
    kind: Kind
    audit: Audit
    what_sv: str


def _surfaces(*items: Surface) -> dict[str, Surface]:
    return {s.name: s for s in items}


SURFACES: dict[str, Surface] = _surfaces(
    Surface("case_modal", Kind.CASE, Audit.EVERY, "Ärendets modal (öppna ärende)"),
    Surface("case_edit", Kind.CASE, Audit.EVERY, "Ändra/maskera sammanfattning och utfall"),
    Surface("case_actions", Kind.ACTION, Audit.DISCLOSED, "Insatser i ärendets modal"),
    Surface("action_list", Kind.ACTION, Audit.DISCLOSED, "Insatslistan (mina/verksamhet/forum)"),
    Surface("action_detail", Kind.ACTION, Audit.EVERY, "Insatsens detaljer och historik"),
    Surface("action_card", Kind.ACTION, Audit.DISCLOSED, "Insatskort och ändringsmodaler"),
    Surface("action_edit", Kind.ACTION, Audit.EVERY, "Ändra/maskera insatsens text"),
    Surface("action_dm", Kind.ACTION, Audit.DISCLOSED, "DM: påminnelse, sammanställning, ny ägare"),
    Surface("app_home", Kind.ACTION, Audit.DISCLOSED, "App Home: mina insatser"),
    Surface("action_plan", Kind.ACTION, Audit.EXPORT, "Åtgärdsplanen (xlsx/CSV)"),
    Surface("rating_comments", Kind.RATING_COMMENTS, Audit.EVERY, "Bedömningskommentarer"),
    Surface("consent_register", Kind.CONSENT, Audit.EVERY, "Samtyckesregistret"),
    Surface("legal_grounds", Kind.LEGAL_GROUND, Audit.EVERY, "Rättslig grund (modal)"),
    Surface("deviation_edit", Kind.DEVIATION, Audit.EVERY, "Ändra/maskera avvikelsetext"),
    Surface(
        "deviation_follow_up",
        Kind.DEVIATION,
        Audit.EVERY,
        "Avvikelsen och dess uppföljning (modal från DM och App Home)",
    ),
    Surface("meeting_note_edit", Kind.MEETING_NOTE, Audit.EVERY, "Maskera inställt mötes skäl"),
    Surface("agenda_item_edit", Kind.AGENDA_ITEM, Audit.EVERY, "Maskera övrig fråga"),
    Surface(
        "meeting_preparation",
        Kind.CASE,
        Audit.DISCLOSED,
        "Inför mötet (App Home och morgonens DM): oro, åldersgrupp, senast överenskommet",
    ),
    Surface("minutes", Kind.CASE, Audit.DISCLOSED, "Skriv protokollet: tidigare beslut per ärende"),
    # Shows the case's reference only (and, in the survey, the agency asked); listed here so
    # an attempt at it from outside the case's forum is audited like one at the case's modal.
    Surface(
        "case_feedback",
        Kind.CASE,
        Audit.DISCLOSED,
        "Återkoppling på ett ärende: enkäten och familjens syn (referensen)",
    ),
    Surface(
        "feedback_comments",
        Kind.FEEDBACK_COMMENTS,
        Audit.EVERY,
        "Återkopplingens kommentarer (verksamheter, familjens syn)",
    ),
)

# Surfaces that show no details at all (references, numbers, counts): listed so the table
# test covers them too, and so nobody adds details to them without moving them above.
REFERENCE_ONLY: dict[str, str] = {
    "case_list": "Ärendelistan (referens, status, verksamheter)",
    "agenda": "Dagordningen i kanalen och förhandsvisningen (referenser, nummer)",
    "statistics": "Statistik (antal och andelar)",
    "access_export": "Registerutdrag (art. 15) i Slack: detaljer undantas",
    "feedback_results": "Återkopplingens resultat (antal och medelvärden per period)",
    "criteria_statistics": "Ärendekriterier: hur ofta de uppfylldes (antal)",
    "half_year_review": "Halvårsuppföljningen (PDF/xlsx, antal under 5 som 'färre än 5')",
    "steering_rollup": "Styrgruppens sammanställning av länkade forum (bara siffror)",
    "annual_report": "Verksamhetsberättelse och årsrapport (siffror, insatser utan ärende)",
}


class UnknownSurface(LookupError):
    """A surface that is not in :data:`SURFACES` (a programming error, caught by tests)."""


class Hidden(enum.StrEnum):
    """Why the case rule hides a case's details from an agency (only the wording of what its
    reader is told differs: each is a refusal alike)."""

    # A consent is in force and leaves the agency out.
    NOT_COVERED = "not_covered"
    # No consent in force (none given, withdrawn or expired): an anonymous consultation.
    NO_CONSENT = "no_consent"
    # The agency saw the case under a legal ground that has ended, and no consent covers it.
    GROUND_ENDED = "ground_ended"
    # Refused, and which of the three is not this reader's to know: the consent and the legal
    # grounds are the consent register's (coordinators, the raising agency), and one who
    # does not read it (a reader of the case's details neither: :func:`told_reason`) is told
    # only that no consent covers the agency (true of all three), as before the reasons were
    # told: no oracle of whether a consent exists and leaves them out, was withdrawn, or a
    # legal ground existed.
    UNSAID = "unsaid"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    # Why: raising_agency | consent | legal_ground | coordinator | reporting_agency |
    # forum_member | refused
    basis: str
    legal_ground: LegalGroundKind | None = None
    # The case whose details this decision is about (None for forum text).
    case_reference: str | None = None
    # Why the case rule refused an agency (:func:`agency_decision`), so a surface may tell
    # its reader the true reason; None when allowed or when no case rule was asked.
    hidden: Hidden | None = None


REFUSED = Decision(False, "refused")

log = logging.getLogger(__name__)


# --- who is reading ---------------------------------------------------------------------------


def reader(session: Session, *, team_id: str, forum: Forum | None, slack_user_id: str) -> Access:
    """The reader for a request from ``team_id``: an active member of ``forum`` (still in its
    channel), in that workspace. Another workspace gets ForumNotFound, anyone else
    NotAMember."""
    if forum is None or forum.team_id != team_id:
        raise ForumNotFound()
    member = find_member(session, forum=forum, slack_user_id=slack_user_id)
    if member is None:
        raise NotAMember()
    return Access(forum=forum, member=member)


def _present(access: Access, forum_id: int) -> bool:
    member = access.member
    return member.active and member.forum_id == access.forum.id and access.forum.id == forum_id


# --- the rule ---------------------------------------------------------------------------------


def consent_active(consent: Consent | None, today: dt.date) -> bool:
    if consent is None or consent.given_by is ConsentGiver.NONE or consent.withdrawn_at:
        return False
    return consent.expires_on is None or consent.expires_on >= today


def current_consent(case: Case) -> Consent | None:
    return case.consents[-1] if case.consents else None


def consent_covers(case: Case, agency_id: int, today: dt.date) -> bool:
    consent = current_consent(case)
    return consent_active(consent, today) and any(
        a.id == agency_id for a in (consent.agencies if consent else [])
    )


def ground_for(case: Case, agency_id: int) -> LegalGround | None:
    return next(
        (g for g in case.legal_grounds if g.ended_at is None and g.agency_id == agency_id),
        None,
    )


def agency_decision(case: Case, agency_id: int, today: dt.date) -> Decision:
    """The case rule for an agency: its raising agency, an agency its current consent
    covers, or one with a legal ground that has not ended. What :func:`case_decision` asks
    for a reader's agency, and what an action's owning agency must pass (its owner reads
    the action through it: domain.actions refuses an owner the case would hide it from)."""
    ref = case.reference
    if agency_id == case.raising_agency_id:
        return Decision(True, "raising_agency", case_reference=ref)
    if consent_covers(case, agency_id, today):
        return Decision(True, "consent", case_reference=ref)
    ground = ground_for(case, agency_id)
    if ground is not None:
        return Decision(True, "legal_ground", ground.ground, case_reference=ref)
    return Decision(
        False, "refused", case_reference=ref, hidden=hidden_reason(case, agency_id, today)
    )


def hidden_reason(case: Case, agency_id: int, today: dt.date) -> Hidden:
    """Why :func:`agency_decision` refuses ``agency_id`` (asked only when it does): a legal
    ground of its own that has ended, else a consent in force that leaves it out, else no
    consent in force at all (none given, withdrawn or expired: an anonymous consultation)."""
    if any(g.agency_id == agency_id and g.ended_at is not None for g in case.legal_grounds):
        return Hidden.GROUND_ENDED
    if consent_active(current_consent(case), today):
        return Hidden.NOT_COVERED
    return Hidden.NO_CONSENT


def case_decision(access: Access, case: Case, today: dt.date) -> Decision:
    """Raising agency, consent or legal ground, for an active member of the case's forum."""
    if not _present(access, case.forum_id):
        return REFUSED
    decision = agency_decision(case, access.member.agency_id, today)
    if decision.allowed or access.is_coordinator:
        return decision
    # Refused a reader who may not read the consent register: the reason is not theirs.
    return dataclasses.replace(decision, hidden=Hidden.UNSAID)


def told_reason(access: Access, case: Case, today: dt.date, why: Hidden) -> Hidden:
    """What ``access`` may be told of why the case rule hides ``case`` from an agency
    (``why``, :func:`hidden_reason`): all of it to who reads the consent register (a
    coordinator, the raising agency: the telling is audited as a read of it); anyone else
    only that no consent covers it (:attr:`Hidden.UNSAID`, true of every reason). A member
    who reads the case's details through a consent or a legal ground reads the consent in
    the case's modal (audited there), not the register: which agencies may see the case
    (legal grounds among them) and why one may not are the register's, and telling them
    elsewhere would be a read of it nobody logs."""
    if decide(access, case, today, kind=Kind.CONSENT).allowed:
        return why
    return Hidden.UNSAID


_TOLD = "samverkan_register_told"


def audit_told_reason(
    session: Session, clock: Clock, access: Access, case: Case, decision: Decision
) -> None:
    """A surface that tells its reader the true reason ``case`` is hidden from their agency
    (``decision.hidden``, not :attr:`Hidden.UNSAID`: only a reader of the consent register,
    a coordinator, is told it) tells them what the case's consent register says: audited as
    a read of it, once per case and reader in a transaction (the case's modal and its list
    of actions tell the same)."""
    if decision.allowed or decision.hidden in (None, Hidden.UNSAID):
        return
    transaction = session.get_transaction()
    held: tuple[SessionTransaction | None, set[tuple[int, int]]] | None = session.info.get(_TOLD)
    if held is None or held[0] is not transaction:
        held = session.info[_TOLD] = (transaction, set())
    key = (access.member.id, case.id)
    if key in held[1]:
        return
    held[1].add(key)
    disclose(session, clock, access, case, surface_name="consent_register")


def case_readers(session: Session, clock: Clock, case_id: int) -> frozenset[str]:
    """The Slack users who may see the case's details now (:func:`case_decision`): the
    active members of its forum whose agency raised it, is covered by its current consent
    or has a legal ground that has not ended. Asked before and after a change that may
    narrow it (consent withdrawn or expired, a legal ground ended): those no longer in it
    get their App Home published anew, which Slack otherwise keeps with the case's
    details."""
    case = session.get(Case, case_id) if case_id > 0 else None
    forum = session.get(Forum, case.forum_id) if case is not None else None
    if case is None or forum is None:
        return frozenset()
    today = local_today(forum, clock)
    members = session.scalars(
        select(Member).where(Member.forum_id == forum.id, Member.active.is_(True))
    )
    return frozenset(
        m.slack_user_id
        for m in members
        if case_decision(Access(forum=forum, member=m), case, today).allowed
    )


def _coordinator(access: Access, forum_id: int) -> Decision:
    if _present(access, forum_id) and access.is_coordinator:
        return Decision(True, "coordinator")
    return REFUSED


def _member(access: Access, forum_id: int) -> Decision:
    return Decision(True, "forum_member") if _present(access, forum_id) else REFUSED


def decide(
    access: Access,
    obj: Any,
    today: dt.date,
    *,
    kind: Kind | None = None,
    forum_id: int | None = None,
) -> Decision:
    """The rule for one object (a Case, Action, RatingRound, Deviation, Meeting, or an
    AgendaItem with its meeting's ``forum_id``). ``kind`` tells a case's consent register and
    legal grounds apart from its details."""
    if isinstance(obj, Case):
        if kind is Kind.CONSENT:
            if not _present(access, obj.forum_id):
                return REFUSED
            if access.is_coordinator:
                return Decision(True, "coordinator", case_reference=obj.reference)
            if access.member.agency_id == obj.raising_agency_id:
                return Decision(True, "raising_agency", case_reference=obj.reference)
            return Decision(False, "refused", case_reference=obj.reference)
        if kind is Kind.LEGAL_GROUND:
            found = _coordinator(access, obj.forum_id)
            return Decision(found.allowed, found.basis, case_reference=obj.reference)
        return case_decision(access, obj, today)
    if isinstance(obj, Action):
        if not _present(access, obj.forum_id):
            return REFUSED
        if obj.case_id is not None and obj.case is not None:
            return case_decision(access, obj.case, today)
        return Decision(True, "forum_member")
    if isinstance(obj, RatingRound):
        return _coordinator(access, obj.forum_id)
    if isinstance(obj, Deviation):
        if not _present(access, obj.forum_id):
            return REFUSED
        if access.is_coordinator:
            return Decision(True, "coordinator")
        if access.member.agency_id == obj.reporting_agency_id:
            return Decision(True, "reporting_agency")
        return REFUSED
    if isinstance(obj, Meeting):
        return _member(access, obj.forum_id)
    if isinstance(obj, AgendaItem):
        return _member(access, forum_id if forum_id is not None else -1)
    if isinstance(obj, Forum) and kind is Kind.FEEDBACK_COMMENTS:
        # Comments on collaboration in the forum's closed cases: for its coordinators; the
        # family's comments on a case also need the case rule (feedback.disclosed_comments).
        return _coordinator(access, obj.id)
    raise TypeError(f"no disclosure rule for {type(obj).__name__}")


def surface(name: str) -> Surface:
    try:
        return SURFACES[name]
    except KeyError:
        raise UnknownSurface(name) from None


def _object_ref(obj: Any) -> str:
    if isinstance(obj, Case):
        return obj.reference
    if isinstance(obj, Forum):
        return obj.code
    return str(obj.id)


def _check_kind(spec: Surface, obj: Any) -> None:
    expected: dict[Kind, tuple[type, ...]] = {
        Kind.CASE: (Case,),
        Kind.ACTION: (Action,),
        Kind.RATING_COMMENTS: (RatingRound,),
        Kind.CONSENT: (Case,),
        Kind.LEGAL_GROUND: (Case,),
        Kind.DEVIATION: (Deviation,),
        Kind.MEETING_NOTE: (Meeting,),
        Kind.AGENDA_ITEM: (AgendaItem,),
        Kind.FEEDBACK_COMMENTS: (Forum,),
    }
    if not isinstance(obj, expected[spec.kind]):
        raise UnknownSurface(f"{spec.name} shows {spec.kind.value}, not {type(obj).__name__}")


def _detail(spec: Surface, decision: Decision) -> dict[str, Any]:
    detail: dict[str, Any] = {"surface": spec.name, "details": decision.allowed}
    if decision.allowed and decision.basis != "forum_member":
        detail["basis"] = decision.basis
    if decision.legal_ground is not None:
        detail["legal_ground"] = decision.legal_ground.value
    if decision.case_reference is not None and spec.kind is Kind.ACTION:
        detail["case"] = decision.case_reference
    return detail


def disclose(
    session: Session,
    clock: Clock,
    access: Access,
    obj: Any,
    *,
    surface_name: str,
    action: AuditAction = AuditAction.READ,
    forum_id: int | None = None,
    shown: Mapping[str, int] | None = None,
    keep: bool = False,
) -> Decision:
    """Decide for one object on a named surface and audit the disclosure (once, here).
    ``forum_id`` is the forum of an AgendaItem (its meeting's). ``shown`` counts what the
    surface shows when it may (e.g. ``{"observations": 2}``); the event carries it only when
    the details were disclosed. ``keep``: a granted look that an error answers (what it
    disclosed is in the error's text) is kept, as a refused one is, when the error rolls
    the caller's transaction back."""
    spec = surface(surface_name)
    _check_kind(spec, obj)
    today = local_today(access.forum, clock)
    decision = decide(access, obj, today, kind=spec.kind, forum_id=forum_id)
    if spec.audit is Audit.EVERY or (
        spec.audit is Audit.DISCLOSED and decision.allowed and decision.case_reference
    ):
        written = audit.record_by(
            session,
            clock,
            access,
            action=action,
            object_type=spec.kind.value,
            object_ref=_object_ref(obj),
            detail=_detail(spec, decision) | (dict(shown or {}) if decision.allowed else {}),
        )
        if keep or not decision.allowed:
            _keep_refused(session, written)
    return decision


# --- refused at the door ----------------------------------------------------------------------
#
# Someone who is no member of the case's forum (another forum's member, another workspace's
# user, anyone with a crafted case id) never reaches the rule above: the forum or member
# lookup refuses first. That attempt is audited too, in the case's forum (so its reviewers see
# it), with no more than a read records: who (the Slack user id; no agency, they have none
# there), when, which case (its reference; ``#<id>`` when there is no such case, ``?`` for a
# typed reference that names no case of the workspace), the surface and why. An attempt at
# an action, a rating round's comments, a deviation's text, a meeting's note or an agenda
# item's text is audited alike, in its forum, naming it by its id; so is one at a meeting's
# agenda and time (the agenda's doors, moving or cancelling it: surface ``agenda``, which
# shows references only, so a refusal there names the meeting). A member without the role a
# door asks for is refused there too when the door says so (``not_found`` with
# NotCoordinator: a rating round's close and extend, whose one surface is the
# coordinators'): audited alike, with the member's agency. A flood stays small: the
# same user's same refusal again within REFUSAL_WINDOW is not written again, and at most
# REFUSALS_PER_WINDOW of a user's refusals are written in any window into one log (a
# forum's, or the workspace's for no case: a user trying ids one after another shows as that
# many there, then nothing more until the minute has passed; attempts at nothing do not use
# up what a forum's reviewers see).

REFUSAL_WINDOW = dt.timedelta(minutes=1)
REFUSALS_PER_WINDOW = 20
# And over a day (the last 24 hours), at most REFUSALS_PER_DAY of a user's refusals are
# written into one log: 20 a minute would still be thousands of rows a day, burying the rest
# of the forum's log under one user's attempts. The last one written is marked
# (``"limit": "day"``), and the log review and its export show that mark on its row
# (flag ``refusal_limit``): the reviewers see that the user went on trying and when the
# limit was reached. The attempts after it are refused all the same (the same answer) and
# counted in the process log only; the append-only audit log is not written again for them
# until the day has passed.
REFUSAL_DAY = dt.timedelta(days=1)
REFUSALS_PER_DAY = 100
_REFUSED_AS: tuple[tuple[type[Exception], str], ...] = (
    (ForumNotFound, "no_forum_here"),  # none in that channel, or another workspace's
    (NotAMember, "not_a_member"),
    (CaseNotFound, "other_forum"),
    (NotCoordinator, "not_coordinator"),  # a member, where the door asks for the role
)
# Refusals of a member of the forum (their agency is recorded with the event); a
# CaseChangeRefused names its own (not_theirs, details_hidden).
_MEMBER_REASONS = frozenset({"not_coordinator", "not_theirs", "details_hidden"})
# Surfaces that show references only, at whose doors a refusal is audited: they name a
# meeting (its id), as a refusal at the minutes does.
_REFUSED_AT_REFERENCES = frozenset({"agenda"})
# The door that ends a steering forum's following of a forum (the followed forum's
# coordinators'): a refusal there names the link (its id), in the followed forum's log.
STEERING_LINK = "steering_link"


def _refused_object_type(
    surface_name: str, meeting_id: int | None, link_id: int | None = None
) -> str:
    """What a refusal at ``surface_name`` is an attempt at: the surface's kind of object, or
    the meeting asked for (a case surface reached through a meeting, the minutes' form; the
    agenda's doors, whose surface shows references only), or a steering forum's following
    of a forum (:data:`STEERING_LINK`, naming the link). UnknownSurface for a name that is
    none of these, or for the agenda naming no meeting (the link's door, no link)."""
    if surface_name == STEERING_LINK:
        if link_id is None:
            raise UnknownSurface(f"{surface_name}: a refusal there names a link")
        return "forum_link"
    if surface_name in _REFUSED_AT_REFERENCES:
        if meeting_id is None:
            raise UnknownSurface(f"{surface_name}: a refusal there names a meeting")
        return "meeting"
    kind = surface(surface_name).kind
    return "meeting" if meeting_id is not None and kind is not Kind.MEETING_NOTE else kind.value


@contextmanager
def refusals_audited(
    session: Session,
    clock: Clock,
    *,
    team_id: str,
    slack_user_id: str,
    surface_name: str,
    case_id: int | None = None,
    reference: str | None = None,
    action_id: int | None = None,
    round_id: int | None = None,
    deviation_id: int | None = None,
    meeting_id: int | None = None,
    agenda_item_id: int | None = None,
    link_id: int | None = None,
    not_found: tuple[type[Exception], ...] = (),
) -> Iterator[None]:
    """Around a look at a case's details (by id, or by the reference the user typed), an
    action's (``action_id``), a rating round's comments (``round_id``), a deviation's text
    (``deviation_id``), a meeting's note (``meeting_id``) or an agenda item's text
    (``agenda_item_id``): a refusal of the reader at the door (ForumNotFound, NotAMember,
    CaseNotFound, or the surface's own ``not_found`` errors, such as ActionNotFound, or
    NotCoordinator where the door asks for the role) is audited, then raised as before.
    ``surface_name`` ``agenda`` (references only) names a meeting (``meeting_id``);
    :data:`STEERING_LINK` names a steering forum's following of a forum (``link_id``)."""
    _refused_object_type(surface_name, meeting_id, link_id)  # a programming error shows at once
    caught: tuple[type[Exception], ...] = (ForumNotFound, NotAMember, CaseNotFound, *not_found)
    try:
        yield
    except caught as error:
        reason = next((name for kind, name in _REFUSED_AS if isinstance(error, kind)), None)
        attempt = None
        if isinstance(error, CaseChangeRefused):  # a member, refused a change of the case
            reason, attempt = error.reason, error.attempt
        record_refused(
            session,
            clock,
            team_id=team_id,
            slack_user_id=slack_user_id,
            case_id=case_id,
            reference=reference,
            action_id=action_id,
            round_id=round_id,
            deviation_id=deviation_id,
            meeting_id=meeting_id,
            agenda_item_id=agenda_item_id,
            link_id=link_id,
            surface_name=surface_name,
            reason=reason or "other_forum",
            attempt=attempt,
        )
        raise


def _attempted(
    session: Session,
    team_id: str,
    case_id: int | None,
    reference: str | None,
    action_id: int | None = None,
    round_id: int | None = None,
    deviation_id: int | None = None,
    meeting_id: int | None = None,
    agenda_item_id: int | None = None,
    link_id: int | None = None,
) -> tuple[int | None, str]:
    """The forum of the case attempted (by id anywhere, by reference in the request's
    workspace), or of the action, rating round, deviation, meeting or agenda item (by id
    anywhere; an agenda item's is its meeting's; a steering link's is the followed forum),
    None for nothing; and what the event names it by."""
    if link_id is not None:
        followed = session.scalar(select(ForumLink.forum_id).where(ForumLink.id == link_id))
        return followed, str(link_id)
    rows: tuple[tuple[type[Action | RatingRound | Deviation | Meeting], int | None], ...] = (
        (Action, action_id),
        (RatingRound, round_id),
        (Deviation, deviation_id),
        (Meeting, meeting_id),
    )
    for model, object_id in rows:
        if object_id is not None:
            found = session.scalar(select(model.forum_id).where(model.id == object_id))
            return found, str(object_id)
    if agenda_item_id is not None:
        item = session.get(AgendaItem, agenda_item_id) if agenda_item_id > 0 else None
        meeting = session.get(Meeting, item.meeting_id) if item is not None else None
        return (meeting.forum_id if meeting is not None else None), str(agenda_item_id)
    if case_id is not None:
        case = session.get(Case, case_id) if case_id > 0 else None
        return (case.forum_id, case.reference) if case is not None else (None, f"#{case_id}")
    typed = (reference or "").strip().upper()
    # Only a reference's shape is looked up; anything else typed is not recorded.
    if not REFERENCE_SHAPE.match(typed):
        return None, "?"
    case = session.scalar(
        select(Case)
        .join(Forum, Forum.id == Case.forum_id)
        .where(Forum.team_id == team_id, Case.reference == typed)
        .limit(1)
    )
    # Only a real case's reference is recorded: a typed one that names no case may be
    # anything dressed as one (a personnummer as ``PN-1701-102384`` passes the pattern and
    # the guard), and the log is append-only.
    return (case.forum_id, case.reference) if case is not None else (None, "?")


def record_refused(
    session: Session,
    clock: Clock,
    *,
    team_id: str,
    slack_user_id: str,
    surface_name: str,
    reason: str,
    case_id: int | None = None,
    reference: str | None = None,
    action_id: int | None = None,
    round_id: int | None = None,
    deviation_id: int | None = None,
    meeting_id: int | None = None,
    agenda_item_id: int | None = None,
    link_id: int | None = None,
    attempt: str | None = None,
) -> AuditEvent | None:
    """Audit one refused attempt at a case's details (or an action's, a rating round's
    comments, a deviation's text, a meeting's note, an agenda item's text), as the surface's
    reads are named (kept when the caller's transaction rolls back); None when it repeats
    one just written, or the user's window (or day) is full. ``attempt``: the change of the
    case a member was refused (:class:`CaseChangeRefused`)."""
    if not slack_user_id:
        return None
    object_type = _refused_object_type(surface_name, meeting_id, link_id)
    forum_id, object_ref = _attempted(
        session,
        team_id,
        case_id,
        reference,
        action_id,
        round_id,
        deviation_id,
        meeting_id,
        agenda_item_id,
        link_id,
    )
    forum = session.get(Forum, forum_id) if forum_id is not None else None
    team = forum.team_id if forum is not None else team_id
    # A member refused for the role has an agency in the forum (outsiders have none there).
    member = (
        find_member(session, forum=forum, slack_user_id=slack_user_id)
        if forum is not None and reason in _MEMBER_REASONS
        else None
    )
    if reason in _MEMBER_REASONS and member is None:
        # Refused for the role in their own forum, yet what they named is another forum's
        # (a crafted id): an outsider there, not one of its members trying.
        reason, attempt = "other_forum", None
    detail = _refusal_detail(
        session,
        clock.now(),
        actor=slack_user_id,
        team_id=team,
        forum_id=forum_id if forum is not None else None,
        object_ref=object_ref,
        surface_name=surface_name,
        reason=reason,
        attempt=attempt,
    )
    if detail is None:
        return None
    written = audit.record(
        session,
        clock,
        actor=slack_user_id,
        action=AuditAction.READ,
        object_type=object_type,
        object_ref=object_ref,
        team_id=team,
        forum_id=forum.id if forum is not None else None,
        actor_agency_id=member.agency_id if member is not None else None,
        detail=detail,
    )
    _keep_refused(session, written, capped=True)
    return written


def _refusal_detail(
    session: Session,
    now: dt.datetime,
    *,
    actor: str,
    team_id: str | None,
    forum_id: int | None,
    object_ref: str,
    surface_name: str,
    reason: str,
    attempt: str | None = None,
) -> dict[str, Any] | None:
    """The detail of a refusal to write now (marked when it is the day's last), or None
    when the flood limits say not to write it. Decided under a lock on the user's refusals
    in that log, held until the transaction ends: requests at once (which would each count
    before the others commit) take their turns, so no more than the day's cap is written."""
    # Counted per log the attempt lands in (the case's forum, or the workspace's for no
    # case): attempts at nothing do not use up what a forum's reviewers see of this user.
    log_of = f"forum:{forum_id}" if forum_id is not None else f"team:{team_id}"
    lock_until_transaction_end(session, "refusals", actor, log_of)
    lands = (
        AuditEvent.forum_id == forum_id
        if forum_id is not None
        else and_(AuditEvent.forum_id.is_(None), AuditEvent.team_id == team_id)
    )
    today = session.execute(
        select(AuditEvent.at, AuditEvent.object_ref, AuditEvent.detail).where(
            AuditEvent.actor == actor,
            AuditEvent.action == AuditAction.READ,
            AuditEvent.at >= now - REFUSAL_DAY,
            lands,
        )
    ).all()
    refused_today = [(at, ref, d) for at, ref, d in today if (d or {}).get("refused")]
    refusals = [(ref, d) for at, ref, d in refused_today if at >= now - REFUSAL_WINDOW]
    repeated = any(
        ref == object_ref
        and (detail or {}).get("surface") == surface_name
        and (detail or {}).get("attempt") == attempt
        for ref, detail in refusals
    )
    if repeated or len(refusals) >= REFUSALS_PER_WINDOW:
        return None
    # A day that passed its cap unmarked (written before the lock above ordered requests
    # at once) is full only once a marked row says so.
    marked = any((d or {}).get("limit") for _at, _ref, d in refused_today)
    if len(refused_today) >= REFUSALS_PER_DAY and marked:
        log.warning("a refused look was not audited: the day's limit of %d", REFUSALS_PER_DAY)
        return None
    detail: dict[str, Any] = {"surface": surface_name, "details": False, "refused": reason}
    if attempt is not None:
        detail["attempt"] = attempt
    if len(refused_today) >= REFUSALS_PER_DAY - 1:
        detail["limit"] = "day"  # the last one written today (see REFUSALS_PER_DAY)
    return detail


# --- refused looks outlive the caller's transaction -------------------------------------------
#
# A refused look is audited like a granted one, but the surface usually answers it with an
# error, and an error rolls the caller's transaction back: the event would go with it. So the
# rule remembers each refused look of the transaction; when the transaction ends without a
# commit (rolled back or closed), the looks are written again in a transaction of their own.

_REFUSED_LOOKS = "samverkan_disclosure_refused_looks"
_INTERNAL_INFO = frozenset({_REFUSED_LOOKS, "samverkan_audit_wrote"})


def _keep_refused(session: Session, written: AuditEvent, *, capped: bool = False) -> None:
    """Remember a refused look of the transaction (``capped``: an attempt at the door,
    written again only as the flood limits then allow)."""
    looks: list[dict[str, Any]] = session.info.setdefault(_REFUSED_LOOKS, [])
    looks.append(
        {
            "capped": capped,
            "at": written.at,
            "actor": written.actor,
            "action": written.action,
            "object_type": written.object_type,
            "object_ref": written.object_ref,
            "team_id": written.team_id,
            "forum_id": written.forum_id,
            "actor_agency_id": written.actor_agency_id,
            "detail": dict(written.detail or {}),
        }
    )


class _At:
    """A clock that answers the moment of the look (the event is written a moment later)."""

    def __init__(self, at: dt.datetime):
        self._at = at

    def now(self) -> dt.datetime:
        return self._at


def _looks_committed(session: Session) -> None:
    session.info.pop(_REFUSED_LOOKS, None)


def _looks_after_transaction(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None or transaction.nested:
        return
    looks: list[dict[str, Any]] | None = session.info.pop(_REFUSED_LOOKS, None)
    if not looks:
        return
    info = {k: v for k, v in session.info.items() if k not in _INTERNAL_INFO}
    try:
        with Session(bind=session.get_bind(), info=info) as own, own.begin():
            for look in looks:
                at = look.pop("at")
                if look.pop("capped"):
                    # Decided again, under the lock, with what others wrote since: the
                    # caller's lock ended with its transaction, before this one.
                    detail = _refusal_detail(
                        own,
                        at,
                        actor=look["actor"],
                        team_id=look["team_id"],
                        forum_id=look["forum_id"],
                        object_ref=look["object_ref"],
                        surface_name=look["detail"]["surface"],
                        reason=look["detail"]["refused"],
                        attempt=look["detail"].get("attempt"),
                    )
                    if detail is None:
                        continue
                    look["detail"] = detail
                audit.record(own, _At(at), **look)
    except Exception:  # the caller's error is what the user meets; say only that it failed
        log.warning("a refused look could not be written to the audit log")


event.listen(Session, "after_commit", _looks_committed)
event.listen(Session, "after_transaction_end", _looks_after_transaction)


def disclose_actions(
    session: Session,
    clock: Clock,
    access: Access,
    actions: Sequence[Action],
    *,
    surface_name: str,
) -> dict[int, Decision]:
    """The rule for each action of a list (lists, App Home, DMs, exports): one audit event per
    action whose case details are shown (one export event for an export surface), and a
    read of the consent register of each case whose hidden action tells its reader the true
    reason (:func:`audit_told_reason`)."""
    spec = surface(surface_name)
    if spec.kind is not Kind.ACTION:
        raise UnknownSurface(f"{spec.name} does not list actions")
    today = local_today(access.forum, clock)
    decisions = {a.id: decide(access, a, today) for a in actions}
    if spec.audit is Audit.EXPORT:
        return decisions
    for a in actions:
        decision = decisions[a.id]
        if a.case is not None:  # a refusal telling its true reason (a coordinator's agency)
            audit_told_reason(session, clock, access, a.case, decision)
        if decision.allowed and decision.case_reference:
            audit.record_by(
                session,
                clock,
                access,
                action=AuditAction.READ,
                object_type=Kind.ACTION.value,
                object_ref=str(a.id),
                detail=_detail(spec, decision),
            )
    return decisions


def export_detail(decisions: Iterable[Decision]) -> dict[str, Any]:
    """What an export's one audit event says about the case details it carried."""
    shown = sorted({d.case_reference for d in decisions if d.allowed and d.case_reference})
    hidden = sorted({d.case_reference for d in decisions if not d.allowed and d.case_reference})
    return {"cases_disclosed": shown, "cases_hidden": len(hidden)}


def _rule_loaded(session: Session, case_id: int) -> Case | None:
    """The case when this session holds it with everything the rule reads already loaded
    (the case modal's own case, for its actions): loading it again would run the same
    statements and change nothing (loaded collections are not overwritten)."""
    case = session.identity_map.get(identity_key(Case, case_id))
    if not isinstance(case, Case):
        return None
    state = inspect(case)
    if state.expired or {"forum_id", "raising_agency_id", "reference"} & state.unloaded:
        return None
    if {"consents", "legal_grounds"} & state.unloaded:
        return None
    if any("agencies" in inspect(c).unloaded or inspect(c).expired for c in case.consents):
        return None
    return case


def load_cases(session: Session, case_ids: Iterable[int]) -> dict[int, Case]:
    """Cases with what the rule reads (consents and their agencies, legal grounds); those
    the session already holds so are not read again."""
    ids = sorted(set(case_ids))
    held = {i: c for i in ids if (c := _rule_loaded(session, i)) is not None}
    ids = [i for i in ids if i not in held]
    if not ids:
        return held
    return held | {
        c.id: c
        for c in session.scalars(
            select(Case)
            .options(
                selectinload(Case.consents).selectinload(Consent.agencies),
                selectinload(Case.legal_grounds),
            )
            .where(Case.id.in_(ids))
        )
    }


def access_of(session: Session, forum: Forum, slack_user_id: str) -> Access | None:
    """The access of a recipient of a scheduled DM (None when no longer an active member)."""
    member = session.scalar(
        select(Member).where(
            Member.forum_id == forum.id,
            Member.slack_user_id == slack_user_id,
            Member.active.is_(True),
        )
    )
    return Access(forum=forum, member=member) if member is not None else None
