"""A rating round's comments and a deviation's text, asked for from outside their forum with
crafted, correctly signed requests: the comments button, the rating modal (its button and
its submission, which show and change the agency's own comments), masking a comment, and
correcting or masking a deviation's text. Refused, nothing changed, nothing of the text
shown, each attempt audited once in the forum's log (as the rule audits every look at the
comments and the deviation's text), and the answer the same, byte for byte, as for an id of
nothing: it does not tell an outsider that the round, the comment or the deviation exists."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from storage.db import transaction
from storage.models import (
    Deviation,
    Member,
    Rating,
    RatingObservation,
    RatingRound,
    RatingRoundStatus,
)
from tests.conftest import Bot
from tests.integration.test_disclosure_table import (
    COMMENT,
    COORD,
    DEVIATION,
    NON_MEMBER,
    NOT_COVERED,
    OTHER_FORUM,
    OTHER_WS,
    OUTSIDERS_REFUSED,
    RAISER,
    Reader,
    World,
    build_world,
    reader_for,
)
from tests.support.audit_log import last_id, refusals_in, refusals_since, refused_once_each
from tests.support.slack_driver import plain_value, select_value

NO_ROUND_SV = "Den bedömningsomgången finns inte i det här forumet."
# The rating invitation's button is pressed in a DM: no forum there (test_rating_flow).
NO_ROUND_DM_SV = "Bedömningsomgången finns inte, eller så har du inte tillgång till den."
NO_TEXT_SV = "Den texten finns inte längre i det här forumet."
NOT_A_MEMBER_SV = "Det kan bara forumets medlemmar göra."
OBSERVATION = "Hemlig iakttagelse om torget"
NOTHING = 987_654
OUTSIDERS = (OTHER_FORUM, OTHER_WS, NON_MEMBER)


def _shown(bot: Bot, since: int) -> str:
    """What Slack showed the user since call ``since``: modals (without their ids),
    ephemeral replies and DMs (without the request's URL, and without the outbox's key in a
    DM's metadata: a new one for every message, never shown)."""
    shown: list[Any] = []
    for call in bot.slack.calls[since:]:
        if call.method in ("views.open", "views.push", "views.update"):
            shown.append([call.method, call.args.get("view")])
        elif call.method in ("response_url", "chat.postMessage", "chat.postEphemeral"):
            args = {k: v for k, v in call.args.items() if k not in ("_path", "metadata")}
            shown.append([call.method, args])
    return json.dumps(shown, ensure_ascii=False, sort_keys=True)


def _modal(r: Reader) -> dict[str, Any]:
    """A modal of the reader's forum, from which a crafted button is sent."""
    return {"id": "V55", "private_metadata": json.dumps({"locale": "sv", "forum_id": r.forum_id})}


def _rating(bot: Bot, world: World) -> int:
    with bot.sessions() as s:
        return s.scalars(select(Rating.id).where(Rating.round_id == world.round)).one()


def _answer(response: Any) -> str:
    return json.dumps(response.json(), ensure_ascii=False, sort_keys=True)


# --- the doors: each sends one request naming the round (or rating, or deviation) by id ---------


def comments_button(bot: Bot, world: World, r: Reader, round_id: int) -> str:
    """The status's "What agencies see" button (its value: the round's id)."""
    since = len(bot.slack.calls)
    r.driver.block_action(
        "rating_comments_open", user=r.user, value=str(round_id), channel=r.channel
    )
    bot.wait_idle()
    return _shown(bot, since)


def rating_button(bot: Bot, world: World, r: Reader, round_id: int) -> str:
    """The round's DM button "<round>:<agency>" (the round's own agency, Polis, whose
    comment it shows in the modal)."""
    since = len(bot.slack.calls)
    with bot.sessions() as s:
        agency = s.scalars(select(Rating.agency_id).where(Rating.round_id == world.round)).one()
    r.driver.block_action(
        "rating_open", user=r.user, value=f"{round_id}:{agency}", channel=f"D{r.user}"
    )
    bot.wait_idle()
    return _shown(bot, since)


def rating_submitted(bot: Bot, world: World, r: Reader, round_id: int) -> str:
    """The rating modal's submission, its metadata naming the round: overwrites the
    agency's comment when it may."""
    with bot.sessions() as s:
        rating = s.scalars(select(Rating).where(Rating.round_id == world.round)).one()
        area, agency = rating.area_id, rating.agency_id
    meta = {"locale": "sv", "forum_id": r.forum_id, "round_id": round_id, "agency_id": agency}
    response = r.driver.view_submission(
        "rating_submit",
        {
            f"level_{area}": {"value": select_value("1")},
            f"comment_{area}": {"value": plain_value("Skrivet över")},
        },
        user=r.user,
        private_metadata=json.dumps(meta),
    )
    bot.wait_idle()
    return _answer(response)


def _rating_of(bot: Bot, world: World, round_id: int) -> int:
    return _rating(bot, world) if round_id == world.round else NOTHING


def mask_comment_button(bot: Bot, world: World, r: Reader, round_id: int) -> str:
    """The comments modal's "Mask" button on a comment (its value names the rating)."""
    since = len(bot.slack.calls)
    r.driver.block_action(
        "text_redact.rating.comment",
        user=r.user,
        value=f"rating.comment:{_rating_of(bot, world, round_id)}",
        view=_modal(r),
    )
    bot.wait_idle()
    return _shown(bot, since)


def mask_comment_submitted(bot: Bot, world: World, r: Reader, round_id: int) -> str:
    meta = {
        "locale": "sv",
        "forum_id": r.forum_id,
        "field": "rating.comment",
        "object_id": _rating_of(bot, world, round_id),
    }
    response = r.driver.view_submission(
        "text_redact_submit", {}, user=r.user, private_metadata=json.dumps(meta)
    )
    bot.wait_idle()
    return _answer(response)


ROUND_DOORS: dict[str, Callable[[Bot, World, Reader, int], str]] = {
    "comments button": comments_button,
    "rating button": rating_button,
    "rating submission": rating_submitted,
    "mask button": mask_comment_button,
    "mask submission": mask_comment_submitted,
}


def _comments(bot: Bot, world: World) -> tuple[Any, ...]:
    with bot.sessions() as s:
        ratings = s.scalars(select(Rating).where(Rating.round_id == world.round)).all()
        observations = s.scalars(
            select(RatingObservation.text).where(RatingObservation.round_id == world.round)
        ).all()
        return tuple((r.level, r.comment, r.is_current) for r in ratings), tuple(observations)


def _open_round(bot: Bot, world: World) -> None:
    """The world's round is open, and its agency (Polis) wrote what it sees."""
    with transaction(bot.sessions) as s:
        rating_round = s.get(RatingRound, world.round)
        assert rating_round is not None
        rating_round.status = RatingRoundStatus.OPEN
        rating = s.scalars(select(Rating).where(Rating.round_id == world.round)).one()
        s.add(
            RatingObservation(
                round_id=world.round,
                agency_id=rating.agency_id,
                text=OBSERVATION,
                written_by=NOT_COVERED,
                written_at=bot.clock.now(),
            )
        )


@pytest.mark.parametrize("door", list(ROUND_DOORS))
def test_a_rounds_comment_doors_from_outside_the_forum_are_refused_and_audited(
    bot: Bot, door: str
) -> None:
    """The comments button, the rating modal's button and submission, and the mask button
    and submission of a comment name this forum's round (or its rating) by id: sent by
    another forum's admin and by another workspace's user (from their own forum), and by a
    non-member. No comment or observation is shown or changed; the answer is the same,
    byte for byte, as for an id of nothing (the round's doors used to tell another forum's
    admin "only members of this forum", and an id of nothing "no such round"); each attempt
    is audited once in this forum's log as an attempt at the round's comments."""
    world = build_world(bot)
    _open_round(bot, world)
    send = ROUND_DOORS[door]
    before = _comments(bot, world)
    masking = door.startswith("mask")
    mark = last_id(bot)
    for who in OUTSIDERS:
        r = reader_for(bot, world, who)
        shown = send(bot, world, r, world.round)
        expected = NO_TEXT_SV if masking and who != NON_MEMBER else NO_ROUND_SV
        if door == "rating button":
            expected = NO_ROUND_DM_SV
        if masking and who == NON_MEMBER:
            expected = NOT_A_MEMBER_SV
        assert expected in shown, shown
        assert COMMENT not in shown and OBSERVATION not in shown, shown
        assert shown == send(bot, world, r, NOTHING), "the answer tells that the round exists"
    assert _comments(bot, world) == before
    reasons = (
        {OTHER_FORUM: "other_forum", OTHER_WS: "other_forum", NON_MEMBER: "not_a_member"}
        if masking
        else {OTHER_FORUM: "not_a_member", OTHER_WS: "no_forum_here", NON_MEMBER: "not_a_member"}
    )
    assert refusals_in(bot, mark, world.forum) == refused_once_each(
        [(who, reasons[who]) for who in OUTSIDERS],
        object_type="rating_comments",
        object_ref=str(world.round),
        surface="rating_comments",
    )
    # The forum's own go through the same door as before (the coordinator reads and masks
    # the comments, the agency's representative rates), and nothing is refused.
    mark = last_id(bot)
    insider = reader_for(bot, world, NOT_COVERED if door.startswith("rating") else COORD)
    shown = send(bot, world, insider, world.round)
    with bot.sessions() as s:
        current = s.scalars(
            select(Rating).where(Rating.round_id == world.round, Rating.is_current.is_(True))
        ).one()
        level, comment = current.level, current.comment
    assert {
        "comments button": COMMENT in shown and OBSERVATION in shown,
        "rating button": COMMENT in shown and OBSERVATION in shown,
        "rating submission": (level, comment) == (1, "Skrivet över"),
        "mask button": COMMENT in shown and '"callback_id": "text_redact_submit"' in shown,
        "mask submission": comment == "[maskerad]",
    }[door], shown
    assert not refusals_since(bot, mark)


def test_the_ids_of_no_round_are_audited_where_the_requests_came_from(bot: Bot) -> None:
    """The comments button and a comment's mask button with an id of nothing: audited in
    the workspace of the request, with no forum, the round by its id (a rating of nothing
    names no round: ``?``); nothing else about it is recorded."""
    world = build_world(bot)
    mark = last_id(bot)
    for who in (OTHER_FORUM, OTHER_WS):
        r = reader_for(bot, world, who)
        comments_button(bot, world, r, NOTHING)
        mask_comment_button(bot, world, r, NOTHING)
    logged = refusals_since(bot, mark)
    assert {(e.actor, e.team_id, e.forum_id, e.object_ref) for e in logged} == {
        (OTHER_FORUM, "T0001", None, str(NOTHING)),
        (OTHER_FORUM, "T0001", None, "?"),
        (OTHER_WS, "T0002", None, str(NOTHING)),
        (OTHER_WS, "T0002", None, "?"),
    }


# --- a deviation's text ------------------------------------------------------------------------


def edit_button(bot: Bot, world: World, r: Reader, deviation_id: int) -> str:
    since = len(bot.slack.calls)
    r.driver.block_action(
        "text_edit.deviation.text",
        user=r.user,
        value=f"deviation.text:{deviation_id}",
        view=_modal(r),
    )
    bot.wait_idle()
    return _shown(bot, since)


def mask_note_button(bot: Bot, world: World, r: Reader, deviation_id: int) -> str:
    """The mask button on the deviation's follow-up note, from the channel."""
    since = len(bot.slack.calls)
    r.driver.block_action(
        "text_redact",
        user=r.user,
        value=f"deviation.follow_up_note:{deviation_id}",
        channel=r.channel,
    )
    bot.wait_idle()
    return _shown(bot, since)


def correction_submitted(bot: Bot, r: Reader, callback: str, field: str, object_id: int) -> str:
    """A correction modal's submission (``callback``: edit or mask), its metadata naming the
    text by its field and id, sent from the reader's forum; what the ack answered."""
    meta = {"locale": "sv", "forum_id": r.forum_id, "field": field, "object_id": object_id}
    response = r.driver.view_submission(
        callback,
        {"text": {"value": plain_value("Skrivet över")}},
        user=r.user,
        private_metadata=json.dumps(meta),
    )
    bot.wait_idle()
    return _answer(response)


def _submitted(callback: str) -> Callable[[Bot, World, Reader, int], str]:
    def send(bot: Bot, world: World, r: Reader, deviation_id: int) -> str:
        return correction_submitted(bot, r, callback, "deviation.text", deviation_id)

    return send


DEVIATION_DOORS: dict[str, Callable[[Bot, World, Reader, int], str]] = {
    "edit button": edit_button,
    "mask button": mask_note_button,
    "edit submission": _submitted("text_edit_submit"),
    "mask submission": _submitted("text_redact_submit"),
}


def _deviation(bot: Bot, world: World) -> tuple[Any, ...]:
    with bot.sessions() as s:
        deviation = s.get(Deviation, world.deviation)
        assert deviation is not None
        return deviation.text, deviation.follow_up_note


@pytest.mark.parametrize("door", list(DEVIATION_DOORS))
def test_a_deviations_text_doors_from_outside_the_forum_are_refused_and_audited(
    bot: Bot, door: str
) -> None:
    """Correcting or masking this forum's deviation (its text, its follow-up note), the
    button and the modal's submission naming it by id: sent by another forum's admin and
    by another workspace's user (from their own forum), and by a non-member (naming this
    forum). Refused as before, the same answer as for an id of nothing, the text neither
    shown nor changed, and each attempt audited once in this forum's log as an attempt at
    the deviation's text."""
    world = build_world(bot)
    with transaction(bot.sessions) as s:
        deviation = s.get(Deviation, world.deviation)
        assert deviation is not None
        deviation.follow_up_note = "Hemlig uppföljning av avvikelsen"
    send = DEVIATION_DOORS[door]
    before = _deviation(bot, world)
    mark = last_id(bot)
    expected = {OTHER_FORUM: NO_TEXT_SV, OTHER_WS: NO_TEXT_SV, NON_MEMBER: NOT_A_MEMBER_SV}
    for who, answer in expected.items():
        r = reader_for(bot, world, who)
        shown = send(bot, world, r, world.deviation)
        assert answer in shown, shown
        assert DEVIATION not in shown and "Hemlig uppföljning" not in shown, shown
        assert shown == send(bot, world, r, NOTHING), "the answer tells that the text exists"
    assert _deviation(bot, world) == before
    assert refusals_in(bot, mark, world.forum) == refused_once_each(
        OUTSIDERS_REFUSED,
        object_type="deviation",
        object_ref=str(world.deviation),
        surface="deviation_edit",
    )
    # The deviation's reporter still corrects it (a read through the rule, no refusal).
    mark = last_id(bot)
    shown = edit_button(bot, world, reader_for(bot, world, NOT_COVERED), world.deviation)
    assert DEVIATION in shown and '"callback_id": "text_edit_submit"' in shown, shown
    assert not refusals_since(bot, mark)


# --- closing a round early, extending it (the status's coordinator buttons) ---------------------


def close_button(bot: Bot, world: World, r: Reader, round_id: int) -> str:
    """The status's "Close now" button (its value: the round's id), in the reader's channel."""
    since = len(bot.slack.calls)
    r.driver.block_action("rating_close_early", user=r.user, value=str(round_id), channel=r.channel)
    bot.wait_idle()
    return _shown(bot, since)


def extend_select(bot: Bot, world: World, r: Reader, round_id: int) -> str:
    """The status's "Extend" menu (its option: ``<round id>:<days>``), in the reader's
    channel."""
    since = len(bot.slack.calls)
    r.driver.block_action(
        "rating_extend",
        user=r.user,
        channel=r.channel,
        selected_option={"text": {"type": "plain_text", "text": "1"}, "value": f"{round_id}:1"},
    )
    bot.wait_idle()
    return _shown(bot, since)


STATUS_DOORS: dict[str, Callable[[Bot, World, Reader, int], str]] = {
    "close": close_button,
    "extend": extend_select,
}


def _round_state(bot: Bot, world: World) -> tuple[Any, ...]:
    with bot.sessions() as s:
        rating_round = s.get(RatingRound, world.round)
        assert rating_round is not None
        return rating_round.status, rating_round.deadline_at, rating_round.closed_early


@pytest.mark.parametrize("door", list(STATUS_DOORS))
def test_closing_or_extending_another_forums_round_is_refused_and_audited(
    bot: Bot, door: str
) -> None:
    """Closing this forum's open round early, or extending it, by its id: sent by the
    coordinators of another forum and of another workspace's forum (from their own
    channel) and by a non-member (in this forum's channel). Refused with the answer as
    before (no such round; a non-member: not a member), the same as for an id of nothing,
    the round unchanged, and each attempt audited once in this forum's log (they were
    refused unlogged)."""
    world = build_world(bot)
    _open_round(bot, world)
    send = STATUS_DOORS[door]
    before = _round_state(bot, world)
    mark = last_id(bot)
    expected = {OTHER_FORUM: NO_ROUND_SV, OTHER_WS: NO_ROUND_SV, NON_MEMBER: NOT_A_MEMBER_SV}
    for who, answer in expected.items():
        r = reader_for(bot, world, who)
        shown = send(bot, world, r, world.round)
        assert answer in shown, shown
        assert shown == send(bot, world, r, NOTHING), "the answer tells that the round exists"
    assert _round_state(bot, world) == before
    assert refusals_in(bot, mark, world.forum) == refused_once_each(
        OUTSIDERS_REFUSED,
        object_type="rating_comments",
        object_ref=str(world.round),
        surface="rating_comments",
    )
    # The forum's coordinator closes or extends it as before, and nothing is refused.
    mark = last_id(bot)
    send(bot, world, reader_for(bot, world, COORD), world.round)
    status, deadline, closed_early = _round_state(bot, world)
    if door == "close":
        assert status is RatingRoundStatus.CLOSED and closed_early
    else:
        assert deadline == before[1] + dt.timedelta(days=1)
    assert not refusals_since(bot, mark)


NOT_COORDINATOR_SV = "Det kan bara forumets samordnare göra."


@pytest.mark.parametrize("door", list(STATUS_DOORS))
def test_a_member_who_is_no_coordinator_closing_or_extending_the_round_is_audited(
    bot: Bot, door: str
) -> None:
    """Closing the forum's open round early, or extending it, is the coordinators': members
    of the forum who are not (the raising agency's, Polis's, from the forum's channel) are
    told so as before, the same as for an id of nothing, the round unchanged, and each
    attempt is audited once in the forum's log as a refusal at the round's comments (the
    coordinators' surface), with the member's agency (they were refused unlogged)."""
    world = build_world(bot)
    _open_round(bot, world)
    send = STATUS_DOORS[door]
    before = _round_state(bot, world)
    members = (RAISER, NOT_COVERED)
    mark = last_id(bot)
    for who in members:
        r = reader_for(bot, world, who)
        shown = send(bot, world, r, world.round)
        assert NOT_COORDINATOR_SV in shown, shown
        assert shown == send(bot, world, r, NOTHING), "the answer tells that the round exists"
    assert _round_state(bot, world) == before
    with bot.sessions() as s:
        agency = {
            m.slack_user_id: m.agency_id
            for m in s.scalars(select(Member).where(Member.forum_id == world.forum))
        }
    assert refusals_in(bot, mark, world.forum) == [
        (
            who,
            "rating_comments",
            str(world.round),
            "T0001",
            agency[who],
            {"surface": "rating_comments", "details": False, "refused": "not_coordinator"},
        )
        for who in members
    ]
    # The ids of nothing: where the requests came from, with no forum (and so no agency).
    assert {
        (e.actor, e.team_id, e.object_ref, e.actor_agency_id)
        for e in refusals_since(bot, mark)
        if e.forum_id is None
    } == {(who, "T0001", str(NOTHING), None) for who in members}
