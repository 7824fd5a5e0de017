"""an agenda item remembers the case status its record replaced with "discussed"

Revision ID: 0019_agenda_discussed_from
Revises: 0018_deviation_follow_up

Recording a meeting marks a new or scheduled case discussed; ``discussed_from`` keeps the
status it had, so a correction to "not discussed" puts exactly that back. Only adds a
nullable column, so the release before keeps working while this one is rolled out.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_agenda_discussed_from"
down_revision: str | None = "0018_deviation_follow_up"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agenda_items") as batch:
        batch.add_column(sa.Column("discussed_from", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agenda_items") as batch:
        batch.drop_column("discussed_from")
