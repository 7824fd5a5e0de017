"""each person's Slack language, stored so scheduled jobs never ask Slack

Revision ID: 0020_member_languages
Revises: 0019_agenda_discussed_from

The DMs the bot sends are in the recipient's Slack language. It was looked up with
``users.info`` per replica (an hour's cache), sometimes inside a scheduled job's
transaction. ``member_languages`` keeps what one replica learned for all of them:
(team_id, user_id), the normalised locale (``sv``/``en``; NULL when Slack named a language
we have no catalog for) and when Slack said so (UTC). Only adds a table, so the release
before keeps working while this one is rolled out.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_member_languages"
down_revision: str | None = "0019_agenda_discussed_from"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_languages",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("looked_up_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "locale IN ('sv', 'en')", name=op.f("ck_member_languages_locale_supported")
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_member_languages")),
    )


def downgrade() -> None:
    op.drop_table("member_languages")
