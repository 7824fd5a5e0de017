"""The data inventory: every column of every table, classified.

It drives the access-request export (art. 15: every table with a column that refers to a
member is searched) and the DPIA kit (docs/privacy/datainventering.md is generated from it;
a test fails when a model column is added without a classification here, or when the
document is out of date). Keep descriptions short; Swedish first.

Parts: ``base`` (categories, retention, export rules, ``Column``/``Table``), and the tables
by area: ``forums``, ``cases``, ``work`` (agenda, minutes, ratings, actions, deviations),
``steering``, ``system`` (audit, effects, outbox, Slack OAuth). ``INVENTORY`` joins them in
the original order. Every public name is importable from here.
"""

from __future__ import annotations

from domain.inventory.base import (
    CATEGORY_SV,
    DB,
    MJ,
    MJC,
    RETENTION_SV,
    C,
    Category,
    Column,
    Export,
    F,
    G,
    K,
    L,
    M,
    O,
    Retention,
    S,
    T,
    Table,
)
from domain.inventory.cases import CASES
from domain.inventory.forums import FORUMS
from domain.inventory.steering import STEERING
from domain.inventory.system import SYSTEM
from domain.inventory.work import WORK

INVENTORY: dict[str, Table] = {**FORUMS, **CASES, **WORK, **STEERING, **SYSTEM}


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
        "_Genererad från `domain/inventory/` — ändra där och kör_",
        "`python -m domain.inventory > docs/privacy/datainventering.md`.",
        "_Generated from `domain/inventory/`; a test fails when it is out of date._",
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


__all__ = [
    "CATEGORY_SV",
    "DB",
    "INVENTORY",
    "MJ",
    "MJC",
    "RETENTION_SV",
    "C",
    "Category",
    "Column",
    "Export",
    "F",
    "G",
    "K",
    "L",
    "M",
    "O",
    "Retention",
    "S",
    "T",
    "Table",
    "markdown",
    "member_tables",
    "unclassified",
]
