"""Case slots: each case on a meeting's agenda gets its time inside the meeting.

A coordinator sets the order (a place per case) and the length of each slot in the agenda
preview; a case without its own length gets the forum's default (``slot_minutes`` in the
forum's settings, 15 minutes unless changed). Slots follow the order, one after the other
from the meeting's start, so moving the meeting moves every slot with it. The forum's
meeting link (Teams, Zoom, Meet …; an https URL) is a forum setting too, shown in the
agenda and in the morning DMs.

Nothing here is stored as a time: the slots are computed from the meeting's start, the
order and the lengths whenever the agenda is built.

A meeting with more cases than one modal holds (``pages.PAGE_CASES``) gets its slots set page
by page (domain.pages): each page saves on its own. A case given a new place moves there and
the others keep their order around it, so a case on a later page can be moved before the
cases of an earlier one; every place of the whole agenda can be chosen on every page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import audit, meetings, pages
from domain.access import Access
from domain.clock import Clock
from domain.errors import DomainError, InputErrors, InvalidInput, NotCoordinator
from domain.forums import forum_schedule
from domain.i18n import N_
from domain.locks import lock_forum_settings, update_forum_settings
from storage.models import (
    Agency,
    AgendaItem,
    AgendaItemKind,
    AuditAction,
    Case,
    CaseStatus,
    Forum,
    Meeting,
    MeetingStatus,
    case_agencies,
)

DEFAULT_SLOT_MINUTES = 15
SLOT_MINUTES_MIN = 5
SLOT_MINUTES_MAX = 240
LINK_MAX = 500
CASE_KINDS = (AgendaItemKind.NEW_CASE, AgendaItemKind.FOLLOW_UP)


@dataclass(frozen=True)
class Slot:
    item_id: int
    case_id: int
    reference: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    minutes: int
    # The agencies needed for this case (raising agency first), ids and names.
    agency_ids: tuple[int, ...]
    agencies: tuple[str, ...]
    place: int  # 1, 2, … in the order


# --- forum settings ---------------------------------------------------------------------------


def default_minutes(forum: Forum) -> int:
    value = (forum.settings or {}).get("slot_minutes")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return DEFAULT_SLOT_MINUTES


def meeting_link(forum: Forum) -> str | None:
    value = (forum.settings or {}).get("meeting_link")
    return value if isinstance(value, str) and value else None


def check_link(raw: str | None) -> str | None:
    """The meeting link as it will be stored (None when empty); only an https URL."""
    link = (raw or "").strip()
    if not link:
        return None
    parts = urlsplit(link)
    if (
        len(link) > LINK_MAX
        or parts.scheme.lower() != "https"
        or not parts.netloc
        or any(c.isspace() for c in link)
        or "|" in link
        or "<" in link
        or ">" in link
    ):
        raise InvalidInput(
            N_("The meeting link must be a web address starting with https://."),
            field="meeting_link",
        )
    return link


def check_minutes(value: int | None, *, field: str) -> int | None:
    if value is None:
        return None
    if not SLOT_MINUTES_MIN <= value <= SLOT_MINUTES_MAX:
        raise InvalidInput(
            N_("A slot is between {low} and {high} minutes."),
            field=field,
            low=SLOT_MINUTES_MIN,
            high=SLOT_MINUTES_MAX,
        )
    return value


# --- computing --------------------------------------------------------------------------------


def _order_key(item: AgendaItem) -> tuple[int, int, int, int]:
    section = CASE_KINDS.index(item.kind) if item.kind in CASE_KINDS else len(CASE_KINDS)
    place = item.slot_position if item.slot_position is not None else 10_000
    return (place, section, item.position, item.id)


@dataclass(frozen=True)
class CaseFacts:
    """What a slot reads of its case (:func:`slots_for` reads just these columns: a long
    agenda's slots are computed on every page of its minutes and of its slots modal)."""

    id: int
    reference: str
    status: CaseStatus
    # The agencies needed: the raising agency first, then the case's, in their order.
    agency_ids: tuple[int, ...]


def compute(
    meeting: Meeting,
    forum: Forum,
    items: Iterable[AgendaItem],
    cases: Mapping[int, CaseFacts],
    *,
    default: int | None = None,
) -> list[Slot]:
    """The slots of the agenda's open cases, in order, from the meeting's start; a case
    without its own length gets ``default`` (the forum's default length when None)."""
    names = {a.id: a.name for a in forum.agencies}
    default = default or default_minutes(forum)
    chosen = sorted(
        (
            i
            for i in items
            if not i.removed
            and i.kind in CASE_KINDS
            and i.case_id is not None
            and i.case_id in cases
            and cases[i.case_id].status != CaseStatus.CLOSED
        ),
        key=_order_key,
    )
    slots: list[Slot] = []
    start = meeting.starts_at
    for place, item in enumerate(chosen, start=1):
        case = cases[item.case_id or 0]
        minutes = item.slot_minutes or default
        end = start + dt.timedelta(minutes=minutes)
        needed = case.agency_ids
        slots.append(
            Slot(
                item_id=item.id,
                case_id=case.id,
                reference=case.reference,
                starts_at=start,
                ends_at=end,
                minutes=minutes,
                agency_ids=needed,
                agencies=tuple(names[a] for a in needed if a in names),
                place=place,
            )
        )
        start = end
    return slots


def case_items(session: Session, meeting_id: int) -> list[AgendaItem]:
    return list(
        session.scalars(
            select(AgendaItem).where(
                AgendaItem.meeting_id == meeting_id,
                AgendaItem.case_id.is_not(None),
                AgendaItem.removed.is_(False),
            )
        )
    )


def case_facts(session: Session, ids: Sequence[int]) -> dict[int, CaseFacts]:
    """What the agenda and its slots read of these cases: columns in one statement (not the
    cases loaded whole with their agencies: an agenda lists twenty or more of them)."""
    if not ids:
        return {}
    linked = (
        select(case_agencies.c.case_id, case_agencies.c.agency_id, Agency.position)
        .join(Agency, Agency.id == case_agencies.c.agency_id)
        .subquery()
    )
    rows = session.execute(
        select(Case.id, Case.reference, Case.status, Case.raising_agency_id, linked.c.agency_id)
        .outerjoin(linked, linked.c.case_id == Case.id)
        .where(Case.id.in_(ids))
        .order_by(Case.id, linked.c.position, linked.c.agency_id)
    ).all()
    first: dict[int, tuple[str, CaseStatus]] = {}
    needed: dict[int, list[int]] = {}
    for case_id, reference, status, raising, agency_id in rows:
        if case_id not in needed:
            needed[case_id] = [raising]
            first[case_id] = (reference, status)
        if agency_id is not None:
            needed[case_id].append(agency_id)
    # The agencies needed: the raising agency first, then the case's, in their order.
    return {
        case_id: CaseFacts(case_id, *first[case_id], tuple(dict.fromkeys(needed[case_id])))
        for case_id in needed
    }


def slots_for(session: Session, meeting: Meeting, forum: Forum) -> list[Slot]:
    """The meeting's slots as they stand (the agenda's automatic items collected first by
    the caller, e.g. through domain.agenda.build)."""
    items = case_items(session, meeting.id)
    cases = case_facts(session, [i.case_id for i in items if i.case_id is not None])
    return compute(meeting, forum, items, cases)


# --- a coordinator sets them ------------------------------------------------------------------


@dataclass(frozen=True)
class SlotsPage(pages.CasesPage):
    """One page of the slots modal (domain.pages): ``slots`` are the meeting's slots from
    ``start`` in the order as it stands (places ``first``–``last`` of ``total``), less those
    the page before just moved there; ``more`` of the rest come after them."""

    slots: Sequence[Slot]
    page: int
    start: int
    total: int
    more: int = 0

    @property
    def shown(self) -> int:
        return len(self.slots)

    @property
    def first(self) -> int:
        return self.slots[0].place if self.slots else 0

    @property
    def last(self) -> int:
        return self.slots[-1].place if self.slots else 0

    @property
    def has_next(self) -> bool:
        return self.more > 0


class SlotsPageGone(DomainError):
    msgid = N_(
        "This page of the time slots does not exist. Close it and open the time slots again "
        "from the agenda preview."
    )


def slots_page(
    slots: Sequence[Slot],
    *,
    page: int = 1,
    after: Collection[int] = (),
    skip: Collection[int] = (),
) -> SlotsPage:
    """Page ``page`` of the meeting's ``slots`` (all of them, in order). ``after``: the
    agenda items of the page just saved that kept their place (all of its items when every
    one moved); this page starts after the last of them as the order stands now. ``skip``:
    that page's items, not shown again (a case moved further down is not set twice)."""
    if page < 1:
        raise SlotsPageGone()
    start = pages.page_start(page, [s.item_id for s in slots], after)
    rest = [s for s in slots[start:] if s.item_id not in skip]
    shown = rest[: pages.PAGE_CASES]
    return SlotsPage(
        slots=shown, page=page, start=start, total=len(slots), more=len(rest) - len(shown)
    )


@dataclass(frozen=True)
class SlotDraft:
    item_id: int
    place: int | None
    minutes: int | None


def place_field(item_id: int) -> str:
    return f"place:{item_id}"


def minutes_field(item_id: int) -> str:
    return f"minutes:{item_id}"


@dataclass(frozen=True)
class SlotsSaved:
    meeting: Meeting
    # The agenda items given a new place (the others kept their order around them).
    moved: frozenset[int]
    # The meeting's slots as saved, in order (what a next page would show: slots_page).
    slots: Sequence[Slot] = ()


def save_slots(
    session: Session,
    clock: Clock,
    *,
    access: Access,
    meeting_id: int,
    drafts: Sequence[SlotDraft],
    link: str | None,
    default: int | None,
) -> SlotsSaved:
    """Order and lengths of the cases in ``drafts`` (one page of the modal, or all of the
    meeting's cases), and the forum's meeting link and default length. A case given a place
    other than its own moves there; the other cases, on this page or not, keep their order
    in the places left. Nothing is stored when a field is wrong (one error per field): two
    cases of the page in the same place overlap, and the slots must end when the meeting
    ends (told on a case of the page)."""
    if not access.is_coordinator:
        raise NotCoordinator()
    forum = access.forum
    meeting = meetings.get_meeting(session, forum, meeting_id)
    if meeting.status != MeetingStatus.PLANNED or meeting.starts_at <= clock.now():
        raise InvalidInput(N_("That meeting has already started or is cancelled."))
    errors: dict[str, DomainError] = {}
    try:
        link = check_link(link)
    except InvalidInput as exc:
        errors["meeting_link"] = exc
        link = None
    try:
        default = check_minutes(default, field="slot_default")
    except InvalidInput as exc:
        errors["slot_default"] = exc
    items = {i.id: i for i in case_items(session, meeting.id)}
    drafts = [d for d in drafts if d.item_id in items]
    seen: dict[int, int] = {}
    for draft in drafts:
        try:
            check_minutes(draft.minutes, field=minutes_field(draft.item_id))
        except InvalidInput as exc:
            errors[minutes_field(draft.item_id)] = exc
        if draft.place is None:
            continue
        if not 1 <= draft.place <= len(items):
            errors[place_field(draft.item_id)] = InvalidInput(
                N_("Choose a place from 1 to {high}."),
                field=place_field(draft.item_id),
                high=len(items),
            )
        elif draft.place in seen:
            errors[place_field(draft.item_id)] = InvalidInput(
                N_("Two cases cannot have the same place: their slots would overlap."),
                field=place_field(draft.item_id),
            )
        else:
            seen[draft.place] = draft.item_id
    if errors:
        raise InputErrors(errors)
    # The forum's settings change below (when the link or the default length changes):
    # then read them as the row stands, held until the commit (domain.locks), before the
    # order as it stands is computed from them.
    read = dict(forum.settings or {})
    wanted = {k: v for k, v in read.items() if k not in ("slot_minutes", "meeting_link")}
    wanted |= {"slot_minutes": default} if default is not None else {}
    wanted |= {"meeting_link": link} if link is not None else {}
    changes = wanted != read
    if changes:
        lock_forum_settings(session, forum)
    cases = case_facts(session, [i.case_id for i in items.values() if i.case_id is not None])
    # The order as it stands; the cases given another place move there, the rest keep their
    # order in the places left (a case closed meanwhile: the last place is the last left).
    current = compute(meeting, forum, items.values(), cases)
    now_at = {s.item_id: s.place for s in current}
    moved: dict[int, int] = {}
    for draft in drafts:
        if (
            draft.place is not None
            and draft.item_id in now_at
            and draft.place != now_at[draft.item_id]
        ):
            moved[draft.item_id] = min(draft.place, len(current))
    taken = set(moved.values())
    left = iter(p for p in range(1, len(current) + 1) if p not in taken)
    places = {
        s.item_id: moved[s.item_id] if s.item_id in moved else next(left, len(current))
        for s in current
    }
    # Try the new order and lengths (no flush yet: nothing is kept if they overflow).
    before = {i.id: (i.slot_position, i.slot_minutes) for i in items.values()}
    for item_id, place in places.items():
        items[item_id].slot_position = place
    for draft in drafts:
        items[draft.item_id].slot_minutes = draft.minutes
    # With the default length as the forum's settings will have it (written below, once).
    planned = compute(
        meeting, forum, items.values(), cases, default=default or DEFAULT_SLOT_MINUTES
    )
    late = next((s for s in planned if s.ends_at > meeting.ends_at), None)
    if late is not None:
        for item_id, (position, minutes) in before.items():
            items[item_id].slot_position, items[item_id].slot_minutes = position, minutes
        zone = forum_schedule(forum).zone
        # Told on the first late case of this page, else on this page's last case (the late
        # one is on another page), else on the default length.
        on_page = {d.item_id for d in drafts}
        late_here = [s for s in planned if s.item_id in on_page]
        told = next((s for s in late_here if s.ends_at > meeting.ends_at), None) or (
            late_here[-1] if late_here else None
        )
        field = minutes_field(told.item_id) if told is not None else "slot_default"
        raise InputErrors(
            {
                field: InvalidInput(
                    N_(
                        "The slots would end at {end}, after the meeting ends at {close}. "
                        "Shorten a slot."
                    ),
                    field=field,
                    end=planned[-1].ends_at.astimezone(zone).strftime("%H:%M"),
                    close=meeting.ends_at.astimezone(zone).strftime("%H:%M"),
                )
            }
        )
    # The agenda lists each section in its order: follow the places there too.
    for kind in CASE_KINDS:
        section = sorted((i for i in items.values() if i.kind == kind), key=lambda i: i.position)
        positions = [i.position for i in section]
        if len(set(positions)) < len(positions):
            positions = list(range(positions[0], positions[0] + len(positions)))
        for position, item in zip(positions, sorted(section, key=_order_key), strict=True):
            item.position = position
    if changes:
        update_forum_settings(session, forum, {"slot_minutes": default, "meeting_link": link})
    audit.record_by(
        session,
        clock,
        access,
        action=AuditAction.UPDATE,
        object_type="meeting",
        object_ref=str(meeting.id),
        detail={"slots": len(planned)},
    )
    session.flush()
    return SlotsSaved(meeting=meeting, moved=frozenset(moved), slots=planned)
