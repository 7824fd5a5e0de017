"""Reading what Slack sends in a slash command's ``text`` — the one parser every command
that takes a person or free text uses.

The app's manifest has ``should_escape: true`` (deploy/slack-manifest.yaml), so Slack sends
a picked person as ``<@U0123|kim>``, a channel as ``<#C0123|forum>``, ``@here`` as
``<!here>``, a link as ``<https://…|label>``, and the three characters it parses as
entities: ``&amp; &lt; &gt;``. (Without escaping Slack would send ``@kim`` as plain text,
which names no one.)

* :func:`tokens` splits the text into words, keeping each ``<…>`` whole;
* :func:`user_id` reads a person from one word (``<@U…>``/``<@U…|name>``, or a bare id);
* :func:`plain` turns Slack's markup into the text the user saw (``@kim``, ``#forum``, the
  link's label) and undoes the entities: for free text that is stored (an agenda item, a
  legal-hold reason) or matched as a word;
* :func:`args` gives a command's arguments as plain words, a person as ``<@U…>``;
* :func:`shown` makes what a user typed safe to echo back (an unknown command, a word or a
  day that could not be read): no bidi control or zero-width character in it.
"""

from __future__ import annotations

import re

from domain.blank import or_empty

_TOKEN = re.compile(r"<[^<>]*>|[^\s<]+|<")
_MARKUP = re.compile(r"<([^<>]*)>")
_USER = re.compile(r"^<@([UW][A-Z0-9]{1,30})(?:\|[^<>]*)?>$|^@?([UW][A-Z0-9]{2,30})$")


# Bidi embeddings/overrides (U+202A–U+202E), isolates (U+2066–U+2069), the LRM/RLM marks
# (U+200E, U+200F), the Arabic letter mark (U+061C), and the invisible zero-width space
# (U+200B), word joiner (U+2060) and BOM (U+FEFF): a right-to-left override typed in an
# argument would reverse the rest of the line it is echoed in. The zero-width (non-)joiners
# U+200C/U+200D stay: they join an emoji sequence (a family, a flag) or Persian letters, and
# reverse nothing.
_HIDDEN = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b\u2060\ufeff]")


def shown(text: str) -> str:
    """What a user typed, to echo back in an answer: the bidi controls and invisible
    zero-width characters removed, the visible text (and emoji sequences) kept. Every echo
    of a command's argument goes through here (and every error's parameters,
    handlers.errors.error_text)."""
    return _HIDDEN.sub("", text or "")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def user_id(word: str) -> str | None:
    match = _USER.match(word.strip())
    return (match.group(1) or match.group(2)) if match else None


def _readable(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + (label.lstrip("@") or target[1:])
    if target.startswith("#"):
        return "#" + (label.lstrip("#") or target[1:])
    if target.startswith("!"):
        # <!here>, <!channel>, <!subteam^S…|@team>, <!date^…|fallback>
        return label or "@" + target[1:].split("^", 1)[0]
    return label or target.removeprefix("mailto:")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain(text: str) -> str:
    """The text as the user saw it: markup made readable, entities undone."""
    return unescape(_MARKUP.sub(_readable, text or ""))


def after(text: str, count: int) -> str:
    """The plain text after the first ``count`` words (e.g. an agenda item after
    ``punkt``, a reason after ``gallring stopp FOS-2026-017``); "" when none of it shows
    (``domain.blank``)."""
    words = tokens(text)
    return or_empty(plain(" ".join(words[count:])).strip())


def args(text: str) -> list[str]:
    """Every word as plain text, except a person picked with @, who stays ``<@U…>`` (the
    name Slack added dropped), for :func:`user_id` to read."""
    out: list[str] = []
    for word in tokens(text):
        person = user_id(word) if word.startswith("<@") else None
        out.append(f"<@{person}>" if person else plain(word))
    return out
