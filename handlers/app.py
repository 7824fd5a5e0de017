"""The one factory that builds the bolt ``App`` with every listener registered."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy import Engine

from handlers import actions, agenda, cases, commands, events, forum, privacy, ratings
from handlers.deps import Deps

log = logging.getLogger(__name__)

BOT_SCOPES = [
    "commands",
    "chat:write",
    "im:write",
    "users:read",
    "channels:read",
    "groups:read",
    "files:write",
    # The outbox looks for its own post after a crash (domain/scheduling.py).
    "channels:history",
    "groups:history",
    "im:history",
]


@dataclass(frozen=True)
class SlackConfig:
    signing_secret: str
    api_url: str
    bot_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    encryption_key: str | None = None
    engine: Engine | None = None  # for the OAuth stores
    # The ack listener runs in the request thread and its answer goes back at once; slow work
    # (Slack calls) runs in lazy listeners on the executor below. This avoids bolt's
    # hand-off to a small pool and its 10 ms polling for the ack.
    process_before_response: bool = True
    lazy_threads: int = 16


def retry_handlers() -> list[Any]:
    """slack_sdk retries only connection errors by default; also honour 429 and 5xx."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
    ]


def build_web_client(api_url: str, token: str | None = None) -> WebClient:
    return WebClient(token=token, base_url=api_url, timeout=10, retry_handlers=retry_handlers())


def client_factory(config: SlackConfig) -> Callable[[str | None], WebClient]:
    """A Web API client for a workspace, for work that no request started (scheduled)."""
    if config.bot_token or not (config.client_id and config.engine and config.encryption_key):
        client = build_web_client(config.api_url, config.bot_token)
        return lambda _team_id: client
    from handlers.oauth_store import EncryptedInstallationStore  # OAuth only: cryptography

    store = EncryptedInstallationStore(
        client_id=config.client_id, engine=config.engine, encryption_key=config.encryption_key
    )

    def for_team(team_id: str | None) -> WebClient:
        bot = store.find_bot(enterprise_id=None, team_id=team_id)
        return build_web_client(config.api_url, bot.bot_token if bot else None)

    return for_team


def build_app(config: SlackConfig, deps: Deps) -> App:
    client = build_web_client(config.api_url, config.bot_token)
    kwargs: dict[str, Any] = {
        "signing_secret": config.signing_secret,
        "client": client,
        "process_before_response": config.process_before_response,
        "listener_executor": ThreadPoolExecutor(
            max_workers=config.lazy_threads, thread_name_prefix="samverkan-lazy"
        ),
        # Verified lazily on the first request, so a Slack hiccup does not stop start-up.
        "token_verification_enabled": False,
        "url_verification_enabled": True,
    }
    if config.client_id and config.client_secret and not config.bot_token:
        if config.engine is None or not config.encryption_key:
            raise ValueError("OAuth needs the database engine and SAMVERKAN_TOKEN_ENCRYPTION_KEY")
        from handlers.oauth_store import EncryptedInstallationStore, build_state_store

        kwargs["oauth_settings"] = OAuthSettings(
            client_id=config.client_id,
            client_secret=config.client_secret,
            scopes=BOT_SCOPES,
            installation_store=EncryptedInstallationStore(
                client_id=config.client_id,
                engine=config.engine,
                encryption_key=config.encryption_key,
            ),
            state_store=build_state_store(config.engine),
            install_path="/slack/install",
            redirect_uri_path="/slack/oauth_redirect",
        )
    app = App(**kwargs)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled error in listener: %s", error.__class__.__name__, exc_info=error)

    if "oauth_settings" in kwargs:
        # Deletes a workspace's stored (encrypted) tokens when it uninstalls or revokes them.
        app.enable_token_revocation_listeners()
    else:

        @app.event("app_uninstalled")
        @app.event("tokens_revoked")
        def nothing_stored(ack: Any) -> None:
            ack()  # single workspace: the token lives in the settings, nothing to delete

    commands.register(app, deps)
    forum.register(app, deps)
    cases.register(app, deps)
    agenda.register(app, deps)
    events.register(app, deps)
    privacy.register(app, deps)
    ratings.register(app, deps)
    actions.register(app, deps)
    return app
