"""What the stand-in records (one call per request, the violations Slack would refuse, the
faults queued for the next calls) and the fixed ids of its workspace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TEAM_ID = "T0001"
TEAM_NAME = "Samverkan Test"
TEAM_DOMAIN = "samverkan-test"
APP_ID = "A0001"
BOT_ID = "B0001"
BOT_USER_ID = "UBOT"
INSTALLER_USER_ID = "UINSTALLER"  # the user whose OAuth install a user token belongs to
DEFAULT_LOCALE = "sv-SE"
DEFAULT_TZ = "Europe/Stockholm"

UPLOAD_METHOD = "upload"
"""Method name under which raw POSTs to an upload URL are recorded."""
RESPONSE_URL_METHOD = "response_url"
"""Method name under which POSTs to a ``response_url`` are recorded."""

# Arguments that slack_sdk (or a hand-rolled client) may send as JSON text inside form data.
JSON_FIELDS = frozenset(
    {"blocks", "view", "attachments", "files", "metadata", "user_auth_blocks", "outputs", "unfurls"}
)
# Methods that do not take a bearer token.
NO_AUTH_METHODS = frozenset({"oauth.v2.access", "oauth.access", "api.test", "openid.connect.token"})
MESSAGE_METHODS = frozenset(
    {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage"}
)
VIEW_METHODS = frozenset({"views.open", "views.update", "views.push", "views.publish"})


@dataclass
class Call:
    """One request received by the stub."""

    method: str
    args: dict[str, Any]
    """Request arguments (query, form or JSON), with JSON-text fields such as ``blocks``,
    ``view``, ``attachments`` and ``files`` already decoded."""
    token: str | None
    at: float
    """``time.time()`` when the request arrived."""
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    """The ``error`` of an ``ok: false`` answer (validation, auth or injected fault)."""
    errors: list[str] = field(default_factory=list)
    """Block Kit / argument violations, Slack style (``... [json-pointer:/blocks/0/text]``)."""
    rejected: bool = False
    """True when the stub refused the call as Slack would (invalid blocks/arguments, auth)."""
    injected: bool = False
    """True when the answer was a fault queued with :meth:`SlackWebApiStub.fail_next`."""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Violation:
    """A call Slack would have refused."""

    method: str
    error: str
    messages: tuple[str, ...]
    call: Call = field(repr=False, compare=False)

    def __str__(self) -> str:
        detail = "; ".join(self.messages) if self.messages else "-"
        return f"{self.method}: {self.error}: {detail}"


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    error: str
    remaining: int
