"""an index of failed agenda posts, for the failed-posts pass of every pass

Revision ID: 0023_failed_agenda_posts_index
Revises: 0022_consent_expiry_index

Every pass of every replica looks for agenda posts Slack refused for good in the last two
weeks (``domain.agenda.posting.report_failed_posts``), to tell the coordinators. The
(status, not_before) index bounded that to the window, but the window held every message of
every forum that failed within it (DMs to people who left, updates of deleted messages …),
each read and dropped by the key's ``LIKE`` on every pass. ``ix_outbox_failed_agenda_posts``
is a partial index of the failed agenda posts only; the query names the same predicate in
literal values, so it is used under a generic plan too.

On a large PostgreSQL database an operator may create it first with ``CREATE INDEX
CONCURRENTLY`` under the same name (then this migration finds it and only records itself):
plain ``CREATE INDEX`` blocks writes to the outbox while it builds. A ``CONCURRENTLY`` build
that failed or was cancelled leaves an INVALID index of that name, which PostgreSQL never
uses: this migration drops it and builds the index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_failed_agenda_posts_index"
down_revision: str | None = "0022_consent_expiry_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_outbox_failed_agenda_posts"
# What storage.models.system.FAILED_AGENDA_POSTS says (the query repeats it literally); the
# colons escaped, as ``:p0`` in a text() clause would be a bind parameter.
WHERE = r"status = 'failed' AND dedupe_key LIKE 'agenda\:%\:p0'"


def upgrade() -> None:
    bind = op.get_bind()
    existing = {ix["name"] for ix in sa.inspect(bind).get_indexes("outbox")}
    if NAME in existing and bind.dialect.name == "postgresql":
        valid = bind.execute(
            sa.text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"),
            {"name": NAME},
        ).scalar()
        if valid is False:  # what a failed CREATE INDEX CONCURRENTLY left
            op.drop_index(NAME, table_name="outbox")
            existing.discard(NAME)
    if NAME not in existing:
        op.create_index(
            NAME,
            "outbox",
            ["not_before", "id"],
            postgresql_where=sa.text(WHERE),
            sqlite_where=sa.text(WHERE),
        )


def downgrade() -> None:
    op.drop_index(NAME, table_name="outbox")
