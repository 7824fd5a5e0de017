"""Actions (insatser/åtgärder): owned by an agency and one of its members, with a due date,
reminders on working days, hand-over, postponement with a reason, and follow-up of effect.

Every change is kept in the action's history (:class:`ActionEvent`: who, when, what) and
written to the audit log. Only the owner, a member of the owning agency or a coordinator can
change an action; the follow-up of effect is recorded by the owner or a coordinator.

Reminders: N working days before the due date (default 3, ``forum.settings
["action_reminder_days"]``), on the due date (the working day before, if it is a day off) and
then weekly while overdue, at 08:00 local on working days only (no weekends, Swedish public
holidays or the forum's extra days off) and never at night. Each action keeps the instant of
its next reminder (``remind_at``); a replica claims (forum, ``action_reminder``, action,
instant) before sending, so a reminder goes out once however many replicas run. Overdue
actions are gathered into one digest DM per owner and day instead of one message each.

Parts: ``base`` (limits, errors, shapes, days), ``rights`` (who may see and change),
``changes`` (create and change), ``reading`` (one action, lists, home), ``agenda`` (what the
agenda shows), ``jobs`` (reminders, digest, release). Every public name is importable from
here: ``from domain import actions; actions.X``.
"""

from __future__ import annotations

from domain.actions.agenda import (
    AgendaAction,
    AgendaActions,
    AreaRating,
    DueActions,
    actions_for_agenda,
    agenda_action_links,
    agenda_due_actions,
)
from domain.actions.base import (
    AGENDA_ACTIONS_MAX,
    AGENDA_TEXT_MAX,
    COMMENT_MAX,
    DESCRIPTION_MAX,
    DIGEST_MAX,
    FILTERS,
    HOME_MAX,
    HOPED_EFFECT_MAX,
    PAGE_SIZE,
    QUIET_FROM,
    REASON_MAX,
    REMIND_AT,
    REMIND_DAYS_BEFORE,
    REMINDER_KIND,
    SCOPES,
    SNOOZE_HOUR,
    ActionDraft,
    ActionNotFound,
    ActionPage,
    ActionRow,
    ActionView,
    Filter,
    HistoryEntry,
    NotAllowed,
    Scope,
    Snooze,
    may_remind_now,
    next_reminder_day,
    page_key,
    plan_reminder,
    reminder_days_before,
)
from domain.actions.changes import (
    cancel_action,
    complete_action,
    create_action,
    hand_over,
    postpone_action,
    record_follow_up,
    reopen_action,
    require_changeable,
    require_follow_up,
    snooze,
    upcoming_meetings,
)
from domain.actions.jobs import (
    ActionMessages,
    event_key,
    queue_dm,
    release_orphaned_actions,
    send_reminders,
)
from domain.actions.reading import (
    action_row,
    actions_for_case,
    former_owner_row,
    forum_days,
    latest_change,
    list_actions,
    my_open_actions,
    owner_in_workspace,
    owner_row,
    read_action,
    rows_for,
    rows_for_user,
)
from domain.actions.rights import (
    access_for_action,
    may_change,
    may_edit,
    may_follow_up,
    owner_may_read,
    told,
)
from domain.forums import coordinators

__all__ = [
    "AGENDA_ACTIONS_MAX",
    "AGENDA_TEXT_MAX",
    "COMMENT_MAX",
    "DESCRIPTION_MAX",
    "DIGEST_MAX",
    "FILTERS",
    "HOME_MAX",
    "HOPED_EFFECT_MAX",
    "PAGE_SIZE",
    "QUIET_FROM",
    "REASON_MAX",
    "REMINDER_KIND",
    "REMIND_AT",
    "REMIND_DAYS_BEFORE",
    "SCOPES",
    "SNOOZE_HOUR",
    "ActionDraft",
    "ActionMessages",
    "ActionNotFound",
    "ActionPage",
    "ActionRow",
    "ActionView",
    "AgendaAction",
    "AgendaActions",
    "AreaRating",
    "DueActions",
    "Filter",
    "HistoryEntry",
    "NotAllowed",
    "Scope",
    "Snooze",
    "access_for_action",
    "action_row",
    "actions_for_agenda",
    "actions_for_case",
    "agenda_action_links",
    "agenda_due_actions",
    "cancel_action",
    "complete_action",
    "coordinators",
    "create_action",
    "event_key",
    "former_owner_row",
    "forum_days",
    "hand_over",
    "latest_change",
    "list_actions",
    "may_change",
    "may_edit",
    "may_follow_up",
    "may_remind_now",
    "my_open_actions",
    "next_reminder_day",
    "owner_in_workspace",
    "owner_may_read",
    "owner_row",
    "page_key",
    "plan_reminder",
    "postpone_action",
    "queue_dm",
    "read_action",
    "record_follow_up",
    "release_orphaned_actions",
    "reminder_days_before",
    "reopen_action",
    "require_changeable",
    "require_follow_up",
    "rows_for",
    "rows_for_user",
    "send_reminders",
    "snooze",
    "told",
    "upcoming_meetings",
]
