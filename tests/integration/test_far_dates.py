"""A date far outside any year a date here may have (a crafted 9999-12-31: a date picker
offers no such year) is refused on its own field, in the user's language, with what was
typed kept (``domain.errors.check_date``, read by ``handlers.forms.date_value`` for every
date picker). Counting reminder weeks or working days from it overflowed: the user was told
"something went wrong" on the first field and an ERROR was logged. The same for a date typed
in a command (the audit log's period, the situation picture's export)."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from sqlalchemy import func, select

from storage.models import Action, Meeting
from tests.conftest import Bot
from tests.integration import test_action_flow as actions
from tests.support.agenda_flow import setup_forum

FAR = dt.date(9999, 12, 31)


def _errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("sv", "Välj ett datum mellan åren 1900 och 2199."),
        ("en", "Choose a date between the years 1900 and 2199."),
    ],
)
def test_an_action_due_in_year_9999_is_refused_on_the_due_date(
    bot: Bot, caplog: pytest.LogCaptureFixture, locale: str, expected: str
) -> None:
    caplog.set_level(logging.WARNING)
    forum = actions.make_forum(bot)
    values = actions.action_values(forum, due=FAR)
    response = bot.driver.view_submission(
        "action_new",
        values,
        user=actions.ADMIN,
        private_metadata=json.dumps(
            {"locale": locale, "forum_id": forum["forum"], "channel_id": actions.CHANNEL}
        ),
        blocks=actions.blocks_of(values),
    )
    assert response.json() == {"response_action": "errors", "errors": {"due_on": expected}}
    assert _errors_logged(caplog) == []
    with bot.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Action)) == 0


def test_a_meeting_moved_to_year_9999_is_refused_on_the_day(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    setup_forum(bot)
    with bot.sessions() as session:
        first = session.scalars(select(Meeting).order_by(Meeting.starts_at)).first()
        assert first is not None
        meeting_id, starts_at = first.id, first.starts_at
    response = bot.driver.view_submission(
        "meeting_move",
        {
            "day": {"day": {"type": "datepicker", "selected_date": FAR.isoformat()}},
            "start": {"start": {"type": "timepicker", "selected_time": "10:00"}},
        },
        user="U1",
        private_metadata=json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": meeting_id}),
        blocks=[{"type": "input", "block_id": "day"}, {"type": "input", "block_id": "start"}],
    )
    assert response.json() == {
        "response_action": "errors",
        "errors": {"day": "Välj ett datum mellan åren 1900 och 2199."},
    }
    assert _errors_logged(caplog) == []
    with bot.sessions() as session:
        assert session.get(Meeting, meeting_id).starts_at == starts_at  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "command",
    ["logg 0001-01", "logg 9999-12-31", "lägesbild export 0001-01-01", "lägesbild export 1/1/0001"],
)
def test_a_typed_date_in_year_1_or_9999_is_refused_in_the_reply(
    bot: Bot, caplog: pytest.LogCaptureFixture, command: str
) -> None:
    caplog.set_level(logging.WARNING)
    actions.make_forum(bot)
    bot.driver.command(command, user=actions.ADMIN)
    reply = json.dumps(bot.slack.wait_for("response_url")[0].args, ensure_ascii=False)
    assert "Välj ett datum mellan åren 1900 och 2199." in reply
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
