"""The data inventory classifies every column, and the DPIA kit's inventory is generated
from it (so both stay true when the schema grows)."""

from __future__ import annotations

from pathlib import Path

from domain.inventory import INVENTORY, markdown, member_tables
from storage.models import Base

DOC = Path(__file__).resolve().parents[2] / "docs" / "privacy" / "datainventering.md"


def test_every_model_column_is_classified_in_the_data_inventory() -> None:
    schema = {name: [c.name for c in t.columns] for name, t in Base.metadata.tables.items()}
    missing = [
        f"{table}.{column}"
        for table, columns in schema.items()
        for column in columns
        if column not in (INVENTORY[table].columns if table in INVENTORY else {})
    ]
    stale = [
        f"{table}.{column}"
        for table, spec in INVENTORY.items()
        for column in spec.columns
        if column not in schema.get(table, [])
    ]
    assert missing == [], f"classify these columns in domain/inventory/: {missing}"
    assert stale == [], f"these columns no longer exist: {stale}"


def test_every_column_holding_a_slack_user_id_counts_as_a_member_reference() -> None:
    # Columns named like people (…_by, actor, owner, user_id) must be searchable by export.
    people = ("_by", "actor", "owner", "user_id")
    # Not people: who gave consent (a kind: guardians/child), which replica claimed a row.
    not_people = ("bot_user_id", "given_by", "claimed_by")
    for table, spec in INVENTORY.items():
        for column, c in spec.columns.items():
            if column.endswith(people) and column not in not_people:
                assert c.member_ref, f"{table}.{column} looks like a person: mark member_ref"
    assert {"members", "audit_events", "cases", "ratings", "actions"} <= set(member_tables())


def test_the_dpia_kit_inventory_is_generated_from_the_code() -> None:
    assert DOC.read_text("utf-8") == markdown(), (
        "regenerate: python -m domain.inventory > docs/privacy/datainventering.md"
    )


def test_every_table_has_a_retention_class() -> None:
    # How long each table's rows are kept is part of the inventory (and of the DPIA kit).
    assert set(INVENTORY) == set(Base.metadata.tables)
    missing = [name for name, table in INVENTORY.items() if table.retention is None]
    assert missing == [], f"give these tables a retention class in domain/inventory/: {missing}"
    assert "Gallring: " in markdown()
