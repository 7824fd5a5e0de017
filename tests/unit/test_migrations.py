"""Models and Alembic migrations must describe the same schema, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import create_db_engine
from storage.models import Base


def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], "run an Alembic revision for: " + repr(diff)


def test_the_schema_has_every_core_table(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    for name in (
        "forums",
        "agencies",
        "members",
        "areas",
        "cases",
        "case_agencies",
        "case_events",
        "consents",
        "meetings",
        "agenda_items",
        "rating_rounds",
        "ratings",
        "actions",
        "audit_events",
        "deviations",
        "scheduled_effects",
        "outbox",
        "slack_installations",
        "slack_bots",
        "slack_oauth_states",
    ):
        assert name in tables


def test_scheduled_effects_are_unique_per_forum_kind_subject_and_occurrence(
    database_url: str,
) -> None:
    engine = create_db_engine(database_url)
    try:
        uniques = inspect(engine).get_unique_constraints("scheduled_effects")
    finally:
        engine.dispose()
    assert any(
        sorted(u["column_names"]) == ["forum_id", "kind", "occurrence", "subject"] for u in uniques
    )
