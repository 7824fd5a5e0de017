"""The guard's public API: every finding in a text, one message per field, the friendly error."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Final

from domain.errors import IdentifyingDataRefused
from domain.privacy.addresses import _Claimed, _find_addresses, _find_emails
from domain.privacy.findings import Finding
from domain.privacy.names import _find_names
from domain.privacy.normalise import _RTL_RE, _digits_for_lookalikes, _normalise, _shown, _View
from domain.privacy.numbers import _chains, _find_personnummer, _find_phones

# --- public API -----------------------------------------------------------------------------

_PRIORITY: Final[Mapping[str, int]] = {
    "personnummer": 0,
    "samordningsnummer": 0,
    "email": 1,
    "phone": 2,
}


def _scan(view: _View, today: date, *, rtl: bool) -> list[Finding]:
    """Findings in one view of the text, spans in the text as typed."""
    text = view.text
    scanned = _digits_for_lookalikes(text)
    chains = _chains(scanned, 10)
    found = _find_personnummer(scanned, chains, today)
    if rtl:
        found += _find_personnummer(scanned, [c.reversed() for c in chains], today)
    found += _find_phones(scanned)
    found += _find_emails(text)
    found += _find_addresses(scanned, found)
    found += _find_names(text)
    result: list[Finding] = []
    for f in found:
        start, end = view.back(f.start, f.end)
        result.append(Finding(f.kind, start, end, f.msgid))
    return result


def find_identifying(text: str, *, today: date | None = None) -> list[Finding]:
    """Every piece of identifying data in ``text``, in text order.

    Where two detectors claim the same characters the stronger reading wins
    (personnummer/samordningsnummer, then e-mail, then phone), so for example a personnummer
    is never also reported as a phone number. An address (street to postcode) never overlaps
    the other findings' characters with its street or postcode, but may enclose one.

    ``today`` (default: the system date) decides the century of a 10-digit personnummer and
    which birth dates lie in the future.
    """
    if not text:
        return []
    if today is None:
        today = date.today()
    rtl = _RTL_RE.search(text) is not None
    # What a reader sees first (a right-to-left override reversed), then the text as typed.
    shown = _shown(text)
    views = [_normalise(text)] if shown is None else [shown, _normalise(text)]
    candidates: list[Finding] = []
    for view in views:
        # Groups read in the other order only where the text as typed is scanned.
        candidates += _scan(view, today, rtl=rtl and view is views[-1])
    accepted: list[Finding] = []
    claimed = _Claimed(len(text))
    addresses: dict[tuple[int, int], Finding] = {}
    for finding in sorted(candidates, key=lambda f: (_PRIORITY.get(f.kind, 3), f.start, -f.end)):
        if finding.kind == "address":
            addresses.setdefault((finding.start, finding.end), finding)
        elif claimed.free(finding.start, finding.end):
            claimed.mark(finding.start, finding.end)
            accepted.append(finding)
    accepted.extend(addresses.values())
    accepted.sort(key=lambda f: (f.start, f.end))
    return accepted


def check_text(text: str | None, *, field: str, today: date | None = None) -> None:
    """Raise :class:`IdentifyingDataRefused` for the first finding in ``text``.

    ``None`` and the empty string pass. ``today`` as for :func:`find_identifying`.
    """
    if not text:
        return
    findings = find_identifying(text, today=today)
    if findings:
        raise IdentifyingDataRefused(findings[0].msgid, field=field)


def check_fields(fields: Mapping[str, str | None], *, today: date | None = None) -> dict[str, str]:
    """``{field: msgid}`` for every field with a finding, so a modal can show them all at once.

    An empty dict means every field is clean. ``today`` as for :func:`find_identifying`; the
    system date is read once for all fields.
    """
    if today is None:
        today = date.today()
    errors: dict[str, str] = {}
    for field, text in fields.items():
        if not text:
            continue
        findings = find_identifying(text, today=today)
        if findings:
            errors[field] = findings[0].msgid
    return errors
