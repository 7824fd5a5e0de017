"""A meeting cancelled just as its preview (or its agenda) was going out, then taken up again
by a coordinator (moved back to its day, or to another), through the real app and the
scheduler's own passes.

The post finds the meeting cancelled and skips it; before, the skip stayed: the meeting taken
up again never got its preview, nor its agenda. Now it gets each once, at its time for the
meeting as it now stands, or at once when that has passed and it is still of use.
The cancel is sent as the agenda job has read what is due and is about to claim it (the
job's own functions run unchanged): the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from domain.agenda import posting
from storage.models import Meeting, MeetingStatus
from tests.conftest import Bot
from tests.integration.test_agenda_post_race import agenda_posts, post_due_agendas
from tests.integration.test_record_cancel_race import cancel_payload, move_payload, status_of
from tests.support.agenda_flow import dms_to, local, raise_a_case, setup_forum, text_of, tick
from tests.support.slack_driver import Response


def previews(bot: Bot) -> list[str]:
    return [text_of(c) for c in dms_to(bot, "U1") if "Förhandsvisning" in text_of(c)]


def first_meeting(bot: Bot) -> int:
    with bot.sessions() as s:
        found = s.scalar(select(Meeting.id).order_by(Meeting.starts_at).limit(1))
    assert found is not None
    return found


def cancelled_as_it_goes_out(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, name: str, meeting: int
) -> None:
    """The agenda job's pass, the coordinator's cancel saved as ``posting.name`` (the post
    of the preview, or of the agenda) is about to claim the meeting."""
    original: Callable[..., Any] = getattr(posting, name)
    answers: list[Response] = []

    def cancel_first(*args: Any, **kwargs: Any) -> Any:
        if not answers:
            answers.append(bot.driver.send_payload(cancel_payload(bot, meeting)))
        return original(*args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(posting, name, cancel_first)
        post_due_agendas(bot)
    assert [(a.status, a.json()) for a in answers] == [(200, None)]
    assert status_of(bot, meeting) is MeetingStatus.CANCELLED


def test_a_meeting_taken_up_again_gets_the_preview_its_cancel_skipped_once(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_forum(bot)
    raise_a_case(bot)
    thursday = first_meeting(bot)
    bot.clock.set(local(2026, 11, 25, 8, 0))  # the preview is due
    cancelled_as_it_goes_out(bot, monkeypatch, "_preview_one", thursday)
    tick(bot, local(2026, 11, 25, 8, 1))
    assert previews(bot) == []  # a cancelled meeting's preview is not sent
    # Taken up again: moved back to its Thursday. Its preview time has passed, the
    # agenda is still ahead: the preview goes at once.
    answer = bot.driver.send_payload(move_payload(bot, thursday, "2026-11-26"))
    assert answer.status == 200 and answer.json() is None, answer.json()
    tick(bot, local(2026, 11, 25, 8, 2))
    (preview,) = previews(bot)
    assert "torsdag 26 november" in preview, preview
    for hour in (9, 12, 20):
        tick(bot, local(2026, 11, 25, hour, 0))
    assert len(previews(bot)) == 1
    bot.slack.assert_no_violations()


def test_a_meeting_moved_after_its_preview_was_skipped_gets_it_at_its_new_time(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_forum(bot)
    raise_a_case(bot)
    thursday = first_meeting(bot)
    bot.clock.set(local(2026, 11, 25, 8, 0))
    cancelled_as_it_goes_out(bot, monkeypatch, "_preview_one", thursday)
    # Taken up again a week later: its preview comes the day before that meeting's agenda.
    answer = bot.driver.send_payload(move_payload(bot, thursday, "2026-12-01"))
    assert answer.status == 200 and answer.json() is None, answer.json()
    tick(bot, local(2026, 11, 25, 9, 0))
    assert previews(bot) == []
    tick(bot, local(2026, 11, 30, 8, 0))
    (preview,) = previews(bot)
    assert "tisdag 1 december" in preview, preview
    tick(bot, local(2026, 11, 30, 9, 0))
    assert len(previews(bot)) == 1


def test_a_meeting_taken_up_again_gets_the_agenda_its_cancel_skipped_once(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_forum(bot)
    thursday = first_meeting(bot)
    bot.clock.set(local(2026, 11, 26, 8, 0))  # the agenda is due
    cancelled_as_it_goes_out(bot, monkeypatch, "_post_one", thursday)
    tick(bot, local(2026, 11, 26, 8, 1))
    assert [p for p in agenda_posts(bot) if "torsdag 26 november" in p] == []
    # Taken up again on Friday: its agenda goes out on Friday morning, once.
    answer = bot.driver.send_payload(move_payload(bot, thursday, "2026-11-27"))
    assert answer.status == 200 and answer.json() is None, answer.json()
    tick(bot, local(2026, 11, 26, 9, 0))
    assert [p for p in agenda_posts(bot) if "fredag 27 november" in p] == []
    for minute in (0, 1, 30):
        tick(bot, local(2026, 11, 27, 8, minute))
    assert len([p for p in agenda_posts(bot) if "fredag 27 november" in p]) == 1
