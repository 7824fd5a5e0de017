"""Retention (gallring): remove what the municipality's retention decision says is due.

Per forum and data class a retention period (days) comes from the settings, overridable in
the forum's settings (``{"retention": {"closed_cases": 1826, …}}``):

* ``closed_cases``  — cases that had consent, counted from the last note (the latest of
  closing, last change and last history entry); with them go their history, consents, legal
  grounds, agenda items; actions and deviations keep their row but lose the link, and an
  action's text about the case goes with it (masked: unlinked it would be forum text);
* ``consultations`` — cases that never had consent (anonymous consultations);
* ``ratings``       — situation-picture answers (with their comments and what each agency
  saw right now), from when they were given;
* ``actions``       — finished actions (done or cancelled, with their history), from their
  completion; an open action never ages out, but once it has been past its end date and
  unchanged for this period its coordinators are told (once; by number), so they can close
  or cancel it;
* ``deviations``    — deviation reports (with their text and follow-up), from their last
  change (reported, changed or followed up);
* ``meetings``      — what was typed about a meeting (a cancel reason, minutes) and its
  agenda items of other business, from the meeting's end; the meeting's row stays;
* ``audit_events``  — the audit log itself, one chain per workspace: the oldest events go as
  a prefix and the cut is recorded (see :func:`domain.audit.purge_before`).

A case that was never closed goes too, when it has had no activity for its period: its
coordinators get a direct message (through the outbox, exactly once per removal date) and
the case goes no earlier than a month after that message, so there is time to update it or
set a legal hold. The outbox keeps no text once a message is delivered and its rows go after
:data:`domain.scheduling.OUTBOX_KEEP` (see :func:`domain.scheduling.prune_outbox`).

Nothing under legal hold goes: a held case, the actions and deviations linked to it, and
the audit events about any of them, stay. A daily job
(:func:`run_daily`) claims one row per forum and day, so it happens once across replicas,
and writes the counts of what it removed to the audit log. :func:`plan` shows what would go
(``samverkan gallra --dry-run``).

Parts: ``policy`` (the data classes, the policy and what a run reports), ``due`` (what is
due, per forum and for the audit log), ``removal`` (removing it, warning ahead, the daily
run), ``holds`` (legal holds). Every public name is importable from here.
"""

from __future__ import annotations

from domain.retention.due import (
    held_audit_refs,
    plan,
    plan_audit,
    plan_forum,
)
from domain.retention.holds import (
    HoldRow,
    forum_overview,
    legal_holds,
    not_coordinator,
    release_legal_hold,
    set_legal_hold,
)
from domain.retention.policy import (
    ACTION_WARNING_KIND,
    HOLD_REASON_MAX,
    JOB_KIND,
    SCHEDULE_MARKER,
    WARN_AHEAD,
    WARNING_KIND,
    DataClass,
    Due,
    Notice,
    OpenAction,
    Outcome,
    RetentionPolicy,
)
from domain.retention.removal import (
    apply_audit,
    apply_forum,
    erase_cases,
    run_all,
    run_daily,
)
from storage.models import SYSTEM_ACTOR

__all__ = [
    "ACTION_WARNING_KIND",
    "HOLD_REASON_MAX",
    "JOB_KIND",
    "SCHEDULE_MARKER",
    "SYSTEM_ACTOR",
    "WARNING_KIND",
    "WARN_AHEAD",
    "DataClass",
    "Due",
    "HoldRow",
    "Notice",
    "OpenAction",
    "Outcome",
    "RetentionPolicy",
    "apply_audit",
    "apply_forum",
    "erase_cases",
    "forum_overview",
    "held_audit_refs",
    "legal_holds",
    "not_coordinator",
    "plan",
    "plan_audit",
    "plan_forum",
    "release_legal_hold",
    "run_all",
    "run_daily",
    "set_legal_hold",
]
