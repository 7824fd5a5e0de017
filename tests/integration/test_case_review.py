"""Cases and consent reviewed end to end, as every agency and as an attacker: a police and a
youth-centre member raise cases like anyone; consent reminders reach only present members."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select, update

from domain import disclosure, statistics
from domain import forums as fs
from domain.i18n import Translator
from storage.db import transaction
from storage.models import (
    AuditAction,
    AuditEvent,
    Case,
    Consent,
    Forum,
    Role,
    SipStatus,
    case_criteria_met,
)
from tests.conftest import Bot
from tests.support.forums import forum_draft
from tests.support.slack_driver import (
    checkbox_values,
    multi_select_values,
    plain_value,
    radio_value,
)
from tests.support.statements import statements

CHANNEL = "C0001"
ADMIN, POLICE, YOUTH, SCHOOL = "U1", "U2", "U3", "U4"
AGENCIES = ["Socialtjänst/IFO", "Polis", "Fritidsgård", "Grundskola"]


@pytest.fixture
def forum(bot: Bot) -> dict[str, int]:
    """A forum whose admin is of Socialtjänst/IFO, with a police, a youth-centre and a school
    member: nothing assumes who raises a case."""
    draft = forum_draft(agencies=AGENCIES, own_agency="Socialtjänst/IFO")
    with transaction(bot.sessions) as s:
        created = fs.create_forum(
            s, bot.clock, team_id="T0001", channel_id=CHANNEL, actor=ADMIN, draft=draft
        )
        agencies = {a.name: a.id for a in created.agencies}
        for user, agency in ((POLICE, "Polis"), (YOUTH, "Fritidsgård"), (SCHOOL, "Grundskola")):
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


def meta(forum: dict[str, int]) -> str:
    return json.dumps({"locale": "sv", "channel_id": CHANNEL, "forum_id": forum["forum"]})


def values(
    forum: dict[str, int],
    *,
    summary: str = "Oro för att den unga dras in i en kriminell grupp",
    needed: tuple[str, ...] = ("Socialtjänst/IFO",),
    consent: str = "both",
    covers: tuple[str, ...] = ("Socialtjänst/IFO",),
    expires: str | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        "summary": {"value": plain_value(summary)},
        "concerns": {"value": multi_select_values(["crime_networks"])},
        "age_band": {"value": radio_value("13-15")},
        "agencies": {"value": multi_select_values([str(forum[a]) for a in needed])},
        "consent": {"value": radio_value(consent)},
        "consent_agencies": {"value": multi_select_values([str(forum[a]) for a in covers])},
        "consent_given_on": {"value": {"type": "datepicker", "selected_date": "2026-11-20"}},
        "consent_expires_on": {"value": {"type": "datepicker", "selected_date": expires}},
        "sip": {"value": radio_value("not_relevant")},
    }


def submit(bot: Bot, forum: dict[str, int], user: str, view_id: str, **kw: Any) -> Any:
    state = values(forum, **kw)
    return bot.driver.view_submission(
        "case_new",
        state,
        user=user,
        private_metadata=meta(forum),
        view_id=view_id,
        blocks=[{"type": "input", "block_id": b} for b in state],
    )


@pytest.mark.parametrize(("user", "agency"), [(POLICE, "Polis"), (YOUTH, "Fritidsgård")])
def test_a_police_or_youth_centre_member_raises_a_case_like_anyone(
    bot: Bot, forum: dict[str, int], user: str, agency: str
) -> None:
    bot.driver.command("ärende", user=user)
    view = bot.slack.wait_for("views.open")[0].args["view"]
    chosen = next(b for b in view["blocks"] if b.get("block_id") == "agencies")
    assert [o["value"] for o in chosen["element"]["initial_options"]] == [str(forum[agency])]
    assert submit(bot, forum, user, "V1").json() is None
    with bot.sessions() as s:
        case = s.scalars(select(Case)).one()
        assert case.reference == "FOS-2026-001"
        assert case.raising_agency_id == forum[agency]
        assert {a.name for a in case.agencies} == {agency, "Socialtjänst/IFO"}
    posts = bot.slack.wait_for("chat.postMessage", count=2)
    announced = json.dumps(posts[0].args, ensure_ascii=False)
    assert "FOS-2026-001" in announced and agency in announced
    assert posts[1].args["channel"] == ADMIN  # Socialtjänst must attend: told by DM
    bot.slack.assert_no_violations()


def test_a_consent_reminder_never_goes_to_a_raiser_who_left_the_forum(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The raiser left the channel: the consent's expiry (the reference, the date) is told to
    the coordinators only, not to someone who is no longer a member."""
    expires = (bot.clock.now().date() + dt.timedelta(days=5)).isoformat()
    assert submit(bot, forum, POLICE, "V1", expires=expires).json() is None
    bot.wait_idle()
    bot.driver.event({"type": "member_left_channel", "user": POLICE, "channel": CHANNEL})
    bot.wait_idle()
    bot.slack.reset()
    bot.run_due_work()
    reminders = [
        c for c in bot.slack.calls_to("chat.postMessage") if "Samtycket" in c.args.get("text", "")
    ]
    assert [c.args["channel"] for c in reminders] == [ADMIN]  # not the police member
    with bot.sessions() as s:
        assert s.scalars(select(Consent)).one().expires_on is not None


def test_consent_not_given_keeps_no_agencies_or_dates_picked_before(
    bot: Bot, forum: dict[str, int]
) -> None:
    """A member picks the consent's agencies and dates, then chooses "Not given": the case is
    an anonymous consultation, and the consent register does not list agencies and dates of
    a consent nobody gave."""
    response = submit(
        bot, forum, SCHOOL, "V1", consent="none", covers=("Polis",), expires="2027-06-30"
    )
    assert response.json() is None
    with bot.sessions() as s:
        consent = s.scalars(select(Consent)).one()
        assert (consent.agencies, consent.given_on, consent.expires_on) == ([], None, None)
    bot.driver.command("samtycke FOS-2026-001", user=ADMIN)
    register = json.dumps(bot.slack.wait_for("response_url")[-1].args, ensure_ascii=False)
    assert "FOS-2026-001" in register
    assert "Polis" not in register and "2027" not in register


def test_a_crafted_consent_naming_an_agency_twice_raises_one_case(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The consent's agencies as a crafted payload sends them: one agency twice. The case is
    raised with the consent covering it once, never a database error."""
    state = values(forum, covers=("Polis",))
    twice = str(forum["Polis"])
    state["consent_agencies"] = {"value": multi_select_values([twice, twice])}
    response = bot.driver.view_submission(
        "case_new",
        state,
        user=YOUTH,
        private_metadata=meta(forum),
        view_id="V1",
        blocks=[{"type": "input", "block_id": b} for b in state],
    )
    assert response.status == 200 and response.json() is None
    with bot.sessions() as s:
        consent = s.scalars(select(Consent)).one()
        assert [a.name for a in consent.agencies] == ["Polis"]
    bot.slack.assert_no_violations()


# --- consent given or renewed after the case was raised ---------------------------------------


def open_case(bot: Bot, user: str) -> dict[str, Any]:
    with bot.sessions() as s:
        case_id = s.scalars(select(Case.id)).one()
    before = bot.slack.count("views.open")
    bot.driver.block_action("case_open", user=user, value=str(case_id), channel=CHANNEL)
    view: dict[str, Any] = bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"]
    return view


def _pushed_consent_modal(bot: Bot, user: str) -> dict[str, Any]:
    """The consent modal pushed over the case modal by the case's "Record consent"."""
    view = {**open_case(bot, user), "id": "V0001"}
    buttons = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    button = next(e for e in buttons if e["action_id"] == "case_record_consent")
    pushes = bot.slack.count("views.push")
    bot.driver.block_action("case_record_consent", user=user, value=button["value"], view=view)
    pushed: dict[str, Any] = bot.slack.wait_for("views.push", count=pushes + 1)[-1].args["view"]
    assert pushed["callback_id"] == "case_consent"
    return pushed


def consent_modal(bot: Bot, user: str) -> str:
    return json.dumps(_pushed_consent_modal(bot, user), ensure_ascii=False)


def record_consent(
    bot: Bot, forum: dict[str, int], user: str, covers: tuple[str, ...], *, giver: str = "both"
) -> Any:
    """The raiser's or a coordinator's "Record consent" in the case modal, then the pushed
    consent modal submitted."""
    pushed = _pushed_consent_modal(bot, user)
    state = {
        "consent": {"value": radio_value(giver)},
        "consent_agencies": {"value": multi_select_values([str(forum[a]) for a in covers])},
        "consent_given_on": {"value": {"type": "datepicker", "selected_date": "2026-11-20"}},
        "consent_expires_on": {"value": {"type": "datepicker", "selected_date": "2027-06-30"}},
    }
    return bot.driver.view_submission(
        "case_consent",
        state,
        user=user,
        private_metadata=pushed["private_metadata"],
        view={"previous_view_id": "V0001"},
        blocks=pushed["blocks"],
    )


def test_a_consultation_gets_consent_later_and_the_agencies_it_covers_see_the_details(
    bot: Bot, forum: dict[str, int]
) -> None:
    """FOSSAM: a case first discussed as an anonymous consultation; the family consents
    afterwards. The raising agency records that consent in the case modal: from then on the
    agencies it names see the details (each read audited), the others still do not."""
    summary = "Oro för att den unga dras in i en kriminell grupp"
    assert submit(bot, forum, SCHOOL, "V1", consent="none", covers=()).json() is None
    assert summary not in json.dumps(open_case(bot, POLICE), ensure_ascii=False)
    response = record_consent(bot, forum, SCHOOL, ("Polis",))
    assert response.status == 200 and response.json() is None
    refreshed = bot.slack.wait_for("views.update")[-1]
    assert refreshed.args["view_id"] == "V0001"
    assert "Polis" in json.dumps(refreshed.args["view"], ensure_ascii=False)
    assert summary in json.dumps(open_case(bot, POLICE), ensure_ascii=False)
    assert summary not in json.dumps(open_case(bot, YOUTH), ensure_ascii=False)
    with bot.sessions() as s:
        consents = s.scalars(select(Consent).order_by(Consent.id)).all()
        assert [c.given_by.value for c in consents] == ["none", "both"]
        assert [a.name for a in consents[-1].agencies] == ["Polis"]
        assert consents[-1].expires_on == dt.date(2027, 6, 30)
        police_reads = s.scalars(
            select(AuditEvent.detail)
            .where(AuditEvent.actor == POLICE, AuditEvent.action == AuditAction.READ)
            .order_by(AuditEvent.id)
        ).all()
        assert [(d or {}).get("details") for d in police_reads] == [False, True]
        recorded = s.scalars(
            select(AuditEvent).where(
                AuditEvent.object_type == "consent", AuditEvent.action == AuditAction.UPDATE
            )
        ).one()
        assert recorded.actor == SCHOOL and recorded.object_ref == "FOS-2026-001"
    messages = json.dumps(
        [c.args for c in bot.slack.calls_to("chat.postMessage")], ensure_ascii=False
    )
    assert summary not in messages  # in the modals of those who may see it, nowhere else
    bot.slack.assert_no_violations()


def test_a_renewed_consent_that_leaves_an_agency_out_hides_the_details_from_it(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Renewing before the end date: the new consent replaces the old one, so an agency it
    no longer names sees an anonymous consultation (and its App Home is published anew)."""
    summary = "Oro för att den unga dras in i en kriminell grupp"
    covers = ("Socialtjänst/IFO", "Fritidsgård")
    assert submit(bot, forum, POLICE, "V1", covers=covers, expires="2026-12-10").json() is None
    assert summary in json.dumps(open_case(bot, YOUTH), ensure_ascii=False)
    assert record_consent(bot, forum, POLICE, ("Socialtjänst/IFO",)).json() is None
    bot.slack.wait_for("views.update")
    assert summary not in json.dumps(open_case(bot, YOUTH), ensure_ascii=False)
    assert summary in json.dumps(open_case(bot, ADMIN), ensure_ascii=False)
    assert YOUTH in {c.args["user_id"] for c in bot.slack.wait_for("views.publish")}


def test_only_the_raising_agency_or_a_coordinator_records_consent_and_never_none(
    bot: Bot, forum: dict[str, int]
) -> None:
    assert submit(bot, forum, SCHOOL, "V1", consent="none", covers=()).json() is None
    # Another agency's member has no button; a crafted click and submission are refused.
    view = open_case(bot, POLICE)
    assert "case_record_consent" not in json.dumps(view)
    with bot.sessions() as s:
        case_id = s.scalars(select(Case.id)).one()
    private = json.dumps(
        {"locale": "sv", "channel_id": CHANNEL, "forum_id": forum["forum"], "case_id": case_id}
    )
    state = {
        "consent": {"value": radio_value("guardians")},
        "consent_agencies": {"value": multi_select_values([str(forum["Polis"])])},
        "consent_given_on": {"value": {"type": "datepicker", "selected_date": None}},
        "consent_expires_on": {"value": {"type": "datepicker", "selected_date": None}},
    }
    blocks = [{"type": "input", "block_id": b} for b in state]
    refused = bot.driver.view_submission(
        "case_consent", state, user=POLICE, private_metadata=private, blocks=blocks
    ).json()
    assert refused["response_action"] == "update"
    assert "samordnare" in json.dumps(refused, ensure_ascii=False)
    # "Not given", an agency of no forum and no day given are refused on their fields.
    state["consent"] = {"value": radio_value("none")}
    state["consent_agencies"] = {"value": multi_select_values(["999999"])}
    errors = bot.driver.view_submission(
        "case_consent", state, user=SCHOOL, private_metadata=private, blocks=blocks
    ).json()
    assert errors["response_action"] == "errors"
    assert set(errors["errors"]) == {"consent", "consent_agencies", "consent_given_on"}
    with bot.sessions() as s:
        assert [c.given_by.value for c in s.scalars(select(Consent))] == ["none"]


def test_a_coordinator_who_may_not_see_the_details_records_no_consent_to_see_them(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The consent is one of the case's details and decides who sees them (as the SIP):
    a coordinator of another agency, to whom the case is an anonymous consultation, has no
    button, a crafted click gets no consent modal and a crafted submission naming their own
    agency is refused: nothing stored, the details still hidden from them."""
    summary = "Oro för att den unga dras in i en kriminell grupp"
    assert submit(bot, forum, SCHOOL, "V1", consent="none", covers=()).json() is None
    view = {**open_case(bot, ADMIN), "id": "V0001"}
    assert summary not in json.dumps(view, ensure_ascii=False)
    assert "case_record_consent" not in json.dumps(view)
    with bot.sessions() as s:
        case_id = s.scalars(select(Case.id)).one()
    pushes = bot.slack.count("views.push")
    bot.driver.block_action("case_record_consent", user=ADMIN, value=str(case_id), view=view)
    pushed = bot.slack.wait_for("views.push", count=pushes + 1)[-1].args["view"]
    assert pushed.get("callback_id") != "case_consent"
    assert "din verksamhet inte får se" in json.dumps(pushed, ensure_ascii=False)
    private = json.dumps(
        {"locale": "sv", "channel_id": CHANNEL, "forum_id": forum["forum"], "case_id": case_id}
    )
    state = {
        "consent": {"value": radio_value("guardians")},
        "consent_agencies": {"value": multi_select_values([str(forum["Socialtjänst/IFO"])])},
        "consent_given_on": {"value": {"type": "datepicker", "selected_date": "2026-11-20"}},
        "consent_expires_on": {"value": {"type": "datepicker", "selected_date": None}},
    }
    blocks = [{"type": "input", "block_id": b} for b in state]
    refused = bot.driver.view_submission(
        "case_consent", state, user=ADMIN, private_metadata=private, blocks=blocks
    ).json()
    assert refused["response_action"] == "update"
    assert "din verksamhet inte får se" in json.dumps(refused, ensure_ascii=False)
    with bot.sessions() as s:
        assert [c.given_by.value for c in s.scalars(select(Consent))] == ["none"]
    assert summary not in json.dumps(open_case(bot, ADMIN), ensure_ascii=False)
    # The raising agency still records it (and the coordinator's agency then sees them).
    assert record_consent(bot, forum, SCHOOL, ("Socialtjänst/IFO",)).json() is None
    bot.slack.wait_for("views.update")
    assert summary in json.dumps(open_case(bot, ADMIN), ensure_ascii=False)


def test_a_criterion_taken_off_the_list_while_the_modal_was_open_never_stops_the_case(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Criteria help instead of hinder: the coordinator replaces the list while a member has
    the case modal open with one of the old criteria ticked. The case is raised (the tick
    counted for the criterion it was); another forum's criterion is still refused."""

    def set_criteria(lines: str, version: int) -> None:
        state = {f"criteria.{version}": {"value": plain_value(lines)}}
        private = json.dumps(
            {"locale": "sv", "channel_id": CHANNEL, "forum_id": forum["forum"], "version": version}
        )
        assert (
            bot.driver.view_submission(
                "case_criteria",
                state,
                user=ADMIN,
                private_metadata=private,
                blocks=[{"type": "input", "block_id": b} for b in ["template", *state]],
            ).json()
            is None
        )

    set_criteria("Oro i skolan och på fritiden", 0)
    bot.driver.command("ärende", user=YOUTH)
    modal = bot.slack.wait_for("views.open")[-1].args["view"]
    block = next(b for b in modal["blocks"] if b.get("block_id") == "criteria")
    old = block["element"]["options"][0]["value"]
    set_criteria("Ung person i riskzon", 1)  # the old criterion is no longer offered

    def raise_with(ticked: list[str], view_id: str) -> Any:
        state = values(forum)
        state["criteria"] = {"value": checkbox_values(ticked)}
        return bot.driver.view_submission(
            "case_new",
            state,
            user=YOUTH,
            private_metadata=meta(forum),
            view_id=view_id,
            blocks=[{"type": "input", "block_id": b} for b in state],
        ).json()

    assert raise_with([old], "V1") is None
    with bot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(case_criteria_met)) == 1
        assert s.scalar(select(func.count()).select_from(Case)) == 1
    assert raise_with(["999999"], "V2")["response_action"] == "errors"


def test_the_case_modal_says_that_a_consent_has_expired(bot: Bot, forum: dict[str, int]) -> None:
    """After its last day the raising agency reads that the consent has expired (not only a
    date that passed), and the agencies it covered see an anonymous consultation."""
    summary = "Oro för att den unga dras in i en kriminell grupp"
    assert submit(bot, forum, POLICE, "V1", expires="2026-11-30").json() is None
    shown = json.dumps(open_case(bot, POLICE), ensure_ascii=False)
    assert "gäller till och med måndag 30 november 2026" in shown and "upphör" not in shown
    bot.clock.set(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC))
    shown = json.dumps(open_case(bot, POLICE), ensure_ascii=False)
    assert "*har upphört*, gällde till och med måndag 30 november 2026" in shown
    assert "gäller till " not in shown
    assert summary not in json.dumps(open_case(bot, ADMIN), ensure_ascii=False)


# --- the agencies that must attend, after the case was raised -----------------------------------


def save_agencies(
    bot: Bot, forum: dict[str, int], pushed: dict[str, Any], *names: str
) -> dict[str, Any]:
    """The school saves the agencies modal ``pushed`` (over the case modal V0001) with
    ``names`` chosen; the state it sent."""
    state = {"agencies": {"value": multi_select_values([str(forum[a]) for a in names])}}
    response = bot.driver.view_submission(
        "case_agencies",
        state,
        user=SCHOOL,
        private_metadata=pushed["private_metadata"],
        view={"previous_view_id": "V0001"},
        blocks=pushed["blocks"],
    )
    assert response.status == 200 and response.json() is None
    return state


def test_an_agency_found_to_be_needed_later_is_added_and_told(
    bot: Bot, forum: dict[str, int]
) -> None:
    """FOSSAM: "see who needs to take part in each case". After the first discussion the
    school finds that the youth centre must attend too: the raising agency adds it in the
    case modal, its members get the DM (reference and date only), and the change is in the
    case's history for every member (agencies are no detail)."""
    assert submit(bot, forum, SCHOOL, "V1", needed=("Socialtjänst/IFO",)).json() is None
    bot.wait_idle()
    bot.slack.reset()
    view = {**open_case(bot, SCHOOL), "id": "V0001"}
    buttons = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    button = next(e for e in buttons if e["action_id"] == "case_change_agencies")
    bot.driver.block_action("case_change_agencies", user=SCHOOL, value=button["value"], view=view)
    pushed = bot.slack.wait_for("views.push")[-1].args["view"]
    assert pushed["callback_id"] == "case_agencies"
    chosen = next(b for b in pushed["blocks"] if b.get("block_id") == "agencies")
    initial = {o["value"] for o in chosen["element"]["initial_options"]}
    assert initial == {str(forum["Grundskola"]), str(forum["Socialtjänst/IFO"])}
    state = save_agencies(bot, forum, pushed, "Socialtjänst/IFO", "Fritidsgård")
    with bot.sessions() as s:
        case = s.scalars(select(Case)).one()
        assert [a.name for a in case.agencies] == ["Socialtjänst/IFO", "Fritidsgård", "Grundskola"]
    dm = next(c for c in bot.slack.wait_for("chat.postMessage") if c.args["channel"] == YOUTH)
    assert "FOS-2026-001 tas upp" in dm.args["text"]
    assert [c.args["channel"] for c in bot.slack.calls_to("chat.postMessage")] == [YOUTH]
    refreshed = bot.slack.wait_for("views.update")[-1]
    assert refreshed.args["view_id"] == "V0001"
    # The youth centre is not covered by the consent: it sees the change, not the details.
    seen = json.dumps(open_case(bot, YOUTH), ensure_ascii=False)
    assert "ändrade vilka verksamheter som deltar" in seen
    assert "Oro för att den unga" not in seen
    # After the meeting (26 November) the police is added: its DM names no past date.
    bot.clock.set(dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC))
    bot.slack.reset()
    state["agencies"]["value"] = multi_select_values(
        [str(forum[a]) for a in ("Socialtjänst/IFO", "Fritidsgård", "Polis")]
    )
    assert (
        bot.driver.view_submission(
            "case_agencies",
            state,
            user=SCHOOL,
            private_metadata=pushed["private_metadata"],
            blocks=pushed["blocks"],
        ).json()
        is None
    )
    told = bot.slack.wait_for("chat.postMessage")
    assert [(c.args["channel"], c.args["text"]) for c in told] == [
        (POLICE, "FOSSAM: FOS-2026-001 har lyfts; er verksamhet behöver delta.")
    ]


def test_only_the_raising_agency_or_a_coordinator_changes_the_agencies(
    bot: Bot, forum: dict[str, int]
) -> None:
    assert submit(bot, forum, SCHOOL, "V1").json() is None
    view = {**open_case(bot, POLICE), "id": "V0001"}
    assert "case_change_agencies" not in json.dumps(view)
    with bot.sessions() as s:
        case_id = s.scalars(select(Case.id)).one()
    # A crafted click gets no agencies modal to pick in for nothing: told at once.
    pushes = bot.slack.count("views.push")
    bot.driver.block_action("case_change_agencies", user=POLICE, value=str(case_id), view=view)
    pushed = bot.slack.wait_for("views.push", count=pushes + 1)[-1].args["view"]
    assert pushed.get("callback_id") != "case_agencies"
    assert "Bara verksamheten som lyfte ärendet eller en samordnare kan ändra vilka" in (
        json.dumps(pushed, ensure_ascii=False)
    )
    private = json.dumps(
        {"locale": "sv", "channel_id": CHANNEL, "forum_id": forum["forum"], "case_id": case_id}
    )
    state = {"agencies": {"value": multi_select_values([str(forum["Polis"])])}}
    blocks = [{"type": "input", "block_id": "agencies"}]
    refused = bot.driver.view_submission(
        "case_agencies", state, user=POLICE, private_metadata=private, blocks=blocks
    ).json()
    assert refused["response_action"] == "update"
    # An agency of no forum is refused on the field; the raising agency always stays.
    state = {"agencies": {"value": multi_select_values(["999999"])}}
    errors = bot.driver.view_submission(
        "case_agencies", state, user=ADMIN, private_metadata=private, blocks=blocks
    ).json()
    assert errors["response_action"] == "errors" and list(errors["errors"]) == ["agencies"]
    state = {"agencies": {"value": multi_select_values([])}}
    assert (
        bot.driver.view_submission(
            "case_agencies", state, user=ADMIN, private_metadata=private, blocks=blocks
        ).json()
        is None
    )
    with bot.sessions() as s:
        assert [a.name for a in s.scalars(select(Case)).one().agencies] == ["Grundskola"]


# --- the SIP, after the case was raised ----------------------------------------------------------


def change_sip(bot: Bot, user: str, sip: str | None) -> Any:
    """The raiser's or a coordinator's "Change SIP" in the case modal, then the pushed SIP
    modal submitted."""
    view = {**open_case(bot, user), "id": "V0001"}
    buttons = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    button = next(e for e in buttons if e["action_id"] == "case_change_sip")
    pushes = bot.slack.count("views.push")
    bot.driver.block_action("case_change_sip", user=user, value=button["value"], view=view)
    pushed = bot.slack.wait_for("views.push", count=pushes + 1)[-1].args["view"]
    assert pushed["callback_id"] == "case_sip"
    state = {"sip": {"value": radio_value(sip)}}
    return bot.driver.view_submission(
        "case_sip",
        state,
        user=user,
        private_metadata=pushed["private_metadata"],
        view={"previous_view_id": "V0001"},
        blocks=pushed["blocks"],
    )


def test_a_consultation_is_marked_as_needing_a_sip_once_consent_is_recorded(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Raised without consent, a case could only say 'SIP not relevant', for good. Once the
    family consents, the raiser marks a SIP as needed, later as started; the history says
    so (to those who see the details) and the statistics count the value as it is now."""
    assert submit(bot, forum, SCHOOL, "V1", consent="none", covers=()).json() is None
    refused = change_sip(bot, SCHOOL, "needed").json()
    assert refused["response_action"] == "errors" and list(refused["errors"]) == ["sip"]
    assert "samtycke" in refused["errors"]["sip"]
    assert record_consent(bot, forum, SCHOOL, ("Socialtjänst/IFO",)).json() is None
    assert change_sip(bot, SCHOOL, "needed").json() is None
    bot.slack.wait_for("views.update")
    with bot.sessions() as s:
        case = s.scalars(select(Case)).one()
        assert case.sip is SipStatus.NEEDED
        audited = s.scalars(select(AuditEvent).where(AuditEvent.object_ref == case.reference)).all()
        assert any(e.detail == {"sip": "needed"} for e in audited)
    shown = json.dumps(open_case(bot, ADMIN), ensure_ascii=False)
    assert "ändrade SIP från Ej aktuellt till Behövs" in shown
    # The police, not covered, sees neither the SIP nor its history line nor the button.
    seen = json.dumps(open_case(bot, POLICE), ensure_ascii=False)
    assert "ändrade SIP" not in seen and "case_change_sip" not in seen
    assert change_sip(bot, ADMIN, "started").json() is None  # a coordinator
    with transaction(bot.sessions) as s:
        forum_row = s.get(Forum, forum["forum"])
        assert forum_row is not None
        access = disclosure.access_of(s, forum_row, ADMIN)
        assert access is not None
        today = bot.clock.now().date()
        period = statistics.Period(today - dt.timedelta(days=30), today)
        figures = statistics.forum_statistics(s, bot.clock, access=access, period=period)
        assert (figures.sip_started, figures.sip_needed) == (1, 0)
    bot.slack.assert_no_violations()


def test_only_the_raising_agency_or_a_coordinator_who_sees_the_details_changes_the_sip(
    bot: Bot, forum: dict[str, int]
) -> None:
    assert submit(bot, forum, SCHOOL, "V1", covers=("Grundskola",)).json() is None
    assert "case_change_sip" not in json.dumps(open_case(bot, POLICE))
    # The coordinator's agency (Socialtjänst) is not covered: an anonymous consultation.
    assert "case_change_sip" not in json.dumps(open_case(bot, ADMIN))
    with bot.sessions() as s:
        case_id = s.scalars(select(Case.id)).one()
    private = json.dumps(
        {"locale": "sv", "channel_id": CHANNEL, "forum_id": forum["forum"], "case_id": case_id}
    )
    blocks = [{"type": "input", "block_id": "sip"}]
    for user in (POLICE, ADMIN):
        refused = bot.driver.view_submission(
            "case_sip",
            {"sip": {"value": radio_value("needed")}},
            user=user,
            private_metadata=private,
            blocks=blocks,
        ).json()
        assert refused["response_action"] == "update", user
    # A value of no SIP status is asked for again on its field.
    errors = bot.driver.view_submission(
        "case_sip",
        {"sip": {"value": radio_value("maybe")}},
        user=SCHOOL,
        private_metadata=private,
        blocks=blocks,
    ).json()
    assert errors["response_action"] == "errors" and list(errors["errors"]) == ["sip"]
    with bot.sessions() as s:
        assert s.scalars(select(Case)).one().sip is SipStatus.NOT_RELEVANT


def test_a_consent_reminder_is_in_each_recipients_language_and_not_to_a_raiser_who_moved(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The expiry reminder goes to each person in their own Slack language (the admin's is
    English, the forum's Swedish). A raiser who moved to another agency no longer represents
    the raising agency (who may renew the consent and see the case's details follows the
    agency): they are not reminded; the coordinators are."""
    bot.slack.set_user(ADMIN, locale="en-US")
    expires = (bot.clock.now().date() + dt.timedelta(days=5)).isoformat()
    assert submit(bot, forum, SCHOOL, "V1", expires=expires).json() is None
    assert submit(bot, forum, POLICE, "V2", expires=expires).json() is None
    bot.wait_idle()
    with transaction(bot.sessions) as s:
        forum_row = s.get(Forum, forum["forum"])
        assert forum_row is not None
        fs.add_members(
            s,
            bot.clock,
            forum=forum_row,
            actor=ADMIN,
            slack_user_ids=[POLICE],
            agency_id=forum["Fritidsgård"],
            role=Role.MEMBER,
            confirm_moves=True,
        )
    bot.slack.reset()  # forgets its users: Slack still knows the admin's language
    bot.slack.set_user(ADMIN, locale="en-US")
    bot.run_due_work()
    texts = [
        (c.args["channel"], c.args.get("text", ""))
        for c in bot.slack.calls_to("chat.postMessage")
        if "FOS-2026-00" in c.args.get("text", "")
    ]
    assert sorted(u for u, _ in texts) == [ADMIN, ADMIN, SCHOOL]
    for user, text in texts:
        if user == ADMIN:
            assert text.startswith("The consent for FOS-2026-00"), text
        else:
            assert text.startswith("Samtycket för FOS-2026-001"), text
            # Its last day is a day it holds (it ends after it), as the case's modal says.
            assert "gäller till och med" in text and "upphör" not in text, text
    # Each reminder opens its case (the case's modal, where the consent is renewed), in the
    # recipient's language; the button names the case by its id alone.
    with bot.sessions() as s:
        ids = {c.reference: str(c.id) for c in s.scalars(select(Case))}
    reminders = [
        c.args
        for c in bot.slack.calls_to("chat.postMessage")
        if "FOS-2026-00" in c.args.get("text", "")
    ]
    for dm in reminders:
        (button,) = [
            e for b in dm.get("blocks", []) if b["type"] == "actions" for e in b["elements"]
        ]
        reference = "FOS-2026-001" if "FOS-2026-001" in dm["text"] else "FOS-2026-002"
        label = "Open the case" if dm["channel"] == ADMIN else "Öppna ärendet"
        assert (button["text"]["text"], button["action_id"], button["value"]) == (
            label,
            "case_open_dm",
            ids[reference],
        )
    opened = bot.slack.count("views.open")
    bot.driver.block_action(
        "case_open_dm", user=SCHOOL, value=ids["FOS-2026-001"], channel=f"D{SCHOOL}"
    )
    view = bot.slack.wait_for("views.open", count=opened + 1)[-1].args["view"]
    assert view["callback_id"] == "case_detail" and "FOS-2026-001" in json.dumps(view)


# --- the day a consent was given --------------------------------------------------------------


def test_a_consent_is_recorded_with_the_day_it_was_given_and_old_ones_without_still_read(
    bot: Bot, forum: dict[str, int]
) -> None:
    """A consent register without dates shows no consent (GDPR art. 7.1): given consent
    needs the day it was given, at raising and when recorded later; a field error in the
    user's language, the rest of the form kept. A consent stored before without a day
    still shows in the case modal and the register."""
    state = values(forum)
    state["consent_given_on"] = {"value": {"type": "datepicker", "selected_date": None}}
    refused = bot.driver.view_submission(
        "case_new",
        state,
        user=SCHOOL,
        private_metadata=meta(forum),
        view_id="V1",
        blocks=[{"type": "input", "block_id": b} for b in state],
    ).json()
    assert refused["response_action"] == "errors"
    assert refused["errors"] == {"consent_given_on": "Ange dagen då samtycket gavs."}
    with bot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
    # Not given: no day asked for.
    assert submit(bot, forum, SCHOOL, "V2", consent="none", covers=()).json() is None
    view = {**open_case(bot, SCHOOL), "id": "V0001"}
    with bot.sessions() as s:
        case_id = str(s.scalars(select(Case.id)).one())
    bot.driver.block_action("case_record_consent", user=SCHOOL, value=case_id, view=view)
    pushed = bot.slack.wait_for("views.push")[-1].args["view"]
    given_on = next(b for b in pushed["blocks"] if b.get("block_id") == "consent_given_on")
    assert not given_on.get("optional")
    state = {
        "consent": {"value": radio_value("guardians")},
        "consent_agencies": {"value": multi_select_values([str(forum["Polis"])])},
        "consent_given_on": {"value": {"type": "datepicker", "selected_date": None}},
        "consent_expires_on": {"value": {"type": "datepicker", "selected_date": None}},
    }
    errors = bot.driver.view_submission(
        "case_consent",
        state,
        user=SCHOOL,
        private_metadata=pushed["private_metadata"],
        blocks=pushed["blocks"],
    ).json()
    assert errors["response_action"] == "errors" and list(errors["errors"]) == ["consent_given_on"]
    assert record_consent(bot, forum, SCHOOL, ("Polis",)).json() is None
    # A consent stored before the day was required: still shown, without a day.
    with transaction(bot.sessions) as s:
        for consent in s.scalars(select(Consent)):
            consent.given_on = None
    shown = json.dumps(open_case(bot, SCHOOL), ensure_ascii=False)
    assert "Oro för att den unga" in shown
    bot.driver.command("samtycke FOS-2026-001", user=ADMIN)
    register = json.dumps(bot.slack.wait_for("response_url")[-1].args, ensure_ascii=False)
    assert "FOS-2026-001" in register and "Polis" in register
    bot.slack.assert_no_violations()


def test_a_coordinator_whose_own_agency_a_renewed_consent_leaves_out_still_republishes_homes(
    bot: Bot, forum: dict[str, int]
) -> None:
    """A coordinator records a consent that leaves out their own agency and the youth
    centre: saved, and both now see an anonymous consultation. The youth centre's App Home
    is published anew without the details. Before, the refresh asked again whether the
    coordinator may record consent, which they no longer may (their agency lost the
    details), took the refusal for a refused save and republished no one's Home."""
    summary = "Oro för att den unga dras in i en kriminell grupp"
    covers = ("Socialtjänst/IFO", "Fritidsgård")
    assert submit(bot, forum, POLICE, "V1", covers=covers, expires="2026-12-10").json() is None
    assert summary in json.dumps(open_case(bot, YOUTH), ensure_ascii=False)
    publishes = bot.slack.count("views.publish")
    assert record_consent(bot, forum, ADMIN, ("Grundskola",)).json() is None
    bot.slack.wait_for("views.update")
    assert summary not in json.dumps(open_case(bot, YOUTH), ensure_ascii=False)
    assert summary not in json.dumps(open_case(bot, ADMIN), ensure_ascii=False)
    published = bot.slack.wait_for("views.publish", count=publishes + 1)[publishes:]
    assert YOUTH in {c.args["user_id"] for c in published}


def _case_loads(bot: Bot, submit_it: Any) -> list[str]:
    """The case's loads (the case of this forum, by id: case_row's, the change's, the
    refreshed modal's) while ``submit_it`` runs and what it started settles."""
    with statements(bot.sessions) as sent:
        submit_it()
        bot.wait_idle()
    return [s for s in sent if s.startswith("SELECT cases.id") and "cases.forum_id = " in s]


def test_saving_the_agencies_reads_the_case_once_after_the_change(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The change says whether the agencies changed and which were added: the save reads
    the case for the DMs only when agencies were added, after the change (before, it read
    the case before and after the change to compare, every save)."""
    assert submit(bot, forum, SCHOOL, "V1", needed=("Socialtjänst/IFO",)).json() is None
    bot.wait_idle()
    view = {**open_case(bot, SCHOOL), "id": "V0001"}
    with bot.sessions() as s:
        case_id = s.scalars(select(Case.id)).one()
    bot.driver.block_action("case_change_agencies", user=SCHOOL, value=str(case_id), view=view)
    pushed = bot.slack.wait_for("views.push")[-1].args["view"]
    added = _case_loads(
        bot, lambda: save_agencies(bot, forum, pushed, "Socialtjänst/IFO", "Fritidsgård")
    )
    removed = _case_loads(bot, lambda: save_agencies(bot, forum, pushed, "Socialtjänst/IFO"))
    # The change's own load and the refreshed case modal's, and case_row's for the DMs
    # only when an agency was added.
    assert len(added) == 3, added
    assert len(removed) == 2, removed


def test_the_expiring_consents_list_says_until_and_including_the_last_day(
    bot: Bot, forum: dict[str, int]
) -> None:
    """`/samverkan samtycke` without a reference lists the consents that run out within 30
    days: a consent still holds on its last day, so the list says "gäller till och med",
    as the reminder does, not "upphör" (which reads as if it no longer holds that day)."""
    last_day = bot.clock.now().date() + dt.timedelta(days=10)
    assert submit(bot, forum, SCHOOL, "V1", expires=last_day.isoformat()).json() is None
    bot.driver.command("samtycke", user=ADMIN)
    listed = json.dumps(bot.slack.wait_for("response_url")[-1].args, ensure_ascii=False)
    assert "*FOS-2026-001* · gäller till och med" in listed, listed
    assert "(om 10 dagar)" in listed and "upphör" not in listed


def test_the_expiring_consents_list_keeps_consents_that_ran_out_and_were_not_renewed(
    bot: Bot, forum: dict[str, int]
) -> None:
    """A consent that ran out dropped off the coordinators' list the day after its last
    day, just when the case turned into an anonymous consultation: the list now also shows
    the consents that ran out in the last 30 days and were not renewed, under a heading of
    their own, apart from those about to run out. Older ones are left out."""
    today = bot.clock.now().date()
    for view_id, days in (("V1", 5), ("V2", 15), ("V3", 60)):  # FOS-2026-001, -002, -003
        last_day = (today + dt.timedelta(days=days)).isoformat()
        assert submit(bot, forum, SCHOOL, view_id, expires=last_day).json() is None
    bot.wait_idle()
    bot.clock.set(dt.datetime.combine(today + dt.timedelta(days=40), dt.time(9), dt.UTC))
    bot.driver.command("samtycke", user=ADMIN)
    listed = json.dumps(bot.slack.wait_for("response_url")[-1].args, ensure_ascii=False)
    lapsed_day = Translator("sv").day(today + dt.timedelta(days=15))
    assert "*FOS-2026-003* · gäller till och med" in listed and "(om 20 dagar)" in listed
    assert (
        "*Gick ut de senaste 30 dagarna och har inte förnyats*\\n"
        f"*FOS-2026-002* · gällde till och med {lapsed_day}, inte förnyat"
    ) in listed, listed
    assert "FOS-2026-001" not in listed  # ran out 35 days ago
    assert listed.index("FOS-2026-003") < listed.index("FOS-2026-002")


def test_english_says_a_consent_is_valid_until_and_including_its_last_day_everywhere(
    bot: Bot, forum: dict[str, int]
) -> None:
    """In English too a consent's last day is a day it holds: the expiring list, the consent
    register, the expiry reminder, the case's modal (before and after that day) and the
    consent modal's date field say "valid up to and including" it, never "expires" (read
    as if it no longer held that day); a consent without a last day holds "until further
    notice"."""
    bot.slack.set_user(ADMIN, locale="en-US")
    bot.slack.set_user(SCHOOL, locale="en-US")
    last_day = bot.clock.now().date() + dt.timedelta(days=5)
    until = f"valid up to and including {Translator('en').day(last_day)}"
    assert submit(bot, forum, SCHOOL, "V1", expires=last_day.isoformat()).json() is None
    bot.wait_idle()

    def answer(command: str) -> str:
        answered = bot.slack.count("response_url")
        bot.driver.command(command, user=ADMIN)
        reply = bot.slack.wait_for("response_url", count=answered + 1)[-1].args
        return json.dumps(reply, ensure_ascii=False)

    listed = answer("samtycke")
    assert f"*FOS-2026-001* · {until} (in 5 days)" in listed, listed
    assert "expires" not in listed
    register = answer("samtycke FOS-2026-001")
    assert until in register and "expires" not in register, register
    bot.run_due_work()
    (reminder,) = [
        c.args["text"]
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args["channel"] == ADMIN and "The consent for" in c.args.get("text", "")
    ]
    assert reminder.startswith(f"The consent for FOS-2026-001 is {until}."), reminder
    modal = json.dumps(open_case(bot, ADMIN), ensure_ascii=False)
    assert until in modal and "expire" not in modal, modal
    assert "Consent valid up to and including" in consent_modal(bot, ADMIN)
    bot.clock.set(dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(9), dt.UTC))
    # The raising agency still sees the case's details, among them the expired consent.
    modal = json.dumps(open_case(bot, SCHOOL), ensure_ascii=False)
    assert f"*expired*, was {until}" in modal, modal
    with transaction(bot.sessions) as s:
        s.execute(update(Consent).values(expires_on=None))
    register = answer("samtycke FOS-2026-001")
    assert "valid until further notice" in register, register


def test_the_consent_register_says_a_consent_was_replaced_by_a_renewed_one(
    bot: Bot, forum: dict[str, int]
) -> None:
    """Renewed with the family for fewer agencies: the register shows both consents, the
    earlier one marked as replaced by the later (it listed Fritidsgård and holds until
    10 December, which read as if it still held), the current one as active."""
    covers = ("Socialtjänst/IFO", "Fritidsgård")
    assert submit(bot, forum, POLICE, "V1", covers=covers, expires="2026-12-10").json() is None
    assert record_consent(bot, forum, POLICE, ("Socialtjänst/IFO",)).json() is None
    bot.slack.wait_for("views.update")
    with bot.sessions() as s:
        reference = s.scalars(select(Case.reference)).one()
    before = bot.slack.count("response_url")
    bot.driver.command(f"samtycke {reference}", user=POLICE)
    reply = bot.slack.wait_for("response_url", count=before + 1)[-1].args
    sections = [b["text"]["text"] for b in reply["blocks"] if b["type"] == "section"]
    earlier, current = sections
    assert "Fritidsgård" in earlier and "Ersatt av ett senare samtycke" in earlier, earlier
    assert "aktuellt" not in earlier and "Gällande" not in earlier
    assert "aktuellt" in current and "Gällande" in current and "Ersatt" not in current, current


def test_the_expiring_consents_list_is_audited_as_reads_of_the_consent_register(
    bot: Bot, forum: dict[str, int]
) -> None:
    """The list names cases and the last day of their consent, which is what each case's
    consent register tells: every case listed (about to run out, or ran out and not renewed)
    is audited as a read of its register, by the coordinator, in the forum, as opening the
    register is. A case not listed is not."""
    today = bot.clock.now().date()
    for view_id, days in (("V1", 5), ("V2", 15), ("V3", 60)):  # FOS-2026-001, -002, -003
        last_day = (today + dt.timedelta(days=days)).isoformat()
        assert submit(bot, forum, SCHOOL, view_id, expires=last_day).json() is None
    bot.wait_idle()
    bot.clock.set(dt.datetime.combine(today + dt.timedelta(days=40), dt.time(9), dt.UTC))

    def register_reads() -> list[tuple[str, int | None, str, dict[str, Any]]]:
        with bot.sessions() as s:
            return [
                (e.object_ref, e.forum_id, e.actor, e.detail or {})
                for e in s.scalars(
                    select(AuditEvent)
                    .where(
                        AuditEvent.object_type == "consent",
                        AuditEvent.action == AuditAction.READ,
                    )
                    .order_by(AuditEvent.id)
                )
            ]

    assert register_reads() == []
    bot.driver.command("samtycke", user=ADMIN)
    listed = json.dumps(bot.slack.wait_for("response_url")[-1].args, ensure_ascii=False)
    assert "FOS-2026-002" in listed and "FOS-2026-003" in listed
    bot.run_due_work()
    reads = register_reads()
    assert sorted(ref for ref, *_ in reads) == ["FOS-2026-002", "FOS-2026-003"], reads
    for _, forum_id, actor, detail in reads:
        assert (forum_id, actor) == (forum["forum"], ADMIN)
        assert detail == {"surface": "consent_register", "details": True, "basis": "coordinator"}
    bot.slack.assert_no_violations()
