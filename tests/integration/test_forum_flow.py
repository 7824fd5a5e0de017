"""Setting up a forum, its members and access, through the real app and the Slack stand-in."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.db import transaction
from storage.models import Agency, AuditEvent, Forum, Member, Role
from tests.conftest import Bot
from tests.support.forums import settings_saved
from tests.support.slack_driver import (
    multi_select_values,
    multi_users_values,
    plain_value,
    radio_value,
    select_value,
    time_value,
)
from tests.support.wait import eventually

CHANNEL = "C0001"


def forum_values(
    *,
    name: str = "FOSSAM",
    code: str = "FOS",
    agencies: tuple[str, ...] = ("Grundskola", "Elevhälsa", "Socialtjänst/IFO"),
    other: str = "",
    own: str | None = "Grundskola",
    rrule: str = "FREQ=WEEKLY;BYDAY=TH",
    start: str = "13:00",
    end: str = "15:00",
    areas: str = "",
    version: int = 0,
) -> dict[str, dict[str, dict[str, Any]]]:
    values = {
        f"name.{version}": {"value": plain_value(name)},
        f"code.{version}": {"value": plain_value(code)},
        f"agencies.{version}": {"value": multi_select_values(list(agencies))},
        f"agencies_other.{version}": {"value": plain_value(other or None)},
        f"rrule.{version}": {"value": plain_value(rrule)},
        f"start.{version}": {"value": time_value(start)},
        f"end.{version}": {"value": time_value(end)},
        f"areas.{version}": {"value": plain_value(areas or None)},
    }
    if own is not None:
        values[f"own_agency.{version}"] = {"value": select_value(own)}
    return values


def meta(**fields: Any) -> str:
    return json.dumps({"locale": "sv", "channel_id": CHANNEL, **fields})


def blocks_of(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "input", "block_id": block_id} for block_id in values]


def submit_create(bot: Bot, user: str = "U1", **kwargs: Any) -> Any:
    values = forum_values(**kwargs)
    return bot.driver.view_submission(
        "forum_create", values, user=user, private_metadata=meta(), blocks=blocks_of(values)
    )


def create_forum(bot: Bot, user: str = "U1", **kwargs: Any) -> int:
    response = submit_create(bot, user, **kwargs)
    assert response.status == 200, response.body
    assert response.json() is None, response.body  # a bare ack closes the modal
    with bot.sessions() as session:
        forum = session.scalar(select(Forum).where(Forum.channel_id == CHANNEL))
        assert forum is not None
        return forum.id


def count(bot: Bot, model: Any) -> int:
    with bot.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def last_reply_text(bot: Bot) -> str:
    call = bot.slack.wait_for("response_url")[-1]
    blocks = json.dumps(call.args.get("blocks", []), ensure_ascii=False)
    return blocks + str(call.args.get("text", ""))


def test_forum_ny_opens_the_set_up_modal(bot: Bot) -> None:
    bot.driver.command("forum ny", user="U1")
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == "forum_create"
    assert view["title"]["text"] == "Nytt forum"
    block_ids = [b.get("block_id") for b in view["blocks"]]
    for field in ("template", "name.0", "code.0", "agencies.0", "own_agency.0", "rrule.0"):
        assert field in block_ids
    # Every Thursday, as choices; the RRULE under "Advanced" stays empty.
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert [o["value"] for o in by_id["sched_days.0"]["element"]["initial_options"]] == ["TH"]
    assert by_id["sched_repeat.0"]["element"]["initial_option"]["value"] == "every"
    assert "initial_value" not in by_id["rrule.0"]["element"]
    bot.slack.assert_no_violations()


def test_a_creator_from_an_agency_outside_the_list_types_it(bot: Bot) -> None:
    values = forum_values(own=None)
    values["own_agency_other.0"] = {"value": plain_value("Ungdomsmottagning")}
    response = bot.driver.view_submission(
        "forum_create", values, user="U1", private_metadata=meta(), blocks=blocks_of(values)
    )
    assert response.json() is None, response.body
    with bot.sessions() as session:
        admin = session.scalar(select(Member).where(Member.slack_user_id == "U1"))
        assert admin is not None and admin.agency.name == "Ungdomsmottagning"


def test_a_template_prefills_the_modal(bot: Bot) -> None:
    bot.driver.command("forum ny", user="U1")
    opened = bot.slack.wait_for("views.open")[0]
    bot.driver.block_action(
        "forum_template",
        user="U1",
        view={**opened.args["view"], "id": "V0001"},
        selected_option={"text": {"type": "plain_text", "text": "OSF"}, "value": "osf"},
    )
    view = bot.slack.wait_for("views.update")[0].args["view"]
    by_id = {b.get("block_id"): b for b in view["blocks"]}
    assert by_id["name.1"]["element"]["initial_value"] == "OSF"
    # The first and third Thursday of the month, as choices.
    assert [o["value"] for o in by_id["sched_days.1"]["element"]["initial_options"]] == ["TH"]
    assert by_id["sched_repeat.1"]["element"]["initial_option"]["value"] == "monthly"
    weeks = [o["value"] for o in by_id["sched_weeks.1"]["element"]["initial_options"]]
    assert weeks == ["1", "3"]
    assert "Gråbo" in by_id["areas.1"]["element"]["initial_value"]
    chosen = [o["value"] for o in by_id["agencies.1"]["element"]["initial_options"]]
    assert "Polis" in chosen
    bot.slack.assert_no_violations()


def test_creating_a_forum_stores_it_and_posts_no_personal_data(bot: Bot) -> None:
    forum_id = create_forum(bot, other="Ungdomsmottagning", areas="Gråbo\nDroger")
    with bot.sessions() as session:
        forum = session.get(Forum, forum_id)
        assert forum is not None
        assert (forum.name, forum.code, forum.schedule_rrule) == (
            "FOSSAM",
            "FOS",
            "FREQ=WEEKLY;BYDAY=TH",
        )
        assert [a.name for a in forum.agencies] == [
            "Grundskola",
            "Elevhälsa",
            "Socialtjänst/IFO",
            "Ungdomsmottagning",
        ]
        assert [a.name for a in forum.areas] == ["Gråbo", "Droger"]
        admin = session.scalar(select(Member).where(Member.forum_id == forum_id))
        assert admin is not None and admin.role is Role.ADMIN and admin.slack_user_id == "U1"
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 1
    post = bot.slack.wait_for("chat.postMessage")[0]
    assert post.args["channel"] == CHANNEL
    text = json.dumps(post.args["blocks"], ensure_ascii=False)
    assert "FOSSAM" in text
    assert "Du deltar" not in text  # the channel post speaks to everyone
    assert "torsdag 26 november 2026 13:00" in text  # next meeting, Swedish date
    bot.slack.assert_no_violations()


@pytest.mark.parametrize(
    ("kwargs", "block", "expected"),
    [
        ({"name": "Ärende 19811218-9876"}, "name.0", "personnummer"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=TH 811218-9876"}, "rrule.0", "personnummer"),
        ({"other": "Skola kontakt anna@example.se"}, "agencies_other.0", "e-postadress"),
        ({"code": "F"}, "code.0", "2–6"),
        ({"rrule": "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"}, "rrule.0", "aldrig"),
        ({"rrule": "nonsense"}, "rrule.0", "RRULE"),
        ({"start": "02:30", "end": "04:00"}, "start.0", "sommartid"),
        ({"start": "15:00", "end": "13:00"}, "end.0", "sluta efter"),
        ({"areas": "Gråbo\nring 070-123 45 67"}, "areas.0", "telefonnummer"),
        ({"agencies": (), "own": None}, "agencies.0", "minst en verksamhet"),
    ],
)
def test_bad_input_gets_a_field_error_and_stores_nothing(
    bot: Bot, kwargs: dict[str, Any], block: str, expected: str
) -> None:
    response = submit_create(bot, **kwargs)
    assert response.status == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert block in body["errors"], body
    assert expected in body["errors"][block]
    assert count(bot, Forum) == 0


def test_names_differing_only_in_case_get_a_field_error_when_the_form_check_is_missing(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Elevhälsa chosen and "ELEVHÄLSA" typed under other agencies: as if the form's own
    merging of the two had been forgotten (both would be stored), the database keeps one
    name whatever its case, and the user sees a friendly error on the field, in Swedish,
    not an outage; no forum is stored."""
    from domain.forums import saving

    def each_name_anew(forum: Forum, names: list[str]) -> None:
        forum.agencies.extend(Agency(name=n, position=i) for i, n in enumerate(names))

    monkeypatch.setattr(saving, "_sync_agencies", each_name_anew)
    response = submit_create(bot, other="ELEVHÄLSA")
    assert response.status == 200
    body = response.json()
    assert body is not None and body["response_action"] == "errors", body
    assert "stora och små bokstäver" in body["errors"]["agencies_other.0"], body
    assert count(bot, Forum) == 0


def test_a_code_already_used_and_a_second_forum_in_a_channel_are_refused(bot: Bot) -> None:
    create_forum(bot)
    # Same code from another channel.
    values = forum_values(name="Annat forum")
    response = bot.driver.view_submission(
        "forum_create",
        values,
        user="U9",
        private_metadata=json.dumps({"locale": "sv", "channel_id": "C0002"}),
        blocks=blocks_of(values),
    )
    errors = response.json()["errors"]
    assert "FOS" in errors["code.0"] and "redan" in errors["code.0"]
    # A second forum in the same channel.
    bot.driver.command("forum ny", user="U2")
    assert "redan ett forum" in last_reply_text(bot)
    assert count(bot, Forum) == 1


def test_non_members_are_politely_refused_and_see_no_data(bot: Bot) -> None:
    create_forum(bot, areas="Gråbo")
    bot.driver.command("forum", user="U7")
    text = last_reply_text(bot)
    assert "medlemmar" in text.lower()
    assert "Gråbo" not in text and "Grundskola" not in text
    assert bot.slack.count("views.open") == 0


def add_members(
    bot: Bot,
    forum_id: int,
    users: list[str],
    *,
    by: str = "U1",
    agency: str | None = None,
    role: str = "member",
) -> Any:
    """Submit the members modal: ``users`` as members of ``agency`` (default the first)."""
    with bot.sessions() as session:
        forum = session.get(Forum, forum_id)
        assert forum is not None
        agency_id = next(a.id for a in forum.agencies if agency in (None, a.name))
    values = {
        "users": {"value": multi_users_values(users)},
        "agency": {"value": select_value(str(agency_id))},
        "role": {"value": radio_value(role)},
    }
    return bot.driver.view_submission(
        "forum_members",
        values,
        user=by,
        private_metadata=meta(forum_id=forum_id),
        blocks=blocks_of(values),
    )


def test_coordinator_adds_members_and_a_member_sees_the_summary(bot: Bot) -> None:
    forum_id = create_forum(bot, areas="Gråbo")
    response = add_members(bot, forum_id, ["U2", "U3"], agency="Elevhälsa")
    body = response.json()
    assert body["response_action"] == "update"
    listed = json.dumps(body["view"]["blocks"], ensure_ascii=False)
    assert "<@U2>" in listed and "<@U3>" in listed and "Elevhälsa" in listed

    bot.driver.command("forum", user="U2")
    text = last_reply_text(bot)
    assert "Gråbo" in text and "Elevhälsa" in text
    assert bot.slack.count("views.open") == 0  # members see a summary, not the settings


def welcomes(bot: Bot, user: str) -> list[str]:
    """The welcome DMs ``user`` got (after the work the requests started has settled)."""
    bot.wait_idle()
    return [
        str(c.args.get("text", ""))
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == user
        and str(c.args.get("text", "")).startswith(("Välkommen till", "Welcome to"))
    ]


def test_people_added_are_welcomed_once_in_their_language(bot: Bot) -> None:
    """Someone added in the members modal gets a DM in their language: the forum, their
    agency, what they will be asked to do, where to get help. Not someone already a member,
    not the coordinator adding themselves; the rating line only in a forum with a
    situation picture."""
    forum_id = create_forum(bot)  # U1, Grundskola's coordinator
    bot.slack.set_user("U2", locale="en-US")
    for users in (["U3"], ["U3", "U5"]):
        added = add_members(bot, forum_id, users, agency="Elevhälsa")
        assert added.json()["response_action"] == "update"
    # (As admins: the forum's only admin adding themselves as a plain member is refused.)
    added = add_members(bot, forum_id, ["U1", "U2", "U4"], agency="Grundskola", role="admin")
    assert added.json()["response_action"] == "update"
    (swedish,) = welcomes(bot, "U4")
    assert swedish.startswith("Välkommen till *FOSSAM*! <@U1> har lagt till dig")
    assert "*Grundskola*" in swedish and "<#C0001>" in swedish
    assert "dagordning" in swedish and "insatser" in swedish.lower()
    assert "`/samverkan hjälp`" in swedish and "\nSom medlem kommer du att:\n" in swedish
    assert "bedöma läget" not in swedish.lower()  # this forum has no situation picture
    (english,) = welcomes(bot, "U2")
    assert english.startswith("Welcome to *FOSSAM*! <@U1> added you as a member for *Grundskola*")
    assert "`/samverkan help`" in english
    assert len(welcomes(bot, "U3")) == 1  # added again: already a member
    assert len(welcomes(bot, "U5")) == 1
    assert welcomes(bot, "U1") == []  # the coordinator adding themselves
    with transaction(bot.sessions) as session:
        forum = session.get(Forum, forum_id)
        assert forum is not None
        forum.settings = {**(forum.settings or {}), "situation_picture": "every"}
    add_members(bot, forum_id, ["U6"], agency="Elevhälsa")
    (rating,) = welcomes(bot, "U6")
    assert "• bedöma läget för Elevhälsa inför mötena" in rating


def test_the_welcome_tells_someone_not_in_the_channel_to_join_it(bot: Bot) -> None:
    """Someone added who is not in the forum's channel never sees the agenda there (in a
    private channel they cannot even find it): the welcome names the channel and says to
    join it, or, for a private one, to ask whoever added them or a coordinator for an
    invitation. No Slack call before the answer to find out which: the DM says both."""
    forum_id = create_forum(bot)
    bot.slack.set_user("U3", locale="en-US")
    add_members(bot, forum_id, ["U2", "U3"], agency="Elevhälsa")
    (swedish,) = welcomes(bot, "U2")
    assert (
        "Är du inte med i <#C0001> än? Gå med i kanalen, annars ser du inte dagordningen. "
        "Är den privat, be <@U1> eller en samordnare att bjuda in dig."
    ) in swedish, swedish
    (english,) = welcomes(bot, "U3")
    assert (
        "Not in <#C0001> yet? Join it, or you will not see the agenda. If it is a private "
        "channel, ask <@U1> or a coordinator to invite you."
    ) in english, english


def _removable(view: dict[str, Any]) -> set[str]:
    """Whose rows in the members modal offer Remove (their Slack ids)."""
    return {
        block["text"]["text"].split(">", 1)[0].removeprefix("<@")
        for block in view["blocks"]
        if str(block.get("block_id", "")).startswith("member.")
        and (block.get("accessory") or {}).get("action_id") == "member_remove"
    }


def test_the_members_list_offers_remove_only_where_it_would_not_be_refused(bot: Bot) -> None:
    """The last admin has no Remove (the forum needs an admin); with a second admin both
    have it; a coordinator, who may not remove admins, sees it on no admin."""
    forum_id = create_forum(bot)
    alone = add_members(bot, forum_id, ["U2"]).json()["view"]
    assert _removable(alone) == {"U2"}
    two = add_members(bot, forum_id, ["U3"], role="admin").json()["view"]
    assert _removable(two) == {"U1", "U2", "U3"}
    add_members(bot, forum_id, ["U4"], role="coordinator")
    bot.driver.command("forum medlemmar", user="U4")
    seen = bot.slack.wait_for("views.open")[-1].args["view"]
    assert _removable(seen) == {"U2", "U4"}
    # The refusal stays on the server: a crafted click on the last admin is still refused.
    with bot.sessions() as session:
        ids = {u: i for u, i in session.execute(select(Member.slack_user_id, Member.id))}
    for user in ("U1", "U3"):  # U1 goes; then U3, now the last admin, is refused
        bot.driver.block_action(
            "member_remove",
            user="U3",
            value=str(ids[user]),
            view={"id": "V0001", "type": "modal", "private_metadata": meta(forum_id=forum_id)},
        )
        bot.wait_idle()
    with bot.sessions() as session:
        admins = session.scalars(
            select(Member.slack_user_id).where(Member.active.is_(True), Member.role == Role.ADMIN)
        ).all()
    assert admins == ["U3"]


def test_members_cannot_change_the_forum(bot: Bot) -> None:
    forum_id = create_forum(bot)
    add_members(bot, forum_id, ["U2"])
    response = add_members(bot, forum_id, ["U4"], by="U2")
    assert "samordnare" in response.json()["errors"]["users"]
    with bot.sessions() as session:
        assert session.scalar(select(Member).where(Member.slack_user_id == "U4")) is None


def test_an_unknown_or_deleted_user_is_refused_on_the_field(bot: Bot) -> None:
    forum_id = create_forum(bot)
    bot.slack.set_user("U5", deleted=True)
    response = add_members(bot, forum_id, ["U5"])
    assert "Test U5 är ingen person" in response.json()["errors"]["users"]


def _notice(view: dict[str, Any]) -> str:
    """The line above the members in the members modal (after an add)."""
    block = next(b for b in view["blocks"] if b["type"] == "context")
    return str(block["elements"][0]["text"])


def test_the_members_notice_names_who_is_not_in_the_channel(bot: Bot) -> None:
    """Of two people added, one is not in the forum's channel (so would not see the agenda):
    the notice in the modal names exactly that one, for the coordinator to invite. When
    Slack cannot say who is in the channel, the notice only counts, and the add goes on."""
    forum_id = create_forum(bot)
    bot.slack.set_channel_members(CHANNEL, ["U1", "U2", "U9"])
    notice = _notice(add_members(bot, forum_id, ["U2", "U3"]).json()["view"])
    assert notice == (
        "2 medlemmar tillagda. Inte med i <#C0001>: <@U3>. Bjud in dem till kanalen, "
        "annars ser de inte dagordningen."
    ), notice
    bot.slack.fail_next("conversations.members", status=500)
    notice = _notice(add_members(bot, forum_id, ["U4"]).json()["view"])
    assert notice == "1 medlem tillagd.", notice
    with bot.sessions() as session:
        assert session.scalar(select(Member).where(Member.slack_user_id == "U4")) is not None


def test_when_slack_cannot_check_people_the_user_is_asked_to_retry(bot: Bot) -> None:
    forum_id = create_forum(bot)
    bot.slack.fail_next("users.info", status=500, times=5)
    response = add_members(bot, forum_id, ["U6"])
    assert "försök igen" in response.json()["errors"]["users"].lower()
    with bot.sessions() as session:
        assert session.scalar(select(Member).where(Member.slack_user_id == "U6")) is None


def test_a_forum_needs_the_bot_in_its_channel(bot: Bot) -> None:
    bot.slack.set_channel("C0009", is_member=False)
    bot.driver.command("forum ny", user="U1", channel="C0009")
    assert "/invite @Samverkan" in last_reply_text(bot)
    assert bot.slack.count("views.open") == 0


def test_names_in_error_messages_cannot_become_links(bot: Bot) -> None:
    create_forum(bot, name="<https://evil.example|Logga in här>")
    bot.driver.command("forum ny", user="U2")
    text = last_reply_text(bot)
    assert "<https://evil.example" not in text
    assert "&lt;https://evil.example" in text


def test_a_failure_after_the_ack_is_told_to_the_user(bot: Bot) -> None:
    bot.slack.fail_next("views.open", status=200, error="expired_trigger_id")
    bot.driver.command("forum ny", user="U1")
    text = last_reply_text(bot)
    assert "expired_trigger_id" in text and "Försök igen" in text


def leave_the_channel(bot: Bot, forum_id: int) -> None:
    """U1 leaves the forum's channel; waits until their membership has ended."""
    bot.driver.event(
        {"type": "member_left_channel", "user": "U1", "channel": CHANNEL, "team": "T0001"}
    )

    def left() -> bool:
        with bot.sessions() as session:
            member = session.scalar(select(Member).where(Member.forum_id == forum_id))
            return member is not None and member.active is False

    eventually(left)


def test_a_member_who_leaves_the_channel_loses_access(bot: Bot) -> None:
    forum_id = create_forum(bot)
    leave_the_channel(bot, forum_id)
    bot.driver.command("forum", user="U1")
    assert "medlemmar" in last_reply_text(bot).lower()


def test_coordinator_changes_the_forum_settings(bot: Bot) -> None:
    forum_id = create_forum(bot)
    bot.driver.command("forum", user="U1")
    view = bot.slack.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == "forum_edit"
    values = forum_values(name="FOSSAM Norr", own=None, rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH")
    response = bot.driver.view_submission(
        "forum_edit",
        values,
        user="U1",
        private_metadata=view["private_metadata"],
        blocks=blocks_of(values),
    )
    # Saved: the modal says so (it used to close with no word).
    body = response.json()
    assert body["response_action"] == "update"
    assert "Sparat. Inställningarna för FOSSAM Norr är uppdaterade." in json.dumps(
        body["view"]["blocks"], ensure_ascii=False
    )
    with bot.sessions() as session:
        forum = session.get(Forum, forum_id)
        assert forum is not None
        assert forum.name == "FOSSAM Norr"
        assert forum.schedule_rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"


def test_app_home_lists_the_users_forums(bot: Bot) -> None:
    create_forum(bot)
    bot.driver.app_home_opened(user="U1")
    view = bot.slack.wait_for("views.publish")[0].args["view"]
    assert "FOSSAM" in json.dumps(view, ensure_ascii=False)
    bot.slack.assert_no_violations()


def calendar_values(
    policy: str, days_off: list[str], agenda_time: str, days_before: str = "0"
) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        "holidays.0": {"value": select_value(policy)},
        "days_off.0": {
            "value": {
                "type": "checkboxes",
                "selected_options": [{"value": d} for d in days_off],
            }
        },
        "agenda_days.0": {"value": select_value(days_before)},
        "agenda_time.0": {"value": time_value(agenda_time)},
    }


def test_the_forum_modal_sets_holidays_days_off_and_the_agenda_time(bot: Bot) -> None:
    forum_id = create_forum(bot)
    bot.driver.command("forum", user="U1")
    view = bot.slack.wait_for("views.open")[0].args["view"]
    shown = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert shown["holidays.0"]["element"]["initial_option"]["value"] == "skip"
    assert {o["value"] for o in shown["days_off.0"]["element"]["initial_options"]} == {
        "midsummer_eve",
        "christmas_eve",
        "new_years_eve",
    }
    assert shown["agenda_time.0"]["element"]["initial_time"] == "08:00"
    values = {
        **forum_values(own=None),
        **calendar_values("earlier", ["midsummer_eve"], "07:30", "1"),
    }
    response = bot.driver.view_submission(
        "forum_edit",
        values,
        user="U1",
        private_metadata=view["private_metadata"],
        blocks=blocks_of(values),
    )
    assert settings_saved(response)
    with bot.sessions() as session:
        forum = session.get(Forum, forum_id)
        assert forum is not None
        assert forum.settings["holiday_policy"] == "earlier"
        assert forum.settings["extra_days_off"] == ["midsummer_eve"]
        assert (forum.settings["agenda_time"], forum.settings["agenda_days_before"]) == (
            "07:30",
            1,
        )
    # Christmas Eve (a Thursday) is no longer a day off: the meeting stays, its agenda is
    # posted the day before at 07:30.
    bot.driver.command("möten", user="U1")
    listing = json.dumps(bot.slack.wait_for("response_url")[-1].args, ensure_ascii=False)
    assert "torsdag 24 december" in listing


def test_an_agenda_time_after_the_meeting_start_is_refused_on_its_field(bot: Bot) -> None:
    create_forum(bot)
    values = {**forum_values(own=None), **calendar_values("skip", [], "14:00")}
    response = bot.driver.view_submission(
        "forum_edit",
        values,
        user="U1",
        private_metadata=meta(forum_id=1),
        blocks=blocks_of(values),
    )
    errors = response.json()["errors"]
    assert "agenda_time.0" in errors and "13:00" in errors["agenda_time.0"]


def _save_agencies(bot: Bot, agencies: tuple[str, ...]) -> Any:
    before = bot.slack.count("views.open")
    bot.driver.command("forum", user="U1")
    view = bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"]
    values = forum_values(own=None, agencies=agencies)
    return bot.driver.view_submission(
        "forum_edit",
        values,
        user="U1",
        private_metadata=view["private_metadata"],
        blocks=blocks_of(values),
    )


def test_a_coordinator_takes_a_retired_agency_back_directly(bot: Bot) -> None:
    """What a coordinator sees: an agency with members is not retired (the field says to
    move or remove them first); without members it is, and choosing it again in the
    settings takes it back at once, the same agency (its cases and history stay its own),
    with no step before; its former member is added again like anyone."""
    forum_id = create_forum(bot)
    add_members(bot, forum_id, ["U2"], agency="Elevhälsa")
    kept = ("Grundskola", "Socialtjänst/IFO")
    refused = _save_agencies(bot, kept).json()
    assert refused["response_action"] == "errors"
    assert "Elevhälsa har fortfarande medlemmar. Flytta eller ta bort dem först." in str(
        refused["errors"].values()
    )
    with bot.sessions() as session:
        elevhalsa = session.scalar(select(Agency).where(Agency.name == "Elevhälsa"))
        assert elevhalsa is not None and elevhalsa.active
        member_id = session.scalar(select(Member.id).where(Member.slack_user_id == "U2"))
    bot.driver.block_action(
        "member_remove",
        user="U1",
        value=str(member_id),
        view={"id": "V0001", "type": "modal", "private_metadata": meta(forum_id=forum_id)},
    )
    bot.wait_idle()
    assert settings_saved(_save_agencies(bot, kept))

    assert settings_saved(_save_agencies(bot, (*kept, "elevhälsa")))
    with bot.sessions() as session:
        again = session.scalars(select(Agency).where(Agency.forum_id == forum_id)).all()
        assert [(a.id, a.active) for a in again if a.name == "Elevhälsa"] == [(elevhalsa.id, True)]
    added = add_members(bot, forum_id, ["U2"], agency="Elevhälsa").json()
    assert added["response_action"] == "update"
    bot.driver.command("forum", user="U2")
    assert "Elevhälsa" in last_reply_text(bot)
    bot.slack.assert_no_violations()


def test_the_case_reference_fields_suggest_the_forums_own_code_and_year(bot: Bot) -> None:
    """In forum TE the action and deviation forms suggest "TE-2026-001", not another
    forum's "FOS-2026-017"."""
    create_forum(bot, name="Trygg Ekeby", code="TE")
    for command in ("insats", "avvikelse"):
        before = bot.slack.count("views.open")
        bot.driver.command(command, user="U1")
        view = bot.slack.wait_for("views.open", count=before + 1)[-1].args["view"]
        (case,) = [b for b in view["blocks"] if str(b.get("block_id", "")).startswith("case")]
        assert case["element"]["placeholder"]["text"] == "TE-2026-001", command


def test_leave_tells_how_to_leave_and_app_home_then_reads_right(bot: Bot) -> None:
    """`/samverkan lämna` (and `leave`) said "Jag känner inte till kommandot": it now tells
    how (leave the channel, or a coordinator removes you), in the user's language; the help
    lists it among the members' commands; App Home after leaving drops the odd "än"."""
    forum_id = create_forum(bot)

    def answer(command: str, user: str) -> str:
        before = bot.slack.count("response_url")
        bot.driver.command(command, user=user)
        reply = bot.slack.wait_for("response_url", count=before + 1)[-1].args
        return json.dumps(reply, ensure_ascii=False)

    text = answer("lämna", "U1")
    assert "lämna dess kanal" in text and "En samordnare i forumet kan också" in text, text
    assert "känner inte till" not in text
    bot.slack.set_user("U2", locale="en-GB")
    text = answer("leave", "U2")
    assert "To leave a forum, leave its channel" in text, text
    help_text = answer("hjälp", "U7")  # locale not yet known: answered after the ack
    members = help_text.split("För forumets medlemmar", 1)[1].split("För samordnare", 1)[0]
    assert "/samverkan lämna" in members, members
    leave_the_channel(bot, forum_id)
    bot.driver.app_home_opened(user="U1")
    bot.wait_idle()
    home = json.dumps(bot.slack.home_view("U1"), ensure_ascii=False)
    assert "Du är inte medlem i något forum just nu." in home, home
