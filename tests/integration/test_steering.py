"""Steering levels through the real app: a styrgrupp follows FOSSAM (figures only, counts
under 5 as "färre än 5"), refuses links to itself and to another workspace's forum, keeps
its activity plan, gets its steering part in the agenda's thread, and makes the annual
report (PDF, docx) and the municipality's lägesbild and åtgärdsplan (docx, PDF)."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from typing import Any

import docx
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from domain import forums as fs
from domain.disclosure import REFUSAL_WINDOW
from storage.db import transaction
from storage.models import (
    Action,
    ActionEvent,
    AuditEvent,
    Case,
    Forum,
    ForumLink,
    Member,
    PlanItem,
    Role,
)
from tests.conftest import SIGNING_SECRET, Bot
from tests.integration.test_action_flow import ADMIN, ELEVHALSA
from tests.integration.test_refused_rating_doors import _shown
from tests.integration.test_review import (
    discuss,
    forum,  # noqa: F401  (fixture: FOSSAM with data)
)
from tests.support.audit_log import last_id, refusals_in, refusals_since
from tests.support.forums import forum_draft
from tests.support.slack_driver import (
    SlackDriver,
    date_value,
    plain_value,
    radio_value,
    select_value,
)
from tests.support.wait import eventually

STEER_CHANNEL = "C0STYR"
CHAIR = "U7"  # in the steering group only, never in FOSSAM


@pytest.fixture
def steering(bot: Bot, forum: dict[str, int]) -> dict[str, int]:  # noqa: F811
    with transaction(bot.sessions) as s:
        fossam = s.get(Forum, forum["forum"])
        assert fossam is not None
        fossam.settings = {**fossam.settings, "situation_picture": "every"}  # it rates areas
        draft = forum_draft(
            name="Styrgrupp barns bästa",
            code="STY",
            agencies=["Socialtjänst/IFO", "Grundskola"],
            own_agency="Grundskola",
            template="styrgrupp",
            rrule="FREQ=MONTHLY;BYMONTH=1,2,3,4,5,6,8,9,10,11,12;BYDAY=2TU",
        )
        created = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id=STEER_CHANNEL, actor=ADMIN, draft=draft
        )
        fs.add_members(
            s,
            bot.clock,
            forum=created,
            actor=ADMIN,
            slack_user_ids=[CHAIR],
            agency_id=next(a.id for a in created.agencies if a.name == "Socialtjänst/IFO"),
            role=Role.MEMBER,
        )
        other = fs.create_forum(
            s,
            bot.clock,
            team_id="T0002",
            channel_id="C0OTHER",
            actor="U8",
            draft=forum_draft(name="Annan kommun", code="ANN"),
        )
        s.add(
            Action(
                forum_id=forum["forum"],
                description="Trygghetsvandring kring centrum",
                owning_agency_id=forum["Elevhälsa"],
                owner=ELEVHALSA,
                due_on=dt.date(2026, 9, 1),
                area_id=forum["area"],
                created_by=ADMIN,
                created_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
                updated_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
            )
        )
        case_id = s.scalars(select(Case.id).where(Case.forum_id == forum["forum"])).first()
        s.add(
            Action(
                forum_id=forum["forum"],
                description="Samtal med familjen i ärendet",
                owning_agency_id=forum["Elevhälsa"],
                owner=ELEVHALSA,
                due_on=dt.date(2026, 9, 1),
                case_id=case_id,
                created_by=ADMIN,
                created_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
                updated_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
            )
        )
        return {"steering": created.id, "fossam": forum["forum"], "other": other.id}


def settings(
    bot: Bot, ids: dict[str, int], level: str, forums: list[int], *, user: str = ADMIN
) -> Any:
    values = {
        "steering_level": {"value": select_value(level)},
        "steering_forums": {
            "value": {
                "type": "multi_static_select",
                "selected_options": [{"value": str(f)} for f in forums],
            }
        },
    }
    return bot.driver.view_submission(
        "steering_settings",
        values,
        user=user,
        private_metadata=json.dumps({"locale": "sv", "forum_id": ids["steering"]}),
        blocks=[{"type": "input", "block_id": b} for b in values],
    ).json()


def followable(bot: Bot, user: str) -> list[str]:
    """The forums the steering settings modal offers ``user``."""
    before = bot.slack.count("views.open")
    bot.driver.command("styrning inställningar", user=user, channel=STEER_CHANNEL)
    view = bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"]
    block = next(b for b in view["blocks"] if b.get("block_id") == "steering_forums")
    return [o["text"]["text"] for o in block["element"].get("options", [])]


def links(bot: Bot) -> int:
    with bot.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ForumLink)) or 0)


def reply(bot: Bot, count: int) -> str:
    found = bot.slack.wait_for("response_url", count=count, timeout=30)[-1]
    return json.dumps(found.args, ensure_ascii=False)


def uploads(bot: Bot, suffix: str) -> list[bytes]:
    return [
        bot.slack.uploads[item["id"]]
        for call in bot.slack.calls_to("files.completeUploadExternal")
        for item in call.args["files"]
        if str(item.get("title", "")).endswith(suffix)
    ]


def test_links_stay_in_the_workspace_and_the_group_sees_figures_only(
    bot: Bot, steering: dict[str, int]
) -> None:
    itself = settings(bot, steering, "styrgrupp", [steering["steering"]])
    assert "inte följa sig självt" in json.dumps(itself, ensure_ascii=False)
    foreign = settings(bot, steering, "styrgrupp", [steering["fossam"], steering["other"]])
    assert "arbetsyta" in json.dumps(foreign, ensure_ascii=False)
    assert links(bot) == 0
    assert settings(bot, steering, "styrgrupp", [steering["fossam"]]) is None
    assert links(bot) == 1
    told = eventually(
        lambda: [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == "C0001"]
    )
    assert "följer nu forumets siffror" in told[-1].args["text"]

    bot.driver.command("styrning", user=CHAIR, channel=STEER_CHANNEL)
    text = reply(bot, 1)
    assert "FOSSAM" in text and "7 ärenden lyfta" in text and "färre än 5" in text
    # The areas' levels by name, in the glossary's words ("Högst skattade områden …
    # Hemse 2" before).
    assert "Högst bedömda områden vid senaste mötet: Hemse (avvikande)" in text, text
    assert "FOS-2026" not in text and "Sammanfattning" not in text
    # The chair is not in FOSSAM: its cases stay closed to them.
    bot.driver.command("ärenden", user=CHAIR, channel="C0001")
    assert "medlemmar" in reply(bot, 2)


def test_the_roll_up_says_how_many_cases_the_forums_meetings_discussed(
    bot: Bot, steering: dict[str, int]
) -> None:
    """Beside the cases raised, the roll-up counts the cases FOSSAM's meetings discussed:
    six cases, case 1 at two meetings (once), case 7 only at a cancelled meeting (not
    counted)."""
    discuss(bot, {"forum": steering["fossam"]}, [[1, 2, 3], [1, 4], [5, 6]])
    settings(bot, steering, "styrgrupp", [steering["fossam"]])
    bot.driver.command("styrning", user=CHAIR, channel=STEER_CHANNEL)
    text = reply(bot, 1)
    assert "7 ärenden lyfta" in text and "6 behandlade på mötena" in text, text


def test_the_roll_up_counts_actions_done_after_a_new_due_date_as_the_review_does(
    bot: Bot, steering: dict[str, int]
) -> None:
    """Two of FOSSAM's six actions done were postponed and done late for their first due
    date but by the new one: the roll-up tells them apart as the review does, and hides
    the count under 5 ("fewer than 5"), as it does the on time share (4 of 6 on time)."""
    with transaction(bot.sessions) as s:
        done = s.scalars(
            select(Action)
            .where(Action.forum_id == steering["fossam"], Action.completed_at.is_not(None))
            .order_by(Action.id)
        ).all()
        for action in done[:2]:
            s.add(
                ActionEvent(
                    action_id=action.id,
                    at=dt.datetime(2026, 2, 25, tzinfo=dt.UTC),
                    actor=ELEVHALSA,
                    kind="postponed",
                    detail={"from": "2026-03-01", "to": action.due_on.isoformat()},
                )
            )
    settings(bot, steering, "styrgrupp", [steering["fossam"]])
    bot.driver.command("styrning", user=CHAIR, channel=STEER_CHANNEL)
    text = reply(bot, 1)
    assert "insatser: 6 klara (– i tid, färre än 5 efter ny sista dag)" in text, text


def test_only_a_forums_own_coordinator_lets_a_steering_forum_follow_it(
    bot: Bot, steering: dict[str, int]
) -> None:
    """Anyone may set up a forum in a channel of their own and make it a steering forum; its
    roll-up, annual report and yearly picture (with the followed forums' actions about
    areas: text, owner, due date) would then carry any forum of the workspace. Only a
    coordinator of the forum to follow adds it: CHAIR (in FOSSAM: no) and ELEVHALSA
    (FOSSAM: a member, no coordinator), both coordinators of the steering group, are
    refused on the field; nothing is linked, FOSSAM is told nothing, and CHAIR's yearly
    picture holds none of FOSSAM's actions. FOSSAM's admin adds it; a link already there
    stays when the others save the settings."""
    with transaction(bot.sessions) as s:
        group = s.get(Forum, steering["steering"])
        assert group is not None
        member = fs.find_member(s, forum=group, slack_user_id=CHAIR)
        assert member is not None
        member.role = Role.COORDINATOR
        fs.add_members(
            s,
            bot.clock,
            forum=group,
            actor=ADMIN,
            slack_user_ids=[ELEVHALSA],
            agency_id=next(a.id for a in group.agencies if a.name == "Grundskola"),
            role=Role.COORDINATOR,
        )
    # The settings offer CHAIR no forum: FOSSAM's name is not theirs to see or choose.
    assert "FOSSAM" not in followable(bot, CHAIR)
    assert followable(bot, ADMIN) == ["FOSSAM"]
    for user in (CHAIR, ELEVHALSA):
        refused = json.dumps(
            settings(bot, steering, "styrgrupp", [steering["fossam"]], user=user),
            ensure_ascii=False,
        )
        assert '"steering_forums"' in refused
        # FOSSAM's member is told why by name; CHAIR, not in it, is told nothing of it
        # (test_a_crafted_forum_id_names_no_forum_the_person_is_not_in).
        assert ("Bara en samordnare i FOSSAM" in refused) == (user == ELEVHALSA), refused
    assert links(bot) == 0
    bot.driver.command("årsrapport 2026", user=CHAIR, channel=STEER_CHANNEL)
    assert "åtgärdsplan 2026" in reply(bot, 1)
    picture = docx.Document(io.BytesIO(uploads(bot, ".docx")[0]))
    table_text = "\n".join(
        c.text for table in picture.tables for row in table.rows for c in row.cells
    )
    assert "Trygghetsvandring" not in table_text and "FOSSAM" not in table_text
    assert not [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == "C0001"]

    assert settings(bot, steering, "styrgrupp", [steering["fossam"]]) is None
    assert links(bot) == 1
    told = eventually(
        lambda: [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == "C0001"]
    )
    assert "insatser om områden" in told[-1].args["text"]  # what the yearly picture lists
    assert followable(bot, CHAIR) == ["FOSSAM"]  # followed already: kept when they save
    assert settings(bot, steering, "styrgrupp", [steering["fossam"]], user=CHAIR) is None
    assert links(bot) == 1


def test_a_crafted_forum_id_names_no_forum_the_person_is_not_in(
    bot: Bot, steering: dict[str, int]
) -> None:
    """The settings modal offers CHAIR no forum of the workspace but the ones they may add
    (b45d43f): a crafted option with another forum's id must not tell them either. CHAIR
    coordinates the steering group and is in no other forum: FOSSAM's id, a steering
    forum's of the workspace (the 'itself a steering forum' answer named it), another
    workspace's forum and an id of nothing all get one answer, which names none of them;
    nothing is linked. The answer named FOSSAM ('Bara en samordnare i FOSSAM …') and the
    other steering forum, and told a forum of this workspace from one of nothing."""
    with transaction(bot.sessions) as s:
        group = s.get(Forum, steering["steering"])
        assert group is not None
        member = fs.find_member(s, forum=group, slack_user_id=CHAIR)
        assert member is not None
        member.role = Role.COORDINATOR
        board = fs.create_forum(
            s,
            bot.clock,
            team_id="T0001",
            channel_id="C0NAMND",
            actor=ADMIN,
            draft=forum_draft(name="Hemliga nämnden", code="HEM"),
        )
        board.settings = {**board.settings, "steering_level": "namnd"}
        board_id = board.id
    answers = {
        what: json.dumps(
            settings(bot, steering, "styrgrupp", [forum_id], user=CHAIR), ensure_ascii=False
        )
        for what, forum_id in (
            ("FOSSAM", steering["fossam"]),
            ("a steering forum", board_id),
            ("another workspace's", steering["other"]),
            ("nothing", 987_654),
        )
    }
    nothing = answers["nothing"]
    assert '"steering_forums"' in nothing and "kan inte väljas här" in nothing, nothing
    for what, answer in answers.items():
        assert answer == nothing, (what, answer)
        assert "FOSSAM" not in answer and "Hemliga" not in answer and "Annan" not in answer
    assert links(bot) == 0


STOP = "steering_stop_sharing"
NO_LINK_SV = "Det styrande forumet följer inte längre det här forumet."


def test_a_followed_forums_coordinator_stops_sharing_with_the_steering_group(
    bot: Bot, steering: dict[str, int]
) -> None:
    """The note to FOSSAM's channel has a button that ends the following, and
    /samverkan styrning in FOSSAM lists who follows it, with the same button. ELEVHALSA
    (FOSSAM: a member, no coordinator) is told only the coordinators can; CHAIR (in the
    steering group only) and another workspace's user get the answer an id of no link
    gets; each attempt is audited once in FOSSAM's log, and nothing changes. FOSSAM's
    admin ends it: the link is gone, recorded in both forums' logs as its creation is,
    the steering group's channel is told (forum names only), and its roll-up no longer
    holds FOSSAM. There was no way for the followed forum to end it."""
    assert settings(bot, steering, "styrgrupp", [steering["fossam"]]) is None
    told = eventually(
        lambda: [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == "C0001"]
    )
    notice = json.dumps(told[-1].args["blocks"], ensure_ascii=False)
    assert "Sluta dela med styrgruppen" in notice and f'"action_id": "{STOP}"' in notice
    with bot.sessions() as s:
        link = s.scalar(select(ForumLink.id))
    assert link is not None
    other_ws = SlackDriver(
        bot.url, SIGNING_SECRET, team_id="T0002", response_url_base=bot.slack.response_url_base
    )

    def press(driver: SlackDriver, user: str, value: int, channel: str = "C0001") -> str:
        since = len(bot.slack.calls)
        driver.block_action(STOP, user=user, value=str(value), channel=channel)
        bot.wait_idle()
        return _shown(bot, since)

    mark = last_id(bot)
    not_coordinator = press(bot.driver, ELEVHALSA, link)
    assert "samordnare" in not_coordinator and NO_LINK_SV not in not_coordinator
    outsiders = [(bot.driver, CHAIR, STEER_CHANNEL), (other_ws, "U8", "C0OTHER")]
    for driver, user, channel in outsiders:
        shown = press(driver, user, link, channel)
        assert NO_LINK_SV in shown, shown
        assert shown == press(driver, user, 987_654, channel), "tells that the link exists"
    assert links(bot) == 1
    with bot.sessions() as s:
        fossam = s.get(Forum, steering["fossam"])
        assert fossam is not None
        elevhalsa = fs.find_member(s, forum=fossam, slack_user_id=ELEVHALSA)
        assert elevhalsa is not None
        agency = elevhalsa.agency_id
    refused = [
        (actor, kind, ref, team, agency_id, (detail or {}).get("refused"))
        for actor, kind, ref, team, agency_id, detail in refusals_in(bot, mark, steering["fossam"])
    ]
    assert refused == [
        (ELEVHALSA, "forum_link", str(link), "T0001", agency, "not_coordinator"),
        (CHAIR, "forum_link", str(link), "T0001", None, "not_a_member"),
        ("U8", "forum_link", str(link), "T0001", None, "no_forum_here"),  # its log
    ]
    assert {
        (e.actor, e.team_id, e.object_ref) for e in refusals_since(bot, mark) if e.forum_id is None
    } == {(CHAIR, "T0001", "987654"), ("U8", "T0002", "987654")}

    # FOSSAM's admin finds who follows the forum where they would look, and ends it.
    answered = bot.slack.count("response_url")
    bot.driver.command("", user=ADMIN, channel="C0001")  # the coordinator's menu
    assert "Styrning" in reply(bot, answered + 1)
    bot.driver.block_action("menu_steering", user=ADMIN, channel="C0001")
    listed = reply(bot, answered + 2)
    assert "Styrgrupp barns bästa" in listed and f'"value": "{link}"' in listed
    mark = last_id(bot)
    ended = press(bot.driver, ADMIN, link)
    assert "följer inte längre FOSSAM" in ended, ended
    assert links(bot) == 0 and not refusals_since(bot, mark)
    steering_told = eventually(
        lambda: [
            c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == STEER_CHANNEL
        ]
    )
    text = steering_told[-1].args["text"]
    assert "FOSSAM" in text and "Styrgrupp barns bästa" in text and "FOS-2026" not in text
    # Block Kit like every other notice, the text kept as the fallback; each channel is
    # told where to look now.
    blocks = json.dumps(steering_told[-1].args.get("blocks"), ensure_ascii=False)
    assert "FOSSAM" in blocks and "sammanställning" in blocks, blocks
    fossam_told = eventually(
        lambda: [
            c
            for c in bot.slack.calls_to("chat.postMessage")
            if c.args["channel"] == "C0001" and "inte längre" in c.args["text"]
        ]
    )
    assert "fortfarande följer det här forumet" in json.dumps(
        fossam_told[-1].args.get("blocks"), ensure_ascii=False
    )
    with bot.sessions() as s:
        logged = s.execute(
            select(AuditEvent.forum_id, AuditEvent.actor, AuditEvent.object_ref).where(
                AuditEvent.object_type == "steering", AuditEvent.id > mark
            )
        ).all()
    assert set(logged) == {(steering["steering"], ADMIN, "STY"), (steering["fossam"], ADMIN, "STY")}
    answered = bot.slack.count("response_url")
    bot.driver.command("styrning", user=CHAIR, channel=STEER_CHANNEL)
    rollup = reply(bot, answered + 1)
    assert "FOSSAM" not in rollup and "ärenden lyfta" not in rollup
    assert NO_LINK_SV in press(bot.driver, ADMIN, link)  # ended already: told so


def test_the_yearly_picture_is_in_the_log_of_each_forum_whose_actions_it_lists(
    bot: Bot, steering: dict[str, int]
) -> None:
    """The yearly picture carries FOSSAM's actions about areas (text, owner) out of FOSSAM:
    FOSSAM's own log records it (who, which steering forum), so its reviewers see it in
    /samverkan logg; it was recorded in the steering forum's log only."""
    assert settings(bot, steering, "styrgrupp", [steering["fossam"]]) is None
    with transaction(bot.sessions) as s:
        group = s.get(Forum, steering["steering"])
        assert group is not None
        member = fs.find_member(s, forum=group, slack_user_id=CHAIR)
        assert member is not None
        member.role = Role.COORDINATOR
    bot.driver.command("årsrapport 2026", user=CHAIR, channel=STEER_CHANNEL)
    assert "åtgärdsplan 2026" in reply(bot, 1)
    with bot.sessions() as session:
        logged = session.execute(
            select(AuditEvent.forum_id, AuditEvent.actor, AuditEvent.object_ref).where(
                AuditEvent.object_type == "yearly_picture"
            )
        ).all()
    assert set(logged) == {(steering["steering"], CHAIR, "STY"), (steering["fossam"], CHAIR, "STY")}
    bot.driver.command(f"logg <@{CHAIR}>", user=ADMIN, channel="C0001")
    review = reply(bot, 2)
    assert CHAIR in review and "exporterade" in review


def test_the_activity_plan_its_agenda_part_and_the_reports(
    bot: Bot, steering: dict[str, int]
) -> None:
    settings(bot, steering, "styrgrupp", [steering["fossam"]])
    meta = {"locale": "sv", "forum_id": steering["steering"], "year": 2026}

    def submit(callback: str, values: dict[str, Any], **extra: Any) -> Any:
        return bot.driver.view_submission(
            callback,
            values,
            user=ADMIN,
            private_metadata=json.dumps({**meta, **extra}),
            blocks=[{"type": "input", "block_id": b} for b in values],
        ).json()

    assert (
        submit(
            "plan_item",
            {
                "kind": {"value": radio_value("strategy")},
                "title": {"value": plain_value("Utökat förebyggande och främjande arbete")},
            },
        )
        is None
    )
    with bot.sessions() as session:
        strategy = session.scalars(select(PlanItem.id)).one()
    refused = submit(
        "plan_item",
        {"kind": {"value": radio_value("goal")}, "title": {"value": plain_value("Mål")}},
    )
    assert refused["response_action"] == "errors"
    assert "Välj strategin" in json.dumps(refused, ensure_ascii=False)
    assert (
        submit(
            "plan_item",
            {
                "kind": {"value": radio_value("goal")},
                "title": {"value": plain_value("Färre elever med hög frånvaro")},
                "parent": {"value": select_value(str(strategy))},
                "follow_up_on": {"value": date_value(dt.date(2026, 12, 1))},
            },
        )
        is None
    )
    with bot.sessions() as session:
        goal = session.scalars(select(PlanItem.id).where(PlanItem.kind == "goal")).one()
        grundskola = (
            session.scalars(select(Forum).where(Forum.id == steering["steering"])).one().agencies
        )
        agency = next(a.id for a in grundskola if a.name == "Grundskola")
    assert (
        submit(
            "plan_activity",
            {
                "goal": {"value": select_value(str(goal))},
                "description": {"value": plain_value("Gemensam rutin för frånvaroanmälan")},
                "agency": {"value": select_value(str(agency))},
                "owner": {"value": {"type": "users_select", "selected_user": ADMIN}},
                "due_on": {"value": date_value(dt.date(2026, 12, 4))},
            },
        )
        is None
    )
    bot.driver.command("aktivitetsplan", user=CHAIR, channel=STEER_CHANNEL)
    plan = reply(bot, 1)
    assert "Färre elever med hög frånvaro" in plan and "Gemensam rutin" in plan

    # The steering group's meeting (2nd Tuesday, 8 December): the agenda, and the steering
    # part in its thread: the roll-up, the activity due and the goal to follow up.
    bot.clock.set(dt.datetime(2026, 12, 8, 7, 30, tzinfo=dt.UTC))
    bot.run_due_work()
    bot.run_due_work()
    posts = [
        c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == STEER_CHANNEL
    ]
    parts = [c for c in posts if "Styrning:" in json.dumps(c.args, ensure_ascii=False)]
    assert len(parts) == 1 and parts[0].args.get("thread_ts")
    part = json.dumps(parts[0].args, ensure_ascii=False)
    assert "Färre elever med hög frånvaro" in part
    # The activity by its number, as the agenda shows actions: the channel (people who are
    # not the forum's members too) never sees what an action is about.
    with bot.sessions() as session:
        activity = session.scalars(
            select(Action.id).where(Action.forum_id == steering["steering"])
        ).one()
    assert f"Insats #{activity}" in part and "Gemensam rutin" not in part
    assert "FOSSAM" in part and "FOS-2026" not in part

    assert (
        submit(
            "plan_goal_follow_up",
            {"result": {"value": radio_value("partly")}, "comment": {"value": plain_value("")}},
            goal_id=goal,
        )
        is None
    )
    bot.driver.command("verksamhetsberättelse 2026", user=ADMIN, channel=STEER_CHANNEL)
    assert "verksamhetsberättelsen 2026" in reply(bot, 2)
    report = docx.Document(io.BytesIO(uploads(bot, ".docx")[0]))
    body = "\n".join(p.text for p in report.paragraphs)
    cells = "\n".join(c.text for table in report.tables for row in table.rows for c in row.cells)
    assert "Verksamhetsberättelse 2026: Styrgrupp barns bästa" in body
    assert "Färre elever med hög frånvaro" in cells and "Delvis" in cells
    assert "färre än 5" in cells and len(report.tables) >= 3
    pdf = PdfReader(io.BytesIO(uploads(bot, ".pdf")[0]))
    assert len(pdf.pages) >= 2 and "Sida 1 av" in pdf.pages[0].extract_text()

    bot.driver.command("årsrapport 2026", user=ADMIN, channel=STEER_CHANNEL)
    assert "åtgärdsplan 2026" in reply(bot, 3)
    picture = docx.Document(io.BytesIO(uploads(bot, ".docx")[1]))
    text = "\n".join(p.text for p in picture.paragraphs)
    table_text = "\n".join(
        c.text for table in picture.tables for row in table.rows for c in row.cells
    )
    assert "Lägesbild och åtgärdsplan 2026" in text and "SFS 2023:196" in text
    assert "3. Analys av kartläggningen" in text and "Samordningsfunktion" in text
    assert "Trygghetsvandring kring centrum" in table_text  # an action about an area
    assert "Samtal med familjen" not in table_text  # an action in a case: never
    assert "Hemse" in table_text
    pdf = PdfReader(io.BytesIO(uploads(bot, ".pdf")[1]))
    assert "Lägesbild och åtgärdsplan 2026" in pdf.pages[0].extract_text()
    # Not a steering forum: a clear refusal.
    bot.driver.command("årsrapport 2026", user=ADMIN, channel="C0001")
    assert "styrande forum" in reply(bot, 4)


def test_the_annual_report_goes_to_the_coordinators_by_itself_at_year_end(
    bot: Bot, steering: dict[str, int]
) -> None:
    settings(bot, steering, "styrgrupp", [steering["fossam"]])
    with transaction(bot.sessions) as s:
        row = s.get(Forum, steering["steering"])
        assert row is not None
        row.created_at = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)

    def reports() -> list[str]:
        return [
            str(item.get("title", ""))
            for call in bot.slack.calls_to("files.completeUploadExternal")
            for item in call.args["files"]
            if str(item.get("title", "")).startswith("verksamhetsberattelse-STY-2026")
        ]

    # New Year's Day is a holiday and 2–3 January 2027 a weekend: Monday 4 January, 08:00.
    bot.clock.set(dt.datetime(2027, 1, 4, 6, 59, tzinfo=dt.UTC))
    bot.run_due_work()
    assert reports() == []
    bot.clock.set(dt.datetime(2027, 1, 4, 7, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    bot.run_due_work()
    assert sorted(reports()) == [
        "verksamhetsberattelse-STY-2026.docx",
        "verksamhetsberattelse-STY-2026.pdf",
    ]


def test_a_half_years_hidden_count_cannot_be_worked_out_from_the_annual_report(
    bot: Bot, steering: dict[str, int]
) -> None:
    """FOSSAM raised 7 cases in the first half of 2026 and 3 in the second: its half-year
    reviews showed 7 and "fewer than 5". The annual report's year is the two halves, so
    showing 10 cases there gave the second half's 3 back (10 − 7). What a half-year review
    hid stays hidden in the year."""
    settings(bot, steering, "styrgrupp", [steering["fossam"]])
    with transaction(bot.sessions) as s:
        row = s.get(Forum, steering["steering"])
        assert row is not None
        row.created_at = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
        for n in range(3):
            s.add(
                Case(
                    forum_id=steering["fossam"],
                    reference=f"FOS-2026-{n + 8:03d}",
                    year=2026,
                    sequence=n + 8,
                    raised_by=ELEVHALSA,
                    raising_agency_id=s.scalars(
                        select(Case.raising_agency_id).where(Case.forum_id == steering["fossam"])
                    ).first(),
                    summary="Sammanfattning som aldrig syns",
                    concerns=["school_absence"],
                    age_band="13-15",
                    created_at=dt.datetime(2026, 9, 1 + n, 10, tzinfo=dt.UTC),
                    updated_at=dt.datetime(2026, 9, 1 + n, 10, tzinfo=dt.UTC),
                )
            )
    bot.clock.set(dt.datetime(2027, 1, 4, 7, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    bot.run_due_work()
    (report,) = [
        docx.Document(io.BytesIO(bot.slack.uploads[item["id"]]))
        for call in bot.slack.calls_to("files.completeUploadExternal")
        for item in call.args["files"]
        if str(item.get("title", "")) == "verksamhetsberattelse-STY-2026.docx"
    ]
    rows = [[c.text for c in row.cells] for table in report.tables for row in table.rows]
    header = next(r for r in rows if r[0] == "Forum")
    fossam = next(r for r in rows if r[0] == "FOSSAM")
    assert header[1] == "Ärenden som lyfts"
    assert fossam[1] == "färre än 5"


def test_the_annual_report_comes_in_each_coordinators_language(
    bot: Bot, steering: dict[str, int]
) -> None:
    """The report sent by itself is a DM: an English-speaking coordinator of the (Swedish)
    steering group gets it in English, a Swedish one in Swedish."""
    bot.slack.set_user(ADMIN, locale="en-US")
    settings(bot, steering, "styrgrupp", [steering["fossam"]])
    with transaction(bot.sessions) as s:
        row = s.get(Forum, steering["steering"])
        assert row is not None
        row.created_at = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
        chair = s.scalars(
            select(Member).where(Member.forum_id == row.id, Member.slack_user_id == CHAIR)
        ).one()
        chair.role = Role.COORDINATOR
    bot.clock.set(dt.datetime(2027, 1, 4, 7, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    headers = []
    for call in bot.slack.calls_to("files.completeUploadExternal"):
        for item in call.args["files"]:
            if str(item.get("title", "")) == "verksamhetsberattelse-STY-2026.docx":
                report = docx.Document(io.BytesIO(bot.slack.uploads[item["id"]]))
                rows = [[c.text for c in r.cells] for table in report.tables for r in table.rows]
                headers.append(next(r for r in rows if r[0] == "Forum")[1])
    assert sorted(headers) == ["Cases raised", "Ärenden som lyfts"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_presses_at_once_end_the_link_once(
    bot: Bot, steering: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """FOSSAM's admin presses 'Sluta dela med styrgruppen' twice at once (a double click,
    or the notice's button and the one in /samverkan styrning): the first press's
    transaction is held open after it ended the link; the second waits for the link's row
    (3688e45's lock), then is told the link has ended. Each channel is told once. Without
    the lock the second deleted the row the first had deleted: 'try again'. PostgreSQL
    only: SQLite's BEGIN IMMEDIATE serialises the two anyway."""
    from domain import steering as steering_service
    from tests.support.concurrency import lock_waits

    assert settings(bot, steering, "styrgrupp", [steering["fossam"]]) is None
    with bot.sessions() as s:
        link = s.scalar(select(ForumLink.id))
    assert link is not None
    bot.wait_idle()
    since = len(bot.slack.calls)
    done, release = threading.Event(), threading.Event()
    original = steering_service.end_link

    def holding(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if not done.is_set():
            done.set()
            release.wait(20)
        return result

    monkeypatch.setattr(steering_service, "end_link", holding)
    try:
        bot.driver.block_action(STOP, user=ADMIN, value=str(link), channel="C0001")
        assert done.wait(20)
        with lock_waits(bot.runtime.engine) as waits:
            bot.driver.block_action(STOP, user=ADMIN, value=str(link), channel="C0001")
            eventually(waits.waiting, timeout=10)
    finally:
        release.set()
    bot.wait_idle()
    answers = [
        json.dumps(c.args, ensure_ascii=False)
        for c in bot.slack.calls[since:]
        if c.method == "response_url"
    ]
    assert len(answers) == 2, answers
    assert sum("följer inte längre FOSSAM" in a for a in answers) == 1, answers
    assert sum(NO_LINK_SV in a for a in answers) == 1, answers
    assert links(bot) == 0

    def told() -> list[str]:
        return sorted(
            c.args["channel"]
            for c in bot.slack.calls_to("chat.postMessage")
            if "inte längre" in c.args["text"]
        )

    eventually(lambda: len(told()) >= 2)
    bot.wait_idle()
    assert told() == sorted(["C0001", STEER_CHANNEL])


def test_a_stale_button_ends_no_other_forums_link(bot: Bot, steering: dict[str, int]) -> None:
    """The button on the note to FOSSAM's channel names its link by id. The steering group
    drops FOSSAM (the note stays in the channel, with its button), then follows ELEVRÅD,
    whose coordinator is FOSSAM's admin too: on SQLite the new link takes the id the old
    one had. Pressed in FOSSAM's channel, the old button is told the link has ended and
    ELEVRÅD stays followed; it ended ELEVRÅD's link (SQLite: the id reused)."""
    with transaction(bot.sessions) as s:
        board = fs.create_forum(
            s,
            bot.clock,
            team_id="T0001",
            channel_id="C0ELEV",
            actor=ADMIN,
            draft=forum_draft(name="Elevråd", code="ELR"),
        )
        board_id = board.id
    assert settings(bot, steering, "styrgrupp", [steering["fossam"]]) is None
    with bot.sessions() as s:
        old = s.scalar(select(ForumLink.id))
    assert settings(bot, steering, "styrgrupp", []) is None
    assert settings(bot, steering, "styrgrupp", [board_id]) is None
    with bot.sessions() as s:
        (follows,) = s.scalars(select(ForumLink.forum_id))
    assert follows == board_id
    bot.wait_idle()
    mark = last_id(bot)
    since = len(bot.slack.calls)
    bot.driver.block_action(STOP, user=ADMIN, value=str(old), channel="C0001")
    bot.wait_idle()
    assert NO_LINK_SV in _shown(bot, since)
    assert links(bot) == 1
    assert not refusals_since(bot, mark)  # FOSSAM's own old button: a stale press


def test_a_stale_press_on_an_ended_link_is_told_so_and_not_audited(
    bot: Bot, steering: dict[str, int]
) -> None:
    """The note's button in FOSSAM's channel stays after the link ended (FOSSAM's admin
    ended it; or the steering group dropped FOSSAM): pressed again there by FOSSAM's own
    (its admin, a member who is no coordinator), each is told the link has ended, and the
    log gets no refusal (before, each press was audited as a refused attempt at a link of
    nothing). Outsiders naming the ended link (the steering group's chair in its channel
    or in FOSSAM's, another workspace's user), and FOSSAM's admin pressing it in another
    channel, are still refused and audited."""
    other_ws = SlackDriver(
        bot.url, SIGNING_SECRET, team_id="T0002", response_url_base=bot.slack.response_url_base
    )

    def press(driver: SlackDriver, user: str, value: int, channel: str = "C0001") -> str:
        since = len(bot.slack.calls)
        driver.block_action(STOP, user=user, value=str(value), channel=channel)
        bot.wait_idle()
        return _shown(bot, since)

    for ends in ("by FOSSAM", "by the steering group"):
        assert settings(bot, steering, "styrgrupp", [steering["fossam"]]) is None
        with bot.sessions() as s:
            link = s.scalar(select(ForumLink.id))
        assert link is not None
        if ends == "by FOSSAM":
            assert "följer inte längre FOSSAM" in press(bot.driver, ADMIN, link)
        else:
            assert settings(bot, steering, "styrgrupp", []) is None
        assert links(bot) == 0
        bot.wait_idle()
        mark = last_id(bot)
        for user in (ADMIN, ADMIN, ELEVHALSA):
            assert NO_LINK_SV in press(bot.driver, user, link), (ends, user)
        assert refusals_since(bot, mark) == [], ends
        outsiders = [
            (bot.driver, CHAIR, STEER_CHANNEL),
            (bot.driver, CHAIR, "C0001"),
            (other_ws, "U8", "C0OTHER"),
            (bot.driver, ADMIN, STEER_CHANNEL),
        ]
        for driver, user, channel in outsiders:
            assert NO_LINK_SV in press(driver, user, link, channel), (ends, user, channel)
            bot.clock.set(bot.clock.now() + REFUSAL_WINDOW + dt.timedelta(seconds=1))
        refused = [(e.actor, e.object_ref) for e in refusals_since(bot, mark)]
        assert refused == [(who, str(link)) for who in (CHAIR, CHAIR, "U8", ADMIN)], refused
