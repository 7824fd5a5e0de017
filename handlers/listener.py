"""What every listener shares: the request context, filled once, and the one error path.

* :func:`context_middleware` is the one global middleware: it puts the composition root's
  ``deps`` (sessions, clock, settings) and the user's translator ``t`` into bolt's context.
* :func:`listener` wraps a module-level listener (an ack function or a lazy one). The
  listener names what it needs as parameters: bolt's own (``ack``, ``body``, ``client``,
  ``context``, ``respond``, ``view``, …) and ours (``deps``, ``sessions``, ``clock``, ``t``).
  Who and where come from bolt's ``context.team_id`` / ``user_id`` / ``channel_id``.
  A :class:`DomainError` it raises reaches the user on its ``surface`` (the modal's fields,
  the modal replaced by a notice, an ephemeral reply, a notice modal, a DM); anything else
  is logged once (class and frames, no text) and the user is told "try again" there.
  What it reads that only some requests of its kind carry (the modal its button is in, the
  message it answers on, the option chosen) it names in ``needs``
  (:data:`handlers.payload.Need`): bolt refuses a request without it as malformed
  (:func:`handlers.app.refusing_shapes_not_needed`) before the listener runs.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeVar

from slack_bolt.kwargs_injection.args import Args

from domain.errors import DatabaseUnavailable, DomainError, InputErrors
from domain.i18n import Locale, Translator, normalize_locale
from handlers import forms, outgoing
from handlers.blocks.forum import notice_modal, text_message
from handlers.deps import Deps
from handlers.errors import failure_text, view_errors
from handlers.payload import Need
from storage.db import transaction

log = logging.getLogger(__name__)

Surface = Literal[
    "modal",
    "modal_or_notice",
    "ephemeral",
    "replace",
    "open",
    "push",
    "notice",
    "update",
    "dm",
    "log",
]
F = TypeVar("F", bound=Callable[..., Any])


class UserTranslator(Translator):
    """The user's translator, looked up (``users.info``, cached) only when first used, so an
    ack that needs no text makes no Slack call. A modal's own locale (in its metadata)
    wins: the user saw the modal in it."""

    def __init__(self, resolve: Callable[[], Locale]) -> None:
        self._resolve = resolve
        self._locale: Locale | None = None

    @property
    def locale(self) -> Locale:
        if self._locale is None:
            self._locale = self._resolve()
        return self._locale

    @locale.setter
    def locale(self, value: Locale) -> None:
        self._locale = value

    def __deepcopy__(self, memo: dict[int, Any]) -> UserTranslator:
        # Bolt deep-copies the context for lazy listeners: share the lookup.
        return self


def view_locale(body: dict[str, Any]) -> Locale | None:
    """The locale a modal was built in (its private metadata's ``locale``), if any."""
    view = body.get("view") if isinstance(body, dict) else None
    raw = view.get("private_metadata") if isinstance(view, dict) else None
    if not isinstance(raw, str) or not raw.startswith("{"):
        return None
    try:
        meta = json.loads(raw)
    except ValueError:
        return None
    locale = meta.get("locale") if isinstance(meta, dict) else None
    return normalize_locale(locale, "sv") if isinstance(locale, str) else None


def context_middleware(deps: Deps) -> Callable[..., Any]:
    def put_context(context: Any, body: dict[str, Any], next: Callable[[], Any]) -> Any:
        context["deps"] = deps
        known = view_locale(body)
        client, team_id, user_id = context.get("client"), context.team_id, context.user_id

        def resolve() -> Locale:
            if known is not None:
                return known
            if not user_id:
                return deps.default_locale
            return deps.user_locale(client, team_id, user_id)

        context["t"] = UserTranslator(resolve)
        return next()

    return put_context


def quick_translator(context: Any, deps: Deps, *, stored: bool = False) -> Translator:
    """For a listener that opens a modal: no Slack call before views.open (its trigger
    lasts 3 s), so the locale this replica knows, else (``stored``: a press from a DM, which
    no list of ours looked up before) the one a replica stored (one short read), else the
    default; an error is told in the same one."""
    user_id = context.user_id or ""
    looked_up, known = deps.remembered(context.team_id, user_id)
    if stored and not looked_up and user_id:
        row = deps.stored_locales(context.team_id, [user_id]).get(user_id)
        known = row.locale if row is not None else None
    t = Translator(known or deps.default_locale)
    context["t"] = t
    return t


# Our names a listener may take, besides bolt's.
_OURS: dict[str, Callable[[Deps, Args], Any]] = {
    "deps": lambda deps, args: deps,
    "sessions": lambda deps, args: deps.sessions,
    "clock": lambda deps, args: deps.clock,
    "settings": lambda deps, args: deps,
}


def _kwargs(names: list[str], args: Args) -> dict[str, Any]:
    deps: Deps = args.context["deps"]
    found: dict[str, Any] = {}
    for name in names:
        if name in _OURS:
            found[name] = _OURS[name](deps, args)
        elif name in args.context and not hasattr(args, name):
            found[name] = args.context[name]
        else:
            found[name] = getattr(args, name, None)
    return found


def _translator(args: Args) -> Translator:
    t = args.context.get("t")
    return t if isinstance(t, Translator) else Translator("sv")


def _modal_version(body: dict[str, Any]) -> int:
    raw = (body.get("view") or {}).get("private_metadata")
    try:
        meta = json.loads(raw) if isinstance(raw, str) and raw.startswith("{") else {}
    except ValueError:
        meta = {}
    version = meta.get("version") if isinstance(meta, dict) else None
    return version if isinstance(version, int) else 0


def _surface(surface: Surface, args: Args, exc: Exception) -> None:
    t = _translator(args)
    body = args.body or {}
    # "modal_or_notice": what the user typed (and an unreachable database: a retry keeps what
    # they typed) on the fields; any other refusal replaces the modal with a notice.
    on_fields = isinstance(exc, (InputErrors, DatabaseUnavailable))
    if surface == "modal" or (surface == "modal_or_notice" and on_fields):
        assert isinstance(exc, DomainError)
        ids = forms.block_ids(body.get("view") or {})
        if ids:
            args.ack(
                response_action="errors",
                errors=view_errors(t, exc, ids, version=_modal_version(body)),
            )
            return
        # No input to show it on (Slack's submissions have the modal's; a crafted one not):
        # Slack refuses errors on blocks the view does not have, so the notice takes its place.
        surface = "modal_or_notice"
    text = failure_text(t, exc)
    view = body.get("view")
    in_modal = isinstance(view, dict) and view.get("type", "modal") == "modal"
    if surface in ("ephemeral", "replace") and not body.get("response_url"):
        # A button in a view (App Home's rows, a modal) has no response_url to answer on: the
        # notice is a modal instead (pushed over a modal; App Home can only open one).
        surface = "notice"
    if surface == "modal_or_notice":
        args.ack(response_action="update", view=notice_modal(t, text))
    elif surface == "ephemeral":
        args.respond(replace_original=False, response_type="ephemeral", text=text)
    elif surface == "replace":  # the message it replaces had blocks: so has the answer
        reply: dict[str, Any] = dict(text_message(text))
        args.respond(replace_original=True, response_type="ephemeral", **reply)
    elif surface == "open" or (surface == "notice" and not in_modal):
        args.client.views_open(trigger_id=body["trigger_id"], view=notice_modal(t, text))
    elif surface == "push" or (surface == "notice" and in_modal):
        args.client.views_push(trigger_id=body["trigger_id"], view=notice_modal(t, text))
    elif surface == "update":
        view_id = (body.get("view") or {}).get("id")
        args.client.views_update(view_id=view_id, view=notice_modal(t, text))
    elif surface == "dm":
        deps: Deps = args.context["deps"]
        user_id = args.context.user_id
        if user_id:
            with transaction(deps.sessions) as session:
                outgoing.tell(
                    session, deps.clock, team_id=args.context.team_id, user_id=user_id, text=text
                )
            outgoing.deliver_now(deps, args.client)


def needing(*needs: Need) -> Callable[[F], F]:
    """The ``needs`` of a listener without the shared error path (one whose failure must
    reach bolt: an event Slack should retry)."""

    def mark(func: F) -> F:
        func.needs = frozenset(needs)  # type: ignore[attr-defined]
        return func

    return mark


def listener(surface: Surface, *, needs: Iterable[Need] = ()) -> Callable[[F], F]:
    """Make ``func`` a bolt listener with the one error path (see the module's doc); it
    runs only for requests that have what it ``needs``."""

    def wrap(func: F) -> F:
        names = inspect.getfullargspec(func).args

        def run(args: Args) -> Any:
            try:
                return func(**_kwargs(names, args))
            except Exception as exc:
                expected = isinstance(exc, DomainError)
                if surface in ("modal", "modal_or_notice") and not expected:
                    raise  # the app's error handler logs it and keeps the modal open
                if not expected:
                    # The class and the frames only: bot/logs.py drops the error's text.
                    log.exception("listener %s failed: %s", func.__name__, type(exc).__name__)
                if surface == "log":
                    return None
                try:
                    _surface(surface, args, exc)
                except Exception as told:  # the user cannot be told; do not hide the cause
                    log.warning(
                        "listener %s could not report an error: %s",
                        func.__name__,
                        type(told).__name__,
                    )
                return None

        # Not functools.wraps: bolt reads the parameters of inspect.unwrap(listener), and
        # this one takes bolt's ``args`` and hands ``func`` what it names.
        run.__name__ = func.__name__
        run.__qualname__ = func.__qualname__
        run.__module__ = func.__module__
        run.__doc__ = func.__doc__
        run.listener = func  # type: ignore[attr-defined]
        run.needs = frozenset(needs)  # type: ignore[attr-defined]
        return run  # type: ignore[return-value]

    return wrap
