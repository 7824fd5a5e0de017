"""The disclosure rule, surface by surface and reader by reader, through the real app.

One table: every surface that can show details (domain.disclosure.SURFACES) and every
surface that shows references only (REFERENCE_ONLY), against seven readers — the raising
agency, an agency the consent covers, one it does not, a coordinator of another agency, a
member of another forum, a non-member and a user of another workspace. Readers outside the
forum send crafted payloads (their own forum's id with this forum's case and action ids).
The test fails when a surface exists that the table does not list.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from domain import actions as action_service
from domain import disclosure
from domain import forums as fs
from domain.actions import ActionDraft, create_action
from domain.actions.rights import _load as load_action
from domain.agenda import add_item
from domain.cases import CaseDraft, raise_case, report_deviation
from domain.legal_grounds import GroundDraft, record_ground
from storage.db import transaction
from storage.models import (
    Area,
    AuditEvent,
    ConsentGiver,
    Forum,
    Meeting,
    MeetingStatus,
    Rating,
    RatingRound,
    Role,
    SipStatus,
)
from tests.conftest import SIGNING_SECRET, Bot
from tests.support.forums import forum_draft
from tests.support.slack_driver import SlackDriver

RAISER, COVERED, NOT_COVERED, COORD = "UR", "UC", "UN", "UK"
OTHER_FORUM, NON_MEMBER, OTHER_WS = "UB", "UX", "UW"
# The outsiders the refused-door tests send, in this order, and why each is refused: another
# forum's admin and another workspace's user (the object is in no forum of theirs), and a
# member of no forum in this workspace.
OUTSIDERS_REFUSED = (
    (OTHER_FORUM, "other_forum"),
    (OTHER_WS, "other_forum"),
    (NON_MEMBER, "not_a_member"),
)
READERS = (RAISER, COVERED, NOT_COVERED, COORD, OTHER_FORUM, NON_MEMBER, OTHER_WS)
SUMMARY = "Hemlig sammanfattning om skolfrånvaro"
ACTION_TEXT = "Hemlig insatstext om hembesök"
COMMENT = "Hemlig kommentar om torget"
GROUND_NOTE = "Hemlig anteckning om grunden"
DEVIATION = "Hemlig avvikelsetext om mötet"
CANCEL = "Hemligt skäl till inställt möte"
ITEM = "Hemlig övrig fråga om lokalen"
CONSENT_MARK = "Vårdnadshavare"
FEEDBACK = "Hemlig återkoppling om samarbetet"
FAMILY = "Hemlig syn från familjen"
MINUTE = "Hemligt beslut om stödsamtal"


@dataclass
class World:
    forum: int
    other_forum: int
    other_ws_forum: int
    case: int
    reference: str
    action: int
    round: int
    deviation: int
    meeting: int
    item: int
    held: int  # a meeting already held, with the case in its minutes


def build_world(bot: Bot) -> World:
    clock = bot.clock
    with transaction(bot.sessions) as s:
        forum = fs.create_forum(
            s,
            clock,
            team_id="T0001",
            channel_id="C0001",
            actor=COORD,
            draft=forum_draft(
                agencies=["Grundskola", "Elevhälsa", "Socialtjänst/IFO", "Polis"],
                areas=["Torget"],
            ),
        )
        ag = {a.name: a.id for a in forum.agencies}
        for user, agency in ((RAISER, "Elevhälsa"), (COVERED, "Socialtjänst/IFO")):
            fs.add_members(
                s,
                clock,
                forum=forum,
                actor=COORD,
                slack_user_ids=[user],
                agency_id=ag[agency],
                role=Role.MEMBER,
            )
        fs.add_members(
            s,
            clock,
            forum=forum,
            actor=COORD,
            slack_user_ids=[NOT_COVERED],
            agency_id=ag["Polis"],
            role=Role.MEMBER,
        )
        other = fs.create_forum(
            s,
            clock,
            team_id="T0001",
            channel_id="C0002",
            actor=OTHER_FORUM,
            draft=forum_draft(name="OSF", code="OSF"),
        )
        other_ws = fs.create_forum(
            s,
            clock,
            team_id="T0002",
            channel_id="C0009",
            actor=OTHER_WS,
            draft=forum_draft(),
        )
        raiser = fs.require_member(s, forum=forum, slack_user_id=RAISER)
        today = clock.now().date()
        case, _ = raise_case(
            s,
            clock,
            access=raiser,
            draft=CaseDraft(
                summary=SUMMARY,
                concerns=["school_absence"],
                age_band="13-15",
                agency_ids=[],
                consent_giver=ConsentGiver.GUARDIANS,
                consent_agency_ids=[ag["Elevhälsa"], ag["Socialtjänst/IFO"]],
                consent_given_on=today,
                consent_expires_on=today + dt.timedelta(days=60),
                sip=SipStatus.NOT_RELEVANT,
                meeting=None,
            ),
        )
        action, _ = create_action(
            s,
            clock,
            access=raiser,
            draft=ActionDraft(
                description=ACTION_TEXT,
                agency_id=ag["Elevhälsa"],
                owner=RAISER,
                due_on=today + dt.timedelta(days=10),
                case_reference=case.reference,
            ),
        )
        coord = fs.require_member(s, forum=forum, slack_user_id=COORD)
        record_ground(
            s,
            clock,
            access=coord,
            case_id=case.id,
            draft=GroundDraft(
                agency_id=ag["Polis"], ground="necessary", decided_on=today, note=GROUND_NOTE
            ),
        )
        # The ground is for Polis; end it so NOT_COVERED stays not covered (its note stays).
        from storage.models import LegalGround

        ground = s.scalars(select(LegalGround)).one()
        ground.ended_at, ground.ended_by = clock.now(), COORD
        police = fs.require_member(s, forum=forum, slack_user_id=NOT_COVERED)
        deviation = report_deviation(
            s,
            clock,
            access=police,
            agency_ids=[ag["Grundskola"]],
            kind="information",
            text=DEVIATION,
            case_reference=None,
        )
        meetings = s.scalars(
            select(Meeting).where(Meeting.forum_id == forum.id).order_by(Meeting.starts_at)
        ).all()
        cancelled, planned = meetings[1], meetings[0]
        cancelled.status, cancelled.note = MeetingStatus.CANCELLED, CANCEL
        covered = fs.require_member(s, forum=forum, slack_user_id=COVERED)
        item, _ = add_item(s, clock, access=covered, text=ITEM, meeting_id=planned.id)
        area = s.scalars(select(Area).where(Area.forum_id == forum.id)).one()
        rating_round = RatingRound(
            forum_id=forum.id,
            meeting_id=planned.id,
            opens_at=clock.now(),
            deadline_at=clock.now() + dt.timedelta(days=1),
        )
        s.add(rating_round)
        s.flush()
        s.add(
            Rating(
                round_id=rating_round.id,
                agency_id=ag["Polis"],
                area_id=area.id,
                level=3,
                comment=COMMENT,
                rated_by=NOT_COVERED,
                rated_at=clock.now(),
            )
        )
        from storage.models import FamilyView, FeedbackSurvey

        s.add(
            FeedbackSurvey(
                forum_id=forum.id,
                case_id=case.id,
                agency_id=ag["Elevhälsa"],
                answered_at=clock.now(),
                helped=4,
                right_agencies=4,
                worth_raising=5,
                comment=FEEDBACK,
            )
        )
        s.add(
            FamilyView(
                forum_id=forum.id,
                case_id=case.id,
                recorded_by=RAISER,
                recorded_at=clock.now(),
                heard="yes",
                helped="partly",
                comment=FAMILY,
            )
        )
        # A meeting held last week with the case on its agenda and in its minutes: what
        # was agreed shows before the next meeting (Inför mötet) and in the minutes modal.
        held = Meeting(
            forum_id=forum.id,
            occurrence=clock.now() - dt.timedelta(days=7),
            starts_at=clock.now() - dt.timedelta(days=7),
            ends_at=clock.now() - dt.timedelta(days=7, hours=-2),
            status=MeetingStatus.HELD,
            has_situation_picture=False,
            agenda_version=0,
        )
        s.add(held)
        s.flush()
        from storage.models import AgendaItem, AgendaItemKind, MinuteEntry

        s.add(
            AgendaItem(
                meeting_id=held.id,
                kind=AgendaItemKind.NEW_CASE,
                case_id=case.id,
                position=1,
                added_at=clock.now(),
                discussed=True,
            )
        )
        s.add(
            MinuteEntry(
                meeting_id=held.id,
                case_id=case.id,
                decision=MINUTE,
                recorded_by=COORD,
                recorded_at=clock.now(),
            )
        )
        return World(
            forum=forum.id,
            other_forum=other.id,
            other_ws_forum=other_ws.id,
            case=case.id,
            reference=case.reference,
            action=action.id,
            round=rating_round.id,
            deviation=deviation.id,
            meeting=cancelled.id,
            item=item.id,
            held=held.id,
        )


# --- driving the app as one reader --------------------------------------------------------


@dataclass
class Reader:
    user: str
    driver: SlackDriver
    channel: str
    forum_id: int  # the forum the reader's payloads name (their own, for outsiders)


def reader_for(bot: Bot, world: World, user: str) -> Reader:
    if user == OTHER_WS:
        driver = SlackDriver(
            bot.url, SIGNING_SECRET, team_id="T0002", response_url_base=bot.slack.response_url_base
        )
        return Reader(user, driver, "C0009", world.other_ws_forum)
    if user == OTHER_FORUM:
        return Reader(user, bot.driver, "C0002", world.other_forum)
    return Reader(user, bot.driver, "C0001", world.forum)


OUTPUT_METHODS = (
    "views.open",
    "views.push",
    "views.update",
    "views.publish",
    "response_url",
    "chat.postMessage",
    "files.completeUploadExternal",
)


def output_of(bot: Bot, send: Callable[[], Any]) -> str:
    """Everything the bot showed after ``send`` (modals, replies, DMs, files), as text."""
    before = len(bot.slack.calls)
    uploads_before = set(bot.slack.uploads)
    returned = send()
    if isinstance(returned, str):  # a surface read without Slack (the rows of a DM)
        return returned
    bot.wait_idle()  # every answer to it has arrived (lazy listeners and their posts)
    calls = [c for c in bot.slack.calls[before:] if c.method in OUTPUT_METHODS]
    text = json.dumps([c.args for c in calls], ensure_ascii=False)
    for key, data in bot.slack.uploads.items():
        if key not in uploads_before:
            text += data.decode("utf-8", "replace")
    return text


def view(r: Reader) -> dict[str, Any]:
    return {"id": "V9", "private_metadata": json.dumps({"forum_id": r.forum_id})}


def command(text: str) -> Callable[[Bot, World, Reader], Any]:
    def send(bot: Bot, world: World, r: Reader) -> Any:
        return r.driver.command(text.format(ref=world.reference), user=r.user, channel=r.channel)

    return send


def button(action_id: str, value: Callable[[World], str], *, modal: bool = False) -> Any:
    def send(bot: Bot, world: World, r: Reader) -> Any:
        return r.driver.block_action(
            action_id,
            user=r.user,
            value=value(world),
            channel=r.channel,
            view=view(r) if modal else None,
        )

    return send


def home(bot: Bot, world: World, r: Reader) -> Any:
    return r.driver.app_home_opened(user=r.user)


def dm_rows(bot: Bot, world: World, r: Reader) -> str:
    """The rows a DM to this reader would carry (reminder, digest, hand-over)."""
    with transaction(bot.sessions) as s:
        forum = s.get(Forum, world.forum)
        assert forum is not None
        action = load_action(s, world.action)
        rows = action_service.rows_for_user(s, bot.clock, forum, r.user, [action])
        return json.dumps([row.description for row in rows], ensure_ascii=False)


@dataclass(frozen=True)
class Row:
    send: Callable[[Bot, World, Reader], Any]
    secret: str
    sees: frozenset[str]  # the readers who get the details


def sees(*users: str) -> frozenset[str]:
    return frozenset(users)


CASE_READERS = sees(RAISER, COVERED)
TABLE: dict[str, Row] = {
    "case_modal": Row(button("case_open", lambda w: str(w.case)), SUMMARY, CASE_READERS),
    "case_edit": Row(
        button("text_edit", lambda w: f"case.summary:{w.case}", modal=True), SUMMARY, sees(RAISER)
    ),
    "case_actions": Row(button("case_open", lambda w: str(w.case)), ACTION_TEXT, CASE_READERS),
    "action_list": Row(command("insatser forum alla"), ACTION_TEXT, CASE_READERS),
    "action_detail": Row(
        button("action_history", lambda w: str(w.action)), ACTION_TEXT, CASE_READERS
    ),
    # The card's "more time" modal opens only for whom may change the action (the owning
    # agency): a covered agency may read the text elsewhere but is refused before it.
    "action_card": Row(
        button("action_more_time", lambda w: str(w.action)), ACTION_TEXT, sees(RAISER)
    ),
    "action_edit": Row(
        button("text_edit", lambda w: f"action.description:{w.action}", modal=True),
        ACTION_TEXT,
        sees(RAISER),
    ),
    "action_dm": Row(dm_rows, ACTION_TEXT, CASE_READERS),
    "app_home": Row(home, ACTION_TEXT, sees(RAISER)),
    "action_plan": Row(command("åtgärdsplan 2026 csv"), ACTION_TEXT, CASE_READERS),
    "rating_comments": Row(
        button("rating_comments_open", lambda w: str(w.round)), COMMENT, sees(COORD)
    ),
    "consent_register": Row(command("samtycke {ref}"), CONSENT_MARK, sees(RAISER, COORD)),
    "legal_grounds": Row(command("grund {ref}"), GROUND_NOTE, sees(COORD)),
    "deviation_edit": Row(
        button("text_edit", lambda w: f"deviation.text:{w.deviation}", modal=True),
        DEVIATION,
        sees(NOT_COVERED, COORD),
    ),
    "deviation_follow_up": Row(
        button("deviation_open", lambda w: str(w.deviation)), DEVIATION, sees(NOT_COVERED, COORD)
    ),
    "meeting_note_edit": Row(
        button("text_redact", lambda w: f"meeting.note:{w.meeting}", modal=True),
        CANCEL,
        sees(COORD),
    ),
    "agenda_item_edit": Row(
        button("text_edit", lambda w: f"agenda_item.text:{w.item}", modal=True),
        ITEM,
        sees(COVERED, COORD),
    ),
    # The reference only (the family's view is asked for, never shown).
    "case_feedback": Row(button("feedback_family_open", lambda w: str(w.case)), FAMILY, sees()),
    "feedback_comments": Row(
        button("feedback_comments", lambda w: "2026-01-01 2026-12-31"), FEEDBACK, sees(COORD)
    ),
    # The case's needed agency (the raising one) only: the others get references and slots.
    "meeting_preparation": Row(home, MINUTE, sees(RAISER)),
    # Coordinators only, and this coordinator's agency is not covered by the consent.
    "minutes": Row(button("minutes_open", lambda w: str(w.held)), MINUTE, sees()),
    # References, numbers and counts only: nobody gets the details here.
    "case_list": Row(command("ärenden"), SUMMARY, sees()),
    "agenda": Row(command("dagordning"), ACTION_TEXT, sees()),
    "statistics": Row(command("statistik 2026"), ACTION_TEXT, sees()),
    "access_export": Row(command(f"registerutdrag <@{RAISER}>"), SUMMARY, sees()),
    "feedback_results": Row(command("återkoppling 2026"), FEEDBACK, sees()),
    "criteria_statistics": Row(command("kriterier statistik 2026"), SUMMARY, sees()),
    "half_year_review": Row(command("uppföljning 2026-01-01 2026-11-20"), FEEDBACK, sees()),
    "steering_rollup": Row(command("styrning"), SUMMARY, sees()),
    "annual_report": Row(command("årsrapport 2026"), ACTION_TEXT, sees()),
}


def test_the_family_view_follows_the_case_rule(bot: Bot) -> None:
    """The family's comment on a case reaches a coordinator only if the case rule allows it:
    the coordinator's own agency is not covered here, so only the agencies' comments show."""
    world = build_world(bot)
    r = reader_for(bot, world, COORD)
    shown = output_of(
        bot, lambda: button("feedback_comments", lambda w: "2026-01-01 2026-12-31")(bot, world, r)
    )
    assert FEEDBACK in shown and FAMILY not in shown


def test_the_table_lists_every_surface() -> None:
    """A new surface must be added to the rule's registry and to this table."""
    assert set(TABLE) == set(disclosure.SURFACES) | set(disclosure.REFERENCE_ONLY)


@pytest.mark.parametrize("surface", sorted(TABLE))
def test_each_surface_shows_details_only_to_whom_the_rule_allows(bot: Bot, surface: str) -> None:
    world = build_world(bot)
    row = TABLE[surface]
    spec = disclosure.SURFACES.get(surface)
    for user in READERS:
        r = reader_for(bot, world, user)
        with bot.sessions() as s:
            mark = s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
        shown = output_of(bot, lambda r=r: row.send(bot, world, r))  # type: ignore[misc]
        expected = user in row.sees
        assert (row.secret in shown) is expected, (
            f"{surface}: {user} {'should' if expected else 'must not'} see it"
        )
        if spec is not None and expected and spec.audit is not disclosure.Audit.EXPORT:
            with bot.sessions() as s:
                logged = s.scalars(
                    select(AuditEvent).where(AuditEvent.id > mark, AuditEvent.actor == user)
                ).all()
            assert any((e.detail or {}).get("surface") == surface for e in logged), (
                f"{surface}: the disclosure to {user} was not audited"
            )
        if surface == "action_plan" and expected:
            with bot.sessions() as s:
                export = s.scalars(
                    select(AuditEvent).where(
                        AuditEvent.id > mark, AuditEvent.object_type == "action_plan"
                    )
                ).one()
            assert world.reference in (export.detail or {})["cases_disclosed"]
    bot.slack.assert_no_violations()
