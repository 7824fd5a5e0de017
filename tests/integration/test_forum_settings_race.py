"""A forum's ``settings`` is one JSON value that several writers change a key of (the review's
settings, the situation picture's, the slots' default length and meeting link, the steering
level, the channel's reach). Two writers of different keys at once, through the real app on
PostgreSQL: the second waits for the first's row lock (domain.locks.update_forum_settings)
and changes its key in what the first committed, so both keys survive. Before, each wrote
back the whole value it had read: the one committing last undid the other's key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from domain import ratings as rating_service
from domain import review as review_service
from storage.models import Forum
from tests.conftest import Bot, postgresql_only
from tests.support.concurrency import race
from tests.support.rating_flow import ADMIN, make_forum
from tests.support.slack_driver import multi_select_values, radio_value, select_value, time_value

REVIEW = {"auto": False, "end_month": 3}
PICTURE = "every_other"


def _payload(bot: Bot, callback_id: str, forum_id: int, values: dict[str, Any]) -> dict[str, Any]:
    return bot.driver.view_submission_payload(
        callback_id,
        values,
        user=ADMIN,
        private_metadata=json.dumps({"locale": "sv", "forum_id": forum_id}),
        blocks=[{"type": "input", "block_id": b} for b in values],
    )


def review_settings(bot: Bot, forum_id: int) -> dict[str, Any]:
    """The review's settings saved: no automatic review, periods ending in March."""
    values = {
        "review_auto": {"value": {"type": "checkboxes", "selected_options": []}},
        "review_end": {"value": select_value("3")},
    }
    return _payload(bot, "review_settings", forum_id, values)


def picture_settings(bot: Bot, forum_id: int) -> dict[str, Any]:
    """The situation picture's settings saved: every other meeting."""
    values = {
        "cadence": {"cadence": radio_value(PICTURE)},
        "days_before": {"days_before": select_value("5")},
        "deadline_days": {"deadline_days": select_value("1")},
        "deadline_time": {"deadline_time": time_value("12:00")},
        "reminders": {"reminders": multi_select_values([])},
    }
    return _payload(bot, "rating_settings", forum_id, values)


@postgresql_only
@pytest.mark.parametrize("first", ["review", "picture"])
def test_two_settings_saved_at_once_both_stay(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    """The coordinator saves the review's settings in one modal while the situation
    picture's are saved in another (either first): the second save waits for the first,
    and the forum keeps both."""
    forum_id = make_forum(bot)["forum"]
    writers = {
        "review": ((review_service, "save_settings"), review_settings(bot, forum_id)),
        "picture": ((rating_service, "save_settings"), picture_settings(bot, forum_id)),
    }
    (module, name), held = writers[first]
    _, other = writers["picture" if first == "review" else "review"]
    one, two, waited = race(bot, monkeypatch, first=(module, name, held), second=other)
    assert (one.status, one.json()) == (200, None)
    assert (two.status, two.json()) == (200, None)
    with bot.sessions() as s:
        settings = s.scalars(select(Forum.settings).where(Forum.id == forum_id)).one()
    assert settings.get("review") == REVIEW, settings
    assert settings.get("situation_picture") == PICTURE, settings
    assert waited, "the second save did not wait for the first"
