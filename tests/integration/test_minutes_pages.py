"""The minutes of a meeting with more cases than one modal holds, through the real app.

A forum meeting with 20 cases on its agenda: the minutes modal shows them page by page
(Slack's modal holds 100 blocks), "Spara och visa nästa" saves a page and answers with the
next one, the last page saves and closes. Every case can be minuted; a crafted page is told
as such. The world is test_minutes_flow's (FOSSAM, Thursdays 13–15, U1 coordinates).
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select

from domain import agenda as agenda_service
from storage.db import transaction
from storage.models import Action, Case, CaseStatus, Forum, Meeting, Member, MinuteEntry, Role
from tests.conftest import Bot
from tests.integration import test_minutes_flow as minutes
from tests.support.agenda_flow import channel_posts, dms_to, local, text_of
from tests.support.blockkit import all_text
from tests.support.minutes_world import (
    FAILED,
    OUTAGE,
    assert_fits,
    copied_cases,
    first_meeting,
    meeting_with_cases,
    setup_forum,
)
from tests.support.slack_driver import (
    date_value,
    input_blocks,
    plain_value,
    state_values,
    users_value,
)
from tests.support.wait import eventually


def packed(
    cases: bytes, follow_ups: bytes, actions: bytes, *, sizes: tuple[int, int, int] | None = None
) -> str:
    """A tally as the modal's metadata carries it (domain.minutes.tally): three bitsets
    (a bit for each of the meeting's cases, minuted; planned for a follow-up; a bit for
    each action its minutes created), their sizes first, compressed, base64, version 1."""
    header = struct.pack(">3I", *(sizes or (len(cases), len(follow_ups), len(actions))))
    raw = zlib.compress(header + cases + follow_ups + actions)
    return "1" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unpacked(tally: str) -> tuple[bytes, bytes, bytes]:
    body = tally[1:]
    raw = zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    sizes = struct.unpack_from(">3I", raw)
    at = 12
    parts = []
    for size in sizes:
        parts.append(raw[at : at + size])
        at += size
    return parts[0], parts[1], parts[2]


def page_cases(view: dict[str, Any]) -> list[int]:
    return [
        int(b["block_id"].split(":")[1])
        for b in view["blocks"]
        if str(b.get("block_id", "")).startswith("decision:")
    ]


def decision_for(case: int) -> str:
    return f"Skolan kallar till samordnat möte, ärende {case}"


def submit_page(
    bot: Bot,
    view: dict[str, Any],
    decisions: dict[int, str] | None = None,
    *,
    private_metadata: str | None = None,
    fields: dict[tuple[str, str], dict[str, Any]] | None = None,
) -> Any:
    """Submit one page as Slack would: every case on it, the decisions typed (and any other
    ``fields``, by block and action id)."""
    decisions = decisions if decisions is not None else {}
    values: dict[tuple[str, str], dict[str, Any]] = {}
    for case in page_cases(view):
        values[(f"decision:{case}", "value")] = plain_value(decisions.get(case))
        values[(f"action:{case}", "value")] = plain_value(None)
        values[(f"owner:{case}", "value")] = users_value(None)
        values[(f"due:{case}", "value")] = date_value(None)
        values[(f"follow_up:{case}", "value")] = date_value(None)
    values.update(fields or {})
    return bot.driver.view_submission(
        "minutes_save",
        state_values(values),
        user="U1",
        private_metadata=(
            view["private_metadata"] if private_metadata is None else private_metadata
        ),
        blocks=view["blocks"],
    )


def recorded(bot: Bot) -> dict[int, str | None]:
    with bot.sessions() as s:
        return {e.case_id: e.decision for e in s.scalars(select(MinuteEntry))}


def test_every_case_of_a_long_agenda_is_minuted_page_by_page(bot: Bot) -> None:
    meeting, references = meeting_with_cases(bot, until="ended")
    with bot.sessions() as s:
        all_cases = set(s.scalars(select(Case.id)))

    first = minutes.minutes_modal(bot, meeting)
    assert_fits(first)
    assert "Ärende 1–12 av 20" in all_text(first)
    assert first["submit"]["text"] == "Spara och visa nästa"
    one = page_cases(first)
    assert len(one) == 12

    answer = submit_page(bot, first, {case: decision_for(case) for case in one})
    assert answer.status == 200
    body = answer.json()
    assert body["response_action"] == "update", body
    second = body["view"]
    assert_fits(second)
    assert "Ärende 13–20 av 20" in all_text(second)
    assert "Protokollet sparat för 12 ärenden" in all_text(second)
    assert second["submit"]["text"] == "Spara"
    two = page_cases(second)
    assert len(two) == 8 and not set(one) & set(two)
    assert set(one) | set(two) == all_cases  # every case reachable
    assert recorded(bot) == {case: decision_for(case) for case in one}  # page 1 is saved

    # A field error on page 2 shows on page 2's field; nothing of page 2 is kept.
    wrong = two[3]
    typed = {case: decision_for(case) for case in two}
    refused = submit_page(bot, second, {**typed, wrong: "Ring mamman på 070-123 45 67"})
    errors = refused.json()
    assert errors["response_action"] == "errors", errors
    assert list(errors["errors"]) == [f"decision:{wrong}"]
    assert "telefonnummer" in errors["errors"][f"decision:{wrong}"].lower()
    assert set(recorded(bot)) == set(one)

    done = submit_page(bot, second, typed)
    assert done.status == 200 and not done.json()  # the last page closes
    assert recorded(bot) == {case: decision_for(case) for case in one + two}
    confirmation = eventually(
        lambda: [c for c in dms_to(bot, "U1") if "Protokollet sparat" in text_of(c)]
    )
    assert "20 ärenden" in text_of(confirmation[0])  # both pages
    # The channel's one notice names the cases of both pages (references only).
    notice = eventually(lambda: [c for c in channel_posts(bot) if "Protokoll" in text_of(c)])
    assert len(notice) == 1
    assert all(reference in text_of(notice[0]) for reference in references)
    assert decision_for(one[0]) not in text_of(notice[0])

    # Reopened: page 1 again, with what was recorded.
    again = minutes.minutes_modal(bot, meeting)
    assert page_cases(again) == one
    assert decision_for(one[0]) in json.dumps(again["blocks"], ensure_ascii=False)
    bot.slack.assert_no_violations()


@pytest.mark.parametrize("crafted", ["-1", '"²"', '"١"', "0", str(2**31), "1" + "0" * 30])
def test_a_crafted_page_is_told_and_nothing_is_saved(bot: Bot, crafted: str) -> None:
    meeting, _references = meeting_with_cases(bot, 13, until="ended")
    first = minutes.minutes_modal(bot, meeting)
    meta = json.loads(first["private_metadata"])
    meta.pop("page", None)
    forged = json.dumps(meta)[:-1] + f', "page": {crafted}}}'
    one = page_cases(first)
    answer = submit_page(
        bot, first, {case: decision_for(case) for case in one}, private_metadata=forged
    )
    body = answer.json()
    shown = json.dumps(body, ensure_ascii=False)
    assert body["response_action"] == "errors", body
    assert OUTAGE not in shown and FAILED not in shown, shown
    assert "Den här sidan av protokollet finns inte" in shown, shown
    assert recorded(bot) == {}


def test_the_next_page_with_another_forums_meeting_saves_nothing(bot: Bot) -> None:
    """Page 2's metadata naming a meeting of a forum U1 is not in (same workspace): a
    friendly refusal, nothing saved there or here."""
    meeting, _references = meeting_with_cases(bot, 13, until="ended")
    _other, theirs = minutes.another_forums_meeting(bot)
    first = minutes.minutes_modal(bot, meeting)
    second = submit_page(bot, first).json()["view"]
    meta = json.loads(second["private_metadata"])
    assert meta["page"] == 2
    meta["meeting_id"] = theirs
    two = page_cases(second)
    answer = submit_page(
        bot, second, {case: decision_for(case) for case in two}, private_metadata=json.dumps(meta)
    )
    shown = json.dumps(answer.json(), ensure_ascii=False)
    assert answer.json()["response_action"] == "errors", shown
    assert OUTAGE not in shown and FAILED not in shown, shown
    with bot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(MinuteEntry)) == 0


def test_closing_a_later_page_tells_the_channel_of_the_pages_saved(bot: Bot) -> None:
    """Page 1 saved, page 2 closed with Cancel: page 1's minutes stay, and the channel gets
    its one notice (references only) instead of none."""
    meeting, references = meeting_with_cases(bot, until="ended")
    first = minutes.minutes_modal(bot, meeting)
    one = page_cases(first)
    second = submit_page(bot, first, {case: decision_for(case) for case in one}).json()["view"]
    assert second["notify_on_close"] is True and "notify_on_close" not in first
    with bot.sessions() as s:
        saved = set(s.scalars(select(Case.reference).where(Case.id.in_(one))))
    # A member who is no coordinator sending the same close: nothing.
    bot.driver.view_closed("minutes_save", user="U2", private_metadata=second["private_metadata"])
    bot.wait_idle()
    assert not [c for c in channel_posts(bot) if "Protokoll" in text_of(c)]
    bot.driver.view_closed("minutes_save", user="U1", private_metadata=second["private_metadata"])
    notice = eventually(lambda: [c for c in channel_posts(bot) if "Protokoll" in text_of(c)])
    assert "12 ärenden" in text_of(notice[0])
    assert all(reference in text_of(notice[0]) for reference in saved)
    assert not any(r in text_of(notice[0]) for r in set(references) - saved)
    assert set(recorded(bot)) == set(one)
    # Closed again (or another page closed): still one notice.
    bot.driver.view_closed("minutes_save", user="U1", private_metadata=second["private_metadata"])
    bot.wait_idle()
    assert len([c for c in channel_posts(bot) if "Protokoll" in text_of(c)]) == 1
    bot.slack.assert_no_violations()


def test_a_case_closed_while_page_one_is_open_moves_no_case_past_the_pages(bot: Bot) -> None:
    """Another coordinator closes a case of page 1 while U1 writes it: page 2 still starts
    with the case after page 1's last, so the 13th case is not skipped."""
    meeting, _references = meeting_with_cases(bot, until="ended")
    first = minutes.minutes_modal(bot, meeting)
    one = page_cases(first)
    close_case(bot, one[0])  # (its decision would be refused: the test after this one)
    second = submit_page(bot, first, {case: decision_for(case) for case in one[1:]}).json()
    two = page_cases(second["view"])
    with bot.sessions() as s:
        open_cases = set(s.scalars(select(Case.id).where(Case.status != CaseStatus.CLOSED)))
    assert len(two) == 8 and "Ärende 12–19 av 19" in all_text(second["view"])
    assert (set(one) | set(two)) >= open_cases  # none skipped
    last = submit_page(bot, second["view"], {case: decision_for(case) for case in two})
    assert last.json() is None


def close_case(bot: Bot, case: int) -> str:
    """Another coordinator closes ``case`` (while U1 has the minutes open); its reference."""
    with transaction(bot.sessions) as s:
        closing = s.get(Case, case)
        assert closing is not None
        closing.status = CaseStatus.CLOSED
        return closing.reference


def test_a_case_closed_while_its_page_is_open_gets_no_decision(bot: Bot) -> None:
    """The decision typed for a case closed meanwhile is told on its field, in the user's
    language; nothing of the page is saved and the modal keeps what was typed (an errors
    answer). Emptied, the page saves the rest; the channel's notice does not name it."""
    meeting, _references = meeting_with_cases(bot, 13, until="ended")
    first = minutes.minutes_modal(bot, meeting)
    one = page_cases(first)
    closed = one[2]
    reference = close_case(bot, closed)
    typed = {case: decision_for(case) for case in one}
    refused = submit_page(bot, first, typed).json()
    assert refused["response_action"] == "errors", refused
    assert list(refused["errors"]) == [f"decision:{closed}"]
    assert refused["errors"][f"decision:{closed}"].startswith("Ärendet är avslutat")
    assert recorded(bot) == {}
    meta = json.loads(first["private_metadata"])
    english = submit_page(bot, first, typed, private_metadata=json.dumps({**meta, "locale": "en"}))
    assert english.json()["errors"][f"decision:{closed}"].startswith("This case has been closed")
    # A crafted submission for the closed case alone, an action with it: told on the fields
    # (that it is closed first: what it says would not be kept anyway).
    crafted = minutes.submit_minutes(
        bot,
        meeting,
        closed,
        decision="Ring mamman på 070-123 45 67",
        action="Boka samtal",
        owner="U2",
        due="2026-12-10",
    ).json()
    assert set(crafted["errors"]) == {f"decision:{closed}", f"action:{closed}"}, crafted
    assert crafted["errors"][f"decision:{closed}"].startswith("Ärendet är avslutat"), crafted
    assert recorded(bot) == {}

    del typed[closed]
    second = submit_page(bot, first, typed).json()["view"]
    assert recorded(bot) == typed
    done = submit_page(bot, second, {case: decision_for(case) for case in page_cases(second)})
    assert done.json() is None
    notice = eventually(lambda: [c for c in channel_posts(bot) if "Protokoll" in text_of(c)])
    assert "12 ärenden" in text_of(notice[0]) and reference not in text_of(notice[0])
    with bot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Action)) == 0


def test_a_decision_shown_again_unchanged_for_a_closed_case_is_no_change(bot: Bot) -> None:
    """Page 1 minuted and shown again (the minutes reopened); one of its cases is closed
    meanwhile: a changed decision for it is refused, but saving the page unchanged (its
    decision as shown) is no error and changes nothing of that case."""
    meeting, _references = meeting_with_cases(bot, 13, until="ended")
    first = minutes.minutes_modal(bot, meeting)
    one = page_cases(first)
    typed = {case: decision_for(case) for case in one}
    assert submit_page(bot, first, typed).json()["response_action"] == "update"
    again = minutes.minutes_modal(bot, meeting)
    close_case(bot, one[0])
    changed = submit_page(bot, again, {**typed, one[0]: "Skolan ringer i stället"}).json()
    assert list(changed.get("errors", {})) == [f"decision:{one[0]}"], changed
    answer = submit_page(bot, again, typed).json()
    assert answer["response_action"] == "update", answer
    assert recorded(bot) == typed


def test_the_last_pages_note_counts_every_page(bot: Bot) -> None:
    """The coordinator's note after the last page counts the cases, actions and follow-ups
    of every page of the form (page 1's carried in the modal); an id the metadata names
    that this meeting's minutes did not save counts for nothing."""
    meeting, references = meeting_with_cases(bot, 13, until="ended")
    first = minutes.minutes_modal(bot, meeting)
    one = page_cases(first)
    planned, acted = one[0], one[1]
    second = submit_page(
        bot,
        first,
        {case: decision_for(case) for case in one},
        fields={
            (f"follow_up:{planned}", "value"): date_value("2026-12-03"),
            (f"action:{acted}", "value"): plain_value("Boka samtal med vårdnadshavarna"),
            (f"owner:{acted}", "value"): users_value("U2"),
            (f"due:{acted}", "value"): date_value("2026-12-10"),
        },
    ).json()["view"]
    (last,) = page_cases(second)
    meta = json.loads(second["private_metadata"])
    # Every bit past this meeting's cases and its minutes' actions set: they name nothing.
    cases, follow_ups, actions = unpacked(meta["tally"])
    forged = {**meta, "tally": packed(cases + b"\xff" * 8, follow_ups, actions + b"\xfe" * 8)}
    done = submit_page(bot, second, {last: decision_for(last)}, private_metadata=json.dumps(forged))
    assert done.json() is None
    note = text_of(
        eventually(lambda: [c for c in dms_to(bot, "U1") if "Protokollet sparat" in text_of(c)])[0]
    )
    assert "Protokollet sparat för 13 ärenden" in note, note
    assert "1 ny insats" in note, note
    with bot.sessions() as s:
        reference = s.scalar(select(Case.reference).where(Case.id == planned))
    assert f"Tillbaka på dagordningen för uppföljning: {reference}." in note, note
    assert sum(r in note for r in references) == 1


def test_a_coordinator_who_may_not_read_a_closed_cases_decision_cannot_test_guesses(
    bot: Bot,
) -> None:
    """A coordinator whose agency the case's consent does not cover (Polis) is shown its
    decision blank. A crafted decision for that case, closed, is refused alike whether or
    not it is the decision minuted: otherwise the answer (saved, or told on the field)
    would confirm a guess at a text they may not read."""
    meeting, _references = meeting_with_cases(bot, 1, until="ended")
    first = minutes.minutes_modal(bot, meeting)
    (case,) = page_cases(first)
    secret = decision_for(case)
    assert submit_page(bot, first, {case: secret}).json() is None  # U1 minutes it
    with transaction(bot.sessions) as s:
        police = s.scalar(select(Member).where(Member.slack_user_id == "U3"))
        assert police is not None
        police.role = Role.COORDINATOR
    close_case(bot, case)

    def guess(text: str) -> Any:
        values = {
            (f"decision:{case}", "value"): plain_value(text),
            (f"action:{case}", "value"): plain_value(None),
            (f"owner:{case}", "value"): users_value(None),
            (f"due:{case}", "value"): date_value(None),
            (f"follow_up:{case}", "value"): date_value(None),
        }
        meta = json.dumps({"locale": "sv", "forum_id": 1, "meeting_id": meeting})
        state = state_values(values)
        return bot.driver.view_submission(
            "minutes_save", state, user="U3", private_metadata=meta, blocks=input_blocks(state)
        ).json()

    wrong, right = guess("Polisen gör en orosanmälan"), guess(secret)
    assert list(wrong["errors"]) == [f"decision:{case}"], wrong
    assert right == wrong  # the same answer: the guess is neither confirmed nor denied
    assert recorded(bot) == {case: secret}


CRAFTED_TALLIES = {
    # 70 000 cases minuted and an action (metadata Slack would never carry: it keeps 3000
    # characters); before the tally was packed, so many ids in one query failed the page.
    "70 000 cases": packed(b"\xff" * 8750, b"", b"\xff"),
    # 10 MB once inflated: read no further than any tally of ours could be.
    "inflating": "1" + base64.urlsafe_b64encode(zlib.compress(b"\xff" * 10_000_000)).decode(),
    "sizes that lie": packed(b"\xff", b"", b"", sizes=(10**9, 0, 0)),
    "not base64": "1$$$%%%",
    "another version": "2" + packed(b"\xff", b"", b"")[1:],
}


@pytest.mark.parametrize("crafted", list(CRAFTED_TALLIES))
def test_a_crafted_tally_is_read_as_nothing_more_than_this_meeting_saved(
    bot: Bot, crafted: str
) -> None:
    """A tally crafted on the last page (one page: nothing saved before it): the page is
    saved and the note counts what this meeting's minutes saved, never more, whatever the
    tally says, and without the database being asked about what it names."""
    meeting, _references = meeting_with_cases(bot, 1, until="ended")
    first = minutes.minutes_modal(bot, meeting)
    (case,) = page_cases(first)
    meta = json.loads(first["private_metadata"])
    forged = json.dumps({**meta, "tally": CRAFTED_TALLIES[crafted]})
    done = submit_page(bot, first, {case: decision_for(case)}, private_metadata=forged)
    assert done.json() is None, done.json()
    assert recorded(bot) == {case: decision_for(case)}
    note = text_of(
        eventually(lambda: [c for c in dms_to(bot, "U1") if "Protokollet sparat" in text_of(c)])[0]
    )
    assert "Protokollet sparat för 1 ärende." in note, note
    assert "insats" not in note, note


def test_a_follow_up_shown_again_unchanged_for_a_closed_case_is_no_change(bot: Bot) -> None:
    """As a decision shown again: page 1 minuted with a follow-up, shown again (the date
    filled in), one case closed meanwhile: saving the page as shown is no error (the
    coordinator is not made to empty a date they never touched); a new date is refused."""
    meeting, _references = meeting_with_cases(bot, 13, until="ended")
    first = minutes.minutes_modal(bot, meeting)
    one = page_cases(first)
    typed = {case: decision_for(case) for case in one}
    planned = {(f"follow_up:{one[0]}", "value"): date_value("2026-12-03")}
    assert submit_page(bot, first, typed, fields=planned).json()["response_action"] == "update"
    again = minutes.minutes_modal(bot, meeting)
    assert '"initial_date": "2026-12-03"' in json.dumps(again)
    close_case(bot, one[0])
    moved = {(f"follow_up:{one[0]}", "value"): date_value("2026-12-10")}
    changed = submit_page(bot, again, typed, fields=moved).json()
    assert list(changed.get("errors", {})) == [f"follow_up:{one[0]}"], changed
    answer = submit_page(bot, again, typed, fields=planned).json()
    assert answer["response_action"] == "update", answer
    with bot.sessions() as s:
        entry = s.scalar(select(MinuteEntry).where(MinuteEntry.case_id == one[0]))
        assert entry is not None and entry.follow_up_on is not None
        assert entry.follow_up_on.isoformat() == "2026-12-03"
        status = s.scalar(select(Case.status).where(Case.id == one[0]))
    assert status == CaseStatus.CLOSED


def test_the_next_pages_banner_counts_every_page_so_far(bot: Bot) -> None:
    """Three pages: the banner on page 3 counts the cases and actions of pages 1 and 2 (the
    tally the modal carries), not page 2's alone."""
    meeting, _references = meeting_with_cases(bot, 25, until="ended")
    first = minutes.minutes_modal(bot, meeting)
    one = page_cases(first)
    acted = one[0]
    second = submit_page(
        bot,
        first,
        {case: decision_for(case) for case in one},
        fields={
            (f"action:{acted}", "value"): plain_value("Boka samtal med vårdnadshavarna"),
            (f"owner:{acted}", "value"): users_value("U2"),
            (f"due:{acted}", "value"): date_value("2026-12-10"),
        },
    ).json()["view"]
    assert "Protokollet sparat för 12 ärenden. 1 ny insats" in all_text(second)
    two = page_cases(second)
    assert len(two) == 12
    third = submit_page(bot, second, {case: decision_for(case) for case in two}).json()["view"]
    assert len(page_cases(third)) == 1
    assert "Protokollet sparat för 24 ärenden. 1 ny insats" in all_text(third), all_text(third)


def test_a_meeting_of_hundreds_of_cases_gets_every_page_counted(bot: Bot) -> None:
    """400 cases (34 pages), each minuted with a follow-up: the ids of the cases minuted
    and planned outgrow Slack's 3000 characters of metadata by the last pages. The tally
    the modal carries still counts every page: the last page's note names all 400 cases
    and every follow-up (before, the tally was dropped once too long, and the note counted
    the pages from there on only)."""
    count = 400
    setup_forum(bot)
    references = copied_cases(bot, count)
    meeting = first_meeting(bot)
    with transaction(bot.sessions) as s:  # the agenda as it was posted at 8:00 (not posted:
        held = s.get(Meeting, meeting)  # 400 cases' agenda and DMs are not what is tested)
        assert held is not None
        agenda_service.collect(s, bot.clock, held, s.get_one(Forum, held.forum_id))
    bot.clock.set(local(2026, 11, 26, 15, 0))  # the meeting has ended
    view = minutes.minutes_modal(bot, meeting)
    pages = 0
    while True:
        assert len(view["private_metadata"]) <= 3000
        cases = page_cases(view)
        follow_ups = {(f"follow_up:{case}", "value"): date_value("2026-12-03") for case in cases}
        answer = submit_page(
            bot, view, {case: decision_for(case) for case in cases}, fields=follow_ups
        ).json()
        pages += 1
        if answer is None:
            break
        assert answer["response_action"] == "update", answer
        view = answer["view"]
    assert pages == 34
    assert len(recorded(bot)) == count
    note = text_of(
        eventually(lambda: [c for c in dms_to(bot, "U1") if "Protokollet sparat" in text_of(c)])[0]
    )
    assert f"Protokollet sparat för {count} ärenden" in note, note[:300]
    assert all(reference in note for reference in references)


@contextmanager
def reads(bot: Bot) -> Iterator[tuple[list[int], list[str]]]:
    """The Case rows the ORM loads (each load of a row into a session) and the statements
    sent to the database meanwhile."""
    cases: list[int] = []
    statements: list[str] = []

    def on_load(target: Case, _context: Any) -> None:
        cases.append(target.id)

    def on_execute(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = bot.sessions.kw["bind"]
    event.listen(Case, "load", on_load)
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield cases, statements
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(Case, "load", on_load)


def test_a_page_of_a_long_agenda_reads_its_own_cases_not_every_case(bot: Bot) -> None:
    """Saving a page (each case planned for a follow-up on one day) reads the cases of that
    page and of the next one shown, and looks the follow-up's meeting up once: not every
    case of the agenda, nor a meeting per case (before, each page loaded every case with
    its consents and agencies, and looked a meeting up per case planned: a meeting of 400
    cases took almost a second a page, and more the longer its agenda)."""
    meeting, _references = meeting_with_cases(bot, 40, until="ended")
    view = minutes.minutes_modal(bot, meeting)
    cases = page_cases(view)
    assert len(cases) == 12
    follow_ups = {(f"follow_up:{case}", "value"): date_value("2026-12-03") for case in cases}
    with reads(bot) as (loaded, statements):
        answer = submit_page(
            bot, view, {case: decision_for(case) for case in cases}, fields=follow_ups
        ).json()
    assert answer["response_action"] == "update", answer
    shown = page_cases(answer["view"])
    assert len(shown) == 12
    assert set(loaded) <= set(cases) | set(shown), sorted(set(loaded) - set(cases) - set(shown))
    # One lookup of the meeting on or after 3 December (it orders planned meetings by start).
    looked_up = [s for s in statements if "ORDER BY meetings.starts_at" in s]
    assert len(looked_up) == 1, looked_up
    with bot.sessions() as s:
        planned = {c.id: c.status for c in s.scalars(select(Case).where(Case.id.in_(cases)))}
    assert planned == dict.fromkeys(cases, CaseStatus.FOLLOW_UP)


def test_a_page_saved_reads_the_agenda_and_its_cases_once_for_the_next_page(bot: Bot) -> None:
    """The next page after a save reads the agenda's items and its cases' facts once, for
    its slots and for its order together: the save reads the agenda's case ids once for
    itself, the next page once more (before, the next page read both twice: once for the
    slots, once for its own list)."""
    meeting, _references = meeting_with_cases(bot, 30, until="ended")
    view = minutes.minutes_modal(bot, meeting)
    cases = page_cases(view)
    with reads(bot) as (_loaded, statements):
        answer = submit_page(bot, view, {case: decision_for(case) for case in cases}).json()
    assert answer["response_action"] == "update", answer
    flat = [" ".join(s.split()) for s in statements]
    # The agenda's live items (the tally's own read also counts the removed ones).
    agenda = [s for s in flat if "FROM agenda_items WHERE" in s and "removed" in s]
    assert len(agenda) == 2, agenda
    facts = [s for s in flat if s.startswith("SELECT cases.id, cases.reference, cases.status")]
    assert len(facts) == 1, facts
