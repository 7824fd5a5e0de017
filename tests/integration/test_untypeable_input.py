"""Characters no one can type (NUL and the other control characters, lone surrogates) in a
crafted request are stripped once, before any listener reads it (``handlers.app.clean_body``):
what the user saw is stored, on SQLite and PostgreSQL alike (PostgreSQL refuses NUL in text,
and the user was told "the database is not answering, try again", forever), and a command
word with one in it is still the command. A text that shows nothing (zero-width spaces, a
Hangul filler …: ``domain.blank``) is as empty as no text."""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from storage.models import Action, AgendaItem, Case
from tests.conftest import Bot
from tests.integration import test_action_flow as actions
from tests.integration import test_case_flow as cases
from tests.support.slack_driver import Response

pytestmark = pytest.mark.usefixtures("forum")
forum = actions.forum  # FOSSAM in C0001 with members of three agencies; ADMIN coordinates


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _escaped_payload(bot: Bot, payload: dict[str, Any]) -> Response:
    """``payload`` as a crafted client sends it: JSON with ``\\u`` escapes (a lone surrogate
    cannot be sent as UTF-8), form-encoded and signed."""
    body = urlencode({"payload": json.dumps(payload)})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **bot.driver.signed_headers(body),
    }
    return bot.driver.raw(bot.driver.path, body.encode(), headers)


def test_a_nul_in_a_modal_field_is_stripped_and_the_case_raised(
    bot: Bot, forum: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    summary = "Skolfrånvaro\x00 sedan oktober,\x07 oro\x1b[0m hemma"
    response = cases.submit_case(bot, forum, summary=summary)
    assert response.status == 200 and response.json() is None, response.body
    with bot.sessions() as session:
        assert session.scalars(select(Case.summary)).one() == (
            "Skolfrånvaro sedan oktober, oro[0m hemma"
        )
    assert _warnings(caplog) == []


def test_a_lone_surrogate_in_a_modal_field_is_stripped(
    bot: Bot, forum: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    values = actions.action_values(forum, description="Träffa eleven \ud83d varje vecka")
    payload = bot.driver.view_submission_payload(
        "action_new",
        values,
        user=actions.ADMIN,
        private_metadata=actions.meta(forum),
        blocks=actions.blocks_of(values),
    )
    response = _escaped_payload(bot, payload)
    assert response.status == 200 and response.json() is None, response.body
    bot.wait_idle()
    with bot.sessions() as session:
        assert session.scalars(select(Action.description)).one() == "Träffa eleven  varje vecka"
    assert _warnings(caplog) == []


def test_a_nul_in_a_command_is_stripped_from_the_word_and_the_text(
    bot: Bot, forum: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    bot.driver.command("punkt\x00 Rutiner\x00 vid frånvaro", user=actions.ADMIN)
    reply = bot.slack.wait_for("response_url")[0]
    assert "Tillagd på dagordningen" in json.dumps(reply.args, ensure_ascii=False)
    with bot.sessions() as session:
        assert session.scalars(select(AgendaItem.text)).all() == ["Rutiner vid frånvaro"]
    assert _warnings(caplog) == []


# Zero-width space, word joiner + byte-order mark, Hangul filler, Braille blank, soft hyphen.
INVISIBLE = ["\u200b", "\u2060\ufeff", "\u3164", "\u2800 \u2800", "\u00ad"]


@pytest.mark.parametrize("shows_nothing", INVISIBLE)
def test_a_required_field_that_shows_nothing_is_refused_like_an_empty_one(
    bot: Bot, forum: dict[str, int], shows_nothing: str
) -> None:
    answer = actions.submit_action(bot, forum, description=shows_nothing, hoped="").json()
    assert answer == {
        "response_action": "errors",
        "errors": {"description": "Beskriv vad som ska göras, utan namn."},
    }
    answer = cases.submit_case(bot, forum, summary=shows_nothing).json()
    assert answer == {
        "response_action": "errors",
        "errors": {"summary": "Skriv en kort, avidentifierad sammanfattning."},
    }
    with bot.sessions() as session:
        assert session.scalars(select(Action)).all() == []
        assert session.scalars(select(Case)).all() == []


def test_an_agenda_item_that_shows_nothing_opens_the_modal_as_a_bare_command(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.driver.command("punkt \u200b\u3164", user=actions.ADMIN)
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == "agenda_item_add"
    with bot.sessions() as session:
        assert session.scalars(select(AgendaItem)).all() == []


_views = itertools.count(1)
# Any character, lone surrogates and control characters included (hypothesis leaves the
# surrogates out unless told).
_ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=700)
_FAILURES = ("Något gick fel", "Databasen svarar inte")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(description=_ANY_TEXT, hoped=_ANY_TEXT)
def test_any_text_in_the_action_modal_is_saved_or_told_on_its_field(
    bot: Bot, forum: dict[str, int], caplog: pytest.LogCaptureFixture, description: str, hoped: str
) -> None:
    """Whatever is typed in the action modal's two free-text fields, the answer is the action
    saved (without the untypeable characters) or an error on those fields, in Swedish: never
    "something went wrong" or "the database is not answering", nothing logged as a failure."""
    caplog.clear()
    caplog.set_level(logging.WARNING)
    values = actions.action_values(forum, description=description, hoped=hoped)
    payload = bot.driver.view_submission_payload(
        "action_new",
        values,
        user=actions.ADMIN,
        private_metadata=actions.meta(forum),
        view_id=f"VH{next(_views)}",
        blocks=actions.blocks_of(values),
    )
    response = _escaped_payload(bot, payload)
    assert response.status == 200
    answer = response.json()
    if answer is None:
        bot.wait_idle()
        with bot.sessions() as session:
            saved = session.scalars(select(Action).order_by(Action.id.desc())).first()
        assert saved is not None
        assert "\x00" not in saved.description + (saved.hoped_effect or "")
    else:
        assert answer["response_action"] == "errors"
        assert set(answer["errors"]) <= {"description", "hoped_effect"}, answer
        told = " ".join(answer["errors"].values())
        assert not any(failure in told for failure in _FAILURES), told
    assert _warnings(caplog) == []
