"""case slots in the agenda, and minutes that carry decisions

Revision ID: 0014_minutes
Revises: 0013_thursday

Each case on an agenda gets a time slot inside the meeting: a coordinator sets its place in
the order and its length (``agenda_items.slot_position``, ``agenda_items.slot_minutes``;
empty means "after the previous one, the forum's default length"). The minutes record per
case what was decided or agreed as the next step and the next follow-up date
(``minute_entries``, one row per meeting and case, removed with the case).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_minutes"
down_revision: str | None = "0013_thursday"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agenda_items") as batch_op:
        batch_op.add_column(sa.Column("slot_position", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("slot_minutes", sa.Integer(), nullable=True))
    op.create_table(
        "minute_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_minute_entries_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_minute_entries_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minute_entries")),
        sa.UniqueConstraint(
            "meeting_id", "case_id", name=op.f("uq_minute_entries_meeting_id_case_id")
        ),
    )
    with op.batch_alter_table("minute_entries") as batch_op:
        batch_op.create_index(batch_op.f("ix_minute_entries_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("minute_entries") as batch_op:
        batch_op.drop_index(batch_op.f("ix_minute_entries_case_id"))
    op.drop_table("minute_entries")
    with op.batch_alter_table("agenda_items") as batch_op:
        batch_op.drop_column("slot_minutes")
        batch_op.drop_column("slot_position")
