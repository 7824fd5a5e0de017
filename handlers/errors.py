"""Turn domain errors into friendly text in the user's language (never a stack trace)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from domain.errors import DatabaseUnavailable, DomainError, InputErrors
from domain.i18n import Translator
from handlers.blocks.common import escape

log = logging.getLogger(__name__)


def error_text(t: Translator, exc: DomainError, *, mrkdwn: bool = False) -> str:
    """The error in the user's language. With ``mrkdwn`` the values (names users typed) are
    escaped, so a forum named ``<https://…|…>`` cannot become a link in a message."""
    params = {k: escape(v) if mrkdwn and isinstance(v, str) else v for k, v in exc.params.items()}
    count = params.pop("n", None)
    if exc.plural is not None and isinstance(count, int):
        return t.ngettext(exc.msgid, exc.plural, count, **params)
    if count is not None:
        params["n"] = count
    return t(exc.msgid, **params)


def failure_text(t: Translator, exc: BaseException) -> str:
    """What to tell a user when work after the ack failed (mrkdwn)."""
    if isinstance(exc, DomainError):
        return ":information_source: " + error_text(t, exc, mrkdwn=True)
    if isinstance(exc, SlackApiError):
        return ":warning: " + t(
            "Slack did not accept the request ({error}). Please try again.",
            error=escape(str(exc.response.get("error", "?"))),
        )
    return ":warning: " + t("Something went wrong. Please try again.")


@contextmanager
def database_errors() -> Iterator[None]:
    """Report a database outage as :class:`DatabaseUnavailable` instead of a traceback."""
    try:
        yield
    except IntegrityError:
        raise  # a conflict, not an outage: the domain or the handler says what clashed
    except SQLAlchemyError as exc:
        log.warning("database error: %s", exc.__class__.__name__, exc_info=exc)
        raise DatabaseUnavailable() from exc


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
