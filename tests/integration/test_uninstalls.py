"""Uninstalls and revoked tokens delete exactly the stored tokens Slack revoked: an
organisation's when its org-wide app goes, one workspace's when only that one goes, never
another organisation's or workspace's, whatever ids a (signed) event carries."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from sandbox.webapi import SlackWebApiStub
from storage.models import slack_bots, slack_installations, slack_org_workspaces
from tests.integration.test_oauth_install import installed_bot

ORG_A, ORG_B = "E000A", "E000B"
LONE = "T000C"  # a workspace of no organisation, installed on its own
A1, A2, B1 = "T00A1", "T00A2", "T00B1"  # workspaces the org-wide installs serve


def _installation(enterprise_id: str | None, team_id: str | None) -> Any:
    from slack_sdk.oauth.installation_store import Installation

    who = enterprise_id if team_id is None else team_id
    return Installation(
        app_id="A0001",
        enterprise_id=enterprise_id,
        team_id=team_id,
        user_id="U1",
        bot_token=f"xoxb-{who}",
        bot_id=f"B{who}",
        bot_user_id="UBOT",
        bot_scopes=["chat:write"],
        user_token=f"xoxp-{who}",
        is_enterprise_install=team_id is None,
    )


@pytest.fixture
def installs(database_url: str, slack: SlackWebApiStub) -> Iterator[Any]:
    """Organisations A and B installed org-wide (A serving A1 and A2, B serving B1), and the
    lone workspace C installed on its own."""
    for bot in installed_bot(
        database_url,
        slack,
        [_installation(ORG_A, None), _installation(ORG_B, None), _installation(None, LONE)],
    ):
        from handlers.oauth_store import EncryptedInstallationStore

        store = EncryptedInstallationStore(
            client_id="1111.2222",
            engine=bot.runtime.engine,
            encryption_key=bot.runtime.settings.token_encryption_key.get_secret_value(),
        )
        for team, org in ((A1, ORG_A), (A2, ORG_A), (B1, ORG_B)):
            store.remember_org_workspace(team_id=team, enterprise_id=org)
        yield bot


Key = tuple[str | None, str | None]  # (organisation, workspace)


def stored(bot: Any) -> dict[str, set[Key]]:
    """(organisation, workspace) of every stored token row, and the workspace notes."""
    with bot.runtime.engine.connect() as conn:
        installations = {
            (r.enterprise_id, r.team_id)
            for r in conn.execute(
                select(slack_installations).where(slack_installations.c.bot_token.is_not(None))
            )
        }
        users = {
            (r.enterprise_id, r.team_id)
            for r in conn.execute(
                select(slack_installations).where(slack_installations.c.user_token.is_not(None))
            )
        }
        bots = {(r.enterprise_id, r.team_id) for r in conn.execute(select(slack_bots))}
        notes = {(r.enterprise_id, r.team_id) for r in conn.execute(select(slack_org_workspaces))}
    return {"installations": installations, "users": users, "bots": bots, "notes": notes}


EVERYTHING: dict[str, set[Key]] = {
    "installations": {(ORG_A, None), (ORG_B, None), (None, LONE)},
    "users": {(ORG_A, None), (ORG_B, None), (None, LONE)},
    "bots": {(ORG_A, None), (ORG_B, None), (None, LONE)},
    "notes": {(ORG_A, A1), (ORG_A, A2), (ORG_B, B1)},
}


def send(
    bot: Any,
    event: dict[str, Any],
    *,
    team_id: str | None,
    enterprise_id: str | None,
    org_wide: bool,
    envelope_enterprise_id: str | None = None,
) -> None:
    """A signed event_callback sent for the installation (``enterprise_id``, ``team_id``,
    ``org_wide``), and wait until its listener has run. ``envelope_enterprise_id``: another
    organisation named outside ``authorizations``."""
    envelope = {
        "token": "verification-token",
        "team_id": team_id,
        "enterprise_id": envelope_enterprise_id or enterprise_id,
        "api_app_id": bot.driver.api_app_id,
        "event": {"event_ts": "1700000000.000100", **event},
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": 1700000000,
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": team_id,
                "user_id": "UBOT",
                "is_bot": True,
                "is_enterprise_install": org_wide,
            }
        ],
    }
    body = json.dumps(envelope)
    headers = {"Content-Type": "application/json", **bot.driver.signed_headers(body)}
    response = bot.driver.raw("/slack/events", body.encode(), headers)
    assert response.status == 200, response.body
    bot.wait_idle()


def without(**gone: set[Key]) -> dict[str, set[Key]]:
    return {key: rows - gone.get(key, set()) for key, rows in EVERYTHING.items()}


def test_an_org_wide_uninstall_deletes_the_organisations_tokens_and_no_one_elses(
    installs: Any,
) -> None:
    """Before, bolt deleted the tokens stored under (organisation, the workspace the event
    named): an org-wide install's have no workspace, so the organisation's tokens stayed."""
    assert stored(installs) == EVERYTHING
    send(installs, {"type": "app_uninstalled"}, team_id=A1, enterprise_id=ORG_A, org_wide=True)
    org_a: set[Key] = {(ORG_A, None)}
    assert stored(installs) == without(
        installations=org_a, users=org_a, bots=org_a, notes={(ORG_A, A1), (ORG_A, A2)}
    )


def test_a_lone_workspaces_uninstall_deletes_its_tokens_only(installs: Any) -> None:
    send(installs, {"type": "app_uninstalled"}, team_id=LONE, enterprise_id=None, org_wide=False)
    lone: set[Key] = {(None, LONE)}
    assert stored(installs) == without(installations=lone, users=lone, bots=lone)


def test_a_workspace_install_in_an_organisation_keeps_the_org_wide_token(installs: Any) -> None:
    """A workspace-level install of A1 (not org-wide) uninstalls: its own tokens go, not
    its organisation's, nor another organisation's."""
    from handlers.oauth_store import EncryptedInstallationStore

    store = EncryptedInstallationStore(
        client_id="1111.2222",
        engine=installs.runtime.engine,
        encryption_key=installs.runtime.settings.token_encryption_key.get_secret_value(),
    )
    own = _installation(ORG_A, A1)
    own.is_enterprise_install = False
    store.save(own)
    send(installs, {"type": "app_uninstalled"}, team_id=A1, enterprise_id=ORG_A, org_wide=False)
    assert stored(installs) == without(notes={(ORG_A, A1)})


def test_tokens_revoked_for_an_org_wide_install_deletes_its_tokens(installs: Any) -> None:
    send(
        installs,
        {"type": "tokens_revoked", "tokens": {"oauth": ["U1"], "bot": ["UBOT"]}},
        team_id=A2,
        enterprise_id=ORG_A,
        org_wide=True,
    )
    org_a: set[Key] = {(ORG_A, None)}
    assert stored(installs) == without(installations=org_a, users=org_a, bots=org_a)


def test_a_revoked_bot_token_leaves_no_copy_in_the_installation(installs: Any) -> None:
    """Only the bot's token revoked: the installation row keeps the user's token but not
    its copy of the bot's (bolt deleted only slack_bots' row)."""
    send(
        installs,
        {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}},
        team_id=LONE,
        enterprise_id=None,
        org_wide=False,
    )
    lone: set[Key] = {(None, LONE)}
    assert stored(installs) == without(installations=lone, bots=lone)


def test_an_org_app_removed_from_a_workspace_forgets_that_workspace_only(installs: Any) -> None:
    """team_access_revoked: A's app leaves A1; the event also names B's workspace and the
    lone one (a crafted list): those are not A's to forget."""
    send(
        installs,
        {"type": "team_access_revoked", "team_ids": [A1, B1, LONE]},
        team_id=None,
        enterprise_id=ORG_A,
        org_wide=True,
    )
    assert stored(installs) == without(notes={(ORG_A, A1)})


def test_app_uninstalled_team_honours_only_its_own_app_and_organisation(installs: Any) -> None:
    def removed(team: str, app_id: str | None = None) -> None:
        event = {
            "type": "app_uninstalled_team",
            "app_id": app_id or installs.driver.api_app_id,
            "app_name": "Samverkan",
            "team_id": team,
            "team_domain": "regionen",
        }
        send(installs, event, team_id=A1, enterprise_id=ORG_A, org_wide=True)

    removed(ORG_B)  # another organisation's id, sent for A
    removed(B1)  # another organisation's workspace
    removed(LONE)
    removed(ORG_A, app_id="A0OTHER")  # another app was uninstalled
    assert stored(installs) == EVERYTHING
    removed(A2)
    assert stored(installs) == without(notes={(ORG_A, A2)})
    removed(ORG_A)
    org_a: set[Key] = {(ORG_A, None)}
    assert stored(installs) == without(
        installations=org_a, users=org_a, bots=org_a, notes={(ORG_A, A1), (ORG_A, A2)}
    )


def test_an_organisation_named_outside_the_authorization_is_not_the_one_uninstalled(
    installs: Any,
) -> None:
    """The event is for A's installation (``authorizations``); the envelope names B: only
    A's tokens go."""
    send(
        installs,
        {"type": "app_uninstalled"},
        team_id=A1,
        enterprise_id=ORG_A,
        org_wide=True,
        envelope_enterprise_id=ORG_B,
    )
    org_a: set[Key] = {(ORG_A, None)}
    assert stored(installs) == without(
        installations=org_a, users=org_a, bots=org_a, notes={(ORG_A, A1), (ORG_A, A2)}
    )


def test_a_revocation_for_no_workspace_of_a_workspace_install_deletes_nothing(
    installs: Any,
) -> None:
    """``tokens_revoked`` whose installation is said to be no org-wide install but names no
    workspace either (a malformed ``authorizations``): there is no such installation, so
    nothing goes; before, the organisation's org-wide tokens matched (no workspace) and
    were deleted."""
    send(
        installs,
        {"type": "tokens_revoked", "tokens": {"oauth": ["U1"], "bot": ["UBOT"]}},
        team_id=None,
        enterprise_id=ORG_A,
        org_wide=False,
    )
    assert stored(installs) == EVERYTHING


def test_organisation_events_for_a_workspace_install_delete_nothing(installs: Any) -> None:
    """``team_access_revoked`` and ``app_uninstalled_team`` concern an org-wide install
    (Slack sends them to those only). Sent for a workspace-level installation of A1 in
    organisation A, naming A itself or its other workspace: A1's installation cannot
    uninstall its organisation's, so nothing goes (before, every token of A did, A1's own
    included, and A2's note)."""
    from handlers.oauth_store import EncryptedInstallationStore

    store = EncryptedInstallationStore(
        client_id="1111.2222",
        engine=installs.runtime.engine,
        encryption_key=installs.runtime.settings.token_encryption_key.get_secret_value(),
    )
    own = _installation(ORG_A, A1)
    own.is_enterprise_install = False
    store.save(own)
    before = stored(installs)
    assert (ORG_A, A1) in before["bots"]
    for event in (
        {"type": "team_access_revoked", "team_ids": [A2]},
        {
            "type": "app_uninstalled_team",
            "app_id": installs.driver.api_app_id,
            "app_name": "Samverkan",
            "team_id": A2,
            "team_domain": "regionen",
        },
        {
            "type": "app_uninstalled_team",
            "app_id": installs.driver.api_app_id,
            "app_name": "Samverkan",
            "team_id": ORG_A,
            "team_domain": "regionen",
        },
    ):
        send(installs, event, team_id=A1, enterprise_id=ORG_A, org_wide=False)
    assert stored(installs) == before
