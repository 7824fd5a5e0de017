"""Crafted ids on more surfaces (test_crafted_ids.py has the first ones): the agenda's
agencies and meeting, the attendance of a held meeting, the forums a steering forum
follows, the meetings chosen for a situation picture, the weeks of a monthly schedule, the
activity plan's goal and year buttons and a rating round's comments button.

Each is sent (a) a malformed number (past INTEGER, other scripts' digits, a sign, nothing)
and (b) a well-formed id of another forum of the same workspace or of another workspace.
The user is told in words (never "the database is not answering", "something went wrong"
or silence), and nothing of the other forum is shown or changed."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from domain import forums as fs
from storage.db import transaction
from storage.models import (
    Agency,
    AgendaItem,
    Forum,
    ForumLink,
    Meeting,
    MeetingStatus,
    PlanItem,
    Role,
)
from tests.conftest import Bot
from tests.integration.test_disclosure_table import (
    COMMENT,
    COORD,
    OTHER_FORUM,
    OTHER_WS,
    Reader,
    build_world,
    output_of,
    reader_for,
)
from tests.support.slack_driver import (
    checkbox_values,
    multi_select_values,
    plain_value,
    radio_value,
    select_value,
    time_value,
)

MALFORMED = [str(2**31), "²", "١٢", "-1", ""]
OUTSIDERS = [OTHER_FORUM, OTHER_WS]  # a coordinator of another forum / another workspace
MEMBERS_ONLY = "Det kan bara forumets medlemmar göra"
OUTAGE = "Databasen"  # "Databasen svarar inte just nu"
FAILED = "Något gick fel"  # what a listener's exception is told as
NO_MEETING = "Mötet finns inte längre"
NO_GOAL = "Målet finns inte längre"
GOAL = "Hemligt mål om torget"
STRATEGY = "Hemlig strategi för centrum"
ITEM_TEXT = "Lokalen till nästa möte"


def _told(shown: str, *expected: str) -> None:
    """Something was said, in words, and it was not an outage or a failure."""
    assert shown.strip(), "silence"
    assert OUTAGE not in shown and FAILED not in shown and "Traceback" not in shown, shown
    for words in expected:
        assert words in shown, shown


def _submit(bot: Bot, r: Reader, callback: str, values: dict[str, Any], **meta: Any) -> str:
    """Submit a modal as ``r``; its answer and everything shown after it, as text."""
    answers: list[Any] = []

    def send() -> None:
        response = r.driver.view_submission(
            callback,
            values,
            user=r.user,
            private_metadata=json.dumps({"locale": "sv", "forum_id": r.forum_id, **meta}),
            blocks=[{"type": "input", "block_id": b} for b in values],
        )
        answers.append(response.json())

    shown = output_of(bot, send)
    return json.dumps(answers[0], ensure_ascii=False) + shown


def _click(bot: Bot, r: Reader, action_id: str, value: str) -> str:
    return output_of(
        bot, lambda: r.driver.block_action(action_id, user=r.user, value=value, channel=r.channel)
    )


def _agencies(bot: Bot, forum_id: int) -> list[int]:
    with bot.sessions() as s:
        return list(s.scalars(select(Agency.id).where(Agency.forum_id == forum_id)))


def _planned(bot: Bot, forum_id: int) -> list[int]:
    with bot.sessions() as s:
        return list(
            s.scalars(
                select(Meeting.id)
                .where(Meeting.forum_id == forum_id, Meeting.status == MeetingStatus.PLANNED)
                .order_by(Meeting.starts_at)
            )
        )


def _items(bot: Bot) -> list[tuple[int, int, list[int] | None, bool]]:
    """Every agenda item: (meeting, id, agencies, discussed)."""
    with bot.sessions() as s:
        return [
            (i.meeting_id, i.id, i.agency_ids, i.discussed)
            for i in s.scalars(select(AgendaItem).order_by(AgendaItem.id))
        ]


def _meetings(bot: Bot, forum_id: int) -> list[tuple[int, str, Any, bool]]:
    with bot.sessions() as s:
        return [
            (m.id, m.status.value, m.attendance, m.has_situation_picture)
            for m in s.scalars(select(Meeting).where(Meeting.forum_id == forum_id))
        ]


# --- the agenda: other business (its agencies and its meeting) -----------------------------


def _add_item(bot: Bot, r: Reader, agencies: list[str], meeting: str | None = None) -> str:
    values: dict[str, Any] = {
        "text": {"text": plain_value(ITEM_TEXT)},
        "agencies": {"agencies": multi_select_values(agencies)},
    }
    if meeting is not None:
        values["meeting"] = {"meeting": select_value(meeting)}
    return _submit(bot, r, "agenda_item_add", values)


@pytest.mark.parametrize("crafted", MALFORMED)
def test_a_crafted_agency_in_other_business_is_no_agency(bot: Bot, crafted: str) -> None:
    """Like choosing none (every agency): the item is added and its author told so."""
    world = build_world(bot)
    r = reader_for(bot, world, COORD)
    before = _items(bot)
    _told(_add_item(bot, r, [crafted]), "Tillagd på dagordningen")
    (added,) = [i for i in _items(bot) if i not in before]
    assert added[0] in _planned(bot, world.forum) and added[2] is None


@pytest.mark.parametrize("crafted", MALFORMED)
def test_a_crafted_meeting_in_other_business_is_no_such_meeting(bot: Bot, crafted: str) -> None:
    """The modal offers the forum's next meetings; a value it never offered names no
    meeting. It used to add the item to the next meeting instead, silently."""
    world = build_world(bot)
    r = reader_for(bot, world, COORD)
    before = _items(bot)
    _told(_add_item(bot, r, [], meeting=crafted), NO_MEETING)
    assert _items(bot) == before


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_another_forums_agency_and_meeting_in_other_business(bot: Bot, outsider: str) -> None:
    world = build_world(bot)
    r = reader_for(bot, world, outsider)
    theirs = _agencies(bot, world.forum)
    before = _items(bot)
    their_meeting = str(_planned(bot, world.forum)[0])
    _told(_add_item(bot, r, [str(a) for a in theirs], meeting=their_meeting), NO_MEETING)
    assert _items(bot) == before  # nothing added to their meeting
    _told(_add_item(bot, r, [str(a) for a in theirs]), "Tillagd på dagordningen")
    (added,) = [i for i in _items(bot) if i not in before]
    assert added[0] in _planned(bot, r.forum_id) and added[2] is None  # none of theirs


# --- the attendance of a held meeting -------------------------------------------------------


def _started_meeting(bot: Bot, forum_id: int) -> int:
    """A meeting of the forum that began an hour ago, to record."""
    now = bot.clock.now()
    with transaction(bot.sessions) as s:
        meeting = Meeting(
            forum_id=forum_id,
            occurrence=now - dt.timedelta(hours=1),
            starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=1),
            status=MeetingStatus.PLANNED,
            has_situation_picture=False,
            agenda_version=0,
        )
        s.add(meeting)
        s.flush()
        return meeting.id


def _record(bot: Bot, r: Reader, meeting: int, attended: list[str], discussed: list[str]) -> str:
    values = {
        "attended": {"attended": multi_select_values(attended)},
        "discussed:0": {"discussed": checkbox_values(discussed)},
    }
    return _submit(bot, r, "meeting_record", values, meeting_id=meeting)


@pytest.mark.parametrize("crafted", MALFORMED)
def test_a_crafted_agency_in_the_attendance_is_no_agency(bot: Bot, crafted: str) -> None:
    world = build_world(bot)
    r = reader_for(bot, world, COORD)
    meeting = _started_meeting(bot, world.forum)
    own = _agencies(bot, world.forum)[0]
    _told(_record(bot, r, meeting, [str(own), crafted], [crafted]), "Sparat")
    recorded = {m[0]: m for m in _meetings(bot, world.forum)}[meeting]
    assert recorded[1:3] == ("held", [own])


@pytest.mark.parametrize("outsider", [OTHER_FORUM, OTHER_WS])
def test_another_forums_agencies_items_and_meeting_in_the_attendance(
    bot: Bot, outsider: str
) -> None:
    """Another forum's meeting (this workspace's or another's) is no meeting here. Another
    workspace's was told "there is no forum in this channel yet" (in a channel with a
    forum), and another forum's "only members of this forum": told apart from a meeting
    that does not exist, either said that the id is a meeting elsewhere."""
    world = build_world(bot)
    r = reader_for(bot, world, outsider)
    theirs_before, items_before = _meetings(bot, world.forum), _items(bot)
    # Their held meeting, recorded from another forum: refused.
    _told(_record(bot, r, world.held, [], []), NO_MEETING)
    # The outsider's own meeting, naming the forum's agencies and agenda item.
    own = _started_meeting(bot, r.forum_id)
    agencies = [str(a) for a in _agencies(bot, world.forum)]
    _told(_record(bot, r, own, agencies, [str(world.item)]))
    assert {m[0]: m for m in _meetings(bot, r.forum_id)}[own][1:3] == ("held", [])
    assert _meetings(bot, world.forum) == theirs_before and _items(bot) == items_before


# --- the forums a steering forum follows ----------------------------------------------------


def _follow(bot: Bot, r: Reader, forums: list[str]) -> str:
    values = {
        "steering_level": {"steering_level": select_value("styrgrupp")},
        "steering_forums": {"steering_forums": multi_select_values(forums)},
    }
    return _submit(bot, r, "steering_settings", values)


def _coordinates(bot: Bot, user: str, forum_id: int) -> None:
    with transaction(bot.sessions) as s:
        forum = fs.get_forum(s, forum_id=forum_id, team_id="T0001")
        fs.add_members(
            s,
            bot.clock,
            forum=forum,
            actor=forum.created_by,
            slack_user_ids=[user],
            agency_id=forum.agencies[0].id,
            role=Role.COORDINATOR,
        )


def _links(bot: Bot) -> list[tuple[int, int]]:
    with bot.sessions() as s:
        return [(link.steering_forum_id, link.forum_id) for link in s.scalars(select(ForumLink))]


@pytest.mark.parametrize("crafted", MALFORMED)
def test_a_crafted_forum_to_follow_is_no_forum(bot: Bot, crafted: str) -> None:
    """A forum id that names no forum is refused on the field and nothing is stored, as
    for any link refused; a crafted one used to be dropped, and the links it replaced
    were removed silently."""
    world = build_world(bot)
    r = reader_for(bot, world, COORD)
    _coordinates(bot, COORD, world.other_forum)  # only its coordinator lets it be followed
    _told(_follow(bot, r, [str(world.other_forum)]))
    assert _links(bot) == [(world.forum, world.other_forum)]
    _told(_follow(bot, r, [crafted]), "Det forumet kan inte väljas här")
    assert _links(bot) == [(world.forum, world.other_forum)]


def test_a_forum_of_another_workspace_is_not_followed(bot: Bot) -> None:
    world = build_world(bot)
    r = reader_for(bot, world, COORD)
    _told(_follow(bot, r, [str(world.other_ws_forum)]), "kan inte väljas här")
    assert _links(bot) == []


# --- the meetings chosen for a situation picture --------------------------------------------


def _choose(bot: Bot, r: Reader, chosen: list[str]) -> str:
    values = {
        "cadence": {"cadence": radio_value("chosen")},
        "days_before": {"days_before": select_value("5")},
        "deadline_days": {"deadline_days": select_value("1")},
        "deadline_time": {"deadline_time": time_value("12:00")},
        "reminders": {"reminders": multi_select_values([])},
        "chosen": {"chosen": multi_select_values(chosen)},
    }
    return _submit(bot, r, "rating_settings", values)


@pytest.mark.parametrize("crafted", MALFORMED)
def test_a_crafted_meeting_to_choose_is_no_meeting(bot: Bot, crafted: str) -> None:
    world = build_world(bot)
    r = reader_for(bot, world, COORD)
    second = _planned(bot, world.forum)[1]
    assert _choose(bot, r, [crafted, str(second)]).startswith("null")  # saved, closed
    chosen = [m[0] for m in _meetings(bot, world.forum) if m[3]]
    assert chosen == [second]


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_another_forums_meetings_are_not_chosen(bot: Bot, outsider: str) -> None:
    world = build_world(bot)
    r = reader_for(bot, world, outsider)
    theirs = _meetings(bot, world.forum)
    assert not any(m[3] for m in theirs)
    _choose(bot, r, [str(m[0]) for m in theirs])
    assert _meetings(bot, world.forum) == theirs
    assert not any(m[3] for m in _meetings(bot, r.forum_id))


# --- the weeks of a monthly schedule --------------------------------------------------------


def _schedule(bot: Bot, forum_id: int) -> tuple[str, str]:
    with bot.sessions() as s:
        forum = s.get(Forum, forum_id)
        assert forum is not None
        return forum.name, forum.schedule_rrule


def _edit_schedule(bot: Bot, r: Reader, forum_id: int, weeks: list[str]) -> str:
    with bot.sessions() as s:
        forum = s.get(Forum, forum_id)
        assert forum is not None
        names = [a.name for a in forum.agencies]
    values = {
        "name.0": {"value": plain_value("Omdöpt")},
        "code.0": {"value": plain_value("OMD")},
        "agencies.0": {"value": multi_select_values(names)},
        "rrule.0": {"value": plain_value(None)},
        "sched_days.0": {"value": multi_select_values(["TH"])},
        "sched_repeat.0": {"value": select_value("monthly")},
        "sched_weeks.0": {"value": multi_select_values(weeks)},
        "start.0": {"value": time_value("13:00")},
        "end.0": {"value": time_value("15:00")},
    }
    return _submit(bot, r, "forum_edit", values, forum_id=forum_id)


@pytest.mark.parametrize("crafted", [str(2**31), "²", "١", "0", "5", "-2", "-1-", ""])
def test_a_crafted_week_of_the_month_is_no_week(bot: Bot, crafted: str) -> None:
    """Weeks are 1–4 and -1 (the last); any other value is no week, asked for on its field."""
    world = build_world(bot)
    r = reader_for(bot, world, COORD)
    before = _schedule(bot, world.forum)
    _told(_edit_schedule(bot, r, world.forum, [crafted]), "Välj vilka veckor i månaden")
    assert _schedule(bot, world.forum) == before


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_another_forums_schedule_is_not_changed(bot: Bot, outsider: str) -> None:
    world = build_world(bot)
    r = reader_for(bot, world, outsider)
    before = _schedule(bot, world.forum)
    _told(_edit_schedule(bot, r, world.forum, ["1"]), '"response_action": "errors"')
    assert _schedule(bot, world.forum) == before


# --- the activity plan's goal and year buttons ----------------------------------------------


def _goal(bot: Bot, forum_id: int) -> int:
    """The forum is a steering forum with a strategy and a goal in 2026's plan."""
    now = bot.clock.now()
    with transaction(bot.sessions) as s:
        forum = s.get(Forum, forum_id)
        assert forum is not None
        forum.settings = {**forum.settings, "steering_level": "styrgrupp"}
        common: dict[str, Any] = {
            "forum_id": forum_id,
            "year": 2026,
            "position": 1,
            "created_by": COORD,
            "created_at": now,
            "updated_at": now,
        }
        strategy = PlanItem(kind="strategy", title=STRATEGY, **common)
        s.add(strategy)
        s.flush()
        goal = PlanItem(kind="goal", title=GOAL, parent_id=strategy.id, **common)
        s.add(goal)
        s.flush()
        return goal.id


@pytest.mark.parametrize("crafted", MALFORMED)
def test_a_crafted_goal_in_the_follow_up_button_is_no_goal(bot: Bot, crafted: str) -> None:
    world = build_world(bot)
    _goal(bot, world.forum)
    _told(_click(bot, reader_for(bot, world, COORD), "plan_goal_follow_up", crafted), NO_GOAL)


@pytest.mark.parametrize("button", ["plan_add_item", "plan_add_activity"])
@pytest.mark.parametrize("crafted", [*MALFORMED, "12", "20261"])
def test_a_crafted_year_in_a_plan_button_is_told_how_to_give_it(
    bot: Bot, crafted: str, button: str
) -> None:
    """The buttons carry the plan's year (four digits). A crafted one used to open the
    modal for year 0 (or whatever it read), where a strategy would be saved in no plan."""
    world = build_world(bot)
    _goal(bot, world.forum)
    shown = _click(bot, reader_for(bot, world, COORD), button, crafted)
    _told(shown, "Ange året med fyra siffror")
    assert "plan_item" not in shown and "plan_activity" not in shown  # no modal


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_another_forums_goal_and_plan_are_not_shown(bot: Bot, outsider: str) -> None:
    world = build_world(bot)
    goal = _goal(bot, world.forum)
    r = reader_for(bot, world, outsider)
    _told(_click(bot, r, "plan_goal_follow_up", str(goal)), NO_GOAL)
    for button in ("plan_add_item", "plan_add_activity"):
        shown = _click(bot, r, button, "2026")
        _told(shown)
        assert GOAL not in shown and STRATEGY not in shown


# --- a rating round's comments --------------------------------------------------------------


@pytest.mark.parametrize("crafted", MALFORMED)
def test_a_crafted_round_in_the_comments_button_is_no_such_round(bot: Bot, crafted: str) -> None:
    world = build_world(bot)
    shown = _click(bot, reader_for(bot, world, COORD), "rating_comments_open", crafted)
    _told(shown, "bedömningsomgången finns inte")


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_another_forums_round_in_the_comments_button_is_refused(bot: Bot, outsider: str) -> None:
    """Another workspace's round is no round here. It was told "there is no forum in this
    channel yet" (in a channel with a forum): told apart from a round that does not exist,
    it said that the id is another workspace's round. Another forum's round was told "only
    members of this forum" and said just as much: both are told as a round of nothing
    (test_refused_rating_doors)."""
    world = build_world(bot)
    shown = _click(bot, reader_for(bot, world, outsider), "rating_comments_open", str(world.round))
    _told(shown, "bedömningsomgången finns inte")
    assert COMMENT not in shown and MEMBERS_ONLY not in shown


# --- an action modal's crafted "card" origin --------------------------------------------------


@pytest.mark.parametrize("channel", ["C0002", "C0001"], ids=["another forum's", "its own forum's"])
def test_an_action_modals_crafted_card_origin_never_rewrites_a_channel_message(
    bot: Bot, channel: str
) -> None:
    """The "more time" modal, opened from the action's card in the owner's DM, remembers the
    card (its channel and ts) to show the change on it. The owner submits it with that origin
    crafted to name a message in a forum's channel (another forum's, or the action's own):
    the change is made, but no message outside a direct message is rewritten (the bot would
    replace another forum's message with the action's card, and its text would be read in a
    channel)."""
    from storage.models import Action
    from tests.integration.test_disclosure_table import ACTION_TEXT, RAISER
    from tests.support.slack_driver import date_value

    world = build_world(bot)
    r = reader_for(bot, world, RAISER)
    meta = json.dumps(
        {
            "locale": "sv",
            "forum_id": world.forum,
            "action_id": world.action,
            "origin": "card",
            "message_channel": channel,
            "message_ts": "1765000000.000100",
        }
    )
    due = bot.clock.now().date() + dt.timedelta(days=30)
    since = len(bot.slack.calls)
    response = r.driver.view_submission(
        "action_postpone",
        {
            "due_on": {"value": date_value(due)},
            "reason": {"value": plain_value("Väntar på skolans schema")},
        },
        user=RAISER,
        private_metadata=meta,
    )
    assert response.status == 200
    bot.wait_idle()
    with bot.sessions() as s:
        action = s.get(Action, world.action)
        assert action is not None and action.due_on == due
    rewritten = [
        c.args
        for c in bot.slack.calls[since:]
        if c.method == "chat.update" and not str(c.args.get("channel", "")).startswith("D")
    ]
    assert rewritten == [], "a channel's message was replaced by the action's card"
    assert ACTION_TEXT not in json.dumps(
        [c.args for c in bot.slack.calls[since:] if str(c.args.get("channel", "")) == channel],
        ensure_ascii=False,
    )


# --- the correction buttons' forum, in a modal's crafted private_metadata ------------------------


def test_a_crafted_forum_id_behind_a_correction_button_is_no_forum(bot: Bot) -> None:
    """The "change" button of a case's text in a modal reads the forum from the modal's
    private_metadata. Crafted there (past INTEGER, past any number, ``true``, negative), it
    is no forum: told so in words, never "the database is not answering" or "something went
    wrong", and ``true`` is not read as forum 1."""
    world = build_world(bot)
    r = reader_for(bot, world, OTHER_FORUM)
    for forum_id in (2**31, 2**40, 2**70, True, -5):
        meta = json.dumps({"locale": "sv", "forum_id": forum_id, "case_id": world.case})

        def press(meta: str = meta) -> Any:
            return r.driver.block_action(
                "text_edit",
                user=r.user,
                value=f"case.summary:{world.case}",
                view={"id": "V9", "private_metadata": meta},
            )

        shown = output_of(bot, press)
        assert "Det finns inget forum i den här kanalen" in shown, (forum_id, shown)
        assert OUTAGE not in shown and FAILED not in shown and MEMBERS_ONLY not in shown
