"""A scheduled DM whose content does not depend on its recipient is rendered once per
language, not once per recipient (issue 18: a Thursday's rating rounds render thousands of
identical invitations): the runner's rating invitations and reminders are rendered once per
agency and language (Babel is asked for the button's label that often), each recipient
still reads their own language, and no two forums', nor two agencies', DMs share one."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from domain import forums as fs
from domain import languages
from domain.i18n import Locale, translations
from storage.db import transaction
from storage.models import Forum, RatingRound, Role
from tests.conftest import Bot
from tests.support import rating_flow
from tests.support.forums import forum_draft

AGENCIES = ["Socialtjänst/IFO", "Polis", "Fritidsgård", "Skola"]
BUTTON = "Rate the situation"  # the invitation's button label (msgid)


def make_forum(bot: Bot, n: int, *, members: int) -> dict[str, list[str]]:
    """Forum ``n``: named "OSF" like every other (the same name and agency names in each),
    a situation picture at every meeting, ``members`` members in each agency; its members'
    ids by agency."""
    draft = forum_draft(
        name="OSF",
        code=f"OSF{n}",
        agencies=AGENCIES,
        own_agency=AGENCIES[0],
        areas=rating_flow.AREAS,
    )
    users: dict[str, list[str]] = {}
    with transaction(bot.sessions) as s:
        admin = f"U{n}A0"
        created = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id=f"C{n:04d}", actor=admin, draft=draft
        )
        created.settings = {"situation_picture": "every"}
        for agency in created.agencies:
            ids = [f"U{n}{agency.position}{m}" for m in range(members)]
            if agency.name == AGENCIES[0]:
                ids = [admin, *ids[1:]]  # the admin is the own agency's first
                members_now = ids[1:]
            else:
                members_now = ids
            if members_now:
                fs.add_members(
                    s,
                    bot.clock,
                    forum=created,
                    actor=admin,
                    slack_user_ids=members_now,
                    agency_id=agency.id,
                    role=Role.MEMBER,
                )
            users[agency.name] = ids
    return users


class Lookups:
    """How often Babel is asked for ``msgid``, per language (counted on its catalogs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, msgid: str) -> None:
        self.counts: Counter[Locale] = Counter()
        locale: Locale
        for locale in ("sv", "en"):
            catalog = translations(locale)
            real = catalog.gettext

            def counting(message: str, real: Any = real, locale: Locale = locale) -> str:
                if message == msgid:
                    self.counts[locale] += 1
                return str(real(message))

            monkeypatch.setattr(catalog, "gettext", counting)


def rating_button(dm: dict[str, Any]) -> list[str]:
    return [
        e["value"]
        for b in dm.get("blocks", [])
        for e in b.get("elements", [])
        if e.get("action_id") == "rating_open"
    ]


def invitations(bot: Bot) -> dict[str, dict[str, Any]]:
    """The DMs with the rating button sent, by recipient (one each)."""
    sent = [c.args for c in bot.slack.calls_to("chat.postMessage") if rating_button(c.args)]
    by_user = {dm["channel"]: dm for dm in sent}
    assert len(by_user) == len(sent)
    return by_user


def test_a_rounds_invitations_and_reminders_are_rendered_once_per_agency_and_language(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = make_forum(bot, 1, members=5)
    english = {ids[0] for ids in users.values()} | {users["Polis"][1]}
    for user in english:
        bot.slack.set_user(user, locale="en-US")
    # The languages a scheduled job reads are the stored ones (domain.languages).
    languages.remember(bot.sessions, bot.clock, "T0001", dict.fromkeys(english, "en"))
    lookups = Lookups(monkeypatch, BUTTON)
    bot.run_due_work()
    sent = invitations(bot)
    assert len(sent) == 20  # 4 agencies × 5 members
    # Once per agency and language: 4 English, 4 Swedish, not 5 and 15.
    assert lookups.counts == {"en": 4, "sv": 4}
    for user, dm in sent.items():
        text = json.dumps(dm, ensure_ascii=False)
        if user in english:
            assert "Situation picture before OSF Thursday 26 November" in text
        else:
            assert "Situation picture" not in text and "torsdag 26 november" in text
    # The reminder too (nobody answered): once per agency and language.
    lookups.counts.clear()
    bot.slack.reset()  # forgets its users: Slack still knows their languages
    for user in english:
        bot.slack.set_user(user, locale="en-US")
    bot.clock.set(rating_flow.DEADLINE - dt.timedelta(minutes=90))
    bot.run_due_work()
    reminded = invitations(bot)
    assert len(reminded) == 20
    assert lookups.counts == {"en": 4, "sv": 4}
    for user, dm in reminded.items():
        assert ("Reminder: situation picture" in dm["text"]) == (user in english), dm["text"]


def test_two_forums_invitations_never_share_a_rendering(bot: Bot) -> None:
    """Two forums of the same name and agencies, their rounds opened in one tick: each DM
    carries its own forum's round and its own agency (the button's value), and says so in
    its recipient's language, an English and a Swedish member of one forum each their own."""
    first = make_forum(bot, 1, members=2)
    second = make_forum(bot, 2, members=2)
    bot.slack.set_user(first["Polis"][0], locale="en-US")
    bot.slack.set_user(second["Polis"][1], locale="en-US")
    bot.run_due_work()
    sent = invitations(bot)
    with bot.sessions() as s:
        rounds = {r.forum_id: r.id for r in s.scalars(select(RatingRound))}
        agency_of = {
            (forum.id, agency.name): agency.id
            for forum in s.scalars(select(Forum))
            for agency in forum.agencies
        }
        forum_of = {forum.code: forum.id for forum in s.scalars(select(Forum))}
    assert len(rounds) == 2
    for code, users in (("OSF1", first), ("OSF2", second)):
        forum_id = forum_of[code]
        for agency, ids in users.items():
            for user in ids:
                dm = sent[user]
                (value,) = rating_button(dm)
                assert value == f"{rounds[forum_id]}:{agency_of[forum_id, agency]}", user
                assert agency in json.dumps(dm, ensure_ascii=False)
    english = json.dumps(sent[first["Polis"][0]], ensure_ascii=False)
    swedish = json.dumps(sent[first["Polis"][1]], ensure_ascii=False)
    assert "Situation picture before OSF" in english and "You answer for Polis" in english
    assert "Situation picture" not in swedish and "torsdag 26 november" in swedish
    assert sent[second["Polis"][1]] != sent[first["Polis"][0]]  # same language, other forum
