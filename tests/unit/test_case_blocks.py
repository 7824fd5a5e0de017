"""Block Kit builders for cases and deviations: valid for Slack, within its limits, and never
showing a case's details where they do not belong (channel, DMs, the list, a consultation).

Here: raising a case, the list and the labels; one case and deviations:
test_case_detail_blocks.py.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from domain.cases import (
    AGE_BANDS,
    CONCERNS,
    PAGE_SIZE,
    CasePage,
)
from domain.i18n import Locale, Translator
from handlers import forms
from handlers.blocks.cases import (
    ACTION_CASE_OPEN,
    ACTION_LIST_FILTER,
    ACTION_LIST_NEXT,
    ACTION_LIST_PAGE_RE,
    ACTION_LIST_PREV,
    ACTION_LIST_STATUS,
    CASE_FIELDS,
    CB_CASE_NEW,
    PageRequest,
    case_announcement,
    case_dm_text,
    case_list_message,
    concern_labels,
    consent_label,
    effect_label,
    filter_value,
    parse_filter_value,
    parse_page_value,
    parse_status_value,
    sip_label,
    status_label,
)
from handlers.blocks.common import MESSAGE_BLOCKS_MAX, MODAL_TITLE_MAX
from sandbox.webapi import validate_message, validate_view
from storage.models import CaseStatus, ConsentGiver, Effect, SipStatus
from tests.support.blockkit import all_text, mrkdwn_texts
from tests.support.case_blocks import (
    AGENCIES,
    HOSTILE,
    LOCALES,
    MEETING,
    SECRET,
    STOCKHOLM,
    block,
    case_view,
    elements,
    input_ids,
    new_case_modal,
    row_of,
)


@pytest.fixture(params=LOCALES)
def t(request: pytest.FixtureRequest) -> Translator:
    return Translator(request.param)


# --- raising a case ---------------------------------------------------------------------------


def test_case_modal_is_valid_and_its_fields_are_the_drafts(t: Translator) -> None:
    view = new_case_modal(t)

    assert validate_view(view) == []
    assert view["callback_id"] == CB_CASE_NEW
    assert len(view["title"]["text"]) <= MODAL_TITLE_MAX
    assert view["title"]["text"] == t("New case")
    assert input_ids(view) == list(CASE_FIELDS)
    # No other block has an id, so an error keyed by a draft field lands on that field.
    assert [b["block_id"] for b in view["blocks"] if "block_id" in b] == list(CASE_FIELDS)
    assert {b["element"]["action_id"] for b in view["blocks"] if b["type"] == "input"} == {"value"}


def test_case_modal_offers_the_vocabularies_and_sensible_defaults(t: Translator) -> None:
    view = new_case_modal(t)

    concerns = block(view, "concerns")["element"]
    assert concerns["type"] == "multi_static_select"
    assert [o["value"] for o in concerns["options"]] == list(CONCERNS)
    assert [o["text"]["text"] for o in concerns["options"]] == [t(m) for m in CONCERNS.values()]
    assert [o["value"] for o in block(view, "age_band")["element"]["options"]] == list(AGE_BANDS)

    agencies = block(view, "agencies")["element"]
    assert [o["value"] for o in agencies["options"]] == ["1", "2", "3", "4"]
    assert [o["value"] for o in agencies["initial_options"]] == ["2"]  # own agency
    assert [o["value"] for o in block(view, "consent")["element"]["options"]] == [
        g.value for g in ConsentGiver
    ]
    assert block(view, "consent_agencies")["optional"] is True
    assert block(view, "consent_given_on")["element"]["type"] == "datepicker"
    assert block(view, "consent_expires_on")["element"]["type"] == "datepicker"
    sip = block(view, "sip")["element"]
    assert [o["value"] for o in sip["options"]] == [s.value for s in SipStatus]
    assert sip["initial_option"]["value"] == SipStatus.NOT_RELEVANT.value

    summary = block(view, "summary")
    assert summary["element"]["multiline"] is True
    assert summary["element"]["max_length"] == 1000
    assert "hint" in summary

    meeting = block(view, "meeting")["element"]
    assert meeting["initial_option"] == meeting["options"][0]
    assert meeting["initial_option"]["value"] == "2026-12-03T12:00:00+00:00"
    label = meeting["options"][0]["text"]["text"]
    assert (
        label
        == {"sv": "torsdag 3 december 2026 13:00", "en": "Thursday 3 December 2026 13:00"}[t.locale]
    )


def test_case_modal_explains_the_anonymous_consultation(t: Translator) -> None:
    text = all_text(new_case_modal(t))

    assert (
        t(
            "Without consent the case is an anonymous consultation: only the concern and "
            "the age band are shared with the other agencies."
        )
        in text
    )


def test_case_modal_without_upcoming_meetings_is_valid(t: Translator) -> None:
    view = new_case_modal(t, meetings=[], own_agency_id=99)

    assert validate_view(view) == []
    assert "meeting" not in input_ids(view)
    assert "initial_options" not in block(view, "agencies")["element"]


def test_case_modal_values_read_back_into_a_draft() -> None:
    view = new_case_modal(Translator("sv"))

    def pick(block_id: str, index: int = 0) -> dict[str, Any]:
        return block(view, block_id)["element"]["options"][index]  # type: ignore[no-any-return]

    values: forms.Values = {
        "summary": {"value": {"type": "plain_text_input", "value": "Hög frånvaro sedan hösten"}},
        "concerns": {"value": {"selected_options": [pick("concerns"), pick("concerns", 1)]}},
        "age_band": {"value": {"selected_option": pick("age_band", 2)}},
        "agencies": {"value": {"selected_options": [pick("agencies", 2)]}},
        "consent": {"value": {"selected_option": pick("consent")}},
        "consent_agencies": {"value": {"selected_options": [pick("consent_agencies", 2)]}},
        "consent_given_on": {"value": {"selected_date": "2026-11-20"}},
        "consent_expires_on": {"value": {"selected_date": None}},
        "sip": {"value": {"selected_option": pick("sip", 1)}},
        "meeting": {"value": {"selected_option": pick("meeting", 1)}},
    }
    draft = forms.case_draft(values)

    assert draft.concerns == ["school_absence", "mental_health"]
    assert draft.age_band == "13-15"
    assert draft.agency_ids == [3]
    assert draft.consent_giver is ConsentGiver.GUARDIANS
    assert draft.consent_agency_ids == [3]
    assert draft.consent_given_on == dt.date(2026, 11, 20)
    assert draft.sip is SipStatus.NEEDED
    assert draft.meeting == MEETING + dt.timedelta(days=7)


def test_announcement_has_logistics_only(t: Translator) -> None:
    view = case_view(summary=SECRET)
    msg: dict[str, Any] = case_announcement(
        t,
        reference=view.reference,
        raising_agency=view.raising_agency,
        agencies=view.agencies,
        meeting_start=view.meeting_start,
        tz=STOCKHOLM,
    )

    assert validate_message(msg) == []
    text = json.dumps(msg, ensure_ascii=False)
    assert "FOS-2026-017" in text
    assert "Socialtjänst/IFO" in text
    assert t.day_time(MEETING, STOCKHOLM) in text
    assert SECRET not in text
    for key in view.concerns:
        assert t(CONCERNS[key]) not in text
        assert key not in text
    assert "13-15" not in text and "13–15" not in text


def test_announcement_escapes_agency_names_and_handles_no_meeting(t: Translator) -> None:
    msg: dict[str, Any] = case_announcement(
        t,
        reference="FOS-2026-001",
        raising_agency=HOSTILE,
        agencies=[HOSTILE],
        meeting_start=None,
        tz=STOCKHOLM,
    )

    assert validate_message(msg) == []
    assert "<!channel>" not in json.dumps(msg)
    assert t("No meeting set") in all_text(msg)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "sv",
            "OSF Norr: FOS-2026-017 tas upp torsdag 3 december 13:00; er verksamhet behöver delta.",
        ),
        (
            "en",
            "OSF Norr: FOS-2026-017 will be discussed on Thursday 3 December 13:00; your agency "
            "needs to take part.",
        ),
    ],
)
def test_dm_text_names_forum_reference_day_and_time(locale: Locale, expected: str) -> None:
    """A member of several forums is told which forum, and when on the day to come."""
    view = case_view()
    text = case_dm_text(
        Translator(locale),
        reference=view.reference,
        forum_name="OSF Norr",
        meeting_start=MEETING,
        tz=STOCKHOLM,
    )

    assert text == expected
    assert SECRET not in text


def test_dm_text_without_meeting_names_the_forum(t: Translator) -> None:
    text = case_dm_text(
        t, reference="FOS-2026-017", forum_name="OSF Norr", meeting_start=None, tz=STOCKHOLM
    )

    assert text.startswith("OSF Norr: FOS-2026-017 ")


def test_dm_text_escapes_the_forum_name(t: Translator) -> None:
    text = case_dm_text(
        t, reference="FOS-2026-017", forum_name=HOSTILE, meeting_start=MEETING, tz=STOCKHOLM
    )

    assert "<!channel>" not in text


# --- the list ---------------------------------------------------------------------------------


def test_full_list_page_fits_and_offers_next(t: Translator) -> None:
    base = case_view()
    rows = tuple(
        row_of(base, id=i, reference=f"FOS-2026-{i:03d}", agencies=tuple(n for _, n in AGENCIES))
        for i in range(PAGE_SIZE, 0, -1)
    )
    msg: dict[str, Any] = case_list_message(
        t, CasePage(rows, 0, True), tz=STOCKHOLM, status=CaseStatus.SCHEDULED, scope="all"
    )

    assert validate_message(msg) == []
    assert len(msg["blocks"]) <= MESSAGE_BLOCKS_MAX
    ids = [e["action_id"] for e in elements(msg)]
    assert ids.count(ACTION_CASE_OPEN) == PAGE_SIZE
    assert ACTION_LIST_NEXT in ids and ACTION_LIST_PREV not in ids
    assert ACTION_LIST_PAGE_RE.match(ACTION_LIST_NEXT)
    nxt = next(e for e in elements(msg) if e["action_id"] == ACTION_LIST_NEXT)
    # The next page starts after the last case shown (a keyset, not an offset).
    assert parse_page_value(nxt["value"]) == PageRequest(1, "all", CaseStatus.SCHEDULED, after=1)
    opened = [e["value"] for e in elements(msg) if e["action_id"] == ACTION_CASE_OPEN]
    assert opened == [str(i) for i in range(PAGE_SIZE, 0, -1)]
    assert SECRET not in json.dumps(msg, ensure_ascii=False)


def test_last_page_offers_previous_only(t: Translator) -> None:
    rows = (row_of(case_view(details=False)),)
    msg: dict[str, Any] = case_list_message(
        t, CasePage(rows, 2, False), tz=STOCKHOLM, status=None, scope="agency"
    )

    assert validate_message(msg) == []
    ids = [e["action_id"] for e in elements(msg)]
    assert ACTION_LIST_PREV in ids and ACTION_LIST_NEXT not in ids
    prev = next(e for e in elements(msg) if e["action_id"] == ACTION_LIST_PREV)
    assert parse_page_value(prev["value"]) == PageRequest(1, "agency", None, before=rows[0].id)
    assert t("Anonymous consultation") in all_text(msg)


@pytest.mark.parametrize(
    ("status", "scope"),
    [
        (None, "all"),
        (None, "mine"),
        (None, "agency"),
        (CaseStatus.FOLLOW_UP, "all"),
        (CaseStatus.NEW, "mine"),
    ],
)
def test_list_filters_reflect_both_choices_and_keep_each_other(
    status: CaseStatus | None, scope: Any
) -> None:
    msg: dict[str, Any] = case_list_message(
        Translator("sv"), CasePage((), 0, False), tz=STOCKHOLM, status=status, scope=scope
    )

    assert validate_message(msg) == []
    whose = next(e for e in elements(msg) if e["action_id"] == ACTION_LIST_FILTER)
    which = next(e for e in elements(msg) if e["action_id"] == ACTION_LIST_STATUS)
    current = filter_value(status=status, scope=scope)
    assert whose["initial_option"]["value"] == which["initial_option"]["value"] == current
    assert parse_filter_value(current) == (scope, status)
    # Choosing another scope keeps the status, and another status keeps the scope.
    assert {parse_filter_value(o["value"])[1] for o in whose["options"]} == {status}
    assert {parse_filter_value(o["value"])[0] for o in which["options"]} == {scope}
    assert len(which["options"]) == len(CaseStatus) + 1


def test_empty_list_says_so(t: Translator) -> None:
    empty: dict[str, Any] = case_list_message(
        t, CasePage((), 0, False), tz=STOCKHOLM, status=None, scope="all"
    )
    filtered: dict[str, Any] = case_list_message(
        t, CasePage((), 0, False), tz=STOCKHOLM, status=CaseStatus.CLOSED, scope="all"
    )

    assert validate_message(empty) == [] and validate_message(filtered) == []
    assert t("No cases yet. Raise one with {command}.", command=t("/samverkan case")) in all_text(
        empty
    )
    assert t("No cases match this filter.") in all_text(filtered)


def test_list_escapes_agency_names(t: Translator) -> None:
    rows = (row_of(case_view(), raising_agency=HOSTILE, agencies=(HOSTILE,)),)
    msg: dict[str, Any] = case_list_message(
        t, CasePage(rows, 0, False), tz=STOCKHOLM, status=None, scope="all"
    )

    assert validate_message(msg) == []
    for text in mrkdwn_texts(msg):
        assert "<!channel>" not in text and "<@U1>" not in text


def test_parsers_refuse_foreign_values() -> None:
    assert parse_page_value("x") == PageRequest(0, "all", None)
    # A value without a key (a message from before keyed pages) gives the first page.
    assert parse_page_value("3:nobody:bogus") == PageRequest(0, "all", None)
    assert parse_page_value("3:mine:new:a12") == PageRequest(3, "mine", CaseStatus.NEW, after=12)
    assert parse_page_value("3:mine::bx") == PageRequest(0, "mine", None)
    assert parse_filter_value("status:bogus") == ("all", None)
    assert parse_filter_value("f:nobody:bogus") == ("all", None)
    assert parse_filter_value("status:new") == ("all", CaseStatus.NEW)  # older messages
    assert parse_filter_value("scope:everyone") == ("all", None)
    assert parse_status_value("42:closed") == (42, CaseStatus.CLOSED)
    assert parse_status_value("x:closed") == (0, CaseStatus.CLOSED)  # told as no such case
    assert parse_status_value("42:bogus") is None
    assert parse_status_value("42:gone") is None


# --- labels -----------------------------------------------------------------------------------


def test_every_vocabulary_has_a_label(t: Translator) -> None:
    for status in CaseStatus:
        assert status_label(t, status)
    for giver in ConsentGiver:
        assert consent_label(t, giver)
    for sip in SipStatus:
        assert sip_label(t, sip)
    for effect in Effect:
        assert effect_label(t, effect)
    assert concern_labels(t, ["school_absence", "other"]) == ", ".join(
        [t(CONCERNS["school_absence"]), t(CONCERNS["other"])]
    )
    assert concern_labels(t, ["<!here>"]) == "&lt;!here&gt;"
