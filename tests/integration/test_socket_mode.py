"""Socket Mode: with SLACK_APP_TOKEN, `samverkan serve` connects over a WebSocket, acks the
envelope and answers the command — no public HTTP endpoint needed (one municipality)."""

from __future__ import annotations

import json
import queue
import threading
from pathlib import Path

import pytest
from websockets.sync.server import ServerConnection, serve

from sandbox.webapi import SlackWebApiStub
from tests.conftest import BOT_TOKEN
from tests.support.processes import drain, ended, start_samverkan, stop


@pytest.mark.slow
def test_socket_mode_acks_and_answers_a_command(
    database_url: str, slack: SlackWebApiStub, tmp_path: Path
) -> None:
    acks: queue.Queue[dict[str, object]] = queue.Queue()
    envelope = {
        "envelope_id": "env-1",
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {
            "token": "legacy",
            "team_id": "T0001",
            "team_domain": "samverkan-test",
            "channel_id": "C0001",
            "channel_name": "fossam",
            "user_id": "U1",
            "user_name": "u1",
            "command": "/samverkan",
            # A NUL no one can type: stripped in Socket Mode too (handlers.app.clean_body),
            # so the word is read as "hjälp".
            "text": "hjälp\x00",
            "api_app_id": "A0001",
            "response_url": slack.response_url("T0001/1/socket"),
            "trigger_id": "1.2.socket",
        },
    }

    def handler(ws: ServerConnection) -> None:
        ws.send(json.dumps({"type": "hello", "num_connections": 1}))
        ws.send(json.dumps(envelope))
        try:
            for raw in ws:
                acks.put(json.loads(raw))
        except Exception:
            return

    with serve(handler, "127.0.0.1", 0) as server:  # a port of its own choosing
        port = server.socket.getsockname()[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        slack.socket_mode_url = f"ws://127.0.0.1:{port}/link"
        settings = {
            "SAMVERKAN_DATABASE_URL": database_url,
            "SLACK_APP_TOKEN": "xapp-1-test",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SAMVERKAN_SLACK_API_URL": slack.base_url,
            "SAMVERKAN_PORT": "0",  # never called over HTTP here
            "SAMVERKAN_HOST": "127.0.0.1",
        }
        proc = start_samverkan("serve", settings, tmp_path)
        output = drain(proc)
        try:
            try:
                ack = acks.get(timeout=30)
            except queue.Empty:
                pytest.fail(f"samverkan serve did not ack the envelope{ended(proc, output)}")
            assert ack["envelope_id"] == "env-1"
            reply = slack.wait_for("response_url", timeout=15)[0]
            assert "Samverkan – vad jag kan göra" in json.dumps(reply.args, ensure_ascii=False)
            assert slack.calls_to("apps.connections.open")[0].token == "xapp-1-test"
        finally:
            stop(proc)
            server.shutdown()


def test_socket_mode_without_a_signing_secret_answers_no_http_request_as_slack(
    database_url: str, slack: SlackWebApiStub, caplog: pytest.LogCaptureFixture
) -> None:
    """Socket Mode needs no signing secret (serve starts without one), but the replica still
    serves HTTP (/healthz) and routed /slack/events to bolt, whose check then failed on the
    empty secret: every request anyone sent was an unhandled error, logged at ERROR with its
    traceback (an alert per request). Refused now (401), and nothing reaches a listener."""
    from wsgiref.simple_server import make_server

    from bot.settings import load_settings
    from bot.wiring import build_runtime
    from tests.conftest import _QuietHandler, _ThreadingWSGIServer
    from tests.support.servers import serve_in_thread
    from tests.support.slack_driver import SlackDriver

    settings = load_settings(
        database_url=database_url,
        slack_app_token="xapp-1-test",
        slack_bot_token=BOT_TOKEN,
        slack_api_url=slack.base_url,
    )
    assert settings.slack_signing_secret is None and settings.missing_for_serve() == []
    runtime = build_runtime(settings)
    server = make_server(
        "127.0.0.1", 0, runtime.web, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    serve_in_thread(server)
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        forger = SlackDriver(url, "forged", response_url_base=slack.response_url_base)
        answer = forger.command("hjälp", user="U1")
        assert answer.status == 401, answer.status
        home = forger.event({"type": "app_home_opened", "user": "U1", "channel": "DU1"})
        assert home.status == 401
    finally:
        server.shutdown()
        server.server_close()
        runtime.engine.dispose()
    assert not slack.calls_to("chat.postMessage") and not slack.calls_to("views.publish")
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
