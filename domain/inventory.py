"""The data inventory: every column of every table, classified.

It drives the access-request export (art. 15: every table with a column that refers to a
member is searched) and the DPIA kit (docs/privacy/datainventering.md is generated from it;
a test fails when a model column is added without a classification here, or when the
document is out of date). Keep descriptions short; Swedish first.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


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

    @property
    def export(self) -> Export:
        if self.category is Category.SECRET:
            return Export.OMIT
        if self.category in (Category.CASE_DETAIL, Category.FREE_TEXT):
            return Export.REDACT
        return Export.INCLUDE


@dataclass(frozen=True)
class Table:
    where: str  # storage (all tables live in the bot's database)
    purpose_sv: str
    purpose_en: str
    columns: dict[str, Column]

    @property
    def member_columns(self) -> tuple[str, ...]:
        return tuple(name for name, c in self.columns.items() if c.member_ref)


K = Column(Category.KEY)
M = Column(Category.MEMBER, member_ref=True)
MJ = Column(Category.TECHNICAL, member_ref=True, json=True)
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
    ),
    "agencies": Table(
        DB,
        "Verksamheter som deltar i ett forum",
        "Agencies taking part in a forum",
        {"id": K, "forum_id": K, "name": O, "position": O, "active": O},
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
    ),
    "areas": Table(
        DB,
        "Områden/teman i lägesbilden",
        "Areas/themes of the situation picture",
        {"id": K, "forum_id": K, "name": O, "kind": O, "position": O, "active": O},
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
            "note": F,
            "attendance": MJ,
            "minutes": F,
            "agenda_channel_ts": T,
            "agenda_due_at": L,
            "agenda_version": T,
            "holiday": L,
            "changed_by": M,
        },
    ),
    "case_counters": Table(
        DB,
        "Löpnummer för ärendereferenser",
        "Sequence numbers for case references",
        {"forum_id": K, "year": T, "last": T},
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
            "summary": C,
            "concerns": C,
            "age_band": C,
            "status": L,
            "sip": C,
            "meeting_id": K,
            "outcome": C,
            "effect": C,
            "closed_at": L,
            "legal_hold": L,
            "legal_hold_reason": F,
            "legal_hold_by": M,
            "legal_hold_at": L,
            "submission_key": T,
            "created_at": L,
            "updated_at": L,
        },
    ),
    "case_agencies": Table(
        DB,
        "Vilka verksamheter som behöver delta i ett ärende",
        "Agencies that need to take part in a case",
        {"case_id": K, "agency_id": K},
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
            "note": C,
        },
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
            "note": C,
            "recorded_by": M,
            "recorded_at": L,
            "ended_at": L,
            "ended_by": M,
        },
    ),
    "consent_agencies": Table(
        DB,
        "Verksamheter som ett samtycke omfattar",
        "Agencies a consent covers",
        {"consent_id": K, "agency_id": K},
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
            "text": F,
            "position": L,
            "added_by": M,
            "added_at": L,
            "discussed": L,
            "agency_ids": K,
            "rolled_over": L,
            "removed": L,
        },
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
            "comment": F,
            "rated_by": M,
            "rated_at": L,
            "is_current": L,
        },
    ),
    "rating_observations": Table(
        DB,
        "Vad varje verksamhet ser just nu, fritext i bedömningsomgången",
        "What each agency sees right now, free text in the rating round",
        {
            "id": K,
            "round_id": K,
            "agency_id": K,
            "text": F,
            "written_by": M,
            "written_at": L,
        },
    ),
    "actions": Table(
        DB,
        "Insatser/åtgärder: ägare, förfallodag, uppföljning",
        "Actions: owner, due date, follow-up",
        {
            "id": K,
            "forum_id": K,
            "description": F,
            "owning_agency_id": K,
            "owner": M,
            "due_on": L,
            "case_id": K,
            "area_id": K,
            "meeting_id": K,
            "hoped_effect": F,
            "status": L,
            "effect": L,
            "created_by": M,
            "completed_at": L,
            "remind_at": L,
            "snoozed_until": L,
            "follow_up_comment": F,
            "followed_up_by": M,
            "followed_up_at": L,
            "submission_key": T,
            "created_at": L,
            "updated_at": L,
        },
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
            "note": F,
        },
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
            "text": F,
            "case_id": K,
            "followed_up_at": L,
            "follow_up_note": F,
            "created_at": L,
            "updated_at": L,
        },
    ),
    "deviation_agencies": Table(
        DB,
        "Verksamheter som en avvikelse gäller",
        "Agencies a deviation concerns",
        {"deviation_id": K, "agency_id": K},
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
            "seq": G,
            "prev_hash": G,
            "hash": G,
        },
    ),
    "audit_chain": Table(
        DB,
        "Loggkedjans huvud och gallringsgräns",
        "The audit chain's head and retention cut",
        {
            "id": K,
            "last_seq": G,
            "last_hash": G,
            "start_seq": G,
            "start_hash": G,
            "purge_below_seq": G,
        },
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
    ),
    "outbox": Table(
        DB,
        "Utkorg: Slack-meddelanden som väntar på leverans (referenser och datum, inga detaljer)",
        "Outbox: Slack messages waiting for delivery (references and dates, no details)",
        {
            "id": K,
            "team_id": T,
            "method": T,
            "payload": MJ,
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
    ),
    "slack_oauth_states": Table(
        DB,
        "Tillfälliga OAuth-tillstånd vid installation",
        "Short-lived OAuth states during installation",
        {"id": K, "state": S, "expire_at": T},
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
        lines += [
            f"## `{name}`",
            "",
            f"{table.purpose_sv}. _{table.purpose_en}._ Lagras i: {table.where}.",
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
