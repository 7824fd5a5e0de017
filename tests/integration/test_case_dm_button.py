"""The case DM ("FOSSAM: FOS-2026-001 tas upp …") carries a button that opens the case. A DM
is no forum's channel, so its door asks membership of the case's own forum, with the same
rule and audit as the case list's button. Crafted values (another forum's case, another
workspace's, none) are told alike and audited; an agency the case's consent does not cover
gets the case without its details, as from the list."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from sqlalchemy import delete, select

from domain import languages
from domain.cases import change_status
from domain.forums import require_member
from handlers.deps import settle_stores
from storage.db import transaction
from storage.models import AuditEvent, Case, CaseStatus, Effect, Forum, MemberLanguage
from tests.conftest import Bot
from tests.integration.test_case_flow import ADMIN, ELEVHALSA, SOCIAL, SUMMARY, submit_case
from tests.integration.test_case_flow import forum as forum
from tests.integration.test_disclosure_table import (
    COVERED,
    NON_MEMBER,
    NOT_COVERED,
    OTHER_FORUM,
    OTHER_WS,
    OUTPUT_METHODS,
    RAISER,
    Reader,
    build_world,
    reader_for,
)
from tests.integration.test_disclosure_table import SUMMARY as WORLD_SUMMARY
from tests.support.audit_log import last_id, refusals_in, refusals_since, refused_once_each

# A DM is no forum's channel: "… i det här forumet" would read oddly there.
REFUSED_SV = "Ärendet finns inte, eller så har du inte tillgång till det."
REFUSED_EN = "That case does not exist, or you do not have access to it."
IN_THIS_FORUM = "i det här forumet"
NO_CASE = 987_654


def _press(bot: Bot, r: Reader, value: str) -> list[dict[str, Any]]:
    """The DM's button pressed in the reader's DM with the bot: what Slack was shown."""
    since = len(bot.slack.calls)
    r.driver.block_action("case_open_dm", user=r.user, value=value, channel=f"D{r.user}")
    bot.wait_idle()
    shown = [c.args for c in bot.slack.calls[since:] if c.method in OUTPUT_METHODS]
    return [{k: v for k, v in a.items() if k != "trigger_id"} for a in shown]


def _modal(shown: list[dict[str, Any]]) -> dict[str, Any]:
    views: list[dict[str, Any]] = [a["view"] for a in shown if "view" in a]
    assert len(views) == 1, views
    return views[0]


def test_the_case_dm_has_a_button_that_opens_the_case_for_its_agencies(
    bot: Bot,
    forum: dict[str, int],
) -> None:
    """Raised through the modal: each DM to an agency that must take part carries "open the
    case", naming the case by its id alone; pressed, it opens the case's modal, an audited
    read: the summary for the agency the consent covers, not for the one it does not."""
    submit_case(bot, forum)
    dms = bot.slack.wait_for("chat.postMessage", count=3)[1:]
    with bot.sessions() as s:
        case_id = s.scalars(select(Case.id)).one()
    for dm in dms:
        assert dm.args["text"].startswith("FOSSAM: FOS-2026-001 tas upp torsdag 26 november")
        buttons = [e for b in dm.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert [(b["text"]["text"], b["action_id"], b["value"]) for b in buttons] == [
            ("Öppna ärendet", "case_open_dm", str(case_id))
        ]
    for user, sees in ((ELEVHALSA, True), (SOCIAL, False)):
        mark = last_id(bot)
        r = Reader(user, bot.driver, f"D{user}", forum["forum"])
        view = _modal(_press(bot, r, str(case_id)))
        assert view["callback_id"] == "case_detail"
        assert "FOS-2026-001" in json.dumps(view, ensure_ascii=False)
        assert (SUMMARY in json.dumps(view, ensure_ascii=False)) is sees
        assert json.loads(view["private_metadata"])["forum_id"] == forum["forum"]
        with bot.sessions() as s:
            reads = s.scalars(
                select(AuditEvent).where(AuditEvent.id > mark, AuditEvent.actor == user)
            ).all()
        assert [(e.object_type, (e.detail or {}).get("surface")) for e in reads] == [
            ("case", "case_modal")
        ]
        assert not refusals_since(bot, mark)
    bot.slack.assert_no_violations()


def test_the_dm_button_shows_what_the_list_button_shows_to_each_member(bot: Bot) -> None:
    """Members of the case's forum: the DM's button opens the same modal (blocks) as the
    case list's button in the forum's channel, details by the same rule."""
    world = build_world(bot)
    for user in (RAISER, COVERED, NOT_COVERED):
        r = reader_for(bot, world, user)
        from_dm = _modal(_press(bot, r, str(world.case)))
        since = len(bot.slack.calls)
        r.driver.block_action("case_open", user=user, value=str(world.case), channel="C0001")
        bot.wait_idle()
        (from_list,) = [c.args["view"] for c in bot.slack.calls[since:] if "view" in c.args]
        assert from_dm["blocks"] == from_list["blocks"], user
        assert (WORLD_SUMMARY in json.dumps(from_dm, ensure_ascii=False)) is (user != NOT_COVERED)


def test_a_crafted_dm_button_naming_a_case_outside_the_users_forums_is_refused_and_audited(
    bot: Bot,
) -> None:
    """Another forum's admin, another workspace's user and a member of no forum press the
    DM's button with this forum's case id: told what an id of no case tells them (byte for
    byte: nothing says the case exists), no modal of the case, and each attempt audited
    once in the case's forum as an attempt at the case's modal, as what it is."""
    world = build_world(bot)
    mark = last_id(bot)
    for who in (OTHER_FORUM, OTHER_WS, NON_MEMBER):
        r = reader_for(bot, world, who)
        shown = _press(bot, r, str(world.case))
        text = json.dumps(shown, ensure_ascii=False)
        assert REFUSED_SV in text and IN_THIS_FORUM not in text, text
        assert WORLD_SUMMARY not in text and world.reference not in text
        assert all(_modal([a]).get("callback_id") != "case_detail" for a in shown if "view" in a)
        assert shown == _press(bot, r, str(NO_CASE)), "the answer tells that the case exists"
    assert refusals_in(bot, mark, world.forum) == refused_once_each(
        ((OTHER_FORUM, "not_a_member"), (OTHER_WS, "no_forum_here"), (NON_MEMBER, "not_a_member")),
        object_type="case",
        object_ref=world.reference,
        surface="case_modal",
    )


def test_the_dm_button_opens_the_case_in_the_stored_language_without_asking_slack(
    bot: Bot,
    forum: dict[str, int],
) -> None:
    """The views.open trigger lasts 3 s: the press asks Slack nothing before it, even for
    a member whose language is known nowhere (Slack's users.info slow). One whose language
    this replica has forgotten, but a replica stored, gets the modal in it (English)."""
    submit_case(bot, forum)
    bot.slack.wait_for("chat.postMessage", count=3)
    bot.wait_idle()
    settle_stores()
    with bot.sessions() as s:
        case_id = s.scalars(select(Case.id)).one()
    with transaction(bot.sessions) as s:
        s.execute(delete(MemberLanguage))
    languages.remember(bot.sessions, bot.clock, "T0001", {ELEVHALSA: "en"})
    bot.runtime.deps.monotonic = lambda: time.monotonic() + 7200  # the cache has forgotten

    def slow_users_info(call: Any) -> None:
        if call.method == "users.info":
            time.sleep(2.0)

    bot.slack.add_listener(slow_users_info)
    for user, locale in ((SOCIAL, "sv"), (ELEVHALSA, "en")):
        since = len(bot.slack.calls)
        view = _modal(
            _press(bot, Reader(user, bot.driver, f"D{user}", forum["forum"]), str(case_id))
        )
        methods = [c.method for c in bot.slack.calls[since:]]
        assert "users.info" not in methods[: methods.index("views.open")], (user, methods)
        assert json.loads(view["private_metadata"])["locale"] == locale
        assert "FOS-2026-001" in json.dumps(view, ensure_ascii=False)


def test_the_dm_button_of_a_case_removed_by_retention_says_so_in_words_for_a_dm(
    bot: Bot,
    forum: dict[str, int],
) -> None:
    """The case DM's button, pressed after retention removed the case: the member is told,
    in their language, in words that read right in a DM (no "in this forum": a DM is no
    forum's channel), exactly what an id of no case at all tells them (nothing more)."""
    bot.slack.set_user(SOCIAL, locale="en-US")
    submit_case(bot, forum)
    bot.slack.wait_for("chat.postMessage", count=3)
    bot.wait_idle()
    with bot.sessions() as s:
        case_id = s.scalars(select(Case.id)).one()
    with transaction(bot.sessions) as s:
        forum_row = s.get(Forum, forum["forum"])
        assert forum_row is not None
        raiser = require_member(s, forum=forum_row, slack_user_id=ADMIN)
        change_status(
            s, bot.clock, access=raiser, case_id=case_id, to=CaseStatus.CLOSED, effect=Effect.YES
        )
    bot.clock.set(bot.clock.now() + dt.timedelta(days=1827))  # five years on
    bot.run_due_work()
    with bot.sessions() as s:
        assert s.get(Case, case_id) is None, "retention removed the case"
    for user, refused in ((ELEVHALSA, REFUSED_SV), (SOCIAL, REFUSED_EN)):
        r = Reader(user, bot.driver, f"D{user}", forum["forum"])
        shown = _press(bot, r, str(case_id))
        text = json.dumps(shown, ensure_ascii=False)
        assert refused in text and IN_THIS_FORUM not in text and "in this forum" not in text, text
        assert "FOS-2026-001" not in text and SUMMARY not in text
        assert shown == _press(bot, r, str(NO_CASE)), "the same answer as for no case at all"
    bot.slack.assert_no_violations()
