"""a meeting may be an extra one a coordinator added, outside the forum's schedule

Revision ID: 0024_extra_meetings
Revises: 0023_failed_agenda_posts_index

``meetings.extra`` marks a one-off meeting (an urgent situation between the scheduled
ones: requirements P7). Only adds a column with a server default, so the release before
keeps working while this one is rolled out (it reads an extra meeting as one moved by hand).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_extra_meetings"
down_revision: str | None = "0023_failed_agenda_posts_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(
            sa.Column("extra", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("extra")
