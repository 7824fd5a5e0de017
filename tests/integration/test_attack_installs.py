"""Attack review of the bot installed with OAuth (slack_sdk's installation store on our
tables), through the real app: what a workspace's work reads of its installation never waits
for the transaction that asks for it."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select

from storage.models import Case
from tests.integration.test_oauth_install import two_workspaces  # noqa: F401 (a fixture)
from tests.support import agenda_flow
from tests.support.slack_driver import multi_select_values


def test_a_job_and_a_request_find_the_workspaces_token_while_they_write(
    two_workspaces: Any,  # noqa: F811 (the fixture)
) -> None:
    """A scheduled job, and a listener, look up the recipients' languages with the
    workspace's own client inside their own write transaction. On SQLite the store's read of
    the token began as a writer (BEGIN IMMEDIATE) and so waited for that very transaction:
    the busy timeout (15 s) a lookup, after which it failed. The coordinator's preview came
    in Swedish, not in their English, the scheduler's pass took 15 s, and a change that
    updates the previews was answered long after Slack's three seconds."""
    bot = two_workspaces
    forum_id = agenda_flow.setup_forum(bot)
    bot.slack.set_user("U1", locale="en-US")
    agenda_flow.raise_a_case(bot)
    bot.clock.set(agenda_flow.local(2026, 11, 25, 8, 0))
    started = time.monotonic()
    bot.run_due_work()  # the coordinator's preview of Thursday's agenda
    took = time.monotonic() - started
    (preview,) = agenda_flow.dms_to(bot, "U1")
    assert "Preview: agenda for FOSSAM" in preview.args["text"], preview.args["text"]
    assert preview.token == "xoxb-T0001-own"
    assert took < 10.0, f"the scheduler's pass took {took:.1f} s"
    # A member's change updates the preview; its language is looked up anew.
    bot.runtime.deps.monotonic = lambda: time.monotonic() + 7200  # the cache has forgotten
    with bot.sessions() as s:
        case_id = s.scalars(select(Case.id)).one()
    started = time.monotonic()
    response = bot.driver.view_submission(
        "case_agencies",
        {"agencies": {"value": multi_select_values([])}},
        user="U2",
        private_metadata=json.dumps({"locale": "sv", "forum_id": forum_id, "case_id": case_id}),
        blocks=[{"type": "input", "block_id": "agencies"}],
    )
    answered = time.monotonic() - started
    assert response.json() is None
    assert answered < 5.0, f"the change was answered after {answered:.1f} s"
    bot.wait_idle()
    (update,) = [
        u for u in bot.slack.calls_to("chat.update") if u.args["ts"] == preview.response["ts"]
    ]
    assert "Preview: agenda for FOSSAM" in update.args["text"], update.args["text"]
