"""Block Kit builders for one case (its detail modal, status and consent buttons, closing) and
for deviations: valid for Slack, within its limits, and never showing a case's details
where they do not belong (a consultation, a deviation's DM).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from domain.cases import (
    CONCERNS,
    DEVIATION_KINDS,
    TRANSITIONS,
    CaseView,
    ConsentView,
)
from domain.i18n import Translator
from handlers.blocks.cases import (
    ACTION_CASE_DELETE,
    ACTION_CASE_STATUS_RE,
    ACTION_CASE_WITHDRAW,
    CB_CASE_CLOSE,
    CB_CASE_DETAIL,
    CB_DEVIATION,
    CLOSE_FIELDS,
    DEVIATION_FIELDS,
    HISTORY_SHOWN,
    SIP_STARTED_VALUE,
    case_detail_modal,
    close_case_modal,
    consent_label,
    deviation_dm_text,
    deviation_modal,
    effect_label,
    parse_status_value,
    sip_label,
    status_action_id,
)
from handlers.blocks.common import MODAL_BLOCKS_MAX, MODAL_TITLE_MAX
from sandbox.webapi import validate_view
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
    history,
    input_ids,
    new_case_modal,
)


@pytest.fixture(params=LOCALES)
def t(request: pytest.FixtureRequest) -> Translator:
    return Translator(request.param)


# --- one case ---------------------------------------------------------------------------------


def test_detail_modal_with_details(t: Translator) -> None:
    view = case_detail_modal(t, case_view(), tz=STOCKHOLM, private_metadata="{}")

    assert validate_view(view) == []
    assert view["callback_id"] == CB_CASE_DETAIL
    assert view["title"]["text"] == "FOS-2026-017"
    text = all_text(view)
    assert SECRET in text
    assert consent_label(t, ConsentGiver.GUARDIANS) in text
    assert t(CONCERNS["mental_health"]) in text
    assert sip_label(t, SipStatus.NEEDED) in text
    assert "<@U0RAISER>" in text
    assert "submit" not in view


def test_detail_modal_escapes_the_summary(t: Translator) -> None:
    view = case_detail_modal(t, case_view(summary=HOSTILE), tz=STOCKHOLM, private_metadata="")

    assert validate_view(view) == []
    texts = mrkdwn_texts(view)
    assert any("Pojke &lt;@U1&gt; &lt;!channel&gt; &amp; &lt;https://evil" in x for x in texts)
    for text in texts:
        assert "<!channel>" not in text and "<@U1>" not in text


def test_detail_modal_with_a_long_escaped_summary_stays_valid(t: Translator) -> None:
    view = case_detail_modal(t, case_view(summary="&" * 1000), tz=STOCKHOLM, private_metadata="")

    assert validate_view(view) == []
    assert "".join(mrkdwn_texts(view)).count("&amp;") == 1000


def test_anonymous_consultation_shows_no_details(t: Translator) -> None:
    cv = case_view(
        details=False, summary=None, consent=None, outcome=None, effect=None, sip=SipStatus.NEEDED
    )
    view = case_detail_modal(t, cv, tz=STOCKHOLM, private_metadata="")

    assert validate_view(view) == []
    text = all_text(view)
    assert SECRET not in text
    assert t(CONCERNS["school_absence"]) in text
    assert "*" + t("Summary") + "*" not in text
    assert (
        t(
            "*Anonymous consultation.* There is no consent that covers your agency, so "
            "only the concerns and the age band are shared. Discuss the case without "
            "identifying the child."
        )
        in text
    )
    assert ACTION_CASE_WITHDRAW not in [e["action_id"] for e in elements(view)]


def test_a_summary_given_despite_no_details_is_not_shown(t: Translator) -> None:
    view = case_detail_modal(t, case_view(details=False), tz=STOCKHOLM, private_metadata="")

    assert SECRET not in all_text(view)


def test_long_history_stays_within_modal_limits(t: Translator) -> None:
    view = case_detail_modal(t, case_view(history=history(40)), tz=STOCKHOLM, private_metadata="")

    assert validate_view(view) == []
    assert len(view["blocks"]) <= MODAL_BLOCKS_MAX
    text = all_text(view)
    assert text.count("<@U") == HISTORY_SHOWN
    assert "<@U0000039>" in text  # the newest
    assert "<@U0RAISER>" not in text  # the oldest is cut


@pytest.mark.parametrize("status", list(CaseStatus))
def test_status_buttons_follow_the_transitions(status: CaseStatus) -> None:
    t = Translator("en")
    cv = case_view(status=status, next_statuses=TRANSITIONS[status])
    view = case_detail_modal(t, cv, tz=STOCKHOLM, private_metadata="")

    assert validate_view(view) == []
    buttons = [e for e in elements(view) if ACTION_CASE_STATUS_RE.match(e["action_id"])]
    assert [b["action_id"] for b in buttons] == [status_action_id(s) for s in TRANSITIONS[status]]
    assert [parse_status_value(b["value"]) for b in buttons] == [
        (42, s) for s in TRANSITIONS[status]
    ]
    labels = [b["text"]["text"] for b in buttons]
    if status is CaseStatus.CLOSED:
        assert labels == ["Reopen"]
    if CaseStatus.CLOSED in TRANSITIONS[status]:
        assert "Close case…" in labels


def test_withdraw_consent_button_needs_active_consent_and_permission(t: Translator) -> None:
    def action_ids(cv: CaseView) -> list[str]:
        view = case_detail_modal(t, cv, tz=STOCKHOLM, private_metadata="")
        assert validate_view(view) == []
        return [e["action_id"] for e in elements(view)]

    active = case_view()
    view = case_detail_modal(t, active, tz=STOCKHOLM, private_metadata="")
    withdraw = next(e for e in elements(view) if e["action_id"] == ACTION_CASE_WITHDRAW)
    assert withdraw["style"] == "danger"
    assert withdraw["value"] == "42"
    assert {"title", "text", "confirm", "deny"} <= set(withdraw["confirm"])

    assert active.consent is not None
    withdrawn = dataclasses.replace(active.consent, withdrawn_at=MEETING, active=False)
    assert ACTION_CASE_WITHDRAW not in action_ids(case_view(consent=withdrawn))
    none = dataclasses.replace(active.consent, given_by=ConsentGiver.NONE)
    assert ACTION_CASE_WITHDRAW not in action_ids(case_view(consent=none))
    assert action_ids(case_view(may_change_status=False, next_statuses=())) == []


def test_the_delete_button_asks_first_and_shows_only_for_a_case_not_yet_discussed(
    t: Translator,
) -> None:
    """The raiser or a coordinator (``may_delete``) of a new or scheduled case without a
    legal hold gets "Delete the case (raised by mistake)" with Slack's confirm dialog."""

    def deletes(**changes: object) -> list[dict[str, Any]]:
        view = case_detail_modal(t, case_view(**changes), tz=STOCKHOLM, private_metadata="")
        assert validate_view(view) == []
        return [e for e in elements(view) if e["action_id"] == ACTION_CASE_DELETE]

    [button] = deletes(may_delete=True)
    assert button["style"] == "danger" and button["value"] == "42"
    assert {"title", "text", "confirm", "deny"} <= set(button["confirm"])
    assert "FOS-2026-017" in button["confirm"]["title"]["text"]
    assert deletes(may_delete=True, status=CaseStatus.NEW)
    assert deletes() == []
    assert deletes(may_delete=True, legal_hold=True) == []
    for status in (CaseStatus.DISCUSSED, CaseStatus.FOLLOW_UP, CaseStatus.CLOSED):
        assert deletes(may_delete=True, status=status, next_statuses=TRANSITIONS[status]) == []


def test_withdrawn_consent_is_shown(t: Translator) -> None:
    consent = ConsentView(ConsentGiver.BOTH, ("Polis",), None, None, MEETING, False)
    view = case_detail_modal(t, case_view(consent=consent), tz=STOCKHOLM, private_metadata="")

    assert validate_view(view) == []
    assert t("Withdrawn") in all_text(view)


def test_closed_case_shows_outcome_and_effect(t: Translator) -> None:
    cv = case_view(
        status=CaseStatus.CLOSED,
        next_statuses=TRANSITIONS[CaseStatus.CLOSED],
        outcome="Bättre närvaro & <b>",
        effect=Effect.PARTLY,
    )
    view = case_detail_modal(t, cv, tz=STOCKHOLM, private_metadata="")

    assert validate_view(view) == []
    text = all_text(view)
    assert "Bättre närvaro &amp; &lt;b&gt;" in text
    assert effect_label(t, Effect.PARTLY) in text


def test_close_case_modal(t: Translator) -> None:
    view = close_case_modal(t, reference="FOS-2026-017", private_metadata='{"case": 42}')

    assert validate_view(view) == []
    assert view["callback_id"] == CB_CASE_CLOSE
    assert len(view["title"]["text"]) <= MODAL_TITLE_MAX
    assert input_ids(view) == list(CLOSE_FIELDS)
    assert [o["value"] for o in block(view, "effect")["element"]["options"]] == [
        e.value for e in Effect
    ]
    assert block(view, "outcome")["optional"] is True
    sip = block(view, "sip_started")["element"]
    assert sip["type"] == "checkboxes"
    assert [o["value"] for o in sip["options"]] == [SIP_STARTED_VALUE]


# --- deviations -------------------------------------------------------------------------------


def test_deviation_modal(t: Translator) -> None:
    view = deviation_modal(t, agencies=AGENCIES, private_metadata="{}")

    assert validate_view(view) == []
    assert view["callback_id"] == CB_DEVIATION
    assert len(view["title"]["text"]) <= MODAL_TITLE_MAX
    assert input_ids(view) == list(DEVIATION_FIELDS)
    assert [o["value"] for o in block(view, "kind")["element"]["options"]] == list(DEVIATION_KINDS)
    assert block(view, "case")["optional"] is True
    assert "initial_value" not in block(view, "case")["element"]

    prefilled = deviation_modal(
        t, agencies=AGENCIES, private_metadata="{}", case_reference="FOS-2026-017"
    )
    assert block(prefilled, "case")["element"]["initial_value"] == "FOS-2026-017"


def test_deviation_dm_has_kind_and_agencies_only(t: Translator) -> None:
    text = deviation_dm_text(
        t, forum_name="FOSSAM <!channel>", kind="attendance", agencies=["Polis", "Elevhälsa"]
    )

    assert t(DEVIATION_KINDS["attendance"]) in text
    assert "Polis, Elevhälsa" in text
    assert "<!channel>" not in text


def test_all_modal_titles_fit(t: Translator) -> None:
    views = [
        new_case_modal(t),
        case_detail_modal(
            t, case_view(reference="FOSSAM-2026-1234"), tz=STOCKHOLM, private_metadata=""
        ),
        close_case_modal(t, reference="FOS-2026-017", private_metadata=""),
        deviation_modal(t, agencies=AGENCIES, private_metadata=""),
    ]
    for view in views:
        assert len(view["title"]["text"]) <= MODAL_TITLE_MAX
        assert len(view.get("submit", {}).get("text", "")) <= MODAL_TITLE_MAX
