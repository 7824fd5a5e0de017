"""Settings from environment variables and ``.env`` (pydantic-settings).

Names are a contract (see ARCHITECTURE.md). A bad value stops start-up with one clear line
naming the setting; :func:`load_settings` raises :class:`SettingsError` for the CLI to print.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import zoneinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from domain.audit import AuditKeys
    from domain.retention import RetentionPolicy


class SettingsError(Exception):
    """One line that names the setting and what is wrong with it."""


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    database_url: str = Field(
        "sqlite:///samverkan.db", validation_alias=_env("SAMVERKAN_DATABASE_URL")
    )
    slack_bot_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_SIGNING_SECRET")
    )
    slack_app_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_client_id: str | None = Field(None, validation_alias=_env("SLACK_CLIENT_ID"))
    slack_client_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_CLIENT_SECRET")
    )
    slack_api_url: str = Field(
        "https://slack.com/api/", validation_alias=_env("SAMVERKAN_SLACK_API_URL")
    )
    # 0: any free port (gunicorn logs the one it took: "Listening at: …")
    port: int = Field(3000, ge=0, le=65535, validation_alias=_env("SAMVERKAN_PORT"))
    host: str = Field("0.0.0.0", validation_alias=_env("SAMVERKAN_HOST"))
    timezone: str = Field("Europe/Stockholm", validation_alias=_env("SAMVERKAN_TIMEZONE"))
    language: Literal["sv", "en"] = Field("sv", validation_alias=_env("SAMVERKAN_LANGUAGE"))
    token_encryption_key: SecretStr | None = Field(
        None, validation_alias=_env("SAMVERKAN_TOKEN_ENCRYPTION_KEY")
    )
    # HMAC keys for the audit chain, kept outside the database: comma-separated, the first
    # signs, the others still verify (rotation). Required to serve real Slack.
    audit_keys: SecretStr | None = Field(None, validation_alias=_env("SAMVERKAN_AUDIT_KEYS"))
    # The background sealer (in the replica's due-work runner) that signs audit events into
    # their chain shortly after commit; turn it off only where another process seals.
    audit_sealer: bool = Field(True, validation_alias=_env("SAMVERKAN_AUDIT_SEALER"))
    # How long the sealer waits after a commit to gather a batch (milliseconds).
    audit_seal_delay_ms: int = Field(
        50, ge=0, le=60_000, validation_alias=_env("SAMVERKAN_AUDIT_SEAL_DELAY_MS")
    )
    # Request workers per replica (gunicorn gthread processes, each with web_threads threads).
    # One by default: on the 2-core box it served /samverkan hjälp as fast as two and audited
    # saves faster (bench/README.md), and a replica then idles under 200 MB (master, one
    # worker, the due-work runner). Scale out with replicas, or raise this on a bigger host.
    web_concurrency: int = Field(1, ge=1, le=64, validation_alias=_env("SAMVERKAN_WEB_CONCURRENCY"))
    web_threads: int = Field(8, ge=1, le=256, validation_alias=_env("SAMVERKAN_WEB_THREADS"))
    # The pause before retrying a Slack call that met a server or connection error (seconds,
    # doubled per attempt, plus up to twice as much at random): slack_sdk's own 0.5 by default
    # (handlers/app.py:RETRY_BACKOFF); the tests set it low. A 429 waits Slack's Retry-After.
    slack_retry_backoff: float = Field(
        0.5, ge=0, le=60, validation_alias=_env("SAMVERKAN_SLACK_RETRY_BACKOFF")
    )
    # How often the replica's due-work runner wakes up (agendas, reminders, the outbox), in
    # seconds; fractions allowed (the tests' real processes use a quarter of a second).
    scheduler_interval: float = Field(
        60, ge=0.1, le=3600, validation_alias=_env("SAMVERKAN_SCHEDULER_INTERVAL")
    )
    allow_test_clock: bool = Field(False, validation_alias=_env("SAMVERKAN_ALLOW_TEST_CLOCK"))
    test_clock: dt.datetime | None = Field(None, validation_alias=_env("SAMVERKAN_TEST_CLOCK"))
    # Test fault hook (only with the test flag): a marker file path; the first channel post
    # Slack answers kills the process before it is marked sent (handlers/gateway.py).
    test_crash_after_post: str | None = Field(
        None, validation_alias=_env("SAMVERKAN_TEST_CRASH_AFTER_POST")
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=_env("SAMVERKAN_LOG_LEVEL")
    )
    # Retention (gallring), in days, per data class: follow the municipality's own
    # gallringsbeslut. A forum may override them in its settings ({"retention": {...}}).
    retention_closed_cases_days: int = Field(
        1826, ge=1, le=36500, validation_alias=_env("SAMVERKAN_RETENTION_CLOSED_CASES_DAYS")
    )
    retention_consultations_days: int = Field(
        365, ge=1, le=36500, validation_alias=_env("SAMVERKAN_RETENTION_CONSULTATIONS_DAYS")
    )
    retention_ratings_days: int = Field(
        1096, ge=1, le=36500, validation_alias=_env("SAMVERKAN_RETENTION_RATINGS_DAYS")
    )
    retention_actions_days: int = Field(
        1096, ge=1, le=36500, validation_alias=_env("SAMVERKAN_RETENTION_ACTIONS_DAYS")
    )
    retention_deviations_days: int = Field(
        1096, ge=1, le=36500, validation_alias=_env("SAMVERKAN_RETENTION_DEVIATIONS_DAYS")
    )
    retention_meetings_days: int = Field(
        1096, ge=1, le=36500, validation_alias=_env("SAMVERKAN_RETENTION_MEETINGS_DAYS")
    )
    retention_audit_days: int = Field(
        1826, ge=1, le=36500, validation_alias=_env("SAMVERKAN_RETENTION_AUDIT_DAYS")
    )

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(
            ("sqlite:///", "postgresql://", "postgresql+psycopg://", "postgres://")
        ):
            raise ValueError("must be a sqlite:/// or postgresql:// URL (psycopg 3)")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (try Europe/Stockholm)") from None
        return value

    @field_validator("token_encryption_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from handlers.oauth_store import load_fernet

            try:
                load_fernet(value.get_secret_value())
            except ValueError:
                raise ValueError(
                    "must be Fernet keys (32 url-safe base64 bytes), comma-separated for rotation"
                ) from None
        return value

    @field_validator("audit_keys")
    @classmethod
    def _audit_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from domain.audit import AuditKeys

            AuditKeys.parse(value.get_secret_value())  # ValueError names the key's position
        return value

    @field_validator("test_clock")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must be an ISO instant with a UTC offset, e.g. 2026-12-03T07:00Z")
        return value

    # --- derived -----------------------------------------------------------------------
    @property
    def oauth_enabled(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def slack_is_local(self) -> bool:
        """The Web API is a stand-in on this machine (the sandbox, tests), not Slack."""
        from urllib.parse import urlsplit

        return urlsplit(self.slack_api_url).hostname in ("127.0.0.1", "localhost", "::1")

    def audit_keyring(self) -> AuditKeys:
        """The audit keys; the public development key when none is set (see
        :meth:`missing_audit_key`)."""
        from domain.audit import AuditKeys

        if self.audit_keys is None:
            return AuditKeys.development()
        return AuditKeys.parse(self.audit_keys.get_secret_value())

    def missing_audit_key(self) -> str | None:
        """Why ``serve`` may not start without SAMVERKAN_AUDIT_KEYS, or None: only a bot
        talking to a local stand-in (sandbox, tests) may sign with the development key."""
        if self.audit_keys is not None or self.slack_is_local:
            return None
        return (
            "SAMVERKAN_AUDIT_KEYS: required to serve Slack (the audit log is signed with it;"
            " make one with `samverkan audit new-key` and keep it outside the database)"
        )

    def retention_policy(self) -> RetentionPolicy:
        from domain.retention import RetentionPolicy

        return RetentionPolicy(
            closed_cases=self.retention_closed_cases_days,
            consultations=self.retention_consultations_days,
            ratings=self.retention_ratings_days,
            actions=self.retention_actions_days,
            deviations=self.retention_deviations_days,
            meetings=self.retention_meetings_days,
            audit_events=self.retention_audit_days,
        )

    def test_clock_problem(self) -> str | None:
        """Why a process that serves requests may not run with these clock settings.

        The test clock moves time (and with it retention) for everyone the process serves:
        it is only for a bot that listens on loopback and talks to a Slack stand-in.
        """
        if not self.allow_test_clock:
            if self.test_clock is not None:
                return "SAMVERKAN_TEST_CLOCK: refused without SAMVERKAN_ALLOW_TEST_CLOCK=1"
            return None
        if not _loopback(self.host):
            return (
                "SAMVERKAN_ALLOW_TEST_CLOCK: the test clock is only for a bot on loopback "
                f"(SAMVERKAN_HOST=127.0.0.1), not on {self.host}"
            )
        api_host = (urlsplit(self.slack_api_url).hostname or "").lower().rstrip(".")
        if any(api_host == d or api_host.endswith("." + d) for d in SLACK_API_DOMAINS):
            return (
                "SAMVERKAN_ALLOW_TEST_CLOCK: the test clock is only for a Slack stand-in "
                "(SAMVERKAN_SLACK_API_URL), never for Slack itself"
            )
        return None

    def check_consistency(self) -> None:
        if self.test_crash_after_post is not None and not self.allow_test_clock:
            raise SettingsError(
                "SAMVERKAN_TEST_CRASH_AFTER_POST: refused without SAMVERKAN_ALLOW_TEST_CLOCK=1"
            )
        if self.oauth_enabled and self.token_encryption_key is None:
            raise SettingsError(
                "SAMVERKAN_TOKEN_ENCRYPTION_KEY: required with SLACK_CLIENT_ID/SLACK_CLIENT_SECRET "
                "(tokens are encrypted at rest)"
            )
        if bool(self.slack_client_id) != bool(self.slack_client_secret):
            missing = "SLACK_CLIENT_SECRET" if self.slack_client_id else "SLACK_CLIENT_ID"
            raise SettingsError(f"{missing}: required together with the other OAuth setting")

    def missing_for_serve(self) -> list[str]:
        """Settings `samverkan serve` still needs, empty when it can start."""
        if self.slack_app_token is not None:
            return [] if (self.slack_bot_token or self.oauth_enabled) else ["SLACK_BOT_TOKEN"]
        missing = [] if self.slack_signing_secret else ["SLACK_SIGNING_SECRET"]
        if not (self.slack_bot_token or self.oauth_enabled):
            missing.append("SLACK_BOT_TOKEN (or SLACK_CLIENT_ID + SLACK_CLIENT_SECRET)")
        return missing


SLACK_API_DOMAINS = ("slack.com", "slack-gov.com")


def _loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


_FIELD_TO_ENV = {
    name: str(field.validation_alias.choices[0])  # type: ignore[union-attr]
    for name, field in Settings.model_fields.items()
}


def load_settings(**overrides: object) -> Settings:
    """Read and check settings; raise :class:`SettingsError` with one clear line."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except UnicodeDecodeError:
        raise SettingsError(".env: the file is not UTF-8 text") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = str(err["loc"][0]) if err["loc"] else ""
        name = _FIELD_TO_ENV.get(loc, loc.upper())
        msg = err["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{name}: {msg}") from None
    settings.check_consistency()
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
