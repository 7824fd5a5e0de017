"""meetings and agenda

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable or with a server default): no table rebuild on SQLite.
    with op.batch_alter_table("forums") as batch_op:
        batch_op.add_column(sa.Column("meetings_until", sa.DateTime(timezone=True)))
        batch_op.create_index("ix_forums_meetings_until", ["meetings_until"], unique=False)
    with op.batch_alter_table("meetings") as batch_op:
        batch_op.add_column(sa.Column("agenda_due_at", sa.DateTime(timezone=True)))
        batch_op.add_column(
            sa.Column("agenda_version", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("holiday", sa.Date()))
        batch_op.add_column(sa.Column("changed_by", sa.String(length=32)))
        batch_op.create_index("ix_meetings_agenda_due", ["status", "agenda_due_at"], unique=False)
        batch_op.create_index("ix_meetings_forum_starts", ["forum_id", "starts_at"], unique=False)
    with op.batch_alter_table("agenda_items") as batch_op:
        batch_op.add_column(
            sa.Column(
                "agency_ids",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            )
        )
        batch_op.add_column(
            sa.Column("rolled_over", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("removed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("agenda_items") as batch_op:
        batch_op.drop_column("removed")
        batch_op.drop_column("rolled_over")
        batch_op.drop_column("agency_ids")
    with op.batch_alter_table("meetings") as batch_op:
        batch_op.drop_index("ix_meetings_forum_starts")
        batch_op.drop_index("ix_meetings_agenda_due")
        batch_op.drop_column("changed_by")
        batch_op.drop_column("holiday")
        batch_op.drop_column("agenda_version")
        batch_op.drop_column("agenda_due_at")
    with op.batch_alter_table("forums") as batch_op:
        batch_op.drop_index("ix_forums_meetings_until")
        batch_op.drop_column("meetings_until")
