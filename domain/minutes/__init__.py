"""The meeting day for the people in it: "Inför mötet", the morning DM, and the minutes.

* **Inför mötet** (App Home and the morning DM): for each case on the agenda, its slot; for
  the cases the reader's agency attends and may see (the disclosure rule, surface
  ``meeting_preparation``), also the concerns, the age band and what was agreed last time.
  The other cases show their reference and slot only.
* **The morning DM** goes at the agenda time to every active member of a forum whose next
  meeting has cases: "GOT-2026-005 kl. 13:40–13:55 — er verksamhet behövs" with the meeting
  link. Keyed per meeting and member in the outbox (sent once); a change of the slots or of
  the meeting updates the sent DMs in place (chat.update, once per change).
* **The minutes** (*Skriv protokollet*): at the meeting's end time each coordinator gets one DM
  prompt. Per case the minutes hold the decision or agreed next step (guarded free text, a
  case detail: shown per the rule, surface ``minutes``), new actions with owner and due date
  (domain.actions) and the next follow-up date: the case then comes back on the agenda of
  the first meeting on or after that day. The channel gets a short notice, references only.
  A meeting with more cases than one modal holds (``PAGE_CASES``) is minuted page by page:
  each page saves on its own; the notice goes with the last page, or when the form is
  closed on a later page, and names every case minuted.

Parts: ``base`` (surfaces, limits), ``preparation`` (Inför mötet), ``dms`` (the morning DM),
``prompts`` (the minutes prompt), ``record`` (the minutes form and recording). Every public
name is importable from here: ``from domain import minutes; minutes.X``.
"""

from __future__ import annotations

from domain.minutes.base import (
    CATCH_UP,
    DECISION_MAX,
    MEETING_DM,
    MINUTES_PROMPT,
    MINUTES_SURFACE,
    PAGE_CASES,
    PREPARATION_SURFACE,
)
from domain.minutes.dms import RenderPreparation, refresh_meeting_dms, send_meeting_dms
from domain.minutes.preparation import (
    Preparation,
    PrepCase,
    last_agreed,
    next_preparations,
    prepare,
)
from domain.minutes.prompts import Prompt, send_minutes_prompts
from domain.minutes.record import (
    CaseClosed,
    MeetingNotStarted,
    MinuteCase,
    MinuteDraft,
    MinutesPage,
    MinutesPageGone,
    Recorded,
    Summary,
    Tally,
    action_field,
    action_key,
    close_minutes,
    decision_field,
    due_field,
    follow_up_field,
    minutes_form,
    owner_field,
    page_key,
    record_minutes,
    summarize,
)
from domain.minutes.tally import pack_tally, unpack_tally

__all__ = [
    "CATCH_UP",
    "DECISION_MAX",
    "MEETING_DM",
    "MINUTES_PROMPT",
    "MINUTES_SURFACE",
    "PAGE_CASES",
    "PREPARATION_SURFACE",
    "CaseClosed",
    "MeetingNotStarted",
    "MinuteCase",
    "MinuteDraft",
    "MinutesPage",
    "MinutesPageGone",
    "PrepCase",
    "Preparation",
    "Prompt",
    "Recorded",
    "RenderPreparation",
    "Summary",
    "Tally",
    "action_field",
    "action_key",
    "close_minutes",
    "decision_field",
    "due_field",
    "follow_up_field",
    "last_agreed",
    "minutes_form",
    "next_preparations",
    "owner_field",
    "pack_tally",
    "page_key",
    "prepare",
    "record_minutes",
    "refresh_meeting_dms",
    "send_meeting_dms",
    "send_minutes_prompts",
    "summarize",
    "unpack_tally",
]
