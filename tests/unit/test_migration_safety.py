"""A SQLite batch migration that rebuilds a table must not cascade-delete its children."""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage.db import MIGRATIONS_DIR, create_db_engine, migrate


def test_rebuilding_forums_in_a_sqlite_migration_keeps_agencies_and_members(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    migrate(url)
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO forums (id, team_id, channel_id, name, code, schedule_rrule,"
                " schedule_anchor, meeting_start, meeting_minutes, timezone, language, settings,"
                " created_by, created_at, updated_at) VALUES (1, 'T', 'C', 'F', 'FOS',"
                " 'FREQ=WEEKLY', '2026-11-23', '13:00:00', 120, 'Europe/Stockholm', 'sv', '{}',"
                " 'U1', '2026-11-23 09:00:00', '2026-11-23 09:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO agencies (forum_id, name, position, active) VALUES (1, 'Polis', 0, 1)"
            )
        )
    engine.dispose()

    # A later revision that rebuilds the forums table (as any column change on SQLite does).
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    versions = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, versions)
    (versions / "versions" / "9999_rebuild.py").write_text(
        '"""rebuild"""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n"
        f"revision = '9999'\ndown_revision = '{head}'\nbranch_labels = None\ndepends_on = None\n"
        "def upgrade() -> None:\n"
        "    with op.batch_alter_table('forums', recreate='always') as batch:\n"
        "        batch.add_column(sa.Column('extra', sa.String(10), nullable=True))\n"
        "def downgrade() -> None:\n    pass\n"
    )
    cfg = Config()
    cfg.set_main_option("script_location", str(versions))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "head")

    engine = create_db_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM agencies")).scalar() == 1
        assert "extra" in {c["name"] for c in sa.inspect(conn).get_columns("forums")}
    engine.dispose()


def test_a_failure_after_a_savepoint_rolls_back_everything_on_sqlite(tmp_path: Path) -> None:
    """pysqlite would commit at a SAVEPOINT's release; the whole unit of work must roll back."""
    from storage.db import session_factory, transaction

    url = f"sqlite:///{tmp_path / 'y.db'}"
    migrate(url)
    engine = create_db_engine(url)
    sessions = session_factory(engine)
    try:
        with transaction(sessions) as s:
            s.execute(text("SELECT 1"))
            with s.begin_nested():
                s.execute(
                    text(
                        "INSERT INTO slack_oauth_states (state, expire_at)"
                        " VALUES ('s', '2026-11-23 10:00:00')"
                    )
                )
            raise RuntimeError("later in the same unit of work")
    except RuntimeError:
        pass
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM slack_oauth_states")).scalar() == 0
    engine.dispose()
