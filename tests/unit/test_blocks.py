"""Block Kit builders: what users see, checked against Slack's limits without a network.

Every payload goes through the Web API stand-in's validator (``sandbox.webapi``), the same
checks that make the stand-in refuse a call as Slack would.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from domain.forums import DEFAULT_AGENCIES, TEMPLATES, draft_from_template
from domain.i18n import Locale, Translator
from domain.schedule_words import SchedulePick, pick_of, rrule_for
from handlers.blocks.common import (
    MESSAGE_BLOCKS_MAX,
    MODAL_BLOCKS_MAX,
    MODAL_TITLE_MAX,
    OPTION_TEXT_MAX,
    clip,
    escape,
)
from handlers.blocks.forum import (
    ACTION_MENU_FORUM,
    ACTION_MENU_FORUM_NEW,
    ACTION_MENU_HELP,
    ACTION_MENU_MEMBERS,
    ACTION_OPEN_MEMBERS,
    ACTION_REMOVE_MEMBER,
    ACTION_TEMPLATE,
    CB_FORUM_CREATE,
    CB_FORUM_EDIT,
    ROLE_VALUES,
    ForumSummary,
    MemberRow,
    forum_created_message,
    forum_modal,
    forum_summary_blocks,
    help_blocks,
    help_message,
    home_forums_section,
    home_tab,
    members_modal,
    menu_message,
    unknown_command_message,
)
from handlers.blocks.home import HomeParts
from sandbox.webapi import validate_message, validate_view
from tests.support.blockkit import all_text, mrkdwn_texts

LOCALES: tuple[Locale, ...] = ("sv", "en")
STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
# Thursday 3 December 2026, 13:00 in Stockholm.
MEETING = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
HOSTILE = "Gråbo <!channel> & <https://evil.example|klicka>"


@pytest.fixture(params=LOCALES)
def t(request: pytest.FixtureRequest) -> Translator:
    return Translator(request.param)


def summary(name: str = "FOSSAM Gråbo", **changes: Any) -> ForumSummary:
    fields: dict[str, Any] = {
        "name": name,
        "code": "FOS",
        "channel_id": "C0FOSSAM",
        "agencies": ["Grundskola", "Elevhälsa", "Socialtjänst/IFO"],
        "areas": ["Gråbo", "Droger", "Psykisk ohälsa"],
        "next_meetings": [MEETING, MEETING + dt.timedelta(days=7)],
        "timezone": STOCKHOLM,
        "rrule": "FREQ=WEEKLY;BYDAY=TH",
        "member_count": 7,
        "your_role": "coordinator",
        "your_agency": "Elevhälsa",
    }
    fields.update(changes)
    return ForumSummary(**fields)


def options(node: Any) -> Iterator[dict[str, Any]]:
    """Every option of every select, radio group or checkbox group."""
    if isinstance(node, dict):
        for key in ("options", "initial_options"):
            for item in node.get(key) or []:
                yield item
        if isinstance(node.get("initial_option"), dict):
            yield node["initial_option"]
        for value in node.values():
            yield from options(value)
    elif isinstance(node, list):
        for item in node:
            yield from options(item)


def action_ids(blocks: Sequence[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def block_by_id(view: dict[str, Any], prefix: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id", "").split(".")[0] == prefix)


def many_members(n: int) -> list[MemberRow]:
    return [
        MemberRow(i, f"U{i:07d}", DEFAULT_AGENCIES[i % len(DEFAULT_AGENCIES)], ROLE_VALUES[i % 3])
        for i in range(1, n + 1)
    ]


def open_members_modal(
    t: Translator, *, members: Sequence[MemberRow], agencies: Sequence[tuple[int, str]], **kw: Any
) -> dict[str, Any]:
    defaults: dict[str, Any] = {"forum_name": "FOSSAM", "private_metadata": "{}", "can_edit": True}
    defaults.update(kw)
    return members_modal(t, members=members, agencies=agencies, **defaults)


# --- helpers ---------------------------------------------------------------------------------


def test_escape_replaces_slacks_control_characters() -> None:
    assert escape("a < b > c & d") == "a &lt; b &gt; c &amp; d"
    # What the user typed is shown as typed, even if it looks like an entity.
    assert escape("&lt;") == "&amp;lt;"
    assert escape("Gråbo – Hemse") == "Gråbo – Hemse"


def test_clip_keeps_short_text_and_marks_cut_text() -> None:
    assert clip("kort", 75) == "kort"
    assert clip("x" * 75, 75) == "x" * 75
    assert clip("x" * 76, 75) == "x" * 74 + "…"


# --- help, menu, unknown command ---------------------------------------------------------------


def test_help_message_is_valid(t: Translator) -> None:
    msg: dict[str, Any] = help_message(t)

    assert validate_message(msg) == []
    assert msg["blocks"] == help_blocks(t)
    assert msg["text"] == t("Samverkan – what I can do")


@pytest.mark.parametrize(
    ("locale", "title", "commands"),
    [
        (
            "sv",
            "Samverkan – vad jag kan göra",
            ["/samverkan hjälp", "/samverkan forum ny", "/samverkan forum medlemmar"],
        ),
        (
            "en",
            "Samverkan – what I can do",
            ["/samverkan help", "/samverkan forum new", "/samverkan forum members"],
        ),
    ],
)
def test_help_lists_the_commands_in_the_users_language(
    locale: Locale, title: str, commands: list[str]
) -> None:
    blocks = help_blocks(Translator(locale))

    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": title, "emoji": True},
    }
    body = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    for command in commands:
        assert f"`{command}`" in body


@pytest.mark.parametrize(
    ("locale", "members_title", "coordinators_title", "commands"),
    [
        (
            "sv",
            "För forumets medlemmar",
            "För samordnare",
            ["/samverkan uppföljning", "/samverkan verksamhetsberättelse", "/samverkan årsrapport"],
        ),
        (
            "en",
            "For members of the forum",
            "For coordinators",
            ["/samverkan review", "/samverkan annual-report", "/samverkan yearly-picture"],
        ),
    ],
)
def test_help_lists_coordinator_only_commands_under_coordinators(
    locale: Locale, members_title: str, coordinators_title: str, commands: list[str]
) -> None:
    """A member who runs these is refused (NotCoordinator): the help says whose they are."""
    sections = {
        b["text"]["text"].split("\n", 1)[0]: b["text"]["text"]
        for b in help_blocks(Translator(locale))
        if b["type"] == "section"
    }
    members, coordinators = sections[f"*{members_title}*"], sections[f"*{coordinators_title}*"]
    for command in commands:
        assert f"`{command}`" not in members
        assert f"`{command}`" in coordinators
    assert "samordnare:" not in members and "coordinators:" not in members


def test_help_warns_against_identifying_data(t: Translator) -> None:
    warning = help_blocks(t)[-1]

    assert warning["type"] == "context"
    expected = {"sv": "personnummer", "en": "personal identity numbers"}[t.locale]
    assert expected in all_text(warning)


def test_menu_for_a_member_offers_what_members_do(t: Translator) -> None:
    msg: dict[str, Any] = menu_message(t, forum_name="FOSSAM", role="member")

    assert validate_message(msg) == []
    ids = action_ids(msg["blocks"])
    assert ids[:3] == ["menu_case", "menu_cases", "menu_deviation"]
    assert ACTION_MENU_FORUM in ids and ACTION_MENU_HELP in ids
    assert ACTION_MENU_MEMBERS not in ids  # coordinators manage members


def test_menu_for_a_coordinator_adds_what_coordinators_do(t: Translator) -> None:
    msg: dict[str, Any] = menu_message(t, forum_name="FOSSAM", role="coordinator")

    assert validate_message(msg) == []
    ids = action_ids(msg["blocks"])
    assert {ACTION_MENU_MEMBERS, "menu_forum_settings", "menu_plan", "menu_log"} <= set(ids)
    assert ACTION_MENU_FORUM not in ids  # the coordinator's "Forum" is its settings


def test_menu_without_a_forum_offers_to_create_one(t: Translator) -> None:
    msg: dict[str, Any] = menu_message(t, forum_name=None)

    assert validate_message(msg) == []
    assert action_ids(msg["blocks"]) == [ACTION_MENU_FORUM_NEW, ACTION_MENU_HELP]
    create = msg["blocks"][-1]["elements"][0]
    assert create["style"] == "primary"
    assert t("There is no forum in this channel yet.") in mrkdwn_texts(msg)


def test_menu_for_someone_outside_the_forum_and_in_a_dm(t: Translator) -> None:
    outside: dict[str, Any] = menu_message(t, forum_name="FOSSAM", role=None)
    assert action_ids(outside["blocks"]) == [ACTION_MENU_HELP]
    dm: dict[str, Any] = menu_message(t, forum_name=None, in_dm=True)
    assert action_ids(dm["blocks"]) == [ACTION_MENU_HELP]


def test_menu_in_swedish() -> None:
    msg: dict[str, Any] = menu_message(Translator("sv"), forum_name=None)

    assert "Det finns inget forum i den här kanalen än." in mrkdwn_texts(msg)
    assert "Hjälp" in all_text(msg)


def test_unknown_command_with_a_huge_word_is_clipped(t: Translator) -> None:
    word = "x" * 500

    msg: dict[str, Any] = unknown_command_message(t, word)

    assert validate_message(msg) == []
    first = msg["blocks"][0]["text"]["text"]
    assert "x" * 40 in first
    assert "x" * 41 not in first
    assert len(first) < 150
    # The help follows so the user sees what does work.
    assert help_blocks(t)[1] in msg["blocks"]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("forum nu", "forum ny"),
        ("ärnde", "ärende"),
        ("hjälpp", "hjälp"),
        ("insatserr", "insatser"),
        ("lägesbil", "lägesbild"),
        ("blabla", None),
    ],
)
def test_an_unknown_command_suggests_the_nearest(typed: str, meant: str | None) -> None:
    msg: dict[str, Any] = unknown_command_message(Translator("sv"), typed)

    assert validate_message(msg) == []
    texts = mrkdwn_texts(msg)
    if meant is None:
        assert not any("Menade du" in text for text in texts)
    else:
        assert f"Menade du `{meant}`?" in texts


def test_unknown_command_escapes_the_word() -> None:
    msg: dict[str, Any] = unknown_command_message(Translator("sv"), "<!channel>&")

    assert msg["blocks"][0]["text"]["text"] == (
        "Jag känner inte till kommandot *&lt;!channel&gt;&amp;*."
    )
    assert msg["text"] == "Okänt kommando"


# --- the forum modal ---------------------------------------------------------------------------


@pytest.mark.parametrize("template", [None, *TEMPLATES])
@pytest.mark.parametrize("editing", [False, True])
def test_forum_modal_is_valid(t: Translator, template: str | None, editing: bool) -> None:
    view = forum_modal(
        t, draft_from_template(template), private_metadata='{"c":"C1"}', editing=editing
    )

    assert validate_view(view) == []
    assert view["callback_id"] == (CB_FORUM_EDIT if editing else CB_FORUM_CREATE)
    for key in ("title", "submit", "close"):
        assert 0 < len(view[key]["text"]) <= MODAL_TITLE_MAX
    assert view["title"]["text"] == (t("Forum settings") if editing else t("New forum"))


@pytest.mark.parametrize("template", list(TEMPLATES))
def test_template_fills_in_the_create_modal(template: str) -> None:
    tpl = TEMPLATES[template]
    t = Translator("sv")

    view = forum_modal(t, draft_from_template(template), private_metadata="", editing=False)

    select = block_by_id(view, "template")["element"]
    assert select["action_id"] == ACTION_TEMPLATE
    assert select["initial_option"]["value"] == template
    assert select["initial_option"]["text"]["text"] == t(tpl.label)
    assert block_by_id(view, "name")["element"]["initial_value"] == tpl.name
    assert block_by_id(view, "code")["element"]["initial_value"] == tpl.code
    chosen = block_by_id(view, "agencies")["element"]["initial_options"]
    assert [o["value"] for o in chosen] == [a for a in DEFAULT_AGENCIES if a in tpl.agencies]
    if pick_of(tpl.rrule) is None:
        # A rule the choices cannot make (a steering group's months): under *Avancerat*.
        assert block_by_id(view, "rrule")["element"]["initial_value"] == tpl.rrule
    else:
        # The template's schedule as the modal's choices, which make the same rule again.
        days = [o["value"] for o in block_by_id(view, "sched_days")["element"]["initial_options"]]
        repeat = block_by_id(view, "sched_repeat")["element"]["initial_option"]["value"]
        weeks = block_by_id(view, "sched_weeks")["element"].get("initial_options", [])
        pick = SchedulePick(tuple(days), repeat, tuple(int(w["value"]) for w in weeks))
        assert rrule_for(pick) == tpl.rrule
        assert "initial_value" not in block_by_id(view, "rrule")["element"]
    assert block_by_id(view, "start")["element"]["initial_time"] == tpl.start.strftime("%H:%M")
    assert block_by_id(view, "end")["element"]["initial_time"] == tpl.end.strftime("%H:%M")
    areas = block_by_id(view, "areas")["element"].get("initial_value", "")
    assert areas.splitlines() == list(tpl.areas)


def test_template_labels_are_swedish_in_the_swedish_modal() -> None:
    view = forum_modal(
        Translator("sv"), draft_from_template(None), private_metadata="", editing=False
    )

    labels = [o["text"]["text"] for o in block_by_id(view, "template")["element"]["options"]]
    assert "Veckovis ärendeforum (som FOSSAM)" in labels
    assert "initial_option" not in block_by_id(view, "template")["element"]


def test_edit_modal_has_no_template_or_own_agency_but_links_to_members(t: Translator) -> None:
    view = forum_modal(t, draft_from_template("osf"), private_metadata="", editing=True)

    ids = {b.get("block_id", "").split(".")[0] for b in view["blocks"]}
    assert "template" not in ids
    assert "own_agency" not in ids
    assert action_ids(view["blocks"]) == [ACTION_OPEN_MEMBERS, "case_criteria_open"]


def test_agencies_outside_the_default_list_go_to_other_agencies() -> None:
    draft = draft_from_template("fossam")
    draft.agencies = ["Grundskola", "Ungdomsmottagning", "Kyrkan"]

    view = forum_modal(Translator("sv"), draft, private_metadata="", editing=True)

    chosen = block_by_id(view, "agencies")["element"]["initial_options"]
    assert [o["value"] for o in chosen] == ["Grundskola"]
    other = block_by_id(view, "agencies_other")["element"]["initial_value"]
    assert other.splitlines() == ["Ungdomsmottagning", "Kyrkan"]


def test_a_new_template_version_renews_the_block_ids() -> None:
    draft = draft_from_template("sspf")
    t = Translator("sv")

    first = forum_modal(t, draft, private_metadata="", editing=False, version=0)
    second = forum_modal(t, draft, private_metadata="", editing=False, version=1)

    first_ids = {b["block_id"] for b in first["blocks"] if b["block_id"] != "template"}
    second_ids = {b["block_id"] for b in second["blocks"] if b["block_id"] != "template"}
    assert first_ids.isdisjoint(second_ids)


# --- the members modal -------------------------------------------------------------------------


@pytest.mark.parametrize("can_edit", [True, False])
def test_members_modal_with_many_members_and_agencies(t: Translator, can_edit: bool) -> None:
    agencies = [(i, f"Myndighet nummer {i}") for i in range(1, 101)]

    view = open_members_modal(t, members=many_members(150), agencies=agencies, can_edit=can_edit)

    assert validate_view(view) == []
    assert len(view["blocks"]) <= MODAL_BLOCKS_MAX
    assert all(len(o["text"]["text"]) <= OPTION_TEXT_MAX for o in options(view))
    assert t("…and {n} more.", n=90) in mrkdwn_texts(view)
    listed = [b for b in view["blocks"] if b.get("block_id", "").startswith("member.")]
    assert len(listed) == 60
    removes = [b for b in listed if "accessory" in b]
    assert len(removes) == (60 if can_edit else 0)
    if can_edit:
        assert removes[0]["accessory"]["action_id"] == ACTION_REMOVE_MEMBER
        assert removes[0]["accessory"]["value"] == "1"
        assert "submit" in view
    else:
        assert "submit" not in view


def test_members_modal_shows_member_agency_and_role_in_swedish() -> None:
    row = MemberRow(5, "U0ANNA", "Elevhälsa", "coordinator")

    view = open_members_modal(Translator("sv"), members=[row], agencies=[(1, "Elevhälsa")])

    assert "<@U0ANNA> · Elevhälsa · samordnare" in mrkdwn_texts(view)
    assert "Medlemmar i *FOSSAM*" in mrkdwn_texts(view)


def test_long_agency_name_is_clipped_in_the_option_but_keeps_its_id(t: Translator) -> None:
    long_name = "Regionens " + "mycket " * 27 + "långa mottagning"
    assert len(long_name) >= 200

    view = open_members_modal(t, members=[], agencies=[(1, "Polis"), (42, long_name)])

    assert validate_view(view) == []
    agency_select = next(b for b in view["blocks"] if b.get("block_id") == "agency.0")["element"]
    clipped = agency_select["options"][1]
    assert clipped["value"] == "42"
    assert len(clipped["text"]["text"]) == OPTION_TEXT_MAX
    assert clipped["text"]["text"].endswith("…")
    assert long_name.startswith(clipped["text"]["text"][:-1])


# --- forum summaries: the channel post and App Home --------------------------------------------


def test_forum_created_message_shows_the_forum_with_swedish_dates() -> None:
    msg: dict[str, Any] = forum_created_message(Translator("sv"), summary())

    assert validate_message(msg) == []
    assert len(msg["blocks"]) <= MESSAGE_BLOCKS_MAX
    text = all_text(msg)
    assert "Forumet FOSSAM Gråbo träffas nu i den här kanalen." in text
    assert "FOS" in text
    assert "*Schema:* varje torsdag" in text
    assert "Grundskola, Elevhälsa, Socialtjänst/IFO" in text
    assert "Gråbo, Droger, Psykisk ohälsa" in text
    assert "torsdag 3 december 2026 13:00" in text
    assert "torsdag 10 december 2026 13:00" in text


def test_forum_created_message_in_english() -> None:
    msg: dict[str, Any] = forum_created_message(Translator("en"), summary())

    assert "Thursday 3 December 2026 13:00" in all_text(msg)


def test_forum_created_message_names_no_person() -> None:
    msg: dict[str, Any] = forum_created_message(Translator("sv"), summary())

    text = all_text(msg) + msg["text"]
    assert "<@" not in text
    assert "U0" not in text


def test_forum_without_meetings_areas_or_agencies_shows_dashes() -> None:
    msg: dict[str, Any] = forum_created_message(
        Translator("sv"), summary(next_meetings=[], areas=[], agencies=[], your_role=None)
    )

    assert validate_message(msg) == []
    lines = msg["blocks"][1]["text"]["text"].splitlines()
    assert "*Nästa möten:* –" in lines
    assert sum(line.endswith(":* –") for line in lines) == 3


def home_view(t: Translator, forums: list[ForumSummary]) -> dict[str, Any]:
    """App Home with the forums' summaries alone, put together as handlers.screens does."""
    return home_tab(t, HomeParts(forums=home_forums_section(t, forums)))


def test_home_view_with_thirty_forums_stays_within_limits(t: Translator) -> None:
    forums = [summary(f"Forum {i:02d}", channel_id=f"C{i:04d}") for i in range(30)]

    view = home_view(t, forums)

    assert view["type"] == "home"
    assert validate_view(view) == []
    assert len(view["blocks"]) <= MODAL_BLOCKS_MAX
    assert "*Forum 00* · <#C0000>" in mrkdwn_texts(view)


def test_home_view_without_forums_explains_how_to_start(t: Translator) -> None:
    view = home_view(t, [])

    assert validate_view(view) == []
    assert any("/samverkan" in text for text in mrkdwn_texts(view))


# --- user text is escaped in mrkdwn --------------------------------------------------------------


def _raw_hostile(texts: list[str]) -> list[str]:
    return [text for text in texts if "<!channel>" in text or "<https://" in text]


def test_menu_escapes_the_forum_name() -> None:
    msg: dict[str, Any] = menu_message(Translator("sv"), forum_name=HOSTILE, role="member")

    assert _raw_hostile(mrkdwn_texts(msg)) == []
    assert (
        "Forum i den här kanalen: "
        "*Gråbo &lt;!channel&gt; &amp; &lt;https://evil.example|klicka&gt;*. "
        "Du deltar som medlem." in mrkdwn_texts(msg)
    )


def test_members_modal_escapes_forum_and_agency_names() -> None:
    row = MemberRow(1, "U0ANNA", HOSTILE, "member")

    view = open_members_modal(
        Translator("sv"), forum_name=HOSTILE, members=[row], agencies=[(1, HOSTILE)]
    )

    assert validate_view(view) == []
    assert _raw_hostile(mrkdwn_texts(view)) == []
    assert any(escape(HOSTILE) in text for text in mrkdwn_texts(view))


def test_forum_summary_escapes_user_text_in_blocks(t: Translator) -> None:
    forum = summary(
        HOSTILE,
        code="A&B",
        agencies=[HOSTILE],
        areas=["<b>Hemse</b>"],
        rrule="FREQ=WEEKLY;BYDAY=TH",
        your_agency=HOSTILE,
    )

    for payload in (forum_created_message(t, forum)["blocks"], home_view(t, [forum])):
        assert _raw_hostile(mrkdwn_texts(payload)) == []
        assert not any("<b>" in text for text in mrkdwn_texts(payload))
        assert any("&lt;b&gt;Hemse&lt;/b&gt;" in text for text in mrkdwn_texts(payload))
        assert any("A&amp;B" in text for text in mrkdwn_texts(payload))


def test_the_representatives_fit_a_section_and_escape_agency_names(t: Translator) -> None:
    # Forty agencies of twelve members each: more than a section's 3000 characters.
    rows = [(f"{HOSTILE} {n}", [f"U{n:03d}{m:05d}" for m in range(12)]) for n in range(40)]
    blocks = forum_summary_blocks(t, summary(representatives=rows))
    assert validate_message({"blocks": blocks}) == []
    listing = next(b for b in blocks if "<@U00000000>" in b.get("text", {}).get("text", ""))
    text = listing["text"]["text"]
    assert len(text) <= 3000
    assert _raw_hostile([text]) == []
    rest = 40 - text.count("\n• ")
    assert 0 < rest < 40
    assert text.endswith(
        t.ngettext(
            "… and {n} more agency.",
            "… and {n} more agencies.",
            rest,
        )
    )


def test_forum_name_is_shown_as_typed_in_the_plain_text_header() -> None:
    blocks = forum_summary_blocks(Translator("sv"), summary(HOSTILE))

    assert validate_message({"blocks": blocks}) == []
    # plain_text is never parsed, so it must not be escaped either (no "&amp;" on screen).
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": HOSTILE, "emoji": True},
    }


def test_forum_created_message_escapes_the_name_in_the_notification_text() -> None:
    msg: dict[str, Any] = forum_created_message(Translator("sv"), summary(HOSTILE))

    assert _raw_hostile([msg["text"]]) == []
