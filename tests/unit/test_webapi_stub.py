from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.signature import Clock, SignatureVerifier

from sandbox.webapi import SlackWebApiStub, validate_view
from tests.support.slack_driver import (
    SlackDriver,
    checkbox_values,
    plain_value,
    select_value,
    state_values,
)


@pytest.fixture(scope="module")
def _server() -> Iterator[SlackWebApiStub]:
    with SlackWebApiStub() as stub:
        yield stub


@pytest.fixture
def stub(_server: SlackWebApiStub) -> SlackWebApiStub:
    _server.reset()
    return _server


@pytest.fixture
def client(stub: SlackWebApiStub) -> WebClient:
    return WebClient(token="xoxb-test", base_url=stub.base_url)


def section(text: str = "hej") -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def modal(title: str = "Nytt ärende", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "new_case",
        "title": {"type": "plain_text", "text": title},
        "blocks": [section()],
        **extra,
    }


def test_base_url_and_auth_test(stub: SlackWebApiStub, client: WebClient) -> None:
    assert stub.base_url == f"http://127.0.0.1:{stub.port}/api/"
    resp = client.auth_test()
    assert (resp["team_id"], resp["user_id"], resp["bot_id"]) == ("T0001", "UBOT", "B0001")
    assert stub.last("auth.test").token == "xoxb-test"


def test_post_message_is_recorded_with_decoded_blocks(
    stub: SlackWebApiStub, client: WebClient
) -> None:
    blocks = [section("Möte på fredag"), {"type": "divider"}]
    first = client.chat_postMessage(channel="C0001", text="Möte", blocks=blocks)
    second = client.chat_postMessage(channel="C0001", text="igen")

    assert first["channel"] == "C0001"
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["blocks"] == blocks
    (call, _) = stub.calls_to("chat.postMessage")
    assert call.args["blocks"] == blocks
    assert call.args["text"] == "Möte"
    assert call.token == "xoxb-test"
    assert call.ok and not call.rejected
    assert stub.count("chat.postMessage") == 2


def test_form_encoded_blocks_are_decoded(stub: SlackWebApiStub, client: WebClient) -> None:
    client.api_call("chat.postMessage", data={"channel": "C1", "blocks": '[{"type": "divider"}]'})
    assert stub.last("chat.postMessage").args["blocks"] == [{"type": "divider"}]


def test_51_blocks_are_rejected(stub: SlackWebApiStub, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C0001", text="x", blocks=[section()] * 51)
    assert excinfo.value.response["error"] == "invalid_blocks"
    assert excinfo.value.response["errors"] == ["must be less than 51 items [json-pointer:/blocks]"]
    call = stub.last("chat.postMessage")
    assert call.rejected and call.error == "invalid_blocks"
    assert [v.method for v in stub.violations] == ["chat.postMessage"]
    with pytest.raises(AssertionError, match="must be less than 51 items"):
        stub.assert_no_violations()
    client.chat_postMessage(channel="C0001", text="x", blocks=[section()] * 50)


def test_modal_title_of_25_chars_is_rejected(stub: SlackWebApiStub, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id="t1", view=modal("x" * 25))
    assert excinfo.value.response["error"] == "invalid_arguments"
    assert (
        "must be less than 25 characters [json-pointer:/view/title/text]"
        in (excinfo.value.response["errors"])
    )
    assert stub.last("views.open").rejected

    opened = client.views_open(trigger_id="t2", view=modal("x" * 24))
    assert opened["view"]["id"] == "V0001"
    assert opened["view"]["callback_id"] == "new_case"


@pytest.mark.parametrize(
    ("view", "pointer"),
    [
        (modal(blocks=[section()] * 101), "/view/blocks"),
        (modal(private_metadata="x" * 3001), "/view/private_metadata"),
        (modal(submit={"type": "plain_text", "text": "x" * 25}), "/view/submit/text"),
        (modal(blocks=[section("x" * 3001)]), "/view/blocks/0/text/text"),
        (
            modal(blocks=[{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]),
            "/view/blocks/0/text/text",
        ),
        (
            modal(
                blocks=[
                    {
                        "type": "section",
                        "fields": [{"type": "mrkdwn", "text": "f"}] * 11,
                    }
                ]
            ),
            "/view/blocks/0/fields",
        ),
        (
            modal(
                submit={"type": "plain_text", "text": "Spara"},
                blocks=[
                    {
                        "type": "input",
                        "block_id": "b" * 256,
                        "label": {"type": "plain_text", "text": "Namn"},
                        "element": {
                            "type": "static_select",
                            "action_id": "a",
                            "options": [
                                {"text": {"type": "plain_text", "text": "x" * 76}, "value": "v"}
                            ],
                        },
                    }
                ],
            ),
            "/view/blocks/0/element/options/0/text/text",
        ),
        (
            modal(
                submit={"type": "plain_text", "text": "Spara"},
                blocks=[
                    {
                        "type": "input",
                        "label": {"type": "plain_text", "text": "Namn"},
                        "element": {
                            "type": "plain_text_input",
                            "action_id": "a",
                            "placeholder": {"type": "plain_text", "text": "x" * 151},
                        },
                    }
                ],
            ),
            "/view/blocks/0/element/placeholder/text",
        ),
    ],
)
def test_view_limits(view: dict[str, Any], pointer: str) -> None:
    assert any(error.endswith(f"[json-pointer:{pointer}]") for error in validate_view(view))


def test_too_many_select_options_and_missing_arguments(
    stub: SlackWebApiStub, client: WebClient
) -> None:
    options = [
        {"text": {"type": "plain_text", "text": f"o{i}"}, "value": str(i)} for i in range(101)
    ]
    select = {"type": "static_select", "action_id": "s", "options": options}
    with pytest.raises(SlackApiError):
        client.chat_postMessage(
            channel="C1", text="x", blocks=[{"type": "actions", "elements": [select]}]
        )
    with pytest.raises(SlackApiError) as excinfo, pytest.warns(UserWarning, match="`text`"):
        client.chat_postMessage(channel="C1")
    assert excinfo.value.response["error"] == "invalid_arguments"
    with pytest.raises(SlackApiError) as excinfo:
        client.api_call("chat.postMessage", json={"text": "no channel"})
    assert excinfo.value.response["error"] == "invalid_arguments"
    assert len(stub.violations) == 3


def test_rate_limit_is_retried(stub: SlackWebApiStub, client: WebClient) -> None:
    stub.fail_next("chat.postMessage", status=429, retry_after=0)
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C1", text="utan retry")
    assert excinfo.value.response.status_code == 429
    assert excinfo.value.response.headers["Retry-After"] == "0"
    assert excinfo.value.response["error"] == "ratelimited"

    stub.fail_next("chat.postMessage", status=429, retry_after=0)
    retrying = WebClient(
        token="xoxb-test",
        base_url=stub.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    resp = retrying.chat_postMessage(channel="C1", text="med retry")
    assert resp["ok"]
    calls = stub.calls_to("chat.postMessage")
    assert [(c.status, c.injected) for c in calls] == [(429, True), (429, True), (200, False)]
    assert stub.count("chat.postMessage", ok=True) == 1


def test_server_errors_are_retried(stub: SlackWebApiStub) -> None:
    stub.fail_next("users.info", status=500, times=2)
    retrying = WebClient(
        token="xoxb-test",
        base_url=stub.base_url,
        retry_handlers=[ServerErrorRetryHandler(max_retry_count=2)],
    )
    retrying.retry_handlers[0].interval_calculator.backoff_factor = 0.01  # type: ignore[attr-defined]
    assert retrying.users_info(user="U1")["ok"]
    assert [c.status for c in stub.calls_to("users.info")] == [500, 500, 200]


def test_api_error_injection(stub: SlackWebApiStub, client: WebClient) -> None:
    stub.fail_next("chat.postMessage", status=200, error="not_in_channel")
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C1", text="x")
    assert excinfo.value.response["error"] == "not_in_channel"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]


def test_wait_for_from_another_thread(stub: SlackWebApiStub, client: WebClient) -> None:
    def later() -> None:
        time.sleep(0.05)
        client.chat_postMessage(channel="C1", text="ett")
        client.chat_postMessage(channel="C1", text="två")

    thread = threading.Thread(target=later)
    thread.start()
    calls = stub.wait_for("chat.postMessage", count=2, timeout=5)
    thread.join()
    assert [c.args["text"] for c in calls] == ["ett", "två"]


def test_wait_for_timeout_lists_calls(stub: SlackWebApiStub, client: WebClient) -> None:
    client.auth_test()
    with pytest.raises(AssertionError, match=r"views\.open.*auth\.test x1"):
        stub.wait_for("views.open", timeout=0.05)


def test_users_info_locale(stub: SlackWebApiStub, client: WebClient) -> None:
    default = client.users_info(user="U1", include_locale=True)["user"]
    assert default["locale"] == "sv-SE"
    assert default["tz"] == "Europe/Stockholm"
    assert default["id"] == "U1" and default["name"] and default["real_name"]
    assert "locale" not in client.users_info(user="U1")["user"]

    stub.set_user("U2", locale="en-US", real_name="Alex Smith")
    user = client.users_info(user="U2", include_locale=True)["user"]
    assert (user["locale"], user["real_name"]) == ("en-US", "Alex Smith")


def test_conversations(stub: SlackWebApiStub, client: WebClient) -> None:
    stub.set_channel_members("C9", ["U1", "U2", "U3"])
    assert client.conversations_members(channel="C9")["members"] == ["U1", "U2", "U3"]
    pages = [p["members"] for p in client.conversations_members(channel="C9", limit=2)]
    assert pages == [["U1", "U2"], ["U3"]]
    assert client.conversations_open(users="U7")["channel"]["id"] == "DU7"
    assert client.conversations_info(channel="C9")["channel"]["num_members"] == 3


def test_files_upload_v2(stub: SlackWebApiStub, client: WebClient) -> None:
    resp = client.files_upload_v2(channel="C1", content="rad 1\nrad 2", filename="a.txt", title="A")
    assert resp["file"]["title"] == "A"
    assert stub.uploads[resp["file"]["id"]] == b"rad 1\nrad 2"
    assert stub.count("upload") == 1


def test_trigger_ids_are_single_use(stub: SlackWebApiStub, client: WebClient) -> None:
    client.views_open(trigger_id="t1", view=modal())
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id="t1", view=modal())
    assert excinfo.value.response["error"] == "trigger_exchanged"


def test_views_publish_keeps_home_view(stub: SlackWebApiStub, client: WebClient) -> None:
    home = {"type": "home", "blocks": [section()]}
    first = client.views_publish(user_id="U1", view=home)["view"]
    second = client.views_publish(user_id="U1", view=home)["view"]
    assert first["id"] == second["id"]
    assert stub.home_view("U1") == second


def test_missing_token_is_not_authed(stub: SlackWebApiStub) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        WebClient(base_url=stub.base_url).auth_test()
    assert excinfo.value.response["error"] == "not_authed"


class FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_driver_signature_verifies() -> None:
    now = 1_700_000_000.0
    driver = SlackDriver("http://127.0.0.1:9", "hemlighet", clock=lambda: now)
    body = "command=%2Fsamverkan&text=hej"
    headers = driver.signed_headers(body)
    verifier = SignatureVerifier("hemlighet", clock=FixedClock(now + 60))
    assert headers["X-Slack-Request-Timestamp"] == "1700000000"
    assert verifier.is_valid(
        body=body,
        timestamp=headers["X-Slack-Request-Timestamp"],
        signature=headers["X-Slack-Signature"],
    )
    assert not SignatureVerifier("fel").is_valid(
        body=body,
        timestamp=headers["X-Slack-Request-Timestamp"],
        signature=headers["X-Slack-Signature"],
    )
    fresh = SlackDriver("http://127.0.0.1:9", "hemlighet").signed_headers(body)
    assert SignatureVerifier("hemlighet").is_valid_request(body, fresh)
    # Stale: more than five minutes old.
    stale = driver.signed_headers(body, timestamp=int(now) - 301)
    assert not verifier.is_valid_request(body, stale)


def test_state_value_shapes() -> None:
    values = state_values(
        {
            ("title", "input"): plain_value("Ärende"),
            ("kind", "select"): select_value("bvc", "BVC"),
            ("flags", "boxes"): checkbox_values(["a"]),
        }
    )
    assert values["title"]["input"] == {"type": "plain_text_input", "value": "Ärende"}
    assert values["kind"]["select"]["selected_option"]["value"] == "bvc"
    assert values["flags"]["boxes"]["selected_options"][0]["value"] == "a"


def test_posts_faster_than_one_per_second_to_a_channel_get_429() -> None:
    with SlackWebApiStub(channel_post_interval=1.0) as limited:
        client = WebClient(token="xoxb-test", base_url=limited.base_url)
        client.chat_postMessage(channel="C1", text="first")
        client.chat_postMessage(channel="C2", text="another channel is not limited")
        with pytest.raises(SlackApiError) as exc:
            client.chat_postMessage(channel="C1", text="too soon")
        assert exc.value.response.status_code == 429
        assert exc.value.response.headers["Retry-After"] == "1"
        time.sleep(1.05)
        client.chat_postMessage(channel="C1", text="after a second")
        assert limited.count("chat.postMessage", ok=True) == 3
