"""Whatever a user types in any free-text place (every modal field and the text after a
command in ``tests.support.surfaces.SURFACES``), the answer is what they asked for or a
friendly Swedish answer: never "something went wrong" or "the database is not answering",
nothing logged as a failure, and no ``<!channel>`` they typed pinging a channel (the suite's
own check after every test). Hostile values (NUL, only spaces, 3 000+ characters, Slack
markup, RTL and zero-width characters, format placeholders) and hypothesis' own, on SQLite
and PostgreSQL (which refuses NUL in text)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import Bot
from tests.support.surfaces import SURFACES, Surface, World, build_world

# Surfaces a text can be submitted to again and again (closing a case or cancelling a
# meeting is done once).
REPEATABLE = [
    s for s in SURFACES if s.name not in ("case close (outcome)", "meeting cancel (reason)")
]
HOSTILE = [
    "",
    "   ",
    " \n\n \t ",
    "x" * 3100,
    "ä" * 5000,
    "😀🧒🏽 ok",
    "\u200b\u202e",
    "<!channel> hej",
    "<!here> <@U123> <#C1> <!subteam^S1>",
    "&lt;b&gt; &amp;",
    "'; DROP TABLE cases; --",
    "a\x00b\x07c",
    "  lead and trail  ",
    "<https://evil.example|klicka>",
    "*fet* _kursiv_ ~x~ `kod`",
    "\u0645\u0631\u062d\u0628\u0627 \u200f",
    "\r\n\r\n",
    "%s %(x)s {0} {x} {{",
    "\\x00 \\u0000",
]
FAILURES = ("Något gick fel", "Databasen svarar inte", "Something went wrong", "database is not")
# Any character but lone surrogates (a form-encoded request cannot carry them; see
# test_untypeable_input for them as JSON escapes).
_TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(codec="utf-8"), max_size=1200),
)


def _named(name: str) -> Surface:
    return next(s for s in SURFACES if s.name == name)


@pytest.fixture
def world(bot: Bot) -> Iterator[World]:
    yield build_world(World(bot.driver, bot.slack, bot.sessions, tick=lambda: bot.run_due_work()))


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(surface=st.sampled_from(REPEATABLE), text=_TEXT)
@example(surface=_named("case"), text="Oro\x00 hemma <!channel>")
@example(surface=_named("agenda item"), text="Rutiner\x00 vid <!here> frånvaro")
@example(surface=_named("forum settings"), text="Forum\x00 " + "x" * 3100)
def test_any_text_in_any_field_is_saved_or_told_kindly(
    bot: Bot, world: World, caplog: pytest.LogCaptureFixture, surface: Surface, text: str
) -> None:
    caplog.clear()
    caplog.set_level(logging.WARNING)
    opened = surface.open(world)
    bot.wait_idle(30)
    before = len(bot.slack.calls)
    answer = surface.submit(world, opened, text)
    assert answer.status == 200, (surface.name, answer.status, answer.body)
    bot.wait_idle(30)
    body = answer.json()
    if surface.modal and body is not None and body.get("response_action") == "errors":
        told = " ".join(body["errors"].values())
        assert not any(failure in told for failure in FAILURES), (surface.name, told)
    said = [json.dumps(c.args, ensure_ascii=False) for c in bot.slack.calls[before:]]
    said.append(answer.body)
    assert not [s for s in said if any(f in s for f in FAILURES)], (surface.name, text[:40])
    assert _warnings(caplog) == [], (surface.name, text[:40])
