"""The data-protection officer's surfaces through the real app and CLI: the access-request
export (driven by the data inventory), audit review with flags and exports by DM, the
monthly log check, the consent register."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.cli import main
from domain import forums as fs
from domain import scheduling
from domain.cases import CaseDraft, raise_case, read_case, report_deviation
from domain.inventory import member_tables
from handlers.deps import settle_stores
from storage.db import transaction
from storage.models import (
    Action,
    ActionEvent,
    AgendaItem,
    AgendaItemKind,
    Area,
    AuditAction,
    AuditEvent,
    Case,
    ConsentGiver,
    FamilyView,
    ForumLink,
    LegalGround,
    LegalGroundKind,
    Meeting,
    MemberLanguage,
    MemberLanguageAsk,
    MinuteEntry,
    PlanItem,
    Rating,
    RatingObservation,
    RatingRound,
    Role,
    SipStatus,
    slack_installations,
)
from tests.conftest import Bot
from tests.support.forums import forum_draft

ADMIN, MEMBER, OTHER, REVIEWER = "U1", "U2", "U3", "U4"
SUMMARY = "Hemlig sammanfattning om oro i hemmet"
CHANNEL = "C0001"


def setup_forum(bot: Bot, *, creator: str = ADMIN) -> dict[str, Any]:
    """FOSSAM: ``creator`` (Grundskola) is admin; MEMBER in Elevhälsa raises a case with
    consent for Elevhälsa only; OTHER is in Socialtjänst; REVIEWER is granskare."""
    draft = forum_draft(agencies=["Grundskola", "Elevhälsa", "Socialtjänst/IFO"])
    with transaction(bot.sessions) as s:
        forum = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id=CHANNEL, actor=creator, draft=draft
        )
        agencies = {a.name: a.id for a in forum.agencies}
        for user, agency, role in (
            (MEMBER, "Elevhälsa", Role.MEMBER),
            (OTHER, "Socialtjänst/IFO", Role.MEMBER),
            (REVIEWER, "Grundskola", Role.REVIEWER),
        ):
            if user == creator:
                continue
            fs.add_members(
                s,
                bot.clock,
                forum=forum,
                actor=creator,
                slack_user_ids=[user],
                agency_id=agencies[agency],
                role=role,
            )
        access = fs.require_member(s, forum=forum, slack_user_id=MEMBER)
        today = bot.clock.now().date()
        case, _ = raise_case(
            s,
            bot.clock,
            access=access,
            draft=CaseDraft(
                summary=SUMMARY,
                concerns=["school_absence"],
                age_band="13-15",
                agency_ids=[],
                consent_giver=ConsentGiver.GUARDIANS,
                consent_agency_ids=[agencies["Elevhälsa"]],
                consent_given_on=today,
                consent_expires_on=today + dt.timedelta(days=20),
                sip=SipStatus.NOT_RELEVANT,
                meeting=None,
            ),
        )
        return {"forum": forum.id, "case": case.id, "reference": case.reference, **agencies}


def reply_to(bot: Bot, text: str, user: str) -> str:
    before = bot.slack.count("response_url")
    bot.driver.command(text, user=user)
    reply = bot.slack.wait_for("response_url", count=before + 1)[-1]
    return json.dumps(reply.args, ensure_ascii=False)


# --- data inventory and access-request export ---------------------------------------------


def populate_every_member_table(bot: Bot, world: dict[str, Any]) -> None:
    """One row in each table that can refer to MEMBER (beyond what setup_forum made)."""
    settle_stores()  # the languages the requests so far learned, stored before these rows
    with transaction(bot.sessions) as s:
        forum = fs.get_forum(s, forum_id=world["forum"], team_id="T0001")
        access = fs.require_member(s, forum=forum, slack_user_id=MEMBER)
        report_deviation(
            s,
            bot.clock,
            access=access,
            agency_ids=[world["Grundskola"]],
            kind="information",
            text="Hemlig avvikelsetext",
            case_reference=None,
        )
        meeting = s.scalars(select(Meeting).where(Meeting.forum_id == forum.id)).first()
        assert meeting is not None
        s.execute(
            update(Meeting)
            .where(Meeting.id == meeting.id)
            .values(changed_by=MEMBER, attendance=[MEMBER])
        )
        s.add(
            AgendaItem(
                meeting_id=meeting.id,
                kind=AgendaItemKind.OTHER,
                text="Hemlig punkt",
                added_by=MEMBER,
                added_at=bot.clock.now(),
            )
        )
        area = Area(forum_id=forum.id, name="Droger", position=0, active=True)
        round_ = RatingRound(
            forum_id=forum.id,
            meeting_id=meeting.id,
            opens_at=bot.clock.now(),
            deadline_at=bot.clock.now(),
        )
        s.add_all([area, round_])
        s.flush()
        s.add(
            Rating(
                round_id=round_.id,
                agency_id=world["Elevhälsa"],
                area_id=area.id,
                level=2,
                comment="Hemlig kommentar",
                rated_by=MEMBER,
                rated_at=bot.clock.now(),
            )
        )
        s.add(
            RatingObservation(
                round_id=round_.id,
                agency_id=world["Elevhälsa"],
                text="Hemlig iakttagelse",
                written_by=MEMBER,
                written_at=bot.clock.now(),
            )
        )
        action = Action(
            forum_id=forum.id,
            description="Hemlig insats",
            owning_agency_id=world["Elevhälsa"],
            owner=MEMBER,
            due_on=bot.clock.now().date(),
            created_by=ADMIN,
            created_at=bot.clock.now(),
            updated_at=bot.clock.now(),
        )
        s.add(action)
        s.flush()
        s.add(
            ActionEvent(
                action_id=action.id,
                at=bot.clock.now(),
                actor=MEMBER,
                kind="postponed",
                detail={"from": "2026-11-23", "to": "2026-11-30"},
                note="Hemlig anledning",
            )
        )
        scheduling.enqueue(
            s,
            bot.clock,
            team_id="T0001",
            method="chat.postMessage",
            payload={"channel": MEMBER, "text": "FOS-2026-001"},
            dedupe_key="x",
        )
        s.execute(
            slack_installations.insert().values(
                client_id="c",
                app_id="A1",
                team_id="T0001",
                user_id=MEMBER,
                bot_token="xoxb-very-secret",
                is_enterprise_install=False,
                installed_at=dt.datetime(2026, 1, 1),
            )
        )
        s.execute(update(Case).values(legal_hold_by=MEMBER))
        s.add(
            LegalGround(
                case_id=world["case"],
                agency_id=world["Socialtjänst/IFO"],
                ground=LegalGroundKind.DECISION,
                decided_on=bot.clock.now().date(),
                note="Hemlig anteckning om grunden",
                recorded_by=MEMBER,
                recorded_at=bot.clock.now(),
                ended_by=MEMBER,
                ended_at=bot.clock.now(),
            )
        )
        # Issue #16: the family's view, a steering link and the activity plan.
        now = bot.clock.now()
        s.add(
            FamilyView(
                forum_id=forum.id,
                case_id=world["case"],
                recorded_by=MEMBER,
                recorded_at=now,
                heard="yes",
                helped="partly",
                comment="Hemlig kommentar från familjen",
            )
        )
        s.add(
            ForumLink(
                steering_forum_id=forum.id, forum_id=forum.id, created_by=MEMBER, created_at=now
            )
        )
        # Issue #15: the minutes of a case (its decision is the case's, withheld).
        s.add(
            MinuteEntry(
                meeting_id=meeting.id,
                case_id=world["case"],
                decision="Hemligt beslut i protokollet",
                recorded_by=MEMBER,
                recorded_at=now,
            )
        )
        s.add(
            PlanItem(
                forum_id=forum.id,
                year=2026,
                kind="strategy",
                title="Strategi",
                created_by=MEMBER,
                followed_up_by=MEMBER,
                created_at=now,
                updated_at=now,
            )
        )
        # Their Slack language, stored for the DMs the scheduler sends them.
        s.merge(MemberLanguage(team_id="T0001", user_id=MEMBER, locale="en", looked_up_at=now))
        # When the language refresh may ask Slack about them again.
        s.merge(MemberLanguageAsk(team_id="T0001", user_id=MEMBER, next_ask_at=now))


def test_the_export_covers_every_table_that_refers_to_a_member(
    bot: Bot,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = setup_forum(bot, creator=MEMBER)
    populate_every_member_table(bot, world)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", database_url)
    assert main(["export", "--slack-user", MEMBER, "--out", str(tmp_path)]) == 0
    assert "rows about U2" in capsys.readouterr().out
    (json_file,) = tmp_path.glob("*.json")
    document = json.loads(json_file.read_text("utf-8"))
    tables = document["tables"]
    assert set(tables) == set(member_tables())
    empty = [name for name, rows in tables.items() if not rows]
    assert empty == [], f"give these member tables a row in populate_every_member_table: {empty}"
    text = json_file.read_text("utf-8")
    for secret in (
        SUMMARY,
        "Hemlig kommentar",
        "Hemlig iakttagelse",
        "Hemlig insats",
        "Hemlig punkt",
        "Hemlig anteckning",
        "Hemlig kommentar från familjen",
        "Hemligt beslut i protokollet",
        "xoxb-very",
    ):
        assert secret not in text
    assert "undantaget" in text
    # Other people's rows are not in it.
    assert all(r["slack_user_id"] == MEMBER for r in tables["members"])
    (xlsx_file,) = tmp_path.glob("*.xlsx")
    workbook = load_workbook(xlsx_file)
    assert set(member_tables()) <= set(workbook.sheetnames)
    with bot.sessions() as s:
        logged = s.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)).one()
        assert (logged.actor, logged.object_ref) == ("cli", MEMBER)

    assert main(["export", "--slack-user", "nobody", "--out", str(tmp_path)]) == 2
    assert "not a Slack user id" in capsys.readouterr().err


def test_a_coordinator_gets_the_export_by_direct_message(bot: Bot) -> None:
    setup_forum(bot)
    assert "samordnare" in reply_to(bot, f"registerutdrag <@{ADMIN}>", MEMBER)
    reply = reply_to(bot, f"registerutdrag <@{MEMBER}|kim>", ADMIN)
    assert MEMBER in reply
    completed = bot.slack.wait_for("files.completeUploadExternal", count=2)
    assert {c.args["channel_id"] for c in completed} == {f"D{ADMIN}"}
    uploads = list(bot.slack.uploads.values())
    document = json.loads(next(u for u in uploads if u.startswith(b"{")).decode("utf-8"))
    assert document["subject"] == MEMBER and document["tables"]["cases"]
    assert SUMMARY not in json.dumps(document, ensure_ascii=False)
    # The workbook as the member it is handed to reads it: its first sheet says what each
    # sheet (a table) holds in Swedish, how many rows, and that the times are UTC.
    book = load_workbook(io.BytesIO(next(u for u in uploads if u[:2] == b"PK")))
    about: dict[Any, Any] = {
        r[0]: r[1] for r in book["Om utdraget"].iter_rows(min_row=2, values_only=True)
    }
    assert about["Registrerad (Slack-id)"] == MEMBER
    assert about["Skapat (UTC)"] == "2026-11-23T09:00:00+00:00"
    assert "UTC" in about["Tider"] and "svensk tid" in about["Tider"]
    assert about["cases"] == (
        "Ärenden (pseudonymiserade): sammanfattning, oro, åldersgrupp, status, utfall – 1 rad"
    ), about
    assert SUMMARY not in json.dumps(
        [list(r) for sheet in book for r in sheet.iter_rows(values_only=True)],
        ensure_ascii=False,
        default=str,
    )
    bot.slack.assert_no_violations()


# --- audit review ---------------------------------------------------------------------------


def test_audit_review_filters_flags_and_exports_by_dm(bot: Bot) -> None:
    world = setup_forum(bot)
    # OTHER (Socialtjänst, not taking part) reads the case at night, five times.
    bot.clock.set(dt.datetime(2026, 11, 23, 22, 30, tzinfo=dt.UTC))  # 23:30 in Stockholm
    with transaction(bot.sessions) as s:
        forum = fs.get_forum(s, forum_id=world["forum"], team_id="T0001")
        other = fs.require_member(s, forum=forum, slack_user_id=OTHER)
        for _ in range(5):
            read_case(s, bot.clock, access=other, case_id=world["case"])
    bot.clock.set(dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC))

    assert "samordnare" in reply_to(bot, "logg", MEMBER)
    text = reply_to(bot, f"logg <@{OTHER}> 2026-11", REVIEWER)
    assert world["reference"] in text and OTHER in text
    assert SUMMARY not in text
    assert ":warning:" in text
    # What was read, in the reviewer's words ("läste · case FOS-…" before).
    assert f"läste · ärende {world['reference']}" in text, text
    message = json.loads(text)
    assert MEMBER not in json.dumps(message["blocks"][3:], ensure_ascii=False)

    refused = reply_to(bot, "logg Kommunstyrelsen", ADMIN)
    assert "Kommunstyrelsen" in refused

    # The exports read as the review does, in the reviewer's language, with names beside
    # the Slack ids: a Swedish reviewer opens them in Excel.
    bot.slack.set_user(OTHER, real_name="Kim Socialsekreterare")
    buttons = next(b for b in message["blocks"] if b.get("block_id") == "privacy_log_export")
    csv_button, xlsx_button = buttons["elements"]
    bot.driver.block_action(
        csv_button["action_id"], user=REVIEWER, value=csv_button["value"], channel=CHANNEL
    )
    done = bot.slack.wait_for("files.completeUploadExternal")[0]
    assert done.args["channel_id"] == f"D{REVIEWER}"
    (data,) = bot.slack.uploads.values()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    headers = ["Tid (Europe/Stockholm)", "Namn", "Slack-id", "Verksamhet", "Händelse"]
    headers += ["Gäller", "Referens", "Flaggor"]
    assert rows[0] == headers and len(rows) == 6, rows[0]
    seen = ["Kim Socialsekreterare", OTHER, "Socialtjänst/IFO", "läste", "ärende"]
    assert all(r[1:7] == [*seen, world["reference"]] for r in rows[1:]), rows
    assert rows[1][0] == "2026-11-23 23:30:00"  # the forum's time, as the review shows it
    flags = rows[1][7].split(", ")
    assert {"läste nattetid", "många läsningar av andra verksamheters ärenden"} <= set(flags)
    bot.driver.block_action(
        xlsx_button["action_id"], user=REVIEWER, value=xlsx_button["value"], channel=CHANNEL
    )
    bot.slack.wait_for("files.completeUploadExternal", count=2)
    (book,) = [v for v in bot.slack.uploads.values() if v != data]
    sheet = load_workbook(io.BytesIO(book))["Loggen"]
    table = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert table[0] == headers and table[1:] == rows[1:]
    text = data.decode("utf-8-sig") + json.dumps(table, ensure_ascii=False)
    for machine in ("read", "case", "night", "outside_agency", "object_type"):
        assert machine not in text.replace("Socialsekreterare", ""), machine
    assert SUMMARY not in text
    with bot.sessions() as s:
        kinds = s.scalars(
            select(AuditEvent.action).where(AuditEvent.object_type == "audit_log")
        ).all()
    assert AuditAction.READ in kinds and AuditAction.EXPORT in kinds
    bot.slack.assert_no_violations()


def test_the_log_filter_reads_a_reference_in_ascii_digits_and_asks_again_for_other_digits(
    bot: Bot,
) -> None:
    world = setup_forum(bot)
    reference = world["reference"]  # FOS-2026-001, read (audited) when it was raised
    # Typed as the forms make it, or in lower case: the log of that case.
    for typed in (reference, reference.lower()):
        text = reply_to(bot, f"logg {typed}", REVIEWER)
        assert f"ärende {reference}" in text and "förstod inte" not in text
    # The same reference with Arabic-Indic digits is no reference the log holds (they are
    # written with 0-9): not an empty log for a case "never read", but a friendly question.
    arabic = reference.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    text = reply_to(bot, f"logg {arabic}", REVIEWER)
    assert f"Jag förstod inte {arabic}" in text and "ärendereferens (FOS-2026-001)" in text
    assert "Händelser" not in text and "Traceback" not in text
    bot.slack.assert_no_violations()


def test_the_monthly_log_check_reaches_each_reviewer_once_on_the_first_working_day(
    bot: Bot,
) -> None:
    setup_forum(bot)
    bot.clock.set(dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC))  # Tuesday 1 December
    bot.run_due_work()
    bot.run_due_work()
    dms = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == REVIEWER]
    assert len(dms) == 1
    assert "november 2026" in dms[0].args["text"]
    assert SUMMARY not in dms[0].args["text"]
    # The command it suggests answers only in the forum's channel (refused in this DM):
    # the DM says where to type it.
    assert "/samverkan logg 2026-11 i <#C0001>" in dms[0].args["text"]
    # January 2027: the 1st is a holiday, then a weekend; Monday the 4th is the day.
    bot.clock.set(dt.datetime(2027, 1, 3, 9, 0, tzinfo=dt.UTC))
    bot.run_due_work()
    assert (
        len([c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == REVIEWER])
        == 1
    )
    bot.clock.set(dt.datetime(2027, 1, 4, 7, 0, tzinfo=dt.UTC))
    bot.run_due_work()
    bot.run_due_work()
    dms = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == REVIEWER]
    assert len(dms) == 2 and "december 2026" in dms[1].args["text"]


# --- consent register -----------------------------------------------------------------------


def test_the_consent_register_is_an_audited_read_for_the_raising_agency_and_coordinators(
    bot: Bot,
) -> None:
    world = setup_forum(bot)
    ref = world["reference"]
    text = reply_to(bot, f"samtycke {ref.lower()}", MEMBER)
    assert ref in text and "Elevhälsa" in text
    assert "Lämnat " in text and "Givet" not in text  # consent is "lämnat", as elsewhere
    assert SUMMARY not in text
    refused = reply_to(bot, f"samtycke {ref}", OTHER)
    assert "Elevhälsa" not in refused
    with bot.sessions() as s:
        reads = s.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "consent").order_by(AuditEvent.id)
        ).all()
    assert [(r.actor, r.detail) for r in reads] == [
        (MEMBER, {"surface": "consent_register", "details": True, "basis": "raising_agency"}),
        (OTHER, {"surface": "consent_register", "details": False}),
    ]
    # Its dates read as dates do elsewhere, the recording's as its given day ("2026-11-23
    # 10:00" sat beside "Givet måndag 23 november 2026").
    assert "Registrerat av <@U2> måndag 23 november 2026 10:00" in text, text
    expiring = reply_to(bot, "samtycke", ADMIN)
    assert ref in expiring
    assert "samordnare" in reply_to(bot, "samtycke", MEMBER)
    bot.slack.assert_no_violations()


def test_three_replicas_at_once_send_the_monthly_check_and_run_retention_once(bot: Bot) -> None:
    import threading

    from sqlalchemy import select as _select

    from storage.models import EffectStatus, ScheduledEffect

    setup_forum(bot)
    bot.clock.set(dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC))  # Tuesday 1 December
    barrier = threading.Barrier(3)

    def replica() -> None:
        barrier.wait()
        bot.run_due_work()

    threads = [threading.Thread(target=replica) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    dms = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == REVIEWER]
    assert len(dms) == 1
    with bot.sessions() as s:
        runs = s.scalars(
            _select(ScheduledEffect).where(ScheduledEffect.kind.in_(("gallring", "log_check")))
        ).all()
    assert sorted(r.kind for r in runs) == ["gallring", "log_check"]
    assert {r.status for r in runs} == {EffectStatus.DONE}


def test_the_privacy_examples_use_the_forums_own_code_and_year(bot: Bot) -> None:
    """In forum TE the log's filter hint and the retention's legal-hold hint give
    "TE-2026-001", not another forum's "FOS-2026-017"."""
    with transaction(bot.sessions) as s:
        fs.create_forum(
            s,
            bot.clock,
            team_id="T0001",
            channel_id=CHANNEL,
            actor=ADMIN,
            draft=forum_draft(name="Trygg Ekeby", code="TE"),
        )
    year = bot.clock.now().year
    log = reply_to(bot, "logg", ADMIN)
    assert "Trygg Ekeby" in log and f"TE-{year}-001 eller {year}-" in log, log
    kept = reply_to(bot, "gallring", ADMIN)
    assert f"/samverkan gallring stopp TE-{year}-001" in kept, kept
    assert f"/samverkan gallring släpp TE-{year}-001" in kept, kept
    assert "FOS-" not in log + kept


def test_the_hints_and_errors_about_a_missing_reference_use_the_forums_own_code_and_year(
    bot: Bot,
) -> None:
    """In forum TE, in 2026: /samverkan grund without a reference, gallring stopp/släpp
    without one, the expiring consents' hint and the log filter's question give
    "TE-2026-001" (and this month), not another forum's "FOS-2026-017"; släpp is told
    släpp, not stopp."""
    with transaction(bot.sessions) as s:
        fs.create_forum(
            s,
            bot.clock,
            team_id="T0001",
            channel_id=CHANNEL,
            actor=ADMIN,
            draft=forum_draft(name="Trygg Ekeby", code="TE"),
        )
    year = bot.clock.now().year
    own = f"TE-{year}-001"
    ground = reply_to(bot, "grund", ADMIN)
    assert f"/samverkan grund {own}" in ground, ground
    hold = reply_to(bot, "gallring stopp", ADMIN)
    assert f"/samverkan gallring stopp {own} följt av skälet" in hold, hold
    release = reply_to(bot, "gallring släpp", ADMIN)
    assert f"/samverkan gallring släpp {own}" in release and "stopp" not in release, release
    expiring = reply_to(bot, "samtycke", ADMIN)
    assert f"/samverkan samtycke {own}" in expiring, expiring
    month = bot.clock.now().strftime("%Y-%m")
    asked = reply_to(bot, "logg Kommunstyrelsen", ADMIN)
    assert f"ärendereferens ({own})" in asked and f"({month} eller {month}-01.." in asked, asked
    assert "FOS-" not in ground + hold + release + expiring + asked
    for text in (ground, hold, release, expiring, asked):
        assert "Traceback" not in text
    bot.slack.assert_no_violations()


def test_a_consent_on_its_last_day_is_listed_as_today_and_the_log_names_exported_members(
    bot: Bot,
) -> None:
    """On a consent's last day the coordinators' list says so ("i dag är sista dagen"), not
    "om 0 dagar"; the day before it still counts ("om 1 dag"). A register extract in the
    log names the member as Slack shows people (<@U2>), not a bare "U2"."""
    world = setup_forum(bot)  # the consent holds 20 days from 23 November
    bot.clock.set(bot.clock.now() + dt.timedelta(days=19))
    assert "(om 1 dag)" in reply_to(bot, "samtycke", ADMIN)
    bot.clock.set(bot.clock.now() + dt.timedelta(days=1))
    listed = reply_to(bot, "samtycke", ADMIN)
    assert f"*{world['reference']}* · gäller till och med söndag 13 december 2026" in listed
    assert "(i dag är sista dagen)" in listed and "om 0 dagar" not in listed, listed
    reply_to(bot, f"registerutdrag <@{MEMBER}>", REVIEWER)
    log = reply_to(bot, "logg", REVIEWER)
    assert f"exporterade · medlem <@{MEMBER}>" in log, log
    bot.slack.assert_no_violations()
