"""privacy audit retention

Revision ID: 0003
Revises: 0002

* The role *granskare* (``reviewer``): the members.role CHECK constraint gains the value.
* Legal hold on cases: reason, by whom, when (the flag itself is from 0001).
* An append-only, hash-chained audit log:
  - ``audit_events`` gets ``seq``/``prev_hash``/``hash`` and loses its foreign keys (the log
    outlives what it describes; ON DELETE SET NULL would be an UPDATE of the log);
  - ``audit_chain`` holds the chain head (one row, locked by each committing writer);
  - triggers refuse UPDATE and DELETE on ``audit_events`` on both databases, with two
    exceptions the application needs:
      1. *sealing*: an event inserted without a hash may get ``seq``/``prev_hash``/``hash``
         once, in the transaction that wrote it (domain.audit seals at commit), and nothing
         else may change;
      2. *retention (gallring)*: a DELETE is allowed only for events whose ``seq`` is below
         ``audit_chain.purge_below_seq``. That column is NULL except inside the retention
         transaction, which sets it, deletes the oldest events as a prefix, moves the
         chain's start (``start_seq``/``start_hash``) to the first kept event, resets it to
         NULL and records the cut as an audit event. ``samverkan audit verify`` then treats
         that documented cut as the chain's start. Other transactions never see the value
         (it is uncommitted while set).
  Existing events are chained here, in id order. TRUNCATE is not a row DELETE and is not
  caught: production should not give the bot's database role TRUNCATE on audit_events.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
OLD_ROLES = ("member", "coordinator", "admin")
NEW_ROLES = (*OLD_ROLES, "reviewer")
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
)


def _canonical_v1(row: dict[str, Any]) -> bytes:
    """Frozen copy of domain.audit.canonical (version 1); a unit test keeps them equal."""
    at = row["at"]
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    detail = row["detail"]
    if isinstance(detail, str):
        detail = json.loads(detail)
    payload = {
        "v": 1,
        "seq": row["seq"],
        "prev": row["prev_hash"],
        "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "team": row["team_id"],
        "forum": row["forum_id"],
        "actor": row["actor"],
        "agency": row["actor_agency_id"],
        "action": str(row["action"]),
        "type": row["object_type"],
        "ref": row["object_ref"],
        "detail": detail,
    }
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def _role_check(values: Sequence[str]) -> str:
    return "role IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _set_roles(values: Sequence[str]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_members_role"), "members", type_="check")
        op.create_check_constraint(op.f("ck_members_role"), "members", _role_check(values))
        return
    with op.batch_alter_table("members", recreate="always") as batch_op:
        batch_op.drop_constraint(op.f("ck_members_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_members_role"), _role_check(values))


def _chain_existing_events() -> None:
    bind = op.get_bind()
    events = sa.table(
        "audit_events",
        *(sa.column(c) for c in IMMUTABLE),
        sa.column("seq"),
        sa.column("prev_hash"),
        sa.column("hash"),
    )
    rows = bind.execute(
        sa.select(*(events.c[c] for c in IMMUTABLE)).order_by(events.c.id)
    ).mappings()
    seq, prev = 0, GENESIS
    for row in list(rows):
        seq += 1
        values = {**row, "seq": seq, "prev_hash": prev}
        digest = hashlib.sha256(_canonical_v1(values)).hexdigest()
        bind.execute(
            events.update()
            .where(events.c.id == row["id"])
            .values(seq=seq, prev_hash=prev, hash=digest)
        )
        prev = digest
    chain = sa.table(
        "audit_chain",
        sa.column("id"),
        sa.column("last_seq"),
        sa.column("last_hash"),
        sa.column("start_seq"),
        sa.column("start_hash"),
    )
    bind.execute(
        chain.insert().values(id=1, last_seq=seq, last_hash=prev, start_seq=1, start_hash=GENESIS)
    )


PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION samverkan_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.seq IS NOT NULL AND OLD.seq < COALESCE(
            (SELECT purge_below_seq FROM audit_chain WHERE id = 1), 0
        ) THEN
            RETURN OLD;
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF OLD.hash IS NULL AND NEW.hash IS NOT NULL
            AND ({", ".join(f"NEW.{c}" for c in IMMUTABLE)})
                IS NOT DISTINCT FROM ({", ".join(f"OLD.{c}" for c in IMMUTABLE)}) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$
"""

PG_TRIGGER = """
CREATE TRIGGER audit_events_append_only
BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION samverkan_audit_append_only()
"""

SQLITE_NO_UPDATE = f"""
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
WHEN OLD.hash IS NOT NULL OR NEW.hash IS NULL
    OR {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in IMMUTABLE)}
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused');
END
"""

SQLITE_NO_DELETE = """
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN OLD.seq IS NULL
    OR OLD.seq >= COALESCE((SELECT purge_below_seq FROM audit_chain WHERE id = 1), 0)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused');
END
"""


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _set_roles(NEW_ROLES)

    with op.batch_alter_table("cases") as batch_op:
        batch_op.add_column(sa.Column("legal_hold_reason", sa.String(length=300)))
        batch_op.add_column(sa.Column("legal_hold_by", sa.String(length=32)))
        batch_op.add_column(sa.Column("legal_hold_at", sa.DateTime(timezone=True)))

    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("start_seq", sa.BigInteger(), nullable=False),
        sa.Column("start_hash", sa.String(length=64), nullable=False),
        sa.Column("purge_below_seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_constraint("fk_audit_events_forum_id_forums", type_="foreignkey")
        batch_op.drop_constraint("fk_audit_events_actor_agency_id_agencies", type_="foreignkey")
        batch_op.add_column(sa.Column("seq", sa.BigInteger()))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64)))
        batch_op.add_column(sa.Column("hash", sa.String(length=64)))
        batch_op.create_unique_constraint(op.f("uq_audit_events_seq"), ["seq"])
    _chain_existing_events()

    if postgres:
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        op.execute(SQLITE_NO_UPDATE)
        op.execute(SQLITE_NO_DELETE)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS samverkan_audit_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_constraint("uq_audit_events_seq", type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
        batch_op.create_foreign_key(
            "fk_audit_events_forum_id_forums", "forums", ["forum_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_foreign_key(
            "fk_audit_events_actor_agency_id_agencies",
            "agencies",
            ["actor_agency_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.drop_table("audit_chain")
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_column("legal_hold_at")
        batch_op.drop_column("legal_hold_by")
        batch_op.drop_column("legal_hold_reason")
    op.execute(sa.text("UPDATE members SET role = 'coordinator' WHERE role = 'reviewer'"))
    _set_roles(OLD_ROLES)
