"""Turn domain errors into friendly text in the user's language (never a stack trace)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from domain.errors import DatabaseUnavailable, DomainError, InputErrors
from domain.i18n import Locale, Translator, When
from handlers.blocks.common import escape
from handlers.slack_text import shown

log = logging.getLogger(__name__)


def error_text(t: Translator, exc: DomainError, *, mrkdwn: bool = False) -> str:
    """The error in the user's language. Its values (often what a user typed) lose their
    bidi controls and zero-width characters (:func:`handlers.slack_text.shown`). With
    ``mrkdwn`` they are escaped too, so a forum named ``<https://…|…>`` cannot become a
    link in a message."""
    params = {
        k: (escape(shown(v)) if mrkdwn else shown(v))
        if isinstance(v, str)
        else v.shown(t.locale)
        if isinstance(v, When)
        else v
        for k, v in exc.params.items()
    }
    count = params.pop("n", None)
    if exc.plural is not None and isinstance(count, int):
        return t.ngettext(exc.msgid, exc.plural, count, **params)
    if count is not None:
        params["n"] = count
    return t(exc.msgid, **params)


def failure_text(t: Translator, exc: BaseException) -> str:
    """What to tell a user when work after the ack failed (mrkdwn)."""
    if isinstance(exc, InputErrors) and exc.errors:  # off the modal: what each field says
        return "\n".join(failure_text(t, err) for err in exc.errors.values())
    if isinstance(exc, DomainError):
        return ":information_source: " + error_text(t, exc, mrkdwn=True)
    if isinstance(exc, SlackApiError):
        return ":warning: " + t(
            "Slack did not accept the request ({error}). Please try again.",
            error=escape(str(exc.response.get("error", "?"))),
        )
    return ":warning: " + t("Something went wrong. Please try again.")


@contextmanager
def database_errors(*, on_conflict: DomainError | None = None) -> Iterator[None]:
    """Report a database error as :class:`DatabaseUnavailable` ("try again") instead of a
    traceback; a unique-key clash the handler expects becomes ``on_conflict``. The error's
    text (which may repeat what the user typed) never reaches the log (see bot/logs.py)."""
    try:
        yield
    except IntegrityError as exc:
        if on_conflict is not None and _unique_violation(exc):
            raise on_conflict from None
        log.warning("database refused a write: %s", exc.__class__.__name__, exc_info=exc)
        raise DatabaseUnavailable() from exc
    except SQLAlchemyError as exc:
        log.warning("database error: %s", exc.__class__.__name__, exc_info=exc)
        raise DatabaseUnavailable() from exc


def _unique_violation(exc: IntegrityError) -> bool:
    """A clash on a unique key (another submission won a race), not another refusal."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    name = getattr(orig, "sqlite_errorname", "")
    return name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


def fallback_response(body: dict[str, Any], default_locale: Locale) -> BoltResponse:
    """The answer to a request whose listener failed unexpectedly (after the error is
    logged without content): a modal keeps everything typed and shows "try again" on its
    first input; a slash command gets an ephemeral "try again"; a button gets a plain ack
    (its listener tells the user where it can). Events get 500, so Slack retries them."""
    kind = body.get("type") if isinstance(body, dict) else None
    view = body.get("view") if isinstance(body, dict) else None
    if kind == "view_submission" and isinstance(view, dict):
        from handlers.metadata import ViewMeta

        raw = view.get("private_metadata")
        t = Translator(ViewMeta.load(raw if isinstance(raw, str) else None).locale)
        message = t("Something went wrong. Please try again.")
        inputs = [
            b.get("block_id")
            for b in view.get("blocks") or []
            if isinstance(b, dict) and b.get("type") == "input" and b.get("block_id")
        ]
        if inputs:
            return BoltResponse(
                status=200, body={"response_action": "errors", "errors": {inputs[0]: message}}
            )
        return BoltResponse(status=200, body="")
    if isinstance(body, dict) and body.get("command"):
        t = Translator(default_locale)
        return BoltResponse(
            status=200,
            body={"response_type": "ephemeral", "text": failure_text(t, RuntimeError())},
        )
    if kind in ("block_actions", "view_closed", "block_suggestion", "shortcut"):
        return BoltResponse(status=200, body="")
    return BoltResponse(status=500, body="")


def view_errors(
    t: Translator, exc: DomainError, block_ids: Sequence[str], *, version: int = 0
) -> dict[str, str]:
    """Map field errors to the modal's input blocks (``<field>.<version>`` or ``<field>``).

    An error without a field (or a field not in the modal) goes on the first input, so the
    user always sees it and everything they typed stays in the modal.
    """
    by_field = exc.errors if isinstance(exc, InputErrors) else {exc.field or "": exc}
    known = set(block_ids)
    result: dict[str, str] = {}
    for fld, err in by_field.items():
        candidates = [f"{fld}.{version}", fld]
        target = next((c for c in candidates if c in known), block_ids[0] if block_ids else fld)
        text = error_text(t, err)
        result[target] = f"{result[target]} {text}" if target in result else text
    return result
