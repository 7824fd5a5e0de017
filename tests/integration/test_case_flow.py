"""Cases through the real app: raise, announce, list, open (audited), lifecycle, deviations."""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from domain import forums as fs
from storage.db import transaction
from storage.models import AuditAction, AuditEvent, Case, Deviation, Role
from tests.conftest import Bot
from tests.support.forums import forum_draft
from tests.support.personnummer import pnr
from tests.support.slack_driver import (
    checkbox_values,
    multi_select_values,
    plain_value,
    radio_value,
    select_value,
)

CHANNEL = "C0001"
SUMMARY = "Hemlig sammanfattning om skolfrånvaro sedan oktober"
ADMIN, ELEVHALSA, SOCIAL, OUTSIDER = "U1", "U2", "U3", "U9"


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    """FOSSAM with an admin (Grundskola) and members of Elevhälsa and Socialtjänst/IFO."""
    draft = forum_draft(agencies=["Grundskola", "Elevhälsa", "Socialtjänst/IFO", "Polis"])
    with transaction(bot.sessions) as s:
        created = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id=CHANNEL, actor=ADMIN, draft=draft
        )
        agencies = {a.name: a.id for a in created.agencies}
        for user, agency in ((ELEVHALSA, "Elevhälsa"), (SOCIAL, "Socialtjänst/IFO")):
            fs.add_members(
                s,
                bot.clock,
                forum=created,
                actor=ADMIN,
                slack_user_ids=[user],
                agency_id=agencies[agency],
                role=Role.MEMBER,
            )
        return {"forum": created.id, **agencies}


def meta(forum: dict[str, int], **extra: Any) -> str:
    return json.dumps({"locale": "sv", "channel_id": CHANNEL, "forum_id": forum["forum"], **extra})


def case_values(
    forum: dict[str, int],
    *,
    summary: str = SUMMARY,
    consent: str = "guardians",
    consent_agencies: tuple[str, ...] = ("Elevhälsa",),
    sip: str = "not_relevant",
) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        "summary": {"value": plain_value(summary)},
        "concerns": {"value": multi_select_values(["school_absence", "mental_health"])},
        "age_band": {"value": radio_value("13-15")},
        "agencies": {
            "value": multi_select_values([str(forum["Elevhälsa"]), str(forum["Socialtjänst/IFO"])])
        },
        "consent": {"value": radio_value(consent)},
        "consent_agencies": {
            "value": multi_select_values([str(forum[a]) for a in consent_agencies])
        },
        "consent_given_on": {"value": {"type": "datepicker", "selected_date": "2026-11-20"}},
        "consent_expires_on": {"value": {"type": "datepicker", "selected_date": None}},
        "sip": {"value": radio_value(sip)},
    }


def blocks_of(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "input", "block_id": block_id} for block_id in values]


def submit_case(
    bot: Bot, forum: dict[str, int], *, user: str = ADMIN, view_id: str = "V100", **kw: Any
) -> Any:
    values = case_values(forum, **kw)
    return bot.driver.view_submission(
        "case_new",
        values,
        user=user,
        private_metadata=meta(forum),
        view_id=view_id,
        blocks=blocks_of(values),
    )


def count(bot: Bot, model: Any, *where: Any) -> int:
    with bot.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def all_calls_text(bot: Bot) -> str:
    return json.dumps([c.args for c in bot.slack.calls], ensure_ascii=False)


def test_case_command_opens_the_modal_for_members_only(bot: Bot, forum: dict[str, int]) -> None:
    bot.driver.command("ärende", user=ELEVHALSA)
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == "case_new"
    ids = {b.get("block_id") for b in view["blocks"]}
    assert {"summary", "concerns", "age_band", "agencies", "consent", "sip", "meeting"} <= ids
    bot.slack.assert_no_violations()

    bot.driver.command("nytt ärende", user=OUTSIDER)
    reply = bot.slack.wait_for("response_url")[0]
    assert "medlemmar" in json.dumps(reply.args, ensure_ascii=False).lower()
    assert bot.slack.count("views.open") == 1


def test_raising_a_case_announces_the_reference_and_never_the_summary(
    bot: Bot, forum: dict[str, int]
) -> None:
    response = submit_case(bot, forum)
    assert response.status == 200 and response.json() is None
    with bot.sessions() as session:
        case = session.scalars(select(Case)).one()
        assert case.reference == "FOS-2026-001"
        assert case.summary == SUMMARY
    post = bot.slack.wait_for("chat.postMessage")[0]
    assert post.args["channel"] == CHANNEL
    text = json.dumps(post.args, ensure_ascii=False)
    assert "FOS-2026-001" in text and "Elevhälsa" in text and "Socialtjänst/IFO" in text
    # DMs to the members of the agencies that need to take part (not the raiser).
    dms = bot.slack.wait_for("chat.postMessage", count=3)[1:]
    assert {d.args["channel"] for d in dms} == {ELEVHALSA, SOCIAL}
    # Which forum and when on the day: a member of several forums tells them apart.
    assert [d.args["text"] for d in dms] == [
        "FOSSAM: FOS-2026-001 tas upp torsdag 26 november 13:00; er verksamhet behöver delta."
    ] * 2
    assert SUMMARY not in all_calls_text(bot)
    assert "skolfrånvaro" not in all_calls_text(bot).lower()
    bot.slack.assert_no_violations()


def test_identifying_data_in_the_summary_is_refused_on_the_field(
    bot: Bot, forum: dict[str, int]
) -> None:
    for bad in (f"Elev {pnr('090412', '123')} frånvarande", "ring mamma 070-123 45 67"):
        response = submit_case(bot, forum, summary=bad)
        body = response.json()
        assert body["response_action"] == "errors"
        assert list(body["errors"]) == ["summary"]
    assert count(bot, Case) == 0
    assert bot.slack.count("chat.postMessage") == 0


def test_a_person_name_in_the_summary_is_refused_with_the_text_kept(
    bot: Bot, forum: dict[str, int]
) -> None:
    """ "Pappa heter Anders Svensson" passed the guard (names were not read at all): now the
    field error says why and asks for the case reference; the modal stays open as typed
    (an "errors" answer, no replaced view), nothing is stored or posted."""
    response = submit_case(bot, forum, summary="Oro i hemmet. Pappa heter Anders Svensson.")
    body = response.json()
    assert body == {
        "response_action": "errors",
        "errors": {
            "summary": "Det här ser ut som en persons namn: ta bort det och använd "
            "ärendereferensen och avidentifierad text i stället."
        },
    }
    bot.run_due_work()
    assert count(bot, Case) == 0
    assert bot.slack.count("chat.postMessage") == 0
    assert "Svensson" not in all_calls_text(bot)
    # A school's name is no person's: the same summary with the school passes.
    passed = submit_case(bot, forum, summary="Skolan heter Gråboskolan", view_id="V101")
    assert passed.status == 200 and passed.json() is None
    assert count(bot, Case) == 1


def test_a_submission_delivered_twice_creates_one_case(bot: Bot, forum: dict[str, int]) -> None:
    assert submit_case(bot, forum, view_id="V7").status == 200
    assert submit_case(bot, forum, view_id="V7").status == 200
    assert count(bot, Case) == 1
    bot.slack.wait_for("chat.postMessage", count=3)
    posts = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    assert len(posts) == 1


def test_parallel_submissions_get_distinct_references(bot: Bot, forum: dict[str, int]) -> None:
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def submit(n: int) -> None:
        barrier.wait()
        statuses.append(submit_case(bot, forum, view_id=f"VP{n}").status)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [200] * 6
    with bot.sessions() as session:
        references = sorted(session.scalars(select(Case.reference)))
    assert references == [f"FOS-2026-{n:03d}" for n in range(1, 7)]


def test_the_list_shows_logistics_only_and_reads_nothing(bot: Bot, forum: dict[str, int]) -> None:
    submit_case(bot, forum)
    audits = count(bot, AuditEvent)
    bot.driver.command("ärenden", user=SOCIAL)
    reply = bot.slack.wait_for("response_url")[-1]
    text = json.dumps(reply.args, ensure_ascii=False)
    assert "FOS-2026-001" in text
    assert SUMMARY not in text
    assert "Sida" not in text  # one page: no paging text
    assert count(bot, AuditEvent) == audits  # a list is not a read of details
    bot.slack.assert_no_violations()


def open_case(bot: Bot, user: str) -> dict[str, Any]:
    with bot.sessions() as session:
        case_id = session.scalars(select(Case.id)).one()
    before = bot.slack.count("views.open")
    bot.driver.block_action("case_open", user=user, value=str(case_id), channel=CHANNEL)
    view: dict[str, Any] = bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"]
    return view


def test_opening_a_case_shows_details_to_covered_agencies_and_audits_each_read(
    bot: Bot, forum: dict[str, int]
) -> None:
    submit_case(bot, forum, consent_agencies=("Elevhälsa",))
    reads = (AuditEvent.action == AuditAction.READ,)
    covered = open_case(bot, ELEVHALSA)
    assert SUMMARY in json.dumps(covered, ensure_ascii=False)
    assert count(bot, AuditEvent, *reads) == 1
    not_covered = open_case(bot, SOCIAL)
    text = json.dumps(not_covered, ensure_ascii=False)
    assert SUMMARY not in text
    assert "anonym konsultation" in text.lower()
    assert count(bot, AuditEvent, *reads) == 2
    bot.slack.assert_no_violations()


def test_a_non_member_cannot_open_a_case(bot: Bot, forum: dict[str, int]) -> None:
    submit_case(bot, forum)
    with bot.sessions() as session:
        case_id = session.scalars(select(Case.id)).one()
    bot.driver.block_action("case_open", user=OUTSIDER, value=str(case_id), channel=CHANNEL)
    reply = bot.slack.wait_for("response_url")[-1]
    assert "medlemmar" in json.dumps(reply.args, ensure_ascii=False).lower()
    assert bot.slack.count("views.open") == 0
    bot.wait_idle()
    with bot.sessions() as session:
        reads = session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.READ))
        # Audited as a refused attempt (tests/integration/test_refused_access.py), no details.
        assert [e.detail for e in reads] == [
            {"surface": "case_modal", "details": False, "refused": "not_a_member"}
        ]


def test_the_raising_agency_moves_the_case_along_and_closes_it(
    bot: Bot, forum: dict[str, int]
) -> None:
    submit_case(bot, forum)
    view = open_case(bot, ADMIN)
    with bot.sessions() as session:
        case_id = session.scalars(select(Case.id)).one()
    bot.driver.block_action(
        "case_status_discussed",
        user=ADMIN,
        value=f"{case_id}:discussed",
        view={**view, "id": "V0001"},
    )
    updated = bot.slack.wait_for("views.update")[-1].args["view"]
    assert "Diskuterad" in json.dumps(updated, ensure_ascii=False)
    private = updated["private_metadata"]
    response = bot.driver.view_submission(
        "case_close",
        {
            "outcome": {"value": plain_value("Stöd via elevhälsan")},
            "effect": {"value": radio_value("partly")},
            "sip_started": {"value": checkbox_values([])},
        },
        user=ADMIN,
        private_metadata=private,
        view={"previous_view_id": "V0001"},
    )
    assert response.json() is None  # the close modal goes; the case modal underneath is refreshed
    refreshed = bot.slack.wait_for("views.update", count=2)[-1]
    assert refreshed.args["view_id"] == "V0001"
    assert "Avslutad" in json.dumps(refreshed.args["view"], ensure_ascii=False)
    with bot.sessions() as session:
        case = session.scalars(select(Case)).one()
        assert case.status.value == "closed" and case.effect is not None


def test_another_agency_cannot_change_the_status(bot: Bot, forum: dict[str, int]) -> None:
    submit_case(bot, forum)
    view = open_case(bot, SOCIAL)
    with bot.sessions() as session:
        case_id = session.scalars(select(Case.id)).one()
    bot.driver.block_action(
        "case_status_discussed",
        user=SOCIAL,
        value=f"{case_id}:discussed",
        view={**view, "id": "V1"},
    )
    notice = bot.slack.wait_for("views.update")[-1].args["view"]
    assert "samordnare" in json.dumps(notice, ensure_ascii=False)
    with bot.sessions() as session:
        assert session.scalars(select(Case)).one().status.value == "scheduled"


def test_a_deviation_is_recorded_and_the_coordinator_told(bot: Bot, forum: dict[str, int]) -> None:
    submit_case(bot, forum)
    bot.slack.wait_for("chat.postMessage", count=3)  # the case's announcement and DMs
    bot.slack.reset()
    values = {
        "agencies": {"value": multi_select_values([str(forum["Polis"])])},
        "kind": {"value": select_value("information")},
        "text": {"value": plain_value("Informationen kom inte fram före mötet")},
        "case": {"value": plain_value("fos-2026-001")},
    }
    response = bot.driver.view_submission(
        "deviation_new", values, user=SOCIAL, private_metadata=meta(forum), blocks=blocks_of(values)
    )
    assert response.status == 200
    # The reporter is told it went, in their language, not left with a form that just closed.
    answer = response.json()
    assert answer["response_action"] == "update", answer
    assert "Avvikelsen är rapporterad" in json.dumps(answer["view"], ensure_ascii=False)
    assert count(bot, Deviation) == 1
    dm = bot.slack.wait_for("chat.postMessage")[0]
    assert dm.args["channel"] == ADMIN
    assert "Informationen kom inte fram" not in dm.args["text"]


def test_the_list_filters_by_whose_cases_and_status_at_once(
    bot: Bot, forum: dict[str, int]
) -> None:
    submit_case(bot, forum, user=ADMIN, view_id="V1")
    submit_case(bot, forum, user=SOCIAL, view_id="V2")

    def choose(action_id: str, value: str) -> str:
        before = bot.slack.count("response_url")
        bot.driver.block_action(action_id, user=ADMIN, selected_option={"value": value})
        reply = bot.slack.wait_for("response_url", count=before + 1)[-1]
        return json.dumps(reply.args, ensure_ascii=False)

    mine_scheduled = choose("case_list_status", "f:mine:scheduled")
    assert "FOS-2026-001" in mine_scheduled and "FOS-2026-002" not in mine_scheduled
    all_scheduled = choose("case_list_filter", "f:all:scheduled")
    assert "FOS-2026-001" in all_scheduled and "FOS-2026-002" in all_scheduled
    mine_closed = choose("case_list_status", "f:mine:closed")
    assert "FOS-2026-00" not in mine_closed and "Inga ärenden matchar" in mine_closed


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_list_and_the_menu_answer_while_another_writer_holds_the_lock(
    bot: Bot, forum: dict[str, int], database_url: str
) -> None:
    """On SQLite a unit of work that may write takes the one write lock up front (BEGIN
    IMMEDIATE); a command that only reads runs in a deferred transaction (storage.db.reading)
    and answers at once while another writer holds the lock, instead of waiting up to the
    15 s busy timeout for it (or failing with "the database is busy")."""
    submit_case(bot, forum)
    bot.wait_idle()
    before = bot.slack.count("response_url")
    writer = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        bot.driver.command("ärenden", user=SOCIAL)
        listed = bot.slack.wait_for("response_url", count=before + 1, timeout=5)[-1]
        bot.driver.command("", user=SOCIAL)  # the menu: this channel's forum and my role
        menu = bot.slack.wait_for("response_url", count=before + 2, timeout=5)[-1]
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert "FOS-2026-001" in json.dumps(listed.args, ensure_ascii=False)
    assert "*FOSSAM*" in json.dumps(menu.args, ensure_ascii=False)
    bot.slack.assert_no_violations()
