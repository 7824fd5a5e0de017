"""The machine floor of ``bench.agenda_burst``: how fast the Web API stand-in on this machine
accepts exactly the posts the burst made, sent by posters that do nothing else.

No bot and no database: the posts the stand-in answered in the burst (channel, body as the
bot sent it, thread replies after their first message) are sent again to a fresh stand-in,
started the same way (``bench.slack_stub``, its own process, the same per-channel rate
limit), through the same client stack as the bot's due-work runner
(``handlers.clients.build_web_client``: slack_sdk's ``WebClient`` with the bot's retry
handlers) and as many concurrent posters as the bot has: one process per replica with
``bot.scheduler.PARALLEL`` threads each. A channel's posts stay in one process; a thread
reply goes a second after its channel's previous post was answered (the stand-in answers a
sooner one with 429, as Slack does), and every channel's first post goes before any reply.
So it is the fastest any bot could deliver these posts here: what the bot spends beyond it
is its own work, and the rate-limit bound below it is out of reach on this machine.

Run as ``python -m bench._floor --api-url URL --token T --threads N --chains FILE``: a poster.
It prints ``ready`` once loaded, posts on ``go`` (a line on stdin) and prints
``{"posted": n, "errors": m}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The bot's spacing of a channel's posts (the stand-in's --channel-post-interval).
CHANNEL_INTERVAL = 1.0


@dataclass(frozen=True)
class Floor:
    posts: int
    seconds: float
    limited: int  # answered 429 (and retried by the client)
    errors: int  # not accepted at all


def load_chains(path: Path) -> list[list[tuple[str | None, dict[str, Any]]]]:
    """The posts of ``bench.slack_stub``'s ``payloads`` file, as one chain per channel in the
    order they were answered: (the ts the stand-in gave it, the body) each."""
    chains: dict[str, list[tuple[str | None, dict[str, Any]]]] = defaultdict(list)
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            channel, _at, ts, args = json.loads(line)
            chains[channel].append((ts, args))
    return list(chains.values())


def machine_floor(
    payloads: Path,
    *,
    processes: int,
    threads: int,
    workdir: Path,
    token: str,
    timeout: float,
) -> Floor:
    """Send the posts in ``payloads`` (a ``payloads`` file of ``bench.slack_stub``) to a fresh
    stand-in with ``processes`` × ``threads`` posters; the time from go to the last post the
    stand-in accepted."""
    from bench._servers import Process, SetupError, base_env

    chains = load_chains(payloads)
    total = sum(len(chain) for chain in chains)
    env = base_env(workdir)
    stub_argv = [sys.executable, "-m", "bench.slack_stub", "--channel-post-interval", "1.0"]
    stub = Process("floor-stub", stub_argv, env, workdir, stdio=True)
    posters: list[Process] = []
    try:
        urls = json.loads(stub.read_line(timeout=30))
        for n in range(processes):
            share = workdir / f"floor-chains{n}.json"
            share.write_text(json.dumps(chains[n::processes]), encoding="utf-8")
            argv = [sys.executable, "-m", "bench._floor", "--api-url", urls["base_url"]]
            argv += ["--token", token, "--threads", str(threads), "--chains", str(share)]
            posters.append(Process(f"floor-poster{n}", argv, env, workdir, stdio=True))
        for poster in posters:
            if poster.read_line(timeout=60).strip() != "ready":
                raise SetupError(f"{poster.name} did not get ready:\n{poster.log_tail()}")
        began = time.time()
        for poster in posters:
            assert poster.proc.stdin is not None
            poster.proc.stdin.write(b"go\n")
            poster.proc.stdin.flush()
        errors = 0
        for poster in posters:
            errors += int(json.loads(poster.read_line(timeout=timeout))["errors"])
        posted = [at for channel, at in stub.ask("posts") if channel.startswith("C")]
        counts = stub.ask("counts")
    finally:
        for poster in posters:
            poster.stop()
        stub.stop()
    return Floor(
        posts=len(posted),
        seconds=(max(posted) - began) if posted else 0.0,
        limited=int(counts.get("chat.postMessage", {}).get("failed", 0)),
        errors=errors + max(0, total - len(posted)),
    )


def _post_all(api_url: str, token: str, threads: int, chains: list[list[Any]]) -> tuple[int, int]:
    from slack_sdk.errors import SlackApiError

    from handlers.clients import build_web_client

    client = build_web_client(api_url, token)  # one per process, shared, as the bot's runner
    lock = threading.Lock()
    left = sum(len(chain) for chain in chains)
    done = threading.Event()
    if not left:
        done.set()
    tally = {"posted": 0, "errors": 0}
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="floor")

    def post(chain: list[Any], index: int, not_before: float, sent: dict[str, str]) -> None:
        nonlocal left
        ok = False
        try:
            wait = not_before - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            old_ts, args = chain[index]
            body = dict(args)
            if body.get("thread_ts") in sent:  # a reply: in the thread posted here
                body["thread_ts"] = sent[body["thread_ts"]]
            response = client.api_call("chat.postMessage", json=body)
            if old_ts is not None:
                sent[old_ts] = str(response.get("ts"))
            ok = True
        except (SlackApiError, OSError):  # refused after the client's retries, or unreachable
            pass
        finally:
            with lock:
                tally["posted" if ok else "errors"] += 1
                left -= 1
                if left == 0:
                    done.set()
            if index + 1 < len(chain):
                # The channel's next post, not before the stand-in's limit lets it through.
                pool.submit(post, chain, index + 1, time.monotonic() + CHANNEL_INTERVAL, sent)

    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 0, 0
    for chain in chains:  # every channel's first post, in order; each submits its next
        pool.submit(post, chain, 0, 0.0, {})
    done.wait()
    pool.shutdown()
    return tally["posted"], tally["errors"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._floor")
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--chains", type=Path, required=True)
    ns = parser.parse_args(argv)
    chains = json.loads(ns.chains.read_text(encoding="utf-8"))
    posted, errors = _post_all(ns.api_url, ns.token, ns.threads, chains)
    print(json.dumps({"posted": posted, "errors": errors}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
