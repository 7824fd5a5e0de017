"""How the stored member languages (domain.languages) are looked up: a lookup inside a
request's or a job's transaction reads on that transaction's connection, never a second
pooled one; the scheduler's "member languages" refresh skips a person Slack will not tell
about (and backs off them) instead of giving up the workspace's lookups for the tick; and
two replicas refreshing at once ask Slack about each person once."""

from __future__ import annotations

from sqlalchemy import update

from bot.scheduler import run_due_work
from domain import languages
from storage.db import transaction
from storage.models import Forum
from tests.conftest import Bot
from tests.integration import test_case_flow as case_flow
from tests.integration import test_dm_language as dm_language
from tests.integration import test_scheduled_work as scheduled_work
from tests.integration.test_dm_language import dms_to
from tests.support.connections import second_connection_reads
from tests.support.wait import eventually

LANGUAGE_READ = "FROM member_languages"

survey_forum = dm_language.survey_forum  # the fixture: admin, Elevhälsa, Socialtjänst


# --- a lookup inside a transaction: on its connection ------------------------------------------


def test_a_jobs_language_lookup_reads_on_the_jobs_own_connection(bot: Bot) -> None:
    """The consent reminder's job names its recipients' languages inside its transaction:
    the stored languages are read on that transaction's connection (a second pooled one,
    waited for by every job and request holding one at once, could never come), and the
    reminder is still in each recipient's language."""
    scheduled_work.forum_with_case(bot, expires_in_days=5)
    languages.remember(bot.sessions, bot.clock, "T0001", {"U1": "sv", "U2": "en"})
    with second_connection_reads(bot.sessions, LANGUAGE_READ) as reads:
        run_due_work(bot.runtime)
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
