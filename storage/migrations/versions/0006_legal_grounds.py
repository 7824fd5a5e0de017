"""legal grounds other than consent for sharing a case's details

Revision ID: 0006
Revises: 0005

A coordinator records, per case and agency, a legal ground from a short list (necessary
for the agency's task, protection of the child, a duty to report, an LVU or court
decision) with the day of the assessment, who recorded it and an optional non-identifying
note. It unlocks the case's details for that agency like an active consent does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "legal_grounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column(
            "ground",
            sa.Enum(
                "necessary",
                "protection",
                "duty_to_report",
                "decision",
                name="legalgroundkind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("recorded_by", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_legal_grounds_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_legal_grounds_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_grounds")),
    )
    with op.batch_alter_table("legal_grounds") as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_grounds_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_legal_grounds_agency_id"), ["agency_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("legal_grounds") as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_grounds_agency_id"))
        batch_op.drop_index(batch_op.f("ix_legal_grounds_case_id"))
    op.drop_table("legal_grounds")
