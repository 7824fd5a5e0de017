"""Modal labels that tell the truth (issue #15, point 7): Slack itself writes "(optional)" /
"(valfritt)" after an optional input's label, so neither its label nor its hint says so
again; and a required input never says it is optional."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

OPTIONAL = re.compile(r"\b(optional|valfri|valfritt|frivillig|frivilligt)\b", re.IGNORECASE)
VIEW_METHODS = ("views.open", "views.push", "views.update", "views.publish")


def _text(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


def label_problems(view: Any) -> list[str]:
    problems = []
    for block in (view or {}).get("blocks") or []:
        if not isinstance(block, dict) or block.get("type") != "input":
            continue
        label, hint = _text(block.get("label")), _text(block.get("hint"))
        said = OPTIONAL.search(label) or OPTIONAL.search(hint)
        if said and block.get("optional"):
            problems.append(f"{label!r} says optional, and Slack adds it again")
        elif said:
            problems.append(f"{label!r} is required but says optional")
    return problems


def views_with_label_problems(calls: Iterable[Any]) -> list[str]:
    found = []
    for call in calls:
        if call.method in VIEW_METHODS:
            found += [f"{call.method}: {p}" for p in label_problems(call.args.get("view"))]
    return found
