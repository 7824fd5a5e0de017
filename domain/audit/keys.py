"""The chains (one per workspace), the audit log's constants and its signing keys."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import (
    Table,
)

from storage.models import AuditChain, AuditEvent

GENESIS = "0" * 64
GLOBAL_CHAIN = "global"
# What the chain head's retention cut is recorded as (see purge_before / verify).
CUT_OBJECT_TYPE = "audit_events"
DEV_KEY_ID = "dev"
DEV_SECRET = "samverkan-development-audit-key-public-not-secret"
MIN_KEY_LENGTH = 32
ANCHOR_PREFIX = "sva1"
# A sessionmaker's ``info`` key: seal a transaction's events at its commit (the old way).
SEAL_AT_COMMIT = "samverkan_audit_seal_at_commit"
PARTITION_SCHEMA = "audit_partitions"
PARTITION_RE = re.compile(r"^audit_events_y(\d{4})m(\d{2})$")
_WROTE = "samverkan_audit_wrote"

_EVENTS: Table = AuditEvent.__table__  # type: ignore[assignment]
_HEADS: Table = AuditChain.__table__  # type: ignore[assignment]


def chain_of(team_id: str | None) -> str:
    """The chain an event of this workspace goes to."""
    return team_id or GLOBAL_CHAIN


# --- keys -----------------------------------------------------------------------------------


def key_id(secret: bytes) -> str:
    """A key's public name: derived from it, so the same key always has the same id."""
    if secret == DEV_SECRET.encode():
        return DEV_KEY_ID
    return hashlib.sha256(b"samverkan audit key id\n" + secret).hexdigest()[:8]


def new_key() -> str:
    """A fresh random audit key (for ``samverkan audit new-key``)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class AuditKeys:
    """The HMAC keys: the first signs, every one verifies."""

    keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def parse(cls, value: str) -> AuditKeys:
        """Comma-separated secrets of at least 32 characters; raises ValueError (never
        echoing a key)."""
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if not parts:
            raise ValueError("no key given (make one with `samverkan audit new-key`)")
        keys: list[tuple[str, bytes]] = []
        for position, part in enumerate(parts, start=1):
            if len(part) < MIN_KEY_LENGTH:
                raise ValueError(
                    f"key #{position} is shorter than {MIN_KEY_LENGTH} characters"
                    " (make one with `samverkan audit new-key`)"
                )
            secret = part.encode("utf-8")
            keys.append((key_id(secret), secret))
        return cls(tuple(keys))

    @classmethod
    def development(cls) -> AuditKeys:
        return cls(((DEV_KEY_ID, DEV_SECRET.encode()),))

    @property
    def signing_id(self) -> str:
        return self.keys[0][0]

    @property
    def is_development(self) -> bool:
        return self.signing_id == DEV_KEY_ID

    def ids(self) -> tuple[str, ...]:
        return tuple(kid for kid, _ in self.keys)

    def mac(self, kid: str, data: bytes) -> str | None:
        """HMAC-SHA256 of ``data`` with the key ``kid`` (hex), or None without that key."""
        for known, secret in self.keys:
            if known == kid:
                return hmac.new(secret, data, hashlib.sha256).hexdigest()
        return None


_keys = AuditKeys.development()


def use_keys(keys: AuditKeys) -> None:
    """The keys this process signs and verifies with (set once by the wiring or the CLI)."""
    global _keys
    _keys = keys


def current_keys() -> AuditKeys:
    return _keys
