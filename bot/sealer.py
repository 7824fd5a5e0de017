"""The audit sealer: a background thread, one per replica in its due-work runner
(:mod:`bot.runner`), that signs committed audit events into their workspace's chain shortly
after commit (see :mod:`domain.audit`).

It wakes after every commit that wrote audit events, in its process or (through the
runner's pipe) in a request worker (then waits
``SAMVERKAN_AUDIT_SEAL_DELAY_MS``, 50 ms by default, to gather a batch, and at least
:data:`ROUND_SPACING` after its previous round: under a steady stream of saves it seals
four larger batches a second, not one per 50 ms — each round has fixed costs, a transaction
and the chain head's lock, paid on the two cores the request workers and PostgreSQL share)
and once a second otherwise, so events another process left unsealed (a replica killed
between commit and seal) are picked up within a second too. Each chain is sealed in its
own short transaction; a chain another sealer holds is skipped (``SKIP LOCKED``), so any
number of processes can run one. It also keeps the next months' audit partitions ready
(PostgreSQL), hourly.

Metrics (``/metrics``): ``samverkan_audit_unsealed_seconds`` — age of the oldest event not
sealed yet (0 when none; normally well under a second). Alert when it stays above
:data:`ALERT_SECONDS` for five minutes: no sealer is running, or sealing fails (the log
says why). ``samverkan_audit_unsealed_events`` counts them, ``samverkan_audit_sealed_events``
what this process sealed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy.orm import Session, sessionmaker

from domain import audit
from domain.clock import Clock
from storage.db import reading

log = logging.getLogger(__name__)

ALERT_SECONDS = 60
ROUND_SPACING = 0.25
"""Seconds at least between two rounds a wake-up starts (a first wake-up after a quiet spell
is sealed after the delay alone)."""
UNSEALED_SECONDS = Gauge(
    "samverkan_audit_unsealed_seconds",
    "Age of the oldest audit event not yet sealed into its chain (0 when none)",
    multiprocess_mode="livemax",
)
UNSEALED_EVENTS = Gauge(
    "samverkan_audit_unsealed_events",
    "Audit events committed but not yet sealed into their chain",
    multiprocess_mode="livemax",
)
SEALED = Counter("samverkan_audit_sealed_events", "Audit events this process sealed")


class Sealer:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        keys: audit.AuditKeys,
        *,
        delay: float = 0.05,
        idle: float = 1.0,
        batch: int = 1000,
        housekeeping_every: float = 3600.0,
        spacing: float = ROUND_SPACING,
    ) -> None:
        self.sessions, self.clock, self.keys = sessions, clock, keys
        self.delay, self.idle, self.batch = delay, idle, batch
        self.spacing = spacing
        self._last_round = float("-inf")
        self.housekeeping_every = housekeeping_every
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._hinted: set[str] = set()
        self._hint_lock = threading.Lock()
        self._next_metrics = 0.0
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._next_housekeeping = 0.0

    def wake(self, chains: frozenset[str] = frozenset()) -> None:
        """A commit in this process wrote events to ``chains``."""
        with self._hint_lock:
            self._hinted |= chains
        self._wake.set()

    def run_once(self, *, hinted_only: bool = False) -> int:
        """Seal what is committed (with ``hinted_only``: only the chains this process's
        commits wrote to, a quick round under load); update the metrics at most twice a
        second. Returns how many were sealed."""
        with self._hint_lock:
            hinted, self._hinted = self._hinted, set()
        chains = sorted(hinted) if hinted_only else None
        sealed = audit.seal_pending(
            self.sessions, keys=self.keys, wait=False, limit=self.batch, chains=chains
        )
        SEALED.inc(sealed)
        if not hinted_only or time.monotonic() >= self._next_metrics:
            self._next_metrics = time.monotonic() + 0.5
            with reading(self.sessions) as session:  # never waits for a writer
                waiting = audit.backlog(session)
            UNSEALED_EVENTS.set(waiting.count)
            UNSEALED_SECONDS.set(waiting.age(self.clock.now()))
        if time.monotonic() >= self._next_housekeeping:
            self._next_housekeeping = time.monotonic() + self.housekeeping_every
            with self.sessions() as session, session.begin():
                created = audit.ensure_partitions(session, self.clock.now())
            if created:
                log.info("audit partitions created for %s", ", ".join(created))
        return sealed

    def pause_before_round(self, now: float) -> float:
        """Seconds to wait, woken at ``now`` (``time.monotonic``), before sealing: the delay
        that gathers a batch, stretched to :attr:`spacing` after the previous round."""
        return max(self.delay, self._last_round + self.spacing - now)

    def _loop(self) -> None:
        failures = 0
        next_full = 0.0
        while not self._stop.is_set():
            woken = self._wake.wait(self.idle)
            self._wake.clear()
            if self._stop.is_set():
                return
            if woken:
                pause = self.pause_before_round(time.monotonic())
                if pause > 0 and self._stop.wait(pause):  # let the batch gather
                    return
            try:
                # Woken by a commit here: seal its chains. At least once a second: every
                # chain, so what other processes left unsealed is found too.
                full = not woken or time.monotonic() >= next_full
                if full:
                    next_full = time.monotonic() + self.idle
                self._last_round = time.monotonic()
                self.run_once(hinted_only=not full)
                failures = 0
            except Exception:
                failures += 1
                log.exception("audit sealing failed; retrying")
                self._stop.wait(min(30.0, 0.5 * 2**failures))

    def start(self) -> Sealer:
        self._unsubscribe = audit.on_commit(self.wake)
        self._thread = threading.Thread(target=self._loop, name="audit-sealer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)


def start_sealer(runtime: Any) -> Sealer | None:
    """The process's sealer, unless SAMVERKAN_AUDIT_SEALER is off."""
    settings = runtime.settings
    if not settings.audit_sealer:
        log.info("audit sealer off (SAMVERKAN_AUDIT_SEALER=0): another process must seal")
        return None
    return Sealer(
        runtime.deps.sessions,
        runtime.clock,
        settings.audit_keyring(),
        delay=settings.audit_seal_delay_ms / 1000,
    ).start()
