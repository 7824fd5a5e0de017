"""The minutes form's :class:`~domain.minutes.record.Tally`, carried from page to page in
the modal's metadata, which Slack keeps to 3000 characters.

A tally of ids outgrew that with a few hundred cases (each id written out, once as minuted
and again as planned for a follow-up, the actions too). So it is carried packed: one bit
for each case on the meeting's agenda (minuted; planned for a follow-up) and one for each
action its minutes created (created by this form), in the order of their rows (a case's
first agenda item, an action's id: rows added later come after, so a bit keeps its
meaning from page to page), compressed. A few hundred cases take a few dozen characters.

The bits can only name this meeting's cases and its minutes' actions: a tally crafted or
damaged reads as what it names of those, or as nothing; it never reaches a query.
"""

from __future__ import annotations

import base64
import binascii
import struct
import zlib
from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.minutes.record import Tally, _key_prefix
from storage.models import Action, AgendaItem, Meeting

# No tally of ours comes near this (a meeting of 100 000 cases and as many actions packs
# into 37 500 bytes before compression); a crafted one that inflates past it reads as none.
_RAW_MAX = 64 * 1024
_HEADER = struct.Struct(">3I")
_VERSION = "1"


def _universe(session: Session, meeting: Meeting) -> tuple[list[int], list[int]]:
    """The meeting's agenda cases (each once, by its first item; removed items too: the
    set only grows once the meeting has started) and the actions its minutes created."""
    cases = list(
        dict.fromkeys(
            session.scalars(
                select(AgendaItem.case_id)
                .where(AgendaItem.meeting_id == meeting.id, AgendaItem.case_id.is_not(None))
                .order_by(AgendaItem.id)
            )
        )
    )
    actions = list(
        session.scalars(
            select(Action.id)
            .where(
                Action.forum_id == meeting.forum_id,
                Action.submission_key.startswith(_key_prefix(meeting.id), autoescape=True),
            )
            .order_by(Action.id)
        )
    )
    return [c for c in cases if c is not None], actions


def _bits(universe: Sequence[int], chosen: Collection[int]) -> bytes:
    wanted = set(chosen)
    packed = bytearray((len(universe) + 7) // 8)
    for n, item in enumerate(universe):
        if item in wanted:
            packed[n // 8] |= 1 << (n % 8)
    return bytes(packed)


def _chosen(universe: Sequence[int], packed: bytes) -> tuple[int, ...]:
    return tuple(
        item
        for n, item in enumerate(universe)
        if n // 8 < len(packed) and packed[n // 8] & (1 << (n % 8))
    )


def pack_tally(session: Session, meeting: Meeting, tally: Tally) -> str:
    """``tally`` as the modal's metadata carries it (:func:`unpack_tally` reads it back).
    Ids that are none of this meeting's cases or its minutes' actions are left out."""
    cases, actions = _universe(session, meeting)
    parts = (
        _bits(cases, tally.cases),
        _bits(cases, tally.follow_ups),
        _bits(actions, tally.actions),
    )
    raw = _HEADER.pack(*(len(p) for p in parts)) + b"".join(parts)
    return _VERSION + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode("ascii").rstrip("=")


def unpack_tally(session: Session, meeting: Meeting, packed: str | None) -> Tally:
    """The tally :func:`pack_tally` packed for ``meeting`` (the caller has checked the
    user's access to it); anything else (none, another version, damaged, crafted to inflate
    past any tally) is an empty one."""
    if not packed or not packed.startswith(_VERSION):
        return Tally()
    body = packed[len(_VERSION) :]
    try:
        data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(data, _RAW_MAX)
        if inflater.unconsumed_tail or not inflater.eof:
            return Tally()
        sizes = _HEADER.unpack_from(raw)
    except (binascii.Error, ValueError, zlib.error, struct.error):
        return Tally()
    if _HEADER.size + sum(sizes) != len(raw):
        return Tally()
    parts: list[bytes] = []
    at = _HEADER.size
    for size in sizes:
        parts.append(raw[at : at + size])
        at += size
    cases, actions = _universe(session, meeting)
    return Tally(
        cases=_chosen(cases, parts[0]),
        follow_ups=_chosen(cases, parts[1]),
        actions=_chosen(actions, parts[2]),
    )
