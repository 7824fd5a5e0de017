"""Members never move silently, texts can be corrected and masked leaving nothing behind, and
the access-request export in Slack covers only the requester's forums in this workspace."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import String, cast, select

from domain import forums as fs
from domain import scheduling
from domain.actions import ActionDraft, create_action
from domain.cases import CaseDraft, raise_case
from storage.db import transaction
from storage.models import (
    AuditAction,
    AuditEvent,
    Case,
    ConsentGiver,
    Member,
    OutboxMessage,
    Role,
    SipStatus,
)
from tests.conftest import SIGNING_SECRET, Bot
from tests.support.forums import forum_draft
from tests.support.slack_driver import (
    SlackDriver,
    input_blocks,
    multi_users_values,
    plain_value,
    radio_value,
    select_value,
    state_values,
)

ADMIN, ANNA, ERIK, LEJLA, REVIEWER, OUTSIDER = "U1", "U2", "U3", "U4", "U5", "U6"
AGENCIES = ["Grundskola", "Socialtjänst/IFO", "Öppna insatser/familjestöd", "Elevhälsa"]
NAME_IN_SUMMARY = "Oro för Kalle Andersson i klass 7B"


def make_forum(
    bot: Bot, *, channel: str = "C0001", code: str = "FOS", team: str = "T0001", actor: str = ADMIN
) -> dict[str, int]:
    with transaction(bot.sessions) as s:
        forum = fs.create_forum(
            s,
            bot.clock,
            team_id=team,
            channel_id=channel,
            actor=actor,
            draft=forum_draft(code=code, agencies=AGENCIES),
        )
        return {"forum": forum.id, **{a.name: a.id for a in forum.agencies}}


def submit_members(
    bot: Bot,
    world: dict[str, int],
    users: list[str],
    agency: str,
    *,
    version: int = 0,
    by: str = ADMIN,
) -> Any:
    values = state_values(
        {
            (f"users.{version}", "value"): multi_users_values(users),
            (f"agency.{version}", "value"): select_value(str(world[agency])),
            (f"role.{version}", "value"): radio_value("member"),
        }
    )
    meta = json.dumps({"locale": "sv", "forum_id": world["forum"], "version": version})
    return bot.driver.view_submission(
        "forum_members", values, user=by, private_metadata=meta, blocks=input_blocks(values)
    )


def agency_of(bot: Bot, user: str) -> str | None:
    with bot.sessions() as s:
        member = s.scalars(select(Member).where(Member.slack_user_id == user)).first()
        return member.agency.name if member else None


def test_a_two_step_add_moves_nobody_and_a_move_is_confirmed_and_reported(bot: Bot) -> None:
    world = make_forum(bot)
    with transaction(bot.sessions) as s:
        forum = fs.get_forum(s, forum_id=world["forum"], team_id="T0001")
        fs.add_members(
            s,
            bot.clock,
            forum=forum,
            actor=ADMIN,
            slack_user_ids=[REVIEWER],
            agency_id=world["Grundskola"],
            role=Role.REVIEWER,
        )
    first = submit_members(bot, world, [ANNA], "Grundskola").json()
    # The updated modal has a fresh, empty people picker (a new block id).
    assert first["response_action"] == "update"
    ids = [b.get("block_id") for b in first["view"]["blocks"]]
    assert "users.1" in ids and "users.0" not in ids
    submit_members(bot, world, [ERIK], "Socialtjänst/IFO", version=1)
    # Even if a client re-sends earlier picks, nobody is moved without a confirm step.
    asked = submit_members(
        bot, world, [ANNA, ERIK, LEJLA], "Öppna insatser/familjestöd", version=2
    ).json()
    assert asked["response_action"] == "push"
    text = json.dumps(asked["view"], ensure_ascii=False)
    assert "är redan med för Grundskola" in text and "Flytta" in text
    assert (agency_of(bot, ANNA), agency_of(bot, ERIK), agency_of(bot, LEJLA)) == (
        "Grundskola",
        "Socialtjänst/IFO",
        None,
    )
    # Confirmed: moved, audited with the old agency, and the log reviewer is told by DM.
    bot.driver.view_submission(
        "forum_members_move", {}, user=ADMIN, private_metadata=asked["view"]["private_metadata"]
    )
    assert agency_of(bot, ANNA) == "Öppna insatser/familjestöd"
    with bot.sessions() as s:
        moved = s.scalars(
            select(AuditEvent).where(
                AuditEvent.object_type == "member", AuditEvent.object_ref == ANNA
            )
        ).all()
    assert moved[-1].detail == {
        "agency": "Öppna insatser/familjestöd",
        "role": "member",
        "from_agency": "Grundskola",
    }

    # Queued in the outbox, and maybe sent already (a sent row's payload is emptied).
    def told() -> set[str]:
        with bot.sessions() as s:
            rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
            queued = [dict(m.payload or {}) for m in rows]
        sent = [dict(c.args) for c in bot.slack.calls_to("chat.postMessage")]
        return {
            str(p.get("text", ""))
            for p in queued + sent
            if p.get("channel") == REVIEWER and p.get("text")
        }

    assert len(told()) == 2  # Anna and Erik moved
    assert any(ANNA in text and "i stället för Grundskola" in text for text in told())
    # Welcomed once, when they joined: Lejla on the confirmed move, not Anna and Erik again.
    bot.wait_idle()

    def welcomed(user: str) -> int:
        return sum(
            1
            for c in bot.slack.calls_to("chat.postMessage")
            if c.args.get("channel") == user and c.args.get("text", "").startswith("Välkommen")
        )

    assert (welcomed(ANNA), welcomed(ERIK), welcomed(LEJLA)) == (1, 1, 1)
    assert "*Öppna insatser/familjestöd*" in str(
        [c.args for c in bot.slack.calls_to("chat.postMessage") if c.args.get("channel") == LEJLA]
    )


def test_nobody_changes_their_own_agency(bot: Bot) -> None:
    world = make_forum(bot)
    reply = submit_members(bot, world, [ADMIN], "Socialtjänst/IFO").json()
    assert reply["response_action"] == "errors"
    assert "egen verksamhet" in json.dumps(reply, ensure_ascii=False)
    assert agency_of(bot, ADMIN) == "Grundskola"


def raise_with_name(bot: Bot, world: dict[str, int]) -> tuple[int, int]:
    with transaction(bot.sessions) as s:
        forum = fs.get_forum(s, forum_id=world["forum"], team_id="T0001")
        access = fs.require_member(s, forum=forum, slack_user_id=ADMIN)
        case, _ = raise_case(
            s,
            bot.clock,
            access=access,
            draft=CaseDraft(
                summary=NAME_IN_SUMMARY,
                concerns=["school_absence"],
                age_band="13-15",
                agency_ids=[],
                consent_giver=ConsentGiver.NONE,
                consent_agency_ids=[],
                consent_given_on=None,
                consent_expires_on=None,
                sip=SipStatus.NOT_RELEVANT,
                meeting=None,
            ),
        )
        description = f"Ring om {NAME_IN_SUMMARY}"
        action, _ = create_action(
            s,
            bot.clock,
            access=access,
            draft=ActionDraft(
                description=description,
                agency_id=world["Grundskola"],
                owner=ADMIN,
                due_on=bot.clock.now().date() + dt.timedelta(days=3),
            ),
        )
        # A DM that repeats the text waits in the outbox.
        scheduling.enqueue(
            s,
            bot.clock,
            team_id="T0001",
            method="chat.postMessage",
            payload={"channel": ADMIN, "text": f"#{action.id} {description}"},
            dedupe_key="pending-copy",
        )
        return case.id, action.id


def test_a_summary_is_corrected_and_the_old_text_is_kept_nowhere(bot: Bot) -> None:
    world = make_forum(bot)
    case_id, _ = raise_with_name(bot, world)
    meta = json.dumps(
        {"locale": "sv", "forum_id": world["forum"], "field": "case.summary", "object_id": case_id}
    )
    # The corrected text passes the guard like the original: the input stays on error.
    typed = state_values({("text", "value"): plain_value("Ring 070-123 45 67")})
    refused = bot.driver.view_submission(
        "text_edit_submit", typed, user=ADMIN, private_metadata=meta, blocks=input_blocks(typed)
    ).json()
    assert refused["response_action"] == "errors"
    done = bot.driver.view_submission(
        "text_edit_submit",
        state_values({("text", "value"): plain_value("Oro för ett barn i årskurs 7")}),
        user=ADMIN,
        private_metadata=meta,
    ).json()
    assert done["response_action"] == "update"
    with bot.sessions() as s:
        assert s.get(Case, case_id).summary == "Oro för ett barn i årskurs 7"  # type: ignore[union-attr]
        left = s.scalars(
            select(OutboxMessage).where(cast(OutboxMessage.payload, String).contains("Kalle"))
        ).all()
        changed = s.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "case").order_by(AuditEvent.id)
        ).all()
    assert left == []
    # The correction is audited once (other events of the case, such as a read of its details
    # by what follows the ack, may come after it: no order is assumed).
    corrections = [e.detail for e in changed if (e.detail or {}).get("change") == "corrected"]
    assert corrections == [{"field": "summary", "change": "corrected"}]
    assert "Kalle" not in json.dumps([e.detail for e in changed], ensure_ascii=False)


def test_a_coordinator_masks_an_action_text_and_other_forums_ids_are_refused(bot: Bot) -> None:
    world = make_forum(bot)
    other = make_forum(bot, channel="C0002", code="OSF", actor=OUTSIDER)
    _, action_id = raise_with_name(bot, world)
    # The admin of another forum crafts a mask of this forum's action: refused, unchanged.
    crafted = json.dumps(
        {
            "locale": "sv",
            "forum_id": other["forum"],
            "field": "action.description",
            "object_id": action_id,
        }
    )
    bot.driver.view_submission("text_redact_submit", {}, user=OUTSIDER, private_metadata=crafted)
    meta = json.dumps(
        {
            "locale": "sv",
            "forum_id": world["forum"],
            "field": "action.description",
            "object_id": action_id,
        }
    )
    bot.driver.view_submission("text_redact_submit", {}, user=OUTSIDER, private_metadata=meta)
    with bot.sessions() as s:
        from storage.models import Action

        assert "Kalle" in s.get(Action, action_id).description  # type: ignore[union-attr]
    bot.driver.view_submission("text_redact_submit", {}, user=ADMIN, private_metadata=meta)
    with bot.sessions() as s:
        assert s.get(Action, action_id).description == "[maskerad]"  # type: ignore[union-attr]
        copies = s.scalars(
            select(OutboxMessage).where(cast(OutboxMessage.payload, String).contains("Kalle"))
        ).all()
    assert copies == []


def test_registerutdrag_covers_only_the_requesters_forums_in_this_workspace(bot: Bot) -> None:
    a = make_forum(bot)  # ADMIN coordinates forum A
    b = make_forum(bot, channel="C0002", code="OSF", actor=OUTSIDER)  # OUTSIDER forum B
    make_forum(bot, channel="C0009", code="FOS", team="T0002", actor=OUTSIDER)
    with transaction(bot.sessions) as s:
        forum = fs.get_forum(s, forum_id=a["forum"], team_id="T0001")
        fs.add_members(
            s,
            bot.clock,
            forum=forum,
            actor=ADMIN,
            slack_user_ids=[ANNA],
            agency_id=a["Grundskola"],
            role=Role.MEMBER,
        )
    raise_with_name(bot, a)
    # OUTSIDER (admin of B only) asks about ANNA, who is only in A: nothing from A.
    before = bot.slack.count("response_url")
    bot.driver.command(f"registerutdrag <@{ANNA}>", user=OUTSIDER, channel="C0002")
    reply = bot.slack.wait_for("response_url", count=before + 1)[-1]
    assert "Inget finns lagrat" in json.dumps(reply.args, ensure_ascii=False)
    assert not bot.slack.uploads
    # Another workspace's admin of the same code gets nothing either.
    other_ws = SlackDriver(
        bot.url, SIGNING_SECRET, team_id="T0002", response_url_base=bot.slack.response_url_base
    )
    other_ws.command(f"registerutdrag <@{ADMIN}>", user=OUTSIDER, channel="C0009")
    bot.slack.wait_for("response_url", count=before + 2)
    assert not bot.slack.uploads
    # ADMIN's own export from A: the case texts and the outbox copy are withheld.
    bot.driver.command(f"registerutdrag <@{ADMIN}>", user=ADMIN, channel="C0001")
    bot.slack.wait_for("files.completeUploadExternal", count=2)
    document = json.loads(next(u for u in bot.slack.uploads.values() if u.startswith(b"{")))
    text = json.dumps(document, ensure_ascii=False)
    assert "Kalle" not in text
    forums = {row["id"] for row in document["tables"]["forums"]}
    assert forums == {a["forum"]} and b["forum"] not in forums


def test_registerutdrag_is_in_the_log_of_the_forum_whose_data_left(bot: Bot) -> None:
    """ADMIN coordinates forum A and is a plain member of B. Asked in B's channel, the export
    carries ANNA's rows from A: it is recorded in A's log (A's reviewers see it in
    /samverkan logg), with ADMIN's agency in A, and not only in B's, whose data did not leave.
    It used to be recorded once, under the forum of the channel where it was asked."""
    a = make_forum(bot)
    b = make_forum(bot, channel="C0002", code="OSF", actor=OUTSIDER)
    with transaction(bot.sessions) as s:
        forum_a = fs.get_forum(s, forum_id=a["forum"], team_id="T0001")
        forum_b = fs.get_forum(s, forum_id=b["forum"], team_id="T0001")
        fs.add_members(
            s,
            bot.clock,
            forum=forum_a,
            actor=ADMIN,
            slack_user_ids=[ANNA],
            agency_id=a["Grundskola"],
            role=Role.MEMBER,
        )
        fs.add_members(
            s,
            bot.clock,
            forum=forum_b,
            actor=OUTSIDER,
            slack_user_ids=[ADMIN],
            agency_id=b["Elevhälsa"],
            role=Role.MEMBER,
        )
    raise_with_name(bot, a)
    bot.driver.command(f"registerutdrag <@{ANNA}>", user=ADMIN, channel="C0002")
    bot.slack.wait_for("response_url", count=1)  # the reply comes once the files are sent
    bot.slack.wait_for("files.completeUploadExternal", count=2)
    document = json.loads(next(u for u in bot.slack.uploads.values() if u.startswith(b"{")))
    assert {row["forum_id"] for row in document["tables"]["members"]} == {a["forum"]}
    with bot.sessions() as s:
        events = s.execute(
            select(AuditEvent.forum_id, AuditEvent.actor_agency_id).where(
                AuditEvent.object_type == "member",
                AuditEvent.object_ref == ANNA,
                AuditEvent.action == AuditAction.EXPORT,
            )
        ).all()
    assert events == [(a["forum"], a["Grundskola"])]
    bot.driver.command(f"logg <@{ADMIN}>", user=ADMIN, channel="C0001")
    review = json.dumps(bot.slack.wait_for("response_url", count=2)[-1].args, ensure_ascii=False)
    assert ANNA in review and "exporterade" in review
