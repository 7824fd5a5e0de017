"""Block Kit for the data-protection surfaces: audit review, consent register, retention
and legal hold, access-request export. Every message here is ephemeral or a DM: references,
people, agencies and dates only; no case summary, outcome or comment."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from domain.consent_register import ConsentRegister, ExpiringConsent
from domain.i18n import Translator
from domain.legal_grounds import GROUNDS, NOTE_MAX, CaseGrounds, GroundEntry
from domain.logreview import LogFilter, LogReport, flag_label
from domain.retention import DataClass, Due, HoldRow, RetentionPolicy
from handlers.blocks.cases import consent_label
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
from storage.models import SYSTEM_ACTOR, AuditAction, LegalGroundKind

ACTION_LOG_EXPORT_CSV = "privacy_log_export_csv"  # value: LogFilter.encode()
ACTION_LOG_EXPORT_XLSX = "privacy_log_export_xlsx"
CB_LEGAL_GROUND = "privacy_legal_ground"  # the legal-ground modal (ViewMeta.case_id)
ACTION_GROUND_END = "privacy_legal_ground_end"  # button value: the ground's id
GROUND_FIELDS: tuple[str, ...] = ("agency", "ground", "decided_on", "note")
CB_LEGAL_HOLD = "privacy_legal_hold"  # reason for a hold set from the case modal
HOLD_FIELDS: tuple[str, ...] = ("reason",)
LINES_PER_SECTION = 10


def action_label(t: Translator, action: AuditAction) -> str:
    return {
        AuditAction.READ: t("read"),
        AuditAction.CREATE: t("created"),
        AuditAction.UPDATE: t("changed"),
        AuditAction.DELETE: t("deleted"),
        AuditAction.EXPORT: t("exported"),
    }[action]


def object_label(t: Translator, object_type: str) -> str:
    """What an audit event is about, in the reader's words ("ärende", not "case"); a kind
    not named here shows as stored."""
    labels = {
        "case": t("case"),
        "consent": t("consent"),
        "member": t("member"),
        "forum": t("forum"),
        "meeting": t("meeting"),
        "action": t("action"),
        "rating_round": t("rating round"),
        "rating": t("rating"),
        "audit_log": t("audit log"),
        "absence": t("absence"),
        "agenda_item": t("agenda item"),
        "legal_ground": t("legal ground"),
        "retention": t("retention"),
        "statistics": t("statistics"),
        "feedback": t("feedback"),
        "family_view": t("family's view"),
        "case_criteria": t("case criteria"),
        "deviation": t("deviation"),
        "steering": t("steering"),
        "forum_link": t("steering link"),
        "plan_item": t("activity plan item"),
        "action_plan": t("action plan"),
        "half_year_review": t("half-year review"),
        "annual_report": t("annual report"),
        "yearly_picture": t("yearly picture"),
    }
    return labels.get(object_type, object_type)


def actor_label(t: Translator, actor: str) -> str:
    """Who did it when it was no person: the bot's own jobs, the operators' command line."""
    return {
        SYSTEM_ACTOR: t("Samverkan (scheduled work)"),
        "cli": t("command line (operations)"),
    }.get(actor, actor)


def _stamp(t: Translator, moment: dt.datetime, tz: dt.tzinfo) -> str:
    """A moment as people read dates here ("måndag 23 november 2026 10:00"), in the
    forum's time zone: the register's given day beside it reads so too."""
    return t.day_time(moment, tz)


def _who(actor: str) -> str:
    return f"<@{escape(actor)}>" if actor[:1] in ("U", "W") else escape(actor)


def _object_ref(object_type: str, ref: str) -> str:
    """What an event names: a member as Slack shows them (their name), not their bare id."""
    if object_type == "member" and re.fullmatch(r"[UW][A-Z0-9]+", ref):
        return f"<@{ref}>"
    return escape(ref)


def filter_text(t: Translator, filt: LogFilter, agency: str | None) -> str:
    parts = []
    if filt.user:
        parts.append(t("person {user}", user=_who(filt.user)))
    if agency:
        parts.append(t("agency {agency}", agency=escape(agency)))
    if filt.reference:
        parts.append(t("case {reference}", reference=escape(filt.reference)))
    if filt.start or filt.end:
        parts.append(
            t(
                "period {start}–{end}",
                start=filt.start.isoformat() if filt.start else "…",
                end=filt.end.isoformat() if filt.end else "…",
            )
        )
    return ", ".join(parts) if parts else t("no filter (everything in this forum)")


def log_review_message(
    t: Translator,
    report: LogReport,
    *,
    filt: LogFilter,
    agency_name: str | None,
    tz: dt.tzinfo,
    reference: str,
    period: str,
) -> dict[str, object]:
    """``reference`` and ``period``: examples as this forum's would look (its code, this
    year: "TE-2026-001", "2026-11"), not another forum's."""
    blocks: list[Block] = [
        header(t("Audit log – {forum}", forum=report.forum_name)),
        context(
            t("Filter: {filter}", filter=filter_text(t, filt, agency_name))
            + " · "
            + t(
                "Filter with /samverkan logg @person, an agency, {reference} or {period}.",
                reference=reference,
                period=period,
            )
        ),
        section(
            t(
                "Events: {total} (reads: {reads}, changes: {changes}, exports: {exports}, "
                "deletions: {deletes}).",
                total=report.total,
                reads=report.counts.get("read", 0),
                changes=report.counts.get("create", 0) + report.counts.get("update", 0),
                exports=report.counts.get("export", 0),
                deletes=report.counts.get("delete", 0),
            )
        ),
    ]
    if report.refused:
        blocks.append(
            context(
                t.ngettext(
                    ":no_entry: {n} attempt refused at the door (someone the forum's rule "
                    "keeps from the case, action, rating round or meeting).",
                    ":no_entry: {n} attempts refused at the door (people the forum's rule "
                    "keeps from the case, action, rating round or meeting).",
                    report.refused,
                )
            )
        )
    if report.flags:
        lines = [
            f"• {_who(f.actor)}: {flag_label(t, f.kind)} ×{f.count}" for f in report.flags[:15]
        ]
        flags_title = t("Unusual reads")
        blocks.append(section(f"*:warning: {flags_title}*\n" + "\n".join(lines)))
    lines = []
    refused = t("was refused access to")
    for row in report.rows:
        line = (
            f"{_stamp(t, row.at, tz)} · {_who(actor_label(t, row.actor))}"
            + (f" ({escape(row.agency)})" if row.agency else "")
            + f" · {refused if row.refused else action_label(t, row.action)}"
            + f" · {escape(object_label(t, row.object_type))} "
            + _object_ref(row.object_type, row.object_ref)
        )
        if row.flags:
            line += " · :warning: " + ", ".join(flag_label(t, f) for f in row.flags)
        lines.append(line)
    for i in range(0, len(lines), LINES_PER_SECTION):
        blocks.append(section("\n".join(lines[i : i + LINES_PER_SECTION])))
    if not lines:
        blocks.append(section(t("No events match this filter.")))
    elif report.total > len(report.rows):
        blocks.append(
            context(
                t.ngettext(
                    "The latest {shown} of {n} event. Export to see all of them.",
                    "The latest {shown} of {n} events. Export to see all of them.",
                    report.total,
                    shown=len(report.rows),
                )
            )
        )
    value = filt.encode()
    blocks.append(
        actions(
            button(t("Export CSV"), ACTION_LOG_EXPORT_CSV, value=value),
            button(t("Export Excel"), ACTION_LOG_EXPORT_XLSX, value=value),
            block_id="privacy_log_export",
        )
    )
    return message(t("Audit log – {forum}", forum=report.forum_name), blocks)


def _validity(t: Translator, given_on: dt.date | None, expires_on: dt.date | None) -> str:
    """When a consent was given and how long it holds: through its last day (it still
    holds that day), or until further notice."""
    given = t.day(given_on) if given_on else "–"
    if expires_on is None:
        return t("Given {given} · valid until further notice", given=given)
    return t(
        "Given {given} · valid up to and including {until}", given=given, until=t.day(expires_on)
    )


def consent_register_message(
    t: Translator, register: ConsentRegister, *, tz: dt.tzinfo
) -> dict[str, object]:
    blocks: list[Block] = [
        header(t("Consent register – {reference}", reference=register.reference))
    ]
    if not register.entries:
        blocks.append(section(t("No consent has been recorded for this case.")))
    for entry in register.entries:
        lines = [
            f"*{consent_label(t, entry.given_by)}*"
            + (" · " + t("current") if entry.current else ""),
            t("Agencies: {agencies}", agencies=escape(", ".join(entry.agencies)) or "–"),
            _validity(t, entry.given_on, entry.expires_on),
            t(
                "Recorded by {user} on {date}",
                user=_who(entry.recorded_by),
                date=_stamp(t, entry.recorded_at, tz),
            ),
        ]
        if entry.withdrawn_at:
            lines.append(
                t(
                    "Withdrawn on {date} (recorded by {user})",
                    date=_stamp(t, entry.withdrawn_at, tz),
                    user=_who(entry.withdrawn_by or "?"),
                )
            )
        elif entry.current:
            lines.append(t("Active") if entry.active else t("Not active (expired)"))
        else:  # a renewal replaced it: it holds no more, whatever its end date said
            lines.append(t("Replaced by a later consent"))
        blocks.append(section("\n".join(lines)))
    if register.grounds:
        title = t("Other legal grounds")
        lines = [_ground_line(t, g, tz) for g in register.grounds[:20]]
        blocks.append(section(f"*{title}*\n" + "\n".join(lines)))
    if register.may_record_ground:
        blocks.append(
            context(
                t(
                    "Record or end another legal ground than consent for an agency with "
                    "/samverkan grund {reference}.",
                    reference=register.reference,
                )
            )
        )
    blocks.append(context(t("Looking at the consent register is recorded in the audit log.")))
    return message(t("Consent register – {reference}", reference=register.reference), blocks)


def _expiring_line(t: Translator, row: ExpiringConsent) -> str:
    """One consent about to run out; on its last day "today is the last day", not "in 0
    days"."""
    reference = f"*{escape(row.reference)}*"
    if row.days_left <= 0:
        return t(
            "{reference} · valid up to and including {date} (today is the last day)",
            reference=reference,
            date=t.day(row.expires_on),
        )
    return t.ngettext(
        "{reference} · valid up to and including {date} (in {n} day)",
        "{reference} · valid up to and including {date} (in {n} days)",
        row.days_left,
        reference=reference,
        date=t.day(row.expires_on),
    )


def _lapsed_line(t: Translator, row: ExpiringConsent) -> str:
    """One consent that ran out and was not renewed: its last day, as the others say it."""
    return t(
        "{reference} · was valid up to and including {date}, not renewed",
        reference=f"*{escape(row.reference)}*",
        date=t.day(row.expires_on),
    )


def expiring_message(
    t: Translator, rows: Sequence[ExpiringConsent], *, reference: str
) -> dict[str, object]:
    """``reference``: an example as this forum's would look (its code, this year)."""
    blocks: list[Block] = [header(t("Consents expiring within 30 days"))]
    expiring = [r for r in rows if not r.lapsed]
    lapsed = [r for r in rows if r.lapsed]
    if not expiring:
        blocks.append(section(t("No consent expires within 30 days.")))
    else:
        lines = [_expiring_line(t, r) for r in expiring]
        for i in range(0, len(lines), 20):
            blocks.append(section("\n".join(lines[i : i + 20])))
    if lapsed:
        # Apart from those about to run out: these no longer hold, and the case is an
        # anonymous consultation until the consent is renewed.
        lines = [_lapsed_line(t, r) for r in lapsed]
        title = "*" + t("Ran out in the last 30 days, not renewed") + "*"
        for i in range(0, len(lines), 20):
            blocks.append(section("\n".join(([title] if i == 0 else []) + lines[i : i + 20])))
    blocks.append(
        context(
            t(
                "See one case's consents with /samverkan samtycke {reference}.",
                reference=reference,
            )
        )
    )
    return message(t("Consents expiring within 30 days"), blocks)


def class_label(t: Translator, data_class: DataClass) -> str:
    return {
        DataClass.CLOSED_CASES: t("Cases with consent"),
        DataClass.CONSULTATIONS: t("Anonymous consultations"),
        DataClass.RATINGS: t("Ratings"),
        DataClass.ACTIONS: t("Actions"),
        DataClass.DEVIATIONS: t("Deviation reports"),
        DataClass.MEETINGS: t("Meeting notes and other business"),
        DataClass.AUDIT_EVENTS: t("Audit log"),
    }[data_class]


def retention_message(
    t: Translator,
    *,
    forum_name: str,
    policy: RetentionPolicy,
    dues: Sequence[Due],
    holds: Sequence[HoldRow],
    tz: dt.tzinfo,
    reference: str,
) -> dict[str, object]:
    """``reference``: an example as this forum's would look (its code, this year)."""
    lines = []
    for due in dues:
        label = class_label(t, due.data_class)
        line = t.ngettext(
            "{label}: kept {n} day · {due} due now",
            "{label}: kept {n} days · {due} due now",
            policy.days(due.data_class),
            label=label,
            due=len(due.ids),
        )
        if due.held:
            line += " · " + t("{n} under legal hold", n=len(due.held))
        if due.to_warn:
            # No plural form needed: the count stands alone.
            line += " · " + t(
                "never closed: {n} (the coordinators are told a month before)",
                n=len(due.to_warn),
            )
        if due.open_actions:
            line += " · " + t(
                "open long past their end date: {n} (never removed; the coordinators are told)",
                n=len(due.open_actions),
            )
        lines.append("• " + line)
    blocks: list[Block] = [
        header(t("Retention – {forum}", forum=forum_name)),
        section("\n".join(lines)),
    ]
    if holds:
        hold_lines = [
            f"• *{escape(h.reference)}* · {escape(h.reason)} · {_who(h.by)}"
            + (f" · {_stamp(t, h.at, tz)}" if h.at else "")
            for h in holds[:40]
        ]
        title = t("Legal hold")
        blocks.append(section(f"*{title}*\n" + "\n".join(hold_lines)))
    blocks.append(
        context(
            t(
                "Due data is removed by the daily retention job. Stop it for a case with "
                "/samverkan gallring stopp {reference} followed by the reason; release it with "
                "/samverkan gallring släpp {reference}.",
                reference=reference,
            )
        )
    )
    return message(t("Retention – {forum}", forum=forum_name), blocks)


# --- legal grounds other than consent -------------------------------------------------------


def ground_label(t: Translator, kind: LegalGroundKind) -> str:
    return t(GROUNDS[kind][0])


def ground_provision(t: Translator, kind: LegalGroundKind) -> str:
    return t(GROUNDS[kind][1])


def _ground_line(t: Translator, g: GroundEntry, tz: dt.tzinfo) -> str:
    line = (
        f"• *{escape(g.agency)}*: {ground_label(t, g.ground)} ({ground_provision(t, g.ground)})"
        + " · "
        + t(
            "assessed {date}, recorded by {user}",
            date=t.day(g.decided_on),
            user=_who(g.recorded_by),
        )
    )
    if g.note:
        line += f" · _{escape(g.note)}_"
    if g.ended_at:
        line += " · " + t(
            "ended {date} by {user}", date=_stamp(t, g.ended_at, tz), user=_who(g.ended_by or "?")
        )
    else:
        line += " · " + t("active")
    return line


def _end_button(t: Translator, g: GroundEntry) -> Block:
    element = button(t("End"), ACTION_GROUND_END, value=str(g.id), style="danger")
    element["confirm"] = {
        "title": plain(t("End the legal ground?"), 100),
        "text": plain(
            t(
                "From now on {agency} sees this case as an anonymous consultation, unless a "
                "consent covers it.",
                agency=g.agency,
            ),
            300,
        ),
        "confirm": plain(t("End"), 30),
        "deny": plain(t("Cancel"), 30),
        "style": "danger",
    }
    return element


def legal_ground_modal(
    t: Translator,
    grounds: CaseGrounds,
    *,
    today: dt.date,
    tz: dt.tzinfo,
    private_metadata: str,
) -> Block:
    """Record a legal ground other than consent for one agency (coordinators), and end the
    active ones. Input block ids are the :data:`GROUND_FIELDS`."""
    blocks: list[Block] = [
        section(
            t(
                "Without consent, other agencies see *{reference}* only as an anonymous "
                "consultation. Record a legal ground for one agency when your secrecy "
                "assessment allows sharing the details with it.",
                reference=escape(grounds.reference),
            )
        ),
    ]
    for g in grounds.entries[-20:]:
        block = section(_ground_line(t, g, tz), block_id=f"ground_{g.id}")
        if g.active:
            block["accessory"] = _end_button(t, g)
        blocks.append(block)
    blocks.append(divider())
    if not grounds.agencies:
        blocks.append(section(t("The forum has no other agency to record a ground for.")))
    else:
        blocks.extend(
            [
                input_block(
                    "agency",
                    t("Agency"),
                    {
                        "type": "static_select",
                        "action_id": "value",
                        "placeholder": plain(t("Choose an agency"), 150),
                        "options": [option(name, str(i)) for i, name in grounds.agencies[:100]],
                    },
                ),
                input_block(
                    "ground",
                    t("Legal ground"),
                    {
                        "type": "radio_buttons",
                        "action_id": "value",
                        "options": [
                            {
                                **option(ground_label(t, kind), kind.value),
                                "description": plain(ground_provision(t, kind), 75),
                            }
                            for kind in GROUNDS
                        ],
                    },
                ),
                input_block(
                    "decided_on",
                    t("Day of the assessment or decision"),
                    {"type": "datepicker", "action_id": "value", "initial_date": today.isoformat()},
                ),
                input_block(
                    "note",
                    t("Note"),
                    text_input("value", multiline=True, max_length=NOTE_MAX),
                    optional=True,
                    hint=t(
                        "E.g. where the assessment is documented. Never names or other "
                        "identifying data."
                    ),
                ),
            ]
        )
    blocks.append(context(t("Recording, ending and every read it allows are in the audit log.")))
    return modal(
        callback_id=CB_LEGAL_GROUND,
        title=t("Legal ground"),
        submit=t("Record") if grounds.agencies else None,
        close=t("Close"),
        blocks=blocks,
        private_metadata=private_metadata,
    )


def ground_recorded_modal(t: Translator, *, reference: str, agency: str) -> Block:
    return modal(
        callback_id="notice",
        title=t("Legal ground"),
        close=t("Close"),
        blocks=[
            section(
                t(
                    "The legal ground is recorded: {agency} now sees the details of "
                    "{reference}. Each read is in the audit log.",
                    agency=escape(agency),
                    reference=escape(reference),
                )
            )
        ],
    )


def legal_hold_modal(t: Translator, *, reference: str, private_metadata: str) -> Block:
    """The reason for a legal hold set from the case modal (non-identifying)."""
    return modal(
        callback_id=CB_LEGAL_HOLD,
        title=t("Legal hold"),
        submit=t("Stop retention"),
        close=t("Cancel"),
        blocks=[
            section(
                t(
                    "Retention keeps *{reference}* until the hold is released.",
                    reference=escape(reference),
                )
            ),
            input_block(
                "reason",
                t("Reason"),
                text_input("value", max_length=300),
                hint=t(
                    "E.g. a request from the supervisory authority. Never names or other "
                    "identifying data."
                ),
            ),
        ],
        private_metadata=private_metadata,
    )
