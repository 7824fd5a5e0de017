"""The suite-wide privacy scan finds a case detail in a channel post, and only there."""

from __future__ import annotations

from sandbox.webapi import Call
from tests.support.privacy_scan import channel_leaks

SECRET = "Hemlig sammanfattning om oro & skolfrånvaro"


def call(method: str, **args: object) -> Call:
    return Call(method=method, args=dict(args), token=None, at=0.0)


def test_a_detail_in_a_channel_post_is_found_even_escaped_inside_blocks() -> None:
    escaped = SECRET.replace("&", "&amp;")
    leaks = channel_leaks(
        [
            call(
                "chat.postMessage",
                channel="C0001",
                text="Nytt ärende",
                blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": escaped}}],
            ),
            call("files.completeUploadExternal", channel_id="C0001", initial_comment=SECRET),
            call("response_url", response_type="in_channel", text=SECRET),
        ],
        {SECRET},
    )
    assert len(leaks) == 3


def test_direct_messages_ephemeral_answers_and_modals_are_not_channel_posts() -> None:
    calls = [
        call("chat.postMessage", channel="U0002", text=SECRET),
        call("chat.postMessage", channel="D0002", text=SECRET),
        call("chat.postEphemeral", channel="C0001", user="U2", text=SECRET),
        call("views.open", view={"blocks": [{"text": SECRET}]}),
        call("response_url", response_type="ephemeral", text=SECRET),
        call("chat.postMessage", channel="C0001", text="FOS-2026-001"),
    ]
    assert channel_leaks(calls, {SECRET}) == []
