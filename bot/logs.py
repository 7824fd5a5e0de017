"""Logging that carries no content: no SQL parameters, no request bodies, no exception texts.

Whatever a user typed can reach an exception's text (PostgreSQL's "Failing row contains
(…)", ``int('…')``), a library's debug line (slack_sdk logs request and response bodies,
SQLAlchemy logs result rows, bolt logs the body it answers with) or a message argument.
So every log record made in the process is cleaned where it is created (a record factory),
before any handler formats it — gunicorn's, pytest's or ours:

* an exception is shown as its traceback frames (file, line, function, source line) and
  the exception *classes* only, chained causes included; its text is dropped;
* an exception passed as a message argument becomes its class name;
* lines of the libraries that see bodies (slack_bolt, slack_sdk, SQLAlchemy, APScheduler,
  urllib3, psycopg) are kept from WARNING up only, cut before the first detail, without
  arguments;
* uncaught exceptions in threads and the main thread go through the same logging.

Our own log lines name ids and class names only (see the calls in bot/ and handlers/).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

# Libraries that see request/response bodies, SQL and rows: WARNING and up, text cut.
QUIET = ("slack_bolt", "slack_sdk", "sqlalchemy", "apscheduler", "urllib3", "psycopg")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A library's message up to the first detail: "Failed to run an internal function (…)".
_DETAIL = re.compile(r"\s*[(\[{:=<'\"].*", re.DOTALL)
REDACTED = "[details withheld from the log]"

_installed = False
_lock = threading.Lock()


def _quiet(name: str) -> bool:
    base = name.split(":", 1)[0]  # bolt names loggers "<app name>:<class>"
    return any(base == q or base.startswith(q + ".") for q in QUIET)


def exception_text(
    exc_type: type[BaseException] | None,
    exc: BaseException | None,
    tb: TracebackType | None,
) -> str:
    """A traceback without the exception's text (frames and class names only)."""
    parts: list[str] = []
    seen: set[int] = set()
    chain: list[tuple[BaseException | None, type[BaseException] | None, TracebackType | None]]
    chain = [(exc, exc_type, tb)]
    current = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        nxt = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
        if nxt is None:
            break
        chain.append((nxt, type(nxt), nxt.__traceback__))
        current = nxt
    for index, (item, cls, frames) in enumerate(reversed(chain)):
        if index:
            parts.append("\nThe above led to the following exception:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_list(traceback.extract_tb(frames)))
        name = cls.__qualname__ if cls else type(item).__qualname__
        module = (cls or type(item)).__module__
        parts.append(f"{module}.{name}: {REDACTED}\n" if module != "builtins" else f"{name}\n")
    return "".join(parts).rstrip("\n")


def _safe_arg(value: Any) -> Any:
    if isinstance(value, BaseException):
        return value.__class__.__name__
    return value


def _clean(record: logging.LogRecord) -> logging.LogRecord:
    if _quiet(record.name):
        try:
            text = record.getMessage()
        except Exception:
            text = str(record.msg)
        record.msg = _DETAIL.sub("", text)[:200] or record.name
        record.args = None
    elif record.args:
        if isinstance(record.args, tuple):
            record.args = tuple(_safe_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _safe_arg(v) for k, v in record.args.items()}
    if record.exc_info and record.exc_info[0] is not None:
        exc_type, exc, tb = record.exc_info
        # Formatters use exc_text when it is set: every handler shows this version.
        record.exc_text = exception_text(exc_type, exc, tb)
    if record.stack_info:
        record.stack_info = None
    return record


def install() -> None:
    """Clean every record made from now on; quiet the libraries that see bodies."""
    global _installed
    with _lock:
        if not _installed:
            previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                return _clean(previous(*args, **kwargs))

            logging.setLogRecordFactory(factory)
            threading.excepthook = _thread_excepthook
            sys.excepthook = _excepthook
            _installed = True
    quiet_libraries()


def quiet_libraries() -> None:
    """WARNING for the libraries' loggers, also those they made with a level of their own
    (bolt copies the root level into its loggers when it builds an app)."""
    names = [*QUIET, *[n for n in logging.root.manager.loggerDict if _quiet(n.split(":")[0])]]
    for name in names:
        logger = logging.getLogger(name)
        if logger.level != logging.WARNING:  # setLevel clears every logger's cache
            logger.setLevel(logging.WARNING)


def configure(level: str | int = "INFO") -> None:
    """:func:`install`, plus one stderr handler on the root logger at ``level``."""
    install()
    root = logging.getLogger()
    if not any(getattr(h, "_samverkan", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._samverkan = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    logging.getLogger("samverkan").error(
        "uncaught exception in thread %s",
        args.thread.name if args.thread else "?",
        exc_info=(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback),
    )


def _excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    logging.getLogger("samverkan").critical("uncaught exception", exc_info=(exc_type, exc, tb))
