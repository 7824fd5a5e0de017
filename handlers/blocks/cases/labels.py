"""Labels for case values (status, consent, SIP, effect, concerns, age band, deviation kind) and
the small text helpers the case views share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from domain.cases import (
    CONCERNS,
    DEVIATION_KINDS,
)
from domain.clock import as_utc
from domain.i18n import Translator
from handlers.blocks.cases.ids import MAX_OPTIONS
from handlers.blocks.common import (
    Block,
    escape,
    option,
    plain,
)
from storage.models import CaseStatus, ConsentGiver, Effect, SipStatus

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


def _meeting(t: Translator, start: dt.datetime | None, tz: dt.tzinfo) -> str:
    return t.day_time(as_utc(start), tz) if start else t("No meeting set")


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
