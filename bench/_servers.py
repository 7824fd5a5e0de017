"""The processes and the database a benchmark stands up: the bot, the bare app and the Slack
stand-in as child processes in their own sessions, and a fresh PostgreSQL database.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from bench._load import LOOPBACK

REPO_ROOT = Path(__file__).resolve().parent.parent
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


def make_url_name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


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


def start_bare_app(
    workdir: Path,
    env: dict[str, str],
    *,
    port: int,
    signing_secret: str,
    workers: int,
    threads: int,
    slack_api_url: str | None = None,
) -> Process:
    """``bench.bare_app`` (the bolt app that only acks) with the bot's gunicorn set-up."""
    argv = [sys.executable, "-m", "bench.bare_app", "--host", LOOPBACK, "--port", str(port)]
    argv += ["--workers", str(workers), "--threads", str(threads)]
    if slack_api_url is not None:
        argv += ["--slack-api-url", slack_api_url]
    bare_env = {**env, "BENCH_SIGNING_SECRET": signing_secret}
    return Process("bare", argv, bare_env, workdir, port=port)


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
