"""bench.agenda_burst's machine floor sends each post it is given once, to a fresh rate-limited
stand-in, keeping a channel's posts a second apart as the stand-in demands (so nothing is
answered 429); its speed is the bench's job."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench._floor import CHANNEL_INTERVAL, machine_floor

pytestmark = pytest.mark.slow  # the stand-in and the posters are processes


def _post(channel: str, text: str, **extra: str) -> dict[str, object]:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    return {"channel": channel, "text": text, "blocks": blocks, **extra}


def test_the_floor_sends_every_post_once_and_a_reply_a_second_after_its_channel(
    tmp_path: Path,
) -> None:
    posts = [
        ["C1", 1.0, "100.000001", _post("C1", "dagordning 1")],
        ["C2", 1.1, "100.000002", _post("C2", "dagordning 2")],
        ["C3", 1.2, "100.000003", _post("C3", "dagordning 3")],
        ["C1", 2.1, "100.000004", _post("C1", "fortsättning", thread_ts="100.000001")],
    ]
    payloads = tmp_path / "posts.jsonl"
    payloads.write_text("".join(json.dumps(post) + "\n" for post in posts), encoding="utf-8")

    floor = machine_floor(
        payloads, processes=2, threads=2, workdir=tmp_path, token="xoxb-floor", timeout=30
    )

    assert (floor.posts, floor.errors, floor.limited) == (4, 0, 0)
    assert floor.seconds >= CHANNEL_INTERVAL  # C1's reply waited for the channel's limit
