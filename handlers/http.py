"""Slack's HTTP requests into bolt, with the form body decoded once and fast.

bolt decodes an interactive payload (``payload=<url-encoded JSON>``, ~10 kB for a modal)
with ``urllib.parse.parse_qsl``, whose percent-decoding is a Python loop over every escape:
about 7 % of the bot's CPU per modal submission (profiled), and again for every lazy
listener (bolt re-parses the raw body to copy the request). Here the body is decoded by
``binascii.a2b_qp`` (C) after a textual ``%`` → ``=`` swap, which is the same decoding for
well-formed form data; anything unusual falls back to ``urllib``. bolt then gets the
parsed body and the raw one (its signature check reads the raw body).
"""

from __future__ import annotations

import binascii
import copy
import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_normalized_headers, extract_content_type
from slack_bolt.response import BoltResponse

_PERCENT_AS_QP = bytes.maketrans(b"%", b"=")  # a translation is faster than a replace


def unquote_form(text: str) -> str:
    """``urllib.parse.unquote_plus`` for form data, in C for the common case.

    Fast only for what a form encoder sends: ASCII, no ``=`` and no line breaks. Then
    ``a2b_qp`` turns each well-formed escape (three characters) into one byte; anything
    else (``%zz``, ``%%``, a ``%`` at the end) shrinks the text by less, and urllib decodes
    it. One count and two lengths tell which: a 19 kB modal submission passes here before
    every ack."""
    if "%" not in text and "+" not in text:
        return text
    if not text.isascii() or "=" in text or "\n" in text or "\r" in text or "%" in text[-2:]:
        return unquote_plus(text)
    data = text.encode("ascii")
    if b"+" in data:
        data = data.replace(b"+", b"%20")
    escapes = data.count(b"%")
    decoded = binascii.a2b_qp(data.translate(_PERCENT_AS_QP))
    if len(data) - len(decoded) != 2 * escapes:
        return unquote_plus(text)  # a malformed escape
    return decoded.decode("utf-8", "replace")


def decode_form(raw: str) -> dict[str, str]:
    """``dict(parse_qsl(raw, keep_blank_values=True))`` (the last value of a repeated name)."""
    result: dict[str, str] = {}
    for pair in raw.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        result[unquote_form(name)] = unquote_form(value)
    return result


def parse_body(raw: str, content_type: str | None) -> dict[str, Any]:
    """What bolt's ``parse_body`` returns, decoded as above, with every string stripped of
    the characters no one can type (:func:`without_untypeable`)."""
    if not raw:
        return {}
    if content_type == "application/json" or raw.startswith("{"):
        return dict(load_json(raw))
    # Not ASCII is not what a form encoder sends: then bolt's own way.
    params = decode_form(raw) if raw.isascii() else dict(parse_qsl(raw, keep_blank_values=True))
    if "payload" in raw:
        payload = params.get("payload")
        return dict(load_json(payload)) if payload is not None else {}
    return dict(without_untypeable(params))


# C0 control characters but tab and line breaks, and halves of UTF-16 surrogate pairs: nothing
# a person types (Slack's inputs never send them, a crafted request can, as JSON escapes or
# %00), and what they break is far from here: PostgreSQL refuses NUL in text ("the database
# is not answering", forever), neither database can store a lone surrogate, and XML (the
# xlsx and docx reports) cannot hold the rest. ``str.isprintable`` (C) passes over the common
# string first: the walk costs ~60 µs for a 10 kB modal submission.
_UNTYPEABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


# Where an untypeable character can hide in JSON text: only as an escape (``\b``, ``\f``,
# ``\u0000`` … ``\u001f``, half of a surrogate pair): a strict parser refuses them as they
# are, and the text was decoded as strict UTF-8 (``%ED%A0%80`` in a form decodes to U+FFFD).
# It starts with a backslash, so the search skips to each one in C (~3 µs for a 10 kB
# modal; the walk is ~70 µs). Harmless text matches too (an escaped backslash before
# "u0000", an emoji's pair): a match only means a walk.
_JSON_MAY_HOLD_UNTYPEABLE = re.compile(
    r"\\(?:[bf]|u(?:00[01][0-9a-fA-F]|[dD][89a-fA-F][0-9a-fA-F]{2}))"
)


def load_json(text: str) -> Any:
    """``json.loads(text)`` with every string in it stripped of untypeable characters:
    walked only when the text may hold one (one scan in C; the walk of a modal's thousands
    of strings is ~70 µs)."""
    document = json.loads(text)
    if _JSON_MAY_HOLD_UNTYPEABLE.search(text) is not None:
        without_untypeable(document)
    return document


def without_untypeable(body: Any) -> Any:
    """``body`` (a request's parsed body) with every string in it stripped of characters no
    one can type (see ``_UNTYPEABLE``): changed in place, and returned. Every text a user
    sends (a command, a modal's fields, a button's value, the private metadata) passes
    here once, before any listener reads it (``handlers.app.clean_body``)."""
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, str):
                if not value.isprintable() and _UNTYPEABLE.search(value):
                    body[key] = _UNTYPEABLE.sub("", value)
            elif isinstance(value, (dict, list)):
                without_untypeable(value)
    elif isinstance(body, list):
        for index, value in enumerate(body):
            if isinstance(value, str):
                if not value.isprintable() and _UNTYPEABLE.search(value):
                    body[index] = _UNTYPEABLE.sub("", value)
            elif isinstance(value, (dict, list)):
                without_untypeable(value)
    return body


CHECKED_BODY = "samverkan.checked_body"
"""WSGI environ key: ``(raw body, parsed body)`` of a request already decoded to check its
shape (``bot.web``, ``handlers.payload.checked_body``), which :class:`SlackHandler` takes
instead of decoding the body again (once: it is removed from the environ)."""


STRIPPED = "samverkan_stripped"
"""Bolt context key: the request's body was stripped of untypeable characters when it was
parsed (:func:`parse_body`), so ``handlers.app.clean_body`` need not walk it again."""


SIGNED = "samverkan_signed"
"""WSGI environ key and bolt context key: the web app checked this request's signature
(``bot.web``), so bolt's own check of it (``handlers.app.VerifiedOnce``) is skipped."""


class ParsedRequest(BoltRequest):
    """A bolt request (HTTP mode) built from a body decoded once by :func:`parse_body`."""

    def __init__(
        self,
        *,
        raw_body: str,
        query: Any,
        headers: Any,
        context: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        if body is None:
            body = parse_body(raw_body, extract_content_type(build_normalized_headers(headers)))
        # bolt takes a parsed body only in its Socket Mode shape; the mode and the raw body
        # (for the signature check) are set right after, as an HTTP request has them.
        super().__init__(
            body=body,
            query=query,
            headers=headers,
            context=context,
            mode="socket_mode",
        )
        self.raw_body = raw_body
        self.mode = "http"
        self.context[STRIPPED] = True  # parse_body stripped it

    def to_copyable(self) -> BoltRequest:
        """A copy for lazy listeners (bolt would decode the raw body again, slowly), its
        body stripped as the original's was (``handlers.app.clean_body``)."""
        headers = build_normalized_headers(self.headers)
        return _LazyCopy(
            raw_body=self.raw_body,
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
            body=parse_body(self.raw_body, extract_content_type(headers)),
        )


class _LazyCopy(ParsedRequest):
    """:meth:`ParsedRequest.to_copyable`'s copy, its body parsed anew, which bolt's deep copy
    of it (one per lazy listener) leaves as it is: copying it again cost as much as the
    parse, and a crafted document some hundreds of levels deep, which parses, ended there in
    a RecursionError (two frames a level), its traceback logged after the answer."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _LazyCopy:
        copied = copy.copy(self)
        for name, value in vars(self).items():
            if name != "body":
                setattr(copied, name, copy.deepcopy(value, memo))
        return copied


class SlackHandler(SlackRequestHandler):
    """bolt's WSGI adapter, dispatching :class:`ParsedRequest` s."""

    def __init__(self, app: App, path: str = "/slack/events") -> None:
        super().__init__(app, path)

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        raw_body = request.get_body()
        checked = request.environ.pop(CHECKED_BODY, None)
        signed = request.environ.pop(SIGNED, None) is True
        return self.app.dispatch(
            ParsedRequest(
                raw_body=raw_body,
                query=request.query_string,
                headers=request.get_headers(),
                context={SIGNED: True} if signed else None,
                # Decoded when the request was checked (bot.web), for this very body.
                body=checked[1] if checked is not None and checked[0] == raw_body else None,
            )
        )
