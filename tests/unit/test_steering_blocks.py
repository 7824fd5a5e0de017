"""The note to both channels that a followed forum ended a steering forum's following of
it: Block Kit like the other notices (a pure builder), the text kept as the fallback."""

from __future__ import annotations

import json

import pytest

from domain.i18n import Translator
from handlers.blocks.steering import link_ended_notice
from sandbox.webapi import validate_message

TEXT = (
    "<!channel> & *FOSSAM* no longer shares its figures with Styrgrupp: a coordinator of "
    "<!channel> & *FOSSAM* ended it."
)


@pytest.mark.parametrize("to_steering", [True, False], ids=["steering", "followed"])
def test_the_ended_notice_is_block_kit_with_the_text_as_its_fallback(to_steering: bool) -> None:
    message = link_ended_notice(Translator("sv"), TEXT, to_steering)
    assert validate_message({"channel": "C1", **message}) == []
    section, where = message["blocks"]
    assert section["type"] == "section" and where["type"] == "context"
    # The forum's name is typed by people: escaped in the blocks, no mention, no markup.
    shown = section["text"]["text"]
    assert "<!channel>" not in shown and "&lt;!channel&gt; &amp;" in shown
    assert "<!channel>" not in message["text"] and "FOSSAM" in message["text"]
    assert "/samverkan styrning" in where["elements"][0]["text"]


def test_the_ended_notice_tells_each_channel_where_to_look() -> None:
    t = Translator("sv")
    steering = json.dumps(link_ended_notice(t, TEXT, True), ensure_ascii=False)
    followed = json.dumps(link_ended_notice(t, TEXT, False), ensure_ascii=False)
    assert "sammanställning" in steering
    assert "fortfarande följer det här forumet" in followed
    english = json.dumps(link_ended_notice(Translator("en"), TEXT, False))
    assert "still follow this forum" in english
