"""A rating round whose meeting is cancelled or moved while the round is open, through the
real app: the round follows its meeting (domain.ratings.follow_meeting)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Meeting, OutboxMessage, RatingRound, RatingRoundStatus
from tests.conftest import Bot
from tests.support.blockkit import all_text
from tests.support.rating_flow import (
    ADMIN,
    AREAS,
    DEADLINE,
    FRITID,
    OUTSIDER,
    POLIS,
    POLIS2,
    button_value,
    channel_posts,
    command_reply,
    dms,
    make_forum,
    open_modal,
    polis_rates,
    save_forum,
    table_rows,
    the_round,
)


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    return make_forum(bot)


def _meta(forum: dict[str, int], meeting_id: int) -> str:
    return json.dumps({"locale": "sv", "forum_id": forum["forum"], "meeting_id": meeting_id})


def test_a_cancelled_meetings_round_sends_no_reminders_and_posts_no_picture(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()
    opened = the_round(bot)
    invite = dms(bot, FRITID)[0]
    bot.driver.view_submission(
        "meeting_cancel",
        {"reason": {"reason": {"type": "plain_text_input", "value": "Studiedag"}}},
        user=ADMIN,
        private_metadata=_meta(forum, opened.meeting_id),
    )
    bot.slack.wait_for("chat.postMessage", count=5)  # four invitations and the notice
    assert the_round(bot).status is RatingRoundStatus.CLOSED

    # No "Påminnelse: lägesbild inför OSF torsdag 26 november" for a meeting that will not
    # happen, and no picture "inför" it in the channel at the deadline.
    bot.clock.set(DEADLINE - dt.timedelta(hours=2))
    bot.run_due_work()
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    bot.run_due_work()
    assert len(dms(bot, FRITID)) == 1
    posts = [c.args["text"] for c in channel_posts(bot)]
    assert len(posts) == 1 and "ställs in" in posts[0]

    # The invitation's button says the round is closed.
    bot.driver.block_action("rating_open", user=FRITID, value=button_value(invite), channel="DU3")
    reply = bot.slack.wait_for("response_url")[-1]
    told = json.dumps(reply.args, ensure_ascii=False)
    assert "Mötet som bedömningsomgången gällde är inställt" in told
    assert "Ta gärna upp det på mötet" not in told
    bot.slack.assert_no_violations()


def test_a_cancelled_meeting_moved_again_reopens_its_round_with_the_answers_given(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Thursday's meeting is cancelled (its round closes without a picture), then taken up
    again by moving it to Friday 27 November: the round opens again with the deadline for
    Friday (Thursday 12:00), Polis's answer is kept, Fritidsgård's invitation works again,
    and at the deadline the picture is posted for Friday's meeting (before, the round stayed
    closed: no picture for the meeting, and its early answers stood as if it had none)."""
    bot.run_due_work()
    opened = the_round(bot)
    polis_rates(bot, forum, {"Gråbo": 2, "Hemse": 3, "Droger": 2})
    invite = dms(bot, FRITID)[0]
    bot.driver.view_submission(
        "meeting_cancel",
        {"reason": {"reason": {"type": "plain_text_input", "value": "Studiedag"}}},
        user=ADMIN,
        private_metadata=_meta(forum, opened.meeting_id),
    )
    assert the_round(bot).status is RatingRoundStatus.CLOSED
    bot.driver.view_submission(
        "meeting_move",
        {
            "day": {"day": {"type": "datepicker", "selected_date": "2026-11-27"}},
            "start": {"start": {"type": "timepicker", "selected_time": "13:00"}},
        },
        user=ADMIN,
        private_metadata=_meta(forum, opened.meeting_id),
    )
    reopened = the_round(bot)
    assert reopened.id == opened.id
    assert reopened.status is RatingRoundStatus.OPEN and not reopened.closed_early
    thursday_noon = dt.datetime(2026, 11, 26, 11, 0, tzinfo=dt.UTC)
    assert reopened.deadline_at == thursday_noon
    # Fritidsgård's invitation opens the rating modal again.
    polis_rates(bot, forum, {"Gråbo": 3, "Hemse": 3, "Droger": 1}, user=FRITID)
    assert button_value(invite) == f"{opened.id}:{forum['Fritidsgård']}"
    bot.clock.set(thursday_noon + dt.timedelta(minutes=1))
    bot.run_due_work()
    assert the_round(bot).status is RatingRoundStatus.CLOSED
    picture = next(c.args for c in channel_posts(bot) if c.args["text"].startswith("Lägesbild OSF"))
    assert "fredag 27 november" in all_text(picture)
    rows = {row[0]: row for row in table_rows(picture)[1:]}
    assert any(name.startswith("Hemse") for name in rows)
    bot.slack.assert_no_violations()


def _cancel_and_take_up_again(bot: Bot, forum: dict[str, int], meeting_id: int, day: str) -> None:
    bot.driver.view_submission(
        "meeting_cancel",
        {"reason": {"reason": {"type": "plain_text_input", "value": "Studiedag"}}},
        user=ADMIN,
        private_metadata=_meta(forum, meeting_id),
    )
    assert the_round(bot).status is RatingRoundStatus.CLOSED
    bot.driver.view_submission(
        "meeting_move",
        {
            "day": {"day": {"type": "datepicker", "selected_date": day}},
            "start": {"start": {"type": "timepicker", "selected_time": "13:00"}},
        },
        user=ADMIN,
        private_metadata=_meta(forum, meeting_id),
    )
    assert the_round(bot).status is RatingRoundStatus.OPEN


def test_a_reopened_round_invites_again_the_agencies_that_have_not_answered_every_area(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Thursday's meeting is cancelled and then taken up again on Friday: the round opens
    again and, at the next pass, the agencies that have not rated every area get the
    invitation again (each person in their own Slack language), with the new day and
    deadline; Polis, which rated everything, gets nothing. Once per agency and round: a
    second pass sends nothing more, nor does a second cancel and take-up (before, a
    reopened round sent no DM at all: the agencies did not know it was open again; then it
    was sent at every take-up)."""
    # Set before the first invitation: the bot looks a recipient's language up once and
    # keeps it for a while.
    bot.slack.set_user(FRITID, locale="en-US")
    bot.run_due_work()
    opened = the_round(bot)

    def invitations(user: str) -> list[Any]:  # not the coordinator's agenda preview
        return [c for c in dms(bot, user) if "rating_open" in json.dumps(c.args)]

    polis_rates(bot, forum, {"Gråbo": 2, "Hemse": 3, "Droger": 2})
    polis_rates(bot, forum, {"Gråbo": 1}, user=ADMIN)  # Socialtjänst: one area of three
    before = {user: len(dms(bot, user)) for user in (ADMIN, POLIS, POLIS2, FRITID)}
    assert before == {ADMIN: 1, POLIS: 1, POLIS2: 1, FRITID: 1}

    _cancel_and_take_up_again(bot, forum, opened.meeting_id, "2026-11-27")
    bot.run_due_work()
    bot.run_due_work()  # a second pass (or replica) sends nothing more
    after = {user: len(dms(bot, user)) for user in (ADMIN, POLIS, POLIS2, FRITID)}
    assert after == {ADMIN: 2, POLIS: 1, POLIS2: 1, FRITID: 2}
    swedish = dms(bot, ADMIN)[-1].args
    assert "hålls ändå" in swedish["text"] and "fredag 27 november" in swedish["text"]
    assert "Socialtjänst/IFO" in swedish["text"]
    english = dms(bot, FRITID)[-1].args
    assert "held after all" in english["text"] and "Friday" in english["text"]
    # Its button opens the round's rating form for Fritidsgård, and for no one else: the
    # same value pressed by a Polis member or someone outside the forum opens no form.
    reopened_value = button_value(dms(bot, FRITID)[-1])
    assert reopened_value == f"{opened.id}:{forum['Fritidsgård']}"
    forms = bot.slack.count("views.open")
    for intruder, told in ((POLIS, "Du representerar inte Fritidsgård"), (OUTSIDER, "finns inte")):
        replies = bot.slack.count("response_url")
        bot.driver.block_action(
            "rating_open", user=intruder, value=reopened_value, channel=f"D{intruder}"
        )
        reply = bot.slack.wait_for("response_url", count=replies + 1)[-1]
        assert told in json.dumps(reply.args, ensure_ascii=False)
    assert bot.slack.count("views.open") == forms
    polis_rates(bot, forum, {"Gråbo": 3, "Hemse": 3, "Droger": 1}, user=FRITID)

    # Cancelled and taken up once more on Friday: Socialtjänst (still one area) was told
    # of Friday already; Fritidsgård has now rated every area.
    _cancel_and_take_up_again(bot, forum, opened.meeting_id, "2026-11-27")
    bot.run_due_work()
    bot.run_due_work()
    again = {user: len(dms(bot, user)) for user in (ADMIN, POLIS, POLIS2, FRITID)}
    assert again == {ADMIN: 2, POLIS: 1, POLIS2: 1, FRITID: 2}
    # Taken up on Thursday after all: Socialtjänst's last DM named Friday, so it is told
    # the new day and deadline, once.
    _cancel_and_take_up_again(bot, forum, opened.meeting_id, "2026-11-26")
    bot.run_due_work()
    bot.run_due_work()
    last = {user: len(dms(bot, user)) for user in (ADMIN, POLIS, POLIS2, FRITID)}
    assert last == {ADMIN: 3, POLIS: 1, POLIS2: 1, FRITID: 2}
    assert "torsdag 26 november" in dms(bot, ADMIN)[-1].args["text"]
    bot.slack.assert_no_violations()


def test_cancelling_and_taking_up_a_meeting_over_and_over_invites_each_agency_again_once(
    bot: Bot, forum: dict[str, int]
) -> None:
    """A coordinator cancels the meeting and takes it up again five times, a pass after
    each, on Friday, Thursday, Friday, Thursday, Friday: the agencies that have not
    answered get the round's invitation again once per day and deadline it names (twice),
    not once per take-up; Polis, which rated everything, not at all."""
    bot.run_due_work()
    opened = the_round(bot)
    polis_rates(bot, forum, {"Gråbo": 2, "Hemse": 3, "Droger": 2})
    users = (ADMIN, POLIS, POLIS2, FRITID)
    first = {user: len(dms(bot, user)) for user in users}
    for day in ("2026-11-27", "2026-11-26", "2026-11-27", "2026-11-26", "2026-11-27"):
        _cancel_and_take_up_again(bot, forum, opened.meeting_id, day)
        bot.run_due_work()
    after = {user: len(dms(bot, user)) - first[user] for user in users}
    assert after == {ADMIN: 2, POLIS: 0, POLIS2: 0, FRITID: 2}, after
    with bot.sessions() as s:
        keys = s.scalars(
            select(OutboxMessage.dedupe_key).where(
                OutboxMessage.dedupe_key.like(f"rating_reinvite@%:{opened.id}:%")
            )
        ).all()
    assert len(keys) == 4, keys
    bot.slack.assert_no_violations()


def test_a_round_cancelled_again_before_the_pass_sends_no_second_invitation(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Taken up again in the evening and cancelled again before the morning: the round is
    closed, so nobody is invited to a meeting that will not happen."""
    bot.run_due_work()
    opened = the_round(bot)
    bot.clock.set(dt.datetime(2026, 11, 23, 20, 30, tzinfo=dt.UTC))  # 21:30: no DMs at night
    _cancel_and_take_up_again(bot, forum, opened.meeting_id, "2026-11-27")
    bot.run_due_work()
    assert len(dms(bot, FRITID)) == 1
    bot.driver.view_submission(
        "meeting_cancel",
        {"reason": {"reason": {"type": "plain_text_input", "value": "Ändå inte"}}},
        user=ADMIN,
        private_metadata=_meta(forum, opened.meeting_id),
    )
    bot.clock.set(dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC))  # Tuesday 09:00
    bot.run_due_work()
    assert len(dms(bot, FRITID)) == 1


def test_a_meeting_cancelled_after_its_picture_and_moved_keeps_its_round_closed(
    bot: Bot, forum: dict[str, int]
) -> None:
    """A round closed early (its picture posted) stays closed when its meeting is cancelled
    and then moved: the picture was given."""
    bot.run_due_work()
    opened = the_round(bot)
    bot.driver.block_action("rating_close_early", user=ADMIN, value=str(opened.id))
    bot.slack.wait_for("response_url")
    for callback, values in (
        ("meeting_cancel", {"reason": {"reason": {"type": "plain_text_input", "value": "X"}}}),
        (
            "meeting_move",
            {"day": {"day": {"type": "datepicker", "selected_date": "2026-11-27"}}},
        ),
    ):
        bot.driver.view_submission(
            callback, values, user=ADMIN, private_metadata=_meta(forum, opened.meeting_id)
        )
    after = the_round(bot)
    assert after.status is RatingRoundStatus.CLOSED and after.closed_early


def test_a_moved_meetings_round_gets_the_deadline_of_the_new_time(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()
    opened = the_round(bot)
    assert opened.deadline_at == DEADLINE  # Wednesday 12:00, for Thursday 13:00
    # Moved to Tuesday 10:00: the picture must be ready before it, so the deadline is the
    # day before at 12:00 (Monday 23 November 12:00 in Stockholm).
    bot.driver.view_submission(
        "meeting_move",
        {
            "day": {"day": {"type": "datepicker", "selected_date": "2026-11-24"}},
            "start": {"start": {"type": "timepicker", "selected_time": "10:00"}},
        },
        user=ADMIN,
        private_metadata=_meta(forum, opened.meeting_id),
    )
    bot.slack.wait_for("chat.postMessage", count=5)
    monday_noon = dt.datetime(2026, 11, 23, 11, 0, tzinfo=dt.UTC)
    assert the_round(bot).deadline_at == monday_noon
    bot.clock.set(monday_noon + dt.timedelta(minutes=1))
    bot.run_due_work()
    assert the_round(bot).status is RatingRoundStatus.CLOSED
    assert any(c.args["text"].startswith("Lägesbild OSF") for c in channel_posts(bot))


def test_a_meeting_moved_earlier_tells_the_agencies_yet_to_answer_the_new_deadline(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The invitations said "senast onsdag 25 november 12:00"; Thursday's meeting moves to
    Tuesday 13:00, so the deadline is today, Monday, at 12:00. Before, nobody was told: the
    round closed two hours later with nothing rated. Now the agencies that have not answered
    every area are told the new day and deadline, once, each in their language (Polis, which
    answered, is not); moved back to Thursday they are told the deadline again."""
    bot.slack.set_user(FRITID, locale="en-US")
    bot.run_due_work()
    opened = the_round(bot)

    def invitations(user: str) -> list[Any]:  # not the coordinator's agenda preview
        return [c for c in dms(bot, user) if "rating_open" in json.dumps(c.args)]

    polis_rates(bot, forum, dict.fromkeys(AREAS, 1))
    bot.settle()

    def move(day: str) -> None:
        before = bot.slack.count("chat.postMessage")
        bot.driver.view_submission(
            "meeting_move",
            {
                "day": {"day": {"type": "datepicker", "selected_date": day}},
                "start": {"start": {"type": "timepicker", "selected_time": "13:00"}},
            },
            user=ADMIN,
            private_metadata=_meta(forum, opened.meeting_id),
        )
        bot.slack.wait_for("chat.postMessage", count=before + 1)  # the channel's notice
        bot.settle()
        bot.run_due_work()
        bot.run_due_work()

    move("2026-11-24")
    assert the_round(bot).deadline_at == dt.datetime(2026, 11, 23, 11, 0, tzinfo=dt.UTC)
    (_, told) = invitations(ADMIN)
    assert told.args["text"] == (
        "Mötet i OSF flyttas till tisdag 24 november, så lägesbilden har en ny svarstid. "
        "Socialtjänst/IFO har inte bedömt alla områden än: bedöm läget för er verksamhet "
        "senast måndag 23 november 2026 12:00."
    )
    assert button_value(told) == f"{opened.id}:{forum['Socialtjänst/IFO']}"
    (_, english) = invitations(FRITID)
    assert "has moved to Tuesday 24 November" in english.args["text"]
    assert "by Monday 23 November 2026 12:00" in english.args["text"]
    assert len(dms(bot, POLIS)) == 1 and len(dms(bot, POLIS2)) == 1  # Polis answered

    move("2026-11-26")  # back to Thursday: the deadline is Wednesday 12:00 again
    assert the_round(bot).deadline_at == DEADLINE
    (*_, again) = invitations(ADMIN)
    assert len(invitations(ADMIN)) == 3
    assert "torsdag 26 november" in again.args["text"]
    assert "senast onsdag 25 november 2026 12:00" in again.args["text"]
    bot.run_due_work()
    assert len(invitations(ADMIN)) == 3 and len(invitations(FRITID)) == 3
    bot.slack.assert_no_violations()


def test_a_move_whose_new_deadline_has_a_reminder_due_sends_one_dm_not_two(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The round opened on Friday; on Monday the meeting moves from Thursday to Wednesday,
    so the deadline is Tuesday 12:00 and its 48-hour reminder (Monday morning) is already
    due. Fritidsgård gets the DM with the new day and deadline, not that and a reminder
    saying the same in the same minute."""
    bot.clock.set(dt.datetime(2026, 11, 20, 7, 1, tzinfo=dt.UTC))  # Friday 08:01
    bot.run_due_work()
    opened = the_round(bot)
    assert len(dms(bot, FRITID)) == 1
    bot.clock.set(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC))  # Monday 10:00
    bot.driver.view_submission(
        "meeting_move",
        {
            "day": {"day": {"type": "datepicker", "selected_date": "2026-11-25"}},
            "start": {"start": {"type": "timepicker", "selected_time": "13:00"}},
        },
        user=ADMIN,
        private_metadata=_meta(forum, opened.meeting_id),
    )
    bot.settle()
    bot.run_due_work()
    bot.run_due_work()
    texts = [c.args["text"] for c in dms(bot, FRITID)]
    assert len(texts) == 2, texts
    assert texts[1].startswith("Mötet i OSF flyttas till onsdag 25 november")
    assert "senast tisdag 24 november 2026 12:00" in texts[1]
    # The reminder two hours before the new deadline still comes.
    bot.clock.set(dt.datetime(2026, 11, 24, 9, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    texts = [c.args["text"] for c in dms(bot, FRITID)]
    assert len(texts) == 3 and texts[2].startswith("Påminnelse: lägesbild inför OSF onsdag")


def test_a_meeting_moved_later_gives_more_time_and_an_extension_moves_along(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()
    opened = the_round(bot)
    round_id = opened.id
    bot.driver.block_action(
        "rating_extend",
        user=ADMIN,
        selected_option={"value": f"{round_id}:1", "text": {"type": "plain_text", "text": "1"}},
    )
    bot.slack.wait_for("response_url")
    extended = the_round(bot)
    assert extended.deadline_at == DEADLINE + dt.timedelta(days=1)  # Thursday 12:00
    bot.driver.view_submission(
        "meeting_move",
        {
            "day": {"day": {"type": "datepicker", "selected_date": "2026-11-30"}},
            "start": {"start": {"type": "timepicker", "selected_time": "13:00"}},
        },
        user=ADMIN,
        private_metadata=_meta(forum, opened.meeting_id),
    )
    bot.slack.wait_for("chat.postMessage", count=5)
    # Monday 30 November: the deadline is Friday 27 November 12:00, and the day's extension
    # moves along (Saturday 28 November 12:00), still before the meeting.
    moved = the_round(bot)
    assert moved.original_deadline_at == dt.datetime(2026, 11, 27, 11, 0, tzinfo=dt.UTC)
    assert moved.deadline_at == dt.datetime(2026, 11, 28, 11, 0, tzinfo=dt.UTC)


def test_the_trend_compares_with_the_last_picture_not_a_cancelled_meetings_round(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()  # the round for 26 November
    polis_rates(bot, forum, {"Gråbo": 2, "Hemse": 3, "Droger": 2})
    bot.clock.set(DEADLINE + dt.timedelta(seconds=1))
    bot.run_due_work()

    # The round for 3 December opens, Polis answers, and then the meeting is cancelled.
    bot.clock.set(dt.datetime(2026, 11, 27, 7, 1, tzinfo=dt.UTC))
    bot.slack.reset()
    bot.run_due_work()
    polis_rates(bot, forum, {"Gråbo": 5, "Hemse": 1, "Droger": 1})
    with bot.sessions() as s:
        cancelled = s.scalars(select(RatingRound).order_by(RatingRound.id.desc())).first()
        assert cancelled is not None
    bot.driver.view_submission(
        "meeting_cancel",
        {"reason": {"reason": {"type": "plain_text_input", "value": "Studiedag"}}},
        user=ADMIN,
        private_metadata=_meta(forum, cancelled.meeting_id),
    )
    bot.slack.wait_for("chat.postMessage", count=6)
    # The latest picture in the status is still 26 November's, not the cancelled meeting's.
    status = command_reply(bot, "lägesbild", ADMIN)
    assert "26 november" in status and "3 december" not in status
    # … and so is the latest round the export gives.
    bot.slack.reset()
    command_reply(bot, "lägesbild export", ADMIN)
    csv_text = list(bot.slack.uploads.values())[1].decode("utf-8-sig")
    assert "2026-11-26" in csv_text and "2026-12-03" not in csv_text

    # The round for 10 December: its trend is against 26 November's picture.
    bot.clock.set(dt.datetime(2026, 12, 4, 7, 1, tzinfo=dt.UTC))
    bot.slack.reset()
    bot.run_due_work()
    polis_rates(bot, forum, {"Gråbo": 3, "Hemse": 1, "Droger": 2})
    bot.clock.set(dt.datetime(2026, 12, 9, 11, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    picture = channel_posts(bot)[-1].args
    assert "torsdag 10 december" in all_text(picture)
    areas = [row[0] for row in table_rows(picture)[1:]]
    assert {"Gråbo ↑", "Hemse ↓", "Droger →"} <= set(areas)


def test_a_schedule_change_retires_the_meeting_and_its_round_sends_no_reminders(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.run_due_work()  # the round for Thursday 26 November
    save_forum(bot, forum, rrule="FREQ=WEEKLY;BYDAY=FR")
    bot.run_due_work()  # re-planned: the forum meets on Fridays now
    with bot.sessions() as s:
        rounds = {
            s.get(Meeting, r.meeting_id).starts_at.date(): r.status  # type: ignore[union-attr]
            for r in s.scalars(select(RatingRound))
        }
    assert rounds[dt.date(2026, 11, 26)] is RatingRoundStatus.CLOSED
    assert rounds[dt.date(2026, 11, 27)] is RatingRoundStatus.OPEN
    bot.clock.set(DEADLINE - dt.timedelta(hours=2))
    bot.run_due_work()
    texts = [c.args["text"] for c in dms(bot, FRITID)]
    assert not any(t.startswith("Påminnelse: lägesbild inför OSF torsdag 26") for t in texts)
    bot.clock.set(DEADLINE + dt.timedelta(minutes=1))
    bot.run_due_work()
    assert not any("OSF torsdag 26 november" in c.args["text"] for c in channel_posts(bot))


def test_after_a_schedule_change_the_answers_carry_over_and_the_invitation_says_why(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Polis answered the round for Thursday 26 November; the forum moves to Fridays: the
    new round takes Polis's answers over (as a meeting moved by hand keeps them), its
    invitation says the schedule changed and the answers came along, Polis is not reminded
    and the picture has its levels. Before, every agency was asked again from scratch with
    the same invitation as any, with no word about why."""
    bot.run_due_work()  # the round for Thursday 26 November
    polis_rates(bot, forum, {"Gråbo": 2, "Hemse": 3, "Droger": 2})
    save_forum(bot, forum, rrule="FREQ=WEEKLY;BYDAY=FR")
    bot.slack.reset()
    bot.run_due_work()  # re-planned: the round for Friday 27 November opens
    (invitation,) = [c for c in dms(bot, POLIS) if "rating_open" in json.dumps(c.args)]
    polis = invitation.args
    assert "Schemat för OSF har ändrats" in polis["text"]
    assert "inför torsdag 26 november har ersatts av en inför fredag 27 november" in polis["text"]
    assert "Svaren som Polis gav inför torsdag 26 november följer med" in polis["text"]
    (fritid,) = [c.args["text"] for c in dms(bot, FRITID) if "rating_open" in json.dumps(c.args)]
    assert "Schemat för OSF har ändrats" in fritid and "följer med" not in fritid
    # The form of the new round has Polis's answers.
    view = open_modal(bot, POLIS, button_value(invitation))
    assert "*OSF* fredag 27 november" in all_text(view)
    chosen = {
        b["block_id"]: b["element"].get("initial_option", {}).get("value")
        for b in view["blocks"]
        if b.get("block_id", "").startswith("level_")
    }
    assert chosen == {
        f"level_{forum['Gråbo']}": "2",
        f"level_{forum['Hemse']}": "3",
        f"level_{forum['Droger']}": "2",
    }
    # Polis is not reminded; the picture has its levels.
    bot.clock.set(dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC))
    bot.run_due_work()
    reminded = [c.args["text"] for c in dms(bot, POLIS) if "Påminnelse" in c.args["text"]]
    assert reminded == []
    assert any("Påminnelse" in c.args["text"] for c in dms(bot, FRITID))
    bot.clock.set(dt.datetime(2026, 11, 26, 11, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    picture = [c.args for c in channel_posts(bot) if "fredag 27 november" in all_text(c.args)]
    assert picture
    rows = {row[0].split()[0]: row for row in table_rows(picture[-1])[1:]}
    assert "🟧 oroande" in rows["Hemse"]
    # The round after says nothing of it.
    bot.clock.set(dt.datetime(2026, 11, 30, 7, 1, tzinfo=dt.UTC))
    bot.slack.reset()
    bot.run_due_work()
    later = [c.args["text"] for c in dms(bot, FRITID) if "fredag 4 december" in c.args["text"]]
    assert later and not any("Schemat" in text for text in later)
    bot.slack.assert_no_violations()


def test_after_a_schedule_change_to_a_meeting_weeks_away_the_agencies_are_asked_afresh(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Polis answered the round for Thursday 26 November; the forum now meets on the 18th
    of each month: Friday 18 December is three weeks off, so Polis's answers of November
    are not carried over (they described another situation) and its invitation does not
    say they were. Before, they carried over however far off the next meeting was."""
    bot.run_due_work()  # the round for Thursday 26 November
    polis_rates(bot, forum, {"Gråbo": 2, "Hemse": 3, "Droger": 2})
    save_forum(bot, forum, rrule="FREQ=MONTHLY;BYMONTHDAY=18")
    bot.slack.reset()
    bot.run_due_work()
    bot.clock.set(dt.datetime(2026, 12, 14, 7, 1, tzinfo=dt.UTC))
    bot.run_due_work()  # the round for Friday 18 December opens
    (invitation,) = [c for c in dms(bot, POLIS) if "rating_open" in json.dumps(c.args)]
    text = invitation.args["text"]
    assert "Schemat för OSF har ändrats" in text and "18 december" in text
    assert "följer med" not in text
    view = open_modal(bot, POLIS, button_value(invitation))
    chosen = [
        b["element"].get("initial_option")
        for b in view["blocks"]
        if b.get("block_id", "").startswith("level_")
    ]
    assert chosen and not any(chosen)
    bot.slack.assert_no_violations()
