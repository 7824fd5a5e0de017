"""rating rounds

Revision ID: 0004
Revises: 0003

* ``rating_rounds.original_deadline_at``: the deadline a round opened with, kept when a
  coordinator extends it; ``rating_rounds.closed_early``: a coordinator closed it before the
  deadline (who did is in the audit log).
* ``ix_rating_rounds_status_deadline``: the scheduler finds open rounds past their deadline
  with one indexed query however many forums there are.

Plain ADD COLUMN (nullable or with a server default): no table rebuild on SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rating_rounds") as batch_op:
        batch_op.add_column(sa.Column("original_deadline_at", sa.DateTime(timezone=True)))
        batch_op.add_column(
            sa.Column("closed_early", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            "ix_rating_rounds_status_deadline", ["status", "deadline_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rating_rounds") as batch_op:
        batch_op.drop_index("ix_rating_rounds_status_deadline")
        batch_op.drop_column("closed_early")
        batch_op.drop_column("original_deadline_at")
