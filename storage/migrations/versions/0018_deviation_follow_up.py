"""a deviation's follow-up: its outcome and who recorded it

Revision ID: 0018_deviation_follow_up
Revises: 0017_name_keys

A coordinator follows a deviation up (what was done or agreed: ``follow_up_note``, when:
``followed_up_at``, both there before) with an outcome (``follow_up_outcome``) and is
recorded as who did (``followed_up_by``). Only adds nullable columns, so the release before
keeps working while this one is rolled out.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_deviation_follow_up"
down_revision: str | None = "0017_name_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deviations") as batch:
        batch.add_column(sa.Column("follow_up_outcome", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("followed_up_by", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deviations") as batch:
        batch.drop_column("followed_up_by")
        batch.drop_column("follow_up_outcome")
