"""Web API clients for the bot: the retry policy, and a client per workspace for work that no
request started. Apart from :mod:`handlers.app` so that the due-work runner, which builds no
bolt app, need not import the listener modules (issue 18: ~1.3 MB a runner)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter

if TYPE_CHECKING:
    from sqlalchemy import Engine


# The pause before retrying a Slack call that met a server or connection error: this many
# seconds, doubled per attempt, plus up to twice as much at random. 0.5 is slack_sdk's own
# (0.5 s and up to 1 s of jitter); SAMVERKAN_SLACK_RETRY_BACKOFF sets it (the tests use less).
# A 429 waits what Slack's Retry-After says, whatever this is.
RETRY_BACKOFF = 0.5


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
    retry_backoff: float = RETRY_BACKOFF


class ScaledJitter(Jitter):
    """Up to ``2 * backoff`` seconds at random (slack_sdk's RandomJitter: up to 1 s)."""

    def __init__(self, backoff: float) -> None:
        self.most = 2 * backoff

    def recalculate(self, duration: float) -> float:
        return duration + random.random() * self.most


def retry_handlers(backoff: float = RETRY_BACKOFF) -> list[Any]:
    """slack_sdk retries only connection errors by default; also honour 429 and 5xx."""
    pause = BackoffRetryIntervalCalculator(backoff_factor=backoff, jitter=ScaledJitter(backoff))
    return [
        ConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=pause),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2, interval_calculator=pause),
    ]


def build_web_client(
    api_url: str, token: str | None = None, *, retry_backoff: float = RETRY_BACKOFF
) -> WebClient:
    return WebClient(
        token=token, base_url=api_url, timeout=10, retry_handlers=retry_handlers(retry_backoff)
    )


def client_factory(config: SlackConfig) -> Callable[[str | None], WebClient]:
    """A Web API client for a workspace, for work that no request started (scheduled)."""
    if config.bot_token or not (config.client_id and config.engine and config.encryption_key):
        client = build_web_client(
            config.api_url, config.bot_token, retry_backoff=config.retry_backoff
        )
        return lambda _team_id: client

    # Only with OAuth: the store loads cryptography (~7 MB a process), which a replica with
    # one bot token never needs.
    from handlers.oauth_store import EncryptedInstallationStore

    store = EncryptedInstallationStore(
        client_id=config.client_id, engine=config.engine, encryption_key=config.encryption_key
    )

    def for_team(team_id: str | None) -> WebClient:
        bot = store.find_workspace_bot(team_id)  # its own install, or its organisation's
        return build_web_client(
            config.api_url, bot.bot_token if bot else None, retry_backoff=config.retry_backoff
        )

    return for_team
