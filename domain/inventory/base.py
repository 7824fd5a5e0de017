"""The inventory's vocabulary: categories, retention classes, export rules, columns and
tables, and the shorthands the table lists use."""

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
    LANGUAGE = "language"  # a person's language: refreshed daily while they are a member
    LANGUAGE_ASK = "language_ask"  # when the refresh may ask Slack again: gone a day after


RETENTION_SV: dict[Retention, str] = {
    Retention.FORUM: (
        "så länge forumet finns; raderas med forumet (medlemmar som lämnat finns kvar som inaktiva)"
    ),
    Retention.CASE: (
        "med ärendet: `SAMVERKAN_RETENTION_CLOSED_CASES_DAYS` (samtycke) eller "
        "`…_CONSULTATIONS_DAYS` efter sista anteckning, även ärenden som aldrig avslutats "
        "(samordnarna varnas en månad innan); ett ärende registrerat av misstag raderas "
        "direkt av den som lyfte det eller en samordnare, så länge inget byggts på det "
        "(loggen behåller bara referensen och skälet)"
    ),
    Retention.RATINGS: "`SAMVERKAN_RETENTION_RATINGS_DAYS` efter att bedömningen gavs",
    Retention.ACTIONS: (
        "`SAMVERKAN_RETENTION_ACTIONS_DAYS` efter att den blev klar eller avbröts; en öppen "
        "insats gallras inte (samordnarna får besked när den varit öppen och oförändrad lika "
        "länge efter slutdatumet)"
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
    Retention.LANGUAGE: (
        "förnyas dagligen så länge personen är aktiv medlem i ett forum; raderas när den "
        "inte förnyats på en dag och personen inte längre är medlem"
    ),
    Retention.LANGUAGE_ASK: (
        "teknisk (Slack-id och en tid): raderas ett dygn efter att tiden passerat"
    ),
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
    # A name (ORGANISATION) the storage edge guards like free text: forum, agency and area
    # names are shown in channels, so identifying data in one is refused whichever code path
    # writes it (exported as is: it is not text about a case). ``field``: the form field a
    # refusal names, when not the column's own name.
    guarded: bool = False
    field: str | None = None

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
ON = Column(Category.ORGANISATION, guarded=True)  # a name: guarded by the storage edge
C = Column(Category.CASE_DETAIL)
F = Column(Category.FREE_TEXT)
L = Column(Category.LOGISTICS)
G = Column(Category.LOG)
T = Column(Category.TECHNICAL)
S = Column(Category.SECRET)
DB = "Botens databas (PostgreSQL/SQLite)"
