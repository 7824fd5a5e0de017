"""The one factory that builds the bolt ``App`` with every listener registered."""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.listener.custom_listener import CustomListener
from slack_bolt.listener_matcher import ListenerMatcher
from slack_bolt.listener_matcher.builtins import BuiltinListenerMatcher
from slack_bolt.middleware import Middleware
from slack_bolt.middleware.request_verification import RequestVerification
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from handlers import (
    actions,
    agenda,
    cases,
    commands,
    corrections,
    criteria,
    deviations,
    events,
    feedback,
    forum,
    install_pages,
    minutes,
    privacy,
    ratings,
    review,
    steering,
    uninstalls,
)
from handlers.clients import RETRY_BACKOFF as RETRY_BACKOFF
from handlers.clients import ScaledJitter as ScaledJitter
from handlers.clients import SlackConfig as SlackConfig
from handlers.clients import build_web_client as build_web_client
from handlers.clients import client_factory as client_factory
from handlers.clients import retry_handlers as retry_handlers
from handlers.deps import Deps
from handlers.errors import fallback_response
from handlers.http import SIGNED, STRIPPED, without_untypeable
from handlers.listener import context_middleware
from handlers.payload import MALFORMED, Need, needs_problem, team_of

log = logging.getLogger(__name__)

# Modules whose listeners are module-level functions with a ``register(app)`` table.
LISTENER_MODULES = (feedback, criteria, review, steering, minutes, deviations)

BOT_SCOPES = [
    "commands",
    "chat:write",
    "im:write",
    "users:read",
    "channels:read",
    "groups:read",
    "files:write",
    # The outbox looks for its own post after a crash (domain/scheduling/delivery.py).
    "channels:history",
    "groups:history",
    "im:history",
]


# views.open/push need the request's trigger_id, which Slack honours for 3 seconds; the user
# is looking at the screen for views.update. Counted from when the request reached us (the
# trigger was made a little earlier), a retry of these calls must be over by then.
VIEW_CALLS = ("views.open", "views.push", "views.update")
TRIGGER_SECONDS = 2.5
# A view call that met a server or connection error is tried again after this pause (doubled
# per attempt) instead of slack_sdk's 0.5–1.5 s backoff, which would spend most of the trigger.
VIEW_RETRY_PAUSE = 0.25


def _is_view_call(url: str) -> bool:
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] in VIEW_CALLS


def _view_pause(state: RetryState, response: HttpResponse | None) -> float:
    """How long a view call waits before its next attempt: exactly Slack's Retry-After on a
    429 (no jitter: one user's click, not a fleet), else a short pause. Decided here, once,
    so the deadline check and the sleep agree."""
    if response is not None and response.status_code == 429:
        header = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"])
        try:
            return max(float(header[0]), 0.0)
        except (TypeError, ValueError, IndexError):
            return 1.0
    return VIEW_RETRY_PAUSE * (1 << state.current_attempt)


class TriggerDeadline(RetryHandler):
    """A retry handler that lets ``inner`` retry a ``views.*`` call only when the retry is
    over before ``deadline`` (``time.monotonic()``): past it the trigger has expired and the
    user has given up. A view call waits :func:`_view_pause`; other calls are retried exactly
    as ``inner`` decides."""

    def __init__(self, inner: RetryHandler, deadline: float) -> None:
        super().__init__(inner.max_retry_count, inner.interval_calculator)
        self.inner = inner
        self.deadline = deadline

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not self.inner.can_retry(state=state, request=request, response=response, error=error):
            return False
        if not _is_view_call(request.url):
            return True
        return time.monotonic() + _view_pause(state, response) < self.deadline

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if not _is_view_call(request.url):
            self.inner.prepare_for_next_attempt(
                state=state, request=request, response=response, error=error
            )
            return
        state.next_attempt_requested = True
        time.sleep(_view_pause(state, response))
        state.increment_current_attempt()


def clean_body(context: Any, body: dict[str, Any], next: Callable[[], Any]) -> Any:
    """Global middleware, before any listener reads the request: strip from every text in it
    the characters no one can type (``handlers.http.without_untypeable``: NUL, the other
    control characters, lone surrogates), so a crafted request with them is read as what
    the user saw, and no database or export refuses it later. An HTTP request's body was
    stripped as it was parsed (``handlers.http.parse_body``, also for the copies lazy
    listeners get); a Socket Mode request's is stripped here."""
    if not context.get(STRIPPED):
        without_untypeable(body)
    return next()


def bound_view_retries(context: Any, next: Callable[[], Any]) -> Any:
    """Global middleware: the request's own Web API client (bolt makes one per request and
    hands the same one to the lazy listeners) stops retrying ``views.*`` calls once the
    trigger that came with the request can no longer be used."""
    client = context.get("client")
    handlers = getattr(client, "retry_handlers", None)
    if handlers:
        deadline = time.monotonic() + TRIGGER_SECONDS
        client.retry_handlers = [
            h if isinstance(h, TriggerDeadline) else TriggerDeadline(h, deadline) for h in handlers
        ]
    return next()


class LeanMiddleware(Middleware):
    """A global middleware function that takes only ``context``, ``body`` and ``next``,
    called with them. As a plain function (bolt's CustomMiddleware) bolt would build every
    argument a middleware could take (logger, client, say, respond, …) for each request."""

    ARGS = ("context", "body", "next")

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.names = tuple(inspect.signature(func).parameters)
        if not set(self.names) <= set(self.ARGS):
            raise TypeError(f"{func.__name__} takes more than {self.ARGS}")

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        given = {"context": req.context, "body": req.body, "next": next}
        return self.func(**{name: given[name] for name in self.names})  # type: ignore[no-any-return]

    @property
    def name(self) -> str:
        return f"LeanMiddleware({self.func.__name__})"


class VerifiedOnce(RequestVerification):
    """bolt's check of Slack's signature, skipped for a request whose signature the web
    app already checked (``bot.web``, the same secret and scheme; it marks the request's
    context with ``handlers.http.SIGNED``, which nothing a request carries can set)."""

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        if req.context.get(SIGNED) is True:
            return next()
        return super().process(req=req, resp=resp, next=next)


ORG_WORKSPACE_RENOTE = 600.0  # seconds: a row deleted on uninstall comes back this soon


def remember_org_workspaces(
    store: Any, *, now: Callable[[], float] = time.monotonic
) -> Callable[..., Any]:
    """A middleware noting, once per process every ten minutes, each workspace that reaches
    the bot through its Enterprise Grid organisation's org-wide install: work no request
    started (the outbox, scheduled jobs) knows only the workspace and finds the token by it.
    Not once for the process's life: an uninstall deletes the rows (in whichever process
    gets the event), and after a reinstall the workspace's requests must note it again."""
    seen: dict[tuple[str, str], float] = {}

    def remember(context: Any, body: dict[str, Any], next: Callable[[], Any]) -> Any:
        team_id, enterprise_id = context.team_id, context.enterprise_id
        if context.is_enterprise_install and team_id and enterprise_id:
            # A modal opened in another workspace (Slack Connect): bolt takes the workspace
            # from the view and the organisation from the user, a pair that need not belong
            # together.
            view = body.get("view")
            installed_in = view.get("app_installed_team_id") if isinstance(view, dict) else None
            if installed_in is not None and installed_in != team_of(body):
                return next()
            at, noted = now(), seen.get((team_id, enterprise_id))
            if noted is None or at - noted >= ORG_WORKSPACE_RENOTE:
                store.remember_org_workspace(team_id=team_id, enterprise_id=enterprise_id)
                seen[(team_id, enterprise_id)] = at
        return next()

    return remember


def build_app(config: SlackConfig, deps: Deps) -> App:
    client = build_web_client(config.api_url, config.bot_token, retry_backoff=config.retry_backoff)
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
        # bolt's loggers, named under slack_bolt so bot/logs.py keeps them at WARNING and
        # without details (at DEBUG bolt logs the bodies it answers with).
        "name": "slack_bolt.App",
        "logger": logging.getLogger("slack_bolt.App"),
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
            # Straight on to Slack (bolt's page in between was English), and back to our
            # page, which says what to do next.
            install_page_rendering_enabled=False,
            callback_options=install_pages.callback_options(deps.default_locale),
        )
    app = App(**kwargs)
    app._middleware_list[:] = [
        VerifiedOnce(config.signing_secret) if type(m) is RequestVerification else m
        for m in app._middleware_list
    ]
    app.use(LeanMiddleware(clean_body))
    app.use(LeanMiddleware(bound_view_retries))

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        # The class and the frames only: bot/logs.py drops the error's text, which may
        # repeat what the user typed.
        log.error("unhandled error in listener: %s", error.__class__.__name__, exc_info=error)
        return fallback_response(body, deps.default_locale)

    if "oauth_settings" in kwargs:
        # Deletes the stored (encrypted) tokens Slack revoked: an organisation's, a
        # workspace's, a user's (not bolt's own listeners: they miss org-wide installs).
        store = kwargs["oauth_settings"].installation_store
        uninstalls.register(app, store)
        app.use(LeanMiddleware(remember_org_workspaces(store)))
    else:

        @app.event("app_uninstalled")
        @app.event("tokens_revoked")
        def nothing_stored(ack: Any) -> None:
            ack()  # single workspace: the token lives in the settings, nothing to delete

    # Module-level listeners take ``deps``, ``t`` … by name (see handlers/listener.py).
    app.middleware(LeanMiddleware(context_middleware(deps)))

    commands.register(app)
    forum.register(app)
    cases.register(app)
    agenda.register(app)
    events.register(app)
    privacy.register(app)
    ratings.register(app)
    actions.register(app)
    corrections.register(app)
    for module in LISTENER_MODULES:
        module.register(app)
    matching_by_body(app)
    refusing_shapes_not_needed(app)
    return app


class Needed(Middleware):
    """A listener's middleware: a request without what the listener ``needs`` (a button of
    a modal sent from a message, a menu without its option: Slack sends none such) is
    answered as bot.web answers any malformed request (400, one warning), before the
    listener or its ack runs; instead of a KeyError in the listener, logged with its
    traceback."""

    def __init__(self, needs: frozenset[Need]) -> None:
        self.needs = needs

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        problem = needs_problem(req.body, self.needs)
        if problem is None:
            return next()
        log.warning("refused a malformed Slack request (%s)", problem)
        return BoltResponse(status=400, body=dict(MALFORMED))

    @property
    def name(self) -> str:
        return f"Needed({sorted(self.needs)})"


def refusing_shapes_not_needed(app: App) -> None:
    """Give every listener whose functions (the ack, the lazy ones) name ``needs`` (see
    handlers/listener.py) the :class:`Needed` check of them."""
    for listener in app._listeners:
        if not isinstance(listener, CustomListener):
            continue
        functions = [listener.ack_function, *listener.lazy_functions]
        needs: frozenset[Need] = frozenset().union(
            *(getattr(f, "needs", frozenset()) for f in functions)
        )
        if needs:
            listener.middleware = [*listener.middleware, Needed(needs)]


class BodyMatcher(ListenerMatcher):
    """One of bolt's built-in matchers (a function of the request's ``body`` alone), called
    with the body. bolt itself builds every keyword argument a listener could take for each
    matcher it tries (~6 µs each), and a request is tried against the listeners in the order
    they were registered (107): the forum save's matched 24th, a late one's 100th."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func

    def matches(self, req: BoltRequest, resp: BoltResponse) -> bool:
        return bool(self.func(body=req.body))


def matching_by_body(app: App) -> None:
    """Give every listener :class:`BodyMatcher` s in place of bolt's built-in matchers that
    take only ``body`` (the same functions, the same answers); any other matcher is kept."""
    for listener in app._listeners:
        if isinstance(listener, CustomListener):
            listener.matchers = [
                BodyMatcher(m.func)
                if type(m) is BuiltinListenerMatcher and m.arg_names == ["body"]
                else m
                for m in listener.matchers
            ]
