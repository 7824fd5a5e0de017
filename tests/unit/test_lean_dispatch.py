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


def test_a_workspace_is_noted_under_an_organisation_only_from_a_pair_slack_gave_together() -> None:
    """bolt takes a request's workspace from ``view.app_installed_team_id`` when a modal was
    opened in another workspace (a Slack Connect channel) and its organisation from the
    user's: the two need not belong together (bolt's own note). Noting that pair would move
    the other workspace's scheduled messages to this organisation's token."""
    from handlers.app import remember_org_workspaces

    noted: list[tuple[str, str]] = []

    class Store:
        def remember_org_workspace(self, *, team_id: str, enterprise_id: str) -> None:
            noted.append((team_id, enterprise_id))

    def submission(**view: Any) -> BoltRequest:
        body = {
            "type": "view_submission",
            "enterprise": {"id": "E0002"},
            "is_enterprise_install": True,
            "team": {"id": "T0004"},
            "user": {"id": "U1", "team_id": "T0004"},
            "view": {"id": "V1", "state": {"values": {}}, **view},
        }
        return BoltRequest(body=body, mode="socket_mode")

    check = LeanMiddleware(remember_org_workspaces(Store()))
    resp = BoltResponse(status=200, body="")
    elsewhere = submission(app_installed_team_id="T0003")
    assert elsewhere.context.team_id == "T0003"  # bolt's reading
    assert check.process(req=elsewhere, resp=resp, next=lambda: resp) is resp
    assert noted == [], "T0003 noted under E0002 on a modal opened from there"
    # Slack names the workspace in every view; the user's own is noted.
    check.process(req=submission(app_installed_team_id="T0004"), resp=resp, next=lambda: resp)
    assert noted == [("T0004", "E0002")]


def test_a_workspace_forgotten_on_uninstall_is_noted_again_after_a_reinstall() -> None:
    """An uninstall deletes the workspace's row (slack_org_workspaces, in the process that
    got the event); a process that had noted it once for its whole life never noted it
    again after the organisation reinstalled: its scheduled work went without a token until
    the bot restarted. Now a process notes it again at most ten minutes later."""
    from handlers.app import ORG_WORKSPACE_RENOTE, remember_org_workspaces

    rows: set[tuple[str, str]] = set()

    class Store:
        def remember_org_workspace(self, *, team_id: str, enterprise_id: str) -> None:
            rows.add((team_id, enterprise_id))

    clock = [1000.0]
    check = LeanMiddleware(remember_org_workspaces(Store(), now=lambda: clock[0]))
    body = {
        "type": "block_actions",
        "enterprise": {"id": "E0001"},
        "is_enterprise_install": True,
        "team": {"id": "T0003"},
        "user": {"id": "U1", "team_id": "T0003"},
        "actions": [{"action_id": "a"}],
    }
    resp = BoltResponse(status=200, body="")

    def request() -> None:
        req = BoltRequest(body=body, mode="socket_mode")
        assert check.process(req=req, resp=resp, next=lambda: resp) is resp

    request()
    assert rows == {("T0003", "E0001")}
    rows.clear()  # uninstalled (another process got the event), then installed again
    clock[0] += 1.0
    request()
    assert rows == set(), "noted on every request"
    clock[0] += ORG_WORKSPACE_RENOTE
    request()
    assert rows == {("T0003", "E0001")}, "never noted again while the process lives"
