"""Every block-action listener that indexes what only some block actions carry names it in
its ``needs`` (handlers/listener.py, handlers/payload.py's ``needs_problem``): a crafted
request without it is then refused before the listener runs, instead of a KeyError there
(tests/integration/test_crafted_shapes.py drives a few through the app).

Read from the listeners' source: ``body["view"]`` and a subscript of bolt's ``view``
argument need ``modal``; ``body["response_url"]`` needs ``message``;
``body["actions"][0]["selected_option"]`` needs ``option``; ``body["container"]`` needs
one of ``modal`` or ``message`` (what the container is). A listener that reads them with
``.get()`` handles both shapes and needs nothing. Only block actions: a view submission
always has its view, a slash command its response_url.
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_bolt.listener.custom_listener import CustomListener
from sqlalchemy.orm import sessionmaker

from domain.clock import AdjustableClock
from handlers.app import SlackConfig, build_app
from handlers.deps import Deps

# What an indexed key needs: any one of these declared.
KEY_NEEDS: dict[str, frozenset[str]] = {
    "view": frozenset({"modal"}),
    "response_url": frozenset({"message"}),
    "container": frozenset({"modal", "message"}),
    "selected_option": frozenset({"option"}),
}


def _app() -> App:
    deps = Deps(
        sessions=sessionmaker(),
        clock=AdjustableClock(dt.datetime(2026, 11, 26, 8, tzinfo=dt.UTC), frozen=True),
    )
    config = SlackConfig(signing_secret="secret", api_url="http://127.0.0.1:9", bot_token="x")
    return build_app(config, deps)


def _original(func: Callable[..., Any]) -> Callable[..., Any]:
    """The function a listener's decorator wraps (handlers.listener.listener keeps it as
    ``listener``; ``needing`` marks the function itself)."""
    original: Callable[..., Any] = inspect.unwrap(getattr(func, "listener", func))
    return original


def _key(node: ast.Subscript) -> str | None:
    index = node.slice
    if isinstance(index, ast.Constant) and isinstance(index.value, str):
        return index.value
    return None


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _is_first_action(node: ast.expr) -> bool:
    """``body["actions"][0]``."""
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and node.slice.value == 0
        and isinstance(node.value, ast.Subscript)
        and _is_name(node.value.value, "body")
        and _key(node.value) == "actions"
    )


def indexed(func: Callable[..., Any]) -> set[str]:
    """The keys of :data:`KEY_NEEDS` ``func`` indexes (not ``.get()``)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    # bolt's ``view`` argument (None for a button in a message), when the listener takes it.
    takes_view = "view" in inspect.signature(func).parameters
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Subscript):
            continue
        key = _key(node)
        on_body = _is_name(node.value, "body") and key in ("view", "response_url", "container")
        if key is not None and (
            on_body or (key == "selected_option" and _is_first_action(node.value))
        ):
            found.add(key)
        elif takes_view and _is_name(node.value, "view"):
            found.add("view")
    return found


def _is_block_action(listener: CustomListener) -> bool:
    """Registered with ``app.action`` / ``app.block_action`` (its matcher's function is
    that builder's)."""
    return any(
        str(getattr(getattr(m, "func", None), "__qualname__", "")).startswith(
            ("action.", "block_action.")
        )
        for m in listener.matchers
    )


def missing_needs(app: App) -> list[str]:
    problems: list[str] = []
    for listener in app._listeners:
        if not isinstance(listener, CustomListener) or not _is_block_action(listener):
            continue
        functions = [listener.ack_function, *listener.lazy_functions]
        declared: frozenset[str] = frozenset().union(
            *(getattr(f, "needs", frozenset()) for f in functions)
        )
        for function in functions:
            original = _original(function)
            for key in sorted(indexed(original)):
                if not KEY_NEEDS[key] & declared:
                    problems.append(
                        f"{original.__module__}.{original.__qualname__} indexes {key!r}"
                        f" without needs {sorted(KEY_NEEDS[key])}"
                    )
    return problems


def test_the_check_reads_what_it_should() -> None:
    def crafted(body: dict[str, Any], view: dict[str, Any]) -> None:
        body["view"]["id"]
        body["actions"][0]["selected_option"]["value"]
        body["response_url"]
        view["state"]

    def both_shapes(body: dict[str, Any]) -> None:
        view = body.get("view") or {}
        view["id"]
        body.get("response_url")
        (body.get("container") or {})["view_id"]
        body["actions"][0].get("selected_option")

    def from_view(view: dict[str, Any]) -> None:
        view["id"]

    assert indexed(crafted) == {"view", "selected_option", "response_url"}
    assert indexed(from_view) == {"view"}
    assert indexed(both_shapes) == set()


def test_every_block_action_that_indexes_a_shape_declares_its_needs() -> None:
    app = _app()
    checked = [
        li
        for li in app._listeners
        if isinstance(li, CustomListener)
        and _is_block_action(li)
        and any(indexed(_original(f)) for f in [li.ack_function, *li.lazy_functions])
    ]
    assert len(checked) >= 10  # the walk reaches the listeners (not a test of nothing)
    assert missing_needs(app) == []
