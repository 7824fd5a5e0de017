"""Settings from environment variables and ``.env`` (pydantic-settings).

Names are a contract (see ARCHITECTURE.md). A bad value stops start-up with one clear line
naming the setting; :func:`load_settings` raises :class:`SettingsError` for the CLI to print.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
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
    port: int = Field(3000, ge=1, le=65535, validation_alias=_env("SAMVERKAN_PORT"))
    host: str = Field("0.0.0.0", validation_alias=_env("SAMVERKAN_HOST"))
    timezone: str = Field("Europe/Stockholm", validation_alias=_env("SAMVERKAN_TIMEZONE"))
    language: Literal["sv", "en"] = Field("sv", validation_alias=_env("SAMVERKAN_LANGUAGE"))
    token_encryption_key: SecretStr | None = Field(
        None, validation_alias=_env("SAMVERKAN_TOKEN_ENCRYPTION_KEY")
    )
    web_concurrency: int = Field(2, ge=1, le=64, validation_alias=_env("SAMVERKAN_WEB_CONCURRENCY"))
    web_threads: int = Field(8, ge=1, le=256, validation_alias=_env("SAMVERKAN_WEB_THREADS"))
    # How often each worker wakes up to do due work (agendas, reminders, the outbox).
    scheduler_interval: int = Field(
        60, ge=1, le=3600, validation_alias=_env("SAMVERKAN_SCHEDULER_INTERVAL")
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

    def retention_policy(self) -> RetentionPolicy:
        from domain.retention import RetentionPolicy

        return RetentionPolicy(
            closed_cases=self.retention_closed_cases_days,
            consultations=self.retention_consultations_days,
            ratings=self.retention_ratings_days,
            actions=self.retention_actions_days,
            deviations=self.retention_deviations_days,
            audit_events=self.retention_audit_days,
        )

    def check_consistency(self) -> None:
        if self.test_clock is not None and not self.allow_test_clock:
            raise SettingsError(
                "SAMVERKAN_TEST_CLOCK: refused without SAMVERKAN_ALLOW_TEST_CLOCK=1"
            )
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
