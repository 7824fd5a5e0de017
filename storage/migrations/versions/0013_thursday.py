"""what each agency sees right now, asked with the situation picture's rating round

Revision ID: 0013_thursday
Revises: 0006

Every rating round also asks each agency one optional free text, "Vad ser ni just nu?"
(what do you see right now?). One row per agency and round; a new answer replaces it.
Coordinators read the answers next to the agencies' levels, and every look is audited.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_thursday"
down_revision: str | None = "0012_steering"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rating_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_by", sa.String(length=32), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rating_rounds.id"],
            name=op.f("fk_rating_observations_round_id_rating_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_rating_observations_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_observations")),
        sa.UniqueConstraint(
            "round_id", "agency_id", name=op.f("uq_rating_observations_round_id_agency_id")
        ),
    )
    with op.batch_alter_table("rating_observations") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rating_observations_agency_id"), ["agency_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rating_observations") as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_observations_agency_id"))
    op.drop_table("rating_observations")
