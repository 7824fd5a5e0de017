"""The baseline for ``bench.ack_latency``: a bolt app that only acks.

Same bolt version, same signing secret check, same WSGI adapter and the same gunicorn set-up as
``samverkan serve`` (gthread workers, threads per worker, keep-alive), but the listeners for
``/samverkan`` and the ``forum_edit`` view do nothing except ``ack()`` (the view's with a
saved notice, as the bot answers a save). The difference between
this app and the bot is what the bot's own code costs on the way to the ack.

Run it as ``gunicorn bench.bare_app:app`` (secret from ``BENCH_SIGNING_SECRET``, Web API
stand-in from ``BENCH_SLACK_API_URL``) or, with the bot's exact gunicorn options, as::

    python -m bench.bare_app --port 3100 --workers 2 --threads 8 --slack-api-url URL

Like the bot, bolt calls ``auth.test`` once per worker on that URL. Without a URL a fixed
authorization result is used, so nothing ever leaves the process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot.server import apply_options, gunicorn_options

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

SIGNING_SECRET_ENV = "BENCH_SIGNING_SECRET"
SLACK_API_URL_ENV = "BENCH_SLACK_API_URL"
DUMMY_TOKEN = "xoxb-bench-dummy"
DEFAULT_SIGNING_SECRET = "bench-signing-secret"
COMMAND = "/samverkan"
VIEW_CALLBACK_ID = "forum_edit"
CASE_OPEN_ACTION = "case_open"


# The bot's saved notice has the same shape: a title, a close button and one line of text.
SAVED_NOTICE: dict[str, Any] = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Forumets inställningar"},
    "close": {"type": "plain_text", "text": "Stäng"},
    "blocks": [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "Sparat. Inställningarna för forumet är uppdaterade.",
            },
        }
    ],
}


def build_bolt_app(signing_secret: str, slack_api_url: str | None = None) -> App:
    """``slack_api_url``: where bolt's one ``auth.test`` goes (the bot does the same once per
    worker); without it, a fixed authorization result is used and nothing leaves the process.
    """
    kwargs: dict[str, Any] = {}
    if slack_api_url:
        kwargs["client"] = WebClient(token=DUMMY_TOKEN, base_url=slack_api_url, timeout=10)
    else:

        def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
            return AuthorizeResult(
                enterprise_id=enterprise_id,
                team_id=team_id,
                bot_token=DUMMY_TOKEN,
                bot_id="B0001",
                bot_user_id="UBOT",
            )

        kwargs["authorize"] = authorize
    # Configured like the bot (handlers/app.py): the ack listener runs in the request thread
    # and its answer goes back at once. bolt's default (False) hands it to a small pool and
    # polls for the ack every 10 ms: the old baseline was 1.7-2.2x slower than the bot's way.
    bolt = App(
        signing_secret=signing_secret,
        token_verification_enabled=False,
        process_before_response=True,
        **kwargs,
    )

    @bolt.command(COMMAND)
    def ack_command(ack: Ack) -> None:
        ack()

    @bolt.view(VIEW_CALLBACK_ID)
    def ack_view(ack: Ack) -> None:
        # As the bot's save answers: the modal updated to say it was saved.
        ack(response_action="update", view=SAVED_NOTICE)

    @bolt.action(CASE_OPEN_ACTION)
    def ack_action(ack: Ack) -> None:
        ack()

    return bolt


def create_app(signing_secret: str, slack_api_url: str | None = None) -> WSGIApplication:
    """WSGI: ``/slack/events`` goes to bolt; ``GET /healthz`` answers 200 (for start-up)."""
    slack = SlackRequestHandler(build_bolt_app(signing_secret, slack_api_url))
    health = json.dumps({"status": "ok"}).encode()

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(health)))],
            )
            return [health]
        return slack(environ, start_response)

    return wsgi


class _LazyApp:
    """``gunicorn bench.bare_app:app``: the bolt app is built on first use, in the worker."""

    def __init__(self, factory: Callable[[], WSGIApplication]) -> None:
        self._factory = factory
        self._app: WSGIApplication | None = None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self._app is None:
            self._app = self._factory()
        return self._app(environ, start_response)


app = _LazyApp(lambda: create_app(os.environ.get(SIGNING_SECRET_ENV, DEFAULT_SIGNING_SECRET)))


class BareServer(BaseApplication):  # type: ignore[misc]
    """The gunicorn options of ``bot.server.Server``, serving the bare app."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        workers: int,
        threads: int,
        signing_secret: str,
        slack_api_url: str | None,
    ) -> None:
        self.options = gunicorn_options(
            bind=f"{host}:{port}",
            workers=workers,
            threads=threads,
            log_level="warning",
            proc_name="samverkan-bench-bare",
        )
        self.signing_secret = signing_secret
        self.slack_api_url = slack_api_url
        super().__init__()

    def load_config(self) -> None:
        apply_options(self.cfg, self.options)

    def load(self) -> WSGIApplication:
        # Runs in each worker after the fork, like the bot.
        return create_app(self.signing_secret, self.slack_api_url)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bare_app", description="A bolt app that only acks (baseline)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--slack-api-url",
        default=os.environ.get(SLACK_API_URL_ENV),
        help="Web API base URL for bolt's auth.test (a local stand-in); default: no calls",
    )
    ns = parser.parse_args(argv)
    BareServer(
        host=ns.host,
        port=ns.port,
        workers=ns.workers,
        threads=ns.threads,
        signing_secret=os.environ.get(SIGNING_SECRET_ENV, DEFAULT_SIGNING_SECRET),
        slack_api_url=ns.slack_api_url,
    ).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
