"""Slack OAuth stores on our own tables, with every token encrypted at rest.

The tables (``slack_installations``, ``slack_bots``, ``slack_oauth_states``) are declared in
:mod:`storage.models` and created by Alembic; this module only points slack_sdk's SQLAlchemy
stores at them. Secrets are Fernet-encrypted before they are written and decrypted when read.

``SAMVERKAN_TOKEN_ENCRYPTION_KEY`` may hold several comma-separated Fernet keys for rotation:
the first key encrypts, every key decrypts. A value no key can decrypt raises
:class:`TokenDecryptionError`; ciphertext is never handed out as a token.

Rotating a key: put the new key first (every replica), run ``samverkan rotate-keys``
(:func:`rotate_secrets` re-encrypts every stored secret with it, in one transaction), then
remove the old key.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from logging import Logger
from typing import Any, Final

import sqlalchemy
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Connection, Engine, Table, and_, delete, desc, select
from sqlalchemy.exc import IntegrityError

from storage.db import READ_ONLY
from storage.models import (
    slack_bots,
    slack_installations,
    slack_oauth_states,
    slack_org_workspaces,
)

__all__ = [
    "BOT_SECRET_FIELDS",
    "INSTALLATION_SECRET_FIELDS",
    "EncryptedInstallationStore",
    "Rotated",
    "TokenDecryptionError",
    "build_state_store",
    "load_fernet",
    "rotate_secrets",
]

_log = logging.getLogger(__name__)

# Every column that holds a credential. Webhook URLs carry their own secret in the path.
INSTALLATION_SECRET_FIELDS: Final = (
    "bot_token",
    "bot_refresh_token",
    "user_token",
    "user_refresh_token",
    "incoming_webhook_url",
)
BOT_SECRET_FIELDS: Final = ("bot_token", "bot_refresh_token")

_DATETIME_FIELDS: Final = ("installed_at", "bot_token_expires_at", "user_token_expires_at")


class TokenDecryptionError(RuntimeError):
    """A stored secret could not be decrypted with any configured key."""


def load_fernet(encryption_key: str) -> MultiFernet:
    """Parse a comma-separated list of Fernet keys: the first encrypts, all of them decrypt."""
    keys = [part.strip() for part in encryption_key.split(",") if part.strip()]
    if not keys:
        raise ValueError("SAMVERKAN_TOKEN_ENCRYPTION_KEY: no Fernet key given")
    fernets: list[Fernet] = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            # Never echo the key itself: it is a secret even when malformed.
            raise ValueError(
                f"SAMVERKAN_TOKEN_ENCRYPTION_KEY: key #{position} is not a Fernet key "
                "(32 url-safe base64-encoded bytes)"
            ) from None
    return MultiFernet(fernets)


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's installation store on ``storage.models`` tables, tokens Fernet-encrypted."""

    bots: Table

    def __init__(
        self,
        client_id: str,
        engine: Engine,
        encryption_key: str,
        *,
        logger: Logger | None = None,
    ) -> None:
        # Deliberately not calling super().__init__: it builds a private MetaData with
        # slack_sdk's own (narrower) tables. We use the Alembic-managed ones instead.
        self.client_id = client_id
        self.engine = engine
        self._logger = logger or _log
        self.metadata = slack_installations.metadata
        self.installations = slack_installations
        self.bots = slack_bots
        self._fernet = load_fernet(encryption_key)

    @property
    def _reader(self) -> Engine:
        """The engine for lookups, read-only as :func:`storage.db.reading`'s: on SQLite a
        deferred BEGIN, which in WAL mode never waits for the writer. A job or a listener
        looks a workspace's token up (``client_for_team``, for the recipients' languages)
        inside its own write transaction; the BEGIN IMMEDIATE any other connection takes
        waited for that very transaction, the busy timeout (15 s) a lookup, and then
        failed (the forum's language, not the person's)."""
        return self.engine.execution_options(**{READ_ONLY: True}, postgresql_readonly=True)

    def create_tables(self) -> None:
        # No-op on purpose: Alembic migrations (storage.db.migrate) own these tables.
        return None

    # --- writes ---------------------------------------------------------------------------
    def save(self, installation: Installation) -> None:
        values = self._row_values(self.installations, installation.to_dict())
        self._encrypt(values, INSTALLATION_SECRET_FIELDS)
        bot_values = self._row_values(self.bots, installation.to_bot().to_dict())
        self._encrypt(bot_values, BOT_SECRET_FIELDS)
        # One transaction for both rows, so a failure cannot leave half an installation.
        with self.engine.begin() as conn:
            self._upsert(conn, self.installations, values)
            self._upsert(conn, self.bots, bot_values)

    def save_bot(self, bot: Bot) -> None:
        values = self._row_values(self.bots, bot.to_dict())
        self._encrypt(values, BOT_SECRET_FIELDS)
        with self.engine.begin() as conn:
            self._upsert(conn, self.bots, values)

    # --- reads ----------------------------------------------------------------------------
    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        # slack_sdk's query (the latest row of the installation with a bot token), read
        # through the read-only engine; the tokens are decrypted here.
        if is_enterprise_install or team_id is None:
            team_id = None
        c = self.bots.c
        query = (
            self.bots.select()
            .where(
                c.client_id == self.client_id,
                c.enterprise_id == enterprise_id,
                c.team_id == team_id,
                c.bot_token.is_not(None),
            )
            .order_by(desc(c.installed_at))
            .limit(1)
        )
        with self._reader.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        bot = self.build_bot_entity(row)
        where = _where(bot.enterprise_id, bot.team_id)
        bot.bot_token = self._decrypt_required(bot.bot_token, "slack_bots.bot_token", where)
        bot.bot_refresh_token = self._decrypt(
            bot.bot_refresh_token, "slack_bots.bot_refresh_token", where
        )
        return bot

    # --- Enterprise Grid: org-wide installs ------------------------------------------------
    def remember_org_workspace(self, *, team_id: str, enterprise_id: str) -> None:
        """Note that workspace ``team_id`` belongs to the organisation ``enterprise_id``
        whose org-wide install serves it (once; later calls change nothing)."""
        try:
            self._remember_org_workspace(team_id=team_id, enterprise_id=enterprise_id)
        except IntegrityError:
            # Another process noted it between our read and our insert (two workers' first
            # requests from the workspace at once): read again, now seeing its row.
            self._remember_org_workspace(team_id=team_id, enterprise_id=enterprise_id)

    def _remember_org_workspace(self, *, team_id: str, enterprise_id: str) -> None:
        table = slack_org_workspaces
        with self.engine.begin() as conn:
            known = conn.scalar(
                select(table.c.enterprise_id).where(
                    table.c.client_id == self.client_id, table.c.team_id == team_id
                )
            )
            if known == enterprise_id:
                return
            if known is not None:  # the workspace moved to another organisation
                conn.execute(
                    delete(table).where(
                        table.c.client_id == self.client_id, table.c.team_id == team_id
                    )
                )
            conn.execute(
                table.insert().values(
                    client_id=self.client_id, team_id=team_id, enterprise_id=enterprise_id
                )
            )

    def find_workspace_bot(self, team_id: str | None) -> Bot | None:
        """The bot token for work in workspace ``team_id`` that no request started: the
        workspace's own install (stored under its organisation too when it is an Enterprise
        Grid workspace), else its organisation's org-wide install."""
        bot = self.find_bot(enterprise_id=None, team_id=team_id)
        if bot is not None or team_id is None:
            return bot
        table, bots = slack_org_workspaces, self.bots.c
        with self._reader.connect() as conn:
            own_org = conn.scalar(
                select(bots.enterprise_id)
                .where(
                    bots.client_id == self.client_id,
                    bots.team_id == team_id,
                    bots.enterprise_id.is_not(None),
                )
                .order_by(desc(bots.installed_at))
                .limit(1)
            )
            enterprise_id = conn.scalar(
                select(table.c.enterprise_id).where(
                    table.c.client_id == self.client_id, table.c.team_id == team_id
                )
            )
        if own_org is not None:
            bot = self.find_bot(enterprise_id=own_org, team_id=team_id)
            if bot is not None:
                return bot
        if enterprise_id is None:
            return None
        return self.find_bot(enterprise_id=enterprise_id, team_id=None, is_enterprise_install=True)

    # --- uninstalls and revoked tokens ------------------------------------------------------
    # Slack revokes the tokens; these delete what we stored of them (the case data stays: its
    # retention has rules of its own). Every deletion names its installation exactly: an
    # event of one organisation or workspace never reaches another's rows.

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """The installation stored under exactly (``enterprise_id``, ``team_id``) (an
        org-wide install's has no workspace), and the organisation's note of the workspace."""
        with self.engine.begin() as conn:
            for table in (self.installations, self.bots):
                conn.execute(delete(table).where(*self._exactly(table, enterprise_id, team_id)))
            if enterprise_id is not None and team_id is not None:
                self._forget_org_workspaces(conn, enterprise_id, [team_id])

    def forget_organisation(self, enterprise_id: str) -> None:
        """The organisation uninstalled the app (its org-wide install, from every
        workspace): every token stored under it, its own and any of its workspaces', and
        every note of a workspace it served."""
        with self.engine.begin() as conn:
            for table in (self.installations, self.bots):
                conn.execute(
                    delete(table).where(
                        table.c.client_id == self.client_id,
                        table.c.enterprise_id == enterprise_id,
                    )
                )
            conn.execute(
                delete(slack_org_workspaces).where(
                    slack_org_workspaces.c.client_id == self.client_id,
                    slack_org_workspaces.c.enterprise_id == enterprise_id,
                )
            )

    def forget_org_workspaces(self, *, enterprise_id: str, team_ids: list[str]) -> None:
        """The organisation's app was removed from workspaces ``team_ids`` (it stays in its
        other workspaces): their notes and any token stored for them under this
        organisation go; the org-wide token stays."""
        with self.engine.begin() as conn:
            for table in (self.installations, self.bots):
                conn.execute(
                    delete(table).where(
                        table.c.client_id == self.client_id,
                        table.c.enterprise_id == enterprise_id,
                        table.c.team_id.in_(team_ids),
                    )
                )
            self._forget_org_workspaces(conn, enterprise_id, team_ids)

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Slack revoked the installation's bot token: its rows in slack_bots, and the copy
        each slack_installations row of the installation keeps."""
        with self.engine.begin() as conn:
            conn.execute(delete(self.bots).where(*self._exactly(self.bots, enterprise_id, team_id)))
            conn.execute(
                self.installations.update()
                .where(*self._exactly(self.installations, enterprise_id, team_id))
                .values(bot_token=None, bot_refresh_token=None, bot_token_expires_at=None)
            )

    def _exactly(
        self, table: Table, enterprise_id: str | None, team_id: str | None
    ) -> list[sqlalchemy.ColumnElement[bool]]:
        # ``== None`` is SQL's IS NULL: an org-wide install's row has no workspace.
        return [
            table.c.client_id == self.client_id,
            table.c.enterprise_id == enterprise_id,
            table.c.team_id == team_id,
        ]

    def _forget_org_workspaces(
        self, conn: Connection, enterprise_id: str, team_ids: list[str]
    ) -> None:
        table = slack_org_workspaces
        conn.execute(
            delete(table).where(
                table.c.client_id == self.client_id,
                table.c.enterprise_id == enterprise_id,
                table.c.team_id.in_(team_ids),
            )
        )

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        # Same query and bot fallback as slack_sdk, but the bot tokens are compared only after
        # decryption (Fernet ciphertexts of one token differ from write to write).
        if is_enterprise_install or team_id is None:
            team_id = None
        c = self.installations.c
        conditions = [
            c.client_id == self.client_id,
            c.enterprise_id == enterprise_id,
            c.team_id == team_id,
        ]
        if user_id is not None:
            conditions.append(c.user_id == user_id)
        query = (
            self.installations.select()
            .where(and_(*conditions))
            .order_by(desc(c.installed_at))
            .limit(1)
        )
        with self._reader.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None

        where = _where(enterprise_id, team_id)
        decrypted = dict(row)
        for field in INSTALLATION_SECRET_FIELDS:
            decrypted[field] = self._decrypt(row[field], f"slack_installations.{field}", where)
        installation: Installation = self.build_installation_entity(decrypted)

        if user_id is not None or installation.bot_token is None:
            # The latest bot token wins, see https://github.com/slackapi/bolt-python/issues/664
            latest = self.find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            )
            if latest is not None and installation.bot_token != latest.bot_token:
                installation.bot_id = latest.bot_id
                installation.bot_user_id = latest.bot_user_id
                installation.bot_token = latest.bot_token
                installation.bot_scopes = latest.bot_scopes
                installation.bot_refresh_token = latest.bot_refresh_token
                installation.bot_token_expires_at = latest.bot_token_expires_at
        return installation

    # --- helpers --------------------------------------------------------------------------
    def _row_values(self, table: Table, entity: Mapping[str, Any]) -> dict[str, Any]:
        """Column values for ``table`` from an entity's ``to_dict()`` (custom values dropped)."""
        values = {key: value for key, value in entity.items() if key in table.c}
        values["client_id"] = self.client_id
        for field in _DATETIME_FIELDS:
            if field in values:
                values[field] = normalize_datetime_for_db(values[field])
        return values

    def _encrypt(self, values: dict[str, Any], fields: tuple[str, ...]) -> None:
        for field in fields:
            plaintext = values.get(field)
            if plaintext is not None:
                values[field] = self._fernet.encrypt(str(plaintext).encode("utf-8")).decode("ascii")

    def _decrypt(self, value: Any, column: str, where: str) -> str | None:
        if value is None:
            return None
        try:
            return self._fernet.decrypt(str(value).encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise TokenDecryptionError(
                f"{column} ({where}) cannot be decrypted with any key in "
                "SAMVERKAN_TOKEN_ENCRYPTION_KEY: wrong key, a key rotated out too early, "
                "or a value written without encryption"
            ) from None

    def _decrypt_required(self, value: Any, column: str, where: str) -> str:
        plaintext = self._decrypt(value, column, where)
        if plaintext is None:  # find_bot only returns rows that have a bot token
            raise TokenDecryptionError(f"{column} ({where}) is empty")
        return plaintext

    def _upsert(self, conn: Connection, table: Table, values: dict[str, Any]) -> None:
        """Insert, or update the row of the same installation (slack_sdk's matching rule)."""
        c = table.c
        existing = conn.execute(
            sqlalchemy.select(c.id)
            .where(
                and_(
                    c.client_id == self.client_id,
                    c.enterprise_id == values.get("enterprise_id"),
                    c.team_id == values.get("team_id"),
                    c.installed_at == values.get("installed_at"),
                )
            )
            .limit(1)
        ).scalar()
        if existing is None:
            conn.execute(table.insert().values(**values))
        else:
            conn.execute(table.update().where(c.id == existing).values(**values))


@dataclass(frozen=True)
class Rotated:
    rows: int
    values: int


def rotate_secrets(engine: Engine, encryption_key: str) -> Rotated:
    """Re-encrypt every stored secret with the first key (all keys decrypt), in one
    transaction: a value no key decrypts raises :class:`TokenDecryptionError` and nothing
    changes. Afterwards the other keys can be removed from the setting."""
    fernet = load_fernet(encryption_key)
    rows = values = 0
    with engine.begin() as conn:
        for table, fields in (
            (slack_installations, INSTALLATION_SECRET_FIELDS),
            (slack_bots, BOT_SECRET_FIELDS),
        ):
            c = table.c
            found = conn.execute(
                sqlalchemy.select(c.id, c.enterprise_id, c.team_id, *(c[f] for f in fields))
                .order_by(c.id)
                .with_for_update()
            ).mappings()
            for row in list(found):
                changed: dict[str, str] = {}
                for field in fields:
                    value = row[field]
                    if value is None:
                        continue
                    try:
                        changed[field] = fernet.rotate(str(value).encode("ascii")).decode("ascii")
                    except (InvalidToken, UnicodeError):
                        raise TokenDecryptionError(
                            f"{table.name}.{field} ({_where(row['enterprise_id'], row['team_id'])})"
                            " cannot be decrypted with any key in SAMVERKAN_TOKEN_ENCRYPTION_KEY"
                        ) from None
                if changed:
                    conn.execute(table.update().where(c.id == row["id"]).values(**changed))
                    rows += 1
                    values += len(changed)
    return Rotated(rows=rows, values=values)


def _where(enterprise_id: str | None, team_id: str | None) -> str:
    return f"enterprise_id={enterprise_id!r}, team_id={team_id!r}"


class _MigratedOAuthStateStore(SQLAlchemyOAuthStateStore):
    def create_tables(self) -> None:
        # No-op on purpose: Alembic migrations (storage.db.migrate) own slack_oauth_states.
        return None


def build_state_store(engine: Engine, expiration_seconds: int = 600) -> SQLAlchemyOAuthStateStore:
    """slack_sdk's OAuth state store on our Alembic-managed ``slack_oauth_states`` table."""
    store = _MigratedOAuthStateStore(expiration_seconds=expiration_seconds, engine=engine)
    store.metadata = slack_oauth_states.metadata
    store.oauth_states = slack_oauth_states
    return store
