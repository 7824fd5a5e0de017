"""SQLAlchemy 2.x models for every core object of Samverkan.

Names follow the product vocabulary (forum, agency, member, case, consent, rating round,
meeting, agenda, action, audit event, deviation). Timestamps are timezone-aware UTC
everywhere; SQLite gives naive values back, so :class:`UTCDateTime` restores the zone.

Parts: ``base`` (the one declarative ``Base``, column types, the timestamp mixin), ``enums``,
``forums`` (forums, agencies, members, areas, meetings), ``cases`` (cases, consent, legal
grounds), ``agenda`` (agenda items, minutes), ``ratings``, ``actions``, ``deviations``,
``system`` (audit, scheduled effects, outbox), ``steering`` (criteria, feedback, family
view, plan), ``slack`` (OAuth stores), ``languages`` (each person's Slack language, and
when to ask Slack about it again). Every part is imported here, in the original order of
the tables, so ``Base.metadata`` (and Alembic) sees every table, and every name is
importable from ``storage.models``.
"""

from __future__ import annotations

# isort: off
# Imported in this order so the tables are registered as they always were.
from storage.models.base import NAMING_CONVENTION, UTCDateTime, JSONType, Base, TimestampMixin
from storage.models.enums import (
    Role,
    AreaKind,
    CaseStatus,
    ConsentGiver,
    LegalGroundKind,
    SipStatus,
    MeetingStatus,
    AgendaItemKind,
    RatingRoundStatus,
    ActionStatus,
    Effect,
    AuditAction,
    EffectStatus,
    OutboxStatus,
)
from storage.models.forums import Forum, Agency, Member, Area, Meeting, name_key
from storage.models.cases import (
    case_agencies,
    consent_agencies,
    Case,
    CaseCounter,
    CaseEvent,
    Consent,
    LegalGround,
)
from storage.models.agenda import AgendaItem, MinuteEntry
from storage.models.ratings import RatingRound, Rating, RatingObservation
from storage.models.actions import Action, ActionEvent
from storage.models.deviations import deviation_agencies, Deviation
from storage.models.system import (
    SYSTEM_ACTOR,
    FAILED_AGENDA_KEYS,
    FAILED_AGENDA_STATUS,
    AuditEvent,
    AuditChain,
    ScheduledEffect,
    OutboxMessage,
)
from storage.models.steering import (
    CaseCriterion,
    case_criteria_met,
    FeedbackSurvey,
    FamilyView,
    ForumLink,
    PlanItem,
    plan_activities,
)
from storage.models.slack import (
    slack_bots,
    slack_installations,
    slack_oauth_states,
    slack_org_workspaces,
)
from storage.models.languages import MemberLanguage, MemberLanguageAsk
# isort: on

__all__ = [
    "FAILED_AGENDA_KEYS",
    "FAILED_AGENDA_STATUS",
    "NAMING_CONVENTION",
    "SYSTEM_ACTOR",
    "Action",
    "ActionEvent",
    "ActionStatus",
    "Agency",
    "AgendaItem",
    "AgendaItemKind",
    "Area",
    "AreaKind",
    "AuditAction",
    "AuditChain",
    "AuditEvent",
    "Base",
    "Case",
    "CaseCounter",
    "CaseCriterion",
    "CaseEvent",
    "CaseStatus",
    "Consent",
    "ConsentGiver",
    "Deviation",
    "Effect",
    "EffectStatus",
    "FamilyView",
    "FeedbackSurvey",
    "Forum",
    "ForumLink",
    "JSONType",
    "LegalGround",
    "LegalGroundKind",
    "Meeting",
    "MeetingStatus",
    "Member",
    "MemberLanguage",
    "MemberLanguageAsk",
    "MinuteEntry",
    "OutboxMessage",
    "OutboxStatus",
    "PlanItem",
    "Rating",
    "RatingObservation",
    "RatingRound",
    "RatingRoundStatus",
    "Role",
    "ScheduledEffect",
    "SipStatus",
    "TimestampMixin",
    "UTCDateTime",
    "case_agencies",
    "case_criteria_met",
    "consent_agencies",
    "deviation_agencies",
    "name_key",
    "plan_activities",
    "slack_bots",
    "slack_installations",
    "slack_oauth_states",
    "slack_org_workspaces",
]
