"""The ids the case listeners are wired to, the input block ids of the modals and the values
the listeners parse (status buttons, list filters, list pages)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.cases import (
    Scope,
)
from domain.ids import id_value
from storage.models import CaseStatus

# --- ids the listeners are wired to -----------------------------------------------------------

CB_CASE_NEW = "case_new"
CB_CASE_CLOSE = "case_close"
CB_CASE_DETAIL = "case_detail"
CB_DEVIATION = "deviation_new"
CB_DEVIATION_FOLLOW_UP = "deviation_follow_up"  # the deviation's view; a coordinator submits
ACTION_DEVIATION_OPEN = "deviation_open"  # button value: the deviation id
CB_CASE_AGENCIES = "case_agencies"  # the agencies that must attend, changed after raising
CB_CASE_SIP = "case_sip"  # whether a SIP is needed or started, changed after raising
CB_CASE_CONSENT = "case_consent"  # a consent given or renewed after the case was raised

ACTION_CASE_OPEN = "case_open"  # button value: the case id
# The case DM's button (value: the case id): no channel of a forum comes with it, so the
# case's own forum is the one its door asks membership of.
ACTION_CASE_OPEN_DM = "case_open_dm"
# One button per target status, action_id "case_status_<status>", value "<case_id>:<status>".
ACTION_CASE_STATUS = "case_status"
ACTION_CASE_STATUS_RE = re.compile(r"^case_status_[a-z_]+$")
ACTION_CASE_WITHDRAW = "case_withdraw_consent"  # button value: the case id
ACTION_CASE_AGENCIES = "case_change_agencies"  # push the agencies modal; value: case id
ACTION_CASE_SIP = "case_change_sip"  # push the SIP modal; value: case id
ACTION_CASE_CONSENT = "case_record_consent"  # push the consent modal; value: case id
ACTION_CASE_HOLD = "case_legal_hold"  # coordinators: push the reason modal; value: case id
ACTION_CASE_RELEASE = "case_legal_hold_release"  # coordinators: release; value: case id
# The raiser or a coordinator deletes a case raised by mistake (a confirm dialog first);
# value: case id (the modal's metadata names the case the handler deletes).
ACTION_CASE_DELETE = "case_delete_mistake"
ACTION_LIST_FILTER = "case_list_filter"  # static_select of whose cases: "f:<scope>:<status>"
ACTION_LIST_STATUS = "case_list_status"  # static_select of the status: "f:<scope>:<status>"
# Previous/next page buttons; value "<page>:<scope>:<status or empty>".
ACTION_LIST_PAGE = "case_list_page"
ACTION_LIST_PREV = "case_list_page_prev"
ACTION_LIST_NEXT = "case_list_page_next"
ACTION_LIST_PAGE_RE = re.compile(r"^case_list_page_(prev|next)$")

# Input block ids of the case modal: the CaseDraft field names that errors are keyed by.
CASE_FIELDS: tuple[str, ...] = (
    "summary",
    "concerns",
    "age_band",
    "agencies",
    "consent",
    "consent_agencies",
    "consent_given_on",
    "consent_expires_on",
    "sip",
    "meeting",
)
CLOSE_FIELDS: tuple[str, ...] = ("outcome", "effect", "sip_started")
CONSENT_FIELDS: tuple[str, ...] = (
    "consent",
    "consent_agencies",
    "consent_given_on",
    "consent_expires_on",
)
DEVIATION_FIELDS: tuple[str, ...] = ("agencies", "kind", "text", "case")
FOLLOW_UP_FIELDS: tuple[str, ...] = ("note", "outcome")
SIP_STARTED_VALUE = "started"  # the one checkbox of the close modal
HISTORY_SHOWN = 15
FILTER_ALL = "all"
SCOPES: tuple[Scope, ...] = ("all", "mine", "agency")
MAX_OPTIONS = 100
_STATUS_VALUES = frozenset(s.value for s in CaseStatus)


# --- values the listeners parse -----------------------------------------------------------------


def status_action_id(status: CaseStatus) -> str:
    return f"{ACTION_CASE_STATUS}_{status.value}"


def status_value(case_id: int, status: CaseStatus) -> str:
    return f"{case_id}:{status.value}"


def parse_status_value(value: str) -> tuple[int, CaseStatus] | None:
    """``"42:closed"`` → ``(42, CaseStatus.CLOSED)``; None when it is not one of ours."""
    raw, _, status = value.partition(":")
    if status not in _STATUS_VALUES:
        return None
    return id_value(raw) or 0, CaseStatus(status)  # crafted (², past any row): no such case


def filter_value(*, status: CaseStatus | None, scope: Scope) -> str:
    """A filter as an option value: ``"f:<scope>:<status>"`` (status empty for any)."""
    return f"f:{scope}:{status.value if status else ''}"


def parse_filter_value(value: str) -> tuple[Scope, CaseStatus | None]:
    """``"f:mine:new"`` → ``("mine", NEW)``; the older one-dimension values
    (``"status:new"``, ``"scope:mine"``, ``"all"``) still read; anything else is all cases."""
    kind, _, rest = value.partition(":")
    if kind == "f":
        scope_text, _, status_text = rest.partition(":")
        scope: Scope = next((s for s in SCOPES if s == scope_text), "all")
        status = CaseStatus(status_text) if status_text in _STATUS_VALUES else None
        return scope, status
    if kind == "status" and rest in _STATUS_VALUES:
        return "all", CaseStatus(rest)
    if kind == "scope":
        for scope in SCOPES:
            if scope == rest:
                return scope, None
    return "all", None


@dataclass(frozen=True)
class PageRequest:
    """Which page a previous/next button asks for: its number (for people) and its key
    (the id it starts after, or before), with the filter it belongs to."""

    page: int
    scope: Scope
    status: CaseStatus | None
    after: int | None = None
    before: int | None = None


def page_value(
    page: int,
    scope: Scope,
    status: CaseStatus | None,
    *,
    after: int | None = None,
    before: int | None = None,
) -> str:
    """``"<page>:<scope>:<status>:a<id>"`` (cases older than id) or ``…:b<id>`` (newer)."""
    key = f"a{after}" if after is not None else f"b{before}" if before is not None else ""
    return f"{page}:{scope}:{status.value if status else ''}:{key}"


def parse_page_value(value: str) -> PageRequest:
    """``"2:agency:new:a1234"`` → page 2 of the agency's new cases, older than case 1234.
    Values without a key (older messages) and anything odd give the first page."""
    parts = value.split(":")
    page = id_value(parts[0])
    if len(parts) not in (3, 4) or page is None:
        return PageRequest(0, "all", None)
    scope: Scope = next((s for s in SCOPES if s == parts[1]), "all")
    status = CaseStatus(parts[2]) if parts[2] in _STATUS_VALUES else None
    key = parts[3] if len(parts) == 4 else ""
    number = id_value(key[1:])
    if key[:1] in ("a", "b") and number is not None:
        if key[0] == "a":
            return PageRequest(page, scope, status, after=number)
        return PageRequest(page, scope, status, before=number)
    return PageRequest(0, scope, status)
