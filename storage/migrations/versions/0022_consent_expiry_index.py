"""an index on consents' last day, for the consent jobs of every pass

Revision ID: 0022_consent_expiry_index
Revises: 0021_member_language_asks

The consent-expiry reminder and the expired-consent readers run on every pass of every
replica. They look for consents whose last day (``expires_on``) falls in a few days' window;
without an index PostgreSQL read every forum's consents on each pass. With
``ix_consents_expires_on`` the window is one range of the index.

On a large PostgreSQL database an operator may create it first with ``CREATE INDEX
CONCURRENTLY`` under the same name (then this migration finds it and only records itself):
plain ``CREATE INDEX`` blocks writes to the table while it builds. A ``CONCURRENTLY`` build
that failed or was cancelled leaves an INVALID index of that name, which PostgreSQL never
uses: this migration drops it and builds the index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_consent_expiry_index"
down_revision: str | None = "0021_member_language_asks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_consents_expires_on"


def upgrade() -> None:
    bind = op.get_bind()
    existing = {ix["name"] for ix in sa.inspect(bind).get_indexes("consents")}
    if NAME in existing and bind.dialect.name == "postgresql":
        valid = bind.execute(
            sa.text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"),
            {"name": NAME},
        ).scalar()
        if valid is False:  # what a failed CREATE INDEX CONCURRENTLY left
            op.drop_index(NAME, table_name="consents")
            existing.discard(NAME)
    if NAME not in existing:
        op.create_index(NAME, "consents", ["expires_on"])


def downgrade() -> None:
    op.drop_index(NAME, table_name="consents")
