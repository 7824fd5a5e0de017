"""The README's run command in a real browser: `samverkan sandbox`, driven by Playwright in
Debian's Chromium (/usr/bin/chromium, installed by .ci/run).

A new visitor opens the page, raises a case through ``/samverkan ärende`` in the modal (a
personnummer in the summary is refused under the field and the text is kept), and sees the
case announced in the channel without its summary. Then the agency that must take part sees
its DM, the App Home lists the forum and the clock jumps to the next agenda morning.

A second walk-through rates a round and sees the agenda: the clock jumps to when the OSF-like
forum's rating round opens, a case is raised in #fossam for the coming Thursday, the youth
centre's representative gets the rating DM, rates every area in the modal opened from its
button, and after a jump to the meeting day 08:00 the posted agendas show the case's
reference in #fossam and the situation picture in #osf-centrum.

On failure, a screenshot and the page's HTML are kept in ``$SAMVERKAN_ARTIFACT_DIR``
(default ``artifacts/browser``) for CI.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.personnummer import pnr
from tests.support.processes import ROOT, start_sandbox, stop

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path(os.environ.get("SAMVERKAN_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("SAMVERKAN_ARTIFACT_DIR", ROOT / "artifacts" / "browser"))
REQUIRED = os.environ.get("CI") == "true" or os.environ.get("SAMVERKAN_REQUIRE_BROWSER") == "1"
SUMMARY = "Hög frånvaro sedan oktober, oro för måendet"

# One worker runs the whole module (`--dist loadgroup`), so one sandbox serves every test.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sandbox_browser")]


@pytest.fixture(scope="module")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    cwd = tmp_path_factory.mktemp("sandbox")
    # Due work every quarter second (the sandbox's default is 2 s): a clock jump shows
    # within a moment, not after up to two seconds per jump.
    sandbox = start_sandbox(cwd, {"SAMVERKAN_SCHEDULER_INTERVAL": "0.25"})
    try:
        yield sandbox.url
    finally:
        stop(sandbox.proc)


@pytest.fixture(scope="module")
def browser(sandbox_url: str) -> Iterator[Any]:
    """One Chromium for the module (starting it took seconds a test); each test still gets a
    browser context of its own (``page``): no cookies, storage or cache of another test."""
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(sandbox_url: str, browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser page, in a fresh context, on the sandbox; a script dialog fails the
    test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        dialogs: list[str] = []

        def on_dialog(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(sandbox_url)
        yield page
        assert not dialogs, f"script ran in the page: {dialogs}"
    finally:
        context.close()


@contextlib.contextmanager
def evidence(page: Any, name: str) -> Iterator[None]:
    """On failure keep a screenshot and the page's HTML as CI artefacts."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        (ARTIFACTS / f"{name}.html").write_text(page.content(), encoding="utf-8")
        print(f"browser evidence kept in {ARTIFACTS}/{name}.png and .html")
        raise


SCREENSHOTS = os.environ.get("SAMVERKAN_SCREENSHOT_DIR")


def screenshot(locator: Any, name: str) -> None:
    """With ``SAMVERKAN_SCREENSHOT_DIR`` set (e.g. docs/screenshots): the README's pictures,
    taken where the walk-through shows them."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        locator.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))


def _field(page, label: str):
    """An input block of the open modal, by its label."""
    return page.locator("#modal-body .bk-input-block").filter(
        has=page.locator(".bk-label", has_text=label)
    )


def test_a_new_visitor_raises_a_case_and_sees_it_announced(page) -> None:
    with evidence(page, "raise_a_case"):
        walk_through_raising_a_case(page)


def walk_through_raising_a_case(page) -> None:
    expect = playwright_api.expect
    expect(page.locator("#status")).to_be_hidden()
    page.select_option("#user", "U01ANNA")
    page.locator("#channels .nav-item", has_text="fossam").click()
    expect(page.locator("#conv-name")).to_have_text("# fossam")
    # The seeded forum announced itself in its channel.
    expect(page.locator("#messages")).to_contain_text("Forumet FOSSAM")

    known = announced_references(page)
    identifying = f"{SUMMARY}, pnr {pnr('120315', '123')}"
    fill_case_modal(page, identifying)
    page.click("#modal-submit")

    # Refused under the field, with what was typed kept.
    error = _field(page, "Sammanfattning").locator(".bk-error")
    expect(error).to_contain_text("personnummer")
    expect(_field(page, "Sammanfattning").locator("textarea")).to_have_value(identifying)

    _field(page, "Sammanfattning").locator("textarea").fill(SUMMARY)
    page.click("#modal-submit")
    expect(page.locator("#modal-backdrop")).to_be_hidden()

    # The demo's own closed case was announced too: this visitor's is the newest one.
    reference = new_case_reference(page, known)
    expect(page.locator("#messages")).not_to_contain_text(SUMMARY)

    # Elevhälsa must take part: Sara gets a DM with the reference, not the summary.
    page.select_option("#user", "U02SARA")
    page.locator("#dms .nav-item").click()
    expect(page.locator("#messages")).to_contain_text(reference)
    expect(page.locator("#messages")).not_to_contain_text(SUMMARY)

    # App Home lists Sara's forum.
    page.click("#nav-home")
    expect(page.locator("#home")).to_contain_text("FOSSAM")

    # The clock control moves the bot's test clock to the next agenda morning.
    page.click("[data-jump='agenda']")
    expect(page.locator("#clock-now")).to_contain_text("torsdag")
    expect(page.locator("#clock-now")).to_contain_text("08:0")


def fill_case_modal(page, summary: str) -> None:
    """Open ``/samverkan ärende`` in the current channel and fill the modal (not submitted)."""
    expect = playwright_api.expect
    page.fill("#composer-input", "/samverkan ärende")
    page.press("#composer-input", "Enter")
    # After clock jumps the sandbox (one process) may still be catching up on the due work
    # they made due (agendas, reports, pictures) while it answers the command: on a busy
    # machine the modal then takes longer than expect's 5 s to open.
    expect(page.locator("#modal")).to_be_visible(timeout=AFTER_JUMP)
    expect(page.locator("#modal-title")).to_have_text("Nytt ärende")
    _field(page, "Sammanfattning").locator("textarea").fill(summary)
    _field(page, "Problemområden").get_by_label("Skolfrånvaro").check()
    _field(page, "Åldersgrupp").get_by_label("13–15 år").check()
    _field(page, "Samtycke lämnat av").get_by_label("Vårdnadshavare").check()
    _field(page, "Verksamheter som samtycket omfattar").get_by_label("Elevhälsa").check()
    _field(page, "Verksamheter som behöver delta").get_by_label("Elevhälsa").check()
    today = dt.date.today().isoformat()
    _field(page, "Samtycke lämnat den").locator("input").fill(today)


def open_conversation(page, name: str) -> None:
    page.locator("#sidebar .nav-item", has_text=name).click()
    playwright_api.expect(page.locator("#conv-name")).to_contain_text(name)


def new_case_reference(page, known: set[str]) -> str:
    """The reference of the case just raised: the newest announced reference not among
    ``known``. The announcement goes out after the modal closes, so an older one can be the
    last on the page for a moment; waiting for a new reference (not the ``.last`` message) sees
    the late post."""
    deadline = time.monotonic() + AFTER_JUMP / 1000
    while True:
        new = announced_references(page) - known
        if new:
            # A seeded case announced late is older: the visitor's has the highest number.
            return max(new, key=lambda ref: (ref.split("-")[1], ref.split("-")[2]))
        assert time.monotonic() < deadline, page.locator("#messages").inner_text()
        page.wait_for_timeout(200)


def announced_references(page) -> set[str]:
    texts = page.locator("#messages .msg", has_text="Nytt ärende FOS-").all_inner_texts()
    return {ref for text in texts for ref in re.findall(r"FOS-\d{4}-\d{3}", text)}


def test_switching_person_leaves_nothing_of_the_last_one_to_click(page) -> None:
    with evidence(page, "switch_person"):
        switch_person_while_the_server_is_slow(page)


def switch_person_while_the_server_is_slow(page) -> None:
    """Each person has a DM of their own: until the page knows the new person's
    conversations, the previous person's are not there to be clicked (a click on Anna's DM
    as Lejla would land in a channel instead)."""
    expect = playwright_api.expect
    expect(page.locator("#status")).to_be_hidden()
    page.select_option("#user", "U01ANNA")
    open_conversation(page, "Samverkan")
    expect(page.locator("#dms .nav-item")).to_have_attribute("data-conv", "DU01ANNA")
    held: list[Any] = []

    def hold(route: Any) -> None:  # the server has not answered yet
        held.append(route)

    page.route("**/ui/state*", hold)
    page.select_option("#user", "U05LEJLA")
    expect(page.locator("#sidebar [data-conv^='D']")).to_have_count(0)
    page.unroute("**/ui/state*")
    for route in held:
        with contextlib.suppress(playwright_api.Error):  # a poll the page itself gave up
            route.continue_()
    open_conversation(page, "Samverkan")
    expect(page.locator("#dms .nav-item")).to_have_attribute("data-conv", "DU05LEJLA")


def test_a_visitor_rates_a_round_and_sees_the_agenda(page) -> None:
    with evidence(page, "rate_and_agenda"):
        walk_through_rating_and_agenda(page)


LEVELS = {"Gråbo": "3", "Droger": "4"}  # oroande, kritiskt; every other area: 1 (normalt)
# After a clock jump the bot acts at its next tick; closing a round also draws its charts,
# which can take a while on a busy CI machine.
AFTER_JUMP = 40_000


def walk_through_rating_and_agenda(page) -> None:
    expect = playwright_api.expect
    expect(page.locator("#status")).to_be_hidden()

    # Lejla (fritidsgård) represents her agency in the OSF-like forum: what is in her DMs?
    page.select_option("#user", "U05LEJLA")
    open_conversation(page, "Samverkan")
    invites = page.locator("#messages .msg", has_text="Lägesbild inför OSF")
    earlier = invites.count()

    # The round opens (a Friday 08:00 before the meeting Thursday).
    page.select_option("#user", "U01ANNA")
    page.click("[data-jump='round']")
    expect(page.locator("#clock-now")).to_contain_text("08:00")

    # A case raised now goes to the coming Thursday's FOSSAM meeting.
    open_conversation(page, "# fossam")
    known = announced_references(page)
    fill_case_modal(page, "Oro för skolfrånvaro och sömn, behöver samordnad plan")
    page.click("#modal-submit")
    expect(page.locator("#modal-backdrop")).to_be_hidden()
    reference = new_case_reference(page, known)

    # Lejla gets the rating DM at the scheduler's next tick (2 s in the sandbox).
    page.select_option("#user", "U05LEJLA")
    open_conversation(page, "Samverkan")
    expect(invites).to_have_count(earlier + 1, timeout=AFTER_JUMP)
    invites.last.get_by_role("button", name="Bedöm läget").click()
    expect(page.locator("#modal-title")).to_have_text("Lägesbild")
    levels = page.locator("#modal-body select[data-block-id^='level_']")
    expect(levels.first).to_be_visible()
    assert levels.count() == 8, levels.count()
    for area in ("Gråbo", "Hemse", "Droger", "Alkohol"):
        expect(_field(page, area).first).to_be_visible()
    for i in range(levels.count()):
        block = levels.nth(i).locator("xpath=ancestor::*[contains(@class,'bk-input-block')][1]")
        label = block.locator(".bk-label").inner_text().strip()
        levels.nth(i).select_option(LEVELS.get(label, "1"))
    _field(page, "Kommentar om Droger").locator("input, textarea").first.fill(
        "Fler ungdomar ute sent vid centrum"
    )
    page.click("#modal-submit")
    expect(page.locator("#modal-body")).to_contain_text("Tack! Svaret för Fritidsgård är sparat")
    page.click("#modal-close")
    expect(page.locator("#modal-backdrop")).to_be_hidden()

    # The meeting day, 08:00: the round has closed and both agendas are posted.
    page.click("[data-jump='osf-agenda']")
    expect(page.locator("#clock-now")).to_contain_text("torsdag")
    expect(page.locator("#clock-now")).to_contain_text("08:00")

    open_conversation(page, "# osf-centrum")
    osf_agenda = page.locator("#messages .msg", has_text="Dagordning: OSF").filter(
        has_text="1 av 6 verksamheter svarade"
    )
    expect(osf_agenda).to_have_count(1, timeout=AFTER_JUMP)
    expect(osf_agenda).to_contain_text("3. Lägesbild")
    # The picture as a table, areas × agencies (Slack's native table block).
    table = osf_agenda.locator("table.bk-table")
    expect(table).to_be_visible()
    expect(table.locator("tr", has_text="Droger")).to_contain_text("🟥 kritiskt")
    expect(table.locator("tr", has_text="Gråbo")).to_contain_text("🟧 oroande")
    screenshot(osf_agenda, "picture-table")
    expect(page.locator("#messages")).not_to_contain_text("Fler ungdomar")  # comments stay out
    # The heatmap and the trend as Slack shows shared files: cards with the picture.
    heatmap = page.locator("#messages .file-card.file-png").first
    expect(heatmap).to_be_visible(timeout=AFTER_JUMP)
    expect(heatmap.locator("img.file-preview")).to_be_visible()

    page.select_option("#user", "U01ANNA")
    open_conversation(page, "# fossam")
    fossam_agenda = page.locator("#messages .msg", has_text="Dagordning: FOSSAM").filter(
        has_text=reference
    )
    expect(fossam_agenda).to_have_count(1, timeout=AFTER_JUMP)
    expect(fossam_agenda).to_contain_text("1. Nya ärenden")


def test_a_coordinator_sets_slots_and_records_minutes_with_an_action(page) -> None:
    with evidence(page, "slots_and_minutes"):
        walk_through_slots_and_minutes(page)


LINK = "https://meet.example.se/fossam"


def walk_through_slots_and_minutes(page) -> None:
    expect = playwright_api.expect
    expect(page.locator("#status")).to_be_hidden()
    page.select_option("#user", "U01ANNA")
    # Away from any meeting morning (the walk-throughs before may have left the clock on
    # one): an agenda morning, then the day after; the case goes to the next meeting.
    # Each jump is seen done before the next (the clock shows a new time: "after" is strictly
    # later), or the day jump could be computed from the time before the agenda jump landed.
    clock = page.locator("#clock-now")
    before = clock.inner_text()
    page.click("[data-jump='agenda']")
    expect(clock).not_to_have_text(before, timeout=AFTER_JUMP)
    expect(clock).to_contain_text("08:0")
    page.click("[data-jump='day']")
    expect(clock).to_contain_text("fredag", timeout=AFTER_JUMP)
    open_conversation(page, "# fossam")
    known = announced_references(page)
    fill_case_modal(page, "Oro för närvaron, behöver en gemensam plan")
    page.click("#modal-submit")
    # The bot may still be catching up after the jumps (agendas, reports): give it time.
    expect(page.locator("#modal-backdrop")).to_be_hidden(timeout=AFTER_JUMP)
    reference = new_case_reference(page, known)

    # The meeting day, 08:00: the agenda is posted; the coordinator sets the slots.
    page.click("[data-jump='agenda']")
    expect(page.locator("#clock-now")).to_contain_text("torsdag")
    # The posted agenda (not the ephemeral one `/samverkan dagordning` shows below).
    agenda = page.locator("#messages .msg:not(.ephemeral)", has_text="Dagordning: FOSSAM").filter(
        has_text=reference
    )
    expect(agenda).to_have_count(1, timeout=AFTER_JUMP)
    day = re.search(r"Dagordning: FOSSAM (\w+ \d+ \w+)", agenda.inner_text())
    assert day, agenda.inner_text()
    # The reply to this command (the agenda with this case and *Tidsluckor*), not an earlier
    # reply still on the page: under load it comes late.
    page.fill("#composer-input", "/samverkan dagordning")
    page.press("#composer-input", "Enter")
    slots_button = (
        page.locator("#messages .msg.ephemeral", has_text=reference)
        .get_by_role("button", name="Tidsluckor")
        .last
    )
    expect(slots_button).to_be_visible(timeout=AFTER_JUMP)
    slots_button.click()
    expect(page.locator("#modal-title")).to_have_text("Tidsluckor")
    _field(page, "Möteslänk").locator("input").fill(LINK)
    page.click("#modal-submit")
    expect(page.locator("#modal-backdrop")).to_be_hidden()
    # The posted agenda is updated in place: each case with its time, and the link.
    expect(agenda).to_contain_text(LINK, timeout=AFTER_JUMP)
    expect(agenda).to_contain_text(re.compile(r"1[3-4]:\d\d–1[3-5]:\d\d · " + reference))
    screenshot(agenda, "agenda-slots")

    # Elevhälsa is needed for the case: Sara's morning DM says when.
    page.select_option("#user", "U02SARA")
    open_conversation(page, "Samverkan")
    morning = page.locator("#messages .msg", has_text="Inför mötet: FOSSAM").last
    expect(morning).to_contain_text(
        re.compile(reference + r" kl\. \d\d:\d\d–\d\d:\d\d — er verksamhet behövs"),
        timeout=AFTER_JUMP,
    )

    # The meeting ends at 15:00: the coordinator is asked for the minutes, once.
    page.select_option("#user", "U01ANNA")
    # One hour at a time, each seen landed before the next (the bot catches up after each
    # jump; under load seven quick clicks can still be on their way after 5 s).
    for _hour in range(7):
        before = clock.inner_text()
        page.click("[data-jump='hour']")
        expect(clock).not_to_have_text(before, timeout=AFTER_JUMP)
    expect(clock).to_contain_text("15:0")
    open_conversation(page, "Samverkan")
    # (Meetings the clock jumped over have their own prompts: this meeting's.)
    prompt = page.locator("#messages .msg", has_text=f"Mötet i FOSSAM {day.group(1)}")
    expect(prompt).to_be_visible(timeout=AFTER_JUMP)
    prompt.get_by_role("button", name="Skriv protokollet").click()
    expect(page.locator("#modal-title")).to_have_text("Protokoll per ärende")
    expect(page.locator("#modal-body")).to_contain_text(reference)
    _field(page, "Beslut eller överenskommet nästa steg").first.locator("textarea").fill(
        "Skolan och elevhälsan gör en gemensam närvaroplan"
    )
    _field(page, "Ny insats").first.locator("input").fill("Boka möte om närvaroplanen")
    _field(page, "Insatsens ägare").first.locator("select").select_option("U02SARA")
    due = (dt.date.today() + dt.timedelta(days=120)).isoformat()
    _field(page, "Insatsens slutdatum").first.locator("input").fill(due)
    screenshot(page.locator("#modal"), "minutes")
    page.click("#modal-submit")
    expect(page.locator("#modal-backdrop")).to_be_hidden()
    expect(page.locator("#messages")).to_contain_text("1 ny insats finns i insatslistan")

    # The channel is told that minutes exist, with references only.
    open_conversation(page, "# fossam")
    notice = page.locator("#messages .msg", has_text="Protokoll från mötet").last
    expect(notice).to_be_visible(timeout=AFTER_JUMP)
    expect(page.locator("#messages")).not_to_contain_text("gemensam närvaroplan")

    # The action plan as an xlsx file, shared in the DM as a file card.
    page.fill("#composer-input", "/samverkan åtgärdsplan")
    page.press("#composer-input", "Enter")
    open_conversation(page, "Samverkan")
    expect(page.locator("#messages .file-card.file-xlsx").last).to_be_visible(timeout=AFTER_JUMP)


def test_what_people_type_is_shown_as_text_never_run(page) -> None:
    with evidence(page, "typed_text"):
        type_markup(page)


def type_markup(page) -> None:
    expect = playwright_api.expect
    page.select_option("#user", "U04PER")
    page.locator("#channels .nav-item", has_text="osf-centrum").click()
    attack = '<img src=x onerror="alert(1)"> *fet* <script>alert(2)</script>'
    page.fill("#composer-input", attack)
    page.press("#composer-input", "Enter")
    message = page.locator("#messages .msg", has_text="onerror")
    expect(message).to_be_visible()
    expect(message.locator(".msg-content b")).to_have_text("fet")
    assert message.locator(".msg-content img, .msg-content script").count() == 0


def test_slack_events_on_the_page_port_reach_the_bot(sandbox_url: str) -> None:
    """Port 3000 keeps ``/slack/events``: forwarded to the bot, whose signature check answers."""
    request = urllib.request.Request(
        sandbox_url + "/slack/events",
        data=b"command=%2Fsamverkan&text=help",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401  # bolt refuses an unsigned request
