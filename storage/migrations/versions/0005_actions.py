"""actions: history, snooze, follow-up of effect, owner may leave, list indexes

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("actions") as batch_op:
        # An owner who left the forum leaves the action with the agency (no owner).
        batch_op.alter_column("owner", existing_type=sa.String(length=32), nullable=True)
        batch_op.add_column(sa.Column("remind_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("snoozed_until", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("follow_up_comment", sa.Text()))
        batch_op.add_column(sa.Column("followed_up_by", sa.String(length=32)))
        batch_op.add_column(sa.Column("followed_up_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("submission_key", sa.String(length=64)))
        batch_op.create_unique_constraint(
            "uq_actions_forum_id_submission_key", ["forum_id", "submission_key"]
        )
        batch_op.create_index("ix_actions_forum_due_id", ["forum_id", "due_on", "id"])
        batch_op.create_index(
            "ix_actions_forum_agency_due", ["forum_id", "owning_agency_id", "due_on"]
        )
        batch_op.create_index("ix_actions_forum_owner_due", ["forum_id", "owner", "due_on"])
        batch_op.create_index(
            "ix_actions_forum_status_completed", ["forum_id", "status", "completed_at", "id"]
        )
        batch_op.create_index("ix_actions_status_remind_at", ["status", "remind_at"])
    op.create_table(
        "action_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column(
            "detail", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
        ),
        sa.Column("note", sa.Text()),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name="fk_action_events_action_id_actions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_action_events"),
    )
    op.create_index("ix_action_events_action_id", "action_events", ["action_id"])


def downgrade() -> None:
    op.drop_index("ix_action_events_action_id", table_name="action_events")
    op.drop_table("action_events")
    with op.batch_alter_table("actions") as batch_op:
        batch_op.drop_index("ix_actions_status_remind_at")
        batch_op.drop_index("ix_actions_forum_status_completed")
        batch_op.drop_index("ix_actions_forum_owner_due")
        batch_op.drop_index("ix_actions_forum_agency_due")
        batch_op.drop_index("ix_actions_forum_due_id")
        batch_op.drop_constraint("uq_actions_forum_id_submission_key", type_="unique")
        batch_op.drop_column("submission_key")
        batch_op.drop_column("followed_up_at")
        batch_op.drop_column("followed_up_by")
        batch_op.drop_column("follow_up_comment")
        batch_op.drop_column("snoozed_until")
        batch_op.drop_column("remind_at")
        batch_op.alter_column("owner", existing_type=sa.String(length=32), nullable=False)
