"""The DM channel ids a replica keeps: asked of Slack once per workspace and user."""

from __future__ import annotations

from typing import Any

from handlers.dm import DmChannels


class Slack:
    """Answers ``conversations.open`` as Slack does: the user's one DM, the same id each time."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def conversations_open(self, *, users: str) -> dict[str, Any]:
        self.asked.append(users)
        return {"ok": True, "channel": {"id": f"D{users}"}}


def test_a_dm_is_asked_for_once_per_workspace_and_user() -> None:
    slack, dms = Slack(), DmChannels()
    assert dms.open(slack, "T1", "U1") == "DU1"
    assert dms.open(slack, "T1", "U1") == "DU1"
    assert dms.open(slack, "T2", "U1") == "DU1"  # another workspace asks its own Slack
    assert slack.asked == ["U1", "U1"]


def test_when_full_the_least_recently_asked_user_is_forgotten_not_everyone() -> None:
    slack, dms = Slack(), DmChannels(keep=2)
    dms.open(slack, "T1", "U1")
    dms.open(slack, "T1", "U2")
    dms.open(slack, "T1", "U1")  # U1 asked again: U2 is now the oldest
    dms.open(slack, "T1", "U3")
    dms.open(slack, "T1", "U1")
    assert slack.asked == ["U1", "U2", "U3"]
    dms.open(slack, "T1", "U2")
    assert slack.asked == ["U1", "U2", "U3", "U2"]


def test_an_answer_without_a_channel_is_not_kept() -> None:
    class NoChannel(Slack):
        def conversations_open(self, *, users: str) -> dict[str, Any]:
            self.asked.append(users)
            return {"ok": True}

    slack, dms = NoChannel(), DmChannels()
    assert dms.open(slack, "T1", "U1") is None
    assert dms.open(slack, "T1", "U1") is None
    assert slack.asked == ["U1", "U1"]
