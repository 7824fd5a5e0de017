"""audit chain: keyed, sealed after commit, one chain per workspace, partitioned by month

Revision ID: 0008_audit
Revises: 0006

* ``audit_events`` gains ``chain`` (the workspace's team id, or ``global``) and ``key_id``
  (which SAMVERKAN_AUDIT_KEYS key signed the event). Events are inserted unsealed and
  sealed after commit by one sealer per chain (domain.audit); ``seq`` is unique per chain
  (checked by ``samverkan audit verify``: a partitioned table cannot have a unique index
  without the partition key).
* On PostgreSQL ``audit_events`` becomes a table partitioned by month on ``at``
  (``PARTITION BY RANGE (at)``, primary key ``(id, at)``); the partitions live in the
  schema ``audit_partitions`` (``audit_events_yYYYYmMM`` and a DEFAULT partition for
  anything outside them). Partitions are created here from the oldest event to three
  months ahead, and later by the sealer and retention through
  ``samverkan_audit_ensure_partition(date)``; retention drops a month whose events are all
  below their chain's cut through ``samverkan_audit_drop_partition(name)``. Both functions
  are SECURITY DEFINER, so the bot's role need not own the table. SQLite keeps one table.
* ``audit_chain`` holds one head per chain (``chain`` unique; the old single head becomes
  the ``global`` chain), with ``start_at`` and ``kept_below_start`` for retention.
* Triggers on both databases:
    - audit_events: INSERT only unsealed; UPDATE only the one-time sealing (NULL hash to a
      hash, nothing else changed); DELETE only below the chain's ``purge_below_seq`` (set
      inside the retention transaction only); TRUNCATE refused (PostgreSQL);
    - audit_chain: a new head starts at the genesis; a head only moves forward (``last_seq``
      and ``start_seq`` never decrease, their hashes never change in place); DELETE and
      TRUNCATE refused.

Existing events keep their version-1 hashes (unkeyed SHA-256) and their places 1…N in the
``global`` chain: re-sealing them here would need the audit key in the migration. They stay
verifiable as what they are, and an unsealed marker event is added to the global chain; the
first sealer signs it with the key, and because its ``prev_hash`` is the hash of the last
version-1 event, that signature pins the whole unkeyed history before it.
"""

import datetime as dt
import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0008_audit"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
GLOBAL_CHAIN = "global"
PARTITION_SCHEMA = "audit_partitions"
MONTHS_AHEAD = 3
IMMUTABLE = (
    "id",
    "at",
    "team_id",
    "forum_id",
    "actor",
    "actor_agency_id",
    "action",
    "object_type",
    "object_ref",
    "detail",
    "chain",
)
SEAL_COLUMNS = ("seq", "prev_hash", "hash", "key_id")
ACTIONS = ("read", "create", "update", "delete", "export")


def _action_type() -> sa.Enum:
    return sa.Enum(
        *ACTIONS, name="auditaction", native_enum=False, create_constraint=True, length=32
    )


def _event_columns(id_type: sa.types.TypeEngine[int], **id_kw: object) -> list[sa.Column[object]]:
    return [
        sa.Column("id", id_type, nullable=False, **id_kw),  # type: ignore[arg-type]
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("forum_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("actor_agency_id", sa.Integer(), nullable=True),
        sa.Column("action", _action_type(), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_ref", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")),
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.Column("key_id", sa.String(length=16), nullable=True),
    ]


def _event_indexes(*, new_table: bool) -> None:
    """The indexes of the model; the first three exist already unless the table is new."""
    if new_table:
        op.create_index("ix_audit_events_actor", "audit_events", ["actor"])
        op.create_index("ix_audit_events_forum_at", "audit_events", ["forum_id", "at"])
        op.create_index(
            "ix_audit_events_object", "audit_events", ["object_type", "object_ref", "at"]
        )
    op.create_index("ix_audit_events_chain_seq", "audit_events", ["chain", "seq"])
    op.create_index(
        "ix_audit_events_unsealed",
        "audit_events",
        ["chain", "id"],
        postgresql_where=sa.text("hash IS NULL"),
        sqlite_where=sa.text("hash IS NULL"),
    )


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_functions(schema: str) -> list[str]:
    new, old = ", ".join(f"NEW.{c}" for c in IMMUTABLE), ", ".join(f"OLD.{c}" for c in IMMUTABLE)
    sealed_new = " AND ".join(f"NEW.{c} IS NOT NULL" for c in SEAL_COLUMNS)
    unsealed_new = " OR ".join(f"NEW.{c} IS NOT NULL" for c in SEAL_COLUMNS)
    return [
        f"""
CREATE OR REPLACE FUNCTION samverkan_audit_events_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF {unsealed_new} THEN
            RAISE EXCEPTION 'audit_events is append-only: INSERT of a sealed event refused'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.seq IS NOT NULL AND OLD.seq < COALESCE(
            (SELECT purge_below_seq FROM {schema}.audit_chain WHERE chain = OLD.chain), 0
        ) THEN
            RETURN OLD;
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF OLD.hash IS NULL AND {sealed_new}
            AND ({new}) IS NOT DISTINCT FROM ({old}) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$
""",
        f"""
CREATE OR REPLACE FUNCTION samverkan_audit_chain_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.last_seq = 0 AND NEW.last_hash = '{GENESIS}' AND NEW.start_seq = 1
            AND NEW.start_hash = '{GENESIS}' AND NEW.purge_below_seq IS NULL THEN
            RETURN NEW;
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.id = OLD.id AND NEW.chain = OLD.chain
            AND (NEW.last_seq > OLD.last_seq
                 OR (NEW.last_seq = OLD.last_seq AND NEW.last_hash = OLD.last_hash))
            AND (NEW.start_seq > OLD.start_seq
                 OR (NEW.start_seq = OLD.start_seq AND NEW.start_hash = OLD.start_hash))
            AND NEW.start_seq <= NEW.last_seq + 1 THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_chain only moves forward: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$
""",
        """
CREATE OR REPLACE FUNCTION samverkan_audit_no_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$
""",
        # One month's partition (UTC months), unless it exists. SECURITY DEFINER: the bot's
        # role may create partitions without owning audit_events.
        f"""
CREATE OR REPLACE FUNCTION samverkan_audit_ensure_partition(month date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    name text := format('audit_events_y%sm%s', to_char(month, 'YYYY'), to_char(month, 'MM'));
    first timestamptz := make_timestamptz(
        extract(year FROM month)::int, extract(month FROM month)::int, 1, 0, 0, 0, 'UTC');
BEGIN
    IF to_regclass(format('{PARTITION_SCHEMA}.%I', name)) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format(
        'CREATE TABLE {PARTITION_SCHEMA}.%I PARTITION OF {schema}.audit_events'
        ' FOR VALUES FROM (%L) TO (%L)', name, first, first + interval '1 month');
    RETURN true;
END;
$$
""",
        # Drop one month whose events all lie below their chain's retention cut (set in the
        # calling transaction); anything else is refused. Returns the rows it removed.
        f"""
CREATE OR REPLACE FUNCTION samverkan_audit_drop_partition(name text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    blocked boolean;
    removed bigint;
BEGIN
    IF name !~ '^audit_events_y[0-9]{{4}}m[0-9]{{2}}$' THEN
        RAISE EXCEPTION 'not an audit partition: %', name;
    END IF;
    EXECUTE format(
        'SELECT EXISTS (SELECT 1 FROM {PARTITION_SCHEMA}.%I e'
        ' LEFT JOIN {schema}.audit_chain c ON c.chain = e.chain'
        ' WHERE e.seq IS NULL OR c.purge_below_seq IS NULL OR e.seq >= c.purge_below_seq)',
        name) INTO blocked;
    IF blocked THEN
        RAISE EXCEPTION 'audit partition % holds events retention does not remove', name
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    EXECUTE format('SELECT count(*) FROM {PARTITION_SCHEMA}.%I', name) INTO removed;
    EXECUTE format('DROP TABLE {PARTITION_SCHEMA}.%I', name);
    RETURN removed;
END;
$$
""",
    ]


PG_TRIGGERS = [
    "CREATE TRIGGER audit_events_append_only BEFORE INSERT OR UPDATE OR DELETE ON audit_events"
    " FOR EACH ROW EXECUTE FUNCTION samverkan_audit_events_guard()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events"
    " FOR EACH STATEMENT EXECUTE FUNCTION samverkan_audit_no_truncate()",
    "CREATE TRIGGER audit_chain_forward_only BEFORE INSERT OR UPDATE OR DELETE ON audit_chain"
    " FOR EACH ROW EXECUTE FUNCTION samverkan_audit_chain_guard()",
    "CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain"
    " FOR EACH STATEMENT EXECUTE FUNCTION samverkan_audit_no_truncate()",
]


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def _upgrade_postgres() -> None:
    bind = op.get_bind()
    schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
    op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS samverkan_audit_append_only()")

    # The old table steps aside (its index names are schema-wide, so they go first).
    op.execute("ALTER SEQUENCE audit_events_id_seq OWNED BY NONE")
    op.execute("ALTER SEQUENCE audit_events_id_seq AS bigint")
    op.execute("ALTER TABLE audit_events RENAME TO audit_events_v1")
    op.execute("ALTER TABLE audit_events_v1 DROP CONSTRAINT pk_audit_events")
    op.execute("ALTER TABLE audit_events_v1 DROP CONSTRAINT uq_audit_events_seq")
    for index in ("ix_audit_events_actor", "ix_audit_events_forum_at", "ix_audit_events_object"):
        op.execute(f"DROP INDEX {index}")

    op.create_table(
        "audit_events",
        *_event_columns(
            sa.BigInteger(), server_default=sa.text("nextval('audit_events_id_seq'::regclass)")
        ),
        sa.PrimaryKeyConstraint("id", "at", name="pk_audit_events"),
        postgresql_partition_by="RANGE (at)",
    )
    op.execute("ALTER SEQUENCE audit_events_id_seq OWNED BY audit_events.id")
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {PARTITION_SCHEMA}")
    for statement in _pg_functions(schema):
        op.execute(statement)
    op.execute(
        f"CREATE TABLE {PARTITION_SCHEMA}.audit_events_default PARTITION OF audit_events DEFAULT"
    )
    now = bind.execute(sa.text("SELECT now()")).scalar_one()
    oldest = bind.execute(sa.text("SELECT min(at) FROM audit_events_v1")).scalar()
    first = min(oldest or now, now - dt.timedelta(days=31)).date()
    last = (now + dt.timedelta(days=31 * MONTHS_AHEAD)).date()
    for month in _months(first, last):
        bind.execute(sa.text("SELECT samverkan_audit_ensure_partition(:m)"), {"m": month})

    columns = ", ".join(IMMUTABLE[:-1])
    op.execute(
        f"INSERT INTO audit_events ({columns}, chain, seq, prev_hash, hash, key_id)"
        f" SELECT {columns}, '{GLOBAL_CHAIN}', seq, prev_hash, hash, NULL FROM audit_events_v1"
    )
    op.execute("DROP TABLE audit_events_v1")
    # Ids stay unique (the primary key alone no longer says so: it includes ``at``).
    op.execute(
        "SELECT setval('audit_events_id_seq',"
        " (SELECT COALESCE(max(id), 0) + 1 FROM audit_events), false)"
    )
    _event_indexes(new_table=True)

    _upgrade_heads()
    # 0003 inserted the single head with an explicit id: new heads take the next ones.
    op.execute(
        "SELECT setval(pg_get_serial_sequence('audit_chain', 'id'),"
        " (SELECT COALESCE(max(id), 0) + 1 FROM audit_chain), false)"
    )
    for statement in PG_TRIGGERS:
        op.execute(statement)


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_triggers() -> list[str]:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in IMMUTABLE)
    unsealed_new = " OR ".join(f"NEW.{c} IS NOT NULL" for c in SEAL_COLUMNS)
    unsealed_after = " OR ".join(f"NEW.{c} IS NULL" for c in SEAL_COLUMNS)
    return [
        f"""
CREATE TRIGGER audit_events_insert_unsealed BEFORE INSERT ON audit_events
WHEN {unsealed_new}
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: INSERT of a sealed event refused');
END
""",
        f"""
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
WHEN OLD.hash IS NOT NULL OR {unsealed_after} OR {changed}
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused');
END
""",
        """
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN OLD.seq IS NULL OR OLD.seq >= COALESCE(
    (SELECT purge_below_seq FROM audit_chain WHERE chain = OLD.chain), 0)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused');
END
""",
        f"""
CREATE TRIGGER audit_chain_insert_at_genesis BEFORE INSERT ON audit_chain
WHEN NEW.last_seq != 0 OR NEW.last_hash != '{GENESIS}' OR NEW.start_seq != 1
    OR NEW.start_hash != '{GENESIS}' OR NEW.purge_below_seq IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'audit_chain only moves forward: INSERT refused');
END
""",
        """
CREATE TRIGGER audit_chain_forward_only BEFORE UPDATE ON audit_chain
WHEN NEW.id IS NOT OLD.id OR NEW.chain IS NOT OLD.chain
    OR NEW.last_seq < OLD.last_seq
    OR (NEW.last_seq = OLD.last_seq AND NEW.last_hash IS NOT OLD.last_hash)
    OR NEW.start_seq < OLD.start_seq
    OR (NEW.start_seq = OLD.start_seq AND NEW.start_hash IS NOT OLD.start_hash)
    OR NEW.start_seq > NEW.last_seq + 1
BEGIN
    SELECT RAISE(ABORT, 'audit_chain only moves forward: UPDATE refused');
END
""",
        """
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
BEGIN
    SELECT RAISE(ABORT, 'audit_chain only moves forward: DELETE refused');
END
""",
    ]


SQLITE_TRIGGER_NAMES = (
    "audit_events_insert_unsealed",
    "audit_events_no_update",
    "audit_events_no_delete",
    "audit_chain_insert_at_genesis",
    "audit_chain_forward_only",
    "audit_chain_no_delete",
)


def _upgrade_sqlite() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.add_column(sa.Column("chain", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
    op.execute(f"UPDATE audit_events SET chain = '{GLOBAL_CHAIN}'")
    with op.batch_alter_table("audit_events", recreate="always") as batch_op:
        batch_op.drop_constraint("uq_audit_events_seq", type_="unique")
        batch_op.alter_column("chain", existing_type=sa.String(length=32), nullable=False)
    _event_indexes(new_table=False)
    _upgrade_heads()
    for statement in _sqlite_triggers():
        op.execute(statement)


# --- both -----------------------------------------------------------------------------------


def _upgrade_heads() -> None:
    """The single head becomes the global chain's; mark the switch to keyed sealing."""
    with op.batch_alter_table("audit_chain") as batch_op:
        batch_op.add_column(sa.Column("chain", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("start_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("kept_below_start", sa.Integer(), nullable=False, server_default="0")
        )
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE audit_chain SET chain = :c"), {"c": GLOBAL_CHAIN})
    bind.execute(
        sa.text(
            "UPDATE audit_chain SET start_at ="
            " (SELECT e.at FROM audit_events e WHERE e.chain = audit_chain.chain"
            "  AND e.seq = audit_chain.start_seq)"
        )
    )
    with op.batch_alter_table("audit_chain") as batch_op:
        batch_op.alter_column("chain", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_audit_chain_chain"), ["chain"])

    legacy = bind.execute(
        sa.text("SELECT count(*), max(seq) FROM audit_events WHERE hash IS NOT NULL")
    ).one()
    if legacy[0]:
        events = sa.table(
            "audit_events",
            sa.column("at", sa.DateTime(timezone=True)),
            *(sa.column(c) for c in ("actor", "action", "object_type", "object_ref")),
            sa.column("detail", sa.JSON()),
            sa.column("chain"),
        )
        now = dt.datetime.now(dt.UTC)
        bind.execute(
            events.insert().values(
                # Stored as the models' UTCDateTime stores it (naive UTC on SQLite).
                at=now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now,
                actor="samverkan",
                action="update",
                object_type="audit_chain",
                object_ref=GLOBAL_CHAIN,
                detail={"keyed": True, "unkeyed_events": legacy[0], "up_to_seq": legacy[1]},
                chain=GLOBAL_CHAIN,
            )
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgres()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    """Back to one unkeyed chain (0003's shape): every event is re-chained in (chain, seq)
    order with version-1 hashes; the keyed signatures are lost."""
    import hashlib

    migration_0003 = _migration_0003()
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        for statement in (
            "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
            "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
            "DROP TRIGGER IF EXISTS audit_chain_forward_only ON audit_chain",
            "DROP TRIGGER IF EXISTS audit_chain_no_truncate ON audit_chain",
        ):
            op.execute(statement)
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    rows = (
        bind.execute(
            sa.text(
                f"SELECT {', '.join(IMMUTABLE[:-1])} FROM audit_events"
                " ORDER BY seq IS NULL, chain, seq, id"
            )
        )
        .mappings()
        .all()
    )
    if postgres:
        op.execute("ALTER SEQUENCE audit_events_id_seq OWNED BY NONE")
        op.execute("DROP TABLE audit_events")
        op.execute(f"DROP SCHEMA IF EXISTS {PARTITION_SCHEMA} CASCADE")
        for fn in (
            "samverkan_audit_events_guard()",
            "samverkan_audit_chain_guard()",
            "samverkan_audit_no_truncate()",
            "samverkan_audit_ensure_partition(date)",
            "samverkan_audit_drop_partition(text)",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {fn}")
        op.execute("ALTER SEQUENCE audit_events_id_seq AS integer")
        columns = _event_columns(
            sa.Integer(), server_default=sa.text("nextval('audit_events_id_seq'::regclass)")
        )
        op.create_table(
            "audit_events",
            *(c for c in columns if c.name not in ("chain", "key_id")),
            sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
        )
        op.execute("ALTER SEQUENCE audit_events_id_seq OWNED BY audit_events.id")
    else:
        op.execute("DELETE FROM audit_events")
        op.drop_index("ix_audit_events_unsealed", table_name="audit_events")
        op.drop_index("ix_audit_events_chain_seq", table_name="audit_events")
        with op.batch_alter_table("audit_events", recreate="always") as batch_op:
            batch_op.drop_column("key_id")
            batch_op.drop_column("chain")
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.create_unique_constraint("uq_audit_events_seq", ["seq"])
    if postgres:
        op.create_index("ix_audit_events_actor", "audit_events", ["actor"])
        op.create_index("ix_audit_events_forum_at", "audit_events", ["forum_id", "at"])
        op.create_index(
            "ix_audit_events_object", "audit_events", ["object_type", "object_ref", "at"]
        )

    events = sa.table(
        "audit_events",
        *(sa.column(c) for c in IMMUTABLE[:-1] if c != "detail"),
        sa.column("detail", sa.JSON()),
        sa.column("seq"),
        sa.column("prev_hash"),
        sa.column("hash"),
    )
    seq, prev = 0, GENESIS
    for row in rows:
        seq += 1
        values = {**row, "seq": seq, "prev_hash": prev}
        if isinstance(values["detail"], str):  # SQLite hands JSON back as text
            values["detail"] = json.loads(values["detail"])
        digest = hashlib.sha256(migration_0003._canonical_v1(values)).hexdigest()
        bind.execute(events.insert().values(**values, hash=digest))
        prev = digest
    with op.batch_alter_table("audit_chain") as batch_op:
        batch_op.drop_constraint(op.f("uq_audit_chain_chain"), type_="unique")
        batch_op.drop_column("kept_below_start")
        batch_op.drop_column("start_at")
        batch_op.drop_column("chain")
    op.execute("DELETE FROM audit_chain")
    bind.execute(
        sa.text(
            "INSERT INTO audit_chain (id, last_seq, last_hash, start_seq, start_hash)"
            " VALUES (1, :seq, :hash, 1, :genesis)"
        ),
        {"seq": seq, "hash": prev, "genesis": GENESIS},
    )
    # 0003's triggers again.
    if postgres:
        op.execute(migration_0003.PG_FUNCTION)
        op.execute(migration_0003.PG_TRIGGER)
    else:
        op.execute(migration_0003.SQLITE_NO_UPDATE)
        op.execute(migration_0003.SQLITE_NO_DELETE)


def _migration_0003() -> ModuleType:
    """Migration 0003 (its version-1 hash input and triggers, for the downgrade)."""
    path = Path(__file__).with_name("0003_privacy_audit_retention.py")
    spec = importlib.util.spec_from_file_location("migration_0003", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
