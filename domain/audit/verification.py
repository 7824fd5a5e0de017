"""Verifying a chain (hashes, links, gaps, head, cuts), anchors kept outside the database,
and exporting a chain as JSON lines."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from domain.audit.chain import _COLUMNS, _action, _at, _dumps, _row_select, backlog, event_hash
from domain.audit.keys import (
    _EVENTS,
    _HEADS,
    ANCHOR_PREFIX,
    CUT_OBJECT_TYPE,
    DEV_KEY_ID,
    GENESIS,
    AuditKeys,
    current_keys,
)
from domain.clock import Clock
from storage.models import AuditAction

# --- verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    """Where a chain starts and ends (a head row, or the header of an exported file)."""

    chain: str
    start_seq: int = 1
    start_hash: str = GENESIS
    last_seq: int = 0
    last_hash: str = GENESIS

    @classmethod
    def of(cls, session: Session, chain: str) -> Head | None:
        row = session.execute(select(_HEADS).where(_HEADS.c.chain == chain)).first()
        if row is None:
            return None
        return cls(chain, row.start_seq, row.start_hash, row.last_seq, row.last_hash)


@dataclass
class Verification:
    checked: int = 0
    chains: int = 0
    start_seq: int = 1  # of the (last) chain checked
    last_seq: int = 0
    kept: int = 0  # events before a cut kept under legal hold (each checked on its own)
    unkeyed: int = 0  # version-1 events (from before migration 0008)
    development: int = 0  # events signed with the public development key
    unsealed: int = 0
    oldest_unsealed: dt.datetime | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Problems:
    def __init__(self, result: Verification, prefix: str, limit: int) -> None:
        self.result, self.prefix, self.limit = result, prefix, limit

    def __call__(self, text: str) -> None:
        if len(self.result.problems) < self.limit:
            self.result.problems.append(self.prefix + text)


def check_chain(
    rows: Iterable[Mapping[str, Any]],
    head: Head | None,
    *,
    chain: str,
    keys: AuditKeys,
    result: Verification,
    problem: Callable[[str], None],
) -> None:
    """Check one chain's sealed events, given in ``seq`` order (the kept ones before the
    chain's start first). Adds to ``result``; reports through ``problem``."""
    start_seq = head.start_seq if head else 1
    start_hash = head.start_hash if head else GENESIS
    expected, prev = start_seq, start_hash
    below: list[int] = []
    kept_listed: set[int] | None = None
    keyed_seen = False
    unknown: dict[str, int] = {}
    checked = 0
    for row in rows:
        seq = int(row["seq"])
        kid = row.get("key_id")
        if row.get("chain", chain) != chain:
            problem(f"seq {seq}: belongs to chain {row.get('chain')}")
        digest = event_hash(row, keys)
        if digest is None:
            unknown[str(kid)] = unknown.get(str(kid), 0) + 1
        if not kid:
            result.unkeyed += 1
        elif kid == DEV_KEY_ID:
            result.development += 1
        content_ok = digest is not None and hmac.compare_digest(digest, str(row["hash"]))
        if seq < start_seq:
            below.append(seq)
            if digest is not None and not content_ok:
                problem(f"seq {seq} (kept before the cut): content does not match its hash")
            continue
        if seq < expected:
            problem(f"seq {seq} appears more than once")
            continue
        if seq > expected:
            problem(f"event(s) seq {expected}–{seq - 1} are missing")
        if row["prev_hash"] != prev:
            problem(f"seq {seq}: link to the previous event broken")
        if digest is not None and not content_ok:
            problem(f"seq {seq}: content does not match its hash")
        if kid:
            keyed_seen = True
        elif keyed_seen:
            problem(f"seq {seq}: an unkeyed (version 1) event after keyed ones")
        if start_seq > 1 and content_ok and _is_cut(row, start_seq, start_hash, keys, chain):
            kept_listed = {int(s) for s in (row["detail"] or {}).get("kept", [])}
        prev, expected = str(row["hash"]), seq + 1
        checked += 1
    for kid, count in sorted(unknown.items()):
        problem(f"{count} event(s) signed with key id {kid}, which SAMVERKAN_AUDIT_KEYS lacks")
    last_seq = expected - 1
    if head is None and checked:
        problem("sealed events but no chain head")
    elif head is not None and (head.last_seq, head.last_hash) != (last_seq, prev):
        problem(
            f"the chain head says seq {head.last_seq} but the log ends at {last_seq}"
            " (events after it were removed, or added around the log)"
        )
    if start_seq > 1 and kept_listed is None:
        problem(f"the chain starts at seq {start_seq} but no retention event signed that cut")
    kept = set(below)
    if kept_listed is not None:
        for seq in sorted(kept - kept_listed)[:5]:
            problem(f"seq {seq} lies before the chain's start but the cut did not keep it")
        for seq in sorted(kept_listed - kept)[:5]:
            problem(f"seq {seq}, kept under legal hold at the cut, is missing")
    elif below:
        problem(f"{len(below)} event(s) lie before the chain's start (seq {start_seq})")
    result.checked += checked
    result.kept += len(below)
    result.chains += 1
    result.start_seq, result.last_seq = start_seq, last_seq


def _cut_message(chain: str, cut_seq: int, cut_hash: str, kept: Sequence[int]) -> bytes:
    return _dumps({"cut": chain, "seq": cut_seq, "hash": cut_hash, "kept": list(kept)})


def _is_cut(
    row: Mapping[str, Any], start_seq: int, start_hash: str, keys: AuditKeys, chain: str
) -> bool:
    """Is this the signed record of the cut the chain starts at? Its ``sig`` is made by
    retention with the key (the sealer signs whatever is inserted, so a cut record
    inserted by hand would be sealed too — but cannot carry this signature)."""
    detail = row["detail"] or {}
    if not (
        row["object_type"] == CUT_OBJECT_TYPE
        and _action(row["action"]) == AuditAction.DELETE.value
        and detail.get("cut_seq") == start_seq
        and detail.get("cut_hash") == start_hash
        and row.get("key_id")
    ):
        return False
    expected = keys.mac(
        str(row["key_id"]), _cut_message(chain, start_seq, start_hash, detail.get("kept", []))
    )
    return expected is not None and hmac.compare_digest(expected, str(detail.get("sig", "")))


def _chain_rows(session: Session, chain: str, batch: int) -> Iterator[Mapping[str, Any]]:
    """A chain's sealed events in (seq, id) order, a batch at a time."""
    after: tuple[int, int] = (-1, -1)
    while True:
        rows = session.execute(
            _row_select()
            .where(
                _EVENTS.c.chain == chain,
                _EVENTS.c.seq.is_not(None),
                tuple_(_EVENTS.c.seq, _EVENTS.c.id) > tuple_(*after),
            )
            .order_by(_EVENTS.c.seq, _EVENTS.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield dict(row._mapping)
        after = (rows[-1].seq, rows[-1].id)


def chains(session: Session) -> list[str]:
    """Every chain that has sealed events (or had: a head past the genesis)."""
    heads = set(session.scalars(select(_HEADS.c.chain).where(_HEADS.c.last_seq > 0)))
    sealed = set(
        session.scalars(select(_EVENTS.c.chain).where(_EVENTS.c.seq.is_not(None)).distinct())
    )
    return sorted(heads | sealed)


def verify(
    session: Session,
    *,
    chain: str | None = None,
    keys: AuditKeys | None = None,
    anchors: Sequence[Anchor] = (),
    batch: int = 2000,
    max_problems: int = 20,
) -> Verification:
    """Recompute one chain (or every chain): each event's keyed hash, each link, no gaps or
    duplicates, the head, the retention cut and the events kept before it; check each
    anchor; count what is not sealed yet (that is not a problem, only lag).

    Problems are plain English lines for the operator (CLI); the first few are kept.
    """
    keys = keys or current_keys()
    result = Verification()
    names = [chain] if chain is not None else chains(session)
    for name in names:
        problem = _Problems(result, "" if chain is not None else f"chain {name}: ", max_problems)
        check_chain(
            _chain_rows(session, name, batch),
            Head.of(session, name),
            chain=name,
            keys=keys,
            result=result,
            problem=problem,
        )
    for anchored in anchors:
        if chain is not None and anchored.chain != chain:
            result.problems.append(f"the anchor is for chain {anchored.chain}, not {chain}")
            continue
        check_anchor(session, anchored, keys=keys, result=result)
    waiting = backlog(session, chain)
    result.unsealed, result.oldest_unsealed = waiting.count, waiting.oldest
    return result


# --- anchors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """A chain's head at one moment, signed: a one-line copy kept outside the database."""

    chain: str
    seq: int
    hash: str  # the first 32 hex digits of the event's hash
    at: dt.datetime
    key_id: str
    signature: str = ""

    def message(self) -> bytes:
        return "|".join(
            [ANCHOR_PREFIX, self.chain, str(self.seq), self.hash, self._time(), self.key_id]
        ).encode("utf-8")

    def _time(self) -> str:
        return self.at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")

    @property
    def line(self) -> str:
        return ":".join(
            [
                ANCHOR_PREFIX,
                self.chain,
                str(self.seq),
                self.hash,
                self._time(),
                self.key_id,
                self.signature,
            ]
        )

    @classmethod
    def parse(cls, line: str) -> Anchor:
        parts = line.strip().split(":")
        if len(parts) != 7 or parts[0] != ANCHOR_PREFIX:
            raise ValueError(
                f"not an anchor line (expected {ANCHOR_PREFIX}:chain:seq:hash:time:key:signature)"
            )
        _, chain, seq, digest, when, kid, signature = parts
        try:
            at = dt.datetime.strptime(when, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
            number = int(seq)
        except ValueError:
            raise ValueError("the anchor line's seq or time is malformed") from None
        if not re.fullmatch(r"[0-9a-f]{32}", digest) or not re.fullmatch(
            r"[0-9a-f]{32}", signature
        ):
            raise ValueError("the anchor line's hash or signature is malformed")
        return cls(chain, number, digest, at, kid, signature)


def anchor(session: Session, clock: Clock, *, chain: str, keys: AuditKeys | None = None) -> Anchor:
    """The chain's sealed head now, signed with the signing key."""
    keys = keys or current_keys()
    head = Head.of(session, chain) or Head(chain)
    unsigned = Anchor(
        chain,
        head.last_seq,
        head.last_hash[:32],
        clock.now().replace(microsecond=0),
        keys.signing_id,
    )
    signature = keys.mac(unsigned.key_id, unsigned.message())
    assert signature is not None
    return dataclasses.replace(unsigned, signature=signature[:32])


def check_anchor(
    session: Session, anchored: Anchor, *, keys: AuditKeys, result: Verification
) -> None:
    """Does the chain still hold the anchored event, unchanged, and go at least that far?"""
    problem = _Problems(result, f"anchor {anchored.chain}:{anchored.seq}: ", 1000)
    expected = keys.mac(anchored.key_id, anchored.message())
    if expected is None:
        problem(f"signed with key id {anchored.key_id}, which SAMVERKAN_AUDIT_KEYS lacks")
        return
    if not hmac.compare_digest(expected[:32], anchored.signature):
        problem("the signature does not match (the line was edited or not made by Samverkan)")
        return
    head = Head.of(session, anchored.chain) or Head(anchored.chain)
    if head.last_seq < anchored.seq:
        problem(
            f"the chain ends at seq {head.last_seq}, before the anchored seq {anchored.seq}:"
            " events were removed after the anchor"
        )
        return
    if anchored.seq == 0:
        return
    if anchored.seq < head.start_seq:
        if anchored.seq == head.start_seq - 1 and not head.start_hash.startswith(anchored.hash):
            problem("the retention cut does not follow the anchored event")
        else:
            result.notes.append(
                f"anchor {anchored.chain}:{anchored.seq} lies before the retention cut at seq"
                f" {head.start_seq}; the signed cut event covers it"
            )
        return
    found = session.scalars(
        select(_EVENTS.c.hash).where(
            _EVENTS.c.chain == anchored.chain, _EVENTS.c.seq == anchored.seq
        )
    ).all()
    if not found:
        problem(f"the chain no longer holds seq {anchored.seq}")
    elif any(not (digest or "").startswith(anchored.hash) for digest in found):
        problem(f"seq {anchored.seq} is not the anchored event: the log was rewritten")


# --- export ---------------------------------------------------------------------------------


def export_chain(session: Session, chain: str, *, batch: int = 2000) -> Iterator[dict[str, Any]]:
    """The chain as JSON-ready rows: first its head, then every sealed event in seq order
    (``samverkan audit export``; :func:`verify_export` checks such a file)."""
    head = Head.of(session, chain) or Head(chain)
    yield {"head": dataclasses.asdict(head)}
    for row in _chain_rows(session, chain, batch):
        out = {name: row[name] for name in _COLUMNS}
        out["at"] = _at(row["at"])
        out["action"] = _action(row["action"])
        yield out


def verify_export(lines: Iterable[str], *, keys: AuditKeys | None = None) -> Verification:
    """Check an exported chain (JSON lines from :func:`export_chain`) without the database."""
    keys = keys or current_keys()
    result = Verification()
    iterator = iter(lines)
    try:
        first = json.loads(next(iterator))
        head = Head(**first["head"])
    except (StopIteration, ValueError, KeyError, TypeError):
        result.problems.append("the file does not start with a chain head")
        return result
    check_chain(
        (json.loads(line) for line in iterator if line.strip()),
        head,
        chain=head.chain,
        keys=keys,
        result=result,
        problem=_Problems(result, "", 20),
    )
    return result
