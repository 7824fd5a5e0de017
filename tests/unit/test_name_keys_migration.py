"""Migration 0017_name_keys makes a forum's agency and area names unique whatever their case:
existing names get their key and keep everything else, and a database that already holds
two names of one forum differing only in case is refused whole, with the names and what to
do, and left as it was. On SQLite and PostgreSQL."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import text

from storage.db import create_db_engine, migrate

BEFORE = "0016_org_workspaces"


def _forums_with(url: str, agencies: dict[int, list[str]], areas: dict[int, list[str]]) -> None:
    """Forums 1 and 2 at the revision before, with these agencies and areas."""
    engine = create_db_engine(url)
    with engine.begin() as conn:
        for forum_id in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO forums (id, team_id, channel_id, name, code, schedule_rrule,"
                    " schedule_anchor, meeting_start, meeting_minutes, timezone, language,"
                    " settings, created_by, created_at, updated_at) VALUES (:id, 'T1', :ch,"
                    " 'FOSSAM', :code, 'FREQ=WEEKLY;BYDAY=TH', '2026-11-26', '13:00:00', 120,"
                    " 'Europe/Stockholm', 'sv', '{}', 'U1', '2026-11-23 09:00:00',"
                    " '2026-11-23 09:00:00')"
                ),
                {"id": forum_id, "ch": f"C{forum_id}", "code": f"FOS{forum_id}"},
            )
        for forum_id, names in agencies.items():
            for position, name in enumerate(names):
                conn.execute(
                    text(
                        "INSERT INTO agencies (forum_id, name, position, active)"
                        " VALUES (:f, :n, :p, true)"
                    ),
                    {"f": forum_id, "n": name, "p": position},
                )
        for forum_id, names in areas.items():
            for position, name in enumerate(names):
                conn.execute(
                    text(
                        "INSERT INTO areas (forum_id, name, kind, position, active)"
                        " VALUES (:f, :n, 'theme', :p, true)"
                    ),
                    {"f": forum_id, "n": name, "p": position},
                )
    engine.dispose()


def _rows(url: str, table: str, columns: str) -> list[tuple[object, ...]]:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(f"SELECT {columns} FROM {table} ORDER BY id"))]
    engine.dispose()
    return rows


def _revision(url: str) -> str:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        version = conn.scalar(text("SELECT version_num FROM alembic_version"))
    engine.dispose()
    return str(version).split("_")[0]


def test_names_get_their_key_and_stay_as_they_were(empty_database: str) -> None:
    migrate(empty_database, BEFORE)
    _forums_with(
        empty_database,
        # The same names in another forum are another forum's.
        agencies={1: ["FOS", "Elevhälsa"], 2: ["fos", "ELEVHÄLSA"]},
        areas={1: ["Gråbo"], 2: ["GRÅBO"]},
    )
    migrate(empty_database)
    assert _rows(empty_database, "agencies", "forum_id, name, name_key") == [
        (1, "FOS", "fos"),
        (1, "Elevhälsa", "elevhälsa"),
        (2, "fos", "fos"),
        (2, "ELEVHÄLSA", "elevhälsa"),
    ]
    assert _rows(empty_database, "areas", "forum_id, name, name_key") == [
        (1, "Gråbo", "gråbo"),
        (2, "GRÅBO", "gråbo"),
    ]


@pytest.mark.parametrize(
    ("agencies", "areas", "named", "clash"),
    [
        ({1: ["FOS", "Polis", "fos"]}, {}, "agencies has names", ("FOS", "fos")),
        (
            {1: ["FOS"]},
            {1: ["Öppenvården", "ÖPPENVÅRDEN"]},
            "areas has names",
            ("Öppenvården", "ÖPPENVÅRDEN"),
        ),
        (
            {1: ["Elevhälsa", unicodedata.normalize("NFD", "Elevhälsa")]},
            {},
            "agencies has names",
            ("Elevhälsa", unicodedata.normalize("NFD", "Elevhälsa")),
        ),
    ],
)
def test_names_differing_only_in_case_stop_the_migration_and_change_nothing(
    empty_database: str,
    agencies: dict[int, list[str]],
    areas: dict[int, list[str]],
    named: str,
    clash: tuple[str, str],
) -> None:
    """Merging two agencies would move members, cases and who may read them: the forum's
    decision, not a migration's. The operator is told which rows and what to do."""
    migrate(empty_database, BEFORE)
    _forums_with(empty_database, agencies, areas)
    before = (
        _rows(empty_database, "agencies", "*"),
        _rows(empty_database, "areas", "*"),
    )
    with pytest.raises(RuntimeError) as refused:
        migrate(empty_database)
    message = str(refused.value)
    assert named in message and "nothing was changed" in message, message
    assert "forum 1" in message and all(repr(n) in message for n in clash), message
    assert _revision(empty_database) == "0016"
    after = (_rows(empty_database, "agencies", "*"), _rows(empty_database, "areas", "*"))
    assert after == before
    # Renamed as told, it migrates.
    engine = create_db_engine(empty_database)
    with engine.begin() as conn:
        for table in ("agencies", "areas"):
            conn.execute(
                text(f"UPDATE {table} SET name = name || ' (gammal)' WHERE name = :n"),
                {"n": clash[1]},
            )
    engine.dispose()
    migrate(empty_database)
    assert _revision(empty_database) >= "0017"  # and any later revision
