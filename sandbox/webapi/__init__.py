"""A local stand-in for Slack's Web API.

Point ``slack_sdk.WebClient(base_url=stub.base_url)`` at it and every call is recorded, checked
against Slack's Block Kit limits and answered with a plausible ``{"ok": true, ...}`` response.

This package only speaks HTTP: it must not import anything from the project's own packages.
Its parts: ``calls`` (what is recorded, the workspace's fixed ids), ``validator`` (Block Kit
checks), ``emulation`` (the Web API methods over an in-memory workspace; ``shapes``: the
Slack objects it answers with), ``stub``
(:class:`SlackWebApiStub`: serving, recording, faults, waiting) and ``server`` (HTTP).

Besides ``/api/<method>`` it serves two more paths:

* ``/upload/<file_id>`` -- the upload URL handed out by ``files.getUploadURLExternal``; the raw
  bytes are kept in :attr:`SlackWebApiStub.uploads` and the call is recorded as method
  ``"upload"``.
* ``/response/<anything>`` -- usable as a ``response_url`` (see
  :meth:`SlackWebApiStub.response_url`); the JSON body is recorded as method ``"response_url"``.

Run standalone with ``python -m sandbox.webapi --port 8765``.
"""

from __future__ import annotations

from sandbox.webapi.calls import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    RESPONSE_URL_METHOD,
    TEAM_DOMAIN,
    TEAM_ID,
    UPLOAD_METHOD,
    Call,
    Violation,
)
from sandbox.webapi.server import main
from sandbox.webapi.stub import SlackWebApiStub
from sandbox.webapi.validator import validate_message, validate_view

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "RESPONSE_URL_METHOD",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "UPLOAD_METHOD",
    "Call",
    "SlackWebApiStub",
    "Violation",
    "main",
    "validate_message",
    "validate_view",
]
