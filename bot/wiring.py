"""Composition root: settings → engine, clock, deps → bolt app → WSGI app."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot import logs
from bot.settings import Settings, SettingsError
from domain import audit, privacy_wall
from domain.clock import AdjustableClock, Clock, SystemClock
from handlers.clients import SlackConfig, client_factory
from handlers.deps import Deps
from storage.db import create_db_engine, session_factory

if TYPE_CHECKING:
    # Imported where the bolt app is built (build_runtime): the due-work runner builds none,
    # and the listener modules handlers.app imports are ~1.3 MB it does not need.
    from slack_bolt import App

    from bot.web import WebApp


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    clock: Clock
    deps: Deps
    app: App
    web: WebApp
    client_for_team: Callable[[str | None], WebClient]


@dataclass
class DueWorkRuntime:
    """What the due-work runner's scheduler and sealer use (:mod:`bot.runner`): a
    :class:`Runtime` without the bolt app and the web app (no requests come to it)."""

    settings: Settings
    engine: Engine
    clock: Clock
    deps: Deps
    client_for_team: Callable[[str | None], WebClient]


def build_clock(settings: Settings) -> Clock:
    if settings.allow_test_clock:
        # Starts at SAMVERKAN_TEST_CLOCK (or now) and runs at normal speed.
        return AdjustableClock(settings.test_clock or SystemClock().now())
    # SAMVERKAN_TEST_CLOCK without the flag is ignored here (serve refuses to start with it).
    return SystemClock()


_warned_development_key = False


def use_audit_keys(settings: Settings) -> None:
    """Sign and verify the audit chain with SAMVERKAN_AUDIT_KEYS (or, where allowed, the
    public development key, with one warning per process)."""
    global _warned_development_key
    audit.use_keys(settings.audit_keyring())
    if settings.audit_keys is None and not _warned_development_key:
        _warned_development_key = True
        logging.getLogger(__name__).warning(
            "SAMVERKAN_AUDIT_KEYS is not set: the audit log is signed with the public"
            " development key (fine for the sandbox and tests, never for real data)"
        )


def _parts(
    settings: Settings, *, signing_secret: str | None, clock: Clock | None
) -> tuple[Engine, Clock, Deps, SlackConfig, Callable[[str | None], WebClient]]:
    """The engine, the clock, the dependencies (with the Web API clients) and the Slack
    configuration: what the request worker and the due-work runner build alike."""
    logs.configure(settings.log_level)
    problem = settings.test_clock_problem()
    if problem:
        raise SettingsError(problem)
    use_audit_keys(settings)
    engine = create_db_engine(settings.database_url, pool_size=max(5, settings.web_threads))
    clock = clock or build_clock(settings)
    sessions = session_factory(engine)
    privacy_wall.install()  # the guard at the storage edge (installed on import already)
    privacy_wall.bind_clock(sessions, clock)
    deps = Deps(
        sessions=sessions,
        clock=clock,
        default_locale=settings.language,
        timezone=settings.timezone,
        retention_policy=settings.retention_policy(),
    )
    secret = signing_secret or (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    config = SlackConfig(
        signing_secret=secret,
        api_url=settings.slack_api_url,
        bot_token=settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None,
        client_id=settings.slack_client_id,
        client_secret=(
            settings.slack_client_secret.get_secret_value()
            if settings.slack_client_secret
            else None
        ),
        encryption_key=(
            settings.token_encryption_key.get_secret_value()
            if settings.token_encryption_key
            else None
        ),
        engine=engine,
        retry_backoff=settings.slack_retry_backoff,
    )
    client_for_team = client_factory(config)
    deps.client_for_team = client_for_team
    return engine, clock, deps, config, client_for_team


def build_due_work_runtime(settings: Settings) -> DueWorkRuntime:
    """The due-work runner's runtime: as :func:`build_runtime`'s, without the bolt app."""
    engine, clock, deps, _config, client_for_team = _parts(
        settings, signing_secret=None, clock=None
    )
    logs.quiet_libraries()
    return DueWorkRuntime(settings, engine, clock, deps, client_for_team)


def build_runtime(
    settings: Settings, *, signing_secret: str | None = None, clock: Clock | None = None
) -> Runtime:
    from bot.web import WebApp
    from handlers.app import build_app

    engine, clock, deps, config, client_for_team = _parts(
        settings, signing_secret=signing_secret, clock=clock
    )
    secret = config.signing_secret
    app = build_app(config, deps)
    logs.quiet_libraries()  # bolt made loggers with the root's level
    # The route exists only with the flag, whatever clock a caller injected.
    test_clock = clock if settings.allow_test_clock and isinstance(clock, AdjustableClock) else None
    web = WebApp(app, engine, signing_secret=secret, test_clock=test_clock, sessions=deps.sessions)
    return Runtime(settings, engine, clock, deps, app, web, client_for_team)
