"""The DPO checklist (docs/privacy/dpo-checklist.md) cannot rot: every test it names exists.

The checklist names, for each promise, the tests that prove it as ``tests/…py::name`` (or
``::Class::name``). A renamed or deleted test fails here, and so does a promise left with no
test. The other documents of docs/privacy that name tests are held to the same rule.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRIVACY_DOCS = ROOT / "docs" / "privacy"
CHECKLIST = PRIVACY_DOCS / "dpo-checklist.md"
REFERENCE = re.compile(r"(tests/[\w/]+\.py)((?:::\w+)*)")


@cache
def _tests_in(path: str) -> frozenset[str]:
    """``name`` and ``Class::name`` of every test function in one test file."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(f"{node.name}::{item.name}")
    return frozenset(names)


def references(text: str) -> list[tuple[str, str]]:
    """``(file, name)`` for each test named in ``text`` (name empty for a whole file)."""
    return [(m.group(1), m.group(2).lstrip(":")) for m in REFERENCE.finditer(text)]


def missing(text: str) -> list[str]:
    gone = []
    for path, name in references(text):
        if not (ROOT / path).is_file():
            gone.append(path)
        elif name and name not in _tests_in(path):
            gone.append(f"{path}::{name}")
    return gone


def test_every_test_the_checklist_names_exists() -> None:
    text = CHECKLIST.read_text(encoding="utf-8")
    named = references(text)
    assert len(named) >= 60, "the checklist names the tests that prove each promise"
    listed = [ln for ln in text.splitlines() if ln.startswith("- `tests/")]
    assert all(references(ln)[0][1] for ln in listed), "name a test, not only its file"
    assert not missing(text), f"the DPO checklist names tests that do not exist: {missing(text)}"


def test_every_promise_names_at_least_one_test() -> None:
    sections = re.split(r"^## ", CHECKLIST.read_text(encoding="utf-8"), flags=re.MULTILINE)
    promises = [s for s in sections[1:] if re.match(r"\d+\.", s)]
    assert len(promises) >= 15
    untested = [s.splitlines()[0] for s in promises if not references(s)]
    assert not untested, f"promises without a test: {untested}"


@pytest.mark.parametrize("doc", sorted(p.name for p in PRIVACY_DOCS.glob("*.md") if p != CHECKLIST))
def test_the_other_privacy_documents_name_only_tests_that_exist(doc: str) -> None:
    text = (PRIVACY_DOCS / doc).read_text(encoding="utf-8")
    assert not missing(text), f"{doc} names tests that do not exist: {missing(text)}"


def test_the_check_notices_a_renamed_test() -> None:
    """The checker itself: a name that is not there is reported, one that is is not."""
    here = "tests/unit/test_dpo_checklist.py"
    assert missing(f"`{here}::test_the_check_notices_a_renamed_test`") == []
    assert missing(f"`{here}::test_that_was_renamed`") == [f"{here}::test_that_was_renamed"]
    assert missing("`tests/unit/test_gone.py::test_x`") == ["tests/unit/test_gone.py"]
