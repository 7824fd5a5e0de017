"""The sandbox page's pieces without a browser: Block Kit → HTML (escaped), the page's values
→ Slack's state shapes, the workspace fed by the Web API stand-in, and the import rule."""

from __future__ import annotations

import ast
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from sandbox.blockkit_html import (
    RenderContext,
    action_payload,
    initial_raw,
    mrkdwn,
    render_blocks,
    render_message,
    state_values,
)
from sandbox.webapi import BOT_USER_ID, SlackWebApiStub
from sandbox.workspace import Channel, Person, ResponseTarget, Workspace
from tests.support.servers import serve_in_thread

CTX = RenderContext(users={"U1": "Anna <Lindqvist>"}, channels={"C1": "fossam"})
SANDBOX = Path(__file__).resolve().parents[2] / "sandbox"


def opt(text: str, value: str) -> dict[str, object]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


# --- mrkdwn -----------------------------------------------------------------------------


def test_mrkdwn_formats_bold_italics_strike_code_and_quotes() -> None:
    html = mrkdwn("*fet* _kursiv_ ~struken~ `kod`\n&gt; citat", CTX)
    assert "<b>fet</b>" in html
    assert "<i>kursiv</i>" in html
    assert "<s>struken</s>" in html
    assert "<code>kod</code>" in html
    assert "<blockquote>citat</blockquote>" in html


def test_mrkdwn_resolves_mentions_and_channels_to_escaped_names() -> None:
    html = mrkdwn("*<@U1>* i <#C1> och <@U9>", CTX)
    assert "<b><span" in html and "@Anna &lt;Lindqvist&gt;</span></b>" in html
    assert "#fossam" in html
    assert "@U9" in html


def test_mrkdwn_links_only_safe_urls() -> None:
    html = mrkdwn("<https://example.org/a?b=1&amp;c=2|läs mer> <javascript:alert(1)|klicka>", CTX)
    assert '<a href="https://example.org/a?b=1&amp;c=2"' in html
    assert ">läs mer</a>" in html
    assert "javascript" not in html.split("klicka")[0].split("läs mer")[1]
    assert "klicka" in html and html.count("<a ") == 1


def test_mrkdwn_never_lets_markup_through() -> None:
    nasty = "&lt;script&gt;alert(1)&lt;/script&gt; <img src=x onerror=alert(1)> \" ' \ue000"
    html = mrkdwn(nasty, CTX)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


# --- blocks -----------------------------------------------------------------------------

EVIL = '<script>alert("x")</script>'


def every_block() -> list[dict[str, object]]:
    return [
        {"type": "header", "text": {"type": "plain_text", "text": f"Rubrik {EVIL}"}},
        {
            "type": "section",
            "block_id": "s1",
            "text": {"type": "mrkdwn", "text": "*Text*"},
            "fields": [{"type": "mrkdwn", "text": f"*Fält* {EVIL}"}],
            "accessory": {
                "type": "overflow",
                "action_id": "more",
                "options": [opt("Öppna", "open"), opt(EVIL, "x")],
            },
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "liten text"}]},
        {"type": "divider"},
        {"type": "image", "image_url": "javascript:alert(1)", "alt_text": "bild"},
        {
            "type": "actions",
            "block_id": "a1",
            "elements": [
                {
                    "type": "button",
                    "action_id": "go",
                    "text": {"type": "plain_text", "text": "Gå"},
                    "value": f'"{EVIL}',
                    "style": "primary",
                },
                {
                    "type": "static_select",
                    "action_id": "pick",
                    "option_groups": [
                        {
                            "label": {"type": "plain_text", "text": "Grupp"},
                            "options": [opt("A", "a")],
                        }
                    ],
                },
                {
                    "type": "multi_static_select",
                    "action_id": "many",
                    "options": [opt("A", "a"), opt("B", "b")],
                    "initial_options": [opt("B", "b")],
                },
                {"type": "datepicker", "action_id": "day", "initial_date": "2026-12-03"},
            ],
        },
    ]


def test_every_block_renders_and_nothing_is_left_unescaped() -> None:
    html = render_blocks(every_block(), CTX)
    assert "<script" not in html
    assert html.count("&lt;script&gt;") >= 3
    for css in ("bk-header", "bk-section", "bk-fields", "bk-context", "bk-divider", "bk-figure"):
        assert css in html
    assert 'class="bk-button bk-primary"' in html
    assert '<optgroup label="Grupp">' in html
    assert 'type="checkbox" name="many" value="b" checked' in html
    assert 'type="date"' in html and 'value="2026-12-03"' in html
    assert "<img" not in html  # a javascript: image URL is not loaded
    assert "[" not in html.replace("[json", "")  # no unsupported placeholders


def test_messages_without_blocks_show_their_text_and_attachments() -> None:
    html = render_message(
        {"text": "hej *du*", "attachments": [{"color": "red;x:1", "text": "bilaga"}]}, CTX
    )
    assert "<b>du</b>" in html
    assert "bilaga" in html and "red;x" not in html


def test_modal_inputs_carry_their_ids_labels_hints_and_error_slots() -> None:
    blocks = [
        {
            "type": "input",
            "block_id": "summary",
            "label": {"type": "plain_text", "text": "Sammanfattning"},
            "hint": {"type": "plain_text", "text": "Inga namn"},
            "optional": True,
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": True,
                "initial_value": EVIL,
            },
        },
        {
            "type": "input",
            "block_id": "template",
            "dispatch_action": True,
            "label": {"type": "plain_text", "text": "Mall"},
            "element": {"type": "static_select", "action_id": "t", "options": [opt("A", "a")]},
        },
    ]
    html = render_blocks(blocks, RenderContext(surface="modal"))
    assert '<textarea class="bk-input" rows="4" data-block-id="summary"' in html
    assert "&lt;script&gt;" in html and "<script" not in html
    assert "(valfritt)" in html and "Inga namn" in html
    assert 'data-error-for="summary"' in html
    assert 'data-block-id="template" data-action-id="t" data-type="static_select" ' in html
    assert 'data-dispatch="1"' in html


# --- values back to Slack's shapes ------------------------------------------------------


def test_state_values_have_slacks_shapes_for_every_input() -> None:
    blocks = [
        {
            "type": "input",
            "block_id": "t",
            "element": {"type": "plain_text_input", "action_id": "v"},
        },
        {
            "type": "input",
            "block_id": "s",
            "element": {"type": "static_select", "action_id": "v", "options": [opt("Ett", "1")]},
        },
        {
            "type": "input",
            "block_id": "m",
            "element": {
                "type": "multi_static_select",
                "action_id": "v",
                "options": [opt("Ett", "1"), opt("Två", "2")],
            },
        },
        {
            "type": "input",
            "block_id": "u",
            "element": {"type": "multi_users_select", "action_id": "v"},
        },
        {"type": "input", "block_id": "d", "element": {"type": "datepicker", "action_id": "v"}},
        {"type": "input", "block_id": "h", "element": {"type": "timepicker", "action_id": "v"}},
        {
            "type": "input",
            "block_id": "r",
            "element": {"type": "radio_buttons", "action_id": "v", "options": [opt("Ja", "yes")]},
        },
    ]
    raw: dict[str, dict[str, Any]] = {
        "t": {"v": ""},
        "s": {"v": "1"},
        "m": {"v": ["2", "unknown"]},
        "u": {"v": ["U1", "U2"]},
        "d": {"v": "2026-12-03"},
        "h": {"v": None},
        "r": {"v": "yes"},
    }
    state = state_values(blocks, raw)
    assert state["t"]["v"] == {"type": "plain_text_input", "value": None}
    assert state["s"]["v"]["selected_option"] == opt("Ett", "1")
    assert state["m"]["v"]["selected_options"] == [opt("Två", "2")]
    assert state["u"]["v"]["selected_users"] == ["U1", "U2"]
    assert state["d"]["v"]["selected_date"] == "2026-12-03"
    assert state["h"]["v"] == {"type": "timepicker", "selected_time": None}
    assert state["r"]["v"]["selected_option"]["value"] == "yes"


def test_initial_values_round_trip_into_state() -> None:
    blocks = every_block()
    raw = initial_raw(blocks)
    assert raw["a1"]["many"] == ["b"]
    assert raw["a1"]["day"] == "2026-12-03"
    state = state_values(blocks, raw)
    assert state["a1"]["many"]["selected_options"] == [opt("B", "b")]


def test_a_button_action_carries_its_value_text_and_style() -> None:
    button = every_block()[5]["elements"][0]  # type: ignore[index]
    action = action_payload(button, "a1", None, "1.0")
    assert action["type"] == "button" and action["value"] == f'"{EVIL}'
    assert action["text"]["text"] == "Gå" and action["style"] == "primary"
    assert action["block_id"] == "a1" and action["action_id"] == "go"


# --- the workspace, fed by the stand-in -------------------------------------------------


@pytest.fixture
def fed() -> Iterator[tuple[SlackWebApiStub, Workspace, WebClient]]:
    stub = SlackWebApiStub(max_calls=3)
    stub.start()
    ws = Workspace(
        [Person("U1", "Anna", "rektor", "Grundskola")],
        [Channel("C1", "fossam")],
        response_url_base=stub.response_url_base,
    )
    stub.add_listener(ws.observe)
    yield stub, ws, WebClient(token="xoxb-test", base_url=stub.base_url)
    stub.stop()


def test_messages_ephemerals_views_and_home_reach_the_right_person(fed) -> None:
    stub, ws, client = fed
    client.chat_postMessage(channel="C1", text="hej alla")
    client.chat_postEphemeral(channel="C1", user="U1", text="bara till dig")
    client.chat_postMessage(channel="U1", text="ett DM")
    trigger = ws.new_trigger("U1")
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Titel"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}],
    }
    opened = client.views_open(trigger_id=trigger, view=modal)
    client.views_update(view_id=opened["view"]["id"], view={**modal, "callback_id": "v2"})
    client.views_publish(user_id="U1", view={"type": "home", "blocks": []})

    assert [m.text for m in ws.messages("U1", "C1")] == ["hej alla", "bara till dig"]
    assert [m.text for m in ws.messages("U2", "C1")] == ["hej alla"]
    assert [m.text for m in ws.messages("U1", "DU1")] == ["ett DM"]
    top = ws.top_modal("U1")
    assert top is not None and top["callback_id"] == "v2"
    assert ws.home("U1") is not None
    assert len(stub.calls) == 3  # max_calls keeps the latest only


def test_a_pushed_view_names_the_view_beneath_it_as_in_slack(fed) -> None:
    # The bot refreshes the view beneath (a case's modal lists the action just made from it)
    # through previous_view_id: without it, the sandbox showed "Inga insatser ännu." there.
    _stub, ws, client = fed
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Ärende"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}],
    }
    case = client.views_open(trigger_id=ws.new_trigger("U1"), view=modal)["view"]
    pushed = client.views_push(trigger_id=ws.new_trigger("U1"), view=modal)["view"]
    top = ws.top_modal("U1")
    assert top is not None and top["id"] == pushed["id"]
    assert top["previous_view_id"] == case["id"]
    client.views_update(view_id=pushed["id"], view={**modal, "callback_id": "v2"})
    top = ws.top_modal("U1")
    assert top is not None and top["callback_id"] == "v2"
    assert top["previous_view_id"] == case["id"]


def test_response_urls_post_replace_and_refusals_are_shown(fed) -> None:
    _stub, ws, client = fed
    first = ws.post("C1", author=BOT_USER_ID, text="lista", ephemeral_for="U1")
    url = ws.new_response_url(
        ResponseTarget(user="U1", channel="C1", message_ts=first.ts, ephemeral=True)
    )
    body = json.dumps({"text": "ny lista"}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    urllib.request.urlopen(request).close()
    assert [m.text for m in ws.messages("U1", "C1")] == ["ny lista"]

    bad = [{"type": "header", "text": {"type": "mrkdwn", "text": "fel"}}]
    with pytest.raises(Exception):  # noqa: B017 - slack_sdk raises SlackApiError
        client.chat_postMessage(channel="C1", text="x", blocks=bad)
    refused = [m for m in ws.messages("U1", "C1") if m.error]
    assert refused and "chat.postMessage" in refused[0].text


def test_shared_files_show_as_cards_in_their_channel_or_dm(fed) -> None:
    """files_upload_v2 (the picture's PNG, an xlsx export) lands as a file card: an image
    with its picture, a spreadsheet with its kind and size; the card links to the bytes."""
    stub, ws, client = fed
    ws.file_source = lambda file_id: stub.uploads.get(file_id)
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 2000
    client.files_upload_v2(
        channel="C1", filename="lagesbild.png", title="Lägesbild <OSF>", content=png
    )
    client.files_upload_v2(channel="U1", filename="atgardsplan.xlsx", content=b"PK" * 10)
    [shared] = [m for m in ws.messages("U1", "C1") if m.files]
    [exported] = [m for m in ws.messages("U1", "DU1") if m.files]
    html = render_message(shared.as_payload(), CTX)
    assert 'class="file-card file-png"' in html and "<img" in html
    assert "Lägesbild &lt;OSF&gt;" in html and "2 kB" in html
    card = render_message(exported.as_payload(), CTX)
    assert "file-xlsx" in card and "Excel · 20 B" in card
    file_id = exported.files[0]["id"] if exported.files else ""
    assert f'href="/files/{file_id}/atgardsplan.xlsx"' in card
    assert ws.file_source(file_id) == b"PK" * 10


# --- the rule: the sandbox speaks only HTTP to the bot ----------------------------------


@pytest.mark.parametrize(
    "path", sorted(SANDBOX.rglob("*.py")), ids=lambda p: str(p.relative_to(SANDBOX))
)
def test_sandbox_never_imports_the_bots_packages(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & {"bot", "handlers", "domain", "storage", "tests"}


# --- the surface: signed requests out, response_action applied ---------------------------


class _Bot:
    """A stand-in bot on loopback: checks Slack's signature and answers with ``reply``."""

    def __init__(self, secret: str) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs

        from slack_sdk.signature import SignatureVerifier

        verifier = SignatureVerifier(secret)
        self.reply: dict[str, Any] = {}
        self.payloads: list[dict[str, Any]] = []
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                if not verifier.is_valid_request(body, dict(self.headers)):
                    self.send_response(401)
                    self.end_headers()
                    return
                form = parse_qs(body)
                bot.payloads.append(json.loads(form["payload"][0]) if "payload" in form else form)
                data = json.dumps(bot.reply).encode() if bot.reply else b""
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        serve_in_thread(self.server)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


MODAL_INPUT = {
    "type": "input",
    "block_id": "name",
    "label": {"type": "plain_text", "text": "Namn"},
    "element": {"type": "plain_text_input", "action_id": "value"},
}


def _modal(title: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "cb",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Spara"},
        "blocks": [MODAL_INPUT],
    }


@pytest.fixture
def surface() -> Iterator[tuple[Any, _Bot]]:
    from sandbox.surface import BotLink, Surface

    bot = _Bot("hemlig")
    ws = Workspace([Person("U1", "Anna", "rektor", "Grundskola")], [Channel("C1", "fossam")])
    yield Surface(ws, BotLink(bot.url, "hemlig"), timezone="Europe/Stockholm"), bot
    bot.server.shutdown()


def test_submissions_follow_the_bots_response_action(surface) -> None:
    surf, bot = surface
    ws = surf.workspace
    ws.open_modal("U1", {**_modal("Ett"), "id": "V1", "hash": "h1"})

    bot.reply = {"response_action": "errors", "errors": {"name": "Fel namn"}}
    assert surf.submit("U1", "V1", {"name": {"value": "x"}}) == {"name": "Fel namn"}
    sent = bot.payloads[-1]
    assert sent["type"] == "view_submission"
    assert sent["view"]["state"]["values"]["name"]["value"]["value"] == "x"

    bot.reply = {"response_action": "update", "view": _modal("Två")}
    assert surf.submit("U1", "V1", {}) == {}
    top = ws.top_modal("U1")
    assert top is not None and top["id"] == "V1" and top["title"]["text"] == "Två"

    bot.reply = {"response_action": "push", "view": _modal("Tre")}
    surf.submit("U1", "V1", {})
    assert [v["title"]["text"] for v in ws.modal_stack("U1")] == ["Två", "Tre"]

    bot.reply = {}
    surf.submit("U1", ws.modal_stack("U1")[-1]["id"], {})
    assert [v["title"]["text"] for v in ws.modal_stack("U1")] == ["Två"]

    bot.reply = {"response_action": "clear"}
    surf.submit("U1", "V1", {})
    assert ws.modal_stack("U1") == []


def test_a_command_is_signed_and_its_immediate_reply_shown_only_to_its_author(surface) -> None:
    surf, bot = surface
    bot.reply = {"response_type": "ephemeral", "text": "Hjälp *här*"}
    surf.command("U1", "C1", "/samverkan hjälp")
    form = bot.payloads[-1]
    assert form["command"] == ["/samverkan"] and form["text"] == ["hjälp"]
    assert form["trigger_id"] and form["response_url"]
    assert [m.text for m in surf.workspace.messages("U1", "C1")] == [
        "/samverkan hjälp",
        "Hjälp *här*",
    ]
    assert surf.workspace.messages("U2", "C1") == []

    surf.link.signing_secret = "fel"
    surf.command("U1", "C1", "/samverkan")
    assert "401" in surf.workspace.messages("U1", "C1")[-1].text


# --- the clock buttons' times agree with the bot's own planning ----------------------------


@pytest.mark.parametrize("template", ["fossam", "osf"])
def test_demo_calendar_matches_the_bots_meetings_agendas_and_rounds(template: str) -> None:
    """The page computes its jumps without asking the bot; over two years (holidays,
    daylight saving, five-Thursday months) they are the times the bot itself plans."""
    import datetime as dt
    import zoneinfo

    from domain import meetings, ratings
    from domain.forums import TEMPLATES
    from domain.schedule import Schedule
    from sandbox import demo_calendar
    from storage.models import Forum, Meeting, MeetingStatus

    zone = zoneinfo.ZoneInfo("Europe/Stockholm")
    spec = TEMPLATES[template]
    demo = demo_calendar.OSF if template == "osf" else demo_calendar.FOSSAM
    start = dt.datetime(2026, 11, 23, 15, 0, tzinfo=zone)
    until = start + dt.timedelta(days=730)
    schedule = Schedule(spec.rrule, spec.start, 120, "Europe/Stockholm", start.date())
    calendar = meetings.ForumCalendar()
    planned = [
        p.starts_at
        for p in meetings.plan(schedule, calendar, start, until)
        if p.status is MeetingStatus.PLANNED
    ]
    days = [d for d in demo_calendar.meetings_after(demo, start, zone) if d < until.date()]
    assert days == [p.date() for p in planned]
    assert len(days) > (90 if template == "fossam" else 40)

    forum = Forum(timezone="Europe/Stockholm", settings={})
    settings = ratings.RatingSettings(cadence=ratings.Cadence.EVERY)
    for begins in planned:
        agenda = meetings.agenda_due(begins, calendar, zone)
        before = agenda - dt.timedelta(minutes=1)
        assert demo_calendar.agenda_after(demo, before, zone) == agenda
        if not demo.rates:
            assert demo_calendar.round_opens_after(demo, before, zone) is None
            continue
        opens, deadline = ratings.round_times(forum, Meeting(starts_at=begins), settings)
        assert demo_calendar.round_times(begins.date(), zone) == (opens, deadline)
        assert demo_calendar.round_opens_after(demo, opens - dt.timedelta(minutes=1), zone) == opens
        assert demo_calendar.deadline_after(demo, opens, zone) == deadline


def test_the_sandbox_opens_the_page_only_where_there_is_a_desktop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import webbrowser

    from sandbox.server import open_browser

    opened: list[str] = []

    def fake_open(url: str, new: int = 0) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr(webbrowser, "open", fake_open)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert not open_browser("http://127.0.0.1:3000")  # a server: nothing to open
    monkeypatch.setenv("DISPLAY", ":0")
    assert open_browser("http://127.0.0.1:3000")
    monkeypatch.setenv("SAMVERKAN_SANDBOX_BROWSER", "0")
    assert not open_browser("http://127.0.0.1:3000")
    assert opened == ["http://127.0.0.1:3000"]
