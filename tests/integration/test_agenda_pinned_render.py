"""The agendas of realistic forums (cases with agencies, due and follow-up actions, areas, a
closed rating round's picture, a long agenda in two messages), pinned byte for byte: what
the due-work job queues for Slack is the same before and after a change made only for speed
(issue 18's burst). The bench's own seeding builds the forums (PostgreSQL: it uses COPY)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import select

from bench._agenda_seed import AGENDA_TIME, seed
from bot.scheduler import replica_id
from domain import agenda, ratings
from handlers.outgoing import render_agenda, render_preview
from storage.models import OutboxMessage
from tests.conftest import Bot, postgresql_only

PINNED = Path(__file__).with_name("agenda_pinned_render.json")


def queued(bot: Bot) -> dict[str, object]:
    with bot.sessions() as s:
        rows = s.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.method, OutboxMessage.payload).order_by(
                OutboxMessage.dedupe_key
            )
        ).all()
    return {key: {"method": method, "payload": payload} for key, method, payload in rows}


@postgresql_only
def test_realistic_agendas_render_as_pinned(bot: Bot, database_url: str) -> None:
    """Three forums (one with a two-message agenda), twenty open cases each: every queued
    message, text and blocks, is exactly as pinned."""
    seed(database_url, 3, 3, 20)
    bot.clock.set(AGENDA_TIME)
    run = agenda.post_due(
        bot.sessions,
        bot.clock,
        replica=replica_id(),
        render=render_agenda,
        render_preview=render_preview,
        picture=ratings.picture_for_meeting,
        workers=1,
    )
    assert run.posted == 3
    got = queued(bot)
    text = json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if os.environ.get("SAMVERKAN_PIN_AGENDA") == "1":  # written once, from the code before
        PINNED.write_text(text, encoding="utf-8")
    assert text == PINNED.read_text(encoding="utf-8")
