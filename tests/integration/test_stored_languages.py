"""Each member's Slack language is stored in the database (domain.languages), so a
scheduled job never asks Slack inside its transaction and every replica uses what one of
them learned. The scheduler's "member languages" job asks Slack (outside any transaction, a
few a workspace per tick) for the members with no stored language or one older than a
day; adding members stores the languages their check told; a request's lookups store
what Slack says and read what is stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.wiring import Runtime, build_runtime
from domain import forums as fs
from domain import languages
from handlers import outgoing
from handlers.deps import Deps, settle_stores
from storage.db import transaction
from storage.models import Forum, MemberLanguage, Role
from tests.conftest import Bot, make_settings
from tests.integration import test_case_flow as case_flow
from tests.integration import test_dm_language as dm_language
from tests.integration import test_feedback as feedback
from tests.integration import test_forum_flow as forum_flow
from tests.integration import test_scheduled_work as scheduled_work
from tests.integration.test_dm_language import dms_to
from tests.support.statements import slack_calls_in_open_writes
from tests.support.wait import eventually

ENGLISH = "The consent for"  # the consent reminder, in English …
SWEDISH = "Samtycket"  # … and in Swedish


def stored(bot: Bot) -> dict[str, str | None]:
    with bot.sessions() as s:
        return {
            row.user_id: row.locale
            for row in s.scalars(select(MemberLanguage).where(MemberLanguage.team_id == "T0001"))
        }


def slack_refuses_users_info(bot: Bot) -> None:
    """users.info answers nothing useful from now on (every call is still recorded)."""
    bot.slack.fail_next("users.info", status=500, times=1000)


@pytest.fixture
def replica(bot: Bot, database_url: str) -> Iterator[Runtime]:
    """A second replica: its own app, Deps and caches, on the same database and Slack."""
    runtime = build_runtime(make_settings(database_url, bot.slack.base_url), clock=bot.clock)
    try:
        yield runtime
    finally:
        settle_stores()
        runtime.engine.dispose()


def test_a_scheduled_dm_uses_the_stored_language_and_never_asks_slack(bot: Bot) -> None:
    """Another replica stored that U2 reads English: the consent reminder is in English,
    though Slack answers no users.info, and the job asked Slack nothing."""
    reference = scheduled_work.forum_with_case(bot, expires_in_days=5)
    languages.remember(bot.sessions, bot.clock, "T0001", {"U1": "sv", "U2": "en"})
    slack_refuses_users_info(bot)
    bot.run_due_work()
    (english,) = dms_to(bot, "U2")
    (swedish,) = dms_to(bot, "U1")
    assert f"{ENGLISH} {reference}" in english
    assert SWEDISH in swedish
    assert bot.slack.count("users.info") == 0


def test_a_scheduled_dm_waits_for_no_hanging_slack(bot: Bot) -> None:
    """Both recipients' stored languages are two days old and Slack hangs on users.info:
    the "member languages" job asks once and gives the workspace up for the tick; the DM
    jobs ask nothing (a lookup there would hold their transaction) and use the stored
    languages, asking for them later."""
    scheduled_work.forum_with_case(bot, expires_in_days=7)
    languages.remember(bot.sessions, bot.clock, "T0001", {"U1": "en", "U2": "en"})
    bot.clock.advance(dt.timedelta(days=2))  # stale, and the reminder is due
    # Slack, when it answers at last, says the same: the refresh's late answer still lands
    # in the cache, and on a busy machine before the consent job asks (it said Swedish).
    for user in ("U1", "U2"):
        bot.slack.set_user(user, locale="en-US")
    bot.slack.delay_seconds = 2.0
    try:
        bot.run_due_work()
    finally:
        bot.slack.delay_seconds = 0
    reminders = [m for m in dms_to(bot, "U1") + dms_to(bot, "U2") if "consent" in m]
    assert len(reminders) == 2 and all(ENGLISH in m for m in reminders)
    # The refresh's one attempt (the oldest first), none from the jobs that sent the DMs.
    assert [c.args["user"] for c in bot.slack.calls_to("users.info")] == ["U1"]
    assert sorted(bot.runtime.deps.take_language_queue()) == [("T0001", "U1"), ("T0001", "U2")]


def test_the_member_languages_job_fills_the_table_and_a_later_dm_is_in_english(
    bot: Bot,
) -> None:
    """Nothing stored yet: the tick's "member languages" job asks Slack for the forum's
    members and stores what it says; a day's later DM is in English without asking."""
    reference = scheduled_work.forum_with_case(bot, expires_in_days=8)  # not due yet
    bot.slack.set_user("U2", locale="en-US")
    bot.run_due_work()
    assert stored(bot) == {"U1": "sv", "U2": "en"}
    assert not dms_to(bot, "U2")
    bot.slack.reset()
    slack_refuses_users_info(bot)
    bot.clock.advance(dt.timedelta(hours=22))  # the reminder is due; the rows still fresh
    bot.run_due_work()
    (english,) = dms_to(bot, "U2")
    assert f"{ENGLISH} {reference}" in english
    assert bot.slack.count("users.info") == 0


def test_a_second_replica_uses_the_stored_language_without_asking_slack(
    bot: Bot, replica: Runtime
) -> None:
    """One replica learned U2's English; the other's job DMs U2 in English and its
    request lookups know it too, neither asking Slack."""
    reference = scheduled_work.forum_with_case(bot, expires_in_days=8)
    bot.slack.set_user("U2", locale="en-US")
    bot.run_due_work()
    assert stored(bot)["U2"] == "en"
    bot.slack.reset()
    slack_refuses_users_info(bot)
    bot.clock.advance(dt.timedelta(hours=22))
    bot.run_due_work(replica)
    (english,) = dms_to(bot, "U2")
    assert f"{ENGLISH} {reference}" in english
    # A request on a third replica (its own cache, empty): one read, no users.info.
    third = Deps(sessions=bot.sessions, clock=bot.clock)
    client = bot.runtime.client_for_team("T0001")
    found = outgoing.known_locales(third, client, "T0001", ["U1", "U2"])
    assert found == {"U1": "sv", "U2": "en"}
    assert bot.slack.count("users.info") == 0


def test_a_language_changed_in_slack_is_picked_up_once_the_stored_one_is_stale(
    bot: Bot,
) -> None:
    """U2 was stored Swedish and switches Slack to English: within a day the jobs keep the
    stored language (no lookup), after a day the refresh asks again and the DM is English."""
    reference = scheduled_work.forum_with_case(bot, expires_in_days=10)
    bot.run_due_work()
    assert stored(bot)["U2"] == "sv"
    bot.slack.reset()
    bot.slack.set_user("U2", locale="en-GB")
    bot.clock.advance(dt.timedelta(hours=12))
    bot.run_due_work()
    assert bot.slack.count("users.info") == 0 and stored(bot)["U2"] == "sv"
    bot.clock.advance(dt.timedelta(days=2, hours=12))  # three days on: the reminder is due
    bot.run_due_work()
    assert stored(bot)["U2"] == "en"
    # The consent reminder (and the meeting's morning DM, that day too) in English.
    (consent,) = [m for m in dms_to(bot, "U2") if "consent" in m or SWEDISH in m]
    assert f"{ENGLISH} {reference}" in consent


def test_the_refresh_asks_at_most_a_few_members_a_workspace_per_tick(bot: Bot) -> None:
    """A forum of many members with no stored language: each tick asks Slack for at most
    the job's share of them, the next tick the rest."""
    scheduled_work.forum_with_case(bot, expires_in_days=30)
    people = [f"U{n}" for n in range(100, 130)]
    add_members(bot, people)
    bot.run_due_work()
    first = bot.slack.count("users.info")
    assert first == outgoing.LANGUAGE_LOOKUPS_PER_WORKSPACE
    bot.clock.advance(outgoing.LANGUAGE_SCAN_EVERY)
    bot.run_due_work()
    assert len(stored(bot)) == 2 + len(people)  # U1, U2 and the thirty
    assert bot.slack.count("users.info") == 2 + len(people)


def add_members(bot: Bot, users: list[str]) -> None:
    with transaction(bot.sessions) as s:
        forum = s.scalars(select(Forum)).one()
        fs.add_members(
            s,
            bot.clock,
            forum=forum,
            actor="U1",
            slack_user_ids=users,
            agency_id=forum.agencies[0].id,
            role=Role.MEMBER,
        )


def test_adding_members_stores_the_languages_their_check_told(bot: Bot) -> None:
    """The members modal checks each person with users.info: the same call's locale is
    stored, so no job or replica asks Slack for it again."""
    forum_id = forum_flow.create_forum(bot)
    bot.slack.set_user("U7", locale="en-US")
    before = bot.slack.count("users.info")
    response = forum_flow.add_members(bot, forum_id, ["U7", "U8"])
    assert response.json()["response_action"] == "update"
    bot.wait_idle()  # what follows the answer too (a late lookup would count)
    assert bot.slack.count("users.info") - before == 2  # the check, nothing more
    settle_stores()
    assert {u: stored(bot).get(u) for u in ("U7", "U8")} == {"U7": "en", "U8": "sv"}


def test_a_requests_lookup_is_stored_once_and_stamped_again_only_after_half_a_day(
    bot: Bot,
) -> None:
    """What a request's lookup learns is stored for the other replicas; the same answer
    again writes nothing until the row is half a day old, a changed one at once."""
    client = bot.runtime.client_for_team("T0001")
    bot.slack.set_user("U5", locale="en-US")
    assert outgoing.known_locales(bot.runtime.deps, client, "T0001", ["U5"]) == {"U5": "en"}
    settle_stores()
    assert stored(bot) == {"U5": "en"}
    assert languages.remember(bot.sessions, bot.clock, "T0001", {"U5": "en"}) == 0
    bot.clock.advance(languages.STAMP_AFTER)
    assert languages.remember(bot.sessions, bot.clock, "T0001", {"U5": "en"}) == 1
    assert languages.remember(bot.sessions, bot.clock, "T0001", {"U5": "sv"}) == 1
    assert stored(bot) == {"U5": "sv"}


def test_the_language_of_someone_no_longer_a_member_goes_after_a_day(bot: Bot) -> None:
    """The refresh keeps the members' languages; a non-member's (someone who only used the
    bot, or left) goes once it was not looked up for a day."""
    scheduled_work.forum_with_case(bot, expires_in_days=30)
    languages.remember(bot.sessions, bot.clock, "T0001", {"U1": "sv", "U2": "en", "U9": "en"})
    bot.clock.advance(dt.timedelta(hours=20))
    bot.run_due_work()
    assert set(stored(bot)) == {"U1", "U2", "U9"}  # U9 seen within the day: kept
    bot.clock.advance(dt.timedelta(hours=5))
    bot.run_due_work()
    assert stored(bot) == {"U1": "sv", "U2": "sv"}  # the members' refreshed (Slack: sv)


def test_a_crafted_members_submission_by_a_non_coordinator_stores_no_language(
    bot: Bot,
) -> None:
    """Anyone may post the members modal's submission naming a forum: the people check runs
    before the coordinator's door (it answers the form), but the languages it learned are
    stored only once the door let the change in. U2 (a member, no coordinator) and U9 (no
    member of anything) naming U7 and U8 are refused, and nobody's language is stored."""
    forum_id = forum_flow.create_forum(bot)
    forum_flow.add_members(bot, forum_id, ["U2"])
    settle_stores()
    before = stored(bot)
    bot.slack.set_user("U7", locale="en-US")
    for actor in ("U2", "U9"):
        response = forum_flow.add_members(bot, forum_id, ["U7", "U8"], by=actor)
        assert response.json()["response_action"] == "errors"
    settle_stores()
    assert stored(bot) == before
    assert not {"U7", "U8"} & set(stored(bot))


# --- the feedback surveys a closed case starts -------------------------------------------------


survey_forum = dm_language.survey_forum  # the fixture: admin, Elevhälsa, Socialtjänst


def test_the_survey_dms_use_the_stored_language_and_ask_slack_outside_the_transaction(
    bot: Bot, survey_forum: dict[str, int]
) -> None:
    """Elevhälsa's member stored English, Socialtjänst's none, and Slack refuses users.info:
    closing the case DMs the surveys at once, Elevhälsa's in English, Socialtjänst's in the
    forum's Swedish; Slack is asked (for the unknown one) only while no transaction that
    claimed a survey is open."""
    languages.remember(bot.sessions, bot.clock, "T0001", {case_flow.ELEVHALSA: "en"})
    slack_refuses_users_info(bot)
    with slack_calls_in_open_writes(
        bot.sessions, bot.slack, "users.info", "INSERT INTO scheduled_effects"
    ) as during_claims:
        feedback.close_case(bot, survey_forum)
        eventually(lambda: feedback.dms_to(bot, case_flow.ELEVHALSA, "Three short questions"))
        eventually(lambda: feedback.dms_to(bot, case_flow.SOCIAL, "Tre korta frågor"))
    assert during_claims and not any(during_claims)


def test_creating_a_forum_stores_the_language_its_command_already_knew(bot: Bot) -> None:
    """The creator's language, looked up by the command that opened the modal, was since
    forgotten in the database (no member of any forum for a day) though this replica still
    knows it: creating the forum (the creator now a member) stores it again, with no
    users.info of its own."""
    bot.slack.set_user("U1", locale="en-US")
    bot.driver.command("forum ny", user="U1")
    assert bot.slack.wait_for("views.open")[0].args["view"]["title"]["text"] == "New forum"
    settle_stores()
    assert stored(bot) == {"U1": "en"}
    bot.clock.advance(dt.timedelta(hours=25))
    bot.run_due_work()  # the "member languages" job forgets a non-member's language
    assert stored(bot) == {}
    before = bot.slack.count("users.info")
    forum_flow.create_forum(bot, "U1")
    bot.wait_idle()  # what follows the answer too (a late lookup would count)
    settle_stores()
    assert stored(bot) == {"U1": "en"}
    assert bot.slack.count("users.info") == before
