"""The load generator of the ack benchmarks: signed requests from concurrent keep-alive
clients, the checks of their answers, and the figures (nearest-rank percentiles).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from slack_sdk.signature import SignatureVerifier

LOOPBACK = "127.0.0.1"
EVENTS_PATH = "/slack/events"
FORM = "application/x-www-form-urlencoded"


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1) of already sorted values; NaN when empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class PhaseResult:
    scenario: str
    target: str
    requests: int
    completed: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    error_samples: list[str] = field(default_factory=list)
    timed_out: bool = False
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    """CPU seconds per process group during the phase (bench._cpu), when measured."""

    @property
    def ok(self) -> int:
        return self.completed - self.errors

    def _sorted(self) -> list[float]:
        return sorted(self.latencies_ms)

    @property
    def p50(self) -> float:
        return percentile(self._sorted(), 0.50)

    @property
    def p99(self) -> float:
        return percentile(self._sorted(), 0.99)

    @property
    def max(self) -> float:
        return max(self.latencies_ms) if self.latencies_ms else math.nan

    @property
    def throughput(self) -> float:
        return self.completed / self.seconds if self.seconds > 0 else math.nan

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        del data["latencies_ms"]
        data.update(
            p50_ms=round(self.p50, 2),
            p99_ms=round(self.p99, 2),
            max_ms=round(self.max, 2),
            req_per_s=round(self.throughput, 1),
        )
        return data


# ---------------------------------------------------------------------------------------------
# Load generation
# ---------------------------------------------------------------------------------------------

# (status, body) -> None when it is a good answer, else a short description of what is wrong
Check = Callable[[int, bytes], str | None]


def plain_ack(status: int, body: bytes) -> str | None:
    """A plain ``ack()``: 200 with an empty body. A modal error is ``response_action``."""
    if status != 200:
        return f"HTTP {status}: {body[:160]!r}"
    if body.strip():
        return f"not a plain ack: {body[:240].decode('utf-8', 'replace')}"
    return None


def saved_notice(status: int, body: bytes) -> str | None:
    """A settings save's answer: 200, the modal updated to say it was saved (a refusal is
    ``response_action: errors``)."""
    if status != 200:
        return f"HTTP {status}: {body[:160]!r}"
    try:
        answer = json.loads(body.decode("utf-8", "replace") or "null")
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or answer.get("response_action") != "update":
        return f"not the saved notice: {body[:240].decode('utf-8', 'replace')}"
    return None


class HelpAnswers:
    """Checks help acks: the bot answers in the ack itself once it knows the user's locale,
    otherwise with a plain ack and a reply through ``response_url`` (counted here)."""

    def __init__(self) -> None:
        self.plain = 0
        self._lock = threading.Lock()

    def __call__(self, status: int, body: bytes) -> str | None:
        if status != 200:
            return f"HTTP {status}: {body[:160]!r}"
        if not body.strip():
            with self._lock:
                self.plain += 1
            return None
        text = body.decode("utf-8", "replace")
        try:
            answer = json.loads(text)
        except ValueError:
            return f"not JSON: {text[:160]}"
        if answer.get("response_type") != "ephemeral" or "Samverkan" not in answer.get("text", ""):
            return f"not the help answer: {text[:240]}"
        return None


class Signer:
    def __init__(self, signing_secret: str) -> None:
        self._verifier = SignatureVerifier(signing_secret)

    def headers(self, body: bytes, content_type: str) -> dict[str, str]:
        ts = str(int(time.time()))
        signature = self._verifier.generate_signature(timestamp=ts, body=body.decode("utf-8"))
        assert signature is not None
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        }


@dataclass
class Scenario:
    name: str
    description: str
    body: Callable[[int], bytes]
    """The request body for request number ``n`` (signed right before it is sent)."""
    check: Check = plain_ack
    content_type: str = FORM


def run_phase(
    scenario: Scenario,
    target: str,
    port: int,
    signer: Signer,
    *,
    clients: int,
    requests: int,
    first_index: int,
    timeout: float,
    request_timeout: float = 10.0,
) -> PhaseResult:
    """``requests`` requests from ``clients`` threads, each on its own keep-alive connection."""
    result = PhaseResult(scenario.name, target, requests)
    lock = threading.Lock()
    next_n = [0]
    start = threading.Barrier(clients + 1, timeout=60)
    finished: list[float] = []
    deadline = [math.inf]

    def take() -> int | None:
        with lock:
            n = next_n[0]
            if n >= requests or time.perf_counter() > deadline[0]:
                return None
            next_n[0] = n + 1
            return n

    def client() -> None:
        conn = http.client.HTTPConnection(LOOPBACK, port, timeout=request_timeout)
        latencies: list[float] = []
        errors: list[str] = []
        completed = 0
        try:
            with contextlib.suppress(OSError):
                conn.connect()  # outside the clock; a failure shows up on the first request
            start.wait()
            while (n := take()) is not None:
                body = scenario.body(first_index + n)
                headers = signer.headers(body, scenario.content_type)
                began = time.perf_counter()
                try:
                    conn.request("POST", EVENTS_PATH, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    errors.append(f"{exc.__class__.__name__}: {exc}")
                    conn.close()  # reconnects on the next request
                    completed += 1
                    continue
                latencies.append((time.perf_counter() - began) * 1000.0)
                completed += 1
                problem = scenario.check(response.status, data)
                if problem is not None:
                    errors.append(problem)
        finally:
            conn.close()
            with lock:
                finished.append(time.perf_counter())
                result.completed += completed
                result.errors += len(errors)
                result.latencies_ms.extend(latencies)
                room = 5 - len(result.error_samples)
                result.error_samples.extend(errors[: max(0, room)])

    threads = [
        threading.Thread(target=client, name=f"bench-client-{i}", daemon=True)
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    deadline[0] = began + timeout
    for thread in threads:
        thread.join(timeout + request_timeout + 5)
    result.seconds = (max(finished) if finished else time.perf_counter()) - began
    result.timed_out = result.completed < requests
    return result


class Commands:
    """Requests at a steady ``rate`` per second, spread over ``ports`` (one connection each);
    request ``n`` is ``body(n)``. Ack latencies in milliseconds."""

    def __init__(
        self, ports: Sequence[int], body: Callable[[int], bytes], signer: Signer, rate: float
    ) -> None:
        self.ports = ports
        self.body = body
        self.rate = rate
        self.signer = signer
        self.latencies: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _one(self, conn: http.client.HTTPConnection, n: int) -> None:
        body = self.body(n)
        headers = self.signer.headers(body, FORM)
        began = time.perf_counter()
        conn.request("POST", EVENTS_PATH, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            self.latencies.append((time.perf_counter() - began) * 1000)
        else:
            self.errors += 1

    def run_for(self, seconds: float) -> None:
        self.start()
        time.sleep(seconds)
        self.stop()

    def start(self) -> None:
        def loop() -> None:
            conns = [http.client.HTTPConnection(LOOPBACK, p, timeout=10) for p in self.ports]
            n = 0
            while not self._stop.is_set():
                try:
                    self._one(conns[n % len(conns)], n)
                except (OSError, http.client.HTTPException):
                    self.errors += 1
                    port = self.ports[n % len(conns)]
                    conns[n % len(conns)] = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
                n += 1
                self._stop.wait(1 / self.rate)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(15)


def summary(values: list[float]) -> str:
    """``n``, p50, p99 and max of latencies in milliseconds, on one line."""
    ordered = sorted(values)
    if not ordered:
        return "no requests"
    return (
        f"n={len(ordered)} p50={statistics.median(ordered):.0f} ms "
        f"p99={percentile(ordered, 0.99):.0f} ms max={ordered[-1]:.0f} ms"
    )
