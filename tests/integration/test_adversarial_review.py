"""The adversarial review of issue #14: crafted, correctly signed requests against the real
app, as an attacker would send them.

Three attackers against one forum (the world of test_disclosure_table): the admin of another
forum in the same workspace and a user of another workspace, who put their own forum's id in
``private_metadata`` (or none) and this forum's case, action, round, ground, member, meeting
and item ids in button values and modal metadata; and a member of the forum whose agency the
consent does not cover, who forges what the raising agency or a coordinator may send. None of
them changes anything (every row of the forum's tables is compared before and after) and none
of them is shown a detail. A refused look at details is audited even though the surface
answers it with an error (the rule writes the refused look after the rollback).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import (
    AuditEvent,
    Base,
    LegalGround,
    Member,
)
from tests.conftest import SIGNING_SECRET, Bot
from tests.integration.test_disclosure_table import (
    ACTION_TEXT,
    CANCEL,
    COMMENT,
    CONSENT_MARK,
    COORD,
    COVERED,
    DEVIATION,
    FAMILY,
    FEEDBACK,
    GROUND_NOTE,
    ITEM,
    NOT_COVERED,
    OTHER_FORUM,
    OTHER_WS,
    OUTPUT_METHODS,
    RAISER,
    SUMMARY,
    Reader,
    World,
    build_world,
    reader_for,
)
from tests.support.slack_driver import (
    SlackDriver,
    date_value,
    plain_value,
    select_value,
)

SECRETS = (SUMMARY, ACTION_TEXT, COMMENT, GROUND_NOTE, DEVIATION, CANCEL, ITEM, FEEDBACK, FAMILY)
# Tables whose rows an attack must not change (the audit log may grow: refused looks).
WATCHED = (
    "cases",
    "case_events",
    "consents",
    "legal_grounds",
    "actions",
    "action_events",
    "rating_rounds",
    "ratings",
    "members",
    "meetings",
    "agenda_items",
    "deviations",
    "family_views",
    "feedback_surveys",
)

Send = Callable[[Bot, World, Reader, dict[str, int]], Any]


def _ids(bot: Bot, world: World) -> dict[str, int]:
    with bot.sessions() as s:
        ground = s.scalars(select(LegalGround.id)).one()
        member = s.scalar(
            select(Member.id).where(Member.forum_id == world.forum, Member.slack_user_id == RAISER)
        )
    assert member is not None
    agencies = _agencies(bot, world)
    return {"ground": ground, "member": member, **agencies}


def _agencies(bot: Bot, world: World) -> dict[str, int]:
    from storage.models import Agency

    with bot.sessions() as s:
        rows = s.execute(select(Agency.name, Agency.id).where(Agency.forum_id == world.forum))
        return {f"agency:{name}": agency_id for name, agency_id in rows}


def _snapshot(bot: Bot) -> dict[str, list[tuple[Any, ...]]]:
    with bot.sessions() as s:
        out: dict[str, list[tuple[Any, ...]]] = {}
        for name in WATCHED:
            table = Base.metadata.tables[name]
            rows = s.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[name] = [tuple(str(v) for v in row) for row in rows]
        return out


def _meta(r: Reader, **extra: Any) -> str:
    return json.dumps({"locale": "sv", "forum_id": r.forum_id, **extra})


def _view(r: Reader, **extra: Any) -> dict[str, Any]:
    return {"id": "V77", "private_metadata": _meta(r, **extra)}


# --- the attacks ----------------------------------------------------------------------------


def close_case(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    return r.driver.view_submission(
        "case_close",
        {
            "outcome": {"outcome": plain_value("Avslutat av angripare")},
            "effect": {"effect": select_value("yes")},
        },
        user=r.user,
        private_metadata=_meta(r, case_id=w.case),
    )


def case_status(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    return r.driver.block_action(
        "case_status_discussed",
        user=r.user,
        value=f"{w.case}:discussed",
        view=_view(r, case_id=w.case),
    )


def withdraw_consent(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    return r.driver.block_action(
        "case_withdraw_consent", user=r.user, value=str(w.case), view=_view(r, case_id=w.case)
    )


def correct_summary(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    return r.driver.view_submission(
        "text_edit_submit",
        {"text": {"text": plain_value("Skriven av angriparen")}},
        user=r.user,
        private_metadata=_meta(r, field="case.summary", object_id=w.case),
    )


def redact_action(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    return r.driver.view_submission(
        "text_redact_submit",
        {},
        user=r.user,
        private_metadata=_meta(r, field="action.description", object_id=w.action),
    )


def redact_cancel_reason(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    return r.driver.view_submission(
        "text_redact_submit",
        {},
        user=r.user,
        private_metadata=_meta(r, field="meeting.note", object_id=w.meeting),
    )


def record_ground(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    return r.driver.view_submission(
        "privacy_legal_ground",
        {
            "agency": {"agency": select_value(str(ids["agency:Polis"]))},
            "ground": {"ground": select_value("necessary")},
            "decided_on": {"decided_on": date_value(bot.clock.now().date())},
            "note": {"note": plain_value("Grund av angriparen")},
        },
        user=r.user,
        private_metadata=_meta(r, case_id=w.case),
    )


def end_ground(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    return r.driver.block_action(
        "privacy_legal_ground_end", user=r.user, value=str(ids["ground"]), view=_view(r)
    )


def legal_hold(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    return r.driver.view_submission(
        "privacy_legal_hold",
        {"reason": {"reason": plain_value("Tvist om handlingar")}},
        user=r.user,
        private_metadata=_meta(r, case_id=w.case),
    )


def close_round(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    return r.driver.block_action(
        "rating_close_early", user=r.user, value=str(w.round), channel=r.channel
    )


def extend_round(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    return r.driver.block_action(
        "rating_extend",
        user=r.user,
        channel=r.channel,
        selected_option={"text": {"type": "plain_text", "text": "1"}, "value": f"{w.round}:1"},
    )


def open_rating(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    return r.driver.block_action(
        "rating_open",
        user=r.user,
        value=f"{w.round}:{ids['agency:Polis']}",
        channel=r.channel,
    )


def remove_member(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    return r.driver.block_action(
        "member_remove", user=r.user, value=str(ids["member"]), view=_view(r)
    )


def action_done(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    return r.driver.block_action("action_done", user=r.user, value=str(w.action), channel=r.channel)


def postpone_action(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    later = bot.clock.now().date() + dt.timedelta(days=40)
    return r.driver.view_submission(
        "action_postpone",
        {
            "due_on": {"due_on": date_value(later)},
            "reason": {"reason": plain_value("Väntar på nästa möte")},
        },
        user=r.user,
        private_metadata=_meta(r, action_id=w.action),
    )


def add_item_to_their_meeting(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    with bot.sessions() as s:
        from storage.models import AgendaItem

        meeting = s.scalar(select(AgendaItem.meeting_id).where(AgendaItem.id == w.item))
    return r.driver.view_submission(
        "agenda_item_add",
        {
            "text": {"text": plain_value("Inskickad av angriparen")},
            "meeting": {"meeting": select_value(str(meeting))},
        },
        user=r.user,
        private_metadata=_meta(r),
    )


def family_view(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    return r.driver.block_action(
        "feedback_family_open", user=r.user, value=str(w.case), channel=r.channel
    )


def case_history_in_modal(bot: Bot, w: World, r: Reader, ids: dict[str, int]) -> Any:
    """The case modal's own buttons, with the case id in the metadata of a forged view."""
    return r.driver.block_action(
        "case_legal_hold", user=r.user, value=str(w.case), view=_view(r, case_id=w.case)
    )


OUTSIDER_ATTACKS: dict[str, Send] = {
    "close a case": close_case,
    "change a case's status": case_status,
    "withdraw consent": withdraw_consent,
    "correct a summary": correct_summary,
    "mask an action": redact_action,
    "mask a cancel reason": redact_cancel_reason,
    "record a legal ground": record_ground,
    "end a legal ground": end_ground,
    "set a legal hold": legal_hold,
    "open the legal-hold modal": case_history_in_modal,
    "close a rating round": close_round,
    "extend a rating round": extend_round,
    "open a rating": open_rating,
    "remove a member": remove_member,
    "mark an action done": action_done,
    "postpone an action": postpone_action,
    "add to another forum's agenda": add_item_to_their_meeting,
    "open the family view": family_view,
}

# A member of the forum whose agency the consent does not cover (Polis, role member).
MEMBER_ATTACKS: dict[str, Send] = {
    "close a case": close_case,
    "withdraw consent": withdraw_consent,
    "correct a summary": correct_summary,
    "mask an action": redact_action,
    "mask a cancel reason": redact_cancel_reason,
    "record a legal ground": record_ground,
    "end a legal ground": end_ground,
    "set a legal hold": legal_hold,
    "close a rating round": close_round,
    "extend a rating round": extend_round,
    "remove a member": remove_member,
    "mark an action done": action_done,
    "postpone an action": postpone_action,
    "open the family view": family_view,
}


def _shown(bot: Bot, send: Callable[[], Any]) -> str:
    """What the bot showed: its direct answer (an ack's view or field errors) and the Slack
    calls and files that followed. A submission answered in its ack is complete at once (its
    lazy listener acts only on success); anything else waits until the bot's listeners are
    done (a refusal may show nothing at all)."""
    before = len(bot.slack.calls)
    uploads_before = set(bot.slack.uploads)
    answer = send()
    body = getattr(answer, "body", "") or ""
    if '"response_action"' not in body:
        bot.wait_idle()  # every listener the request started is done, with all its calls
    calls = [c for c in bot.slack.calls[before:] if c.method in OUTPUT_METHODS]
    text = body + json.dumps([c.args for c in calls], ensure_ascii=False)
    for key, data in bot.slack.uploads.items():
        if key not in uploads_before:
            text += data.decode("utf-8", "replace")
    return text


def _open_round(bot: Bot, world: World) -> None:
    """The round is open (as on the day agencies rate), so closing or extending could work."""
    from storage.db import transaction
    from storage.models import Meeting, RatingRound, RatingRoundStatus

    with transaction(bot.sessions) as s:
        rating_round = s.get(RatingRound, world.round)
        assert rating_round is not None
        meeting = s.get(Meeting, rating_round.meeting_id)
        assert meeting is not None
        rating_round.status = RatingRoundStatus.OPEN
        # Two days before the meeting: a day's extension is allowed.
        rating_round.deadline_at = meeting.starts_at - dt.timedelta(days=2)


def _run(
    bot: Bot, world: World, user: str, attacks: dict[str, Send], *, r: Reader | None = None
) -> None:
    _open_round(bot, world)
    ids = _ids(bot, world)
    r = r or reader_for(bot, world, user)
    for name, send in attacks.items():
        before = _snapshot(bot)
        shown = _shown(bot, lambda send=send: send(bot, world, r, ids))  # type: ignore[misc]
        after = _snapshot(bot)
        changed = {t for t in WATCHED if before[t] != after[t]}
        assert not changed, f"{user} could {name}: {sorted(changed)} changed"
        leaked = [s for s in SECRETS if s in shown]
        assert not leaked, f"{user} tried to {name} and was shown {leaked}"
    bot.slack.assert_no_violations()


@pytest.mark.parametrize("user", [OTHER_FORUM, OTHER_WS])
def test_ids_of_another_forum_or_workspace_change_and_show_nothing(bot: Bot, user: str) -> None:
    """The admin of another forum, and a user of another workspace, name their own forum in
    the metadata and this forum's ids in the values: refused, nothing changed or shown."""
    _run(bot, build_world(bot), user, OUTSIDER_ATTACKS)


def test_a_member_the_consent_does_not_cover_cannot_forge_the_raisers_requests(bot: Bot) -> None:
    _run(bot, build_world(bot), NOT_COVERED, MEMBER_ATTACKS)


def test_an_outsider_naming_this_forum_and_its_channel_is_not_a_member(bot: Bot) -> None:
    """The admin of another forum puts this forum's id in the metadata and sends from its
    channel: the membership boundary holds (not a member here, whatever they are elsewhere)."""
    world = build_world(bot)
    r = Reader(OTHER_FORUM, bot.driver, "C0001", world.forum)
    _run(bot, world, OTHER_FORUM, OUTSIDER_ATTACKS, r=r)


def test_the_raiser_writing_from_another_workspace_gets_nothing(bot: Bot) -> None:
    """The same Slack user id (an Enterprise Grid user, or a forged one) sends from another
    workspace with this forum's id and channel: the workspace boundary holds, even for the
    raising agency, and App Home there lists nothing of this forum."""
    world = build_world(bot)
    other = SlackDriver(
        bot.url, SIGNING_SECRET, team_id="T0002", response_url_base=bot.slack.response_url_base
    )
    r = Reader(RAISER, other, "C0001", world.forum)
    attacks = {
        **MEMBER_ATTACKS,
        "open the case": lambda bot, w, r, ids: r.driver.block_action(
            "case_open", user=r.user, value=str(w.case), channel=r.channel
        ),
        "open App Home": lambda bot, w, r, ids: r.driver.app_home_opened(user=r.user),
        "list the actions": lambda bot, w, r, ids: r.driver.command(
            "insatser forum alla", user=r.user, channel=r.channel
        ),
    }
    _run(bot, world, RAISER, attacks, r=r)


def test_the_same_requests_from_whom_they_belong_to_do_change_the_forum(bot: Bot) -> None:
    """The control: sent by the raising agency, a coordinator or a member with their own
    forum's metadata, the very payloads above reach the domain and change the forum, so the
    refusals above are the rule holding, not a payload the app could not read."""
    world = build_world(bot)
    _open_round(bot, world)
    ids = _ids(bot, world)
    legit: list[tuple[str, str, Send, str]] = [
        ("change a case's status", RAISER, case_status, "cases"),
        ("withdraw consent", RAISER, withdraw_consent, "consents"),
        ("correct a summary", RAISER, correct_summary, "cases"),
        ("set a legal hold", COORD, legal_hold, "cases"),
        ("close a case", RAISER, close_case, "cases"),
        ("mask a cancel reason", COORD, redact_cancel_reason, "meetings"),
        ("record a legal ground", COORD, record_ground, "legal_grounds"),
        ("extend a rating round", COORD, extend_round, "rating_rounds"),
        ("close a rating round", COORD, close_round, "rating_rounds"),
        ("postpone an action", RAISER, postpone_action, "actions"),
        ("mark an action done", RAISER, action_done, "actions"),
        ("add to the agenda", COVERED, add_item_to_their_meeting, "agenda_items"),
        ("remove a member", COORD, remove_member, "members"),
    ]
    failed = []
    for name, user, send, table in legit:
        r = reader_for(bot, world, user)
        before = _snapshot(bot)[table]
        shown = _shown(bot, lambda send=send, r=r: send(bot, world, r, ids))  # type: ignore[misc]
        if _snapshot(bot)[table] == before:
            failed.append(f"{name}: {shown[-400:]}")
    assert not failed, f"these requests never reached the domain: {failed}"


# --- refused looks are audited --------------------------------------------------------------


def _rating_comments(bot: Bot, w: World, r: Reader) -> Any:
    return r.driver.block_action(
        "rating_comments_open", user=r.user, value=str(w.round), channel=r.channel
    )


def _grounds(bot: Bot, w: World, r: Reader) -> Any:
    return r.driver.command(f"grund {w.reference}", user=r.user, channel=r.channel)


def _case_edit(bot: Bot, w: World, r: Reader) -> Any:
    return r.driver.block_action(
        "text_edit", user=r.user, value=f"case.summary:{w.case}", channel=r.channel
    )


def _consents(bot: Bot, w: World, r: Reader) -> Any:
    return r.driver.command(f"samtycke {w.reference}", user=r.user, channel=r.channel)


def _deviation_edit(bot: Bot, w: World, r: Reader) -> Any:
    return r.driver.block_action(
        "text_edit", user=r.user, value=f"deviation.text:{w.deviation}", channel=r.channel
    )


def _deviation_follow_up(bot: Bot, w: World, r: Reader) -> Any:
    return r.driver.block_action(
        "deviation_open", user=r.user, value=str(w.deviation), channel="D0001"
    )


# surface: (how to look, who looks: a member of the forum the rule refuses there)
REFUSED_LOOKS: dict[str, tuple[Callable[[Bot, World, Reader], Any], str]] = {
    "rating_comments": (_rating_comments, NOT_COVERED),
    "legal_grounds": (_grounds, NOT_COVERED),
    "case_edit": (_case_edit, NOT_COVERED),
    "consent_register": (_consents, NOT_COVERED),
    "deviation_edit": (_deviation_edit, COVERED),  # reported by another agency
    "deviation_follow_up": (_deviation_follow_up, COVERED),  # likewise
}


@pytest.mark.parametrize("surface", sorted(REFUSED_LOOKS))
def test_a_refused_look_at_details_is_audited_as_refused(bot: Bot, surface: str) -> None:
    """A member of the forum asks for details the rule withholds (a round's notes, a case's
    legal grounds or text to correct, its consents): the answer is a refusal, and the log
    still says who looked, where, and that no details were shown."""
    world = build_world(bot)
    look, user = REFUSED_LOOKS[surface]
    r = reader_for(bot, world, user)
    with bot.sessions() as s:
        mark = s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    shown = _shown(bot, lambda: look(bot, world, r))
    assert not [s for s in SECRETS if s in shown and s != CONSENT_MARK]
    with bot.sessions() as s:
        logged = s.scalars(
            select(AuditEvent).where(AuditEvent.id > mark, AuditEvent.actor == user)
        ).all()
    looks = [e for e in logged if (e.detail or {}).get("surface") == surface]
    assert looks, f"the refused look at {surface} was not audited"
    assert all((e.detail or {}).get("details") is False for e in looks)
    assert all(e.forum_id == world.forum for e in looks)
    bot.slack.assert_no_violations()


# --- retention must not turn a case's action into forum text ---------------------------------


def test_a_purged_cases_actions_do_not_become_forum_text(bot: Bot) -> None:
    """Retention removes a closed case while its action stays (actions keep their own, longer
    period, for the statistics). The action loses its link to the case, and an action
    without a case is forum text for every member: so its text about the case goes with the
    case, and a member of an agency the consent never covered is not shown it afterwards, in
    the list, App Home or the action plan."""
    from storage.db import transaction
    from storage.models import Action, ActionEvent, Case, Forum

    world = build_world(bot)
    with transaction(bot.sessions) as s:
        forum = s.get(Forum, world.forum)
        assert forum is not None
        forum.settings = {**(forum.settings or {}), "retention": {"closed_cases": 30}}
    raiser = reader_for(bot, world, RAISER)
    answer = close_case(bot, world, raiser, _ids(bot, world))
    assert '"errors"' not in answer.body, answer.body
    bot.clock.set(bot.clock.now() + dt.timedelta(days=60))
    bot.run_due_work()
    with bot.sessions() as s:
        assert s.get(Case, world.case) is None, "the closed case is past its period"
        action = s.get(Action, world.action)
        assert action is not None and action.case_id is None  # kept for the statistics
        notes = s.scalars(select(ActionEvent.note).where(ActionEvent.action_id == action.id))
        assert not [n for n in notes if n and ACTION_TEXT in n]
    r = reader_for(bot, world, NOT_COVERED)
    for name, send in {
        "the forum's action list": lambda: r.driver.command(
            "insatser forum alla", user=r.user, channel=r.channel
        ),
        "the action's detail": lambda: r.driver.block_action(
            "action_history", user=r.user, value=str(world.action), channel=r.channel
        ),
        "the action plan": lambda: r.driver.command(
            "åtgärdsplan 2026 csv", user=r.user, channel=r.channel
        ),
    }.items():
        shown = _shown(bot, send)
        assert ACTION_TEXT not in shown, f"{name} shows the purged case's action text"
    bot.slack.assert_no_violations()
