"""Forum templates (FOSSAM, OSF, SSPF, steering levels) and the draft a forum form fills in."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from domain.blank import blank
from domain.i18n import N_
from domain.schedule import (
    DEFAULT_END,
    DEFAULT_RRULE,
    DEFAULT_START,
)
from storage.models import name_key

DEFAULT_AGENCIES: tuple[str, ...] = (
    "Grundskola",
    "Elevhälsa",
    "Socialtjänst/IFO",
    "Öppna insatser/familjestöd",
    "Första linjen",
    "BUP",
    "Polis",
    "Fritidsgård",
    "Fältassistenter",
    "Förskola",
    "Gymnasium",
)

NAME_MAX = 80
AGENCY_MAX = 75  # Slack option text limit
AREA_MAX = 75
CODE_RE = re.compile(r"^[A-ZÅÄÖ][A-ZÅÄÖ0-9]{1,5}$")


@dataclass(frozen=True)
class ForumTemplate:
    key: str
    label: str
    name: str
    code: str
    agencies: tuple[str, ...]
    rrule: str
    start: dt.time
    end: dt.time
    areas: tuple[str, ...] = ()
    settings: dict[str, object] = field(default_factory=dict)


TEMPLATES: dict[str, ForumTemplate] = {
    t.key: t
    for t in (
        ForumTemplate(
            key="fossam",
            label=N_("Weekly case forum (like FOSSAM)"),
            name="FOSSAM",
            code="FOS",
            agencies=(
                "Första linjen",
                "Grundskola",
                "Elevhälsa",
                "Socialtjänst/IFO",
                "Öppna insatser/familjestöd",
            ),
            rrule=DEFAULT_RRULE,
            start=DEFAULT_START,
            end=DEFAULT_END,
            settings={"situation_picture": "none"},
        ),
        ForumTemplate(
            key="osf",
            label=N_("Crime-prevention forum (like OSF)"),
            name="OSF",
            code="OSF",
            agencies=(
                "Socialtjänst/IFO",
                "Polis",
                "Fritidsgård",
                "Fältassistenter",
                "Grundskola",
                "Gymnasium",
            ),
            rrule="FREQ=MONTHLY;BYDAY=1TH,3TH",
            start=DEFAULT_START,
            end=DEFAULT_END,
            areas=(
                "Gråbo",
                "Hemse",
                "Droger",
                "Alkohol",
                "Psykisk ohälsa",
                "Utsatthet i sociala medier",
                "Hot/utpressning",
                "Sexuellt våld",
            ),
            settings={"situation_picture": "every_other"},
        ),
        ForumTemplate(
            key="sspf",
            label=N_("School, social services, police, leisure (SSPF)"),
            name="SSPF",
            code="SSPF",
            agencies=("Grundskola", "Socialtjänst/IFO", "Polis", "Fritidsgård"),
            rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
            start=DEFAULT_START,
            end=DEFAULT_END,
            areas=("Droger", "Kriminalitet/nätverk", "Otrygga platser"),
            settings={"situation_picture": "every"},
        ),
        # Steering levels (seed 003): they follow operational forums' figures and keep the
        # annual activity plan (domain.steering).
        ForumTemplate(
            key="styrgrupp",
            label=N_("Steering group (at least 8 meetings a year)"),
            name="Styrgrupp",
            code="STY",
            agencies=("Socialtjänst/IFO", "Grundskola", "Elevhälsa"),
            rrule="FREQ=MONTHLY;BYMONTH=1,2,3,4,5,6,8,9,10,11,12;BYDAY=2TU",
            start=dt.time(9, 0),
            end=dt.time(11, 0),
            settings={"situation_picture": "none", "steering_level": "styrgrupp"},
        ),
        ForumTemplate(
            key="2plus2",
            label=N_("2+2 meeting (three a year)"),
            name="2+2",
            code="TVT",
            agencies=("Socialtjänst/IFO", "Grundskola"),
            rrule="FREQ=YEARLY;BYMONTH=2,5,10;BYDAY=1TU",
            start=dt.time(13, 0),
            end=dt.time(15, 0),
            settings={"situation_picture": "none", "steering_level": "2+2"},
        ),
    )
}


@dataclass
class ForumDraft:
    """What a coordinator typed in the forum modal, before it is checked."""

    name: str
    code: str
    agencies: list[str]
    own_agency: str | None
    rrule: str
    start: dt.time | None
    end: dt.time | None
    areas: list[str]
    template: str | None = None
    # Calendar choices (None: keep the forum's, or the default for a new forum).
    holiday_policy: str | None = None
    extra_days_off: list[str] | None = None
    agenda_time: dt.time | None = None
    agenda_days_before: int | None = None
    # The date of one meeting (the schedule's anchor: which weeks "every other week" takes).
    first_meeting: dt.date | None = None


def draft_from_template(key: str | None) -> ForumDraft:
    tpl = TEMPLATES.get(key or "")
    if tpl is None:
        return ForumDraft(
            name="",
            code="",
            agencies=[],
            own_agency=None,
            rrule=DEFAULT_RRULE,
            start=DEFAULT_START,
            end=DEFAULT_END,
            areas=[],
            template=None,
        )
    return ForumDraft(
        name=tpl.name,
        code=tpl.code,
        agencies=list(tpl.agencies),
        own_agency=None,
        rrule=tpl.rrule,
        start=tpl.start,
        end=tpl.end,
        areas=list(tpl.areas),
        template=tpl.key,
    )


def split_lines(text: str | None) -> list[str]:
    """One entry per line (commas also separate); blanks (``domain.blank``: a line of
    zero-width spaces too) and repeats dropped, order kept."""
    seen: dict[str, None] = {}
    for part in re.split(r"[\n,;]", text or ""):
        item = " ".join(part.split())
        if not blank(item) and name_key(item) not in {name_key(s) for s in seen}:
            seen[item] = None
    return list(seen)
