"""One way out (#17): a listener queues every message to Slack in the outbox
(handlers/outgoing.py), which the gateway (handlers/gateway.py) delivers. No handler posts,
updates or uploads directly: a Slack outage would lose such a message. Only ``views.*``,
``response_url`` replies and the ack go to Slack directly.

And listeners are plain module-level functions: bolt reaches them through each module's
``register(app)`` table, and no listener is defined inside another function."""

from __future__ import annotations

import ast
import re
from pathlib import Path

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
GATEWAY = HANDLERS / "gateway.py"
DIRECT = re.compile(r"\b(chat_postMessage|chat_update|chat_postEphemeral|files_upload\w*)\b")


def _sources() -> list[Path]:
    return sorted(p for p in HANDLERS.rglob("*.py") if p != GATEWAY)


def test_no_handler_posts_to_slack_outside_the_outbox_gateway() -> None:
    found = [
        f"{path.relative_to(HANDLERS)}:{number}: {line.strip()}"
        for path in _sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if DIRECT.search(line)
    ]
    assert not found, "queue it with handlers/outgoing.py instead:\n" + "\n".join(found)


def test_the_gateway_is_the_one_that_posts() -> None:
    assert DIRECT.search(GATEWAY.read_text(encoding="utf-8"))


def test_no_listener_is_defined_inside_a_function() -> None:
    nested = []
    for path in _sources():
        if path.parent != HANDLERS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = [
                    child.name
                    for child in ast.walk(node)
                    if child is not node
                    and isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                ]
                nested += [f"{path.name}: {node.name} defines {name}" for name in inner]
    # The listener decorator itself wraps functions; that is the one place allowed (and the
    # per-workspace Web API client factory, moved out of app.py, which no listener reaches).
    nested = [
        n
        for n in nested
        if not n.startswith(("listener.py", "app.py", "outgoing.py", "clients.py"))
    ]
    assert not nested, "\n".join(nested)


def test_no_state_is_handed_from_the_ack_to_the_lazy_function() -> None:
    """What a lazy function needs is queued in the outbox or read from the database; a
    hand-off in bolt's context only works while process_before_response is on."""
    handed = [
        f"{path.relative_to(HANDLERS)}:{number}"
        for path in _sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"context\[\"samverkan_|context\.get\(\"samverkan_", line)
    ]
    assert not handed, "\n".join(handed)
