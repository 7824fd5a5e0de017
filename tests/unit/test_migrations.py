"""Models and Alembic migrations must describe the same schema, on both databases."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from storage.db import alembic_config, create_db_engine, migrate
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
        "member_languages",
        "member_language_asks",
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


def test_member_languages_come_with_0020_and_go_with_its_downgrade(empty_database: str) -> None:
    """Migration 0020 adds the stored languages: one row per person of a workspace, a
    language we have a catalog for (or none), when Slack said it; its downgrade removes
    the table and nothing else."""
    migrate(empty_database, "0019_agenda_discussed_from")
    engine = create_db_engine(empty_database)
    try:
        before = set(inspect(engine).get_table_names())
        assert "member_languages" not in before
        migrate(empty_database, "0020_member_languages")
        insert = text(
            "INSERT INTO member_languages (team_id, user_id, locale, looked_up_at)"
            " VALUES (:t, :u, :l, '2026-12-07 05:00:00')"
        )
        with engine.begin() as conn:
            conn.execute(insert, {"t": "T1", "u": "U1", "l": "en"})
            conn.execute(insert, {"t": "T1", "u": "U2", "l": None})  # Slack named another
            conn.execute(insert, {"t": "T2", "u": "U1", "l": "sv"})  # another workspace's
        for row in ({"t": "T1", "u": "U1", "l": "sv"}, {"t": "T1", "u": "U3", "l": "de"}):
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(insert, row)  # one row per person; sv or en only
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT team_id, user_id, locale FROM member_languages ORDER BY 1, 2")
            ).all()
        assert [tuple(r) for r in rows] == [
            ("T1", "U1", "en"),
            ("T1", "U2", None),
            ("T2", "U1", "sv"),
        ]
        engine.dispose()
        command.downgrade(alembic_config(empty_database), "0019_agenda_discussed_from")
        assert set(inspect(engine).get_table_names()) == before
    finally:
        engine.dispose()


def test_member_language_asks_come_with_0021_and_go_with_its_downgrade(
    empty_database: str,
) -> None:
    """Migration 0021 adds when the member-languages refresh may ask Slack about a person
    again: one row per person of a workspace; its downgrade removes the table and nothing
    else (the stored languages stay)."""
    migrate(empty_database, "0020_member_languages")
    engine = create_db_engine(empty_database)
    try:
        before = set(inspect(engine).get_table_names())
        assert "member_language_asks" not in before
        migrate(empty_database, "0021_member_language_asks")
        insert = text(
            "INSERT INTO member_language_asks (team_id, user_id, next_ask_at)"
            " VALUES (:t, :u, '2026-12-07 05:00:00')"
        )
        with engine.begin() as conn:
            conn.execute(insert, {"t": "T1", "u": "U1"})
            conn.execute(insert, {"t": "T2", "u": "U1"})  # another workspace's
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert, {"t": "T1", "u": "U1"})  # one row per person
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(
                text("INSERT INTO member_language_asks (team_id, user_id) VALUES ('T1', 'U2')")
            )  # when, always
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO member_languages (team_id, user_id, locale, looked_up_at)"
                    " VALUES ('T1', 'U1', 'en', '2026-12-07 05:00:00')"
                )
            )
        engine.dispose()
        command.downgrade(alembic_config(empty_database), "0020_member_languages")
        assert set(inspect(engine).get_table_names()) == before
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM member_languages")).scalar() == 1
    finally:
        engine.dispose()


def test_the_consent_expiry_index_comes_with_0022_and_goes_with_its_downgrade(
    empty_database: str,
) -> None:
    """Migration 0022 indexes consents' last day (the consent jobs of every pass read a
    window of it); its downgrade drops the index and nothing else."""
    migrate(empty_database, "0021_member_language_asks")
    engine = create_db_engine(empty_database)
    try:

        def indexes() -> set[str]:
            return {str(ix["name"]) for ix in inspect(engine).get_indexes("consents")}

        before = indexes()
        assert "ix_consents_expires_on" not in before
        migrate(empty_database, "0022_consent_expiry_index")
        assert indexes() == before | {"ix_consents_expires_on"}
        engine.dispose()
        command.downgrade(alembic_config(empty_database), "0021_member_language_asks")
        assert indexes() == before
    finally:
        engine.dispose()


@pytest.mark.parametrize("empty_database", ["postgresql"], indirect=True)
def test_0022_rebuilds_an_index_a_failed_concurrent_build_left_invalid(
    empty_database: str,
) -> None:
    """An operator's ``CREATE INDEX CONCURRENTLY ix_consents_expires_on`` that failed or was
    cancelled leaves an INVALID index of that name, which PostgreSQL never uses: 0022 drops
    and builds it (taking it as made would leave every pass reading every consent)."""
    migrate(empty_database, "0021_member_language_asks")
    engine = create_db_engine(empty_database)
    valid = text(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('ix_consents_expires_on')"
    )
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE INDEX ix_consents_expires_on ON consents (expires_on)"))
            # What a failed CONCURRENTLY build leaves (the test's role is a superuser).
            conn.execute(
                text(
                    "UPDATE pg_index SET indisvalid = false"
                    " WHERE indexrelid = to_regclass('ix_consents_expires_on')"
                )
            )
        engine.dispose()
        migrate(empty_database, "0022_consent_expiry_index")
        with engine.connect() as conn:
            assert conn.execute(valid).scalar() is True
    finally:
        engine.dispose()


def test_the_failed_agenda_posts_index_comes_with_0023_and_goes_with_its_downgrade(
    empty_database: str,
) -> None:
    """Migration 0023 indexes the outbox's failed agenda posts (the failed-posts pass of
    every pass reads them, not every failed message); its downgrade drops the index only."""
    migrate(empty_database, "0022_consent_expiry_index")
    engine = create_db_engine(empty_database)
    try:

        def indexes() -> set[str]:
            return {str(ix["name"]) for ix in inspect(engine).get_indexes("outbox")}

        before = indexes()
        assert "ix_outbox_failed_agenda_posts" not in before
        migrate(empty_database, "0023_failed_agenda_posts_index")
        assert indexes() == before | {"ix_outbox_failed_agenda_posts"}
        engine.dispose()
        command.downgrade(alembic_config(empty_database), "0022_consent_expiry_index")
        assert indexes() == before
    finally:
        engine.dispose()


@pytest.mark.parametrize("empty_database", ["postgresql"], indirect=True)
def test_0023_rebuilds_an_index_a_failed_concurrent_build_left_invalid(
    empty_database: str,
) -> None:
    """An operator's ``CREATE INDEX CONCURRENTLY ix_outbox_failed_agenda_posts`` that failed
    leaves an INVALID index, which PostgreSQL never uses: 0023 drops and builds it."""
    migrate(empty_database, "0022_consent_expiry_index")
    engine = create_db_engine(empty_database)
    valid = text(
        "SELECT indisvalid FROM pg_index"
        " WHERE indexrelid = to_regclass('ix_outbox_failed_agenda_posts')"
    )
    try:
        with engine.begin() as conn:
            conn.execute(
                text("CREATE INDEX ix_outbox_failed_agenda_posts ON outbox (not_before, id)")
            )
            # What a failed CONCURRENTLY build leaves (the test's role is a superuser).
            conn.execute(
                text(
                    "UPDATE pg_index SET indisvalid = false"
                    " WHERE indexrelid = to_regclass('ix_outbox_failed_agenda_posts')"
                )
            )
        engine.dispose()
        migrate(empty_database, "0023_failed_agenda_posts_index")
        with engine.connect() as conn:
            assert conn.execute(valid).scalar() is True
    finally:
        engine.dispose()


def test_the_forums_channel_index_comes_with_0025_and_goes_with_its_downgrade(
    empty_database: str,
) -> None:
    """Migration 0025 indexes forums by channel alone (the bot's hello asks whether any
    workspace's forum meets in a channel); its downgrade drops the index only."""
    migrate(empty_database, "0024_extra_meetings")
    engine = create_db_engine(empty_database)
    try:

        def indexes() -> set[str]:
            return {str(ix["name"]) for ix in inspect(engine).get_indexes("forums")}

        before = indexes()
        assert "ix_forums_channel_id" not in before
        migrate(empty_database, "0025_forums_channel_index")
        assert indexes() == before | {"ix_forums_channel_id"}
        engine.dispose()
        command.downgrade(alembic_config(empty_database), "0024_extra_meetings")
        assert indexes() == before
    finally:
        engine.dispose()
