"""Ack latency of the real bot under concurrent load, against a bolt app that only acks.

    python -m bench.ack_latency                      # 50 clients, 2000 requests per scenario
    python -m bench.ack_latency --requests 200       # a quick smoke (CI)
    python -m bench.ack_latency --strict             # exit 1 when a target is missed

Starts, on loopback only and on free ports: the Slack Web API stand-in (``bench.slack_stub``,
its own process), the real bot (``samverkan serve``, gunicorn) on a fresh, migrated PostgreSQL
database, and the bare app (``bench.bare_app``) with the same gunicorn workers and threads.
Then, for each scenario and each server: a warm-up, then ``--requests`` signed requests from
``--clients`` concurrent clients (one keep-alive connection each). Prints p50/p99/max latency,
throughput and the bot/bare p99 ratio, and checks the targets from the issue:
p99 < 100 ms and p99(bot) <= 1.5 x p99(bare).

Scenarios: ``help`` (``/samverkan hjälp``: ack, then a lazy listener answers through
``response_url``) and ``view`` (the ``forum_edit`` submission of the forum settings modal,
which validates, writes the forum and an audit event, then acks). Every response must be
HTTP 200 with an empty body (a plain ack); anything else counts as an error. The bench also
checks that every ``hjälp`` got its reply on ``response_url`` and that every acked submission
wrote its audit event.

Exit codes: 0 done (targets missed are reported, not fatal, unless ``--strict``); 1 errors in
the responses or side effects, or a target missed with ``--strict``; 2 the set-up failed.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import http.client
import json
import math
import os
import platform
import secrets
import select
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

REPO_ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
EVENTS_PATH = "/slack/events"
FORM = "application/x-www-form-urlencoded"
DEFAULT_POSTGRES_URL = os.environ.get(
    "SAMVERKAN_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
P99_TARGET_MS = 100.0
RATIO_TARGET = 1.5
# The audit events of forum saves only (the scheduler's own jobs audit too, e.g. retention).
READS_AUDITED = "SELECT count(*) FROM audit_events WHERE object_type = 'case' AND action = 'read'"
SAVES_AUDITED = (
    "SELECT count(*) FROM audit_events WHERE object_type = 'forum' AND action = 'update'"
)
# An audited save (issue 18): throughput at least half the bare app's, p99 at most 3x.
SAVE_RATE_TARGET = 0.5
SAVE_P99_TARGET = 3.0
ADMIN = "U1"
CHANNEL = "C1"
# Settings that would change how `samverkan serve` runs (Socket Mode, OAuth, one process).
SCRUBBED_ENV = (
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SAMVERKAN_ALLOW_TEST_CLOCK",
    "SAMVERKAN_TEST_CLOCK",
    "SAMVERKAN_TOKEN_ENCRYPTION_KEY",
    "PROMETHEUS_MULTIPROC_DIR",
)


class SetupError(Exception):
    """The benchmark could not be set up (a server did not start, no database, ...)."""


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


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


def make_url_name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


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


# ---------------------------------------------------------------------------------------------
# Request bodies
# ---------------------------------------------------------------------------------------------


def help_scenario(team_id: str, response_url_base: str) -> Scenario:
    run = uuid.uuid4().hex[:8]

    def body(n: int) -> bytes:
        fields = {
            "token": "verification-token-stub",
            "team_id": team_id,
            "team_domain": "samverkan-bench",
            "channel_id": CHANNEL,
            "channel_name": "kanal-c1",
            "user_id": ADMIN,
            "user_name": "user.u1",
            "command": "/samverkan",
            "text": "hjälp",
            "api_app_id": "A0001",
            "is_enterprise_install": "false",
            "response_url": f"{response_url_base}{team_id}/{n}/{run}",
            "trigger_id": f"{int(time.time())}{n:06d}.1000000001.{run}",
        }
        return urlencode(fields).encode()

    return Scenario(
        "help",
        "/samverkan hjälp (answer in the ack, or ack + reply via response_url)",
        body,
        check=HelpAnswers(),
    )


@dataclass(frozen=True)
class BenchForum:
    """A forum the benchmark creates through the bot (U1 becomes its admin) and then edits."""

    channel_id: str
    code: str
    forum_id: int | None = None


def bench_forums(count: int) -> list[BenchForum]:
    """``C1`` / ``BNK`` for one forum (the issue's set-up); ``C1..Cn`` / ``B001..`` for more."""
    if count == 1:
        return [BenchForum(CHANNEL, "BNK")]
    return [BenchForum(f"C{i}", f"B{i:03d}") for i in range(1, count + 1)]


def forum_values(*, name: str, code: str, creating: bool) -> dict[str, dict[str, dict[str, Any]]]:
    from tests.support.slack_driver import (
        multi_select_values,
        plain_value,
        select_value,
        state_values,
        time_value,
    )

    entries = {
        ("name.0", "value"): plain_value(name),
        ("code.0", "value"): plain_value(code),
        ("agencies.0", "value"): multi_select_values(["Grundskola", "Socialtjänst/IFO", "Polis"]),
        ("agencies_other.0", "value"): plain_value("Ungdomsmottagning"),
        ("rrule.0", "value"): plain_value("FREQ=WEEKLY;BYDAY=TH"),
        ("start.0", "value"): time_value("13:00"),
        ("end.0", "value"): time_value("15:00"),
        ("areas.0", "value"): plain_value("Gråbo\nDroger\nPsykisk ohälsa"),
    }
    if creating:
        entries[("own_agency.0", "value")] = select_value("Grundskola")
    return state_values(entries)


def forum_view_body(
    team_id: str, forum: BenchForum, *, creating: bool, name: str = "Bänkforum"
) -> bytes:
    """A ``view_submission`` as Slack sends it, with the modal's real blocks (realistic size).

    ``forum_create`` (``creating``) has no ``forum_id`` in its metadata and an ``own_agency``.
    """
    from domain.forums import ForumDraft
    from domain.i18n import Translator
    from handlers.blocks.forum import forum_modal
    from tests.support.slack_driver import SlackDriver

    meta: dict[str, Any] = {"locale": "sv", "channel_id": forum.channel_id}
    if not creating:
        meta["forum_id"] = forum.forum_id
    private_metadata = json.dumps(meta)
    draft = ForumDraft(
        name=name,
        code=forum.code,
        agencies=["Grundskola", "Socialtjänst/IFO", "Polis", "Ungdomsmottagning"],
        own_agency=None,
        rrule="FREQ=WEEKLY;BYDAY=TH",
        start=dt.time(13, 0),
        end=dt.time(15, 0),
        areas=["Gråbo", "Droger", "Psykisk ohälsa"],
    )
    modal = forum_modal(
        Translator("sv"), draft, private_metadata=private_metadata, editing=not creating
    )
    driver = SlackDriver("http://127.0.0.1:9", "unused", team_id=team_id)
    view = driver.complete_view(
        {"title": modal["title"], "submit": modal["submit"], "close": modal["close"]},
        callback_id=modal["callback_id"],
        private_metadata=private_metadata,
        values=forum_values(name=name, code=forum.code, creating=creating),
        blocks=modal["blocks"],
    )
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "samverkan-bench"},
        "user": {"id": ADMIN, "username": "user.u1", "name": "user.u1", "team_id": team_id},
        "api_app_id": "A0001",
        "token": "verification-token-stub",
        "trigger_id": driver.new_trigger_id(),
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()


NAME_SLOT = "NAMESLOT"  # letters only: survives urlencode unchanged


TRIGGER_SLOT = "TRIGGERSLOT"


def read_scenario(team_id: str, channel_id: str, case_id: int) -> Scenario:
    """Request ``n`` opens the case from the case list (``case_open``): a plain ack, then a
    lazy listener reads it (an audited read) and opens the modal through the stand-in."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": ADMIN, "username": "user.u1", "name": "user.u1", "team_id": team_id},
        "api_app_id": "A0001",
        "token": "verification-token-stub",
        "trigger_id": TRIGGER_SLOT,
        "team": {"id": team_id, "domain": "samverkan-bench"},
        "enterprise": None,
        "is_enterprise_install": False,
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": channel_id},
        "channel": {"id": channel_id, "name": "bench"},
        "message": {"type": "message", "text": "", "blocks": [], "ts": "1.000001"},
        "state": {"values": {}},
        "response_url": "http://127.0.0.1:9/response/unused",
        "actions": [
            {
                "action_id": "case_open",
                "block_id": f"case.{case_id}",
                "type": "button",
                "value": str(case_id),
                "action_ts": "1.000002",
                "text": {"type": "plain_text", "text": "Öppna"},
            }
        ],
    }
    template = urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()
    slot = TRIGGER_SLOT.encode()
    run = uuid.uuid4().hex[:8]

    def body(n: int) -> bytes:
        return template.replace(slot, f"{int(time.time())}{n:07d}.1.{run}".encode())

    return Scenario("read", "case_open: ack, then an audited read of the case (lazy)", body)


def raise_bench_case(database_url: str, team_id: str, channel_id: str) -> int:
    """A case in the bench forum, raised through the domain by its admin."""
    from domain import cases as case_service
    from domain import forums as forum_service
    from domain.clock import SystemClock
    from storage.db import create_db_engine, session_factory, transaction
    from storage.models import ConsentGiver, SipStatus

    engine = create_db_engine(database_url, pool_size=1)
    try:
        with transaction(session_factory(engine)) as session:
            access = forum_service.require_member_in_channel(
                session, team_id=team_id, channel_id=channel_id, slack_user_id=ADMIN
            )
            draft = case_service.CaseDraft(
                summary="Hög frånvaro under hösten, oro för måendet",
                concerns=["school_absence"],
                age_band="13-15",
                agency_ids=[],
                consent_giver=ConsentGiver.NONE,
                consent_agency_ids=[],
                consent_given_on=None,
                consent_expires_on=None,
                sip=SipStatus.NOT_RELEVANT,
                meeting=None,
            )
            case, _created = case_service.raise_case(
                session, SystemClock(), access=access, draft=draft
            )
            return case.id
    finally:
        engine.dispose()


def spread_forums(count: int) -> list[BenchForum]:
    """Forums of their own for the ``view20`` scenario (``CS1..`` / ``S001..``)."""
    return [BenchForum(f"CS{i}", f"S{i:03d}") for i in range(1, count + 1)]


def view_scenario(team_id: str, forums: Sequence[BenchForum], *, name: str = "view") -> Scenario:
    """Request ``n`` saves forum ``n % len(forums)`` under a new name ``Bänkforum <n>``, so
    every submission is a real change (a no-op save could be skipped by the app)."""
    templates = [
        forum_view_body(team_id, forum, creating=False, name=f"Bänkforum {NAME_SLOT}")
        for forum in forums
    ]
    slot = NAME_SLOT.encode()

    def body(n: int) -> bytes:
        return templates[n % len(templates)].replace(slot, str(n).encode())

    where = "one forum" if len(forums) == 1 else f"{len(forums)} forums"
    return Scenario(
        name, f"forum_edit submission on {where} (validate, write forum + audit, ack)", body
    )


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def base_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    )
    env["PYTHONUNBUFFERED"] = "1"
    env["PROMETHEUS_MULTIPROC_DIR"] = str(workdir / "metrics")
    return env


class Process:
    """A child process in its own session, its output in a log file; stopped in ``stop``."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        workdir: Path,
        *,
        port: int | None = None,
        stdio: bool = False,
    ) -> None:
        self.name = name
        self.port = port
        self.log_path = workdir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            argv,
            env=env,
            cwd=workdir,  # no stray .env is read, no files land in the repository
            stdin=subprocess.PIPE if stdio else subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdio else self._log,
            stderr=self._log,
            start_new_session=True,
        )

    def log_tail(self, lines: int = 25) -> str:
        self._log.flush()
        text = self.log_path.read_text("utf-8", "replace").splitlines()
        return "\n".join(f"    {line}" for line in text[-lines:])

    def wait_healthy(self, timeout: float = 60.0) -> None:
        assert self.port is not None
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SetupError(
                    f"{self.name} exited with code {self.proc.returncode}:\n{self.log_tail()}"
                )
            conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
            except (OSError, http.client.HTTPException) as exc:
                last = exc.__class__.__name__
            finally:
                conn.close()
            time.sleep(0.2)
        raise SetupError(
            f"{self.name} did not answer /healthz in {timeout:.0f}s ({last}):\n{self.log_tail()}"
        )

    def read_line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise SetupError(f"{self.name} did not answer in {timeout:.0f}s:\n{self.log_tail()}")
        line = self.proc.stdout.readline().decode("utf-8")
        if not line:
            raise SetupError(f"{self.name} stopped:\n{self.log_tail()}")
        return line

    def ask(self, command: str, timeout: float = 10.0) -> Any:
        stdin: IO[bytes] | None = self.proc.stdin
        assert stdin is not None
        stdin.write(command.encode() + b"\n")
        stdin.flush()
        return json.loads(self.read_line(timeout))

    def stop(self) -> None:
        if self.proc.poll() is None:
            if self.proc.stdin is not None:
                with contextlib.suppress(OSError):
                    self.proc.stdin.close()
            self.proc.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of its workers
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)  # the session we created
                self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._log.close()


def run_cli(argv: list[str], env: dict[str, str], workdir: Path, timeout: float = 120) -> None:
    done = subprocess.run(
        argv, env=env, cwd=workdir, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise SetupError(f"{' '.join(argv[1:])} failed:\n{done.stdout}{done.stderr}")


# ---------------------------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def bench_database(ns: argparse.Namespace, workdir: Path) -> Iterator[tuple[str, str]]:
    """Yield (url, description); a database created here is dropped afterwards."""
    if ns.sqlite:
        yield f"sqlite:///{workdir / 'bench.db'}", "SQLite (temporary file)"
        return
    if ns.database_url:
        yield ns.database_url, "PostgreSQL (given with --database-url, kept)"
        return
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import temporary_database

    database = temporary_database(ns.postgres_url, "samverkan_bench")
    try:
        url = database.__enter__()
    except SQLAlchemyError as exc:
        raise SetupError(f"cannot create a database on {ns.postgres_url}: {exc}") from None
    try:
        yield url, f"PostgreSQL (fresh database {make_url_name(url)}, dropped afterwards)"
    finally:
        try:
            database.__exit__(None, None, None)
        except SQLAlchemyError as exc:
            name = make_url_name(url)
            print(f"warning: could not drop database {name}: {exc}", file=sys.stderr)


def db_scalar(url: str, sql: str, **params: Any) -> Any:
    from sqlalchemy import text

    from storage.db import create_db_engine

    engine = create_db_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def fmt(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def print_table(results: list[PhaseResult]) -> None:
    header = (
        f"{'scenario':<9}{'target':<7}{'requests':>9}{'errors':>8}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'max ms':>9}{'req/s':>9}{'p99 bot/bare':>14}"
    )
    print(header)
    print("-" * len(header))
    ratios = {s: iter(round_ratios(results, s)) for s in {r.scenario for r in results}}
    for r in results:
        ratio = ""
        if r.target == "bot":
            found = next(ratios[r.scenario], None)
            ratio = f"{found[0]:.2f}x" if found else ""
        print(
            f"{r.scenario:<9}{r.target:<7}{r.completed:>9}{r.errors:>8}{fmt(r.p50):>9}"
            f"{fmt(r.p99):>9}{fmt(r.max):>9}{fmt(r.throughput, 0):>9}{ratio:>14}"
        )


@dataclass
class Verdict:
    ok: bool
    line: str
    target: bool = True
    """True for a speed target (fatal only with --strict); False for a correctness check."""


def round_ratios(results: list[PhaseResult], scenario: str) -> list[tuple[float, float]]:
    """Per bot round: (p99 ratio, throughput ratio) against the mean of the bare phases
    run right before and right after it (the phases alternate: bare, bot, bare, …)."""
    phases = [r for r in results if r.scenario == scenario]
    found = []
    for n, r in enumerate(phases):
        if r.target != "bot":
            continue
        around = [p for p in (phases[n - 1 : n] + phases[n + 1 : n + 2]) if p.target == "bare"]
        if not around:
            continue
        p99 = statistics.fmean(p.p99 for p in around)
        rate = statistics.fmean(p.throughput for p in around)
        found.append((r.p99 / p99, r.throughput / rate))
    return found


def verdicts(results: list[PhaseResult]) -> list[Verdict]:
    found: list[Verdict] = []
    for r in results:
        if r.errors or r.timed_out:
            what = f"{r.errors} error(s)" + (", timed out" if r.timed_out else "")
            samples = "; ".join(r.error_samples[:3])
            found.append(Verdict(False, f"{r.scenario}/{r.target}: {what}: {samples}", False))
    for scenario in dict.fromkeys(r.scenario for r in results):
        ratios = round_ratios(results, scenario)
        if not ratios:
            continue
        p99_ratio = statistics.median(r[0] for r in ratios)
        rate_ratio = statistics.median(r[1] for r in ratios)
        rounds = ", ".join(f"{a:.2f}x" for a, _ in ratios)
        if scenario == "help":
            found.append(
                Verdict(
                    p99_ratio <= RATIO_TARGET,
                    f"help: median p99 bot/bare {p99_ratio:.2f}x <= {RATIO_TARGET}x "
                    f"(rounds: {rounds})",
                )
            )
        else:
            found.append(
                Verdict(
                    rate_ratio >= SAVE_RATE_TARGET,
                    f"{scenario}: median throughput bot/bare {rate_ratio:.2f}x >= "
                    f"{SAVE_RATE_TARGET}x",
                )
            )
            found.append(
                Verdict(
                    p99_ratio <= SAVE_P99_TARGET,
                    f"{scenario}: median p99 bot/bare {p99_ratio:.2f}x <= {SAVE_P99_TARGET}x "
                    f"(rounds: {rounds})",
                )
            )
    return found


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ack_latency",
        description="Ack latency of the bot vs a bolt app that only acks (same gunicorn set-up).",
    )
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument(
        "--requests", type=int, default=2000, help="measured requests per scenario and server"
    )
    parser.add_argument("--warmup", type=int, default=100, help="warm-up requests (100)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="bot phases per scenario, interleaved with bare ones: bare, bot, …, bare (3)",
    )
    parser.add_argument(
        "--forums",
        type=int,
        default=1,
        help="view: spread the submissions over this many forums (1: all edit the same one)",
    )
    parser.add_argument(
        "--slack-latency-ms",
        type=float,
        default=0.0,
        help="delay every answer of the Slack stand-in (real Slack is not 0 ms away)",
    )
    parser.add_argument(
        "--scenarios",
        default="help,view,view20,read",
        help="comma-separated: help, view (audited save on --forums forums), view20 (on 20), "
        "read (open a case: ack, then an audited read)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("SAMVERKAN_WEB_CONCURRENCY", "2")),
        help="gunicorn workers for both servers (SAMVERKAN_WEB_CONCURRENCY, 2)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("SAMVERKAN_WEB_THREADS", "8")),
        help="threads per worker for both servers (SAMVERKAN_WEB_THREADS, 8)",
    )
    db = parser.add_mutually_exclusive_group()
    db.add_argument("--sqlite", action="store_true", help="use a temporary SQLite file")
    db.add_argument(
        "--database-url", help="use this (existing) database as is; it is migrated, not dropped"
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server where a fresh samverkan_bench_* database is created and dropped "
        "(SAMVERKAN_BENCH_POSTGRES_URL, %(default)s)",
    )
    parser.add_argument("--log-level", default="INFO", help="the bot's SAMVERKAN_LOG_LEVEL")
    parser.add_argument(
        "--bot-command",
        help="for A/B experiments: the command that runs the bot's CLI (default "
        "'python -m bot.cli'); the bench appends 'serve' and sets the usual environment",
    )
    parser.add_argument(
        "--phase-timeout", type=float, default=300.0, help="seconds allowed per phase (300)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    ns = parser.parse_args(argv)
    scenarios = [s.strip() for s in ns.scenarios.split(",") if s.strip()]
    unknown = set(scenarios) - {"help", "view", "view20", "read"}
    if unknown or not scenarios:
        parser.error(f"--scenarios: choose from help,view,view20,read (got {ns.scenarios!r})")
    ns.scenario_list = scenarios
    if not 1 <= ns.forums <= 999:
        parser.error("--forums: 1 to 999")
    if ns.clients < 1 or ns.requests < 1 or ns.warmup < 0:
        parser.error("--clients and --requests must be positive, --warmup not negative")
    return ns


def create_forum(
    port: int, signer: Signer, team_id: str, database_url: str, forum: BenchForum
) -> BenchForum:
    """Create ``forum`` through the real app (``forum_create``): U1 becomes its admin."""
    body = forum_view_body(team_id, forum, creating=True)
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
    try:
        conn.request("POST", EVENTS_PATH, body, signer.headers(body, FORM))
        response = conn.getresponse()
        problem = plain_ack(response.status, response.read())
    finally:
        conn.close()
    if problem:
        raise SetupError(f"creating forum {forum.code} failed: {problem}")
    forum_id = db_scalar(
        database_url,
        "SELECT id FROM forums WHERE team_id = :team AND channel_id = :channel",
        team=team_id,
        channel=forum.channel_id,
    )
    if forum_id is None:
        raise SetupError("the forum_create submission was acked but no forum was stored")
    return dataclasses.replace(forum, forum_id=int(forum_id))


def wait_for_replies(stub: Process, expected: int, timeout: float = 30.0) -> tuple[int, float]:
    """Wait until ``expected`` replies reached ``response_url``; return (count, seconds)."""
    began = time.monotonic()
    count = 0
    while True:
        counts = stub.ask("counts")
        count = int(counts.get("response_url", {}).get("ok", 0))
        if count >= expected or time.monotonic() - began > timeout:
            return count, time.monotonic() - began
        time.sleep(0.1)


def run(ns: argparse.Namespace) -> int:
    signing_secret = secrets.token_hex(16)
    team_id = f"TB{secrets.token_hex(4).upper()}"  # reruns on a kept database do not collide
    signer = Signer(signing_secret)
    results: list[PhaseResult] = []
    checks: list[Verdict] = []
    started_at = dt.datetime.now().astimezone()

    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="samverkan-bench-")))
        (workdir / "metrics").mkdir()
        database_url, database_label = stack.enter_context(bench_database(ns, workdir))
        env = base_env(workdir)
        python = sys.executable

        print("samverkan ack-latency benchmark")
        print(f"  when      {started_at:%Y-%m-%d %H:%M %Z}")
        print(
            f"  machine   {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}"
        )
        print(f"  database  {database_label}")
        print(
            f"  servers   gunicorn gthread, {ns.workers} worker(s) x {ns.threads} threads, "
            "bot and bare alike"
        )
        print(
            f"  load      {ns.clients} concurrent clients (keep-alive), {ns.warmup} warm-up + "
            f"{ns.requests} measured requests per scenario and server"
        )
        extras = []
        if "view" in ns.scenario_list:
            extras.append(f"view edits {ns.forums} forum(s)")
        extras.append(f"Slack stand-in answers after {ns.slack_latency_ms:g} ms")
        if ns.bot_command:
            extras.append(f"bot command: {ns.bot_command} serve")
        print(f"  options   {'; '.join(extras)}")
        print(f"  targets   bot p99 < {P99_TARGET_MS:.0f} ms and <= {RATIO_TARGET}x bare p99")
        print(flush=True)

        bot_env = {
            **env,
            "SAMVERKAN_DATABASE_URL": database_url,
            "SLACK_SIGNING_SECRET": signing_secret,
            "SLACK_BOT_TOKEN": "xoxb-bench-token",
            "SAMVERKAN_HOST": LOOPBACK,
            "SAMVERKAN_WEB_CONCURRENCY": str(ns.workers),
            "SAMVERKAN_WEB_THREADS": str(ns.threads),
            "SAMVERKAN_LOG_LEVEL": ns.log_level.upper(),
        }
        print("setting up: migrating the database ...", flush=True)
        run_cli([python, "-m", "bot.cli", "migrate"], bot_env, workdir)

        stub_argv = [python, "-m", "bench.slack_stub", "--delay-ms", str(ns.slack_latency_ms)]
        stub = Process("slack-stub", stub_argv, env, workdir, stdio=True)
        stack.callback(stub.stop)
        urls = json.loads(stub.read_line(timeout=30))

        bot_port, bare_port = free_port(), free_port()
        bot_env["SAMVERKAN_SLACK_API_URL"] = urls["base_url"]
        bot_env["SAMVERKAN_PORT"] = str(bot_port)
        bot_argv = shlex.split(ns.bot_command) if ns.bot_command else [python, "-m", "bot.cli"]
        bot = Process("bot", [*bot_argv, "serve"], bot_env, workdir, port=bot_port)
        stack.callback(bot.stop)
        bare_argv = [
            python,
            "-m",
            "bench.bare_app",
            "--host",
            LOOPBACK,
            "--port",
            str(bare_port),
            "--workers",
            str(ns.workers),
            "--threads",
            str(ns.threads),
            "--slack-api-url",
            urls["base_url"],
        ]
        bare = Process(
            "bare",
            bare_argv,
            {**env, "BENCH_SIGNING_SECRET": signing_secret},
            workdir,
            port=bare_port,
        )
        stack.callback(bare.stop)
        bot.wait_healthy()
        bare.wait_healthy()
        print(f"  bot  (samverkan serve) on {LOOPBACK}:{bot_port}")
        print(f"  bare (bench.bare_app)  on {LOOPBACK}:{bare_port}")

        scenarios: list[Scenario] = []
        for name in ns.scenario_list:
            if name == "help":
                scenarios.append(help_scenario(team_id, urls["response_url_base"]))
            elif name == "read":
                reader = BenchForum("CR1", "RDR")
                create_forum(bot_port, signer, team_id, database_url, reader)
                case_id = raise_bench_case(database_url, team_id, reader.channel_id)
                print(f"  case {case_id} raised in forum {reader.code} for the read scenario")
                scenarios.append(read_scenario(team_id, reader.channel_id, case_id))
            else:
                wanted = bench_forums(ns.forums) if name == "view" else spread_forums(20)
                forums = [
                    create_forum(bot_port, signer, team_id, database_url, forum) for forum in wanted
                ]
                print(f"  {len(forums)} forum(s) created by {ADMIN} through the bot (forum_create)")
                scenarios.append(view_scenario(team_id, forums, name=name))
        print(flush=True)

        # Interleaved: bare, bot, bare, bot, …, bare (--rounds bot phases), so a slow
        # spell of the machine hits both; each bot round is compared with the bare phases
        # right before and after it.
        targets = [*((("bare", bare), ("bot", bot)) * ns.rounds), ("bare", bare)]
        index = 0
        for scenario in scenarios:
            sent_to_bot = 0
            bot_plain = 0  # the bot's plain acks (help), over every bot phase
            audit_before = 0
            if scenario.name.startswith("view"):
                audit_before = int(db_scalar(database_url, SAVES_AUDITED))
            elif scenario.name == "read":
                audit_before = int(db_scalar(database_url, READS_AUDITED))
            warmed: set[str] = set()
            for target, process in targets:
                assert process.port is not None
                if isinstance(scenario.check, HelpAnswers):
                    scenario.check.plain = 0  # counted per phase; the bot's are summed below
                print(f"{scenario.name}/{target}: {scenario.description}", flush=True)
                warmup = 0 if target in warmed else ns.warmup
                warmed.add(target)
                for phase, count in (("warm-up", warmup), ("measured", ns.requests)):
                    if count == 0:
                        continue
                    result = run_phase(
                        scenario,
                        target,
                        process.port,
                        signer,
                        clients=min(ns.clients, count),
                        requests=count,
                        first_index=index,
                        timeout=ns.phase_timeout,
                    )
                    index += count
                    print(
                        f"  {phase:<8} {result.completed} requests in {result.seconds:.2f}s, "
                        f"{result.errors} error(s), p99 {fmt(result.p99)} ms",
                        flush=True,
                    )
                    if target == "bot":
                        sent_to_bot += result.ok
                        if isinstance(scenario.check, HelpAnswers):
                            bot_plain += scenario.check.plain
                            scenario.check.plain = 0
                    if phase == "warm-up" and (result.errors or result.timed_out):
                        checks.append(
                            Verdict(
                                False,
                                f"{scenario.name}/{target} warm-up: {result.errors} error(s): "
                                + "; ".join(result.error_samples[:3]),
                                False,
                            )
                        )
                    if phase == "measured":
                        results.append(result)
            if isinstance(scenario.check, HelpAnswers):
                expected = bot_plain
                count, waited = wait_for_replies(stub, expected)
                checks.append(
                    Verdict(
                        count >= expected,
                        f"help: {sent_to_bot - expected} answered in the ack, {count}/{expected} "
                        f"plain acks got their reply on response_url ({waited:.1f}s after)",
                        False,
                    )
                )
            elif scenario.name == "read":
                # The reads run in lazy listeners after the ack and queue there (each
                # commits under the audit chain's head lock): wait while they progress.
                drain_began = time.monotonic()
                written, last_progress = 0, time.monotonic()
                while written < sent_to_bot and time.monotonic() - last_progress < 20:
                    time.sleep(1.0)
                    now_written = int(db_scalar(database_url, READS_AUDITED)) - audit_before
                    if now_written > written:
                        written, last_progress = now_written, time.monotonic()
                drained = time.monotonic() - drain_began
                checks.append(
                    Verdict(
                        written == sent_to_bot,
                        f"read: {written}/{sent_to_bot} acked opens were audited reads "
                        f"({drained:.0f} s after the last phase for the queued ones)",
                        False,
                    )
                )
            else:
                audit_after = int(db_scalar(database_url, SAVES_AUDITED))
                written = audit_after - audit_before
                checks.append(
                    Verdict(
                        written == sent_to_bot,
                        f"{scenario.name}: {written}/{sent_to_bot} acked submissions wrote "
                        "an audit event",
                        False,
                    )
                )
            print(flush=True)

    # All processes are stopped and the database is dropped here.
    print_table(results)
    print()
    all_checks = verdicts(results) + checks
    for verdict in all_checks:
        label = "PASS" if verdict.ok else ("FAIL" if verdict.target else "ERROR")
        print(f"{label:<6}{verdict.line}")
    broken = [v for v in all_checks if not v.ok and not v.target]
    missed = [v for v in all_checks if not v.ok and v.target]
    print()
    if broken:
        print(f"RESULT: {len(broken)} correctness problem(s): see ERROR lines above.")
    elif missed:
        note = "" if ns.strict else " (reported only; pass --strict to fail the run)"
        print(f"RESULT: {len(missed)} target(s) missed{note}.")
    else:
        print("RESULT: all targets met.")

    if ns.json:
        ns.json.write_text(
            json.dumps(
                {
                    "started_at": started_at.isoformat(),
                    "cpu_count": os.cpu_count(),
                    "python": platform.python_version(),
                    "workers": ns.workers,
                    "threads": ns.threads,
                    "clients": ns.clients,
                    "database": "sqlite" if ns.sqlite else "postgresql",
                    "forums": ns.forums,
                    "slack_latency_ms": ns.slack_latency_ms,
                    "bot_command": ns.bot_command,
                    "results": [r.summary() for r in results],
                    "checks": [asdict(v) for v in all_checks],
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
    if broken:
        return 1
    return 1 if (missed and ns.strict) else 0


def main(argv: Sequence[str] | None = None) -> int:
    ns = parse_args(argv)
    try:
        return run(ns)
    except SetupError as exc:
        print(f"\nbench set-up failed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
