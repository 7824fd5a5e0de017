"""The benchmark's own pieces work (no servers, no timing: speed is checked by the bench)."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import parse_qs

from bench._load import Signer, percentile, plain_ack, saved_notice
from bench._scenarios import BenchForum, help_scenario, view_scenario
from bench.bare_app import create_app

SECRET = "bench-smoke-secret"


def _post(app: Any, body: bytes, headers: dict[str, str]) -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "3100",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_TYPE": headers["Content-Type"],
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": headers["X-Slack-Request-Timestamp"],
        "HTTP_X_SLACK_SIGNATURE": headers["X-Slack-Signature"],
    }
    status: list[str] = []
    body_out = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    return status[0], body_out


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0


def test_plain_ack_check() -> None:
    assert plain_ack(200, b"") is None
    assert plain_ack(500, b"") is not None
    assert plain_ack(200, b'{"response_action":"errors"}') is not None


def test_bodies_are_slack_shaped() -> None:
    help_fields = parse_qs(help_scenario("T1", "http://127.0.0.1:9/response/").body(3).decode())
    assert help_fields["text"] == ["hjälp"]
    assert help_fields["response_url"][0].startswith("http://127.0.0.1:9/response/")

    scenario = view_scenario("T1", [BenchForum("C1", "BNK", forum_id=7)])
    payload = json.loads(parse_qs(scenario.body(42).decode())["payload"][0])
    view = payload["view"]
    assert view["callback_id"] == "forum_edit"
    assert json.loads(view["private_metadata"])["forum_id"] == 7
    assert view["state"]["values"]["name.0"]["value"]["value"] == "Bänkforum 42"
    assert {"code.0", "agencies.0", "rrule.0", "start.0", "end.0"} <= set(view["state"]["values"])


def test_bare_app_acks_signed_requests_and_refuses_bad_signatures() -> None:
    app = create_app(SECRET)  # no Slack URL: a fixed authorization, nothing leaves the process
    signer = Signer(SECRET)
    help_body = help_scenario("T1", "http://127.0.0.1:9/response/").body(1)
    view_body = view_scenario("T1", [BenchForum("C1", "BNK", forum_id=1)]).body(1)
    headers = signer.headers(help_body, "application/x-www-form-urlencoded")
    assert _post(app, help_body, headers) == ("200 OK", b"")
    # A save is answered as the bot answers it: the modal updated to a saved notice.
    headers = signer.headers(view_body, "application/x-www-form-urlencoded")
    status, answer = _post(app, view_body, headers)
    assert status == "200 OK" and saved_notice(200, answer) is None, answer
    forged = Signer("another-secret").headers(help_body, "application/x-www-form-urlencoded")
    assert _post(app, help_body, forged)[0].startswith("401")


def test_side_by_side_timing_takes_every_call_in_turn_with_no_call_always_first() -> None:
    from bench._common import timed_side_by_side

    order: list[str] = []
    latencies = timed_side_by_side([lambda: order.append("a"), lambda: order.append("b")], 3)
    assert order == ["a", "b", "b", "a", "a", "b"]
    assert [len(ms) for ms in latencies] == [3, 3]
