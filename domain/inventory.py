"""The data inventory: every column of every table, classified.

It drives the access-request export (art. 15: every table with a column that refers to a
member is searched) and the DPIA kit (docs/privacy/datainventering.md is generated from it;
a test fails when a model column is added without a classification here, or when the
document is out of date). Keep descriptions short; Swedish first.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace


class Category(enum.StrEnum):
    KEY = "key"  # technical identifier or link
    MEMBER = "member"  # a Slack user id (an employee taking part): personal data
    ORGANISATION = "organisation"  # forum, agency, area names and settings
    CASE_DETAIL = "case_detail"  # about a child's case: summary, concerns, consent, outcome
    FREE_TEXT = "free_text"  # other text members write (privacy-guarded)
    LOGISTICS = "logistics"  # dates, statuses, meeting times, references
    LOG = "log"  # audit log and its chain
    TECHNICAL = "technical"  # scheduling, outbox, delivery state
    SECRET = "secret"  # tokens and OAuth state (encrypted where stored)


class Retention(enum.StrEnum):
    """How long a table's rows are kept (domain/retention.py does the removing)."""

    FORUM = "forum"  # while the forum exists; deleted with it
    CASE = "case"  # with its case: closed_cases/consultations, also never-closed cases
    RATINGS = "ratings"
    ACTIONS = "actions"
    DEVIATIONS = "deviations"
    MEETINGS = "meetings"  # the row stays; typed text and other-business items go
    AUDIT = "audit_events"  # the audit log's own retention (domain/audit/retention.py)
    SCHEDULE = "schedule"  # claim rows: ids and times, no text; deleted with the forum
    OUTBOX = "outbox"  # payload emptied as a message settles; row deleted after 90 days
    INSTALLATION = "installation"  # while the app is installed; deleted on uninstall
    OAUTH_STATE = "oauth_state"  # minutes: consumed (deleted) at the end of an install


RETENTION_SV: dict[Retention, str] = {
    Retention.FORUM: (
        "så länge forumet finns; raderas med forumet (medlemmar som lämnat finns kvar som inaktiva)"
    ),
    Retention.CASE: (
        "med ärendet: `SAMVERKAN_RETENTION_CLOSED_CASES_DAYS` (samtycke) eller "
        "`…_CONSULTATIONS_DAYS` efter sista anteckning, även ärenden som aldrig avslutats "
        "(samordnarna varnas en månad innan)"
    ),
    Retention.RATINGS: "`SAMVERKAN_RETENTION_RATINGS_DAYS` efter att bedömningen gavs",
    Retention.ACTIONS: (
        "`SAMVERKAN_RETENTION_ACTIONS_DAYS` efter avslut, eller efter sista ändring om den "
        "aldrig avslutats"
    ),
    Retention.DEVIATIONS: "`SAMVERKAN_RETENTION_DEVIATIONS_DAYS` efter sista ändring",
    Retention.MEETINGS: (
        "raden finns kvar; inställningsskäl, anteckningar och övriga frågor raderas "
        "`SAMVERKAN_RETENTION_MEETINGS_DAYS` efter mötet"
    ),
    Retention.AUDIT: "loggens egen gallring, `SAMVERKAN_RETENTION_AUDIT_DAYS`",
    Retention.SCHEDULE: "teknisk (id och tider, ingen text); raderas med forumet",
    Retention.OUTBOX: (
        "innehållet töms när meddelandet levererats (kvar: vart det gick); raden raderas "
        "efter 90 dagar"
    ),
    Retention.INSTALLATION: "så länge appen är installerad; raderas vid avinstallation",
    Retention.OAUTH_STATE: (
        "giltig i minuter: raderas när installationen slutförs (en avbruten installations "
        "rad blir kvar, utan personuppgifter)"
    ),
}


class Export(enum.StrEnum):
    INCLUDE = "include"
    REDACT = "redact"  # shown as withheld: it is about someone else (a child, a case)
    OMIT = "omit"  # never exported (secrets)


CATEGORY_SV: dict[Category, str] = {
    Category.KEY: "Teknisk nyckel",
    Category.MEMBER: "Medarbetare (Slack-id)",
    Category.ORGANISATION: "Organisation",
    Category.CASE_DETAIL: "Ärendeuppgift (barn/ärende)",
    Category.FREE_TEXT: "Fritext",
    Category.LOGISTICS: "Logistik",
    Category.LOG: "Logg",
    Category.TECHNICAL: "Teknisk drift",
    Category.SECRET: "Hemlighet",
}


@dataclass(frozen=True)
class Column:
    category: Category
    member_ref: bool = False  # holds a Slack user id (exactly, or inside JSON)
    json: bool = False  # member ids may appear inside a JSON value
    # Holds copies of other columns' text (an outbox payload repeats an action's description):
    # withheld like the text itself, so nothing redacted in one table comes back through it.
    copies_text: bool = False
    # Free text (FREE_TEXT, CASE_DETAIL): the most characters the storage edge accepts
    # (domain/privacy_wall.py), the same as the modal's max_length.
    max_length: int | None = None

    def limit(self, max_length: int) -> Column:
        return replace(self, max_length=max_length)

    @property
    def export(self) -> Export:
        if self.category is Category.SECRET:
            return Export.OMIT
        if self.category in (Category.CASE_DETAIL, Category.FREE_TEXT) or self.copies_text:
            return Export.REDACT
        return Export.INCLUDE


@dataclass(frozen=True)
class Table:
    where: str  # storage (all tables live in the bot's database)
    purpose_sv: str
    purpose_en: str
    columns: dict[str, Column]
    # How a row belongs to a forum, so an export can be limited to some forums:
    # "forum_id" (a column), "id" (the forums table), or "<column>:<table>" (a key to a table
    # that has forum_id). None: not tied to one forum (left out of a forum-scoped export).
    forum_link: str | None = None
    retention: Retention | None = None  # every table has one (tests/unit/test_inventory.py)

    @property
    def member_columns(self) -> tuple[str, ...]:
        return tuple(name for name, c in self.columns.items() if c.member_ref)


K = Column(Category.KEY)
M = Column(Category.MEMBER, member_ref=True)
MJ = Column(Category.TECHNICAL, member_ref=True, json=True)
MJC = Column(Category.TECHNICAL, member_ref=True, json=True, copies_text=True)
O = Column(Category.ORGANISATION)  # noqa: E741
C = Column(Category.CASE_DETAIL)
F = Column(Category.FREE_TEXT)
L = Column(Category.LOGISTICS)
G = Column(Category.LOG)
T = Column(Category.TECHNICAL)
S = Column(Category.SECRET)
DB = "Botens databas (PostgreSQL/SQLite)"

INVENTORY: dict[str, Table] = {
    "forums": Table(
        DB,
        "Samverkansforum: namn, kod, kanal, mötesschema, inställningar",
        "Forums: name, code, channel, meeting schedule, settings",
        {
            "id": K,
            "team_id": T,
            "channel_id": T,
            "name": O,
            "code": O,
            "template": O,
            "schedule_rrule": L,
            "schedule_anchor": L,
            "meeting_start": L,
            "meeting_minutes": L,
            "timezone": L,
            "language": L,
            "settings": O,
            "created_by": M,
            "meetings_until": L,
            "created_at": L,
            "updated_at": L,
        },
        forum_link="id",
        retention=Retention.FORUM,
    ),
    "agencies": Table(
        DB,
        "Verksamheter som deltar i ett forum",
        "Agencies taking part in a forum",
        {"id": K, "forum_id": K, "name": O, "position": O, "active": O},
        forum_link="forum_id",
        retention=Retention.FORUM,
    ),
    "members": Table(
        DB,
        "Medlemmar: Slack-id, verksamhet, roll, frånvaro",
        "Members: Slack id, agency, role, absence",
        {
            "id": K,
            "forum_id": K,
            "agency_id": K,
            "slack_user_id": M,
            "role": O,
            "active": O,
            "away_until": L,
            "stand_in_member_id": K,
            "created_at": L,
            "updated_at": L,
        },
        forum_link="forum_id",
        retention=Retention.FORUM,
    ),
    "areas": Table(
        DB,
        "Områden/teman i lägesbilden",
        "Areas/themes of the situation picture",
        {"id": K, "forum_id": K, "name": O, "kind": O, "position": O, "active": O},
        forum_link="forum_id",
        retention=Retention.FORUM,
    ),
    "meetings": Table(
        DB,
        "Möten: tider, status, närvaro, anteckningar",
        "Meetings: times, status, attendance, notes",
        {
            "id": K,
            "forum_id": K,
            "occurrence": L,
            "starts_at": L,
            "ends_at": L,
            "status": L,
            "has_situation_picture": L,
            "note": F.limit(200),
            "attendance": MJ,
            "minutes": F.limit(3000),
            "agenda_channel_ts": T,
            "agenda_due_at": L,
            "agenda_version": T,
            "holiday": L,
            "changed_by": M,
        },
        forum_link="forum_id",
        retention=Retention.MEETINGS,
    ),
    "case_counters": Table(
        DB,
        "Löpnummer för ärendereferenser",
        "Sequence numbers for case references",
        {"forum_id": K, "year": T, "last": T},
        forum_link="forum_id",
        retention=Retention.FORUM,
    ),
    "cases": Table(
        DB,
        "Ärenden (pseudonymiserade): sammanfattning, oro, åldersgrupp, status, utfall",
        "Cases (pseudonymised): summary, concerns, age band, status, outcome",
        {
            "id": K,
            "forum_id": K,
            "reference": L,
            "year": L,
            "sequence": L,
            "raised_by": M,
            "raising_agency_id": K,
            "summary": C.limit(1000),
            "concerns": C,
            "age_band": C.limit(8),
            "status": L,
            "sip": C,
            "meeting_id": K,
            "outcome": C.limit(500),
            "effect": C,
            "closed_at": L,
            "legal_hold": L,
            "legal_hold_reason": F.limit(300),
            "legal_hold_by": M,
            "legal_hold_at": L,
            "submission_key": T,
            "created_at": L,
            "updated_at": L,
        },
        forum_link="forum_id",
        retention=Retention.CASE,
    ),
    "case_agencies": Table(
        DB,
        "Vilka verksamheter som behöver delta i ett ärende",
        "Agencies that need to take part in a case",
        {"case_id": K, "agency_id": K},
        forum_link="case_id:cases",
        retention=Retention.CASE,
    ),
    "case_events": Table(
        DB,
        "Ärendehistorik: statusbyten, vem och när",
        "Case history: status changes, who and when",
        {
            "id": K,
            "case_id": K,
            "at": L,
            "actor": M,
            "kind": L,
            "from_status": L,
            "to_status": L,
            "note": C.limit(500),
        },
        forum_link="case_id:cases",
        retention=Retention.CASE,
    ),
    "consents": Table(
        DB,
        "Samtycken: vem gav, när, till vilka verksamheter, återkallelse",
        "Consents: who gave them, when, for which agencies, withdrawal",
        {
            "id": K,
            "case_id": K,
            "given_by": C,
            "given_on": C,
            "expires_on": C,
            "recorded_by": M,
            "recorded_at": L,
            "withdrawn_at": C,
            "withdrawn_by": M,
        },
        forum_link="case_id:cases",
        retention=Retention.CASE,
    ),
    "legal_grounds": Table(
        DB,
        "Annan rättslig grund än samtycke för att en verksamhet ser ärendets detaljer",
        "Legal grounds other than consent that let an agency see a case's details",
        {
            "id": K,
            "case_id": K,
            "agency_id": K,
            "ground": C,
            "decided_on": C,
            "note": C.limit(300),
            "recorded_by": M,
            "recorded_at": L,
            "ended_at": L,
            "ended_by": M,
        },
        forum_link="case_id:cases",
        retention=Retention.CASE,
    ),
    "consent_agencies": Table(
        DB,
        "Verksamheter som ett samtycke omfattar",
        "Agencies a consent covers",
        {"consent_id": K, "agency_id": K},
        forum_link="consent_id:consents",
        retention=Retention.CASE,
    ),
    "agenda_items": Table(
        DB,
        "Dagordningspunkter",
        "Agenda items",
        {
            "id": K,
            "meeting_id": K,
            "kind": L,
            "case_id": K,
            "action_id": K,
            "text": F.limit(300),
            "position": L,
            "added_by": M,
            "added_at": L,
            "discussed": L,
            "agency_ids": K,
            "rolled_over": L,
            "removed": L,
            "slot_position": L,
            "slot_minutes": L,
        },
        forum_link="meeting_id:meetings",
        retention=Retention.MEETINGS,
    ),
    "minute_entries": Table(
        DB,
        "Protokoll per ärende: beslut eller överenskommet nästa steg, nästa uppföljning",
        "Minutes per case: decision or agreed next step, next follow-up",
        {
            "id": K,
            "meeting_id": K,
            "case_id": K,
            "decision": C.limit(1000),
            "follow_up_on": L,
            "recorded_by": M,
            "recorded_at": L,
        },
        forum_link="case_id:cases",
        retention=Retention.CASE,
    ),
    "rating_rounds": Table(
        DB,
        "Bedömningsomgångar för lägesbilden",
        "Rating rounds of the situation picture",
        {
            "id": K,
            "forum_id": K,
            "meeting_id": K,
            "opens_at": L,
            "deadline_at": L,
            "closed_at": L,
            "status": L,
            "original_deadline_at": L,
            "closed_early": L,
        },
        forum_link="forum_id",
        retention=Retention.FORUM,
    ),
    "ratings": Table(
        DB,
        "Bedömningar per verksamhet och område, med kommentar",
        "Ratings per agency and area, with a comment",
        {
            "id": K,
            "round_id": K,
            "agency_id": K,
            "area_id": K,
            "level": O,
            "comment": F.limit(500),
            "rated_by": M,
            "rated_at": L,
            "is_current": L,
        },
        forum_link="round_id:rating_rounds",
        retention=Retention.RATINGS,
    ),
    "rating_observations": Table(
        DB,
        "Vad varje verksamhet ser just nu, fritext i bedömningsomgången",
        "What each agency sees right now, free text in the rating round",
        {
            "id": K,
            "round_id": K,
            "agency_id": K,
            "text": F.limit(1000),
            "written_by": M,
            "written_at": L,
        },
        forum_link="round_id:rating_rounds",
        retention=Retention.RATINGS,
    ),
    "actions": Table(
        DB,
        "Insatser/åtgärder: ägare, slutdatum, uppföljning",
        "Actions: owner, due date, follow-up",
        {
            "id": K,
            "forum_id": K,
            "description": F.limit(1000),
            "owning_agency_id": K,
            "owner": M,
            "due_on": L,
            "case_id": K,
            "area_id": K,
            "meeting_id": K,
            "hoped_effect": F.limit(500),
            "status": L,
            "effect": L,
            "created_by": M,
            "completed_at": L,
            "remind_at": L,
            "snoozed_until": L,
            "follow_up_comment": F.limit(500),
            "followed_up_by": M,
            "followed_up_at": L,
            "submission_key": T,
            "created_at": L,
            "updated_at": L,
        },
        forum_link="forum_id",
        retention=Retention.ACTIONS,
    ),
    "action_events": Table(
        DB,
        "Insatsers historik: vem ändrade vad och när",
        "Action history: who changed what, when",
        {
            "id": K,
            "action_id": K,
            "at": L,
            "actor": M,
            "kind": L,
            "detail": MJ,
            "note": F.limit(500),
        },
        forum_link="action_id:actions",
        retention=Retention.ACTIONS,
    ),
    "deviations": Table(
        DB,
        "Avvikelser i samverkan",
        "Deviations in collaboration",
        {
            "id": K,
            "forum_id": K,
            "reported_by": M,
            "reporting_agency_id": K,
            "kind": L,
            "text": F.limit(1000),
            "case_id": K,
            "followed_up_at": L,
            "follow_up_note": F.limit(1000),
            "created_at": L,
            "updated_at": L,
        },
        forum_link="forum_id",
        retention=Retention.DEVIATIONS,
    ),
    "deviation_agencies": Table(
        DB,
        "Verksamheter som en avvikelse gäller",
        "Agencies a deviation concerns",
        {"deviation_id": K, "agency_id": K},
        forum_link="deviation_id:deviations",
        retention=Retention.DEVIATIONS,
    ),
    # Issue #16. Retention: the survey, the family's view and the criteria a case met go
    # with their case (closed_cases / consultations, ON DELETE CASCADE); criteria, links and
    # the activity plan are the forum's organisation and go with the forum.
    "case_criteria": Table(
        DB,
        "Forumets kriterier för ärenden (högst 8, valfria). Gallras med forumet",
        "The forum's criteria for cases (at most 8, optional). Removed with the forum",
        {
            "id": K,
            "forum_id": K,
            "position": O,
            "text": F.limit(75),
            "help": F.limit(75),
            "active": O,
            "created_at": L,
            "updated_at": L,
        },
        forum_link="forum_id",
        retention=Retention.FORUM,
    ),
    "case_criteria_met": Table(
        DB,
        "Vilka kriterier ett ärende uppfyllde. Gallras med ärendet",
        "Which criteria a case met. Removed with the case",
        {"case_id": K, "criterion_id": C},
        forum_link="case_id:cases",
        retention=Retention.CASE,
    ),
    "feedback_surveys": Table(
        DB,
        "Återkoppling per verksamhet efter avslutat ärende (1–5, fri kommentar). Gallras med"
        " ärendet",
        "Feedback per agency after a closed case (1–5, free comment). Removed with the case",
        {
            "id": K,
            "forum_id": K,
            "case_id": K,
            "agency_id": K,
            "due_at": L,
            "sent_at": L,
            "reminded_at": L,
            "answered_at": L,
            "helped": O,
            "right_agencies": O,
            "worth_raising": O,
            "comment": F.limit(500),
        },
        forum_link="forum_id",
        retention=Retention.CASE,
    ),
    "family_views": Table(
        DB,
        "Familjens syn efter avslutat ärende (blev hörda, fick hjälp, kommentar). Gallras med"
        " ärendet",
        "The family's view after a closed case (heard, helped, comment). Removed with the case",
        {
            "id": K,
            "forum_id": K,
            "case_id": K,
            "recorded_by": M,
            "recorded_at": L,
            "heard": C.limit(8),
            "helped": C.limit(8),
            "comment": C.limit(500),
        },
        forum_link="forum_id",
        retention=Retention.CASE,
    ),
    "forum_links": Table(
        DB,
        "Styrgrupp/2+2/nämnd som följer ett operativt forums siffror. Gallras med forumen",
        "A steering forum following an operational forum's figures. Removed with the forums",
        {"id": K, "steering_forum_id": K, "forum_id": K, "created_by": M, "created_at": L},
        forum_link="forum_id",
        retention=Retention.FORUM,
    ),
    "plan_items": Table(
        DB,
        "Aktivitetsplanens strategier, mål och delmål med uppföljning. Gallras med forumet",
        "The activity plan's strategies, goals and sub-goals with follow-up. Removed with the"
        " forum",
        {
            "id": K,
            "forum_id": K,
            "year": O,
            "kind": O,
            "parent_id": K,
            "title": F.limit(200),
            "position": O,
            "follow_up_on": L,
            "result": O,
            "result_comment": F.limit(500),
            "followed_up_by": M,
            "followed_up_at": L,
            "created_by": M,
            "created_at": L,
            "updated_at": L,
        },
        forum_link="forum_id",
        retention=Retention.FORUM,
    ),
    "plan_activities": Table(
        DB,
        "Aktiviteter (insatser) kopplade till ett mål i aktivitetsplanen. Gallras med insatsen",
        "Activities (actions) linked to a goal of the activity plan. Removed with the action",
        {"action_id": K, "plan_item_id": K},
        forum_link="action_id:actions",
        retention=Retention.ACTIONS,
    ),
    "audit_events": Table(
        DB,
        "Loggen: vem läste, ändrade, exporterade eller raderade vad och när (hashkedja)",
        "The audit log: who read, changed, exported or deleted what, when (hash chain)",
        {
            "id": K,
            "at": G,
            "team_id": G,
            "forum_id": G,
            "actor": M,
            "actor_agency_id": G,
            "action": G,
            "object_type": G,
            "object_ref": M,
            "detail": G,
            "chain": G,
            "seq": G,
            "prev_hash": G,
            "hash": G,
            "key_id": G,
        },
        forum_link="forum_id",
        retention=Retention.AUDIT,
    ),
    "audit_chain": Table(
        DB,
        "Loggkedjornas huvuden (en per arbetsyta) och gallringsgränser",
        "The audit chains' heads (one per workspace) and retention cuts",
        {
            "id": K,
            "chain": G,
            "last_seq": G,
            "last_hash": G,
            "start_seq": G,
            "start_hash": G,
            "start_at": G,
            "kept_below_start": G,
            "purge_below_seq": G,
        },
        retention=Retention.AUDIT,
    ),
    "scheduled_effects": Table(
        DB,
        "Schemalagda händelser (påminnelser, gallring) som ska ske exakt en gång",
        "Scheduled effects (reminders, retention) that happen exactly once",
        {
            "id": K,
            "forum_id": K,
            "kind": T,
            "subject": T,
            "occurrence": T,
            "due_at": T,
            "status": T,
            "claimed_by": T,
            "claimed_at": T,
            "lease_until": T,
            "done_at": T,
            "late": T,
            "note": T,
        },
        forum_link="forum_id",
        retention=Retention.SCHEDULE,
    ),
    "outbox": Table(
        DB,
        "Utkorg: Slack-meddelanden som väntar på leverans (referenser och datum, inga detaljer)",
        "Outbox: Slack messages waiting for delivery (references and dates, no details)",
        {
            "id": K,
            "team_id": T,
            "method": T,
            "payload": MJC,
            "dedupe_key": T,
            "status": T,
            "created_at": T,
            "not_before": T,
            "attempts": T,
            "claimed_by": T,
            "lease_until": T,
            "sent_at": T,
            "last_error": T,
            "result_ts": T,
        },
        retention=Retention.OUTBOX,
    ),
    "slack_installations": Table(
        DB,
        "Slack-installationer (OAuth): vem installerade, krypterade token",
        "Slack installations (OAuth): who installed, encrypted tokens",
        {
            "id": K,
            "client_id": T,
            "app_id": T,
            "enterprise_id": T,
            "enterprise_name": O,
            "enterprise_url": O,
            "team_id": T,
            "team_name": O,
            "bot_token": S,
            "bot_id": T,
            "bot_user_id": T,
            "bot_scopes": T,
            "bot_refresh_token": S,
            "bot_token_expires_at": T,
            "user_id": M,
            "user_token": S,
            "user_scopes": T,
            "user_refresh_token": S,
            "user_token_expires_at": T,
            "incoming_webhook_url": S,
            "incoming_webhook_channel": T,
            "incoming_webhook_channel_id": T,
            "incoming_webhook_configuration_url": T,
            "is_enterprise_install": T,
            "token_type": T,
            "installed_at": T,
        },
        retention=Retention.INSTALLATION,
    ),
    "slack_bots": Table(
        DB,
        "Botens Slack-token per arbetsyta (krypterade)",
        "The bot's Slack tokens per workspace (encrypted)",
        {
            "id": K,
            "client_id": T,
            "app_id": T,
            "enterprise_id": T,
            "enterprise_name": O,
            "team_id": T,
            "team_name": O,
            "bot_token": S,
            "bot_id": T,
            "bot_user_id": T,
            "bot_scopes": T,
            "bot_refresh_token": S,
            "bot_token_expires_at": T,
            "is_enterprise_install": T,
            "installed_at": T,
        },
        retention=Retention.INSTALLATION,
    ),
    "slack_oauth_states": Table(
        DB,
        "Tillfälliga OAuth-tillstånd vid installation",
        "Short-lived OAuth states during installation",
        {"id": K, "state": S, "expire_at": T},
        retention=Retention.OAUTH_STATE,
    ),
}


def member_tables() -> dict[str, tuple[str, ...]]:
    """Every table with a column that refers to a member, and those columns."""
    return {name: t.member_columns for name, t in INVENTORY.items() if t.member_columns}


def unclassified(tables: dict[str, list[str]]) -> list[str]:
    """``table.column`` of the given schema that the inventory does not classify (and
    classified ones that no longer exist)."""
    missing = [
        f"{table}.{column}"
        for table, columns in tables.items()
        for column in columns
        if column not in INVENTORY.get(table, Table("", "", "", {})).columns
    ]
    stale = [
        f"{table}.{column} (no longer in the schema)"
        for table, spec in INVENTORY.items()
        for column in spec.columns
        if column not in tables.get(table, [])
    ]
    return missing + stale


def markdown() -> str:
    """The inventory as a Markdown document (docs/privacy/datainventering.md)."""
    lines = [
        "# Datainventering / Data inventory",
        "",
        "_Genererad från `domain/inventory.py` — ändra där och kör_",
        "`python -m domain.inventory > docs/privacy/datainventering.md`.",
        "_Generated from `domain/inventory.py`; a test fails when it is out of date._",
        "",
        "Kategorier: " + ", ".join(f"`{c.value}` = {CATEGORY_SV[c]}" for c in Category) + ".",
        "",
        "Export (art. 15): `include` = lämnas ut, `redact` = undantas (uppgift om annan,"
        " t.ex. ett barn), `omit` = lämnas aldrig ut (hemlighet).",
        "",
    ]
    for name in sorted(INVENTORY):
        table = INVENTORY[name]
        retention = RETENTION_SV[table.retention] if table.retention else "—"
        lines += [
            f"## `{name}`",
            "",
            f"{table.purpose_sv}. _{table.purpose_en}._ Lagras i: {table.where}.",
            "",
            f"Gallring: {retention}.",
            "",
            "| Kolumn | Kategori | Medarbetar-id | Export |",
            "|---|---|---|---|",
        ]
        for column, spec in table.columns.items():
            member = "ja (i JSON)" if spec.json else ("ja" if spec.member_ref else "")
            lines.append(
                f"| `{column}` | {CATEGORY_SV[spec.category]} | {member} | `{spec.export.value}` |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(markdown(), end="")
