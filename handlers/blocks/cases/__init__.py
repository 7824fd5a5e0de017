"""Block Kit for cases and deviation reports: the case modal, the channel announcement, the
DM to the agencies that must attend, the case list, the case detail modal, closing a case and
reporting a deviation.

Channel messages and DMs carry logistics only (reference, agencies, meeting date), never the
summary, the concerns or any other detail. Everything a user typed is escaped for mrkdwn.

Parts: ``ids`` (ids the listeners are wired to, values they parse), ``labels`` (labels and
shared text helpers), ``modals`` (the case, close and deviation modals), ``messages`` (the
announcement, the DM, the list), ``detail`` (the case detail modal). Every public name is
importable from here.
"""

from __future__ import annotations

from handlers.blocks.cases.detail import case_detail_modal
from handlers.blocks.cases.ids import (
    ACTION_CASE_AGENCIES,
    ACTION_CASE_CONSENT,
    ACTION_CASE_HOLD,
    ACTION_CASE_OPEN,
    ACTION_CASE_RELEASE,
    ACTION_CASE_STATUS,
    ACTION_CASE_STATUS_RE,
    ACTION_CASE_WITHDRAW,
    ACTION_LIST_FILTER,
    ACTION_LIST_NEXT,
    ACTION_LIST_PAGE,
    ACTION_LIST_PAGE_RE,
    ACTION_LIST_PREV,
    ACTION_LIST_STATUS,
    CASE_FIELDS,
    CB_CASE_AGENCIES,
    CB_CASE_CLOSE,
    CB_CASE_CONSENT,
    CB_CASE_DETAIL,
    CB_CASE_NEW,
    CB_DEVIATION,
    CLOSE_FIELDS,
    CONSENT_FIELDS,
    DEVIATION_FIELDS,
    FILTER_ALL,
    HISTORY_SHOWN,
    MAX_OPTIONS,
    SCOPES,
    SIP_STARTED_VALUE,
    PageRequest,
    filter_value,
    page_value,
    parse_filter_value,
    parse_page_value,
    parse_status_value,
    status_action_id,
    status_value,
)
from handlers.blocks.cases.labels import (
    age_band_label,
    concern_labels,
    consent_label,
    deviation_kind_label,
    effect_label,
    sip_label,
    status_button_label,
    status_label,
)
from handlers.blocks.cases.messages import case_announcement, case_dm_text, case_list_message
from handlers.blocks.cases.modals import (
    agencies_modal,
    case_modal,
    close_case_modal,
    consent_modal,
    deviation_dm_text,
    deviation_modal,
)

__all__ = [
    "ACTION_CASE_AGENCIES",
    "ACTION_CASE_CONSENT",
    "ACTION_CASE_HOLD",
    "ACTION_CASE_OPEN",
    "ACTION_CASE_RELEASE",
    "ACTION_CASE_STATUS",
    "ACTION_CASE_STATUS_RE",
    "ACTION_CASE_WITHDRAW",
    "ACTION_LIST_FILTER",
    "ACTION_LIST_NEXT",
    "ACTION_LIST_PAGE",
    "ACTION_LIST_PAGE_RE",
    "ACTION_LIST_PREV",
    "ACTION_LIST_STATUS",
    "CASE_FIELDS",
    "CB_CASE_AGENCIES",
    "CB_CASE_CLOSE",
    "CB_CASE_CONSENT",
    "CB_CASE_DETAIL",
    "CB_CASE_NEW",
    "CB_DEVIATION",
    "CLOSE_FIELDS",
    "CONSENT_FIELDS",
    "DEVIATION_FIELDS",
    "FILTER_ALL",
    "HISTORY_SHOWN",
    "MAX_OPTIONS",
    "SCOPES",
    "SIP_STARTED_VALUE",
    "PageRequest",
    "age_band_label",
    "agencies_modal",
    "case_announcement",
    "case_detail_modal",
    "case_dm_text",
    "case_list_message",
    "case_modal",
    "close_case_modal",
    "concern_labels",
    "consent_label",
    "consent_modal",
    "deviation_dm_text",
    "deviation_kind_label",
    "deviation_modal",
    "effect_label",
    "filter_value",
    "page_value",
    "parse_filter_value",
    "parse_page_value",
    "parse_status_value",
    "sip_label",
    "status_action_id",
    "status_button_label",
    "status_label",
    "status_value",
]
