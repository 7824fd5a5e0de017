"""Access-request export (GDPR art. 15): everything stored that refers to one member.

Driven by the data inventory (domain.inventory): every table with a column that holds a
Slack user id is searched, so a new table that refers to members is exported as soon as it
is classified. Values about someone else (a child's case, free text) are withheld, secrets
are never exported. Producing an export is itself an audited event.

Also the file writers (JSON, CSV, xlsx) the audit review uses.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import enum
import io
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from domain import audit
from domain.clock import Clock
from domain.errors import NotCoordinator
from domain.i18n import N_
from domain.inventory import INVENTORY, Export, member_tables
from storage.models import AuditAction, Base, Member

WITHHELD = "[undantaget: uppgift om annan person / withheld: about someone else]"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class AccessExport:
    subject: str
    generated_at: dt.datetime
    tables: dict[str, list[dict[str, Any]]]

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.tables.values())


def plain(value: Any) -> Any:
    """A JSON/xlsx-friendly value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _in_forums(name: str, forum_ids: Collection[int]) -> Any | None:
    """A condition limiting ``name``'s rows to the forums (from the inventory's forum_link);
    None when the table is not tied to a forum."""
    link = INVENTORY[name].forum_link
    if link is None:
        return None
    table = Base.metadata.tables[name]
    ids = sorted(forum_ids)
    if link == "id":
        return table.c.id.in_(ids)
    if link == "forum_id":
        return table.c.forum_id.in_(ids)
    column, parent_name = link.split(":", 1)
    parent = _in_forums(parent_name, ids)
    if parent is None:
        return None
    parent_table = Base.metadata.tables[parent_name]
    return table.c[column].in_(select(parent_table.c.id).where(parent))


def collect(
    session: Session, *, slack_user_id: str, forum_ids: Collection[int] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Rows of every member-referring table that mention the member, column by column as
    the inventory says (include / withhold / omit). With ``forum_ids`` only rows of those
    forums (tables not tied to a forum are left out): what a coordinator may hand out."""
    user = slack_user_id.strip()
    result: dict[str, list[dict[str, Any]]] = {}
    for name, columns in sorted(member_tables().items()):
        scope = _in_forums(name, forum_ids) if forum_ids is not None else None
        if forum_ids is not None and scope is None:
            continue
        table = Base.metadata.tables[name]
        spec = INVENTORY[name]
        matches = []
        for column in columns:
            col = table.c[column]
            if spec.columns[column].json:
                # A JSON value holding the id as a string ("U123"), not a longer id.
                matches.append(cast(col, String).contains(json.dumps(user)))
            else:
                matches.append(col == user)
        order = list(table.primary_key.columns) or list(table.columns)[:1]
        query = select(table).where(or_(*matches))
        if scope is not None:
            query = query.where(scope)
        rows = session.execute(query.order_by(*order)).mappings()
        out = []
        for row in rows:
            item: dict[str, Any] = {}
            for column, value in row.items():
                policy = spec.columns[column].export
                if policy is Export.OMIT:
                    continue
                item[column] = WITHHELD if policy is Export.REDACT and value else plain(value)
            out.append(item)
        result[name] = out
    return result


def subject_access(
    session: Session,
    clock: Clock,
    *,
    slack_user_id: str,
    actor: str,
    team_id: str | None = None,
    forum_id: int | None = None,
    actor_agency_id: int | None = None,
    forum_ids: Collection[int] | None = None,
) -> AccessExport:
    """The export, recorded in the audit log (who exported whose data, how many rows).
    ``forum_ids`` limits it to those forums (the Slack command); None is the controller's
    complete export (the CLI).

    From Slack the export is recorded in the log of each forum whose rows it may carry (with
    the requester's agency there), so each forum's reviewers see it in ``/samverkan logg``
    and the monthly check, wherever it was asked for: the channel's forum (``forum_id``) is
    only where the command ran, and may not be one of them."""
    tables = collect(session, slack_user_id=slack_user_id, forum_ids=forum_ids)
    export = AccessExport(subject=slack_user_id, generated_at=clock.now(), tables=tables)
    detail = {
        "kind": "access_request",
        "rows": export.row_count,
        **({"forums": sorted(forum_ids)} if forum_ids is not None else {}),
    }
    if forum_ids is None:
        places: list[tuple[int | None, int | None]] = [(forum_id, actor_agency_id)]
    else:
        places = [(fid, _agency_in(session, fid, actor)) for fid in sorted(forum_ids)]
    for place, agency_id in places:
        audit.record(
            session,
            clock,
            actor=actor,
            action=AuditAction.EXPORT,
            object_type="member",
            object_ref=slack_user_id,
            team_id=team_id,
            forum_id=place,
            actor_agency_id=agency_id,
            detail=detail,
        )
    return export


def _agency_in(session: Session, forum_id: int, slack_user_id: str) -> int | None:
    """The agency of the active member ``slack_user_id`` in the forum (None if not one)."""
    return session.scalar(
        select(Member.agency_id).where(
            Member.forum_id == forum_id,
            Member.slack_user_id == slack_user_id,
            Member.active.is_(True),
        )
    )


def export_forums(session: Session, *, team_id: str, slack_user_id: str) -> list[int]:
    """The forums of this workspace whose members' data this user may hand out from Slack:
    where they are an active coordinator, admin or log reviewer."""
    from storage.models import Forum, Member, Role

    return list(
        session.scalars(
            select(Forum.id)
            .join(Member, Member.forum_id == Forum.id)
            .where(
                Forum.team_id == team_id,
                Member.slack_user_id == slack_user_id,
                Member.active.is_(True),
                Member.role.in_((Role.COORDINATOR, Role.ADMIN, Role.REVIEWER)),
            )
            .order_by(Forum.id)
        )
    )


NOT_ALLOWED = NotCoordinator(
    N_(
        "Only the forum's coordinators and log reviewers can make an access-request export. "
        "The complete export across forums is the controller's: samverkan export."
    )
)


# --- files ----------------------------------------------------------------------------------

ABOUT = (
    "Registerutdrag enligt artikel 15 dataskyddsförordningen (GDPR) ur Samverkan. "
    "Rättslig grund: uppgift av allmänt intresse/myndighetsutövning (inte samtycke), därför "
    "gäller inte rätten till dataportabilitet (art. 20). Uppgifter om andra personer (t.ex. "
    "barn i ärenden) är undantagna. / Access-request export (GDPR art. 15)."
)


TIMES = (
    "Alla tider anges i UTC, som i databasen: svensk tid är en timme senare, sommartid två "
    "(2026-11-23T09:00:00+00:00 är kl. 10.00 svensk tid). / All times are in UTC."
)
SHEETS = (
    "Varje blad nedan är en tabell i Samverkans databas med de rader som gäller den "
    "registrerade; kolumnerna har databasens namn och beskrivs i datainventeringen. / Each "
    "sheet is one table of the bot's database; the data inventory describes its columns."
)


def _rows(n: int) -> str:
    return "1 rad" if n == 1 else f"{n} rader"


def to_json(export: AccessExport) -> bytes:
    document = {
        "subject": export.subject,
        "generated_at": plain(export.generated_at),
        "about": ABOUT,
        "tables": export.tables,
    }
    return json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def _sheet_name(name: str, used: set[str]) -> str:
    base = name[:31]
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base[:28]}~{n}"
    used.add(candidate)
    return candidate


# What a spreadsheet reads as the start of a formula: = + - @ (and their full-width forms,
# which Excel reads as the same in an East Asian input mode), also after whitespace, which
# spreadsheets skip before a formula (a tab, a carriage return or a newline first: OWASP's
# CSV injection list). A name someone chose in Slack is in the log's export.
_FORMULA_START = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")


def _cell(value: Any) -> Any:
    value = plain(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.lstrip()[:1] in _FORMULA_START:
        return "'" + value  # never a formula in a spreadsheet someone opens
    return value


def xlsx_bytes(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """An xlsx workbook: one sheet per (name, headers, rows)."""
    from openpyxl import Workbook

    workbook = Workbook()
    default = workbook.active
    if default is not None:
        workbook.remove(default)
    used: set[str] = set()
    for name, headers, rows in sheets:
        sheet = workbook.create_sheet(_sheet_name(name, used))
        sheet.append(list(headers))
        for row in rows:
            sheet.append([_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_xlsx(export: AccessExport) -> bytes:
    sheets: list[tuple[str, Sequence[str], Iterable[Sequence[Any]]]] = [
        (
            "Om utdraget",
            ["Fält", "Värde"],
            [
                ("Registrerad (Slack-id)", export.subject),
                ("Skapat (UTC)", plain(export.generated_at)),
                ("Om", ABOUT),
                ("Tider", TIMES),
                ("Blad", SHEETS),
                *(
                    (name, f"{INVENTORY[name].purpose_sv} – {_rows(len(rows))}")
                    for name, rows in export.tables.items()
                ),
            ],
        )
    ]
    for name, rows in export.tables.items():
        headers = [
            c for c, spec in INVENTORY[name].columns.items() if spec.export is not Export.OMIT
        ]
        sheets.append((name, headers, ([row.get(h) for h in headers] for row in rows)))
    return xlsx_bytes(sheets)


def _csv_cell(value: Any) -> Any:
    """A decimal number with a decimal comma ("2,5"); everything else as :func:`_cell`."""
    if isinstance(value, float | decimal.Decimal):
        return str(value).replace(".", ",")
    return _cell(value)


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV file for Excel as Swedish users have it: fields separated by ";" and decimal
    numbers written with a decimal comma ("2,5", "1,0"), whatever the reader's language.
    The two go together: ";" is the list separator exactly where the comma is the decimal
    sign (Swedish Excel opens such a file by double-click), and there "2.5" is read as text
    or a date (a median of 1.5 became "1 maj"). The same file for every reader; whole
    numbers as they are; the xlsx export keeps real numbers for anything else."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel reads it as UTF-8
