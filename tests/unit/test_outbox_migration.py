"""Migration 0010_retention empties the payloads of outbox rows delivered before it (only
where they went is kept); pending rows are left to be sent. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import text

from storage.db import create_db_engine, migrate


def test_delivered_outbox_rows_lose_their_text(empty_database: str) -> None:
    migrate(empty_database, "0006")
    engine = create_db_engine(empty_database)
    rows = [
        ("sent", {"channel": "U2", "text": "Insats: Hemlig beskrivning"}),
        ("failed", {"channel": "C0001", "blocks": [{"type": "section"}]}),
        ("sent", {"content_b64": "AAAA", "filename": "x.png"}),
        ("pending", {"channel": "U3", "text": "Väntar på att skickas"}),
    ]
    with engine.begin() as conn:
        for n, (status, payload) in enumerate(rows):
            conn.execute(
                text(
                    "INSERT INTO outbox (method, payload, dedupe_key, status, created_at,"
                    " not_before, attempts) VALUES ('chat.postMessage', :payload, :key,"
                    " :status, '2026-11-23 09:00:00', '2026-11-23 09:00:00', 0)"
                ),
                {"payload": json.dumps(payload), "key": f"k{n}", "status": status},
            )
    engine.dispose()
    migrate(empty_database)
    engine = create_db_engine(empty_database)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT dedupe_key, payload FROM outbox ORDER BY id")).all()
    engine.dispose()
    payloads = {key: p if isinstance(p, dict) else json.loads(p) for key, p in found}
    assert payloads == {
        "k0": {"channel": "U2"},
        "k1": {"channel": "C0001"},
        "k2": {},
        "k3": {"channel": "U3", "text": "Väntar på att skickas"},
    }
