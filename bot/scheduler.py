"""Wakes the process up every minute to do what the database says is due.

Every replica and every worker runs it: the claim rows and the outbox leases make each
effect happen once. APScheduler keeps no jobs of its own (a fixed job id, replaced on
start), so nothing depends on which process runs when.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from domain import actions, cases, logreview, meetings, ratings, retention, scheduling
from handlers.blocks.actions import ScheduledMessages
from handlers.blocks.ratings import RENDERERS as RATING_RENDERERS
from handlers.gateway import WebApiGateway
from storage.db import transaction

log = logging.getLogger(__name__)
JOB_ID = "samverkan-due-work"


def replica_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_due_work(runtime: Any) -> scheduling.Delivery:
    """One pass: claim what is due, then deliver the outbox."""
    deps = runtime.deps
    replica = replica_id()
    with transaction(deps.sessions) as session:
        cases.remind_expiring_consents(session, deps.clock, replica=replica)
    with transaction(deps.sessions) as session:
        retention.run_daily(session, deps.clock, deps.retention_policy, replica=replica)
    with transaction(deps.sessions) as session:
        logreview.send_monthly_reports(session, deps.clock, replica=replica)
    messages = ScheduledMessages()
    with transaction(deps.sessions) as session:
        actions.release_orphaned_actions(session, deps.clock, messages)
    with transaction(deps.sessions) as session:
        actions.send_reminders(session, deps.clock, messages, replica=replica)
    # Rating rounds (situation picture): meetings planned ahead, then open, remind, close.
    with transaction(deps.sessions) as session:
        meetings.sync_due_forums(session, deps.clock)
    with transaction(deps.sessions) as session:
        ratings.open_due_rounds(session, deps.clock, RATING_RENDERERS, replica=replica)
    with transaction(deps.sessions) as session:
        ratings.send_due_reminders(session, deps.clock, RATING_RENDERERS, replica=replica)
    with transaction(deps.sessions) as session:
        ratings.close_due_rounds(session, deps.clock, RATING_RENDERERS, replica=replica)
    gateway = WebApiGateway(lambda team_id: runtime.client_for_team(team_id))
    return scheduling.deliver(deps.sessions, deps.clock, gateway, replica=replica)


def start_scheduler(runtime: Any, *, interval_seconds: int = 60) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")

    def tick() -> None:
        try:
            run_due_work(runtime)
        except Exception:
            log.exception("scheduled work failed; retrying at the next tick")

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
