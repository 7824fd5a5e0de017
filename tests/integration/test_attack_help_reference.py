"""Attack review of the help's example case reference (handlers/commands.help_reference, the
per-replica cache Deps.cached_forum_code): a channel's forum code is read and kept per
workspace and channel. Another workspace sharing the channel (Slack Connect), asking first
or after, sees the general example, never the forum's code; a changed code shows at once
in this replica."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.test_forum_flow import create_forum
from tests.integration.test_oauth_install import two_workspaces  # noqa: F401 (a fixture)

CHANNEL = "C0001"
GENERAL = "/samverkan ärende FOS-2026-017"
OWN = "/samverkan ärende SOL-2026-017"


def _text(args: dict[str, Any]) -> str:
    return json.dumps(args.get("blocks", []), ensure_ascii=False) + str(args.get("text", ""))


def _help(bot: Any, team: str, user: str) -> tuple[str, bool]:
    """The help as ``user`` of ``team`` sees it in the channel: in the ack, or (their
    language not known yet) through the response URL; and whether it came in the ack."""
    bot.driver.team_id = team
    before = bot.slack.count("response_url")
    response = bot.driver.command("hjälp", user=user, channel=CHANNEL)
    assert response.status == 200
    if response.body:
        return _text(response.json()), True
    return _text(bot.slack.wait_for("response_url", count=before + 1)[-1].args), False


def test_another_workspace_sharing_the_channel_never_sees_the_forums_code(
    two_workspaces: Any,  # noqa: F811 (the fixture)
) -> None:
    bot = two_workspaces
    create_forum(bot, code="SOL")  # T0001's forum in C0001
    bot.settle()
    # T0002 asks first (nothing cached), then T0001 (cached per workspace), then both again
    # (in the ack, from the cache).
    for team, user, shown, in_ack in [
        ("T0002", "U7", GENERAL, False),
        ("T0001", "U1", OWN, False),
        ("T0002", "U7", GENERAL, True),
        ("T0001", "U1", OWN, True),
    ]:
        text, quick = _help(bot, team, user)
        assert shown in text and quick == in_ack, (team, quick, text)
        if team == "T0002":
            assert "SOL-" not in text
    bot.wait_idle()
