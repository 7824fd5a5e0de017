"""What a user typed and the answer echoes (an unknown command, a filter word, a day that
could not be read) comes back without bidi controls or zero-width characters: a
right-to-left override typed in an argument would otherwise reverse the rest of the line
it is shown in. The visible text stays."""

from __future__ import annotations

import json
import re

from tests.conftest import Bot
from tests.integration import test_action_flow as actions
from tests.support import rating_flow

# Every character the helper removes, and a few visible letters around them.
HIDDEN = (
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"  # bidi embeddings, isolates
    "\u200e\u200f\u061c"  # the LRM, RLM and Arabic letter marks
    "\u200b\u2060\ufeff"  # zero-width space, word joiner, BOM
)
# Kept: the zero-width joiner makes one emoji of a family (a name may hold one).
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
# Each of them typed between visible letters (longer than an echo's cut, which counts the
# visible letters only).
TYPED = "ab" + HIDDEN[:6] + "cd" + HIDDEN[6:12] + "ef" + HIDDEN[12:] + "gh"
_HIDDEN_RE = re.compile(f"[{HIDDEN}]")


def reply_text(bot: Bot, text: str, user: str) -> str:
    before = bot.slack.count("response_url")
    bot.driver.command(text, user=user)
    reply = bot.slack.wait_for("response_url", count=before + 1)[-1]
    assert reply.args.get("response_type", "ephemeral") == "ephemeral"
    return json.dumps(reply.args, ensure_ascii=False)


def assert_shown_plainly(answer: str) -> None:
    assert not _HIDDEN_RE.search(answer), [hex(ord(c)) for c in _HIDDEN_RE.findall(answer)]
    assert "abcdefgh" in answer  # the visible text, as it was typed


def test_an_unknown_command_is_echoed_without_bidi_controls(bot: Bot) -> None:
    answer = reply_text(bot, TYPED, "U1")
    assert "känner inte till kommandot" in answer
    assert_shown_plainly(answer)
    assert FAMILY in reply_text(bot, f"x{FAMILY}", "U1")  # one emoji, as typed


def test_an_unknown_list_word_is_echoed_without_bidi_controls(bot: Bot) -> None:
    actions.make_forum(bot)
    answer = reply_text(bot, f"insatser {TYPED}", actions.ELEVHALSA)
    assert "känner inte till filtret" in answer
    assert_shown_plainly(answer)


def test_a_day_that_could_not_be_read_is_echoed_without_bidi_controls(bot: Bot) -> None:
    rating_flow.make_forum(bot)
    answer = reply_text(bot, f"borta {TYPED}", rating_flow.POLIS)
    assert "kunde inte tolka" in answer
    assert_shown_plainly(answer)
