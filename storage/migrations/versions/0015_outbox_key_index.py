"""an index for outbox keys looked up by their beginning (PostgreSQL)

Revision ID: 0015_outbox_key_index
Revises: 0014_minutes

The agenda's publish path finds its earlier messages by the beginning of their outbox key
(``agenda:<meeting>:p…`` to update a posted agenda, ``preview:<meeting>:…`` to refresh the
coordinators' previews, ``<key>:u…`` for a DM's updates, the meeting DMs). The unique index
on ``dedupe_key`` does not serve that on PostgreSQL: the database's collation is not ``C``,
so its order is not the keys' byte order, and every such lookup read the whole outbox,
which grows with every forum's messages. ``ix_outbox_dedupe_key_pattern``
(``varchar_pattern_ops``: byte order) serves the range the domain asks for
(``domain.scheduling.key_starts``: ``~>=~`` and ``~<~``, also under a generic plan).

SQLite compares text bytewise (BINARY) already, so its unique index serves the same range;
it gets a plain index under the same name only because the models describe one schema for
both databases (tests/unit/test_migrations.py compares them) and Alembic does not compare
an index made for one dialect only. On a one-municipality SQLite database the redundant
index costs little.

On a large PostgreSQL database an operator may create it first with ``CREATE INDEX
CONCURRENTLY`` under the same name (then this migration finds it and only records itself).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_outbox_key_index"
down_revision: str | None = "0014_minutes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_outbox_dedupe_key_pattern"


def upgrade() -> None:
    if NAME in {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes("outbox")}:
        return
    # postgresql_ops is ignored on SQLite (a plain index there).
    op.create_index(
        NAME, "outbox", ["dedupe_key"], postgresql_ops={"dedupe_key": "varchar_pattern_ops"}
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="outbox")
