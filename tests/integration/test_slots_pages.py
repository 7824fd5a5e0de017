"""The time slots ("Tidsluckor") of a meeting with more cases than one modal holds, through
the real app.

A forum meeting (Thursdays 13–15) with 20 cases on its agenda: the slots modal shows them
page by page (Slack's modal holds 100 blocks), every page offers every place of the whole
agenda, "Spara och visa nästa" saves a page and answers with the next one, the last page
saves and closes; the agenda preview, the posted agenda and the morning DMs follow. The world
is test_minutes_flow's (FOSSAM, U1 coordinates, U2 Elevhälsa raises the cases for Grundskola).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import event, select

from domain import agenda as agenda_service
from storage.db import transaction
from storage.models import AgendaItem, Forum, Meeting
from tests.conftest import Bot
from tests.integration import test_minutes_flow as minutes
from tests.integration.test_minutes_pages import reads
from tests.support.agenda_flow import dms_to, local, text_of, tick
from tests.support.blockkit import all_text
from tests.support.minutes_world import (
    FAILED,
    OUTAGE,
    assert_fits,
    copied_cases,
    first_meeting,
    meeting_with_cases,
    raise_a_case,
    setup_forum,
)
from tests.support.slack_driver import number_value, select_value, state_values
from tests.support.wait import eventually


def page_slots(view: dict[str, Any]) -> dict[int, int]:
    """The page's agenda items and the place each shows."""
    return {
        int(b["block_id"].split(":")[1]): int(b["element"]["initial_option"]["value"])
        for b in view["blocks"]
        if str(b.get("block_id", "")).startswith("place:")
    }


def offered(view: dict[str, Any]) -> list[list[str]]:
    return [
        [o["value"] for o in b["element"]["options"]]
        for b in view["blocks"]
        if str(b.get("block_id", "")).startswith("place:")
    ]


def reference_of(view: dict[str, Any], item: int) -> str:
    blocks = view["blocks"]
    for n, block in enumerate(blocks):
        if block.get("block_id") == f"place:{item}":
            return str(blocks[n - 1]["text"]["text"]).split("*")[1]
    raise AssertionError(item)


def submit_page(
    bot: Bot,
    view: dict[str, Any],
    slots: dict[int, tuple[int, int]] | None = None,
    *,
    default: int = 5,
    minutes_each: int = 5,
    private_metadata: str | None = None,
) -> Any:
    """Submit one page as Slack would: every case on it (its place as shown and
    ``minutes_each`` unless ``slots`` says otherwise), the link and the default length."""
    chosen = {item: (place, minutes_each) for item, place in page_slots(view).items()}
    chosen.update(slots or {})
    entries: dict[tuple[str, str], dict[str, Any]] = {
        ("meeting_link", "value"): {"type": "url_text_input", "value": minutes.LINK},
        ("slot_default", "value"): number_value(default),
    }
    for item, (place, length) in chosen.items():
        entries[(f"place:{item}", "value")] = select_value(str(place))
        entries[(f"minutes:{item}", "value")] = number_value(length)
    return bot.driver.view_submission(
        "slots_save",
        state_values(entries),
        user="U1",
        private_metadata=(
            view["private_metadata"] if private_metadata is None else private_metadata
        ),
        blocks=view["blocks"],
    )


def stored(bot: Bot) -> dict[int, tuple[int | None, int | None]]:
    with bot.sessions() as s:
        return {i.id: (i.slot_position, i.slot_minutes) for i in s.scalars(select(AgendaItem))}


def test_every_case_of_a_long_agenda_gets_its_slot_page_by_page(bot: Bot) -> None:
    meeting, _references = meeting_with_cases(bot, until="preview")
    first = minutes.open_slots(bot, meeting)
    assert_fits(first)
    assert "Ärende 1–12 av 20" in all_text(first)
    assert first["submit"]["text"] == "Spara och visa nästa"
    one = page_slots(first)
    assert list(one.values()) == list(range(1, 13))
    assert all(places == [str(n) for n in range(1, 21)] for places in offered(first))

    # Page 1: every case 5 minutes, the forum's default 5 (20 x 15 would not fit 13–15).
    answer = submit_page(bot, first)
    assert answer.status == 200
    body = answer.json()
    assert body["response_action"] == "update", body
    second = body["view"]
    assert_fits(second)
    assert "Ärende 13–20 av 20" in all_text(second)
    assert "Sparat" in all_text(second)
    assert second["submit"]["text"] == "Spara"
    two = page_slots(second)
    assert list(two.values()) == list(range(13, 21))
    assert all(places == [str(n) for n in range(1, 21)] for places in offered(second))
    with bot.sessions() as s:
        assert set(one) | set(two) == set(s.scalars(select(AgendaItem.id)))  # every case
    assert all(stored(bot)[item] == (place, 5) for item, place in one.items())

    # A length out of range on page 2: told on its field, nothing of page 2 kept, and the
    # modal stays as typed (errors, not a new view).
    last = max(two, key=lambda item: two[item])
    refused = submit_page(bot, second, {last: (20, 300)})
    errors = refused.json()
    assert errors["response_action"] == "errors", errors
    assert list(errors["errors"]) == [f"minutes:{last}"]
    assert all(stored(bot)[item][1] is None for item in two)

    # Page 2 moves its last case (place 20) to the front with 10 minutes: it goes first,
    # every other case one place down; the last page closes.
    moved = reference_of(second, last)
    done = submit_page(bot, second, {last: (1, 10)})
    assert done.status == 200 and not done.json()
    after = stored(bot)
    assert after[last] == (1, 10)
    assert all(
        after[item] == (place + 1, 5) for item, place in {**one, **two}.items() if item != last
    )
    eventually(lambda: [c for c in dms_to(bot, "U1") if "Sparat" in text_of(c)])

    # The preview already sent is updated in place; the agenda posted on the day and the
    # morning DMs show the new order.
    eventually(
        lambda: any(
            f"13:00–13:10 · *{moved}*" in text_of(c)
            for c in bot.slack.calls_to("chat.update", ok=True)
        )
    )
    tick(bot, local(2026, 11, 26, 8, 0))
    posted = minutes.agenda_post(bot)
    assert f"13:00–13:10 · *{moved}*" in posted
    assert "14:40–14:45" in posted  # the 20th slot
    assert f"{moved} kl. 13:00–13:10 — er verksamhet behövs" in text_of(dms_to(bot, "U2")[0])

    # Reopened: page 1 in the new order.
    again = minutes.open_slots(bot, meeting)
    assert next(iter(page_slots(again))) == last
    bot.slack.assert_no_violations()


def test_a_slot_past_the_meetings_end_on_another_page_is_told_on_this_page(bot: Bot) -> None:
    """Page 1 saved with the default at 15 minutes: the cases of page 2 would end past 15:00.
    The refusal is told on a case's length on page 1 (the last one shown), where shortening
    helps, not on whatever input comes first (Slack shows no error on a field it has not
    got)."""
    meeting, _references = meeting_with_cases(bot, until="preview")
    first = minutes.open_slots(bot, meeting)
    one = page_slots(first)
    refused = submit_page(bot, first, default=15, minutes_each=5)
    errors = refused.json()
    assert errors["response_action"] == "errors", errors
    (field,) = errors["errors"]
    assert field == f"minutes:{max(one, key=lambda item: one[item])}", field
    assert "15:00" in errors["errors"][field]
    assert all(stored(bot)[item] == (None, None) for item in one)
    with bot.sessions() as s:
        assert "slot_minutes" not in (s.scalars(select(Forum)).one().settings or {})
    bot.slack.assert_no_violations()


def test_a_case_moved_to_a_later_page_is_not_shown_twice_nor_a_case_skipped(bot: Bot) -> None:
    """Page 1 moves its first case to place 16: page 2 shows every case not yet shown
    (the 13th now at place 12 included), not the moved one again."""
    meeting, _references = meeting_with_cases(bot, until="preview")
    first = minutes.open_slots(bot, meeting)
    one = page_slots(first)
    head = next(item for item, place in one.items() if place == 1)
    second = submit_page(bot, first, {head: (16, 5)}).json()["view"]
    two = page_slots(second)
    with bot.sessions() as s:
        every = set(s.scalars(select(AgendaItem.id)))
    assert head not in two and set(one) | set(two) == every
    assert len(two) == 8
    assert stored(bot)[head] == (16, 5)
    assert submit_page(bot, second).json() is None


@pytest.mark.parametrize("crafted", ["-1", '"²"', '"١"', "0", str(2**31), "1" + "0" * 30])
def test_a_crafted_page_is_told_and_nothing_is_saved(bot: Bot, crafted: str) -> None:
    meeting, _references = meeting_with_cases(bot, 13, until="preview")
    first = minutes.open_slots(bot, meeting)
    meta = json.loads(first["private_metadata"])
    meta.pop("page", None)
    forged = json.dumps(meta)[:-1] + f', "page": {crafted}}}'
    answer = submit_page(bot, first, private_metadata=forged)
    body = answer.json()
    shown = json.dumps(body, ensure_ascii=False)
    assert body["response_action"] == "errors", body
    assert OUTAGE not in shown and FAILED not in shown, shown
    assert "Den här sidan av tidsluckorna finns inte" in shown, shown
    assert all(value == (None, None) for value in stored(bot).values())


def test_the_next_page_with_another_forums_meeting_saves_nothing(bot: Bot) -> None:
    """Page 2's metadata naming a meeting of a forum U1 is not in (same workspace): a
    friendly refusal, nothing saved there or here."""
    meeting, _references = meeting_with_cases(bot, 13, until="preview")
    other_id, theirs = minutes.another_forums_meeting(bot)
    first = minutes.open_slots(bot, meeting)
    second = submit_page(bot, first).json()["view"]
    meta = json.loads(second["private_metadata"])
    assert meta["page"] == 2
    before = stored(bot)
    meta["meeting_id"] = theirs
    answer = submit_page(bot, second, minutes_each=10, private_metadata=json.dumps(meta))
    shown = json.dumps(answer.json(), ensure_ascii=False)
    assert answer.json()["response_action"] == "errors", shown
    assert OUTAGE not in shown and FAILED not in shown, shown
    assert stored(bot) == before
    with bot.sessions() as s:
        forum = s.get(Forum, other_id)
        assert forum is not None and "meeting_link" not in (forum.settings or {})


def test_the_last_page_closes_without_building_a_next_one(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saving a page builds the agenda for the next page only when there is one: page 1's
    save builds page 2, the last page's save builds none (it closes with the note)."""
    meeting, _references = meeting_with_cases(bot, 13, until="preview")
    builds: list[int] = []
    build = agenda_service.build

    def counted(*args: Any, **kwargs: Any) -> Any:
        builds.append(1)
        return build(*args, **kwargs)

    monkeypatch.setattr(agenda_service, "build", counted)
    first = minutes.open_slots(bot, meeting)
    builds.clear()
    second = submit_page(bot, first).json()["view"]
    assert len(builds) == 1  # page 2
    builds.clear()
    done = submit_page(bot, second)
    assert done.status == 200 and not done.json()
    assert builds == []
    eventually(lambda: [c for c in dms_to(bot, "U1") if "Sparat" in text_of(c)])


def _saved_notes(bot: Bot) -> list[str]:
    return [text_of(c) for c in dms_to(bot, "U1") if "Sparat" in text_of(c)]


def test_cases_added_while_the_slots_were_set_are_named_in_the_note(bot: Bot) -> None:
    """Two cases raised for the meeting while page 2 (the last) is open: saving it closes
    the modal, and the note says two cases came and how to give them times."""
    meeting, _references = meeting_with_cases(bot, 13, until="preview")
    first = minutes.open_slots(bot, meeting)
    second = submit_page(bot, first).json()["view"]
    raise_a_case(bot)
    raise_a_case(bot)
    done = submit_page(bot, second)
    assert done.status == 200 and not done.json()
    notes = eventually(lambda: _saved_notes(bot))
    assert "2 ärenden kom till medan du planerade" in notes[-1], notes
    assert "Tidsluckor" in notes[-1]


def test_the_note_names_no_added_cases_when_none_came(bot: Bot) -> None:
    meeting, _references = meeting_with_cases(bot, 13, until="preview")
    first = minutes.open_slots(bot, meeting)
    second = submit_page(bot, first).json()["view"]
    assert submit_page(bot, second).status == 200
    notes = eventually(lambda: _saved_notes(bot))
    assert (
        '"text": "Sparat. Dagordningen och morgonens meddelanden visar de nya tiderna."'
        in (notes[-1])
    ), notes


def test_saving_a_page_of_a_long_agendas_slots_reads_the_cases_agencies_at_once(
    bot: Bot,
) -> None:
    """A meeting of 100 cases (a long afternoon): saving a page of its slots reads the
    agencies of all its cases in one query, not one case at a time (before, each save loaded
    every case and then each case's agencies on its own: 100 more statements, and more the
    longer the agenda)."""
    setup_forum(bot)
    copied_cases(bot, 100)
    meeting = first_meeting(bot)
    with transaction(bot.sessions) as s:  # the agenda as collected; a meeting long enough
        held = s.get_one(Meeting, meeting)  # for 100 slots of 5 minutes
        held.ends_at = held.starts_at + dt.timedelta(hours=9)
        agenda_service.collect(s, bot.clock, held, s.get_one(Forum, held.forum_id))
    bot.clock.set(local(2026, 11, 25, 8, 0))
    first = minutes.open_slots(bot, meeting)
    assert "Ärende 1–12 av 100" in all_text(first)
    with reads(bot) as (_loaded, statements):
        body = submit_page(bot, first).json()
    assert body["response_action"] == "update", body
    assert "Ärende 13–24 av 100" in all_text(body["view"])
    assert all(stored(bot)[item] == (place, 5) for item, place in page_slots(first).items())
    agencies = [s for s in statements if "case_agencies" in s]
    assert len(agencies) <= 2, agencies  # the save's order, and the next page's
    assert len(statements) < 50, len(statements)


def test_saving_the_slots_writes_the_forums_settings_once(bot: Bot) -> None:
    """A page saved with a new meeting link and default length changes the forum's settings
    once, both keys together (before, they were written up to three times: the length to
    try the slots, back again when they overflowed, then the link)."""
    meeting, _references = meeting_with_cases(bot, 13, until="preview")
    first = minutes.open_slots(bot, meeting)
    writes: list[Any] = []

    def on_set(_target: Forum, value: Any, *_args: Any) -> None:
        writes.append(dict(value or {}))

    event.listen(Forum.settings, "set", on_set)
    try:
        with reads(bot) as (_loaded, statements):
            body = submit_page(bot, first, default=6).json()
    finally:
        event.remove(Forum.settings, "set", on_set)
    assert body["response_action"] == "update", body
    updates = [s for s in statements if s.startswith("UPDATE forums")]
    assert len(writes) == 1, writes
    assert writes[0]["slot_minutes"] == 6 and writes[0]["meeting_link"] == minutes.LINK
    assert len(updates) == 1, updates
    with bot.sessions() as s:
        settings = s.scalars(select(Forum)).one().settings or {}
    assert (settings["slot_minutes"], settings["meeting_link"]) == (6, minutes.LINK)
