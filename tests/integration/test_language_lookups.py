"""How the stored member languages (domain.languages) are looked up: a lookup inside a
request's or a job's transaction reads on that transaction's connection, never a second
pooled one; the scheduler's "member languages" refresh skips a person Slack will not tell
about (and backs off them) instead of giving up the workspace's lookups for the tick; and
two replicas refreshing at once ask Slack about each person once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select, update

from bot.wiring import Runtime
from domain import languages
from handlers import outgoing
from storage.db import transaction
from storage.models import Forum, MemberLanguageAsk
from tests.conftest import Bot
from tests.integration import test_case_flow as case_flow
from tests.integration import test_dm_language as dm_language
from tests.integration import test_scheduled_work as scheduled_work
from tests.integration import test_stored_languages as stored_languages
from tests.integration.test_dm_language import dms_to
from tests.integration.test_stored_languages import add_members, stored
from tests.support.connections import second_connection_reads
from tests.support.wait import eventually

LANGUAGE_READ = "FROM member_languages"

survey_forum = dm_language.survey_forum  # the fixture: admin, Elevhälsa, Socialtjänst
replica = stored_languages.replica  # the fixture: a second replica on the same database


# --- a lookup inside a transaction: on its connection ------------------------------------------


def test_a_jobs_language_lookup_reads_on_the_jobs_own_connection(bot: Bot) -> None:
    """The consent reminder's job names its recipients' languages inside its transaction:
    the stored languages are read on that transaction's connection (a second pooled one,
    waited for by every job and request holding one at once, could never come), and the
    reminder is still in each recipient's language."""
    scheduled_work.forum_with_case(bot, expires_in_days=5)
    languages.remember(bot.sessions, bot.clock, "T0001", {"U1": "sv", "U2": "en"})
    with second_connection_reads(bot.sessions, LANGUAGE_READ) as reads:
        bot.run_due_work()
    (english,) = dms_to(bot, "U2")
    assert "The consent for" in english
    assert reads and not any(reads), reads


def test_a_requests_language_lookup_reads_on_the_requests_own_connection(
    bot: Bot, survey_forum: dict[str, int]
) -> None:
    """A new case tells the agencies' members, each in their language, inside the
    transaction that raises it: their stored languages are read on its connection."""
    with transaction(bot.sessions) as s:
        s.execute(update(Forum).values(language="sv"))
    languages.remember(
        bot.sessions, bot.clock, "T0001", {case_flow.ELEVHALSA: "en", case_flow.SOCIAL: "sv"}
    )
    with second_connection_reads(bot.sessions, LANGUAGE_READ) as reads:
        response = case_flow.submit_case(bot, survey_forum)
        assert response.json() is None, response.body
        eventually(lambda: dms_to(bot, case_flow.ELEVHALSA) and dms_to(bot, case_flow.SOCIAL))
        bot.wait_idle()
    (english,) = dms_to(bot, case_flow.ELEVHALSA)
    assert "your agency needs to take part" in english
    assert reads and not any(reads), reads
    assert bot.slack.count("users.info") == 0


# --- the refresh: a person Slack will not tell about holds back nobody else --------------------


def asked(bot: Bot) -> list[str]:
    return [str(c.args["user"]) for c in bot.slack.calls_to("users.info")]


def refresh(runtime: Runtime) -> int:
    return outgoing.refresh_member_languages(runtime.deps, runtime.client_for_team)


def test_a_member_slack_will_not_tell_about_is_skipped_and_the_others_are_stored(
    bot: Bot,
) -> None:
    """Slack answers users.info about U1 (asked first: no language stored, the lowest id)
    with an error about U1: the refresh asks the others in the same tick and stores their
    languages; U1 has none stored and is not asked again for an hour, then is."""
    scheduled_work.forum_with_case(bot, expires_in_days=30)
    add_members(bot, ["U3", "U4"])
    bot.slack.set_user("U3", locale="en-US")
    bot.slack.refuse_user("U1", "user_not_allowed_here")  # no error Slack names a workspace by
    assert refresh(bot.runtime) == 3
    assert asked(bot) == ["U1", "U2", "U3", "U4"]
    assert stored(bot) == {"U2": "sv", "U3": "en", "U4": "sv"}
    # Five minutes on, the refresh looks for members with no language again: not U1 yet.
    bot.clock.advance(outgoing.LANGUAGE_SCAN_EVERY)
    bot.runtime.deps.queue_language("T0001", "U1")  # a job named U1 meanwhile
    refresh(bot.runtime)
    assert asked(bot) == ["U1", "U2", "U3", "U4"]
    bot.clock.advance(languages.NOT_TOLD_AGAIN_FOR)
    bot.slack.reset()  # Slack tells about U1 again
    bot.slack.set_user("U1", locale="en-GB")
    refresh(bot.runtime)
    assert asked(bot) == ["U1"]
    assert stored(bot)["U1"] == "en"


@pytest.mark.parametrize("error", ["user_not_found", "user_not_visible"])
def test_a_member_slack_will_never_name_gets_the_forums_language_stored(
    bot: Bot, error: str
) -> None:
    """Slack says it cannot name U1's language at all: none is stored (the forum's is used),
    for a day as any other, and the others are asked in the same tick."""
    scheduled_work.forum_with_case(bot, expires_in_days=30)
    bot.slack.refuse_user("U1", error)
    assert refresh(bot.runtime) == 2
    assert stored(bot) == {"U1": None, "U2": "sv"}


@pytest.mark.parametrize("error", ["account_inactive", "invalid_auth", "ratelimited"])
def test_an_error_about_the_workspace_stops_its_lookups_for_the_tick(bot: Bot, error: str) -> None:
    """An error about the bot's token or Slack's limits (``account_inactive``: the token's
    workspace or user is gone) is no one person's: the workspace's lookups wait for the next
    tick, the people asked for again then (by any replica)."""
    scheduled_work.forum_with_case(bot, expires_in_days=30)
    bot.slack.fail_next("users.info", status=200, error=error, times=1)
    assert refresh(bot.runtime) == 0
    assert asked(bot) == ["U1"] and stored(bot) == {}
    assert sorted(bot.runtime.deps.take_language_queue()) == [("T0001", "U1"), ("T0001", "U2")]
    for user in ("U1", "U2"):
        bot.runtime.deps.queue_language("T0001", user)
    assert refresh(bot.runtime) == 2  # the next tick, the same moment: asked again
    assert stored(bot) == {"U1": "sv", "U2": "sv"}


# --- two replicas refreshing at once -----------------------------------------------------------


def test_two_replicas_refreshing_at_once_ask_slack_about_each_member_once(
    bot: Bot, replica: Runtime
) -> None:
    """Both replicas' schedulers run the "member languages" refresh at the same moment over
    the same members with no stored language (Slack a little slow, so their lookups would
    overlap): each member is asked about once, and every language is stored."""
    scheduled_work.forum_with_case(bot, expires_in_days=30)
    people = [f"U{n}" for n in range(100, 110)]
    add_members(bot, people)
    start = threading.Barrier(2)
    learned: list[int] = []

    def run(runtime: Runtime) -> None:
        start.wait(timeout=10)
        learned.append(refresh(runtime))

    bot.slack.delay_seconds = 0.05
    try:
        threads = [threading.Thread(target=run, args=(r,)) for r in (bot.runtime, replica)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        bot.slack.delay_seconds = 0
    assert sum(learned) == 2 + len(people)
    assert Counter(asked(bot)) == dict.fromkeys(["U1", "U2", *people], 1)
    assert set(stored(bot)) == {"U1", "U2", *people}


def test_a_claim_refuses_people_another_refresh_holds_until_its_hold_runs_out(bot: Bot) -> None:
    """The claim itself: a second claim of people the first holds gets only the others; once
    the hold has run out (a replica that died mid-way), they may be claimed again."""
    claim = languages.claim_asks
    assert claim(bot.sessions, bot.clock, "T0001", ["U2", "U1"]) == ["U2", "U1"]
    assert claim(bot.sessions, bot.clock, "T0001", ["U1", "U3"]) == ["U3"]
    assert claim(bot.sessions, bot.clock, "T0002", ["U1"]) == ["U1"]  # another workspace's
    languages.hold_asks(bot.sessions, bot.clock, "T0001", released=["U2"])
    assert claim(bot.sessions, bot.clock, "T0001", ["U1", "U2"]) == ["U2"]
    bot.clock.advance(languages.ASKING)
    assert claim(bot.sessions, bot.clock, "T0001", ["U1", "U3"]) == ["U1", "U3"]
    bot.clock.advance(languages.STALE_AFTER * 2)
    with transaction(bot.sessions) as s:
        assert languages.forget_asks(s, bot.clock.now()) == 4
        assert s.scalars(select(MemberLanguageAsk)).all() == []
