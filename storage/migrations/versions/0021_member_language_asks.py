"""when the member-languages refresh may ask Slack about a person again

Revision ID: 0021_member_language_asks
Revises: 0020_member_languages

Every replica's scheduler runs the "member languages" refresh, so two of them could ask
Slack (``users.info``) about the same stale members at once. ``member_language_asks``
holds, per (team_id, user_id), when a refresh may ask about the person again (UTC): a
replica claims the people it is about to ask with a conditional upsert (only where that
time has passed) and holds them a moment; a person Slack answers with an error about them
is held for a while. Only adds a table, so the release before keeps working (it never asks
this table) while this one is rolled out.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_member_language_asks"
down_revision: str | None = "0020_member_languages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_language_asks",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("next_ask_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_member_language_asks")),
    )


def downgrade() -> None:
    op.drop_table("member_language_asks")
