"""Cases (ärenden): raising, consent, attendance, the status lifecycle, reads that are
audited, and deviation reports. Every agency raises cases on equal terms.

Parts: ``base`` (limits, shapes, audit), ``raising`` (meetings a case can go to, raising a
case), ``reading`` (lists and one case), ``changing`` (status, consent withdrawal, who is
told), ``deviations`` (reported deviations), ``removing`` (deleting a case raised by
mistake), ``consents`` (consent expiry reminders). Every
public name is importable from here: ``from domain import cases; cases.X``.
"""

from __future__ import annotations

from domain.cases.base import (
    AGE_BANDS,
    CONCERNS,
    DEVIATION_TEXT_MAX,
    MEETING_CHOICES,
    OUTCOME_MAX,
    PAGE_SIZE,
    SUMMARY_MAX,
    TRANSITIONS,
    CaseDraft,
    CasePage,
    CaseRow,
    CaseView,
    ConsentView,
    HistoryEntry,
    Scope,
)
from domain.cases.changing import (
    AgenciesChanged,
    change_agencies,
    change_sip,
    change_status,
    close_reference,
    consent_reference,
    members_to_notify,
    readers_lost_to_new_consent,
    record_consent,
    require_agencies_changeable,
    sip_reference,
    withdraw_consent,
)
from domain.cases.consents import (
    REMIND_DAYS_BEFORE,
    expired_consent_readers,
    remind_expiring_consents,
)
from domain.cases.deviations import (
    DEVIATION_KINDS,
    FOLLOW_UP_NOTE_MAX,
    FOLLOW_UP_OUTCOMES,
    FOLLOW_UP_SURFACE,
    DeviationHidden,
    DeviationNotFound,
    DeviationView,
    OpenDeviation,
    OpenDeviations,
    access_for_deviation,
    find_case_by_reference,
    follow_up_deviation,
    open_deviations,
    read_deviation,
    report_deviation,
)
from domain.cases.raising import meeting_for, raise_case, upcoming_meetings
from domain.cases.reading import (
    access_for_case,
    agencies_without_details,
    case_row,
    list_cases,
    may_change_status,
    may_delete,
    read_case,
)
from domain.cases.removing import MISTAKE_REASON, delete_by_mistake

__all__ = [
    "AGE_BANDS",
    "CONCERNS",
    "DEVIATION_KINDS",
    "DEVIATION_TEXT_MAX",
    "FOLLOW_UP_NOTE_MAX",
    "FOLLOW_UP_OUTCOMES",
    "FOLLOW_UP_SURFACE",
    "MEETING_CHOICES",
    "MISTAKE_REASON",
    "OUTCOME_MAX",
    "PAGE_SIZE",
    "REMIND_DAYS_BEFORE",
    "SUMMARY_MAX",
    "TRANSITIONS",
    "AgenciesChanged",
    "CaseDraft",
    "CasePage",
    "CaseRow",
    "CaseView",
    "ConsentView",
    "DeviationHidden",
    "DeviationNotFound",
    "DeviationView",
    "HistoryEntry",
    "OpenDeviation",
    "OpenDeviations",
    "Scope",
    "access_for_case",
    "access_for_deviation",
    "agencies_without_details",
    "case_row",
    "change_agencies",
    "change_sip",
    "change_status",
    "close_reference",
    "consent_reference",
    "delete_by_mistake",
    "expired_consent_readers",
    "find_case_by_reference",
    "follow_up_deviation",
    "list_cases",
    "may_change_status",
    "may_delete",
    "meeting_for",
    "members_to_notify",
    "open_deviations",
    "raise_case",
    "read_case",
    "read_deviation",
    "readers_lost_to_new_consent",
    "record_consent",
    "remind_expiring_consents",
    "report_deviation",
    "require_agencies_changeable",
    "sip_reference",
    "upcoming_meetings",
    "withdraw_consent",
]
