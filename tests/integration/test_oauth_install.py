"""Multi-workspace install: OAuth through /slack/install and /slack/oauth_redirect, tokens
encrypted at rest, and later requests authorized with the stored (decrypted) bot token."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import make_server

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.settings import load_settings
from bot.wiring import build_runtime
from sandbox.webapi import SlackWebApiStub
from storage.models import slack_bots, slack_installations, slack_org_workspaces
from tests.conftest import SIGNING_SECRET, _QuietHandler, _ThreadingWSGIServer
from tests.support.servers import serve_in_thread
from tests.support.slack_driver import SlackDriver
from tests.support.wait import eventually


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture
def oauth_bot(database_url: str, slack: SlackWebApiStub) -> Iterator[tuple[str, object]]:
    settings = load_settings(
        database_url=database_url,
        slack_signing_secret=SIGNING_SECRET,
        slack_client_id="1111.2222",
        slack_client_secret="client-secret",
        token_encryption_key=Fernet.generate_key().decode(),
        slack_api_url=slack.base_url,
    )
    runtime = build_runtime(settings)
    server = make_server(
        "127.0.0.1", 0, runtime.web, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    serve_in_thread(server)
    yield f"http://127.0.0.1:{server.server_port}", runtime
    server.shutdown()
    server.server_close()
    runtime.engine.dispose()


def test_install_stores_encrypted_tokens_and_authorizes_requests(
    oauth_bot: tuple[str, object], slack: SlackWebApiStub
) -> None:
    url, runtime = oauth_bot
    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(url + "/slack/install", timeout=10)
        page, cookie = response.read().decode(), response.headers.get("Set-Cookie", "")
    except urllib.error.HTTPError as exc:  # bolt may redirect straight to Slack
        page, cookie = exc.headers.get("Location", ""), exc.headers.get("Set-Cookie", "")
    match = re.search(r"state=([\w-]+)", page)
    assert match, page
    state = match.group(1)
    assert "slack.com/oauth/v2/authorize" in page
    assert "client_id=1111.2222" in page

    query = urllib.parse.urlencode({"code": "code-123", "state": state})
    request = urllib.request.Request(
        f"{url}/slack/oauth_redirect?{query}", headers={"Cookie": cookie.split(";")[0]}
    )
    with urllib.request.urlopen(request, timeout=10) as done:
        assert done.status == 200
    access = slack.calls_to("oauth.v2.access")
    assert len(access) == 1 and access[0].args["code"] == "code-123"

    engine = runtime.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(select(slack_installations.c.bot_token)).all()
        bots = conn.execute(select(slack_bots.c.bot_token)).all()
    assert rows and bots
    for (token,) in [*rows, *bots]:
        assert token and not token.startswith("xoxb-")  # encrypted at rest

    driver = SlackDriver(url, SIGNING_SECRET, response_url_base=slack.response_url_base)
    assert driver.command("hjälp", user="U1").status == 200
    slack.wait_for("response_url")
    used = {c.token for c in slack.calls_to("users.info")}
    assert used == {"xoxb-T0001-stub-0001"}  # the decrypted token from the installation

    # Uninstalling deletes the workspace's stored tokens.
    driver.event({"type": "app_uninstalled"})

    def forgotten() -> bool:
        with engine.connect() as conn:
            left = conn.execute(select(slack_bots.c.id)).all()
            left += conn.execute(select(slack_installations.c.id)).all()
        return not left

    eventually(forgotten)


# --- two workspaces: each one's messages go with its own token ----------------------------------


def installed_bot(
    database_url: str,
    slack: SlackWebApiStub,
    installations: list[Any],
    **driver: Any,
) -> Iterator[Any]:
    """The bot with OAuth, ``installations`` stored, served over HTTP; ``driver`` sets the
    requests' workspace (and organisation)."""
    from domain.clock import AdjustableClock
    from handlers.oauth_store import EncryptedInstallationStore
    from tests.conftest import DEFAULT_NOW, TEST_RETRY_BACKOFF, Bot
    from tests.support.lazy import LazyWork

    key = Fernet.generate_key().decode()
    settings = load_settings(
        database_url=database_url,
        slack_signing_secret=SIGNING_SECRET,
        slack_client_id="1111.2222",
        slack_client_secret="client-secret",
        token_encryption_key=key,
        slack_api_url=slack.base_url,
        slack_retry_backoff=TEST_RETRY_BACKOFF,
    )
    clock = AdjustableClock(DEFAULT_NOW, frozen=True)
    runtime = build_runtime(settings, clock=clock)
    store = EncryptedInstallationStore(
        client_id="1111.2222", engine=runtime.engine, encryption_key=key
    )
    for installation in installations:
        store.save(installation)
    lazy = LazyWork(runtime.app.listener_runner.listener_executor)
    server = make_server(
        "127.0.0.1", 0, runtime.web, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    serve_in_thread(server)
    url = f"http://127.0.0.1:{server.server_port}"
    client = SlackDriver(url, SIGNING_SECRET, response_url_base=slack.response_url_base, **driver)
    try:
        yield Bot(url=url, slack=slack, driver=client, runtime=runtime, clock=clock, lazy=lazy)
    finally:
        server.shutdown()
        server.server_close()
        runtime.app.listener_runner.listener_executor.shutdown(wait=True)
        runtime.engine.dispose()


@pytest.fixture
def two_workspaces(database_url: str, slack: SlackWebApiStub) -> Iterator[Any]:
    """The bot installed (OAuth) in T0001 and T0002, each with a bot token of its own."""
    from slack_sdk.oauth.installation_store import Installation

    yield from installed_bot(
        database_url,
        slack,
        [
            Installation(
                app_id="A0001",
                team_id=team,
                user_id="U1",
                bot_token=f"xoxb-{team}-own",
                bot_id=f"B{team}",
                bot_user_id="UBOT",
                bot_scopes=["chat:write"],
            )
            for team in ("T0001", "T0002")
        ],
    )


def test_a_request_of_one_workspace_never_sends_another_workspaces_messages_with_its_token(
    two_workspaces: Any,
) -> None:
    """A message of workspace T0002 waits in the outbox (Slack was away, say) when a request
    of T0001 sends what it queued at once: T0002's message goes with T0002's token, or is
    left to the scheduler, never with the token of the workspace that asked."""
    from handlers import outgoing
    from storage.db import transaction
    from tests.integration.test_forum_flow import create_forum

    bot = two_workspaces
    with transaction(bot.sessions) as s:
        outgoing.post(
            s,
            bot.clock,
            team_id="T0002",
            channel="C0002",
            message={"text": "Dagordning för T0002"},
        )
    create_forum(bot)  # in T0001; its announcement is sent at once, after the ack
    bot.wait_idle()
    bot.run_due_work()  # whatever the request left goes with the scheduler
    to_t0001 = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == "C0001"]
    assert to_t0001 and {c.token for c in to_t0001} == {"xoxb-T0001-own"}
    to_t0002 = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == "C0002"]
    assert to_t0002, "T0002's message was never sent"
    assert {c.token for c in to_t0002} == {"xoxb-T0002-own"}, "sent with another's token"


# --- Enterprise Grid: an org-wide install serves its workspaces ----------------------------------


@pytest.fixture
def org_wide(database_url: str, slack: SlackWebApiStub) -> Iterator[Any]:
    """The bot installed org-wide in the organisation E0001 (one token, no workspace);
    requests come from its workspace T0003."""
    from slack_sdk.oauth.installation_store import Installation

    yield from installed_bot(
        database_url,
        slack,
        [
            Installation(
                app_id="A0001",
                enterprise_id="E0001",
                team_id=None,
                user_id="U1",
                bot_token="xoxb-E0001-org",
                bot_id="BE0001",
                bot_user_id="UBOT",
                bot_scopes=["chat:write"],
                is_enterprise_install=True,
            )
        ],
        team_id="T0003",
        enterprise_id="E0001",
    )


def test_an_org_wide_install_sends_its_workspaces_messages_with_the_organisations_token(
    org_wide: Any,
) -> None:
    """Work no request started (the outbox, the scheduler) knows only the forum's workspace.
    With an org-wide install the token is stored under the organisation: the workspace's
    first request records its organisation, so the announcement the request queued and what
    the scheduler sends later go with the organisation's token (before, with none)."""
    from handlers import outgoing
    from storage.db import transaction
    from tests.integration.test_forum_flow import create_forum

    bot = org_wide
    create_forum(bot)  # in T0003; its announcement is queued and sent after the ack
    bot.wait_idle()
    with transaction(bot.sessions) as s:
        outgoing.post(
            s, bot.clock, team_id="T0003", channel="C0001", message={"text": "Dagordning"}
        )
    bot.run_due_work()
    posts = bot.slack.calls_to("chat.postMessage")
    assert len(posts) >= 2, "the announcement or the scheduled post was not sent"
    assert {c.token for c in posts} == {"xoxb-E0001-org"}

    # Uninstalling forgets the workspace's organisation with the tokens.
    bot.driver.event({"type": "app_uninstalled"})
    engine = bot.runtime.engine

    def forgotten() -> bool:
        with engine.connect() as conn:
            return not conn.execute(select(slack_org_workspaces.c.team_id)).all()

    eventually(forgotten)


# --- the installer's pages: in the deployment's language, with the next step -------------------


def test_the_installer_goes_straight_to_slack_and_back_to_a_page_with_the_next_step(
    oauth_bot: tuple[str, object], slack: SlackWebApiStub
) -> None:
    """Bolt's own pages were English ("Slack App Installation", "Thank you!", "Oops,
    Something Went Wrong!"), and the success page left for Slack at once: a new
    municipality's admin was never told to invite the bot to the forum's channel."""
    url, _runtime = oauth_bot
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirected:
        opener.open(url + "/slack/install", timeout=10)
    assert redirected.value.code == 302  # no English page in between
    location = redirected.value.headers["Location"]
    cookie = redirected.value.headers.get("Set-Cookie", "")
    assert "slack.com/oauth/v2/authorize" in location
    state = re.search(r"state=([\w-]+)", location)
    assert state

    query = urllib.parse.urlencode({"code": "code-123", "state": state.group(1)})
    request = urllib.request.Request(
        f"{url}/slack/oauth_redirect?{query}", headers={"Cookie": cookie.split(";")[0]}
    )
    with urllib.request.urlopen(request, timeout=10) as done:
        assert done.status == 200
        page = done.read().decode()
        assert "slack-app-oauth-state=deleted" in (done.headers.get("Set-Cookie") or "")
    assert "<h1>Samverkan är installerat</h1>" in page
    assert "<code>/invite @Samverkan</code>" in page
    assert "Där berättar jag sedan hur ni sätter upp forumet." in page
    assert "http-equiv" not in page  # it stays, to be read
    assert "slack://app?team=T0001" in page
    assert "Thank you" not in page

    # A refused or replayed redirect: told in Swedish, with a way to try again.
    with pytest.raises(urllib.error.HTTPError) as failed:
        urllib.request.urlopen(f"{url}/slack/oauth_redirect?{query}", timeout=10)
    failure = failed.value.read().decode()
    assert "Installationen blev inte klar" in failure
    assert 'href="/slack/install"' in failure and "Försök igen" in failure
    assert "Oops" not in failure
