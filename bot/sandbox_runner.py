"""``samverkan sandbox``: the bot on SQLite against a local stand-in for Slack's Web API.

The stand-in (``sandbox.webapi``) only speaks HTTP to the bot, exactly as Slack does.
"""

from __future__ import annotations

import secrets

from bot.settings import Settings


def run_sandbox(settings: Settings) -> int:
    from pydantic import SecretStr

    from bot.cli import _check_schema
    from bot.server import serve
    from sandbox.webapi import SlackWebApiStub

    stub = SlackWebApiStub(port=settings.port + 1)
    stub.start()
    secret = secrets.token_hex(16)
    local = settings.model_copy(
        update={
            "slack_api_url": stub.base_url,
            "slack_bot_token": SecretStr("xoxb-sandbox"),
            "slack_signing_secret": SecretStr(secret),
            "slack_app_token": None,
            "slack_client_id": None,
            "slack_client_secret": None,
            "host": "127.0.0.1",
        }
    )
    problem = _check_schema(local)
    if problem:
        print(f"samverkan: {problem}")
        return 2
    print(
        f"Samverkan sandbox: bot on http://127.0.0.1:{local.port}/slack/events, "
        f"Slack stand-in on {stub.base_url} (signing secret {secret}).",
        flush=True,
    )
    try:
        serve(local)
    finally:
        stub.stop()
    return 0
