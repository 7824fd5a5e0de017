"""The case detail modal: summary, consent, history, the withdraw and legal hold buttons."""

from __future__ import annotations

import datetime as dt

from domain.cases import (
    CaseView,
    ConsentView,
    HistoryEntry,
)
from domain.clock import as_utc
from domain.corrections import Field
from domain.disclosure import Hidden
from domain.i18n import Translator
from domain.legal_grounds import GROUNDS
from handlers.blocks.cases.ids import (
    _STATUS_VALUES,
    ACTION_CASE_AGENCIES,
    ACTION_CASE_CONSENT,
    ACTION_CASE_DELETE,
    ACTION_CASE_HOLD,
    ACTION_CASE_RELEASE,
    ACTION_CASE_SIP,
    ACTION_CASE_WITHDRAW,
    CB_CASE_DETAIL,
    HISTORY_SHOWN,
    status_action_id,
    status_value,
)
from handlers.blocks.cases.labels import (
    _line,
    _meeting,
    _names,
    age_band_label,
    concern_labels,
    consent_label,
    effect_label,
    sip_label,
    status_button_label,
    status_label,
)
from handlers.blocks.common import (
    Block,
    actions,
    button,
    context,
    divider,
    escape,
    modal,
    plain,
    section,
)
from handlers.blocks.corrections import edit_button
from storage.models import CaseStatus, ConsentGiver, SipStatus

# --- one case ---------------------------------------------------------------------------------


def _summary_blocks(t: Translator, summary: str) -> list[Block]:
    """The summary, escaped, split over sections so escaping never pushes it over a limit."""
    summary_label = t("Summary")
    label = f"*{summary_label}*\n"
    escaped = escape(summary)
    if len(label) + len(escaped) <= 3000:
        return [section(label + escaped)]
    chunks = [summary[i : i + 500] for i in range(0, len(summary), 500)]
    return [section(label + escape(chunks[0]))] + [section(escape(c)) for c in chunks[1:]]


def _consent_text(t: Translator, consent: ConsentView | None, tz: dt.tzinfo) -> str:
    if consent is None or consent.given_by is ConsentGiver.NONE:
        return t("No consent: the other agencies see this case only as an anonymous consultation.")
    parts = [
        consent_label(t, consent.given_by),
        t("for {agencies}", agencies=_names(consent.agencies)),
    ]
    if consent.given_on:
        parts.append(t("given {date}", date=t.day(consent.given_on)))
    if consent.expires_on and (consent.active or consent.withdrawn_at):
        parts.append(t("valid up to and including {date}", date=t.day(consent.expires_on)))
    elif consent.expires_on:  # its last day has passed: say so, not only the date
        parts.append(
            t("*expired*, was valid up to and including {date}", date=t.day(consent.expires_on))
        )
    text = " · ".join(parts)
    if consent.withdrawn_at:
        withdrawn = t.day(as_utc(consent.withdrawn_at).astimezone(tz).date())
        withdrawn_label = t("Withdrawn")
        text += f"\n*{withdrawn_label}* {withdrawn}: " + t(
            "the other agencies now see this case only as an anonymous consultation."
        )
    return text


def _status_name(t: Translator, value: str | None) -> str:
    if value is not None and value in _STATUS_VALUES:
        return status_label(t, CaseStatus(value))
    return escape(value or "–")


def _sip_name(t: Translator, value: str | None) -> str:
    if value is not None and value in {s.value for s in SipStatus}:
        return sip_label(t, SipStatus(value))
    return escape(value or "–")


def _history_line(t: Translator, entry: HistoryEntry, tz: dt.tzinfo) -> str:
    if entry.kind == "created":
        what = t("raised the case ({status})", status=_status_name(t, entry.to_status))
    elif entry.kind == "status":
        what = t(
            "changed the status from {old} to {new}",
            old=_status_name(t, entry.from_status),
            new=_status_name(t, entry.to_status),
        )
    elif entry.kind == "reopened":
        what = t("reopened the case ({status})", status=_status_name(t, entry.to_status))
    elif entry.kind == "consent_withdrawn":
        what = t("recorded that consent was withdrawn")
    elif entry.kind == "agencies":
        what = t("changed which agencies take part")
    elif entry.kind == "sip":
        what = t(
            "changed the SIP from {old} to {new}",
            old=_sip_name(t, entry.from_status),
            new=_sip_name(t, entry.to_status),
        )
    elif entry.kind == "consent_recorded":
        what = t("recorded a new consent")
    else:
        what = escape(entry.kind)
    return f"{t.day_time(as_utc(entry.at), tz)} · <@{escape(entry.actor)}> {what}"


def _withdraw_button(t: Translator, case_id: int) -> Block:
    element = button(
        t("Consent withdrawn"), ACTION_CASE_WITHDRAW, value=str(case_id), style="danger"
    )
    element["confirm"] = {
        "title": plain(t("Consent withdrawn?"), 100),
        "text": plain(
            t(
                "From now on the other agencies see this case only as an anonymous "
                "consultation. This cannot be undone."
            ),
            300,
        ),
        "confirm": plain(t("Record withdrawal"), 30),
        "deny": plain(t("Cancel"), 30),
        "style": "danger",
    }
    return element


def _delete_button(t: Translator, view: CaseView) -> Block:
    """The raiser or a coordinator deletes a case raised by mistake, after Slack's confirm
    dialog (refused with a reason, at the click, once something was built on it)."""
    element = button(
        t("Delete the case (raised by mistake)"),
        ACTION_CASE_DELETE,
        value=str(view.id),
        style="danger",
    )
    element["confirm"] = {
        "title": plain(t("Delete {reference}?", reference=view.reference), 100),
        "text": plain(
            t(
                "For a case raised by mistake (wrong forum, wrong child, a duplicate): it is "
                "erased at once with its consent and agencies, and taken off the agenda. "
                "Only the deletion is logged. This cannot be undone."
            ),
            300,
        ),
        "confirm": plain(t("Delete"), 30),
        "deny": plain(t("Cancel"), 30),
        "style": "danger",
    }
    return element


def case_deleted_modal(t: Translator, reference: str) -> Block:
    """What the case modal shows once its case was deleted as raised by mistake."""
    return modal(
        callback_id=CB_CASE_DETAIL,
        title=reference,
        close=t("Close"),
        blocks=[
            section(
                t(
                    "{reference} is deleted (raised by mistake). Only the deletion is kept in "
                    "the audit log.",
                    reference=escape(reference),
                )
            )
        ],
    )


def _hold_button(t: Translator, view: CaseView) -> Block:
    """Coordinators stop retention for the case (a reason modal), or release the hold."""
    if not view.legal_hold:
        return button(t("Legal hold"), ACTION_CASE_HOLD, value=str(view.id))
    element = button(t("Release legal hold"), ACTION_CASE_RELEASE, value=str(view.id))
    element["confirm"] = {
        "title": plain(t("Release the legal hold?"), 100),
        "text": plain(t("Retention applies to this case again."), 300),
        "confirm": plain(t("Release"), 30),
        "deny": plain(t("Cancel"), 30),
    }
    return element


def _consent_active(consent: ConsentView | None) -> bool:
    return consent is not None and consent.given_by is not ConsentGiver.NONE and consent.active


def _not_covered_warning(t: Translator, view: CaseView) -> Block:
    """Agencies that must attend but are not covered by the consent (nor a legal ground)."""
    names = _names(view.not_covered)
    if view.consent is None or not _consent_active(view.consent):
        text = t(
            ":warning: There is no active consent: {agencies} must attend but see the case "
            "only as an anonymous consultation.",
            agencies=names,
        )
    else:
        text = t.ngettext(
            ":warning: The consent does not cover {agencies}, which must attend: it sees the "
            "case only as an anonymous consultation. Ask for consent that covers it, or have "
            "a coordinator record a legal ground.",
            ":warning: The consent does not cover {agencies}, which must attend: they see the "
            "case only as an anonymous consultation. Ask for consent that covers them, or "
            "have a coordinator record a legal ground.",
            len(view.not_covered),
            agencies=names,
        )
    return section(text, block_id="consent_warning")


def _anonymous_text(t: Translator, why: Hidden | None) -> str:
    """Why only the logistics are shown: the true reason the disclosure rule gave."""
    if why is Hidden.NOT_COVERED:
        return t(
            "*Anonymous consultation.* The case's consent does not cover your agency, so only "
            "the concerns and the age band are shared. Discuss the case without identifying "
            "the child."
        )
    if why is Hidden.NO_CONSENT:
        return t(
            "*Anonymous consultation.* The case has no valid consent, so only the concerns "
            "and the age band are shared. Discuss the case without identifying the child."
        )
    if why is Hidden.GROUND_ENDED:
        return t(
            "*Anonymous consultation.* The legal ground for your agency has ended and no "
            "consent covers it, so only the concerns and the age band are shared. Discuss "
            "the case without identifying the child."
        )
    return t(
        "*Anonymous consultation.* There is no consent that covers your agency, so "
        "only the concerns and the age band are shared. Discuss the case without "
        "identifying the child."
    )


def case_detail_modal(
    t: Translator, view: CaseView, *, tz: dt.tzinfo, private_metadata: str
) -> Block:
    """A case as one member may see it. Without ``view.details`` (anonymous consultation) only
    logistics, concerns and age band are shown, never the summary or the consent."""
    lines = [
        _line(t("Status"), status_label(t, view.status)),
        _line(t("Meeting"), _meeting(t, view.meeting_start, tz)),
        _line(t("Concerns"), concern_labels(t, view.concerns) or "–"),
        _line(t("Age band"), escape(age_band_label(t, view.age_band))),
        _line(t("Raising agency"), escape(view.raising_agency)),
        _line(t("Agencies that need to take part"), _names(view.agencies)),
    ]
    blocks: list[Block] = [section("\n".join(lines))]
    if view.details:
        blocks.extend(_summary_blocks(t, view.summary or ""))
        detail_lines = [
            _line(t("Consent"), _consent_text(t, view.consent, tz)),
            _line(t("SIP"), sip_label(t, view.sip)),
        ]
        if view.legal_ground is not None:
            detail_lines.insert(1, _line(t("Shared under"), t(GROUNDS[view.legal_ground][0])))
        if view.status is CaseStatus.CLOSED or view.outcome or view.effect:
            detail_lines.append(_line(t("Outcome"), escape(view.outcome or "") or "–"))
            detail_lines.append(
                _line(
                    t("Desired effect"),
                    effect_label(t, view.effect) if view.effect else "–",
                )
            )
        blocks.append(section("\n".join(detail_lines)))
        if view.not_covered and view.status is not CaseStatus.CLOSED:
            blocks.append(_not_covered_warning(t, view))
    else:
        blocks.append(section(_anonymous_text(t, view.hidden)))
    if view.may_hold and view.legal_hold:
        blocks.append(
            context(t("Legal hold: {reason}", reason=escape(view.legal_hold_reason or "–")))
        )
    blocks.append(divider())
    shown = view.history[-HISTORY_SHOWN:]
    history = "\n".join(_history_line(t, e, tz) for e in shown) or "–"
    history_label = t("History")
    blocks.append(section(f"*{history_label}*\n{history}"))
    if len(view.history) > len(shown):
        blocks.append(
            context(
                t.ngettext(
                    "The latest {shown} of {n} change.",
                    "The latest {shown} of {n} changes.",
                    len(view.history),
                    shown=len(shown),
                )
            )
        )
    buttons: list[Block] = []
    if view.may_change_status:
        for target in dict.fromkeys(view.next_statuses):
            buttons.append(
                button(
                    status_button_label(t, view.status, target),
                    status_action_id(target),
                    value=status_value(view.id, target),
                )
            )
        if view.status is not CaseStatus.CLOSED:
            if view.details:  # the consent is a detail: recorded by who may see the details
                # Consent given after the case was raised, or renewed before it expires.
                buttons.append(button(t("Record consent"), ACTION_CASE_CONSENT, value=str(view.id)))
            buttons.append(button(t("Change agencies"), ACTION_CASE_AGENCIES, value=str(view.id)))
        if view.details and _consent_active(view.consent):
            buttons.append(_withdraw_button(t, view.id))
    if view.may_hold:
        buttons.append(_hold_button(t, view))
    if view.may_edit and view.status is not CaseStatus.CLOSED:
        # Whether a SIP is needed or started (a detail: only with the details).
        buttons.append(button(t("Change SIP"), ACTION_CASE_SIP, value=str(view.id)))
    if view.may_edit:
        # Correct what was written (the raising agency or a coordinator, with the details).
        buttons.append(edit_button(t, Field.CASE_SUMMARY, view.id))
        if view.outcome:
            buttons.append(edit_button(t, Field.CASE_OUTCOME, view.id, t("Edit the outcome")))
    if (
        view.may_delete
        and not view.legal_hold
        and view.status in (CaseStatus.NEW, CaseStatus.SCHEDULED)
    ):
        buttons.append(_delete_button(t, view))
    if buttons:
        blocks.append(actions(*buttons[:25], block_id="case_actions"))
    return modal(
        callback_id=CB_CASE_DETAIL,
        title=view.reference,
        close=t("Close"),
        blocks=blocks,
        private_metadata=private_metadata,
    )
