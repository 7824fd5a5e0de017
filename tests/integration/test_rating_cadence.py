"""Rating rounds through the real app: which meetings have a situation picture, alerts on a
jump since last time, the agenda's picture, the previous rating, per-forum work, the
extension race, catching up after downtime, and the comments coordinators read.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from domain import forums as fs
from domain import ratings
from handlers.blocks.ratings import RENDERERS as RATING_RENDERERS
from storage.db import transaction
from storage.models import Forum, RatingRound, RatingRoundStatus
from tests.conftest import Bot
from tests.support.blockkit import all_text
from tests.support.forums import forum_draft
from tests.support.rating_flow import (
    ADMIN,
    DEADLINE,
    FRITID,
    POLIS,
    POLIS2,
    button_value,
    channel_posts,
    dms,
    make_forum,
    open_modal,
    polis_rates,
    rate,
    rating_messages,
    the_round,
)
from tests.support.slack_driver import select_value


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    return make_forum(bot)


# --- settings and cadence ----------------------------------------------------------------------


def meeting_ids(bot: Bot) -> dict[dt.date, int]:
    from storage.models import Meeting

    with bot.sessions() as s:
        return {
            m.starts_at.date(): m.id for m in s.scalars(select(Meeting).order_by(Meeting.starts_at))
        }


def test_a_coordinator_chooses_the_meetings_with_a_situation_picture(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.driver.command("lägesbild inställningar", user=POLIS)
    refusal = bot.slack.wait_for("response_url")[0]
    assert "samordnare" in all_text(refusal.args) + str(refusal.args.get("text"))

    bot.driver.command("lägesbild inställningar", user=ADMIN)
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == "rating_settings"
    bot.slack.assert_no_violations()
    third = meeting_ids(bot)[dt.date(2026, 12, 3)]
    values = {
        "cadence": {"value": {"type": "radio_buttons", "selected_option": {"value": "chosen"}}},
        "days_before": {"value": select_value("5")},
        "deadline_days": {"value": select_value("1")},
        "deadline_time": {"value": {"type": "timepicker", "selected_time": "12:00"}},
        "reminders": {"value": {"type": "multi_static_select", "selected_options": []}},
        "chosen": {
            "value": {"type": "multi_static_select", "selected_options": [{"value": str(third)}]}
        },
    }
    response = bot.driver.view_submission(
        "rating_settings",
        values,
        user=ADMIN,
        private_metadata=view["private_metadata"],
        blocks=view["blocks"],
    )
    assert response.status == 200 and response.json() is None
    bot.run_due_work()
    assert the_round(bot) is None  # 26 November was not chosen
    bot.clock.set(dt.datetime(2026, 11, 27, 7, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    assert the_round(bot).meeting_id == third
    # No reminders were chosen: none go out.
    bot.slack.reset()
    bot.clock.set(dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC))
    bot.run_due_work()
    assert rating_messages(bot) == []


def test_every_other_meeting_has_a_situation_picture(bot: Bot, forum: dict[str, int]) -> None:
    with transaction(bot.sessions) as s:
        created = s.get(Forum, forum["forum"])
        assert created is not None
        created.settings = {"situation_picture": "every_other"}
    opened = []
    for opening in (
        dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC),  # for 26 November (at once)
        dt.datetime(2026, 11, 27, 7, 1, tzinfo=dt.UTC),  # 3 December: not this one
        dt.datetime(2026, 12, 4, 7, 1, tzinfo=dt.UTC),  # 10 December
        dt.datetime(2026, 12, 11, 7, 1, tzinfo=dt.UTC),  # 17 December: not this one
    ):
        bot.clock.set(opening)
        bot.run_due_work()
        with bot.sessions() as s:
            opened.append(s.scalar(select(func.count()).select_from(RatingRound)))
    assert opened == [1, 1, 2, 2]


def test_every_other_meeting_counts_the_meetings_that_were_recorded(
    bot: Bot, forum: dict[str, int]
) -> None:
    """A meeting recorded as held is still the meeting before: the picture stays at every
    other meeting (26 November, 10 December), not at every one."""
    with transaction(bot.sessions) as s:
        created = s.get(Forum, forum["forum"])
        assert created is not None
        created.settings = {"situation_picture": "every_other"}
    opened = []
    for held, opening in (
        (None, dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)),  # for 26 November
        (dt.date(2026, 11, 26), dt.datetime(2026, 11, 27, 7, 1, tzinfo=dt.UTC)),  # 3 Dec: no
        (dt.date(2026, 12, 3), dt.datetime(2026, 12, 4, 7, 1, tzinfo=dt.UTC)),  # 10 December
        (dt.date(2026, 12, 10), dt.datetime(2026, 12, 11, 7, 1, tzinfo=dt.UTC)),  # 17 Dec: no
    ):
        if held is not None:
            bot.clock.set(dt.datetime.combine(held, dt.time(15, 30), tzinfo=dt.UTC))
            _record(bot, forum, meeting_ids(bot)[held])
        bot.clock.set(opening)
        bot.run_due_work()
        with bot.sessions() as s:
            opened.append(s.scalar(select(func.count()).select_from(RatingRound)))
    assert opened == [1, 1, 2, 2]


def _cancel(bot: Bot, forum: dict[str, int], meeting_id: int) -> None:
    """The coordinator cancels the meeting (the meeting's cancel modal)."""
    from storage.models import Meeting, MeetingStatus

    meta = json.dumps({"locale": "sv", "forum_id": forum["forum"], "meeting_id": meeting_id})
    bot.driver.view_submission(
        "meeting_cancel",
        {"reason": {"reason": {"type": "plain_text_input", "value": "Studiedag"}}},
        user=ADMIN,
        private_metadata=meta,
    )
    with bot.sessions() as s:
        meeting = s.get(Meeting, meeting_id)
        assert meeting is not None and meeting.status is MeetingStatus.CANCELLED


def test_every_other_meeting_after_a_cancelled_one_is_held_with_a_picture(
    bot: Bot, forum: dict[str, int]
) -> None:
    """A cancelled meeting gives no situation picture, so it never counts as the meeting
    that had one. 26 November has a picture and 3 December (the one without) is cancelled:
    10 December has one, a fortnight after the last (before, it had none: the forum
    went two held meetings and three weeks without a picture). A picture meeting
    cancelled hands the picture to the next one held. (A meeting recorded as held counts
    as before: the test above.)"""
    with transaction(bot.sessions) as s:
        created = s.get(Forum, forum["forum"])
        assert created is not None
        created.settings = {"situation_picture": "every_other"}
    bot.run_due_work()  # 26 November's round opens at once
    meetings = meeting_ids(bot)
    _cancel(bot, forum, meetings[dt.date(2026, 12, 3)])

    def rounds() -> set[dt.date]:
        from storage.models import Meeting

        with bot.sessions() as s:
            return {
                starts.date()
                for starts in s.scalars(
                    select(Meeting.starts_at).join(
                        RatingRound, RatingRound.meeting_id == Meeting.id
                    )
                )
            }

    for opening in (
        dt.datetime(2026, 11, 27, 7, 1, tzinfo=dt.UTC),  # 3 December: cancelled
        dt.datetime(2026, 12, 4, 7, 1, tzinfo=dt.UTC),  # 10 December: a picture
    ):
        bot.clock.set(opening)
        bot.run_due_work()
    assert rounds() == {dt.date(2026, 11, 26), dt.date(2026, 12, 10)}

    # 10 December (a picture meeting) is cancelled after its round opened: 17 December,
    # the next meeting held, has the picture.
    bot.clock.set(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC))
    _cancel(bot, forum, meetings[dt.date(2026, 12, 10)])
    bot.clock.set(dt.datetime(2026, 12, 11, 7, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    assert rounds() == {dt.date(2026, 11, 26), dt.date(2026, 12, 10), dt.date(2026, 12, 17)}


def _record(bot: Bot, forum: dict[str, int], meeting_id: int) -> None:
    """The coordinator records the meeting as held (the meeting's record modal)."""
    from storage.models import Meeting, MeetingStatus

    meta = json.dumps({"locale": "sv", "forum_id": forum["forum"], "meeting_id": meeting_id})
    bot.driver.view_submission(
        "meeting_record",
        {
            "attended": {
                "attended": {
                    "type": "multi_static_select",
                    "selected_options": [{"value": str(forum["Polis"])}],
                }
            }
        },
        user=ADMIN,
        private_metadata=meta,
    )
    with bot.sessions() as s:
        meeting = s.get(Meeting, meeting_id)
        assert meeting is not None and meeting.status is MeetingStatus.HELD


def test_a_jump_of_two_levels_since_last_time_alerts_the_coordinators(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()
    polis_rates(bot, forum, {"Gråbo": 1, "Hemse": 1, "Droger": 1})
    bot.clock.set(DEADLINE + dt.timedelta(seconds=1))
    bot.run_due_work()
    bot.clock.set(dt.datetime(2026, 11, 27, 7, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    bot.slack.reset()
    value = f"{the_round_latest(bot)}:{forum['Polis']}"
    view = open_modal(bot, POLIS, value)
    rate(bot, view, POLIS, {forum["Gråbo"]: 3, forum["Hemse"]: 2, forum["Droger"]: 1})
    alert = bot.slack.wait_for("chat.postMessage")[0]
    assert alert.args["channel"] == ADMIN
    assert alert.args["text"] == (
        "Lägesbild OSF: Polis bedömer Gråbo som oroande (upp från normalt)."
    )
    assert len(dms(bot, ADMIN)) == 1


def the_round_latest(bot: Bot) -> int:
    with bot.sessions() as s:
        return int(s.scalar(select(func.max(RatingRound.id))) or 0)


def test_the_agenda_shows_the_situation_picture_of_the_closed_round(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()  # the round for Thursday 26 November opens
    polis_rates(bot, forum, {"Gråbo": 4, "Hemse": 1, "Droger": 2})
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    bot.run_due_work()  # closes; the picture is posted in the channel
    bot.clock.set(dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC))  # 08:00 in Stockholm
    bot.run_due_work()
    (agenda,) = [p for p in channel_posts(bot) if p.args["text"].startswith("Dagordning")]
    text = json.dumps(agenda.args["blocks"], ensure_ascii=False)
    assert "3. Lägesbild" in text
    assert "Gråbo" in text and "Hemse" in text and "Droger" in text
    assert "Ingen lägesbild" not in text
    bot.slack.assert_no_violations()


# --- previous rating, per-round work, extension race, catch-up --------------------------------


def test_the_previous_rating_is_the_agencys_latest_even_when_it_skipped_a_round(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()  # round 1, for Thursday 26 November
    polis_rates(bot, forum, {"Gråbo": 1, "Hemse": 2, "Droger": 1})
    bot.clock.set(DEADLINE + dt.timedelta(seconds=1))
    bot.run_due_work()
    # Round 2 (3 December) opens and closes without an answer from Polis.
    bot.clock.set(dt.datetime(2026, 11, 27, 7, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    bot.clock.set(dt.datetime(2026, 12, 2, 11, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    # Round 3 (10 December): the modal shows Polis's round-1 levels as "last time".
    bot.clock.set(dt.datetime(2026, 12, 4, 7, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    with bot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(RatingRound)) == 3
    bot.slack.reset()
    view = open_modal(bot, POLIS, f"{the_round_latest(bot)}:{forum['Polis']}")
    text = all_text(view)
    assert text.count("Förra gången: 🟩 normalt") == 2
    assert text.count("Förra gången: 🟨 avvikande") == 1
    assert "inte bedömt" not in text
    # Two levels worse than round 1 (normalt → oroande) alerts the coordinators.
    rate(bot, view, POLIS, {forum["Gråbo"]: 3, forum["Hemse"]: 2, forum["Droger"]: 1})
    alert = bot.slack.wait_for("chat.postMessage")[0]
    assert alert.args["channel"] == ADMIN
    assert alert.args["text"] == (
        "Lägesbild OSF: Polis bedömer Gråbo som oroande (upp från normalt)."
    )


def second_forum(bot: Bot) -> int:
    draft = forum_draft(
        name="BSF",
        code="BSF",
        agencies=["Socialtjänst/IFO", "Polis"],
        own_agency="Socialtjänst/IFO",
        areas=["Centrum"],
    )
    with transaction(bot.sessions) as s:
        created = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id="C0002", actor=ADMIN, draft=draft
        )
        created.settings = {"situation_picture": "every"}
        return created.id


def test_a_forum_whose_close_fails_does_not_stop_another_forums_round_from_closing(
    bot: Bot, forum: dict[str, int]
) -> None:
    other = second_forum(bot)
    bot.run_due_work()
    with bot.sessions() as s:
        rounds = {r.forum_id: r.id for r in s.scalars(select(RatingRound))}
    assert set(rounds) == {forum["forum"], other}
    # The first forum's data breaks its close (a time zone that does not exist).
    with transaction(bot.sessions) as s:
        broken = s.get(Forum, forum["forum"])
        assert broken is not None
        broken.timezone = "Europe/Atlantis"
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    bot.run_due_work()
    with bot.sessions() as s:
        status = {r.forum_id: r.status for r in s.scalars(select(RatingRound))}
    assert status == {forum["forum"]: RatingRoundStatus.OPEN, other: RatingRoundStatus.CLOSED}
    posted = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == "C0002"]
    assert len(posted) == 1 and posted[0].args["text"].startswith("Lägesbild BSF")
    assert channel_posts(bot) == []
    # Once the data is fixed, the first forum's round closes at the next pass.
    with transaction(bot.sessions) as s:
        broken = s.get(Forum, forum["forum"])
        assert broken is not None
        broken.timezone = "Europe/Stockholm"
    bot.run_due_work()
    assert the_round(bot).status is RatingRoundStatus.CLOSED
    assert len(channel_posts(bot)) == 1
    assert bot.slack.count("files.completeUploadExternal") == 4


def test_an_extension_keeps_the_round_open_even_if_a_closer_saw_the_old_deadline(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()
    rating_round = the_round(bot)
    bot.driver.block_action(
        "rating_extend",
        user=ADMIN,
        selected_option={
            "value": f"{rating_round.id}:1",
            "text": {"type": "plain_text", "text": "1"},
        },
    )
    reply = bot.slack.wait_for("response_url")[-1]
    assert "förlängd" in all_text(reply.args)
    # A replica that listed the round as due under the old deadline, before the extension
    # was committed, closes it now: it stays open.
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    closed = ratings.close_due_round(
        bot.sessions, bot.clock, RATING_RENDERERS, rating_round.id, replica="stale"
    )
    assert closed is False
    bot.run_due_work()
    assert the_round(bot).status is RatingRoundStatus.OPEN
    assert picture_posts(bot) == []
    # At the new deadline it closes (the agenda, posted on the meeting day, is not counted).
    bot.clock.set(DEADLINE + dt.timedelta(days=1, minutes=1))
    bot.run_due_work()
    assert the_round(bot).status is RatingRoundStatus.CLOSED
    assert len(picture_posts(bot)) == 1


def picture_posts(bot: Bot) -> list[Any]:
    return [c for c in channel_posts(bot) if c.args["text"].startswith("Lägesbild OSF")]


def test_a_round_due_while_the_bot_was_down_opens_on_the_next_working_morning(
    bot: Bot, forum: dict[str, int]
) -> None:
    # The round for Thursday 3 December was due on Friday 27 November 08:00; the bot is back
    # on Saturday noon: no invitations on a weekend, nor on Sunday night …
    for moment in (
        dt.datetime(2026, 11, 28, 11, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 29, 22, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 30, 5, 59, tzinfo=dt.UTC),  # Monday 06:59 in Stockholm
    ):
        bot.clock.set(moment)
        bot.run_due_work()
        assert the_round(bot) is None
        assert rating_messages(bot) == []
    # … they go out on Monday at 07:00.
    bot.clock.set(dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC))
    bot.run_due_work()
    assert the_round(bot).status is RatingRoundStatus.OPEN
    assert {c.args["channel"] for c in rating_messages(bot)} == {ADMIN, POLIS, POLIS2, FRITID}
    assert "torsdag 3 december" in dms(bot, POLIS)[0].args["text"]


def test_a_round_whose_deadline_passed_while_the_bot_was_down_is_reported_once(
    bot: Bot, forum: dict[str, int]
) -> None:
    # Down from Monday morning until Wednesday afternoon, after the 12:00 deadline.
    bot.clock.set(DEADLINE + dt.timedelta(hours=2))
    bot.run_due_work()
    assert the_round(bot) is None
    notes = missed_notes(bot)
    assert [c.args["channel"] for c in notes] == [ADMIN]  # the coordinators only
    text = notes[0].args["text"]
    assert "OSF torsdag 26 november" in text and "kunde inte genomföras" in text
    assert "onsdag 25 november 2026 12:00" in text
    assert invitations(bot) == []
    # Exactly once, however often it runs (and with two replicas: the claim row).
    bot.run_due_work()
    bot.clock.set(DEADLINE + dt.timedelta(hours=20))
    bot.run_due_work()
    assert len(missed_notes(bot)) == 1
    # The next round opens as usual.
    bot.clock.set(dt.datetime(2026, 11, 27, 7, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    assert the_round(bot).status is RatingRoundStatus.OPEN
    assert len(missed_notes(bot)) == 1
    assert {c.args["channel"] for c in invitations(bot)} == {ADMIN, POLIS, POLIS2, FRITID}


def missed_notes(bot: Bot) -> list[Any]:
    return [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if "kunde inte genomföras" in c.args.get("text", "")
    ]


def invitations(bot: Bot) -> list[Any]:
    return [
        c
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("text", "").startswith("Lägesbild inför")
    ]


def test_coordinators_read_the_comments_of_a_round_and_each_look_is_logged(
    bot: Bot, forum: dict[str, int]
) -> None:
    from storage.models import AuditEvent

    bot.run_due_work()
    value = button_value(dms(bot, POLIS)[0])
    view = open_modal(bot, POLIS, value)
    rate(
        bot,
        view,
        POLIS,
        {forum["Gråbo"]: 3, forum["Hemse"]: 1, forum["Droger"]: 2},
        {forum["Gråbo"]: "Fler anmälningar om skadegörelse vid stationen"},
    )
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    bot.run_due_work()
    bot.driver.command("lägesbild", user=ADMIN)
    overview = bot.slack.wait_for("response_url")[-1]
    (button,) = [
        e
        for b in overview.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("action_id") == "rating_comments_open"
    ]
    bot.driver.block_action("rating_comments_open", user=ADMIN, value=button["value"])
    modal = bot.slack.wait_for("views.open", count=2)[-1].args["view"]
    text = json.dumps(modal, ensure_ascii=False)
    assert "Fler anmälningar om skadegörelse vid stationen" in text and "Gråbo" in text
    assert "Polis · oroande" in text
    with bot.sessions() as s:
        reads = s.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "rating_comments")
        ).all()
    assert [(r.actor, r.object_ref) for r in reads] == [(ADMIN, button["value"])]
    # A member who is not a coordinator is refused, and nothing is shown.
    bot.driver.block_action("rating_comments_open", user=POLIS, value=button["value"])
    refused = bot.slack.wait_for("views.open", count=3)[-1].args["view"]
    assert "skadegörelse" not in json.dumps(refused, ensure_ascii=False)
    assert "samordnare" in json.dumps(refused, ensure_ascii=False)


def test_each_forum_s_round_opens_at_its_own_time_however_many_are_checked_in_a_tick(
    bot: Bot, forum: dict[str, int]
) -> None:
    # The pass reads only the meetings' start times and skips the rounds that open later
    # (bench.tick_cost): it must read each forum's own "days before", not a neighbour's.
    with transaction(bot.sessions) as s:
        # OSF opens two days before Thursday 26 November: Tuesday 24 November 08:00 in
        # Stockholm; Två, checked after it in the same pass, five days before (overdue).
        s.get_one(Forum, forum["forum"]).settings = {
            "situation_picture": "every",
            "rating_days_before": 2,
        }
        draft = forum_draft(
            name="Två",
            code="TVA",
            agencies=["Socialtjänst/IFO", "Polis"],
            own_agency="Socialtjänst/IFO",
            areas=["Gråbo"],
        )
        two = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id="C0002", actor=ADMIN, draft=draft
        )
        two.settings = {"situation_picture": "every"}
        two_id = two.id

    def opened() -> dict[int, list[dt.date]]:
        from storage.models import Meeting

        with bot.sessions() as s:
            rows = s.execute(
                select(RatingRound.forum_id, Meeting.starts_at).join(
                    Meeting, Meeting.id == RatingRound.meeting_id
                )
            ).all()
        found: dict[int, list[dt.date]] = {}
        for forum_id, starts_at in rows:
            found.setdefault(forum_id, []).append(starts_at.date())
        return found

    thursday = dt.date(2026, 11, 26)
    bot.run_due_work()  # Monday: Två's round opens, OSF's waits
    assert opened() == {two_id: [thursday]}
    assert "Lägesbild inför Två torsdag 26 november" in dms(bot, ADMIN)[-1].args["text"]
    bot.clock.set(dt.datetime(2026, 11, 24, 6, 59, tzinfo=dt.UTC))  # Tuesday 07:59
    bot.run_due_work()
    assert opened() == {two_id: [thursday]}
    bot.clock.set(dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC))  # Tuesday 08:00
    bot.run_due_work()
    assert opened() == {two_id: [thursday], forum["forum"]: [thursday]}
    assert "Lägesbild inför OSF torsdag 26 november" in dms(bot, POLIS)[-1].args["text"]
