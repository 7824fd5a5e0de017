"""the workspaces of an Enterprise Grid organisation with an org-wide install

Revision ID: 0016_org_workspaces
Revises: 0015_outbox_key_index

An org-wide install stores one bot token under the organisation's id and no workspace. A
request carries both ids, so bolt finds that token; work no request started (the outbox,
scheduled jobs) knows only the forum's workspace and found no token. This table maps each
such workspace to its organisation (written when its first request arrives).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_org_workspaces"
down_revision: str | None = "0015_outbox_key_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_org_workspaces",
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "team_id", name=op.f("pk_slack_org_workspaces")),
    )


def downgrade() -> None:
    op.drop_table("slack_org_workspaces")
