"""outbox rows already delivered keep no text

Revision ID: 0010_retention
Revises: 0006

From this version the outbox empties a message's payload when it settles (sent, or given
up): only where it went is kept. Rows delivered before keep their text (an action's
description in a DM, an agenda's items); this empties them the same way. No schema change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_retention"
down_revision: str | None = "0008_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            sa.text(
                "UPDATE outbox SET payload = CASE WHEN jsonb_typeof(payload -> 'channel') = "
                "'string' THEN jsonb_build_object('channel', payload -> 'channel') "
                "ELSE '{}'::jsonb END WHERE status <> 'pending'"
            )
        )
    else:
        op.execute(
            sa.text(
                "UPDATE outbox SET payload = CASE WHEN json_type(payload, '$.channel') = "
                "'text' THEN json_object('channel', json_extract(payload, '$.channel')) "
                "ELSE '{}' END WHERE status <> 'pending'"
            )
        )


def downgrade() -> None:
    pass  # the text is gone; nothing to restore
