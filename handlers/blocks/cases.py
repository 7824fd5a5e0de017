"""Block Kit for cases and deviation reports: the case modal, the channel announcement, the
DM to the agencies that must attend, the case list, the case detail modal, closing a case and
reporting a deviation.

Channel messages and DMs carry logistics only (reference, agencies, meeting date), never the
summary, the concerns or any other detail. Everything a user typed is escaped for mrkdwn.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from domain.cases import (
    AGE_BANDS,
    CONCERNS,
    DEVIATION_KINDS,
    DEVIATION_TEXT_MAX,
    OUTCOME_MAX,
    SUMMARY_MAX,
    CasePage,
    CaseView,
    ConsentView,
    HistoryEntry,
    Scope,
)
from domain.corrections import Field
from domain.i18n import Translator
from domain.legal_grounds import GROUNDS
from handlers.blocks.common import (
    Block,
    actions,
    button,
    context,
    divider,
    escape,
    header,
    input_block,
    message,
    modal,
    option,
    plain,
    section,
    text_input,
)
from handlers.blocks.corrections import edit_button
from storage.models import CaseStatus, ConsentGiver, Effect, SipStatus

# --- ids the listeners are wired to -----------------------------------------------------------

CB_CASE_NEW = "case_new"
CB_CASE_CLOSE = "case_close"
CB_CASE_DETAIL = "case_detail"
CB_DEVIATION = "deviation_new"

ACTION_CASE_OPEN = "case_open"  # button value: the case id
# One button per target status, action_id "case_status_<status>", value "<case_id>:<status>".
ACTION_CASE_STATUS = "case_status"
ACTION_CASE_STATUS_RE = re.compile(r"^case_status_[a-z_]+$")
ACTION_CASE_WITHDRAW = "case_withdraw_consent"  # button value: the case id
ACTION_CASE_HOLD = "case_legal_hold"  # coordinators: push the reason modal; value: case id
ACTION_CASE_RELEASE = "case_legal_hold_release"  # coordinators: release; value: case id
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
DEVIATION_FIELDS: tuple[str, ...] = ("agencies", "kind", "text", "case")
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
    case_id, _, status = value.partition(":")
    if not case_id.isdigit() or status not in _STATUS_VALUES:
        return None
    return int(case_id), CaseStatus(status)


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
    if len(parts) not in (3, 4) or not parts[0].isdigit():
        return PageRequest(0, "all", None)
    scope: Scope = next((s for s in SCOPES if s == parts[1]), "all")
    status = CaseStatus(parts[2]) if parts[2] in _STATUS_VALUES else None
    key = parts[3] if len(parts) == 4 else ""
    if key[:1] in ("a", "b") and key[1:].isdigit():
        number = int(key[1:])
        if key[0] == "a":
            return PageRequest(int(parts[0]), scope, status, after=number)
        return PageRequest(int(parts[0]), scope, status, before=number)
    return PageRequest(0, scope, status)


# --- labels ----------------------------------------------------------------------------------


def status_label(t: Translator, status: CaseStatus) -> str:
    return {
        CaseStatus.NEW: t("New"),
        CaseStatus.SCHEDULED: t("Scheduled"),
        CaseStatus.DISCUSSED: t("Discussed"),
        CaseStatus.FOLLOW_UP: t("Follow-up"),
        CaseStatus.CLOSED: t("Closed"),
    }[status]


def consent_label(t: Translator, giver: ConsentGiver) -> str:
    return {
        ConsentGiver.GUARDIANS: t("Guardian or guardians"),
        ConsentGiver.CHILD: t("The child or young person"),
        ConsentGiver.BOTH: t("Guardian or guardians and the child or young person"),
        ConsentGiver.NONE: t("No consent"),
    }[giver]


def sip_label(t: Translator, sip: SipStatus) -> str:
    return {
        SipStatus.NOT_RELEVANT: t("Not relevant"),
        SipStatus.NEEDED: t("Needed"),
        SipStatus.STARTED: t("Started"),
    }[sip]


def effect_label(t: Translator, effect: Effect) -> str:
    return {
        Effect.YES: t("Yes"),
        Effect.PARTLY: t("Partly"),
        Effect.NO: t("No"),
    }[effect]


def concern_labels(t: Translator, keys: Iterable[str]) -> str:
    """Translated concern labels, comma-separated (an unknown key is shown escaped)."""
    return ", ".join(t(CONCERNS[k]) if k in CONCERNS else escape(k) for k in keys)


def age_band_label(t: Translator, band: str) -> str:
    return t("{band} years", band=band.replace("-", "–")) if band else "–"


def deviation_kind_label(t: Translator, kind: str) -> str:
    return t(DEVIATION_KINDS[kind]) if kind in DEVIATION_KINDS else escape(kind)


def status_button_label(t: Translator, current: CaseStatus, target: CaseStatus) -> str:
    """What the button that moves a case from ``current`` to ``target`` says."""
    if current is CaseStatus.CLOSED:
        return t("Reopen")
    return {
        CaseStatus.NEW: t("Mark as new"),
        CaseStatus.SCHEDULED: t("Mark as scheduled"),
        CaseStatus.DISCUSSED: t("Mark as discussed"),
        CaseStatus.FOLLOW_UP: t("Needs follow-up"),
        CaseStatus.CLOSED: t("Close case…"),
    }[target]


def _names(names: Iterable[str]) -> str:
    return escape(", ".join(names)) or "–"


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _meeting(t: Translator, start: dt.datetime | None, tz: dt.tzinfo) -> str:
    return t.day_time(_utc(start), tz) if start else t("No meeting set")


def _line(label: str, value: str) -> str:
    return f"*{label}:* {value}"


def _agency_options(agencies: Sequence[tuple[int, str]]) -> list[Block]:
    return [option(name, str(agency_id)) for agency_id, name in agencies][:MAX_OPTIONS]


def _select(kind: str, placeholder: str, options: list[Block]) -> Block:
    return {
        "type": kind,
        "action_id": "value",
        "placeholder": plain(placeholder, 150),
        "options": options,
    }


# --- raising a case -----------------------------------------------------------------------------


def case_modal(
    t: Translator,
    *,
    agencies: Sequence[tuple[int, str]],
    own_agency_id: int,
    meetings: Sequence[dt.datetime],
    tz: dt.tzinfo,
    private_metadata: str,
    criteria: Sequence[tuple[int, str, str | None]] = (),
) -> Block:
    """The "raise a case" modal. Input block ids are the :data:`CASE_FIELDS`, so an error on a
    field of the draft lands on that field; every element's action_id is ``value``."""
    agency_options = _agency_options(agencies)
    blocks: list[Block] = [
        context(
            t(
                "Never write names, personal identity numbers, phone numbers or addresses: "
                "use case references and non-identifying text."
            )
        ),
        input_block(
            "summary",
            t("Summary"),
            text_input("value", multiline=True, max_length=SUMMARY_MAX),
            hint=t(
                "Short and non-identifying: no names, personal identity numbers, phone "
                "numbers, e-mail or street addresses."
            ),
        ),
        input_block(
            "concerns",
            t("Concerns"),
            _select(
                "multi_static_select",
                t("Choose concerns"),
                [option(t(label), key) for key, label in CONCERNS.items()],
            ),
        ),
        input_block(
            "age_band",
            t("Age band"),
            {
                "type": "radio_buttons",
                "action_id": "value",
                "options": [option(age_band_label(t, band), band) for band in AGE_BANDS],
            },
        ),
    ]
    agencies_el = _select("multi_static_select", t("Choose agencies"), list(agency_options))
    own = [o for o in agency_options if o["value"] == str(own_agency_id)]
    if own:
        agencies_el["initial_options"] = own
    blocks.append(
        input_block(
            "agencies",
            t("Agencies that need to take part"),
            agencies_el,
            optional=True,
            hint=t("Your own agency always takes part."),
        )
    )
    if criteria:  # the forum's case criteria: optional, never blocking (domain.criteria)
        criteria_el: Block = {
            "type": "checkboxes",
            "action_id": "value",
            "options": [
                {**option(text, str(cid)), **({"description": plain(help_, 75)} if help_ else {})}
                for cid, text, help_ in criteria[:10]
            ],
        }
        blocks.append(
            input_block(
                "criteria",
                t("The forum's criteria this case meets"),
                criteria_el,
                optional=True,
                hint=t("Tick what fits, or leave it empty."),
            )
        )
    blocks.append(divider())
    consent_options = [
        option(t("Guardian or guardians"), ConsentGiver.GUARDIANS.value),
        option(t("The child or young person (judged by maturity)"), ConsentGiver.CHILD.value),
        option(t("Both"), ConsentGiver.BOTH.value),
        option(t("Not given"), ConsentGiver.NONE.value),
    ]
    blocks.append(
        input_block(
            "consent",
            t("Consent given by"),
            {"type": "radio_buttons", "action_id": "value", "options": consent_options},
            hint=t("The form sets no age limit: judge whether the child is mature enough."),
        )
    )
    blocks.append(
        context(
            t(
                "Without consent the case is an anonymous consultation: only the concern and "
                "the age band are shared with the other agencies."
            )
        )
    )
    blocks.append(
        input_block(
            "consent_agencies",
            t("Agencies the consent covers"),
            _select("multi_static_select", t("Choose agencies"), list(agency_options)),
            optional=True,
            hint=t("Required when consent was given."),
        )
    )
    for block_id, label in (
        ("consent_given_on", t("Consent given on")),
        ("consent_expires_on", t("Consent expires on")),
    ):
        blocks.append(
            input_block(
                block_id,
                label,
                {"type": "datepicker", "action_id": "value"},
                optional=True,
            )
        )
    sip_options = [option(sip_label(t, s), s.value) for s in SipStatus]
    blocks.append(
        input_block(
            "sip",
            t("SIP (coordinated individual plan)"),
            {
                "type": "radio_buttons",
                "action_id": "value",
                "options": sip_options,
                "initial_option": sip_options[0],
            },
            hint=t("A SIP needs consent."),
        )
    )
    meeting_options = [
        option(t.day_time(_utc(m), tz), _utc(m).astimezone(dt.UTC).isoformat())
        for m in meetings[:MAX_OPTIONS]
    ]
    if meeting_options:
        meeting_el = _select("static_select", t("Choose a meeting"), meeting_options)
        meeting_el["initial_option"] = meeting_options[0]
        blocks.append(input_block("meeting", t("Meeting"), meeting_el))
    else:
        blocks.append(
            context(t("The forum has no upcoming meeting: the case is raised without one."))
        )
    return modal(
        callback_id=CB_CASE_NEW,
        title=t("New case"),
        submit=t("Raise case"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def case_announcement(
    t: Translator,
    *,
    reference: str,
    raising_agency: str,
    agencies: Sequence[str],
    meeting_start: dt.datetime | None,
    tz: dt.tzinfo,
) -> dict[str, object]:
    """The channel message about a new case: reference, agencies and meeting, nothing else."""
    title = t("New case {reference}", reference=escape(reference))
    lines = [
        _line(t("Raising agency"), escape(raising_agency)),
        _line(t("Agencies that need to take part"), _names(agencies)),
        _line(t("Meeting"), _meeting(t, meeting_start, tz)),
    ]
    blocks = [
        section(f"*{title}*\n" + "\n".join(lines)),
        context(t("Members open the case with {command}.", command=t("/samverkan cases"))),
    ]
    return message(title, blocks)


def case_dm_text(
    t: Translator, *, reference: str, meeting_start: dt.datetime | None, tz: dt.tzinfo
) -> str:
    """The DM to the agencies that must attend ("FOS-2026-017 tas upp torsdag 3 december …")."""
    if meeting_start is None:
        return t(
            "{reference} has been raised; your agency needs to take part.",
            reference=escape(reference),
        )
    return t(
        "{reference} will be discussed on {date}; your agency needs to take part.",
        reference=escape(reference),
        date=t.day(_utc(meeting_start).astimezone(tz).date(), year=False),
    )


# --- the case list ------------------------------------------------------------------------------


def _filter_selects(t: Translator, *, status: CaseStatus | None, scope: Scope) -> list[Block]:
    """Whose cases and which status, each keeping the other's choice (both apply at once)."""
    scope_options = [
        option(t("All cases"), filter_value(status=status, scope="all")),
        option(t("Raised by me"), filter_value(status=status, scope="mine")),
        option(t("My agency's cases"), filter_value(status=status, scope="agency")),
    ]
    status_options = [option(t("Any status"), filter_value(status=None, scope=scope))] + [
        option(status_label(t, s), filter_value(status=s, scope=scope)) for s in CaseStatus
    ]
    current = filter_value(status=status, scope=scope)
    return [
        {
            "type": "static_select",
            "action_id": ACTION_LIST_FILTER,
            "placeholder": plain(t("Whose cases"), 150),
            "options": scope_options,
            "initial_option": next(o for o in scope_options if o["value"] == current),
        },
        {
            "type": "static_select",
            "action_id": ACTION_LIST_STATUS,
            "placeholder": plain(t("Status"), 150),
            "options": status_options,
            "initial_option": next(o for o in status_options if o["value"] == current),
        },
    ]


def case_list_message(
    t: Translator,
    page: CasePage,
    *,
    tz: dt.tzinfo,
    status: CaseStatus | None,
    scope: Scope,
) -> dict[str, object]:
    """An ephemeral page of cases (logistics only) with a filter and previous/next buttons."""
    blocks: list[Block] = [
        header(t("Cases")),
        actions(*_filter_selects(t, status=status, scope=scope), block_id="case_list_filter"),
    ]
    for row in page.rows:
        lines = [
            f"*{escape(row.reference)}* · {status_label(t, row.status)} · "
            f"{_meeting(t, row.meeting_start, tz)}",
            f"{escape(row.raising_agency)} → {_names(row.agencies)}",
        ]
        if row.consultation:
            consultation = t("Anonymous consultation")
            lines.append(f"_{consultation}_")
        blocks.append(
            section(
                "\n".join(lines),
                block_id=f"case.{row.id}",
                accessory=button(t("Open"), ACTION_CASE_OPEN, value=str(row.id)),
            )
        )
    if not page.rows:
        filtered = status is not None or scope != "all"
        blocks.append(
            section(
                t("No cases match this filter.")
                if filtered
                else t("No cases yet. Raise one with {command}.", command=t("/samverkan case"))
            )
        )
    nav: list[Block] = []
    if page.page > 0:
        previous = (
            page_value(page.page - 1, scope, status, before=page.first_id)
            if page.first_id is not None
            else page_value(0, scope, status)  # an emptied page: back to the newest
        )
        nav.append(button(t("Previous"), ACTION_LIST_PREV, value=previous))
    if page.has_more and page.last_id is not None:
        following = page_value(page.page + 1, scope, status, after=page.last_id)
        nav.append(button(t("Next"), ACTION_LIST_NEXT, value=following))
    if nav:
        blocks.append(actions(*nav, block_id="case_list_page"))
    if page.rows or page.page > 0:
        blocks.append(context(t("Page {n}", n=page.page + 1)))
    return message(t("Cases"), blocks)


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
    if consent.expires_on:
        parts.append(t("expires {date}", date=t.day(consent.expires_on)))
    text = " · ".join(parts)
    if consent.withdrawn_at:
        withdrawn = t.day(_utc(consent.withdrawn_at).astimezone(tz).date())
        withdrawn_label = t("Withdrawn")
        text += f"\n*{withdrawn_label}* {withdrawn}: " + t(
            "the other agencies now see this case only as an anonymous consultation."
        )
    return text


def _status_name(t: Translator, value: str | None) -> str:
    if value is not None and value in _STATUS_VALUES:
        return status_label(t, CaseStatus(value))
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
    else:
        what = escape(entry.kind)
    return f"{t.day_time(_utc(entry.at), tz)} · <@{escape(entry.actor)}> {what}"


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
        blocks.append(
            section(
                t(
                    "*Anonymous consultation.* There is no consent that covers your agency, so "
                    "only the concerns and the age band are shared. Discuss the case without "
                    "identifying the child."
                )
            )
        )
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
        if view.details and _consent_active(view.consent):
            buttons.append(_withdraw_button(t, view.id))
    if view.may_hold:
        buttons.append(_hold_button(t, view))
    if view.may_edit:
        # Correct what was written (the raising agency or a coordinator, with the details).
        buttons.append(edit_button(t, Field.CASE_SUMMARY, view.id))
        if view.outcome:
            buttons.append(edit_button(t, Field.CASE_OUTCOME, view.id, t("Edit the outcome")))
    if buttons:
        blocks.append(actions(*buttons[:25], block_id="case_actions"))
    return modal(
        callback_id=CB_CASE_DETAIL,
        title=view.reference,
        close=t("Close"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def close_case_modal(t: Translator, *, reference: str, private_metadata: str) -> Block:
    """Closing asks for a short outcome for the statistics: the effect and whether a SIP
    was started."""
    effect_options = [option(effect_label(t, e), e.value) for e in Effect]
    blocks: list[Block] = [
        section(t("Close *{reference}*.", reference=escape(reference))),
        context(
            t("A short outcome for the statistics. Never write names or other identifying data.")
        ),
        input_block(
            "outcome",
            t("Outcome"),
            text_input("value", multiline=True, max_length=OUTCOME_MAX),
            optional=True,
            hint=t("Short and non-identifying."),
        ),
        input_block(
            "effect",
            t("Did the actions have the desired effect?"),
            {"type": "radio_buttons", "action_id": "value", "options": effect_options},
        ),
        input_block(
            "sip_started",
            t("SIP"),
            {
                "type": "checkboxes",
                "action_id": "value",
                "options": [option(t("A SIP was started"), SIP_STARTED_VALUE)],
            },
            optional=True,
        ),
    ]
    return modal(
        callback_id=CB_CASE_CLOSE,
        title=t("Close case"),
        submit=t("Close case"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


# --- deviations -------------------------------------------------------------------------------


def deviation_modal(
    t: Translator,
    *,
    agencies: Sequence[tuple[int, str]],
    private_metadata: str,
    case_reference: str | None = None,
) -> Block:
    """Report that collaboration failed: which agencies, what kind, non-identifying text and
    an optional case reference. Input block ids are the :data:`DEVIATION_FIELDS`."""
    blocks: list[Block] = [
        context(
            t(
                "Report that collaboration failed in a case or a routine. The coordinator "
                "follows it up. Never write names or other identifying data."
            )
        ),
        input_block(
            "agencies",
            t("Agencies concerned"),
            _select("multi_static_select", t("Choose agencies"), _agency_options(agencies)),
        ),
        input_block(
            "kind",
            t("What kind of deviation"),
            _select(
                "static_select",
                t("Choose a kind"),
                [option(t(label), key) for key, label in DEVIATION_KINDS.items()],
            ),
        ),
        input_block(
            "text",
            t("What happened"),
            text_input("value", multiline=True, max_length=DEVIATION_TEXT_MAX),
            hint=t(
                "Non-identifying: no names, personal identity numbers, phone numbers, "
                "e-mail or street addresses."
            ),
        ),
        input_block(
            "case",
            t("Case reference"),
            text_input("value", initial=case_reference, max_length=32, placeholder="FOS-2026-017"),
            optional=True,
        ),
    ]
    return modal(
        callback_id=CB_DEVIATION,
        title=t("Report a deviation"),
        submit=t("Report"),
        close=t("Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def deviation_dm_text(t: Translator, *, forum_name: str, kind: str, agencies: Sequence[str]) -> str:
    """The coordinators' DM about a new deviation: kind and agencies, never the text."""
    return t(
        "A deviation was reported in {forum}: {kind}. Agencies concerned: {agencies}.",
        forum=escape(forum_name),
        kind=deviation_kind_label(t, kind),
        agencies=_names(agencies),
    )
