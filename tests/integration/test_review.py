"""The half-year review through the real app: /samverkan uppföljning sends a PDF and an xlsx
(read back: pages, tables, Swedish characters, "färre än 5") and a short channel summary;
bad periods are refused; the forum setting sends it by itself once after the period ends."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from storage.db import transaction
from storage.models import (
    Action,
    ActionStatus,
    AgendaItem,
    AgendaItemKind,
    Case,
    CaseStatus,
    Deviation,
    Effect,
    Forum,
    Meeting,
    MeetingStatus,
    Rating,
    RatingRound,
    RatingRoundStatus,
    SipStatus,
)
from tests.conftest import Bot
from tests.integration.test_action_flow import ADMIN, ELEVHALSA, SOCIAL, make_forum

CHANNEL = "C0001"


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    ids = make_forum(bot)
    with transaction(bot.sessions) as s:
        created = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
        row = s.get(Forum, ids["forum"])
        assert row is not None
        row.created_at = created  # the forum has run all year
        for n in range(7):
            agency = ids["Elevhälsa"] if n < 6 else ids["Socialtjänst/IFO"]
            s.add(
                Case(
                    forum_id=ids["forum"],
                    reference=f"FOS-2026-{n + 1:03d}",
                    year=2026,
                    sequence=n + 1,
                    raised_by=ELEVHALSA,
                    raising_agency_id=agency,
                    summary="Sammanfattning som aldrig syns",
                    concerns=["school_absence"] if n < 5 else ["mental_health"],
                    age_band="13-15",
                    status=CaseStatus.CLOSED if n < 2 else CaseStatus.NEW,
                    sip=SipStatus.STARTED if n < 5 else SipStatus.NOT_RELEVANT,
                    effect=Effect.YES if n < 2 else None,
                    closed_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC) if n < 2 else None,
                    created_at=dt.datetime(2026, 2, 1 + n, 10, tzinfo=dt.UTC),
                    updated_at=dt.datetime(2026, 2, 1 + n, 10, tzinfo=dt.UTC),
                )
            )
        s.add_all(_done_action(ids, "Kartläggning", Effect.PARTLY) for _n in range(6))
        s.add(
            Deviation(
                forum_id=ids["forum"],
                reported_by=ADMIN,
                reporting_agency_id=ids["Grundskola"],
                kind="information",
                text="Information delades inte i tid",
                created_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
                updated_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
            )
        )
        for month, levels in ((3, (4, 4)), (4, (3, 2)), (5, (2, 2))):
            start = dt.datetime(2026, month, 12, 12, tzinfo=dt.UTC)
            meeting = Meeting(
                forum_id=ids["forum"],
                occurrence=start,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=2),
                status=MeetingStatus.HELD,
                attendance=[ids["Grundskola"], ids["Elevhälsa"]],
            )
            s.add(meeting)
            s.flush()
            rnd = RatingRound(
                forum_id=ids["forum"],
                meeting_id=meeting.id,
                opens_at=start - dt.timedelta(days=7),
                deadline_at=start,
                closed_at=start,
                status=RatingRoundStatus.CLOSED,
            )
            s.add(rnd)
            s.flush()
            for agency, level in zip((ids["Grundskola"], ids["Elevhälsa"]), levels, strict=True):
                s.add(
                    Rating(
                        round_id=rnd.id,
                        agency_id=agency,
                        area_id=ids["area"],
                        level=level,
                        rated_by=ADMIN,
                        rated_at=start,
                        is_current=True,
                    )
                )
    return ids


def uploads(bot: Bot, suffix: str) -> list[bytes]:
    found = []
    for call in bot.slack.calls_to("files.completeUploadExternal"):
        for item in call.args["files"]:
            if str(item.get("title", "")).endswith(suffix):
                found.append(bot.slack.uploads[item["id"]])
    return found


def last_reply(bot: Bot, count: int) -> str:
    # Building the PDF (matplotlib, fpdf2) takes a moment on a busy machine.
    reply = bot.slack.wait_for("response_url", count=count, timeout=30)[-1]
    return json.dumps(reply.args, ensure_ascii=False)


def _done_action(ids: dict[str, int], description: str, effect: Effect) -> Action:
    """An action of Elevhälsa's done on 5 March 2026 with ``effect``."""
    return Action(
        forum_id=ids["forum"],
        description=description,
        owning_agency_id=ids["Elevhälsa"],
        owner=ELEVHALSA,
        due_on=dt.date(2026, 3, 10),
        status=ActionStatus.DONE,
        effect=effect,
        completed_at=dt.datetime(2026, 3, 5, tzinfo=dt.UTC),
        created_by=ADMIN,
        created_at=dt.datetime(2026, 2, 20, tzinfo=dt.UTC),
        updated_at=dt.datetime(2026, 3, 5, tzinfo=dt.UTC),
    )


def test_statistics_hide_counts_under_5_as_the_review_does(bot: Bot, forum: dict[str, int]) -> None:
    """Any member may run `/samverkan statistik`, for any period, while a case's details are
    only for the agencies that may see it: the counts under 5 read "färre än 5", as in the
    review, with the same note. FOSSAM's 6 cases of Elevhälsa and 1 of Socialtjänst/IFO
    both hide (the 6 too, or 7 − 6 gives the 1 back); the 7 cases and the 6 actions done,
    all on time, are shown; SIP started in 5 of 7 hides too (the 2 without would show)."""
    bot.driver.command("statistik 2026", user=ADMIN)
    text = last_reply(bot, 1)
    assert "*Ärenden: 7*" in text, text
    assert "• Elevhälsa: färre än 5" in text and "• Socialtjänst/IFO: färre än 5" in text, text
    assert "SIP startad i färre än 5 av 7 ärenden (–); behövs i 0." in text, text
    assert "Klara: 6, varav i tid: 6 (100 %), klara efter ny sista dag: 0." in text, text
    assert "Antal under 5 visas som ”färre än 5”." in text, text


def test_the_review_comes_as_pdf_and_xlsx_with_a_channel_summary(
    bot: Bot, forum: dict[str, int]
) -> None:
    bot.driver.command("uppföljning 2026-01-01 2026-06-30", user=ADMIN)
    assert "direktmeddelande" in last_reply(bot, 1)
    bot.slack.wait_for("files.completeUploadExternal", count=2, timeout=30)
    (pdf,) = uploads(bot, ".pdf")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Halvårsuppföljning: FOSSAM" in text
    assert "Sida 1 av" in text and "Lägesbild: trend per område" in text
    assert "Ärenden som lyfts" in text and "7" in text  # 7 cases: shown
    assert "färre än 5" in text  # e.g. 2 closed cases, 1 deviation
    assert "Sammanfattning som aldrig syns" not in text and "FOS-2026" not in text
    assert "Närvaro per verksamhet" in text

    (xlsx,) = uploads(bot, ".xlsx")
    book = load_workbook(io.BytesIO(xlsx))
    summary = {row[0].value: row[1].value for row in book.worksheets[0].iter_rows()}
    assert summary["Ärenden som lyfts"] == 7
    assert summary["Avslutade ärenden"] == "färre än 5"
    assert summary["Insatser klara"] == 6
    # On time is judged against the due date first agreed; done only by a new one apart.
    assert summary["Klara i tid"] == 6 and summary["Klara efter ny sista dag"] == 0
    assert "Klara efter ny sista dag" in text

    posted = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    summary_text = json.dumps(posted[-1].args, ensure_ascii=False)
    assert "Halvårsuppföljning" in summary_text and "färre än 5" in summary_text
    assert "i tid (till den först beslutade sista dagen), 0 efter ny sista dag" in summary_text
    assert "Sammanfattning som aldrig syns" not in summary_text


def discuss(bot: Bot, forum: dict[str, int], sequences: list[list[int]]) -> None:
    """FOSSAM's cases discussed at its meetings in 2026: one held meeting per list of case
    sequences (each discussed there), a week apart from 2 March; and one cancelled meeting
    where case 7 was marked discussed, which counts for nothing."""
    with transaction(bot.sessions) as s:
        found = s.execute(select(Case.sequence, Case.id).where(Case.forum_id == forum["forum"]))
        ids = {seq: case_id for seq, case_id in found}
        start = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)
        held = [(seqs, MeetingStatus.HELD) for seqs in sequences]
        for n, (seqs, status) in enumerate([*held, ([7], MeetingStatus.CANCELLED)]):
            starts = start + dt.timedelta(days=7 * n)
            meeting = Meeting(
                forum_id=forum["forum"],
                occurrence=starts,
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=2),
                status=status,
            )
            s.add(meeting)
            s.flush()
            s.add_all(
                AgendaItem(
                    meeting_id=meeting.id,
                    kind=AgendaItemKind.FOLLOW_UP,
                    case_id=ids[seq],
                    position=i + 1,
                    added_at=starts,
                    discussed=True,
                )
                for i, seq in enumerate(seqs)
            )


def test_the_review_counts_the_cases_discussed_and_hides_a_small_count(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The review counted only the cases raised; it now says how many cases the forum's
    meetings discussed (each once, cancelled meetings not counted), under the small-number
    rule of its other counts: case 1 discussed twice and case 2 once is 2, "färre än 5"."""
    discuss(bot, forum, [[1, 2], [1]])
    bot.driver.command("uppföljning 2026-01-01 2026-06-30", user=ADMIN)
    assert "direktmeddelande" in last_reply(bot, 1)
    bot.slack.wait_for("files.completeUploadExternal", count=2, timeout=30)
    (xlsx,) = uploads(bot, ".xlsx")
    book = load_workbook(io.BytesIO(xlsx))
    summary = {row[0].value: row[1].value for row in book.worksheets[0].iter_rows()}
    assert summary["Ärenden som behandlats på forumets möten"] == "färre än 5"
    (pdf,) = uploads(bot, ".pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Ärenden som behandlats på forumets möten" in text
    posted = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    summary_text = json.dumps(posted[-1].args, ensure_ascii=False)
    assert "behandlade på mötena: färre än 5" in summary_text, summary_text


def test_a_hidden_action_effect_cannot_be_worked_out_from_the_actions_done(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Eight actions done (shown), six with the effect "partly" (shown) and two "yes"
    (hidden): "yes" would be 8 − 6 − 0 = 2. The effects are a breakdown of the actions done,
    so the next smallest cell is hidden too (secondary suppression), as for the outcomes."""
    with transaction(bot.sessions) as s:
        s.add_all(_done_action(forum, "Uppföljning", Effect.YES) for _n in range(2))
    bot.driver.command("uppföljning 2026-01-01 2026-06-30", user=ADMIN)
    assert "direktmeddelande" in last_reply(bot, 1)
    bot.slack.wait_for("files.completeUploadExternal", count=2, timeout=30)
    (xlsx,) = uploads(bot, ".xlsx")
    book = load_workbook(io.BytesIO(xlsx))
    summary = {row[0].value: row[1].value for row in book.worksheets[0].iter_rows()}
    assert summary["Insatser klara"] == 8
    effects = {row[0].value: row[1].value for row in book["Insatsernas effekt"].iter_rows()}
    assert effects["Ja"] == "färre än 5" and effects["Nej"] == 0
    assert effects["Delvis"] == "färre än 5"


def test_a_hidden_concern_or_sip_count_cannot_be_worked_out_from_the_cases_raised(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Seven cases raised (shown), one concern each: five school absence (shown) and two
    mental ill-health ("fewer than 5"), 7 − 5 = 2. Concerns are multi-select but sum to the
    cases raised here, so the next smallest is hidden too. SIP was started in five of them:
    5 beside 7 gave the two without SIP, which the share already kept back. The same in the
    xlsx, the PDF and the channel summary."""
    bot.driver.command("uppföljning 2026-01-01 2026-06-30", user=ADMIN)
    assert "direktmeddelande" in last_reply(bot, 1)
    bot.slack.wait_for("files.completeUploadExternal", count=2, timeout=30)
    (xlsx,) = uploads(bot, ".xlsx")
    book = load_workbook(io.BytesIO(xlsx))
    summary = {row[0].value: row[1].value for row in book.worksheets[0].iter_rows()}
    assert summary["Ärenden som lyfts"] == 7
    concerns = {row[0].value: row[1].value for row in book["Problemområden"].iter_rows()}
    assert concerns["Psykisk ohälsa"] == "färre än 5"
    assert concerns["Skolfrånvaro"] == "färre än 5"
    assert summary["SIP påbörjad"] == "färre än 5"
    (pdf,) = uploads(bot, ".pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "SIP påbörjad färre än 5" in text
    posted = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    assert "SIP påbörjad: färre än 5" in json.dumps(posted[-1].args, ensure_ascii=False)


def test_a_year_review_keeps_hidden_what_its_half_year_reviews_hid(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Seven cases in the first half of 2026 (shown in its review), three in the second
    ("fewer than 5" in its review). A review of the year 2026 showed 10 in the channel:
    10 − 7 = 3. The year is the two halves: what either hid stays hidden."""
    with transaction(bot.sessions) as s:
        for n in range(3):
            s.add(
                Case(
                    forum_id=forum["forum"],
                    reference=f"FOS-2026-{n + 8:03d}",
                    year=2026,
                    sequence=n + 8,
                    raised_by=ELEVHALSA,
                    raising_agency_id=forum["Elevhälsa"],
                    summary="Sammanfattning som aldrig syns",
                    concerns=["school_absence"],
                    age_band="13-15",
                    created_at=dt.datetime(2026, 9, 1 + n, 10, tzinfo=dt.UTC),
                    updated_at=dt.datetime(2026, 9, 1 + n, 10, tzinfo=dt.UTC),
                )
            )
    bot.clock.set(dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC))
    bot.driver.command("uppföljning 2026", user=ADMIN)
    assert "direktmeddelande" in last_reply(bot, 1)
    bot.slack.wait_for("files.completeUploadExternal", count=2, timeout=30)
    (xlsx,) = uploads(bot, ".xlsx")
    book = load_workbook(io.BytesIO(xlsx))
    summary = {row[0].value: row[1].value for row in book.worksheets[0].iter_rows()}
    assert summary["Från"] == "2026-01-01" and summary["Till"] == "2026-12-31"
    assert summary["Ärenden som lyfts"] == "färre än 5"
    posted = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    text = json.dumps(posted[-1].args, ensure_ascii=False)
    assert "Ärenden som lyfts:* färre än 5" in text and "lyfts:* 10" not in text


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("2026-06-30 2026-01-01", "slutar innan den börjar"),
        ("2027-01-01 2027-06-30", "framtiden"),
        ("2026-07-01 2026-12-31", "framtiden"),
        ("förra halvåret", "2026-h1"),
    ],
)
def test_a_bad_period_is_refused_and_nothing_is_sent(
    bot: Bot, forum: dict[str, int], words: str, expected: str
) -> None:
    bot.driver.command(f"uppföljning {words}", user=ADMIN)
    assert expected in last_reply(bot, 1)
    assert bot.slack.count("files.completeUploadExternal") == 0


def test_members_who_are_not_coordinators_are_refused(bot: Bot, forum: dict[str, int]) -> None:
    bot.driver.command("uppföljning", user=SOCIAL)
    assert "samordnare" in last_reply(bot, 1)
    assert bot.slack.count("files.completeUploadExternal") == 0


def test_the_forum_sends_it_by_itself_once_after_the_half_year(
    bot: Bot, forum: dict[str, int]
) -> None:
    # 1 July 2026 is a Wednesday: 08:00 Stockholm (06:00 UTC) the review is due.
    bot.clock.set(dt.datetime(2026, 7, 1, 5, 59, tzinfo=dt.UTC))
    bot.run_due_work()
    assert bot.slack.count("files.completeUploadExternal") == 0
    bot.clock.set(dt.datetime(2026, 7, 1, 6, 1, tzinfo=dt.UTC))
    bot.run_due_work()
    bot.run_due_work()
    # The forum's admin is its only coordinator: one PDF and one xlsx, in a DM.
    assert len(uploads(bot, ".pdf")) == 1 and len(uploads(bot, ".xlsx")) == 1
    done = bot.slack.calls_to("files.completeUploadExternal")
    assert all(str(c.args.get("channel_id", "")).startswith("D") for c in done)
    posted = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    assert len(posted) == 1 and "Samordnarna" in json.dumps(posted[0].args, ensure_ascii=False)
    pdf = PdfReader(io.BytesIO(uploads(bot, ".pdf")[0]))
    assert "1 januari 2026 – tisdag 30 juni 2026" in pdf.pages[0].extract_text()

    # Turned off in the settings: nothing after the next half-year.
    values: dict[str, Any] = {
        "review_auto": {"value": {"type": "checkboxes", "selected_options": []}},
        "review_end": {"value": {"type": "static_select", "selected_option": {"value": "6"}}},
    }
    response = bot.driver.view_submission(
        "review_settings",
        values,
        user=ADMIN,
        private_metadata=json.dumps({"locale": "sv", "forum_id": forum["forum"]}),
        blocks=[{"type": "input", "block_id": b} for b in values],
    )
    assert response.json() is None
    bot.clock.set(dt.datetime(2027, 1, 4, 8, 0, tzinfo=dt.UTC))
    bot.run_due_work()
    assert len(uploads(bot, ".pdf")) == 1
    with bot.sessions() as session:
        row = session.scalars(select(Forum)).one()
        assert row.settings["review"] == {"auto": False, "end_month": 6}


def test_the_trend_compares_like_with_like_and_names_the_agency_that_stopped_answering(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Centrum: in March Grundskola says oroande (2) and Skola allvarligt (5); in May only
    Grundskola answers, oroande still. Over all answers the median fell from 3.5 to 2 and
    the review said "förbättrat"; compared like with like (Grundskola both times) it is
    unchanged, its columns show the medians compared (2 and 2, not "3.5 2 → oförändrat"),
    and the note names Skola as left out, in the PDF and the workbook. Norr, answered by
    both both times (2 and 5, then 3 and 5), reads "3,5 4" in Swedish numbers."""
    from domain import forums as fs
    from tests.support.forums import forum_draft

    with transaction(bot.sessions) as s:
        row = s.get(Forum, forum["forum"])
        assert row is not None
        draft = forum_draft(
            agencies=["Grundskola", "Elevhälsa", "Socialtjänst/IFO", "Skola"],
            areas=["Hemse", "Centrum", "Norr"],
        )
        fs.update_forum(s, bot.clock, forum=row, actor=ADMIN, draft=draft)
        s.flush()
        skola = next(a.id for a in row.agencies if a.name == "Skola")
        centrum = next(a.id for a in row.areas if a.name == "Centrum")
        rounds = s.execute(
            select(RatingRound.id, Meeting.starts_at)
            .join(Meeting, Meeting.id == RatingRound.meeting_id)
            .order_by(Meeting.starts_at)
        ).all()
        march, may = rounds[0], rounds[-1]
        ratings: list[tuple[int, dt.datetime, int, int, int]] = []
        for (round_id, start), agency, level in (
            (march, forum["Grundskola"], 2),
            (march, skola, 5),
            (may, forum["Grundskola"], 2),
        ):
            ratings.append((round_id, start, agency, centrum, level))
        norr = next(a.id for a in row.areas if a.name == "Norr")
        for (round_id, start), agency, level in (
            (march, forum["Grundskola"], 2),
            (march, skola, 5),
            (may, forum["Grundskola"], 3),
            (may, skola, 5),
        ):
            ratings.append((round_id, start, agency, norr, level))
        for round_id, start, agency, area, level in ratings:
            s.add(
                Rating(
                    round_id=round_id,
                    agency_id=agency,
                    area_id=area,
                    level=level,
                    rated_by=ADMIN,
                    rated_at=start,
                    is_current=True,
                )
            )
    bot.driver.command("uppföljning 2026-01-01 2026-06-30", user=ADMIN)
    bot.slack.wait_for("files.completeUploadExternal", count=2, timeout=30)
    (pdf,) = uploads(bot, ".pdf")
    text = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    assert "Centrum 2 2 → oförändrat" in text
    assert "Norr 3,5 4 ↑ försämrat" in text
    assert "Trenden jämför varje områdes första och sista möte under perioden" in text
    assert "Svarade inte vid sista mötet: Skola." in text
    (xlsx,) = uploads(bot, ".xlsx")
    book = load_workbook(io.BytesIO(xlsx))
    rows = [[c.value for c in row] for row in book["Trend över perioden"].iter_rows()]
    assert ["Centrum", "2", "2", "→ oförändrat"] in rows
    assert ["Norr", "3,5", "4", "↑ försämrat"] in rows
    assert any("Svarade inte vid sista mötet: Skola." in str(r[0]) for r in rows)
