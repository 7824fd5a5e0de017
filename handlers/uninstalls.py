"""Uninstalls and revoked tokens: delete exactly the stored tokens Slack has revoked.

bolt's own listeners (``App.enable_token_revocation_listeners``) key every deletion by the
request's workspace and organisation. An org-wide (Enterprise Grid) install is stored with
no workspace, so for its events (which name the workspace that carried them) they deleted
nothing, and bolt has no listener for an org app removed from some of its workspaces.

Which event means what (Slack's Events API reference):

- ``app_uninstalled``: the app was completely uninstalled from the installation the event
  was sent for (``authorizations[0]``). For an org-wide install that is the organisation,
  whichever workspace the envelope names: every token stored under it goes.
- ``tokens_revoked``: the listed users' tokens (``oauth``) and/or the bot's (``bot``) of that
  installation were revoked.
- ``team_access_revoked``: an org-wide app can no longer reach the workspaces
  ``event.team_ids`` of its organisation (removed from them, kept in the others).
- ``app_uninstalled_team``: the app ``event.app_id`` was removed from ``event.team_id``
  (a workspace of the organisation, or the organisation itself). Sent to org-wide apps with
  ``admin.apps:read``, about any app: only our own app's removal counts.

The installation is always the one Slack signed the event for (``context``, from
``authorizations``); an id inside the event is only honoured within that organisation, and
only when the installation is its org-wide one (a workspace's own install in it cannot speak
for the organisation or its other workspaces).
The case data stays: retention has its own rules (domain/retention).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from slack_bolt import App

log = logging.getLogger(__name__)


class TokenStore(Protocol):
    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None: ...

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None: ...

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None: ...

    def forget_organisation(self, enterprise_id: str) -> None: ...

    def forget_org_workspaces(self, *, enterprise_id: str, team_ids: list[str]) -> None: ...


def _installation(context: Any) -> tuple[str | None, str | None]:
    """The (organisation, workspace) key the event's installation is stored under: an
    org-wide install's has no workspace."""
    enterprise_id = context.enterprise_id
    if context.is_enterprise_install and enterprise_id:
        return enterprise_id, None
    if not context.team_id:
        # No workspace and no org-wide install: no installation is stored so (an
        # organisation's key without a workspace is its org-wide install's, not this one's).
        return None, None
    return enterprise_id, context.team_id


def _organisation(context: Any) -> str | None:
    """The organisation whose org-wide install the event was sent for; None for any other
    installation (a workspace's own install in an organisation cannot speak for it)."""
    enterprise_id = context.enterprise_id
    return enterprise_id if context.is_enterprise_install and enterprise_id else None


def _ids(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str) and item]


class Uninstalls:
    """The listeners, bound to the installation store (methods, not closures: listeners are
    never defined inside a function, tests/unit/test_one_way_out.py)."""

    def __init__(self, store: TokenStore) -> None:
        self.store = store

    def app_uninstalled(self, ack: Any, context: Any) -> None:
        ack()
        enterprise_id, team_id = _installation(context)
        if enterprise_id is not None and team_id is None:
            self.store.forget_organisation(enterprise_id)
        elif team_id is not None:
            self.store.delete_all(enterprise_id=enterprise_id, team_id=team_id)

    def tokens_revoked(self, ack: Any, context: Any, event: dict[str, Any]) -> None:
        ack()
        enterprise_id, team_id = _installation(context)
        if enterprise_id is None and team_id is None:
            return
        tokens = event.get("tokens")
        tokens = tokens if isinstance(tokens, dict) else {}
        for user_id in _ids(tokens.get("oauth")):
            self.store.delete_installation(
                enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
            )
        if _ids(tokens.get("bot")):
            self.store.delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    def team_access_revoked(self, ack: Any, context: Any, event: dict[str, Any]) -> None:
        ack()
        enterprise_id = _organisation(context)
        team_ids = _ids(event.get("team_ids"))
        if enterprise_id and team_ids:
            self.store.forget_org_workspaces(enterprise_id=enterprise_id, team_ids=team_ids)

    def app_uninstalled_team(
        self, ack: Any, body: dict[str, Any], context: Any, event: dict[str, Any]
    ) -> None:
        ack()
        enterprise_id = _organisation(context)
        removed = event.get("team_id")
        if (
            not enterprise_id
            or not isinstance(removed, str)
            or not removed
            or event.get("app_id") != body.get("api_app_id")
        ):
            return  # another app's removal, or not an organisation's install
        if removed == enterprise_id:
            self.store.forget_organisation(enterprise_id)
        else:  # one of its workspaces (only its own rows match; another's id deletes nothing)
            self.store.forget_org_workspaces(enterprise_id=enterprise_id, team_ids=[removed])


def register(app: App, store: TokenStore) -> None:
    listeners = Uninstalls(store)
    app.event("app_uninstalled")(listeners.app_uninstalled)
    app.event("tokens_revoked")(listeners.tokens_revoked)
    app.event("team_access_revoked")(listeners.team_access_revoked)
    app.event("app_uninstalled_team")(listeners.app_uninstalled_team)
