"""A case raised by mistake (wrong forum, wrong child, a duplicate) deleted from its modal
("Ta bort ärendet (registrerat av misstag)"): by the member who raised it or a coordinator,
while nothing was built on it. It goes as retention erases a case (its consent and agencies
with it), from the list and from the agenda of a meeting to come; the channel's announcement
says it was removed, its reference opens nothing (the answer for an unknown reference), and
the audit log keeps the reference and the reason alone. Anyone else is refused (outsiders
as at any of the case's doors), and a case with an action is refused with a text saying to
close it instead."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import func, select

from storage.models import (
    AgendaItem,
    AuditAction,
    AuditEvent,
    Case,
    Consent,
    case_agencies,
    consent_agencies,
)
from tests.conftest import Bot
from tests.integration.test_case_flow import ADMIN, ELEVHALSA, SOCIAL, submit_case
from tests.integration.test_case_flow import forum as forum  # the fixture
from tests.integration.test_disclosure_table import (
    COVERED,
    NON_MEMBER,
    OTHER_FORUM,
    OTHER_WS,
    OUTSIDERS_REFUSED,
    RAISER,
    Reader,
    World,
    build_world,
    reader_for,
)
from tests.support.agenda_flow import CHANNEL, channel_posts, local, text_of, tick
from tests.support.audit_log import last_id, refusals_in, refused_once_each

DELETE = "case_delete_mistake"
BUTTON_SV = "Ta bort ärendet (registrerat av misstag)"
DELETED_SV = "är borttaget (registrerat av misstag)"
REMOVED_SV = "togs bort (registrerat av misstag)"
NOT_THEIRS_SV = "Bara den som lyfte ärendet eller en samordnare kan ta bort det."
BUILT_ON_SV = "Avsluta ärendet i stället."
REFUSED_SV = "Det ärendet finns inte i det här forumet."
NOT_A_MEMBER_SV = "Det kan bara forumets medlemmar göra."
NO_CASE = 987_654


def _views(bot: Bot, since: int) -> str:
    shown = [
        c.args.get("view")
        for c in bot.slack.calls[since:]
        if c.method in ("views.open", "views.push", "views.update")
    ]
    return json.dumps(shown, ensure_ascii=False, sort_keys=True)


def delete(bot: Bot, r: Reader, case_id: int) -> str:
    """The modal's delete button (after Slack's confirm), from the reader's forum's modal
    naming ``case_id``: what the bot showed."""
    since = len(bot.slack.calls)
    meta = json.dumps({"locale": "sv", "forum_id": r.forum_id, "case_id": case_id})
    r.driver.block_action(
        DELETE, user=r.user, value=str(case_id), view={"id": "V77", "private_metadata": meta}
    )
    bot.wait_idle()
    return _views(bot, since)


def _count(bot: Bot, table: Any, *where: Any) -> int:
    with bot.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def _opened(bot: Bot, command: str, user: str) -> str:
    """What ``/samverkan <command>`` showed (a modal opened, or the reply)."""
    before = len(bot.slack.calls)
    bot.driver.command(command, user=user)
    bot.wait_idle()
    return json.dumps(
        [
            c.args
            for c in bot.slack.calls[before:]
            if c.method in ("views.open", "response_url", "chat.postEphemeral")
        ],
        ensure_ascii=False,
    )


def test_the_raiser_deletes_a_fresh_case_and_it_is_gone_everywhere(
    bot: Bot, forum: dict[str, int]
) -> None:
    assert submit_case(bot, forum, user=ELEVHALSA).json() is None  # FOS-2026-001
    reference = "FOS-2026-001"
    with bot.sessions() as s:
        case_id = s.scalars(select(Case.id)).one()
    tick(bot, local(2026, 11, 26, 8, 0))  # the agenda of today's 13:00 meeting is posted
    posts = channel_posts(bot)
    announcement = next(p for p in posts if "Nytt ärende" in text_of(p))
    agenda = next(p for p in posts if "Dagordning" in text_of(p))
    assert reference in text_of(announcement) and reference in text_of(agenda)
    # The raiser sees the button (with Slack's confirm); another agency's member does not.
    shown = _opened(bot, f"ärende {reference}", ELEVHALSA)
    assert BUTTON_SV in shown and "Ta bort FOS-2026-001?" in shown, shown
    assert BUTTON_SV not in _opened(bot, f"ärende {reference}", SOCIAL)

    assert _count(bot, Consent) == 1 and _count(bot, consent_agencies) == 1
    assert _count(bot, case_agencies) == 2
    assert _count(bot, AgendaItem, AgendaItem.case_id == case_id) == 1
    mark = last_id(bot)
    raiser = Reader(ELEVHALSA, bot.driver, CHANNEL, forum["forum"])
    shown = delete(bot, raiser, case_id)
    assert f"{reference} {DELETED_SV}" in shown, shown

    assert _count(bot, Case) == 0
    assert _count(bot, Consent) == 0
    assert _count(bot, case_agencies) == 0
    assert _count(bot, consent_agencies) == 0
    assert _count(bot, AgendaItem, AgendaItem.case_id.is_not(None)) == 0
    with bot.sessions() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.id > mark)).all()
        deleted = [e for e in events if e.action is AuditAction.DELETE]
        assert [(e.actor, e.object_type, e.object_ref, e.detail) for e in deleted] == [
            (ELEVHALSA, "case", reference, {"reason": "registrerat av misstag"})
        ]
    # The posted agenda no longer lists it; the announcement says it was removed.
    tick(bot, local(2026, 11, 26, 8, 5))
    updates = bot.slack.calls_to("chat.update", ok=True)
    on_agenda = [u for u in updates if u.args["ts"] == agenda.response["ts"]]
    assert on_agenda and reference not in text_of(on_agenda[-1])
    said = [u for u in updates if u.args["ts"] == announcement.response["ts"]]
    assert len(said) == 1 and f"{reference} {REMOVED_SV}" in text_of(said[0]), said
    # Gone from the list; its reference is told as an unknown one is.
    assert reference not in _opened(bot, "ärenden", ELEVHALSA)
    told = _opened(bot, f"ärende {reference}", ELEVHALSA)
    unknown = _opened(bot, "ärende FOS-2026-099", ELEVHALSA)
    assert "case_detail" not in told and reference in told
    # (each reply's response_url is its request's own)
    assert re.sub(r"/\d+/", "/", told.replace(reference, "FOS-2026-099")) == re.sub(
        r"/\d+/", "/", unknown
    )
    bot.slack.assert_no_violations()


def test_a_coordinator_deletes_another_agencys_fresh_case(bot: Bot, forum: dict[str, int]) -> None:
    assert submit_case(bot, forum, user=SOCIAL).json() is None
    with bot.sessions() as s:
        case_id = s.scalars(select(Case.id)).one()
    coordinator = Reader(ADMIN, bot.driver, CHANNEL, forum["forum"])
    assert f"FOS-2026-001 {DELETED_SV}" in delete(bot, coordinator, case_id)
    assert _count(bot, Case) == 0


def _state(bot: Bot, world: World) -> tuple[Any, ...]:
    with bot.sessions() as s:
        case = s.get(Case, world.case)
        assert case is not None
        status = case.status
    return (
        status,
        _count(bot, Consent, Consent.case_id == world.case),
        _count(bot, case_agencies, case_agencies.c.case_id == world.case),
        _count(bot, AgendaItem, AgendaItem.case_id == world.case),
    )


def _deletions(bot: Bot) -> int:
    return _count(
        bot,
        AuditEvent,
        AuditEvent.action == AuditAction.DELETE,
        AuditEvent.object_type == "case",
    )


def test_others_are_refused_and_a_case_with_an_action_is_to_be_closed_instead(
    bot: Bot,
) -> None:
    """Another forum's admin and another workspace's user (crafted buttons naming the
    case's id from their own forum's modal) and a non-member are told what an id of no case
    tells them, audited once each in the case's forum; another agency's member is told who
    may delete it; the raiser, whose case has an action, minutes and a held meeting, is told
    to close it. Nothing changes."""
    world = build_world(bot)
    before = _state(bot, world)
    mark = last_id(bot)
    expected = {OTHER_FORUM: REFUSED_SV, OTHER_WS: REFUSED_SV, NON_MEMBER: NOT_A_MEMBER_SV}
    for who, answer in expected.items():
        r = reader_for(bot, world, who)
        shown = delete(bot, r, world.case)
        assert answer in shown and world.reference not in shown, shown
        assert shown == delete(bot, r, NO_CASE), "the answer tells that the case exists"
    assert refusals_in(bot, mark, world.forum) == refused_once_each(
        OUTSIDERS_REFUSED, object_type="case", object_ref=world.reference, surface="case_modal"
    )
    shown = delete(bot, reader_for(bot, world, COVERED), world.case)
    assert NOT_THEIRS_SV in shown, shown
    shown = delete(bot, reader_for(bot, world, RAISER), world.case)
    assert BUILT_ON_SV in shown and NOT_THEIRS_SV not in shown, shown
    assert _state(bot, world) == before
    assert _deletions(bot) == 0
