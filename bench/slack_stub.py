"""``sandbox.webapi.SlackWebApiStub`` in its own process, for ``bench.ack_latency``.

The bot's lazy listeners post to ``response_url`` and call ``users.info``. Serving those from
the benchmark's own process would make the load generator's threads share a GIL with the
stub's, so the bot's latencies (not the bare app's) would include time the client spent
waiting for the stub. In a separate process the stub costs CPU, as Slack's servers would not,
but it does not distort the client's clock.

Protocol on stdin/stdout, one line each: on start it prints
``{"base_url": ..., "response_url_base": ...}``; ``counts`` prints
``{"<method>": {"ok": n, "failed": m}, ...}``; ``payloads <file>`` writes the successful
channel posts to ``<file>``, one JSON line each, ``[channel, at, ts, args]`` (the body as
the client sent it), and prints ``{"written": n}``; ``quit`` (or end of input) stops it.
``--delay-ms`` delays every answer, as a real Slack is some tens of milliseconds away.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from sandbox.webapi import SlackWebApiStub


def _counts(stub: SlackWebApiStub) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for call in stub.calls:
        entry = counts.setdefault(call.method, {"ok": 0, "failed": 0})
        entry["ok" if call.ok else "failed"] += 1
    return counts


def _write_payloads(stub: SlackWebApiStub, path: str) -> int:
    """The successful posts to channels (not DMs), in the order they were answered."""
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        for call in stub.calls_to("chat.postMessage", ok=True):
            channel = str(call.args.get("channel"))
            if not channel.startswith("C"):
                continue
            ts = (call.response or {}).get("ts")
            out.write(json.dumps([channel, call.at, ts, call.args], ensure_ascii=False) + "\n")
            written += 1
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slack_stub")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="delay before each answer")
    parser.add_argument(
        "--channel-post-interval",
        type=float,
        default=None,
        help="answer chat.postMessage to one channel more often than this with 429",
    )
    ns = parser.parse_args(argv)
    stub = SlackWebApiStub(
        0,
        host="127.0.0.1",
        delay_seconds=ns.delay_ms / 1000.0,
        channel_post_interval=ns.channel_post_interval,
    ).start()
    try:
        ready = {"base_url": stub.base_url, "response_url_base": stub.response_url_base}
        print(json.dumps(ready), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "counts":
                print(json.dumps(_counts(stub)), flush=True)
            elif command == "posts":
                # Successful channel posts: [channel, wall-clock time] each.
                posts = [
                    [str(c.args.get("channel")), c.at]
                    for c in stub.calls_to("chat.postMessage", ok=True)
                ]
                print(json.dumps(posts), flush=True)
            elif command.startswith("payloads "):
                written = _write_payloads(stub, command.removeprefix("payloads ").strip())
                print(json.dumps({"written": written}), flush=True)
            elif command == "quit":
                break
            else:
                print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)
    finally:
        stub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
