"""bench.imports attributes each module's heap to its package, without its imports' heap."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import pytest

from bench.imports import package, traced


def test_package_groups_ours_by_two_levels_and_libraries_by_their_top() -> None:
    assert package("domain.steering.supplement") == "domain.steering"
    assert package("sqlalchemy.orm.session") == "sqlalchemy"


def test_a_modules_heap_is_its_own_not_its_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ~8 MB made by `memhog_big`, ~0 by `memhog_small`, which imports it.
    (tmp_path / "memhog_big.py").write_text("DATA = [bytes(1000) for _ in range(8000)]\n")
    (tmp_path / "memhog_small.py").write_text("import memhog_big\nX = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        result = traced(["memhog_small"])
    finally:
        sys.modules.pop("memhog_small", None)
        sys.modules.pop("memhog_big", None)
    assert result["packages"]["memhog_big"] > 7.5
    assert result["packages"]["memhog_small"] < 0.5
    assert not tracemalloc.is_tracing()  # the rest of the process runs untraced
