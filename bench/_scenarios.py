"""The scenarios of ``bench.ack_latency``: Slack-shaped request bodies (``/samverkan hjälp``,
the forum settings modal's submission, opening a case) and the forums and case they use.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.client
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bench._load import (
    EVENTS_PATH,
    FORM,
    LOOPBACK,
    HelpAnswers,
    Scenario,
    Signer,
    plain_ack,
    saved_notice,
)
from bench._servers import SetupError, db_scalar

ADMIN = "U1"
CHANNEL = "C1"


def help_scenario(
    team_id: str, response_url_base: str, *, channel_id: str = CHANNEL, user_id: str = ADMIN
) -> Scenario:
    """Request ``n`` is ``/samverkan hjälp`` by ``user_id`` in ``channel_id``."""
    run = uuid.uuid4().hex[:8]

    def body(n: int) -> bytes:
        fields = {
            "token": "verification-token-stub",
            "team_id": team_id,
            "team_domain": "samverkan-bench",
            "channel_id": channel_id,
            "channel_name": f"kanal-{channel_id.lower()}",
            "user_id": user_id,
            "user_name": f"user.{user_id.lower()}",
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
        name,
        f"forum_edit submission on {where} (validate, write forum + audit, ack)",
        body,
        check=saved_notice,
    )


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
