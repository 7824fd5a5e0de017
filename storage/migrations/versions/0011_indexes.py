"""indexes for the hot queries of a hosted service: case pages, the agenda's actions

Revision ID: 0011_indexes
Revises: 0006

* ``cases (forum_id, id)``: the case list pages a forum's cases newest first (keyset on
  ``id``). Without it PostgreSQL walked the primary key backwards past every other forum's
  cases (a 1 000-case forum beside a 100 000-case one: 20.7 ms a page, 0.04 ms with it).
* ``actions (forum_id, status, effect, due_on, id)``: the agenda's two action queries (open
  and due by the meeting day; done and awaiting follow-up of effect), each one ordered
  range of this index, also under a generic plan.

On a large PostgreSQL database an operator may create these first with ``CREATE INDEX
CONCURRENTLY`` under the same names (then this migration finds them and only records
itself): plain ``CREATE INDEX`` blocks writes to the table while it builds.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_indexes"
down_revision: str | None = "0010_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_cases_forum_id_id", "cases", ["forum_id", "id"]),
    (
        "ix_actions_forum_status_effect_due",
        "actions",
        ["forum_id", "status", "effect", "due_on", "id"],
    ),
)


def upgrade() -> None:
    existing = {
        (table, ix["name"])
        for table in {t for _n, t, _c in INDEXES}
        for ix in sa.inspect(op.get_bind()).get_indexes(table)
    }
    for name, table, columns in INDEXES:
        if (table, name) not in existing:
            op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
