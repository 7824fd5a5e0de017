"""an index of forums by channel, for the bot's hello when it is invited to a channel

Revision ID: 0025_forums_channel_index
Revises: 0024_extra_meetings

When the bot is invited to a channel it says hello only where no workspace's forum meets
(``domain.forums.channel_has_forum``: a channel shared between workspaces is one channel).
That asks for forums by ``channel_id`` alone, which the unique (team_id, channel_id) key
does not serve (its first column is the workspace): PostgreSQL read every forum. With
``ix_forums_channel_id`` it is one probe of the index.

On a large PostgreSQL database an operator may create it first with ``CREATE INDEX
CONCURRENTLY`` under the same name (then this migration finds it and only records itself).
A ``CONCURRENTLY`` build that failed or was cancelled leaves an INVALID index of that name,
which PostgreSQL never uses: this migration drops it and builds the index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025_forums_channel_index"
down_revision: str | None = "0024_extra_meetings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_forums_channel_id"


def upgrade() -> None:
    bind = op.get_bind()
    existing = {ix["name"] for ix in sa.inspect(bind).get_indexes("forums")}
    if NAME in existing and bind.dialect.name == "postgresql":
        valid = bind.execute(
            sa.text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"),
            {"name": NAME},
        ).scalar()
        if valid is False:  # what a failed CREATE INDEX CONCURRENTLY left
            op.drop_index(NAME, table_name="forums")
            existing.discard(NAME)
    if NAME not in existing:
        op.create_index(NAME, "forums", ["channel_id"])


def downgrade() -> None:
    op.drop_index(NAME, table_name="forums")
