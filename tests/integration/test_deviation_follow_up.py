"""A deviation (avvikelse) gets its follow-up, through the real app: the coordinators' DM and
App Home show it waiting, a coordinator opens it (an audited read), records what was done or
agreed and an outcome (guarded, limited, audited), the reporter is told by DM without the
text, App Home no longer lists it, and the statistics count it as followed up. Outsiders with
a crafted id (another forum's, another workspace's, a non-member) get the answer an id of
nothing gets, byte for byte, each attempt audited once in the forum's log; a member who is no
coordinator does not record a follow-up."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from storage.db import transaction
from storage.models import Agency, AuditAction, AuditEvent, Deviation, Member
from tests.conftest import Bot
from tests.integration.test_disclosure_table import (
    COORD,
    COVERED,
    DEVIATION,
    NON_MEMBER,
    NOT_COVERED,
    OTHER_FORUM,
    OTHER_WS,
    Reader,
    World,
    build_world,
    reader_for,
)
from tests.support.audit_log import last_id, refusals_in, refusals_since, refused_once_each
from tests.support.personnummer import pnr
from tests.support.slack_driver import multi_select_values, plain_value, select_value
from tests.support.statements import statements

NOTE = "Rutinen för kallelse förtydligades; skolan bjuds in i tid"
NOTHING = 987_654
# Named by its id from a DM or App Home, never in a forum's channel: words for a DM.
NO_DEVIATION_SV = "Avvikelsen finns inte, eller så har du inte tillgång till den."
SURFACE = "deviation_follow_up"


def blocks_of(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "input", "block_id": block_id} for block_id in values]


def _shown(bot: Bot, since: int) -> str:
    """What Slack showed since call ``since``: modals (no ids), DMs (no outbox key)."""
    shown: list[Any] = []
    for call in bot.slack.calls[since:]:
        if call.method in ("views.open", "views.push", "views.update", "views.publish"):
            view = dict(call.args.get("view") or {})
            view.pop("private_metadata", None)
            shown.append([call.method, view])
        elif call.method in ("chat.postMessage", "chat.postEphemeral", "response_url"):
            args = {k: v for k, v in call.args.items() if k not in ("_path", "metadata")}
            shown.append([call.method, args])
    return json.dumps(shown, ensure_ascii=False, sort_keys=True)


def open_button(bot: Bot, r: Reader, deviation_id: int) -> str:
    """The "Följ upp" button of the DM (its value: the deviation's id)."""
    since = len(bot.slack.calls)
    r.driver.block_action("deviation_open", user=r.user, value=str(deviation_id), channel="D0001")
    bot.wait_idle()
    return _shown(bot, since)


def follow_up(
    bot: Bot,
    r: Reader,
    deviation_id: int,
    *,
    note: str = NOTE,
    outcome: str | None = "routine",
) -> tuple[Any, str]:
    """The follow-up modal's submission: what the ack answered, and what Slack showed."""
    values: dict[str, Any] = {"note": {"value": plain_value(note)}}
    values["outcome"] = {"value": select_value(outcome) if outcome else {"type": "static_select"}}
    since = len(bot.slack.calls)
    response = r.driver.view_submission(
        "deviation_follow_up",
        values,
        user=r.user,
        private_metadata=json.dumps({"locale": "sv", "deviation_id": deviation_id}),
        blocks=blocks_of(values),
    )
    bot.wait_idle()
    return response.json(), _shown(bot, since)


def _stored(bot: Bot, world: World) -> tuple[Any, ...]:
    with bot.sessions() as s:
        d = s.get(Deviation, world.deviation)
        assert d is not None
        return d.follow_up_note, d.follow_up_outcome, d.followed_up_at, d.followed_up_by


def _home(bot: Bot, user: str) -> str:
    since = len(bot.slack.calls)
    bot.driver.app_home_opened(user=user)
    bot.wait_idle()
    return _shown(bot, since)


def test_a_coordinator_follows_a_deviation_up_and_the_reporter_is_told(bot: Bot) -> None:
    world = build_world(bot)
    coord = reader_for(bot, world, COORD)
    # App Home shows it waiting (kind, agencies, no text), with the button.
    home = _home(bot, COORD)
    assert "Avvikelser att följa upp" in home and "deviation_open" in home, home
    assert "Information delades inte" in home and DEVIATION not in home, home
    assert "Avvikelser att följa upp" not in _home(bot, COVERED)  # members: not theirs
    # The coordinator opens it: the text, the form; an audited read.
    mark = last_id(bot)
    shown = open_button(bot, coord, world.deviation)
    assert DEVIATION in shown and '"block_id": "note"' in shown, shown
    assert "Inte uppföljd ännu." in shown, shown
    with bot.sessions() as s:
        reads = s.scalars(
            select(AuditEvent).where(AuditEvent.id > mark, AuditEvent.actor == COORD)
        ).all()
    assert [(e.action, (e.detail or {}).get("surface")) for e in reads] == [
        (AuditAction.READ, SURFACE)
    ]
    # Records the follow-up.
    mark = last_id(bot)
    answer, shown = follow_up(bot, coord, world.deviation)
    assert answer["response_action"] == "update", answer
    assert "Uppföljningen är sparad." in json.dumps(answer, ensure_ascii=False)
    note, outcome, at, by = _stored(bot, world)
    assert (note, outcome, by) == (NOTE, "routine", COORD) and at is not None
    with bot.sessions() as s:
        update = s.scalars(
            select(AuditEvent).where(
                AuditEvent.id > mark,
                AuditEvent.action == AuditAction.UPDATE,
                AuditEvent.object_type == "deviation",
            )
        ).one()
    assert update.object_ref == str(world.deviation) and update.actor == COORD
    assert NOTE not in json.dumps(update.detail)
    # The reporter (NOT_COVERED) is told by DM: the outcome, never the text or the note.
    dms = [c.args for c in bot.slack.calls if c.method == "chat.postMessage"]
    told = [a for a in dms if a.get("channel") == NOT_COVERED]
    assert len(told) == 1, dms
    text = json.dumps(told[0], ensure_ascii=False)
    assert "har följts upp" in text and "En rutin ändrades eller förtydligades" in text, text
    assert NOTE not in text and DEVIATION not in text, text
    # The coordinator's App Home was published anew without it.
    assert "Avvikelser att följa upp" not in shown, shown
    assert "Avvikelser att följa upp" not in _home(bot, COORD)
    # The reporter opens it from their DM: the follow-up, no form.
    shown = open_button(bot, reader_for(bot, world, NOT_COVERED), world.deviation)
    assert NOTE in shown and DEVIATION in shown and '"block_id": "note"' not in shown, shown
    assert "Uppföljd" in shown and "<@UK>" in shown, shown
    # The statistics count it as followed up, under the small-number rule as the half-year
    # review does (1 reported: "fewer than 5").
    since = len(bot.slack.calls)
    coord.driver.command("statistik 2026", user=COORD, channel=coord.channel)
    bot.wait_idle(60)  # the chart is drawn and sent as a picture
    stats = _shown(bot, since)
    assert "Uppföljda: färre än 5 · ej uppföljda ännu: 0" in stats, stats
    since = len(bot.slack.calls)
    coord.driver.command("uppföljning 2026-07-01 2026-11-23", user=COORD, channel=coord.channel)
    bot.wait_idle(60)  # the PDF and xlsx are made before the summary is posted
    review = _shown(bot, since)
    assert "uppföljda: färre än 5, öppna: 0" in review, review


def test_the_new_deviations_dm_carries_the_follow_up_button(bot: Bot) -> None:
    world = build_world(bot)
    with bot.sessions() as s:
        agency = s.scalars(select(Agency.id).where(Agency.forum_id == world.forum)).first()
    values = {
        "agencies": {"value": multi_select_values([str(agency)])},
        "kind": {"value": select_value("delay")},
        "text": {"value": plain_value("Stödet dröjde efter mötet")},
        "case": {"value": plain_value("")},
    }
    since = len(bot.slack.calls)
    bot.driver.view_submission(
        "deviation_new",
        values,
        user=COVERED,
        private_metadata=json.dumps({"locale": "sv", "forum_id": world.forum}),
        blocks=blocks_of(values),
    )
    bot.wait_idle()
    dm = [c.args for c in bot.slack.calls[since:] if c.method == "chat.postMessage"]
    to_coord = [a for a in dm if a.get("channel") == COORD]
    assert len(to_coord) == 1, dm
    text = json.dumps(to_coord[0], ensure_ascii=False)
    assert "deviation_open" in text and "Stödet dröjde" not in text, text
    with bot.sessions() as s:
        new_id = s.scalars(select(Deviation.id).order_by(Deviation.id.desc())).first()
    assert f'"value": "{new_id}"' in text, text


def test_the_follow_up_is_guarded_limited_and_asks_for_an_outcome(bot: Bot) -> None:
    world = build_world(bot)
    coord = reader_for(bot, world, COORD)
    before = _stored(bot, world)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"note": f"Ring om barnet {pnr('120314', '123')}"}, "note", "personnummer"),
        ({"note": "x" * 1001}, "note", "1000 tecken"),
        ({"note": "   "}, "note", "utan namn"),
        ({"outcome": None}, "outcome", "Välj utfallet"),
    ]
    for change, field, words in cases:
        answer, _ = follow_up(bot, coord, world.deviation, **change)
        assert answer["response_action"] == "errors", answer
        assert field in answer["errors"] and words in answer["errors"][field], answer
    assert _stored(bot, world) == before


def test_members_who_are_no_coordinators_do_not_follow_up(bot: Bot) -> None:
    world = build_world(bot)
    before = _stored(bot, world)
    # A member of an agency it does not concern the reporter of: not shown.
    shown = open_button(bot, reader_for(bot, world, COVERED), world.deviation)
    assert DEVIATION not in shown and "samordnare och den rapporterande" in shown, shown
    # The reporter sees it but records nothing, even with a crafted submission (audited).
    reporter = reader_for(bot, world, NOT_COVERED)
    mark = last_id(bot)
    answer, _ = follow_up(bot, reporter, world.deviation)
    assert "samordnare" in json.dumps(answer, ensure_ascii=False), answer
    assert _stored(bot, world) == before
    refused = [(e.actor, (e.detail or {}).get("refused")) for e in refusals_since(bot, mark)]
    assert refused == [(NOT_COVERED, "not_coordinator")]


def test_outsiders_crafted_ids_are_refused_like_nothing_and_audited(bot: Bot) -> None:
    world = build_world(bot)
    before = _stored(bot, world)
    mark = last_id(bot)
    for who in (OTHER_FORUM, OTHER_WS, NON_MEMBER):
        r = reader_for(bot, world, who)
        shown = open_button(bot, r, world.deviation)
        assert NO_DEVIATION_SV in shown and DEVIATION not in shown, shown
        assert shown == open_button(bot, r, NOTHING), "the answer tells that it exists"
        answer, shown = follow_up(bot, r, world.deviation)
        again, shown_again = follow_up(bot, r, NOTHING)
        assert NO_DEVIATION_SV in json.dumps(answer, ensure_ascii=False), answer
        assert (answer, shown) == (again, shown_again), "the answer tells that it exists"
    assert _stored(bot, world) == before
    # Each outsider's attempts at it: once in the forum's log (a repeat within the minute is
    # not written again), as what they are.
    assert refusals_in(bot, mark, world.forum) == refused_once_each(
        ((OTHER_FORUM, "not_a_member"), (OTHER_WS, "no_forum_here"), (NON_MEMBER, "not_a_member")),
        object_type="deviation",
        object_ref=str(world.deviation),
        surface=SURFACE,
    )


def test_a_reporter_who_left_the_forum_is_not_told(bot: Bot) -> None:
    world = build_world(bot)
    with transaction(bot.sessions) as s:
        member = s.scalars(
            select(Member).where(
                Member.forum_id == world.forum, Member.slack_user_id == NOT_COVERED
            )
        ).one()
        member.active = False
    answer, _ = follow_up(bot, reader_for(bot, world, COORD), world.deviation)
    assert answer["response_action"] == "update", answer
    assert _stored(bot, world)[0] == NOTE
    dms = [c.args for c in bot.slack.calls if c.method == "chat.postMessage"]
    assert not [a for a in dms if a.get("channel") == NOT_COVERED], dms


# --- masking the follow-up's note ---------------------------------------------------------------

MASK_NOTE = "text_redact.deviation.follow_up_note"
REDACTED = "[maskerad]"


def _opened(bot: Bot, since: int) -> dict[str, Any]:
    """The last modal opened or pushed since call ``since``."""
    views = [
        c.args["view"] for c in bot.slack.calls[since:] if c.method in ("views.open", "views.push")
    ]
    assert views, bot.slack.calls[since:]
    return dict(views[-1])


def _buttons(view: dict[str, Any]) -> dict[str, str]:
    """The view's buttons: action_id → value."""
    return {
        e["action_id"]: e.get("value", "")
        for b in view.get("blocks", [])
        if b.get("type") == "actions"
        for e in b.get("elements", [])
    }


def test_a_coordinator_masks_the_follow_up_note_from_the_deviations_view(bot: Bot) -> None:
    """Identifying text the guard cannot know (a name) slipped into what was done or agreed.
    The coordinator's view of the deviation offers "Maskera" for it: they are asked first,
    the note then reads [maskerad] for everyone (the reporter's view too), the view beneath
    is shown anew (its form no longer holds the old note to be saved back), and the log
    says that the note was masked and by whom, never what it said. The reporter, who did
    not write the note, neither masks nor corrects it with a crafted button."""
    world = build_world(bot)
    coord = reader_for(bot, world, COORD)
    follow_up(bot, coord, world.deviation)
    since = len(bot.slack.calls)
    open_button(bot, coord, world.deviation)
    view = _opened(bot, since)
    assert NOTE in json.dumps(view, ensure_ascii=False)
    buttons = _buttons(view)
    assert buttons.get(MASK_NOTE) == f"deviation.follow_up_note:{world.deviation}", buttons
    # What happened is masked the same way, from the same view.
    assert buttons.get("text_redact.deviation.text") == f"deviation.text:{world.deviation}"
    # The button asks first, showing the note and what it will read as.
    since = len(bot.slack.calls)
    coord.driver.block_action(
        MASK_NOTE,
        user=COORD,
        value=buttons[MASK_NOTE],
        view={"id": "VDEV", "private_metadata": view["private_metadata"]},
    )
    bot.wait_idle()
    ask = _opened(bot, since)
    assert ask["callback_id"] == "text_redact_submit", ask
    assert NOTE in json.dumps(ask, ensure_ascii=False)
    mark = last_id(bot)
    since = len(bot.slack.calls)
    response = coord.driver.view_submission(
        "text_redact_submit",
        {},
        user=COORD,
        private_metadata=ask["private_metadata"],
        view={"previous_view_id": "VDEV"},
    )
    bot.wait_idle()
    assert "Maskerat." in json.dumps(response.json(), ensure_ascii=False)
    assert _stored(bot, world)[0] == REDACTED
    # The view beneath, shown anew: the note masked, no old text in its form.
    beneath = [
        c.args["view"]
        for c in bot.slack.calls[since:]
        if c.method == "views.update" and c.args.get("view_id") == "VDEV"
    ]
    assert beneath, bot.slack.calls[since:]
    shown = json.dumps(beneath[-1], ensure_ascii=False)
    assert REDACTED in shown and NOTE not in shown, shown
    assert MASK_NOTE not in _buttons(beneath[-1])  # nothing more to mask there
    with bot.sessions() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.id > mark)).all()
    masked = [e for e in events if e.action is AuditAction.UPDATE]
    assert [(e.actor, e.object_type, e.object_ref, e.detail) for e in masked] == [
        (
            COORD,
            "deviation",
            str(world.deviation),
            {"field": "follow_up_note", "change": "redacted"},
        )
    ]
    assert NOTE not in json.dumps([e.detail for e in events], ensure_ascii=False)
    # The reporter sees it masked, and is offered no masking.
    reporter = reader_for(bot, world, NOT_COVERED)
    since = len(bot.slack.calls)
    open_button(bot, reporter, world.deviation)
    theirs = _opened(bot, since)
    assert REDACTED in json.dumps(theirs, ensure_ascii=False)
    assert not [a for a in _buttons(theirs) if a.startswith("text_")], theirs
    # Crafted buttons of the reporter (the note is not theirs): refused, nothing opens.
    with transaction(bot.sessions) as s:
        d = s.get(Deviation, world.deviation)
        assert d is not None
        d.follow_up_note = NOTE  # written again, to see that nothing changes it
    for action in (MASK_NOTE, "text_edit.deviation.follow_up_note"):
        since = len(bot.slack.calls)
        reporter.driver.block_action(
            action,
            user=NOT_COVERED,
            value=f"deviation.follow_up_note:{world.deviation}",
            view={"id": "VREP", "private_metadata": theirs["private_metadata"]},
        )
        bot.wait_idle()
        pushed = [c.args["view"] for c in bot.slack.calls[since:] if c.method == "views.push"]
        assert all(
            v.get("callback_id") not in ("text_redact_submit", "text_edit_submit") for v in pushed
        ), pushed
    assert _stored(bot, world)[0] == NOTE


def test_what_runs_after_a_save_knows_it_saved_without_asking_the_database(bot: Bot) -> None:
    """After the follow-up is saved, App Home is published anew, and after the note is
    masked the deviation's view beneath is shown anew, each told by the submission that it
    saved (as the consent's refresh is), not by reading the deviation again to find out. A
    refused follow-up publishes no App Home."""
    world = build_world(bot)
    coord = reader_for(bot, world, COORD)
    since = len(bot.slack.calls)
    follow_up(bot, reader_for(bot, world, NOT_COVERED), world.deviation)  # refused
    assert not [c for c in bot.slack.calls[since:] if c.method == "views.publish"]
    with statements(bot.sessions) as sent:
        _answer, shown = follow_up(bot, coord, world.deviation)
    assert '"views.publish"' in shown and "Avvikelser att följa upp" not in shown, shown
    asked = [s for s in sent if s.startswith("SELECT deviations.id FROM deviations")]
    assert asked == [], asked
    since = len(bot.slack.calls)
    open_button(bot, coord, world.deviation)
    view = _opened(bot, since)
    coord.driver.block_action(
        MASK_NOTE,
        user=COORD,
        value=_buttons(view)[MASK_NOTE],
        view={"id": "VDEV", "private_metadata": view["private_metadata"]},
    )
    bot.wait_idle()
    ask = _opened(bot, since)
    since = len(bot.slack.calls)
    with statements(bot.sessions) as sent:
        coord.driver.view_submission(
            "text_redact_submit",
            {},
            user=COORD,
            private_metadata=ask["private_metadata"],
            view={"previous_view_id": "VDEV"},
        )
        bot.wait_idle()
    beneath = [
        c
        for c in bot.slack.calls[since:]
        if c.method == "views.update" and c.args.get("view_id") == "VDEV"
    ]
    assert beneath, bot.slack.calls[since:]
    asked = [s for s in sent if s.startswith("SELECT deviations.follow_up_note FROM")]
    assert asked == [], asked
