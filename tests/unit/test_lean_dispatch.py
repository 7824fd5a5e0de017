"""What bolt runs before a listener, made lean (handlers.app): a global middleware called with
only what it names, and Slack's signature checked once (by the web app), not twice."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import pytest
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from handlers.app import LeanMiddleware, VerifiedOnce
from handlers.http import SIGNED

SECRET = "lean-dispatch-secret"
BODY = "command=%2Fsamverkan&user_id=U1&team_id=T1&text=help"


def request(*, signature: str, context: dict[str, Any] | None = None) -> BoltRequest:
    stamp = str(int(time.time()))
    return BoltRequest(
        body=BODY,
        headers={"x-slack-request-timestamp": stamp, "x-slack-signature": signature},
        context=context,
    )


def signed(stamp: str) -> str:
    base = f"v0:{stamp}:{BODY}".encode()
    return "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()


def test_bolt_still_checks_a_signature_the_web_app_did_not() -> None:
    check, went_on = VerifiedOnce(SECRET), []
    resp = BoltResponse(status=200, body="")

    def on() -> BoltResponse:
        went_on.append(1)
        return resp

    refused = check.process(req=request(signature="v0=forged"), resp=resp, next=on)
    assert refused.status == 401 and went_on == []
    good = request(signature="")
    good.headers["x-slack-signature"] = [signed(good.headers["x-slack-request-timestamp"][0])]
    assert check.process(req=good, resp=resp, next=on) is resp and went_on == [1]
    # Marked by the web app after its own check (a forged signature never gets the mark).
    marked = request(signature="v0=forged", context={SIGNED: True})
    assert check.process(req=marked, resp=resp, next=on) is resp and went_on == [1, 1]
    # Nothing in a request's body or headers can set the mark.
    body_says = BoltRequest(
        body=f"{BODY}&{SIGNED}=True",
        headers={"x-slack-request-timestamp": str(int(time.time())), "x-slack-signature": "x"},
    )
    assert check.process(req=body_says, resp=resp, next=on).status == 401


def test_a_lean_middleware_gets_only_what_it_names() -> None:
    seen: list[tuple[Any, ...]] = []

    def both(context: Any, body: dict[str, Any], next: Any) -> Any:
        seen.append((context.team_id, body["user_id"]))
        return next()

    def only_next(next: Any) -> Any:
        seen.append(("next",))
        return next()

    resp = BoltResponse(status=200, body="")
    req = request(signature="")
    for func in (both, only_next):
        assert LeanMiddleware(func).process(req=req, resp=resp, next=lambda: resp) is resp
    assert seen == [("T1", "U1"), ("next",)]

    def wants_client(client: Any, next: Any) -> Any:
        return next()

    with pytest.raises(TypeError):
        LeanMiddleware(wants_client)
