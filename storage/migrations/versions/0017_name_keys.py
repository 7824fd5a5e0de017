"""agency and area names unique per forum whatever their case

Revision ID: 0017_name_keys
Revises: 0016_org_workspaces

A forum's settings compare agency and area names case-insensitively ("FOS" and "fos" are
one agency), but the database kept them unique only as typed, so two saves racing (or
any other path) could store both. Each row gets ``name_key``, its name case-folded
(NFKC, then ``str.casefold``: ``storage.models.name_key``), unique per forum. Not a unique
index on ``lower(name)``: SQLite's ``lower`` folds ASCII letters only ("Öppenvården" and
"öppenvården" would stay two), and PostgreSQL's follows the database's locale.

A database that already holds two names of one forum differing only in case is not
changed: the migration stops and names them. Merging them would move members, cases,
ratings and actions from one agency to another (and with them who may read what), which is
the forum's decision, not a migration's. Rename one (``UPDATE agencies SET name = 'FOS
(gammal)' WHERE id = …``; an area likewise) or move what refers to it and delete it, then
run the migration again.

Only adds, so the release before keeps working while this one is rolled out
(deploy/README.md, Upgrades): ``name_key`` stays nullable (that release inserts agencies
without it: a NULL key, unique with nothing) and the unique (forum_id, name) stays (its
save's ``ON CONFLICT`` names it). The next release's migration fills the NULL keys (refusing
names that differ only in case, as here), makes the column NOT NULL and drops the unique
(forum_id, name), which the key covers (the same name is the same key).
"""

import unicodedata
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_name_keys"
down_revision: str | None = "0016_org_workspaces"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("agencies", "areas")


def _key(name: str) -> str:
    # storage.models.name_key as this revision defines it (a migration keeps its own copy:
    # a later change of the model's function must not change what this revision did).
    return unicodedata.normalize("NFKC", name).casefold()


def _keys(table: str) -> dict[int, str]:
    """Each row's key, or a refusal naming the rows whose names differ only in case."""
    rows = op.get_bind().execute(sa.text(f"SELECT id, forum_id, name FROM {table} ORDER BY id"))
    keys: dict[int, str] = {}
    named: defaultdict[tuple[int, str], list[str]] = defaultdict(list)
    for row_id, forum_id, name in rows:
        keys[row_id] = _key(name)
        named[(forum_id, _key(name))].append(f"{name!r} (id {row_id})")
    clashes = [
        f"forum {forum_id}: {', '.join(names)}"
        for (forum_id, _), names in sorted(named.items())
        if len(names) > 1
    ]
    if clashes:
        raise RuntimeError(
            f"0017_name_keys: {table} has names that differ only in case, which the forum "
            f"treats as one; nothing was changed. Rename one of each (UPDATE {table} SET "
            f"name = … WHERE id = …) or move what refers to it and delete it, then migrate "
            "again. " + "; ".join(clashes)
        )
    return keys


def upgrade() -> None:
    keys = {table: _keys(table) for table in TABLES}  # every check before any change
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("name_key", sa.String(length=300), nullable=True))
        update = sa.text(f"UPDATE {table} SET name_key = :key WHERE id = :id")
        if keys[table]:
            op.get_bind().execute(update, [{"id": i, "key": k} for i, k in keys[table].items()])
        with op.batch_alter_table(table) as batch:
            batch.create_unique_constraint(
                op.f(f"uq_{table}_forum_id_name_key"), ["forum_id", "name_key"]
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"uq_{table}_forum_id_name_key"), type_="unique")
            batch.drop_column("name_key")
