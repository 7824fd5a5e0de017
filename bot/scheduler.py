"""Wakes the process up every minute to do what the database says is due.

Every replica runs it once, in its due-work runner (:mod:`bot.runner`); the claim rows and
the outbox leases make each effect happen once across replicas. APScheduler keeps no jobs of
its own (a fixed job id, replaced on start), so nothing depends on which process runs when.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client import Counter
from sqlalchemy.orm import Session

from domain import (
    actions,
    agenda,
    cases,
    feedback,
    logreview,
    meetings,
    ratings,
    retention,
    review,
    scheduling,
    steering,
)
from handlers import minutes, outgoing, screens
from handlers.blocks.actions import ScheduledMessages
from handlers.blocks.cases import case_button_dm
from handlers.blocks.feedback import SurveyDMs
from handlers.blocks.ratings import RENDERERS as RATING_RENDERERS
from handlers.blocks.review import ReviewPosts
from handlers.blocks.steering import SupplementPosts
from handlers.gateway import WebApiGateway
from handlers.outgoing import picture_ready, render_agenda, render_preview
from storage.db import transaction

log = logging.getLogger(__name__)
JOB_ID = "samverkan-due-work"
DELIVERY_BUDGET = 45.0
# Agendas built and messages sent at once per process (each its own transaction).
PARALLEL = 4
TICKS = Counter("samverkan_due_work_ticks", "Passes of the due-work scheduler (one per tick)")


def replica_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_due_work(runtime: Any) -> scheduling.Delivery:
    """One pass: claim what is due, then deliver the outbox.

    Each job runs in its own transaction and a failing one is logged without stopping the
    others (its claims roll back, so the next pass tries it again).
    """
    deps = runtime.deps
    clock = deps.clock
    replica = replica_id()
    messages = ScheduledMessages()
    # PostgreSQL takes several writers at once; SQLite serialises them anyway.
    parallel = PARALLEL if runtime.engine.dialect.name == "postgresql" else 1

    def in_transaction(job: Callable[[Session], object]) -> Callable[[], object]:
        def run() -> object:
            with transaction(deps.sessions) as session:
                return job(session)

        return run

    def expired_consents() -> object:
        """The Homes of the members who saw a case through a consent that has expired,
        published anew without its details (after the claims commit)."""
        with transaction(deps.sessions) as session:
            lost = cases.expired_consent_readers(session, clock, replica=replica)
        for team_id, users in lost.items():
            screens.refresh_home(deps, runtime.client_for_team(team_id), team_id, users)
        return sum(len(users) for users in lost.values())

    # Every DM a job sends is in its recipient's own language, read from this replica's
    # cache or the languages the replicas stored, never from Slack (a job names it inside
    # its transaction); the forum's when unknown. Channel posts keep the forum's language.
    member_locale = outgoing.job_locales(deps)

    jobs: list[tuple[str, Callable[[], object]]] = [
        # First, outside any transaction: the languages the jobs queued last tick and those
        # of members with none stored (or a stale one) are asked of Slack, a few per
        # workspace, so this tick's DMs have them.
        (
            "member languages",
            lambda: outgoing.refresh_member_languages(deps, runtime.client_for_team),
        ),
        ("meetings", in_transaction(lambda s: meetings.sync_due_forums(s, clock))),
        # Rounds close (the day before) before the agenda is built, so it has the picture.
        # One transaction per round inside (a failing forum does not hold up the others).
        (
            "rating rounds",
            lambda: ratings.open_due_rounds(
                deps.sessions, clock, RATING_RENDERERS, replica=replica, locale_of=member_locale
            ),
        ),
        (
            # An agency added while a round is open gets its invitation (once).
            "rating late invitations",
            lambda: ratings.invite_late_agencies(
                deps.sessions, clock, RATING_RENDERERS, locale_of=member_locale
            ),
        ),
        (
            # A round opened again with its meeting: the invitation again, once.
            "rating reopened invitations",
            lambda: ratings.invite_reopened(
                deps.sessions, clock, RATING_RENDERERS, replica=replica, locale_of=member_locale
            ),
        ),
        (
            "rating reminders",
            lambda: ratings.send_due_reminders(
                deps.sessions, clock, RATING_RENDERERS, replica=replica, locale_of=member_locale
            ),
        ),
        (
            "rating close",
            lambda: ratings.close_due_rounds(
                deps.sessions,
                clock,
                RATING_RENDERERS,
                replica=replica,
                # A preview sent while the round was open is refreshed with the picture.
                on_closed=lambda s, meeting_id: picture_ready(
                    s, clock, meeting_id, locale_of=member_locale
                ),
                locale_of=member_locale,
            ),
        ),
        (
            "agendas",
            lambda: agenda.post_due(
                deps.sessions,
                clock,
                replica=replica,
                render=render_agenda,
                render_preview=render_preview,
                picture=ratings.picture_for_meeting,
                workers=parallel,
                locale_of=member_locale,
            ),
        ),
        (
            "agenda failures",
            in_transaction(lambda s: agenda.report_failed_posts(s, clock, locale_of=member_locale)),
        ),
        (
            "meeting DMs and minutes",
            lambda: minutes.run_due(deps.sessions, clock, replica=replica, locale_of=member_locale),
        ),
        (
            "consents",
            in_transaction(
                lambda s: cases.remind_expiring_consents(
                    s, clock, replica=replica, locale_of=member_locale, render=case_button_dm
                )
            ),
        ),
        ("expired consents", expired_consents),
        (
            "retention",
            in_transaction(
                lambda s: retention.run_daily(
                    s, clock, deps.retention_policy, replica=replica, locale_of=member_locale
                )
            ),
        ),
        (
            "log check",
            in_transaction(
                lambda s: logreview.send_monthly_reports(
                    s, clock, replica=replica, locale_of=member_locale
                )
            ),
        ),
        (
            "orphaned actions",
            in_transaction(
                lambda s: actions.release_orphaned_actions(
                    s, clock, messages, locale_of=member_locale
                )
            ),
        ),
        (
            "action reminders",
            in_transaction(
                lambda s: actions.send_reminders(
                    s, clock, messages, replica=replica, locale_of=member_locale
                )
            ),
        ),
        (
            "feedback surveys",
            in_transaction(
                lambda s: feedback.send_due(
                    s, clock, SurveyDMs(), replica=replica, locale_of=member_locale
                )
            ),
        ),
        (
            "steering agendas",
            lambda: steering.post_due_supplements(
                deps.sessions, clock, SupplementPosts(), replica=replica
            ),
        ),
        (
            "annual reports",
            lambda: steering.send_due_annual_reports(
                deps.sessions, clock, replica=replica, locale_of=member_locale
            ),
        ),
        (
            "half-year reviews",
            lambda: review.send_due(
                deps.sessions, clock, ReviewPosts(), replica=replica, locale_of=member_locale
            ),
        ),
    ]
    settings = runtime.settings
    crash = settings.test_crash_after_post if settings.allow_test_clock else None
    gateway = outgoing.gateway(
        deps, lambda team_id: runtime.client_for_team(team_id), crash_after_post=crash
    )
    # While the jobs build (a Thursday's agendas take a whole 45 s budget), what they have
    # queued is sent at once, so posts flow instead of coming in waves after each build.
    # PostgreSQL only: SQLite serialises the writers anyway.
    flow = (
        _Flow(deps.sessions, clock, gateway, replica=replica, workers=parallel)
        if parallel > 1
        else None
    )
    try:
        for name, job in jobs:
            try:
                job()
            except Exception:
                log.exception("scheduled job %r failed; it is tried again at the next pass", name)
    finally:
        early = flow.stop() if flow is not None else scheduling.Delivery(0, 0, 0)
    rest = deliver_all(deps.sessions, clock, gateway, replica=replica, workers=parallel)
    return scheduling.Delivery(
        sent=early.sent + rest.sent,
        failed=early.failed + rest.failed,
        retrying=early.retrying + rest.retrying,
    )


class _Flow:
    """Delivers the outbox in a thread of its own while the tick's jobs run. Each row is
    still claimed with its lease before it is sent (scheduling.deliver), so this thread,
    the tick's final delivery and other replicas never send one message twice."""

    IDLE_WAIT = 0.2  # seconds between looks at an empty outbox
    BATCH = 50

    def __init__(
        self,
        sessions: Any,
        clock: Any,
        gateway: WebApiGateway,
        *,
        replica: str,
        workers: int,
    ) -> None:
        self._stop = threading.Event()
        self._counts = [0, 0, 0]
        self._args = (sessions, clock, gateway)
        self._replica = replica
        self._workers = workers
        self._thread = threading.Thread(target=self._run, name="outbox-flow", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        sessions, clock, gateway = self._args
        while not self._stop.is_set():
            try:
                batch = scheduling.deliver(
                    sessions,
                    clock,
                    gateway,
                    replica=self._replica,
                    limit=self.BATCH,
                    workers=self._workers,
                )
            except Exception:
                log.exception("delivering the outbox failed; the tick's delivery tries again")
                self._stop.wait(1.0)
                continue
            self._counts[0] += batch.sent
            self._counts[1] += batch.failed
            self._counts[2] += batch.retrying
            if batch.sent + batch.failed + batch.retrying == 0:
                self._stop.wait(self.IDLE_WAIT)

    def stop(self) -> scheduling.Delivery:
        self._stop.set()
        self._thread.join()
        sent, failed, retrying = self._counts
        return scheduling.Delivery(sent=sent, failed=failed, retrying=retrying)


def deliver_all(
    sessions: Any,
    clock: Any,
    gateway: WebApiGateway,
    *,
    replica: str,
    budget_seconds: float = DELIVERY_BUDGET,
    workers: int = 1,
) -> scheduling.Delivery:
    """Deliver the outbox in batches until it is empty (or the budget is spent), so a
    Thursday burst of agendas does not wait a tick per batch."""
    started = time.monotonic()
    sent = failed = retrying = 0
    while True:
        batch = scheduling.deliver(
            sessions, clock, gateway, replica=replica, limit=200, workers=workers
        )
        sent, failed, retrying = sent + batch.sent, failed + batch.failed, retrying + batch.retrying
        if batch.sent + batch.failed == 0 or time.monotonic() - started > budget_seconds:
            return scheduling.Delivery(sent=sent, failed=failed, retrying=retrying)


def _skipped_ticks(record: logging.LogRecord) -> bool:
    """False for APScheduler's 'Execution of job "…" skipped: maximum number of running
    instances reached' line. Matched by its start: bot.logs cuts a library's line before its
    first detail (here 'Execution of job') when the record is made, before filters see it;
    no other line of APScheduler starts so."""
    return not record.getMessage().startswith("Execution of job")


def start_scheduler(
    runtime: Any,
    *,
    interval_seconds: float = 60,
    after_tick: Callable[[scheduling.Delivery], None] | None = None,
) -> BackgroundScheduler:
    """``after_tick``: called at the end of each pass that ran (with what it delivered), in
    the pass's thread (the runner uses it to recycle itself between passes)."""
    # APScheduler logs every tick at INFO: two lines per tick and worker drown the log (the
    # sandbox ticks every other second). Failures are still logged, by tick() and by it.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    # A tick that outlasts the interval makes APScheduler say "maximum number of running
    # instances reached" at WARNING on every skipped tick: the same noise, quieted too.
    logging.getLogger("apscheduler.scheduler").addFilter(_skipped_ticks)
    scheduler = BackgroundScheduler(timezone="UTC")

    def tick() -> None:
        TICKS.inc()
        try:
            delivered = run_due_work(runtime)
        except Exception:
            log.exception("scheduled work failed; retrying at the next tick")
            return
        if after_tick is not None:
            after_tick(delivered)

    scheduler.add_job(
        tick,
        "interval",
        seconds=interval_seconds,
        id=JOB_ID,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    return scheduler
